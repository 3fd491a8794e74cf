//! Reading JSON documents into engine types with JSON-path errors.
//!
//! Every reader takes the value, its path (`campaigns[2].trigger.all[0].within`) and an
//! [`Errors`] sink. Readers never stop at the first problem: they record it, return `None`
//! for that part, and the caller decides what the whole item is worth. Unknown fields are
//! errors with a "did you mean" suggestion, because a misspelt cap silently ignored is a
//! campaign that spams shoppers.

use super::json::{display_by_write, num_string, same, write_uint, Key, ParseError, Value};
use super::Millis;

/// How bad a finding is: errors reject the item, warnings keep it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The campaign (or event) is rejected.
    Error,
    /// The campaign is kept; the author should still look (e.g. low text contrast).
    Warning,
}

/// One finding, at a JSON path.
///
/// ```
/// let loaded = nudge::engine::campaign::load(r#"{"schema":1,"campaigns":[{"id":"a","priorty":1}]}"#);
/// let e = &loaded.errors[0];
/// assert_eq!(e.path, "campaigns[0].priorty");
/// assert_eq!(e.to_string(), r#"campaigns[0].priorty: unknown field "priorty", did you mean "priority"?"#);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignError {
    /// JSON path of the offending value, `$` for the whole document.
    pub path: String,
    /// What is wrong.
    pub kind: ErrorKind,
    /// Error or warning.
    pub severity: Severity,
}

impl CampaignError {
    /// Appends `path: message`. Messages are built by hand, not through `core::fmt`, which
    /// would cost the browser build kilobytes; `Display` writes the same text.
    pub fn write(&self, out: &mut String) {
        out.push_str(&self.path);
        out.push_str(": ");
        self.kind.write(out);
    }
}

display_by_write!(CampaignError, ErrorKind);

impl std::error::Error for CampaignError {}

/// What is wrong at a path.
#[derive(Clone, Debug, PartialEq)]
pub enum ErrorKind {
    /// The document is not JSON at all.
    Json(ParseError),
    /// A value of the wrong kind or out of range: `expected {expected}, found {found}`.
    Expected {
        /// What would have been accepted.
        expected: String,
        /// What was there.
        found: String,
    },
    /// A field the schema does not know: `unknown field "{field}", did you mean "{s}"?`.
    Unknown {
        /// The field as written.
        field: String,
        /// The closest known field, if one is close.
        suggestion: Option<String>,
    },
    /// A required field is absent: `missing required field "{0}"`.
    Missing(String),
    /// A rule about the whole value, in words.
    Invalid(String),
}

impl ErrorKind {
    /// Appends the message.
    pub fn write(&self, out: &mut String) {
        match self {
            ErrorKind::Json(e) => e.write(out),
            ErrorKind::Expected { expected, found } => {
                cat(out, &["expected ", expected, ", found ", found]);
            }
            ErrorKind::Unknown { field, suggestion } => {
                cat(out, &["unknown field \"", field, "\""]);
                if let Some(s) = suggestion {
                    cat(out, &[", did you mean \"", s, "\"?"]);
                }
            }
            ErrorKind::Missing(f) => cat(out, &["missing required field \"", f, "\""]),
            ErrorKind::Invalid(m) => out.push_str(m),
        }
    }

    /// A stable short code for the kind, used by spec tests and the admin API.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::Json(_) => "json",
            ErrorKind::Expected { .. } => "expected",
            ErrorKind::Unknown { .. } => "unknown",
            ErrorKind::Missing(_) => "missing",
            ErrorKind::Invalid(_) => "invalid",
        }
    }
}

/// Appends every part to `out` (messages are assembled this way rather than with `format!`).
pub fn cat(out: &mut String, parts: &[&str]) {
    for p in parts {
        out.push_str(p);
    }
}

/// The parts joined into a new string.
pub fn text(parts: &[&str]) -> String {
    let mut out = String::new();
    cat(&mut out, parts);
    out
}

/// The sink readers report into.
#[derive(Debug, Default)]
pub struct Errors {
    /// Findings in the order they were met.
    pub list: Vec<CampaignError>,
}

