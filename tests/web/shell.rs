//! Browser tests of the web shell (`web::api`, `web::runtime`, `web::store`, `web::listen`),
//! run by wasm-bindgen-test in headless Chromium. Like `render.rs` beside it, this file is
//! compiled as a child module of `src/web` (`#[path]`), so it can reach the crate-private
//! modules without the shipped build growing any test-only entry point.
//!
//! All tests share one page, so each one starts from clean storage and ends with
//! `shutdown()`; a runtime left behind would listen to the next test's clicks.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Reflect, JSON};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{HtmlElement, Storage};

use super::api;
use super::runtime;
use super::store::{Store, Tier};

fn window() -> web_sys::Window {
    web_sys::window().unwrap()
}

fn local() -> Storage {
    window().local_storage().unwrap().unwrap()
}

fn js(text: &str) -> JsValue {
    JSON::parse(text).unwrap()
}

/// Every localStorage key that belongs to `site`.
fn stored_keys(site: &str) -> Vec<String> {
    let s = local();
    let prefix = format!("nudge_1_{site}_");
    (0..s.length().unwrap())
        .filter_map(|i| s.key(i).unwrap())
        .filter(|k| k.starts_with(&prefix))
        .collect()
}

fn clean() {
    api::shutdown();
    local().clear().unwrap();
}

/// Records the names of the events delivered to `on(topic)`; returns them and the callback.
fn recorder(topic: &str) -> (Rc<RefCell<Vec<String>>>, Closure<dyn FnMut(JsValue)>) {
    let seen: Rc<RefCell<Vec<String>>> = Rc::default();
    let s = seen.clone();
    let cb = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        let name = Reflect::get(&e, &"name".into()).unwrap().as_string().unwrap();
        s.borrow_mut().push(name);
    });
    api::on(JsValue::from(topic).unchecked_into(), cb.as_ref().clone().unchecked_into());
    (seen, cb)
}

fn forget(topic: &str, cb: &Closure<dyn FnMut(JsValue)>) {
    api::off(JsValue::from(topic).unchecked_into(), cb.as_ref().clone().unchecked_into());
}

fn init(config: &str) {
    api::init(js(config).unchecked_into()).map_err(JsValue::from).unwrap();
}

async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).unwrap();
    });
    JsFuture::from(p).await.unwrap();
}

/// Replaces `target[name]` with a throwing getter or a function; returns the old descriptor.
fn override_prop(target: &JsValue, name: &str, descriptor: &Object) -> JsValue {
    let before =
        Object::get_own_property_descriptor(target.unchecked_ref::<Object>(), &name.into());
    Object::define_property(target.unchecked_ref::<Object>(), &name.into(), descriptor);
    before
}

fn restore_prop(target: &JsValue, name: &str, before: &JsValue) {
    if before.is_undefined() {
        Reflect::delete_property(target.unchecked_ref::<Object>(), &name.into()).unwrap();
    } else {
        Object::define_property(
            target.unchecked_ref::<Object>(),
            &name.into(),
            before.unchecked_ref(),
        );
    }
}

fn getter_that_throws() -> Object {
    let d = Object::new();
    let f = Function::new_no_args("throw new DOMException('blocked', 'SecurityError')");
    Reflect::set(&d, &"get".into(), &f).unwrap();
    Reflect::set(&d, &"configurable".into(), &true.into()).unwrap();
    d
}

#[wasm_bindgen_test]
fn blocked_local_storage_falls_back_to_a_cookie() {
    clean();
    let win: JsValue = window().into();
    let before = override_prop(&win, "localStorage", &getter_that_throws());
    let mut store = Store::open("fallback");
    assert!(matches!(store.tier(), Tier::Cookie(_)));
    store.set("state", "{\"a\":\"b c;d\"}");
    assert_eq!(store.get("state").as_deref(), Some("{\"a\":\"b c;d\"}"));
    let doc: web_sys::HtmlDocument = window().document().unwrap().unchecked_into();
    assert!(doc.cookie().unwrap().contains("nudge_1_fallback_state="));
    // A fresh store on the next page finds it in the cookie.
    assert_eq!(Store::open("fallback").get("state").as_deref(), Some("{\"a\":\"b c;d\"}"));
    store.clear();
    assert!(!doc.cookie().unwrap().contains("nudge_1_fallback_"));
    restore_prop(&win, "localStorage", &before);
}

