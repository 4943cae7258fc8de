//! Lowering of time within the year: `date or never` and `default V` on facts and fields,
//! `never` in comparisons, the date functions (`month`, `day`, `add_months`, `add_days`,
//! `months_between`, `days_between`) and `period_start` / `period_end`. Kept apart from
//! `lower.rs` so the grammar's other changes and these do not meet.

use super::{Lowerer, R, Scope};
use crate::diag::{Code, Diagnostic};
use crate::ir::*;
use crate::span::Span;
use crate::syntax::ast;

const TIME_FUNCTIONS: &[&str] =
    &["month", "day", "add_months", "add_days", "months_between", "days_between", "total", "months"];

const MONTHLY_HELP: &str = "read a monthly series by month: `社保缴费人数[2024-03]`, `社保缴费人数[as_of]` (the month of a date), `total(社保缴费人数, 2024-01, 2024-12)` or `months(社保缴费人数, period_start, period_end)`";

fn is_never(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Const(Const::Date(d)) if d == Date::NEVER)
}

impl Lowerer<'_> {
    /// `date or never` and `default V` of a fact or field, checked against its type.
    pub(super) fn never_and_default(
        &mut self,
        ty: Type,
        never: bool,
        default: Option<&ast::Expr>,
        span: Span,
    ) -> (bool, Option<Const>) {
        if never && ty != Type::Date {
            let t = self.prog.type_name(ty);
            self.err(
                Diagnostic::new(Code::NeverMisuse, format!("`or never` is for dates, and this is {t}"))
                    .at(span, "declared `or never`")
                    .help("write `date or never` for an event that may not have happened; other values that may be absent are simply left out of the facts"),
            );
        }
        let Some(d) = default else { return (never, None) };
        if matches!(ty, Type::Series(_) | Type::List(_) | Type::Record(_)) {
            let t = self.prog.type_name(ty);
            self.err(
                Diagnostic::new(Code::DefaultType, format!("a {t} has no default"))
                    .at(d.span, "default given here")
                    .help("`default` is for one value (true/false, a number, a date, an enumeration value)"),
            );
            return (never, None);
        }
        let Ok(e) = self.expr(d, super::TOP, Some(ty)) else { return (never, None) };
        let t = self.prog.type_name(ty);
        match e.kind {
            ExprKind::Const(Const::Date(x)) if x == Date::NEVER && !never => {
                self.err(
                    Diagnostic::new(
                        Code::DefaultType,
                        format!("`default never` for a {t} that is always known"),
                    )
                    .at(e.span, "`never` here")
                    .help("declare the type `date or never`, or give a date"),
                );
                (never, None)
            }
            ExprKind::Const(c)
                if self.assignable(e.ty, ty) || (ty == Type::NUMBER && e.ty == Type::INTEGER) =>
            {
                (never, Some(c))
            }
            _ => {
                let got = self.prog.type_name(e.ty);
                self.err(
                    Diagnostic::new(
                        Code::DefaultType,
                        format!("the default of a {t} must be a constant {t}, and this is {got}"),
                    )
                    .at(e.span, "not a constant of the type")
                    .help(format!(
                        "write a constant of type {t}, e.g. `default {}`",
                        self.default_example(ty)
                    )),
                );
                (never, None)
            }
        }
    }

    fn default_example(&self, ty: Type) -> String {
        match ty {
            Type::Bool => "false".into(),
            Type::Num(Num::Money) => "0元".into(),
            Type::Num(Num::Rate) => "0%".into(),
            Type::Num(_) | Type::Year => "0".into(),
            Type::Date => "2024-01-01".into(),
            Type::Enum(e) => self
                .prog
                .enums
                .get(e as usize)
                .and_then(|d| d.variants.first().cloned())
                .unwrap_or_else(|| "…".into()),
            _ => "…".into(),
        }
    }

    /// `d == never` / `d != never`: the only comparisons `never` takes, and only with a date
    /// that can be never.
    pub(super) fn check_never_cmp(
        &mut self,
        op: ast::CmpOp,
        x: &Expr,
        y: &Expr,
        span: Span,
        scope: Scope,
    ) -> R<()> {
        let (n, other) = match (is_never(x), is_never(y)) {
            (true, _) => (x, y),
            (_, true) => (y, x),
            _ => return Ok(()),
        };
        if !matches!(op, ast::CmpOp::Eq | ast::CmpOp::Ne) {
            self.err(
                Diagnostic::new(
                    Code::NeverMisuse,
                    "`never` has no place in time: it is only compared with `==` or `!=`",
                )
                .at(span, "an ordering comparison with `never`")
                .also(n.span, "never")
                .help("test `d != never and d 不超过 …` instead"),
            );
            return Err(());
        }
        let declared = match other.kind {
            ExprKind::Fact(f) => self.prog.facts.get(f as usize).map(|d| (d.never, d.name.clone())),
            ExprKind::Field(f) => scope
                .item
                .and_then(|r| self.prog.records.get(r as usize))
                .and_then(|r| r.fields.get(f as usize))
                .map(|d| (d.never, d.name.clone())),
            _ => None,
        };
        if let Some((false, name)) = declared {
            self.err(
                Diagnostic::new(Code::NeverMisuse, format!("`{name}` is a date that is always known, so it is never `never`"))
                    .at(other.span, "declared `date`, not `date or never`")
                    .also(n.span, "never")
                    .help(format!("declare `{name}: date or never` if the event may not have happened, or drop the comparison")),
            );
            return Err(());
        }
        Ok(())
    }

    /// `period_start`, `period_end`.
    pub(super) fn time_name(&mut self, n: &str, span: Span) -> Option<Expr> {
        let b = match n {
            "period_start" => Builtin::PeriodStart,
            "period_end" => Builtin::PeriodEnd,
            _ => return None,
        };
        if self.values.contains_key(n) {
            return None;
        }
        Some(Self::mk(ExprKind::Call(b, Vec::new()), Type::Date, span))
    }

    /// Whether a function name is one of the date functions.
    pub(super) fn is_time_function(f: &str) -> bool {
        TIME_FUNCTIONS.contains(&f)
    }

    /// The date functions (out of line: `call` recurses).
    #[inline(never)]
    pub(super) fn time_call(&mut self, f: &str, args: &[ast::Arg], span: Span, scope: Scope) -> R<Expr> {
        self.time_call_of(f, args, span, scope)
    }

    /// `monthly T` as a fact's type (not a field's).
    pub(super) fn monthly_type(&mut self, n: &ast::Ident, allow: bool) -> R<Type> {
        let t = self.named_type(n)?;
        match t {
            Type::Num(k) if allow => Ok(Type::Series(k)),
            Type::Num(_) => {
                self.err(
                    Diagnostic::new(Code::MonthlyMisuse, "a record field cannot hold a monthly series")
                        .at(n.span, "monthly series only as facts")
                        .help("declare the monthly series as a fact of the applicant (`fact 社保缴费人数: monthly integer`)"),
                );
                Err(())
            }
            other => {
                let tn = self.prog.type_name(other);
                self.err(
                    Diagnostic::new(Code::ExpectedType, format!("a monthly series holds numbers, not {tn}"))
                        .at(n.span, "not a numeric type")
                        .help("write `monthly integer`, `monthly money`, `monthly number` or `monthly rate`"),
                );
                Err(())
            }
        }
    }

    /// The monthly fact a name refers to, with its number kind.
    fn monthly_fact(&self, e: &ast::Expr, scope: Scope) -> Option<(FactId, Num)> {
        let ast::ExprKind::Name(n) = &e.kind else { return None };
        if scope.item.is_some_and(|r| self.field(r, n).is_some()) {
            return None;
        }
        match self.values.get(n) {
            Some(super::ValueName::Fact(f)) => match self.prog.facts.get(*f as usize) {
                Some(FactDef { ty: Type::Series(k), monthly: true, .. }) => Some((*f, *k)),
                _ => None,
            },
            _ => None,
        }
    }

    /// A monthly fact named without a month: E0312.
    pub(super) fn monthly_bare(&mut self, f: FactId, span: Span) -> Option<R<Expr>> {
        let def = self.prog.facts.get(f as usize)?;
        if !def.monthly {
            return None;
        }
        let name = def.name.clone();
        self.err(
            Diagnostic::new(Code::MonthlyMisuse, format!("`{name}` is a monthly series: which month?"))
                .at(span, "a monthly series without a month")
                .help(MONTHLY_HELP),
        );
        Some(Err(()))
    }

    /// Whether a name is a monthly fact (indexed by month, not by year).
    pub(super) fn is_monthly(&self, base: &ast::Expr, scope: Scope) -> bool {
        self.monthly_fact(base, scope).is_some()
    }

    /// `s[MONTH]` on a monthly fact: the value of the month containing the date. Out of line:
    /// `expr` recurses.
    #[inline(never)]
    pub(super) fn monthly_index(
        &mut self,
        base: &ast::Expr,
        ix: &ast::Expr,
        span: Span,
        scope: Scope,
    ) -> R<Expr> {
        let (f, k) = self.monthly_fact(base, scope).ok_or(())?;
        let d = self.month_arg(ix, scope, "a monthly series is indexed by a month (`2024-03`) or a date")?;
        let s = Self::mk(ExprKind::Fact(f), Type::Series(k), base.span);
        Ok(Self::mk(ExprKind::Call(Builtin::MonthAt, vec![s, d]), Type::Num(k), span))
    }

    fn month_arg(&mut self, e: &ast::Expr, scope: Scope, what: &str) -> R<Expr> {
        let d = self.expr(e, scope, Some(Type::Date))?;
        if is_never(&d) {
            self.err(
                Diagnostic::new(Code::NeverMisuse, "`never` is not a month")
                    .at(d.span, "never")
                    .help("only `==` and `!=` take `never`"),
            );
            return Err(());
        }
        if d.ty != Type::Date {
            let got = self.prog.type_name(d.ty);
            self.err(
                Diagnostic::new(Code::MonthlyMisuse, format!("{what}, and this is {got}"))
                    .at(d.span, format!("this is {got}"))
                    .help(MONTHLY_HELP),
            );
            return Err(());
        }
        Ok(d)
    }

    /// `total(s, from, to)`, `months(s, from, to)`.
    fn monthly_agg(&mut self, f: &str, args: &[ast::Arg], span: Span, scope: Scope) -> R<Expr> {
        let [ast::Arg::Expr(s), ast::Arg::Expr(a), ast::Arg::Expr(b)] = args else {
            self.err(
                Diagnostic::new(
                    Code::ArgumentType,
                    format!("`{f}` takes a monthly series, a first and a last month"),
                )
                .at(span, format!("{} given", args.len()))
                .help(MONTHLY_HELP),
            );
            return Err(());
        };
        let Some((fid, k)) = self.monthly_fact(s, scope) else {
            self.err(
                Diagnostic::new(Code::MonthlyMisuse, format!("`{f}` reads a monthly series"))
                    .at(s.span, "not a fact declared `monthly …`")
                    .help(MONTHLY_HELP),
            );
            return Err(());
        };
        let from = self.month_arg(a, scope, "the first month is a month or a date");
        let to = self.month_arg(b, scope, "the last month is a month or a date");
        let (from, to) = (from?, to?);
        let series = Self::mk(ExprKind::Fact(fid), Type::Series(k), s.span);
        let (b, ty) = if f == "total" {
            (Builtin::MonthTotal, Type::Num(k))
        } else {
            (Builtin::MonthCount, Type::INTEGER)
        };
        Ok(Self::mk(ExprKind::Call(b, vec![series, from, to]), ty, span))
    }

    fn time_call_of(&mut self, f: &str, args: &[ast::Arg], span: Span, scope: Scope) -> R<Expr> {
        if f == "total" || f == "months" {
            return self.monthly_agg(f, args, span, scope);
        }
        let (want, b, ty): (&[Type], Builtin, Type) = match f {
            "month" => (&[Type::Date], Builtin::Month, Type::INTEGER),
            "day" => (&[Type::Date], Builtin::Day, Type::INTEGER),
            "add_months" => (&[Type::Date, Type::NUMBER], Builtin::AddMonths, Type::Date),
            "add_days" => (&[Type::Date, Type::NUMBER], Builtin::AddDays, Type::Date),
            "months_between" => (&[Type::Date, Type::Date], Builtin::MonthsBetween, Type::INTEGER),
            _ => (&[Type::Date, Type::Date], Builtin::DaysBetween, Type::INTEGER),
        };
        let shape = if want.len() == 1 {
            "one date".to_string()
        } else if want.get(1) == Some(&Type::Date) {
            "two dates (from, to)".to_string()
        } else {
            "a date and a whole number".to_string()
        };
        if args.len() != want.len() {
            self.err(
                Diagnostic::new(Code::ArgumentType, format!("`{f}` takes {shape}"))
                    .at(span, format!("{} given", args.len()))
                    .help(format!("see `{f}` in docs/language.md (time within the year)")),
            );
            return Err(());
        }
        let mut xs = Vec::with_capacity(args.len());
        let mut ok = true;
        for (a, w) in args.iter().zip(want) {
            let ast::Arg::Expr(e) = a else {
                self.err(
                    Diagnostic::new(Code::ArgumentType, format!("`{f}` does not take a list"))
                        .at(span, "a list here")
                        .help(format!("`{f}` takes {shape}")),
                );
                return Err(());
            };
            let Ok(x) = self.expr(e, scope, Some(*w)) else {
                ok = false;
                continue;
            };
            if is_never(&x) {
                self.err(
                    Diagnostic::new(
                        Code::NeverMisuse,
                        format!("`never` is not a day: `{f}` cannot compute with it"),
                    )
                    .at(x.span, "never")
                    .help("only `==` and `!=` take `never`"),
                );
                ok = false;
                continue;
            }
            if self.expect_type(&x, *w, Code::ArgumentType, &format!("`{f}` takes {shape}")).is_err() {
                ok = false;
                continue;
            }
            xs.push(x);
        }
        if !ok {
            return Err(());
        }
        Ok(Self::mk(ExprKind::Call(b, xs), ty, span))
    }
}
