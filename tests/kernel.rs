#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]
//! The lean path (`huiqi::eval::kernel`) against the full evaluator: for every evaluated
//! clause, the same status and the same amount to the scale (`1234.5670` is not `1234.567`),
//! over generated populations in several periods, with facts removed to reach the unknown
//! paths, over the policies' own test facts and the bundled examples; arithmetic failures are
//! handed back, never guessed.

use huiqi::eval::facts::{Facts, read_facts};
use huiqi::eval::kernel::{Delegate, Kernel, Verdicts};
use huiqi::eval::{EvalOptions, Ledger, evaluate};
use huiqi::ir::Program;

mod common;
use common::{program, seed_program};

/// Both paths on one enterprise; panics with the clause on the first difference.
fn agree(prog: &Program, kernel: &Kernel, facts: &Facts, period: i32, what: &str) {
    let full = evaluate(prog, facts, &Ledger::default(), EvalOptions { period, as_of: None, explain: false });
    let mut v = Verdicts::default();
    match kernel.evaluate(prog, facts, period, None, &mut v) {
        Err(Delegate) => {
            assert!(!full.errors.is_empty(), "{what}: the kernel handed back an enterprise without errors")
        }
        Ok(()) => {
            assert!(full.errors.is_empty(), "{what}: the kernel missed {:?}", full.errors);
            assert_eq!(v.items.len(), full.results.len(), "{what}");
            for (k, r) in v.items.iter().zip(&full.results) {
                let c = prog.clause_ref(r.clause);
                assert_eq!(k.clause, r.clause, "{what}");
                assert_eq!(k.status, r.status, "{what}: {c} status");
                assert_eq!(format!("{:?}", k.amount), format!("{:?}", r.amount), "{what}: {c} amount");
            }
            assert_eq!(v.total().unwrap().to_string(), full.total().unwrap().to_string(), "{what}: total");
        }
    }
}

#[test]
fn the_kernel_compiles_every_seed_clause() {
    let prog = seed_program();
    let kernel = Kernel::new(&prog);
    assert_eq!(kernel.delegated(), 0, "every seed clause runs on the lean path");
    assert_eq!(kernel.clauses().count(), prog.clauses.iter().filter(|c| c.kind.evaluated()).count());
}

#[test]
fn the_kernel_agrees_with_the_evaluator_over_generated_populations() {
    let prog = seed_program();
    let kernel = Kernel::new(&prog);
    let mut granted = 0usize;
    for (period, seed) in [(2022, 1), (2023, 2), (2024, 3), (2025, 4), (2026, 5)] {
        for (i, json) in huiqi::population::population(400, seed, period).enumerate() {
            let facts = read_facts(&prog, &json).unwrap();
            agree(&prog, &kernel, &facts, period, &format!("seed {seed} row {i}"));
            // the period before and after: first-time, increases and windows over history
            agree(&prog, &kernel, &facts, period - 1, &format!("seed {seed} row {i} period - 1"));
            // facts removed: every third slot, shifted by the row, reaches the unknown paths
            let mut thin = facts.clone();
            for (k, slot) in thin.values.iter_mut().enumerate() {
                if (k + i) % 3 == 0 {
                    *slot = None;
                }
            }
            agree(&prog, &kernel, &thin, period, &format!("seed {seed} row {i} thinned"));
            let mut v = Verdicts::default();
            if kernel.evaluate(&prog, &facts, period, None, &mut v).is_ok() {
                granted += v.items.iter().filter(|x| x.status == huiqi::Status::Granted).count();
            }
        }
    }
    assert!(granted > 1000, "the populations grant something ({granted})");
}

#[test]
fn the_kernel_agrees_on_the_policies_tests_and_the_examples() {
    let prog = seed_program();
    let kernel = Kernel::new(&prog);
    for t in &prog.tests {
        let Ok(facts) = read_facts(&prog, &t.facts) else { continue };
        let period = t.period.unwrap_or(2024);
        agree(&prog, &kernel, &facts, period, &t.name);
    }
    for entry in std::fs::read_dir("examples").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let facts = huiqi::eval::facts::parse_facts(&prog, &text).unwrap();
        for period in 2022..=2026 {
            agree(&prog, &kernel, &facts, period, &path.display().to_string());
        }
    }
}

