//! Lints: rule files that compile but probably do not say what the text says. Each lint is a
//! warning with its own code (W01xx), a located message and a help line; `huiqi check
//! --deny warnings` makes them fail.
//!
//! Invariant: lints only read the program and never report an error.

use crate::diag::{Code, Diagnostic};
use crate::ir::lower::visit;
use crate::ir::*;
use crate::syntax::ast::{CapScope, ClauseKind, CmpOp};
use crate::value::fmt_money;
use rust_decimal::Decimal;
use std::collections::HashSet;

pub fn run(prog: &Program, out: &mut Vec<Diagnostic>) {
    for c in &prog.clauses {
        tiers(prog, c, out);
        brackets(c, out);
        caps(c, out);
        window(prog, c, out);
        documentation(prog, c, out);
    }
    parameters(prog, out);
    table_brackets(prog, out);
    unused(prog, out);
}

/// A bracket table's versions should end with `above`, as a clause's brackets.
fn table_brackets(prog: &Program, out: &mut Vec<Diagnostic>) {
    for t in &prog.tables {
        for v in &t.versions {
            if let Some(last) = v.brackets.last()
                && last.upper.is_some()
            {
                out.push(
                    Diagnostic::new(
                        Code::BracketsGap,
                        format!("the brackets of the table `{}` end with a bound: the part above it gets nothing", t.name),
                    )
                    .at(last.span, "last bracket")
                    .help("add `above => RATE` for the rest, or `above => 0%` if the text really pays nothing above"),
                );
            }
        }
    }
}

fn constant(e: &Expr) -> Option<Decimal> {
    match &e.kind {
        ExprKind::Const(Const::Num(d)) => Some(*d),
        _ => None,
    }
}

fn cref(prog: &Program, c: &ClauseDef) -> String {
    format!("{}.{}", prog.policy_of(c).map_or("?", |p| p.key.as_str()), c.id)
}

/// Tiers must rise: for `达到`/`超过` tiers each threshold above the last; no threshold twice;
/// under `pay highest`, a higher tier paying less than a lower one is never the highest paid.
fn tiers(prog: &Program, c: &ClauseDef, out: &mut Vec<Diagnostic>) {
    let Amount::Tiers { tiers, pay, .. } = &c.amount else { return };
    let mut prev: Option<(Decimal, Option<Decimal>, &TierDef)> = None;
    for t in tiers {
        let (Some(th), amount) = (constant(&t.threshold), constant(&t.amount)) else { continue };
        if let Some((pth, pamount, pt)) = prev {
            let rising = matches!(t.op, CmpOp::Ge | CmpOp::Gt);
            // equal thresholds are an error (E0309, check::bounds), not linted here
            if rising && th < pth {
                out.push(
                    Diagnostic::new(
                        Code::TiersOutOfOrder,
                        format!("`{}`: tier {} comes after the higher tier {}", cref(prog, c), t.key, pt.key),
                    )
                    .at(t.span, "out of order")
                    .help("list tiers from the lowest threshold to the highest, as the text does"),
                );
            } else if rising
                && th != pth
                && *pay == crate::syntax::ast::PayRule::Highest
                && let (Some(a), Some(pa)) = (amount, pamount)
                && a < pa
            {
                out.push(
                            Diagnostic::new(
                                Code::TiersOutOfOrder,
                                format!("`{}`: tier {} pays {}, less than the lower tier {} ({}), so it is never the highest", cref(prog, c), t.key, fmt_money(a), pt.key, fmt_money(pa)),
                            )
                            .at(t.span, "unreachable under `pay highest`")
                            .help("check the amounts against the text, or use `pay each`"),
                        );
            }
        }
        prev = Some((th, amount, t));
    }
}

/// The last bracket should be `above` (or the rest is unpaid). Bounds that do not rise are an
/// error (E0309, `check::bounds`).
fn brackets(c: &ClauseDef, out: &mut Vec<Diagnostic>) {
    let Amount::Brackets { brackets, .. } = &c.amount else { return };
    if let Some(last) = brackets.last()
        && last.upper.is_some()
    {
        out.push(
            Diagnostic::new(
                Code::BracketsGap,
                "the brackets end with a bound: the part above it gets nothing",
            )
            .at(last.span, "last bracket")
            .help("add `above => RATE` for the rest, or `above => 0%` if the text really pays nothing above"),
        );
    }
}

/// The largest amount a clause can give, when it is known at compile time.
fn max_constant_amount(a: &Amount) -> Option<Decimal> {
    match a {
        Amount::Expr(e) => constant(e),
        Amount::Tiers { tiers, .. } => {
            tiers.iter().map(|t| constant(&t.amount)).collect::<Option<Vec<_>>>()?.into_iter().max()
        }
        Amount::Category { arms, .. } => {
            arms.iter().map(|t| constant(&t.amount)).collect::<Option<Vec<_>>>()?.into_iter().max()
        }
        _ => None,
    }
}

