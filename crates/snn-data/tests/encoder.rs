//! The rate encoder's promises: spikes depend only on (seed, sample, step, pixels), and each pixel
//! fires with probability `scale * |x|` with the sign of `x`.

use snn_data::encode::{PreparedImage, RateEncoder};

fn spikes(enc: &RateEncoder, img: &PreparedImage, sample: u64, step: u32) -> (Vec<u32>, Vec<u32>) {
    let (mut pos, mut neg) = (vec![999], vec![999]);
    enc.encode_step(img, sample, step, &mut pos, &mut neg);
    (pos, neg)
}

/// A digit-like image: a blob of ink in the middle, background zero.
fn blob() -> Vec<f32> {
    (0..784)
        .map(|i| {
            let (r, c) = ((i / 28) as f32 - 13.5, (i % 28) as f32 - 13.5);
            let d = (r * r + c * c).sqrt();
            if d < 9.0 {
                1.0 - d / 9.0
            } else {
                0.0
            }
        })
        .collect()
}

#[test]
fn same_seed_sample_and_step_give_the_same_spikes_in_any_call_order() {
    let enc = RateEncoder::new(42, 0.5);
    let images = [blob(), blob().iter().map(|x| x * 0.5).collect()];
    let prepared: Vec<_> = images.iter().map(|im| enc.prepare(im)).collect();
    let steps = 0..50u32;
    // Reference order: sample by sample, steps ascending.
    let forward: Vec<Vec<_>> = (0..2)
        .map(|s| {
            steps
                .clone()
                .map(|t| spikes(&enc, &prepared[s], s as u64, t))
                .collect()
        })
        .collect();
    // Steps descending, samples interleaved, from a fresh encoder with the same seed.
    let enc2 = RateEncoder::new(42, 0.5);
    for t in steps.clone().rev() {
        for s in [1usize, 0] {
            assert_eq!(
                spikes(&enc2, &prepared[s], s as u64, t),
                forward[s][t as usize]
            );
        }
    }
    // From other threads.
    std::thread::scope(|scope| {
        for s in 0..2usize {
            let (enc, img, want) = (&enc, &prepared[s], &forward[s]);
            scope.spawn(move || {
                for t in [17u32, 3, 49, 0] {
                    assert_eq!(&spikes(enc, img, s as u64, t), &want[t as usize]);
                }
            });
        }
    });
    assert!(
        forward[0].iter().any(|(p, _)| !p.is_empty()),
        "the blob never fired"
    );
}

#[test]
fn different_seeds_samples_and_steps_give_different_spikes() {
    let img = blob();
    let a = RateEncoder::new(1, 0.5);
    let b = RateEncoder::new(2, 0.5);
    let pa = a.prepare(&img);
    let pb = b.prepare(&img);
    let base = spikes(&a, &pa, 0, 0);
    assert_ne!(base, spikes(&b, &pb, 0, 0), "seed");
    assert_ne!(base, spikes(&a, &pa, 1, 0), "sample");
    assert_ne!(base, spikes(&a, &pa, 0, 1), "step");
}

#[test]
fn firing_rate_matches_half_the_pixel_value_within_binomial_tolerance() {
    // pixel 0.6 -> p = 0.3; pixel 0.1 -> p = 0.05; pixel 1.0 -> p = 0.5.
    let pixels = [0.6f32, 0.1, 1.0, 0.0];
    let expected_p = [0.3f64, 0.05, 0.5, 0.0];
    let enc = RateEncoder::new(7, 0.5);
    let img = enc.prepare(&pixels);
    let steps = 20_000u32;
    let mut counts = [0u32; 4];
    for t in 0..steps {
        let (pos, neg) = spikes(&enc, &img, 3, t);
        assert!(neg.is_empty());
        for i in pos {
            counts[i as usize] += 1;
        }
    }
    for (i, &p) in expected_p.iter().enumerate() {
        let n = f64::from(steps);
        let sd = (n * p * (1.0 - p)).sqrt();
        let got = f64::from(counts[i]);
        assert!(
            (got - n * p).abs() <= 5.0 * sd,
            "pixel {i}: {got} spikes in {n} steps, expected {} ± {}",
            n * p,
            5.0 * sd
        );
    }
}

#[test]
fn zero_pixel_never_fires() {
    let mut pixels = vec![0.0f32; 784];
    pixels[400] = 1.0;
    let enc = RateEncoder::new(0, 0.5);
    let img = enc.prepare(&pixels);
    for t in 0..2000 {
        let (pos, neg) = spikes(&enc, &img, 11, t);
        assert!(pos.iter().all(|&i| i == 400), "step {t}: {pos:?}");
        assert!(neg.is_empty());
    }
}

#[test]
fn negative_pixel_fires_negative_spikes_at_its_rate() {
    let pixels = [-0.8f32, 0.8];
    let enc = RateEncoder::new(5, 0.5);
    let img = enc.prepare(&pixels);
    let (mut n_pos, mut n_neg) = (0u32, 0u32);
    for t in 0..10_000 {
        let (pos, neg) = spikes(&enc, &img, 0, t);
        assert!(pos.iter().all(|&i| i == 1));
        assert!(neg.iter().all(|&i| i == 0));
        n_pos += pos.len() as u32;
        n_neg += neg.len() as u32;
    }
    // p = 0.4 for both; 5 binomial sd over 10000 steps is about 245.
    for n in [n_pos, n_neg] {
        assert!((f64::from(n) - 4000.0).abs() < 245.0, "{n}");
    }
}

#[test]
fn probability_of_one_or_more_always_fires() {
    let pixels = [2.0f32, 1.0, -3.0, 0.0];
    let enc = RateEncoder::new(9, 1.0);
    let img = enc.prepare(&pixels);
    for t in 0..1000 {
        assert_eq!(spikes(&enc, &img, 4, t), (vec![0, 1], vec![2]));
    }
}

#[test]
fn spike_lists_are_in_increasing_index_order_and_cleared_first() {
    let pixels: Vec<f32> = (0..784)
        .map(|i| if i % 2 == 0 { 1.5 } else { -0.9 })
        .collect();
    let enc = RateEncoder::new(3, 1.0);
    let img = enc.prepare(&pixels);
    let (pos, neg) = spikes(&enc, &img, 0, 0);
    assert_eq!(pos, (0..784).step_by(2).collect::<Vec<u32>>());
    assert!(neg.windows(2).all(|w| w[0] < w[1]));
    assert!(!neg.contains(&999));
}
