//! The interpreter: a checked [`Program`] + [`Facts`] + a period, an as-of date and a
//! [`Ledger`] → an [`Outcome`] per clause with amounts, explanation steps and new ledger
//! entries. Exact decimal arithmetic throughout; every operation is checked.
//!
//! Invariant: evaluation never panics and never sees a name: it reads slots. An arithmetic
//! failure becomes a [`ClauseError`] naming its clause, and the other clauses carry on.
//! Explanation steps are built only when asked for (`explain`), so the batch path allocates
//! nothing per clause unless a fact is missing.

pub mod advise;
pub mod explain;
pub mod facts;
pub mod kernel;
pub mod ledger;
pub mod relations;
pub mod simulate;
pub mod stream;
mod table;
pub mod time;

use crate::diag::Code;
use crate::ir::*;
use crate::syntax::ast::{CapScope, CmpOp, OnceScope, PayRule, Rounding};
use crate::value::{Date, WAN};
pub use explain::{Lang, Step};
pub use facts::{FactValue, Facts, Item, Series, Value};
pub use ledger::{Ledger, LedgerEntry};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

/// The status of one clause for one enterprise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "serve", derive(utoipa::ToSchema))]
pub enum Status {
    Granted,
    Discretionary,
    Ineligible,
    Undetermined,
    NotInForce,
    Exhausted,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Granted,
        Status::Discretionary,
        Status::Ineligible,
        Status::Undetermined,
        Status::NotInForce,
        Status::Exhausted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Granted => "granted",
            Status::Discretionary => "discretionary",
            Status::Ineligible => "ineligible",
            Status::Undetermined => "undetermined",
            Status::NotInForce => "not_in_force",
            Status::Exhausted => "exhausted",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What to evaluate for.
#[derive(Clone, Copy, Debug)]
pub struct EvalOptions {
    /// The period (考核年度) the facts describe.
    pub period: i32,
    /// The date of the evaluation; the period's last day when `None`.
    pub as_of: Option<Date>,
    /// Build explanation steps (slower; off for batch budget runs).
    pub explain: bool,
}

impl EvalOptions {
    pub fn new(period: i32) -> EvalOptions {
        EvalOptions { period, as_of: None, explain: true }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClauseResult {
    pub clause: ClauseId,
    pub status: Status,
    pub amount: Option<Decimal>,
    pub cap: Option<Decimal>,
    pub floor: Option<Decimal>,
    pub steps: Vec<Step>,
    pub reasons: Vec<Step>,
    pub missing: Vec<String>,
    pub entries: Vec<LedgerEntry>,
    /// Whether the amount is cash granted (kind `benefit`) and so part of the total; a `tax`
    /// relief and a `ceiling` (which binds a third party) are reported but not added.
    pub benefit: bool,
    /// For a clause that later documents changed (`amends`, `extends`, `repeals`): the
    /// version whose words applied to this period (see `relations::version_of`).
    pub version: Option<relations::Version>,
}

/// An arithmetic failure in one clause.
#[derive(Clone, Debug, PartialEq)]
pub struct ClauseError {
    pub clause: ClauseId,
    pub code: Code,
    pub message: String,
}

impl ClauseError {
    /// The failure as a diagnostic located at its clause.
    pub fn to_diagnostic(&self, prog: &Program) -> crate::diag::Diagnostic {
        let cref = prog.clause_ref(self.clause);
        let span = prog.clause(self.clause).map(|c| c.span).unwrap_or_default();
        let help = match self.code {
            Code::DivisionByZero => {
                "guard the division with a condition (`when 分母 超过 0元`) or use a fact that cannot be zero"
            }
            Code::NoParamVersion => "add a parameter version that takes effect on or before that date",
            Code::BoundBelowPrevious => {
                "check the facts that give the bracket bounds: each bound must be above the one before it"
            }
            Code::TotalOverflow => "the amounts are too large to add: check the magnitudes of the facts",
            Code::ImpossibleDate => {
                "check the dates and counts of the facts (a month count must be whole, a date within the years 1–9999), or guard the computation with a condition"
            }
            Code::NeverDate => {
                "guard the date with `when 日期 != never and …` (a `never` date is only compared with `==` or `!=`), or give the date in the facts"
            }
            _ => "check the magnitudes of the facts; amounts are exact decimals of at most 28 digits",
        };
        crate::diag::Diagnostic::new(self.code, format!("`{cref}`: {}", self.message))
            .at(span, "while evaluating this clause")
            .help(help)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub period: i32,
    pub as_of: Date,
    pub results: Vec<ClauseResult>,
    pub errors: Vec<ClauseError>,
}

impl Outcome {
    /// The sum of granted cash amounts; an overflow is an error naming the clause whose amount
    /// no longer fits (never a total that silently leaves an amount out).
    pub fn total(&self) -> Result<Decimal, ClauseError> {
        cash_total(self.results.iter().map(|r| (r.clause, r.status, r.benefit, r.amount)))
            .map_err(|o| o.to_clause_error())
    }

    /// The ledger entries this evaluation adds.
    pub fn new_entries(&self) -> impl Iterator<Item = &LedgerEntry> {
        self.results.iter().flat_map(|r| r.entries.iter())
    }
}

/// Cash granted: the granted amounts of `benefit` clauses (a tax relief or a ceiling is not
/// cash), from `(clause, status, benefit, amount)` per clause. Fails on overflow, naming the
/// clause whose amount could not be added.
pub fn cash_total(
    items: impl Iterator<Item = (ClauseId, Status, bool, Option<Decimal>)>,
) -> Result<Decimal, TotalOverflow> {
    let mut total = Decimal::ZERO;
    for (clause, status, benefit, amount) in items {
        if status == Status::Granted
            && benefit
            && let Some(a) = amount
        {
            total = total.checked_add(a).ok_or(TotalOverflow { clause })?;
        }
    }
    Ok(total)
}

/// A sum of amounts that no longer fits an exact decimal; `clause` is the one whose amount
/// could not be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TotalOverflow {
    pub clause: ClauseId,
}

impl TotalOverflow {
    pub fn to_clause_error(self) -> ClauseError {
        ClauseError {
            clause: self.clause,
            code: Code::TotalOverflow,
            message: "the total overflows when this clause's amount is added (more than an exact decimal of 28 digits holds)".into(),
        }
    }
}

/// An evaluation failure inside an expression.
#[derive(Clone, Debug, PartialEq)]
struct Fail {
    code: Code,
    message: String,
}

type V = Result<Option<Value>, Fail>;

/// The pieces an amount is paid in, each with its ledger key (a tier or category, or none).
type Parts = smallvec::SmallVec<[(Option<std::sync::Arc<str>>, Decimal); 1]>;

/// A bracket bound (a parameter's value on the day) that is not above the bound before it:
/// paying on would drop or double a slice, so the clause fails instead.
fn bound_not_rising(bound: Decimal, lower: Decimal) -> Fail {
    Fail {
        code: Code::BoundBelowPrevious,
        message: format!(
            "the bracket bound {} is not above the bound before it ({}), so a slice would be lost",
            crate::value::fmt_money(bound),
            crate::value::fmt_money(lower)
        ),
    }
}

fn overflow() -> Fail {
    Fail {
        code: Code::Overflow,
        message: "a computation overflowed (a value too large for an exact decimal)".into(),
    }
}

/// Evaluates every clause of the program.
pub fn evaluate(prog: &Program, facts: &Facts, ledger: &Ledger, opts: EvalOptions) -> Outcome {
    let as_of = opts.as_of.unwrap_or(Date::year_end(opts.period));
    let mut by_clause: Vec<Vec<&LedgerEntry>> = Vec::new();
    if !ledger.entries.is_empty() {
        by_clause = vec![Vec::new(); prog.clauses.len()];
        for e in &ledger.entries {
            if let Some(c) = prog.find_clause(&e.policy, &e.clause)
                && let Some(v) = by_clause.get_mut(c as usize)
            {
                v.push(e);
            }
        }
    }
    let mut ev = Evaluator::new(prog, facts, opts.period, as_of, opts.explain);
    ev.ledger = &ledger.entries;
    let mut results = Vec::with_capacity(prog.clauses.len());
    let mut errors = Vec::new();
    for (i, c) in prog.clauses.iter().enumerate() {
        if !c.kind.evaluated() {
            continue;
        }
        let id = u32::try_from(i).unwrap_or(u32::MAX);
        let history: &[&LedgerEntry] = by_clause.get(i).map_or(&[], Vec::as_slice);
        let c = prog.clause_for(id, opts.period).unwrap_or(c);
        match ev.clause(id, c, history) {
            Ok(r) => results.push(relations::versioned(prog, r, opts.period, opts.explain)),
            Err(f) => errors.push(ClauseError { clause: id, code: f.code, message: f.message }),
        }
    }
    relations::once_in_history(prog, ledger, &mut results, opts.explain);
    stack(prog, &mut results);
    let mut outcome = Outcome { period: opts.period, as_of, results, errors };
    if let Err(e) = outcome.total() {
        outcome.errors.push(e);
    }
    outcome
}

/// Stacking (language.md §8): by default every benefit a firm qualifies for pays (应享尽享).
/// A granted clause removes the clauses it `excludes`; of the granted clauses sharing an
/// `only largest in` group, only the largest amount pays (the first declared on a tie).
fn stack(prog: &Program, results: &mut [ClauseResult]) {
    let paid = |r: &ClauseResult| r.status == Status::Granted && r.amount.is_some_and(|a| a > Decimal::ZERO);
    let mut drop: Vec<(usize, Step)> = Vec::new();
    for r in results.iter().filter(|r| paid(r)) {
        let Some(c) = prog.clause(r.clause) else { continue };
        for x in &c.excludes {
            if let Some(i) = results.iter().position(|o| o.clause == *x && paid(o)) {
                drop.push((i, Step::Excluded { by: prog.clause_ref(r.clause) }));
            }
        }
    }
    let mut groups: Vec<&str> = prog.clauses.iter().filter_map(|c| c.largest_in.as_deref()).collect();
    groups.sort_unstable();
    groups.dedup();
    for g in groups {
        let members: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                paid(r) && prog.clause(r.clause).and_then(|c| c.largest_in.as_deref()) == Some(g)
            })
            .map(|(i, _)| i)
            .collect();
        let winner = members.iter().copied().reduce(|best, i| {
            let amount = |k: usize| results.get(k).and_then(|r| r.amount).unwrap_or(Decimal::ZERO);
            if amount(i) > amount(best) { i } else { best }
        });
        let Some(w) = winner else { continue };
        let wref = results.get(w).map(|r| prog.clause_ref(r.clause)).unwrap_or_default();
        for i in members.into_iter().filter(|i| *i != w) {
            drop.push((i, Step::NotLargest { group: g.to_string(), winner: wref.clone() }));
        }
    }
    drop.extend(relations::once_in_period(prog, results));
    for (i, step) in drop {
        if let Some(r) = results.get_mut(i) {
            if r.status != Status::Granted {
                continue;
            }
            r.status = Status::Ineligible;
            r.amount = None;
            r.entries.clear();
            r.steps.push(step.clone());
            r.reasons = vec![step];
        }
    }
}

/// Evaluates one clause (same semantics as [`evaluate`]).
pub fn evaluate_clause(
    prog: &Program,
    clause: ClauseId,
    facts: &Facts,
    ledger: &Ledger,
    opts: EvalOptions,
) -> Result<ClauseResult, ClauseError> {
    let as_of = opts.as_of.unwrap_or(Date::year_end(opts.period));
    let c = prog.clause(clause).ok_or(ClauseError {
        clause,
        code: Code::UnknownClause,
        message: "no such clause".into(),
    })?;
    let policy = prog.policy_of(c).map(|p| p.key.as_str()).unwrap_or("");
    let history: Vec<&LedgerEntry> =
        ledger.entries.iter().filter(|e| &*e.policy == policy && *e.clause == *c.id).collect();
    let mut ev = Evaluator::new(prog, facts, opts.period, as_of, opts.explain);
    ev.ledger = &ledger.entries;
    let c = prog.clause_for(clause, opts.period).unwrap_or(c);
    let r = ev.clause(clause, c, &history).map_err(|f| ClauseError {
        clause,
        code: f.code,
        message: f.message,
    })?;
    let mut one = [relations::versioned(prog, r, opts.period, opts.explain)];
    relations::once_in_history(prog, ledger, &mut one, opts.explain);
    let [r] = one;
    Ok(r)
}

/// One clause exactly as [`evaluate`] evaluates it inside a whole evaluation: its version for
/// the period, `history` (the ledger entries [`evaluate`] files under this clause), `ledger`
/// for `granted(…)`, and its version step. `once in` over history and stacking are the
/// caller's (the kernel applies them to every clause at once, as [`evaluate`] does).
pub(crate) fn clause_in_evaluation(
    prog: &Program,
    clause: ClauseId,
    facts: &Facts,
    ledger: &[LedgerEntry],
    history: &[&LedgerEntry],
    opts: EvalOptions,
) -> Result<ClauseResult, ClauseError> {
    let as_of = opts.as_of.unwrap_or(Date::year_end(opts.period));
    let c = prog.clause_for(clause, opts.period).ok_or(ClauseError {
        clause,
        code: Code::UnknownClause,
        message: "no such clause".into(),
    })?;
    let mut ev = Evaluator::new(prog, facts, opts.period, as_of, opts.explain);
    ev.ledger = ledger;
    let r = ev.clause(clause, c, history).map_err(|f| ClauseError {
        clause,
        code: f.code,
        message: f.message,
    })?;
    Ok(relations::versioned(prog, r, opts.period, opts.explain))
}

/// The missing facts of a clause that is undetermined, as [`evaluate`] lists them with this
/// ledger (for the lean path, which gives statuses only).
pub fn missing_facts(
    prog: &Program,
    clause: ClauseId,
    facts: &Facts,
    ledger: &Ledger,
    opts: EvalOptions,
) -> Vec<String> {
    let mut history: Vec<&LedgerEntry> = Vec::new();
    if !ledger.entries.is_empty() {
        history = ledger
            .entries
            .iter()
            .filter(|e| prog.find_clause(&e.policy, &e.clause) == Some(clause))
            .collect();
    }
    let opts = EvalOptions { explain: false, ..opts };
    clause_in_evaluation(prog, clause, facts, &ledger.entries, &history, opts)
        .map(|r| r.missing)
        .unwrap_or_default()
}

/// Per-enterprise evaluation state, reused across clauses.
struct Evaluator<'p> {
    prog: &'p Program,
    facts: &'p Facts,
    period: i32,
    as_of: Date,
    /// The date parameters are read on (per clause).
    date: Date,
    item: Option<(FactId, usize, &'p Item)>,
    explain: bool,
    /// The ledger of earlier grants, read by `granted(…)`.
    ledger: &'p [LedgerEntry],
    missing: Vec<String>,
    /// Values read while evaluating one condition (explain mode).
    reads: Vec<(String, String)>,
    params_used: Vec<(ParamId, usize)>,
    /// Statuses of clauses read by `qualifies(…)`, with the facts they miss (per enterprise).
    qualified: Vec<(ClauseId, Status, Vec<String>)>,
    /// Tables read since the last step was written (explain mode): the rows that applied,
    /// written after the step that read them.
    table_steps: Vec<Step>,
}

/// What a tier table pays: parts, nothing reached (the status says why), or unknown.
enum Tiered {
    Paid(Parts),
    Nothing,
    Unknown,
}

/// What the history limits say before the amount is computed.
enum Gate {
    Go,
    Stop,
    Unknown,
}

impl<'p> Evaluator<'p> {
    fn new(prog: &'p Program, facts: &'p Facts, period: i32, as_of: Date, explain: bool) -> Self {
        Evaluator {
            prog,
            facts,
            period,
            as_of,
            date: Date::year_end(period),
            item: None,
            explain,
            ledger: &[],
            missing: Vec::new(),
            reads: Vec::new(),
            params_used: Vec::new(),
            qualified: Vec::new(),
            table_steps: Vec::new(),
        }
    }

