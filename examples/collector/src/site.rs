//! Sites: keys, origin allow-lists, and the in-memory registry every request consults.
//!
//! The collector keeps no state of its own: the registry is a snapshot of the store's sites
//! that is reloaded once it is a few seconds old (`--cache-ms`), so several collectors
//! behind a load balancer agree within that time, while the hot path (each batch, each
//! campaigns fetch) touches storage at most once per cache time. Site keys and origins are
//! validated here, once, with the engine's JSON-path errors.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use nudge::engine::json::{self, Value};
use nudge::engine::Millis;

use crate::doc::{Issue, Issues};
use crate::store::{Site, Store};

/// Whether `key` is a well-formed site key: 1 to 64 letters, digits, `-`, `_` or `.`, not
/// starting with `.` (keys appear in URL paths).
///
/// ```
/// assert!(nudge_collector::site::valid_key("demo-shop.kr"));
/// assert!(!nudge_collector::site::valid_key("../etc"));
/// ```
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !key.starts_with('.')
}

/// Checks an allow-list entry and returns it in the form browsers send (`Origin` header):
/// `*`, or `http(s)://host[:port]` without a path, lowercased.
///
/// ```
/// use nudge_collector::site::origin;
/// assert_eq!(origin("HTTPS://Shop.Example:8443").unwrap(), "https://shop.example:8443");
/// assert!(origin("https://shop.example/").is_err());
/// ```
pub fn origin(s: &str) -> Result<String, String> {
    if s == "*" {
        return Ok(s.into());
    }
    let lower = s.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    let ok = rest.is_some_and(|host| {
        !host.is_empty()
            && host.chars().all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
            && !host.starts_with(':')
    });
    if ok {
        Ok(lower)
    } else {
        Err(format!(
            "{s:?} is not an origin: use \"*\" or scheme and host like \"https://shop.example\" (no path, no trailing slash)"
        ))
    }
}

/// Reads an `origins` array at `path`.
fn read_origins(v: &Value, path: &str, issues: &mut Issues) -> Option<Vec<String>> {
    let Value::Arr(items) = v else {
        issues.expected(path, "an array of origins", v);
        return None;
    };
    let before = issues.0.len();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        match item.as_str().map(origin) {
            Some(Ok(o)) => out.push(o),
            Some(Err(message)) => issues.push(&p, "invalid", message),
            None => issues.expected(&p, "an origin string", item),
        }
    }
    (issues.0.len() == before).then_some(out)
}

fn read_key(v: &Value, path: &str, issues: &mut Issues) -> Option<String> {
    match v.as_str() {
        Some(k) if valid_key(k) => Some(k.to_string()),
        _ => {
            issues.expected(path, "a site key (1 to 64 letters, digits, '-', '_' or '.')", v);
            None
        }
    }
}

fn parse(text: &str) -> Result<Value, Issues> {
    json::parse(text)
        .map_err(|e| Issues(vec![Issue { path: "$".into(), message: e.to_string(), code: "json" }]))
}

/// Reads the admin API's site body `{"origins": ["https://shop.example"]}`.
pub fn read_site_body(key: &str, text: &str) -> Result<Site, Issues> {
    let v = parse(text)?;
    let mut issues = Issues::default();
    let origins = issues
        .object(&v, "$", &["origins"])
        .and_then(|o| o.req("origins", &mut issues))
        .and_then(|(v, p)| read_origins(v, &p, &mut issues));
    match origins {
        Some(origins) if issues.is_empty() => Ok(Site { key: key.into(), origins }),
        _ => Err(issues),
    }
}

/// Reads a sites file: `{"sites": [{"key": "shop", "origins": ["https://shop.example"]}]}`.
pub fn read_sites_file(text: &str) -> Result<Vec<Site>, Issues> {
    let v = parse(text)?;
    let mut issues = Issues::default();
    let mut sites = Vec::new();
    let list = issues.object(&v, "$", &["sites"]).and_then(|o| o.req("sites", &mut issues));
    match list {
        Some((Value::Arr(items), path)) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                let Some(o) = issues.object(item, &p, &["key", "origins"]) else { continue };
                let key =
                    o.req("key", &mut issues).and_then(|(v, kp)| read_key(v, &kp, &mut issues));
                let origins = o
                    .req("origins", &mut issues)
                    .and_then(|(v, op)| read_origins(v, &op, &mut issues));
                if let (Some(key), Some(origins)) = (key, origins) {
                    sites.push(Site { key, origins });
                }
            }
        }
        Some((other, path)) => issues.expected(&path, "an array of sites", other),
        None => {}
    }
    if issues.is_empty() {
        Ok(sites)
    } else {
        Err(issues)
    }
}

