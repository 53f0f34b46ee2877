//! Fuzzes every decoder of a file a user can hand the tools, on stable Rust: real seed files
//! (a model, its mapping on Loihi, the Loihi chip TOML, a network TOML, an activity profile,
//! IDX images and labels, a CIFAR-10 batch) are mutated with a fixed seed and each mutant goes
//! through its decoder and, where it decodes, the tool's first use of it (compiling and running
//! the network one sample, validating the mapping against its model and simulating a sample,
//! checking a profile against the plan). Framed binary files are re-framed after most mutations
//! (payload length and CRC-32 fixed) so that mutants reach the decoder behind the checksum, and
//! the `*-fields` targets set fields of the decoded model and mapping to extreme values before
//! encoding them, to reach the validators behind the binary decoder.
//!
//! A run fails (exit 1) on any panic, any input slower than `--max-ms`, or an allocation above
//! the memory cap (which aborts with the target and input index on stderr: the run is
//! deterministic, so `--only NAME --first I --inputs 1` reproduces it). Inputs that panic or are
//! slow are written to `--failures DIR`; `--show-errors` prints every refusal (escaped).
//!
//! ```sh
//! cargo bench --bench fuzz_decoders -- --inputs 10000            # CI's short pass
//! cargo bench --bench fuzz_decoders -- --inputs 1000000 --out reports/fuzz/long.json
//! ```

#[path = "fuzz/mutate.rs"]
mod mutate;
#[path = "fuzz/targets.rs"]
mod targets;

use mutate::{Mutator, SplitMix};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Bytes the process may hold at once; a mutant that asks for more is a failure.
const MEMORY_CAP: usize = 3 << 30;

/// The system allocator with a cap on live bytes: an allocation past it prints which input was
/// running (without allocating) and fails, which aborts the process.
struct CappedAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static CURRENT_TARGET: AtomicUsize = AtomicUsize::new(usize::MAX);
static CURRENT_INPUT: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CappedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size() > MEMORY_CAP {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            report_over_cap(layout.size());
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: CappedAlloc = CappedAlloc;

/// Writes "over the memory cap" with the current target and input to stderr, without allocating.
fn report_over_cap(size: usize) {
    let mut buf = [0u8; 160];
    let mut n = 0;
    let mut put = |bytes: &[u8]| {
        for &b in bytes {
            if n < buf.len() {
                buf[n] = b;
                n += 1;
            }
        }
    };
    put(b"fuzz: allocation of ");
    put(digits(size as u64).as_slice());
    put(b" bytes over the memory cap; target index ");
    put(digits(CURRENT_TARGET.load(Ordering::Relaxed) as u64).as_slice());
    put(b", input ");
    put(digits(CURRENT_INPUT.load(Ordering::Relaxed) as u64).as_slice());
    put(b"\n");
    let _ = std::io::stderr().write_all(&buf[..n]);
}

/// Decimal digits of `v` in a fixed array (no allocation).
fn digits(mut v: u64) -> DigitBuf {
    let mut d = DigitBuf([0; 20], 20);
    loop {
        d.1 -= 1;
        d.0[d.1] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return d;
        }
    }
}

struct DigitBuf([u8; 20], usize);
impl DigitBuf {
    fn as_slice(&self) -> &[u8] {
        &self.0[self.1..]
    }
}

struct Args {
    inputs: usize,
    first: usize,
    seed: u64,
    only: Option<String>,
    max_ms: f64,
    failures: PathBuf,
    out: Option<PathBuf>,
    show_errors: bool,
}