    /// The own status this period of a clause read by `qualifies(…)` (before stacking and
    /// `once in`), evaluated once per enterprise by a fresh evaluator (the checker rejects
    /// cycles, so this ends).
    fn qualifies(&mut self, id: ClauseId) -> Result<(Status, Vec<String>), Fail> {
        if let Some((_, s, m)) = self.qualified.iter().find(|(c, _, _)| *c == id) {
            return Ok((*s, m.clone()));
        }
        let Some(c) = self.prog.clause_for(id, self.period) else {
            return Ok((Status::Undetermined, Vec::new()));
        };
        let names = &self.prog.clause(id).unwrap_or(c).ledger_names;
        let history: Vec<&LedgerEntry> =
            self.ledger.iter().filter(|e| e.policy == names.0 && e.clause == names.1).collect();
        let mut sub = Evaluator::new(self.prog, self.facts, self.period, self.as_of, false);
        sub.ledger = self.ledger;
        sub.qualified = std::mem::take(&mut self.qualified);
        let r = sub.clause(id, c, &history);
        self.qualified = std::mem::take(&mut sub.qualified);
        let r = r?;
        self.qualified.push((id, r.status, r.missing.clone()));
        Ok((r.status, r.missing))
    }

    fn result(&self, id: ClauseId, status: Status) -> ClauseResult {
        ClauseResult {
            clause: id,
            status,
            amount: None,
            cap: None,
            floor: None,
            steps: Vec::new(),
            reasons: Vec::new(),
            missing: Vec::new(),
            entries: Vec::new(),
            benefit: true,
            version: None,
        }
    }

    fn undetermined(&mut self, mut r: ClauseResult) -> ClauseResult {
        r.status = Status::Undetermined;
        r.amount = None;
        let mut m = std::mem::take(&mut self.missing);
        m.sort();
        m.dedup();
        if self.explain {
            r.steps.push(Step::Missing { paths: m.clone() });
        }
        r.missing = m;
        r
    }

