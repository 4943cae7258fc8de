//! A load generator for `huiqi serve`, bounded in count and time, for loopback only. It speaks
//! plain HTTP/1.1 over keep-alive connections itself (no client library between it and the
//! socket), so what it measures is the service.
//!
//! ```sh
//! target/release/huiqi serve --addr 127.0.0.1:18080 &
//! target/release/serve-load single --addr 127.0.0.1:18080 --connections 16 --requests 20000 [--no-explain]
//! target/release/serve-load batch --addr 127.0.0.1:18080 --file pop.jsonl
//! ```
//!
//! `single`: each connection sends the example enterprise back to back and waits for each
//! answer; prints throughput and latency percentiles. `batch`: sends a JSON-lines file to
//! `/v1/evaluate/batch?summary=true` while reading the rows as they stream back; prints rows
//! per second and the summary line.

use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Args {
    mode: String,
    addr: String,
    connections: usize,
    requests: usize,
    explain: bool,
    file: String,
    facts: String,
    limit: Duration,
    /// The load generator's own threads (it shares the machine with the server).
    threads: usize,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        mode: "single".into(),
        addr: "127.0.0.1:8080".into(),
        connections: 16,
        requests: 20_000,
        explain: true,
        file: "pop.jsonl".into(),
        facts: "examples/光电子科技.json".into(),
        limit: Duration::from_secs(120),
        threads: 2,
    };
    let mut it = std::env::args().skip(1);
    let num = |v: Option<String>, what: &str| -> Result<u64, String> {
        v.and_then(|x| x.parse().ok()).ok_or_else(|| format!("{what} takes a number"))
    };
    while let Some(x) = it.next() {
        match x.as_str() {
            "single" | "batch" => a.mode = x,
            "--addr" => a.addr = it.next().ok_or("--addr takes HOST:PORT")?,
            "--connections" => a.connections = num(it.next(), "--connections")? as usize,
            "--requests" => a.requests = num(it.next(), "--requests")? as usize,
            "--no-explain" => a.explain = false,
            "--file" => a.file = it.next().ok_or("--file takes a JSON-lines file")?,
            "--facts" => a.facts = it.next().ok_or("--facts takes a facts JSON file")?,
            "--seconds" => a.limit = Duration::from_secs(num(it.next(), "--seconds")?),
            "--threads" => a.threads = (num(it.next(), "--threads")? as usize).clamp(1, 64),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let host = a.addr.rsplit_once(':').map_or("", |(h, _)| h);
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return Err(format!("`{}`: the load generator runs against loopback only", a.addr));
    }
    if a.connections == 0 || a.connections > 1024 || a.requests > 10_000_000 {
        return Err("at most 1,024 connections and 10,000,000 requests".into());
    }
    Ok(a)
}

/// Reads one response with a `Content-Length` body from a keep-alive connection; returns its
/// status. `buf` keeps bytes read past the response.
async fn response(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<u16, String> {
    let mut chunk = [0u8; 65536];
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(buf.get(..end).unwrap_or_default()).to_ascii_lowercase();
            let status = head.split(' ').nth(1).and_then(|x| x.parse().ok()).ok_or("no status line")?;
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .ok_or("no content-length")?;
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).await.map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err("closed mid-answer".into());
                }
                buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
            }
            buf.drain(..end + 4 + len);
            return Ok(status);
        }
        let n = s.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed".into());
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn single(a: &Args) -> Result<(), String> {
    let body =
        std::fs::read(&a.facts).map_err(|e| format!("`{}`: {e} (run from the project root)", a.facts))?;
    let path = if a.explain { "/v1/evaluate" } else { "/v1/evaluate?explain=false" };
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nhost: loadgen\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let per = a.requests / a.connections;
    let deadline = Instant::now() + a.limit;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..a.connections {
        let (addr, request) = (a.addr.clone(), request.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(&addr).await.map_err(|e| format!("connect {addr}: {e}"))?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            let mut buf = Vec::with_capacity(1 << 16);
            let mut lat = Vec::with_capacity(per);
            let mut not_ok = 0u64;
            for _ in 0..per {
                if Instant::now() > deadline {
                    break;
                }
                let t = Instant::now();
                s.write_all(&request).await.map_err(|e| e.to_string())?;
                if response(&mut s, &mut buf).await? != 200 {
                    not_ok += 1;
                }
                lat.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
            }
            Ok::<_, String>((lat, not_ok))
        }));
    }
    let mut lat = Vec::new();
    let mut not_ok = 0;
    for t in tasks {
        let (l, e) = t.await.map_err(|e| e.to_string())??;
        lat.extend(l);
        not_ok += e;
    }
    let took = start.elapsed().as_micros().max(1);
    lat.sort_unstable();
    let pct = |p: usize| {
        let i = (lat.len() * p / 100).min(lat.len().saturating_sub(1));
        lat.get(i).copied().unwrap_or(0)
    };
    let ms = |us: u64| format!("{}.{:02}", us / 1000, (us % 1000) / 10);
    println!(
        "single explain={} connections={} requests={} non_200={} seconds={} rps={} p50_ms={} p99_ms={} max_ms={}",
        a.explain,
        a.connections,
        lat.len(),
        not_ok,
        ms(u64::try_from(took / 1000).unwrap_or(0)),
        (lat.len() as u128) * 1_000_000 / took,
        ms(pct(50)),
        ms(pct(99)),
        ms(lat.last().copied().unwrap_or(0)),
    );
    Ok(())
}

