//! The renderer's few DOM tools: create an element under a parent, and write integers
//! without `core::fmt`. (Listeners and the countdown's interval are gloo's, shared with
//! the rest of the shell, and are removed when dropped.)
//!
//! Everything the renderer builds goes through [`el`], and text only ever reaches the
//! DOM through `textContent` (a text node), never through markup parsing.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlElement, Node};

/// Sets an attribute. `setAttribute` throws only for an invalid name, and every name here
/// is a constant: ignoring the impossible error spares each call its error path.
pub(super) fn attr(e: &Element, name: &str, value: &str) {
    let _ = e.set_attribute(name, value);
}

/// Creates `<tag class=..>` as the last child of `parent`.
pub(super) fn el(
    doc: &Document,
    parent: &Node,
    tag: &str,
    class: &str,
) -> Result<HtmlElement, JsValue> {
    let e = doc.create_element(tag)?;
    if !class.is_empty() {
        attr(&e, "class", class);
    }
    if tag == "button" {
        // Never a form's submit button, whatever page it lands in.
        attr(&e, "type", "button");
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
