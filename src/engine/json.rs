//! A small JSON value type with its own parser and writer.
//!
//! The engine reads campaigns, profiles and outbox snapshots through this module instead of
//! serde derives: derived visitors cost kilobytes of wasm per struct, and a hand-walked
//! [`Value`] gives us JSON-path errors and "did you mean" suggestions for free (see
//! `schema`). Numbers are written by [`write_num`], which avoids `core`'s float formatting
//! (about 10 KB of wasm). Parsing is bounded: nesting deeper than [`MAX_DEPTH`] is an error,
//! never a stack overflow.

use std::sync::Arc;

/// String equality without a call: keys are short, and in the size-optimised build `==` is
/// a call to a byte-by-byte `memcmp` (measured: a tenth of campaign loading in wasm).
#[inline(always)]
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Where `needle` first occurs in `hay` (byte offset). A plain byte search: `str`'s own
/// substring searcher costs the browser build about 4 KB with its panic paths.
///
/// ```
/// assert_eq!(nudge::engine::json::find("a{{b}}", "{{"), Some(1));
/// assert_eq!(nudge::engine::json::find("ab", "c"), None);
/// ```
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let Some(&first) = n.first() else { return Some(0) };
    (0..h.len()).find(|&i| h.get(i) == Some(&first) && h.get(i..i + n.len()) == Some(n))
}

/// `hay` split around the first `sep`, like `str::split_once` (see [`find`]).
pub fn split_once<'a>(hay: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    let i = find(hay, sep)?;
    Some((hay.get(..i)?, hay.get(i + sep.len()..)?))
}

/// Deepest nesting the parser accepts; campaigns need far less, attackers send far more.
pub const MAX_DEPTH: usize = 64;

/// An object key: shared, immutable text. Documents repeat the same few dozen keys
/// thousands of times, so the parser interns them and a key costs a reference count
/// instead of an allocation. Compares, derefs and displays like a `str`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(Arc<str>);

impl Key {
    /// The key as a `&str`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Key {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Key {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Key {
        Key(Arc::from(s))
    }
}

impl From<String> for Key {
    fn from(s: String) -> Key {
        Key(Arc::from(s))
    }
}

impl From<&String> for Key {
    fn from(s: &String) -> Key {
        Key(Arc::from(s.as_str()))
    }
}

impl PartialEq<str> for Key {
    fn eq(&self, other: &str) -> bool {
        same(self, other)
    }
}

impl PartialEq<&str> for Key {
    fn eq(&self, other: &&str) -> bool {
        same(self, other)
    }
}

impl PartialEq<String> for Key {
    fn eq(&self, other: &String) -> bool {
        same(self, other)
    }
}

/// A parsed JSON value. Objects keep their keys in document order.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// Any JSON number, as an `f64`.
    Num(f64),
    /// A string, unescaped.
    Str(String),
    /// An array.
    Arr(Vec<Value>),
    /// An object, keys in document order (duplicates are rejected by the parser).
    Obj(Vec<(Key, Value)>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Num(n)
    }
}

impl Value {
    /// How many containers deep the value nests: 0 for a scalar, 1 for a flat object or
    /// array. Recursive, so only for values the parser produced (at most [`MAX_DEPTH`]).
    ///
    /// ```
    /// use nudge::engine::json::parse;
    /// assert_eq!(parse("7").unwrap().depth(), 0);
    /// assert_eq!(parse(r#"{"a":[{"b":1}],"c":[]}"#).unwrap().depth(), 3);
    /// ```
    pub fn depth(&self) -> usize {
        let deepest = match self {
            Value::Arr(items) => items.iter().map(Value::depth).max(),
            Value::Obj(fields) => fields.iter().map(|(_, v)| v.depth()).max(),
            _ => return 0,
        };
        1 + deepest.unwrap_or(0)
    }

    /// Looks a key up in an object; `None` for other kinds or a missing key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Obj(fields) => fields.iter().find(|(k, _)| same(k, key)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number inside, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            _ => None,
        }
    }

    /// The kind of value, for "expected …, found …" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Num(_) => "a number",
            Value::Str(_) => "a string",
            Value::Arr(_) => "an array",
            Value::Obj(_) => "an object",
        }
    }

    /// A short rendering of the value for error messages (strings quoted, long ones cut).
    pub fn preview(&self) -> String {
        match self {
            Value::Str(s) => {
                let mut out = String::from("\"");
                out.extend(s.chars().take(40));
                if s.chars().count() > 40 {
                    out.push('…');
                }
                out.push('"');
                out
            }
            Value::Arr(_) | Value::Obj(_) => self.kind().to_string(),
            other => to_string(other),
        }
    }
}

