//! The listener, the routes with their tower layers, reload, signals and graceful shutdown.
//!
//! Layers, outermost first: tracing and metrics with the rule-set header (every route); the
//! token check (evaluation, catalogue, admin); for `POST /v1/evaluate` the body read whole
//! within its size and time limits; then the concurrency limit with its bounded queue (429
//! beyond it), taken in the request's own task, and the evaluation timeout (503). The batch route takes a
//! place among the batches at once (429 when none is free) and an idle timeout on its body.

use super::api::{self, ApiError};
use super::batch::{self, BatchPermit};
use super::metrics::Metrics;
use super::rules::{Refused, RuleSet};
use super::{Config, LogFormat};
use arc_swap::ArcSwap;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::BodyExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// What every handler shares: the rule set in service (swapped atomically on reload), the
/// configuration and the counters.
pub struct AppState {
    pub rules: ArcSwap<RuleSet>,
    pub config: Config,
    pub metrics: Arc<Metrics>,
    reloading: tokio::sync::Mutex<()>,
    batches: Arc<Semaphore>,
    /// Places among the requests evaluated at once, shared by every limited route.
    places: Arc<Semaphore>,
    /// Requests waiting for a place.
    waiting: AtomicUsize,
}

impl AppState {
    /// Recompiles the rule files and swaps the new rule set in; a rule set that does not
    /// compile is refused and the one in service stays.
    pub async fn reload(self: &Arc<Self>) -> Result<api::Reloaded, Refused> {
        let _one_at_a_time = self.reloading.lock().await;
        let previous = self.rules.load().version.clone();
        let st = self.clone();
        let loaded = tokio::task::spawn_blocking(move || RuleSet::load(&st.config.policies, &st.metrics))
            .await
            .unwrap_or_else(|e| {
                Err(Refused { message: format!("the reload stopped: {e}"), diagnostics: None })
            });
        match loaded {
            Ok(rules) => {
                let p = &rules.compiled.program;
                let r = api::Reloaded {
                    ruleset: rules.version.clone(),
                    previous,
                    documents: p.policies.len(),
                    clauses: p.clauses.len(),
                    warnings: rules.compiled.warnings.len(),
                };
                self.rules.store(Arc::new(rules));
                self.metrics.reloads_ok.fetch_add(1, Ordering::Relaxed);
                tracing::info!(ruleset = %r.ruleset, previous = %r.previous, clauses = r.clauses, "rule set reloaded");
                Ok(r)
            }
            Err(refused) => {
                self.metrics.reloads_refused.fetch_add(1, Ordering::Relaxed);
                let diags = refused
                    .diagnostics
                    .as_ref()
                    .map(|d| {
                        d.diagnostics
                            .iter()
                            .filter(|x| matches!(x.severity, crate::diag::Severity::Error))
                            .map(|x| {
                                format!(
                                    "{}[{}] {}:{}: {}",
                                    "error",
                                    x.code,
                                    x.file.as_deref().unwrap_or("?"),
                                    x.line.unwrap_or(0),
                                    x.message
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
                    .unwrap_or_default();
                tracing::error!(ruleset = %previous, diagnostics = %diags, "reload refused: {}", refused.message);
                Err(refused)
            }
        }
    }
}

/// The route label of a path for the metrics (bounded: no user text).
fn route_of(path: &str) -> &'static str {
    match path {
        "/v1/evaluate" => "/v1/evaluate",
        "/v1/evaluate/batch" => "/v1/evaluate/batch",
        "/v1/policies" => "/v1/policies",
        "/v1/openapi.json" => "/v1/openapi.json",
        "/v1/admin/reload" => "/v1/admin/reload",
        "/healthz" => "/healthz",
        "/metrics" => "/metrics",
        p if p.starts_with("/v1/policies/") => "/v1/policies/{doc}",
        p if p.starts_with("/v1/clauses/") => "/v1/clauses/{ref}",
        _ => "other",
    }
}

/// Outermost layer: takes the rule set for this request (kept to the end of its answer),
/// names it in the answer, counts and times the request, logs it.
async fn track(State(st): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let rules = st.rules.load_full();
    let route = route_of(req.uri().path());
    let method = req.method().clone();
    let header = api::ruleset_header(&rules);
    req.extensions_mut().insert(rules);
    let start = Instant::now();
    let mut resp = next.run(req).await;
    if let Some((name, value)) = header {
        resp.headers_mut().insert(name, value);
    }
    let took = start.elapsed();
    let status = resp.status().as_u16();
    st.metrics.observe(route, status, took);
    if status >= 500 {
        tracing::warn!(%method, route, status, micros = took.as_micros() as u64, "request failed");
    } else {
        tracing::debug!(%method, route, status, micros = took.as_micros() as u64, "request");
    }
    resp
}

/// Constant-time comparison of a presented token with the expected one.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn bearer(req: &Request) -> Option<&[u8]> {
    let v = req.headers().get(header::AUTHORIZATION)?.as_bytes();
    v.strip_prefix(b"Bearer ").or_else(|| v.strip_prefix(b"bearer "))
}

fn unauthorized(what: &str) -> Response {
    let mut r = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        format!("{what} require a bearer token"),
        "send `Authorization: Bearer TOKEN` with the token the service was started with",
    )
    .into_response();
    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

/// The evaluation token, when the service has one.
async fn eval_auth(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    match &st.config.token {
        Some(t) if !bearer(&req).is_some_and(|b| same(b, t.as_bytes())) => {
            unauthorized("the evaluation endpoints")
        }
        _ => next.run(req).await,
    }
}

/// The admin token; without one the admin endpoints do not exist (404).
async fn admin_auth(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    match &st.config.admin_token {
        None => ApiError::not_found(
            "the admin endpoints are disabled",
            "start the service with `--admin-token-file FILE` to enable them",
        )
        .into_response(),
        Some(t) if !bearer(&req).is_some_and(|b| same(b, t.as_bytes())) => {
            unauthorized("the admin endpoints")
        }
        Some(_) => next.run(req).await,
    }
}

/// Reads the whole body of a single evaluation within the size limit (413) and the body
/// timeout (408), before the request takes a place among those evaluated at once, so slow
/// senders cannot hold those places.
async fn whole_body(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let limit = st.config.body_limit;
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return batch::too_large(limit as u64).into_response();
    }
    let (parts, body) = req.into_parts();
    let limited = http_body_util::Limited::new(body, limit);
    let bytes = match tokio::time::timeout(st.config.body_timeout, limited.collect()).await {
        Err(_) => {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                format!("the body did not arrive within {} s", st.config.body_timeout.as_secs_f32()),
                "send the whole body at once",
            )
            .into_response();
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return batch::too_large(limit as u64).into_response();
        }
        Ok(Err(e)) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("the body cannot be read: {e}"),
                "",
            )
            .into_response();
        }
        Ok(Ok(c)) => c.to_bytes(),
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// A place among the batches at once, or 429.
async fn batch_place(State(st): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    match st.batches.clone().try_acquire_owned() {
        Ok(p) => {
            req.extensions_mut().insert(BatchPermit(Arc::new(p)));
            next.run(req).await
        }
        Err(_) => overloaded(format!(
            "{} batches are being evaluated; no place for another",
            st.config.batch_concurrency
        )),
    }
}

fn overloaded(message: String) -> Response {
    let mut r = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "overloaded", message, "retry after a moment")
        .into_response();
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// One request waiting for a place; leaving the line (served, or the client gone) frees its
/// place in the queue.
struct InLine<'a>(&'a AtomicUsize);

