//! The renderer's few DOM tools: create an element under a parent, listen to an event
//! until dropped, run an interval until dropped, and write integers without `core::fmt`.
//!
//! Everything the renderer builds goes through [`el`], and text only ever reaches the
//! DOM through `textContent` (a text node), never through markup parsing.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Event, EventTarget, HtmlElement, Node, Window};

/// Creates `<tag class=..>` as the last child of `parent`.
pub(super) fn el(
    doc: &Document,
    parent: &Node,
    tag: &str,
    class: &str,
) -> Result<HtmlElement, JsValue> {
    let e = doc.create_element(tag)?;
    if !class.is_empty() {
        e.set_attribute("class", class)?;
    }
    if tag == "button" {
        // Never a form's submit button, whatever page it lands in.
        e.set_attribute("type", "button")?;
    }
    parent.append_child(&e)?;
    Ok(e.unchecked_into())
}

/// Like [`el`], with text content (a text node: markup in `text` stays characters).
pub(super) fn el_text(
    doc: &Document,
    parent: &Node,
    tag: &str,
    class: &str,
    text: &str,
) -> Result<HtmlElement, JsValue> {
    let e = el(doc, parent, tag, class)?;
    e.set_text_content(Some(text));
    Ok(e)
}

/// An event listener that is removed when dropped (after gloo-events, without the crate).
pub(super) struct Listener {
    target: EventTarget,
    kind: &'static str,
    f: Closure<dyn FnMut(Event)>,
}

impl Listener {
    pub(super) fn new(
        target: &EventTarget,
        kind: &'static str,
        f: Box<dyn FnMut(Event)>,
    ) -> Result<Listener, JsValue> {
        let f = Closure::wrap(f);
        target.add_event_listener_with_callback(kind, f.as_ref().unchecked_ref())?;
        Ok(Listener { target: target.clone(), kind, f })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        // Removal cannot fail for a listener we added; there is nothing to do if it did.
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.f.as_ref().unchecked_ref());
    }
}

/// A `setInterval` that is cleared when dropped.
pub(super) struct Interval {
    win: Window,
    id: i32,
    _f: Closure<dyn FnMut()>,
}

impl Interval {
    pub(super) fn new(win: &Window, ms: i32, f: Box<dyn FnMut()>) -> Result<Interval, JsValue> {
        let f = Closure::wrap(f);
        let id = win.set_interval_with_callback_and_timeout_and_arguments_0(
            f.as_ref().unchecked_ref(),
            ms,
        )?;
        Ok(Interval { win: win.clone(), id, _f: f })
    }
}

impl Drop for Interval {
    fn drop(&mut self) {
        self.win.clear_interval_with_handle(self.id);
    }
}

/// Appends `n` in decimal, zero-padded to `width` digits. `core::fmt` would pull its
/// whole formatting machinery into the wasm for this.
pub(super) fn push_num(out: &mut String, n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let (mut i, mut n) = (buf.len(), n);
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = i.min(buf.len().saturating_sub(width));
    out.extend(buf[start..].iter().map(|&b| char::from(b)));
}