    fn clause(
        &mut self,
        id: ClauseId,
        c: &'p ClauseDef,
        history: &[&LedgerEntry],
    ) -> Result<ClauseResult, Fail> {
        self.missing.clear();
        self.params_used.clear();
        self.table_steps.clear();
        let mut r = self.result(id, Status::Ineligible);
        r.benefit = c.kind == crate::syntax::ast::ClauseKind::Benefit;
        let Some(policy) = self.prog.policy_of(c) else { return Ok(r) };
        // dates: the parameter date, then windows
        self.date = Date::year_end(self.period);
        if let Some(d) = &c.dated {
            match self.eval(d)? {
                Some(Value::Date(x)) => self.date = time::day_of(x, "dated").map_err(time::fail)?,
                _ => return Ok(self.undetermined(r)),
            }
        }
        if let Some(w) = &policy.in_force
            && !w.overlaps_year(self.period)
        {
            // the reason is given with explanations on or off; the explanation only when on
            let step = Step::InForce {
                what: "document".into(),
                start: w.start,
                end: w.end,
                tested: format!("{}", self.period),
                inside: false,
            };
            if self.explain {
                r.steps.push(step.clone());
            }
            r.reasons = vec![step];
            r.status = Status::NotInForce;
            return Ok(r);
        }
        if let Some(w) = &c.window {
            let (inside, tested) = match &c.window_on {
                Some(on) => match self.eval(on)? {
                    Some(Value::Date(d)) => {
                        let d = time::day_of(d, "valid … on").map_err(time::fail)?;
                        (w.contains(d), d.to_string())
                    }
                    _ => return Ok(self.undetermined(r)),
                },
                None => (w.overlaps_year(self.period), format!("{}", self.period)),
            };
            let step = Step::InForce { what: "clause".into(), start: w.start, end: w.end, tested, inside };
            if !inside {
                if self.explain {
                    r.steps.push(step.clone());
                }
                r.reasons = vec![step];
                r.status = Status::NotInForce;
                return Ok(r);
            }
            if self.explain {
                r.steps.push(step);
            }
        }
        if self.explain
            && let Some(q) = c.quote_text()
        {
            r.steps.push(Step::Quote { text: q });
        }
        // eligibility, three-valued: any false → ineligible; else any unknown → undetermined
        let mut unknown = false;
        let conds = policy.applies.iter().map(|a| (a, true)).chain(c.conditions.iter().map(|x| (x, false)));
        for (cond, doc) in conds {
            self.reads.clear();
            let mark = self.missing.len();
            let v = self.eval(&cond.expr)?;
            let holds = match v {
                Some(Value::Bool(b)) => Some(b),
                _ => None,
            };
            let step = if self.explain || holds == Some(false) {
                Some(Step::Condition {
                    text: cond.text.clone(),
                    holds,
                    values: std::mem::take(&mut self.reads),
                    document: doc,
                })
            } else {
                None
            };
            // the rows of the tables the condition read follow it
            let tables = std::mem::take(&mut self.table_steps);
            match holds {
                Some(false) => {
                    self.missing.truncate(mark);
                    if let Some(s) = step {
                        r.reasons.push(s.clone());
                        if self.explain {
                            r.steps.push(s);
                            r.steps.extend(tables);
                        }
                    }
                    r.status = Status::Ineligible;
                    return Ok(r);
                }
                None => unknown = true,
                Some(true) => {}
            }
            if let Some(s) = step
                && self.explain
            {
                r.steps.push(s);
                r.steps.extend(tables);
            }
        }
        if unknown {
            return Ok(self.undetermined(r));
        }
        // history limits that stop a clause whatever the amount
        match self.history_gate(c, history, &mut r)? {
            Gate::Go => {}
            Gate::Stop => return Ok(r),
            Gate::Unknown => return Ok(self.undetermined(r)),
        }
        // caps and floor are reported even when the amount is discretionary
        let mut caps = Vec::with_capacity(c.caps.len());
        for cap in &c.caps {
            match self.num(&cap.expr)? {
                Some(v) => caps.push((cap.scope, v)),
                None => return Ok(self.undetermined(r)),
            }
        }
        let floor = match &c.floor {
            Some(f) => match self.num(f)? {
                Some(v) => Some(v),
                None => return Ok(self.undetermined(r)),
            },
            None => None,
        };
        // the clause's own cap; caps per person or item are shown on each item instead
        r.cap = caps
            .iter()
            .filter(|(s, _)| !matches!(s, CapScope::PerItem | CapScope::PerItemTotal))
            .map(|(_, v)| *v)
            .min();
        r.floor = floor;
        let rounding = policy.rounding;
        let parts: Parts = match &c.amount {
            Amount::Discretionary { base } => {
                let base = match base {
                    Some(b) => match self.eval(b)? {
                        Some(Value::Num(d)) => Some(d),
                        _ => None,
                    },
                    None => None,
                };
                self.missing.clear();
                if self.explain {
                    r.steps.push(Step::Discretionary { base, cap: r.cap, floor });
                }
                self.push_params(&mut r);
                r.status = Status::Discretionary;
                // a discretionary grant under a history limit is recorded (amount 0: decided
                // by the department) so that `once` and `at most N years` can count it
                if c.once.is_some() || c.at_most.is_some() {
                    r.entries.push(entry(c, None, self.period, Decimal::ZERO));
                }
                return Ok(r);
            }
            Amount::Credit { earned, capacity, years } => {
                return self.credit(r, c, policy, history, earned, capacity, *years);
            }
            Amount::Provides { what } => {
                if self.explain {
                    r.steps.push(Step::Provides { what: what.clone() });
                }
                r.status = Status::Granted;
                return Ok(r);
            }
            Amount::Expr(e) => {
                self.reads.clear();
                let v = self.num(e)?;
                match v {
                    Some(v) => {
                        if self.explain {
                            r.steps.push(Step::Amount {
                                text: self.prog_text(e),
                                value: v,
                                values: std::mem::take(&mut self.reads),
                            });
                            r.steps.append(&mut self.table_steps);
                        }
                        smallvec::smallvec![(None, v)]
                    }
                    None => return Ok(self.undetermined(r)),
                }
            }
            Amount::Tiers { first_time, subject, pay, tiers } => {
                match self.tiers(&mut r, c, history, *first_time, subject, *pay, tiers)? {
                    Tiered::Paid(x) => x,
                    Tiered::Unknown => return Ok(self.undetermined(r)),
                    Tiered::Nothing => return Ok(r),
                }
            }
            Amount::Brackets { subject, brackets } => match self.brackets(&mut r, subject, brackets)? {
                Some(v) => smallvec::smallvec![(None, v)],
                None => return Ok(self.undetermined(r)),
            },
            Amount::Each { sel, key, amount } => {
                match self.each(&mut r, c, history, sel, *key, amount.as_ref(), &caps)? {
                    Some(parts) => parts,
                    None if r.status == Status::Undetermined => return Ok(self.undetermined(r)),
                    None if r.status == Status::Discretionary => {
                        self.missing.clear();
                        self.push_params(&mut r);
                        return Ok(r);
                    }
                    None => return Ok(r),
                }
            }
            Amount::Category { subject, each, arms } => {
                match self.category(&mut r, c, history, subject, each.as_deref(), arms)? {
                    Some(parts) => parts,
                    None if r.status == Status::Undetermined => return Ok(self.undetermined(r)),
                    None => return Ok(r),
                }
            }
        };
        self.push_params(&mut r);
        self.finish(r, c, history, parts, &caps, floor, rounding)
    }

    /// Adds a step for each parameter version read.
    fn push_params(&mut self, r: &mut ClauseResult) {
        if !self.explain {
            return;
        }
        // tables read by a cap, a floor or another part of the amount
        r.steps.append(&mut self.table_steps);
        let mut used = std::mem::take(&mut self.params_used);
        used.sort_unstable();
        used.dedup();
        for (p, v) in used {
            if let Some((def, ver)) =
                self.prog.params.get(p as usize).and_then(|d| d.versions.get(v).map(|x| (d, x)))
            {
                r.steps.push(Step::Param {
                    name: def.name.clone(),
                    value: ver.value,
                    ty: def.ty,
                    from: ver.from,
                    on: self.date,
                    label: ver.label.clone(),
                });
            }
        }
    }

    fn prog_text(&self, e: &Expr) -> String {
        crate::ir::show::expr(self.prog, e)
    }

    /// `once` and `at most N years`, which make a clause exhausted before its amount.
    fn history_gate(
        &mut self,
        c: &ClauseDef,
        history: &[&LedgerEntry],
        r: &mut ClauseResult,
    ) -> Result<Gate, Fail> {
        if c.once == Some(OnceScope::Clause)
            && let Some(e) = history
                .iter()
                .filter(|e| e.period != self.period || !e.amount.is_zero())
                .min_by_key(|e| e.period)
        {
            r.reasons.push(Step::Once { key: None, period: e.period });
            if self.explain {
                r.steps.extend(r.reasons.clone());
            }
            r.status = Status::Exhausted;
            return Ok(Gate::Stop);
        }
        if c.once == Some(OnceScope::PerYear)
            && let Some(e) = history.iter().find(|e| e.period == self.period)
        {
            r.reasons.push(Step::Once { key: Some(format!("{}", e.period)), period: e.period });
            if self.explain {
                r.steps.extend(r.reasons.clone());
            }
            r.status = Status::Exhausted;
            return Ok(Gate::Stop);
        }
        if let Some(am) = &c.at_most {
            match &am.from {
                Some(from) => {
                    let Some(Value::Date(d)) = self.eval(from)? else {
                        return Ok(Gate::Unknown);
                    };
                    let d = time::day_of(d, "at most … from").map_err(time::fail)?;
                    let nth = i64::from(self.period) - i64::from(d.year) + 1;
                    if nth < 1 || nth > i64::from(am.years) {
                        r.reasons.push(Step::Years {
                            nth,
                            max: am.years,
                            first: Some(d.year),
                            from_date: Some(d),
                        });
                        if self.explain {
                            r.steps.extend(r.reasons.clone());
                        }
                        r.status = if nth < 1 { Status::Ineligible } else { Status::Exhausted };
                        return Ok(Gate::Stop);
                    }
                    if self.explain {
                        r.steps.push(Step::Years {
                            nth,
                            max: am.years,
                            first: Some(d.year),
                            from_date: Some(d),
                        });
                    }
                }
                None => {
                    let mut years: Vec<i32> =
                        history.iter().filter(|e| e.period < self.period).map(|e| e.period).collect();
                    years.sort_unstable();
                    years.dedup();
                    let nth = i64::try_from(years.len()).unwrap_or(i64::MAX).saturating_add(1);
                    if nth > i64::from(am.years) {
                        r.reasons.push(Step::Years {
                            nth,
                            max: am.years,
                            first: years.first().copied(),
                            from_date: None,
                        });
                        if self.explain {
                            r.steps.extend(r.reasons.clone());
                        }
                        r.status = Status::Exhausted;
                        return Ok(Gate::Stop);
                    }
                    if self.explain {
                        r.steps.push(Step::Years {
                            nth,
                            max: am.years,
                            first: years.first().copied(),
                            from_date: None,
                        });
                    }
                }
            }
        }
        Ok(Gate::Go)
    }