impl<'a> InLine<'a> {
    /// A place in the queue, when fewer than `max` requests wait.
    fn join(waiting: &'a AtomicUsize, max: usize) -> Option<InLine<'a>> {
        if waiting.fetch_add(1, Ordering::AcqRel) >= max {
            waiting.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(InLine(waiting))
    }
}

impl Drop for InLine<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The concurrency limit, in the request's own task (no hop through a channel to a worker
/// task): a place among the `concurrency` requests evaluated at once, taken at once when one
/// is free, else in line, first come first served (the semaphore is fair), when fewer than
/// `queue` requests already wait, else 429; then the evaluation timeout (503).
async fn limit(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let _place = match st.places.clone().try_acquire_owned() {
        Ok(p) => p,
        Err(_) => {
            let Some(_in_line) = InLine::join(&st.waiting, st.config.queue.max(1)) else {
                return overloaded("the service is saturated".into());
            };
            match st.places.clone().acquire_owned().await {
                Ok(p) => p,
                Err(e) => {
                    return ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        format!("no place for the request: {e}"),
                        "",
                    )
                    .into_response();
                }
            }
        }
    };
    match tokio::time::timeout(st.config.request_timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the evaluation took longer than the request timeout",
            "retry later; if it persists, the rule set may need a look",
        )
        .into_response(),
    }
}

/// The routes with their layers.
pub fn router(st: Arc<AppState>) -> Router {
    let cfg = &st.config;
    let limited = middleware::from_fn_with_state(st.clone(), limit);
    let single = Router::new()
        .route("/v1/evaluate", post(api::evaluate_one))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .route_layer(limited.clone())
        .route_layer(middleware::from_fn_with_state(st.clone(), whole_body));
    let catalogue = Router::new()
        .route("/v1/policies", get(api::policies))
        .route("/v1/policies/{doc}", get(api::policy))
        .route("/v1/clauses/{ref}", get(api::clause))
        .route_layer(limited);
    let batch = Router::new()
        .route("/v1/evaluate/batch", post(batch::evaluate_batch))
        .route_layer(tower_http::timeout::RequestBodyTimeoutLayer::new(cfg.body_timeout))
        .route_layer(middleware::from_fn_with_state(st.clone(), batch_place));
    let evaluation = single
        .merge(catalogue)
        .merge(batch)
        .route_layer(middleware::from_fn_with_state(st.clone(), eval_auth));
    let admin = Router::new()
        .route("/v1/admin/reload", post(api::reload))
        .route_layer(middleware::from_fn_with_state(st.clone(), admin_auth));
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/v1/openapi.json", get(api::openapi))
        .merge(evaluation)
        .merge(admin)
        .fallback(api::fallback)
        .layer(middleware::from_fn_with_state(st.clone(), track))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(st)
}

