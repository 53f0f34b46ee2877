//! Gradients checked against independent computations:
//! * the single-neuron reference vector of shared/reference (forward and code-mode recurrence);
//! * code mode on tiny networks against a naive dense unrolled backward written here;
//! * aggregate mode against central finite differences of the spike-count surrogate.

mod common;

use common::*;
use snn_core::neuron::lif_step;
use snn_core::plan::LayerKind;
use snn_core::runtime::{CompiledNet, DropoutMask};
use snn_data::encode::RateEncoder;
use snn_train::forward::Runner;
use snn_train::grad::{
    backward_sample, code_recurrence_reference, leak_correction, BackwardScratch, GradMode, Grads,
};
use snn_train::params::{for_each_untransposed, TransposedWeights};
use snn_train::trace::Trace;

#[test]
fn single_neuron_reference_vector_is_reproduced() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/lif_neuron_vector.json"
    ))
    .or_else(|_| std::fs::read_to_string("/work/shared/reference/lif_neuron_vector.json"))
    .expect("shared/reference/lif_neuron_vector.json next to the repository");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let f = |k: &str| -> Vec<f64> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let (lambda, v_th) = (v["lambda"].as_f64().unwrap(), v["v_th"].as_f64().unwrap());
    let input = f("input_current");
    let mut mem = vec![0.0f32];
    let mut spikes = Vec::new();
    let mut steps = Vec::new();
    for (t, &i) in input.iter().enumerate() {
        let u = mem[0] + i as f32;
        assert!((u as f64 - f("u")[t]).abs() < 1e-6, "u at step {t}");
        let mut cur = vec![i as f32];
        let mut s = Vec::new();
        lif_step(&mut mem, &mut cur, lambda as f32, v_th as f32, &mut s);
        spikes.push(!s.is_empty());
        if !s.is_empty() {
            steps.push(t);
        }
        assert!(
            (mem[0] as f64 - f("v_after_reset_and_leak")[t]).abs() < 1e-6,
            "v at step {t}"
        );
    }
    let want: Vec<bool> = f("spikes").iter().map(|&x| x == 1.0).collect();
    assert_eq!(spikes, want);
    let ng = leak_correction(&steps, input.len(), lambda);
    assert!((ng - v["ng"].as_f64().unwrap()).abs() < 1e-6, "NG {ng}");
    let du = code_recurrence_reference(&spikes, &f("g"), ng, v_th);
    for (a, b) in du.iter().zip(f("du")) {
        assert!((a - b).abs() < 1e-6, "du {a} vs {b}");
    }
}

/// Runs one sample and returns (trace, gradient in canonical layout per layer).
/// (main, shortcut) weight gradient of one layer, canonical layout.
type LayerGrad = (Vec<f64>, Vec<f64>);

fn our_gradient(
    net: &CompiledNet,
    w: &[snn_core::model_file::LayerWeights],
    image: &[f32],
    label: usize,
    t: usize,
    mode: GradMode,
    dropout: Option<&[Option<DropoutMask>]>,
) -> (Trace, Vec<LayerGrad>, f64) {
    let enc = RateEncoder::new(3, net.input_scale);
    let img = enc.prepare(image);
    let mut runner = Runner::new(net);
    let mut trace = Trace::default();
    let pw = snn_core::runtime::PreparedWeights::new(net, w);
    runner.run(net, &pw, &enc, &img, 0, t, dropout, Some(&mut trace), None);
    let mut wt = TransposedWeights::default();
    wt.update(&net.plan, w);
    let mut grads = Grads::zeros(net);
    let loss = backward_sample(
        net,
        &wt,
        &trace,
        label,
        mode,
        &mut grads,
        &mut BackwardScratch::default(),
    );
    let canon = net
        .plan
        .layers
        .iter()
        .zip(&grads.layers)
        .map(|(l, (g, gs))| {
            let mut out = vec![0.0f64; g.len()];
            for_each_untransposed(&l.synapses, g, |p, v| out[p] = v as f64);
            let mut short = vec![0.0f64; gs.len()];
            if let Some(sc) = l.shortcut {
                for_each_untransposed(&sc.synapses, gs, |p, v| short[p] = v as f64);
            }
            (out, short)
        })
        .collect();
    (trace, canon, loss)
}

