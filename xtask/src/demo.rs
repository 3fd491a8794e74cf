//! `cargo xtask demo`: the whole product on this machine, from a fresh clone.
//!
//! Builds the browser SDK into `dist/` (the same `dist` build the SDK ships), builds the
//! collector with `--profile server`, starts it on 127.0.0.1 with a fresh SQLite file under
//! `target/demo/` and `www/`, `examples/` and `dist/` as static files, registers the demo
//! sites (allowed from the local server's own origins) and publishes a demo campaign set in
//! English and Korean through the admin API, exactly as a marketer's editor would. Then it
//! prints the URLs to open and runs until Ctrl-C, which the collector also receives and
//! answers by draining and exiting cleanly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};

use crate::{collector_bench, dist, root};

/// The port tried first (the printed URLs are stable); any free port if it is taken.
const PORT: u16 = 8787;

/// Site keys the demo pages use: the shop (`www/shop`) and the examples.
const SITES: &[&str] = &["demo", "demo-shop", "plain", "spa", "npm"];

/// The demo campaign set: a coupon modal on the third view of one product, a time deal with
/// a countdown when a cart is left 60 s without checkout, and a free-shipping bar for carts
/// under the threshold; each in English and Korean.
const CAMPAIGNS: &str = r##"{
  "schema": 1,
  "budget": {"per_session": 3, "min_gap": "10s"},
  "campaigns": [
    {
      "id": "repeat-view-coupon",
      "name": "Third view of a product: 10% coupon",
      "priority": 10,
      "placement": {"type": "modal", "overlay": true},
      "trigger": {"count": {"event": "Product Viewed", "at_least": 3, "within": "session", "same": "product_id"}},
      "content": {
        "headline": {"en": "Still thinking it over?", "ko": "아직 고민 중이신가요?"},
        "body": {"en": "Here is 10% off to help you decide. Valid today only.",
                 "ko": "결정을 도와드릴 10% 할인 쿠폰이에요. 오늘만 사용할 수 있어요."},
        "coupon": "STILL10",
        "cta": {"label": {"en": "Go to cart", "ko": "장바구니 보기"}, "url": "/shop/cart.html"},
        "theme": {"background": "#ffffff", "text": "#1c1917", "accent": "#b45309", "accent_text": "#ffffff", "radius": 16}
      },
      "variants": [
        {"id": "a", "weight": 1},
        {"id": "b", "weight": 1, "content": {"coupon": "STILL15",
          "body": {"en": "Here is 15% off to help you decide. Valid today only.",
                   "ko": "결정을 도와드릴 15% 할인 쿠폰이에요. 오늘만 사용할 수 있어요."}}}
      ],
      "control": 0.1,
      "goal": {"event": "Order Completed", "within": "7d"},
      "caps": {"per_session": 1, "after_dismiss": "1d"}
    },
    {
      "id": "cart-time-deal",
      "name": "Cart left 60 s without checkout: time deal",
      "priority": 5,
      "placement": {"type": "bar", "position": "top", "mode": "push"},
      "trigger": {"sequence": {"first": "Product Added", "then_not": "Checkout Started", "within": "60s"}},
      "content": {
        "headline": {"en": "Time deal: 5% off your cart if you order now", "ko": "타임딜: 지금 주문하면 장바구니 5% 할인"},
        "coupon": "NOW5",
        "countdown": {"minutes": 15},
        "cta": {"label": {"en": "Check out", "ko": "주문하기"}, "url": "/shop/checkout.html"},
        "theme": {"background": "#b45309", "text": "#ffffff", "accent": "#ffffff", "accent_text": "#1c1917", "radius": 8}
      },
      "goal": {"event": "Checkout Started", "within": "1h"}
    },
    {
      "id": "free-shipping-bar",
      "name": "Free shipping over 50,000 won",
      "priority": 1,
      "placement": {"type": "bar", "position": "bottom"},
      "trigger": {"event": "Product Added"},
      "audience": {"cart_value": {"lt": 50000}},
      "content": {
        "headline": {"en": "Free shipping on orders over ₩50,000", "ko": "5만원 이상 주문 시 무료 배송"},
        "cta": {"label": {"en": "View cart", "ko": "장바구니"}, "url": "/shop/cart.html"}
      },
      "caps": {"per_session": 2}
    }
  ]
}"##;

