//! The command line as a report should record it: as a user would type it from the directory
//! the tool ran in, not with the absolute path of the machine that built it.

use std::path::Path;

/// The program's file name followed by its arguments, each argument that is an absolute path
/// under the current directory made relative to it (so `/home/me/snn/runs/x` becomes `runs/x`
/// when run from `/home/me/snn`). Arguments with spaces are quoted.
pub fn command_line() -> String {
    let cwd = std::env::current_dir().ok();
    let mut args = std::env::args();
    let program = args
        .next()
        .map(|p| {
            Path::new(&p)
                .file_name()
                .map_or(p.clone(), |n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    std::iter::once(program)
        .chain(args.map(|a| shown(&a, cwd.as_deref())))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One argument: relative to `cwd` when it is an absolute path below it, quoted if it has spaces.
fn shown(arg: &str, cwd: Option<&Path>) -> String {
    let (flag, value) = match arg.split_once('=') {
        Some((f, v)) if f.starts_with("--") => (Some(f), v),
        _ => (None, arg),
    };
    let value = match cwd.and_then(|c| Path::new(value).strip_prefix(c).ok()) {
        Some(rel) if Path::new(value).is_absolute() => rel.display().to_string(),
        _ => value.to_string(),
    };
    let value = if value.contains(' ') {
        format!("'{value}'")
    } else {
        value
    };
    match flag {
        Some(f) => format!("{f}={value}"),
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_paths_under_the_working_directory_become_relative() {
        let cwd = Path::new("/home/me/snn");
        assert_eq!(shown("/home/me/snn/runs/x", Some(cwd)), "runs/x");
        assert_eq!(
            shown("--out=/home/me/snn/runs/x", Some(cwd)),
            "--out=runs/x"
        );
        assert_eq!(shown("/etc/chip.toml", Some(cwd)), "/etc/chip.toml");
        assert_eq!(shown("runs/my run", Some(cwd)), "'runs/my run'");
        assert_eq!(shown("--threads", Some(cwd)), "--threads");
    }
}
