#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]
//! Stacking: 应享尽享 by default; `excludes` and `only largest in` when a text says otherwise.

use huiqi::eval::facts::read_facts;
use huiqi::eval::{EvalOptions, Ledger, Status, evaluate};
use huiqi::{Input, compile};
use rust_decimal::Decimal;

const RULES: &str = r#"
fact 收入: money
policy S "叠加" {
  clause 1 "甲" { when 收入 达到 1亿 amount 30万 only largest in "认定奖励" }
  clause 2 "乙" { when 收入 达到 1亿 amount 50万 only largest in "认定奖励" }
  clause 3 "丙" { when 收入 达到 2亿 amount 10万 excludes S.4 }
  clause 4 "丁" { when 收入 达到 1亿 amount 20万 }
  clause 5 "戊" { when 收入 达到 1亿 amount 5万 }
}
"#;

fn run(revenue: &str) -> Vec<(String, Status, Option<Decimal>)> {
    let c = compile(&Input::from_rules([("s.policy".to_string(), RULES.to_string())])).expect("compiles");
    let facts =
        read_facts(&c.program, &huiqi::json::Json::from(serde_json::json!({ "收入": revenue }))).unwrap();
    let o = evaluate(&c.program, &facts, &Ledger::default(), EvalOptions::new(2024));
    o.results.iter().map(|r| (c.program.clause_ref(r.clause), r.status, r.amount)).collect()
}

fn wan(n: i64) -> Option<Decimal> {
    Some(Decimal::from(n * 10_000))
}

#[test]
fn only_the_largest_of_a_group_pays_and_exclusions_apply() {
    let r = run("3亿");
    assert_eq!(r[0], ("S.1".into(), Status::Ineligible, None));
    assert_eq!(r[1], ("S.2".into(), Status::Granted, wan(50)));
    assert_eq!(r[2], ("S.3".into(), Status::Granted, wan(10)));
    assert_eq!(r[3], ("S.4".into(), Status::Ineligible, None));
    assert_eq!(r[4], ("S.5".into(), Status::Granted, wan(5)), "everything else stacks (应享尽享)");
}

#[test]
fn an_exclusion_needs_the_excluding_clause_granted() {
    let r = run("1.5亿");
    assert_eq!(r[2].1, Status::Ineligible);
    assert_eq!(r[3], ("S.4".into(), Status::Granted, wan(20)));
}

#[test]
fn excluding_an_unknown_clause_is_an_error() {
    let bad = RULES.replace("excludes S.4", "excludes S.9");
    let f = compile(&Input::from_rules([("s.policy".to_string(), bad)])).expect_err("unknown clause");
    assert!(f.diagnostics.iter().any(|d| d.code == huiqi::diag::Code::UnknownClause));
}
