//! Everything a decoded mapping must satisfy before the simulator indexes with it: the embedded
//! chip passes the chip validator, the mesh is the chip's and within bounds, the atom grid tiles
//! every plan layer exactly, every atom sits on one used core, every core on its own mesh slot,
//! and every route points at a used core with the hop counts of the two slots. A checksum only
//! proves the bytes are the ones written; this proves they describe something runnable.

use super::Mapping;
use crate::atoms::Atom;
use crate::place::{MAX_CHIPS, MAX_TOTAL_CORES};
use std::collections::HashSet;

/// Checks `m` as described in the module docs; the message names the first inconsistency.
pub(super) fn validate(m: &Mapping) -> Result<(), String> {
    m.chip
        .validate()
        .map_err(|v| format!("embedded chip model: {v}"))?;
    check_mesh(m)?;
    check_atoms(m)?;
    check_cores(m)
}

fn check_mesh(m: &Mapping) -> Result<(), String> {
    let (mesh, chip) = (&m.mesh, &m.chip.mesh);
    if (mesh.width, mesh.height, mesh.cores_per_tile)
        != (
            chip.width.value,
            chip.height.value,
            chip.cores_per_tile.value,
        )
    {
        return Err(format!(
            "mesh {}×{}×{} is not the embedded chip's {}×{}×{}",
            mesh.width,
            mesh.height,
            mesh.cores_per_tile,
            chip.width.value,
            chip.height.value,
            chip.cores_per_tile.value
        ));
    }
    if !(1..=MAX_CHIPS).contains(&mesh.chips) {
        return Err(format!(
            "{} chips joined; must be 1..={MAX_CHIPS}",
            mesh.chips
        ));
    }
    let total = m.chip.cores_per_chip() as u64 * u64::from(mesh.chips);
    if total > MAX_TOTAL_CORES {
        return Err(format!("{total} mesh slots; at most {MAX_TOTAL_CORES}"));
    }
    if m.cores.len() as u64 > total {
        return Err(format!(
            "{} used cores on a mesh of {total} slots",
            m.cores.len()
        ));
    }
    Ok(())
}

fn check_atoms(m: &Mapping) -> Result<(), String> {
    let layers = &m.plan.layers;
    if m.atoms.tilings.len() != layers.len() {
        return Err(format!(
            "atom grid covers {} layers, the plan has {}",
            m.atoms.tilings.len(),
            layers.len()
        ));
    }
    let mut next = 0u64;
    for (l, (t, layer)) in m.atoms.tilings.iter().zip(layers).enumerate() {
        let o = &layer.output;
        let shape = [o.channels, o.height, o.width].map(|v| v as u64);
        let bad = |what: String| Err(format!("atom grid of layer {} ({}): {what}", l, layer.name));
        if t.name != layer.name || t.shape.map(u64::from) != shape {
            return bad(format!(
                "is for {:?} of shape {:?}, the plan's layer has shape {shape:?}",
                t.name, t.shape
            ));
        }
        let block = [t.channel_block, t.tile_rows, t.tile_cols].map(u64::from);
        if block.iter().zip(&shape).any(|(&b, &s)| b == 0 || b > s) {
            return bad(format!("atom size {block:?} does not fit shape {shape:?}"));
        }
        let grid: Vec<u64> = shape
            .iter()
            .zip(&block)
            .map(|(s, b)| s.div_ceil(*b))
            .collect();
        if t.grid.map(u64::from).as_slice() != grid.as_slice() {
            return bad(format!("grid {:?} should be {grid:?}", t.grid));
        }
        if u64::from(t.first_atom) != next {
            return bad(format!("first atom {} should be {next}", t.first_atom));
        }
        next += grid.iter().product::<u64>();
        if next > m.atoms.atoms.len() as u64 {
            return bad(format!(
                "needs atoms up to {next}, the file has {}",
                m.atoms.atoms.len()
            ));
        }
        for k in 0..t.atoms() {
            let want = Atom {
                layer: l as u32,
                region: t.region(k),
            };
            let got = m.atoms.atoms[(t.first_atom + k) as usize];
            if got != want {
                return bad(format!(
                    "atom {} is {got:?}, should be {want:?}",
                    t.first_atom + k
                ));
            }
        }
    }
    if next != m.atoms.atoms.len() as u64 {
        return Err(format!(
            "{} atoms but the grids define {next}",
            m.atoms.atoms.len()
        ));
    }
    if m.core_of_atom.len() != m.atoms.atoms.len() {
        return Err(format!(
            "{} atoms but {} core assignments",
            m.atoms.atoms.len(),
            m.core_of_atom.len()
        ));
    }
    if let Some(&c) = m
        .core_of_atom
        .iter()
        .find(|&&c| c as usize >= m.cores.len())
    {
        return Err(format!("atom assigned to core {c} of {}", m.cores.len()));
    }
    Ok(())
}

fn check_cores(m: &Mapping) -> Result<(), String> {
    let mesh = &m.mesh;
    let mut slots = HashSet::with_capacity(m.cores.len());
    let mut listed = 0usize;
    for (c, core) in m.cores.iter().enumerate() {
        let s = core.slot;
        // Chip k covers columns k·width .. (k+1)·width of the joined mesh.
        let first_column = u64::from(s.chip) * u64::from(mesh.width);
        let in_chip = first_column..first_column + u64::from(mesh.width);
        if s.chip >= mesh.chips
            || !in_chip.contains(&u64::from(s.x))
            || s.y >= mesh.height
            || s.core >= mesh.cores_per_tile
        {
            return Err(format!("core {c} sits at {s:?}, outside the mesh {mesh:?}"));
        }
        if !slots.insert((s.x, s.y, s.core)) {
            return Err(format!("core {c} shares slot {s:?} with another core"));
        }
        if !(core.load.is_finite() && core.load >= 0.0) {
            return Err(format!("core {c} has load {}", core.load));
        }
        for &a in &core.atoms {
            if m.core_of_atom.get(a as usize) != Some(&(c as u32)) {
                return Err(format!(
                    "core {c} lists atom {a}, which is not assigned to it"
                ));
            }
        }
        listed += core.atoms.len();
        for r in &core.routes {
            let Some(d) = m.cores.get(r.dest as usize) else {
                return Err(format!(
                    "core {c} routes to core {} of {}",
                    r.dest,
                    m.cores.len()
                ));
            };
            let hops = (
                core.slot.x.abs_diff(d.slot.x),
                core.slot.y.abs_diff(d.slot.y),
            );
            if (r.hops_x, r.hops_y) != hops {
                return Err(format!(
                    "core {c}'s route to core {} has {}+{} hops, the slots are {}+{} apart",
                    r.dest, r.hops_x, r.hops_y, hops.0, hops.1
                ));
            }
        }
    }
    if listed != m.core_of_atom.len() {
        return Err(format!(
            "the cores list {listed} atoms, the mapping has {}",
            m.core_of_atom.len()
        ));
    }
    Ok(())
}
