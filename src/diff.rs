//! `huiqi diff`: what changed between two versions of a rule set, said in the policy's own
//! terms (`E23.8: window end 2025-12-31 → 2026-12-31`, `E23.5: tier ≥ 10亿 now pays 120万
//! (was 100万)`), and, over a population of enterprises, what the change does to the budget
//! (`E23.5: 12 of 500 enterprises lose, −184万 in total`).
//!
//! Invariant: the textual diff compares only the IR views ([`crate::ir::view`]), never spans
//! or slots, so reformatting or reordering a file is no change; the budget impact compares
//! exact decimal amounts, one enterprise evaluated under both programs with the same facts
//! text, period and (empty) ledger.

use crate::eval::facts::parse_facts;
use crate::eval::simulate::simulate;
use crate::eval::{EvalOptions, Ledger, Status, evaluate};
use crate::ir::Program;
use crate::ir::view::{self, AmountView, ClauseView, ProgramView};
use crate::value::{fmt_money, fmt_yuan};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub const DIFF_SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One document, clause, parameter, definition or fact that changed, with its changes as
/// sentences.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    /// `E23`, `E23.5`, a parameter, definition or fact name.
    pub subject: String,
    pub kind: ChangeKind,
    /// For added and removed clauses and documents: the title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What changed, e.g. `cap 60万 total → cap 50万 total`.
    pub changes: Vec<String>,
}

/// The semantic difference of two rule sets.
#[derive(Clone, Debug, Serialize)]
pub struct RuleDiff {
    pub documents: Vec<Change>,
    pub clauses: Vec<Change>,
    pub parameters: Vec<Change>,
    /// Named tables (`table …`): versions and rows added, removed or changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<Change>,
    pub definitions: Vec<Change>,
    pub facts: Vec<Change>,
}

impl RuleDiff {
    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
            && self.clauses.is_empty()
            && self.parameters.is_empty()
            && self.tables.is_empty()
            && self.definitions.is_empty()
            && self.facts.is_empty()
    }
}

/// The whole report of `huiqi diff --format json`.
#[derive(Clone, Debug, Serialize)]
pub struct DiffReport {
    pub schema_version: u32,
    pub old: String,
    pub new: String,
    pub identical: bool,
    #[serde(flatten)]
    pub diff: RuleDiff,
    /// The budget impact over a population, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
}

fn ser<T: Serialize>(x: &T) -> String {
    match serde_json::to_value(x) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(v) => v.to_string(),
        Err(_) => String::new(),
    }
}

fn opt(x: &Option<String>) -> &str {
    x.as_deref().unwrap_or("none")
}

/// `label: old → new` when the two differ.
fn field(out: &mut Vec<String>, label: &str, old: &str, new: &str) {
    if old != new {
        out.push(format!("{label} {old} → {new}"));
    }
}

/// Items only in `old` are removed, only in `new` added.
fn list(out: &mut Vec<String>, label: &str, old: &[String], new: &[String]) {
    for x in old.iter().filter(|x| !new.contains(x)) {
        out.push(format!("{label} removed: {x}"));
    }
    for x in new.iter().filter(|x| !old.contains(x)) {
        out.push(format!("{label} added: {x}"));
    }
}

/// The kind of a limit line, so that `cap 60万 total` pairs with `cap 50万 total`.
fn limit_key(l: &str) -> String {
    if l.starts_with("cap ") {
        format!("cap {}", l.rsplit(' ').next().unwrap_or(""))
    } else if l.starts_with("floor") {
        "floor".into()
    } else if l.starts_with("at most") {
        "at most".into()
    } else if l.starts_with("once") {
        "once".into()
    } else {
        l.to_string()
    }
}

fn limits(out: &mut Vec<String>, old: &[String], new: &[String]) {
    let removed: Vec<&String> = old.iter().filter(|x| !new.contains(x)).collect();
    let mut added: Vec<&String> = new.iter().filter(|x| !old.contains(x)).collect();
    for r in removed {
        let key = limit_key(r);
        if let Some(i) = added.iter().position(|a| limit_key(a) == key) {
            let a = added.remove(i);
            out.push(format!("{r} → {a}"));
        } else {
            out.push(format!("limit removed: {r}"));
        }
    }
    for a in added {
        out.push(format!("limit added: {a}"));
    }
}

/// `≥ 10亿 => 100万` → (`≥ 10亿`, `100万`).
fn split_arm(s: &str) -> (&str, &str) {
    s.split_once(" => ").unwrap_or((s, ""))
}

/// Tiers, brackets or categories: matched by what selects them (threshold, upper bound,
/// category name); a changed payment is said as `now pays … (was …)`.
fn arms(out: &mut Vec<String>, what: &str, old: &[String], new: &[String]) {
    let o: Vec<(&str, &str)> = old.iter().map(|x| split_arm(x)).collect();
    let n: Vec<(&str, &str)> = new.iter().map(|x| split_arm(x)).collect();
    for (k, v) in &o {
        match n.iter().find(|(k2, _)| k2 == k) {
            Some((_, v2)) if v2 != v => out.push(format!("{what} {k} now pays {v2} (was {v})")),
            Some(_) => {}
            None => out.push(format!("{what} removed: {k} => {v}")),
        }
    }
    for (k, v) in &n {
        if !o.iter().any(|(k2, _)| k2 == k) {
            out.push(format!("{what} added: {k} => {v}"));
        }
    }
}

