#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
//! The lean path with a ledger (`Kernel::evaluate_ledger`) against the full evaluator: over
//! generated populations with random earlier histories (one-time awards, tiers and categories
//! paid before, partly used yearly and lifetime caps, carried credits, grants of other
//! documents read by `granted(…)` and `once in`), simulated over three years, every clause has
//! the same status and amount (to the scale) and every year adds the same ledger entries, in
//! the same order; amounts at every scale, up to the decimal limits, where an overflow is an
//! error on the full path and a hand-back (never a dropped amount) on the kernel's. Properties:
//! yearly and lifetime caps are never exceeded and a one-time award is never paid twice.

use huiqi::eval::facts::{FactValue, Facts, Value, read_facts};
use huiqi::eval::kernel::{Delegate, Kernel, Verdicts};
use huiqi::eval::{EvalOptions, Ledger, LedgerEntry, evaluate};
use huiqi::ir::{Amount, Const, ExprKind, Program};
use huiqi::population::SplitMix64;
use huiqi::syntax::ast::{CapScope, OnceScope};
use rust_decimal::Decimal;
use std::sync::Arc;

mod common;
use common::{program, seed_program};

fn below(r: &mut SplitMix64, n: u64) -> u64 {
    r.next_u64() % n.max(1)
}

/// An amount at a random scale: fen, whole yuan, many decimals, or near the decimal limit.
fn amount(r: &mut SplitMix64) -> Decimal {
    match below(r, 6) {
        0 => Decimal::new(i64::try_from(below(r, 100_000_000)).unwrap(), 2),
        1 => Decimal::from(below(r, 2_000_000)),
        2 => Decimal::new(i64::try_from(below(r, 1_000_000_000)).unwrap(), 6),
        3 => Decimal::ZERO,
        // huge: sums of two of these overflow an exact decimal
        4 => Decimal::MAX - Decimal::from(below(r, 1_000_000)),
        _ => Decimal::from_i128_with_scale(i128::from(below(r, u64::MAX)) * 1_000_000_000, 2),
    }
}

/// A random earlier history: entries of random clauses with keys they can write, in the
/// years before `first`, checked against the rule set like any ledger input.
fn history(prog: &Program, r: &mut SplitMix64, first: i32, huge: bool) -> Ledger {
    let clauses: Vec<_> = prog.clauses.iter().filter(|c| c.kind.evaluated()).collect();
    let n = below(r, 7);
    let mut entries = Vec::new();
    for _ in 0..n {
        let c = clauses[usize::try_from(below(r, clauses.len() as u64)).unwrap()];
        let period = first - 1 - i32::try_from(below(r, 4)).unwrap();
        let mut a = amount(r);
        if !huge && a > Decimal::from(1_000_000_000_000i64) {
            a = Decimal::new(12_345_678, 2);
        }
        let mut e = LedgerEntry {
            policy: c.ledger_names.0.clone(),
            clause: c.ledger_names.1.clone(),
            key: None,
            period,
            amount: a,
            balance: None,
            expires: None,
            kind: (c.kind != huiqi::syntax::ast::ClauseKind::Benefit).then_some(c.kind),
        };
        match &c.amount {
            Amount::Tiers { tiers, .. } => {
                e.key = Some(tiers[usize::try_from(below(r, tiers.len() as u64)).unwrap()].key.clone());
            }
            Amount::Category { arms, .. } => {
                e.key = Some(arms[usize::try_from(below(r, arms.len() as u64)).unwrap()].name.clone());
            }
            Amount::Credit { years, .. } => {
                let origin = period - i32::try_from(below(r, 2)).unwrap();
                e.key = Some(Arc::from(origin.to_string()));
                e.balance = Some(if huge {
                    amount(r)
                } else {
                    Decimal::new(i64::try_from(below(r, 10_000_000)).unwrap(), 2)
                });
                if below(r, 2) == 0 {
                    e.expires = Some(origin + i32::try_from(*years).unwrap());
                }
            }
            Amount::Each { .. } => e.key = Some(Arc::from(format!("{}", below(r, 3)))),
            _ => {}
        }
        entries.push(e);
    }
    let ledger = Ledger::new(entries);
    ledger.check(prog, "random").map_err(|d| format!("{d:?}")).unwrap();
    ledger
}

