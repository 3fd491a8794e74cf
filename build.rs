//! The browser build's wasm stack, sized per profile.
//!
//! rustc gives wasm a 1 MiB stack, most of the memory a page would pay for (`heap_kib` in
//! `cargo xtask bench`). The stack sits first in memory, so an overflow traps rather than
//! corrupting data; the deepest documents the engine accepts must fit:
//! - release (what `cargo xtask dist` ships): 64 KiB. The e2e test "the deepest documents
//!   the engine accepts run on the shipped build's small stack" loads, decides, explains and
//!   saves them; on this build 40 KiB passed it and 24 KiB trapped.
//! - debug (the wasm-bindgen browser tests): 256 KiB; its frames are far larger, and 128 KiB
//!   overflowed on the same documents (tests/web/shell.rs).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        let kib = if std::env::var("PROFILE").as_deref() == Ok("release") { 64 } else { 256 };
        println!("cargo:rustc-link-arg=-zstack-size={}", kib * 1024);
    }
}
