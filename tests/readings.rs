#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
//! The audited readings of `policies/READINGS.md` that a `.tests.policy` case cannot pin: the
//! reason a clause gives. A firm recognised in 2020 and re-recognised in 2023 gets no
//! first-recognition award in 2023 with an empty ledger, and the reason names the earlier
//! recognition; a guarantee fee above the S22.15 ceiling says so with both rates.

use huiqi::eval::facts::parse_facts;
use huiqi::eval::{EvalOptions, Lang, Ledger, evaluate};
use std::path::PathBuf;

fn compiled() -> huiqi::Compiled {
    let input = huiqi::load::load(&[PathBuf::from("policies")]).expect("policies");
    huiqi::compile(&input).map_err(|f| f.diagnostics.len()).expect("policies compile")
}

fn report(c: &huiqi::Compiled, facts: &str, period: i32) -> serde_json::Value {
    let facts = parse_facts(&c.program, facts).unwrap_or_else(|e| panic!("{e:?}"));
    let o = evaluate(&c.program, &facts, &Ledger::default(), EvalOptions::new(period));
    assert!(o.errors.is_empty(), "{:?}", o.errors);
    let r = huiqi::report::eval_report(&c.program, &o, None, Lang::Zh);
    serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap()
}

fn result<'a>(r: &'a serde_json::Value, clause: &str) -> &'a serde_json::Value {
    let (p, c) = clause.split_once('.').unwrap();
    r["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["policy"] == p && x["clause"] == c)
        .unwrap_or_else(|| panic!("{clause}"))
}

fn reasons(x: &serde_json::Value) -> String {
    x["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

const RECOGNISED_2020_AND_2023: &str = r#"{
  "行业": "电子信息制造业", "专精特新等级": "国家级小巨人",
  "认定": [
    { "类别": "省级专精特新中小企业", "日期": "2020-05-10" },
    { "类别": "省级专精特新中小企业", "日期": "2023-05-10" },
    { "类别": "国家级专精特新小巨人", "日期": "2020-07-15" },
    { "类别": "国家级专精特新小巨人", "日期": "2023-07-15" },
    { "类别": "省级企业技术中心", "日期": "2020-09-01" },
    { "类别": "省级企业技术中心", "日期": "2023-09-01" }
  ]
}"#;

#[test]
fn re_recognition_is_not_a_first_recognition_and_says_why() {
    let r = report(&compiled(), RECOGNISED_2020_AND_2023, 2023);
    for (clause, earlier) in [
        ("S22.5a", "此前已认定省级专精特新中小企业"),
        ("S22.5b", "此前已认定国家级专精特新小巨人"),
        ("T13.7a", "此前已认定省级企业技术中心"),
    ] {
        let x = result(&r, clause);
        assert_eq!(x["status"], "ineligible", "{clause}");
        let why = reasons(x);
        assert!(why.contains(earlier) && why.contains("true"), "{clause}: {why}");
    }
    for clause in ["E23.6", "E23.2b", "S22.9d"] {
        let x = result(&r, clause);
        assert_eq!(x["status"], "ineligible", "{clause}");
        assert!(reasons(x).contains("首次认定"), "{clause}: {}", reasons(x));
    }
    // an empty ledger, and still nothing: 20万 (S22.5a) + 50万 (S22.5b) + 30万 (S22.9d) are not paid
    assert_eq!(r["total"], "0.00");
}

#[test]
fn a_first_recognition_in_2023_is_paid() {
    let facts = r#"{
      "行业": "电子信息制造业", "专精特新等级": "国家级小巨人",
      "认定": [
        { "类别": "省级专精特新中小企业", "日期": "2021-05-10" },
        { "类别": "国家级专精特新小巨人", "日期": "2023-07-15" },
        { "类别": "省级企业技术中心", "日期": "2023-09-01" }
      ]
    }"#;
    let r = report(&compiled(), facts, 2023);
    // the provincial recognition of 2021 is another category: S22.5a not (not in 2023), S22.5b yes
    assert_eq!(result(&r, "S22.5a")["status"], "ineligible");
    assert_eq!(result(&r, "S22.5b")["amount"], "500000.00");
    assert_eq!(result(&r, "S22.9d")["amount"], "300000.00");
    assert_eq!(result(&r, "E23.6")["status"], "discretionary");
    assert_eq!(result(&r, "E23.2b")["status"], "discretionary");
    // 50万 + 30万
    assert_eq!(r["total"], "800000.00");
}

#[test]
fn a_guarantee_fee_above_the_ceiling_says_so() {
    let c = compiled();
    // 800万 guarantee: ceiling 1.5%; 1.8% charged is above it
    let above =
        report(&c, r#"{ "专精特新等级": "省级专精特新", "单户担保额": "800万", "担保费率": "1.8%" }"#, 2024);
    let x = result(&above, "S22.15");
    assert_eq!(x["status"], "ineligible");
    let why = reasons(x);
    assert!(why.contains("担保费率") && why.contains("担保费率上限"), "{why}");
    // 1.2% is within: the ceiling holds, with the highest fee allowed, 800万 × 1.5% = 12万
    let within =
        report(&c, r#"{ "专精特新等级": "省级专精特新", "单户担保额": "800万", "担保费率": "1.2%" }"#, 2024);
    assert_eq!(result(&within, "S22.15")["status"], "granted");
    assert_eq!(result(&within, "S22.15")["amount"], "120000.00");
}

#[test]
fn non_cash_provisions_need_their_conditions() {
    let c = compiled();
    let none = report(
        &c,
        r#"{ "行业": "电子信息制造业", "阶段性聘用域外高层次人才数": 0, "所在园区级别": "省级及以下", "园区重点企业": true, "专业技术人员密集": true }"#,
        2024,
    );
    assert_eq!(result(&none, "E23.13")["status"], "ineligible");
    assert_eq!(result(&none, "E23.14")["status"], "ineligible");
    assert!(reasons(result(&none, "E23.14")).contains("所在园区级别"));
    let both = report(
        &c,
        r#"{ "行业": "电子信息制造业", "阶段性聘用域外高层次人才数": 2, "所在园区级别": "国家级", "园区重点企业": true, "专业技术人员密集": true }"#,
        2024,
    );
    assert_eq!(result(&both, "E23.13")["status"], "granted");
    assert_eq!(result(&both, "E23.14")["status"], "granted");
}