    #[allow(clippy::too_many_arguments)]
    fn tiers(
        &mut self,
        r: &mut ClauseResult,
        c: &ClauseDef,
        history: &[&LedgerEntry],
        first_time: Option<SeriesRef>,
        subject: &Expr,
        pay: PayRule,
        tiers: &[TierDef],
    ) -> Result<Tiered, Fail> {
        let Some(value) = self.num(subject)? else { return Ok(Tiered::Unknown) };
        let earlier: Vec<(i32, Decimal)> = match first_time {
            Some(s) => self.series(s).map(|x| x.before(self.period).copied().collect()).unwrap_or_default(),
            None => Vec::new(),
        };
        let mut reached: Vec<(usize, Decimal)> = Vec::new();
        // tiers reached but paid in an earlier period: the cause when nothing is left to pay
        let mut paid_before: Vec<Step> = Vec::new();
        for (i, t) in tiers.iter().enumerate() {
            let Some(th) = self.num(&t.threshold)? else { return Ok(Tiered::Unknown) };
            if !cmp_num(t.op, value, th) {
                continue;
            }
            if let Some(&(y, before)) = earlier.iter().find(|(_, v)| cmp_num(t.op, *v, th)) {
                if self.explain {
                    r.steps.push(Step::TierBefore {
                        key: t.key.to_string(),
                        year: y,
                        value: before,
                        ty: subject.ty,
                    });
                }
                continue;
            }
            if matches!(c.once, Some(OnceScope::PerTier))
                && let Some(e) = history.iter().find(|e| e.key.as_deref() == Some(&*t.key))
            {
                let step = Step::Once { key: Some(t.key.to_string()), period: e.period };
                if self.explain {
                    r.steps.push(step.clone());
                }
                paid_before.push(step);
                continue;
            }
            let Some(amount) = self.num(&t.amount)? else { return Ok(Tiered::Unknown) };
            reached.push((i, amount));
        }
        let chosen: Vec<(usize, Decimal)> = match pay {
            PayRule::Highest => {
                reached.iter().max_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0))).copied().into_iter().collect()
            }
            PayRule::Each => reached,
        };
        if chosen.is_empty() {
            if !paid_before.is_empty() {
                // every tier reached was paid before: that is the reason, not a missed tier
                r.reasons.extend(paid_before);
                r.status = Status::Exhausted;
                return Ok(Tiered::Nothing);
            }
            let step = Step::NoTier { value, ty: subject.ty, first_time: first_time.is_some() };
            r.reasons.push(step.clone());
            if self.explain {
                r.steps.push(step);
            }
            r.status = Status::Ineligible;
            return Ok(Tiered::Nothing);
        }
        let mut parts = Parts::new();
        for (i, amount) in &chosen {
            let Some(t) = tiers.get(*i) else { continue };
            if self.explain {
                r.steps.push(Step::Tier {
                    key: t.key.to_string(),
                    op: t.op,
                    value,
                    ty: subject.ty,
                    amount: *amount,
                    first_time: first_time.is_some(),
                    pay,
                });
            }
            parts.push((Some(t.key.clone()), *amount));
        }
        Ok(Tiered::Paid(parts))
    }
}

