//! Numbers in the encoding are numbers in the quote (W0109): every money amount, rate,
//! threshold and count written as a constant in a clause's conditions, amount, caps and floor
//! must be stated in one of the clause's quotes — `30万` ↔ "30 万元", "300000元", "三十万元";
//! `20%` ↔ "20%", "百分之二十" — or come from a parameter or definition (named, with its own
//! source), or be declared with `unquoted 30万 "where it comes from"`. So an edit that pays
//! 40万 where the text says 30万 cannot pass `check --deny warnings`.
//!
//! Invariant: the lint only reads the program; 0 (a guard such as `超过 0元`) and the counts 0
//! and 1 (`count(…) 达到 1`: "any") are structure, not numbers of the text, and are exempt.

use crate::diag::{Code, Diagnostic};
use crate::ir::lower::visit;
use crate::ir::*;
use crate::value::{WAN, YI, fmt_money, fmt_rate};
use rust_decimal::Decimal;

pub fn run(prog: &Program, out: &mut Vec<Diagnostic>) {
    clauses(prog, out);
    tables(prog, out);
}

/// The tables the expressions read, directly or through the definitions they use.
fn tables_read<'p>(prog: &'p Program, roots: Vec<&'p Expr>) -> Vec<TableId> {
    let mut tables = Vec::new();
    let mut defs: Vec<DefId> = Vec::new();
    let mut todo = roots;
    while let Some(e) = todo.pop() {
        let mut used = Vec::new();
        visit(e, &mut |x| match &x.kind {
            ExprKind::Table(t) if !tables.contains(&t.table) => tables.push(t.table),
            ExprKind::Def(d) => used.push(*d),
            _ => {}
        });
        for d in used {
            if !defs.contains(&d)
                && let Some(def) = prog.defs.get(d as usize)
            {
                defs.push(d);
                todo.push(&def.expr);
            }
        }
    }
    tables
}

/// A table's numbers are numbers of the text too: each is stated in a quote of a clause that
/// reads the table (directly or through definitions), or declared `unquoted` there.
fn tables(prog: &Program, out: &mut Vec<Diagnostic>) {
    // per table: the numbers the quotes of its readers state, and the readers
    let mut stated: Vec<(Vec<Decimal>, Vec<String>)> = vec![(Vec::new(), Vec::new()); prog.tables.len()];
    for c in &prog.clauses {
        if !c.kind.evaluated() || c.quotes.is_empty() {
            continue;
        }
        let read = tables_read(prog, crate::check::lints::clause_exprs(c));
        if read.is_empty() {
            continue;
        }
        let numbers: Vec<Decimal> = c
            .quotes
            .iter()
            .flat_map(|q| numbers_in(&q.text))
            .chain(c.unquoted.iter().map(|u| u.value))
            .collect();
        for t in read {
            if let Some((n, readers)) = stated.get_mut(t as usize) {
                n.extend(numbers.iter().copied());
                readers.push(prog.clause_ref_of(c));
            }
        }
    }
    for (t, (numbers, readers)) in prog.tables.iter().zip(&stated) {
        if readers.is_empty() {
            continue;
        }
        let mut exprs: Vec<&Expr> = Vec::new();
        for v in &t.versions {
            for r in &v.tiers {
                exprs.extend([&r.threshold, &r.amount]);
            }
            for b in &v.brackets {
                exprs.extend(b.upper.iter());
                exprs.push(&b.rate);
            }
        }
        let mut reported: Vec<Decimal> = Vec::new();
        for e in exprs {
            visit(e, &mut |x| {
                let (ExprKind::Const(Const::Num(value)), Type::Num(num)) = (&x.kind, x.ty) else { return };
                let value = *value;
                if self_evident(value, num) || numbers.contains(&value) || reported.contains(&value) {
                    return;
                }
                reported.push(value);
                let shown = shown(value, num);
                out.push(
                    Diagnostic::new(
                        Code::NumberNotInQuote,
                        format!(
                            "the table `{}` uses {shown}, which no quote of the clauses reading it ({}) states",
                            t.name,
                            readers.join(", ")
                        ),
                    )
                    .at(x.span, "not in a quote")
                    .help(format!(
                        "check the number against the text; if it comes from elsewhere, say where in a clause reading the table: `unquoted {shown} \"…\"`, or use a parameter with its source"
                    )),
                );
            });
        }
    }
}

