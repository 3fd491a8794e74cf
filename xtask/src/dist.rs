//! `cargo xtask dist`: the browser build in `dist/`, and its size against the budget.
//!
//! `cargo build --release` for wasm32 → `wasm-bindgen --target web` → `wasm-opt -Os --converge`
//! (binaryen from npm, pinned in `xtask/node/package-lock.json`; Debian's is too old) →
//! esbuild `--minify` for the JS.
//! Output: `nudge.js` (the hand-written loader from `www/`), `nudge_glue.js` (the
//! wasm-bindgen glue), `nudge_bg.wasm`, `nudge.d.ts`, and the npm entry `index.js` /
//! `index.d.ts` / `package.json`. The budget counts what a page downloads before the first
//! campaign can show: loader + glue + wasm, each brotli-compressed.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::{build_wasm, root, run, setup};

/// Brotli bytes the loader, glue and wasm may weigh together.
pub(crate) const BUDGET: u64 = 30_720;

/// Files counted against [`BUDGET`], as a page fetches them.
const COUNTED: &[&str] = &["nudge.js", "nudge_glue.js", "nudge_bg.wasm"];

/// Builds `dist/` and returns the brotli total of the counted files.
pub(crate) fn dist() -> Result<u64> {
    setup::wasm_target()?;
    setup::wasm_bindgen_cli()?;
    setup::node_tools()?;
    setup::apt(&[("brotli", "brotli")])?;
    build_wasm("nudge", &["--lib"])?;
    let out = root().join("dist");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let tmp = target.join("dist-bindgen");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&out)?;
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--out-name", "nudge", "--out-dir"])
        .arg(&tmp)
        .arg(target.join("wasm32-unknown-unknown/release/nudge.wasm")))?;
    run(Command::new(setup::node_bin("wasm-opt"))
        // `-Os --converge` rather than `-Oz`: a little larger raw, but about 500 bytes
        // smaller after brotli, which is what a page downloads (measured on this build).
        // binaryen 132's `--all-features` includes compact imports, which Chromium 156
        // refuses ("Invalid import kind 127"): the e2e tests caught every page failing.
        .args(["-Os", "--converge", "--all-features", "--disable-compact-imports"])
        .args(["--strip-debug", "--strip-producers"])
        .arg(tmp.join("nudge_bg.wasm"))
        .arg("-o")
        .arg(out.join("nudge_bg.wasm")))?;
    // The glue and the loader ship minified (comments and long names are bytes too).
    minify(&tmp.join("nudge.js"), &out.join("nudge_glue.js"), "esm")?;
    minify(&root().join("www/nudge.js"), &out.join("nudge.js"), "iife")?;
    copy(&tmp.join("nudge.d.ts"), &out.join("nudge.d.ts"))?;
    for f in ["index.js", "index.d.ts", "package.json"] {
        copy(&root().join("www").join(f), &out.join(f))?;
    }
    report(&out)
}

/// esbuild `--minify` (syntax and names only; no bundling, no transpiling).
fn minify(from: &Path, to: &Path, format: &str) -> Result<()> {
    run(Command::new(setup::node_bin("esbuild"))
        .arg(from)
        .args(["--minify", "--legal-comments=none", "--log-level=warning", "--target=es2020"])
        .arg(format!("--format={format}"))
        .arg(format!("--outfile={}", to.display())))
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// Brotli size (quality 11, as a CDN serves static files) of one file.
fn brotli(path: &PathBuf) -> Result<u64> {
    let out = Command::new("brotli")
        .args(["-c", "-q", "11"])
        .arg(path)
        .output()
        .with_context(|| format!("running brotli on {}", path.display()))?;
    anyhow::ensure!(out.status.success(), "brotli failed on {}", path.display());
    Ok(out.stdout.len() as u64)
}

/// Prints the size table and writes it to `target/bench/size.json`.
fn report(out: &Path) -> Result<u64> {
    let mut total = 0;
    let mut json = String::from("{");
    println!("browser build (dist/), bytes:");
    for f in COUNTED {
        let p = out.join(f);
        let raw = std::fs::metadata(&p)?.len();
        let br = brotli(&p)?;
        total += br;
        println!("  {f:<16} {raw:>8} raw {br:>8} brotli");
        json.push_str(&format!("\"{f}\":{br},"));
    }
    println!("  {:<16} {:>8}     {total:>8} brotli (budget {BUDGET})", "total", "");
    json.push_str(&format!("\"total_brotli\":{total},\"budget\":{BUDGET}}}\n"));
    std::fs::create_dir_all(root().join("target/bench"))?;
    std::fs::write(root().join("target/bench/size.json"), json)?;
    Ok(total)
}

/// Whether the budget fails the build. It does not yet: the engine alone is several times
/// the budget (see ARCHITECTURE.md, "Size"), and a red CI would stop every other change
/// from landing. Flip this to `true` once the build fits.
const ENFORCE: bool = false;

/// Checks `total` (from [`dist`]) against [`BUDGET`].
pub(crate) fn check(total: u64) -> Result<()> {
    if total <= BUDGET {
        println!("size budget met: {total} <= {BUDGET} brotli bytes");
        return Ok(());
    }
    let over = total - BUDGET;
    println!("SIZE BUDGET EXCEEDED: {total} > {BUDGET} brotli bytes ({over} over)");
    anyhow::ensure!(!ENFORCE, "the browser build is {over} bytes over its budget");
    Ok(())
}
