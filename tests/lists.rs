#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]
//! Amounts over lists of persons and items: `max`/`min` over a list, `first N by KEY
//! descending`, definitions read on one item, `each … key … =>` with `cap … per item`,
//! `cap … per item total` and `once per item` counted per key in the ledger, and `once per
//! year`. Each number is worked out beside its assertion; the lean path must agree with the
//! evaluator wherever it runs.

use huiqi::Status;
use huiqi::eval::facts::parse_facts;
use huiqi::eval::kernel::{Kernel, Verdicts};
use huiqi::eval::{EvalOptions, Ledger, LedgerEntry, evaluate};
use huiqi::ir::Program;
use rust_decimal::Decimal;

mod common;

const RULES: &str = r#"
record 见习人员记录 "见习人员" {
  证件号码: text "身份证号码"
  月数: integer "本年见习月数"
  留用: boolean "见习期满是否留用"
}
record 项目记录 "项目" {
  投资额: money "投资额"
  立项日期: date "立项日期"
}
fact 见习人员: list 见习人员记录 "见习人员"
fact 项目: list 项目记录 "项目"
define 大项目(项目记录) "投资额1000万元以上的项目" = 投资额 达到 1000万
policy T "t" {
  clause 1 "见习补贴" {
    quote "按每人每月3000元给予见习补贴，单人每年最高2万元，每人累计不超过3.6万元"
    responsible 人社局
    amount each 见习人员 where 月数 > 0 key 证件号码 => 3000元 * 月数
    cap 2万 per item
    cap 3.6万 per item total
  }
  clause 2 "留用奖励" {
    quote "见习期满留用的，每人一次性奖励2000元"
    responsible 人社局
    amount each 见习人员 where 留用 key 证件号码 => 2000元
    once per item
  }
  clause 3 "最大项目" {
    quote "按单个项目最大投资额的10%给予补助"
    responsible 发改委
    amount max(项目, 投资额) * 10%
  }
  clause 4 "前两大项目" {
    quote "投资额1000万元以上的项目，按投资额最大的2个项目的5%给予补助"
    responsible 发改委
    amount sum(项目 where 大项目 first 2 by 投资额 descending, 投资额 * 5%)
  }
  clause 5 "每年一次" {
    quote "每年可申报一次，每次1万元"
    responsible 发改委
    when count(项目) > 0
    amount 1万
    once per year
  }
  clause 6 "最早项目" {
    quote "按最早立项项目投资额的1%给予补助"
    responsible 发改委
    amount sum(项目 first 1 by 立项日期, 投资额 * 1%)
  }
}
"#;

const FACTS: &str = r#"{
  "见习人员": [
    {"证件号码": "A001", "月数": 8, "留用": true},
    {"证件号码": "B002", "月数": 4, "留用": true},
    {"证件号码": "C003", "月数": 0, "留用": false}
  ],
  "项目": [
    {"投资额": "1500万", "立项日期": "2022-05-01"},
    {"投资额": "800万", "立项日期": "2021-03-01"},
    {"投资额": "2000万", "立项日期": "2023-01-10"},
    {"投资额": "1200万", "立项日期": "2022-09-01"}
  ]
}"#;

fn program() -> Program {
    common::program(RULES)
}

fn entry(clause: &str, key: Option<&str>, period: i32, amount: &str) -> LedgerEntry {
    common::entry("T", clause, key, period, amount)
}

fn run(prog: &Program, ledger: &Ledger, period: i32) -> Vec<(String, Status, Option<Decimal>)> {
    let facts = parse_facts(prog, FACTS).unwrap();
    let out = evaluate(prog, &facts, ledger, EvalOptions { period, as_of: None, explain: true });
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    out.results.iter().map(|r| (prog.clause_ref(r.clause), r.status, r.amount)).collect()
}

fn amount(rows: &[(String, Status, Option<Decimal>)], clause: &str) -> (Status, Option<String>) {
    let r = rows.iter().find(|r| r.0 == clause).unwrap();
    (r.1, r.2.map(|d| d.normalize().to_string()))
}

#[test]
fn lists_pay_per_item_and_pick_by_key() {
    let prog = program();
    let rows = run(&prog, &Ledger::default(), 2024);
    // A: 8 × 3000 = 24000, capped at 2万 per item; B: 4 × 3000 = 12000; C has no months
    assert_eq!(amount(&rows, "T.1"), (Status::Granted, Some("32000".into())));
    // A and B stay on: 2 × 2000
    assert_eq!(amount(&rows, "T.2"), (Status::Granted, Some("4000".into())));
    // the largest project, 2000万 × 10% = 200万
    assert_eq!(amount(&rows, "T.3"), (Status::Granted, Some("2000000".into())));
    // projects of 1000万 and more: 1500万, 2000万, 1200万; the two largest 3500万 × 5% = 175万
    assert_eq!(amount(&rows, "T.4"), (Status::Granted, Some("1750000".into())));
    assert_eq!(amount(&rows, "T.5"), (Status::Granted, Some("10000".into())));
    // the earliest project (2021-03-01) is 800万: × 1% = 8万
    assert_eq!(amount(&rows, "T.6"), (Status::Granted, Some("80000".into())));
}

