#![cfg(feature = "serve")]
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
//! `huiqi serve` as a client meets it: the real server on a loopback port, a real HTTP client
//! (reqwest), and raw sockets for what no polite client sends (oversized, truncated, slow or
//! invalid bodies, floods of connections).

use huiqi::serve::{Config, Server};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const EXAMPLE: &str = "examples/光电子科技.json";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn config() -> Config {
    let mut c = Config::new();
    c.policies = vec![root().join("policies")];
    c.addr = "127.0.0.1:0".parse().unwrap();
    c
}

async fn start(c: Config) -> (Server, String) {
    let s = Server::start(c).await.expect("the server starts");
    let base = format!("http://{}", s.addr);
    (s, base)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap()
}

fn example() -> Vec<u8> {
    std::fs::read(root().join(EXAMPLE)).unwrap()
}

fn huiqi(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_huiqi")).current_dir(root()).args(args).output().expect("run huiqi")
}

async fn post(
    c: &reqwest::Client,
    url: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let r = c.post(url).header("content-type", "application/json").body(body).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, v, headers)
}

async fn get(c: &reqwest::Client, url: &str) -> (u16, Value) {
    let r = c.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")))
}

/// Sends raw bytes and returns what the server answered (until it closes or `wait` passes).
async fn raw(addr: std::net::SocketAddr, bytes: &[u8], wait: Duration) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    read_answer(&mut s, wait).await
}

async fn read_answer(s: &mut TcpStream, wait: Duration) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
        if let Some(text) = complete(&out) {
            return text;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A whole HTTP response with a Content-Length body, once it has all arrived.
fn complete(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let len: usize = head.lines().find_map(|l| {
        l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())
    })?;
    (body.len() >= len).then(|| text.into_owned())
}

fn status_of(answer: &str) -> u16 {
    answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status in {answer:?}"))
}

fn body_of(answer: &str) -> Value {
    let body = answer.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {answer}"))
}

