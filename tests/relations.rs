#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]
//! Relations between clauses and documents: `once in "组"` over the ledger and within a period,
//! `granted(DOC.c[, N])` as a condition on history, and amendments by a later document
//! (`amends`, `extends`, `repeals`) with the version that applied named in the result. Each
//! number is worked out beside its assertion; the lean path must agree with the evaluator on an
//! empty ledger.

use huiqi::Status;
use huiqi::eval::facts::parse_facts;
use huiqi::eval::kernel::{Kernel, Verdicts};
use huiqi::eval::{EvalOptions, Ledger, LedgerEntry, Outcome, evaluate};
use huiqi::ir::Program;
use rust_decimal::Decimal;

const RULES: &str = r#"
fact 研发投入: money "研发投入"
fact 收入: money "营业收入"
policy CITY "市级" {
  issued 2020-01-01
  in force 2020-01-01 to 2022-12-31
  clause 4 "市级研发补助" {
    when 研发投入 超过 0元
    amount 研发投入 × 10%
    cap 20万
    once in "研发补助"
  }
  clause 5 "首次奖励" {
    when 收入 达到 1亿
    amount 30万
    once
  }
  clause 6 "专项奖励" { amount 收入 × 1% cap 5万 }
}
policy DIST "区级" {
  issued 2020-03-01
  clause 1 "区级研发支持" {
    when 研发投入 超过 0元
    amount 研发投入 × 5%
    cap 30万
    once in "研发补助"
  }
  clause 2 "两年一次" {
    when not granted(DIST.2, 1)
    amount 2万
  }
  clause 3 "未获市级奖励的" {
    when not granted(CITY.5)
    amount 1万
  }
}
policy LATER "后续文件" {
  issued 2023-02-01
  in force 2023-01-01 to 2025-12-31
  extends CITY to 2024-12-31 "有效期延长至2024年12月31日"
  amends CITY.5 from 2024-01-01 "奖励提高至50万元" {
    amount 50万
  }
  repeals CITY.6 from 2024-01-01 "第六条同时废止"
}
"#;

const FACTS: &str = r#"{ "研发投入": "300万", "收入": "2亿" }"#;

fn program() -> Program {
    huiqi::compile(&huiqi::Input::from_rules([("t.policy".to_string(), RULES.to_string())]))
        .map_err(|f| huiqi::diag::render::render_short(&f.diagnostics, &f.sources))
        .unwrap()
        .program
}

fn entry(policy: &str, clause: &str, period: i32, amount: &str) -> LedgerEntry {
    serde_json::from_value(serde_json::json!({
        "policy": policy, "clause": clause, "key": null, "period": period, "amount": amount
    }))
    .unwrap()
}

fn outcome(prog: &Program, ledger: &Ledger, period: i32) -> Outcome {
    ledger.check(prog, "ledger.json").unwrap();
    let facts = parse_facts(prog, FACTS).unwrap();
    let out = evaluate(prog, &facts, ledger, EvalOptions { period, as_of: None, explain: true });
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    out
}

fn get(prog: &Program, o: &Outcome, clause: &str) -> (Status, Option<String>) {
    let r = o.results.iter().find(|r| prog.clause_ref(r.clause) == clause).unwrap();
    (r.status, r.amount.map(|d| d.normalize().to_string()))
}

fn reasons(prog: &Program, o: &Outcome, clause: &str) -> String {
    let r = o.results.iter().find(|r| prog.clause_ref(r.clause) == clause).unwrap();
    r.reasons.iter().map(|s| s.render(prog, huiqi::eval::Lang::En)).collect::<Vec<_>>().join("; ")
}

#[test]
fn once_in_a_group_the_largest_wins_within_a_period() {
    let prog = program();
    let o = outcome(&prog, &Ledger::default(), 2021);
    // CITY.4: 300万 × 10% = 30万 → cap 20万; DIST.1: 300万 × 5% = 15万: the city's pays
    assert_eq!(get(&prog, &o, "CITY.4"), (Status::Granted, Some("200000".into())));
    assert_eq!(get(&prog, &o, "DIST.1").0, Status::Ineligible);
    let why = reasons(&prog, &o, "DIST.1");
    assert!(why.contains("CITY.4") && why.contains("研发补助"), "{why}");
}

