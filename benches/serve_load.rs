#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "a benchmark driver fails loudly"
)]
//! A load generator for `huiqi serve`, bounded in count and time, for loopback only.
//!
//! ```sh
//! cargo build --release && target/release/huiqi serve &
//! cargo bench --bench serve_load -- single --connections 16 --requests 20000 [--no-explain]
//! cargo bench --bench serve_load -- batch --file pop.jsonl
//! ```
//!
//! `single`: each connection (HTTP/1.1 keep-alive) sends the example enterprise back to back;
//! prints throughput and latency percentiles. `batch`: streams a JSON-lines file to
//! `/v1/evaluate/batch` and reads the rows as they come; prints rows per second.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

struct Args {
    mode: String,
    addr: String,
    connections: usize,
    requests: usize,
    explain: bool,
    file: String,
    limit: Duration,
}

fn args() -> Args {
    let mut a = Args {
        mode: "single".into(),
        addr: "127.0.0.1:8080".into(),
        connections: 16,
        requests: 20_000,
        explain: true,
        file: "pop.jsonl".into(),
        limit: Duration::from_secs(120),
    };
    let mut it = std::env::args().skip(1).filter(|x| x != "--bench");
    while let Some(x) = it.next() {
        match x.as_str() {
            "single" | "batch" => a.mode = x,
            "--addr" => a.addr = it.next().unwrap(),
            "--connections" => a.connections = it.next().unwrap().parse().unwrap(),
            "--requests" => a.requests = it.next().unwrap().parse().unwrap(),
            "--no-explain" => a.explain = false,
            "--file" => a.file = it.next().unwrap(),
            "--seconds" => a.limit = Duration::from_secs(it.next().unwrap().parse().unwrap()),
            other => panic!("unknown argument `{other}`"),
        }
    }
    let host = a.addr.split(':').next().unwrap_or("");
    assert!(host == "127.0.0.1" || host == "localhost" || host == "[::1]", "loopback only");
    a
}

type Sender<B> = hyper::client::conn::http1::SendRequest<B>;

async fn connect<B>(addr: &str) -> Sender<B>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).unwrap();
    let (send, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    send
}

async fn single(a: &Args) {
    let body = Bytes::from(std::fs::read("examples/光电子科技.json").expect("run from the project root"));
    let path = if a.explain { "/v1/evaluate" } else { "/v1/evaluate?explain=false" };
    let per = a.requests / a.connections;
    let deadline = Instant::now() + a.limit;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..a.connections {
        let (addr, body) = (a.addr.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut send: Sender<Full<Bytes>> = connect(&addr).await;
            let mut lat = Vec::with_capacity(per);
            let mut errors = 0;
            for _ in 0..per {
                if Instant::now() > deadline {
                    break;
                }
                let req = hyper::Request::post(path)
                    .header("host", "loadgen")
                    .header("content-type", "application/json")
                    .body(Full::new(body.clone()))
                    .unwrap();
                let t = Instant::now();
                send.ready().await.unwrap();
                let r = send.send_request(req).await.unwrap();
                let ok = r.status() == 200;
                let _ = r.into_body().collect().await.unwrap();
                lat.push(t.elapsed().as_micros() as u32);
                if !ok {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        lat.extend(l);
        errors += e;
    }
    let took = start.elapsed();
    lat.sort_unstable();
    let pct =
        |p: usize| lat.get((lat.len() * p / 100).min(lat.len().saturating_sub(1))).copied().unwrap_or(0);
    println!(
        "single explain={} connections={} requests={} errors={} seconds={:.2} rps={:.0} p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        a.explain,
        a.connections,
        lat.len(),
        errors,
        took.as_secs_f64(),
        lat.len() as f64 / took.as_secs_f64(),
        pct(50) as f64 / 1000.0,
        pct(99) as f64 / 1000.0,
        lat.last().copied().unwrap_or(0) as f64 / 1000.0,
    );
}

async fn batch(a: &Args) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(8);
    let file = a.file.clone();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut f = std::fs::File::open(&file).expect("the population file");
        loop {
            let mut buf = vec![0u8; 1 << 20];
            let n = f.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            buf.truncate(n);
            if tx.blocking_send(Ok(Frame::data(Bytes::from(buf)))).is_err() {
                break;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) });
    let mut send: Sender<StreamBody<_>> = connect(&a.addr).await;
    let req = hyper::Request::post("/v1/evaluate/batch?summary=true")
        .header("host", "loadgen")
        .body(StreamBody::new(stream))
        .unwrap();
    let start = Instant::now();
    let r = send.send_request(req).await.unwrap();
    assert_eq!(r.status(), 200);
    let mut body = r.into_body();
    let mut lines = 0u64;
    let mut bytes = 0u64;
    let mut last = Vec::new();
    while let Some(f) = body.frame().await {
        if let Ok(d) = f.unwrap().into_data() {
            lines += d.iter().filter(|b| **b == b'\n').count() as u64;
            bytes += d.len() as u64;
            last = d.to_vec();
        }
    }
    let took = start.elapsed();
    let tail = String::from_utf8_lossy(&last);
    let summary = tail.trim_end().rsplit('\n').next().unwrap_or("");
    println!(
        "batch rows={} bytes_out={} seconds={:.2} rows_per_s={:.0}",
        lines.saturating_sub(1),
        bytes,
        took.as_secs_f64(),
        lines.saturating_sub(1) as f64 / took.as_secs_f64()
    );
    println!("summary: {}", summary.chars().take(300).collect::<String>());
}

fn main() {
    let a = args();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        match a.mode.as_str() {
            "batch" => batch(&a).await,
            _ => single(&a).await,
        }
    });
}