/// One HTTP/1.0 request to the collector; the status and body.
fn request(addr: &str, method: &str, path: &str, token: &str, body: &str) -> Result<(u16, String)> {
    let mut s = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status = out.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    Ok((status, out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()))
}

fn admin(addr: &str, token: &str, method: &str, path: &str, body: &str) -> Result<String> {
    let (status, answer) = request(addr, method, path, token, body)?;
    if !(200..300).contains(&status) {
        bail!("{method} {path} answered {status}: {answer}");
    }
    Ok(answer)
}

/// A token for this run only (the demo listens on loopback; it still deserves one).
fn token() -> String {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("demo-{:x}{:x}", t, std::process::id())
}

pub(crate) fn demo() -> Result<()> {
    // The SDK as shops get it: the same build `cargo xtask dist` makes (installs its tools).
    let size = dist::dist().context("building dist/")?;
    eprintln!("dist/ built: {size} bytes brotli (loader + glue + wasm)");
    let bins = collector_bench::build()?;

    let dir = root().join("target/demo");
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("demo.db");
    // A fresh database each run: the demo starts from the published set below.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let token = token();
    let listen = match std::net::TcpListener::bind(("127.0.0.1", PORT)) {
        Ok(_) => format!("127.0.0.1:{PORT}"),
        Err(_) => "127.0.0.1:0".to_string(),
    };
    let mut cmd = Command::new(bins.join("nudge-collector"));
    cmd.arg("--db").arg(&db).args(["--listen", &listen]);
    // `/www` too: some demo pages link to `/www/shop/...` (the repository's layout).
    for (url, sub) in [("/", "www"), ("/www", "www"), ("/examples", "examples"), ("/dist", "dist")]
    {
        if root().join(sub).is_dir() {
            cmd.arg("--static").arg(format!("{url}={}", root().join(sub).display()));
        } else {
            eprintln!("note: {sub}/ is missing; not served");
        }
    }
    // A person clicks around: the per-IP limit is for the internet, not for one browser.
    cmd.args(["--ip-rate", "1000", "--ip-burst", "5000"]);
    cmd.env("NUDGE_ADMIN_TOKEN", &token).stdout(Stdio::piped());
    let mut child = cmd.spawn().context("starting the collector")?;
    let mut stdout = BufReader::new(child.stdout.take().context("collector stdout")?);
    let mut line = String::new();
    stdout.read_line(&mut line)?;
    let Some(addr) = line.trim().strip_prefix("listening on http://").map(str::to_string) else {
        let _ = child.kill();
        bail!("the collector did not start: {line:?}");
    };
    let base = format!("http://{addr}");
    let port = addr.rsplit(':').next().unwrap_or_default();
    let setup = || -> Result<()> {
        let origins =
            format!(r#"{{"origins": ["http://127.0.0.1:{port}", "http://localhost:{port}"]}}"#);
        for site in SITES {
            admin(&addr, &token, "PUT", &format!("/v1/admin/sites/{site}"), &origins)?;
            let saved = admin(
                &addr,
                &token,
                "PUT",
                &format!("/v1/admin/sites/{site}/campaigns"),
                CAMPAIGNS,
            )?;
            if saved.contains(r#""warnings":[{"#) {
                eprintln!("campaign warnings for {site}: {saved}");
            }
            admin(&addr, &token, "POST", &format!("/v1/admin/sites/{site}/publish"), "")?;
        }
        Ok(())
    };
    if let Err(e) = setup() {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e.context("setting up the demo sites"));
    }

    let q = format!("collector={base}&site=demo&token={token}");
    println!();
    println!("nudge demo is running (SQLite: {}); Ctrl-C stops it.", db.display());
    println!();
    println!("  shop        {base}/shop/index.html");
    println!("  editor      {base}/editor/index.html?{q}");
    println!("  dashboard   {base}/dashboard/index.html?{q}");
    println!("  examples    {base}/examples/plain-html/index.html");
    println!("              {base}/examples/spa/index.html");
    println!("  campaigns   {base}/v1/sites/demo/campaigns");
    println!("  admin token {token}");
    println!();
    // Ctrl-C reaches the collector too (same process group): it drains and exits 0, and so
    // do we. Keep echoing its log lines meanwhile.
    let echo = std::thread::spawn(move || {
        for l in stdout.lines().map_while(Result::ok) {
            println!("{l}");
        }
    });
    let status = child.wait()?;
    let _ = echo.join();
    if !status.success() {
        bail!("the collector exited with {status}");
    }
    Ok(())
}