fn caps(c: &ClauseDef, out: &mut Vec<Diagnostic>) {
    let floor = c.floor.as_ref().and_then(constant);
    for cap in &c.caps {
        let Some(v) = constant(&cap.expr) else { continue };
        if let Some(f) = floor
            && f > v
        {
            out.push(
                Diagnostic::new(
                    Code::CapNeverBinds,
                    format!("the floor {} is above the cap {}", fmt_money(f), fmt_money(v)),
                )
                .at(cap.span, "this cap")
                .help("check both figures against the text"),
            );
        }
        if cap.scope != CapScope::PerGrant {
            continue;
        }
        if let Some(max) = max_constant_amount(&c.amount) {
            if v < max && matches!(c.amount, Amount::Expr(_)) {
                out.push(
                    Diagnostic::new(
                        Code::CapNeverBinds,
                        format!(
                            "the cap {} is below the fixed amount {} it limits",
                            fmt_money(v),
                            fmt_money(max)
                        ),
                    )
                    .at(cap.span, "always binds")
                    .help("write the amount the text gives, or drop the cap"),
                );
            } else if v >= max {
                out.push(
                    Diagnostic::new(
                        Code::CapNeverBinds,
                        format!(
                            "the cap {} can never bind: the amount is at most {}",
                            fmt_money(v),
                            fmt_money(max)
                        ),
                    )
                    .at(cap.span, "never binds")
                    .help("remove the cap, or check the amounts against the text"),
                );
            }
        }
    }
}

fn window(prog: &Program, c: &ClauseDef, out: &mut Vec<Diagnostic>) {
    let (Some(w), Some(doc)) = (&c.window, prog.policy_of(c).and_then(|p| p.in_force.as_ref())) else {
        return;
    };
    // A window on an event date may begin before the document (it covers loans or
    // recognitions since a date the text names, 自2023年1月1日起); a window on the period is
    // tested by year, like the document's own, so only an earlier year reaches outside.
    let starts_before = match (w.start, doc.start, &c.window_on) {
        (_, _, Some(_)) => false,
        (Some(a), Some(b), None) => a.year < b.year,
        _ => false,
    };
    let ends_after =
        matches!((w.end, doc.end), (Some(a), Some(b)) if a > b) || (w.end.is_none() && doc.end.is_some());
    if starts_before || ends_after {
        out.push(
            Diagnostic::new(Code::WindowOutsideDocument, format!("the window of `{}` reaches outside the document's period in force", cref(prog, c)))
                .at(w.span, "this window")
                .also(doc.span, "the document's period")
                .help("a clause cannot apply outside its document: narrow the window or correct the document's `in force`"),
        );
    }
}

fn documentation(prog: &Program, c: &ClauseDef, out: &mut Vec<Diagnostic>) {
    if !c.kind.evaluated() {
        return;
    }
    if c.quotes.is_empty() {
        out.push(
            Diagnostic::new(Code::NoQuote, format!("`{}` quotes no sentence of its source", cref(prog, c)))
                .at(c.span, "no `quote`")
                .help("add `quote \"…\"` with the sentence this clause encodes, copied from the source text"),
        );
    }
    // documents whose text names no 责任单位 at all (T13) are not asked for one per clause
    let doc_names_any = prog.policy_of(c).is_some_and(|p| {
        p.clauses.iter().filter_map(|id| prog.clause(*id)).any(|x| !x.responsible.is_empty())
    });
    if c.responsible.is_empty() && doc_names_any && c.kind == ClauseKind::Benefit {
        out.push(
            Diagnostic::new(
                Code::NoResponsible,
                format!("`{}` names no responsible department", cref(prog, c)),
            )
            .at(c.span, "no `responsible`")
            .help("add `responsible 省工业和信息化厅, …` as the article's 责任单位 says"),
        );
    }
}

fn parameters(prog: &Program, out: &mut Vec<Diagnostic>) {
    for p in &prog.params {
        for pair in p.versions.windows(2) {
            if let [a, b] = pair
                && a.from == b.from
            {
                out.push(
                    Diagnostic::new(
                        Code::ParameterVersions,
                        format!("two versions of `{}` take effect on {}", p.name, a.from),
                    )
                    .at(b.span, "this version")
                    .also(a.span, "and this one")
                    .help("each version needs its own effective date; remove or redate one"),
                );
            }
        }
    }
}