/// Where and why a document is not JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What went wrong, lowercase.
    pub message: &'static str,
}

impl ParseError {
    /// Appends the message (`invalid JSON at line 1, column 4: expected a value`), built by
    /// hand: `core::fmt` would cost the browser build kilobytes.
    pub fn write(&self, out: &mut String) {
        out.push_str("invalid JSON at line ");
        write_uint(out, self.line as u64);
        out.push_str(", column ");
        write_uint(out, self.column as u64);
        out.push_str(": ");
        out.push_str(self.message);
    }
}

/// `Display` for a type whose text is built by its own `write(&self, out: &mut String)`
/// (messages are built by hand: `core::fmt` would cost the browser build kilobytes).
macro_rules! display_by_write {
    ($($t:ty),+) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut s = String::new();
                self.write(&mut s);
                f.write_str(&s)
            }
        }
    )+};
}
pub(crate) use display_by_write;

display_by_write!(ParseError);

impl std::error::Error for ParseError {}

/// Parses one JSON document.
///
/// ```
/// use nudge::engine::json::{parse, Value};
/// assert_eq!(parse(r#"{"a":[1,true]}"#).unwrap().get("a"),
///            Some(&Value::Arr(vec![Value::Num(1.0), Value::Bool(true)])));
/// assert!(parse("[1,").is_err());
/// ```
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let mut p = Parser {
        text,
        src: text.as_bytes(),
        pos: 0,
        keys: std::array::from_fn(|_| None),
        fields: Vec::new(),
        items: Vec::new(),
    };
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos != p.src.len() {
        return Err(p.err("unexpected text after the document"));
    }
    Ok(v)
}

/// Slots in the parser's key table: campaign documents use about sixty distinct keys.
const KEY_SLOTS: usize = 256;
/// Slots tried before a key is left un-interned (a document with thousands of distinct keys
/// must not make each one scan the table).
const KEY_PROBES: usize = 8;

struct Parser<'a> {
    text: &'a str,
    src: &'a [u8],
    pos: usize,
    /// Interned keys, open addressing by FNV-1a hash with linear probing; a key that finds
    /// no slot within [`KEY_PROBES`] is simply not interned.
    keys: [Option<Key>; KEY_SLOTS],
    /// The fields of the objects being read, innermost last: each object is moved out into a
    /// vector of exactly its size when it closes, so no vector grows in place (measured: one
    /// reallocation per four fields was a tenth of load time).
    fields: Vec<(Key, Value)>,
    /// The same for array items.
    items: Vec<Value>,
}