fn amount_form(a: &AmountView) -> &'static str {
    match a {
        AmountView::Discretionary { .. } => "discretionary",
        AmountView::Expr { .. } => "formula",
        AmountView::Tiers { .. } => "tiers",
        AmountView::Brackets { .. } => "brackets",
        AmountView::Category { .. } => "categories",
        AmountView::Credit { .. } => "credit",
        AmountView::Provides { .. } => "provides",
        AmountView::Each { .. } => "each",
    }
}

fn amount_text(a: &AmountView) -> String {
    match a {
        AmountView::Discretionary { base: Some(b) } => format!("discretionary based on {b}"),
        AmountView::Discretionary { base: None } => "discretionary".into(),
        AmountView::Expr { expr } => expr.clone(),
        AmountView::Tiers { subject, tiers, .. } => format!("tiers of {subject} {{ {} }}", tiers.join("; ")),
        AmountView::Brackets { subject, brackets } => {
            format!("brackets of {subject} {{ {} }}", brackets.join("; "))
        }
        AmountView::Category { subject, categories } => {
            format!("by {subject} {{ {} }}", categories.join("; "))
        }
        AmountView::Credit { earned, against, carry_years } => {
            format!("credit {earned} against {against}, carried {carry_years} years")
        }
        AmountView::Provides { provides } => format!("provides \"{provides}\""),
        AmountView::Each { each } => each.clone(),
    }
}

fn amount(out: &mut Vec<String>, old: &AmountView, new: &AmountView) {
    match (old, new) {
        (AmountView::Discretionary { base: a }, AmountView::Discretionary { base: b }) => {
            field(out, "discretionary base", opt(a), opt(b))
        }
        (AmountView::Expr { expr: a }, AmountView::Expr { expr: b }) => field(out, "amount", a, b),
        (
            AmountView::Tiers { subject: s1, first_time: f1, pay: p1, tiers: t1 },
            AmountView::Tiers { subject: s2, first_time: f2, pay: p2, tiers: t2 },
        ) => {
            field(out, "tiers of", s1, s2);
            if f1 != f2 {
                out.push(
                    if *f2 {
                        "tiers now count the first time only"
                    } else {
                        "tiers no longer first time only"
                    }
                    .into(),
                );
            }
            field(out, "pay", &ser(p1), &ser(p2));
            arms(out, "tier", t1, t2);
        }
        (
            AmountView::Brackets { subject: s1, brackets: b1 },
            AmountView::Brackets { subject: s2, brackets: b2 },
        ) => {
            field(out, "brackets of", s1, s2);
            arms(out, "bracket", b1, b2);
        }
        (
            AmountView::Category { subject: s1, categories: c1 },
            AmountView::Category { subject: s2, categories: c2 },
        ) => {
            field(out, "categories of", s1, s2);
            arms(out, "category", c1, c2);
        }
        (
            AmountView::Credit { earned: e1, against: a1, carry_years: y1 },
            AmountView::Credit { earned: e2, against: a2, carry_years: y2 },
        ) => {
            field(out, "credit earned", e1, e2);
            field(out, "credit used against", a1, a2);
            field(out, "carried years", &y1.to_string(), &y2.to_string());
        }
        (AmountView::Provides { provides: a }, AmountView::Provides { provides: b }) => {
            field(out, "provides", a, b)
        }
        (AmountView::Each { each: a }, AmountView::Each { each: b }) => field(out, "amount", a, b),
        (a, b) => out.push(format!(
            "amount {} → {}: {} → {}",
            amount_form(a),
            amount_form(b),
            amount_text(a),
            amount_text(b)
        )),
    }
}

/// What differs in the text of a clause (not its later versions).
fn clause_body_changes(o: &ClauseView, n: &ClauseView) -> Vec<String> {
    let mut out = Vec::new();
    field(&mut out, "kind", &ser(&o.kind), &ser(&n.kind));
    field(&mut out, "title", &o.title, &n.title);
    if o.quote != n.quote {
        out.push(format!("quote {} → {}", opt(&o.quote), opt(&n.quote)));
    }
    list(&mut out, "responsible", &o.responsible, &n.responsible);
    let gone: Vec<&String> = o.conditions.iter().filter(|x| !n.conditions.contains(x)).collect();
    let came: Vec<&String> = n.conditions.iter().filter(|x| !o.conditions.contains(x)).collect();
    match (gone.as_slice(), came.as_slice()) {
        ([a], [b]) => out.push(format!("condition {a} → {b}")),
        _ => list(&mut out, "condition", &o.conditions, &n.conditions),
    }
    match (&o.window, &n.window) {
        (Some(a), Some(b)) => {
            field(&mut out, "window start", opt(&a.from), opt(&b.from));
            field(&mut out, "window end", opt(&a.to), opt(&b.to));
            field(&mut out, "window tests", &a.tests, &b.tests);
        }
        (None, Some(b)) => out.push(format!("window added: {}..{}", opt(&b.from), opt(&b.to))),
        (Some(a), None) => out.push(format!("window removed: {}..{}", opt(&a.from), opt(&a.to))),
        (None, None) => {}
    }
    field(&mut out, "parameters dated", opt(&o.dated), opt(&n.dated));
    amount(&mut out, &o.amount, &n.amount);
    limits(&mut out, &o.limits, &n.limits);
    out
}

