//! Writing files so that readers never see a half-written one: write to a temporary name in the
//! same directory, flush to disk, then rename over the target.

use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// A new hidden temporary file beside `path` (`.name.XXXXXX<suffix>`, unique) in the same
/// directory, so that persisting it over `path` is an atomic rename. On Unix it gets the
/// permissions a plain `File::create` would (0o666 less the umask), not tempfile's 0o600.
pub fn temp_sibling(path: &Path, suffix: &str) -> std::io::Result<tempfile::NamedTempFile> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

/// Writes `bytes` to `path` atomically: a temporary sibling ([`temp_sibling`]), flushed to
/// disk, then persisted (renamed) over `path`. On any failure the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = temp_sibling(path, ".tmp")?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map(|_| ()).map_err(|e| e.error)
}

/// Writes `value` as pretty JSON with a final newline to `path`, atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}