/// Dense 0/1 (times value) vector of a step's spikes.
fn dense(idx: &[u32], n: usize, value: f64) -> Vec<f64> {
    let mut x = vec![0.0; n];
    for &i in idx {
        x[i as usize] += value;
    }
    x
}

fn input_at(trace: &Trace, t: usize, n: usize) -> Vec<f64> {
    let mut x = dense(trace.input_pos.step(t), n, 1.0);
    for &i in trace.input_neg.step(t) {
        x[i as usize] -= 1.0;
    }
    x
}

/// Naive code-mode backward of paper-method §4.3, unrolled over steps with dense matrices,
/// including residual shortcuts (their current enters the block's second membrane, so the same
/// `δu` flows into the shortcut's source) and dropout: a neuron's mask value `m` (0 if dropped,
/// `1/(1−p)` if kept, 1 without dropout) scales its spikes as the next layer sees them and its
/// gate, `δu(t) = s(t)·(NG/V_th)·m·g(t)`. The masks come from the caller, not from the trace.
/// Returns (main, shortcut) weight gradients per layer.
fn naive_code_gradient(
    net: &CompiledNet,
    w: &[snn_core::model_file::LayerWeights],
    trace: &Trace,
    label: usize,
    masks: Option<&[Option<DropoutMask>]>,
    leak_correction: bool,
) -> Vec<LayerGrad> {
    let layers = &net.plan.layers;
    let n = layers.len();
    let tt = trace.timesteps;
    let lambda = net.neuron.leak as f64;
    let m: Vec<Vec<Vec<f64>>> = layers
        .iter()
        .zip(w)
        .map(|(l, lw)| dense_matrix(&l.synapses, &lw.main))
        .collect();
    let msc: Vec<Option<Vec<Vec<f64>>>> = layers
        .iter()
        .zip(w)
        .map(|(l, lw)| {
            l.shortcut
                .map(|sc| dense_matrix(&sc.synapses, &lw.shortcut))
        })
        .collect();
    let mask = |l: usize, j: usize| -> f64 {
        match masks.and_then(|m| m[l].as_ref()) {
            Some(m) if m.keep[j] => m.value as f64,
            Some(_) => 0.0,
            None => 1.0,
        }
    };
    // Spikes (times their mask value) of a source at step t: None = the input image.
    let spikes_of = |src: Option<usize>, t: usize| -> Vec<f64> {
        match src {
            None => input_at(trace, t, net.plan.input.len()),
            Some(i) => {
                let mut x = dense(trace.layers[i].step(t), layers[i].output.len(), 1.0);
                for (j, v) in x.iter_mut().enumerate() {
                    *v *= mask(i, j);
                }
                x
            }
        }
    };
    let main_src = |l: usize| if l == 0 { None } else { Some(l - 1) };
    let gate: Vec<Vec<f64>> = (0..n - 1)
        .map(|l| {
            (0..layers[l].output.len())
                .map(|j| {
                    let steps: Vec<usize> = (0..tt)
                        .filter(|&t| trace.layers[l].step(t).contains(&(j as u32)))
                        .collect();
                    if steps.is_empty() {
                        return 0.0;
                    }
                    if layers[l].kind == LayerKind::Pool {
                        return 1.0;
                    }
                    let lf: f64 = steps
                        .iter()
                        .map(|&t| lambda.powi((tt - 1 - t) as i32))
                        .sum();
                    let ng = if leak_correction {
                        1.0 + lambda.ln() * lf / steps.len() as f64
                    } else {
                        1.0
                    };
                    ng * mask(l, j) / net.neuron.threshold as f64
                })
                .collect()
        })
        .collect();
    let zeros_like =
        |mm: &Vec<Vec<f64>>| vec![vec![0.0; mm.first().map_or(0, |r| r.len())]; mm.len()];
    let mut dm: Vec<Vec<Vec<f64>>> = m.iter().map(zeros_like).collect();
    let mut dsc: Vec<Option<Vec<Vec<f64>>>> =
        msc.iter().map(|o| o.as_ref().map(zeros_like)).collect();
    let classes = layers[n - 1].output.len();
    let d_out: Vec<f64> = (0..classes)
        .map(|k| 2.0 * (trace.output[k] as f64 - if k == label { 1.0 } else { 0.0 }) / tt as f64)
        .collect();
    let mut du_next: Vec<Vec<f64>> = (0..n - 1)
        .map(|l| vec![0.0; layers[l].output.len()])
        .collect();
    let outer = |d: &mut Vec<Vec<f64>>, du: &[f64], x: &[f64]| {
        for (row, &u) in d.iter_mut().zip(du) {
            for (c, &xi) in row.iter_mut().zip(x) {
                *c += u * xi;
            }
        }
    };
    let back = |mm: &Vec<Vec<f64>>, du: &[f64], g: &mut Vec<f64>| {
        for (row, &u) in mm.iter().zip(du) {
            for (gi, &wv) in g.iter_mut().zip(row) {
                *gi += wv * u;
            }
        }
    };
    for t in (0..tt).rev() {
        // g[l] = gradient at the output spikes of layer l, accumulated from every consumer.
        let mut g: Vec<Vec<f64>> = (0..n - 1)
            .map(|l| vec![0.0; layers[l].output.len()])
            .collect();
        outer(&mut dm[n - 1], &d_out, &spikes_of(main_src(n - 1), t));
        back(&m[n - 1], &d_out, &mut g[n - 2]);
        for l in (0..n - 1).rev() {
            let s = dense(trace.layers[l].step(t), layers[l].output.len(), 1.0);
            let du: Vec<f64> = (0..s.len())
                .map(|j| {
                    if s[j] > 0.0 {
                        gate[l][j] * g[l][j]
                    } else {
                        du_next[l][j]
                    }
                })
                .collect();
            outer(&mut dm[l], &du, &spikes_of(main_src(l), t));
            if let Some(src) = main_src(l) {
                let mut gi = std::mem::take(&mut g[src]);
                back(&m[l], &du, &mut gi);
                g[src] = gi;
            }
            if let (Some(sc), Some(msc_l)) = (layers[l].shortcut, msc[l].as_ref()) {
                outer(dsc[l].as_mut().unwrap(), &du, &spikes_of(sc.source, t));
                if let Some(src) = sc.source {
                    let mut gi = std::mem::take(&mut g[src]);
                    back(msc_l, &du, &mut gi);
                    g[src] = gi;
                }
            }
            du_next[l] = du;
        }
    }
    let to_weights = |syn: &snn_core::plan::Synapses, d: &Vec<Vec<f64>>| -> Vec<f64> {
        matrix_basis(syn)
            .iter()
            .map(|b| {
                b.iter()
                    .zip(d)
                    .map(|(br, dr)| br.iter().zip(dr).map(|(a, c)| a * c).sum::<f64>())
                    .sum()
            })
            .collect()
    };
    layers
        .iter()
        .enumerate()
        .map(|(l, layer)| {
            let main = to_weights(&layer.synapses, &dm[l]);
            let short = match (layer.shortcut, dsc[l].as_ref()) {
                (Some(sc), Some(d)) => to_weights(&sc.synapses, d),
                _ => Vec::new(),
            };
            (main, short)
        })
        .collect()
}