/// [`clause_body_changes`], plus the changes later documents made to the clause.
fn clause_changes(o: &ClauseView, n: &ClauseView) -> Vec<String> {
    let mut out = clause_body_changes(o, n);
    list(&mut out, "changed by a later document", &o.changes, &n.changes);
    // amendments by later documents: each version as a change of its own
    let ov: Vec<&str> = o.versions.iter().map(|v| v.change.as_str()).collect();
    for v in &n.versions {
        match o.versions.iter().find(|x| x.change == v.change) {
            None => {
                out.push(v.change.clone());
                for line in clause_body_changes(n, &v.clause) {
                    out.push(format!("  {line}"));
                }
            }
            Some(x) => {
                for line in clause_body_changes(&x.clause, &v.clause) {
                    out.push(format!("{}: {line}", v.change));
                }
            }
        }
    }
    for v in ov.iter().filter(|c| !n.versions.iter().any(|x| x.change == **c)) {
        out.push(format!("no longer {v}"));
    }
    out
}

fn document_changes(o: &view::DocumentView, n: &view::DocumentView) -> Vec<String> {
    let mut out = Vec::new();
    field(&mut out, "title", &o.title, &n.title);
    field(&mut out, "number", opt(&o.number), opt(&n.number));
    field(&mut out, "issuer", opt(&o.issuer), opt(&n.issuer));
    field(&mut out, "issued", opt(&o.issued), opt(&n.issued));
    field(&mut out, "published", opt(&o.published), opt(&n.published));
    field(&mut out, "source", opt(&o.source), opt(&n.source));
    field(&mut out, "in force", opt(&o.in_force), opt(&n.in_force));
    field(&mut out, "applies when", opt(&o.applies), opt(&n.applies));
    field(&mut out, "rounding", &ser(&o.rounding), &ser(&n.rounding));
    list(&mut out, "changed by a later document", &o.changes, &n.changes);
    out
}

fn param_changes(o: &view::ParamView, n: &view::ParamView) -> Vec<String> {
    let mut out = Vec::new();
    field(&mut out, "type", &o.ty, &n.ty);
    for v in &o.versions {
        match n.versions.iter().find(|x| x.from == v.from) {
            Some(x) if x.value != v.value => {
                out.push(format!("version from {} now {} (was {})", v.from, x.value, v.value))
            }
            Some(_) => {}
            None => out.push(format!("version removed: from {} {}", v.from, v.value)),
        }
    }
    for v in &n.versions {
        if !o.versions.iter().any(|x| x.from == v.from) {
            out.push(format!("version added: from {} {}", v.from, v.value));
        }
    }
    out
}

fn table_changes(o: &view::TableView, n: &view::TableView) -> Vec<String> {
    let mut out = Vec::new();
    field(&mut out, "kind", &ser(&o.kind), &ser(&n.kind));
    let name = |v: &view::TableVersionView| match &v.from {
        Some(f) => format!("version from {f}"),
        None => "rows as first written".to_string(),
    };
    for v in &o.versions {
        match n.versions.iter().find(|x| x.from == v.from) {
            Some(x) => {
                let mut rows = Vec::new();
                list(&mut rows, "row", &v.rows, &x.rows);
                out.extend(rows.into_iter().map(|r| format!("{}: {r}", name(v))));
                field(&mut out, &format!("{}: label", name(v)), opt(&v.label), opt(&x.label));
            }
            None => out.push(format!("{} removed: {}", name(v), v.rows.join("; "))),
        }
    }
    for v in &n.versions {
        if !o.versions.iter().any(|x| x.from == v.from) {
            let label = v.label.as_ref().map(|l| format!(" \"{l}\"")).unwrap_or_default();
            out.push(format!("{} added{label}: {}", name(v), v.rows.join("; ")));
        }
    }
    out
}

/// Pairs items of two lists by key: changed ones (with their change sentences), removed and
/// added ones.
fn pair<T>(
    old: &[T],
    new: &[T],
    key: impl Fn(&T) -> String,
    title: impl Fn(&T) -> Option<String>,
    changes: impl Fn(&T, &T) -> Vec<String>,
) -> Vec<Change> {
    let mut out = Vec::new();
    for o in old {
        let k = key(o);
        match new.iter().find(|n| key(n) == k) {
            Some(n) => {
                let changes = changes(o, n);
                if !changes.is_empty() {
                    out.push(Change { subject: k, kind: ChangeKind::Changed, title: None, changes });
                }
            }
            None => {
                out.push(Change { subject: k, kind: ChangeKind::Removed, title: title(o), changes: vec![] })
            }
        }
    }
    for n in new {
        let k = key(n);
        if !old.iter().any(|o| key(o) == k) {
            out.push(Change { subject: k, kind: ChangeKind::Added, title: title(n), changes: vec![] });
        }
    }
    out
}

