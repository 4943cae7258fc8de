#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
//! The time-and-history model: ledger-based limits hold over any history (property tests),
//! `simulate` equals single-year evaluations threading the ledger by hand, and the worked
//! carry-forward example explains itself with numbers.

use huiqi::eval::facts::read_facts;
use huiqi::eval::simulate::simulate;
use huiqi::eval::{EvalOptions, Lang, Ledger, LedgerEntry, Status, evaluate};
use huiqi::{Compiled, Input, compile};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};

const RULES: &str = r#"
fact 利息: series money
fact 收入: series money
fact 投资: series money
fact 应纳税额: series money
policy H "历史" {
  clause cap "年度与累计上限" {
    amount 利息 × 50%
    cap 3万 per year
    cap 10万 total
    at most 3 years
  }
  clause once "一次性" {
    when 收入 达到 1亿
    amount 30万
    once
  }
  clause tier "分档一次性" {
    amount tiers first time 收入 pay highest {
      达到 1亿 => 30万
      达到 5亿 => 50万
    }
    once per tier
  }
  clause credit "结转抵免" {
    amount credit 投资 × 10% against 应纳税额 carry 5 years
  }
}
"#;

fn rules() -> Compiled {
    compile(&Input::from_rules([("h.policy".to_string(), RULES.to_string())])).expect("rules compile")
}

fn series(v: &[(i32, i64)]) -> serde_json::Value {
    serde_json::Value::Object(v.iter().map(|(y, x)| (y.to_string(), serde_json::Value::from(*x))).collect())
}

fn entries<'a>(l: &'a Ledger, clause: &str) -> Vec<&'a LedgerEntry> {
    l.entries.iter().filter(|e| &*e.clause == clause).collect()
}

fn money() -> impl Strategy<Value = i64> {
    prop_oneof![Just(0i64), 1i64..200_000, 200_000i64..2_000_000, 50_000_000i64..900_000_000]
}

