//! Activity profiles: shape from the plan, summing, rates, JSON round trip, and one-line errors
//! that name the file and the cause for every way a profile can fail to fit.

use snn_core::preset;
use snn_core::profile::{ActivityProfile, ProfileError};
use snn_core::NetworkPlan;
use std::path::Path;

fn lenet_plan() -> NetworkPlan {
    NetworkPlan::new(&preset::lenet()).unwrap()
}

/// A LeNet profile with a few known counts: 2 samples of 4 steps.
fn measured() -> ActivityProfile {
    let mut p = ActivityProfile::zeros(&lenet_plan(), "lenet", "test");
    p.samples = 2;
    p.timesteps = 4;
    p.input[5] = 3;
    p.layers[0].spikes[7] = 4;
    p.layers[2].spikes[0] = 1;
    p.layers[2].spikes[9799] = 2;
    p
}

/// Saves `p` and returns the error of loading it back.
fn load_error(p: &ActivityProfile, dir: &Path) -> String {
    let path = dir.join("p.json");
    p.save(&path).unwrap();
    ActivityProfile::load(&path).unwrap_err().to_string()
}

fn assert_one_line(msg: &str, needles: &[&str]) {
    assert_eq!(msg.lines().count(), 1, "not one line: {msg}");
    for n in needles {
        assert!(msg.contains(n), "'{msg}' lacks '{n}'");
    }
}

#[test]
fn zeros_has_one_entry_per_plan_layer_and_input_pixel() {
    let plan = lenet_plan();
    let p = ActivityProfile::zeros(&plan, "lenet", "snn-train 0.1.0 eval");
    assert_eq!(p.network, "lenet");
    assert_eq!(p.created_by, "snn-train 0.1.0 eval");
    assert_eq!((p.samples, p.timesteps), (0, 0));
    assert_eq!(p.input.len(), 28 * 28);
    let shape: Vec<(&str, usize)> = p
        .layers
        .iter()
        .map(|l| (l.name.as_str(), l.neurons))
        .collect();
    assert_eq!(
        shape,
        [
            ("conv1", 28 * 28 * 20),
            ("pool1", 14 * 14 * 20),
            ("conv2", 14 * 14 * 50),
            ("pool2", 7 * 7 * 50),
            ("fc1", 200),
            ("readout", 10),
        ]
    );
    assert!(p.layers.iter().all(|l| l.spikes.len() == l.neurons));
    assert!(p.layers.iter().all(|l| l.spikes.iter().all(|&s| s == 0)));
    p.check_matches(&plan, Path::new("p.json")).unwrap();
}

#[test]
fn rates_are_spikes_per_sample_step_and_zero_without_samples() {
    let p = measured();
    assert_eq!(p.rate(0, 7), 4.0 / 8.0);
    assert_eq!(p.rate(2, 9799), 2.0 / 8.0);
    assert_eq!(p.rate(1, 0), 0.0);
    assert_eq!(p.input_rate(5), 3.0 / 8.0);
    assert_eq!(p.total_spikes(2), 3);
    assert_eq!(p.total_spikes(5), 0);
    let mut empty = measured();
    empty.samples = 0;
    assert_eq!(empty.rate(0, 7), 0.0);
    assert_eq!(empty.input_rate(5), 0.0);
}

#[test]
fn add_sums_counts_and_samples() {
    let mut a = measured();
    let mut b = measured();
    b.samples = 3;
    b.layers[4].spikes[199] = 10;
    a.add(&b);
    assert_eq!(a.samples, 5);
    assert_eq!(a.timesteps, 4);
    assert_eq!(a.input[5], 6);
    assert_eq!(a.layers[0].spikes[7], 8);
    assert_eq!(a.layers[2].spikes[9799], 4);
    assert_eq!(a.layers[4].spikes[199], 10);
    assert_eq!(a.total_spikes(2), 6);
}

#[test]
fn save_then_load_round_trips_and_leaves_no_temp_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("lenet.profile.json");
    let p = measured();
    p.save(&path).unwrap();
    assert_eq!(ActivityProfile::load(&path).unwrap(), p);
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["lenet.profile.json"]);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["network"], "lenet");
    assert_eq!(json["layers"][2]["spikes"][9799], 2);
}

#[test]
fn missing_file_is_named_in_the_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = ActivityProfile::load(&tmp.path().join("absent.json")).unwrap_err();
    assert!(matches!(err, ProfileError::Read { .. }));
    assert_one_line(&err.to_string(), &["profile", "absent.json", "cannot read"]);
}

#[test]
fn non_json_and_wrong_shape_files_are_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("p.json");
    std::fs::write(&path, b"SNNMODEL garbage").unwrap();
    let err = ActivityProfile::load(&path).unwrap_err();
    assert!(matches!(err, ProfileError::Json { .. }));
    assert_one_line(&err.to_string(), &["p.json", "not a JSON activity profile"]);
    std::fs::write(&path, br#"{"network": "lenet"}"#).unwrap();
    let err = ActivityProfile::load(&path).unwrap_err().to_string();
    assert_one_line(&err, &["p.json", "missing field"]);
}

#[test]
fn load_rejects_a_layer_whose_counts_do_not_match_its_neurons() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = measured();
    p.layers[4].spikes.truncate(100);
    let err = load_error(&p, tmp.path());
    assert_one_line(&err, &["p.json", "fc1", "200 neurons", "100 spike counts"]);
}

#[test]
fn check_matches_names_the_layer_and_both_sizes() {
    let plan = lenet_plan();
    let path = Path::new("p.json");
    let mut p = measured();
    p.layers[2].neurons = 100;
    p.layers[2].spikes = vec![0; 100];
    let err = p.check_matches(&plan, path).unwrap_err().to_string();
    assert_eq!(
        err,
        "profile p.json: layer conv2 has 9800 neurons in the model but 100 in the profile"
    );
}

#[test]
fn check_matches_rejects_other_layer_counts_names_and_inputs() {
    let plan = lenet_plan();
    let path = Path::new("dir/p.json");

    let mut p = measured();
    p.layers.pop();
    let err = p.check_matches(&plan, path).unwrap_err();
    assert!(matches!(
        err,
        ProfileError::LayerCount {
            model: 6,
            profile: 5,
            ..
        }
    ));
    assert_one_line(&err.to_string(), &["dir/p.json", "6 layers", "5"]);

    let mut p = measured();
    p.layers[1].name = "pool9".into();
    let err = p.check_matches(&plan, path).unwrap_err().to_string();
    assert_one_line(&err, &["dir/p.json", "pool1", "pool9"]);

    let mut p = measured();
    p.input.push(0);
    let err = p.check_matches(&plan, path).unwrap_err().to_string();
    assert_one_line(&err, &["dir/p.json", "784 inputs", "785"]);

    let vgg = NetworkPlan::new(&preset::vgg7()).unwrap();
    assert!(measured().check_matches(&vgg, path).is_err());
}
