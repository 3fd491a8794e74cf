//! Hostile and broken input: every case gets a clear JSON error, every refused body or
//! event is kept in `bad_rows`, and the collector keeps serving good batches afterwards.

use axum::http::StatusCode;

use crate::common::*;

struct Case {
    name: &'static str,
    body: Vec<u8>,
    status: StatusCode,
    /// A part of the answer's `error` (4xx) or of the first per-event reason (200).
    says: &'static str,
}

fn case(
    name: &'static str,
    body: impl Into<Vec<u8>>,
    status: StatusCode,
    says: &'static str,
) -> Case {
    Case { name, body: body.into(), status, says }
}

fn cases() -> Vec<Case> {
    let good = event("e1", "Page Viewed", NOW, "v1");
    let deep = format!(r#"{{"site":"shop","sent_at":1,"events":[{}]}}"#, "[".repeat(10_000));
    let mut ten_mb = batch(std::slice::from_ref(&good)).into_bytes();
    ten_mb.resize(10 * 1024 * 1024, b' ');
    let mut invalid_utf8 = batch(&[good]).into_bytes();
    invalid_utf8[20] = 0xFF;
    let huge_prop = format!(
        r#"{{"id":"h1","name":"Product Viewed","ts":{NOW},"anon_id":"v1","props":{{"name":"{}"}}}}"#,
        "x".repeat(100_000)
    );
    let long_name =
        format!(r#"{{"id":"h2","name":"{}","ts":{NOW},"anon_id":"v1"}}"#, "N".repeat(500));
    vec![
        case(
            "not JSON",
            "hello",
            StatusCode::BAD_REQUEST,
            "the body is not JSON: invalid JSON at line 1, column 1",
        ),
        case("empty body", "", StatusCode::BAD_REQUEST, "unexpected end of input"),
        case(
            "truncated JSON",
            r#"{"site":"shop","sent_at":1,"events":[{"id":"#,
            StatusCode::BAD_REQUEST,
            "unexpected end of input",
        ),
        case(
            "10 MB body",
            ten_mb,
            StatusCode::PAYLOAD_TOO_LARGE,
            "the body is 10485760 bytes; the limit is 262144",
        ),
        case(
            "10,000-deep nesting",
            deep,
            StatusCode::BAD_REQUEST,
            "nesting is deeper than 64 levels",
        ),
        case(
            "array, not a batch",
            "[1,2]",
            StatusCode::BAD_REQUEST,
            "$: expected an object, found an array",
        ),
        case(
            "wrong types",
            r#"{"site":"shop","sent_at":"yesterday","events":{}}"#,
            StatusCode::BAD_REQUEST,
            r#"sent_at: expected a timestamp in milliseconds, found "yesterday"; events: expected an array of events, found an object"#,
        ),
        case(
            "misspelt field",
            r#"{"site":"shop","sent_at":1,"event":[]}"#,
            StatusCode::BAD_REQUEST,
            r#"event: unknown field "event", did you mean "events"?"#,
        ),
        case(
            "unknown site",
            r#"{"site":"shop2","sent_at":1,"events":[]}"#,
            StatusCode::FORBIDDEN,
            r#"unknown site "shop2""#,
        ),
        case(
            "wrong key (not a site key at all)",
            r#"{"site":42,"sent_at":1,"events":[]}"#,
            StatusCode::BAD_REQUEST,
            "site: expected a site key",
        ),
        case(
            "wrong key (path characters)",
            r#"{"site":"../shop","sent_at":1,"events":[]}"#,
            StatusCode::BAD_REQUEST,
            "site: expected a site key",
        ),
        case(
            "invalid UTF-8 bytes",
            invalid_utf8,
            StatusCode::BAD_REQUEST,
            "not valid UTF-8 (invalid byte at offset 20)",
        ),
        case(
            "huge property string",
            batch(&[huge_prop]),
            StatusCode::OK,
            "events[0].props: size in bytes is 100011",
        ),
        case(
            "event name too long",
            batch(&[long_name]),
            StatusCode::OK,
            "events[0].name: length is 500, at most 128",
        ),
        case(
            "event of the wrong type",
            batch(&["17".to_string()]),
            StatusCode::OK,
            "events[0]: expected an object, found 17",
        ),
        case(
            "event with an unknown field",
            batch(&[format!(
                r#"{{"id":"u1","name":"Page Viewed","ts":{NOW},"anon_id":"v","prop":{{}}}}"#
            )]),
            StatusCode::OK,
            r#"events[0].prop: unknown field "prop", did you mean "props"?"#,
        ),
    ]
}

#[tokio::test]
async fn each_bad_input_gets_a_clear_error_and_a_bad_row() {
    let h = harness().await;
    for (i, c) in cases().into_iter().enumerate() {
        let before = h.count("SELECT COUNT(*) FROM bad_rows");
        let a = h.batch(c.body).await;
        assert_eq!(a.status, c.status, "{}: {}", c.name, a.text());
        let said = if c.status == StatusCode::OK {
            let j = a.json();
            assert_eq!(j["rejected"], 1, "{}: {j}", c.name);
            j["errors"][0].as_str().unwrap_or_default().to_string()
        } else {
            a.error()
        };
        assert!(said.contains(c.says), "{}: said {said:?}, wanted {:?}", c.name, c.says);
        assert_eq!(
            h.count("SELECT COUNT(*) FROM bad_rows"),
            before + 1,
            "{}: kept as a bad row",
            c.name
        );
        let reason: String = rusqlite::Connection::open(&h.db)
            .unwrap()
            .query_row("SELECT reason FROM bad_rows ORDER BY id DESC LIMIT 1", [], |r| r.get(0))
            .unwrap();
        assert!(reason.contains(c.says), "{}: bad row reason {reason:?}", c.name);
        // The server keeps serving.
        let good = h.batch(batch(&[event(&format!("ok{i}"), "Page Viewed", NOW, "v1")])).await;
        assert_eq!(good.status, StatusCode::OK, "{}: next good batch", c.name);
        assert_eq!(good.json()["accepted"], 1, "{}: next good batch", c.name);
    }
    // Raw text is kept, truncated: the 10 MB body left at most 4 KiB behind.
    assert!(h.count("SELECT MAX(LENGTH(raw)) FROM bad_rows") <= 4_096);
    assert_eq!(h.count("SELECT MAX(raw_bytes) FROM bad_rows"), 10 * 1024 * 1024);
}

#[tokio::test]
async fn bad_rows_are_listed_for_admins() {
    let h = harness().await;
    h.batch("nope").await;
    let a = h.admin(axum::http::Method::GET, "/v1/admin/bad-rows?limit=5", "").await;
    assert_eq!(a.status, StatusCode::OK);
    let rows = a.json();
    assert_eq!(rows[0]["raw"], "nope");
    assert!(rows[0]["reason"].as_str().unwrap().starts_with("the body is not JSON"));
}
