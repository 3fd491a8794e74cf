//! The renderer: puts one campaign on screen inside a closed shadow root and takes it
//! away again. It owns the DOM it creates, its listeners and its timer; nothing else in
//! `web` touches that DOM.
//!
//! Why it looks the way it does:
//! - The host is a custom element (`<nudge-root>`) whose shadow sheet says
//!   `:host { all: initial !important; display: block !important }`: for `!important`
//!   declarations the shadow tree's `:host` rule beats the page's, so even
//!   `* { all: unset !important } div { display: none !important }` cannot hide it.
//! - Styles arrive only as constructable stylesheets (`adoptedStyleSheets`), which a
//!   `style-src 'self'` policy allows; there is no `<style>` and no `style` attribute.
//! - Text reaches the DOM only as text nodes, after `fill_tokens`; never as markup.
//! - The host hangs off `<html>`, not `<body>`, so a transformed or replaced body does
//!   not move or remove it. A push bar's host sits in the flow (before `<body>` at the
//!   top, after it at the bottom) with the bar's measured height, set in the same task
//!   that inserts the bar, so the page is pushed in the bar's first frame and never again.
//! - A bottom modal is `position: fixed` and animates only `transform`/`opacity`, so it
//!   causes no layout shift; nothing locks scrolling (that would shift the page too).
//! - Bytes matter (the whole browser build has a 30 KB brotli budget): one click and one
//!   key listener delegate by a `data-a` attribute, the CSS is one static string, and
//!   numbers are written by hand rather than through `core::fmt`.

mod dom;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Date};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    CssStyleSheet, Document, Element, Event, HtmlDocument, HtmlElement, HtmlTextAreaElement,
    KeyboardEvent, ShadowRoot, ShadowRootInit, ShadowRootMode,
};

use crate::engine::campaign::Placement;
use crate::engine::content::{fill_tokens, is_rtl, Content, CtaAction, Text, Theme};
use crate::engine::json::{write_uint, write_uint_padded};
use crate::engine::Millis;
use dom::{attr, el, el_text};
use gloo_events::{EventListener, EventListenerOptions};
use gloo_timers::callback::Interval;

/// The static stylesheet; theme colours, radius, font, z-index and the push height come
/// in a second, per-campaign sheet of custom properties.
const CSS: &str = include_str!("style.css");

/// What the shopper did with a campaign.
pub(crate) enum Action {
    /// Followed the call to action (a link, or a "close" CTA, which also closes it).
    Clicked,
    /// Closed it: the close button, Escape, or a click on the dimmed overlay. The
    /// renderer has already taken it off screen and restored focus.
    Dismissed,
    /// Copied the coupon code (its copy button or a "copy" CTA).
    Copied,
}

/// Everything needed to draw one campaign variant.
pub(crate) struct View<'a> {
    /// Campaign id (kept on the host as `data-campaign`, for people reading the DOM).
    pub campaign: &'a str,
    /// Variant id (`data-variant`).
    pub variant: &'a str,
    /// Bar or modal, and how.
    pub placement: Placement,
    /// What to show.
    pub content: &'a Content,
    /// The shopper's language (`ko-KR`); picks the text and the built-in labels.
    pub lang: &'a str,
    /// Fills `{{tokens}}` (from the triggering event's properties).
    pub tokens: &'a dyn Fn(&str) -> Option<String>,
    /// When the countdown ends (the shell resolves "N minutes after first impression").
    pub countdown_ends: Option<Millis>,
    /// Stacking order of the host, above the store's own headers.
    pub z_index: i32,
}

/// A campaign on screen. Dropping it removes its DOM, listeners and timer, and gives
/// focus back to where it was if focus was inside.
pub(crate) struct Rendered {
    shared: Rc<Shared>,
    _listeners: Vec<EventListener>,
    _timer: Option<Interval>,
}

impl Drop for Rendered {
    fn drop(&mut self) {
        self.shared.close();
    }
}

/// What the event handlers share.
struct Shared {
    host: Element,
    root: ShadowRoot,
    panel: HtmlElement,
    /// Where focus was before a modal took it.
    restore: RefCell<Option<HtmlElement>>,
    /// Tab order inside the panel, for the focus trap.
    focusable: Vec<HtmlElement>,
    /// Live region announcing "copied".
    status: HtmlElement,
    /// The coupon's own copy button, relabelled "copied" after a copy.
    copy_button: Option<HtmlElement>,
    labels: &'static Labels,
    modal: bool,
    trap: bool,
    closed: Cell<bool>,
    on_action: RefCell<Box<dyn FnMut(Action)>>,
}

impl Shared {
    fn emit(&self, a: Action) {
        // The callback may drop the `Rendered` (and so call `close`); it never re-enters
        // `emit`, and if it somehow did, the second action is dropped rather than panicking.
        if let Ok(mut f) = self.on_action.try_borrow_mut() {
            f(a);
        }
    }