impl Errors {
    /// Records an error.
    pub fn push(&mut self, path: &(impl AsPath + ?Sized), kind: ErrorKind) {
        self.list.push(CampaignError {
            path: path.as_path().render(),
            kind,
            severity: Severity::Error,
        });
    }

    /// Records a warning.
    pub fn warn(&mut self, path: &(impl AsPath + ?Sized), kind: ErrorKind) {
        self.list.push(CampaignError {
            path: path.as_path().render(),
            kind,
            severity: Severity::Warning,
        });
    }

    /// Records an "expected X, found `value`" error.
    pub fn expected(&mut self, path: &(impl AsPath + ?Sized), expected: &str, found: &Value) {
        self.push(path, ErrorKind::Expected { expected: expected.into(), found: found.preview() });
    }

    /// Number of errors (not warnings) so far: callers compare before and after reading.
    pub fn error_count(&self) -> usize {
        self.list.iter().filter(|e| e.severity == Severity::Error).count()
    }
}

/// Anything that names a JSON path: a [`Path`] or already-rendered text (`"events[3]"`).
pub trait AsPath {
    /// The path.
    fn as_path(&self) -> Path<'_>;
}

impl AsPath for str {
    fn as_path(&self) -> Path<'_> {
        Path::Text(self)
    }
}

impl AsPath for String {
    fn as_path(&self) -> Path<'_> {
        Path::Text(self)
    }
}

impl AsPath for Path<'_> {
    fn as_path(&self) -> Path<'_> {
        *self
    }
}

/// A JSON path, built on the stack as readers descend and rendered to text only when a
/// finding needs it (loading stays allocation-light on the happy path).
///
/// ```
/// use nudge::engine::schema::Path;
/// let root = Path::Root;
/// let campaigns = root.key("campaigns");
/// let c2 = campaigns.at(2);
/// assert_eq!(c2.key("trigger").render(), "campaigns[2].trigger");
/// assert_eq!(Path::Root.render(), "$");
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Path<'a> {
    /// The document itself (`$`).
    Root,
    /// An already-rendered prefix, e.g. `events[3]` from a caller.
    Text(&'a str),
    /// A field of an object.
    Key(&'a Path<'a>, &'a str),
    /// An element of an array.
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    /// The path of field `k` below this one.
    pub fn key<'b>(&'b self, k: &'b str) -> Path<'b> {
        Path::Key(self, k)
    }

    /// The path of element `i` below this one.
    pub fn at(&self, i: usize) -> Path<'_> {
        Path::Index(self, i)
    }

    fn is_root(&self) -> bool {
        matches!(self, Path::Root) || matches!(self, Path::Text(t) if t.is_empty() || *t == "$")
    }

    /// An upper bound of the rendered length.
    fn len_hint(&self) -> usize {
        match self {
            Path::Root => 1,
            Path::Text(t) => t.len(),
            Path::Key(parent, k) => parent.len_hint() + 1 + k.len(),
            Path::Index(parent, _) => parent.len_hint() + 22,
        }
    }

    fn write(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Text(t) => {
                if !self.is_root() {
                    out.push_str(t)
                }
            }
            Path::Key(parent, k) => {
                parent.write(out);
                if !parent.is_root() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Path::Index(parent, i) => {
                parent.write(out);
                out.push('[');
                write_uint(out, *i as u64);
                out.push(']');
            }
        }
    }

    /// The path as text, `$` for the document itself.
    pub fn render(&self) -> String {
        // Sized up front: rule paths are rendered at load for every rule node.
        let mut out = String::with_capacity(self.len_hint());
        self.write(&mut out);
        if out.is_empty() {
            out.push('$');
        }
        out
    }
}

/// An object being read: checks field names against `known` once, then hands out fields.
pub struct Obj<'a> {
    /// Path of the object itself.
    pub path: Path<'a>,
    fields: &'a [(Key, Value)],
}

