//! `snn-map`: maps a trained spiking network onto the cores of a modeled neuromorphic chip.

use clap::Parser;
use snn_core::profile::ActivityProfile;
use snn_core::{preset, NetworkSpec};
use snn_map::chip::ChipModel;
use snn_map::external;
use snn_map::partition::Objective;
use snn_map::pipeline::{map_model_with, MapRequest};
use snn_map::place::{MAX_CHIPS, MAX_TOTAL_CORES};
use snn_map::traffic::Activity;
use snn_map::{report, MapError};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ObjectiveArg {
    /// Fewest inter-core spike packets (then fewest cores).
    Packets,
    /// Fewest cores (then fewest packets).
    Cores,
}

/// Partition a trained SNN into the cores of a chip, place the cores on the mesh, build routing
/// tables; writes DIR/mapping.bin (for snn-sim), mapping.json, mapping.md and two charts.
#[derive(Parser, Debug)]
#[command(name = "snn-map", version)]
struct Args {
    /// Model file written by snn-train (model.snn), or a NIR file (.nir).
    #[arg(long, required_unless_present = "network", conflicts_with = "network")]
    model: Option<PathBuf>,
    /// Time step in seconds to read a NIR model's time constants with (default: the file's
    /// snn_dt, else snnTorch's 1e-4).
    #[arg(long)]
    dt: Option<f64>,
    /// Map an untrained network instead: a preset name (lenet, vgg7, vgg9, resnet7, resnet9, resnet11) or a
    /// network TOML (weights are zero; traffic uses --profile or uniform activity).
    #[arg(long)]
    network: Option<String>,
    /// Chip description (hardware-models/*.toml).
    #[arg(long)]
    chip: PathBuf,
    /// Number of chips joined side by side when one is too small.
    #[arg(long, default_value_t = 1)]
    chips: u32,
    /// Spike-activity profile (snn-train eval --profile-out, or snn-sim) to weight traffic by
    /// measured spike rates; without it every neuron counts as firing equally often.
    #[arg(long)]
    profile: Option<PathBuf>,
    /// What the partitioner minimizes first: inter-core spike packets, or cores used (static
    /// power dominates routing energy on some chips, e.g. Loihi).
    #[arg(long, value_enum, default_value_t = ObjectiveArg::Packets)]
    objective: ObjectiveArg,
    /// Seed of the placer and of the random baseline.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many atoms (the partitioner's units: a channel block × a spatial tile) should fit
    /// one core. More is finer and slower: 8 sent 0–11 % fewer packets than 4 on the networks
    /// of reports/mapping/ and took up to twice as long.
    #[arg(long, default_value_t = snn_map::atoms::DEFAULT_ATOMS_PER_CORE,
          value_parser = clap::value_parser!(u32).range(1..=64))]
    atoms_per_core: u32,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Also write the activity-weighted atom hypergraph as JSON (for external partitioners
    /// such as METIS; see benches/peers/metis_compare.py).
    #[arg(long)]
    export_graph: Option<PathBuf>,
    /// Evaluate an external atom partition (JSON list: core of every atom) on the same traffic
    /// model and placer, and add it to mapping.json under "external".
    #[arg(long)]
    evaluate_partition: Option<PathBuf>,
}

fn run(a: Args) -> Result<(), MapError> {
    if !(1..=MAX_CHIPS).contains(&a.chips) {
        return Err(MapError::Usage(format!(
            "--chips {}: must be between 1 and {MAX_CHIPS}",
            a.chips
        )));
    }
    let (model, model_name) = match (&a.model, &a.network) {
        (Some(p), _) => {
            let loaded = snn_nir::load_any(p, a.dt).map_err(|e| MapError::Usage(e.to_string()))?;
            for note in &loaded.notes {
                eprintln!("snn-map: note: {note}");
            }
            (loaded.model, p.display().to_string())
        }
        (None, Some(n)) => {
            let spec = if n.ends_with(".toml") {
                NetworkSpec::from_toml_file(std::path::Path::new(n))
                    .map_err(|e| MapError::Usage(e.to_string()))?
            } else {
                preset::by_name(n).map_err(|e| MapError::Usage(e.to_string()))?
            };
            (external::untrained(spec)?, format!("untrained {n}"))
        }
        (None, None) => unreachable!("clap requires --model or --network"),
    };
    let chip = ChipModel::load(&a.chip)?;
    let total = chip.cores_per_chip() as u64 * u64::from(a.chips);
    if total > MAX_TOTAL_CORES {
        return Err(MapError::Usage(format!(
            "--chips {}: {} chips of {} cores ({}) is {total} cores, more than the {MAX_TOTAL_CORES} a mapping may address",
            a.chips,
            a.chips,
            chip.cores_per_chip(),
            a.chip.display()
        )));
    }
    let plan =
        snn_core::NetworkPlan::new(&model.spec).map_err(|e| MapError::Usage(e.to_string()))?;
    let activity = match &a.profile {
        Some(p) => {
            let prof = ActivityProfile::load(p)?;
            prof.check_matches(&plan, p)?;
            Some(Activity::from_profile(&prof, &p.display().to_string()))
        }
        None => None,
    };
    let chip_path = a.chip.display().to_string();
    let req = MapRequest {
        model: &model,
        chip: &chip,
        chip_path,
        chips: a.chips,
        activity,
        seed: a.seed,
        atoms_per_core: a.atoms_per_core,
    };
    let objective = match a.objective {
        ObjectiveArg::Packets => Objective::Packets,
        ObjectiveArg::Cores => Objective::Cores,
    };
    let outcome = map_model_with(&req, objective)?;
    std::fs::create_dir_all(&a.out).map_err(|e| MapError::Output {
        path: a.out.clone(),
        msg: format!("cannot create output directory: {e}"),
    })?;
    let command = snn_core::command::command_line();
    outcome.mapping.save(&a.out.join("mapping.bin"))?;
    report::write_all(&outcome, &a.out, &model_name, &command)?;
    if let Some(g) = &a.export_graph {
        external::export_graph(&outcome, g)?;
    }
    if let Some(p) = &a.evaluate_partition {
        external::evaluate_into_report(&outcome, &model, p, &a.out.join("mapping.json"), a.seed)?;
    }
    let o = &outcome;
    let red = |x: f64, b: f64| if b > 0.0 { 100.0 * (1.0 - x / b) } else { 0.0 };
    println!(
        "{} on {}: {} of {} cores, {:.1} inter-core packets/step ({:.0} % below sequential fill; lower bound {:.1}), {:.1} hop-weighted ({:.0} % below), busiest core {:.0} synops/step; {:.3} s; wrote {}",
        o.mapping.network,
        o.mapping.chip.name,
        o.ours.cores_used,
        o.cores_available,
        o.ours.inter_core_packets,
        red(o.ours.inter_core_packets, o.sequential.inter_core_packets),
        o.bound.inter_core_packets,
        o.ours.hop_weighted_traffic,
        red(o.ours.hop_weighted_traffic, o.sequential.hop_weighted_traffic),
        o.ours.max_core_load,
        o.seconds,
        a.out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("snn-map: error: {e}");
            ExitCode::FAILURE
        }
    }
}
