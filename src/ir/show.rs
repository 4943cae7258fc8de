//! The canonical text of IR expressions: fully resolved, fully parenthesised where precedence
//! matters, literals in policy spelling (`1亿`, `20%`). Used by IR snapshots and explanations,
//! so it changes only when the meaning does.

use super::*;
use crate::value::{fmt_money, fmt_rate};

pub fn expr(p: &Program, e: &Expr) -> String {
    let mut s = String::new();
    write(p, e, &mut s, 0);
    s
}

/// `each 类别 of 认定 where …`: a field read on every selected item of a list.
pub fn each(p: &Program, field: &Expr, sel: &Selection) -> String {
    let mut s = String::from("each ");
    let saved = ITEM.with(|c| c.replace(Some(sel.record)));
    write(p, field, &mut s, 0);
    s.push_str(" of ");
    s.push_str(p.facts.get(sel.list as usize).map_or("", |x| x.name.as_str()));
    write_ops(p, sel, &mut s);
    ITEM.with(|c| c.set(saved));
    s
}

/// `each 人员 where … key 身份证号 => 3000元 * 月数`: an amount per selected item, keyed.
pub fn each_amount(p: &Program, sel: &Selection, key: FieldId, amount: Option<&Expr>) -> String {
    let mut s = String::from("each ");
    s.push_str(p.facts.get(sel.list as usize).map_or("", |x| x.name.as_str()));
    let saved = ITEM.with(|c| c.replace(Some(sel.record)));
    write_ops(p, sel, &mut s);
    s.push_str(" key ");
    s.push_str(&field_name(p, Some(sel.record), key));
    s.push_str(" => ");
    match amount {
        Some(amount) => write(p, amount, &mut s, 0),
        None => s.push_str("discretionary"),
    }
    ITEM.with(|c| c.set(saved));
    s
}

fn write_ops(p: &Program, sel: &Selection, out: &mut String) {
    for op in &sel.ops {
        match op {
            SelOp::Where(w) => {
                out.push_str(" where ");
                write(p, w, out, 0);
            }
            SelOp::First { n, by, descending } => {
                out.push_str(&format!(" first {n}"));
                if let Some(b) = by {
                    out.push_str(" by ");
                    write(p, b, out, 0);
                    if *descending {
                        out.push_str(" descending");
                    }
                }
            }
        }
    }
}

fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Or(..) => 1,
        ExprKind::And(..) => 2,
        ExprKind::Not(..) => 3,
        ExprKind::Cmp(..) | ExprKind::In(..) => 4,
        ExprKind::Arith(ArithOp::Add | ArithOp::Sub, ..) => 5,
        ExprKind::Arith(..) => 6,
        ExprKind::Neg(..) => 7,
        _ => 9,
    }
}

pub fn constant(p: &Program, c: &Const, ty: Type) -> String {
    match c {
        Const::Num(d) => match ty {
            Type::Num(Num::Money) => fmt_money(*d),
            Type::Num(Num::Rate) => fmt_rate(*d),
            _ => d.normalize().to_string(),
        },
        Const::Bool(b) => b.to_string(),
        Const::Date(d) => d.to_string(),
        Const::Enum(e, v) => {
            p.enums.get(*e as usize).and_then(|x| x.variants.get(*v as usize)).cloned().unwrap_or_default()
        }
    }
}

fn series_name(p: &Program, s: SeriesRef, item: Option<RecordId>) -> String {
    match s {
        SeriesRef::Fact(f) => p.facts.get(f as usize).map_or_else(String::new, |x| x.name.clone()),
        SeriesRef::Field(f) => field_name(p, item, f),
    }
}

fn field_name(p: &Program, item: Option<RecordId>, f: FieldId) -> String {
    item.and_then(|r| p.records.get(r as usize))
        .and_then(|r| r.fields.get(f as usize))
        .map_or_else(|| format!("field#{f}"), |x| x.name.clone())
}

thread_local! {
    static ITEM: std::cell::Cell<Option<RecordId>> = const { std::cell::Cell::new(None) };
}

