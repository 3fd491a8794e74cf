//! The end-to-end layer of `cargo xtask test`: Playwright (`playwright-core`, installed with
//! `npm ci` from `tests/e2e/package-lock.json`) drives the system Chromium over `dist/`, the
//! examples and the demo shop, under node's own test runner. No browser is downloaded:
//! Debian's `chromium` is the browser, and `fonts-noto-cjk` makes Korean text render in
//! the screenshots instead of empty boxes. `collector.test.mjs` runs the real collector:
//! the `--profile server` build of `nudge-collector` (the binary `cargo xtask demo` and the
//! benchmark run), with Debian's `sqlite3` to read back what it stored.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::{collector_bench, root, run, setup};

/// Runs `tests/e2e` against the `dist/` that `cargo xtask dist` just built.
pub(crate) fn e2e() -> Result<()> {
    let dir = prepare()?;
    let collector = collector_bench::build()?.join("nudge-collector");
    // One file at a time: each starts its own Chromium, and the machine has two cores.
    run(Command::new("node")
        .args(["--test", "--test-concurrency=1"])
        .env("NUDGE_COLLECTOR", collector)
        .current_dir(&dir))
}

/// Installs what the browser layer needs (node, Chromium, CJK fonts, `npm ci`); returns the
/// `tests/e2e` directory. The SDK benchmark shares it.
pub(crate) fn prepare() -> Result<std::path::PathBuf> {
    setup::node()?;
    setup::apt(&[("chromium", "chromium"), ("sqlite3", "sqlite3")])?;
    if !Path::new("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc").exists() {
        run(Command::new("apt-get").arg("update"))?;
        run(Command::new("apt-get").args([
            "install",
            "-y",
            "--no-install-recommends",
            "fonts-noto-cjk",
        ]))?;
    }
    let dir = root().join("tests/e2e");
    run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir))?;
    Ok(dir)
}
