//! Hostile members of the CIFAR-10 JPEG archive, found by the fuzzer (`benches/fuzz_decoders`):
//! each is a one-line error before anything large is allocated.

use snn_data::cifar::{decode_image, import_jpeg_tar};
use std::path::Path;

/// The real 32×32 member the fuzzer starts from.
fn member() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/fuzz/seeds/cifar-member.jpg"),
    )
    .expect("benches/fuzz/seeds/cifar-member.jpg")
}

/// A one-member ustar archive whose header states `size` (octal, 11 digits) for `bytes`.
fn tar(name: &str, size: u64, bytes: &[u8]) -> Vec<u8> {
    let mut out = snn_data::ustar::member_header(name, size).to_vec();
    out.extend_from_slice(bytes);
    out.resize(out.len().div_ceil(512) * 512 + 1024, 0);
    out
}

#[test]
fn the_real_member_decodes() {
    assert_eq!(decode_image(&member()).unwrap().len(), 3 * 32 * 32);
}

#[test]
fn a_frame_header_claiming_65535_squared_pixels_is_refused_before_decoding() {
    let mut jpeg = member();
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline JPEG has an SOF0 marker");
    // SOF0: marker, length (2), precision (1), height (2), width (2).
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    assert_eq!(
        decode_image(&jpeg).unwrap_err(),
        "image is 65535x65535, CIFAR-10 images are 32x32"
    );
}

#[test]
fn a_member_claiming_gigabytes_is_refused_before_allocating() {
    let archive = tar("train/bird/0001.jpg", (8 << 30) - 1, &member());
    let e = import_jpeg_tar(Path::new("x.tar"), &archive)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("of 8589934591 bytes is larger than the 67108864 bytes a member may have"),
        "{e}"
    );
}

#[test]
fn member_names_with_control_characters_stay_on_one_line() {
    let archive = tar("train/bird/a\nb.jpg", (8 << 30) - 1, &member());
    let e = import_jpeg_tar(Path::new("x.tar"), &archive)
        .unwrap_err()
        .to_string();
    assert!(!e.contains('\n') && e.contains("a\\nb.jpg"), "{e}");
}
