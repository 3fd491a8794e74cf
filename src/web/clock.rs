//! The shell's only clock and only source of randomness: `Date.now()` and `Math.random()`.
//!
//! The engine takes time and jitter as arguments; this is where they come from. Ids are
//! random base-36 strings built by hand, because `format!` on numbers would pull
//! `core::fmt`'s integer and float machinery into the wasm.

use crate::engine::Millis;

/// Milliseconds since the Unix epoch, from `Date.now()`.
pub(crate) fn now() -> Millis {
    Millis(js_sys::Date::now().max(0.0) as u64)
}

/// A uniform draw from [0, 1), from `Math.random()` (back-off jitter, ids).
pub(crate) fn random() -> f64 {
    js_sys::Math::random()
}

/// Appends `n` in base 36 (at least one digit).
pub(crate) fn push_base36(out: &mut String, mut n: u64) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut buf = [0u8; 13];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = DIGITS[(n % 36) as usize];
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.extend(buf[i..].iter().map(|&b| char::from(b)));
}

/// A fresh random id: the time in base 36, a dash, and about 80 random bits.
///
/// The time prefix keeps ids roughly sortable for people reading the collector's tables;
/// the random part makes collisions between visitors negligible.
pub(crate) fn id() -> String {
    let mut out = String::with_capacity(24);
    push_base36(&mut out, now().0);
    out.push('-');
    for _ in 0..2 {
        // 40 random bits per draw: well inside the 52 bits `Math.random` provides.
        push_base36(&mut out, (random() * 1_099_511_627_776.0) as u64);
    }
    out
}