#[test]
fn the_ledger_counts_per_person_and_per_year() {
    let prog = program();
    let ledger = Ledger::new(vec![
        entry("1", Some("B002"), 2023, "30000"),
        entry("2", Some("B002"), 2023, "2000"),
        entry("5", None, 2023, "10000"),
    ]);
    ledger.check(&prog, "ledger.json").unwrap();
    let rows = run(&prog, &ledger, 2024);
    // A: 2万 (per item cap); B: 12000 asked, 3.6万 − 3万 = 6000 left in total
    assert_eq!(amount(&rows, "T.1"), (Status::Granted, Some("26000".into())));
    // B was paid the one-time award in 2023: only A's 2000
    assert_eq!(amount(&rows, "T.2"), (Status::Granted, Some("2000".into())));
    // once per year: 2023's grant does not stop 2024
    assert_eq!(amount(&rows, "T.5"), (Status::Granted, Some("10000".into())));

    let done = Ledger::new(vec![
        entry("2", Some("A001"), 2022, "2000"),
        entry("2", Some("B002"), 2023, "2000"),
        entry("5", None, 2024, "10000"),
    ]);
    let rows = run(&prog, &done, 2024);
    // everyone who stays on was paid before: exhausted, not ineligible
    assert_eq!(amount(&rows, "T.2").0, Status::Exhausted);
    // already granted in 2024
    assert_ne!(amount(&rows, "T.5").0, Status::Granted);
}

#[test]
fn an_entry_of_an_each_clause_needs_a_key() {
    let prog = program();
    let bad = Ledger::new(vec![entry("1", None, 2023, "30000")]);
    let err = bad.check(&prog, "ledger.json").unwrap_err();
    assert!(err[0].message.contains("needs the key of the person or item"), "{}", err[0].message);
}

#[test]
fn the_lean_path_agrees_on_lists() {
    let prog = program();
    let kernel = Kernel::new(&prog);
    assert_eq!(kernel.delegated(), 0, "list clauses run on the lean path");
    let facts = parse_facts(&prog, FACTS).unwrap();
    let full = evaluate(
        &prog,
        &facts,
        &Ledger::default(),
        EvalOptions { period: 2024, as_of: None, explain: false },
    );
    let mut v = Verdicts::default();
    kernel.evaluate(&prog, &facts, 2024, None, &mut v).unwrap();
    for (k, r) in v.items.iter().zip(&full.results) {
        assert_eq!((k.status, k.amount), (r.status, r.amount), "{}", prog.clause_ref(r.clause));
    }
    // 32000 + 4000 + 200万 + 175万 + 1万 + 8万
    assert_eq!(v.total().unwrap().normalize().to_string(), "3876000");
}

#[test]
fn misused_list_constructs_are_errors_with_a_fix() {
    let cases = [
        ("amount 1万\n    cap 2万 per item", "needs an amount paid per person or item"),
        ("amount 1万\n    once per item", "`once per item` needs an amount paid by"),
        ("amount each 见习人员 key 姓名 => 1000元", "unknown field `姓名`"),
        ("when 大项目\n    amount 1万", "大项目"),
        ("amount max(项目, 立项日期) * 0 + 1万", "max"),
    ];
    for (body, want) in cases {
        let text = RULES.replacen("amount max(项目, 投资额) * 10%", body, 1);
        let Err(f) = huiqi::compile(&huiqi::Input::from_rules([("t.policy".to_string(), text)])) else {
            panic!("{body}: compiled")
        };
        let shown = huiqi::diag::render::render_short(&f.diagnostics, &f.sources);
        assert!(shown.contains(want), "{body}: {shown}");
    }
}

#[test]
fn a_list_read_only_by_amount_each_is_used() {
    // W0106 counted `amount each LIST …` as no reader of LIST; the clause reads every item
    let rules = r#"
record 人员记录 "人员" {
  证件号码: text "身份证号码"
}
fact 人员: list 人员记录 "人员"
policy U "u" {
  clause 1 "每人补贴" {
    quote "每人1000元"
    responsible 人社局
    amount each 人员 key 证件号码 => 1000元
  }
}
"#;
    let c = huiqi::compile(&huiqi::Input::from_rules([("u.policy".to_string(), rules.to_string())]))
        .map_err(|f| huiqi::diag::render::render_short(&f.diagnostics, &f.sources))
        .unwrap();
    let mut out = Vec::new();
    huiqi::check::lints::run(&c.program, &mut out);
    let unused: Vec<_> = out.iter().filter(|d| d.code == huiqi::diag::Code::Unused).collect();
    assert!(unused.is_empty(), "{:?}", unused.iter().map(|d| &d.message).collect::<Vec<_>>());
}