/// Some money facts scaled up by `10^k`, to reach amounts near the decimal limits.
fn scaled(facts: &Facts, r: &mut SplitMix64) -> Facts {
    let mut f = facts.clone();
    let k = u32::try_from(below(r, 22)).unwrap();
    let factor = Decimal::from_i128_with_scale(10i128.pow(k), 0);
    for slot in &mut f.values {
        if let Some(FactValue::Scalar(Value::Num(x))) = slot
            && below(r, 2) == 0
        {
            *x = x.checked_mul(factor).unwrap_or(Decimal::MAX);
        }
    }
    f
}

/// One year on both paths; panics on the first difference. Returns the entries added.
fn agree_year(
    prog: &Program,
    kernel: &Kernel,
    facts: &Facts,
    ledger: &Ledger,
    period: i32,
    what: &str,
) -> Vec<LedgerEntry> {
    let full = evaluate(prog, facts, ledger, EvalOptions { period, as_of: None, explain: false });
    let mut v = Verdicts::default();
    match kernel.evaluate_ledger(prog, facts, ledger, period, None, &mut v) {
        Err(Delegate) => {
            assert!(!full.errors.is_empty(), "{what}: the kernel handed back an enterprise without errors");
            assert!(full.errors.iter().all(|e| !e.code.id().is_empty()), "{what}: every error has a code");
        }
        Ok(()) => {
            // only a total that overflows is an error of a complete evaluation
            assert!(
                full.errors.iter().all(|e| e.code == huiqi::diag::Code::TotalOverflow),
                "{what}: the kernel missed {:?}",
                full.errors
            );
            assert_eq!(v.items.len(), full.results.len(), "{what}");
            for (k, r) in v.items.iter().zip(&full.results) {
                let c = prog.clause_ref(r.clause);
                assert_eq!(k.clause, r.clause, "{what}");
                assert_eq!(k.status, r.status, "{what}: {c} status");
                assert_eq!(format!("{:?}", k.amount), format!("{:?}", r.amount), "{what}: {c} amount");
            }
            let fe: Vec<&LedgerEntry> = full.new_entries().collect();
            assert_eq!(
                format!("{:?}", v.entries.iter().collect::<Vec<_>>()),
                format!("{fe:?}"),
                "{what}: entries"
            );
            match (v.total(), full.total()) {
                (Ok(a), Ok(b)) => assert_eq!(a.to_string(), b.to_string(), "{what}: total"),
                (Err(a), Err(b)) => assert_eq!(a.code, b.code, "{what}: total overflow"),
                (a, b) => panic!("{what}: totals {a:?} and {b:?}"),
            }
        }
    }
    full.new_entries().cloned().collect()
}

/// The constant of a cap, when it is one.
fn constant(e: &huiqi::ir::Expr) -> Option<Decimal> {
    match e.kind {
        ExprKind::Const(Const::Num(d)) => Some(d),
        _ => None,
    }
}

/// Yearly and lifetime caps (constants) never exceeded by what the years added, given what
/// the history used; a one-time award never paid twice.
fn properties(prog: &Program, start: &Ledger, added: &[LedgerEntry], what: &str) {
    for (i, c) in prog.clauses.iter().enumerate() {
        let id = u32::try_from(i).unwrap();
        let mine = |e: &&LedgerEntry| prog.find_clause(&e.policy, &e.clause) == Some(id);
        let new: Vec<&LedgerEntry> = added.iter().filter(mine).collect();
        if new.is_empty() || matches!(c.amount, Amount::Credit { .. }) {
            continue;
        }
        let old: Vec<&LedgerEntry> = start.entries.iter().filter(mine).collect();
        let sum = |es: &mut dyn Iterator<Item = &&LedgerEntry>| es.fold(Decimal::ZERO, |s, e| s + e.amount);
        for cap in &c.caps {
            let Some(k) = constant(&cap.expr) else { continue };
            match cap.scope {
                CapScope::Total => {
                    let before = sum(&mut old.iter());
                    let left = (k - before).max(Decimal::ZERO);
                    assert!(sum(&mut new.iter()) <= left, "{what}: {} lifetime cap", prog.clause_ref(id));
                }
                CapScope::PerYear => {
                    for e in &new {
                        let year = sum(&mut new.iter().filter(|x| x.period == e.period));
                        assert!(year <= k, "{what}: {} yearly cap in {}", prog.clause_ref(id), e.period);
                    }
                }
                _ => {}
            }
        }
        if c.once == Some(OnceScope::Clause) {
            let paid = |es: &[&LedgerEntry]| es.iter().any(|e| !e.amount.is_zero());
            assert!(!(paid(&old) && paid(&new)), "{what}: {} paid again", prog.clause_ref(id));
            let mut years: Vec<i32> = new.iter().filter(|e| !e.amount.is_zero()).map(|e| e.period).collect();
            years.dedup();
            assert!(years.len() <= 1, "{what}: {} paid in {years:?}", prog.clause_ref(id));
        }
        if matches!(c.once, Some(OnceScope::PerTier | OnceScope::PerCategory)) {
            for e in &new {
                assert!(
                    !old.iter().any(|o| o.key == e.key),
                    "{what}: {} {:?} paid again",
                    prog.clause_ref(id),
                    e.key
                );
                assert_eq!(new.iter().filter(|o| o.key == e.key).count(), 1, "{what}: {:?} twice", e.key);
            }
        }
    }
}

