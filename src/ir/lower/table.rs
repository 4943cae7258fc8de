//! Lowering of named tables: `table NAME "…" tiers|brackets { rows } from DATE "…" { rows }`
//! declared once, read in any expression as `NAME(x)`. Kept apart from `lower.rs` so the
//! grammar's other changes and these do not meet.
//!
//! A table's bounds and values are constants or parameters (arithmetic over them allowed), so
//! that `check::bounds` can hold every version, with every combination of parameter versions,
//! to rising bounds (E0309). A read lowers to nodes both evaluators already have
//! ([`TableRead::lowered`]): for tiers an `if` chain from the highest row down, for brackets a
//! sum of `max(min(x, upper) - lower, 0) × rate`, and for a table with later versions an `if`
//! on the date parameters are read on.

use super::{Lowerer, R, Scope, TOP, ValueName, idx};
use crate::diag::{Code, Diagnostic, did_you_mean};
use crate::ir::*;
use crate::span::Span;
use crate::syntax::ast::{self, CmpOp, TableKind};
use crate::value::fmt_money;

/// Made of constants and parameters only: its value on any date is known when compiling.
fn is_static(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Const(Const::Num(_)) | ExprKind::Param(_) => true,
        ExprKind::Neg(x) => is_static(x),
        ExprKind::Arith(_, a, b) => is_static(a) && is_static(b),
        _ => false,
    }
}

fn mk(kind: ExprKind, ty: Type, span: Span) -> Expr {
    Expr { kind, ty, span }
}

fn zero(ty: Type, span: Span) -> Expr {
    mk(ExprKind::Const(Const::Num(rust_decimal::Decimal::ZERO)), ty, span)
}

