//! Population-scale evaluation: rows in (JSON lines, or CSV with fact paths as column names),
//! one compact report per row out, in input order, plus the budget summary per clause.
//!
//! Invariant: a malformed or invalid row never stops a batch and is never dropped: its output
//! row carries its errors with its input line number. Rows are read straight into facts
//! (`eval::stream`) and evaluated on the lean path (`eval::kernel`), in parallel within a
//! chunk, formatted on the same worker, and written in input order, so memory stays bounded by
//! the chunk size however large the population. What the lean path cannot do alone (a row
//! with problems, an arithmetic failure, the missing facts of an undetermined clause) goes to
//! the slow reader and the full evaluator, which give the same answers.

use crate::diag::Code;
use crate::eval::facts::{Facts, default_period, read_facts};
use crate::eval::kernel::{Kernel, Verdict, Verdicts};
use crate::eval::stream::FactsReader;
use crate::eval::{EvalOptions, Ledger, Status, cash_total, evaluate, evaluate_clause};
use crate::ir::{ClauseId, Program};
use crate::json::{Json as Value, Map};
use crate::value::{Date, fmt_yuan};
#[cfg(feature = "parallel")]
use rayon::iter::ParallelIterator;
use rust_decimal::Decimal;
use serde::Serialize;

pub const BATCH_SCHEMA_VERSION: u32 = 1;

/// The stack of each batch worker. Both evaluators recurse as deep as a rule nests with its
/// definitions counted in place, which the compiler bounds
/// ([`crate::ir::lower::MAX_EVAL_DEPTH`]); at that bound a debug build needs about 8 MiB,
/// more than rayon's default 2 MiB. The memory is reserved, not used: only the pages a row
/// touches are.
pub const WORKER_STACK: usize = 64 << 20;

/// The batch workers: rayon's pool, with [`WORKER_STACK`].
#[cfg(feature = "parallel")]
static WORKERS: std::sync::LazyLock<Option<rayon::ThreadPool>> = std::sync::LazyLock::new(|| {
    rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK)
        .thread_name(|i| format!("huiqi-batch-{i}"))
        .build()
        .ok()
});

/// Runs `f` (which uses rayon) on the batch workers; on rayon's global pool if they could
/// not be started. Every parallel evaluation goes through here.
#[cfg(feature = "parallel")]
pub fn on_workers<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    match WORKERS.as_ref() {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// Without the `parallel` feature: `f` on the calling thread.
#[cfg(not(feature = "parallel"))]
pub fn on_workers<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    f()
}

/// One output row (`--format jsonl`).
impl<'p> RowResult<'p> {
    /// A clause's verdict as a row lists it, with the facts it misses (undetermined clauses).
    pub fn new(c: &'p crate::ir::ClauseDef, v: &Verdict, missing: Vec<String>) -> RowResult<'p> {
        RowResult {
            policy: &c.ledger_names.0,
            clause: &c.ledger_names.1,
            kind: crate::report::result_kind(c),
            status: v.status,
            amount: v.amount.map(fmt_yuan),
            missing,
        }
    }
}

#[derive(Serialize, Debug, Clone)]
#[cfg_attr(feature = "serve", derive(utoipa::ToSchema))]
pub struct BatchRow<'p> {
    pub schema_version: u32,
    /// The input line (1-based; for CSV, the line of the record).
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<String>,
    pub period: Option<i32>,
    /// Cash granted, in yuan; null when the row failed.
    pub total: Option<String>,
    /// The clauses that grant, are discretionary, exhausted or undetermined (ineligible and
    /// not-in-force clauses are left out to keep rows small).
    pub results: Vec<RowResult<'p>>,
    /// Why the row failed, if it did: facts errors with their JSON paths, or clause errors.
    pub errors: Vec<RowError>,
}

#[derive(Serialize, Debug, Clone)]
#[cfg_attr(feature = "serve", derive(utoipa::ToSchema))]
pub struct RowResult<'p> {
    /// Borrowed from the program: no allocation, and no reference count shared by the
    /// workers.
    pub policy: &'p str,
    pub clause: &'p str,
    /// `benefit`, `tax`, `ceiling`, `provides` … as in `eval --format json`.
    pub kind: &'static str,
    pub status: Status,
    pub amount: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

