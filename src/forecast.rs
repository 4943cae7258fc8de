//! Population simulation over years: each enterprise of a population is evaluated year by year
//! with its own ledger threaded through the years (one-time awards, yearly and lifetime caps,
//! at most N years, carried credits), exactly as single-enterprise
//! [`crate::eval::simulate::simulate`] does; the budget view sums the cash per clause and year.
//!
//! Invariant: a row's years are those of `simulate` on that row alone (a property test holds
//! this); one bad row is an error row, never the end of the run.

use crate::diag::Code;
use crate::eval::facts::read_facts;
use crate::eval::simulate::simulate;
use crate::eval::{Ledger, LedgerEntry, Status};
use crate::ir::{ClauseId, Program};
use crate::value::fmt_yuan;
use rust_decimal::Decimal;
use serde::Serialize;

/// One output row (`simulate --facts POP --format jsonl`).
#[derive(Serialize, Debug, Clone)]
pub struct ForecastRow<'p> {
    pub schema_version: u32,
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<String>,
    pub years: Vec<ForecastYear<'p>>,
    /// The entries added over the years (the enterprise's ledger for the next run).
    pub ledger: Vec<LedgerEntry>,
    pub errors: Vec<crate::batch::RowError>,
}

#[derive(Serialize, Debug, Clone)]
pub struct ForecastYear<'p> {
    pub period: i32,
    /// Cash granted that year; `null` only when the sum overflows (E0504 in `errors`).
    pub total: Option<String>,
    /// As in the batch `eval` rows: the clauses that grant, are discretionary, exhausted or
    /// undetermined.
    pub results: Vec<crate::batch::RowResult<'p>>,
}

/// Per clause and year: enterprises granted, cash, and how many found the clause exhausted.
#[derive(Clone, Debug, Default)]
pub struct Cell {
    pub granted: u64,
    pub exhausted: u64,
    /// `None` once the sum overflows (E0504).
    pub cash: Option<Decimal>,
}

/// The budget view of a population simulation.
#[derive(Clone, Debug)]
pub struct ForecastSummary {
    pub from: i32,
    pub to: i32,
    pub rows: u64,
    pub failed: u64,
    /// `cells[clause][year - from]`.
    pub cells: Vec<Vec<Cell>>,
}

impl ForecastSummary {
    pub fn new(prog: &Program, from: i32, to: i32) -> ForecastSummary {
        let years = usize::try_from(to - from + 1).unwrap_or(0);
        let cell = Cell { cash: Some(Decimal::ZERO), ..Cell::default() };
        ForecastSummary { from, to, rows: 0, failed: 0, cells: vec![vec![cell; years]; prog.clauses.len()] }
    }

    /// The cash of a year over all clauses (`None` on overflow).
    pub fn year_total(&self, year: i32) -> Option<Decimal> {
        let i = usize::try_from(year - self.from).ok()?;
        self.cells.iter().try_fold(Decimal::ZERO, |t, c| t.checked_add(c.get(i)?.cash?))
    }

    /// Clauses that granted or were exhausted in some year, in declaration order.
    pub fn lines(&self) -> impl Iterator<Item = (ClauseId, &Vec<Cell>)> {
        self.cells
            .iter()
            .enumerate()
            .filter(|(_, ys)| ys.iter().any(|c| c.granted > 0 || c.exhausted > 0))
            .map(|(i, ys)| (ClauseId::try_from(i).unwrap_or(ClauseId::MAX), ys))
    }
}

/// A row evaluated: the output row and, for the summary, each year's verdicts.
pub struct Simulated<'p> {
    pub row: ForecastRow<'p>,
    /// Per year: (clause, status, cash amount) of every evaluated clause.
    pub years: Vec<Vec<(ClauseId, Status, Option<Decimal>)>>,
}

impl ForecastSummary {
    pub fn add(&mut self, s: &Simulated<'_>) {
        self.rows += 1;
        if !s.row.errors.is_empty() {
            self.failed += 1;
        }
        for (y, verdicts) in s.years.iter().enumerate() {
            for (clause, status, amount) in verdicts {
                let Some(cell) = self.cells.get_mut(*clause as usize).and_then(|c| c.get_mut(y)) else {
                    continue;
                };
                match status {
                    Status::Granted => {
                        cell.granted += 1;
                        if let Some(a) = amount {
                            cell.cash = cell.cash.and_then(|c| c.checked_add(*a));
                        }
                    }
                    Status::Exhausted => cell.exhausted += 1,
                    _ => {}
                }
            }
        }
    }
}

/// Simulates one JSON-lines row from `from` to `to`.
pub fn simulate_row<'p>(
    prog: &'p Program,
    line: usize,
    text: Result<&str, String>,
    from: i32,
    to: i32,
) -> Simulated<'p> {
    let mut row = ForecastRow {
        schema_version: 1,
        line,
        enterprise: None,
        years: Vec::new(),
        ledger: Vec::new(),
        errors: Vec::new(),
    };
    let err =
        |code: Code, at: String, message: String| crate::batch::RowError { code: code.id(), at, message };
    // the batch's row reader: exact numbers from the text (never through f64), objects only
    let json = match text.and_then(crate::batch::parse_json_line) {
        Ok(v) => v,
        Err(m) => {
            row.errors.push(err(Code::FactsSyntax, format!("line {line}"), m));
            return Simulated { row, years: Vec::new() };
        }
    };
    row.enterprise = json.get("$id").or_else(|| json.get("$name")).and_then(|v| v.as_str()).map(String::from);
    let facts = match read_facts(prog, &json) {
        Ok(f) => f,
        Err(errs) => {
            row.errors.extend(errs.into_iter().map(|e| err(e.code, e.path, e.message)));
            return Simulated { row, years: Vec::new() };
        }
    };
    let outcomes = simulate(prog, &facts, &Ledger::default(), from, to, false);
    let mut years = Vec::with_capacity(outcomes.len());
    for y in &outcomes {
        let o = &y.outcome;
        for e in &o.errors {
            row.errors.push(err(
                e.code,
                format!("{} ({})", prog.clause_ref(e.clause), o.period),
                e.message.clone(),
            ));
        }
        let mut results = Vec::new();
        let mut verdicts = Vec::with_capacity(o.results.len());
        for r in &o.results {
            let cash = if r.benefit { r.amount } else { None };
            verdicts.push((r.clause, r.status, cash));
            if matches!(r.status, Status::Ineligible | Status::NotInForce) {
                continue;
            }
            let Some(c) = prog.clause(r.clause) else { continue };
            results.push(crate::batch::RowResult {
                policy: &c.ledger_names.0,
                clause: &c.ledger_names.1,
                kind: crate::report::result_kind(c),
                status: r.status,
                amount: r.amount.map(fmt_yuan),
                missing: r.missing.clone(),
            });
        }
        row.years.push(ForecastYear { period: o.period, total: o.total().ok().map(fmt_yuan), results });
        row.ledger.extend(o.new_entries().cloned());
        years.push(verdicts);
    }
    Simulated { row, years }
}