impl<'p> Evaluator<'p> {
    /// Caps, floor, history caps, rounding; the granted result and its ledger entries.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &mut self,
        mut r: ClauseResult,
        c: &ClauseDef,
        history: &[&LedgerEntry],
        parts: Parts,
        caps: &[(CapScope, Decimal)],
        floor: Option<Decimal>,
        rounding: Rounding,
    ) -> Result<ClauseResult, Fail> {
        let mut amount = Decimal::ZERO;
        for (_, p) in &parts {
            amount = amount.checked_add(*p).ok_or_else(overflow)?;
        }
        if amount <= Decimal::ZERO {
            let step = Step::Zero { value: amount };
            r.reasons.push(step.clone());
            if self.explain {
                r.steps.push(step);
            }
            r.status = Status::Ineligible;
            return Ok(r);
        }
        for (scope, cap) in caps.iter().filter(|(s, _)| *s == CapScope::PerGrant) {
            if amount > *cap {
                if self.explain {
                    r.steps.push(Step::Cap {
                        scope: *scope,
                        cap: *cap,
                        before: amount,
                        after: *cap,
                        history: Vec::new(),
                    });
                }
                amount = *cap;
            }
        }
        if let Some(f) = floor
            && amount < f
        {
            if self.explain {
                r.steps.push(Step::Floor { floor: f, before: amount });
            }
            amount = f;
        }
        for (scope, cap) in caps.iter().filter(|(s, _)| matches!(s, CapScope::PerYear | CapScope::Total)) {
            let used: Vec<(i32, Decimal)> = history
                .iter()
                .filter(|e| *scope == CapScope::Total || e.period == self.period)
                .map(|e| (e.period, e.amount))
                .collect();
            let mut sum = Decimal::ZERO;
            for (_, a) in &used {
                sum = sum.checked_add(*a).ok_or_else(overflow)?;
            }
            let left = cap.checked_sub(sum).ok_or_else(overflow)?;
            if left <= Decimal::ZERO {
                let step = Step::Cap {
                    scope: *scope,
                    cap: *cap,
                    before: amount,
                    after: Decimal::ZERO,
                    history: used,
                };
                r.reasons.push(step.clone());
                if self.explain {
                    r.steps.push(step);
                }
                r.status = Status::Exhausted;
                return Ok(r);
            }
            let after = amount.min(left);
            if self.explain && (after < amount || !used.is_empty()) {
                r.steps.push(Step::Cap { scope: *scope, cap: *cap, before: amount, after, history: used });
            }
            amount = after;
        }
        let rounded = round(amount, rounding);
        if rounded != amount && self.explain {
            r.steps.push(Step::Rounding { mode: rounding, before: amount, after: rounded });
        }
        r.amount = Some(rounded);
        r.status = Status::Granted;
        let _ = c;
        // a clause that is not cash writes to the ledger only what its own history limits
        // need to read (a tax relief used once); its entries carry its kind
        if !r.benefit && !needs_history(c) {
            return Ok(r);
        }
        let mut left = rounded;
        let n = parts.len();
        for (i, (key, part)) in parts.into_iter().enumerate() {
            let take = if i + 1 == n { left } else { part.min(left) };
            left = left.checked_sub(take).ok_or_else(overflow)?;
            r.entries.push(entry(c, key, self.period, take));
        }
        Ok(r)
    }

    /// A credit earned this period and used against a capacity, oldest credit first, with
    /// what is left carried for `years` more years.
    #[allow(clippy::too_many_arguments)]
    fn credit(
        &mut self,
        mut r: ClauseResult,
        c: &ClauseDef,
        policy: &PolicyDef,
        history: &[&LedgerEntry],
        earned: &Expr,
        capacity: &Expr,
        years: u32,
    ) -> Result<ClauseResult, Fail> {
        let Some(earned_now) = self.num(earned)? else { return Ok(self.undetermined(r)) };
        let Some(cap) = self.num(capacity)? else { return Ok(self.undetermined(r)) };
        let earned_now = round(earned_now.max(Decimal::ZERO), policy.rounding);
        let explain = self.explain;
        let mut live =
            live_credits(history.iter().copied(), self.period, years, |origin, balance, expires| {
                if explain {
                    r.steps.push(Step::CreditExpired { origin, balance, expires });
                }
            });
        let expires = self.period.saturating_add(i32::try_from(years).unwrap_or(i32::MAX));
        if earned_now > Decimal::ZERO {
            if self.explain {
                r.steps.push(Step::CreditEarned { amount: earned_now, expires });
            }
            live.push((self.period, earned_now, expires));
        }
        if live.is_empty() {
            let step = Step::Zero { value: Decimal::ZERO };
            r.reasons.push(step.clone());
            if self.explain {
                r.steps.push(step);
            }
            r.status = Status::Ineligible;
            return Ok(r);
        }
        let period = self.period;
        let used_total = use_credits(&live, cap, |origin, used, balance, expires| {
            if explain {
                r.steps.push(Step::CreditUsed { origin, used, balance, expires, capacity: cap });
            }
            r.entries.push(LedgerEntry {
                balance: Some(balance),
                expires: Some(expires),
                ..entry(c, Some(origin.to_string().into()), period, used)
            });
        })
        .ok_or_else(overflow)?;
        r.amount = Some(used_total);
        r.status = Status::Granted;
        Ok(r)
    }

    /// The categories found (one value, or each selected item's field), paid by their arms;
    /// `None` when nothing is paid (the status says why).
    fn category(
        &mut self,
        r: &mut ClauseResult,
        c: &ClauseDef,
        history: &[&LedgerEntry],
        subject: &Expr,
        each: Option<&Selection>,
        arms: &[CategoryArm],
    ) -> Result<Option<Parts>, Fail> {
        let mut found: Vec<u32> = Vec::new();
        match each {
            None => match self.eval(subject)? {
                Some(Value::Enum(x)) => found.push(x),
                _ => {
                    r.status = Status::Undetermined;
                    return Ok(None);
                }
            },
            Some(sel) => {
                let Some(FactValue::List(items)) = self.facts.get(sel.list) else {
                    self.missing.push(
                        self.prog.facts.get(sel.list as usize).map_or_else(String::new, |d| d.name.clone()),
                    );
                    r.status = Status::Undetermined;
                    return Ok(None);
                };
                let saved = self.item;
                let (chosen, mut unknown) = self.select(sel, items)?;
                for i in chosen {
                    let Some(it) = items.get(i) else { continue };
                    self.item = Some((sel.list, i, it));
                    match self.eval(subject)? {
                        Some(Value::Enum(x)) if !found.contains(&x) => found.push(x),
                        Some(_) => {}
                        None => unknown = true,
                    }
                }
                self.item = saved;
                if unknown {
                    r.status = Status::Undetermined;
                    return Ok(None);
                }
            }
        }
        let mut parts = Parts::new();
        let mut paid_before = None;
        for arm in arms.iter().filter(|a| found.contains(&a.variant)) {
            if c.once == Some(OnceScope::PerCategory)
                && let Some(e) = history.iter().find(|e| e.key.as_deref() == Some(&*arm.name))
            {
                let step = Step::Once { key: Some(arm.name.to_string()), period: e.period };
                if self.explain {
                    r.steps.push(step.clone());
                }
                paid_before = Some(step);
                continue;
            }
            let Some(v) = self.num(&arm.amount)? else {
                r.status = Status::Undetermined;
                return Ok(None);
            };
            if self.explain {
                r.steps.push(Step::Category { name: arm.name.to_string(), amount: v });
            }
            parts.push((Some(arm.name.clone()), v));
        }
        if parts.is_empty() {
            let (step, status) = match paid_before {
                Some(s) => (s, Status::Exhausted),
                None => {
                    let names: Vec<String> =
                        found.iter().map(|x| enum_name(self.prog, subject.ty, *x)).collect();
                    let value = if names.is_empty() { "—".to_string() } else { names.join("、") };
                    (Step::NoCategory { value }, Status::Ineligible)
                }
            };
            r.reasons.push(step.clone());
            if status == Status::Ineligible && self.explain {
                r.steps.push(step);
            }
            r.status = status;
            return Ok(None);
        }
        Ok(Some(parts))
    }

    /// An amount per selected person or item, each under its own `once per item` and `per item`
    /// caps (read from the ledger by the item's key); `None` when nothing is paid (the status
    /// says why).
    #[allow(clippy::too_many_arguments)]
    fn each(
        &mut self,
        r: &mut ClauseResult,
        c: &ClauseDef,
        history: &[&LedgerEntry],
        sel: &Selection,
        key: FieldId,
        amount: Option<&Expr>,
        caps: &[(CapScope, Decimal)],
    ) -> Result<Option<Parts>, Fail> {
        let Some(FactValue::List(items)) = self.facts.get(sel.list) else {
            self.missing
                .push(self.prog.facts.get(sel.list as usize).map_or_else(String::new, |d| d.name.clone()));
            r.status = Status::Undetermined;
            return Ok(None);
        };
        let saved = self.item;
        let result = self.each_items(r, c, history, sel, key, amount, caps, items);
        self.item = saved;
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn each_items(
        &mut self,
        r: &mut ClauseResult,
        c: &ClauseDef,
        history: &[&LedgerEntry],
        sel: &Selection,
        key: FieldId,
        amount: Option<&Expr>,
        caps: &[(CapScope, Decimal)],
        items: &'p [Item],
    ) -> Result<Option<Parts>, Fail> {
        let (chosen, undecided) = self.select(sel, items)?;
        if undecided {
            r.status = Status::Undetermined;
            return Ok(None);
        }
        let per_item = caps.iter().filter(|(s, _)| *s == CapScope::PerItem).map(|(_, v)| *v).min();
        let per_item_total = caps.iter().filter(|(s, _)| *s == CapScope::PerItemTotal).map(|(_, v)| *v).min();
        let key_ty =
            self.prog.records.get(sel.record as usize).and_then(|x| x.fields.get(key as usize)).map(|f| f.ty);
        let mut parts = Parts::new();
        let mut paid_before: Option<Step> = None;
        let mut unknown = false;
        let mut decided: Vec<(std::sync::Arc<str>, Option<Decimal>)> = Vec::new();
        let none_selected = chosen.is_empty();
        for i in chosen {
            let Some(it) = items.get(i) else { continue };
            self.item = Some((sel.list, i, it));
            let k: std::sync::Arc<str> = match it.fields.get(key as usize).and_then(Option::as_ref) {
                Some(FactValue::Scalar(v)) => show_value(self.prog, v, key_ty.unwrap_or(Type::Text)).into(),
                _ => {
                    self.missing.push(self.field_path(key));
                    unknown = true;
                    continue;
                }
            };
            let earlier: Vec<&&LedgerEntry> =
                history.iter().filter(|e| e.key.as_deref() == Some(&*k)).collect();
            // as for a clause's `once`, a discretionary record (amount 0) of this very period
            // is the grant being decided, not an earlier one
            if c.once == Some(OnceScope::PerItem)
                && let Some(e) = earlier
                    .iter()
                    .filter(|e| e.period != self.period || !e.amount.is_zero())
                    .min_by_key(|e| e.period)
            {
                let step = Step::Once { key: Some(k.to_string()), period: e.period };
                if self.explain {
                    r.steps.push(step.clone());
                }
                paid_before = Some(step);
                continue;
            }
            let Some(amount) = amount else {
                // `=> discretionary`: the item is decided case by case, up to its own cap
                let mut cap = per_item;
                let mut before = Decimal::ZERO;
                if let Some(total) = per_item_total {
                    for e in &earlier {
                        before = before.checked_add(e.amount).ok_or_else(overflow)?;
                    }
                    let left = total.checked_sub(before).ok_or_else(overflow)?.max(Decimal::ZERO);
                    cap = Some(cap.map_or(left, |x| x.min(left)));
                }
                let step = Step::ItemDiscretionary { key: k.to_string(), cap, before };
                if self.explain {
                    r.steps.push(step.clone());
                }
                if cap.is_some_and(|x| x <= Decimal::ZERO) {
                    paid_before = Some(step);
                    continue;
                }
                decided.push((k, cap));
                continue;
            };
            let Some(v) = self.num(amount)? else {
                unknown = true;
                continue;
            };
            let mut paid = v;
            let mut cap_shown = None;
            if let Some(cap) = per_item
                && paid > cap
            {
                paid = cap;
                cap_shown = Some(cap);
            }
            let mut before = Decimal::ZERO;
            if let Some(total) = per_item_total {
                for e in &earlier {
                    before = before.checked_add(e.amount).ok_or_else(overflow)?;
                }
                let left = total.checked_sub(before).ok_or_else(overflow)?.max(Decimal::ZERO);
                if paid > left {
                    paid = left;
                    cap_shown = Some(total);
                }
            }
            if self.explain {
                r.steps.push(Step::Item { key: k.to_string(), computed: v, paid, cap: cap_shown, before });
            }
            if paid <= Decimal::ZERO {
                if v > Decimal::ZERO {
                    paid_before =
                        Some(Step::Item { key: k.to_string(), computed: v, paid, cap: cap_shown, before });
                }
                continue;
            }
            parts.push((Some(k), paid));
        }
        if unknown {
            r.status = Status::Undetermined;
            return Ok(None);
        }
        if !decided.is_empty() {
            // discretionary per item: the clause's cap is the sum of the items' caps (when
            // each has one), and a cap of the clause still binds
            let mut sum = Some(Decimal::ZERO);
            for (_, cap) in &decided {
                sum = match (sum, cap) {
                    (Some(s), Some(x)) => Some(s.checked_add(*x).ok_or_else(overflow)?),
                    _ => None,
                };
            }
            r.cap = match (sum, r.cap) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if self.explain {
                r.steps.push(Step::Discretionary { base: None, cap: r.cap, floor: r.floor });
            }
            for (k, _) in decided {
                r.entries.push(entry(c, Some(k), self.period, Decimal::ZERO));
            }
            r.status = Status::Discretionary;
            return Ok(None);
        }
        if parts.is_empty() {
            if let Some(step) = paid_before {
                // every person or item was paid in full before: exhausted, not ineligible
                r.reasons.push(step);
                r.status = Status::Exhausted;
            } else {
                // no person or item selected says so; selected ones that compute to nothing
                // are "nothing to grant"
                let step = if none_selected {
                    Step::NoItem {
                        list: self
                            .prog
                            .facts
                            .get(sel.list as usize)
                            .map_or_else(String::new, |d| d.name.clone()),
                    }
                } else {
                    Step::Zero { value: Decimal::ZERO }
                };
                r.reasons.push(step.clone());
                if self.explain {
                    r.steps.push(step);
                }
                r.status = Status::Ineligible;
            }
            return Ok(None);
        }
        Ok(Some(parts))
    }

    fn brackets(
        &mut self,
        r: &mut ClauseResult,
        subject: &Expr,
        brackets: &[BracketDef],
    ) -> Result<Option<Decimal>, Fail> {
        let Some(value) = self.num(subject)? else { return Ok(None) };
        let mut lower = Decimal::ZERO;
        let mut total = Decimal::ZERO;
        for (i, b) in brackets.iter().enumerate() {
            let upper = match &b.upper {
                Some(u) => match self.num(u)? {
                    Some(x) => Some(x),
                    None => return Ok(None),
                },
                None => None,
            };
            let Some(rate) = self.num(&b.rate)? else { return Ok(None) };
            if let Some(u) = upper
                && i > 0
                && u <= lower
            {
                return Err(bound_not_rising(u, lower));
            }
            let top = upper.map_or(value, |u| u.min(value));
            if top <= lower {
                // the value is used up; the remaining brackets hold nothing of it
                break;
            }
            let slice = top.checked_sub(lower).ok_or_else(overflow)?;
            let part = slice.checked_mul(rate).ok_or_else(overflow)?;
            if self.explain {
                r.steps.push(Step::Bracket { from: lower, to: upper, slice, rate, part });
            }
            total = total.checked_add(part).ok_or_else(overflow)?;
            match upper {
                Some(u) => lower = u,
                None => break,
            }
        }
        Ok(Some(total))
    }

    fn series(&self, s: SeriesRef) -> Option<&'p Series> {
        let v = match s {
            SeriesRef::Fact(f) => self.facts.get(f),
            SeriesRef::Field(f) => {
                self.item.and_then(|(_, _, it)| it.fields.get(f as usize)).and_then(Option::as_ref)
            }
        };
        match v {
            Some(FactValue::Series(s)) => Some(s),
            _ => None,
        }
    }

    fn series_path(&self, s: SeriesRef) -> String {
        match s {
            SeriesRef::Fact(f) => {
                self.prog.facts.get(f as usize).map_or_else(String::new, |d| d.name.clone())
            }
            SeriesRef::Field(f) => self.field_path(f),
        }
    }

    fn field_path(&self, f: FieldId) -> String {
        match self.item {
            Some((list, i, _)) => {
                let lname = self.prog.facts.get(list as usize).map_or("", |d| d.name.as_str());
                let rec = match self.prog.facts.get(list as usize).map(|d| d.ty) {
                    Some(Type::List(r)) => self.prog.records.get(r as usize),
                    _ => None,
                };
                let fname = rec.and_then(|r| r.fields.get(f as usize)).map_or("", |x| x.name.as_str());
                format!("{lname}[{i}].{fname}")
            }
            None => String::new(),
        }
    }

    fn read(&mut self, path: impl FnOnce() -> String, v: &Value, ty: Type) {
        if self.explain {
            let shown = show_value(self.prog, v, ty);
            self.reads.push((path(), shown));
        }
    }

    fn num(&mut self, e: &Expr) -> Result<Option<Decimal>, Fail> {
        Ok(match self.eval(e)? {
            Some(Value::Num(d)) => Some(d),
            _ => None,
        })
    }

    fn series_at(&mut self, s: SeriesRef, year: i32, ty: Type) -> V {
        match self.series(s).map(|x| x.at(year)) {
            Some(Some(d)) => {
                let v = Value::Num(d);
                if self.explain {
                    let p = format!("{}.{year}", self.series_path(s));
                    self.read(|| p, &v, ty);
                }
                Ok(Some(v))
            }
            Some(None) => {
                self.missing.push(format!("{}.{year}", self.series_path(s)));
                Ok(None)
            }
            None => {
                let p = self.series_path(s);
                self.missing.push(format!("{p}.{year}"));
                Ok(None)
            }
        }
    }

    fn eval(&mut self, e: &Expr) -> V {
        match &e.kind {
            ExprKind::Table(t) => self.table(t, e.ty),
            ExprKind::Qualifies(p, c) => {
                let Some(id) = self.prog.find_clause(p, c) else { return Ok(None) };
                let (status, missing) = self.qualifies(id)?;
                if self.explain {
                    self.reads.push((format!("qualifies({p}.{c})"), status.as_str().to_string()));
                }
                Ok(match status {
                    Status::Granted | Status::Discretionary => Some(Value::Bool(true)),
                    Status::Undetermined => {
                        self.missing.extend(missing);
                        None
                    }
                    _ => Some(Value::Bool(false)),
                })
            }
            ExprKind::Granted(p, c, n) => {
                let hit = relations::granted_in(self.ledger, p, c, self.period, *n);
                if self.explain {
                    let what = match n {
                        Some(n) => format!("granted({p}.{c}, {n})"),
                        None => format!("granted({p}.{c})"),
                    };
                    let shown = hit.map_or_else(|| "—".to_string(), |y| format!("{y}"));
                    self.reads.push((what, shown));
                }
                Ok(Some(Value::Bool(hit.is_some())))
            }
            ExprKind::Const(c) => Ok(Some(match c {
                Const::Num(d) => Value::Num(*d),
                Const::Bool(b) => Value::Bool(*b),
                Const::Date(d) => Value::Date(*d),
                Const::Enum(_, v) => Value::Enum(*v),
            })),
            ExprKind::Fact(f) => match self.facts.get(*f) {
                Some(FactValue::Scalar(v)) => {
                    let v = v.clone();
                    let prog = self.prog;
                    self.read(
                        || prog.facts.get(*f as usize).map_or_else(String::new, |d| d.name.clone()),
                        &v,
                        e.ty,
                    );
                    Ok(Some(v))
                }
                _ => {
                    self.missing
                        .push(self.prog.facts.get(*f as usize).map_or_else(String::new, |d| d.name.clone()));
                    Ok(None)
                }
            },
            ExprKind::SeriesAt(s, y) => {
                let Some(Value::Num(yd)) = self.eval(y)? else { return Ok(None) };
                let Some(year) = crate::value::as_year(yd) else {
                    return Err(Fail { code: Code::Overflow, message: format!("`{yd}` is not a year") });
                };
                self.series_at(*s, year, e.ty)
            }
            ExprKind::Field(f) => {
                let v = self.item.and_then(|(_, _, it)| it.fields.get(*f as usize)).and_then(Option::as_ref);
                match v {
                    Some(FactValue::Scalar(v)) => {
                        let v = v.clone();
                        if self.explain {
                            let p = self.field_path(*f);
                            self.read(|| p, &v, e.ty);
                        }
                        Ok(Some(v))
                    }
                    _ => {
                        self.missing.push(self.field_path(*f));
                        Ok(None)
                    }
                }
            }
            ExprKind::Def(d) => {
                let Some(def) = self.prog.defs.get(*d as usize) else { return Ok(None) };
                let mark = self.reads.len();
                let v = self.eval(&def.expr)?;
                if self.explain
                    && let Some(v) = &v
                {
                    self.reads.truncate(mark);
                    let shown = show_value(self.prog, v, e.ty);
                    self.reads.push((def.name.clone(), shown));
                }
                Ok(v)
            }
            ExprKind::Param(p) => {
                let Some(def) = self.prog.params.get(*p as usize) else { return Ok(None) };
                let date = self.date;
                match def.versions.iter().rposition(|v| v.from <= date) {
                    Some(i) => {
                        if self.explain {
                            self.params_used.push((*p, i));
                        }
                        Ok(def.versions.get(i).map(|v| Value::Num(v.value)))
                    }
                    None => Err(Fail {
                        code: Code::NoParamVersion,
                        message: format!("no version of `{}` is in force on {date}", def.name),
                    }),
                }
            }
            ExprKind::Period => Ok(Some(Value::Num(Decimal::from(self.period)))),
            ExprKind::AsOf => Ok(Some(Value::Date(self.as_of))),
            ExprKind::Not(x) => Ok(match self.eval(x)? {
                Some(Value::Bool(b)) => Some(Value::Bool(!b)),
                _ => None,
            }),
            ExprKind::Neg(x) => Ok(match self.eval(x)? {
                Some(Value::Num(d)) => Some(Value::Num(-d)),
                _ => None,
            }),
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let is_and = matches!(e.kind, ExprKind::And(..));
                let mark = self.missing.len();
                let x = self.eval(a)?;
                if x == Some(Value::Bool(!is_and)) {
                    self.missing.truncate(mark);
                    return Ok(x);
                }
                let y = self.eval(b)?;
                if y == Some(Value::Bool(!is_and)) {
                    self.missing.truncate(mark);
                    return Ok(y);
                }
                Ok(match (x, y) {
                    (Some(x), Some(_)) => Some(x),
                    _ => None,
                })
            }
            ExprKind::Arith(op, a, b) => {
                let (Some(Value::Num(x)), Some(Value::Num(y))) = (self.eval(a)?, self.eval(b)?) else {
                    return Ok(None);
                };
                let r = match op {
                    ArithOp::Add => x.checked_add(y),
                    ArithOp::Sub => x.checked_sub(y),
                    ArithOp::Mul => x.checked_mul(y),
                    ArithOp::Div => {
                        if y.is_zero() {
                            return Err(Fail {
                                code: Code::DivisionByZero,
                                message: format!(
                                    "division by zero in `{}`",
                                    crate::ir::show::expr(self.prog, e)
                                ),
                            });
                        }
                        x.checked_div(y)
                    }
                };
                r.map(|d| Some(Value::Num(d))).ok_or_else(overflow)
            }
            ExprKind::Cmp(op, a, b) => self.cmp(*op, a, b),
            ExprKind::In(x, set) => Ok(self.eval(x)?.map(|v| {
                Value::Bool(set.iter().any(|c| match (c, &v) {
                    (Const::Enum(_, a), Value::Enum(b)) => a == b,
                    (Const::Num(a), Value::Num(b)) => a == b,
                    (Const::Date(a), Value::Date(b)) => a == b,
                    (Const::Bool(a), Value::Bool(b)) => a == b,
                    _ => false,
                }))
            })),
            ExprKind::Call(f, args) => self.call(*f, args),
            ExprKind::Increase(s) => {
                let now = self.series_at(*s, self.period, e.ty)?;
                let before = self.series_at(*s, self.period.saturating_sub(1), e.ty)?;
                match (now, before) {
                    (Some(Value::Num(a)), Some(Value::Num(b))) => {
                        a.checked_sub(b).map(|d| Some(Value::Num(d))).ok_or_else(overflow)
                    }
                    _ => Ok(None),
                }
            }
            ExprKind::MaxBefore(s) => {
                let m = self.series(*s).and_then(|x| x.before(self.period).map(|(_, v)| *v).max());
                match m {
                    Some(d) => Ok(Some(Value::Num(d))),
                    None => {
                        self.missing.push(format!(
                            "{}.{}",
                            self.series_path(*s),
                            self.period.saturating_sub(1)
                        ));
                        Ok(None)
                    }
                }
            }
            ExprKind::FirstTime(s, op, rhs) => {
                let Some(Value::Num(now)) = self.series_at(*s, self.period, Type::Num(Num::Money))? else {
                    return Ok(None);
                };
                let Some(Value::Num(th)) = self.eval(rhs)? else { return Ok(None) };
                if !cmp_num(*op, now, th) {
                    return Ok(Some(Value::Bool(false)));
                }
                let before =
                    self.series(*s).is_some_and(|x| x.before(self.period).any(|(_, v)| cmp_num(*op, *v, th)));
                Ok(Some(Value::Bool(!before)))
            }
            ExprKind::Agg(op, sel, body) => self.agg(*op, sel, body.as_deref()),
            ExprKind::If(c, a, b) => match self.eval(c)? {
                Some(Value::Bool(true)) => self.eval(a),
                Some(Value::Bool(false)) => self.eval(b),
                _ => Ok(None),
            },
        }
    }

    /// A comparison, out of line so that `eval`'s frame stays small on deep rules.
    #[inline(never)]
    fn cmp(&mut self, op: CmpOp, a: &Expr, b: &Expr) -> V {
        let x = self.eval(a)?;
        let y = self.eval(b)?;
        Ok(match (x, y) {
            (Some(x), Some(y)) => {
                time::order_never(op, &x, &y)?;
                Some(Value::Bool(cmp_values(op, &x, &y)))
            }
            _ => None,
        })
    }

    fn call(&mut self, f: Builtin, args: &[Expr]) -> V {
        match f {
            Builtin::Dated => Ok(Some(Value::Date(self.date))),
            Builtin::Min | Builtin::Max => {
                let mut best: Option<Value> = None;
                let mut unknown = false;
                for a in args {
                    match self.eval(a)? {
                        Some(v) => {
                            time::value_day(&v, if f == Builtin::Min { "min" } else { "max" })?;
                            best = Some(match best {
                                None => v,
                                Some(b) => {
                                    let take_new = if f == Builtin::Min {
                                        cmp_values(CmpOp::Lt, &v, &b)
                                    } else {
                                        cmp_values(CmpOp::Gt, &v, &b)
                                    };
                                    if take_new { v } else { b }
                                }
                            })
                        }
                        None => unknown = true,
                    }
                }
                Ok(if unknown { None } else { best })
            }
            Builtin::Abs => Ok(match args.first().map(|a| self.eval(a)).transpose()?.flatten() {
                Some(Value::Num(d)) => Some(Value::Num(d.abs())),
                _ => None,
            }),
            Builtin::Year => Ok(match args.first().map(|a| self.eval(a)).transpose()?.flatten() {
                Some(Value::Date(d)) => Some(Value::Num(time::year(d).map_err(time::fail)?)),
                _ => None,
            }),
            Builtin::Within => {
                let mut ds = Vec::with_capacity(3);
                for a in args {
                    match self.eval(a)? {
                        Some(Value::Date(d)) => ds.push(time::day_of(d, "within").map_err(time::fail)?),
                        _ => return Ok(None),
                    }
                }
                Ok(match ds.as_slice() {
                    [d, s, e] => Some(Value::Bool(s <= d && d <= e)),
                    _ => None,
                })
            }
            Builtin::Month
            | Builtin::Day
            | Builtin::AddMonths
            | Builtin::AddDays
            | Builtin::MonthsBetween
            | Builtin::DaysBetween
            | Builtin::PeriodStart
            | Builtin::PeriodEnd
            | Builtin::MonthAt
            | Builtin::MonthTotal
            | Builtin::MonthCount => self.time_call(f, args),
        }
    }

    fn agg(&mut self, op: AggOp, sel: &Selection, body: Option<&Expr>) -> V {
        let Some(FactValue::List(items)) = self.facts.get(sel.list) else {
            self.missing
                .push(self.prog.facts.get(sel.list as usize).map_or_else(String::new, |d| d.name.clone()));
            return Ok(None);
        };
        let saved = self.item;
        let result = self.agg_items(op, sel, body, items);
        self.item = saved;
        result
    }

    /// The items a selection keeps, in order, and whether some `where` could not be decided.
    fn select(&mut self, sel: &Selection, items: &'p [Item]) -> Result<(Vec<usize>, bool), Fail> {
        let mut chosen: Vec<usize> = (0..items.len()).collect();
        let mut undecided = false;
        for sop in &sel.ops {
            match sop {
                SelOp::Where(cond) => {
                    let mut kept = Vec::with_capacity(chosen.len());
                    for i in chosen {
                        let Some(it) = items.get(i) else { continue };
                        self.item = Some((sel.list, i, it));
                        match self.eval(cond)? {
                            Some(Value::Bool(true)) => kept.push(i),
                            Some(_) => {}
                            None => undecided = true,
                        }
                    }
                    chosen = kept;
                }
                SelOp::First { n, by, descending } => match by {
                    None => chosen.truncate(*n as usize),
                    Some(key) => {
                        let mut keyed = Vec::with_capacity(chosen.len());
                        // the order is not a reason: the keys read to sort are not shown (the
                        // chosen items' values are, where the clause reads them)
                        let mark = self.reads.len();
                        for i in chosen {
                            let Some(it) = items.get(i) else { continue };
                            self.item = Some((sel.list, i, it));
                            // an item without its key is left out, and the selection undecided
                            match self.eval(key)? {
                                Some(v) => {
                                    time::value_day(&v, "first … by")?;
                                    keyed.push((sort_key(&v), i))
                                }
                                None => undecided = true,
                            }
                        }
                        self.reads.truncate(mark);
                        chosen = first_n(keyed, *n, *descending);
                    }
                },
            }
        }
        Ok((chosen, undecided))
    }

    fn agg_items(&mut self, op: AggOp, sel: &Selection, body: Option<&Expr>, items: &'p [Item]) -> V {
        let mut acc =
            Acc { sum: Decimal::ZERO, count: 0, any: false, all: true, unknown_body: false, best: None };
        let undecided = if sel.ops.iter().all(|o| matches!(o, SelOp::Where(_))) {
            // the common case, without an index list: filter and fold in one pass
            let mut undecided = false;
            'items: for (i, it) in items.iter().enumerate() {
                self.item = Some((sel.list, i, it));
                for o in &sel.ops {
                    if let SelOp::Where(w) = o {
                        match self.eval(w)? {
                            Some(Value::Bool(true)) => {}
                            Some(_) => continue 'items,
                            None => {
                                undecided = true;
                                continue 'items;
                            }
                        }
                    }
                }
                self.fold(&mut acc, op, body)?;
            }
            undecided
        } else {
            let (chosen, undecided) = self.select(sel, items)?;
            for i in chosen {
                let Some(it) = items.get(i) else { continue };
                self.item = Some((sel.list, i, it));
                self.fold(&mut acc, op, body)?;
            }
            undecided
        };
        let Acc { sum, count, any, all, unknown_body, best } = acc;
        if self.explain
            && let Some((v, i)) = best
            && matches!(op, AggOp::Max | AggOp::Min)
        {
            // "任意一笔 / 其中一项": the item the rules chose, shown with its value
            let list = self.prog.facts.get(sel.list as usize).map_or("", |d| d.name.as_str());
            let what = if op == AggOp::Max { "largest" } else { "smallest" };
            let ty = body.map_or(Type::MONEY, |b| b.ty);
            self.reads.push((
                format!("{list}[{i}]"),
                format!("{what}: {}", show_value(self.prog, &Value::Num(v), ty)),
            ));
        }
        Ok(match op {
            AggOp::Max | AggOp::Min if !undecided && !unknown_body => {
                Some(Value::Num(best.map_or(Decimal::ZERO, |(v, _)| v)))
            }
            AggOp::Sum if !undecided && !unknown_body => Some(Value::Num(sum)),
            AggOp::Count if !undecided => Some(Value::Num(Decimal::from(count))),
            AggOp::Any if any => Some(Value::Bool(true)),
            AggOp::Any if !undecided && !unknown_body => Some(Value::Bool(false)),
            AggOp::All if !all => Some(Value::Bool(false)),
            AggOp::All if !undecided && !unknown_body => Some(Value::Bool(true)),
            _ => None,
        })
    }
}

