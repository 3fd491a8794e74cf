//! The only code that touches storage: localStorage, else a first-party cookie, else memory.
//!
//! Keys are namespaced per site and carry the storage schema version
//! (`nudge_1_<site>_<key>`), so two shops on one domain or a future format never read each
//! other's data. Nothing here throws: private mode, blocked storage (a `SecurityError` on
//! merely reading `window.localStorage`) and quota errors all degrade to the next tier,
//! and a value that cannot be written anywhere durable lives in memory for the page's
//! lifetime. Other tabs' writes arrive through the `storage` event ([`Store::watch`]), which
//! is how frequency caps hold across tabs.

use gloo_events::EventListener;
use wasm_bindgen::JsCast;
use web_sys::{HtmlDocument, Storage, StorageEvent};

use crate::engine::json;

/// The storage schema version, part of every key. Bump it when the layout of keys changes.
const VERSION: &str = "1";
/// Cookies above this many bytes are not written (browsers cap a cookie near 4 KB).
const COOKIE_MAX: usize = 3_800;
/// A year: how long a cookie-tier value lives without being rewritten.
const COOKIE_AGE: &str = "; path=/; max-age=31536000; samesite=lax";

/// Where values go.
pub(crate) enum Tier {
    /// `window.localStorage` works.
    Local(Storage),
    /// localStorage is blocked or full; `document.cookie` works.
    Cookie(HtmlDocument),
    /// Nothing durable works (or consent forbids it): values last for this page only.
    Memory,
}

/// Storage for one site.
pub(crate) struct Store {
    prefix: String,
    tier: Tier,
    /// Values that could not be written durably, and everything on the memory tier.
    memory: Vec<(String, String)>,
}

/// `site` with anything but letters, digits, `-` and `_` replaced, so it is safe in a
/// cookie name.
fn sanitize(site: &str) -> String {
    site.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
}

fn local() -> Option<Storage> {
    let s = web_sys::window()?.local_storage().ok()??;
    // Safari's old private mode and some embedded browsers hand out a storage that throws
    // on the first write: probe once.
    let probe = "nudge.probe";
    s.set_item(probe, "1").ok()?;
    s.remove_item(probe).ok()?;
    Some(s)
}

fn cookie_doc() -> Option<HtmlDocument> {
    let doc: HtmlDocument = web_sys::window()?.document()?.dyn_into().ok()?;
    doc.set_cookie("nudge_probe=1; path=/; samesite=lax").ok()?;
    let ok = json::find(&doc.cookie().ok()?, "nudge_probe=1").is_some();
    let _ = doc.set_cookie("nudge_probe=; path=/; max-age=0");
    ok.then_some(doc)
}

impl Store {
    /// Opens the best tier that works on this page, for `site`.
    pub(crate) fn open(site: &str) -> Store {
        let tier = match local() {
            Some(s) => Tier::Local(s),
            None => cookie_doc().map_or(Tier::Memory, Tier::Cookie),
        };
        Store::with_tier(site, tier)
    }

    /// A store on the memory tier only.
    #[cfg(test)]
    pub(crate) fn memory(site: &str) -> Store {
        Store::with_tier(site, Tier::Memory)
    }

    fn with_tier(site: &str, tier: Tier) -> Store {
        let mut prefix = String::from("nudge_");
        prefix.push_str(VERSION);
        prefix.push('_');
        prefix.push_str(&sanitize(site));
        prefix.push('_');
        Store { prefix, tier, memory: Vec::new() }
    }

    /// Which tier values go to.
    #[cfg(test)]
    pub(crate) fn tier(&self) -> &Tier {
        &self.tier
    }

    fn full_key(&self, key: &str) -> String {
        let mut k = self.prefix.clone();
        k.push_str(key);
        k
    }