#[wasm_bindgen_test]
fn no_durable_storage_at_all_keeps_values_in_memory() {
    clean();
    let win: JsValue = window().into();
    let doc: JsValue = window().document().unwrap().into();
    let ls = override_prop(&win, "localStorage", &getter_that_throws());
    let cookie = override_prop(&doc, "cookie", &getter_that_throws());
    let mut store = Store::open("nothing");
    assert!(matches!(store.tier(), Tier::Memory));
    store.set("state", "kept");
    assert_eq!(store.get("state").as_deref(), Some("kept"));
    store.clear();
    assert_eq!(store.get("state"), None);
    restore_prop(&doc, "cookie", &cookie);
    restore_prop(&win, "localStorage", &ls);
    assert!(Store::memory("x").get("state").is_none());
}

#[wasm_bindgen_test]
fn quota_errors_keep_the_value_in_memory_and_never_throw() {
    clean();
    let mut store = Store::open("quota");
    assert!(matches!(store.tier(), Tier::Local(_)));
    store.set("state", "old");
    let proto: JsValue = Reflect::get(&window().into(), &"Storage".into())
        .and_then(|s| Reflect::get(&s, &"prototype".into()))
        .unwrap();
    let d = Object::new();
    let f = Function::new_no_args("throw new DOMException('full', 'QuotaExceededError')");
    Reflect::set(&d, &"value".into(), &f).unwrap();
    Reflect::set(&d, &"configurable".into(), &true.into()).unwrap();
    Reflect::set(&d, &"writable".into(), &true.into()).unwrap();
    let before = override_prop(&proto, "setItem", &d);
    store.set("state", "new");
    restore_prop(&proto, "setItem", &before);
    assert_eq!(store.get("state").as_deref(), Some("new"));
    // The stale durable copy is gone, so a reload cannot resurrect it.
    assert_eq!(local().get_item("nudge_1_quota_state").unwrap(), None);
}