/// The semantic difference between two programs.
pub fn diff_views(old: &ProgramView, new: &ProgramView) -> RuleDiff {
    RuleDiff {
        documents: pair(
            &old.documents,
            &new.documents,
            |d| d.policy.clone(),
            |d| Some(d.title.clone()),
            document_changes,
        ),
        clauses: pair(
            &old.clauses,
            &new.clauses,
            |c| format!("{}.{}", c.policy, c.clause),
            |c| Some(c.title.clone()),
            clause_changes,
        ),
        parameters: pair(&old.parameters, &new.parameters, |p| p.name.clone(), |_| None, param_changes),
        tables: pair(&old.tables, &new.tables, |t| t.name.clone(), |t| t.label.clone(), table_changes),
        definitions: pair(
            &old.definitions,
            &new.definitions,
            |d| d.name.clone(),
            |_| None,
            |a, b| {
                let mut out = Vec::new();
                field(&mut out, "type", &a.ty, &b.ty);
                field(&mut out, "", &a.expr, &b.expr);
                out.iter_mut().for_each(|l| *l = l.trim_start().to_string());
                out
            },
        ),
        facts: pair(
            &old.vocabulary,
            &new.vocabulary,
            |f| f.name.clone(),
            |f| f.label.clone(),
            |a, b| {
                let mut out = Vec::new();
                field(&mut out, "type", &a.ty, &b.ty);
                field(&mut out, "label", opt(&a.label), opt(&b.label));
                out
            },
        ),
    }
}

pub fn diff(old: &Program, new: &Program) -> RuleDiff {
    diff_views(&view::program(old), &view::program(new))
}

// ------------------------------------------------------------------ budget impact

/// What a change does to one clause over the population.
#[derive(Clone, Debug, Serialize)]
pub struct ClauseImpact {
    pub clause: String,
    /// Enterprises granted more under the new rules.
    pub gain: usize,
    /// Enterprises granted less (including those granted nothing any more).
    pub lose: usize,
    /// Enterprises whose status changed with the same amount (e.g. discretionary → ineligible).
    pub status_changed: usize,
    /// Enterprises whose result is discretionary both times with a different cap.
    pub cap_changed: usize,
    /// Total granted for this clause before and after, and the difference, in yuan.
    pub old_total: String,
    pub new_total: String,
    pub delta: String,
    /// The sum of the caps of discretionary results (the most the clause could cost when
    /// the amounts are decided), before and after, in yuan; discretionary results without a
    /// cap are not counted.
    pub old_ceiling: String,
    pub new_ceiling: String,
    /// Up to ten affected enterprises (`$name`, `$id`, or `line N`).
    pub examples: Vec<String>,
    #[serde(skip)]
    delta_exact: Decimal,
    #[serde(skip)]
    ceiling_delta: Decimal,
}

/// A population row that could not be evaluated.
#[derive(Clone, Debug, Serialize)]
pub struct RowError {
    pub line: usize,
    pub message: String,
}

/// The budget impact of a change over a population of enterprises.
#[derive(Clone, Debug, Serialize)]
pub struct Impact {
    /// Enterprises evaluated under both versions.
    pub enterprises: usize,
    /// The period given with `--period`, if any (else each row's own).
    pub period: Option<i32>,
    pub clauses: Vec<ClauseImpact>,
    pub old_total: String,
    pub new_total: String,
    pub delta: String,
    pub errors: Vec<RowError>,
    /// With `--from`/`--to`: the first and last year simulated, each enterprise's ledger
    /// threaded through the years under each rule set separately.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<i32>,
    /// With `--from`/`--to`: per year, the totals before and after and the clauses whose
    /// total changed that year.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub years: Vec<YearImpact>,
    #[serde(skip)]
    delta_exact: Decimal,
    #[serde(skip)]
    totals_exact: (Decimal, Decimal),
}

/// One year of a multi-year budget impact.
#[derive(Clone, Debug, Serialize)]
pub struct YearImpact {
    pub period: i32,
    pub old_total: String,
    pub new_total: String,
    pub delta: String,
    /// Clauses whose total that year differs: `clause`, `old_total`, `new_total`, `delta`.
    pub clauses: Vec<YearClause>,
}

#[derive(Clone, Debug, Serialize)]
pub struct YearClause {
    pub clause: String,
    pub old_total: String,
    pub new_total: String,
    pub delta: String,
}

/// Which periods a budget impact covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Periods {
    /// One evaluation per enterprise: the given period, else each row's own (`$period`, else
    /// its latest series year).
    One(Option<i32>),
    /// Every year from the first to the last, inclusive, as `simulate` runs them (one-time
    /// awards paid once, caps over years, carried credits) under each rule set.
    Years(i32, i32),
}

/// The default period of a facts row: `$period`, else the latest year of any series.
fn row_period(json: &crate::json::Json, facts: &crate::eval::Facts) -> Option<i32> {
    crate::eval::facts::default_period(json, facts)
}

