//! Population simulation over years: each enterprise of a population is evaluated year by year
//! with its own ledger threaded through the years (one-time awards, yearly and lifetime caps,
//! at most N years, carried credits), exactly as single-enterprise
//! [`crate::eval::simulate::simulate`] does; the budget view sums the cash per clause and year.
//!
//! Invariant: a row's years are those of `simulate` on that row alone (a property test holds
//! this); one bad row is an error row, never the end of the run.
//!
//! The years run on the lean path ([`Kernel::evaluate_ledger`]), which gives the full
//! evaluator's statuses, amounts and ledger entries with a ledger; a year the kernel hands back
//! (an arithmetic failure) is evaluated by [`evaluate`], which names the failure, and the
//! missing facts of an undetermined clause come from the full evaluator. Rows are read straight
//! into facts when they are clean (`eval::stream`, as `eval` reads its rows), each worker
//! reuses its buffers ([`Scratch`]) from row to row, and a row builds only what its output
//! needs ([`Want`]).

use crate::diag::Code;
use crate::eval::facts::{Facts, read_facts};
use crate::eval::kernel::{Delegate, Kernel, Verdict, Verdicts};
use crate::eval::stream::FactsReader;
use crate::eval::{EvalOptions, Ledger, LedgerEntry, Status, cash_total, evaluate};
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

/// A row evaluated: the output row (as much of it as [`Want`] asks for) and, for the summary,
/// the clauses granted or exhausted in each year.
pub struct Simulated<'p> {
    pub row: ForecastRow<'p>,
    /// `(year - from, clause, status, cash amount)` of every clause granted or exhausted, years
    /// in order and clauses in declaration order: all the budget view reads.
    pub cash: Vec<(u32, ClauseId, Status, Option<Decimal>)>,
    /// The enterprise's whole ledger after `to` (the history and the entries added), with
    /// [`Want::after`] (`--ledger-out`).
    pub after: Option<Ledger>,
}

impl ForecastSummary {
    pub fn add(&mut self, s: &Simulated<'_>) {
        self.rows += 1;
        if !s.row.errors.is_empty() {
            self.failed += 1;
        }
        for (y, clause, status, amount) in &s.cash {
            let Some(cell) = self.cells.get_mut(*clause as usize).and_then(|c| c.get_mut(*y as usize)) else {
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

/// What a population run needs of each row besides the budget's verdicts; what is not asked
/// for is not built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Want {
    /// Each year's results (status, amount, missing facts) and the ledger entries added: the
    /// JSON-lines row. The full evaluator is asked for the missing facts of undetermined
    /// clauses only then.
    pub results: bool,
    /// Each year's period and total (the CSV rows; implied by `results`).
    pub totals: bool,
    /// The enterprise's whole ledger after the last year (`--ledger-out`).
    pub after: bool,
}

impl Want {
    /// Everything: the JSON-lines row and the ledger after.
    pub const ALL: Want = Want { results: true, totals: true, after: true };
}

/// The buffers one worker reuses from row to row (the verdicts and the ledger threaded through
/// the years), so that a row allocates only what it hands back.
#[derive(Debug, Default)]
pub struct Scratch {
    v: Verdicts,
    ledger: Ledger,
}

/// A population simulation's shared state: the program compiled for the lean path and its
/// facts reader, built once and shared by the workers (`Sync`).
pub struct Simulator<'p> {
    pub prog: &'p Program,
    pub kernel: Kernel,
    reader: FactsReader<'p>,
    pub from: i32,
    pub to: i32,
    pub want: Want,
}

impl<'p> Simulator<'p> {
    pub fn new(prog: &'p Program, from: i32, to: i32, want: Want) -> Simulator<'p> {
        Simulator { prog, kernel: Kernel::new(prog), reader: FactsReader::new(prog), from, to, want }
    }

    /// One JSON-lines row: read straight into facts when it is clean (as the batch `eval`
    /// rows are), else through a JSON tree, which names every problem.
    pub fn text<'l>(
        &self,
        line: usize,
        text: Result<&str, String>,
        history: impl FnOnce(RowKey<'_>) -> Option<&'l Ledger>,
        scratch: &mut Scratch,
    ) -> Simulated<'p> {
        let text = match text {
            Ok(t) => t,
            Err(e) => return self.value(line, Err(e), history, scratch),
        };
        let Some((facts, meta)) = self.reader.read(text) else {
            return self.value(line, crate::batch::parse_json_line(text), history, scratch);
        };
        let mut row = new_row(line);
        row.enterprise = meta.enterprise;
        let Some(before) = history(RowKey { enterprise: row.enterprise.as_deref(), line }) else {
            return self.unmatched(row);
        };
        self.years(row, &facts, before, scratch)
    }

    /// One row given as a facts value (a JSON line parsed, or a CSV record by its column
    /// paths). `history` gives the enterprise's ledger before `from`, looked up by the row's
    /// enterprise id (`$id`, else `$name`) and line; `None` from it is an error row (E0404), so
    /// that a history that cannot be matched is never silently replaced by an empty one.
    pub fn value<'l>(
        &self,
        line: usize,
        input: Result<crate::json::Json, String>,
        history: impl FnOnce(RowKey<'_>) -> Option<&'l Ledger>,
        scratch: &mut Scratch,
    ) -> Simulated<'p> {
        let mut row = new_row(line);
        let json = match input {
            Ok(v) => v,
            Err(m) => {
                row.errors.push(row_error(Code::FactsSyntax, format!("line {line}"), m));
                return self.failed(row, None);
            }
        };
        row.enterprise =
            json.get("$id").or_else(|| json.get("$name")).and_then(|v| v.as_str()).map(String::from);
        let Some(before) = history(RowKey { enterprise: row.enterprise.as_deref(), line }) else {
            return self.unmatched(row);
        };
        match read_facts(self.prog, &json) {
            Ok(facts) => self.years(row, &facts, before, scratch),
            Err(errs) => {
                row.errors.extend(errs.into_iter().map(|e| row_error(e.code, e.path, e.message)));
                self.failed(row, Some(before))
            }
        }
    }

    /// The error row of line `line` (enterprise `enterprise`) whose history an earlier row
    /// with the same id holds (see [`PopulationLedger::holds`]).
    pub fn unmatched_row(&self, line: usize, enterprise: Option<String>) -> Simulated<'p> {
        let mut row = new_row(line);
        row.enterprise = enterprise;
        self.unmatched(row)
    }