/// Facts, definitions and parameters no clause, definition or document condition reads.
fn unused(prog: &Program, out: &mut Vec<Diagnostic>) {
    let mut facts: HashSet<FactId> = HashSet::new();
    let mut defs: HashSet<DefId> = HashSet::new();
    let mut params: HashSet<ParamId> = HashSet::new();
    let mut tables: HashSet<TableId> = HashSet::new();
    let mut see = |e: &Expr| {
        visit(e, &mut |x| match &x.kind {
            ExprKind::Fact(f)
            | ExprKind::SeriesAt(SeriesRef::Fact(f), _)
            | ExprKind::Increase(SeriesRef::Fact(f))
            | ExprKind::MaxBefore(SeriesRef::Fact(f))
            | ExprKind::FirstTime(SeriesRef::Fact(f), _, _) => {
                facts.insert(*f);
            }
            ExprKind::Agg(_, sel, _) => {
                facts.insert(sel.list);
            }
            ExprKind::Def(d) => {
                defs.insert(*d);
            }
            ExprKind::Param(p) => {
                params.insert(*p);
            }
            ExprKind::Table(t) => {
                tables.insert(t.table);
            }
            _ => {}
        });
    };
    // a table's rows read parameters
    for t in &prog.tables {
        for v in &t.versions {
            for r in &v.tiers {
                see(&r.threshold);
                see(&r.amount);
            }
            for b in &v.brackets {
                if let Some(u) = &b.upper {
                    see(u);
                }
                see(&b.rate);
            }
        }
    }
    for d in &prog.defs {
        see(&d.expr);
    }
    for p in &prog.policies {
        if let Some(a) = &p.applies {
            see(&a.expr);
        }
    }
    let mut direct: Vec<FactId> = Vec::new();
    for c in &prog.clauses {
        for x in clause_exprs(c) {
            see(x);
        }
        if let Amount::Tiers { first_time: Some(SeriesRef::Fact(f)), .. } = &c.amount {
            direct.push(*f);
        }
        if let Amount::Category { each: Some(sel), .. } = &c.amount {
            direct.push(sel.list);
        }
        // `amount each LIST … key F => …` reads the list itself
        if let Amount::Each { sel, .. } = &c.amount {
            direct.push(sel.list);
        }
    }
    facts.extend(direct);
    for (i, f) in prog.facts.iter().enumerate() {
        if !facts.contains(&(i as FactId)) {
            out.push(
                Diagnostic::new(Code::Unused, format!("fact `{}` is declared but no rule reads it", f.name))
                    .at(f.span, "unused")
                    .help("remove it, or use it in the clause that needs it"),
            );
        }
    }
    for (i, d) in prog.defs.iter().enumerate() {
        if !defs.contains(&(i as DefId)) {
            out.push(
                Diagnostic::new(Code::Unused, format!("definition `{}` is never used", d.name))
                    .at(d.span, "unused")
                    .help("remove it, or use it in a clause"),
            );
        }
    }
    for (i, t) in prog.tables.iter().enumerate() {
        if !tables.contains(&(i as TableId)) {
            out.push(
                Diagnostic::new(Code::Unused, format!("table `{}` is never read", t.name))
                    .at(t.span, "unused")
                    .help(format!("remove it, or read it in a clause: `{}(…)`", t.name)),
            );
        }
    }
    for (i, p) in prog.params.iter().enumerate() {
        if !params.contains(&(i as ParamId)) {
            out.push(
                Diagnostic::new(Code::Unused, format!("parameter `{}` is never read", p.name))
                    .at(p.span, "unused")
                    .help("remove it, or read it in a clause"),
            );
        }
    }
}

/// The expressions a clause reads: conditions, window and parameter dates, caps, floor, the
/// amount and its parts.
pub fn clause_exprs(c: &ClauseDef) -> Vec<&Expr> {
    let mut v: Vec<&Expr> = c.conditions.iter().map(|x| &x.expr).collect();
    v.extend(c.window_on.iter());
    v.extend(c.dated.iter());
    v.extend(c.caps.iter().map(|x| &x.expr));
    v.extend(c.floor.iter());
    if let Some(a) = &c.at_most {
        v.extend(a.from.iter());
    }
    match &c.amount {
        Amount::Discretionary { base } => v.extend(base.iter()),
        Amount::Expr(e) => v.push(e),
        Amount::Tiers { subject, tiers, .. } => {
            v.push(subject);
            for t in tiers {
                v.push(&t.threshold);
                v.push(&t.amount);
            }
        }
        Amount::Brackets { subject, brackets } => {
            v.push(subject);
            for b in brackets {
                v.extend(b.upper.iter());
                v.push(&b.rate);
            }
        }
        Amount::Category { subject, each, arms } => {
            v.push(subject);
            if let Some(sel) = each {
                v.extend(sel.exprs());
            }
            v.extend(arms.iter().map(|a| &a.amount));
        }
        Amount::Credit { earned, capacity, .. } => {
            v.push(earned);
            v.push(capacity);
        }
        Amount::Each { sel, amount, .. } => {
            v.extend(sel.exprs());
            v.extend(amount.iter());
        }
        Amount::Provides { .. } => {}
    }
    v
}