fn write(p: &Program, e: &Expr, out: &mut String, outer: u8) {
    let me = prec(e);
    let paren = me < outer;
    if paren {
        out.push('(');
    }
    let item = ITEM.with(std::cell::Cell::get);
    match &e.kind {
        ExprKind::Const(c) => out.push_str(&constant(p, c, e.ty)),
        ExprKind::Fact(f) => out.push_str(p.facts.get(*f as usize).map_or("", |x| x.name.as_str())),
        ExprKind::SeriesAt(s, y) => {
            out.push_str(&series_name(p, *s, item));
            out.push('[');
            write(p, y, out, 0);
            out.push(']');
        }
        ExprKind::Field(f) => out.push_str(&field_name(p, item, *f)),
        ExprKind::Def(d) => out.push_str(p.defs.get(*d as usize).map_or("", |x| x.name.as_str())),
        ExprKind::Param(x) => out.push_str(p.params.get(*x as usize).map_or("", |x| x.name.as_str())),
        ExprKind::Period => out.push_str("period"),
        ExprKind::Granted(d, c, n) => match n {
            Some(n) => out.push_str(&format!("granted({d}.{c}, {n})")),
            None => out.push_str(&format!("granted({d}.{c})")),
        },
        ExprKind::Qualifies(d, c) => out.push_str(&format!("qualifies({d}.{c})")),
        ExprKind::AsOf => out.push_str("as_of"),
        ExprKind::Not(x) => {
            out.push_str("not ");
            write(p, x, out, me);
        }
        ExprKind::Neg(x) => {
            out.push('-');
            write(p, x, out, me);
        }
        ExprKind::Arith(op, a, b) => {
            write(p, a, out, me);
            out.push_str(match op {
                ArithOp::Add => " + ",
                ArithOp::Sub => " - ",
                ArithOp::Mul => " × ",
                ArithOp::Div => " / ",
            });
            write(p, b, out, me + 1);
        }
        ExprKind::Cmp(op, a, b) => {
            write(p, a, out, me + 1);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            write(p, b, out, me + 1);
        }
        ExprKind::And(a, b) | ExprKind::Or(a, b) => {
            write(p, a, out, me);
            out.push_str(if matches!(e.kind, ExprKind::And(..)) { " and " } else { " or " });
            write(p, b, out, me + 1);
        }
        ExprKind::In(x, set) => {
            write(p, x, out, me + 1);
            out.push_str(" in {");
            let items: Vec<String> = set.iter().map(|c| constant(p, c, x.ty)).collect();
            out.push_str(&items.join(", "));
            out.push('}');
        }
        ExprKind::Call(f, args) => {
            out.push_str(match f {
                Builtin::Min => "min",
                Builtin::Max => "max",
                Builtin::Abs => "abs",
                Builtin::Year => "year",
                Builtin::Within => "within",
                Builtin::Month => "month",
                Builtin::Day => "day",
                Builtin::AddMonths => "add_months",
                Builtin::AddDays => "add_days",
                Builtin::MonthsBetween => "months_between",
                Builtin::DaysBetween => "days_between",
                Builtin::PeriodStart => "period_start",
                Builtin::PeriodEnd => "period_end",
                Builtin::MonthAt => "",
                Builtin::MonthTotal => "total",
                Builtin::MonthCount => "months",
                Builtin::Dated => "dated",
            });
            if let (Builtin::MonthAt, [s, d]) = (f, args.as_slice()) {
                write(p, s, out, 0);
                out.push('[');
                write(p, d, out, 0);
                out.push(']');
            } else if !matches!(f, Builtin::PeriodStart | Builtin::PeriodEnd | Builtin::Dated) {
                out.push('(');
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write(p, a, out, 0);
                }
                out.push(')');
            }
        }
        ExprKind::If(c, a, b) => {
            out.push_str("if ");
            write(p, c, out, 0);
            out.push_str(" then ");
            write(p, a, out, 0);
            out.push_str(" else ");
            write(p, b, out, 0);
        }
        ExprKind::Table(t) => {
            out.push_str(p.tables.get(t.table as usize).map_or("", |x| x.name.as_str()));
            out.push('(');
            write(p, &t.subject, out, 0);
            out.push(')');
        }
        ExprKind::Increase(s) => out.push_str(&format!("increase({})", series_name(p, *s, item))),
        ExprKind::MaxBefore(s) => out.push_str(&format!("max_before({})", series_name(p, *s, item))),
        ExprKind::FirstTime(s, op, rhs) => {
            out.push_str(&format!("first_time({} {} ", series_name(p, *s, item), op.symbol()));
            write(p, rhs, out, 0);
            out.push(')');
        }
        ExprKind::Agg(op, sel, body) => {
            out.push_str(match op {
                AggOp::Sum => "sum(",
                AggOp::Count => "count(",
                AggOp::Any => "any(",
                AggOp::All => "all(",
                AggOp::Max => "max(",
                AggOp::Min => "min(",
            });
            out.push_str(p.facts.get(sel.list as usize).map_or("", |x| x.name.as_str()));
            let saved = ITEM.with(|c| c.replace(Some(sel.record)));
            write_ops(p, sel, out);
            if let Some(b) = body {
                out.push_str(", ");
                write(p, b, out, 0);
            }
            ITEM.with(|c| c.set(saved));
            out.push(')');
        }
    }
    if paren {
        out.push(')');
    }
}