/// What an aggregation has gathered so far.
struct Acc {
    sum: Decimal,
    count: u64,
    any: bool,
    all: bool,
    unknown_body: bool,
    /// `max` / `min`: the best value so far and the item it came from.
    best: Option<(Decimal, usize)>,
}

impl<'p> Evaluator<'p> {
    /// Adds the current item to an aggregation.
    fn fold(&mut self, acc: &mut Acc, op: AggOp, body: Option<&Expr>) -> Result<(), Fail> {
        acc.count += 1;
        match (op, body) {
            (AggOp::Count, _) => {}
            (AggOp::Max | AggOp::Min, Some(b)) => match self.eval(b)? {
                Some(Value::Num(d)) => {
                    let i = self.item.map_or(0, |(_, i, _)| i);
                    let better = acc.best.is_none_or(|(x, _)| if op == AggOp::Max { d > x } else { d < x });
                    if better {
                        acc.best = Some((d, i));
                    }
                }
                _ => acc.unknown_body = true,
            },
            (_, None) => acc.any = true,
            (_, Some(b)) => match self.eval(b)? {
                Some(Value::Num(d)) => acc.sum = acc.sum.checked_add(d).ok_or_else(overflow)?,
                Some(Value::Bool(true)) => acc.any = true,
                Some(Value::Bool(false)) => acc.all = false,
                _ => acc.unknown_body = true,
            },
        }
        Ok(())
    }
}

