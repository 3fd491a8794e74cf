//! `cargo xtask bench`: measures and writes `target/bench/*.json`, then prints each figure
//! against its target. Timings are medians of repeated rounds in one run; the machine is
//! noisy, so targets are checked here and recorded, never asserted in timed tests.

use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{cargo, root, run, setup};

/// `(key, target, lower is better)`.
const ENGINE_TARGETS: &[(&str, f64)] = &[
    ("decide_50_native_ns", 5_000.0),
    ("decide_50_wasm_ns", 20_000.0),
    ("load_50_wasm_us", 1_000.0),
    ("profile_bytes_10k_events", 8_192.0),
];

fn stdout_of(cmd: &mut Command) -> Result<String> {
    eprintln!("$ {cmd:?}");
    let out = cmd.output().with_context(|| format!("could not start {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The last line of output that is a JSON object, without its braces.
fn json_fields(out: &str) -> Result<String> {
    let line = out
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .context("no JSON line in benchmark output")?;
    Ok(line.trim().trim_start_matches('{').trim_end_matches('}').to_string())
}

fn figure(fields: &str, key: &str) -> Option<f64> {
    let at = fields.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &fields[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

pub(crate) fn bench() -> Result<()> {
    setup::wasm_target()?;
    setup::wasm_bindgen_cli()?;
    setup::node()?;
    let native = json_fields(&stdout_of(
        cargo(&["bench", "-p", "nudge", "--bench", "engine"]).arg("--quiet"),
    )?)?;

    run(&mut cargo(&[
        "build",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        "nudge-wasm-bench",
    ]))?;
    let out_dir = root().join("target/bench/wasm-bench");
    run(Command::new("wasm-bindgen")
        .args(["--target", "nodejs", "--out-dir"])
        .arg(&out_dir)
        .arg(root().join("target/wasm32-unknown-unknown/release/nudge_wasm_bench.wasm")))?;
    let wasm = json_fields(&stdout_of(
        Command::new("node")
            .arg(root().join("xtask/wasm-bench/run.cjs"))
            .arg(out_dir.join("nudge_wasm_bench.js")),
    )?)?;

    let fields = format!("{native},{wasm}");
    let mut report = String::from("engine benchmark (medians; lower is better)\n");
    let mut all_met = true;
    for (key, target) in ENGINE_TARGETS {
        let value =
            figure(&fields, key).with_context(|| format!("benchmark did not report {key}"))?;
        let met = value <= *target;
        all_met &= met;
        report.push_str(&format!(
            "  {key:<28} {value:>10}   target ≤ {target:<8} {}\n",
            if met { "met" } else { "MISSED" }
        ));
    }
    std::fs::create_dir_all(root().join("target/bench"))?;
    let path = root().join("target/bench/engine.json");
    std::fs::write(&path, format!("{{{fields},\"targets_met\":{all_met}}}\n"))?;
    print!("{report}");
    println!("wrote {}", path.display());
    crate::collector_bench::bench()
}