    /// A row whose history was already taken by an earlier row with the same id.
    fn unmatched(&self, mut row: ForecastRow<'p>) -> Simulated<'p> {
        let line = row.line;
        row.errors.push(row_error(
            Code::LedgerInvalid,
            format!("line {line}"),
            "an earlier row of the population has the same enterprise id and already took its history from the ledger; give every row its own `$id`".into(),
        ));
        self.failed(row, None)
    }

    /// A row not simulated: its ledger after is its history (or empty).
    fn failed(&self, row: ForecastRow<'p>, before: Option<&Ledger>) -> Simulated<'p> {
        let after = self.want.after.then(|| before.cloned().unwrap_or_default());
        Simulated { row, cash: Vec::new(), after }
    }

    /// The years of one enterprise, its ledger threaded through them.
    fn years(
        &self,
        mut row: ForecastRow<'p>,
        facts: &Facts,
        before: &Ledger,
        scratch: &mut Scratch,
    ) -> Simulated<'p> {
        let (prog, want) = (self.prog, self.want);
        let Scratch { v, ledger } = scratch;
        ledger.entries.clear();
        ledger.entries.extend(before.entries.iter().cloned());
        let mut cash = Vec::new();
        for (y, period) in (self.from..=self.to).enumerate() {
            let y = u32::try_from(y).unwrap_or(u32::MAX);
            let opts = EvalOptions { period, as_of: None, explain: false };
            let at = |clause| format!("{} ({period})", prog.clause_ref(clause));
            let total = match self.kernel.evaluate_ledger(prog, facts, ledger, period, None, v) {
                Ok(()) => match cash_total(v.items.iter().map(|x| (x.clause, x.status, x.benefit, x.amount)))
                {
                    Ok(t) => Some(t),
                    Err(o) => {
                        let e = o.to_clause_error();
                        row.errors.push(row_error(e.code, at(e.clause), e.message));
                        None
                    }
                },
                Err(Delegate) => {
                    // the full evaluator names the failure (and gives every other clause)
                    let o = evaluate(prog, facts, ledger, opts);
                    for e in &o.errors {
                        row.errors.push(row_error(e.code, at(e.clause), e.message.clone()));
                    }
                    v.entries.clear();
                    v.entries.extend(o.new_entries().cloned());
                    v.items.clear();
                    v.items.extend(o.results.iter().map(Verdict::from));
                    o.total().ok()
                }
            };
            let mut results = Vec::new();
            for r in &v.items {
                if matches!(r.status, Status::Granted | Status::Exhausted) {
                    cash.push((y, r.clause, r.status, if r.benefit { r.amount } else { None }));
                }
                if !want.results || matches!(r.status, Status::Ineligible | Status::NotInForce) {
                    continue;
                }
                let Some(c) = prog.clause(r.clause) else { continue };
                let missing = match r.status {
                    Status::Undetermined => crate::eval::missing_facts(prog, r.clause, facts, ledger, opts),
                    _ => Vec::new(),
                };
                results.push(crate::batch::RowResult::new(c, r, missing));
            }
            if want.results || want.totals {
                row.years.push(ForecastYear { period, total: total.map(fmt_yuan), results });
            }
            ledger.entries.append(&mut v.entries);
        }
        if want.results {
            row.ledger = ledger.entries.get(before.entries.len()..).unwrap_or_default().to_vec();
        }
        let after = want.after.then(|| ledger.clone());
        Simulated { row, cash, after }
    }
}

fn new_row<'p>(line: usize) -> ForecastRow<'p> {
    ForecastRow {
        schema_version: 1,
        line,
        enterprise: None,
        years: Vec::new(),
        ledger: Vec::new(),
        errors: Vec::new(),
    }
}

fn row_error(code: Code, at: String, message: String) -> crate::batch::RowError {
    crate::batch::RowError { code: code.id(), at, message }
}

/// Simulates one JSON-lines row from `from` to `to`, from an empty ledger, with everything
/// ([`Want::ALL`]); compiles the program for the lean path for this one row (a population
/// shares one [`Simulator`]).
pub fn simulate_row<'p>(
    prog: &'p Program,
    line: usize,
    text: Result<&str, String>,
    from: i32,
    to: i32,
) -> Simulated<'p> {
    Simulator::new(prog, from, to, Want::ALL).text(line, text, |_| Some(&EMPTY), &mut Scratch::default())
}

