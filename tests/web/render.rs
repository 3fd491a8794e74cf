//! Browser tests of the renderer (`web::render`), run by wasm-bindgen-test in headless
//! Chromium. The file lives with the other browser tests but is compiled as a child
//! module of `src/web/render` (`#[path]`), because the renderer is crate-private and
//! its shadow root is closed: only the renderer's own module tree may look inside, and
//! the shipped code stays free of test-only entry points.

// A failing unwrap is how a test fails; the shell's no-unwrap rule is for shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{Element, HtmlElement, KeyboardEvent, KeyboardEventInit};

use super::{show, Action, Rendered, View};
use crate::engine::campaign::{load, Placement};
use crate::engine::content::Content;
use crate::engine::Millis;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn doc() -> web_sys::Document {
    web_sys::window().and_then(|w| w.document()).unwrap()
}

/// The content of the first campaign in `content_json` (read by the real engine).
fn content(content_json: &str) -> Content {
    let doc = format!(
        r#"{{"schema":1,"campaigns":[{{"id":"c","placement":{{"type":"bar"}},
        "trigger":{{"event":"Page Viewed"}},"content":{content_json}}}]}}"#
    );
    let loaded = load(&doc);
    assert!(loaded.hard_errors().next().is_none(), "{:?}", loaded.errors);
    (*loaded.set.campaigns[0].variants[0].content).clone()
}

fn no_tokens(_: &str) -> Option<String> {
    None
}

type Log = Rc<RefCell<Vec<&'static str>>>;

fn render(placement: Placement, c: &Content, lang: &str, ends: Option<Millis>) -> (Rendered, Log) {
    let log: Log = Rc::default();
    let l = log.clone();
    let view = View {
        campaign: "c",
        variant: "a",
        placement,
        content: c,
        lang,
        tokens: &no_tokens,
        countdown_ends: ends,
        z_index: 2_147_483_000,
    };
    let r = show(
        &view,
        Box::new(move |a| {
            l.borrow_mut().push(match a {
                Action::Clicked => "clicked",
                Action::Dismissed => "dismissed",
                Action::Copied => "copied",
            })
        }),
    )
    .unwrap();
    (r, log)
}

fn find(r: &Rendered, selector: &str) -> HtmlElement {
    r.shared.root.query_selector(selector).unwrap().unwrap().unchecked_into()
}

fn active(r: &Rendered) -> Option<Element> {
    r.shared.root.active_element()
}

/// Dispatches a composed, cancelable keydown from `target`; returns whether a listener
/// prevented its default.
fn key(target: &Element, key: &str, shift: bool) -> bool {
    let init = KeyboardEventInit::new();
    init.set_key(key);
    init.set_shift_key(shift);
    init.set_bubbles(true);
    init.set_cancelable(true);
    init.set_composed(true);
    let e = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    target.dispatch_event(&e).unwrap();
    e.default_prevented()
}

async fn tick() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 10)
            .unwrap();
    });
    JsFuture::from(p).await.unwrap();
}

const BAR: Placement = Placement::Bar { top: false, push: false };

