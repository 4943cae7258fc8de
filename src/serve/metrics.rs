//! The service's counters and their Prometheus text exposition (`GET /metrics`): requests by
//! route and status, latency histograms by route, evaluations by clause and status, batch
//! rows, reloads, connections, and the rule-set version.
//!
//! Invariant: counters only grow (per-clause counters outlive reloads: a clause keeps its
//! counter while its reference `E23.5` exists); no floating point is used (durations are
//! kept in microseconds and printed as exact decimals).

use crate::eval::Status;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Upper bounds of the latency buckets, in microseconds.
const BUCKETS_US: [u64; 14] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 20_000, 50_000, 100_000, 250_000, 1_000_000, 5_000_000,
    30_000_000,
];

/// Evaluations of one clause by status (in [`Status::ALL`] order).
#[derive(Debug, Default)]
pub struct ClauseCounter([AtomicU64; 6]);

impl ClauseCounter {
    pub fn add(&self, s: Status, n: u64) {
        let i = Status::ALL.iter().position(|x| *x == s).unwrap_or(0);
        if let Some(c) = self.0.get(i) {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }
}

/// The route labels (`server::route_of`), in the order they are written out.
const ROUTES: [&str; 10] = [
    "/healthz",
    "/metrics",
    "/v1/admin/reload",
    "/v1/clauses/{ref}",
    "/v1/evaluate",
    "/v1/evaluate/batch",
    "/v1/openapi.json",
    "/v1/policies",
    "/v1/policies/{doc}",
    "other",
];

/// The statuses the service answers with, counted without a lock; any other in `rare`.
const STATUSES: [u16; 12] = [200, 400, 401, 404, 405, 408, 413, 415, 422, 429, 500, 503];

/// One route's counters, all atomics: recording a request takes no lock.
#[derive(Default)]
struct RouteStats {
    by_status: [AtomicU64; STATUSES.len()],
    /// Requests in each bucket alone (not cumulative; the exposition sums them).
    buckets: [AtomicU64; BUCKETS_US.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

#[derive(Default)]
pub struct Metrics {
    routes: [RouteStats; ROUTES.len()],
    /// Requests by route and a status outside [`STATUSES`].
    rare: Mutex<BTreeMap<(usize, u16), u64>>,
    clauses: Mutex<BTreeMap<String, Arc<ClauseCounter>>>,
    pub batch_rows: AtomicU64,
    pub reloads_ok: AtomicU64,
    pub reloads_refused: AtomicU64,
    pub connections_open: AtomicI64,
    pub connections_total: AtomicU64,
}

impl Metrics {
    /// The counter of a clause (`E23.5`), created on first use and kept across reloads.
    pub fn clause_counter(&self, clause: &str) -> Arc<ClauseCounter> {
        let mut m = self.clauses.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        m.entry(clause.to_string()).or_default().clone()
    }

    /// Records one answered request (a few relaxed atomic additions; no lock unless the
    /// status is a rare one).
    pub fn observe(&self, route: &'static str, status: u16, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let i = ROUTES.iter().position(|r| *r == route).unwrap_or(ROUTES.len() - 1);
        let Some(r) = self.routes.get(i) else { return };
        match STATUSES.iter().position(|s| *s == status).and_then(|k| r.by_status.get(k)) {
            Some(n) => {
                n.fetch_add(1, Ordering::Relaxed);
            }
            None => {
                let mut m = self.rare.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                *m.entry((i, status)).or_default() += 1;
            }
        }
        r.count.fetch_add(1, Ordering::Relaxed);
        r.sum_us.fetch_add(us, Ordering::Relaxed);
        if let Some(b) = BUCKETS_US.iter().position(|le| us <= *le).and_then(|b| r.buckets.get(b)) {
            b.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self, ruleset: &str, ruleset_files: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP huiqi_ruleset_info The rule set in service (version: content hash of the rule files)."
        );
        let _ = writeln!(out, "# TYPE huiqi_ruleset_info gauge");
        let _ = writeln!(out, "huiqi_ruleset_info{{version=\"{ruleset}\",files=\"{ruleset_files}\"}} 1");
        {
            let rare = self.rare.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            // the routes with requests, by label; each with its statuses in order
            let seen: Vec<(usize, &str, &RouteStats, u64)> = ROUTES
                .iter()
                .zip(&self.routes)
                .enumerate()
                .map(|(i, (name, r))| (i, *name, r, r.count.load(Ordering::Relaxed)))
                .filter(|(i, _, _, n)| *n > 0 || rare.keys().any(|(k, _)| k == i))
                .collect();
            let _ = writeln!(
                out,
                "# HELP huiqi_http_requests_total HTTP requests answered, by route and status."
            );
            let _ = writeln!(out, "# TYPE huiqi_http_requests_total counter");
            for (i, route, r, _) in &seen {
                let mut by_status: BTreeMap<u16, u64> = STATUSES
                    .iter()
                    .zip(&r.by_status)
                    .map(|(s, n)| (*s, n.load(Ordering::Relaxed)))
                    .filter(|(_, n)| *n > 0)
                    .collect();
                by_status.extend(rare.iter().filter(|((k, _), _)| k == i).map(|((_, s), n)| (*s, *n)));
                for (status, n) in by_status {
                    let _ = writeln!(
                        out,
                        "huiqi_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                    );
                }
            }
            let _ = writeln!(
                out,
                "# HELP huiqi_http_request_duration_seconds Time to answer (to the first byte for streams), by route."
            );
            let _ = writeln!(out, "# TYPE huiqi_http_request_duration_seconds histogram");
            for (_, route, r, count) in &seen {
                let mut below = 0u64;
                for (n, le) in r.buckets.iter().zip(BUCKETS_US) {
                    below += n.load(Ordering::Relaxed);
                    let _ = writeln!(
                        out,
                        "huiqi_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{}\"}} {below}",
                        seconds(u128::from(le))
                    );
                }
                let _ = writeln!(
                    out,
                    "huiqi_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    (*count).max(below)
                );
                let _ = writeln!(
                    out,
                    "huiqi_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    seconds(u128::from(r.sum_us.load(Ordering::Relaxed)))
                );
                let _ = writeln!(
                    out,
                    "huiqi_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    (*count).max(below)
                );
            }
        }
        {
            let m = self.clauses.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let _ = writeln!(out, "# HELP huiqi_evaluations_total Clause evaluations, by clause and status.");
            let _ = writeln!(out, "# TYPE huiqi_evaluations_total counter");
            for (clause, c) in m.iter() {
                for (s, n) in Status::ALL.iter().zip(c.0.iter()) {
                    let n = n.load(Ordering::Relaxed);
                    if n > 0 {
                        let _ = writeln!(
                            out,
                            "huiqi_evaluations_total{{clause=\"{clause}\",status=\"{}\"}} {n}",
                            s.as_str()
                        );
                    }
                }
            }
        }
        let counters: [(&str, &str, &str, u64); 4] = [
            (
                "huiqi_batch_rows_total",
                "counter",
                "Rows evaluated by batch requests.",
                self.batch_rows.load(Ordering::Relaxed),
            ),
            ("huiqi_reloads_total{result=\"ok\"}", "counter", "", self.reloads_ok.load(Ordering::Relaxed)),
            (
                "huiqi_reloads_total{result=\"refused\"}",
                "counter",
                "",
                self.reloads_refused.load(Ordering::Relaxed),
            ),
            (
                "huiqi_connections_total",
                "counter",
                "Connections accepted.",
                self.connections_total.load(Ordering::Relaxed),
            ),
        ];
        for (name, kind, help, n) in counters {
            if !help.is_empty() {
                let _ = writeln!(out, "# HELP {name} {help}");
                let _ = writeln!(out, "# TYPE {name} {kind}");
            } else if name.ends_with("result=\"ok\"}") {
                let _ = writeln!(out, "# HELP huiqi_reloads_total Reloads of the rule set, by result.");
                let _ = writeln!(out, "# TYPE huiqi_reloads_total counter");
            }
            let _ = writeln!(out, "{name} {n}");
        }
        let _ = writeln!(out, "# HELP huiqi_connections_open Connections open now.");
        let _ = writeln!(out, "# TYPE huiqi_connections_open gauge");
        let _ = writeln!(out, "huiqi_connections_open {}", self.connections_open.load(Ordering::Relaxed));
        out
    }
}

/// Microseconds as exact decimal seconds (`1500` → `0.0015`).
fn seconds(us: u128) -> String {
    let whole = us / 1_000_000;
    let frac = us % 1_000_000;
    if frac == 0 {
        return whole.to_string();
    }
    let f = format!("{frac:06}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_exact_decimals() {
        assert_eq!(seconds(1_500), "0.0015");
        assert_eq!(seconds(30_000_000), "30");
        assert_eq!(seconds(1_000_001), "1.000001");
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.observe("/healthz", 200, Duration::from_micros(300));
        m.observe("/healthz", 503, Duration::from_millis(3));
        m.observe("/healthz", 418, Duration::from_secs(60));
        let text = m.render("sha256:00", 1);
        assert!(text.contains("huiqi_http_requests_total{route=\"/healthz\",status=\"418\"} 1"), "{text}");
        assert!(
            text.contains("huiqi_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"30\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("huiqi_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 3"),
            "{text}"
        );
        assert!(text.contains("huiqi_http_requests_total{route=\"/healthz\",status=\"200\"} 1"), "{text}");
        assert!(
            text.contains("huiqi_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.0005\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("huiqi_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("huiqi_http_request_duration_seconds_sum{route=\"/healthz\"} 60.0033"),
            "{text}"
        );
        assert!(!text.contains("route=\"/metrics\""), "routes without requests are left out: {text}");
    }
}