static EMPTY: Ledger = Ledger { entries: Vec::new() };

/// The empty history, for rows without one.
pub fn empty_ledger() -> &'static Ledger {
    &EMPTY
}

/// How a population row is matched to its history: by enterprise id, else by line.
#[derive(Clone, Copy, Debug)]
pub struct RowKey<'a> {
    pub enterprise: Option<&'a str>,
    pub line: usize,
}

/// The histories of a population (`simulate --ledger LEDGER.jsonl`): one JSON object per line,
/// a ledger (`{"schema_version": 1, "entries": [...]}`) with the enterprise it belongs to
/// (`"enterprise"`: the population row's `$id` or `$name`; or `"line"`: the row's line when the
/// rows have no id). This is what `--ledger-out` writes, so one run's output is the next run's
/// history.
///
/// Invariant: every history is used by exactly one row, or reported by [`unused`]; a history
/// is never dropped in silence, since a one-time award would then be paid again.
///
/// [`unused`]: PopulationLedger::unused
#[derive(Debug, Default)]
pub struct PopulationLedger {
    by_enterprise: std::collections::HashMap<String, (usize, Ledger)>,
    by_line: std::collections::HashMap<usize, (usize, Ledger)>,
    /// Per line of the file (index: its number): the population line of the earliest row that
    /// asked for its history (`usize::MAX`: none yet). Atomics, so that the workers claim
    /// histories without a lock per row, and the earliest row wins whatever order they run in.
    claims: Vec<std::sync::atomic::AtomicUsize>,
}