/// Per clause reference: status, granted amount (zero when not granted), and the cap of a
/// discretionary result (zero otherwise).
fn outcome_map(prog: &Program, o: &crate::eval::Outcome) -> BTreeMap<String, (Status, Decimal, Decimal)> {
    o.results
        .iter()
        .map(|r| {
            let amount =
                if r.status == Status::Granted { r.amount.unwrap_or(Decimal::ZERO) } else { Decimal::ZERO };
            let ceiling = if r.status == Status::Discretionary {
                r.cap.unwrap_or(Decimal::ZERO)
            } else {
                Decimal::ZERO
            };
            (prog.clause_ref(r.clause), (r.status, amount, ceiling))
        })
        .collect()
}

/// A running sum of amounts; an overflow is flagged (and reported as E0504), never a sum that
/// silently left an amount out.
fn sum(a: Decimal, b: Decimal, overflow: &mut bool) -> Decimal {
    a.checked_add(b).unwrap_or_else(|| {
        *overflow = true;
        a
    })
}

/// Evaluates every enterprise of a JSON-lines population (one facts object per line, blank
/// lines and lines starting with `//` skipped) under both programs, explanations off.
pub fn impact(old: &Program, new: &Program, population: &str, period: Option<i32>) -> Impact {
    impact_over(old, new, population, Periods::One(period))
}

