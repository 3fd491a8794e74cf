//! The benchmark workload, shared by the native bench and the wasm bench: 50 campaigns of
//! realistic shapes and a deterministic stream of shopper events.

use nudge::engine::event::{Event, PageContext};
use nudge::engine::json::Value;
use nudge::engine::Millis;

/// A campaign set document with `n` active campaigns of mixed trigger, audience and cap shapes.
pub(crate) fn campaigns(n: usize) -> String {
    let mut out =
        String::from(r#"{"schema":1,"budget":{"per_session":3,"min_gap":"30s"},"campaigns":["#);
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        let trigger = match i % 5 {
            0 => r#"{"count":{"event":"Product Viewed","at_least":3,"within":"session","same":"product_id"}}"#.to_string(),
            1 => format!(
                r#"{{"sequence":{{"first":"Product Added","then_not":"Checkout Started","within":"{}s"}}}}"#,
                30 + i
            ),
            2 => format!(
                r#"{{"all":[{{"event":{{"name":"Product Viewed","where":{{"price":{{"gte":{}}},"category":{{"in":["shoes","bags"]}}}}}}}},{{"page":{{"path_prefix":"/products"}}}}]}}"#,
                i * 3
            ),
            3 => r#"{"any":[{"exit_intent":true},{"scroll":75}]}"#.to_string(),
            _ => format!(r#"{{"all":[{{"event":"Page Viewed"}},{{"time_on_page":"{}s"}}]}}"#, i),
        };
        let audience = match i % 4 {
            0 => r#"{"visitor":"returning"}"#,
            1 => r#"{"cart_value":{"gt":20}}"#,
            2 => r#"{"any":[{"language":"ko"},{"device":"mobile"}]}"#,
            _ => r#"{"not":{"utm":{"source":"newsletter"}}}"#,
        };
        let placement = if i % 2 == 0 {
            r#"{"type":"modal","overlay":true}"#
        } else {
            r#"{"type":"bar","position":"top","mode":"push"}"#
        };
        out.push_str(&format!(
            r##"{{"id":"campaign-{i:02}","name":"Campaign {i}","priority":{p},"placement":{placement},
"content":{{"headline":{{"en":"Still thinking about {{{{product_name}}}}?","ko":"{{{{product_name}}}} 아직 고민 중이세요?"}},
"body":"Use this code today","coupon":"SAVE{i}","cta":{{"label":"Copy code","action":"copy"}},"countdown":{{"minutes":15}},
"theme":{{"background":"#111827","text":"#ffffff","accent":"#f59e0b","accent_text":"#111827"}}}},
"trigger":{trigger},"audience":{audience},
"caps":{{"per_session":1,"per_days":{{"days":7,"max":3}},"min_gap":"10m","after_dismiss":"3d"}},
"variants":[{{"id":"a","weight":1}},{{"id":"b","weight":1,"content":{{"headline":"Last chance on {{{{product_name}}}}"}}}}],
"control":0.1,"goal":{{"event":"Order Completed","within":"7d"}}}}"##,
            p = i % 7
        ));
    }
    out.push_str("]}");
    out
}

/// The `i`-th event of a deterministic shopping stream, one every 7 seconds.
pub(crate) fn event(i: usize) -> Event {
    let ts = Millis(1_764_000_000_000 + i as u64 * 7_000);
    let product = format!("p{}", (i * 7919) % 23);
    let (name, path) = match i % 9 {
        0 => ("Page Viewed", format!("/products/{product}")),
        1 | 2 | 5 => ("Product Viewed", format!("/products/{product}")),
        3 => ("Product Added", format!("/products/{product}")),
        4 => ("Scroll Depth", format!("/products/{product}")),
        6 => ("Page Viewed", "/".to_string()),
        7 => ("Cart Viewed", "/cart".to_string()),
        _ => ("Exit Intent", "/cart".to_string()),
    };
    let mut e = Event::new(&format!("e{i}"), name, ts)
        .with_prop("product_id", Value::Str(product.clone()))
        .with_prop("product_name", Value::Str(format!("Sneaker {product}")))
        .with_prop("price", Value::Num(((i * 37) % 200) as f64 + 0.5))
        .with_prop(
            "category",
            Value::Str(if i.is_multiple_of(2) { "shoes" } else { "bags" }.into()),
        )
        .with_prop("percent", Value::Num(((i % 4) * 25) as f64));
    if name == "Page Viewed" {
        e.page = Some(PageContext {
            url: format!("https://shop.example{path}"),
            path,
            language: "ko-KR".into(),
            ..PageContext::default()
        });
    }
    e
}