#[test]
fn once_in_a_group_reads_earlier_years_from_the_ledger() {
    let prog = program();
    // the district's support was received in 2020: the city's is exhausted in 2021, naming it
    let ledger = Ledger::new(vec![entry("DIST", "1", 2020, "150000")]);
    let o = outcome(&prog, &ledger, 2021);
    assert_eq!(get(&prog, &o, "CITY.4").0, Status::Exhausted);
    let why = reasons(&prog, &o, "CITY.4");
    assert!(why.contains("DIST.1 was granted in 2020"), "{why}");
    // the district's own clause may pay again: 15万, and it no longer loses to the city's
    assert_eq!(get(&prog, &o, "DIST.1"), (Status::Granted, Some("150000".into())));
    // nothing written for the exhausted clause
    let cref = |e: &LedgerEntry| format!("{}.{}", e.policy, e.clause);
    assert!(o.new_entries().all(|e| cref(e) != "CITY.4"));
}

#[test]
fn granted_reads_the_ledger_over_n_years() {
    let prog = program();
    // 每两年1次: granted in 2020 → not in 2021, again in 2022
    let ledger = Ledger::new(vec![entry("DIST", "2", 2020, "20000")]);
    assert_eq!(get(&prog, &outcome(&prog, &ledger, 2021), "DIST.2").0, Status::Ineligible);
    assert_eq!(get(&prog, &outcome(&prog, &ledger, 2022), "DIST.2"), (Status::Granted, Some("20000".into())));
    // with no N: any earlier year (CITY.5 paid in 2020 → DIST.3 never again)
    let ledger = Ledger::new(vec![entry("CITY", "5", 2020, "300000")]);
    let o = outcome(&prog, &ledger, 2023);
    assert_eq!(get(&prog, &o, "DIST.3").0, Status::Ineligible);
    assert_eq!(get(&prog, &outcome(&prog, &Ledger::default(), 2023), "DIST.3").0, Status::Granted);
}

#[test]
fn amendments_apply_from_their_date_and_name_the_version() {
    let prog = program();
    let version = |o: &Outcome, clause: &str| {
        let r = o.results.iter().find(|r| prog.clause_ref(r.clause) == clause).unwrap();
        r.version.as_ref().map(|v| {
            format!("{} {} {}", v.document, v.change, v.date.map(|d| d.to_string()).unwrap_or_default())
        })
    };
    // 2022: as first written, 30万
    let o = outcome(&prog, &Ledger::default(), 2022);
    assert_eq!(get(&prog, &o, "CITY.5"), (Status::Granted, Some("300000".into())));
    assert_eq!(version(&o, "CITY.5").as_deref(), Some("CITY original "));
    // 2023: CITY ended on 2022-12-31 but LATER extends it to 2024-12-31; CITY.5 still 30万
    let o = outcome(&prog, &Ledger::default(), 2023);
    assert_eq!(get(&prog, &o, "CITY.5"), (Status::Granted, Some("300000".into())));
    assert_eq!(version(&o, "CITY.5").as_deref(), Some("LATER extends 2024-12-31"));
    // CITY.6 (2亿 × 1% = 200万 → cap 5万) still applies in 2023, repealed from 2024
    assert_eq!(get(&prog, &o, "CITY.6"), (Status::Granted, Some("50000".into())));
    // 2024: the amended CITY.5 pays 50万; CITY.6 is repealed, the reason names LATER
    let o = outcome(&prog, &Ledger::default(), 2024);
    assert_eq!(get(&prog, &o, "CITY.5"), (Status::Granted, Some("500000".into())));
    assert_eq!(version(&o, "CITY.5").as_deref(), Some("LATER amends 2024-01-01"));
    assert_eq!(get(&prog, &o, "CITY.6").0, Status::NotInForce);
    assert!(reasons(&prog, &o, "CITY.6").contains("repealed by LATER from 2024-01-01"));
    // 2025: CITY is out of force (extended to 2024-12-31 only)
    assert_eq!(get(&prog, &outcome(&prog, &Ledger::default(), 2025), "CITY.5").0, Status::NotInForce);
    // `once` counts grants under every version: paid 30万 in 2022 → the amended 50万 is exhausted
    let ledger = Ledger::new(vec![entry("CITY", "5", 2022, "300000")]);
    assert_eq!(get(&prog, &outcome(&prog, &ledger, 2024), "CITY.5").0, Status::Exhausted);
}