impl<'a> Obj<'a> {
    /// Opens `v` as an object whose allowed keys are `known`; reports a non-object and
    /// every unknown key (with a suggestion). `None` only when `v` is not an object.
    pub fn open(
        v: &'a Value,
        path: &'a (impl AsPath + ?Sized),
        known: &[&str],
        errs: &mut Errors,
    ) -> Option<Obj<'a>> {
        let path = path.as_path();
        let Value::Obj(fields) = v else {
            errs.expected(&path, "an object", v);
            return None;
        };
        for (k, _) in fields {
            if !known.iter().any(|kn| same(kn, k)) {
                errs.push(
                    &Path::Key(&path, k),
                    ErrorKind::Unknown { field: k.as_str().into(), suggestion: suggest(k, known) },
                );
            }
        }
        Some(Obj { path, fields })
    }

    /// The value at `key`, with its path.
    pub fn get<'s>(&'s self, key: &'s str) -> Option<(&'a Value, Path<'s>)> {
        self.fields.iter().find(|(k, _)| same(k, key)).map(|(_, v)| (v, Path::Key(&self.path, key)))
    }

    /// Like [`Obj::get`] but records a missing-field error.
    pub fn req<'s>(&'s self, key: &'s str, errs: &mut Errors) -> Option<(&'a Value, Path<'s>)> {
        let got = self.get(key);
        if got.is_none() {
            errs.push(&self.path, ErrorKind::Missing(key.to_string()));
        }
        got
    }

    /// The single key of a one-key object (the shape of every rule), if it has exactly one.
    pub fn only(&self) -> Option<(&'a str, &'a Value)> {
        match self.fields {
            [(k, v)] => Some((k.as_str(), v)),
            _ => None,
        }
    }

    /// The raw fields.
    pub fn fields(&self) -> &'a [(Key, Value)] {
        self.fields
    }

    /// An optional string field.
    pub fn str(&self, key: &str, errs: &mut Errors) -> Option<String> {
        let (v, p) = self.get(key)?;
        read_str(v, &p, errs)
    }

    /// An optional non-negative number field.
    pub fn num(&self, key: &str, errs: &mut Errors) -> Option<f64> {
        let (v, p) = self.get(key)?;
        read_num(v, &p, 0.0, f64::MAX, errs)
    }

    /// An optional whole-number field within `[0, max]`.
    pub fn count(&self, key: &str, max: u32, errs: &mut Errors) -> Option<u32> {
        let (v, p) = self.get(key)?;
        read_count(v, &p, max, errs)
    }

    /// An optional duration field.
    pub fn duration(&self, key: &str, errs: &mut Errors) -> Option<Millis> {
        let (v, p) = self.get(key)?;
        read_duration(v, &p, errs)
    }

    /// An optional boolean field.
    pub fn bool(&self, key: &str, errs: &mut Errors) -> Option<bool> {
        let (v, p) = self.get(key)?;
        match v {
            Value::Bool(b) => Some(*b),
            other => {
                errs.expected(&p, "true or false", other);
                None
            }
        }
    }
}

/// A non-empty string of at most 2,000 characters.
pub fn read_str(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<String> {
    match v {
        // Characters are counted only when the bytes could exceed the limit.
        Value::Str(s) if !s.is_empty() && (s.len() <= 2_000 || s.chars().count() <= 2_000) => {
            Some(s.clone())
        }
        Value::Str(s) if s.is_empty() => {
            errs.push(path, ErrorKind::Invalid("must not be empty".into()));
            None
        }
        Value::Str(_) => {
            errs.push(path, ErrorKind::Invalid("is longer than 2000 characters".into()));
            None
        }
        other => {
            errs.expected(path, "a string", other);
            None
        }
    }
}

/// One of a fixed set of strings.
pub fn read_enum<'k>(
    v: &Value,
    path: &Path<'_>,
    allowed: &[&'k str],
    errs: &mut Errors,
) -> Option<&'k str> {
    if let Some(hit) = v.as_str().and_then(|s| allowed.iter().find(|a| same(a, s))) {
        return Some(hit);
    }
    let mut expected = String::from("one of ");
    for (i, a) in allowed.iter().enumerate() {
        cat(&mut expected, &[if i > 0 { ", \"" } else { "\"" }, a, "\""]);
    }
    errs.expected(path, &expected, v);
    None
}