#[wasm_bindgen_test]
fn shutdown_removes_every_listener_and_patch() {
    clean();
    let history = window().history().unwrap();
    let push_state = Reflect::get(&history, &"pushState".into()).unwrap();
    let doc = window().document().unwrap();
    let button: HtmlElement = doc.create_element("button").unwrap().unchecked_into();
    button.set_attribute("data-nudge-event", "Newsletter Clicked").unwrap();
    button.set_attribute("data-nudge-props", "{\"where\":\"footer\"}").unwrap();
    button.set_id("promo");
    doc.body().unwrap().append_child(&button).unwrap();
    let (seen, cb) = recorder("event");
    init(
        r##"{"site":"listen","campaigns":[{"id":"c","placement":{"type":"bar"},
        "content":{"headline":"Hi"},"trigger":{"click":"#promo"},"status":"paused"}]}"##,
    );
    assert_ne!(Reflect::get(&history, &"pushState".into()).unwrap(), push_state);
    button.click();
    assert_eq!(
        *seen.borrow(),
        ["Page Viewed", "Newsletter Clicked", "Element Clicked"],
        "the first page view, the marked click and the campaign selector"
    );
    history.push_state_with_url(&JsValue::NULL, "", Some("#spa-route")).unwrap();
    history.replace_state_with_url(&JsValue::NULL, "", Some("#spa-route")).unwrap();
    api::shutdown();
    assert_eq!(Reflect::get(&history, &"pushState".into()).unwrap(), push_state);
    seen.borrow_mut().clear();
    button.click();
    window().scroll_to_with_x_and_y(0.0, 10_000.0);
    let layer = Reflect::get(&window(), &"dataLayer".into()).unwrap();
    let push: Function = Reflect::get(&layer, &"push".into()).unwrap().unchecked_into();
    push.call1(&layer, &js(r#"{"event":"view_item","ecommerce":{"items":[{"item_id":"p"}]}}"#))
        .unwrap();
    assert!(seen.borrow().is_empty(), "after shutdown nothing is heard: {:?}", seen.borrow());
    assert_eq!(Array::from(&layer).length(), 1, "the page's own push still works");
    forget("event", &cb);
    button.remove();
    history.replace_state_with_url(&JsValue::NULL, "", Some("#")).unwrap();
}

#[wasm_bindgen_test]
async fn spa_navigation_is_a_page_view() {
    clean();
    let (seen, cb) = recorder("event");
    init(r#"{"site":"spa"}"#);
    let history = window().history().unwrap();
    history.push_state_with_url(&JsValue::NULL, "", Some("?route=two")).unwrap();
    sleep(20).await;
    history.replace_state_with_url(&JsValue::NULL, "", Some("?route=two")).unwrap();
    sleep(20).await;
    assert_eq!(
        *seen.borrow(),
        ["Page Viewed", "Page Viewed"],
        "replaceState to the same URL is not a page view"
    );
    api::shutdown();
    forget("event", &cb);
    history.replace_state_with_url(&JsValue::NULL, "", Some("?")).unwrap();
}

#[wasm_bindgen_test]
async fn queued_calls_replay_in_order_after_init() {
    clean();
    let names: Rc<RefCell<Vec<String>>> = Rc::default();
    let done = Rc::new(std::cell::Cell::new(0));
    let (n, d) = (names.clone(), done.clone());
    let cb = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        let mut name = Reflect::get(&e, &"name".into()).unwrap().as_string().unwrap();
        if d.get() == 0 {
            name.push_str(" (before the API was handed over)");
        }
        n.borrow_mut().push(name);
    });
    let d = done.clone();
    let on_done = Closure::<dyn FnMut()>::new(move || d.set(d.get() + 1));
    let queue = Array::new();
    queue.push(&Array::of3(&"track".into(), &"First".into(), &js(r#"{"n":1}"#)));
    queue.push(&Array::of3(&"on".into(), &"event".into(), cb.as_ref()));
    queue.push(&Array::of2(&"init".into(), &js(r#"{"listen":false}"#)));
    queue.push(&Array::of2(&"track".into(), &"Second".into()));
    queue.push(&Array::of2(&"nonsense".into(), &"ignored".into()));
    api::boot(
        queue.clone().unchecked_into(),
        js(r#"{"site":"queue"}"#).unchecked_into(),
        Some(on_done.as_ref().clone().unchecked_into()),
    );
    // `init` has run (merged with the script tag's attributes); the rest waits for the
    // boot's last task, and a call the page queues meanwhile joins them.
    assert!(runtime::with(|_| ()).is_some(), "started in the first task");
    assert!(names.borrow().is_empty());
    assert_eq!(done.get(), 0, "the API is handed over only at the end");
    queue.push(&Array::of2(&"track".into(), &"Meanwhile".into()));
    sleep(20).await;
    // Queue order, and the queued callback sees every event of the boot: they are decided
    // once the whole queue has been replayed.
    assert_eq!(*names.borrow(), ["First", "Second", "Meanwhile"]);
    assert_eq!(done.get(), 1);
    api::push(Array::of2(&"track".into(), &"Third".into()).unchecked_into());
    assert_eq!(*names.borrow(), ["First", "Second", "Meanwhile", "Third"]);
    api::off(JsValue::from("event").unchecked_into(), cb.as_ref().clone().unchecked_into());
    api::shutdown();
}

#[wasm_bindgen_test]
async fn the_boot_decides_the_page_view_before_what_waited() {
    clean();
    let (names, cb) = recorder("event");
    let campaigns = r#"{"schema":1,"campaigns":[{"id":"boot","trigger":{"event":"Late"},
        "content":{"headline":"Hi"},"placement":{"type":"bar"}}]}"#;
    let queue = Array::of1(&Array::of2(&"track".into(), &"Late".into()));
    let config = js(&format!(r#"{{"site":"boot","campaigns":{campaigns}}}"#));
    api::boot(queue.unchecked_into(), config.unchecked_into(), None);
    assert_eq!(runtime::with(|rt| rt.campaigns()), Some(0), "not in the first task");
    // A call made while the boot runs waits for it.
    api::track(JsValue::from("Early"), JsValue::UNDEFINED.unchecked_into());
    sleep(0).await;
    assert_eq!(runtime::with(|rt| rt.campaigns()), Some(1), "loaded in the second");
    assert!(names.borrow().is_empty(), "nothing decided before the listeners are in");
    sleep(20).await;
    // The listeners' page view first, then the queue (whose event shows the campaign),
    // then what was called meanwhile.
    assert_eq!(*names.borrow(), ["Page Viewed", "Late", "Campaign Shown", "Early"]);
    forget("event", &cb);
    api::shutdown();
}

#[wasm_bindgen_test]
async fn a_second_init_in_the_queue_keeps_what_came_before_it() {
    clean();
    let (names, cb) = recorder("event");
    let queue = Array::new();
    queue.push(&Array::of2(&"track".into(), &"Before".into()));
    queue.push(&Array::of2(&"init".into(), &js(r#"{"listen":false}"#)));
    queue.push(&Array::of2(&"init".into(), &js(r#"{"site":"again","listen":false}"#)));
    queue.push(&Array::of2(&"track".into(), &"After".into()));
    api::boot(queue.unchecked_into(), js(r#"{"site":"first"}"#).unchecked_into(), None);
    sleep(20).await;
    // The second `init` restarts nudge mid-boot: what the first had waiting is decided
    // (and queued, and saved) before it stops, not dropped.
    assert_eq!(*names.borrow(), ["Before", "After"]);
    forget("event", &cb);
    api::shutdown();
}

#[wasm_bindgen_test]
async fn consent_pending_keeps_everything_in_memory_until_granted() {
    clean();
    // Inline campaigns: nothing is fetched, so events are decided at once.
    init(
        r#"{"site":"consent","consent":"pending","listen":false,"campaigns":[],
        "collector":"http://127.0.0.1:9"}"#,
    );
    api::track(JsValue::from("Product Viewed"), js(r#"{"product_id":"p1"}"#).unchecked_into());
    sleep(0).await;
    assert!(stored_keys("consent").is_empty(), "nothing stored while pending");
    assert_eq!(runtime::with(|rt| rt.queued()), Some(0), "nothing queued to send while pending");
    api::set_consent(JsValue::from("granted").unchecked_into());
    sleep(0).await; // saves happen at the end of the task
    let keys = stored_keys("consent");
    assert!(keys.contains(&"nudge_1_consent_state".to_string()), "{keys:?}");
    assert!(keys.contains(&"nudge_1_consent_outbox".to_string()), "{keys:?}");
    assert_eq!(runtime::with(|rt| rt.queued()), Some(1), "the held event is queued");
    api::opt_out();
    assert_eq!(stored_keys("consent"), ["nudge_1_consent_optout"], "only the opt-out remains");
    assert_eq!(runtime::with(|rt| rt.queued()), Some(0));
    api::track(JsValue::from("Product Viewed"), JsValue::UNDEFINED.unchecked_into());
    assert_eq!(runtime::with(|rt| rt.queued()), Some(0), "opted out: nothing queued");
    api::shutdown();
    // The opt-out holds on the next page, whatever the config says.
    init(r#"{"site":"consent","listen":false,"campaigns":[],"collector":"http://127.0.0.1:9"}"#);
    assert_eq!(runtime::with(|rt| rt.consent()), Some(crate::engine::profile::Consent::Denied));
    api::set_consent(JsValue::from("granted").unchecked_into());
    assert_eq!(runtime::with(|rt| rt.consent()), Some(crate::engine::profile::Consent::Granted));
    api::shutdown();
}

#[wasm_bindgen_test]
async fn global_privacy_control_is_an_opt_out_unless_disabled() {
    clean();
    let nav: JsValue = window().navigator().into();
    let d = Object::new();
    Reflect::set(&d, &"value".into(), &true.into()).unwrap();
    Reflect::set(&d, &"configurable".into(), &true.into()).unwrap();
    let before = override_prop(&nav, "globalPrivacyControl", &d);
    init(r#"{"site":"gpc","listen":false}"#);
    api::track(JsValue::from("Product Viewed"), JsValue::UNDEFINED.unchecked_into());
    sleep(0).await;
    assert_eq!(runtime::with(|rt| rt.consent()), Some(crate::engine::profile::Consent::Denied));
    assert!(stored_keys("gpc").is_empty());
    api::shutdown();
    init(r#"{"site":"gpc","listen":false,"respectGpc":false}"#);
    api::track(JsValue::from("Product Viewed"), JsValue::UNDEFINED.unchecked_into());
    sleep(0).await; // saves happen at the end of the task
    assert_eq!(runtime::with(|rt| rt.consent()), Some(crate::engine::profile::Consent::Granted));
    assert_eq!(stored_keys("gpc"), ["nudge_1_gpc_state"]);
    api::shutdown();
    restore_prop(&nav, "globalPrivacyControl", &before);
}

#[wasm_bindgen_test]
async fn reset_forgets_the_visitor() {
    clean();
    init(r#"{"site":"reset","listen":false}"#);
    api::track(JsValue::from("Product Viewed"), JsValue::UNDEFINED.unchecked_into());
    let before = runtime::with(|rt| rt.anon_id().to_string()).unwrap();
    api::reset();
    let after = runtime::with(|rt| rt.anon_id().to_string()).unwrap();
    assert_ne!(before, after);
    sleep(0).await; // saves happen at the end of the task
    let saved = local().get_item("nudge_1_reset_state").unwrap().unwrap();
    assert!(saved.contains(&after) && !saved.contains(&before));
    api::shutdown();
}

#[wasm_bindgen_test]
fn data_layer_ecommerce_becomes_nudge_events() {
    clean();
    let layer = Array::new();
    layer.push(&js(r#"{"event":"gtm.js"}"#));
    layer.push(&js(r#"{"event":"add_to_cart","ecommerce":{"currency":"EUR","value":30,
        "items":[{"item_id":"p1","item_name":"Shoe","price":10,"quantity":1},
                 {"item_id":"p2","price":20,"quantity":1}]}}"#));
    Reflect::set(&window(), &"dataLayer".into(), &layer).unwrap();
    let props: Rc<RefCell<Vec<String>>> = Rc::default();
    let p = props.clone();
    let cb = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        let name = Reflect::get(&e, &"name".into()).unwrap().as_string().unwrap();
        let pr = JSON::stringify(&Reflect::get(&e, &"props".into()).unwrap()).unwrap();
        p.borrow_mut().push(format!("{name} {}", String::from(pr)));
    });
    api::on(JsValue::from("event").unchecked_into(), cb.as_ref().clone().unchecked_into());
    init(r#"{"site":"ga4"}"#);
    // gtag() pushes its `arguments` object.
    let gtag_args = js(
        r#"["event","purchase",{"transaction_id":"o1","value":30,"currency":"EUR","items":[{"item_id":"p1"}]}]"#,
    );
    let push: Function = Reflect::get(&layer, &"push".into()).unwrap().unchecked_into();
    push.call1(&layer, &gtag_args).unwrap();
    let seen = props.borrow().clone();
    api::off(JsValue::from("event").unchecked_into(), cb.as_ref().clone().unchecked_into());
    api::shutdown();
    Reflect::delete_property(&window(), &"dataLayer".into()).unwrap();
    assert_eq!(
        seen.iter().filter(|s| !s.starts_with("Page Viewed")).collect::<Vec<_>>(),
        [
            r#"Product Added {"product_id":"p1","name":"Shoe","price":10,"quantity":1,"currency":"EUR"}"#,
            r#"Product Added {"product_id":"p2","price":20,"quantity":1,"currency":"EUR"}"#,
            r#"Order Completed {"currency":"EUR","value":30,"order_id":"o1","products":[{"product_id":"p1"}]}"#,
        ]
    );
}

#[wasm_bindgen_test]
async fn a_triggered_campaign_shows_and_explain_says_why() {
    clean();
    let (impressions, cb) = recorder("impression");
    init(
        r#"{"site":"show","listen":false,"campaigns":[
        {"id":"welcome","placement":{"type":"bar"},"content":{"headline":"Hi {{name}}"},
         "trigger":{"event":"Signed Up"}},
        {"id":"later","placement":{"type":"modal"},"content":{"headline":"Later"},
         "trigger":{"event":"Never"}}]}"#,
    );
    api::track(JsValue::from("Signed Up"), js(r#"{"name":"<b>Ann</b>"}"#).unchecked_into());
    assert_eq!(*impressions.borrow(), ["Campaign Shown"]);
    let root = || window().document().unwrap().query_selector("nudge-root").unwrap();
    assert!(root().is_none(), "rendered in a task of its own, after the page's");
    sleep(0).await;
    assert!(root().is_some(), "rendered");
    let reasons = JSON::stringify(&api::explain(JsValue::UNDEFINED.unchecked_into())).unwrap();
    assert_eq!(
        String::from(reasons),
        concat!(
            r#"[{"campaign":"later","result":"trigger","path":"campaigns[1].trigger.event"},"#,
            r#"{"campaign":"welcome","result":"shown","variant":"default"}]"#
        )
    );
    let one = JSON::stringify(&api::explain(JsValue::from("later").unchecked_into())).unwrap();
    assert!(String::from(one).starts_with(r#"[{"campaign":"later""#));
    forget("impression", &cb);
    api::shutdown();
    assert!(
        window().document().unwrap().query_selector("nudge-root").unwrap().is_none(),
        "shutdown removes it"
    );
}

#[wasm_bindgen_test]
fn bad_campaigns_throw_with_their_json_path_and_good_ones_still_load() {
    clean();
    init(r#"{"site":"errors","listen":false}"#);
    let doc = js(
        r#"[{"id":"ok","placement":{"type":"bar"},"content":{"headline":"Hi"},"trigger":{"event":"X"}},
            {"id":"bad","placement":{"type":"bar"},"content":{"headline":"Hi"},
             "trigger":{"count":{"event":"Product Viewed","at_least":3,"wihtin":"7d"}}}]"#,
    );
    let err = api::set_campaigns(doc.unchecked_into()).map_err(JsValue::from).unwrap_err();
    let message = Reflect::get(&err, &"message".into()).unwrap().as_string().unwrap();
    assert!(message.contains("campaigns[1].trigger.count.wihtin"), "{message}");
    assert!(
        api::show(JsValue::from("ok"), JsValue::UNDEFINED.unchecked_into()),
        "the good one loaded"
    );
    assert!(!api::show(JsValue::from("bad"), JsValue::UNDEFINED.unchecked_into()));
    // After init, wrong argument kinds never throw.
    api::track(JsValue::from(42), JsValue::from(7).unchecked_into());
    api::set_consent(JsValue::from("maybe").unchecked_into());
    api::shutdown();
}

/// The browser build runs on a small wasm stack (`build.rs`; 256 KiB in this debug build):
/// the deepest documents the engine accepts must load and decide within it, and deeper ones
/// must be a parse error, never a stack overflow.
#[wasm_bindgen_test]
fn the_deepest_accepted_campaigns_fit_the_wasm_stack() {
    use crate::engine::{campaign::load, decide, event::Event, json::MAX_DEPTH, Millis};
    // Root object, campaigns array, campaign object, trigger object and the innermost
    // event name, then one level per `not` (two per `all` with its array): as deep as the
    // parser allows.
    let nested = |open: &str, close: &str, levels: usize| {
        let inner = r#"{"event":"Deep"}"#;
        format!(
            r#"{{"schema":1,"campaigns":[{{"id":"deep","placement":{{"type":"bar"}},"content":{{"headline":"Hi"}},"trigger":{}{}{}}}]}}"#,
            open.repeat(levels),
            inner,
            close.repeat(levels)
        )
    };
    let events = [Event::new("e1", "Deep", Millis(1_000)), Event::new("e2", "Deep", Millis(2_000))];
    for (open, close, per) in [(r#"{"not":"#, "}", 1), (r#"{"all":["#, "]}", 2)] {
        let levels = (MAX_DEPTH - 4) / per;
        let loaded = load(&nested(open, close, levels));
        assert!(loaded.errors.is_empty(), "{open}×{levels}: {:?}", loaded.errors);
        let mut state = decide::State::new("deep-visitor");
        for e in &events {
            decide::decide(&mut state, &loaded.set, e, e.ts, true);
        }
        let too_deep = load(&nested(open, close, levels + 1));
        assert!(
            too_deep.errors.iter().any(|e| e.to_string().contains("deeper than 64")),
            "{open}: {:?}",
            too_deep.errors
        );
    }
}

/// A burst of events in one task writes the visitor state once, at the end of the task.
#[wasm_bindgen_test]
async fn a_burst_of_events_saves_once_at_the_end_of_the_task() {
    clean();
    init(r#"{"site":"burst","listen":false,"campaigns":[]}"#);
    sleep(0).await;
    let proto: JsValue = Reflect::get(&window().into(), &"Storage".into())
        .and_then(|s| Reflect::get(&s, &"prototype".into()))
        .unwrap();
    let set_item = Reflect::get(&proto, &"setItem".into()).unwrap();
    let counting = Function::new_with_args(
        "k, v",
        "if (/_state$/.test(k)) window.__stateWrites = (window.__stateWrites || 0) + 1; \
         return window.__realSetItem.call(this, k, v);",
    );
    Reflect::set(&window().into(), &"__realSetItem".into(), &set_item).unwrap();
    Reflect::set(&proto, &"setItem".into(), &counting).unwrap();
    for _ in 0..50 {
        api::track(JsValue::from("Product Viewed"), JsValue::UNDEFINED.unchecked_into());
    }
    let writes = || Reflect::get(&window().into(), &"__stateWrites".into()).unwrap();
    assert!(writes().is_undefined(), "nothing written inside the task");
    sleep(0).await;
    assert_eq!(writes().as_f64(), Some(1.0), "one write after it");
    Reflect::set(&proto, &"setItem".into(), &set_item).unwrap();
    let saved = local().get_item("nudge_1_burst_state").unwrap().unwrap();
    assert!(saved.contains("Product Viewed"), "the last event is in the saved state");
    api::shutdown();
}