    /// Takes the campaign off screen (once) and restores focus if it was inside.
    fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        let had_focus = self.root.active_element().is_some();
        self.host.remove();
        if let Some(e) = self.restore.borrow_mut().take() {
            if had_focus {
                // A failing focus() leaves focus on <body>, which is acceptable.
                let _ = e.focus();
            }
        }
    }

    fn dismiss(&self) {
        if !self.closed.get() {
            self.close();
            self.emit(Action::Dismissed);
        }
    }

    fn copy(&self, code: &str) {
        self.emit(Action::Copied);
        let done = {
            let (panel, status, button) =
                (self.panel.clone(), self.status.clone(), self.copy_button.clone());
            let copied = self.labels.copied;
            move || {
                let mut class = panel.get_attribute("class").unwrap_or_default();
                class.push_str(" done");
                let _ = panel.set_attribute("class", &class);
                if let Some(b) = button {
                    b.set_text_content(Some(copied));
                }
                status.set_text_content(Some(copied));
            }
        };
        let clipboard: JsValue =
            web_sys::window().map(|w| w.navigator().clipboard().into()).unwrap_or_default();
        if clipboard.is_undefined() {
            if fallback(&self.root, code) {
                done();
            }
            return;
        }
        let promise = clipboard.unchecked_into::<Clip>().write_text(code);
        let (root, code) = (self.root.clone(), code.to_string());
        // One function for both outcomes (only one is ever called): resolved with
        // `undefined`, rejected with an error. It is leaked on purpose: it must outlive a
        // `Rendered` dropped before the promise settles, and it holds only a few handles.
        let settle = Closure::<dyn FnMut(JsValue)>::once(move |v: JsValue| {
            if v.is_undefined() || fallback(&root, &code) {
                done();
            }
        });
        promise.then(settle.as_ref(), settle.as_ref());
        settle.forget();
    }

    fn on_click(&self, ev: &Event) {
        // Clicks inside the root always target an element of ours.
        let Some(target) = ev.target().map(JsCast::unchecked_into::<Element>) else {
            return;
        };
        let Ok(Some(hit)) = target.closest("[data-a]") else {
            return;
        };
        let hit: HtmlElement = hit.unchecked_into();
        match hit.get_attribute("data-a").as_deref() {
            Some("x") => self.dismiss(),
            Some("go") => self.emit(Action::Clicked),
            Some("ok") => {
                self.close();
                self.emit(Action::Clicked);
            }
            Some("cp") => {
                if let Some(code) = hit.get_attribute("data-code") {
                    self.copy(&code);
                }
            }
            _ => {}
        }
    }

    fn on_key(&self, ev: &KeyboardEvent) {
        if self.closed.get() {
            return;
        }
        let active = self.root.active_element();
        match ev.key().as_str() {
            "Escape" if self.modal || active.is_some() => {
                ev.prevent_default();
                self.dismiss();
            }
            "Tab" if self.trap => {
                let (Some(first), Some(last)) = (self.focusable.first(), self.focusable.last())
                else {
                    return;
                };
                let is = |e: &HtmlElement| {
                    active
                        .as_ref()
                        .is_some_and(|a| AsRef::<JsValue>::as_ref(a) == AsRef::<JsValue>::as_ref(e))
                };
                let to = if ev.shift_key() {
                    (active.is_none() || is(first) || is(&self.panel)).then_some(last)
                } else {
                    (active.is_none() || is(last)).then_some(first)
                };
                if let Some(to) = to {
                    ev.prevent_default();
                    let _ = to.focus();
                }
            }
            _ => {}
        }
    }
}

#[wasm_bindgen]
extern "C" {
    /// Just enough of the async Clipboard API. Typed by hand: js-sys's generic `Promise`
    /// pulls in its futures machinery, which costs more than this whole feature.
    type Clip;
    #[wasm_bindgen(method, js_name = writeText)]
    fn write_text(this: &Clip, text: &str) -> Thenable;
    type Thenable;
    #[wasm_bindgen(method)]
    fn then(this: &Thenable, ok: &JsValue, err: &JsValue);
}

/// Copies through a temporary selected `<textarea>` and `execCommand`, for browsers or
/// contexts without the async Clipboard API (or where it was refused).
fn fallback(root: &ShadowRoot, code: &str) -> bool {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    let Ok(t) = el(&doc, root, "textarea", "sr") else {
        return false;
    };
    let t: HtmlTextAreaElement = t.unchecked_into();
    t.set_value(code);
    t.select();
    let ok = doc.unchecked_ref::<HtmlDocument>().exec_command("copy").unwrap_or(false);
    t.remove();
    ok
}