fn clauses(prog: &Program, out: &mut Vec<Diagnostic>) {
    for c in &prog.clauses {
        if !c.kind.evaluated() || c.quotes.is_empty() {
            continue;
        }
        let stated: Vec<Decimal> = c.quotes.iter().flat_map(|q| numbers_in(&q.text)).collect();
        let mut reported: Vec<Decimal> = Vec::new();
        for (value, num, span) in constants(c) {
            if self_evident(value, num)
                || stated.contains(&value)
                || c.unquoted.iter().any(|u| u.value == value)
                || reported.contains(&value)
            {
                continue;
            }
            reported.push(value);
            let shown = shown(value, num);
            out.push(
                Diagnostic::new(
                    Code::NumberNotInQuote,
                    format!("`{}` uses {shown}, which its quote does not state", prog.clause_ref_of(c)),
                )
                .at(span, "not in the quote")
                .help(format!(
                    "check the number against the text; if it comes from elsewhere, say where: `unquoted {shown} \"…\"`, or use a parameter with its source"
                )),
            );
        }
    }
}

/// A constant no text needs to state: zero, and one as a plain number.
fn self_evident(value: Decimal, num: Num) -> bool {
    value.is_zero() || (matches!(num, Num::Number | Num::Integer) && value == Decimal::ONE)
}

/// A constant as the diagnostics show it: money and rates in their units.
fn shown(value: Decimal, num: Num) -> String {
    match num {
        Num::Money => fmt_money(value),
        Num::Rate => fmt_rate(value),
        _ => value.normalize().to_string(),
    }
}

/// The numeric constants a clause writes, with their kind and where they are written.
fn constants(c: &ClauseDef) -> Vec<(Decimal, Num, crate::span::Span)> {
    let mut exprs: Vec<&Expr> = c.conditions.iter().map(|x| &x.expr).collect();
    exprs.extend(c.caps.iter().map(|k| &k.expr));
    exprs.extend(c.floor.iter());
    match &c.amount {
        Amount::Expr(e) => exprs.push(e),
        Amount::Discretionary { base } => exprs.extend(base.iter()),
        Amount::Tiers { subject, tiers, .. } => {
            exprs.push(subject);
            for t in tiers {
                exprs.push(&t.threshold);
                exprs.push(&t.amount);
            }
        }
        Amount::Brackets { subject, brackets } => {
            exprs.push(subject);
            for b in brackets {
                exprs.extend(b.upper.iter());
                exprs.push(&b.rate);
            }
        }
        Amount::Category { subject, arms, .. } => {
            exprs.push(subject);
            exprs.extend(arms.iter().map(|a| &a.amount));
        }
        Amount::Credit { earned, capacity, .. } => {
            exprs.push(earned);
            exprs.push(capacity);
        }
        Amount::Each { sel, amount, .. } => {
            exprs.extend(sel.exprs());
            exprs.extend(amount.iter());
        }
        Amount::Provides { .. } => {}
    }
    let mut out = Vec::new();
    for e in exprs {
        visit(e, &mut |x| {
            if let (ExprKind::Const(Const::Num(d)), Type::Num(n)) = (&x.kind, x.ty) {
                out.push((*d, n, x.span));
            }
        });
    }
    out
}

/// Every number a sentence states, as the values it can mean: the number itself, and with its
/// unit (`30 万元` → 30 and 300000; `20%` → 20 and 0.2; `百分之二十` → 0.2; `三十万元` →
/// 300000). A number without a unit before an enumeration (`1、5、10亿元`) takes the unit of
/// the last number of the enumeration.
pub fn numbers_in(text: &str) -> Vec<Decimal> {
    let chars: Vec<char> = text.chars().collect();
    let mut found: Vec<(Decimal, usize, usize)> = Vec::new(); // value, start, end (char indices)
    let mut i = 0;
    while i < chars.len() {
        let c = chars.get(i).copied().unwrap_or(' ');
        if c.is_ascii_digit() || ('０'..='９').contains(&c) {
            let start = i;
            let mut s = String::new();
            while let Some(&d) = chars.get(i) {
                if d.is_ascii_digit() {
                    s.push(d);
                } else if ('０'..='９').contains(&d) {
                    s.push(char::from_u32(u32::from(d) - u32::from('０') + u32::from('0')).unwrap_or('0'));
                } else if (d == '.' || d == '．') && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit()) {
                    s.push('.');
                } else if d == ',' && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit()) {
                    // thousands separator
                } else {
                    break;
                }
                i += 1;
            }
            if let Ok(v) = s.parse::<Decimal>() {
                found.push((v, start, i));
            }
        } else if let Some((v, len)) = chinese_number(&chars, i) {
            found.push((v, i, i + len));
            i += len;
        } else if text_at(&chars, i, "百分之") || text_at(&chars, i, "千分之") {
            let per =
                if text_at(&chars, i, "百分之") { Decimal::ONE_HUNDRED } else { Decimal::ONE_THOUSAND };
            i += 3;
            let n = match chars.get(i) {
                Some(c) if c.is_ascii_digit() => {
                    let st = i;
                    while chars.get(i).is_some_and(|c| c.is_ascii_digit() || *c == '.') {
                        i += 1;
                    }
                    chars.get(st..i).and_then(|s| s.iter().collect::<String>().parse::<Decimal>().ok())
                }
                _ => chinese_number(&chars, i).map(|(v, len)| {
                    i += len;
                    v
                }),
            };
            if let Some(r) = n.and_then(|n| n.checked_div(per)) {
                found.push((r, usize::MAX, usize::MAX)); // a rate: no unit follows
            }
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    let mut pending: Vec<Decimal> = Vec::new(); // numbers waiting for an enumeration's unit
    for (v, _, end) in &found {
        out.push(*v);
        if *end == usize::MAX {
            continue;
        }
        let mut j = *end;
        while chars.get(j).is_some_and(|c| c.is_whitespace()) {
            j += 1;
        }
        let mult = unit_at(&chars, j);
        match mult {
            Some(m) => {
                for p in pending.drain(..).chain(std::iter::once(*v)) {
                    if let Some(x) = p.checked_mul(m) {
                        out.push(x);
                    }
                }
            }
            None if chars.get(j).is_some_and(|c| {
                matches!(
                    c,
                    '、' | '，' | ',' | '和' | '及' | '或' | '至' | '到' | '~' | '～' | '-' | '－' | '—'
                )
            }) =>
            {
                pending.push(*v)
            }
            None => pending.clear(),
        }
    }
    out
}