impl Parser<'_> {
    fn err(&self, message: &'static str) -> ParseError {
        let upto = &self.src[..self.pos.min(self.src.len())];
        let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = upto.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        // Characters, not bytes: count the bytes that start one.
        let tail = upto.get(line_start..).unwrap_or_default();
        let column = tail.iter().filter(|&&b| b & 0xC0 != 0x80).count() + 1;
        ParseError { line, column, message }
    }

    // The parser's inner helpers are forced inline: the browser build is optimised for size,
    // which otherwise turns each byte test into a call (measured: ~10% of load time).
    #[inline(always)]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.src.get(self.pos) {
            self.pos += 1;
        }
    }

    #[inline(always)]
    fn eat_byte(&mut self, b: u8) -> bool {
        if matches!(self.src.get(self.pos), Some(&x) if x == b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat(&mut self, lit: &[u8]) -> bool {
        if self.src[self.pos..].starts_with(lit) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting is deeper than 64 levels"));
        }
        match self.src.get(self.pos) {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Value::Str),
            Some(b't') if self.eat(b"true") => Ok(Value::Bool(true)),
            Some(b'f') if self.eat(b"false") => Ok(Value::Bool(false)),
            Some(b'n') if self.eat(b"null") => Ok(Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("expected a value")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.pos += 1;
        let base = self.fields.len();
        self.skip_ws();
        if self.eat_byte(b'}') {
            return Ok(Value::Obj(Vec::new()));
        }
        let result = loop {
            self.skip_ws();
            if !matches!(self.src.get(self.pos), Some(b'"')) {
                break Err(self.err("expected a string key"));
            }
            let key = match self.key() {
                Ok(key) => key,
                Err(e) => break Err(e),
            };
            if self.fields[base..].iter().any(|(k, _)| same(k, &key)) {
                break Err(self.err("duplicate key in object"));
            }
            self.skip_ws();
            if !self.eat_byte(b':') {
                break Err(self.err("expected ':' after key"));
            }
            self.skip_ws();
            match self.value(depth + 1) {
                Ok(v) => self.fields.push((key, v)),
                Err(e) => break Err(e),
            }
            self.skip_ws();
            if self.eat_byte(b',') {
                continue;
            }
            if self.eat_byte(b'}') {
                break Ok(());
            }
            break Err(self.err("expected ',' or '}'"));
        };
        let fields = self.fields.split_off(base);
        result.map(|()| Value::Obj(fields))
    }

    fn array(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.pos += 1;
        let base = self.items.len();
        self.skip_ws();
        if self.eat_byte(b']') {
            return Ok(Value::Arr(Vec::new()));
        }
        let result = loop {
            self.skip_ws();
            match self.value(depth + 1) {
                Ok(v) => self.items.push(v),
                Err(e) => break Err(e),
            }
            self.skip_ws();
            if self.eat_byte(b',') {
                continue;
            }
            if self.eat_byte(b']') {
                break Ok(());
            }
            break Err(self.err("expected ',' or ']'"));
        };
        let items = self.items.split_off(base);
        result.map(|()| Value::Arr(items))
    }

    /// An object key, interned when it has no escapes.
    fn key(&mut self) -> Result<Key, ParseError> {
        let start = self.pos + 1;
        let plain = self.src[start..].iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
        let Some(n) = plain.filter(|n| self.src[start + n] == b'"') else {
            return self.string().map(Key::from);
        };
        self.pos = start + n + 1;
        let text = self.text.get(start..start + n).unwrap_or_default();
        let mut slot =
            text.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
                as usize;
        for _ in 0..KEY_PROBES {
            slot %= KEY_SLOTS;
            match &self.keys[slot] {
                Some(k) if same(k, text) => return Ok(k.clone()),
                Some(_) => slot += 1,
                None => {
                    let k = Key::from(text);
                    self.keys[slot] = Some(k.clone());
                    return Ok(k);
                }
            }
        }
        Ok(Key::from(text))
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits =
            self.src.get(self.pos..self.pos + 4).ok_or_else(|| self.err("bad \\u escape"))?;
        let mut n = 0u32;
        for &d in digits {
            let v = (d as char).to_digit(16).ok_or_else(|| self.err("bad \\u escape"))?;
            n = n * 16 + v;
        }
        self.pos += 4;
        Ok(n)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1;
        // Fast path: no escapes. Quotes are ASCII, so both ends are char boundaries.
        let start = self.pos;
        let plain = self.src[start..].iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
        if let Some(n) = plain {
            if self.src[start + n] == b'"' {
                self.pos = start + n + 1;
                return Ok(self.text.get(start..start + n).unwrap_or_default().to_string());
            }
        }
        let mut out = Vec::new();
        loop {
            let Some(&b) = self.src.get(self.pos) else {
                return Err(self.err("unterminated string"));
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.src.get(self.pos) else {
                        return Err(self.err("unterminated string"));
                    };
                    self.pos += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !self.eat(b"\\u") {
                                    return Err(self.err("lone surrogate in \\u escape"));
                                }
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("lone surrogate in \\u escape"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code)
                                .ok_or_else(|| self.err("lone surrogate in \\u escape"))?
                        }
                        _ => return Err(self.err("unknown escape in string")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return Err(self.err("control character in string")),
                _ => out.push(b),
            }
        }
        // The input is &str, so bytes between quotes are valid UTF-8 unless a split escape
        // produced nonsense, which the escape handling above rules out.
        String::from_utf8(out).map_err(|_| self.err("invalid UTF-8 in string"))
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.src.get(self.pos) {
            self.pos += 1;
        }
        let text = self.text.get(start..self.pos).unwrap_or_default();
        match number(text) {
            Some(Number::Ok(n)) => Ok(Value::Num(n)),
            Some(Number::Range) => Err(self.err("number out of range")),
            None => {
                self.pos = start;
                Err(self.err("malformed number"))
            }
        }
    }
}

/// A JSON number's value, or why there is none.
enum Number {
    Ok(f64),
    Range,
}

/// Exact powers of ten representable in an `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Reads a number in JSON's grammar. Hand-written because `core`'s float parser costs about
/// 13 KB of compressed wasm. Up to 19 significant digits and exponents within ±22 are
/// correctly rounded (the mantissa and the power of ten are both exact, so one rounding);
/// beyond that the result may differ from the nearest double in the last bit or so.
fn number(text: &str) -> Option<Number> {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let (mut mant, mut exp10) = (0u64, 0i64);
    // Digits past the 19th only move the decimal point.
    let digit = |d: u8, frac: bool, mant: &mut u64, exp10: &mut i64| {
        if *mant < 1_000_000_000_000_000_000 {
            *mant = *mant * 10 + u64::from(d - b'0');
            *exp10 -= i64::from(frac);
        } else {
            *exp10 += i64::from(!frac);
        }
    };
    let int_start = i;
    while let Some(&d @ b'0'..=b'9') = b.get(i) {
        digit(d, false, &mut mant, &mut exp10);
        i += 1;
    }
    if i == int_start || (i - int_start > 1 && b[int_start] == b'0') {
        return None;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while let Some(&d @ b'0'..=b'9') = b.get(i) {
            digit(d, true, &mut mant, &mut exp10);
            i += 1;
        }
        if i == frac_start {
            return None;
        }
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        let neg = b.get(i) == Some(&b'-');
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let (exp_start, mut e) = (i, 0i64);
        while let Some(&d @ b'0'..=b'9') = b.get(i) {
            e = (e * 10 + i64::from(d - b'0')).min(100_000);
            i += 1;
        }
        if i == exp_start {
            return None;
        }
        exp10 += if neg { -e } else { e };
    }
    if i != b.len() {
        return None;
    }
    let mut v = mant as f64;
    if mant != 0 {
        let mut e = exp10;
        while e > 22 {
            v *= 1e22;
            e -= 22;
        }
        while e < -22 {
            v /= 1e22;
            e += 22;
        }
        let p = POW10[e.unsigned_abs() as usize];
        v = if e >= 0 { v * p } else { v / p };
    }
    if !v.is_finite() {
        return Some(Number::Range);
    }
    Some(Number::Ok(if b.first() == Some(&b'-') { -v } else { v }))
}

/// A number written as text (`"29.90"`, `" 3 "`) in JSON's grammar, surrounding spaces
/// allowed; `None` for anything else.
///
/// ```
/// use nudge::engine::json::parse_number;
/// assert_eq!(parse_number(" 29.90 "), Some(29.9));
/// assert_eq!(parse_number("1e3"), Some(1000.0));
/// assert_eq!(parse_number("12abc"), None);
/// ```
pub fn parse_number(text: &str) -> Option<f64> {
    match number(text.trim())? {
        Number::Ok(n) => Some(n),
        Number::Range => None,
    }
}

/// Writes `v` as compact JSON.
pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    write(&mut out, v);
    out
}