fn history() -> impl Strategy<Value = Vec<(i32, i64)>> {
    proptest::collection::vec(money(), 12)
        .prop_map(|v| v.into_iter().enumerate().map(|(i, x)| (2015 + i as i32, x)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn caps_and_years_are_never_exceeded(interest in history(), start in proptest::option::of(0i64..120_000)) {
        let c = rules();
        let facts = read_facts(&c.program, &serde_json::json!({ "利息": series(&interest) })).unwrap();
        let mut ledger = Ledger::default();
        if let Some(a) = start {
            ledger.entries.push(LedgerEntry { policy: "H".into(), clause: "cap".into(), key: None, period: 2014, amount: Decimal::from(a), balance: None, expires: None, kind: None });
        }
        let years = simulate(&c.program, &facts, &ledger, 2015, 2026, false);
        let last = &years.last().unwrap().ledger;
        let cap = entries(last, "cap");
        let mut per_year: BTreeMap<i32, Decimal> = BTreeMap::new();
        for e in &cap {
            *per_year.entry(e.period).or_default() += e.amount;
        }
        let total: Decimal = cap.iter().map(|e| e.amount).sum();
        let start_total = Decimal::from(start.unwrap_or(0));
        // the lifetime cap counts what the ledger already held: never more than 10万 in all,
        // unless the ledger alone was already past it (then nothing more is granted)
        prop_assert!(total <= Decimal::from(100_000).max(start_total), "total {total}");
        for (y, s) in &per_year {
            if *y >= 2015 {
                prop_assert!(*s <= Decimal::from(30_000), "year {y}: {s}");
            }
        }
        let granted_years: BTreeSet<i32> = cap.iter().filter(|e| !e.amount.is_zero()).map(|e| e.period).collect();
        prop_assert!(granted_years.len() <= 3, "years {granted_years:?}");
    }

    #[test]
    fn one_time_awards_never_pay_twice(revenue in history()) {
        let c = rules();
        let facts = read_facts(&c.program, &serde_json::json!({ "收入": series(&revenue) })).unwrap();
        let years = simulate(&c.program, &facts, &Ledger::default(), 2015, 2026, false);
        let last = &years.last().unwrap().ledger;
        prop_assert!(entries(last, "once").len() <= 1);
        let mut keys = BTreeMap::new();
        for e in entries(last, "tier") {
            *keys.entry(e.key.clone()).or_insert(0) += 1;
        }
        prop_assert!(keys.values().all(|n| *n == 1), "{keys:?}");
    }

    #[test]
    fn carried_credit_never_exceeds_what_was_earned_nor_outlives_expiry(invest in history(), tax in history()) {
        let c = rules();
        let facts = read_facts(&c.program, &serde_json::json!({ "投资": series(&invest), "应纳税额": series(&tax) })).unwrap();
        let years = simulate(&c.program, &facts, &Ledger::default(), 2015, 2026, false);
        let last = &years.last().unwrap().ledger;
        let credit = entries(last, "credit");
        let earned: BTreeMap<i32, Decimal> = invest.iter().map(|(y, x)| (*y, (Decimal::from(*x) * Decimal::new(1, 1)).round_dp(2))).collect();
        let mut used: BTreeMap<i32, Decimal> = BTreeMap::new();
        let mut used_in_year: BTreeMap<i32, Decimal> = BTreeMap::new();
        for e in &credit {
            let origin: i32 = e.key.as_deref().unwrap().parse().unwrap();
            prop_assert!(e.period <= origin + 5, "credit from {origin} used in {}", e.period);
            prop_assert!(e.balance.unwrap() >= Decimal::ZERO);
            *used.entry(origin).or_default() += e.amount;
            *used_in_year.entry(e.period).or_default() += e.amount;
        }
        for (origin, u) in &used {
            prop_assert!(*u <= earned[origin], "used {u} of {}", earned[origin]);
        }
        for (y, u) in &used_in_year {
            let cap = tax.iter().find(|(t, _)| t == y).map_or(Decimal::ZERO, |(_, x)| Decimal::from(*x));
            prop_assert!(*u <= cap, "{y}: used {u} against tax {cap}");
        }
    }

    #[test]
    fn simulate_equals_single_years_threading_the_ledger(interest in history(), revenue in history(), invest in history()) {
        let c = rules();
        let facts = read_facts(&c.program, &serde_json::json!({
            "利息": series(&interest), "收入": series(&revenue), "投资": series(&invest), "应纳税额": series(&interest)
        })).unwrap();
        let sim = simulate(&c.program, &facts, &Ledger::default(), 2015, 2026, true);
        let mut ledger = Ledger::default();
        for (i, year) in (2015..=2026).enumerate() {
            let o = evaluate(&c.program, &facts, &ledger, EvalOptions { period: year, as_of: None, explain: true });
            ledger.extend(o.new_entries().cloned());
            prop_assert_eq!(&o, &sim[i].outcome);
            prop_assert_eq!(&ledger, &sim[i].ledger);
        }
    }
}

/// The worked example of the design: credit 100万 earned in 2013 (1000万 × 10%); tax payable
/// 30万 in 2013 and 50万 in 2014 → 30万 used 2013, 50万 used 2014, 20万 carried, which expires
/// after 2018 if never used.
#[test]
fn carry_forward_worked_example() {
    let c = rules();
    let facts = read_facts(
        &c.program,
        &serde_json::json!({ "投资": { "2013": "1000万", "2014": 0, "2015": 0, "2016": 0, "2017": 0, "2018": 0, "2019": 0 }, "应纳税额": { "2013": "30万", "2014": "50万", "2015": 0, "2016": 0, "2017": 0, "2018": 0, "2019": "90万" } }),
    )
    .unwrap();
    let years = simulate(&c.program, &facts, &Ledger::default(), 2013, 2019, true);
    let amount = |y: usize| {
        years[y]
            .outcome
            .results
            .iter()
            .find(|r| c.program.clause_ref(r.clause) == "H.credit")
            .unwrap()
            .clone()
    };
    assert_eq!(amount(0).amount, Some(Decimal::from(300_000)));
    assert_eq!(amount(1).amount, Some(Decimal::from(500_000)));
    let text: Vec<String> = amount(1).steps.iter().map(|s| s.render(&c.program, Lang::En)).collect();
    assert!(
        text.iter()
            .any(|t| t
                == "credit from 2013: 50万 used this year (against 50万), 20万 carried, expires after 2018"),
        "{text:?}"
    );
    // 2018 is the last year the 2013 credit may be used; nothing is left for 2019
    let r2019 = amount(6);
    assert_eq!(r2019.status, Status::Ineligible);
    let expired: Vec<String> = r2019.steps.iter().map(|s| s.render(&c.program, Lang::En)).collect();
    assert!(expired.iter().any(|t| t == "credit from 2013: 20万 left expired after 2018"), "{expired:?}");
}

/// Lifetime cap explanation with numbers: "lifetime cap …: … granted in 2023, … left".
#[test]
fn lifetime_cap_explains_itself() {
    let c = rules();
    let facts = read_facts(&c.program, &serde_json::json!({ "利息": { "2024": "20万" } })).unwrap();
    let ledger = Ledger::new(vec![LedgerEntry {
        policy: "H".into(),
        clause: "cap".into(),
        key: None,
        period: 2023,
        amount: Decimal::from(80_000),
        balance: None,
        expires: None,
        kind: None,
    }]);
    let o = evaluate(&c.program, &facts, &ledger, EvalOptions::new(2024));
    let r = o.results.iter().find(|r| c.program.clause_ref(r.clause) == "H.cap").unwrap();
    // 20万 × 50% = 10万 → per-year cap 3万 → lifetime 10万 − 8万 = 2万 left → 2万
    assert_eq!(r.amount, Some(Decimal::from(20_000)));
    let text: Vec<String> = r.steps.iter().map(|s| s.render(&c.program, Lang::En)).collect();
    assert!(
        text.iter().any(|t| t == "lifetime cap 10万: 8万 granted in 2023, 2万 left; this grant 2万"),
        "{text:?}"
    );
    assert!(text.iter().any(|t| t.starts_with("second of at most 3 years")), "{text:?}");
}

/// T13.14a as encoded in policies/: a 1000万 special-equipment purchase in 2013 and uneven tax
/// payable over seven years, threaded by `simulate`.
#[test]
fn t13_14a_equipment_credit_over_seven_years() {
    let input = huiqi::load::load(&["policies".into()]).unwrap();
    let c = compile(&input).map_err(|f| f.diagnostics.len()).unwrap();
    let facts = read_facts(
        &c.program,
        &serde_json::json!({
            "专用设备投资": { "2013": "1000万", "2014": 0, "2015": 0, "2016": 0, "2017": 0, "2018": 0, "2019": 0 },
            "应纳所得税额": { "2013": "30万", "2014": "50万", "2015": "5万", "2016": 0, "2017": "5万", "2018": "3万", "2019": "10万" }
        }),
    )
    .unwrap();
    let years = simulate(&c.program, &facts, &Ledger::default(), 2013, 2019, true);
    let t13 = |y: &huiqi::eval::simulate::YearOutcome| {
        y.outcome.results.iter().find(|r| c.program.clause_ref(r.clause) == "T13.14a").unwrap().clone()
    };
    // credit 1000万 × 10% = 100万 (usable 2013–2018): used 30万, 50万, 5万, 0, 5万, 3万 = 93万;
    // the 7万 left expires after 2018, so 2019 has nothing to use
    let used: Vec<Option<Decimal>> = years.iter().map(|y| t13(y).amount).collect();
    let wan = |n: i64| Some(Decimal::from(n * 10_000));
    assert_eq!(used[..6], [wan(30), wan(50), wan(5), Some(Decimal::ZERO), wan(5), wan(3)]);
    assert_eq!(t13(&years[6]).status, Status::Ineligible);
    let last = &years[5].ledger;
    let e2018 = last.entries.iter().rev().find(|e| &*e.clause == "14a").unwrap();
    assert_eq!((e2018.balance, e2018.expires), (Some(Decimal::from(70_000)), Some(2018)));
    // a tax relief: never part of the cash total
    assert!(years.iter().all(|y| y.outcome.total().unwrap().is_zero()));
}