impl PopulationLedger {
    /// Reads and validates every line against the rule set. Errors name `file:line` and the
    /// entry (`entries[2]`), one per problem.
    pub fn read(
        prog: &Program,
        text: &str,
        file: &str,
    ) -> Result<PopulationLedger, Vec<crate::diag::Diagnostic>> {
        use crate::diag::Diagnostic;
        let mut out = PopulationLedger::default();
        let mut errors = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let no = i + 1;
            if raw.trim().is_empty() {
                continue;
            }
            let here = format!("{file}:{no}");
            let ledger = match Ledger::from_json(raw, &here) {
                Ok(l) => l,
                Err(d) => {
                    errors.push(*d);
                    continue;
                }
            };
            if let Err(ds) = ledger.check(prog, &here) {
                errors.extend(ds);
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(raw).unwrap_or_default();
            let dup = |what: String, first: usize| {
                Diagnostic::new(
                    Code::LedgerInvalid,
                    format!("{what} has a second history here (the first is line {first})"),
                )
                .in_input(&here, "enterprise")
                .help("keep one line per enterprise: merge the two lines' `entries`")
            };
            if let Some(e) = v.get("enterprise").and_then(|e| e.as_str()) {
                if let Some((first, _)) = out.by_enterprise.get(e) {
                    errors.push(dup(format!("enterprise `{e}`"), *first));
                } else {
                    out.by_enterprise.insert(e.to_string(), (no, ledger));
                }
            } else if let Some(l) = v.get("line").and_then(serde_json::Value::as_u64) {
                let l = usize::try_from(l).unwrap_or(usize::MAX);
                if let Some((first, _)) = out.by_line.get(&l) {
                    errors.push(dup(format!("population line {l}"), *first));
                } else {
                    out.by_line.insert(l, (no, ledger));
                }
            } else {
                errors.push(
                    Diagnostic::new(Code::LedgerInvalid, "this history names no enterprise".to_string())
                        .in_input(&here, "$")
                        .help("give `\"enterprise\"` (the row's `$id` or `$name`) or `\"line\"` (the row's line in the population)"),
                );
            }
        }
        // a claim per line of the file, up to the last that holds a history
        let last = out.by_enterprise.values().chain(out.by_line.values()).map(|(no, _)| *no).max();
        out.claims =
            (0..=last.unwrap_or(0)).map(|_| std::sync::atomic::AtomicUsize::new(usize::MAX)).collect();
        if errors.is_empty() { Ok(out) } else { Err(errors) }
    }

    fn is_used(&self, no: usize) -> bool {
        self.claim(no) != usize::MAX
    }

    /// The line of the earliest row that asked for history `no` so far.
    fn claim(&self, no: usize) -> usize {
        self.claims.get(no).map_or(usize::MAX, |c| c.load(std::sync::atomic::Ordering::Relaxed))
    }

    fn find(&self, key: RowKey<'_>) -> Option<&(usize, Ledger)> {
        key.enterprise.and_then(|e| self.by_enterprise.get(e)).or_else(|| self.by_line.get(&key.line))
    }

    /// Whether a row that asked [`PopulationLedger::lookup`] for its history still holds it
    /// once every row before it has asked: `false` when an earlier row with the same id asked
    /// too (rows run in parallel, so the earlier one may ask later); the caller then makes it
    /// the error row [`lookup`] would have made it. Ask only after the rows that could come
    /// before it have been looked up (the rows of its chunk and earlier ones).
    ///
    /// [`lookup`]: PopulationLedger::lookup
    pub fn holds(&self, key: RowKey<'_>) -> bool {
        self.find(key).is_none_or(|(no, _)| self.claim(*no) == key.line)
    }

    pub fn len(&self) -> usize {
        self.by_enterprise.len() + self.by_line.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The history of a row: by its enterprise id when the file has one for it, else by its
    /// line; an empty ledger when neither. `None` when a history was already used by another
    /// row (two rows with the same id), which the caller reports as an error row.
    pub fn lookup(&self, key: RowKey<'_>) -> Option<&Ledger> {
        let Some((no, ledger)) = self.find(key) else { return Some(&EMPTY) };
        // the earliest row gets it: a later row asking after it gets `None` here, and one that
        // asked before it learns so from `holds`
        let earlier =
            self.claims.get(*no).map_or(0, |c| c.fetch_min(key.line, std::sync::atomic::Ordering::Relaxed));
        if earlier < key.line { None } else { Some(ledger) }
    }

    /// The ledger lines no row used (their enterprise is not in the population), sorted.
    pub fn unused(&self) -> Vec<(usize, String)> {
        let mut out: Vec<(usize, String)> = self
            .by_enterprise
            .iter()
            .filter(|(_, (no, _))| !self.is_used(*no))
            .map(|(e, (no, _))| (*no, format!("enterprise `{e}`")))
            .chain(
                self.by_line
                    .iter()
                    .filter(|(_, (no, _))| !self.is_used(*no))
                    .map(|(l, (no, _))| (*no, format!("line {l}"))),
            )
            .collect();
        out.sort();
        out
    }
}

/// One line of `--ledger-out`: an enterprise's whole ledger after the simulation.
pub fn ledger_line(row: &ForecastRow<'_>, ledger: &Ledger) -> String {
    let mut v = ledger.to_json();
    if let serde_json::Value::Object(m) = &mut v {
        match &row.enterprise {
            Some(e) => {
                m.insert("enterprise".into(), serde_json::Value::String(e.clone()));
            }
            None => {
                m.insert("line".into(), serde_json::Value::from(row.line));
            }
        }
    }
    v.to_string()
}
