//! What it would take: for a clause that does not pay (or could pay more), the smallest change
//! of one fact that would make it pay more, and what it would then pay. Found by reading the
//! clause's comparisons of a fact with a number (its `when` conditions and its tier
//! thresholds), moving the fact just across each threshold, and evaluating the clause again:
//! an advice is only given when that evaluation confirms it.
//!
//! Invariant: advice never invents semantics — every `amount_after` is what [`evaluate_clause`]
//! returns for the changed facts; facts an enterprise cannot change (an enumeration such as the
//! industry, a date, a text) are reported as such, never advised.

use super::facts::{FactValue, Facts, Series, Value};
use super::{ClauseResult, EvalOptions, Ledger, Status, evaluate_clause};
use crate::ir::*;
use crate::syntax::ast::CmpOp;
use crate::value::Date;
use rust_decimal::Decimal;

/// One piece of advice for one clause.
#[derive(Clone, Debug, PartialEq)]
pub struct Advice {
    /// The fact path to change, e.g. `营业收入.2024`.
    pub fact: String,
    /// Its value now (`None` when the facts do not give it).
    pub now: Option<Decimal>,
    /// The value it would need.
    pub needed: Decimal,
    /// `needed − now` (`None` when `now` is unknown).
    pub gap: Option<Decimal>,
    pub amount_now: Option<Decimal>,
    pub amount_after: Option<Decimal>,
    pub status_after: Status,
    /// The kind of number, for showing it (`money`, `rate` …).
    pub num: Num,
}

