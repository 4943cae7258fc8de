//! `huiqi test`: runs the test cases written beside the rule files and reports each failure
//! as expected vs actual at the test's location.

use crate::eval::facts::read_facts;
use crate::eval::{EvalOptions, Ledger, Status, evaluate};
use crate::ir::{Program, TestExpect};
use crate::span::{SourceMap, Span};
use crate::value::fmt_money;
use rust_decimal::Decimal;

#[derive(Clone, Debug)]
pub struct TestReport {
    pub cases: Vec<CaseResult>,
}

#[derive(Clone, Debug)]
pub struct CaseResult {
    pub name: String,
    pub location: String,
    pub failures: Vec<Failure>,
}

#[derive(Clone, Debug)]
pub struct Failure {
    pub location: String,
    pub what: String,
    pub expected: String,
    pub actual: String,
    pub why: String,
}

impl TestReport {
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.failures.is_empty()).count()
    }
    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }
}

fn loc(sources: &SourceMap, s: Span) -> String {
    sources.locate(s)
}

fn show(status: Status, amount: Option<Decimal>) -> String {
    match amount {
        Some(a) => format!("{} {}", status.as_str(), fmt_money(a)),
        None => status.as_str().to_string(),
    }
}

/// Runs every test case of the program.
pub fn run(prog: &Program, sources: &SourceMap) -> TestReport {
    let mut cases = Vec::new();
    for t in &prog.tests {
        let mut failures = Vec::new();
        let location = loc(sources, t.span);
        let expected: Vec<crate::diag::Code> = t.expected_errors().collect();
        let facts = match read_facts(prog, &t.facts) {
            Ok(f) => f,
            Err(errs) if !expected.is_empty() => {
                // `expect error E0405`: the facts are rejected, so nothing is evaluated
                let actual: Vec<crate::diag::Code> = errs.iter().map(|e| e.code).collect();
                let listed = errs.iter().map(|e| format!("{} at {}: {}", e.code.id(), e.path, e.message));
                let listed = listed.collect::<Vec<_>>().join("; ");
                for e in &t.expects {
                    match e {
                        TestExpect::Error { code, span } if actual.contains(code) => {
                            let _ = span;
                        }
                        TestExpect::Error { code, span } => failures.push(Failure {
                            location: loc(sources, *span),
                            what: "error".into(),
                            expected: format!("error {}", code.id()),
                            actual: format!("the facts are rejected: {listed}"),
                            why: String::new(),
                        }),
                        TestExpect::Total { span, .. } | TestExpect::Clause { span, .. } => {
                            failures.push(Failure {
                                location: loc(sources, *span),
                                what: "result".into(),
                                expected: "a result".into(),
                                actual: format!("nothing evaluated, the facts are rejected: {listed}"),
                                why: String::new(),
                            });
                        }
                    }
                }
                cases.push(CaseResult { name: t.name.clone(), location, failures });
                continue;
            }
            Err(errs) => {
                failures.push(Failure {
                    location: loc(sources, t.facts_span),
                    what: "facts".into(),
                    expected: "valid facts".into(),
                    actual: errs
                        .iter()
                        .map(|e| format!("{}: {}", e.path, e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                    why: String::new(),
                });
                cases.push(CaseResult { name: t.name.clone(), location, failures });
                continue;
            }
        };
        let period = t.period.unwrap_or(0);
        let outcome = evaluate(
            prog,
            &facts,
            &Ledger::new(t.ledger.clone()),
            EvalOptions { period, as_of: t.as_of, explain: true },
        );
        // the codes evaluation failed with: a clause's error, the total's
        let mut failed_with: Vec<crate::diag::Code> = outcome.errors.iter().map(|e| e.code).collect();
        if let Err(e) = outcome.total() {
            failed_with.push(e.code);
        }
        for e in &t.expects {
            match e {
                TestExpect::Error { code, span } => {
                    if !failed_with.contains(code) {
                        let actual = if failed_with.is_empty() {
                            "no error".to_string()
                        } else {
                            failed_with
                                .iter()
                                .map(|c| format!("error {}", c.id()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        };
                        failures.push(Failure {
                            location: loc(sources, *span),
                            what: "error".into(),
                            expected: format!("error {}", code.id()),
                            actual,
                            why: String::new(),
                        });
                    }
                }
                TestExpect::Total { amount, span } => {
                    let total = outcome.total();
                    if total.as_ref().ok() != Some(amount) {
                        failures.push(Failure {
                            location: loc(sources, *span),
                            what: "total".into(),
                            expected: fmt_money(*amount),
                            actual: total
                                .map_or_else(|e| format!("{} ({})", e.code.id(), e.message), fmt_money),
                            why: String::new(),
                        });
                    }
                }
                TestExpect::Clause { clause, status, amount, span } => {
                    let cref = prog.clause_ref(*clause);
                    let actual = outcome.results.iter().find(|r| r.clause == *clause);
                    let err = outcome.errors.iter().find(|r| r.clause == *clause);
                    let ok = actual
                        .is_some_and(|r| r.status == *status && (amount.is_none() || r.amount == *amount));
                    if !ok {
                        let (act, why) = match (actual, err) {
                            (Some(r), _) => {
                                let why = r
                                    .reasons
                                    .iter()
                                    .chain(r.steps.iter().filter(|s| {
                                        r.reasons.is_empty() && !matches!(s, crate::eval::Step::Quote { .. })
                                    }))
                                    .map(|s| s.render(prog, crate::eval::Lang::En))
                                    .collect::<Vec<_>>()
                                    .join("; ");
                                (show(r.status, r.amount), why)
                            }
                            (None, Some(e)) => (format!("error[{}]", e.code.id()), e.message.clone()),
                            (None, None) => ("no result".into(), String::new()),
                        };
                        failures.push(Failure {
                            location: loc(sources, *span),
                            what: cref,
                            expected: show(*status, *amount),
                            actual: act,
                            why,
                        });
                    }
                }
            }
        }
        cases.push(CaseResult { name: t.name.clone(), location, failures });
    }
    TestReport { cases }
}

/// The text report: each failure, then `N passed, M failed`.
pub fn render(r: &TestReport) -> String {
    let mut out = String::new();
    for c in &r.cases {
        for f in &c.failures {
            out.push_str(&format!(
                "{}: test `{}` failed: {}\n  expected: {}\n  actual:   {}\n",
                f.location, c.name, f.what, f.expected, f.actual
            ));
            if !f.why.is_empty() {
                out.push_str(&format!("  why:      {}\n", f.why));
            }
        }
    }
    out.push_str(&format!("{} passed, {} failed\n", r.passed(), r.failed()));
    out
}