/// Three years from `start`, both paths each year, the full evaluator's entries threaded.
fn simulate(
    prog: &Program,
    kernel: &Kernel,
    facts: &Facts,
    start: &Ledger,
    from: i32,
    what: &str,
) -> Vec<LedgerEntry> {
    let mut ledger = start.clone();
    let mut added = Vec::new();
    for period in from..from + 3 {
        let new = agree_year(prog, kernel, facts, &ledger, period, &format!("{what} {period}"));
        ledger.extend(new.iter().cloned());
        added.extend(new);
    }
    added
}

#[test]
fn with_a_ledger_the_kernel_agrees_over_generated_populations_and_random_histories() {
    let prog = seed_program();
    let kernel = Kernel::new(&prog);
    let mut r = SplitMix64::new(20_261_203);
    let mut entries = 0usize;
    for (i, json) in huiqi::population::population(240, 11, 2023).enumerate() {
        let facts = read_facts(&prog, &json).unwrap();
        let start = history(&prog, &mut r, 2023, false);
        let added = simulate(&prog, &kernel, &facts, &start, 2023, &format!("row {i}"));
        properties(&prog, &start, &added, &format!("row {i}"));
        entries += added.len();
        // from an empty ledger: the history the years themselves write
        let added = simulate(&prog, &kernel, &facts, &Ledger::default(), 2023, &format!("row {i} empty"));
        properties(&prog, &Ledger::default(), &added, &format!("row {i} empty"));
        if i % 4 == 0 {
            // facts removed (unknown paths) and amounts near the decimal limits
            let mut thin = facts.clone();
            for (k, slot) in thin.values.iter_mut().enumerate() {
                if (k + i) % 3 == 0 {
                    *slot = None;
                }
            }
            simulate(&prog, &kernel, &thin, &start, 2023, &format!("row {i} thinned"));
            let big = scaled(&facts, &mut r);
            let huge = history(&prog, &mut r, 2023, true);
            simulate(&prog, &kernel, &big, &huge, 2023, &format!("row {i} huge"));
        }
    }
    assert!(entries > 40, "the years write entries ({entries})");
}