/// Appends `v` as compact JSON to `out`.
pub fn write(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Num(n) => write_num(out, *n),
        Value::Str(s) => write_str(out, s),
        Value::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        Value::Obj(fields) => {
            out.push('{');
            for (i, (k, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                write(out, item);
            }
            out.push('}');
        }
    }
}

/// Appends a JSON string literal, escaping quotes, backslashes and control characters.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Lowercase hexadecimal digits.
pub(crate) const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `n` in decimal, without `core::fmt` (whose integer formatting the browser build
/// would otherwise carry).
///
/// ```
/// let mut s = String::from("#");
/// nudge::engine::json::write_uint(&mut s, 1_234);
/// assert_eq!(s, "#1234");
/// ```
pub fn write_uint(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in buf.get(i..).unwrap_or_default() {
        out.push(char::from(b));
    }
}

/// Appends `n` in decimal, zero-padded to at least `width` digits (`07`, `0042`).
///
/// ```
/// let mut s = String::new();
/// nudge::engine::json::write_uint_padded(&mut s, 42, 4);
/// assert_eq!(s, "0042");
/// ```
pub fn write_uint_padded(out: &mut String, n: u64, width: usize) {
    let mut digits = String::new();
    write_uint(&mut digits, n);
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(&digits);
}

/// Appends `n` as 16 lowercase hexadecimal digits.
pub fn write_hex16(out: &mut String, n: u64) {
    for shift in (0..16).rev() {
        out.push(char::from(HEX[((n >> (shift * 4)) & 15) as usize]));
    }
}

/// Appends a number without `core`'s float formatter.
///
/// Integers up to 2^53 print exactly; other values print with up to 6 decimals, trailing
/// zeros trimmed, which is exact for prices and percentages. Non-finite values become `null`.
///
/// ```
/// let mut s = String::new();
/// nudge::engine::json::write_num(&mut s, 29.9);
/// assert_eq!(s, "29.9");
/// ```
pub fn write_num(out: &mut String, n: f64) {
    if !n.is_finite() {
        out.push_str("null");
        return;
    }
    if n < 0.0 {
        out.push('-');
    }
    let a = n.abs();
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if a >= EXACT {
        // Beyond 2^53 only integers are representable anyway: print the integer exactly.
        write_big(out, a);
        return;
    }
    let scaled = (a * 1_000_000.0).round();
    if scaled >= EXACT {
        write_uint(out, a.round() as u64);
        return;
    }
    let scaled = scaled as u64;
    let (int, mut frac) = (scaled / 1_000_000, scaled % 1_000_000);
    write_uint(out, int);
    if frac > 0 {
        let mut width = 6;
        while frac % 10 == 0 {
            frac /= 10;
            width -= 1;
        }
        out.push('.');
        write_uint_padded(out, frac, width);
    }
}

/// Appends a finite integer-valued `a ≥ 2^53` exactly: its 53-bit mantissa in decimal,
/// doubled once per binary exponent step (little-endian decimal digits).
fn write_big(out: &mut String, a: f64) {
    let bits = a.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64 - 1075;
    let mut mant = (bits & ((1 << 52) - 1)) | (1 << 52);
    let mut digits: Vec<u8> = Vec::new();
    while mant > 0 {
        digits.push((mant % 10) as u8);
        mant /= 10;
    }
    for _ in 0..exp {
        let mut carry = 0;
        for d in digits.iter_mut() {
            let x = *d * 2 + carry;
            *d = x % 10;
            carry = x / 10;
        }
        if carry > 0 {
            digits.push(carry);
        }
    }
    for d in digits.iter().rev() {
        out.push(char::from(b'0' + d));
    }
}

/// A number as a string, through [`write_num`].
pub fn num_string(n: f64) -> String {
    let mut s = String::new();
    write_num(&mut s, n);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects() {
        let doc = r#"{"a":"x\"y\u00e9\ud83d\ude00","b":[1,-2.5,1e3,null,false],"c":{}}"#;
        let v = parse(doc).unwrap();
        assert_eq!(parse(&to_string(&v)).unwrap(), v);
        for bad in ["", "{", "[1,]", "01", "1.", "\"\\x\"", "{\"a\":1,\"a\":2}", "nul", "1 2"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = "[".repeat(10_000);
        assert_eq!(parse(&deep).unwrap_err().message, "nesting is deeper than 64 levels");
    }

    #[test]
    fn numbers_read_like_the_standard_parser() {
        let cases = [
            "0",
            "-0",
            "1",
            "29.9",
            "0.1",
            "0.3",
            "123456789.123456789",
            "1e3",
            "1E-7",
            "-2.5e+10",
            "9007199254740993",
            "1.7976931348623157e308",
            "5e-324",
            "12345678901234567890123",
            "0.000001234",
            "3.14159265358979323846",
        ];
        for c in cases {
            let want: f64 = c.parse().unwrap();
            let got = parse_number(c).unwrap();
            assert!((got - want).abs() <= want.abs() * 1e-15, "{c}: {got} vs {want}");
        }
        for c in ["9007199254740993", "29.9", "0.1", "1e22", "123.456"] {
            assert_eq!(parse_number(c), c.parse().ok(), "{c} must be exact");
        }
        for bad in ["", "-", "01", "1.", ".5", "+1", "1e", "1e+", "inf", "NaN", "1x"] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
        assert_eq!(parse_number("1e400"), None);
    }

    #[test]
    fn numbers_print_without_float_formatting() {
        for (n, s) in [
            (0.0, "0"),
            (3.0, "3"),
            (-0.25, "-0.25"),
            (1e15, "1000000000000000"),
            (0.1 + 0.2, "0.3"),
            (0.05, "0.05"),
            (1.000001, "1.000001"),
            (9_007_199_254_740_992.0, "9007199254740992"),
            (1e20, "100000000000000000000"),
            (-1e30, "-1000000000000000019884624838656"),
        ] {
            assert_eq!(num_string(n), s);
        }
    }
}