fn text_at(chars: &[char], i: usize, s: &str) -> bool {
    s.chars().enumerate().all(|(k, c)| chars.get(i + k) == Some(&c))
}

/// The multiplier of a unit written at `i`: 万/万元 → 10⁴, 亿/亿元 → 10⁸, 千元 → 10³, 元 → 1,
/// %/％ → 1/100, ‰ → 1/1000.
fn unit_at(chars: &[char], i: usize) -> Option<Decimal> {
    match chars.get(i)? {
        '万' => Some(WAN),
        '亿' => Some(YI),
        '千' if chars.get(i + 1) == Some(&'元') => Some(Decimal::ONE_THOUSAND),
        '元' => Some(Decimal::ONE),
        '%' | '％' => Some(Decimal::new(1, 2)),
        '‰' => Some(Decimal::new(1, 3)),
        _ => None,
    }
}

fn digit(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' => 0,
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// A number written in Chinese numerals at `i` (三十, 一百五十, 两千, 三十万 …) and its length;
/// `万` and `亿` inside it multiply what comes before them. A lone `十` counts; a lone 万 or
/// 亿 (a unit, not a number) does not.
fn chinese_number(chars: &[char], i: usize) -> Option<(Decimal, usize)> {
    let first = *chars.get(i)?;
    if digit(first).is_none() && first != '十' {
        return None;
    }
    let (mut total, mut section, mut num): (i64, i64, i64) = (0, 0, 0);
    let mut j = i;
    while let Some(&c) = chars.get(j) {
        if let Some(d) = digit(c) {
            num = i64::from(d);
        } else {
            match c {
                '十' => {
                    section += if num == 0 { 10 } else { num * 10 };
                    num = 0;
                }
                '百' => {
                    section += num * 100;
                    num = 0;
                }
                '千' if chars.get(j + 1) != Some(&'元') => {
                    section += num * 1000;
                    num = 0;
                }
                '万' => {
                    total += (section + num) * 10_000;
                    section = 0;
                    num = 0;
                }
                '亿' => {
                    total = (total + section + num) * 100_000_000;
                    section = 0;
                    num = 0;
                }
                _ => break,
            }
        }
        j += 1;
    }
    let value = total + section + num;
    // 一 alone is mostly a word (一次性, 一事一议), not a number of the policy
    if j == i + 1 && first == '一' {
        return None;
    }
    Some((Decimal::from(value), j - i))
}

#[cfg(test)]
mod tests {
    use super::numbers_in;
    use rust_decimal::Decimal;

    fn has(text: &str, v: &str) -> bool {
        numbers_in(text).contains(&v.parse::<Decimal>().unwrap())
    }

    #[test]
    fn numbers_as_policy_texts_write_them() {
        let t = "首次超过 1 亿元、5 亿元、10 亿元以上的企业，分别给予 30 万元、50 万元和 100 万元一次性奖励";
        for v in ["100000000", "500000000", "1000000000", "300000", "500000", "1000000"] {
            assert!(has(t, v), "{v}");
        }
        assert!(!has(t, "400000"));
        assert!(has("按销售价格的20%给予奖励", "0.2"));
        assert!(has("按百分之二十给予补助", "0.2"));
        assert!(has("给予三十万元奖励", "300000"));
        assert!(has("最高不超过两千元", "2000"));
        assert!(has("年产值1、5、10亿元", "100000000"));
        assert!(has("每人每月3000元，最长不超过6个月", "6"));
        assert!(has("补助1,500元", "1500"));
        assert!(has("费率不超过1.5%", "0.015"));
    }
}