#[test]
fn an_arithmetic_failure_is_handed_back_to_the_evaluator() {
    let prog = program(
        r#"
fact 金额: money "金额"
fact 份数: number "份数"
policy T "t" {
  clause 1 "平均" {
    quote "按份数平均"
    responsible 省财政厅
    amount 金额 / 份数
  }
}
"#,
    );
    let kernel = Kernel::new(&prog);
    assert_eq!(kernel.delegated(), 0);
    let zero = huiqi::eval::facts::parse_facts(&prog, r#"{"金额": "30万", "份数": 0}"#).unwrap();
    let mut v = Verdicts::default();
    assert_eq!(kernel.evaluate(&prog, &zero, 2024, None, &mut v), Err(Delegate));
    agree(&prog, &kernel, &zero, 2024, "division by zero");
    // 30万 / 4 = 75000
    let four = huiqi::eval::facts::parse_facts(&prog, r#"{"金额": "30万", "份数": 4}"#).unwrap();
    assert_eq!(kernel.evaluate(&prog, &four, 2024, None, &mut v), Ok(()));
    assert_eq!(v.total().unwrap().to_string(), "75000");
}

#[test]
fn constants_prepared_for_comparison_order_as_decimals_do() {
    // thresholds at every scale against values at every scale, both signs, at the edges
    let prog = program(
        r#"
fact x: money signed "x"
policy T "t" {
  rounding none
  clause a "a" {
    quote "q"
    responsible r
    when x 达到 1.5万 and x 不超过 3000000.005元
    amount min(x, 2万) + max(x, -0.01元)
  }
}
"#,
    );
    let kernel = Kernel::new(&prog);
    for x in [
        "15000",
        "14999.999",
        "15000.000",
        "1.5e4",
        "20000.0001",
        "3000000.005",
        "3000000.0050001",
        "-3",
        "0",
    ] {
        let facts = huiqi::eval::facts::parse_facts(&prog, &format!(r#"{{"x": "{x}"}}"#)).unwrap();
        agree(&prog, &kernel, &facts, 2024, x);
    }
}

/// Found by the `compile` fuzz target on the E0504 fixture: when the total overflows, the
/// evaluator lists it among its errors and the kernel's `total` reports it; both name the
/// same clause, and the clauses themselves agree.
#[test]
fn a_total_that_overflows_is_reported_by_both_paths() {
    let prog = program(
        r#"
fact 销售价格: money "销售价格"
policy D "示例" {
  rounding none
  clause 1 "一半" {
    quote "一半"
    responsible r
    amount 销售价格 × 60%
  }
  clause 2 "另一半" {
    quote "另一半"
    responsible r
    amount 销售价格 × 60%
  }
}
"#,
    );
    let kernel = Kernel::new(&prog);
    let facts =
        huiqi::eval::facts::parse_facts(&prog, r#"{"销售价格": 70000000000000000000000000000}"#).unwrap();
    let full = evaluate(
        &prog,
        &facts,
        &Ledger::default(),
        EvalOptions { period: 2024, as_of: None, explain: false },
    );
    let mut v = Verdicts::default();
    kernel.evaluate(&prog, &facts, 2024, None, &mut v).unwrap();
    for (k, r) in v.items.iter().zip(&full.results) {
        assert_eq!((k.status, k.amount), (r.status, r.amount));
    }
    let (a, b) = (v.total().unwrap_err(), full.total().unwrap_err());
    assert_eq!((a.clause, a.code), (b.clause, b.code));
    assert!(full.errors.iter().all(|e| e.code == huiqi::diag::Code::TotalOverflow), "{:?}", full.errors);
}

/// Time within the year: the policies' test facts (TH23.8b–8e, GZ19.15, 18 and the roster
/// dates of 16b/17/22 among them) evaluated on as-of dates across the year — month ends, the
/// leap day, mid-month — so that anniversaries, whole months and `never` dates are reached
/// on both sides; the kernel agrees with the evaluator or hands back exactly the failures.
#[test]
fn the_kernel_agrees_on_dates_within_the_year() {
    let prog = seed_program();
    let kernel = Kernel::new(&prog);
    let days = [
        "01-01", "01-31", "02-28", "02-29", "03-01", "03-15", "06-14", "06-15", "07-13", "09-01", "09-30",
        "11-10", "11-11", "12-31",
    ];
    let mut checked = 0usize;
    for t in prog.tests.iter().filter(|t| {
        t.name.starts_with("TH23.8") || t.name.starts_with("GZ19.1") || t.name.starts_with("TH23.5b")
    }) {
        let Ok(facts) = read_facts(&prog, &t.facts) else { continue };
        let period = t.period.unwrap_or(2024);
        for d in days {
            let Ok(as_of) = format!("{period}-{d}").parse::<huiqi::value::Date>() else { continue };
            let full = evaluate(
                &prog,
                &facts,
                &Ledger::default(),
                EvalOptions { period, as_of: Some(as_of), explain: false },
            );
            let mut v = Verdicts::default();
            match kernel.evaluate(&prog, &facts, period, Some(as_of), &mut v) {
                Err(Delegate) => {
                    assert!(!full.errors.is_empty(), "{} on {as_of}: handed back without errors", t.name)
                }
                Ok(()) => {
                    assert!(
                        full.errors.is_empty(),
                        "{} on {as_of}: the kernel missed {:?}",
                        t.name,
                        full.errors
                    );
                    for (k, r) in v.items.iter().zip(&full.results) {
                        let c = prog.clause_ref(r.clause);
                        assert_eq!(k.status, r.status, "{} on {as_of}: {c} status", t.name);
                        assert_eq!(
                            format!("{:?}", k.amount),
                            format!("{:?}", r.amount),
                            "{} on {as_of}: {c}",
                            t.name
                        );
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked} evaluations");
}

/// Amendments (`amends`, `extends`, `repeals`), `once in` and `granted(…)`: the kernel reads
/// the version of each period and ranks `once in` groups as the evaluator does (on an empty
/// ledger `granted` is false and `once in` has no history to read).
#[test]
fn the_kernel_agrees_on_amendments_and_relations() {
    let prog = program(
        r#"
fact 研发投入: money "研发投入"
fact 收入: money "营业收入"
policy OLDK "原文件" {
  issued 2020-01-01
  in force 2020-01-01 to 2022-12-31
  clause 1 "市级" { when 研发投入 超过 0元 amount 研发投入 × 10% cap 20万 once in "同类" }
  clause 2 "奖励" { when 收入 达到 1亿 amount 30万 once }
  clause 3 "专项" { amount 收入 × 1% cap 5万 }
}
policy NEWK "修改文件" {
  issued 2023-03-01
  in force 2023-01-01 to 2026-12-31
  extends OLDK to 2024-12-31
  amends OLDK.2 from 2024-01-01 { when 收入 达到 2亿 amount 50万 }
  amends OLDK.1 from 2025-01-01 { cap 40万 }
  repeals OLDK.3 from 2024-07-01
  clause 1 "区级" { when 研发投入 超过 0元 amount 研发投入 × 15% cap 30万 once in "同类" }
  clause 2 "两年一次" { when not granted(NEWK.2, 1) amount 2万 }
}
"#,
    );
    let kernel = Kernel::new(&prog);
    assert_eq!(kernel.delegated(), 0);
    let amounts =
        ["0", "1", "999999.99", "1000000", "1333333.33", "2000000", "3000000", "150000000", "200000000"];
    for (i, rd) in amounts.iter().enumerate() {
        for income in amounts.iter().skip(i % 3) {
            let json = format!(r#"{{ "研发投入": "{rd}", "收入": "{income}" }}"#);
            let facts = huiqi::eval::facts::parse_facts(&prog, &json).unwrap();
            for period in 2019..=2027 {
                agree(&prog, &kernel, &facts, period, &format!("研发投入 {rd}, 收入 {income}, {period}"));
            }
        }
    }
}

/// `each … => discretionary` (each item decided up to its cap) and a definition whose value is
/// an enumeration value (`define 划型: 企业规模类别 = if … then 中型 else 小型`), read by `in`
/// and as the subject of `by`: the kernel compiles both and agrees on status and amount.
#[test]
fn the_kernel_agrees_on_discretionary_items_and_category_definitions() {
    let prog = program(
        r#"
enum 规模 "规模" { 大型, 中型, 小型 }
record 人员记录 "人员" {
  身份证号: text "身份证号"
  日期: date "招用日期"
}
fact 人员: list 人员记录 "人员"
fact 收入: money "营业收入"
define 划型: 规模 "按收入划型" = if 收入 达到 4亿 then 大型 else if 收入 达到 2000万 then 中型 else 小型
policy K "k" {
  clause 1 "每人酌定" {
    amount each 人员 where year(日期) == period key 身份证号 => discretionary
    cap 1000元 per item
    once per item
  }
  clause 2 "零上限" {
    amount each 人员 key 身份证号 => discretionary
    cap 0元 per item
  }
  clause 3 "按划型" {
    when 划型 in { 中型, 小型 }
    amount by 划型 { 中型 => 10万, 小型 => 5万 }
  }
}
"#,
    );
    let kernel = Kernel::new(&prog);
    assert_eq!(kernel.delegated(), 0);
    let people = [
        r#"[]"#,
        r#"[{"身份证号": "A", "日期": "2024-03-01"}]"#,
        r#"[{"身份证号": "A", "日期": "2023-03-01"}, {"身份证号": "B", "日期": "2024-12-31"}]"#,
        r#"[{"日期": "2024-03-01"}]"#,
    ];
    let incomes = ["0", "19999999.99", "20000000", "399999999", "400000000"];
    for p in people {
        for income in incomes {
            let json = format!(r#"{{ "人员": {p}, "收入": "{income}" }}"#);
            let facts = huiqi::eval::facts::parse_facts(&prog, &json).unwrap();
            for period in 2023..=2025 {
                agree(&prog, &kernel, &facts, period, &format!("{json} in {period}"));
            }
        }
        let json = format!(r#"{{ "人员": {p} }}"#);
        let facts = huiqi::eval::facts::parse_facts(&prog, &json).unwrap();
        agree(&prog, &kernel, &facts, 2024, &json);
    }
    // 收入 2000万 is 中型 (达到 includes it): 10万; 1999.99…万 is 小型: 5万; 4亿 is 大型: none
    let at = |income: &str| {
        let facts =
            huiqi::eval::facts::parse_facts(&prog, &format!(r#"{{ "人员": [], "收入": "{income}" }}"#))
                .unwrap();
        let out = evaluate(
            &prog,
            &facts,
            &Ledger::default(),
            EvalOptions { period: 2024, as_of: None, explain: false },
        );
        let r = out.results.iter().find(|r| prog.clause_ref(r.clause) == "K.3").unwrap();
        (r.status, r.amount.map(|a| a.normalize().to_string()))
    };
    assert_eq!(at("20000000"), (huiqi::Status::Granted, Some("100000".into())));
    assert_eq!(at("19999999.99"), (huiqi::Status::Granted, Some("50000".into())));
    assert_eq!(at("400000000").0, huiqi::Status::Ineligible);
}

/// `qualifies(DOC.c)`: the kernel compiles the clause read in place, in the version of the
/// period (here amended from 2025), and agrees with the evaluator whatever the declaration
/// order, with exclusions applied after the read.
#[test]
fn the_kernel_agrees_on_clauses_read_by_qualifies() {
    let prog = program(
        r#"
fact 收入: money "营业收入"
fact 研发: money "研发投入"
policy QK "q" {
  issued 2020-01-01
  clause 1 "追加" { when qualifies(QK.2) and 研发 达到 500万 amount 10万 }
  clause 2 "规模" { when 收入 达到 1亿 amount 30万 }
  clause 3 "酌定" { when not qualifies(QK.1) and 收入 达到 1000万 amount discretionary }
  clause 4 "排除" { when 收入 达到 3亿 amount 50万 excludes QK.2 }
}
policy QK2 "修改" {
  issued 2024-06-01
  amends QK.2 from 2025-01-01 { when 收入 达到 2亿 }
}
"#,
    );
    let kernel = Kernel::new(&prog);
    assert_eq!(kernel.delegated(), 0);
    let amounts = ["0", "1000万", "99999999.99", "1亿", "1.5亿", "2亿", "3亿"];
    for income in amounts {
        for rd in ["0", "499万", "500万"] {
            let json = format!(r#"{{ "收入": "{income}", "研发": "{rd}" }}"#);
            let facts = huiqi::eval::facts::parse_facts(&prog, &json).unwrap();
            for period in 2023..=2026 {
                agree(&prog, &kernel, &facts, period, &format!("{json} in {period}"));
            }
        }
        let facts = huiqi::eval::facts::parse_facts(&prog, &format!(r#"{{ "收入": "{income}" }}"#)).unwrap();
        agree(&prog, &kernel, &facts, 2024, income);
    }
    // 1.5亿 in 2024: QK.2 (达到 1亿) qualifies, QK.1 10万; in 2025 QK.2 needs 2亿: QK.1 ineligible
    let facts = huiqi::eval::facts::parse_facts(&prog, r#"{ "收入": "1.5亿", "研发": "500万" }"#).unwrap();
    let status = |period| {
        let out =
            evaluate(&prog, &facts, &Ledger::default(), EvalOptions { period, as_of: None, explain: false });
        out.results.iter().find(|r| prog.clause_ref(r.clause) == "QK.1").unwrap().status
    };
    assert_eq!(status(2024), huiqi::Status::Granted);
    assert_eq!(status(2025), huiqi::Status::Ineligible);
}

/// Named tables (`table …`, read as `NAME(x)`): tier and bracket tables with later versions
/// and parameter bounds, read in conditions, amounts, caps, definitions and a clause dated
/// earlier. The kernel compiles every read (no clause delegated) and agrees with the evaluator
/// at every edge of every row, in every version, and with the value unknown.
#[test]
fn the_kernel_agrees_on_named_tables() {
    let prog = program(
        r#"
fact 收入: series money "营业收入"
fact 所得: money "所得"
fact 人数: integer "人数"
parameter 起点: money "起点" {
  1亿 from 2020-01-01
  2亿 from 2025-01-01
}
parameter 第一段: money "第一段上限" {
  300万 from 2020-01-01
  500万 from 2023-01-01
}
table 规模表 "规模奖励" tiers {
  达到 起点 => 30万
  达到 5亿  => 50万
} from 2022-01-01 {
  达到 起点 => 30万
  达到 5亿  => 50万
  超过 10亿 => 100万
} from 2024-07-01 {
  达到 起点 => 35万
  达到 8亿  => 80万
}
table 比例表 "人数比例" tiers {
  达到 0   => 20%
  超过 100 => 10%
}
table 累进表 "累进" brackets {
  up to 第一段 => 10%
  above        => 5%
} from 2024-01-01 {
  up to 第一段 => 10%
  up to 2000万 => 8%
  above        => 4%
}
define 奖励 = 规模表(收入)
policy K "k" {
  issued 2020-01-01
  clause 1 "读表" { quote "q" responsible 厅 amount 规模表(收入) }
  clause 2 "定义" { quote "q" responsible 厅 when 奖励 达到 50万 amount 奖励 × 比例表(人数) }
  clause 3 "早前标准" { quote "q" responsible 厅 dated 2022-06-30 amount 规模表(收入) }
  clause 4 "累进" { quote "q" responsible 厅 amount 累进表(所得) cap 规模表(收入) }
  clause 5 "比例" { quote "q" responsible 厅 when 比例表(人数) 超过 10% amount 所得 × 比例表(人数) }
}
"#,
    );
    let kernel = Kernel::new(&prog);
    assert_eq!(kernel.delegated(), 0, "every table read runs on the lean path");
    let incomes = [
        "0元",
        "99999999.99",
        "1亿",
        "1.5亿",
        "2亿",
        "499999999.99",
        "5亿",
        "8亿",
        "10亿",
        "1000000000.01",
        "12亿",
    ];
    let gains = ["0元", "299.99万", "300万", "300.01万", "500万", "1999.99万", "2000万", "3000万"];
    let counts = ["0", "100", "101"];
    let mut checked = 0usize;
    for period in 2019..=2026 {
        for (i, income) in incomes.iter().enumerate() {
            for (j, gain) in gains.iter().enumerate() {
                let count = counts.get((i + j) % counts.len()).unwrap();
                let json = format!(
                    r#"{{ "收入": {{ "{period}": "{income}" }}, "所得": "{gain}", "人数": {count} }}"#
                );
                let facts = huiqi::eval::facts::parse_facts(&prog, &json).unwrap();
                agree(&prog, &kernel, &facts, period, &json);
                // the value read unknown
                let thin =
                    huiqi::eval::facts::parse_facts(&prog, &format!(r#"{{ "所得": "{gain}" }}"#)).unwrap();
                agree(&prog, &kernel, &thin, period, "收入 unknown");
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "{checked} enterprises");
}
