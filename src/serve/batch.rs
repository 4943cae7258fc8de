//! `POST /v1/evaluate/batch`: JSON lines in, JSON lines out, streamed both ways.
//!
//! Three stages, as in `huiqi eval` over a population: an async task cuts the request body
//! into chunks of rows (with their line numbers) as it arrives, a blocking worker has each
//! chunk evaluated by the library's [`Batch`] on every core, and the response body streams
//! the rows out in input order while the next chunk is read. Each channel holds at most two
//! chunks, so memory is bounded by the chunk size, not the population.
//!
//! Invariant: the output rows are exactly the rows `huiqi eval --facts POP.jsonl --format
//! jsonl` writes for the same input (same bytes); a bad row is answered with its errors and
//! line number, never dropped. What ends a stream early (the row limit, the body limit, a body
//! that stops arriving) is written as a last `{"error": …}` line.

use super::api::{ApiError, ErrorBody};
use super::rules::RuleSet;
use super::server::AppState;
use crate::batch::{Batch, BatchOptions, RowFormat, Summary};
use crate::eval::Status;
use crate::value::{Date, fmt_yuan};
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use utoipa::{IntoParams, ToSchema};

/// Rows evaluated together (in parallel) before they are written.
const CHUNK: usize = 1024;

/// A place among the batches evaluated at once (see `Config::batch_concurrency`), taken by
/// the batch layer and held by the worker until the stream ends.
#[derive(Clone)]
pub struct BatchPermit(pub Arc<OwnedSemaphorePermit>);

/// Query parameters of `POST /v1/evaluate/batch`.
#[derive(Deserialize, Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchQuery {
    /// The period for every row; default: each row's `$period`, else its latest series year.
    pub period: Option<i32>,
    /// The evaluation date (YYYY-MM-DD) for every row; default: the period's last day.
    pub as_of: Option<String>,
    /// `true` appends one line with the budget per clause after the rows.
    pub summary: Option<bool>,
}

/// The last line with `?summary=true`.
#[derive(Serialize, ToSchema)]
pub struct SummaryLine {
    pub summary: BatchSummary,
    pub ruleset: String,
}

#[derive(Serialize, ToSchema)]
pub struct BatchSummary {
    /// Rows answered.
    pub rows: u64,
    /// Rows answered with errors.
    pub failed: u64,
    /// Per clause with something granted or discretionary, in declaration order.
    pub clauses: Vec<ClauseBudget>,
    /// The cash granted over all rows, in yuan; null when the sum overflows (E0504).
    pub total: Option<String>,
    /// The clause whose amount could not be added to the total (E0504), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overflow: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ClauseBudget {
    /// `E23.5`.
    #[serde(rename = "ref")]
    pub reference: String,
    pub granted: u64,
    pub discretionary: u64,
    /// The cash granted under this clause, in yuan; null when the sum overflows (E0504).
    pub total: Option<String>,
}

