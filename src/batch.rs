//! Population-scale evaluation: rows in (JSON lines, or CSV with fact paths as column names),
//! one compact report per row out, in input order, plus the budget summary per clause.
//!
//! Invariant: a malformed or invalid row never stops a batch and is never dropped: its output
//! row carries its errors with its input line number. Rows are evaluated without explanations
//! (`explain: false`), in parallel within a chunk, and written in input order, so memory stays
//! bounded by the chunk size however large the population.

use crate::diag::Code;
use crate::eval::facts::{default_period, read_facts};
use crate::eval::{EvalOptions, Ledger, Outcome, Status, evaluate};
use crate::ir::{ClauseId, Program};
use crate::value::{Date, fmt_yuan};
use rayon::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};

pub const BATCH_SCHEMA_VERSION: u32 = 1;

/// One output row (`--format jsonl`).
#[derive(Serialize, Debug, Clone)]
pub struct BatchRow {
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
    pub results: Vec<RowResult>,
    /// Why the row failed, if it did: facts errors with their JSON paths, or clause errors.
    pub errors: Vec<RowError>,
}

#[derive(Serialize, Debug, Clone)]
pub struct RowResult {
    pub policy: String,
    pub clause: String,
    pub status: Status,
    pub amount: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

#[derive(Serialize, Debug, Clone)]
pub struct RowError {
    pub code: &'static str,
    /// The JSON path (facts errors) or the clause (`E23.5`, evaluation errors).
    pub at: String,
    pub message: String,
}

/// One row's evaluation: the report row and, for the summary, the outcome.
pub struct Evaluated {
    pub row: BatchRow,
    pub outcome: Option<Outcome>,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct BatchOptions {
    pub period: Option<i32>,
    pub as_of: Option<Date>,
}

/// Evaluates one facts object (already parsed, or the error text of a row that did not parse).
pub fn evaluate_row(
    prog: &Program,
    line: usize,
    input: Result<Value, String>,
    opts: BatchOptions,
) -> Evaluated {
    let mut row = BatchRow {
        schema_version: BATCH_SCHEMA_VERSION,
        line,
        enterprise: None,
        period: None,
        total: None,
        results: Vec::new(),
        errors: Vec::new(),
    };
    let json = match input {
        Ok(v) => v,
        Err(message) => {
            row.errors.push(RowError { code: Code::FactsSyntax.id(), at: format!("line {line}"), message });
            return Evaluated { row, outcome: None };
        }
    };
    row.enterprise = json.get("$id").or_else(|| json.get("$name")).and_then(Value::as_str).map(String::from);
    let facts = match read_facts(prog, &json) {
        Ok(f) => f,
        Err(errs) => {
            row.errors.extend(errs.into_iter().map(|e| RowError {
                code: e.code.id(),
                at: e.path,
                message: e.message,
            }));
            return Evaluated { row, outcome: None };
        }
    };
    let Some(period) = opts.period.or_else(|| default_period(&json, &facts)) else {
        row.errors.push(RowError {
            code: Code::FactType.id(),
            at: "$period".into(),
            message: "no period: give `$period`, a yearly series, or `--period`".into(),
        });
        return Evaluated { row, outcome: None };
    };
    row.period = Some(period);
    let outcome =
        evaluate(prog, &facts, &Ledger::default(), EvalOptions { period, as_of: opts.as_of, explain: false });
    for e in &outcome.errors {
        row.errors.push(RowError {
            code: e.code.id(),
            at: prog.clause_ref(e.clause),
            message: e.message.clone(),
        });
    }
    for r in &outcome.results {
        if matches!(r.status, Status::Ineligible | Status::NotInForce) {
            continue;
        }
        let c = prog.clause(r.clause);
        row.results.push(RowResult {
            policy: c.and_then(|c| prog.policy_of(c)).map_or_else(String::new, |p| p.key.clone()),
            clause: c.map_or_else(String::new, |c| c.id.clone()),
            status: r.status,
            amount: r.amount.map(fmt_yuan),
            missing: r.missing.clone(),
        });
    }
    row.total = Some(fmt_yuan(outcome.total()));
    Evaluated { row, outcome: Some(outcome) }
}

/// Evaluates a chunk of rows in parallel; the result is in input order.
pub fn evaluate_chunk(
    prog: &Program,
    rows: Vec<(usize, Result<Value, String>)>,
    opts: BatchOptions,
) -> Vec<Evaluated> {
    rows.into_par_iter().map(|(line, input)| evaluate_row(prog, line, input, opts)).collect()
}

/// Parses and evaluates JSON-lines rows in parallel (parsing is as costly as evaluating, so
/// it runs on every core too); the result is in input order.
pub fn evaluate_json_lines(prog: &Program, rows: Vec<(usize, String)>, opts: BatchOptions) -> Vec<Evaluated> {
    rows.into_par_iter().map(|(line, text)| evaluate_row(prog, line, parse_json_line(&text), opts)).collect()
}

/// A JSON-lines row: its facts object, or why it is not one.
pub fn parse_json_line(text: &str) -> Result<Value, String> {
    match serde_json::from_str::<Value>(text) {
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

fn insert_path(root: &mut Value, path: &str, value: Value) -> Result<(), String> {
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
                let slot = m.entry(key).or_insert(Value::Null);
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

#[derive(Clone, Debug, Default, Serialize)]
pub struct ClauseSummary {
    pub granted: u64,
    pub discretionary: u64,
    pub total: Decimal,
}

impl Summary {
    pub fn new(prog: &Program) -> Summary {
        Summary { rows: 0, failed: 0, per_clause: vec![ClauseSummary::default(); prog.clauses.len()] }
    }

    pub fn add(&mut self, e: &Evaluated) {
        self.rows += 1;
        if !e.row.errors.is_empty() {
            self.failed += 1;
        }
        let Some(o) = &e.outcome else { return };
        for r in &o.results {
            let Some(s) = self.per_clause.get_mut(r.clause as usize) else { continue };
            match r.status {
                Status::Granted => {
                    s.granted += 1;
                    if r.benefit
                        && let Some(a) = r.amount
                    {
                        s.total = s.total.checked_add(a).unwrap_or(s.total);
                    }
                }
                Status::Discretionary => s.discretionary += 1,
                _ => {}
            }
        }
    }

    /// The cash total over all clauses.
    pub fn grand_total(&self) -> Decimal {
        self.per_clause.iter().fold(Decimal::ZERO, |a, s| a.checked_add(s.total).unwrap_or(a))
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

#[cfg(test)]
mod tests {
    use super::*;

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
            serde_json::json!({"$id": "E1", "行业": "电子信息制造业", "营业收入": {"2024": "1.2亿"}, "贷款": [{"利息": {"2024": "30万"}, "知识产权质押": true}]})
        );
    }
}
