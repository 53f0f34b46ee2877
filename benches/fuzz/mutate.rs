//! Seeded mutations of seed files: bit flips, interesting bytes and integers, truncation,
//! deleted and duplicated chunks, and for text formats numbers swapped for extreme ones. Framed
//! snn files (28-byte header + payload) are mutated in their payload and usually re-framed with
//! the right length and CRC-32, so that the decoder behind the checksum is what gets fuzzed.

/// SplitMix64: a small, seedable generator (the harness must not depend on `rand`'s streams).
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Header length of framed snn files (`snn_core::container`).
const HEADER: usize = 28;

/// Integers that break size arithmetic, as little-endian bytes of several widths.
const INTERESTING: [u64; 12] = [
    0,
    1,
    0x7F,
    0xFF,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
    0x1_0000_0000,
    0x7FFF_FFFF_FFFF_FFFF,
    u64::MAX,
    0x7FF0_0000_0000_0000, // f64 infinity
    0x7FF8_0000_0000_0000, // f64 NaN
];

/// Numbers to put in place of a number in text.
const NUMBERS: [&str; 19] = [
    "1",
    "2",
    "3",
    "8",
    "64",
    "0",
    "-1",
    "1e308",
    "-1e308",
    "1e-320",
    "nan",
    "inf",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "99999999999999999999999",
    "1e18",
    "65535",
    "0.0",
];

/// How to mutate one kind of seed.
pub struct Mutator {
    /// Text format: numbers are also swapped for extreme ones.
    pub text: bool,
    /// Framed snn file: mutate the payload, usually re-frame.
    pub framed: bool,
}

impl Mutator {
    /// One mutant of `seed`: 1 to 4 mutations.
    pub fn mutate(&self, seed: &[u8], rng: &mut SplitMix) -> Vec<u8> {
        let framed = self.framed && seed.len() >= HEADER;
        let (header, mut body) = if framed {
            (seed[..HEADER].to_vec(), seed[HEADER..].to_vec())
        } else {
            (Vec::new(), seed.to_vec())
        };
        for _ in 0..1 + rng.below(if self.text { 2 } else { 4 }) {
            if self.text && rng.below(3) != 0 {
                swap_number(&mut body, rng);
            } else {
                mutate_bytes(&mut body, rng);
            }
        }
        if !framed {
            return body;
        }
        let mut out = header;
        match rng.below(10) {
            // Mostly: a valid frame around the mutated payload.
            0..=7 => {
                out[16..24].copy_from_slice(&(body.len() as u64).to_le_bytes());
                out[24..28].copy_from_slice(&crc32fast::hash(&body).to_le_bytes());
            }
            // Sometimes the header itself is mutated (and the payload left alone).
            8 => {
                mutate_bytes(&mut out, rng);
                out.truncate(HEADER.min(out.len()));
                body = seed[HEADER..].to_vec();
            }
            _ => {}
        }
        out.extend_from_slice(&body);
        out
    }
}

fn mutate_bytes(b: &mut Vec<u8>, rng: &mut SplitMix) {
    if b.is_empty() {
        b.push(rng.next() as u8);
        return;
    }
    let at = rng.below(b.len());
    match rng.below(7) {
        0 => b[at] ^= 1 << rng.below(8),
        1 => b[at] = [0u8, 1, 0x7F, 0x80, 0xFF][rng.below(5)],
        2 => {
            let v = INTERESTING[rng.below(INTERESTING.len())];
            let width = [1usize, 2, 4, 8][rng.below(4)];
            for (k, byte) in v.to_le_bytes().iter().take(width).enumerate() {
                if at + k < b.len() {
                    b[at + k] = *byte;
                }
            }
        }
        3 => b.truncate(at),
        4 => {
            let len = 1 + rng.below(64.min(b.len() - at));
            b.drain(at..at + len);
        }
        5 => {
            let len = 1 + rng.below(256.min(b.len() - at));
            let chunk = b[at..at + len].to_vec();
            let to = rng.below(b.len() + 1);
            b.splice(to..to, chunk);
        }
        _ => b[at] = rng.next() as u8,
    }
}

/// Replaces one run of digits (with sign, point, exponent) by an extreme number.
fn swap_number(b: &mut Vec<u8>, rng: &mut SplitMix) {
    let starts: Vec<usize> = (0..b.len())
        .filter(|&i| b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()))
        .collect();
    if starts.is_empty() {
        return mutate_bytes(b, rng);
    }
    let s = starts[rng.below(starts.len())];
    let mut e = s;
    while e < b.len() && (b[e].is_ascii_digit() || b"._eE+-".contains(&b[e])) {
        e += 1;
    }
    let n = NUMBERS[rng.below(NUMBERS.len())];
    b.splice(s..e, n.bytes());
}
