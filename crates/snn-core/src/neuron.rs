//! The neuron half of one time step (SPEC §3, paper-method §3). These functions are the single
//! definition of the dynamics; the trainer's forward, its evaluation and the simulator call them.
//!
//! Each takes the layer's state and the synaptic current accumulated this step, updates the state,
//! clears the current for the next step and appends the indices of the neurons that fired.

use crate::simd;

/// LIF layer step: `u = v + I`; fire iff `u > threshold` (strict); hard reset to 0; then leak
/// `v = λ·(1−s)·u`. Appends firing indices (ascending) to `spikes` and zeroes `current`.
pub fn lif_step(
    v: &mut [f32],
    current: &mut [f32],
    leak: f32,
    threshold: f32,
    spikes: &mut Vec<u32>,
) {
    assert_eq!(v.len(), current.len());
    simd::dispatch!(lif_body(v, current, leak, threshold, spikes))
}

#[inline(always)]
fn lif_body(v: &mut [f32], current: &mut [f32], leak: f32, threshold: f32, spikes: &mut Vec<u32>) {
    const LANES: usize = 8;
    let n = v.len();
    let mut base = 0;
    for (vc, ic) in v.chunks_mut(LANES).zip(current.chunks_mut(LANES)) {
        let mut mask = 0u32;
        for k in 0..vc.len() {
            let u = vc[k] + ic[k];
            let fire = u > threshold;
            mask |= (fire as u32) << k;
            vc[k] = if fire { 0.0 } else { leak * u };
            ic[k] = 0.0;
        }
        while mask != 0 {
            let k = mask.trailing_zeros();
            spikes.push((base + k as usize) as u32);
            mask &= mask - 1;
        }
        base += LANES;
    }
    debug_assert!(base >= n);
}

/// Pooling IF step: `P = q + I`; fire iff `P > threshold`; hard reset to 0; no leak.
pub fn if_step(q: &mut [f32], current: &mut [f32], threshold: f32, spikes: &mut Vec<u32>) {
    lif_step(q, current, 1.0, threshold, spikes)
}

/// Readout step: `V = λ·(V + I)`; never fires. Zeroes `current`.
pub fn readout_step(v: &mut [f32], current: &mut [f32], leak: f32) {
    for (vv, ii) in v.iter_mut().zip(current.iter_mut()) {
        *vv = leak * (*vv + *ii);
        *ii = 0.0;
    }
}

/// Network output from the readout membrane after `timesteps` steps: `o = V(T)/T`.
pub fn readout_output(v: &[f32], timesteps: u32) -> Vec<f32> {
    v.iter().map(|x| x / timesteps as f32).collect()
}

/// Index of the largest output (first one on ties): the prediction.
pub fn argmax(o: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in o.iter().enumerate() {
        if x > o[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_threshold_does_not_fire_at_equality() {
        let mut v = vec![0.5f32];
        let mut i = vec![0.5f32];
        let mut s = Vec::new();
        lif_step(&mut v, &mut i, 0.99, 1.0, &mut s);
        assert!(s.is_empty());
        assert!((v[0] - 0.99).abs() < 1e-7);
    }

    #[test]
    fn pooling_three_of_four_spikes_do_not_fire() {
        let mut q = vec![0.0f32];
        let mut i = vec![0.75f32];
        let mut s = Vec::new();
        if_step(&mut q, &mut i, 0.75, &mut s);
        assert!(s.is_empty());
        assert_eq!(q[0], 0.75, "no leak on pooling neurons");
        let mut i = vec![0.25f32];
        if_step(&mut q, &mut i, 0.75, &mut s);
        assert_eq!(s, vec![0]);
        assert_eq!(q[0], 0.0);
    }

    #[test]
    fn spike_indices_cover_ragged_tail() {
        let n = 19;
        let mut v = vec![0.0f32; n];
        let mut i: Vec<f32> = (0..n).map(|k| if k % 3 == 0 { 2.0 } else { 0.1 }).collect();
        let mut s = Vec::new();
        lif_step(&mut v, &mut i, 0.9, 1.0, &mut s);
        assert_eq!(s, (0..n as u32).filter(|k| k % 3 == 0).collect::<Vec<_>>());
        assert!(i.iter().all(|&x| x == 0.0));
    }
}