async fn still_up(c: &reqwest::Client, base: &str) {
    let (status, v) = get(c, &format!("{base}/healthz")).await;
    assert_eq!(status, 200);
    assert_eq!(v["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_enterprise_gets_the_same_json_as_the_command_line() {
    let (s, base) = start(config()).await;
    let c = client();
    let (status, mut served, headers) = post(&c, &format!("{base}/v1/evaluate"), example()).await;
    assert_eq!(status, 200, "{served}");
    let version = headers["x-huiqi-ruleset"].to_str().unwrap().to_string();
    assert!(version.starts_with("sha256:") && version.len() == 23, "{version}");
    assert_eq!(served["ruleset"], version.as_str());
    served.as_object_mut().unwrap().remove("ruleset");
    let o = huiqi(&["eval", "--facts", EXAMPLE, "--format", "json"]);
    let cli: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(served, cli, "POST /v1/evaluate must answer what `huiqi eval --format json` writes");
    assert!(cli["results"].as_array().unwrap().len() > 10);

    // the same in English, without explanations: the same statuses, amounts and missing facts
    let (status, en, _) =
        post(&c, &format!("{base}/v1/evaluate?lang=en&explain=false&period=2024"), example()).await;
    assert_eq!(status, 200);
    let o = huiqi(&["eval", "--facts", EXAMPLE, "--format", "json", "--lang", "en", "--period", "2024"]);
    let cli_en: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(en["total"], cli_en["total"]);
    for (a, b) in en["results"].as_array().unwrap().iter().zip(cli_en["results"].as_array().unwrap()) {
        assert_eq!(
            (&a["clause"], &a["status"], &a["amount"], &a["missing"]),
            (&b["clause"], &b["status"], &b["amount"], &b["missing"])
        );
        assert_eq!(a["explanation"], json!([]));
        assert!(!b["explanation"].as_array().unwrap().is_empty() || b["status"] != "granted");
    }
    // an as-of date from the query, and one from the body
    let mut facts: Value = serde_json::from_slice(&example()).unwrap();
    facts["$as_of"] = json!("2024-06-30");
    let (status, v, _) = post(&c, &format!("{base}/v1/evaluate"), facts.to_string()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["as_of"], "2024-06-30");
    let (status, v, _) = post(&c, &format!("{base}/v1/evaluate?as_of=2024-03-01"), facts.to_string()).await;
    assert_eq!((status, &v["as_of"]), (200, &json!("2024-03-01")));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_in_the_body_is_read_as_the_command_line_reads_it() {
    let (s, base) = start(config()).await;
    let c = client();
    let dir = tmpdir("ledger");
    let ledger = json!({"schema_version": 1, "entries": [{"policy": "E23", "clause": "5", "key": "5亿", "period": 2023, "amount": "500000.00"}]});
    std::fs::write(dir.join("ledger.json"), ledger.to_string()).unwrap();
    let mut facts: Value = serde_json::from_slice(&example()).unwrap();
    facts["$ledger"] = ledger;
    let (status, mut v, _) = post(&c, &format!("{base}/v1/evaluate"), facts.to_string()).await;
    assert_eq!(status, 200, "{v}");
    v.as_object_mut().unwrap().remove("ruleset");
    let l = dir.join("ledger.json");
    let o = huiqi(&["eval", "--facts", EXAMPLE, "--format", "json", "--ledger", l.to_str().unwrap()]);
    let cli: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v, cli);
    // a broken ledger: 422 with the ledger's code and path
    facts["$ledger"] = json!({"schema_version": 1, "entries": [{"policy": "E23"}]});
    let (status, v, _) = post(&c, &format!("{base}/v1/evaluate"), facts.to_string()).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["code"], "E0404");
    assert_eq!(v["errors"][0]["code"], "E0404");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_facts_are_422_with_the_command_lines_error_objects() {
    let (s, base) = start(config()).await;
    let c = client();
    let url = format!("{base}/v1/evaluate");
    let (status, v, _) = post(&c, &url, r#"{"营业收人": {"2024": "1亿"}, "行业": 42}"#).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["code"], "E0402");
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{v}");
    assert_eq!(errors[0]["code"], "E0402");
    assert_eq!(errors[0]["path"], "营业收人");
    assert_eq!(errors[0]["message"], "unknown fact `营业收人`");
    assert!(errors[0]["help"].as_str().unwrap().contains("营业收入"), "{v}");
    assert_eq!(errors[1]["code"], "E0403");
    assert_eq!(errors[1]["path"], "行业");
    // facts that are JSON but not an object
    let (status, v, _) = post(&c, &url, "[1, 2]").await;
    assert_eq!((status, v["code"].as_str()), (422, Some("E0403")));
    // no period at all
    let (status, v, _) = post(&c, &url, r#"{"行业": "电子信息制造业"}"#).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("no_period")), "{v}");
    // a bad date, a bad language, a bad query
    let (status, v, _) = post(&c, &format!("{url}?as_of=2024-13-01"), example()).await;
    assert_eq!((status, v["code"].as_str()), (422, Some("bad_request")), "{v}");
    let (status, v, _) = post(&c, &format!("{url}?lang=fr"), example()).await;
    assert_eq!((status, v["code"].as_str()), (400, Some("bad_request")), "{v}");
    let (status, v, _) = post(&c, &format!("{url}?period=next"), example()).await;
    assert_eq!((status, v["code"].as_str()), (400, Some("bad_request")), "{v}");
    still_up(&c, &base).await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_truncated_deep_and_non_utf8_bodies_are_400_and_the_server_stays_up() {
    let (s, base) = start(config()).await;
    let c = client();
    let url = format!("{base}/v1/evaluate");
    for body in [
        &b"{\"\xe8\x90\xa5\xe4\xb8\x9a\xe6\x94\xb6\xe5\x85\xa5\": "[..],
        b"{",
        b"",
        b"not json",
        b"{\"a\": 1}}",
    ] {
        let (status, v, _) = post(&c, &url, body.to_vec()).await;
        assert_eq!(status, 400, "{v}");
        assert_eq!(v["code"], "E0401");
        assert!(v["errors"][0]["path"].as_str().unwrap().starts_with("line "), "{v}");
        assert!(v["errors"][0]["help"].is_string(), "{v}");
    }
    // a truncated body of the example (every prefix that is not whole JSON)
    let ex = example();
    for cut in [1, ex.len() / 3, ex.len() / 2, ex.len() - 3] {
        let (status, v, _) = post(&c, &url, ex[..cut].to_vec()).await;
        assert_eq!((status, v["code"].as_str()), (400, Some("E0401")), "cut at {cut}: {v}");
    }
    // 100,000-deep nesting: an error, not a crash
    let deep = format!("{{\"营业收入\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let (status, v, _) = post(&c, &url, deep).await;
    assert_eq!((status, v["code"].as_str()), (400, Some("E0401")), "{v}");
    let deep_objects = "{\"a\":".repeat(100_000);
    let (status, _, _) = post(&c, &url, deep_objects).await;
    assert_eq!(status, 400);
    // invalid UTF-8
    let (status, v, _) = post(&c, &url, vec![b'{', 0xff, 0xfe, b'}']).await;
    assert_eq!((status, v["code"].as_str()), (400, Some("E0401")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("UTF-8"));
    // an unknown path, a wrong method
    let (status, v) = get(&c, &format!("{base}/v2/nothing")).await;
    assert_eq!((status, v["code"].as_str()), (404, Some("not_found")));
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    still_up(&c, &base).await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mb_body_is_413_without_being_read() {
    let (s, base) = start(config()).await;
    let addr = s.addr;
    // announced: refused at once, before any of it is sent
    let head = "POST /v1/evaluate HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 104857600\r\n\r\n";
    let answer = raw(addr, head.as_bytes(), Duration::from_secs(10)).await;
    assert_eq!(status_of(&answer), 413, "{answer}");
    assert_eq!(body_of(&answer)["code"], "body_too_large");
    // chunked, never announced: refused once the limit is passed, while the client is
    // still sending; the server reads about the limit, not the 100 MB
    let mut sock = TcpStream::connect(addr).await.unwrap();
    sock.write_all(b"POST /v1/evaluate HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    let (mut rd, mut wr) = sock.into_split();
    let writer = tokio::spawn(async move {
        let chunk = vec![b' '; 1 << 20];
        let mut sent = 0usize;
        for _ in 0..100 {
            let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            if wr.write_all(&frame).await.is_err() {
                break;
            }
            sent += chunk.len();
        }
        sent
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(20);
    while complete(&got).is_none() && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), rd.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    let answer = String::from_utf8_lossy(&got).into_owned();
    assert_eq!(status_of(&answer), 413, "{answer}");
    drop(rd);
    let sent = writer.await.unwrap();
    assert!(sent < 100 << 20, "the server should stop the upload, yet {sent} bytes went through");
    let c = client();
    still_up(&c, &base).await;
    // the batch endpoint refuses an announced body over its limit too
    let mut cfg = config();
    cfg.batch_body_limit = 1000;
    let (s2, _) = start(cfg).await;
    let head = "POST /v1/evaluate/batch HTTP/1.1\r\nhost: x\r\ncontent-length: 104857600\r\n\r\n";
    let answer = raw(s2.addr, head.as_bytes(), Duration::from_secs(10)).await;
    assert_eq!(status_of(&answer), 413, "{answer}");
    s2.shutdown().await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_and_slow_headers_time_out() {
    let mut cfg = config();
    cfg.body_timeout = Duration::from_millis(800);
    cfg.header_timeout = Duration::from_millis(800);
    let (s, base) = start(cfg).await;
    // slow-drip body: one byte every 200 ms of a 100-byte body
    let mut sock = TcpStream::connect(s.addr).await.unwrap();
    sock.write_all(b"POST /v1/evaluate HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{").await.unwrap();
    let started = Instant::now();
    let drip = async {
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if sock.write_all(b" ").await.is_err() {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(1500), drip).await;
    let answer = read_answer(&mut sock, Duration::from_secs(5)).await;
    assert_eq!(status_of(&answer), 408, "{answer}");
    assert_eq!(body_of(&answer)["code"], "timeout");
    assert!(started.elapsed() < Duration::from_secs(5));
    // slow headers (slowloris): the connection is closed
    let mut sock = TcpStream::connect(s.addr).await.unwrap();
    sock.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n").await.unwrap();
    let t = Instant::now();
    let answer = read_answer(&mut sock, Duration::from_secs(5)).await;
    assert!(t.elapsed() < Duration::from_secs(4), "the server waited {:?} for headers", t.elapsed());
    assert!(!answer.contains("200 OK"), "{answer}");
    // a batch body that stops arriving ends with a timeout line
    let mut sock = TcpStream::connect(s.addr).await.unwrap();
    let row = String::from_utf8(example()).unwrap().replace('\n', " ");
    let first = format!("{row}\n");
    let head = format!(
        "POST /v1/evaluate/batch HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{first}\r\n",
        first.len()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&got).contains("\"timeout\"") && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"line\":1,"), "the row read before the pause is answered: {text}");
    assert!(text.contains("{\"error\":{\"code\":\"timeout\""), "{text}");
    still_up(&client(), &base).await;
    s.shutdown().await;
}

fn population(n: u64) -> Vec<String> {
    huiqi::population::population_lines(n, 7, 2024).collect()
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("huiqi-serve-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_answers_row_for_row_what_the_command_line_writes() {
    let (s, base) = start(config()).await;
    let c = client();
    let mut rows = population(2500);
    // bad rows stay, with their line numbers
    rows.insert(3, "{\"营业收入\": ".into());
    rows.insert(10, "{\"未知事实\": 1}".into());
    rows.insert(11, String::new());
    rows.insert(2000, "[1]".into());
    let mut body = rows.join("\n").into_bytes();
    body.extend_from_slice(b"\n\xff\xfe{}\n");
    let dir = tmpdir("batch");
    let input = dir.join("pop.jsonl");
    std::fs::write(&input, &body).unwrap();
    let o = huiqi(&["eval", "--facts", input.to_str().unwrap(), "--format", "jsonl", "--quiet"]);
    let cli = String::from_utf8(o.stdout).unwrap();
    assert_eq!(cli.lines().count(), 2504);

    let r = c.post(format!("{base}/v1/evaluate/batch?summary=true")).body(body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let version = r.headers()["x-huiqi-ruleset"].to_str().unwrap().to_string();
    let text = r.text().await.unwrap();
    let (rows_out, summary) = text.trim_end().rsplit_once('\n').unwrap();
    assert_eq!(rows_out, cli.trim_end(), "the rows must be the command line's, byte for byte");
    let lines: Vec<Value> = rows_out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[3]["line"], 4);
    assert_eq!(lines[3]["errors"][0]["code"], "E0401");
    assert_eq!(lines[10]["errors"][0]["code"], "E0402");
    assert_eq!(lines[10]["line"], 11);
    let last = lines.last().unwrap();
    assert!(last["errors"][0]["message"].as_str().unwrap().contains("UTF-8"), "{last}");
    let summary: Value = serde_json::from_str(summary).unwrap();
    assert_eq!(summary["ruleset"], version.as_str());
    assert_eq!(summary["summary"]["rows"], 2504);
    assert_eq!(summary["summary"]["failed"], 4);
    let mut total = rust_decimal::Decimal::ZERO;
    for l in &lines {
        if let Some(t) = l["total"].as_str() {
            total += t.parse::<rust_decimal::Decimal>().unwrap();
        }
    }
    assert_eq!(summary["summary"]["total"].as_str().unwrap(), huiqi::value::fmt_yuan(total));
    assert!(summary["summary"]["clauses"].as_array().unwrap().iter().any(|c| c["ref"] == "E23.5"));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_streams_rows_before_its_body_has_all_arrived_and_stops_at_the_row_limit() {
    let mut cfg = config();
    cfg.batch_rows = 1500;
    cfg.batch_concurrency = 1;
    // generous idle time between the two pieces of the body: on a loaded machine the first
    // 1,024 rows may take a while, and the test is about streaming, not the idle timeout
    cfg.body_timeout = Duration::from_secs(120);
    let (s, base) = start(cfg).await;
    let rows = population(2000);
    let first: String = rows[..1100].iter().map(|r| format!("{r}\n")).collect();
    let mut sock = TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST /v1/evaluate/batch HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{first}\r\n",
        first.len()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    // the first 1,024 rows come back while the request is still open
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    let deadline = Instant::now() + Duration::from_secs(120);
    while !String::from_utf8_lossy(&got).contains("\"line\":1024,") && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(60), sock.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    assert!(
        String::from_utf8_lossy(&got).contains("\"line\":1024,"),
        "no rows streamed back yet: {} bytes, ends {}",
        got.len(),
        String::from_utf8_lossy(&got).chars().rev().take(300).collect::<String>()
    );
    // a second batch meanwhile: no place (batch concurrency 1)
    let c = client();
    let r = c.post(format!("{base}/v1/evaluate/batch")).body(rows[0].clone()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    // the rest: 900 more rows, past the limit of 1,500
    let rest: String = rows[1100..].iter().map(|r| format!("{r}\n")).collect();
    sock.write_all(format!("{:x}\r\n{rest}\r\n0\r\n\r\n", rest.len()).as_bytes()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !String::from_utf8_lossy(&got).contains("\r\n0\r\n\r\n") && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(60), sock.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.contains("\"line\":1500,"), "rows up to the limit are answered");
    assert!(!text.contains("\"line\":1501,"), "no row past the limit is answered");
    assert!(
        text.contains("{\"error\":{\"code\":\"row_limit\""),
        "{}",
        text.chars().rev().take(400).collect::<String>()
    );
    // the place is free again
    let r = c.post(format!("{base}/v1/evaluate/batch")).body(rows[0].clone()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let line: Value = serde_json::from_str(r.text().await.unwrap().trim()).unwrap();
    assert_eq!(line["line"], 1);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalogue_shows_documents_clauses_their_ir_and_readings() {
    let (s, base) = start(config()).await;
    let c = client();
    let (status, v) = get(&c, &format!("{base}/v1/policies")).await;
    assert_eq!(status, 200);
    let docs = v["documents"].as_array().unwrap();
    let keys: Vec<&str> = docs.iter().map(|d| d["policy"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        ["A24", "BJ20", "E23", "GD20", "GZ19", "HD20", "K22", "S22", "T13", "TH23"],
        "the documents in file order"
    );
    let e23 = docs.iter().find(|d| d["policy"] == "E23").unwrap();
    assert_eq!(e23["number"], "吉政办发〔2023〕10号");
    let (status, v) = get(&c, &format!("{base}/v1/policies/E23")).await;
    assert_eq!(status, 200);
    assert_eq!(v["document"]["title"], "吉林省人民政府办公厅关于支持电子信息制造业创新发展的意见");
    let c5 = v["clauses"].as_array().unwrap().iter().find(|x| x["ref"] == "E23.5").unwrap();
    assert_eq!(c5["title"], "鼓励企业壮大规模");
    assert_eq!(c5["kind"], "benefit");
    let (status, v) = get(&c, &format!("{base}/v1/clauses/E23.5")).await;
    assert_eq!(status, 200, "{v}");
    assert!(v["ir"]["quote"].as_str().unwrap().contains("首次超过 1 亿元"));
    assert_eq!(v["ir"]["title"], "鼓励企业壮大规模");
    assert_eq!(v["ir"]["amount"]["form"], "tiers");
    assert_eq!(v["ir"]["limits"], json!(["once per tier"]));
    let readings = v["readings"].as_array().unwrap();
    assert!(readings[0].as_str().unwrap().starts_with("Thresholds: \"超过…以上\""), "{readings:?}");
    assert!(readings.iter().any(|r| r.as_str().unwrap().contains("Open reading")), "{readings:?}");
    // unknown names: 404 with what exists
    let (status, v) = get(&c, &format!("{base}/v1/policies/E32")).await;
    assert_eq!((status, v["code"].as_str()), (404, Some("not_found")));
    assert!(v["help"].as_str().unwrap().contains("E23"), "{v}");
    let (status, v) = get(&c, &format!("{base}/v1/clauses/E23.99")).await;
    assert_eq!(status, 404);
    assert!(v["help"].as_str().unwrap().contains("5"), "{v}");
    let (status, _) = get(&c, &format!("{base}/v1/clauses/E23")).await;
    assert_eq!(status, 404);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_health_and_metrics() {
    let (s, base) = start(config()).await;
    let c = client();
    let (status, doc) = get(&c, &format!("{base}/v1/openapi.json")).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/v1/evaluate",
        "/v1/evaluate/batch",
        "/v1/policies",
        "/v1/policies/{doc}",
        "/v1/clauses/{ref}",
        "/v1/openapi.json",
        "/v1/admin/reload",
        "/healthz",
        "/metrics",
    ] {
        assert!(doc["paths"][p].is_object(), "no {p} in the OpenAPI document");
    }
    let schemas = &doc["components"]["schemas"];
    for k in ["EvalReport", "ResultJson", "ErrorBody", "BatchRow", "Status"] {
        assert!(schemas[k].is_object(), "no schema {k}");
    }
    assert!(schemas["ResultJson"]["properties"]["amount"].is_object());
    let (status, h) = get(&c, &format!("{base}/healthz")).await;
    assert_eq!(status, 200);
    assert_eq!(h["clauses"].as_u64().unwrap() as usize, s.state.rules.load().compiled.program.clauses.len());
    post(&c, &format!("{base}/v1/evaluate"), example()).await;
    let text = c.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    let version = &s.state.rules.load().version;
    assert!(text.contains(&format!("huiqi_ruleset_info{{version=\"{version}\"")), "{text}");
    assert!(text.contains("huiqi_http_requests_total{route=\"/v1/evaluate\",status=\"200\"} 1"), "{text}");
    assert!(text.contains("huiqi_http_requests_total{route=\"/healthz\",status=\"200\"} 1"), "{text}");
    assert!(text.contains("huiqi_http_request_duration_seconds_count{route=\"/v1/evaluate\"} 1"), "{text}");
    assert!(text.contains("huiqi_evaluations_total{clause=\"E23.5\",status=\"granted\"} 1"), "{text}");
    assert!(text.contains("# TYPE huiqi_connections_open gauge"));
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_guard_evaluation_and_admin() {
    // no admin token: admin endpoints do not exist
    let (s, base) = start(config()).await;
    let c = client();
    let r = c.post(format!("{base}/v1/admin/reload")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    s.shutdown().await;

    let mut cfg = config();
    cfg.admin_token = Some("admin-secret-0123456789".into());
    cfg.token = Some("eval-secret-0123456789".into());
    let (s, base) = start(cfg).await;
    let url = format!("{base}/v1/admin/reload");
    let r = c.post(&url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let r = c.post(&url).bearer_auth("eval-secret-0123456789").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401, "the evaluation token is not the admin token");
    let r = c.post(&url).bearer_auth("admin-secret-0123456789").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ruleset"], v["previous"], "the same files give the same version");
    // evaluation requires its token; health, metrics and the API document do not
    let r = c.post(format!("{base}/v1/evaluate")).body(example()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "unauthorized");
    for path in ["/v1/policies", "/v1/clauses/E23.5", "/v1/evaluate/batch"] {
        let r = c
            .request(
                if path.ends_with("batch") { reqwest::Method::POST } else { reqwest::Method::GET },
                format!("{base}{path}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{path}");
    }
    let r = c
        .post(format!("{base}/v1/evaluate"))
        .bearer_auth("eval-secret-0123456789")
        .body(example())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    for path in ["/healthz", "/metrics", "/v1/openapi.json"] {
        assert_eq!(c.get(format!("{base}{path}")).send().await.unwrap().status().as_u16(), 200, "{path}");
    }
    s.shutdown().await;
}

fn copy_policies(name: &str) -> PathBuf {
    let dir = tmpdir(name).join("policies");
    copy_dir(&root().join("policies"), &dir);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let t = to.join(p.file_name().unwrap());
        if p.is_dir() { copy_dir(&p, &t) } else { std::fs::copy(&p, &t).map(|_| ()).unwrap() }
    }
}

/// Raises E23.5's 5亿 award from 50万 to 60万 (the example enterprise reaches that tier).
fn raise_award(dir: &Path) {
    let f = dir.join("E23.policy");
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains("达到 5亿  => 50万"));
    std::fs::write(&f, text.replace("达到 5亿  => 50万", "达到 5亿  => 60万")).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_good_and_broken_during_traffic_fail_no_request_and_mix_no_rule_sets() {
    let dir = copy_policies("reload");
    let mut cfg = config();
    cfg.policies = vec![dir.clone()];
    cfg.admin_token = Some("admin-secret-0123456789".into());
    let (s, base) = start(cfg).await;
    let c = client();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (c, base, stop) = (c.clone(), base.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, v, h) = post(&c, &format!("{base}/v1/evaluate"), example()).await;
                assert_eq!(status, 200, "{v}");
                let header = h["x-huiqi-ruleset"].to_str().unwrap().to_string();
                assert_eq!(v["ruleset"], header.as_str(), "body and header name one rule set");
                let e23_5 = v["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["policy"] == "E23" && r["clause"] == "5")
                    .unwrap()["amount"]
                    .clone();
                seen.push((header, v["total"].as_str().unwrap().to_string(), e23_5));
            }
            seen
        }));
    }
    let admin = |c: &reqwest::Client| {
        c.post(format!("{base}/v1/admin/reload")).bearer_auth("admin-secret-0123456789")
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let old = s.state.rules.load().version.clone();
    raise_award(&dir);
    let r = admin(&c).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["previous"], old.as_str());
    let new = v["ruleset"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // a broken rule set: refused with its diagnostics, the last good one keeps serving
    let f = dir.join("K22.policy");
    let good = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, good.replacen("clause", "clause clause", 1)).unwrap();
    let r = admin(&c).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "reload_refused");
    let d = &v["diagnostics"]["diagnostics"][0];
    assert_eq!(d["code"], "E0101", "{v}");
    assert!(d["file"].as_str().unwrap().ends_with("K22.policy"), "{v}");
    assert!(d["line"].as_u64().unwrap() > 0);
    assert_eq!(s.state.rules.load().version, new);
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut all = Vec::new();
    for h in clients {
        all.extend(h.await.unwrap());
    }
    assert!(all.iter().any(|x| x.0 == old) && all.iter().any(|x| x.0 == new), "traffic saw both rule sets");
    for (version, total, e23_5) in &all {
        let want = if *version == old { "500000.00" } else { "600000.00" };
        assert_eq!(e23_5, want, "rule set {version} answered E23.5 with {e23_5} (total {total})");
    }
    let totals: std::collections::BTreeSet<_> = all.iter().map(|x| (&x.0, &x.1)).collect();
    assert_eq!(totals.len(), 2, "one total per rule set: {totals:?}");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saturation_is_429_and_a_flood_of_connections_stays_bounded() {
    let mut cfg = config();
    cfg.concurrency = 1;
    cfg.queue = 1;
    cfg.max_connections = 32;
    cfg.header_timeout = Duration::from_millis(500);
    let (s, base) = start(cfg).await;
    let c = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    // many at once against one place and one queue slot: some are shed, none fails otherwise
    let mut shed = 0;
    for _round in 0..10 {
        let mut tasks = Vec::new();
        for _ in 0..24 {
            let (c, base) = (c.clone(), base.clone());
            tasks.push(tokio::spawn(async move {
                let r = c.post(format!("{base}/v1/evaluate")).body(example()).send().await.unwrap();
                let status = r.status().as_u16();
                let v: Value = r.json().await.unwrap();
                (status, v)
            }));
        }
        for t in tasks {
            let (status, v) = t.await.unwrap();
            assert!(status == 200 || status == 429, "{status} {v}");
            if status == 429 {
                assert_eq!(v["code"], "overloaded");
                shed += 1;
            }
        }
        if shed > 0 {
            break;
        }
    }
    assert!(shed > 0, "no request was shed with one place and one queue slot");
    // a flood: 300 idle connections; at most 32 are open at once, and the service answers
    let mut socks = Vec::new();
    for _ in 0..300 {
        if let Ok(Ok(sock)) =
            tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(s.addr)).await
        {
            socks.push(sock);
        }
    }
    let t = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(30), c.get(format!("{base}/metrics")).send()).await;
    let text = r.expect("answered during the flood").unwrap().text().await.unwrap();
    let open: i64 =
        text.lines().find_map(|l| l.strip_prefix("huiqi_connections_open ")).unwrap().parse().unwrap();
    assert!(open <= 32, "{open} connections open");
    assert!(t.elapsed() < Duration::from_secs(30));
    drop(socks);
    still_up(&c, &base).await;
    s.shutdown().await;
}

/// A free loopback port for a server process.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill").args([sig, &pid.to_string()]).status().unwrap().success();
    assert!(ok, "kill {sig} {pid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_process_reloads_on_sighup_and_stops_gracefully_on_sigterm_during_traffic() {
    let dir = copy_policies("process");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_huiqi"))
        .args(["serve", "--policies", dir.to_str().unwrap(), "--log-format", "json"])
        .env("HUIQI_ADDR", format!("127.0.0.1:{port}"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let c = client();
    let mut up = false;
    for _ in 0..100 {
        if let Ok(r) = c.get(format!("{base}/healthz")).send().await {
            up = r.status().is_success();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server did not come up");
    let (_, h) = get(&c, &format!("{base}/healthz")).await;
    let old = h["ruleset"].as_str().unwrap().to_string();
    raise_award(&dir);
    signal(child.id(), "-HUP");
    let mut new = old.clone();
    for _ in 0..100 {
        let (_, h) = get(&c, &format!("{base}/healthz")).await;
        new = h["ruleset"].as_str().unwrap().to_string();
        if new != old {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(new, old, "SIGHUP reloads the rule set");

    // traffic, and a batch in flight, when SIGTERM arrives
    let rows = population(5_000).join("\n");
    let batch = {
        let (c, base) = (c.clone(), base.clone());
        tokio::spawn(async move {
            let r = c.post(format!("{base}/v1/evaluate/batch?summary=true")).body(rows).send().await.unwrap();
            r.text().await.unwrap()
        })
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (base, stop) = (base.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let c = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
            let (mut ok, mut refused) = (0, 0);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                match c.post(format!("{base}/v1/evaluate")).body(example()).send().await {
                    Ok(r) => {
                        assert_eq!(r.status().as_u16(), 200);
                        let v: Value = r.json().await.expect("a whole answer");
                        assert_eq!(v["ruleset"], new_version(&v));
                        ok += 1;
                    }
                    // after the listener closed: refused (or closed before a request was
                    // read), never a half answer
                    Err(_) => {
                        refused += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
            (ok, refused)
        }));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    signal(child.id(), "-TERM");
    let t = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(t.elapsed() < Duration::from_secs(40), "the server did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(status.success(), "{status:?}");
    let mut ok = 0;
    for cl in clients {
        ok += cl.await.unwrap().0;
    }
    assert!(ok > 0);
    let out = batch.await.unwrap();
    let last: Value = serde_json::from_str(out.trim_end().rsplit_once('\n').unwrap().1).unwrap();
    assert_eq!(last["summary"]["rows"], 5_000, "the batch in flight finished");
    assert_eq!(out.lines().count(), 5_001);
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    let logs: Vec<Value> = err.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(logs.iter().any(|l| l["fields"]["message"] == "rule set reloaded"), "{err}");
    assert!(logs.iter().any(|l| l["fields"]["message"] == "SIGTERM"), "{err}");
}

fn new_version(v: &Value) -> Value {
    v["ruleset"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_half_closes_after_its_request_still_gets_the_answer() {
    let (s, _) = start(config()).await;
    let body = example();
    let mut sock = TcpStream::connect(s.addr).await.unwrap();
    let head = format!("POST /v1/evaluate HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n", body.len());
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&body).await.unwrap();
    sock.shutdown().await.unwrap();
    let answer = read_answer(&mut sock, Duration::from_secs(10)).await;
    assert_eq!(status_of(&answer), 200, "{answer}");
    assert_eq!(body_of(&answer)["enterprise"], "吉林光电子科技有限公司");
    s.shutdown().await;
}