fn parse_args() -> Args {
    let mut a = Args {
        inputs: 10_000,
        first: 0,
        seed: 1,
        only: None,
        max_ms: 1000.0,
        failures: PathBuf::from("target/fuzz-failures"),
        out: None,
        show_errors: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--inputs" => a.inputs = value().parse().expect("--inputs N"),
            "--first" => a.first = value().parse().expect("--first I"),
            "--seed" => a.seed = value().parse().expect("--seed S"),
            "--only" => a.only = Some(value()),
            "--max-ms" => a.max_ms = value().parse().expect("--max-ms MS"),
            "--failures" => a.failures = PathBuf::from(value()),
            "--out" => a.out = Some(PathBuf::from(value())),
            "--show-errors" => a.show_errors = true,
            "--bench" => {}
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// What happened to one target's mutants.
#[derive(Default, serde::Serialize)]
struct Tally {
    target: String,
    inputs: usize,
    accepted: usize,
    refused: usize,
    panics: usize,
    slow: usize,
    max_ms: f64,
    mean_ms: f64,
}

fn main() {
    let a = parse_args();
    // Panics are counted, not printed 10,000 times.
    std::panic::set_hook(Box::new(|_| {}));
    let ctx = targets::Context::new();
    let all = targets::all(&ctx);
    let mut tallies = Vec::new();
    let mut failed = false;
    for (ti, target) in all.iter().enumerate() {
        if a.only.as_deref().is_some_and(|o| o != target.name) {
            continue;
        }
        CURRENT_TARGET.store(ti, Ordering::Relaxed);
        let mut tally = Tally {
            target: target.name.to_string(),
            ..Tally::default()
        };
        let started = Instant::now();
        let mut total_ms = 0.0;
        for i in a.first..a.first + a.inputs {
            CURRENT_INPUT.store(i, Ordering::Relaxed);
            let mut rng = SplitMix::new(a.seed ^ ((ti as u64) << 32) ^ i as u64);
            let input = match target.poke {
                Some(poke) => poke(&ctx, &mut rng),
                None => Mutator {
                    text: target.text,
                    framed: target.framed,
                }
                .mutate(&target.seed, &mut rng),
            };
            let t0 = Instant::now();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                (target.run)(&ctx, &input)
            }));
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            total_ms += ms;
            tally.max_ms = tally.max_ms.max(ms);
            let bad = match outcome {
                Ok(Ok(())) => {
                    tally.accepted += 1;
                    None
                }
                Ok(Err(msg)) => {
                    tally.refused += 1;
                    if a.show_errors {
                        eprintln!("{} input {i}: {}", target.name, msg.escape_debug());
                    }
                    // Errors are one line naming the input: a multi-line one is a defect too.
                    (msg.contains('\n')).then_some("multiline")
                }
                Err(_) => {
                    tally.panics += 1;
                    Some("panic")
                }
            };
            let bad = bad.or((ms > a.max_ms).then(|| {
                tally.slow += 1;
                "slow"
            }));
            if let Some(kind) = bad {
                failed = true;
                let _ = std::fs::create_dir_all(&a.failures);
                let p = a.failures.join(format!("{}-{i}-{kind}.bin", target.name));
                let _ = std::fs::write(&p, &input);
                eprintln!(
                    "fuzz: {} input {i}: {kind} ({ms:.1} ms), saved to {}",
                    target.name,
                    p.display()
                );
            }
            tally.inputs += 1;
        }
        tally.mean_ms = total_ms / tally.inputs.max(1) as f64;
        println!(
            "{:<14} {:>8} inputs: {:>8} accepted {:>8} refused, {} panics, {} slow (max {:.1} ms, mean {:.3} ms) in {:.1} s",
            tally.target,
            tally.inputs,
            tally.accepted,
            tally.refused,
            tally.panics,
            tally.slow,
            tally.max_ms,
            tally.mean_ms,
            started.elapsed().as_secs_f64()
        );
        tallies.push(tally);
    }
    if let Some(out) = &a.out {
        let report = serde_json::json!({
            "command": snn_core::command::command_line(),
            "seed": a.seed,
            "first": a.first,
            "max_ms": a.max_ms,
            "memory_cap_bytes": MEMORY_CAP,
            "targets": tallies,
        });
        let text = serde_json::to_string_pretty(&report).expect("report serializes");
        snn_core::atomic::write_atomic(out, text.as_bytes()).expect("write --out");
    }
    if failed {
        eprintln!("fuzz: FAILED (see above)");
        std::process::exit(1);
    }
}