/// [`impact`] over the given periods; with [`Periods::Years`] each enterprise is simulated
/// year by year under each rule set (its own ledger threaded through the years, starting
/// empty), and the impact sums its years.
pub fn impact_over(old: &Program, new: &Program, population: &str, periods: Periods) -> Impact {
    #[derive(Default)]
    struct Acc {
        gain: usize,
        lose: usize,
        status: usize,
        cap: usize,
        old_ceiling: Decimal,
        new_ceiling: Decimal,
        old: Decimal,
        new: Decimal,
        examples: Vec<String>,
    }
    /// One enterprise's amounts under one clause, summed over its periods.
    #[derive(Default)]
    struct Mine {
        old: Decimal,
        new: Decimal,
        old_ceiling: Decimal,
        new_ceiling: Decimal,
        status: bool,
    }
    let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
    let mut by_year: BTreeMap<i32, (Decimal, Decimal)> = BTreeMap::new();
    let mut by_year_clause: BTreeMap<(i32, String), (Decimal, Decimal)> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut enterprises = 0;
    let (mut old_total, mut new_total) = (Decimal::ZERO, Decimal::ZERO);
    let mut overflow = false;
    for (i, line) in population.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        if t.is_empty() || t.starts_with("//") {
            continue;
        }
        let json = match crate::json::Json::parse(t) {
            Ok(v) => v,
            Err(e) => {
                errors.push(RowError { line: n, message: format!("not valid JSON: {e}") });
                continue;
            }
        };
        let name = json
            .get("$name")
            .or_else(|| json.get("$id"))
            .and_then(|v| v.as_str())
            .map_or_else(|| format!("line {n}"), String::from);
        let facts_old = parse_facts(old, t);
        let facts_new = parse_facts(new, t);
        let (fo, fne) = match (facts_old, facts_new) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                let msg =
                    e.iter().map(|x| format!("{}: {}", x.path, x.message)).collect::<Vec<_>>().join("; ");
                errors.push(RowError { line: n, message: msg });
                continue;
            }
        };
        // (period, old outcome, new outcome) for every period this enterprise is evaluated in
        let pairs: Vec<(i32, crate::eval::Outcome, crate::eval::Outcome)> = match periods {
            Periods::One(period) => {
                let Some(p) = period.or_else(|| row_period(&json, &fo)) else {
                    errors.push(RowError {
                        line: n,
                        message: "no period: give the row a `$period` or a yearly series, or pass `--period`"
                            .into(),
                    });
                    continue;
                };
                let opts = EvalOptions { period: p, as_of: None, explain: false };
                vec![(
                    p,
                    evaluate(old, &fo, &Ledger::default(), opts),
                    evaluate(new, &fne, &Ledger::default(), opts),
                )]
            }
            Periods::Years(from, to) => {
                let so = simulate(old, &fo, &Ledger::default(), from, to, false);
                let sn = simulate(new, &fne, &Ledger::default(), from, to, false);
                (from..=to).zip(so.into_iter().zip(sn)).map(|(y, (a, b))| (y, a.outcome, b.outcome)).collect()
            }
        };
        // the enterprise counts only when every year has a total under both rule sets
        let mut totals = Vec::with_capacity(pairs.len());
        let mut failed = None;
        for (_, oo, on) in &pairs {
            match (oo.total(), on.total()) {
                (Ok(a), Ok(b)) => totals.push((a, b)),
                (Err(e), _) | (_, Err(e)) => {
                    failed = Some(format!("{}: {}", e.code.id(), e.message));
                    break;
                }
            }
        }
        if let Some(message) = failed {
            errors.push(RowError { line: n, message });
            continue;
        }
        enterprises += 1;
        for ((p, _, _), (a, b)) in pairs.iter().zip(&totals) {
            old_total = sum(old_total, *a, &mut overflow);
            new_total = sum(new_total, *b, &mut overflow);
            if matches!(periods, Periods::Years(..)) {
                let y = by_year.entry(*p).or_default();
                y.0 = sum(y.0, *a, &mut overflow);
                y.1 = sum(y.1, *b, &mut overflow);
            }
        }
        // per clause, this enterprise's amounts and ceilings summed over its periods
        let mut mine: BTreeMap<String, Mine> = BTreeMap::new();
        for (p, oo, on) in &pairs {
            let mo = outcome_map(old, oo);
            let mn = outcome_map(new, on);
            let keys: BTreeSet<&String> = mo.keys().chain(mn.keys()).collect();
            for k in keys {
                let a = mo.get(k).copied();
                let b = mn.get(k).copied();
                let (ao, bn) = (a.map_or(Decimal::ZERO, |x| x.1), b.map_or(Decimal::ZERO, |x| x.1));
                let m = mine.entry(k.clone()).or_default();
                m.old = sum(m.old, ao, &mut overflow);
                m.new = sum(m.new, bn, &mut overflow);
                m.old_ceiling = sum(m.old_ceiling, a.map_or(Decimal::ZERO, |x| x.2), &mut overflow);
                m.new_ceiling = sum(m.new_ceiling, b.map_or(Decimal::ZERO, |x| x.2), &mut overflow);
                // a clause that does not exist gives nothing, as an ineligible one does
                m.status |= a.map_or(Status::Ineligible, |x| x.0) != b.map_or(Status::Ineligible, |x| x.0);
                if matches!(periods, Periods::Years(..)) && ao != bn {
                    let y = by_year_clause.entry((*p, k.clone())).or_default();
                    y.0 = sum(y.0, ao, &mut overflow);
                    y.1 = sum(y.1, bn, &mut overflow);
                }
            }
        }
        for (k, m) in mine {
            let e = acc.entry(k).or_default();
            e.old = sum(e.old, m.old, &mut overflow);
            e.new = sum(e.new, m.new, &mut overflow);
            e.old_ceiling = sum(e.old_ceiling, m.old_ceiling, &mut overflow);
            e.new_ceiling = sum(e.new_ceiling, m.new_ceiling, &mut overflow);
            let affected = if m.new > m.old {
                e.gain += 1;
                true
            } else if m.new < m.old {
                e.lose += 1;
                true
            } else if m.status {
                e.status += 1;
                true
            } else if m.old_ceiling != m.new_ceiling {
                e.cap += 1;
                true
            } else {
                false
            };
            if affected && e.examples.len() < 10 {
                e.examples.push(name.clone());
            }
        }
    }
    // clauses in the order the rule sets declare them: old ones first, then new ones
    let mut order: Vec<String> = Vec::new();
    for p in [old, new] {
        for i in 0..p.clauses.len() {
            let r = p.clause_ref(u32::try_from(i).unwrap_or(u32::MAX));
            if !order.contains(&r) {
                order.push(r);
            }
        }
    }
    let mut acc: Vec<(String, Acc)> = acc.into_iter().collect();
    acc.sort_by_key(|(k, _)| order.iter().position(|o| o == k).unwrap_or(usize::MAX));
    let clauses = acc
        .into_iter()
        .filter(|(_, a)| a.gain + a.lose + a.status + a.cap > 0)
        .map(|(k, a)| {
            let d = a.new.checked_sub(a.old).unwrap_or_default();
            let cd = a.new_ceiling.checked_sub(a.old_ceiling).unwrap_or_default();
            ClauseImpact {
                clause: k,
                gain: a.gain,
                lose: a.lose,
                status_changed: a.status,
                cap_changed: a.cap,
                old_ceiling: fmt_yuan(a.old_ceiling),
                new_ceiling: fmt_yuan(a.new_ceiling),
                ceiling_delta: cd,
                old_total: fmt_yuan(a.old),
                new_total: fmt_yuan(a.new),
                delta: fmt_yuan(d),
                examples: a.examples,
                delta_exact: d,
            }
        })
        .collect();
    let d = new_total.checked_sub(old_total).unwrap_or_default();
    if overflow {
        errors.push(RowError {
            line: 0,
            message: "E0504: a budget sum overflows (more than an exact decimal of 28 digits holds); the totals leave amounts out and must not be used".into(),
        });
    }
    let (period, from, to) = match periods {
        Periods::One(p) => (p, None, None),
        Periods::Years(f, t) => (None, Some(f), Some(t)),
    };
    let years = match periods {
        Periods::One(_) => Vec::new(),
        Periods::Years(f, t) => (f..=t)
            .map(|y| {
                let (a, b) = by_year.get(&y).copied().unwrap_or_default();
                let mut clauses: Vec<YearClause> = by_year_clause
                    .iter()
                    .filter(|((py, _), (o, n))| *py == y && o != n)
                    .map(|((_, k), (o, n))| YearClause {
                        clause: k.clone(),
                        old_total: fmt_yuan(*o),
                        new_total: fmt_yuan(*n),
                        delta: fmt_yuan(n.checked_sub(*o).unwrap_or_default()),
                    })
                    .collect();
                clauses.sort_by_key(|c| order.iter().position(|o| *o == c.clause).unwrap_or(usize::MAX));
                YearImpact {
                    period: y,
                    old_total: fmt_yuan(a),
                    new_total: fmt_yuan(b),
                    delta: fmt_yuan(b.checked_sub(a).unwrap_or_default()),
                    clauses,
                }
            })
            .collect(),
    };
    Impact {
        enterprises,
        period,
        from,
        to,
        years,
        clauses,
        old_total: fmt_yuan(old_total),
        new_total: fmt_yuan(new_total),
        delta: fmt_yuan(d),
        errors,
        delta_exact: d,
        totals_exact: (old_total, new_total),
    }
}