#[test]
fn the_json_names_the_version_only_for_changed_clauses() {
    let prog = program();
    let o = outcome(&prog, &Ledger::default(), 2024);
    let report = huiqi::report::eval_report(&prog, &o, None, huiqi::eval::Lang::Zh);
    let json = serde_json::to_value(&report).unwrap();
    let results = json["results"].as_array().unwrap();
    let find = |c: &str| {
        results
            .iter()
            .find(|r| format!("{}.{}", r["policy"].as_str().unwrap(), r["clause"].as_str().unwrap()) == c)
            .unwrap()
    };
    assert_eq!(
        find("CITY.5")["version"],
        serde_json::json!({"document": "LATER", "change": "amends", "date": "2024-01-01", "clause": "CITY.5"})
    );
    assert!(find("DIST.1").get("version").is_none());
}

#[test]
fn the_lean_path_agrees_on_relations_and_versions() {
    let prog = program();
    let kernel = Kernel::new(&prog);
    assert_eq!(kernel.delegated(), 0, "relations and versions run on the lean path");
    let facts = parse_facts(&prog, FACTS).unwrap();
    for period in 2019..=2026 {
        let full =
            evaluate(&prog, &facts, &Ledger::default(), EvalOptions { period, as_of: None, explain: false });
        let mut v = Verdicts::default();
        kernel.evaluate(&prog, &facts, period, None, &mut v).unwrap();
        for (k, r) in v.items.iter().zip(&full.results) {
            assert_eq!(
                (k.status, k.amount),
                (r.status, r.amount),
                "{} in {period}",
                prog.clause_ref(r.clause)
            );
        }
    }
    // 2024: CITY.4 20万 + CITY.5 50万 + DIST.2 2万 + DIST.3 1万 (DIST.1 loses, CITY.6 repealed)
    let mut v = Verdicts::default();
    kernel.evaluate(&prog, &facts, 2024, None, &mut v).unwrap();
    assert_eq!(v.total().unwrap(), Decimal::from(730_000));
}

#[test]
fn misused_amendments_are_errors_with_a_fix() {
    let cases = [
        ("amends CITY.5 from 2024-01-01", "amends CITY.9 from 2024-01-01", "E0603"),
        ("amends CITY.5 from 2024-01-01", "amends CITY.5 from 2022-06-01", "E0604"),
        ("repeals CITY.6 from 2024-01-01", "repeals LATER.6 from 2024-01-01", "E0605"),
        ("extends CITY to 2024-12-31", "extends CITY to 2021-12-31", "E0607"),
        ("extends CITY to 2024-12-31", "extends CITY.5 to 2024-12-31", "E0607"),
        ("when not granted(CITY.5)", "when not granted(CITY.7)", "E0206"),
    ];
    for (from, to, code) in cases {
        let text = RULES.replacen(from, to, 1);
        let Err(f) = huiqi::compile(&huiqi::Input::from_rules([("t.policy".to_string(), text)])) else {
            panic!("{to}: compiled")
        };
        assert!(f.diagnostics.iter().any(|d| d.code.id() == code), "{to}: {:?}", f.diagnostics);
    }
}

#[test]
fn ledger_keys_are_read_with_the_version_of_their_period() {
    // the amended tiers: an entry of 2024 is keyed by a tier of the 2024 version, one of 2022
    // by a tier as first written
    let rules = r#"
fact 收入: money "营业收入"
policy OLDT "原" {
  issued 2020-01-01
  clause 1 "分档" { amount tiers 收入 pay highest { 达到 1亿 => 30万 } once per tier }
}
policy NEWT "新" {
  issued 2024-01-01
  amends OLDT.1 from 2024-01-01 { amount tiers 收入 pay highest { 达到 2亿 => 50万 } }
}
"#;
    let prog = huiqi::compile(&huiqi::Input::from_rules([("t.policy".to_string(), rules.to_string())]))
        .unwrap()
        .program;
    let keyed = |key: &str, period: i32| -> LedgerEntry {
        serde_json::from_value(serde_json::json!({
            "policy": "OLDT", "clause": "1", "key": key, "period": period, "amount": "1"
        }))
        .unwrap()
    };
    assert!(Ledger::new(vec![keyed("1亿", 2022), keyed("2亿", 2024)]).check(&prog, "l.json").is_ok());
    assert!(Ledger::new(vec![keyed("2亿", 2022)]).check(&prog, "l.json").is_err());
}