impl Lowerer<'_> {
    /// Declares and lowers a table (after the parameters, before any definition reads it).
    pub(super) fn table(&mut self, t: &ast::TableDecl) {
        let mut ok = true;
        let mut subject: Option<Type> = None;
        let mut value: Option<Type> = None;
        let mut versions = Vec::new();
        for v in &t.versions {
            let mut tiers = Vec::new();
            let mut brackets = Vec::new();
            for row in &v.tiers {
                match self.tier_row(row, &mut subject, &mut value) {
                    Ok(x) => tiers.push(x),
                    Err(()) => ok = false,
                }
            }
            let n = v.brackets.len();
            for (i, row) in v.brackets.iter().enumerate() {
                if row.upper.is_none() && i + 1 < n {
                    self.err(
                        Diagnostic::new(
                            Code::ConstructMisuse,
                            format!("`above` is not the last row of the table `{}`", t.name.name),
                        )
                        .at(row.span, "rows after it would never be reached")
                        .help("`above => RATE` takes the rest of the value: write it last"),
                    );
                    ok = false;
                    continue;
                }
                match self.bracket_row(row) {
                    Ok(x) => brackets.push(x),
                    Err(()) => ok = false,
                }
            }
            versions.push(TableVersion {
                from: v.from,
                label: v.label.clone(),
                tiers,
                brackets,
                span: v.span,
            });
        }
        // later versions in date order, each on its own date (as parameter versions)
        let dated: Vec<&TableVersion> = versions.iter().filter(|v| v.from.is_some()).collect();
        if let Some([a, b]) = dated.windows(2).find(|w| matches!(w, [a, b] if b.from <= a.from)) {
            let (af, bf) = (a.from.unwrap_or(Date::NEVER), b.from.unwrap_or(Date::NEVER));
            let message = if af == bf {
                format!("two versions of the table `{}` take effect on {bf}", t.name.name)
            } else {
                format!("the versions of the table `{}` are not listed in date order", t.name.name)
            };
            self.err(
                Diagnostic::new(Code::ConstructMisuse, message)
                    .at(b.span, format!("takes effect {bf}"))
                    .also(a.span, format!("takes effect {af}"))
                    .help("list the later versions from the earliest to the latest, each from its own date"),
            );
            ok = false;
        }
        let (subject, ty) = match t.kind {
            TableKind::Tiers => (subject.unwrap_or(Type::NUMBER), value.unwrap_or(Type::MONEY)),
            TableKind::Brackets => (Type::MONEY, Type::MONEY),
        };
        if !self.declare_value(&t.name) || !ok {
            return;
        }
        let id = idx(self.prog.tables.len());
        self.values.insert(t.name.name.clone(), ValueName::Table(id));
        self.prog.tables.push(TableDef {
            name: t.name.name.clone(),
            label: t.label.clone(),
            kind: t.kind,
            subject,
            ty,
            versions,
            span: t.name.span,
        });
    }

    /// A number of the table: a constant or a parameter (or arithmetic over them).
    fn table_number(&mut self, e: &ast::Expr, expect: Option<Type>, what: &str) -> R<Expr> {
        let x = self.expr(e, TOP, expect)?;
        if !matches!(x.ty, Type::Num(_)) {
            self.expect_type(&x, Type::NUMBER, Code::ExpectedType, &format!("{what} is a number"))?;
        }
        if !is_static(&x) {
            self.err(
                Diagnostic::new(Code::ConstructMisuse, format!("{what} of a table is a constant or a parameter"))
                    .at(e.span, "read from the facts")
                    .help("write the figure the text gives (`500万`, `1.5%`), or a `parameter` when it changes over time; a value computed from the facts belongs in the expression that reads the table"),
            );
            return Err(());
        }
        Ok(x)
    }

    fn tier_row(
        &mut self,
        row: &ast::Tier,
        subject: &mut Option<Type>,
        value: &mut Option<Type>,
    ) -> R<TierDef> {
        if !matches!(row.op, CmpOp::Ge | CmpOp::Gt) {
            self.err(
                Diagnostic::new(Code::ConstructMisuse, "a tier table is read from its lowest row up: each row starts at a threshold")
                    .at(row.span, format!("`{}` ends at its threshold", row.op.word_zh()))
                    .help("write each row with `达到` (以上, the threshold included) or `超过` (the threshold excluded), from the lowest threshold to the highest; the value below the first row is 0"),
            );
            return Err(());
        }
        let th = self.table_number(&row.threshold, *subject, "a tier's threshold");
        let am = self.table_number(&row.amount, *value, "a tier's value");
        let (th, am) = (th?, am?);
        match *subject {
            Some(s) if !self.comparable(s, th.ty) => {
                let (a, b) = (self.prog.type_name(s), self.prog.type_name(th.ty));
                self.err(
                    Diagnostic::new(
                        Code::CompareType,
                        format!("the table's thresholds are {a}, and this one is {b}"),
                    )
                    .at(th.span, format!("this is {b}"))
                    .help("every threshold of a table is of one kind: money, a rate or a number"),
                );
                return Err(());
            }
            Some(_) => {}
            None => *subject = Some(th.ty),
        }
        match *value {
            Some(v) if !self.assignable(am.ty, v) && !self.assignable(v, am.ty) => {
                let (a, b) = (self.prog.type_name(v), self.prog.type_name(am.ty));
                self.err(
                    Diagnostic::new(
                        Code::ExpectedType,
                        format!("the table's values are {a}, and this one is {b}"),
                    )
                    .at(am.span, format!("this is {b}"))
                    .help("every value of a table is of one kind: money, a rate or a number"),
                );
                return Err(());
            }
            Some(_) => {}
            None => *value = Some(am.ty),
        }
        let key = match (&th.kind, th.ty) {
            (ExprKind::Const(Const::Num(d)), Type::Num(Num::Money)) => fmt_money(*d),
            _ => self.text(row.threshold.span),
        };
        Ok(TierDef { op: row.op, threshold: th, amount: am, key: key.into(), span: row.span })
    }

    fn bracket_row(&mut self, row: &ast::Bracket) -> R<BracketDef> {
        let upper = match &row.upper {
            Some(u) => {
                let x = self.table_number(u, Some(Type::MONEY), "a bracket's bound")?;
                self.expect_type(&x, Type::MONEY, Code::ExpectedType, "a bracket's bound is money")?;
                Some(x)
            }
            None => None,
        };
        let rate = self.table_number(&row.rate, Some(Type::RATE), "a bracket's rate")?;
        self.expect_type(&rate, Type::RATE, Code::ExpectedType, "a bracket pays a rate of its slice")?;
        Ok(BracketDef { upper, rate, span: row.span })
    }

    /// `NAME(x)`: the table read on a value.
    pub(super) fn table_read(&mut self, id: TableId, args: &[ast::Arg], span: Span, scope: Scope) -> R<Expr> {
        let Some(t) = self.prog.tables.get(id as usize).cloned() else { return Err(()) };
        let [ast::Arg::Expr(arg)] = args else {
            self.err(
                Diagnostic::new(Code::ArgumentType, format!("the table `{}` is read on one value", t.name))
                    .at(span, format!("{} given", args.len()))
                    .help(format!("write `{}(营业收入)`: the value the table's rows compare", t.name)),
            );
            return Err(());
        };
        let subject = self.expr(arg, scope, Some(t.subject))?;
        if !self.comparable(subject.ty, t.subject) {
            let (a, b) = (self.prog.type_name(t.subject), self.prog.type_name(subject.ty));
            self.err(
                Diagnostic::new(
                    Code::CompareType,
                    format!("the table `{}` compares {a}, and this is {b}", t.name),
                )
                .at(subject.span, format!("this is {b}"))
                .also(t.span, "the table")
                .help(format!("read the table on {a}, as its rows' thresholds are")),
            );
            return Err(());
        }
        let lowered = lowered(&t, &subject, span);
        Ok(mk(ExprKind::Table(Box::new(TableRead { table: id, subject, lowered })), t.ty, span))
    }

    /// A table named without the value it is read on.
    pub(super) fn table_bare(&mut self, id: TableId, span: Span) -> R<Expr> {
        let name = self.prog.tables.get(id as usize).map_or("", |t| t.name.as_str()).to_string();
        self.err(
            Diagnostic::new(Code::ConstructMisuse, format!("`{name}` is a table: read it on a value"))
                .at(span, "a table here")
                .help(format!("write `{name}(营业收入)`: the row the value reaches gives the table's value")),
        );
        Err(())
    }

    /// The tables' names, for did-you-mean on an unknown function.
    pub(super) fn table_suggestion(&self, f: &str) -> Option<String> {
        did_you_mean(f, self.prog.tables.iter().map(|t| t.name.as_str()))
    }
}