/// A finite number within `[min, max]`.
pub fn read_num(v: &Value, path: &Path<'_>, min: f64, max: f64, errs: &mut Errors) -> Option<f64> {
    match v {
        Value::Num(n) if *n >= min && *n <= max => Some(*n),
        Value::Num(_) => {
            let expected = if max == f64::MAX {
                text(&["a number ≥ ", &num_string(min)])
            } else {
                text(&["a number from ", &num_string(min), " to ", &num_string(max)])
            };
            errs.expected(path, &expected, v);
            None
        }
        other => {
            errs.expected(path, "a number", other);
            None
        }
    }
}

/// A whole number within `[0, max]`.
pub fn read_count(v: &Value, path: &Path<'_>, max: u32, errs: &mut Errors) -> Option<u32> {
    match v {
        Value::Num(n) if n.fract() == 0.0 && *n >= 0.0 && *n <= f64::from(max) => Some(*n as u32),
        other => {
            let mut expected = String::from("a whole number from 0 to ");
            write_uint(&mut expected, u64::from(max));
            errs.expected(path, &expected, other);
            None
        }
    }
}

/// A duration: milliseconds as a number, or a string like `"90s"`, `"30m"`, `"2h"`, `"7d"`.
///
/// ```
/// use nudge::engine::{schema::{parse_duration}, Millis};
/// assert_eq!(parse_duration("90s"), Some(Millis(90_000)));
/// assert_eq!(parse_duration("-5m"), None);
/// ```
pub fn read_duration(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<Millis> {
    let got = match v {
        Value::Num(n) if n.fract() == 0.0 && *n >= 0.0 && *n <= 1e15 => Some(Millis(*n as u64)),
        Value::Str(s) => parse_duration(s),
        _ => None,
    };
    if got.is_none() {
        errs.expected(
            path,
            "a duration like \"30s\", \"15m\", \"2h\", \"7d\" or milliseconds ≥ 0",
            v,
        );
    }
    got
}

/// Parses `"<digits><unit>"` with unit `ms`, `s`, `m`, `h` or `d`.
pub fn parse_duration(s: &str) -> Option<Millis> {
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = s.split_at_checked(split)?;
    let n: u64 = digits.parse().ok()?;
    let scale = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(scale).filter(|ms| *ms <= 1_000_000_000_000_000).map(Millis)
}

/// A list of strings (each non-empty).
pub fn read_str_list(v: &Value, path: &Path<'_>, errs: &mut Errors) -> Option<Vec<String>> {
    let Value::Arr(items) = v else {
        errs.expected(path, "an array of strings", v);
        return None;
    };
    let before = errs.error_count();
    let out: Vec<String> =
        items.iter().enumerate().filter_map(|(i, s)| read_str(s, &path.at(i), errs)).collect();
    (errs.error_count() == before).then_some(out)
}

/// The closest of `known` to `word`, if it is close enough to be a likely typo.
///
/// ```
/// assert_eq!(nudge::engine::schema::suggest("wihtin", &["within", "event"]), Some("within".into()));
/// assert_eq!(nudge::engine::schema::suggest("colour", &["id"]), None);
/// ```
pub fn suggest(word: &str, known: &[&str]) -> Option<String> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    known
        .iter()
        .map(|k| (edit_distance(&word.to_ascii_lowercase(), k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| String::from(k))
}

/// Damerau-Levenshtein distance (with adjacent transpositions), so "wihtin" is one edit away.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * w + j] = if i == 0 {
                j
            } else if j == 0 {
                i
            } else {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut best = (d[(i - 1) * w + j] + 1)
                    .min(d[i * w + j - 1] + 1)
                    .min(d[(i - 1) * w + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(d[(i - 2) * w + j - 2] + 1);
                }
                best
            };
        }
    }
    d[a.len() * w + b.len()]
}
