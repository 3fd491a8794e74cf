//! The one entry point for building, testing and benchmarking nudge: `cargo xtask <cmd>`.
//!
//! Every command installs what it needs on a fresh Debian machine by itself (the wasm
//! target, the pinned `wasm-bindgen-cli`, Debian and npm packages), skipping what is
//! already there, so the README's two commands work from a clean clone and CI runs exactly
//! what a developer runs.

mod bench;
mod collector_bench;
mod demo;
mod dist;
mod e2e;
mod setup;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  test    everything CI runs: fmt, clippy, all test layers, docs, wasm build
  bench   benchmarks; writes target/bench/*.json
  demo    the demo shop, editor and dashboard on a local collector (until Ctrl-C)
  dist    the browser build in dist/ (loader, glue, wasm, types, npm entry) and its size";

fn main() -> Result<()> {
    let cmd = std::env::args().nth(1).unwrap_or_default();
    std::env::set_current_dir(root())?;
    match cmd.as_str() {
        "test" => test(),
        "bench" => bench::bench(),
        "demo" => demo::demo(),
        "dist" => dist::dist().map(|_| ()),
        "" | "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}

/// The workspace root (xtask lives one level below it).
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Runs a command, failing with its command line if it fails.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let line = format!("{cmd:?}");
    eprintln!("$ {line}");
    let status = cmd.status().with_context(|| format!("could not start {line}"))?;
    if !status.success() {
        bail!("{line} failed with {status}");
    }
    Ok(())
}

/// `cargo` with the given arguments.
pub(crate) fn cargo(args: &[&str]) -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.args(args);
    c
}

/// `cargo build --release` of `package` for wasm32, the browser build's profile.
pub(crate) fn build_wasm(package: &str, extra: &[&str]) -> Result<()> {
    let target = ["build", "--release", "--target", "wasm32-unknown-unknown", "-p"];
    run(cargo(&target).arg(package).args(extra))
}

fn test() -> Result<()> {
    setup::wasm_target()?;
    setup::clickhouse_server()?;
    run(&mut cargo(&["fmt", "--all", "--check"]))?;
    run(&mut cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    run(&mut cargo(&["test", "--workspace"]))?;
    web()?;
    run(cargo(&["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings"))?;
    eprintln!("xtask test: all green");
    Ok(())
}

/// The browser layers: clippy for wasm32, the wasm-bindgen tests in headless Chromium,
/// the `dist/` build, its TypeScript declarations under `tsc --strict`, and the size budget.
fn web() -> Result<()> {
    setup::wasm_bindgen_cli()?;
    setup::apt(&[("chromium", "chromium"), ("chromedriver", "chromium-driver")])?;
    let wasm = ["--target", "wasm32-unknown-unknown", "-p", "nudge"];
    run(cargo(&["clippy"]).args(wasm).args(["--", "-D", "warnings"]))?;
    run(cargo(&["test", "--lib"])
        .args(wasm)
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner")
        .env("CHROMEDRIVER", "/usr/bin/chromedriver"))?;
    let size = dist::dist()?;
    run(Command::new(setup::node_bin("tsc"))
        .args(["--noEmit", "--strict", "--target", "es2020", "--module", "esnext"])
        .args(["--moduleResolution", "bundler", "--lib", "es2020,dom"])
        .arg(root().join("tests/web/types.ts")))?;
    e2e::e2e()?;
    dist::check(size)
}
