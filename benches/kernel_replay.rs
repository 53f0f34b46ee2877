//! Replays LeNet's real spikes through its two convolution kernels, alone, to time them
//! without the rest of the step: `cargo bench --bench kernel_replay [-- --images 100]`.
//!
//! The trained model (`reports/mnist-lenet/model.snn`) runs `--images` MNIST test images for
//! T = 100 steps; every step's input spikes and pool1 spikes are kept. Then, five rounds each:
//! conv1's scatter of the input spikes (with the zeroing of its current), and conv2's gathered
//! step (its current, the LIF update, no pooling) on the recorded pool1 spikes. It prints the
//! fastest and the median round in ms per image, and conv2's work: non-empty (output pixel,
//! kernel row) windows and 50-float weight rows per image. Single thread; compare two builds
//! by running this in each (one at a time: the VM's speed drifts, see README).

use snn::core::gather::{self, GatherScratch, GatherWeights};
use snn::core::runtime::{CompiledNet, NetState, PreparedWeights};
use snn::core::{synapse, Model};
use snn::data::dataset::{resolve_data_dir, DatasetKind, Split};
use snn::data::encode::RateEncoder;
use snn::data::load;
use std::path::Path;
use std::time::Instant;

const TIMESTEPS: u32 = 100;
const ROUNDS: usize = 5;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let images = args
        .iter()
        .position(|a| a == "--images")
        .and_then(|i| args.get(i + 1))
        .map_or(100, |v| v.parse().expect("--images takes a number"));
    let data_dir = resolve_data_dir(None);
    snn::data::fetch::fetch(DatasetKind::Mnist, &data_dir).expect("MNIST");
    let test = load(DatasetKind::Mnist, &data_dir, Split::Test).expect("MNIST test");
    let model = Model::load(Path::new("reports/mnist-lenet/model.snn")).expect("trained LeNet");
    let net = CompiledNet::new(&model.spec).expect("LeNet spec");
    let (conv1, conv2) = (
        net.geometry[0].clone().expect("conv1"),
        net.geometry[2].clone().expect("conv2"),
    );
    let encoder = RateEncoder::new(1, model.spec.input_scale);
    let prepared = PreparedWeights::new(&net, &model.weights);
    let mut state = NetState::new(&net);
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    // Per image, per step: input spikes, pool1 spikes.
    let mut steps: Vec<Vec<(Vec<u32>, Vec<u32>)>> = Vec::with_capacity(images);
    for i in 0..images.min(test.len()) {
        state.reset();
        let image = encoder.prepare(test.image(i));
        let mut per = Vec::with_capacity(TIMESTEPS as usize);
        for t in 0..TIMESTEPS {
            encoder.encode_step(&image, i as u64, t, &mut pos, &mut neg);
            state.step_prepared(&net, &prepared, &pos, &neg, None);
            per.push((pos.clone(), state.spikes[1].clone()));
        }
        steps.push(per);
    }
    let n = steps.len() as f64;
    println!(
        "kernel replay: LeNet, {} MNIST test images, T = {TIMESTEPS}",
        steps.len()
    );
    let report = |name: &str, mut ms: Vec<f64>| {
        ms.sort_by(f64::total_cmp);
        println!(
            "  {name}: {:.3} ms per image (fastest of {ROUNDS}), median {:.3}",
            ms[0],
            ms[ROUNDS / 2]
        );
    };

    let mut w1 = Vec::new();
    conv1.prepare(&model.weights[0].main, &mut w1);
    let mut current = vec![0.0f32; conv1.output.len()];
    let times = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for (input, _) in steps.iter().flatten() {
                synapse::conv_scatter_prepared(&conv1, &w1, input, 1.0, &mut current);
                current.fill(0.0);
            }
            start.elapsed().as_secs_f64() * 1e3 / n
        })
        .collect();
    report("conv1 scatter (and zeroing)", times);

    let gw = GatherWeights::new(&conv2, &model.weights[2].main).expect("conv2 gathers");
    let np = net.neuron;
    let (mut scratch, mut out) = (GatherScratch::default(), Vec::new());
    let mut v = vec![0.0f32; conv2.output.len()];
    let times = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for per in &steps {
                v.fill(0.0);
                for (_, pool1) in per {
                    out.clear();
                    gather::conv_lif_gather(
                        &conv2,
                        &gw,
                        pool1,
                        &[],
                        1.0,
                        &mut v,
                        np.leak,
                        np.threshold,
                        &mut scratch,
                        &mut out,
                        None,
                        |_| {},
                    );
                }
            }
            start.elapsed().as_secs_f64() * 1e3 / n
        })
        .collect();
    report("conv2 gather + LIF", times);

    // conv2's work: windows of an output pixel's kernel row holding spikes, and weight rows.
    let (k, pad) = (conv2.kernel as i64, conv2.padding as i64);
    let (h, w, c) = (
        conv2.input.height as i64,
        conv2.input.width as i64,
        conv2.input.channels as u32,
    );
    let (mut windows, mut rows) = (0u64, 0u64);
    let mut count = vec![0u64; (h * w) as usize];
    for (_, pool1) in steps.iter().flatten() {
        count.fill(0);
        for &s in pool1 {
            count[(s / c) as usize] += 1;
        }
        for oy in 0..conv2.output.height as i64 {
            for iy in (oy - pad).max(0)..(oy - pad + k).min(h) {
                for ox in 0..conv2.output.width as i64 {
                    let span = (ox - pad).max(0)..(ox - pad + k).min(w);
                    let r: u64 = span.map(|ix| count[(iy * w + ix) as usize]).sum();
                    windows += (r > 0) as u64;
                    rows += r;
                }
            }
        }
    }
    println!(
        "  conv2 work: {:.0} non-empty windows and {:.0} weight rows per image ({:.2} rows per window)",
        windows as f64 / n,
        rows as f64 / n,
        rows as f64 / windows as f64
    );
}