#[derive(Serialize, Debug, Clone)]
#[cfg_attr(feature = "serve", derive(utoipa::ToSchema))]
pub struct RowError {
    pub code: &'static str,
    /// The JSON path (facts errors) or the clause (`E23.5`, evaluation errors).
    pub at: String,
    pub message: String,
}

/// One row's evaluation: the report row, its output line, and for the summary the verdicts.
pub struct Evaluated<'p> {
    pub row: BatchRow<'p>,
    /// Every evaluated clause's status and amount (`None` when the row failed before
    /// evaluation).
    pub verdicts: Option<Vec<Verdict>>,
    /// The row as written out in the batch's [`RowFormat`] (empty for `Table`), formatted on
    /// the worker that evaluated it.
    pub text: String,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct BatchOptions {
    pub period: Option<i32>,
    pub as_of: Option<Date>,
}

/// What each output row is written as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RowFormat {
    /// One JSON object a row ([`BatchRow`]).
    #[default]
    Jsonl,
    /// `line,enterprise,period,total,error` and a status and amount column per clause.
    Csv,
    /// No rows, only the summary: rows carry no per-clause `results` and no text (the summary
    /// reads the verdicts).
    Table,
}

/// A batch evaluation: a program compiled once more for the lean path ([`Kernel`]), the
/// options, and the row format. `Sync`: one batch serves every worker.
pub struct Batch<'p> {
    pub prog: &'p Program,
    kernel: Kernel,
    reader: FactsReader<'p>,
    opts: BatchOptions,
    format: RowFormat,
    /// The bytes of the last block [`Batch::json_lines_blocks`] wrote, per row: the next
    /// block's buffer is sized from it.
    row_bytes: std::sync::atomic::AtomicUsize,
}

impl<'p> Batch<'p> {
    pub fn new(prog: &'p Program, opts: BatchOptions, format: RowFormat) -> Batch<'p> {
        Batch {
            prog,
            kernel: Kernel::new(prog),
            reader: FactsReader::new(prog),
            opts,
            format,
            row_bytes: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Parses and evaluates JSON-lines rows on every core (a row that could not be read as
    /// text carries why); the result is in input order.
    pub fn json_lines(&self, rows: Vec<(usize, Result<String, String>)>) -> Vec<Evaluated<'p>> {
        on_workers(|| {
            each(rows)
                .map(|(line, text)| match text {
                    Ok(t) => self.json_line(line, &t),
                    Err(e) => self.value(line, Err(e)),
                })
                .collect()
        })
    }

    /// JSON-lines rows evaluated on every core a block of 64 rows at a time, each
    /// block's rows written as JSON lines (the [`BatchRow`] and `\n` a row, the bytes
    /// [`Batch::json_lines`] gives as `text`) straight into one buffer, with no `String` per
    /// row, and folded into the block's `R` by `fold` (in input order within the block) on
    /// the worker that evaluated them, which also frees them. The blocks come back in input
    /// order. For a batch made with [`RowFormat::Jsonl`].
    pub fn json_lines_blocks<R: Send>(
        &self,
        rows: &[(usize, Result<String, String>)],
        init: impl Fn() -> R + Sync + Send,
        fold: impl Fn(&mut R, &Evaluated<'p>) + Sync + Send,
    ) -> Vec<(Vec<u8>, R)> {
        use std::sync::atomic::Ordering;
        on_workers(|| {
            blocks(rows, |block| {
                let per_row = self.row_bytes.load(Ordering::Relaxed);
                let mut buf = Vec::with_capacity(per_row.saturating_mul(block.len() + 1));
                let mut acc = init();
                for (line, text) in block {
                    let e = match text {
                        Ok(t) => self.row(*line, t, false),
                        Err(e) => self.value_row(*line, Err(e.clone()), false),
                    };
                    let start = buf.len();
                    if serde_json::to_writer(&mut buf, &e.row).is_err() {
                        // as `json_lines` writes a row serde_json cannot (it always can)
                        buf.truncate(start);
                    }
                    buf.push(b'\n');
                    fold(&mut acc, &e);
                }
                self.row_bytes.store(buf.len() / block.len().max(1), Ordering::Relaxed);
                (buf, acc)
            })
        })
    }

    /// Evaluates rows already read into JSON (CSV records) on every core, in input order.
    pub fn values(&self, rows: Vec<(usize, Result<Value, String>)>) -> Vec<Evaluated<'p>> {
        on_workers(|| each(rows).map(|(line, input)| self.value(line, input)).collect())
    }

    /// One JSON-lines row: read straight into facts when it is clean, else through a JSON
    /// tree, which names every problem.
    pub fn json_line(&self, line: usize, text: &str) -> Evaluated<'p> {
        self.row(line, text, true)
    }

    /// [`Batch::json_line`], with its `text` written only when `format`.
    fn row(&self, line: usize, text: &str, format: bool) -> Evaluated<'p> {
        match self.reader.read(text) {
            Some((facts, meta)) => {
                let mut row = new_row(line);
                row.enterprise = meta.enterprise;
                let period = facts.period_or_latest(self.opts.period.or(meta.period));
                self.facts(row, &facts, period, self.opts.as_of, format)
            }
            None => self.value_row(line, parse_json_line(text), format),
        }
    }

    /// One row already read into facts (the columnar path): evaluated as a JSON-lines row
    /// with the same facts and metadata is.
    pub fn evaluated_facts(
        &self,
        line: usize,
        facts: &Facts,
        meta: crate::eval::stream::RowMeta,
    ) -> Evaluated<'p> {
        let mut row = new_row(line);
        row.enterprise = meta.enterprise;
        let period = facts.period_or_latest(self.opts.period.or(meta.period));
        self.facts(row, facts, period, self.opts.as_of, true)
    }

