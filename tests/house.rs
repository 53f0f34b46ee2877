//! The house rules that code review alone would let slip: the crate graph that ARCHITECTURE.md
//! documents is the one the `Cargo.toml` files declare, and no two modules of a crate import
//! each other in a loop (directly or through others).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn crates() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| root().join("crates").join(n).join("Cargo.toml").exists())
        .collect();
    names.sort();
    names
}

/// The snn crates in a manifest's `[dependencies]` table (not dev- or build-dependencies).
fn declared(name: &str) -> BTreeSet<String> {
    let text = fs::read_to_string(root().join("crates").join(name).join("Cargo.toml")).unwrap();
    let mut in_deps = false;
    let mut deps = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && line.starts_with("snn-") {
            let dep: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            deps.insert(dep);
        }
    }
    deps
}

/// The list in ARCHITECTURE.md's code map: `crate → a, b` or `crate (no snn dependencies)`.
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let text = fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let map = text
        .split("## Code map")
        .nth(1)
        .expect("a Code map section");
    let block = map.split("```").nth(1).expect("a fenced crate list");
    block
        .lines()
        .filter(|l| l.starts_with("snn-"))
        .map(|l| {
            let name = l.split_whitespace().next().unwrap().to_string();
            let deps = match l.split_once('→') {
                Some((_, rest)) => rest.split(',').map(|d| d.trim().to_string()).collect(),
                None => BTreeSet::new(),
            };
            (name, deps)
        })
        .collect()
}

#[test]
fn architecture_md_lists_the_crate_graph_of_the_manifests() {
    let documented = documented();
    let names = crates();
    assert_eq!(
        documented.keys().cloned().collect::<Vec<_>>(),
        names,
        "ARCHITECTURE.md lists other crates than crates/ holds"
    );
    for name in &names {
        assert_eq!(
            declared(name),
            documented[name],
            "{name}: Cargo.toml's snn dependencies differ from ARCHITECTURE.md's code map"
        );
    }
}

/// A crate's modules: path (`engine::step`, `` for the crate root) → code without comments and
/// without the `#[cfg(test)]` part.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = p.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(
                parts.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                parts.pop();
            }
            out.insert(parts.join("::"), code_of(&fs::read_to_string(&p).unwrap()));
        }
    }
    out
}

/// A file's code without comments and without the `#[cfg(test)]` part.
fn code_of(text: &str) -> String {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let lines: Vec<&str> = code
        .lines()
        .map(|l| l.split("//").next().unwrap())
        .collect();
    lines.join("\n")
}

/// Module paths named after `crate::` / `super::` in `code` (groups `{a, b::c}` expanded to their
/// first segments), resolved against module `here`.
fn references(here: &str, code: &str) -> Vec<Vec<String>> {
    let here: Vec<String> = if here.is_empty() {
        Vec::new()
    } else {
        here.split("::").map(String::from).collect()
    };
    let mut out = Vec::new();
    for (base, parent) in [("crate::", false), ("super::", true)] {
        for (i, _) in code.match_indices(base) {
            if i > 0 {
                let prev = code.as_bytes()[i - 1];
                if prev.is_ascii_alphanumeric() || prev == b'_' {
                    continue;
                }
            }
            let rest = &code[i + base.len()..];
            let prefix: Vec<String> = if parent {
                here[..here.len().saturating_sub(1)].to_vec()
            } else {
                Vec::new()
            };
            if let Some(group) = rest.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or("");
                for item in inner.split(',') {
                    let first: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !first.is_empty() && first != "self" {
                        out.push([prefix.clone(), vec![first]].concat());
                    }
                }
            } else {
                let path: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let segs: Vec<String> = path
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect();
                out.push([prefix, segs].concat());
            }
        }
    }
    out
}

/// Module → modules it imports (its own ancestors left out: a child naming its parent is
/// structure, not a loop).
fn import_graph(mods: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut g = BTreeMap::new();
    for (m, code) in mods {
        let mut targets = BTreeSet::new();
        for path in references(m, code) {
            for k in (1..=path.len()).rev() {
                let cand = path[..k].join("::");
                if mods.contains_key(&cand) {
                    let ancestor = m.starts_with(&format!("{cand}::"));
                    if cand != *m && !ancestor {
                        targets.insert(cand);
                    }
                    break;
                }
            }
        }
        g.insert(m.clone(), targets);
    }
    g
}

/// Modules on a loop: those that can reach themselves.
fn on_loops(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = g[from].iter().collect();
        while let Some(v) = stack.pop() {
            if seen.insert(v.clone()) {
                stack.extend(g[v].iter());
            }
        }
        seen
    };
    g.keys()
        .filter(|m| reach(m).contains(*m))
        .cloned()
        .collect()
}

#[test]
fn no_two_modules_of_a_crate_import_each_other_in_a_loop() {
    let mut loops = Vec::new();
    for name in crates() {
        let g = import_graph(&modules(&root().join("crates").join(&name).join("src")));
        for m in on_loops(&g) {
            let within: Vec<&String> = g[&m].iter().filter(|t| on_loops(&g).contains(t)).collect();
            loops.push(format!("{name}: {m} -> {within:?}"));
        }
    }
    assert!(
        loops.is_empty(),
        "module import loops:\n{}",
        loops.join("\n")
    );
}

#[test]
fn the_loop_check_finds_a_loop() {
    let mods: BTreeMap<String, String> = [
        ("a", "use crate::b::X;"),
        ("b", "use super::{c, d};"),
        ("c", "fn f() { crate::a::g() }"),
        ("d", "// crate::a is only named in a comment"),
        ("e::f", "use super::Y; use crate::e::g::Z;"),
        ("e", "pub mod f;"),
        ("e::g", "use crate::d;"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), code_of(v)))
    .collect();
    let g = import_graph(&mods);
    assert_eq!(on_loops(&g), vec!["a", "b", "c"]);
    assert!(g["e::f"].contains("e::g") && !g["e::f"].contains("e"));
}