/// `first N by KEY [descending]`: the items ordered by their keys (ties by position, the
/// earlier first, in either direction), the first `n` of them.
pub(super) fn first_n(mut keyed: Vec<((i64, Decimal), usize)>, n: u32, descending: bool) -> Vec<usize> {
    if descending {
        keyed.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    } else {
        keyed.sort();
    }
    keyed.into_iter().take(n as usize).map(|(_, i)| i).collect()
}

pub(super) fn sort_key(v: &Value) -> (i64, Decimal) {
    match v {
        Value::Date(d) => {
            (i64::from(d.year) * 10_000 + i64::from(d.month) * 100 + i64::from(d.day), Decimal::ZERO)
        }
        Value::Num(d) => (0, *d),
        _ => (0, Decimal::ZERO),
    }
}

/// The credits (`amount credit … carry N years`) still live in `period`, oldest first: the
/// latest balance of each earlier credit in a clause's history, with its expiry (the entry's,
/// else its origin + `years`). A credit used up is left out; one expired before `period` is
/// left out and given to `expired` (origin, balance, expiry). Shared by both evaluators.
pub(crate) fn live_credits<'e>(
    history: impl Iterator<Item = &'e LedgerEntry>,
    period: i32,
    years: u32,
    mut expired: impl FnMut(i32, Decimal, i32),
) -> smallvec::SmallVec<[(i32, Decimal, i32); 4]> {
    // (origin, period of entry, balance, expires)
    let mut latest: smallvec::SmallVec<[(i32, i32, Decimal, i32); 4]> = smallvec::SmallVec::new();
    for e in history.filter(|e| e.period < period) {
        let Some(origin) = e.key.as_deref().and_then(|k| k.parse::<i32>().ok()) else { continue };
        let bal = e.balance.unwrap_or(Decimal::ZERO);
        let exp = e.expires.unwrap_or(origin.saturating_add(i32::try_from(years).unwrap_or(0)));
        match latest.iter_mut().find(|x| x.0 == origin) {
            Some(x) if e.period > x.1 => *x = (origin, e.period, bal, exp),
            Some(_) => {}
            None => latest.push((origin, e.period, bal, exp)),
        }
    }
    latest.sort_by_key(|p| p.0);
    let mut live = smallvec::SmallVec::new();
    for (origin, _, bal, exp) in latest {
        if bal <= Decimal::ZERO {
            continue;
        }
        if exp < period {
            expired(origin, bal, exp);
            continue;
        }
        live.push((origin, bal, exp));
    }
    live
}