async fn batch(a: &Args) -> Result<(), String> {
    let size = std::fs::metadata(&a.file).map_err(|e| format!("`{}`: {e}", a.file))?.len();
    let s = TcpStream::connect(&a.addr).await.map_err(|e| format!("connect {}: {e}", a.addr))?;
    let (mut rd, mut wr) = s.into_split();
    let head = format!(
        "POST /v1/evaluate/batch?summary=true HTTP/1.1\r\nhost: loadgen\r\ncontent-type: application/x-ndjson\r\ncontent-length: {size}\r\n\r\n"
    );
    let file = a.file.clone();
    let start = Instant::now();
    let writer = tokio::spawn(async move {
        use std::io::Read;
        wr.write_all(head.as_bytes()).await.map_err(|e| e.to_string())?;
        let mut f = std::fs::File::open(&file).map_err(|e| format!("`{file}`: {e}"))?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).map_err(|e| format!("`{file}`: {e}"))?;
            if n == 0 {
                break;
            }
            wr.write_all(buf.get(..n).unwrap_or_default()).await.map_err(|e| e.to_string())?;
        }
        // the write half stays open until the answer is read (closing it is a half-close)
        Ok::<_, String>(wr)
    });
    // the answer is chunked: count rows in the decoded body, keep the last line; read straight
    // into `raw` (no second buffer) and keep only the tail of each chunk, so that the client
    // copies little more than `wc -c` does
    let mut raw = Vec::new();
    let mut rows = 0u64;
    let mut last = Vec::new();
    let mut body_start = None;
    let mut pos = 0usize;
    let mut done = false;
    while !done {
        raw.reserve(1 << 20);
        let n = rd.read_buf(&mut raw).await.map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        if body_start.is_none() {
            if let Some(end) = find(&raw, b"\r\n\r\n") {
                let status = String::from_utf8_lossy(raw.get(..end).unwrap_or_default()).into_owned();
                if !status.starts_with("HTTP/1.1 200") {
                    return Err(format!("the batch was refused: {status}"));
                }
                body_start = Some(end + 4);
                pos = end + 4;
            } else {
                continue;
            }
        }
        // decode whole chunks: SIZE\r\nDATA\r\n
        while let Some(rel) = find(raw.get(pos..).unwrap_or_default(), b"\r\n") {
            let size_text = String::from_utf8_lossy(raw.get(pos..pos + rel).unwrap_or_default()).into_owned();
            let size = usize::from_str_radix(size_text.trim(), 16)
                .map_err(|_| format!("bad chunk size `{size_text}`"))?;
            if size == 0 {
                done = true;
                break;
            }
            let data_start = pos + rel + 2;
            if raw.len() < data_start + size + 2 {
                break;
            }
            let data = raw.get(data_start..data_start + size).unwrap_or_default();
            rows += data.iter().filter(|b| **b == b'\n').count() as u64;
            // keep the end of the body: its last line is the summary
            last.extend_from_slice(data.get(data.len().saturating_sub(1 << 15)..).unwrap_or_default());
            if last.len() > (1 << 16) {
                last.drain(..last.len() - (1 << 15));
            }
            pos = data_start + size + 2;
        }
        // forget what has been decoded
        if pos > (1 << 22) {
            raw.drain(..pos);
            pos = 0;
        }
    }
    let wr = writer.await.map_err(|e| e.to_string())??;
    drop(wr);
    let took = start.elapsed().as_millis().max(1);
    let rows = rows.saturating_sub(1); // the summary line
    println!(
        "batch rows={rows} seconds={}.{:03} rows_per_s={}",
        took / 1000,
        took % 1000,
        u128::from(rows) * 1000 / took
    );
    let tail = String::from_utf8_lossy(&last);
    let summary = tail.trim_end().rsplit('\n').next().unwrap_or("");
    println!("summary: {}", summary.chars().take(400).collect::<String>());
    Ok(())
}

fn main() -> ExitCode {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(a.threads).enable_all().build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let r = rt.block_on(async {
        match a.mode.as_str() {
            "batch" => batch(&a).await,
            _ => single(&a).await,
        }
    });
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