fn assert_close(a: &[LayerGrad], b: &[LayerGrad], what: &str) {
    let all = |v: &[LayerGrad]| -> Vec<Vec<f64>> {
        v.iter().flat_map(|(m, s)| [m.clone(), s.clone()]).collect()
    };
    let (a, b) = (all(a), all(b));
    let scale = b.iter().flatten().fold(0.0f64, |m, x| m.max(x.abs()));
    assert!(
        scale > 0.0,
        "{what}: reference gradient is all zero; test would be vacuous"
    );
    for (k, (la, lb)) in a.iter().zip(&b).enumerate() {
        assert_eq!(la.len(), lb.len(), "{what}: tensor {k} sizes");
        for (p, (x, y)) in la.iter().zip(lb).enumerate() {
            assert!(
                (x - y).abs() <= 1e-4 * scale + 1e-6,
                "{what}: layer {} {} weight {p}: {x} vs {y}",
                k / 2,
                if k % 2 == 0 { "main" } else { "shortcut" }
            );
        }
    }
}

const TWO_LAYER: &str = r#"
name = "two-layer"
input = { channels = 1, height = 4, width = 4 }
input_scale = 1.0
[[layer]]
type = "linear"
out_features = 6
[[layer]]
type = "readout"
out_features = 3
"#;

