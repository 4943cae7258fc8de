//! `huiqi serve`: the HTTP evaluation service (feature `serve`), a thin adapter over the
//! library's public API. It owns only its protocol: routes, the mapping of the diagnostic
//! model to HTTP statuses ([`api::status_of`]), limits, authentication, metrics and reload.
//!
//! Invariant: every request is answered by exactly one rule set, the one current when it
//! arrived (an `Arc` taken once and kept until its response, streamed or not, is done), and
//! every response names that rule set in `x-huiqi-ruleset`. A reload builds the new rule set
//! completely before swapping it in atomically; one that does not compile is refused and the
//! last good one keeps serving.
//!
//! Layout: [`rules`] (loading and versioning rule sets), [`api`] (handlers, error bodies, the
//! OpenAPI document), [`answer`] (the evaluation's JSON written straight from its outcome),
//! [`batch`] (the streamed JSON-lines endpoint), [`metrics`] (Prometheus text), [`server`]
//! (the listener, layers, signals and graceful shutdown).

pub mod answer;
pub mod api;
pub mod batch;
pub mod metrics;
pub mod rules;
pub mod server;

pub use rules::{Refused, RuleSet};
pub use server::{Server, run};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything the service is configured with (flags and environment variables of
/// `huiqi serve`; defaults in [`Config::new`]).
#[derive(Clone, Debug)]
pub struct Config {
    /// Rule files or folders, read again on every reload.
    pub policies: Vec<PathBuf>,
    pub addr: SocketAddr,
    /// Bearer token required by the evaluation and catalogue endpoints; none: open.
    pub token: Option<String>,
    /// Bearer token of the admin endpoints; none: they answer 404.
    pub admin_token: Option<String>,
    /// Largest body of `POST /v1/evaluate` (bytes); larger: 413.
    pub body_limit: usize,
    /// Largest body of `POST /v1/evaluate/batch` (bytes); larger: 413 when announced by
    /// `Content-Length`, else an error line where the stream stops.
    pub batch_body_limit: u64,
    /// Most rows in one batch request; more: an error line and the stream stops.
    pub batch_rows: u64,
    /// Longest row of a batch (bytes); longer rows are answered as failed rows.
    pub batch_row_bytes: usize,
    /// Time to evaluate one request once its body is read; longer: 503.
    pub request_timeout: Duration,
    /// Time to receive a whole `POST /v1/evaluate` body, or between two pieces of a batch
    /// body; longer: 408.
    pub body_timeout: Duration,
    /// Time to receive a request's headers (slow clients); longer: the connection is closed.
    pub header_timeout: Duration,
    /// Requests evaluated at once; further requests wait in a queue of `queue` places, and
    /// beyond that are refused with 429.
    pub concurrency: usize,
    pub queue: usize,
    /// Batch requests evaluated at once; more: 429.
    pub batch_concurrency: usize,
    /// Open connections at most; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// Time in-flight requests get to finish after SIGTERM.
    pub shutdown_grace: Duration,
    /// Threads of the async runtime that serve connections and evaluate single requests
    /// (`run` only; `Server::start` uses the caller's runtime); none: one per core.
    pub workers: Option<usize>,
}

impl Config {
    /// The defaults: `policies/`, 127.0.0.1:8080, no tokens, 1 MiB bodies, 10 s timeouts.
    pub fn new() -> Config {
        Config {
            policies: vec![PathBuf::from("policies")],
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            token: None,
            admin_token: None,
            body_limit: 1 << 20,
            batch_body_limit: 4 << 30,
            batch_rows: 2_000_000,
            batch_row_bytes: 1 << 20,
            request_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            concurrency: 64,
            queue: 1024,
            batch_concurrency: 2,
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(30),
            workers: None,
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

/// The log format of `huiqi serve` (`--log-format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The rule-set version header every response carries.
pub const RULESET_HEADER: &str = "x-huiqi-ruleset";
