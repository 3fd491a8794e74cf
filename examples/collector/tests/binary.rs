//! The real `nudge-collector` binary on 127.0.0.1 with a free port: an acknowledged batch
//! survives `kill -9`, SIGTERM drains and exits cleanly, and `--help` explains every flag.
//!
//! The port is whatever the OS gave (`--listen 127.0.0.1:0`); the binary prints it on
//! stdout once bound, so the tests wait on that line instead of sleeping.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_nudge-collector");
const ENV: [&str; 4] = ["NUDGE_DB", "NUDGE_LISTEN", "NUDGE_ADMIN_TOKEN", "NUDGE_SITES"];

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(db: &Path) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.arg("--db").arg(db).args(["--listen", "127.0.0.1:0", "--site", "shop"]);
        for var in ENV {
            cmd.env_remove(var);
        }
        let mut child =
            cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("start the binary");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read stdout");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("first line: {line:?}"));
        Server { addr: addr.to_string(), child }
    }

    /// One HTTP/1.1 request on a fresh connection; returns the status and the body.
    fn post(&self, path: &str, body: &str) -> (u16, String) {
        let mut s = TcpStream::connect(&self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .expect("send");
        let mut resp = String::new();
        s.read_to_string(&mut resp).expect("read");
        let status = resp.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let body = resp.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        (status, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn batch(n: usize, prefix: &str) -> String {
    let events: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"id":"{prefix}{i}","name":"Page Viewed","ts":1700000000000,"anon_id":"v{i}"}}"#
            )
        })
        .collect();
    format!(r#"{{"site":"shop","sent_at":1700000000000,"events":[{}]}}"#, events.join(","))
}

fn count_events(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("reopen the database");
    conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0)).expect("count")
}

#[test]
fn an_acknowledged_batch_survives_kill_9() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("events.db");
    let mut server = Server::start(&db);
    let (status, body) = server.post("/v1/batch", &batch(150, "k"));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""accepted":150"#), "{body}");
    // SIGKILL right after the 200: no shutdown code runs.
    server.child.kill().expect("kill -9");
    server.child.wait().expect("reap");
    assert_eq!(count_events(&db), 150);
}

#[test]
fn sigterm_drains_and_exits_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("events.db");
    let mut server = Server::start(&db);
    let (status, _) = server.post("/v1/batch", &batch(20, "t"));
    assert_eq!(status, 200);
    let (status, body) = server.post("/v1/batch", "not json");
    assert_eq!(status, 400, "{body}");
    let pid = server.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
    assert!(killed.success());
    let exit = server.child.wait().expect("wait");
    assert!(exit.success(), "exit status {exit}");
    assert_eq!(count_events(&db), 20);
    // The writer checkpointed on the way out: the write-ahead log is empty.
    let wal = dir.path().join("events.db-wal");
    assert!(std::fs::metadata(&wal).map_or(true, |m| m.len() == 0), "WAL left behind");
}

#[test]
fn sigterm_finishes_a_batch_in_flight() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("events.db");
    let mut server = Server::start(&db);
    let body = batch(30, "f");
    let mut s = TcpStream::connect(&server.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    write!(
        s,
        "POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .expect("send headers");
    // The server says "100 Continue" once the handler starts reading the body: from here
    // the request is in flight, with no sleep needed to know it.
    let mut reader = BufReader::new(s.try_clone().expect("clone"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("read 100");
    assert!(line.starts_with("HTTP/1.1 100"), "{line:?}");
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("run kill").success());
    s.write_all(body.as_bytes()).expect("send body");
    let mut rest = String::new();
    reader.read_to_string(&mut rest).expect("read answer");
    assert!(rest.contains("HTTP/1.1 200"), "{rest}");
    assert!(rest.contains(r#""accepted":30"#), "{rest}");
    assert!(server.child.wait().expect("wait").success());
    assert_eq!(count_events(&db), 30);
}

#[test]
fn help_explains_every_flag_and_hides_the_token() {
    let out = Command::new(BIN)
        .arg("--help")
        .env("NUDGE_ADMIN_TOKEN", "s3cret-value")
        .output()
        .expect("run --help");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--db",
        "--listen",
        "--admin-token",
        "--sites",
        "--site",
        "--body-limit",
        "--ip-rate",
        "--site-rate",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
    for var in ["NUDGE_DB", "NUDGE_LISTEN", "NUDGE_ADMIN_TOKEN"] {
        assert!(help.contains(var), "--help lacks {var}:\n{help}");
    }
    assert!(!help.contains("s3cret-value"), "--help printed the admin token");
}