/// A running service: its address, its state, and the means to stop it.
pub struct Server {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Loads the rule set, binds the address (port 0: any free port) and starts serving.
    pub async fn start(config: Config) -> Result<Server, String> {
        let metrics = Arc::new(Metrics::default());
        let paths = config.policies.clone();
        let m = metrics.clone();
        let rules = tokio::task::spawn_blocking(move || RuleSet::load(&paths, &m))
            .await
            .map_err(|e| format!("loading the rule set stopped: {e}"))?
            .map_err(refused_text)?;
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
        let addr = listener.local_addr().map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
        let st = Arc::new(AppState {
            rules: ArcSwap::from_pointee(rules),
            batches: Arc::new(Semaphore::new(config.batch_concurrency.max(1))),
            places: Arc::new(Semaphore::new(config.concurrency.max(1))),
            waiting: AtomicUsize::new(0),
            config,
            metrics,
            reloading: tokio::sync::Mutex::new(()),
        });
        let (stop, stopped) = watch::channel(false);
        let app = router(st.clone());
        let task = tokio::spawn(accept(listener, app, st.clone(), stopped));
        tracing::info!(%addr, ruleset = %st.rules.load().version, "serving");
        Ok(Server { addr, state: st, stop, task })
    }

    /// Stops accepting connections, lets in-flight requests finish (at most the shutdown
    /// grace), and returns when all is closed.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// The accept loop: at most `max_connections` open; each connection served by hyper with a
/// header timeout; on stop, the listener closes and open connections finish their requests.
async fn accept(listener: TcpListener, app: Router, st: Arc<AppState>, mut stopped: watch::Receiver<bool>) {
    let graceful = GracefulShutdown::new();
    let places = Arc::new(Semaphore::new(st.config.max_connections.max(1)));
    loop {
        let place = tokio::select! {
            p = places.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stopped.changed() => break,
        };
        let (stream, _peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // e.g. too many open files: wait a little rather than spin
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        st.metrics.connections_total.fetch_add(1, Ordering::Relaxed);
        st.metrics.connections_open.fetch_add(1, Ordering::Relaxed);
        let svc = TowerToHyperService::new(app.clone());
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(st.config.header_timeout)
            // a client that shuts its write side after the request still gets the answer
            .half_close(true)
            .serve_connection(TokioIo::new(stream), svc);
        let conn = graceful.watch(conn);
        let m = st.metrics.clone();
        tokio::spawn(async move {
            let _ = conn.await;
            m.connections_open.fetch_sub(1, Ordering::Relaxed);
            drop(place);
        });
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; finishing the requests in flight");
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("all connections closed"),
        _ = tokio::time::sleep(st.config.shutdown_grace) => tracing::warn!("shutdown grace over; closing the remaining connections"),
    }
}

fn refused_text(r: Refused) -> String {
    let mut s = r.message;
    if let Some(d) = r.diagnostics {
        for x in d.diagnostics.iter().filter(|x| matches!(x.severity, crate::diag::Severity::Error)) {
            s.push_str(&format!(
                "\n  error[{}] {}:{}: {}",
                x.code,
                x.file.as_deref().unwrap_or("?"),
                x.line.unwrap_or(0),
                x.message
            ));
        }
    }
    s
}

/// `huiqi serve`: logs, the runtime, the service; SIGHUP reloads, SIGTERM and Ctrl-C stop
/// gracefully. Returns when the service has stopped.
pub fn run(config: Config, log: LogFormat) -> Result<(), String> {
    init_logs(log);
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = config.workers {
        rt.worker_threads(n.max(1));
    }
    let rt = rt.enable_all().build().map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(async move {
        let server = Server::start(config).await?;
        eprintln!(
            "huiqi serve: listening on http://{} (rule set {})",
            server.addr,
            server.state.rules.load().version
        );
        signals(&server).await?;
        server.shutdown().await;
        Ok(())
    })
}

#[cfg(unix)]
async fn signals(server: &Server) -> Result<(), String> {
    use tokio::signal::unix::{SignalKind, signal};
    let err = |e: std::io::Error| format!("cannot listen for signals: {e}");
    let mut hup = signal(SignalKind::hangup()).map_err(err)?;
    let mut term = signal(SignalKind::terminate()).map_err(err)?;
    let mut int = signal(SignalKind::interrupt()).map_err(err)?;
    loop {
        tokio::select! {
            _ = hup.recv() => {
                tracing::info!("SIGHUP: reloading the rule set");
                let _ = server.state.reload().await;
            }
            _ = term.recv() => { tracing::info!("SIGTERM"); return Ok(()); }
            _ = int.recv() => { tracing::info!("SIGINT"); return Ok(()); }
        }
    }
}

#[cfg(not(unix))]
async fn signals(_server: &Server) -> Result<(), String> {
    tokio::signal::ctrl_c().await.map_err(|e| format!("cannot listen for Ctrl-C: {e}"))
}

fn init_logs(log: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match log {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