#[test]
fn a_history_that_overflows_is_handed_back_and_named_by_the_evaluator() {
    let prog = program(
        r#"
fact 金额: money "金额"
policy T "t" {
  clause 1 "补助" {
    quote "补助"
    responsible 省财政厅
    amount 金额
    cap 100万 total
  }
}
"#,
    );
    let kernel = Kernel::new(&prog);
    let facts = huiqi::eval::facts::parse_facts(&prog, r#"{"金额": "5000"}"#).unwrap();
    let huge = |period| LedgerEntry {
        policy: "T".into(),
        clause: "1".into(),
        key: None,
        period,
        amount: Decimal::MAX,
        balance: None,
        expires: None,
        kind: None,
    };
    let ledger = Ledger::new(vec![huge(2020), huge(2021)]);
    let mut v = Verdicts::default();
    assert_eq!(kernel.evaluate_ledger(&prog, &facts, &ledger, 2023, None, &mut v), Err(Delegate));
    let full = evaluate(&prog, &facts, &ledger, EvalOptions { period: 2023, as_of: None, explain: false });
    assert_eq!(full.errors.len(), 1);
    assert_eq!(full.errors[0].code, huiqi::diag::Code::Overflow);
    // one huge entry: the cap is used up, exhausted on both paths
    let ledger = Ledger::new(vec![huge(2020)]);
    agree_year(&prog, &kernel, &facts, &ledger, 2023, "one huge entry");
    kernel.evaluate_ledger(&prog, &facts, &ledger, 2023, None, &mut v).unwrap();
    assert_eq!(v.items[0].status, huiqi::Status::Exhausted);
}

/// `granted(…)`, `once in` across documents, `at most N years`, `once per year`, per-item
/// amounts (delegated with a ledger) and carried credits, over random histories.
#[test]
fn relations_and_history_limits_agree_over_random_histories() {
    let prog = program(
        r#"
fact 收入: money "收入"
fact 投资: money "投资"
fact 税额: money "税额"
fact 认定: boolean "认定"
record 人员 "人员" {
  身份证: text "身份证"
  工资: money "工资"
}
fact 人才: list 人员 "人才"
policy A "a" {
  clause 1 "首次奖励" {
    when 认定
    amount 20万
    once
    once in "认定奖励"
  }
  clause 2 "每年补助" {
    when not granted(A.1, 2)
    amount 收入 × 1%
    cap 30万 per year
    cap 50万 total
    at most 3 years
  }
  clause 3 "每人补贴" {
    amount each 人才 key 身份证 => 工资 × 10%
    once per item
    cap 1万 per item
  }
  clause 4 "抵免" {
    amount credit 投资 × 10% against 税额 carry 3 years
  }
  clause 5 "每年一次" {
    when 收入 超过 100万
    amount discretionary
    once per year
  }
}
policy B "b" {
  clause 1 "认定奖励" {
    when 认定
    amount 30万
    once in "认定奖励"
  }
}
"#,
    );
    let kernel = Kernel::new(&prog);
    assert_eq!(kernel.delegated(), 0);
    let mut r = SplitMix64::new(7);
    for i in 0..150 {
        let yuan = |r: &mut SplitMix64| format!("{}.{:02}", below(r, 5_000_000), below(r, 100));
        let people: Vec<String> = (0..below(&mut r, 3))
            .map(|k| format!(r#"{{"身份证": "{}", "工资": "{}"}}"#, below(&mut r, 3) + k, yuan(&mut r)))
            .collect();
        let text = format!(
            r#"{{"收入": "{}", "投资": "{}", "税额": "{}", "认定": {}, "人才": [{}]}}"#,
            yuan(&mut r),
            yuan(&mut r),
            yuan(&mut r),
            below(&mut r, 2) == 0,
            people.join(", ")
        );
        let facts = huiqi::eval::facts::parse_facts(&prog, &text).unwrap();
        let start = history(&prog, &mut r, 2023, i % 5 == 0);
        let added = simulate(&prog, &kernel, &facts, &start, 2023, &format!("case {i}: {text}"));
        properties(&prog, &start, &added, &format!("case {i}"));
    }
}

/// Per-item amounts with a ledger, on the kernel (none delegated): keys of every type (text,
/// an enumeration, money, a date) shown as the full evaluator shows them, `once per item`,
/// `cap … per item` and `cap … per item total` over earlier grants, discretionary items (an
/// entry of 0 per item decided), a selection with `where` and `first N by`; and
/// `qualifies(DOC.c)` with a ledger, which reads that clause's own history (here a one-time
/// award paid before) and writes no entries of its own.
#[test]
fn per_item_amounts_and_qualifies_agree_with_a_ledger() {
    let prog = program(
        r#"
fact 收入: money "收入"
fact 认定: boolean "认定"
enum 级别 "级别" { 省级, 国家级 }
record 人员 "人员" {
  身份证: text "身份证"
  工资: money "工资"
  级别: 级别 "级别"
  入职日期: date "入职日期"
}
fact 人才: list 人员 "人才"
record 站点记录 "站点" {
  建成日期: date "建成日期"
  投资: money "投资"
}
fact 站点: list 站点记录 "站点"
policy A "a" {
  clause 1 "首次奖励" {
    when 认定
    amount 20万
    once
  }
  clause 2 "资格奖励" {
    when qualifies(A.1)
    amount 收入 × 1%
  }
  clause 3 "每人补贴" {
    amount each 人才 where 工资 超过 0元 first 2 by 入职日期 key 身份证 => 工资 × 10%
    cap 5000元 per item
    cap 1万 per item total
  }
  clause 4 "按级别" {
    amount each 人才 key 级别 => 3000元
    once per item
  }
  clause 5 "站点" {
    amount each 站点 where year(建成日期) == period key 建成日期 => discretionary
    cap 10万 per item
    once per item
  }
  clause 6 "限额酌定" {
    when qualifies(A.3)
    amount each 人才 key 工资 => discretionary
    cap 2000元 per item total
  }
  clause 7 "按投资" {
    amount each 站点 key 投资 => 投资 × 1%
    cap 3万 per item total
  }
}
"#,
    );
    let kernel = Kernel::new(&prog);
    assert_eq!(kernel.delegated(), 0);
    let mut r = SplitMix64::new(15);
    let mut entries = 0usize;
    for i in 0..200 {
        let yuan = |r: &mut SplitMix64| format!("{}.{:02}", below(r, 200_000), below(r, 100));
        let date =
            |r: &mut SplitMix64| format!("{}-0{}-1{}", 2021 + below(r, 4), 1 + below(r, 9), below(r, 10));
        let people: Vec<String> = (0..below(&mut r, 4))
            .map(|_| {
                format!(
                    r#"{{"身份证": "{}", "工资": "{}", "级别": "{}", "入职日期": "{}"}}"#,
                    below(&mut r, 3),
                    if below(&mut r, 5) == 0 { "0".to_string() } else { yuan(&mut r) },
                    if below(&mut r, 2) == 0 { "省级" } else { "国家级" },
                    date(&mut r)
                )
            })
            .collect();
        let sites: Vec<String> = (0..below(&mut r, 3))
            .map(|_| format!(r#"{{"建成日期": "{}", "投资": "{}"}}"#, date(&mut r), yuan(&mut r)))
            .collect();
        let text = format!(
            r#"{{"收入": "{}", "认定": {}, "人才": [{}], "站点": [{}]}}"#,
            yuan(&mut r),
            below(&mut r, 3) != 0,
            people.join(", "),
            sites.join(", ")
        );
        let facts = huiqi::eval::facts::parse_facts(&prog, &text).unwrap();
        // histories with keys the items have (shown as the full evaluator shows them)
        let mut start = history(&prog, &mut r, 2023, i % 7 == 0);
        for e in &mut start.entries {
            let key = match &*e.clause {
                "3" => Some(format!("{}", below(&mut r, 3))),
                "4" => Some(if below(&mut r, 2) == 0 { "省级".into() } else { "国家级".into() }),
                "5" => Some(date(&mut r)),
                "6" | "7" => Some(huiqi::value::fmt_money(Decimal::new(
                    i64::try_from(below(&mut r, 20_000_000)).unwrap(),
                    2,
                ))),
                _ => None,
            };
            if let Some(k) = key {
                e.key = Some(Arc::from(k));
            }
        }
        let added = simulate(&prog, &kernel, &facts, &start, 2023, &format!("case {i}: {text}"));
        properties(&prog, &start, &added, &format!("case {i}"));
        entries += added.len();
        // from an empty ledger, and with no ledger at all (the batch path)
        simulate(&prog, &kernel, &facts, &Ledger::default(), 2023, &format!("case {i} empty"));
        let full = evaluate(
            &prog,
            &facts,
            &Ledger::default(),
            EvalOptions { period: 2024, as_of: None, explain: false },
        );
        let mut v = Verdicts::default();
        if kernel.evaluate(&prog, &facts, 2024, None, &mut v).is_ok() {
            for (k, f) in v.items.iter().zip(&full.results) {
                assert_eq!(
                    (k.status, format!("{:?}", k.amount)),
                    (f.status, format!("{:?}", f.amount)),
                    "case {i}"
                );
            }
        }
    }
    assert!(entries > 100, "the years write entries ({entries})");
}