const CONV_NET: &str = r#"
name = "conv-pool"
input = { channels = 2, height = 6, width = 6 }
input_scale = 1.0
[[layer]]
type = "conv"
out_channels = 3
kernel = 3
padding = 1
[[layer]]
type = "pool"
[[layer]]
type = "conv"
out_channels = 4
kernel = 3
stride = 2
padding = 1
[[layer]]
type = "linear"
out_features = 5
[[layer]]
type = "readout"
out_features = 3
"#;

/// Channel counts above the SIMD width, so vectorised code paths are exercised too.
const WIDE_NET: &str = r#"
name = "wide"
input = { channels = 3, height = 4, width = 4 }
input_scale = 1.0
[[layer]]
type = "conv"
out_channels = 9
kernel = 3
padding = 1
[[layer]]
type = "pool"
[[layer]]
type = "conv"
out_channels = 12
kernel = 3
padding = 1
[[layer]]
type = "linear"
out_features = 10
[[layer]]
type = "readout"
out_features = 3
"#;

/// Compares our code-mode gradient with the naive unrolled one on every sample of `data`,
/// requiring every hidden layer to spike (otherwise the comparison would be vacuous).
fn check_code_mode(
    net: &CompiledNet,
    data: &snn_data::dataset::Dataset,
    weights: impl Fn(usize) -> Vec<snn_core::model_file::LayerWeights>,
    steps: usize,
    what: &str,
) {
    check_code_mode_with_dropout(net, data, weights, steps, 0.0, what);
}

/// [`check_code_mode`] with dropout `p` on the hidden LIF layers (the trainer's own masks).
fn check_code_mode_with_dropout(
    net: &CompiledNet,
    data: &snn_data::dataset::Dataset,
    weights: impl Fn(usize) -> Vec<snn_core::model_file::LayerWeights>,
    steps: usize,
    p: f64,
    what: &str,
) {
    for s in 0..data.len() {
        let w = weights(s);
        let label = data.labels[s] as usize;
        let masks = snn_train::batch::dropout_masks(net, p, 17, 1, s as u64);
        let masks = masks.as_deref();
        let (trace, ours, _) =
            our_gradient(net, &w, data.image(s), label, steps, GradMode::Code, masks);
        for l in 0..net.plan.layers.len() - 1 {
            assert!(
                trace.layers[l].total() > 0,
                "{what}: layer {l} silent on sample {s}; weights too weak for a meaningful test"
            );
        }
        assert_close(
            &ours,
            &naive_code_gradient(net, &w, &trace, label, masks, true),
            what,
        );
    }
}

#[test]
fn code_mode_matches_unrolled_wide_net() {
    let net = CompiledNet::new(&spec(WIDE_NET)).unwrap();
    let data = synthetic(2, 3, 4, 4, 3, 21);
    check_code_mode(
        &net,
        &data,
        |s| weights_for(&net.plan, 50 + s as u64, 0.4, 0.1),
        10,
        "wide code grad",
    );
}

/// Residual blocks: a 1×1-conv shortcut (channels change) and a subsampling identity (stride 2).
const RESIDUAL_NET: &str = r#"
name = "residual"
input = { channels = 2, height = 4, width = 4 }
input_scale = 1.0
[[layer]]
type = "conv"
out_channels = 3
kernel = 3
padding = 1
[[layer]]
type = "residual"
out_channels = 4
[[layer]]
type = "residual"
out_channels = 4
stride = 2
[[layer]]
type = "linear"
out_features = 6
[[layer]]
type = "readout"
out_features = 3
"#;

#[test]
fn code_mode_matches_unrolled_residual_net() {
    let net = CompiledNet::new(&spec(RESIDUAL_NET)).unwrap();
    assert!(
        net.plan.layers[2]
            .shortcut
            .is_some_and(|sc| sc.synapses.weight_count() > 0),
        "res1b has a 1x1-conv shortcut"
    );
    let data = synthetic(2, 2, 4, 4, 3, 77);
    check_code_mode(
        &net,
        &data,
        |s| residual_weights(&net, s),
        10,
        "residual code grad",
    );
}

