//! Reading the collector's own small JSON documents (batch envelope, site body, sites file)
//! with the same `path: message` findings the engine gives for campaigns and events.
//!
//! The engine's schema readers are internal to its campaign and event formats; these few
//! helpers cover the collector's documents without reaching into them. Wording matches the
//! engine's (`expected …, found …`, `unknown field "x", did you mean "y"?`,
//! `missing required field "x"`), and "did you mean" comes from the engine's own
//! [`suggest`].

use std::fmt;

use nudge::engine::json::Value;
use nudge::engine::schema::suggest;

/// One problem at a JSON path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// JSON path, `$` for the document itself.
    pub path: String,
    /// What is wrong, lowercase.
    pub message: String,
    /// Stable short code, as the engine's: `expected`, `unknown`, `missing`, `invalid`.
    pub code: &'static str,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The path of `key` inside the object at `parent`.
pub fn key_path(parent: &str, key: &str) -> String {
    if parent.is_empty() || parent == "$" {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// Findings collected while reading one document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Issues(pub Vec<Issue>);

impl Issues {
    /// Records a problem.
    pub fn push(&mut self, path: &str, code: &'static str, message: String) {
        self.0.push(Issue { path: path.to_string(), message, code });
    }

    /// Records "expected X, found Y" with a preview of the value found.
    pub fn expected(&mut self, path: &str, what: &str, found: &Value) {
        self.push(path, "expected", format!("expected {what}, found {}", found.preview()));
    }

    /// Opens `v` as an object with only `known` keys, reporting a non-object and each
    /// unknown key; `None` only for a non-object.
    pub fn object<'v>(&mut self, v: &'v Value, path: &str, known: &[&str]) -> Option<Fields<'v>> {
        let Value::Obj(fields) = v else {
            self.expected(path, "an object", v);
            return None;
        };
        for (k, _) in fields {
            if !known.contains(&k.as_str()) {
                let hint = suggest(k.as_str(), known)
                    .map(|s| format!(", did you mean \"{s}\"?"))
                    .unwrap_or_default();
                let k = k.as_str();
                self.push(&key_path(path, k), "unknown", format!("unknown field \"{k}\"{hint}"));
            }
        }
        Some(Fields { path: path.to_string(), obj: v })
    }

    /// Whether nothing was found wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every finding as `path: message`, joined by `; `.
    pub fn joined(&self) -> String {
        self.0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    }
}

/// The fields of an object being read.
#[derive(Clone, Debug)]
pub struct Fields<'v> {
    path: String,
    /// The object itself (looked up with [`Value::get`], whatever its key type).
    obj: &'v Value,
}

impl<'v> Fields<'v> {
    /// The value at `key` and its path.
    pub fn get(&self, key: &str) -> Option<(&'v Value, String)> {
        self.obj.get(key).map(|v| (v, key_path(&self.path, key)))
    }

    /// Like [`Fields::get`], reporting a missing key.
    pub fn req(&self, key: &str, issues: &mut Issues) -> Option<(&'v Value, String)> {
        let got = self.get(key);
        if got.is_none() {
            issues.push(&self.path, "missing", format!("missing required field \"{key}\""));
        }
        got
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nudge::engine::json::parse;

    #[test]
    fn wording_matches_the_engine() {
        let v = parse(r#"{"sent_a":1}"#).unwrap();
        let mut issues = Issues::default();
        let o = issues.object(&v, "$", &["sent_at"]).unwrap();
        assert!(o.req("sent_at", &mut issues).is_none());
        assert_eq!(
            issues.joined(),
            r#"sent_a: unknown field "sent_a", did you mean "sent_at"?; $: missing required field "sent_at""#
        );
    }
}
