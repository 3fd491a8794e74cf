//! `cargo xtask bench`: measures and writes `target/bench/*.json`, then prints each figure
//! against its target. Timings are medians of repeated rounds in one run; the machine is
//! noisy, so targets are checked here and recorded, never asserted in timed tests.

use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{build_wasm, cargo, root, run, setup};

/// `(key, target)`: lower is better.
const ENGINE_TARGETS: &[(&str, f64)] = &[
    ("decide_50_native_ns", 5_000.0),
    ("decide_50_wasm_ns", 20_000.0),
    ("load_50_wasm_us", 1_000.0),
    ("profile_bytes_10k_events", 8_192.0),
];

/// The browser SDK's targets (`transfer_brotli_bytes` is loader + glue + wasm).
const SDK_TARGETS: &[(&str, f64)] = &[
    ("transfer_brotli_bytes", 30_720.0),
    ("init_ms_20", 10.0),
    ("long_tasks_4x", 0.0),
    ("heap_kib", 300.0),
    ("track_ms", 0.2),
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

    build_wasm("nudge-wasm-bench", &[])?;
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

    write("engine", &format!("{native},{wasm}"), ENGINE_TARGETS)?;
    sdk()?;
    crate::collector_bench::bench()
}

/// The browser SDK in headless Chromium (`tests/e2e/sdk-bench.mjs`, which documents each
/// figure), plus the transfer size of the build it runs.
fn sdk() -> Result<()> {
    let transfer = crate::dist::dist()?;
    let dir = crate::e2e::prepare()?;
    let page =
        json_fields(&stdout_of(Command::new("node").arg("sdk-bench.mjs").current_dir(&dir))?)?;
    write("sdk", &format!("\"transfer_brotli_bytes\":{transfer},{page}"), SDK_TARGETS)?;
    // What the targets are read against: the browser's own cost for the same work.
    for (key, what) in [
        ("init_floor_ms", "the loader, an empty glue and module"),
        ("init_idle_ms_20", "nudge, tag added to an idle page"),
        ("init_floor_idle_ms", "the empty module, on an idle page"),
        ("show_ms_4x", "nudge's modal, 4× throttled"),
        ("show_floor_ms_4x", "the same modal in plain JS, 4×"),
        ("long_tasks_4x_show_floor", "its tasks over 50 ms, worst load"),
        ("click_ms_4x", "a click that shows the modal, to paint"),
        ("click_floor_ms_4x", "the same click without nudge"),
    ] {
        let value =
            figure(&page, key).with_context(|| format!("benchmark did not report {key}"))?;
        println!("  {key:<28} {value:>10}   ({what})");
    }
    Ok(())
}

/// Prints each figure of `fields` against its target and writes `target/bench/{name}.json`.
fn write(name: &str, fields: &str, targets: &[(&str, f64)]) -> Result<()> {
    let mut report = format!("{name} benchmark (medians; lower is better)\n");
    let mut all_met = true;
    for (key, target) in targets {
        let value =
            figure(fields, key).with_context(|| format!("benchmark did not report {key}"))?;
        let met = value <= *target;
        all_met &= met;
        report.push_str(&format!(
            "  {key:<28} {value:>10}   target ≤ {target:<8} {}\n",
            if met { "met" } else { "MISSED" }
        ));
    }
    std::fs::create_dir_all(root().join("target/bench"))?;
    let path = root().join(format!("target/bench/{name}.json"));
    std::fs::write(&path, format!("{{{fields},\"targets_met\":{all_met}}}\n"))?;
    print!("{report}");
    println!("wrote {}", path.display());
    Ok(())
}
