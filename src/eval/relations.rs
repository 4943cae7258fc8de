//! Relations between clauses that read history or later documents: `granted(DOC.c[, N])`,
//! `once in "组"` (one clause of a group, ever, across documents and years), and the version
//! of an amended clause that applied (language.md §4 Amendments, §8 Stacking).
//!
//! Ledger keys: these relations write nothing new. `granted(…)` and `once in` read the
//! entries every clause already writes, under its own ledger names (`policy`, `clause`), so
//! renaming a group never orphans history, and an amended clause keeps the names of the clause
//! it amends (its limits count grants under every version).

use super::{ClauseResult, LedgerEntry, Status, Step};
use crate::ir::{ClauseDef, Program};
use crate::syntax::ast::ChangeKind;
use crate::value::Date;
use rust_decimal::Decimal;
use serde::Serialize;

/// The version of a changed clause that applied to a period: the document whose words
/// applied and the change (`original`, `amends`, `extends`, `repeals`) with its date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "serve", derive(utoipa::ToSchema))]
pub struct Version {
    /// The key of the document whose words applied (`E23`, or the amending `E24`).
    pub document: String,
    /// `original`, `amends`, `extends` or `repeals`.
    pub change: &'static str,
    /// The date of the change (`from` of `amends`/`repeals`, `to` of `extends`); none for
    /// `original`.
    #[cfg_attr(feature = "serve", schema(value_type = Option<String>))]
    pub date: Option<Date>,
    /// The clause, `E23.5`.
    pub clause: String,
}

/// The latest year before `period` (within the `n` years before it, when given) in which the
/// ledger holds an entry of the clause `policy.clause`.
pub fn granted_in(
    ledger: &[LedgerEntry],
    policy: &str,
    clause: &str,
    period: i32,
    n: Option<u32>,
) -> Option<i32> {
    let lo = n.map(|n| period.saturating_sub(i32::try_from(n).unwrap_or(i32::MAX)));
    ledger
        .iter()
        .filter(|e| {
            &*e.policy == policy
                && &*e.clause == clause
                && e.period < period
                && lo.is_none_or(|lo| e.period >= lo)
        })
        .map(|e| e.period)
        .max()
}

/// Which version of a clause applied to a period, for clauses that later documents changed.
pub fn version_of(prog: &Program, c: &ClauseDef, status: Status, period: i32) -> Option<Version> {
    let p = prog.policy_of(c)?;
    if c.versions.is_empty() && c.changes.is_empty() && p.changes.is_empty() {
        return None;
    }
    let clause = prog.clause_ref_of(c);
    let (start, end) = (Date::year_start(period), Date::year_end(period));
    if let Some(v) = c.versions.iter().rev().find(|v| v.change.date <= end) {
        return Some(Version {
            document: v.change.by.clone(),
            change: "amends",
            date: Some(v.change.date),
            clause,
        });
    }
    let changes = || c.changes.iter().chain(p.changes.iter());
    if status == Status::NotInForce
        && let Some(r) = changes().find(|r| r.what == ChangeKind::Repeals && r.date <= start)
    {
        return Some(Version { document: r.by.clone(), change: "repeals", date: Some(r.date), clause });
    }
    if status != Status::NotInForce
        && let Some(x) =
            p.changes.iter().find(|r| r.what == ChangeKind::Extends && r.before.is_some_and(|b| b < start))
    {
        return Some(Version { document: x.by.clone(), change: "extends", date: Some(x.date), clause });
    }
    Some(Version { document: p.key.clone(), change: "original", date: None, clause })
}

/// Sets the version of a changed clause on its result, with a step saying it (first in the
/// explanation, and a reason when a repeal ended the clause).
pub fn versioned(prog: &Program, mut r: ClauseResult, period: i32, explain: bool) -> ClauseResult {
    let Some(c) = prog.clause(r.clause) else { return r };
    let Some(v) = version_of(prog, c, r.status, period) else { return r };
    let step = Step::Version {
        document: v.document.clone(),
        change: v.change,
        date: v.date,
        clause: v.clause.clone(),
    };
    if v.change == "repeals" {
        r.reasons.insert(0, step.clone());
    }
    if explain {
        r.steps.insert(0, step);
    }
    r.version = Some(v);
    r
}

/// `once in "组"` over history: a granted (or discretionary) clause whose group has another
/// clause in the ledger is `exhausted`, naming the clause received and the year.
pub fn once_in_history(prog: &Program, ledger: &super::Ledger, results: &mut [ClauseResult], explain: bool) {
    if ledger.entries.is_empty() {
        return;
    }
    for r in results.iter_mut() {
        if !matches!(r.status, Status::Granted | Status::Discretionary) {
            continue;
        }
        let Some(c) = prog.clause(r.clause) else { continue };
        let Some(g) = c.once_in.as_deref() else { continue };
        let other = ledger
            .entries
            .iter()
            .filter(|e| !(*e.policy == *c.ledger_names.0 && *e.clause == *c.ledger_names.1))
            .filter(|e| {
                prog.find_clause(&e.policy, &e.clause)
                    .and_then(|m| prog.clause(m))
                    .is_some_and(|m| m.once_in.as_deref() == Some(g))
            })
            .min_by_key(|e| e.period);
        let Some(e) = other else { continue };
        let step = Step::OnceIn {
            group: g.to_string(),
            winner: format!("{}.{}", e.policy, e.clause),
            period: Some(e.period),
        };
        r.status = Status::Exhausted;
        r.amount = None;
        r.entries.clear();
        if explain {
            r.steps.push(step.clone());
        }
        r.reasons = vec![step];
    }
}

/// `once in "组"` within a period: of the group's clauses granted an amount, the largest pays
/// (the first declared on a tie); the others lose, naming it. Returns `(result index, step)`.
pub fn once_in_period(prog: &Program, results: &[ClauseResult]) -> Vec<(usize, Step)> {
    let paid = |r: &ClauseResult| r.status == Status::Granted && r.amount.is_some_and(|a| a > Decimal::ZERO);
    let mut groups: Vec<&str> = prog.clauses.iter().filter_map(|c| c.once_in.as_deref()).collect();
    groups.sort_unstable();
    groups.dedup();
    let mut drop = Vec::new();
    for g in groups {
        let members: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| paid(r) && prog.clause(r.clause).and_then(|c| c.once_in.as_deref()) == Some(g))
            .map(|(i, _)| i)
            .collect();
        let amount = |k: usize| results.get(k).and_then(|r| r.amount).unwrap_or(Decimal::ZERO);
        let Some(w) =
            members.iter().copied().reduce(|best, i| if amount(i) > amount(best) { i } else { best })
        else {
            continue;
        };
        let winner = results.get(w).map(|r| prog.clause_ref(r.clause)).unwrap_or_default();
        for i in members.into_iter().filter(|i| *i != w) {
            drop.push((i, Step::OnceIn { group: g.to_string(), winner: winner.clone(), period: None }));
        }
    }
    drop
}
