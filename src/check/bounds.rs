//! Tier thresholds and bracket bounds must rise, on every day the rule set can be read: with
//! literal bounds once, with parameter bounds for every combination of parameter versions in
//! force (every version is known at compile time). A table whose bounds do not rise would lose
//! or double a slice of the amount, so this is an error (E0309), not a lint.
//!
//! Invariant: a program that passes this check never meets a non-rising bound at run time
//! (the evaluators still fail with E0505 rather than pay wrongly if one slips through).

use crate::diag::{Code, Diagnostic};
use crate::ir::*;
use crate::span::Span;
use crate::syntax::ast::{CmpOp, TableKind};
use crate::value::{Date, fmt_money};
use rust_decimal::Decimal;

pub fn run(prog: &Program, out: &mut Vec<Diagnostic>) {
    for c in &prog.clauses {
        let cref = prog.clause_ref_of(c);
        match &c.amount {
            Amount::Brackets { brackets, .. } => {
                let bounds: Vec<(&Expr, Span)> =
                    brackets.iter().filter_map(|b| b.upper.as_ref().map(|u| (u, b.span))).collect();
                check_rising(prog, &cref, "bracket bound", &bounds, out);
            }
            Amount::Tiers { tiers, .. } => {
                // tiers compared the same way must not share a threshold: one would never pay
                for op in [CmpOp::Ge, CmpOp::Gt, CmpOp::Le, CmpOp::Lt, CmpOp::Eq, CmpOp::Ne] {
                    let same: Vec<(&Expr, Span)> =
                        tiers.iter().filter(|t| t.op == op).map(|t| (&t.threshold, t.span)).collect();
                    check_distinct(prog, &cref, &same, out);
                }
            }
            _ => {}
        }
    }
    for t in &prog.tables {
        tables(prog, t, out);
    }
}

/// A named table: in every version, on every day that version can be read (its first day and
/// each later day a parameter it reads changes), tier thresholds and bracket bounds rise. A tier
/// table is read from its highest row down, so its thresholds must rise, not only differ.
fn tables(prog: &Program, t: &TableDef, out: &mut Vec<Diagnostic>) {
    for (k, v) in t.versions.iter().enumerate() {
        let next = t.versions.get(k + 1).and_then(|n| n.from);
        let (what, bounds): (&str, Vec<(&Expr, Span)>) = match t.kind {
            TableKind::Tiers => ("tier threshold", v.tiers.iter().map(|r| (&r.threshold, r.span)).collect()),
            TableKind::Brackets => (
                "bracket bound",
                v.brackets.iter().filter_map(|b| b.upper.as_ref().map(|u| (u, b.span))).collect(),
            ),
        };
        // the days this version can be read on with other parameter versions
        let mut dates: Vec<Date> = version_dates(prog, &bounds)
            .into_iter()
            .filter(|d| v.from.is_none_or(|f| *d >= f) && next.is_none_or(|n| *d < n))
            .collect();
        // and on a day of its own: its first day, or (as first written) the day before the
        // first later version, or any day when there is none
        let own = match (v.from, next) {
            (Some(f), _) => Some(f),
            (None, Some(n)) => crate::eval::time::add_days(n, Decimal::NEGATIVE_ONE).ok(),
            (None, None) => Some(Date::year_end(2000)),
        };
        dates.extend(own);
        dates.sort();
        dates.dedup();
        let version = match v.from {
            Some(f) => format!("the version from {f} of the table `{}`", t.name),
            None if t.versions.len() > 1 => format!("the table `{}` as first written", t.name),
            None => format!("the table `{}`", t.name),
        };
        rising_on(prog, &version, what, &bounds, &dates, out);
    }
}

/// Bounds rise on each of the given dates (E0309, naming `whose` bounds and the date when a
/// parameter version makes the difference).
fn rising_on(
    prog: &Program,
    whose: &str,
    what: &str,
    bounds: &[(&Expr, Span)],
    dates: &[Date],
    out: &mut Vec<Diagnostic>,
) {
    let dated = reads_params(bounds);
    for date in dates {
        let mut prev: Option<(Decimal, Span)> = None;
        for (e, span) in bounds {
            let Some(v) = value_on(prog, e, *date) else {
                prev = None;
                continue;
            };
            if let Some((p, pspan)) = prev
                && v <= p
            {
                let overlap = if v == p { "is the same as" } else { "is below" };
                out.push(
                    Diagnostic::new(
                        Code::BoundsNotRising,
                        format!(
                            "{whose}: the {what} {} {overlap} the one before it ({}){}",
                            fmt_money(v),
                            fmt_money(p),
                            on_date(*date, dated)
                        ),
                    )
                    .at(*span, "does not rise")
                    .also(pspan, "the row before")
                    .help("a table's rows rise from the lowest bound to the highest in every version, with every version of the parameters they read; check each row against the text"),
                );
                return;
            }
            prev = Some((v, *span));
        }
    }
}