/// A last line saying why the stream ended before the input did.
#[derive(Serialize, ToSchema)]
pub struct ErrorLine {
    pub error: StreamError,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct StreamError {
    /// `row_limit`, `body_too_large`, `timeout` or `body_read`.
    pub code: &'static str,
    pub message: String,
    pub help: String,
    /// The last input line read.
    pub line: usize,
}

/// What the reader hands the worker.
enum In {
    Rows(Vec<(usize, Result<String, String>)>),
    Stop(StreamError),
}

struct Limits {
    body_bytes: u64,
    rows: u64,
    row_bytes: usize,
}

/// Evaluate a population: JSON lines (one facts object a line) in, one JSON line a row out.
///
/// Rows are answered in input order as `huiqi eval --format jsonl` writes them (`line`,
/// `enterprise`, `period`, `total`, `results`, `errors`); a row that is not JSON, not UTF-8 or
/// not valid facts is answered with its `errors`. With `?summary=true` a last line
/// `{"summary": …, "ruleset": …}` gives the budget per clause.
#[utoipa::path(
    post,
    path = "/v1/evaluate/batch",
    params(BatchQuery),
    request_body(content = String, description = "JSON lines: one facts object a line", content_type = "application/x-ndjson"),
    responses(
        (status = 200, description = "one JSON line a row, in input order, then the summary line (or an error line)", body = crate::batch::BatchRow, content_type = "application/x-ndjson"),
        (status = 400, description = "a query parameter is malformed", body = ErrorBody),
        (status = 413, description = "the announced body is too large", body = ErrorBody),
        (status = 429, description = "too many batches at once", body = ErrorBody),
    )
)]
pub async fn evaluate_batch(
    State(st): State<Arc<AppState>>,
    Extension(rules): Extension<Arc<RuleSet>>,
    Extension(permit): Extension<BatchPermit>,
    query: Result<Query<BatchQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the query parameters cannot be read: {}", e.body_text()),
            "write e.g. `?period=2024&summary=true`",
        )
    })?;
    let as_of = q.as_of.as_deref().map(str::parse::<Date>).transpose().map_err(|m| {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("`as_of`: {m}"), "write YYYY-MM-DD")
    })?;
    let cfg = &st.config;
    let announced =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > cfg.batch_body_limit) {
        return Err(too_large(cfg.batch_body_limit));
    }
    let limits =
        Limits { body_bytes: cfg.batch_body_limit, rows: cfg.batch_rows, row_bytes: cfg.batch_row_bytes };
    let (tx_in, rx_in) = mpsc::channel::<In>(2);
    // a chunk's rows as its blocks' buffers, sent out as they are (no copy into one)
    let (tx_out, rx_out) = mpsc::channel::<Vec<Bytes>>(2);
    tokio::spawn(read_rows(body, tx_in, limits));
    let opts = BatchOptions { period: q.period, as_of };
    let summary = q.summary.unwrap_or(false);
    let state = st.clone();
    tokio::task::spawn_blocking(move || work(&rules, opts, summary, rx_in, &tx_out, &state, permit));
    let stream =
        futures_util::stream::unfold(rx_out, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) })
            .flat_map(|parts| futures_util::stream::iter(parts.into_iter().map(Ok::<_, std::io::Error>)));
    let mut r = (StatusCode::OK, Body::from_stream(stream)).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    Ok(r)
}

pub fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the body is larger than {limit} bytes"),
        "send fewer rows per request (split the population), or raise the limit when starting the service",
    )
}

/// The reader task: the body cut into chunks of non-blank lines with their line numbers. A
/// line that is not UTF-8, or too long, is kept as a failed row.
async fn read_rows(mut body: Body, tx: mpsc::Sender<In>, limits: Limits) {
    let mut cut =
        Cutter { pending: Vec::new(), overlong: false, line: 0, rows: Vec::new(), max: limits.row_bytes };
    let mut total: u64 = 0;
    let mut count: u64 = 0;
    let stop = loop {
        let data = match body.frame().await {
            None => break None,
            Some(Err(e)) => {
                let timeout = std::error::Error::source(&e)
                    .is_some_and(|s| s.is::<tower_http::timeout::TimeoutError>())
                    || e.to_string().contains("timed out");
                break Some(if timeout {
                    StreamError {
                        code: "timeout",
                        message: "the body stopped arriving".into(),
                        help: "send the rows without pausing; the stream ends after the idle timeout".into(),
                        line: cut.line,
                    }
                } else {
                    StreamError {
                        code: "body_read",
                        message: format!("the body cannot be read: {e}"),
                        help: "send JSON lines, one facts object a line".into(),
                        line: cut.line,
                    }
                });
            }
            Some(Ok(frame)) => match frame.into_data() {
                Ok(d) => d,
                Err(_) => continue,
            },
        };
        total = total.saturating_add(data.len() as u64);
        if total > limits.body_bytes {
            break Some(StreamError {
                code: "body_too_large",
                message: format!("the body is larger than {} bytes", limits.body_bytes),
                help: "send fewer rows per request".into(),
                line: cut.line,
            });
        }
        cut.feed(&data);
        if let Some(e) = flush(&mut cut, &tx, &mut count, limits.rows, false).await {
            break e;
        }
    };
    if stop.is_none() {
        cut.finish();
        if let Some(Some(e)) = flush(&mut cut, &tx, &mut count, limits.rows, true).await {
            let _ = tx.send(In::Stop(e)).await;
        }
    } else if let Some(e) = stop {
        // the rows read so far are answered first
        let _ = flush(&mut cut, &tx, &mut count, limits.rows, true).await;
        let _ = tx.send(In::Stop(e)).await;
    }
}