/// Reads a `--site` argument: `KEY` (any origin) or `KEY=ORIGIN[,ORIGIN...]`.
///
/// ```
/// let s = nudge_collector::site::read_site_arg("shop=https://shop.example,http://localhost:8080").unwrap();
/// assert_eq!(s.origins, ["https://shop.example", "http://localhost:8080"]);
/// assert_eq!(nudge_collector::site::read_site_arg("demo").unwrap().origins, ["*"]);
/// ```
pub fn read_site_arg(arg: &str) -> Result<Site, String> {
    let (key, origins) = match arg.split_once('=') {
        Some((k, list)) => (k, list.split(',').map(origin).collect::<Result<Vec<_>, _>>()?),
        None => (arg, vec!["*".to_string()]),
    };
    if !valid_key(key) {
        return Err(format!(
            "{key:?} is not a site key: use 1 to 64 letters, digits, '-', '_' or '.'"
        ));
    }
    Ok(Site { key: key.into(), origins })
}

impl Site {
    /// Whether a page at `origin` (an `Origin` header value) may talk to this site.
    pub fn allows(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
    }
}

/// The sites as one immutable snapshot: what every request consults.
#[derive(Debug, Default)]
pub struct Sites(HashMap<String, Site>);

impl Sites {
    /// A snapshot holding these sites.
    pub fn new(sites: Vec<Site>) -> Sites {
        Sites(sites.into_iter().map(|s| (s.key.clone(), s)).collect())
    }

    /// A site by key.
    pub fn get(&self, key: &str) -> Option<&Site> {
        self.0.get(key)
    }

    /// Whether `origin` may call: for one site when `site` is given, else for any site
    /// (used before a batch body names its site, e.g. for a preflight).
    pub fn allows(&self, site: Option<&str>, origin: &str) -> bool {
        match site {
            Some(key) => self.0.get(key).is_some_and(|s| s.allows(origin)),
            None => self.0.values().any(|s| s.allows(origin)),
        }
    }
}

/// The site registry: a snapshot of the store's `sites`, reloaded once it is older than
/// the cache time, so that a site added or changed through one collector reaches every
/// other collector on the same store within that time. Changes made through this
/// collector are written through at once.
#[derive(Debug)]
pub struct Registry {
    ttl: Millis,
    /// The snapshot and when it was loaded (server clock).
    current: RwLock<(Millis, Arc<Sites>)>,
    /// One reload at a time: the others wait for it instead of querying too.
    reloading: tokio::sync::Mutex<()>,
}

impl Registry {
    /// A registry holding `sites`, loaded at `now`, reloaded after `ttl`.
    pub fn new(sites: Vec<Site>, now: Millis, ttl: Millis) -> Registry {
        Registry {
            ttl,
            current: RwLock::new((now, Arc::new(Sites::new(sites)))),
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    fn fresh(&self, now: Millis) -> Option<Arc<Sites>> {
        let (at, sites) = &*self.current.read().unwrap_or_else(PoisonError::into_inner);
        (now.since(*at) < self.ttl && now >= *at).then(|| Arc::clone(sites))
    }

    /// The sites as of at most the cache time ago. If the store cannot be read, the last
    /// snapshot is kept (and tried again after the cache time): a storage hiccup must not
    /// turn every shop's traffic into 403s.
    pub async fn snapshot(&self, store: &dyn Store, now: Millis) -> Arc<Sites> {
        if let Some(s) = self.fresh(now) {
            return s;
        }
        let _one = self.reloading.lock().await;
        if let Some(s) = self.fresh(now) {
            return s;
        }
        let loaded = store.sites().await;
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        match loaded {
            Ok(list) => *current = (now, Arc::new(Sites::new(list))),
            Err(e) => {
                tracing::warn!("could not reload sites, keeping the last list: {e}");
                current.0 = now;
            }
        }
        Arc::clone(&current.1)
    }

    /// Adds or replaces a site (after the store has it), so this collector sees it at once.
    pub fn put(&self, site: Site) {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        let mut map = current.1 .0.clone();
        map.insert(site.key.clone(), site);
        current.1 = Arc::new(Sites(map));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_file_errors_carry_paths() {
        let err =
            read_sites_file(r#"{"sites":[{"key":"a","origin":["*"]}]}"#).unwrap_err().joined();
        assert!(
            err.contains(r#"sites[0].origin: unknown field "origin", did you mean "origins"?"#),
            "{err}"
        );
        let ok =
            read_sites_file(r#"{"sites":[{"key":"a","origins":["https://A.example"]}]}"#).unwrap();
        assert_eq!(ok, [Site { key: "a".into(), origins: vec!["https://a.example".into()] }]);
    }

    #[test]
    fn sites_answer_per_site_and_any_site() {
        let r = Sites::new(vec![
            Site { key: "a".into(), origins: vec!["https://a.example".into()] },
            Site { key: "b".into(), origins: vec!["https://b.example".into()] },
        ]);
        assert!(r.allows(Some("a"), "https://a.example"));
        assert!(!r.allows(Some("a"), "https://b.example"));
        assert!(r.allows(None, "https://b.example"));
        assert!(!r.allows(None, "https://evil.example"));
        assert!(!r.allows(Some("zzz"), "https://a.example"));
    }
}