/// The dates on which the values of these expressions can change: the first day of every
/// version of every parameter they read (one arbitrary date when they read none).
fn version_dates(prog: &Program, exprs: &[(&Expr, Span)]) -> Vec<Date> {
    let mut params = Vec::new();
    for (e, _) in exprs {
        params_of(e, &mut params);
    }
    let mut dates: Vec<Date> = params
        .iter()
        .filter_map(|p| prog.params.get(*p as usize))
        .flat_map(|p| p.versions.iter().map(|v| v.from))
        .collect();
    dates.sort();
    dates.dedup();
    if dates.is_empty() {
        dates.push(Date::year_end(2000));
    }
    dates
}

fn params_of(e: &Expr, out: &mut Vec<ParamId>) {
    match &e.kind {
        ExprKind::Param(p) => out.push(*p),
        ExprKind::Neg(x) => params_of(x, out),
        ExprKind::Arith(_, a, b) => {
            params_of(a, out);
            params_of(b, out);
        }
        ExprKind::Call(_, args) => args.iter().for_each(|a| params_of(a, out)),
        _ => {}
    }
}

/// The value of an expression on a date, when it is made of constants and parameters only
/// (a bound, a threshold): what it is without any facts.
pub(crate) fn value_on(prog: &Program, e: &Expr, date: Date) -> Option<Decimal> {
    match &e.kind {
        ExprKind::Const(Const::Num(d)) => Some(*d),
        ExprKind::Param(p) => prog.params.get(*p as usize)?.value_on(date),
        ExprKind::Neg(x) => value_on(prog, x, date).map(|d| -d),
        ExprKind::Arith(op, a, b) => {
            let (x, y) = (value_on(prog, a, date)?, value_on(prog, b, date)?);
            match op {
                ArithOp::Add => x.checked_add(y),
                ArithOp::Sub => x.checked_sub(y),
                ArithOp::Mul => x.checked_mul(y),
                ArithOp::Div => x.checked_div(y),
            }
        }
        _ => None,
    }
}

fn on_date(date: Date, dated: bool) -> String {
    if dated { format!(" with the parameter versions in force on {date}") } else { String::new() }
}

fn reads_params(exprs: &[(&Expr, Span)]) -> bool {
    let mut p = Vec::new();
    exprs.iter().for_each(|(e, _)| params_of(e, &mut p));
    !p.is_empty()
}

fn check_rising(prog: &Program, cref: &str, what: &str, bounds: &[(&Expr, Span)], out: &mut Vec<Diagnostic>) {
    let dated = reads_params(bounds);
    for date in version_dates(prog, bounds) {
        let mut prev: Option<(Decimal, Span)> = None;
        for (e, span) in bounds {
            let Some(v) = value_on(prog, e, date) else {
                prev = None;
                continue;
            };
            if let Some((p, pspan)) = prev
                && v <= p
            {
                out.push(
                    Diagnostic::new(
                        Code::BoundsNotRising,
                        format!(
                            "`{cref}`: the {what} {} is not above the one before it ({}){}",
                            fmt_money(v),
                            fmt_money(p),
                            on_date(date, dated)
                        ),
                    )
                    .at(*span, "does not rise")
                    .also(pspan, "the bound before")
                    .help("bounds must rise from one bracket to the next; check each against the text (and every version of a parameter bound)"),
                );
                return;
            }
            prev = Some((v, *span));
        }
    }
}

fn check_distinct(prog: &Program, cref: &str, tiers: &[(&Expr, Span)], out: &mut Vec<Diagnostic>) {
    let dated = reads_params(tiers);
    for date in version_dates(prog, tiers) {
        let values: Vec<Option<Decimal>> = tiers.iter().map(|(e, _)| value_on(prog, e, date)).collect();
        for (i, (v, (_, span))) in values.iter().zip(tiers).enumerate() {
            let Some(v) = v else { continue };
            let earlier = values.iter().zip(tiers).take(i).find(|(w, _)| w.as_ref() == Some(v));
            if let Some((_, (_, pspan))) = earlier {
                out.push(
                    Diagnostic::new(
                        Code::BoundsNotRising,
                        format!(
                            "`{cref}`: two tiers have the threshold {}{}, so one of them can never pay",
                            fmt_money(*v),
                            on_date(date, dated)
                        ),
                    )
                    .at(*span, "this tier")
                    .also(*pspan, "has the same threshold as this one")
                    .help("remove one of them, or correct the threshold the text gives"),
                );
                return;
            }
        }
    }
}