/// Weights of [`RESIDUAL_NET`] for sample `s`, shortcut weights included.
fn residual_weights(net: &CompiledNet, s: usize) -> Vec<snn_core::model_file::LayerWeights> {
    let mut w = weights_for(&net.plan, 90 + s as u64, 0.4, 0.1);
    let mut r = Lcg(5 + s as u64);
    for (lw, l) in w.iter_mut().zip(&net.plan.layers) {
        if let Some(sc) = l.shortcut {
            lw.shortcut = (0..sc.synapses.weight_count())
                .map(|_| ((r.uniform() * 2.0 - 1.0) * 0.4 + 0.1) as f32)
                .collect();
        }
    }
    w
}

#[test]
fn code_mode_matches_unrolled_two_layer_net() {
    let net = CompiledNet::new(&spec(TWO_LAYER)).unwrap();
    let data = synthetic(4, 1, 4, 4, 3, 11);
    check_code_mode(
        &net,
        &data,
        |s| weights_for(&net.plan, 100 + s as u64, 0.6, 0.15),
        12,
        "two-layer code grad",
    );
}

#[test]
fn code_mode_matches_unrolled_conv_pool_net() {
    let net = CompiledNet::new(&spec(CONV_NET)).unwrap();
    let data = synthetic(3, 2, 6, 6, 3, 5);
    check_code_mode(
        &net,
        &data,
        |s| weights_for(&net.plan, 7 + s as u64, 0.5, 0.12),
        10,
        "conv code grad",
    );
}

/// `--grad if` is the code recurrence with the leak correction off (`NG = 1`), which does
/// change the gradient.
#[test]
fn if_mode_is_the_code_recurrence_without_leak_correction() {
    let net = CompiledNet::new(&spec(CONV_NET)).unwrap();
    let data = synthetic(3, 2, 6, 6, 3, 5);
    for s in 0..data.len() {
        let w = weights_for(&net.plan, 7 + s as u64, 0.5, 0.12);
        let label = data.labels[s] as usize;
        let (trace, ours, _) = our_gradient(&net, &w, data.image(s), label, 10, GradMode::If, None);
        assert_close(
            &ours,
            &naive_code_gradient(&net, &w, &trace, label, None, false),
            "if grad",
        );
        let (_, code, _) = our_gradient(&net, &w, data.image(s), label, 10, GradMode::Code, None);
        let differs = code
            .iter()
            .zip(&ours)
            .any(|(a, b)| a.0.iter().zip(&b.0).any(|(x, y)| (x - y).abs() > 1e-6));
        assert!(differs, "sample {s}: leak correction changed nothing");
    }
}

/// Dropout masks hidden neurons for the whole sample; the mask value scales both what the next
/// layer receives and the neuron's own gate. Checked on the conv-pool and residual nets with
/// p = 0.3 against the unrolled backward given the same masks, after making sure the masks
/// really silence neurons that fire without them.
#[test]
fn code_mode_with_dropout_matches_unrolled_backward() {
    let p = 0.3;
    let net = CompiledNet::new(&spec(CONV_NET)).unwrap();
    let data = synthetic(3, 2, 6, 6, 3, 5);
    let weights = |s: usize| weights_for(&net.plan, 7 + s as u64, 0.5, 0.12);
    // The first layer's input does not depend on dropout, so its spikes without masks show
    // which neurons the masks silence.
    let masks = snn_train::batch::dropout_masks(&net, p, 17, 1, 0).unwrap();
    let label = data.labels[0] as usize;
    let (plain, ..) = our_gradient(
        &net,
        &weights(0),
        data.image(0),
        label,
        10,
        GradMode::Code,
        None,
    );
    let (masked, ..) = our_gradient(
        &net,
        &weights(0),
        data.image(0),
        label,
        10,
        GradMode::Code,
        Some(&masks),
    );
    let keep = &masks[0].as_ref().expect("conv1 has a mask").keep;
    let silenced = plain.layers[0]
        .all()
        .iter()
        .filter(|&&j| !keep[j as usize])
        .count();
    assert!(
        silenced > 0,
        "no dropped neuron fires; the test would be vacuous"
    );
    assert!(masked.layers[0].all().iter().all(|&j| keep[j as usize]));
    assert_eq!(masked.values[0], (1.0 / (1.0 - p)) as f32);
    check_code_mode_with_dropout(&net, &data, weights, 10, p, "conv code grad, dropout");

    let net = CompiledNet::new(&spec(RESIDUAL_NET)).unwrap();
    let data = synthetic(2, 2, 4, 4, 3, 77);
    check_code_mode_with_dropout(
        &net,
        &data,
        |s| residual_weights(&net, s),
        10,
        p,
        "residual code grad, dropout",
    );
}

