//! Rate-encoder throughput: the fast path against the naive reference on a digit-like 28x28
//! image, in nanoseconds per time step (and the spike lists are checked to agree).

use std::hint::black_box;
use std::time::Instant;

use snn_data::encode::RateEncoder;

fn main() {
    let pixels: Vec<f32> = (0..784)
        .map(|i| {
            let (r, c) = ((i / 28) as f32 - 13.5, (i % 28) as f32 - 13.5);
            let d = (r * r + c * c).sqrt();
            if (5.0..10.0).contains(&d) {
                1.0 - (d - 7.5).abs() / 2.5
            } else {
                0.0
            }
        })
        .collect();
    let enc = RateEncoder::new(1, 0.5);
    let img = enc.prepare(&pixels);
    let (mut p, mut n) = (Vec::new(), Vec::new());
    let (mut rp, mut rn) = (Vec::new(), Vec::new());

    let steps = 200_000u32;
    let t = Instant::now();
    let mut total = 0usize;
    for s in 0..steps {
        enc.encode_step(&img, u64::from(s % 1000), s, &mut p, &mut n);
        total += black_box(p.len());
    }
    let fast_ns = t.elapsed().as_nanos() as f64 / f64::from(steps);

    let ref_steps = 2_000u32;
    let t = Instant::now();
    for s in 0..ref_steps {
        enc.encode_step_reference(&pixels, u64::from(s % 1000), s, &mut rp, &mut rn);
        black_box(rp.len());
    }
    let ref_ns = t.elapsed().as_nanos() as f64 / f64::from(ref_steps);

    enc.encode_step(&img, 5, 17, &mut p, &mut n);
    enc.encode_step_reference(&pixels, 5, 17, &mut rp, &mut rn);
    assert_eq!((&p, &n), (&rp, &rn));
    println!(
        "encode_step, 784 px ({} active): fast {fast_ns:.0} ns/step, reference {ref_ns:.0} ns/step ({:.0}x); {:.1} spikes/step",
        img.num_active(),
        ref_ns / fast_ns,
        total as f64 / f64::from(steps)
    );
}