/// A signed amount for people: `+20万`, `−184万`, `0`.
pub fn signed_money(d: Decimal) -> String {
    if d.is_zero() {
        "0".into()
    } else if d.is_sign_negative() {
        format!("−{}", fmt_money(d.abs()))
    } else {
        format!("+{}", fmt_money(d))
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `E23.5: 12 of 500 enterprises lose, −184万 in total`.
pub fn impact_line(c: &ClauseImpact, enterprises: usize) -> String {
    let mut parts = Vec::new();
    if c.gain > 0 {
        parts.push(format!("{} gain", c.gain));
    }
    if c.lose > 0 {
        parts.push(format!("{} lose", c.lose));
    }
    if c.status_changed > 0 {
        parts.push(format!("{} change status", c.status_changed));
    }
    if c.cap_changed > 0 {
        parts.push(format!("{} have a new cap", c.cap_changed));
    }
    let who = if parts.len() == 1 {
        let only = parts.join("");
        let (n, verb) = only.split_once(' ').unwrap_or(("", ""));
        format!("{n} of {} {verb}", plural(enterprises, "enterprise", "enterprises"))
    } else {
        format!("of {} {}", plural(enterprises, "enterprise", "enterprises"), parts.join(", "))
    };
    let mut line = if c.delta_exact.is_zero() {
        format!("{}: {who}, no change in total", c.clause)
    } else {
        format!("{}: {who}, {} in total", c.clause, signed_money(c.delta_exact))
    };
    if !c.ceiling_delta.is_zero() {
        line.push_str(&format!("; discretionary ceiling {}", signed_money(c.ceiling_delta)));
    }
    line
}

/// The text report.
pub fn render_text(r: &DiffReport) -> String {
    let mut out = format!("huiqi diff {} → {}\n", r.old, r.new);
    if r.identical {
        out.push_str("no semantic changes\n");
    }
    let sections: [(&str, &Vec<Change>); 6] = [
        ("documents", &r.diff.documents),
        ("clauses", &r.diff.clauses),
        ("parameters", &r.diff.parameters),
        ("tables", &r.diff.tables),
        ("definitions", &r.diff.definitions),
        ("facts", &r.diff.facts),
    ];
    for (name, changes) in sections {
        if changes.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{name}:\n"));
        for c in changes {
            match c.kind {
                ChangeKind::Added | ChangeKind::Removed => {
                    let verb = if c.kind == ChangeKind::Added { "added" } else { "removed" };
                    let sign = if c.kind == ChangeKind::Added { '+' } else { '-' };
                    let title = c.title.as_ref().map(|t| format!(" \"{t}\"")).unwrap_or_default();
                    out.push_str(&format!("  {sign} {}{title}: {verb}\n", c.subject));
                }
                ChangeKind::Changed => {
                    for l in &c.changes {
                        out.push_str(&format!("  ~ {}: {l}\n", c.subject));
                    }
                }
            }
        }
    }
    if let Some(i) = &r.impact {
        let period = match (i.from, i.to, i.period) {
            (Some(f), Some(t), _) => format!("{f}–{t}, each enterprise's ledger threaded through the years"),
            (_, _, Some(p)) => p.to_string(),
            _ => "each row's period".to_string(),
        };
        out.push_str(&format!(
            "\nbudget impact over {} ({period}):\n",
            plural(i.enterprises, "enterprise", "enterprises")
        ));
        if i.clauses.is_empty() {
            out.push_str("  no enterprise's result changes\n");
        }
        for c in &i.clauses {
            out.push_str(&format!("  {}\n", impact_line(c, i.enterprises)));
        }
        let changed: BTreeSet<&str> = r
            .diff
            .clauses
            .iter()
            .filter(|c| c.kind == ChangeKind::Changed)
            .map(|c| c.subject.as_str())
            .collect();
        for c in changed {
            if !i.clauses.iter().any(|x| x.clause == c) {
                out.push_str(&format!("  {c}: no enterprise of the population affected\n"));
            }
        }
        let (old, new) = i.totals_exact;
        let delta =
            if i.delta_exact.is_zero() { "no change".to_string() } else { signed_money(i.delta_exact) };
        out.push_str(&format!("  total granted: {} → {} ({delta})\n", fmt_money(old), fmt_money(new)));
        for y in &i.years {
            let d = y.delta.parse::<Decimal>().unwrap_or_default();
            let o = y.old_total.parse::<Decimal>().unwrap_or_default();
            let n = y.new_total.parse::<Decimal>().unwrap_or_default();
            let delta = if d.is_zero() { "no change".to_string() } else { signed_money(d) };
            out.push_str(&format!("  {}: {} → {} ({delta})\n", y.period, fmt_money(o), fmt_money(n)));
            for c in &y.clauses {
                let d = c.delta.parse::<Decimal>().unwrap_or_default();
                out.push_str(&format!("    {}: {}\n", c.clause, signed_money(d)));
            }
        }
        for e in &i.errors {
            out.push_str(&format!("  line {}: skipped: {}\n", e.line, e.message));
        }
    }
    out
}

/// Diff and, with a population, impact: the report the CLI prints.
pub fn report(
    old: &Program,
    new: &Program,
    names: (&str, &str),
    population: Option<&str>,
    period: Option<i32>,
) -> DiffReport {
    report_over(old, new, names, population, Periods::One(period))
}

/// [`report`] with the impact over the given periods (`--from`/`--to`).
pub fn report_over(
    old: &Program,
    new: &Program,
    names: (&str, &str),
    population: Option<&str>,
    periods: Periods,
) -> DiffReport {
    let d = diff(old, new);
    DiffReport {
        schema_version: DIFF_SCHEMA_VERSION,
        old: names.0.to_string(),
        new: names.1.to_string(),
        identical: d.is_empty(),
        diff: d,
        impact: population.map(|p| impact_over(old, new, p, periods)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{Input, compile};

    fn prog(text: &str) -> Program {
        let input = Input::from_rules([("t.policy".to_string(), text.to_string())]);
        match compile(&input) {
            Ok(c) => c.program,
            Err(f) => panic!("{:?}", f.diagnostics),
        }
    }

    const BASE: &str = "fact 收入: money\n\
        parameter 比例: rate \"比例\" {\n  50% from 2018-01-01\n  75% from 2021-01-01\n}\n\
        define 大 = 收入 达到 1亿\n\
        policy P \"示例\" {\n  clause 1 \"按比例\" { when 大 amount 收入 × 比例 cap 60万 total }\n}\n";

    fn lines(d: &RuleDiff) -> Vec<String> {
        [&d.documents, &d.clauses, &d.parameters, &d.definitions, &d.facts]
            .into_iter()
            .flatten()
            .flat_map(|c| {
                let head = format!("{} {:?}", c.subject, c.kind);
                std::iter::once(head).chain(c.changes.iter().map(move |l| format!("{}: {l}", c.subject)))
            })
            .collect()
    }

    #[test]
    fn identical_programs_have_no_diff() {
        assert!(diff(&prog(BASE), &prog(BASE)).is_empty());
    }

    #[test]
    fn parameter_versions_definitions_caps_and_documents() {
        let new = BASE
            .replace("75% from 2021-01-01", "100% from 2021-01-01\n  120% from 2024-01-01")
            .replace("达到 1亿", "达到 2亿")
            .replace("cap 60万 total", "cap 50万 total")
            .replace("\"示例\"", "\"示例（修订）\"")
            .replace("fact 收入: money\n", "fact 收入: money\nfact 人数: integer\n");
        let d = diff(&prog(BASE), &prog(&new));
        let l = lines(&d);
        let want = [
            "比例: version from 2021-01-01 now 100% (was 75%)",
            "比例: version added: from 2024-01-01 120%",
            "大: 收入 ≥ 1亿 → 收入 ≥ 2亿",
            "P.1: cap 60万 total → cap 50万 total",
            "P: title 示例 → 示例（修订）",
            "人数 Added",
        ];
        for w in want {
            assert!(l.iter().any(|x| x == w), "missing `{w}` in {l:#?}");
        }
    }

    #[test]
    fn amendments_by_a_later_document() {
        let old = "fact 收入: money\n\
            policy P \"原\" {\n  issued 2020-01-01\n  in force 2020-01-01 to 2022-12-31\n  \
            clause 1 \"奖励\" { amount 收入 × 1% cap 10万 }\n  clause 2 \"另一\" { amount 1万 }\n}\n";
        let new = format!(
            "{old}policy Q \"修改\" {{\n  issued 2023-01-01\n  extends P to 2024-12-31\n  \
             amends P.1 from 2024-01-01 \"上限提高至20万元\" {{ cap 20万 }}\n  repeals P.2 from 2024-01-01\n}}\n"
        );
        let l = lines(&diff(&prog(old), &prog(&new)));
        let want = [
            "P: in force 2020-01-01..2022-12-31 → 2020-01-01..2024-12-31",
            "P: changed by a later document added: extended by Q to 2024-12-31 (was to 2022-12-31)",
            "P.1: amended by Q from 2024-01-01 \"上限提高至20万元\"",
            "P.1:   cap 10万 per grant → cap 20万 per grant",
            "P.2: changed by a later document added: repealed by Q from 2024-01-01",
        ];
        for w in want {
            assert!(l.iter().any(|x| x == w), "missing `{w}` in {l:#?}");
        }
    }

    #[test]
    fn signed_amounts() {
        assert_eq!(signed_money(Decimal::new(-1_840_000, 0)), "−184万");
        assert_eq!(signed_money(Decimal::new(200_000, 0)), "+20万");
        assert_eq!(signed_money(Decimal::ZERO), "0");
    }
}
