//! Writing a chip file in the same layout as the shipped ones: top-level strings, then one
//! table per block with one inline `{ value, source, basis }` table per key.

use std::fmt::Write as _;

use super::{ChipModel, Constant};

pub(super) fn to_toml_string(model: &ChipModel) -> String {
    let mut out = String::new();
    line(&mut out, "name", &string(&model.name));
    line(&mut out, "description", &string(&model.description));

    let m = &model.mesh;
    out.push_str("\n[mesh]\n");
    constant(&mut out, "width", &m.width, |v| v.to_string());
    constant(&mut out, "height", &m.height, |v| v.to_string());
    constant(&mut out, "cores_per_tile", &m.cores_per_tile, |v| {
        v.to_string()
    });

    let c = &model.core;
    out.push_str("\n[core]\n");
    constant(&mut out, "max_neurons", &c.max_neurons, |v| v.to_string());
    constant(&mut out, "max_fan_in", &c.max_fan_in, |v| v.to_string());
    constant(&mut out, "max_fan_out", &c.max_fan_out, |v| v.to_string());
    constant(
        &mut out,
        "synaptic_memory_bits",
        &c.synaptic_memory_bits,
        |v| v.to_string(),
    );
    constant(&mut out, "weight_bits", &c.weight_bits, |v| v.to_string());
    constant(&mut out, "state_bits", &c.state_bits, |v| v.to_string());
    constant(
        &mut out,
        "shared_conv_weights",
        &c.shared_conv_weights,
        |v| v.to_string(),
    );

    let e = &model.energy;
    out.push_str("\n[energy]\n");
    constant(&mut out, "synop_pj", &e.synop_pj, |v| float(*v));
    constant(&mut out, "neuron_active_pj", &e.neuron_active_pj, |v| {
        float(*v)
    });
    constant(&mut out, "neuron_idle_pj", &e.neuron_idle_pj, |v| float(*v));
    constant(&mut out, "spike_local_pj", &e.spike_local_pj, |v| float(*v));
    constant(&mut out, "hop_x_pj", &e.hop_x_pj, |v| float(*v));
    constant(&mut out, "hop_y_pj", &e.hop_y_pj, |v| float(*v));
    constant(&mut out, "static_mw_per_core", &e.static_mw_per_core, |v| {
        float(*v)
    });
    if let Some(mac) = &e.mac_pj {
        constant(&mut out, "mac_pj", mac, |v| float(*v));
    }

    let l = &model.latency;
    out.push_str("\n[latency]\n");
    constant(&mut out, "synop_ns", &l.synop_ns, |v| float(*v));
    constant(&mut out, "neuron_active_ns", &l.neuron_active_ns, |v| {
        float(*v)
    });
    constant(&mut out, "neuron_idle_ns", &l.neuron_idle_ns, |v| float(*v));
    constant(&mut out, "spike_local_ns", &l.spike_local_ns, |v| float(*v));
    constant(&mut out, "hop_x_ns", &l.hop_x_ns, |v| float(*v));
    constant(&mut out, "hop_y_ns", &l.hop_y_ns, |v| float(*v));
    constant(&mut out, "barrier_ns", &l.barrier_ns, |v| float(*v));
    if let Some(link) = &l.link_packet_ns {
        constant(&mut out, "link_packet_ns", link, |v| float(*v));
    }
    out
}

fn line(out: &mut String, key: &str, value: &str) {
    let _ = writeln!(out, "{key} = {value}");
}

fn constant<T>(out: &mut String, key: &str, c: &Constant<T>, value: impl Fn(&T) -> String) {
    let _ = writeln!(
        out,
        "{key} = {{ value = {}, source = {}, basis = {} }}",
        value(&c.value),
        string(&c.source),
        string(c.basis.as_str()),
    );
}

/// A TOML float that parses back to exactly `value` (Rust's shortest round-trip form).
pub(super) fn float(value: f64) -> String {
    if value.is_nan() {
        "nan".to_string()
    } else if value.is_infinite() {
        if value > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        // `{:?}` always writes a `.` or an exponent, so the value stays a TOML float.
        format!("{value:?}")
    }
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