/// The renderer's own words, in the languages the demo shop speaks.
struct Labels {
    close: &'static str,
    copy: &'static str,
    copied: &'static str,
    ends: &'static str,
}

const EN: Labels = Labels { close: "Close", copy: "Copy", copied: "Copied", ends: "Ends in" };
const KO: Labels =
    Labels { close: "닫기", copy: "복사", copied: "복사됨", ends: "남은 시간" };

/// The language the headline was actually picked in (the shopper's if untagged).
fn picked_lang<'a>(text: &'a Text, picked: &str, asked: &'a str) -> &'a str {
    match text.0.iter().find(|(_, t)| core::ptr::eq(t.as_str(), picked)) {
        Some((l, _)) if !l.is_empty() => l,
        _ => asked,
    }
}

/// The per-campaign sheet: theme, z-index and the push height, all `!important` so a
/// page rule on `nudge-root` cannot override them.
fn vars(theme: &Theme, z: i32, height: u32) -> String {
    let mut s = String::from(":host{z-index:");
    if z < 0 {
        s.push('-');
    }
    write_uint(&mut s, u64::from(z.unsigned_abs()));
    s.push_str("!important;--h:");
    write_uint(&mut s, u64::from(height));
    s.push_str("px!important;--r:");
    write_uint(&mut s, u64::from(theme.radius));
    s.push_str("px!important");
    for (name, c) in [
        (";--bg:", theme.background),
        (";--fg:", theme.text),
        (";--ac:", theme.accent),
        (";--at:", theme.accent_text),
    ] {
        s.push_str(name);
        s.push_str(&c.css());
        s.push_str("!important");
    }
    if let Some(f) = &theme.font {
        // The engine refuses `;{}<>` in fonts; the value goes last and on its own line so
        // a stray quote cannot swallow anything else.
        s.push_str(";--f:");
        s.push_str(f);
        s.push_str("!important\n");
    }
    s.push('}');
    s
}

/// `mm:ss`, or `h:mm:ss` from an hour up, rounding up to the next second.
fn clock(left: u64) -> String {
    let secs = left.div_ceil(1000);
    let mut s = String::new();
    if secs >= 3600 {
        write_uint(&mut s, secs / 3600);
        s.push(':');
    }
    write_uint_padded(&mut s, secs / 60 % 60, 2);
    s.push(':');
    write_uint_padded(&mut s, secs % 60, 2);
    s
}

fn now() -> u64 {
    Date::now() as u64
}