/// Sends full chunks (all rows when `all`); `Some(Some(e))` when the row limit is passed,
/// `Some(None)` when the worker is gone (the client left).
async fn flush(
    cut: &mut Cutter,
    tx: &mpsc::Sender<In>,
    count: &mut u64,
    max: u64,
    all: bool,
) -> Option<Option<StreamError>> {
    while cut.rows.len() >= CHUNK || (all && !cut.rows.is_empty()) {
        let n = cut.rows.len().min(CHUNK);
        let mut chunk: Vec<_> = cut.rows.drain(..n).collect();
        let room = max.saturating_sub(*count);
        let over = chunk.len() as u64 > room;
        chunk.truncate(usize::try_from(room).unwrap_or(usize::MAX));
        *count += chunk.len() as u64;
        let last = chunk.last().map_or(cut.line, |(l, _)| *l);
        if !chunk.is_empty() && tx.send(In::Rows(chunk)).await.is_err() {
            return Some(None);
        }
        if over {
            return Some(Some(StreamError {
                code: "row_limit",
                message: format!(
                    "more than {max} rows in one request; the rows after line {last} were not evaluated"
                ),
                help: "split the population into requests of at most that many rows".into(),
                line: last,
            }));
        }
    }
    None
}

/// Cuts bytes into lines.
struct Cutter {
    pending: Vec<u8>,
    overlong: bool,
    line: usize,
    rows: Vec<(usize, Result<String, String>)>,
    max: usize,
}

impl Cutter {
    fn feed(&mut self, mut data: &[u8]) {
        while let Some(i) = data.iter().position(|b| *b == b'\n') {
            let Some((head, tail)) = data.split_at_checked(i) else { break };
            self.push(head);
            self.end_line();
            data = tail.get(1..).unwrap_or_default();
        }
        self.push(data);
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.overlong {
            return;
        }
        if self.pending.len() + bytes.len() > self.max {
            self.overlong = true;
            self.pending = Vec::new();
        } else {
            self.pending.extend_from_slice(bytes);
        }
    }

    fn end_line(&mut self) {
        self.line += 1;
        if self.overlong {
            self.overlong = false;
            self.rows.push((
                self.line,
                Err(format!(
                    "the row is longer than {} bytes; one enterprise's facts are far smaller",
                    self.max
                )),
            ));
            return;
        }
        let row = match std::str::from_utf8(&self.pending) {
            Ok(t) if t.trim().is_empty() => None,
            Ok(t) => Some(Ok(t.trim_end_matches(['\n', '\r']).to_string())),
            Err(e) => Some(Err(format!("the row is not UTF-8 text: {e}; facts are JSON in UTF-8"))),
        };
        self.pending.clear();
        if let Some(r) = row {
            self.rows.push((self.line, r));
        }
    }

    fn finish(&mut self) {
        if !self.pending.is_empty() || self.overlong {
            self.end_line();
        }
    }
}

