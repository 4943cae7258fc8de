//! `huiqi serve`: flags and environment variables into `huiqi::serve::Config`; the service
//! itself is the library's (`huiqi::serve`).

use super::{Exit, usage};
use clap::{Args, ValueEnum};
use huiqi::serve::{Config, LogFormat};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub const AFTER_HELP: &str = "\
Examples:
  huiqi serve                                        policies/ on 127.0.0.1:8080
  huiqi serve --policies rules/ --addr 0.0.0.0:8080 --log-format json
  huiqi serve --admin-token-file /etc/huiqi/admin.token --token-file /etc/huiqi/eval.token

Reload the rules with `kill -HUP PID` or `POST /v1/admin/reload`; stop with SIGTERM.
Every flag can also be given by its environment variable (HUIQI_ADDR, HUIQI_POLICIES, …).
The API and the security model: docs/service.md";

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogArg {
    Text,
    Json,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Rule files or folders (default: policies/); read again on every reload.
    #[arg(long = "policies", short = 'p', env = "HUIQI_POLICIES", value_delimiter = ',')]
    policies: Vec<PathBuf>,
    /// The address to listen on.
    #[arg(long, env = "HUIQI_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Logs on standard error: text, or one JSON object a line.
    #[arg(long, value_enum, env = "HUIQI_LOG_FORMAT", default_value = "text")]
    log_format: LogArg,
    /// A file holding the bearer token the evaluation and catalogue endpoints require
    /// (default: they are open).
    #[arg(long, env = "HUIQI_TOKEN_FILE")]
    token_file: Option<PathBuf>,
    /// A file holding the bearer token of the admin endpoints (`POST /v1/admin/reload`);
    /// without it they are disabled.
    #[arg(long, env = "HUIQI_ADMIN_TOKEN_FILE")]
    admin_token_file: Option<PathBuf>,
    /// Largest `POST /v1/evaluate` body in bytes.
    #[arg(long, env = "HUIQI_BODY_LIMIT", default_value_t = 1 << 20)]
    body_limit: usize,
    /// Largest batch body in bytes.
    #[arg(long, env = "HUIQI_BATCH_BODY_LIMIT", default_value_t = 4 << 30)]
    batch_body_limit: u64,
    /// Most rows in one batch request.
    #[arg(long, env = "HUIQI_BATCH_ROWS", default_value_t = 2_000_000)]
    batch_rows: u64,
    /// Batch requests evaluated at once; more get 429.
    #[arg(long, env = "HUIQI_BATCH_CONCURRENCY", default_value_t = 2)]
    batch_concurrency: usize,
    /// Requests evaluated at once.
    #[arg(long, env = "HUIQI_CONCURRENCY", default_value_t = 64)]
    concurrency: usize,
    /// Requests waiting for a place; beyond that, 429.
    #[arg(long, env = "HUIQI_QUEUE", default_value_t = 1024)]
    queue: usize,
    /// Open connections at most.
    #[arg(long, env = "HUIQI_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Seconds to evaluate a request once its body has arrived (then 503).
    #[arg(long, env = "HUIQI_REQUEST_TIMEOUT", default_value_t = 10)]
    request_timeout: u64,
    /// Seconds for a body to arrive (batch: between two pieces), and for headers (then 408 or
    /// the connection closes).
    #[arg(long, env = "HUIQI_BODY_TIMEOUT", default_value_t = 10)]
    body_timeout: u64,
    /// Seconds in-flight requests get to finish after SIGTERM.
    #[arg(long, env = "HUIQI_SHUTDOWN_GRACE", default_value_t = 30)]
    shutdown_grace: u64,
    /// Threads serving connections and evaluating single requests (default: one per core).
    #[arg(long, env = "HUIQI_WORKERS")]
    workers: Option<usize>,
}

fn token(path: Option<PathBuf>, flag: &str) -> Result<Option<String>, Exit> {
    let Some(p) = path else { return Ok(None) };
    let text = std::fs::read_to_string(&p)
        .map_err(|e| usage(format!("{flag}: cannot read `{}`: {e}", p.display())))?;
    let t = text.trim().to_string();
    if t.len() < 16 {
        return Err(usage(format!(
            "{flag}: the token in `{}` is shorter than 16 characters; use a long random one, e.g. `openssl rand -hex 32`",
            p.display()
        )));
    }
    Ok(Some(t))
}

pub fn run(a: ServeArgs) -> Exit {
    let token_ = match token(a.token_file, "--token-file") {
        Ok(t) => t,
        Err(e) => return e,
    };
    let admin_token = match token(a.admin_token_file, "--admin-token-file") {
        Ok(t) => t,
        Err(e) => return e,
    };
    let mut config = Config::new();
    if !a.policies.is_empty() {
        config.policies = a.policies;
    }
    config.addr = a.addr;
    config.token = token_;
    config.admin_token = admin_token;
    config.body_limit = a.body_limit;
    config.batch_body_limit = a.batch_body_limit;
    config.batch_rows = a.batch_rows;
    config.batch_concurrency = a.batch_concurrency;
    config.concurrency = a.concurrency;
    config.queue = a.queue;
    config.max_connections = a.max_connections;
    config.request_timeout = Duration::from_secs(a.request_timeout);
    config.body_timeout = Duration::from_secs(a.body_timeout);
    config.header_timeout = Duration::from_secs(a.body_timeout);
    config.shutdown_grace = Duration::from_secs(a.shutdown_grace);
    config.workers = a.workers;
    let log = match a.log_format {
        LogArg::Text => LogFormat::Text,
        LogArg::Json => LogFormat::Json,
    };
    match huiqi::serve::run(config, log) {
        Ok(()) => Exit::Success,
        // cannot listen, no runtime, the rule set does not compile at start
        Err(e) => usage(e),
    }
}