#[wasm_bindgen_test]
fn bar_renders_into_a_closed_shadow_root_as_text() {
    let c = content(r#"{"headline":"Hi {{name}}","body":"Free shipping today"}"#);
    let view_tokens = |k: &str| (k == "name").then(|| "<img src=x onerror=alert(1)>".to_string());
    let log: Log = Rc::default();
    let view = View {
        campaign: "c",
        variant: "a",
        placement: BAR,
        content: &c,
        lang: "en",
        tokens: &view_tokens,
        countdown_ends: None,
        z_index: 10,
    };
    let l = log.clone();
    let r = show(&view, Box::new(move |_| l.borrow_mut().push("x"))).unwrap();
    let host = doc().query_selector("nudge-root").unwrap().unwrap();
    assert!(host.unchecked_ref::<HtmlElement>().shadow_root().is_none(), "root must be closed");
    assert_eq!(host.get_attribute("data-campaign").as_deref(), Some("c"));
    let panel = find(&r, ".p");
    assert_eq!(panel.get_attribute("role").as_deref(), Some("region"));
    assert_eq!(
        panel.get_attribute("aria-label").as_deref(),
        Some("Hi <img src=x onerror=alert(1)>")
    );
    assert_eq!(find(&r, ".h").text_content().unwrap(), "Hi <img src=x onerror=alert(1)>");
    assert!(r.shared.root.query_selector("img").unwrap().is_none(), "a token became markup");
    assert!(panel.get_bounding_client_rect().height() >= 44.0);
    // A bar does not take focus from the page.
    assert!(active(&r).is_none());
    drop(r);
    assert!(doc().query_selector("nudge-root").unwrap().is_none());
    assert!(log.borrow().is_empty());
}

#[wasm_bindgen_test]
fn modal_takes_focus_escape_closes_and_focus_returns() {
    let d = doc();
    let button: HtmlElement = d.create_element("button").unwrap().unchecked_into();
    d.body().unwrap().append_child(&button).unwrap();
    button.focus().unwrap();
    let c = content(r#"{"headline":"Still thinking?","cta":{"label":"Shop","url":"/cart"}}"#);
    let (r, log) = render(Placement::Modal { overlay: false }, &c, "en", None);
    let panel = find(&r, ".p");
    assert_eq!(panel.get_attribute("role").as_deref(), Some("dialog"));
    assert_eq!(panel.get_attribute("aria-labelledby").as_deref(), Some("h"));
    assert!(panel.get_attribute("aria-modal").is_none(), "no aria-modal without overlay");
    assert!(r.shared.root.query_selector(".s").unwrap().is_none());
    assert_eq!(d.active_element().unwrap().tag_name(), "NUDGE-ROOT");
    assert_eq!(active(&r).unwrap().class_name(), "p mod");
    // Without an overlay Tab is not trapped: it leaves the last control.
    let close = find(&r, ".x");
    close.focus().unwrap();
    assert!(!key(&close, "Tab", false));
    assert!(key(&close, "Escape", false));
    assert_eq!(*log.borrow(), ["dismissed"]);
    assert!(d.query_selector("nudge-root").unwrap().is_none(), "escape removed it");
    let focused = d.active_element().unwrap();
    assert_eq!(
        AsRef::<JsValue>::as_ref(&focused),
        AsRef::<JsValue>::as_ref(&button),
        "focus restored"
    );
    drop(r);
    assert_eq!(*log.borrow(), ["dismissed"], "drop after dismissal says nothing more");
    button.remove();
}

#[wasm_bindgen_test]
fn overlay_modal_traps_focus() {
    let c =
        content(r#"{"headline":"10% off","coupon":"HELLO10","cta":{"label":"Shop","url":"/"}}"#);
    let (r, log) = render(Placement::Modal { overlay: true }, &c, "en", None);
    let panel = find(&r, ".p");
    assert_eq!(panel.get_attribute("aria-modal").as_deref(), Some("true"));
    let first = find(&r, ".cp");
    let last = find(&r, ".x");
    last.focus().unwrap();
    assert!(key(&last, "Tab", false), "Tab on the last control wraps");
    assert_eq!(active(&r).unwrap().class_name(), "cp");
    assert!(key(&first, "Tab", true), "Shift+Tab on the first control wraps");
    assert_eq!(active(&r).unwrap().class_name(), "x");
    // A click on the dimmed overlay dismisses.
    find(&r, ".s").click();
    assert_eq!(*log.borrow(), ["dismissed"]);
}

#[wasm_bindgen_test]
async fn coupon_copy_shows_copied() {
    // The test page is not focused, so stand in for the clipboard the browser would give.
    js_sys::eval(
        "Object.defineProperty(navigator, 'clipboard', {configurable: true, value: \
         {writeText: (t) => { window.__copied = t; return Promise.resolve(); }}})",
    )
    .unwrap();
    let c = content(r#"{"headline":"쿠폰","coupon":"WELCOME10"}"#);
    let (r, log) = render(Placement::Modal { overlay: false }, &c, "ko-KR", None);
    assert_eq!(find(&r, ".k").text_content().unwrap(), "WELCOME10");
    let copy = find(&r, ".cp");
    assert_eq!(copy.text_content().unwrap(), "복사");
    assert_eq!(find(&r, ".p").get_attribute("lang").as_deref(), Some("ko-KR"));
    copy.click();
    tick().await;
    assert_eq!(*log.borrow(), ["copied"]);
    let copied = js_sys::Reflect::get(&web_sys::window().unwrap(), &"__copied".into()).unwrap();
    assert_eq!(copied.as_string().as_deref(), Some("WELCOME10"));
    assert_eq!(copy.text_content().unwrap(), "복사됨");
    assert!(find(&r, ".p").class_list().contains("done"));
    assert_eq!(find(&r, "[role=status]").text_content().unwrap(), "복사됨");
}

#[wasm_bindgen_test]
fn countdown_shows_minutes_and_seconds() {
    let c = content(r#"{"headline":"Time deal","countdown":{"minutes":10}}"#);
    let now = js_sys::Date::now() as u64;
    let (r, _) = render(BAR, &c, "en", Some(Millis(now + 125_000)));
    assert_eq!(find(&r, ".cd b").text_content().unwrap(), "02:05");
    assert_eq!(find(&r, ".cd").get_attribute("role").as_deref(), Some("timer"));
    drop(r);
    let (r, _) = render(BAR, &c, "en", Some(Millis(now + 3 * 3_600_000 + 61_000)));
    assert_eq!(find(&r, ".cd b").text_content().unwrap(), "3:01:01");
    drop(r);
    let (r, _) = render(BAR, &c, "en", Some(Millis(now.saturating_sub(5_000))));
    assert_eq!(find(&r, ".cd b").text_content().unwrap(), "00:00");
}

#[wasm_bindgen_test]
fn push_bar_reserves_its_height_in_the_page() {
    let c = content(r#"{"headline":"Free shipping over ₩50,000"}"#);
    let (r, _) = render(Placement::Bar { top: true, push: true }, &c, "en", None);
    let host = doc().query_selector("nudge-root").unwrap().unwrap();
    let next = host.next_element_sibling().unwrap();
    assert_eq!(next.tag_name(), "BODY", "a top push bar sits before <body>");
    let bar = find(&r, ".p").get_bounding_client_rect().height();
    assert!(bar >= 44.0);
    assert!((host.get_bounding_client_rect().height() - bar).abs() < 1.0);
}

#[wasm_bindgen_test]
fn hostile_page_css_does_not_hide_it() {
    let d = doc();
    let style = d.create_element("style").unwrap();
    style.set_text_content(Some("* { all: unset !important } div { display: none !important }"));
    d.document_element().unwrap().append_child(&style).unwrap();
    let c = content(r#"{"headline":"Still here","cta":{"label":"OK","action":"close"}}"#);
    let (r, log) = render(Placement::Modal { overlay: true }, &c, "en", None);
    let rect = find(&r, ".p").get_bounding_client_rect();
    style.remove();
    assert!(rect.height() >= 60.0 && rect.width() >= 200.0);
    find(&r, ".cta").click();
    assert_eq!(*log.borrow(), ["clicked"]);
    assert!(d.query_selector("nudge-root").unwrap().is_none(), "a close CTA closes");
}

#[wasm_bindgen_test]
fn right_to_left_and_labels_follow_the_language() {
    let c = content(r#"{"headline":{"en":"Sale","ar":"تخفيضات"}}"#);
    let (r, _) = render(BAR, &c, "ar-EG", None);
    let p = find(&r, ".p");
    assert_eq!(p.get_attribute("dir").as_deref(), Some("rtl"));
    assert_eq!(p.get_attribute("lang").as_deref(), Some("ar"));
    drop(r);
    let (r, _) = render(BAR, &c, "ko", None);
    assert_eq!(find(&r, ".p").get_attribute("lang").as_deref(), Some("en"), "fell back to en");
    assert_eq!(find(&r, ".x").get_attribute("aria-label").as_deref(), Some("Close"));
}

#[wasm_bindgen_test]
fn drop_removes_listeners() {
    let c = content(r#"{"headline":"Bye"}"#);
    let (r, log) = render(Placement::Modal { overlay: false }, &c, "en", None);
    drop(r);
    let body = doc().body().unwrap();
    assert!(!key(&body, "Escape", false));
    assert!(log.borrow().is_empty());
}