/// Spike-count surrogate of the aggregate mode: hidden activations linearised around the real
/// spike counts, `a_l = γ_l + G_l ⊙ (M_l(W) a_{l−1} + S_l(W) a_s − M_l(W₀) γ_{l−1} − S_l(W₀) γ_s)`
/// (`S_l` the residual shortcut from source `s`, the input image when `s` is none), output
/// `o = o_real + (M_out(W) a_L − M_out(W₀) γ_L)/T`, loss `Σ (o − y)²`. The gate `G_l` is
/// `(1 + ε)/V_th` for LIF neurons that fired, 1 for pooling neurons that fired (paper-method
/// §4.3: the authors' code passes pooling gradients with factor 1, not the IF formula's 1/0.75;
/// both gradient modes keep that), 0 for silent ones.
fn surrogate_loss(
    net: &CompiledNet,
    w0: &[snn_core::model_file::LayerWeights],
    w: &[snn_core::model_file::LayerWeights],
    trace: &Trace,
    label: usize,
) -> f64 {
    let layers = &net.plan.layers;
    let n = layers.len();
    let tt = trace.timesteps;
    let lambda = net.neuron.leak as f64;
    let mut counts_in: Vec<f64> = vec![0.0; net.plan.input.len()];
    for t in 0..tt {
        for (i, v) in input_at(trace, t, counts_in.len()).iter().enumerate() {
            counts_in[i] += v;
        }
    }
    let mv = |m: &Vec<Vec<f64>>, x: &[f64]| -> Vec<f64> {
        m.iter()
            .map(|r| r.iter().zip(x).map(|(a, b)| a * b).sum())
            .collect()
    };
    // Linearised activations `a` and real counts `γ` of every layer; index 0 is the input.
    let mut acts: Vec<Vec<f64>> = vec![counts_in.clone()];
    let mut gammas: Vec<Vec<f64>> = vec![counts_in];
    // Input current of layer l under weights `ws` from activations `xs`.
    let current = |l: usize, ws: &[snn_core::model_file::LayerWeights], xs: &[Vec<f64>]| {
        let mut c = mv(&dense_matrix(&layers[l].synapses, &ws[l].main), &xs[l]);
        if let Some(sc) = layers[l].shortcut {
            let from = sc.source.map_or(0, |i| i + 1);
            let short = mv(&dense_matrix(&sc.synapses, &ws[l].shortcut), &xs[from]);
            for (a, b) in c.iter_mut().zip(short) {
                *a += b;
            }
        }
        c
    };
    for (l, layer) in layers.iter().enumerate().take(n - 1) {
        let len = layer.output.len();
        let mut gamma = vec![0.0; len];
        let mut lf = vec![0.0; len];
        for t in 0..tt {
            for &j in trace.layers[l].step(t) {
                gamma[j as usize] += 1.0;
                lf[j as usize] += lambda.powi((tt - 1 - t) as i32);
            }
        }
        let gate: Vec<f64> = (0..len)
            .map(|j| {
                if gamma[j] == 0.0 {
                    0.0
                } else if layer.kind == LayerKind::Pool {
                    1.0
                } else {
                    (1.0 + lambda.ln() * lf[j] / gamma[j]) / net.neuron.threshold as f64
                }
            })
            .collect();
        let (net_w, net_0) = (current(l, w, &acts), current(l, w0, &gammas));
        acts.push(
            (0..len)
                .map(|j| gamma[j] + gate[j] * (net_w[j] - net_0[j]))
                .collect(),
        );
        gammas.push(gamma);
    }
    let (ow, o0) = (current(n - 1, w, &acts), current(n - 1, w0, &gammas));
    (0..ow.len())
        .map(|k| {
            let o = trace.output[k] as f64 + (ow[k] - o0[k]) / tt as f64;
            let e = o - if k == label { 1.0 } else { 0.0 };
            e * e
        })
        .sum()
}

