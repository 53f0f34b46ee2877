//! Link-load maps write real images (PNG and SVG), widen for many joined chips instead of
//! shrinking the lanes away, draw without values, and refuse links that do not join
//! neighbouring tiles without writing anything.

use std::fs::File;
use std::path::Path;

use snn_plot::{link_map, LinkValue, PlotError};

/// (width, height, distinct RGB colours) of the PNG at `path`.
fn decode(path: &Path) -> (u32, u32, usize) {
    let file = File::open(path).unwrap();
    let mut reader = png::Decoder::new(file).read_info().expect("a valid PNG");
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).expect("a PNG frame");
    let samples = info.color_type.samples();
    let colours = buffer[..info.buffer_size()]
        .chunks_exact(samples)
        .map(|p| [p[0], p[1], p[2]])
        .collect::<std::collections::HashSet<_>>()
        .len();
    (info.width, info.height, colours)
}

/// Every link of a `w` × `h` mesh, both directions, valued by position.
fn mesh(w: u32, h: u32) -> Vec<LinkValue> {
    let mut links = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let mut add = |to: (u32, u32)| {
                links.push(LinkValue {
                    from: (x, y),
                    to,
                    value: f64::from(x * 7 + y * 3 + to.0),
                })
            };
            if x + 1 < w {
                add((x + 1, y));
            }
            if x > 0 {
                add((x - 1, y));
            }
            if y + 1 < h {
                add((x, y + 1));
            }
            if y > 0 {
                add((x, y - 1));
            }
        }
    }
    links
}

#[test]
fn link_map_writes_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("links.png");
    let used = [(0, 0), (1, 2)];
    link_map(
        &png,
        "load",
        "packets per step",
        (8, 4),
        &used,
        &mesh(8, 4),
        0,
    )
    .unwrap();
    let (w, h, colours) = decode(&png);
    assert!(w >= 800 && h >= 300, "{w}x{h}");
    assert!(
        colours > 20,
        "only {colours} colours: the lanes are not coloured"
    );
    let svg = dir.path().join("links.svg");
    link_map(
        &svg,
        "load",
        "packets per step",
        (8, 4),
        &used,
        &mesh(8, 4),
        0,
    )
    .unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.contains("packets per step"));
}

#[test]
fn many_joined_chips_make_a_wider_image_not_thinner_lanes() {
    let dir = tempfile::tempdir().unwrap();
    let (one, fourteen) = (dir.path().join("one.png"), dir.path().join("fourteen.png"));
    link_map(&one, "1 chip", "v", (8, 4), &[], &mesh(8, 4), 0).unwrap();
    link_map(&fourteen, "14 chips", "v", (112, 4), &[], &mesh(112, 4), 8).unwrap();
    let (w1, _, _) = decode(&one);
    let (w14, h14, _) = decode(&fourteen);
    // 112 columns of at least 22 px.
    assert!(
        (112 * 22..=3300).contains(&w14) && w14 > w1,
        "{w1} vs {w14}x{h14}"
    );
}

#[test]
fn a_map_without_values_still_draws_and_bad_links_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.png");
    link_map(&empty, "none", "v", (3, 2), &[(1, 1)], &[], 0).unwrap();
    assert!(decode(&empty).2 > 3);
    let nan = dir.path().join("nan.png");
    let odd = [LinkValue {
        from: (0, 0),
        to: (1, 0),
        value: f64::NAN,
    }];
    link_map(&nan, "nan", "v", (3, 2), &[], &odd, 0).unwrap();
    for bad in [
        LinkValue {
            from: (0, 0),
            to: (2, 0),
            value: 1.0,
        },
        LinkValue {
            from: (2, 1),
            to: (3, 1),
            value: 1.0,
        },
    ] {
        let path = dir.path().join("bad.png");
        let e = link_map(&path, "bad", "v", (3, 2), &[], &[bad], 0).unwrap_err();
        assert!(matches!(e, PlotError::InvalidInput { .. }), "{e:?}");
        assert!(!path.exists(), "nothing written for bad input");
    }
}