/// A condition the enterprise cannot change (its industry, a date already past), reported
/// instead of advised.
#[derive(Clone, Debug, PartialEq)]
pub struct Fixed {
    pub fact: String,
    pub condition: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClauseAdvice {
    pub advice: Vec<Advice>,
    pub fixed: Vec<Fixed>,
}

/// A place where a clause compares a fact with a number.
#[derive(Clone, Copy, Debug)]
struct Probe {
    fact: FactId,
    /// The year of a series, `None` for a scalar fact.
    year: Option<i32>,
    op: CmpOp,
    threshold: Decimal,
    num: Num,
}

/// Advice for one clause's result, under the same facts, ledger and options it was evaluated
/// with. Empty for clauses that pay their most already, or whose numbers do not move.
pub fn advise(
    prog: &Program,
    facts: &Facts,
    ledger: &Ledger,
    opts: EvalOptions,
    r: &ClauseResult,
) -> ClauseAdvice {
    let mut out = ClauseAdvice::default();
    let Some(c) = prog.clause_for(r.clause, opts.period) else { return out };
    if !matches!(r.status, Status::Ineligible | Status::Undetermined | Status::Granted) {
        return out;
    }
    if r.status == Status::Granted && !matches!(c.amount, Amount::Tiers { .. }) {
        return out;
    }
    // a ceiling binds a third party: there is nothing for the enterprise to reach
    if c.kind == crate::syntax::ast::ClauseKind::Ceiling {
        return out;
    }
    let date = Date::year_end(opts.period);
    let mut probes = Vec::new();
    for cond in &c.conditions {
        collect(prog, &cond.expr, opts.period, date, &mut probes, &mut out.fixed, &cond.text);
    }
    if let Amount::Tiers { subject, tiers, .. } = &c.amount
        && let Some((fact, year)) = fact_of(subject, opts.period)
        && let Type::Num(num) | Type::Series(num) = subject.ty
    {
        for t in tiers {
            if let Some(th) = crate::check::bounds::value_on(prog, &t.threshold, date) {
                probes.push(Probe { fact, year, op: t.op, threshold: th, num });
            }
        }
    }
    let now_amount = r.amount;
    let mut best: Vec<Advice> = Vec::new();
    for p in probes {
        let now = current(facts, p);
        let Some(needed) = needed(p, now) else { continue };
        let mut changed = facts.clone();
        set(&mut changed, p, needed);
        let Ok(after) =
            evaluate_clause(prog, r.clause, &changed, ledger, EvalOptions { explain: false, ..opts })
        else {
            continue;
        };
        // it must pay, and pay more than now (a fen of income that pays nothing is no advice);
        // or, for a clause that pays nothing now, make it eligible for a discretionary award
        // (the department decides the amount: `amount_after` is null, the cap says how much)
        let pays_more = after.status == Status::Granted
            && after.amount.unwrap_or_default() > now_amount.unwrap_or_default()
            && after.amount.unwrap_or_default() > Decimal::ZERO;
        let becomes_eligible = after.status == Status::Discretionary
            && matches!(r.status, Status::Ineligible | Status::Undetermined);
        let better = pays_more || becomes_eligible;
        if !better {
            continue;
        }
        let advice = Advice {
            fact: path(prog, p),
            now,
            needed,
            gap: now.and_then(|n| needed.checked_sub(n)),
            amount_now: now_amount,
            amount_after: after.amount,
            status_after: after.status,
            num: p.num,
        };
        // per fact, the smallest change that pays more
        match best.iter_mut().find(|b| b.fact == advice.fact) {
            Some(b) if distance(&advice) < distance(b) => *b = advice,
            Some(_) => {}
            None => best.push(advice),
        }
    }
    out.advice = best;
    out
}

fn distance(a: &Advice) -> Decimal {
    a.gap.map_or(Decimal::MAX, |g| g.abs())
}

/// The comparisons of a fact with a number inside a condition (through `and`, `or`, `not`
/// is left alone: advice for a negated condition would read backwards).
fn collect(
    prog: &Program,
    e: &Expr,
    period: i32,
    date: Date,
    probes: &mut Vec<Probe>,
    fixed: &mut Vec<Fixed>,
    text: &str,
) {
    match &e.kind {
        ExprKind::And(a, b) | ExprKind::Or(a, b) => {
            collect(prog, a, period, date, probes, fixed, text);
            collect(prog, b, period, date, probes, fixed, text);
        }
        ExprKind::Cmp(op, a, b) => {
            let (subject, ty, other, op) = match (fact_of(a, period), fact_of(b, period)) {
                (Some(f), None) => (f, a.ty, b, *op),
                (None, Some(f)) => (f, b.ty, a, flip(*op)),
                _ => return,
            };
            match (ty, crate::check::bounds::value_on(prog, other, date)) {
                (Type::Num(num) | Type::Series(num), Some(th)) => {
                    probes.push(Probe { fact: subject.0, year: subject.1, op, threshold: th, num })
                }
                (Type::Enum(x), _) if prog.enums.get(x as usize).is_some_and(|d| d.ordered) => {}
                (Type::Enum(_) | Type::Date | Type::Text, _) => fixed.push(Fixed {
                    fact: prog.facts.get(subject.0 as usize).map_or_else(String::new, |f| f.name.clone()),
                    condition: text.to_string(),
                }),
                _ => {}
            }
        }
        ExprKind::In(x, _) => {
            if let Some((f, _)) = fact_of(x, period)
                && let Type::Enum(en) = x.ty
                && prog.enums.get(en as usize).is_some_and(|d| !d.ordered)
            {
                fixed.push(Fixed {
                    fact: prog.facts.get(f as usize).map_or_else(String::new, |f| f.name.clone()),
                    condition: text.to_string(),
                });
            }
        }
        _ => {}
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Ge => CmpOp::Le,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Lt => CmpOp::Gt,
        x => x,
    }
}

/// A fact read directly: a scalar, or a series at the period.
fn fact_of(e: &Expr, period: i32) -> Option<(FactId, Option<i32>)> {
    match &e.kind {
        ExprKind::Fact(f) => Some((*f, None)),
        ExprKind::SeriesAt(SeriesRef::Fact(f), y) if matches!(y.kind, ExprKind::Period) => {
            Some((*f, Some(period)))
        }
        _ => None,
    }
}

fn current(facts: &Facts, p: Probe) -> Option<Decimal> {
    match (facts.get(p.fact)?, p.year) {
        (FactValue::Scalar(Value::Num(d)), None) => Some(*d),
        (FactValue::Series(s), Some(y)) => s.at(y),
        _ => None,
    }
}

/// The smallest step of a kind of number: a fen, a hundredth of a per cent point, one.
fn unit(n: Num) -> Decimal {
    match n {
        Num::Money => Decimal::new(1, 2),
        Num::Rate => Decimal::new(1, 4),
        Num::Number | Num::Integer => Decimal::ONE,
    }
}

/// The value just across the threshold, when the fact is not there yet.
fn needed(p: Probe, now: Option<Decimal>) -> Option<Decimal> {
    let v = match p.op {
        CmpOp::Ge | CmpOp::Eq | CmpOp::Le => p.threshold,
        CmpOp::Gt => p.threshold.checked_add(unit(p.num))?,
        CmpOp::Lt => p.threshold.checked_sub(unit(p.num))?,
        CmpOp::Ne => return None,
    };
    match now {
        Some(n) if super::cmp_num(p.op, n, p.threshold) => None,
        _ => Some(v),
    }
}

fn set(facts: &mut Facts, p: Probe, v: Decimal) {
    let Some(slot) = facts.values.get_mut(p.fact as usize) else { return };
    match p.year {
        None => *slot = Some(FactValue::Scalar(Value::Num(v))),
        Some(y) => {
            let mut s = match slot.take() {
                Some(FactValue::Series(s)) => s.0,
                _ => Vec::new(),
            };
            s.retain(|(yy, _)| *yy != y);
            s.push((y, v));
            s.sort_by_key(|(yy, _)| *yy);
            *slot = Some(FactValue::Series(Series(s)));
        }
    }
}

fn path(prog: &Program, p: Probe) -> String {
    let name = prog.facts.get(p.fact as usize).map_or("", |f| f.name.as_str());
    match p.year {
        Some(y) => format!("{name}.{y}"),
        None => name.to_string(),
    }
}