/// Uses the live credits (origin, balance, expiry) against a capacity, oldest first, giving
/// `used` (origin, amount used, balance left, expiry) for each, in order; the total used, or
/// `None` on an overflow. Shared by both evaluators.
pub(crate) fn use_credits(
    live: &[(i32, Decimal, i32)],
    cap: Decimal,
    mut used: impl FnMut(i32, Decimal, Decimal, i32),
) -> Option<Decimal> {
    let mut room = cap.max(Decimal::ZERO);
    let mut total = Decimal::ZERO;
    for &(origin, bal, exp) in live {
        let take = bal.min(room);
        room = room.checked_sub(take)?;
        total = total.checked_add(take)?;
        let balance = bal.checked_sub(take)?;
        used(origin, take, balance, exp);
    }
    Some(total)
}

/// A ledger entry of a clause: cash for a `benefit`, marked with its kind otherwise.
pub(crate) fn entry(
    c: &ClauseDef,
    key: Option<std::sync::Arc<str>>,
    period: i32,
    amount: Decimal,
) -> LedgerEntry {
    let kind = c.kind;
    LedgerEntry {
        policy: c.ledger_names.0.clone(),
        clause: c.ledger_names.1.clone(),
        key,
        period,
        amount,
        balance: None,
        expires: None,
        kind: (kind != crate::syntax::ast::ClauseKind::Benefit).then_some(kind),
    }
}

/// Whether a clause reads its own ledger history (once, at most N years, yearly or lifetime
/// caps): then even a clause that is not cash records what it gave.
pub(crate) fn needs_history(c: &ClauseDef) -> bool {
    c.once.is_some() || c.at_most.is_some() || c.caps.iter().any(|k| k.scope != CapScope::PerGrant)
}

#[inline]
pub(crate) fn cmp_num(op: CmpOp, a: Decimal, b: Decimal) -> bool {
    match op {
        CmpOp::Ge => a >= b,
        CmpOp::Gt => a > b,
        CmpOp::Le => a <= b,
        CmpOp::Lt => a < b,
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
    }
}

fn cmp_values(op: CmpOp, a: &Value, b: &Value) -> bool {
    let ord = match (a, b) {
        (Value::Num(x), Value::Num(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::Enum(x), Value::Enum(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Text(x), Value::Text(y)) => x.cmp(y),
        _ => return op == CmpOp::Ne,
    };
    ord_holds(op, ord)
}

/// Whether an ordering satisfies a comparison.
#[inline(always)]
pub(crate) fn ord_holds(op: CmpOp, ord: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        CmpOp::Ge => ord != Less,
        CmpOp::Gt => ord == Greater,
        CmpOp::Le => ord != Greater,
        CmpOp::Lt => ord == Less,
        CmpOp::Eq => ord == Equal,
        CmpOp::Ne => ord != Equal,
    }
}

/// Rounds an amount as the document says: to the fen (default), whole yuan or whole 万, half
/// away from zero (四舍五入); `none` keeps it exact.
#[inline]
pub fn round(d: Decimal, mode: Rounding) -> Decimal {
    let s = RoundingStrategy::MidpointAwayFromZero;
    match mode {
        Rounding::Fen => d.round_dp_with_strategy(2, s),
        Rounding::Yuan => d.round_dp_with_strategy(0, s),
        Rounding::Wan => {
            d.checked_div(WAN).map_or(d, |w| w.round_dp_with_strategy(0, s).checked_mul(WAN).unwrap_or(d))
        }
        Rounding::None => d,
    }
}

fn enum_name(prog: &Program, ty: Type, v: u32) -> String {
    match ty {
        Type::Enum(e) => {
            prog.enums.get(e as usize).and_then(|e| e.variants.get(v as usize)).cloned().unwrap_or_default()
        }
        _ => v.to_string(),
    }
}

/// A value for people, by its type: `1.2亿`, `15%`, `省级`.
pub fn show_value(prog: &Program, v: &Value, ty: Type) -> String {
    match v {
        Value::Num(d) => match ty {
            Type::Num(Num::Money) | Type::Series(Num::Money) => crate::value::fmt_money(*d),
            Type::Num(Num::Rate) | Type::Series(Num::Rate) => crate::value::fmt_rate(*d),
            _ => d.normalize().to_string(),
        },
        Value::Bool(b) => b.to_string(),
        Value::Date(d) => d.to_string(),
        Value::Enum(x) => enum_name(prog, ty, *x),
        Value::Text(t) => t.to_string(),
    }
}