/// Puts `view` on screen. `on_action` hears what the shopper does; it may drop the
/// returned [`Rendered`] from inside the callback.
pub(crate) fn show(
    view: &View<'_>,
    on_action: Box<dyn FnMut(Action)>,
) -> Result<Rendered, JsValue> {
    let win = web_sys::window().ok_or_else(|| JsValue::from_str("nudge: no window"))?;
    let doc: Document = win.document().ok_or_else(|| JsValue::from_str("nudge: no document"))?;
    let html = doc.document_element().ok_or_else(|| JsValue::from_str("nudge: no <html>"))?;
    let c = view.content;
    let fill = |t: &Text| fill_tokens(t.pick(view.lang), view.tokens);
    let picked = c.headline.pick(view.lang);
    let lang = picked_lang(&c.headline, picked, view.lang);
    let primary = lang.split('-').next().unwrap_or_default();
    let labels: &'static Labels = if primary.eq_ignore_ascii_case("ko") { &KO } else { &EN };
    let (modal, trap, top, push) = match view.placement {
        Placement::Bar { top, push } => (false, false, top, push),
        Placement::Modal { overlay } => (true, overlay, false, false),
    };

    let host = doc.create_element("nudge-root")?;
    attr(&host, "data-campaign", view.campaign);
    attr(&host, "data-variant", view.variant);
    let root = host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Closed))?;
    let base = CssStyleSheet::new()?;
    base.replace_sync(CSS)?;
    let theme = CssStyleSheet::new()?;
    theme.replace_sync(&vars(&c.theme, view.z_index, 0))?;
    root.set_adopted_style_sheets(&Array::of2(&base, &theme));

    if trap {
        let scrim = el(&doc, &root, "div", "s")?;
        attr(&scrim, "data-a", "x");
    }
    let class = match (modal, top) {
        (true, _) => "p mod",
        (false, true) => "p bar top",
        (false, false) => "p bar bot",
    };
    let panel = el(&doc, &root, "div", class)?;
    attr(&panel, "lang", lang);
    attr(&panel, "dir", if is_rtl(lang) { "rtl" } else { "ltr" });
    let headline = fill_tokens(picked, view.tokens);
    if modal {
        attr(&panel, "role", "dialog");
        attr(&panel, "aria-labelledby", "h");
        attr(&panel, "tabindex", "-1");
        if trap {
            attr(&panel, "aria-modal", "true");
        }
    } else {
        attr(&panel, "role", "region");
        attr(&panel, "aria-label", &headline);
    }
    let mut focusable = Vec::new();
    let mut copy_button = None;

    if let Some(img) = &c.image {
        let i = el(&doc, &panel, "img", "i")?;
        attr(&i, "src", &img.src);
        attr(&i, "alt", &fill(&img.alt));
    }
    let text = el(&doc, &panel, "div", "t")?;
    let h = el_text(&doc, &text, "p", "h", &headline)?;
    attr(&h, "id", "h");
    if let Some(body) = &c.body {
        let b = el_text(&doc, &text, "p", "b", &fill(body))?;
        attr(&b, "id", "b");
        if modal {
            attr(&panel, "aria-describedby", "b");
        }
    }
    let mut timer_target = None;
    if let Some(ends) = view.countdown_ends {
        let cd = el_text(&doc, &panel, "p", "cd", labels.ends)?;
        attr(&cd, "role", "timer");
        let digits = el_text(&doc, &cd, "b", "", &clock(ends.0.saturating_sub(now())))?;
        timer_target = Some((digits, ends));
    }
    if let Some(code) = &c.coupon {
        let row = el(&doc, &panel, "div", "c")?;
        el_text(&doc, &row, "span", "k", code)?;
        let b = el_text(&doc, &row, "button", "cp", labels.copy)?;
        attr(&b, "data-a", "cp");
        attr(&b, "data-code", code);
        // Announced as "Copy, <code>" rather than a bare "Copy".
        let mut label = String::from(labels.copy);
        label.push(' ');
        label.push_str(code);
        attr(&b, "aria-label", &label);
        focusable.push(b.clone());
        copy_button = Some(b);
    }
    if let Some(cta) = &c.cta {
        let label = fill(&cta.label);
        let b = match &cta.action {
            CtaAction::Link(url) => {
                let a = el_text(&doc, &panel, "a", "cta", &label)?;
                attr(&a, "href", url);
                attr(&a, "data-a", "go");
                a
            }
            CtaAction::Copy => {
                let b = el_text(&doc, &panel, "button", "cta", &label)?;
                attr(&b, "data-a", "cp");
                attr(&b, "data-code", c.coupon.as_deref().unwrap_or_default());
                b
            }
            CtaAction::Close => {
                let b = el_text(&doc, &panel, "button", "cta", &label)?;
                attr(&b, "data-a", "ok");
                b
            }
        };
        focusable.push(b);
    }
    let x = el_text(&doc, &panel, "button", "x", "\u{00d7}")?;
    attr(&x, "data-a", "x");
    attr(&x, "aria-label", labels.close);
    focusable.push(x);
    let status = el(&doc, &panel, "span", "sr")?;
    attr(&status, "role", "status");

    // Into the page, last, so a failure above leaves nothing behind.
    let body = doc.body();
    if push && top {
        html.insert_before(&host, body.as_ref().map(|b| b.as_ref()))?;
    } else {
        html.append_child(&host)?;
    }
    let measure = {
        let (panel, theme, t, z) = (panel.clone(), theme.clone(), c.theme.clone(), view.z_index);
        move || {
            let h = panel.offset_height().unsigned_abs();
            let _ = theme.replace_sync(&vars(&t, z, h));
        }
    };
    let restore = if modal {
        let before = doc.active_element().map(|e| e.unchecked_into::<HtmlElement>());
        let _ = panel.focus();
        before
    } else {
        None
    };

    let shared = Rc::new(Shared {
        host,
        root: root.clone(),
        panel,
        restore: RefCell::new(restore),
        focusable,
        status,
        copy_button,
        labels,
        modal,
        trap,
        closed: Cell::new(false),
        on_action: RefCell::new(on_action),
    });
    let mut listeners = Vec::with_capacity(3);
    let s = shared.clone();
    listeners.push(EventListener::new(&root, "click", move |e| s.on_click(e)));
    let s = shared.clone();
    // gloo listeners are passive by default; this one must be able to prevent Tab and Escape.
    let active = EventListenerOptions::enable_prevent_default();
    listeners.push(EventListener::new_with_options(&doc, "keydown", active, move |e| {
        s.on_key(e.unchecked_ref())
    }));
    if push {
        // Measured now, in the task that inserted the bar, so the first frame already
        // has the space reserved; again whenever the viewport changes the bar's wrapping.
        measure();
        listeners.push(EventListener::new(&win, "resize", move |_| measure()));
    }
    let timer = timer_target.map(|(digits, ends)| {
        Interval::new(1000, move || {
            digits.set_text_content(Some(&clock(ends.0.saturating_sub(now()))));
        })
    });
    Ok(Rendered { shared, _listeners: listeners, _timer: timer })
}

#[cfg(test)]
#[path = "../../../tests/web/render.rs"]
mod tests;