/// The reading of one version in the nodes both evaluators have.
fn version_expr(t: &TableDef, v: &TableVersion, x: &Expr, span: Span) -> Expr {
    match t.kind {
        TableKind::Tiers => {
            // from the highest row down: the first row reached is the one that applies
            let mut acc = zero(t.ty, span);
            for row in &v.tiers {
                let cond = mk(
                    ExprKind::Cmp(row.op, Box::new(x.clone()), Box::new(row.threshold.clone())),
                    Type::Bool,
                    span,
                );
                let mut value = row.amount.clone();
                value.ty = t.ty;
                acc = mk(ExprKind::If(Box::new(cond), Box::new(value), Box::new(acc)), t.ty, span);
            }
            acc
        }
        TableKind::Brackets => {
            let money = Type::MONEY;
            let mut total: Option<Expr> = None;
            let mut lower: Option<Expr> = None;
            for row in &v.brackets {
                let top = match &row.upper {
                    Some(u) => mk(ExprKind::Call(Builtin::Min, vec![x.clone(), u.clone()]), money, span),
                    None => x.clone(),
                };
                let slice = match &lower {
                    Some(l) => {
                        mk(ExprKind::Arith(ArithOp::Sub, Box::new(top), Box::new(l.clone())), money, span)
                    }
                    None => top,
                };
                let slice = mk(ExprKind::Call(Builtin::Max, vec![slice, zero(money, span)]), money, span);
                let part = mk(
                    ExprKind::Arith(ArithOp::Mul, Box::new(slice), Box::new(row.rate.clone())),
                    money,
                    span,
                );
                total = Some(match total {
                    Some(t) => mk(ExprKind::Arith(ArithOp::Add, Box::new(t), Box::new(part)), money, span),
                    None => part,
                });
                lower.clone_from(&row.upper);
            }
            total.unwrap_or_else(|| zero(money, span))
        }
    }
}

/// The reading of the table: its versions chosen by the date parameters are read on, the
/// latest first.
fn lowered(t: &TableDef, x: &Expr, span: Span) -> Expr {
    let mut acc: Option<Expr> = None;
    for v in &t.versions {
        let here = version_expr(t, v, x, span);
        acc = Some(match (acc, v.from) {
            (Some(before), Some(from)) => {
                let dated = mk(ExprKind::Call(Builtin::Dated, Vec::new()), Type::Date, span);
                let on = mk(ExprKind::Const(Const::Date(from)), Type::Date, span);
                let cond = mk(ExprKind::Cmp(CmpOp::Ge, Box::new(dated), Box::new(on)), Type::Bool, span);
                mk(ExprKind::If(Box::new(cond), Box::new(here), Box::new(before)), t.ty, span)
            }
            _ => here,
        });
    }
    acc.unwrap_or_else(|| zero(t.ty, span))
}
