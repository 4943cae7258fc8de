//! Multi-year runs: evaluate year by year, threading the ledger.

use super::{EvalOptions, Facts, Ledger, Outcome, evaluate};
use crate::ir::Program;

/// One year of a simulation: the outcome and the ledger after it.
#[derive(Clone, Debug)]
pub struct YearOutcome {
    pub outcome: Outcome,
    pub ledger: Ledger,
}

/// Evaluates each year from `from` to `to` inclusive, each at its year end, adding each year's
/// new entries to the ledger the next year reads. Equal, by construction, to single-year
/// evaluations threading the ledger by hand.
pub fn simulate(
    prog: &Program,
    facts: &Facts,
    start: &Ledger,
    from: i32,
    to: i32,
    explain: bool,
) -> Vec<YearOutcome> {
    let mut ledger = start.clone();
    let mut out = Vec::new();
    for year in from..=to {
        let outcome = evaluate(prog, facts, &ledger, EvalOptions { period: year, as_of: None, explain });
        ledger.extend(outcome.new_entries().cloned());
        out.push(YearOutcome { outcome, ledger: ledger.clone() });
    }
    out
}