    /// The options every row is evaluated with.
    pub(crate) fn options(&self) -> BatchOptions {
        self.opts
    }

    /// The evaluated clauses, in the order of the CSV and Arrow output columns.
    pub fn clauses(&self) -> impl Iterator<Item = ClauseId> + '_ {
        self.kernel.clauses()
    }

    /// One row as a JSON value (or the error text of a row that is not one).
    pub fn value(&self, line: usize, input: Result<Value, String>) -> Evaluated<'p> {
        self.value_row(line, input, true)
    }

    /// [`Batch::value`], with its `text` written only when `format`.
    fn value_row(&self, line: usize, input: Result<Value, String>, format: bool) -> Evaluated<'p> {
        let mut row = new_row(line);
        let json = match input {
            Ok(v) => v,
            Err(message) => {
                row.errors.push(RowError {
                    code: Code::FactsSyntax.id(),
                    at: format!("line {line}"),
                    message,
                });
                return self.done(row, None, format);
            }
        };
        row.enterprise =
            json.get("$id").or_else(|| json.get("$name")).and_then(Value::as_str).map(String::from);
        match read_facts(self.prog, &json) {
            Ok(facts) => {
                let period = self.opts.period.or_else(|| default_period(&json, &facts));
                // `--as-of` wins; else the row's own `$as_of` (validated by `read_facts`)
                let as_of = self.opts.as_of.or(crate::eval::facts::meta_as_of(&json).ok().flatten());
                self.facts(row, &facts, period, as_of, format)
            }
            Err(errs) => {
                row.errors.extend(errs.into_iter().map(|e| RowError {
                    code: e.code.id(),
                    at: e.path,
                    message: e.message,
                }));
                self.done(row, None, format)
            }
        }
    }

    /// Evaluates valid facts: on the lean path, or with the full evaluator when a clause
    /// fails arithmetically (it names the failure); undetermined clauses get their missing
    /// facts from the full evaluator.
    fn facts(
        &self,
        mut row: BatchRow<'p>,
        facts: &Facts,
        period: Option<i32>,
        as_of: Option<Date>,
        format: bool,
    ) -> Evaluated<'p> {
        let mut v = Verdicts::default();
        let Some((period, total)) = self.judge(facts, period, as_of, &mut v, &mut row.errors) else {
            return self.done(row, None, format);
        };
        row.period = Some(period);
        let prog = self.prog;
        let opts = EvalOptions { period, as_of, explain: false };
        // the budget view needs only the verdicts
        let rows = if self.format == RowFormat::Table { &[][..] } else { &v.items[..] };
        for r in rows {
            if matches!(r.status, Status::Ineligible | Status::NotInForce) {
                continue;
            }
            let Some(c) = prog.clause(r.clause) else { continue };
            let missing = match r.status {
                Status::Undetermined => evaluate_clause(prog, r.clause, facts, &Ledger::default(), opts)
                    .map(|x| x.missing)
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            row.results.push(RowResult::new(c, r, missing));
        }
        row.total = total.map(fmt_yuan);
        self.done(row, Some(v.items), format)
    }

    /// The verdicts of valid facts into `v` (on the lean path, or with the full evaluator
    /// when a clause fails arithmetically, which names the failure in `errors`) and the cash
    /// total (`None` when it overflows, named in `errors`). `None` when there is no period
    /// (named in `errors`): nothing was evaluated.
    fn judge(
        &self,
        facts: &Facts,
        period: Option<i32>,
        as_of: Option<Date>,
        v: &mut Verdicts,
        errors: &mut Vec<RowError>,
    ) -> Option<(i32, Option<Decimal>)> {
        let Some(period) = period else {
            errors.push(RowError {
                code: Code::FactType.id(),
                at: "$period".into(),
                message: "no period: give `$period`, a yearly series, or `--period`".into(),
            });
            return None;
        };
        let prog = self.prog;
        if self.kernel.evaluate(prog, facts, period, as_of, v).is_err() {
            let opts = EvalOptions { period, as_of, explain: false };
            let outcome = evaluate(prog, facts, &Ledger::default(), opts);
            for e in &outcome.errors {
                errors.push(RowError {
                    code: e.code.id(),
                    at: prog.clause_ref(e.clause),
                    message: e.message.clone(),
                });
            }
            v.items.clear();
            v.items.extend(outcome.results.iter().map(Verdict::from));
        }
        match cash_total(v.items.iter().map(|v| (v.clause, v.status, v.benefit, v.amount))) {
            Ok(total) => Some((period, Some(total))),
            Err(o) => {
                let e = o.to_clause_error();
                errors.push(RowError {
                    code: e.code.id(),
                    at: prog.clause_ref(e.clause),
                    message: e.message,
                });
                Some((period, None))
            }
        }
    }

    /// Evaluates JSON-lines rows on every core for the budget only (no output rows): what
    /// [`Summary::add`] over [`Batch::json_lines`] would gather, without building a row per
    /// enterprise. Each worker reuses its buffers from row to row.
    pub fn json_lines_tally(&self, rows: &[(usize, Result<String, String>)]) -> Tally {
        let tallies = on_workers(|| {
            blocks(rows, |block| {
                let mut w = Worker::new(self.prog);
                for (line, text) in block {
                    match text {
                        Ok(t) => match self.reader.read(t) {
                            Some((facts, meta)) => {
                                let period = facts.period_or_latest(self.opts.period.or(meta.period));
                                w.row(self, *line, &facts, period, self.opts.as_of);
                            }
                            None => w.evaluated(&self.value(*line, parse_json_line(t))),
                        },
                        Err(e) => w.evaluated(&self.value(*line, Err(e.clone()))),
                    }
                }
                w.tally
            })
        });
        Tally::merged(self.prog, tallies)
    }

    /// The evaluated row, with its `text` in the batch's format when `format` (else the
    /// caller writes it).
    fn done(&self, row: BatchRow<'p>, verdicts: Option<Vec<Verdict>>, format: bool) -> Evaluated<'p> {
        let mut e = Evaluated { row, verdicts, text: String::new() };
        e.text = match self.format {
            _ if !format => String::new(),
            RowFormat::Jsonl => serde_json::to_string(&e.row).unwrap_or_default(),
            RowFormat::Csv => self.csv_line(&e),
            RowFormat::Table => String::new(),
        };
        e
    }

    /// The CSV header: `line,enterprise,period,total,error` and `status:E23.5,amount:E23.5`
    /// per evaluated clause.
    pub fn csv_header(&self) -> String {
        let mut h =
            vec!["line".to_string(), "enterprise".into(), "period".into(), "total".into(), "error".into()];
        for id in self.kernel.clauses() {
            let r = self.prog.clause_ref(id);
            h.push(format!("status:{r}"));
            h.push(format!("amount:{r}"));
        }
        h.join(",")
    }

    fn csv_line(&self, e: &Evaluated<'_>) -> String {
        let r = &e.row;
        let mut f = vec![
            r.line.to_string(),
            csv_field(r.enterprise.as_deref().unwrap_or("")),
            r.period.map(|p| p.to_string()).unwrap_or_default(),
            r.total.clone().unwrap_or_default(),
            csv_field(
                &r.errors
                    .first()
                    .map(|x| format!("{} at {}: {}", x.code, x.at, x.message))
                    .unwrap_or_default(),
            ),
        ];
        for id in self.kernel.clauses() {
            let res = e.verdicts.as_ref().and_then(|v| v.iter().find(|x| x.clause == id));
            f.push(res.map(|x| x.status.as_str().to_string()).unwrap_or_default());
            f.push(res.and_then(|x| x.amount).map(fmt_yuan).unwrap_or_default());
        }
        f.join(",")
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn new_row<'p>(line: usize) -> BatchRow<'p> {
    BatchRow {
        schema_version: BATCH_SCHEMA_VERSION,
        line,
        enterprise: None,
        period: None,
        total: None,
        results: Vec::new(),
        errors: Vec::new(),
    }
}

/// The rows of a chunk, on every core with the `parallel` feature, else one after another
/// (as on wasm32); either way the results come back in input order.
#[cfg(feature = "parallel")]
pub(crate) fn each<T: Send>(rows: Vec<T>) -> rayon::vec::IntoIter<T> {
    use rayon::iter::IntoParallelIterator;
    rows.into_par_iter()
}

#[cfg(not(feature = "parallel"))]
pub(crate) fn each<T: Send>(rows: Vec<T>) -> std::vec::IntoIter<T> {
    rows.into_iter()
}

/// A JSON-lines row: its facts object, or why it is not one.
pub fn parse_json_line(text: &str) -> Result<Value, String> {
    match Value::parse(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err("the row is not a JSON object of facts".into()),
        Err(e) => Err(format!("the row is not valid JSON: {e}")),
    }
}

/// A CSV record as a facts object. Column names are fact paths: `行业`, `营业收入.2024`
/// (a series year), `贷款[0].利息.2024` (a list item's field), `$id`, `$period`. An empty cell
/// is an absent fact; `true` / `false` are booleans; everything else is text, read by the
/// facts reader as money (`120000000`, `1.2亿`), rates (`15%`), dates or enumeration values.
pub fn csv_row(header: &[String], record: &[String]) -> Result<Value, String> {
    let mut root = Value::Object(Map::new());
    for (col, cell) in header.iter().zip(record) {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        let value = match cell {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(cell.to_string()),
        };
        insert_path(&mut root, col, value).map_err(|e| format!("column `{col}`: {e}"))?;
    }
    Ok(root)
}

pub(crate) fn insert_path(root: &mut Value, path: &str, value: Value) -> Result<(), String> {
    // split `贷款[0].利息.2024` into `贷款`, [0], `利息`, `2024`
    let mut steps: Vec<Result<String, usize>> = Vec::new();
    for part in path.split('.') {
        match part.split_once('[') {
            Some((name, rest)) => {
                steps.push(Ok(name.to_string()));
                let idx = rest
                    .trim_end_matches(']')
                    .parse::<usize>()
                    .map_err(|_| "a list index is a number, e.g. `贷款[0]`".to_string())?;
                if idx > 10_000 {
                    return Err("list index too large".into());
                }
                steps.push(Err(idx));
            }
            None => steps.push(Ok(part.to_string())),
        }
    }
    let mut cur = root;
    let n = steps.len();
    for (k, step) in steps.into_iter().enumerate() {
        let last = k + 1 == n;
        cur = match step {
            Ok(key) => {
                if cur.is_null() {
                    *cur = Value::Object(Map::new());
                }
                let Value::Object(m) = cur else {
                    return Err("a field of something that is not an object".into());
                };
                let Some(slot) = m.slot(key) else { return Err("a field that cannot be set".into()) };
                if last {
                    *slot = value;
                    return Ok(());
                }
                slot
            }
            Err(idx) => {
                if cur.is_null() {
                    *cur = Value::Array(Vec::new());
                }
                let Value::Array(a) = cur else {
                    return Err("an index of something that is not a list".into());
                };
                while a.len() <= idx {
                    a.push(Value::Object(Map::new()));
                }
                let Some(slot) = a.get_mut(idx) else { return Err("list index out of range".into()) };
                if last {
                    *slot = value;
                    return Ok(());
                }
                slot
            }
        };
    }
    Ok(())
}

/// The budget view: per clause, how many enterprises were granted and the total.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub rows: u64,
    pub failed: u64,
    pub per_clause: Vec<ClauseSummary>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClauseSummary {
    pub granted: u64,
    pub discretionary: u64,
    /// Cash granted over the rows; `None` once the sum overflows (E0504), never a sum that
    /// silently left an amount out.
    pub total: Option<Decimal>,
}

impl Summary {
    pub fn new(prog: &Program) -> Summary {
        Summary {
            rows: 0,
            failed: 0,
            per_clause: vec![
                ClauseSummary { granted: 0, discretionary: 0, total: Some(Decimal::ZERO) };
                prog.clauses.len()
            ],
        }
    }

    pub fn add(&mut self, e: &Evaluated<'_>) {
        self.add_verdicts(!e.row.errors.is_empty(), e.verdicts.as_deref());
    }

    /// One row by its verdicts (`None` when it failed before evaluation).
    pub fn add_verdicts(&mut self, failed: bool, verdicts: Option<&[Verdict]>) {
        self.rows += 1;
        if failed {
            self.failed += 1;
        }
        let Some(vs) = verdicts else { return };
        for r in vs {
            let Some(s) = self.per_clause.get_mut(r.clause as usize) else { continue };
            match r.status {
                Status::Granted => {
                    s.granted += 1;
                    if r.benefit
                        && let Some(a) = r.amount
                    {
                        s.total = s.total.and_then(|t| t.checked_add(a));
                    }
                }
                Status::Discretionary => s.discretionary += 1,
                _ => {}
            }
        }
    }

    /// Adds another summary's rows (the rows that came after this one's). Granted amounts
    /// are never negative, so a sum of partial sums is the sum of the amounts, to the digit
    /// while a clause's total fits `Decimal`'s 28 digits at its scale, and an overflow is an
    /// overflow either way.
    pub fn merge(&mut self, other: &Summary) {
        self.rows += other.rows;
        self.failed += other.failed;
        for (s, o) in self.per_clause.iter_mut().zip(&other.per_clause) {
            s.granted += o.granted;
            s.discretionary += o.discretionary;
            s.total = s.total.zip(o.total).and_then(|(a, b)| a.checked_add(b));
        }
    }

    /// The cash total over all clauses; an overflow (of a clause's sum or of the grand total)
    /// names the clause whose amount could not be added.
    pub fn grand_total(&self) -> Result<Decimal, crate::eval::TotalOverflow> {
        let mut total = Decimal::ZERO;
        for (i, s) in self.per_clause.iter().enumerate() {
            let clause = ClauseId::try_from(i).unwrap_or(ClauseId::MAX);
            total =
                s.total.and_then(|t| total.checked_add(t)).ok_or(crate::eval::TotalOverflow { clause })?;
        }
        Ok(total)
    }

    /// Clauses with something granted or discretionary, in declaration order.
    pub fn lines(&self) -> impl Iterator<Item = (ClauseId, &ClauseSummary)> {
        self.per_clause
            .iter()
            .enumerate()
            .filter(|(_, s)| s.granted > 0 || s.discretionary > 0)
            .map(|(i, s)| (u32::try_from(i).unwrap_or(u32::MAX), s))
    }
}

/// The budget of some rows without their output rows: their summary, and the first error of
/// each failed row with its line, in input order.
#[derive(Clone, Debug)]
pub struct Tally {
    pub summary: Summary,
    pub failures: Vec<(usize, RowError)>,
}

impl Tally {
    pub fn new(prog: &Program) -> Tally {
        Tally { summary: Summary::new(prog), failures: Vec::new() }
    }

    /// The tallies of consecutive blocks of rows, in their order, as one.
    pub(crate) fn merged(prog: &Program, parts: Vec<Tally>) -> Tally {
        let mut all = Tally::new(prog);
        for p in parts {
            all.summary.merge(&p.summary);
            all.failures.extend(p.failures);
        }
        all
    }
}

/// One worker's state over a block of rows in the budget view: its tally, and the verdicts
/// and errors buffers it reuses from row to row.
pub(crate) struct Worker {
    pub(crate) tally: Tally,
    verdicts: Verdicts,
    errors: Vec<RowError>,
}

impl Worker {
    pub(crate) fn new(prog: &Program) -> Worker {
        Worker { tally: Tally::new(prog), verdicts: Verdicts::default(), errors: Vec::new() }
    }

    /// A row of valid facts, evaluated as [`Batch::json_line`] evaluates it.
    pub(crate) fn row(
        &mut self,
        batch: &Batch<'_>,
        line: usize,
        facts: &Facts,
        period: Option<i32>,
        as_of: Option<Date>,
    ) {
        self.errors.clear();
        let judged = batch.judge(facts, period, as_of, &mut self.verdicts, &mut self.errors);
        let verdicts = judged.map(|_| &self.verdicts.items[..]);
        self.tally.summary.add_verdicts(!self.errors.is_empty(), verdicts);
        if let Some(first) = self.errors.drain(..).next() {
            self.tally.failures.push((line, first));
        }
    }

    /// A row evaluated with its output row (a row the fast readers left to the facts reader).
    pub(crate) fn evaluated(&mut self, e: &Evaluated<'_>) {
        self.tally.summary.add(e);
        if let Some(first) = e.row.errors.first() {
            self.tally.failures.push((e.row.line, first.clone()));
        }
    }
}

/// Rows a worker takes at a time in [`blocks`]: its buffers are reused over a block, and a
/// chunk of 1,024 rows still splits into enough blocks to keep every core busy.
const BLOCK: usize = 64;

/// `f` over consecutive blocks of `rows`, on every core with the `parallel` feature, else one
/// after another; either way the results come back in input order.
#[cfg(feature = "parallel")]
pub(crate) fn blocks<T: Sync, R: Send>(rows: &[T], f: impl Fn(&[T]) -> R + Sync + Send) -> Vec<R> {
    use rayon::slice::ParallelSlice;
    rows.par_chunks(BLOCK).map(f).collect()
}

#[cfg(not(feature = "parallel"))]
pub(crate) fn blocks<T: Sync, R: Send>(rows: &[T], f: impl Fn(&[T]) -> R + Sync + Send) -> Vec<R> {
    rows.chunks(BLOCK).map(f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(text: &str) -> Program {
        match crate::compile(&crate::Input::from_rules([("t.policy".to_string(), text.to_string())])) {
            Ok(c) => c.program,
            Err(f) => panic!("{}", crate::diag::render::render_short(&f.diagnostics, &f.sources)),
        }
    }

    const SHARES: &str = r#"
fact 金额: money "金额"
fact 份数: number "份数"
fact 在吉林: boolean "在吉林"
policy T "t" {
  clause 1 "平均" {
    quote "按份数平均"
    responsible 省财政厅
    when 在吉林
    amount 金额 / 份数
  }
  clause 2 "定额" {
    quote "定额"
    responsible 省财政厅
    amount 10万
  }
}
"#;

    #[test]
    fn an_arithmetic_failure_is_named_in_its_row_and_the_other_clauses_still_pay() {
        let prog = program(SHARES);
        let batch = Batch::new(&prog, BatchOptions { period: Some(2024), as_of: None }, RowFormat::Jsonl);
        let e = batch.json_line(3, r#"{"金额": "30万", "份数": 0, "在吉林": true}"#);
        assert_eq!(e.row.errors.len(), 1, "{:?}", e.row.errors);
        assert_eq!(e.row.errors[0].code, "E0502");
        assert_eq!(e.row.errors[0].at, "T.1");
        // T.2 pays its 10万 regardless
        assert_eq!(e.row.total.as_deref(), Some("100000.00"));
        assert!(e.text.contains("\"E0502\""), "{}", e.text);
        // 30万 / 4 份 = 75000 each, plus 10万
        let ok = batch.json_line(4, r#"{"金额": "30万", "份数": 4, "在吉林": true}"#);
        assert!(ok.row.errors.is_empty());
        assert_eq!(ok.row.total.as_deref(), Some("175000.00"));
    }

    #[test]
    fn an_undetermined_clause_names_the_facts_that_would_decide_it() {
        let prog = program(SHARES);
        let batch = Batch::new(&prog, BatchOptions { period: Some(2024), as_of: None }, RowFormat::Jsonl);
        let e = batch.json_line(1, r#"{"金额": "30万", "份数": 4}"#);
        let r = e.row.results.iter().find(|r| r.clause == "1").unwrap();
        assert_eq!(r.status, Status::Undetermined);
        assert_eq!(r.missing, vec!["在吉林".to_string()]);
        assert!(e.text.contains("\"missing\":[\"在吉林\"]"), "{}", e.text);
    }

    #[test]
    fn blocks_write_the_rows_json_lines_writes_and_fold_every_row_in_order() {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let input = crate::load::load(&[root.join("policies")]).unwrap();
        let compiled = crate::compile(&input).ok().unwrap();
        let prog = &compiled.program;
        let mut rows: Vec<(usize, Result<String, String>)> =
            crate::population::population_lines(300, 7, 2024)
                .enumerate()
                .map(|(i, t)| (i + 1, Ok(t)))
                .collect();
        // rows that are not facts, and one that could not be read, keep their place
        rows.insert(5, (1000, Ok("{\"营业收入\": ".into())));
        rows.insert(70, (1001, Ok("{\"未知事实\": 1}".into())));
        rows.insert(130, (1002, Ok("[1]".into())));
        rows.insert(200, (1003, Err("the row is not UTF-8 text".into())));
        let batch = Batch::new(prog, BatchOptions::default(), RowFormat::Jsonl);
        let mut want = Vec::new();
        let mut summary = Summary::new(prog);
        for e in batch.json_lines(rows.clone()) {
            want.extend_from_slice(e.text.as_bytes());
            want.push(b'\n');
            summary.add(&e);
        }
        // twice: the second sizes its buffers from the first
        for _ in 0..2 {
            let blocks = batch.json_lines_blocks(&rows, Vec::new, |lines, e| lines.push(e.row.line));
            assert!(blocks.len() > 1);
            let got: Vec<u8> = blocks.iter().flat_map(|(b, _)| b.iter().copied()).collect();
            assert!(got == want, "{}", String::from_utf8_lossy(&got));
            let lines: Vec<usize> = blocks.iter().flat_map(|(_, l)| l.iter().copied()).collect();
            assert_eq!(lines, rows.iter().map(|(l, _)| *l).collect::<Vec<_>>());
        }
        let blocks = batch.json_lines_blocks(&rows, || Summary::new(prog), |s, e| s.add(e));
        let mut merged = Summary::new(prog);
        for (_, s) in &blocks {
            merged.merge(s);
        }
        assert_eq!((merged.rows, merged.failed), (summary.rows, summary.failed));
        assert_eq!(merged.failed, 4);
        for (a, b) in merged.per_clause.iter().zip(&summary.per_clause) {
            assert_eq!((a.granted, a.discretionary, a.total), (b.granted, b.discretionary, b.total));
        }
    }

    #[test]
    fn csv_columns_are_fact_paths() {
        let header: Vec<String> =
            ["$id", "行业", "营业收入.2024", "贷款[0].利息.2024", "贷款[0].知识产权质押", "空"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let record: Vec<String> =
            ["E1", "电子信息制造业", "1.2亿", "30万", "true", ""].iter().map(|s| s.to_string()).collect();
        let v = csv_row(&header, &record).unwrap();
        assert_eq!(
            v,
            Value::from(
                serde_json::json!({"$id": "E1", "行业": "电子信息制造业", "营业收入": {"2024": "1.2亿"}, "贷款": [{"利息": {"2024": "30万"}, "知识产权质押": true}]})
            )
        );
    }
}