/// Compares aggregate-mode gradients of up to 12 random main (and shortcut) weights per layer
/// with central finite differences of [`surrogate_loss`]; returns how many were non-zero.
fn check_aggregate_mode(
    net: &CompiledNet,
    w0: &[snn_core::model_file::LayerWeights],
    image: &[f32],
    label: usize,
    steps: usize,
) -> usize {
    let (trace, ours, loss) = our_gradient(net, w0, image, label, steps, GradMode::Aggregate, None);
    assert!(
        (surrogate_loss(net, w0, w0, &trace, label) - loss).abs() < 1e-5,
        "surrogate equals the real loss at W0"
    );
    let h = 1e-2f32;
    let mut r = Lcg(4);
    let mut nonzero = 0;
    for (l, layer) in net.plan.layers.iter().enumerate() {
        for shortcut in [false, true] {
            let count = match (shortcut, layer.shortcut) {
                (false, _) => layer.synapses.weight_count(),
                (true, Some(sc)) => sc.synapses.weight_count(),
                (true, None) => 0,
            };
            for _ in 0..count.min(12) {
                let p = (r.uniform() * count as f64) as usize;
                let nudge = |d: f32| {
                    let mut w = w0.to_vec();
                    let v = if shortcut {
                        &mut w[l].shortcut
                    } else {
                        &mut w[l].main
                    };
                    v[p] += d;
                    w
                };
                let fd = (surrogate_loss(net, w0, &nudge(h), &trace, label)
                    - surrogate_loss(net, w0, &nudge(-h), &trace, label))
                    / (2.0 * h as f64);
                let g = if shortcut { ours[l].1[p] } else { ours[l].0[p] };
                nonzero += (fd.abs() > 1e-6) as usize;
                assert!(
                    (fd - g).abs() <= 1e-3 * fd.abs().max(1e-2),
                    "layer {l} {} weight {p}: finite difference {fd} vs aggregate {g}",
                    if shortcut { "shortcut" } else { "main" }
                );
            }
        }
    }
    nonzero
}

#[test]
fn aggregate_mode_matches_finite_differences_of_the_count_surrogate() {
    let net = CompiledNet::new(&spec(CONV_NET)).unwrap();
    let data = synthetic(2, 2, 6, 6, 3, 9);
    let w0 = weights_for(&net.plan, 31, 0.5, 0.12);
    let nonzero = check_aggregate_mode(&net, &w0, data.image(1), data.labels[1] as usize, 10);
    assert!(
        nonzero > 10,
        "too few non-zero gradients ({nonzero}) for a meaningful check"
    );
}

/// A residual block straight on the input image: its shortcut's source is the input spikes.
const RESIDUAL_FROM_INPUT: &str = r#"
name = "residual-input"
input = { channels = 2, height = 4, width = 4 }
input_scale = 1.0
[[layer]]
type = "residual"
out_channels = 3
[[layer]]
type = "residual"
out_channels = 3
stride = 2
[[layer]]
type = "linear"
out_features = 6
[[layer]]
type = "readout"
out_features = 3
"#;

/// Aggregate mode on residual networks: the 1×1-conv shortcut weights (from a hidden layer and
/// from the input image) get the gradient of the count surrogate too.
#[test]
fn aggregate_mode_matches_finite_differences_on_residual_nets() {
    for text in [RESIDUAL_NET, RESIDUAL_FROM_INPUT] {
        let net = CompiledNet::new(&spec(text)).unwrap();
        let trainable: Vec<Option<usize>> = net
            .plan
            .layers
            .iter()
            .filter_map(|l| l.shortcut)
            .filter(|sc| sc.synapses.weight_count() > 0)
            .map(|sc| sc.source)
            .collect();
        assert!(
            !trainable.is_empty(),
            "{}: a 1x1-conv shortcut",
            spec(text).name
        );
        if text == RESIDUAL_FROM_INPUT {
            assert_eq!(
                trainable[0], None,
                "the first block's shortcut reads the input"
            );
        }
        let data = synthetic(2, 2, 4, 4, 3, 77);
        let mut nonzero = 0;
        for s in 0..data.len() {
            let w0 = residual_weights(&net, s);
            nonzero += check_aggregate_mode(&net, &w0, data.image(s), data.labels[s] as usize, 10);
        }
        assert!(
            nonzero > 20,
            "{}: only {nonzero} non-zero gradients",
            spec(text).name
        );
    }
}