    /// The value under `key`, if any.
    pub(crate) fn get(&self, key: &str) -> Option<String> {
        if let Some((_, v)) = self.memory.iter().find(|(k, _)| k == key) {
            return Some(v.clone());
        }
        let full = self.full_key(key);
        match &self.tier {
            Tier::Local(s) => s.get_item(&full).ok()?,
            Tier::Cookie(doc) => read_cookie(&doc.cookie().ok()?, &full),
            Tier::Memory => None,
        }
    }

    /// Stores `value` under `key`: durably if possible, else in memory. Never fails.
    pub(crate) fn set(&mut self, key: &str, value: &str) {
        let full = self.full_key(key);
        let written = match &self.tier {
            Tier::Local(s) => s.set_item(&full, value).is_ok(),
            Tier::Cookie(doc) => {
                let enc = String::from(js_sys::encode_uri_component(value));
                enc.len() <= COOKIE_MAX && {
                    let mut c = full.clone();
                    c.push('=');
                    c.push_str(&enc);
                    c.push_str(COOKIE_AGE);
                    doc.set_cookie(&c).is_ok()
                }
            }
            Tier::Memory => false,
        };
        self.memory.retain(|(k, _)| k != key);
        if !written {
            // Quota or size: keep it for this page, and make sure a stale durable copy
            // cannot come back on the next load.
            self.remove_durable(&full);
            self.memory.push((key.to_string(), value.to_string()));
        }
    }

    fn remove_durable(&self, full: &str) {
        match &self.tier {
            Tier::Local(s) => {
                let _ = s.remove_item(full);
            }
            Tier::Cookie(doc) => {
                let mut c = full.to_string();
                c.push_str("=; path=/; max-age=0");
                let _ = doc.set_cookie(&c);
            }
            Tier::Memory => {}
        }
    }

    /// Removes `key` everywhere.
    pub(crate) fn remove(&mut self, key: &str) {
        self.memory.retain(|(k, _)| k != key);
        let full = self.full_key(key);
        self.remove_durable(&full);
    }

    /// Removes every value of this site (all keys under the prefix, in every tier that works
    /// here: a value may have been written to the cookie tier on an earlier page).
    pub(crate) fn clear(&mut self) {
        self.memory.clear();
        let mut names: Vec<String> = Vec::new();
        if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let n = s.length().unwrap_or(0);
            for i in 0..n {
                if let Ok(Some(k)) = s.key(i) {
                    if k.starts_with(&self.prefix) {
                        names.push(k);
                    }
                }
            }
            for k in &names {
                let _ = s.remove_item(k);
            }
        }
        let doc: Option<HtmlDocument> =
            web_sys::window().and_then(|w| w.document()).and_then(|d| d.dyn_into().ok());
        if let Some(doc) = doc {
            let cookies = doc.cookie().unwrap_or_default();
            for part in cookies.split(';') {
                let name = part.trim().split('=').next().unwrap_or_default();
                if name.starts_with(&self.prefix) {
                    let mut c = name.to_string();
                    c.push_str("=; path=/; max-age=0");
                    let _ = doc.set_cookie(&c);
                }
            }
        }
    }

    /// Calls `changed(key)` when another tab writes one of this site's keys (the `storage`
    /// event never fires in the tab that wrote). The listener goes away when dropped.
    pub(crate) fn watch(&self, mut changed: impl FnMut(&str) + 'static) -> Option<EventListener> {
        let prefix = self.prefix.clone();
        let win = web_sys::window()?;
        Some(EventListener::new(&win, "storage", move |e| {
            let key = e.dyn_ref::<StorageEvent>().and_then(StorageEvent::key);
            // A `null` key means another tab cleared all storage: everything changed.
            match key {
                None => changed(""),
                Some(k) => {
                    if let Some(short) = k.strip_prefix(&prefix) {
                        changed(short);
                    }
                }
            }
        }))
    }
}

/// The value of cookie `name` in a `document.cookie` string, URI-decoded.
fn read_cookie(all: &str, name: &str) -> Option<String> {
    all.split(';').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        if k != name {
            return None;
        }
        js_sys::decode_uri_component(v).ok().map(String::from)
    })
}
