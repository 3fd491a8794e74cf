//! Installing what the commands need, idempotently: each step checks before it installs.

use std::process::Command;

use anyhow::{Context, Result};

use crate::{cargo, root, run};

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The `wasm32-unknown-unknown` target.
pub(crate) fn wasm_target() -> Result<()> {
    let installed = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    Ok(())
}

/// The `wasm-bindgen` version pinned in Cargo.lock.
fn pinned_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|v| v.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    anyhow::bail!("wasm-bindgen is not in Cargo.lock")
}

/// `wasm-bindgen-cli` at exactly the library's version (without `--locked`: the locked
/// tree names a crate version the registry here does not serve).
pub(crate) fn wasm_bindgen_cli() -> Result<()> {
    let want = pinned_wasm_bindgen()?;
    let have = output("wasm-bindgen", &["--version"]).unwrap_or_default();
    if have.split_whitespace().nth(1) != Some(want.as_str()) {
        run(&mut cargo(&["install", "wasm-bindgen-cli", "--version", &want]))?;
    }
    Ok(())
}

/// Node.js is on the machine image; fail early with a clear message if it is not.
pub(crate) fn node() -> Result<()> {
    output("node", &["--version"])
        .map(|_| ())
        .context("node is required (it is part of the machine image)")
}

/// Debian packages, as `(command that proves it is installed, package)`: installs the
/// missing ones with `apt-get` after one `apt-get update`.
pub(crate) fn apt(wanted: &[(&str, &str)]) -> Result<()> {
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(cmd, _)| output("sh", &["-c", &format!("command -v {cmd}")]).is_none())
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    run(Command::new("apt-get").arg("update"))?;
    run(Command::new("apt-get").args(["install", "-y", "--no-install-recommends"]).args(&missing))
}

/// The npm tools in `xtask/node` (binaryen's `wasm-opt`, `tsc`, `esbuild`), installed from the
/// committed lock file when missing.
pub(crate) fn node_tools() -> Result<()> {
    node()?;
    let dir = root().join("xtask/node");
    let want = ["wasm-opt", "tsc", "esbuild"];
    if want.iter().any(|t| !node_bin(t).exists()) {
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir))?;
    }
    Ok(())
}

/// A binary installed by [`node_tools`].
pub(crate) fn node_bin(name: &str) -> std::path::PathBuf {
    root().join("xtask/node/node_modules/.bin").join(name)
}

/// Debian's ClickHouse server (18.16), which the collector's ClickHouse tests start on
/// their own (free ports, a temporary data directory); installed when
/// `/usr/sbin/clickhouse-server` is missing.
pub(crate) fn clickhouse_server() -> Result<()> {
    apt(&[("/usr/sbin/clickhouse-server", "clickhouse-server")])
}