/// The blocking worker: evaluates chunk after chunk on every core (the library's batch),
/// sends the rows out in order, then the error or summary line.
fn work(
    rules: &RuleSet,
    opts: BatchOptions,
    summary: bool,
    mut rx: mpsc::Receiver<In>,
    tx: &mpsc::Sender<Vec<Bytes>>,
    st: &AppState,
    _permit: BatchPermit,
) {
    let prog = &rules.compiled.program;
    let batch = Batch::new(prog, opts, RowFormat::Jsonl);
    let mut sum = Summary::new(prog);
    let mut counts = vec![[0u64; 6]; prog.clauses.len()];
    let mut stopped = None;
    while let Some(msg) = rx.blocking_recv() {
        let rows = match msg {
            In::Rows(rows) => rows,
            In::Stop(e) => {
                stopped = Some(e);
                break;
            }
        };
        // each block of rows written, summed and counted on the worker that evaluated it
        let blocks = batch.json_lines_blocks(
            &rows,
            || (Summary::new(prog), vec![[0u64; 6]; prog.clauses.len()]),
            |(sum, counts), e| {
                sum.add(e);
                for v in e.verdicts.iter().flatten() {
                    let s = Status::ALL.iter().position(|x| *x == v.status).unwrap_or(0);
                    if let Some(c) = counts.get_mut(v.clause as usize).and_then(|c| c.get_mut(s)) {
                        *c += 1;
                    }
                }
            },
        );
        let n = rows.len() as u64;
        drop(rows);
        let mut parts = Vec::with_capacity(blocks.len());
        for (text, (block_sum, block_counts)) in blocks {
            sum.merge(&block_sum);
            for (all, block) in counts.iter_mut().zip(&block_counts) {
                for (a, b) in all.iter_mut().zip(block) {
                    *a += b;
                }
            }
            parts.push(Bytes::from(text));
        }
        st.metrics.batch_rows.fetch_add(n, Ordering::Relaxed);
        if tx.blocking_send(parts).is_err() {
            // the client went away: stop reading and evaluating
            break;
        }
    }
    drop(rx);
    for (counter, by_status) in rules.counters.iter().zip(&counts) {
        for (s, n) in Status::ALL.iter().zip(by_status) {
            if *n > 0 {
                counter.add(*s, *n);
            }
        }
    }
    if let Some(e) = stopped {
        tracing::warn!(code = e.code, line = e.line, "batch stopped: {}", e.message);
        let _ = tx.blocking_send(vec![line(&ErrorLine { error: e })]);
    }
    if summary {
        let clauses = sum
            .lines()
            .map(|(id, cs)| ClauseBudget {
                reference: prog.clause_ref(id),
                granted: cs.granted,
                discretionary: cs.discretionary,
                total: cs.total.map(fmt_yuan),
            })
            .collect();
        let (total, overflow) = match sum.grand_total() {
            Ok(t) => (Some(fmt_yuan(t)), None),
            Err(o) => (None, Some(prog.clause_ref(o.clause))),
        };
        let s = BatchSummary { rows: sum.rows, failed: sum.failed, clauses, total, overflow };
        let _ = tx.blocking_send(vec![line(&SummaryLine { summary: s, ruleset: rules.version.clone() })]);
    }
}

fn line<T: Serialize>(v: &T) -> Bytes {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    Bytes::from(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(parts: &[&[u8]], max: usize) -> Vec<(usize, Result<String, String>)> {
        let mut c = Cutter { pending: Vec::new(), overlong: false, line: 0, rows: Vec::new(), max };
        for p in parts {
            c.feed(p);
        }
        c.finish();
        c.rows
    }

    #[test]
    fn lines_are_cut_across_pieces_with_their_numbers() {
        let rows = cut(&[b"{\"a\"", b": 1}\n\n{\"b\": 2}\r\n", b"{\"c\": 3}"], 100);
        assert_eq!(
            rows,
            vec![(1, Ok("{\"a\": 1}".into())), (3, Ok("{\"b\": 2}".into())), (4, Ok("{\"c\": 3}".into()))]
        );
    }

    #[test]
    fn bad_rows_are_kept_with_their_line() {
        let rows = cut(&[b"{}\n\xff\xfe\n", b"0123456789abcdef\n{}"], 8);
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0], (1, Ok("{}".into())));
        assert!(matches!(&rows[1], (2, Err(m)) if m.contains("UTF-8")), "{rows:?}");
        assert!(matches!(&rows[2], (3, Err(m)) if m.contains("longer than 8 bytes")), "{rows:?}");
        assert_eq!(rows[3], (4, Ok("{}".into())));
    }
}
