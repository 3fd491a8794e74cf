//! The code base's invariants, as a test (see ARCHITECTURE.md, "Invariants").
//!
//! - the engine uses no web API (`web_sys`, `js_sys`, `gloo`, `wasm_bindgen`), reads no
//!   clock and draws no randomness;
//! - every Rust file opens with a `//!` paragraph saying what it owns;
//! - no `todo!`, `unimplemented!`, `dbg!` or ignored tests anywhere.

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let p = entry.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if p.is_dir() && !matches!(name, "target" | "node_modules" | ".git" | "dist") {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn all_rust_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["src", "tests", "examples", "xtask", "benches"] {
        rust_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 10, "tidy found too few files to check: {files:?}");
    files
}

/// Lines of code outside comments (a coarse filter: good enough for banned names).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l))
}

#[test]
fn engine_is_pure() {
    let banned = [
        "web_sys",
        "js_sys",
        "gloo",
        "wasm_bindgen",
        "SystemTime",
        "Instant::now",
        "std::time",
        "rand::",
        "getrandom",
        "thread_rng",
        "std::fs",
        "std::net",
        "std::env",
        "std::process",
        "HashMap",
        "HashSet",
    ];
    let mut files = Vec::new();
    rust_files(&root().join("src/engine"), &mut files);
    assert!(!files.is_empty());
    let mut hits = Vec::new();
    for f in &files {
        let text = fs::read_to_string(f).unwrap();
        for (n, line) in code_lines(&text) {
            for b in banned {
                if line.contains(b) {
                    hits.push(format!("{}:{n}: `{b}` in the engine", f.display()));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "the engine must stay pure (no web API, clock, randomness, I/O, unordered maps):\n{}",
        hits.join("\n")
    );
}

#[test]
fn every_file_says_what_it_owns() {
    let missing: Vec<String> = all_rust_files()
        .into_iter()
        .filter(|f| !fs::read_to_string(f).unwrap().trim_start().starts_with("//!"))
        .map(|f| f.display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a //! opening paragraph:\n{}", missing.join("\n"));
}

#[test]
fn no_placeholders_or_skipped_tests() {
    let me = root().join("tests/tidy.rs");
    let banned = [
        concat!("todo", "!("),
        concat!("unimplemented", "!("),
        concat!("dbg", "!("),
        concat!("#[", "ignore"),
    ];
    let mut hits = Vec::new();
    for f in all_rust_files().into_iter().filter(|f| *f != me) {
        let text = fs::read_to_string(&f).unwrap();
        for (n, line) in code_lines(&text) {
            for b in banned {
                if line.contains(b) {
                    hits.push(format!("{}:{n}: {b}", f.display()));
                }
            }
        }
    }
    assert!(hits.is_empty(), "placeholders or skipped tests:\n{}", hits.join("\n"));
}

#[test]
fn web_modules_stay_web_only() {
    let lib = fs::read_to_string(root().join("src/lib.rs")).unwrap();
    if root().join("src/web").exists() {
        assert!(
            lib.contains("#[cfg(target_arch = \"wasm32\")]\nmod web;"),
            "src/lib.rs must compile `web` only for wasm32"
        );
    }
}
