#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]
//! No silent wrong answers: every path that paid twice, dropped an amount or skipped a check
//! before (issue: "No silent wrong answers"), each pinned with the numbers of the case.

use huiqi::diag::Code;
use huiqi::eval::facts::{parse_facts, read_facts};
use huiqi::eval::{EvalOptions, Ledger, Status, evaluate};
use huiqi::ir::Program;
use rust_decimal::Decimal;
use std::process::{Command, Output};

fn huiqi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huiqi")).args(args).output().expect("run huiqi")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn tmp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("huiqi-fidelity-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn compile(text: &str) -> Result<Program, Vec<Code>> {
    huiqi::compile(&huiqi::Input::from_rules([("t.policy".to_string(), text.to_string())]))
        .map(|c| c.program)
        .map_err(|f| f.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.code).collect())
}

fn policies() -> huiqi::Compiled {
    let input = huiqi::load::load(&["policies".into()]).unwrap();
    huiqi::compile(&input).map_err(|f| f.diagnostics.len()).unwrap()
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

// ---------------------------------------------------------------- 1. the ledger is input

const EXAMPLE: &str = "examples/光电子科技.json";

fn eval_with_ledger(ledger: &str) -> Output {
    let dir = tmp_dir(&format!("ledger-{}", rand_suffix()));
    let p = dir.join("ledger.json");
    std::fs::write(&p, ledger).unwrap();
    huiqi(&["eval", "--facts", EXAMPLE, "--ledger", p.to_str().unwrap(), "--format", "json"])
}

#[test]
fn a_ledger_entry_naming_no_clause_is_an_error_with_its_index_and_a_suggestion() {
    let o = eval_with_ledger(
        r#"{"schema_version":1,"entries":[{"policy":"E23","clause":"5","key":"1亿","period":2020,"amount":"300000.00"},{"policy":"E23","clause":"14x","key":null,"period":2020,"amount":"1.00"}]}"#,
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("E23.14x") && t.contains("entries[1]") && t.contains("did you mean `14`"), "{t}");
}

#[test]
fn a_ledger_document_in_the_wrong_case_is_an_error_not_a_second_award() {
    // today `"policy": "e23"` was ignored and E23.5 paid its one-time 50万 again
    let o = eval_with_ledger(
        r#"{"schema_version":1,"entries":[{"policy":"e23","clause":"5","key":"5亿","period":2023,"amount":"500000.00"}]}"#,
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("`e23`") && t.contains("did you mean `E23`"), "{t}");
}

#[test]
fn a_tier_key_in_another_spelling_is_an_error_naming_the_canonical_one() {
    for key in ["5 亿", "500000000"] {
        let o = eval_with_ledger(&format!(
            r#"{{"schema_version":1,"entries":[{{"policy":"E23","clause":"5","key":"{key}","period":2023,"amount":"500000.00"}}]}}"#
        ));
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{key}: {t}");
        assert!(t.contains("5亿"), "{key}: the canonical key is shown: {t}");
    }
}

#[test]
fn ledger_amounts_written_by_huiqi_are_canonical() {
    let o = huiqi(&["eval", "--facts", EXAMPLE, "--format", "json"]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let amounts: Vec<&str> =
        j["ledger"].as_array().unwrap().iter().map(|e| e["amount"].as_str().unwrap()).collect();
    assert!(!amounts.is_empty());
    for a in amounts {
        let (_, frac) = a.split_once('.').unwrap_or((a, ""));
        assert!(frac.len() >= 2, "amount `{a}` is not written with two decimals");
    }
}

// ---------------------------------------------------------------- 2. bounds rise

#[test]
fn brackets_whose_bounds_do_not_rise_are_an_error_with_literals_and_with_parameters() {
    let literal = r#"
fact 基数: money
policy B "b" {
  clause 1 "c" {
    amount brackets 基数 {
      up to 100元 => 10%
      up to 100元 => 20%
      above => 30%
    }
  }
}"#;
    assert_eq!(compile(literal).unwrap_err(), vec![Code::BoundsNotRising]);
    // equal only from 2024 on, when the second version of 界1 takes effect
    let versions = r#"
fact 基数: money
parameter 界1: money { 50元 from 2020-01-01  100元 from 2024-01-01 }
policy B "b" {
  clause 1 "c" {
    amount brackets 基数 {
      up to 界1 => 10%
      up to 100元 => 20%
      above => 30%
    }
  }
}"#;
    assert_eq!(compile(versions).unwrap_err(), vec![Code::BoundsNotRising]);
    let tiers = r#"
fact 收入: money
policy B "b" {
  clause 1 "c" {
    amount tiers 收入 pay highest {
      达到 1亿 => 30万
      达到 1亿 => 50万
    }
  }
}"#;
    assert_eq!(compile(tiers).unwrap_err(), vec![Code::BoundsNotRising]);
}

#[test]
fn a_bound_read_from_a_fact_that_does_not_rise_fails_the_clause_instead_of_dropping_a_slice() {
    // bounds 100 and 100 and the value 150: the slice above 100 (50 × 30% = 15) used to be
    // dropped, paying 100 × 10% = 10 instead of failing
    let prog = compile(
        r#"
fact 基数: money
fact 界: money
policy B "b" {
  rounding none
  clause 1 "c" {
    amount brackets 基数 {
      up to 界 => 10%
      up to 100元 => 20%
      above => 30%
    }
  }
}"#,
    )
    .unwrap();
    let facts = parse_facts(&prog, r#"{"基数": 150, "界": 100}"#).unwrap();
    let o = evaluate(&prog, &facts, &Ledger::default(), EvalOptions::new(2024));
    assert!(o.results.is_empty(), "{:?}", o.results);
    assert_eq!(o.errors[0].code, Code::BoundBelowPrevious);
    // rising bounds pay every slice: 100 × 10% + 50 × 30% = 25 (界 = 50: 50 × 10% + 50 × 20% + 50 × 30% = 30)
    let facts = parse_facts(&prog, r#"{"基数": 150, "界": 50}"#).unwrap();
    let o = evaluate(&prog, &facts, &Ledger::default(), EvalOptions::new(2024));
    assert_eq!(o.results[0].amount, Some(d("30.0")));
}

// ---------------------------------------------------------------- 3. totals never drop an amount

#[test]
fn a_total_that_overflows_is_an_error_naming_the_clause_never_a_smaller_total() {
    let prog = compile(
        r#"
fact 价格: money
policy O "o" {
  rounding none
  clause 1 "a" { amount 价格 × 60% }
  clause 2 "b" { amount 价格 × 60% }
}"#,
    )
    .unwrap();
    // 7×10²⁸ × 60% = 4.2×10²⁸ each: each fits an exact decimal, their sum does not
    let facts = parse_facts(&prog, r#"{"价格": 70000000000000000000000000000}"#).unwrap();
    let o = evaluate(&prog, &facts, &Ledger::default(), EvalOptions::new(2024));
    assert_eq!(o.results.len(), 2);
    let e = o.total().unwrap_err();
    assert_eq!(e.code, Code::TotalOverflow);
    assert_eq!(prog.clause_ref(e.clause), "O.2");
    assert!(o.errors.iter().any(|e| e.code == Code::TotalOverflow));
    let report = huiqi::report::eval_report(&prog, &o, None, huiqi::eval::Lang::En);
    assert!(report.total.is_none());
}

#[test]
fn a_rate_too_large_to_show_in_per_cent_is_shown_without_a_panic() {
    let huge = Decimal::MAX;
    assert!(huiqi::value::fmt_rate(huge).contains("as a fraction"));
    assert_eq!(huiqi::value::fmt_rate(d("0.2")), "20%");
}

// ---------------------------------------------------------------- 4. results say what they are

#[test]
fn every_result_has_a_kind_and_non_cash_clauses_write_no_cash_entries() {
    let c = policies();
    let facts =
        parse_facts(&c.program, &std::fs::read_to_string("examples/长春光学精密.json").unwrap()).unwrap();
    let o = evaluate(&c.program, &facts, &Ledger::default(), EvalOptions::new(2024));
    let r = huiqi::report::eval_report(&c.program, &o, None, huiqi::eval::Lang::Zh);
    for x in &r.results {
        assert!(["benefit", "tax", "ceiling", "provides", "priority", "definition"].contains(&x.kind));
        if x.kind == "benefit" && x.status == Status::Granted {
            assert!(x.amount.is_some(), "{}.{}", x.policy, x.clause);
        }
    }
    for e in o.new_entries() {
        let id = c.program.find_clause(&e.policy, &e.clause).unwrap();
        let kind = c.program.clause(id).unwrap().kind;
        if kind != huiqi::syntax::ast::ClauseKind::Benefit {
            assert_eq!(e.kind, Some(kind), "{}.{} wrote an entry without its kind", e.policy, e.clause);
        }
    }
    // the ceiling S22.15 and the tax reliefs T13.14b/c write nothing: they read no history
    assert!(
        o.new_entries().all(|e| !matches!((&*e.policy, &*e.clause), ("S22", "15") | ("T13", "14b" | "14c")))
    );
}

// ---------------------------------------------------------------- 5–7. checks that were skipped

fn check_copy(edit: impl Fn(&str) -> String, deny: bool) -> Output {
    let dir = tmp_dir(&format!("check-{deny}-{}", rand_suffix()));
    copy_dir(std::path::Path::new("policies"), &dir);
    let p = dir.join("E23.policy");
    let s = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, edit(&s)).unwrap();
    let mut args = vec!["check", dir.to_str().unwrap()];
    if deny {
        args.extend(["--deny", "warnings"]);
    }
    huiqi(&args)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let t = to.join(p.file_name().unwrap());
        if p.is_dir() { copy_dir(&p, &t) } else { std::fs::copy(&p, &t).map(|_| ()).unwrap() }
    }
}

#[test]
fn every_quote_of_a_clause_is_verified() {
    let o = check_copy(
        |s| {
            let i = s.find("clause 5 ").unwrap();
            let q = i + s[i..].find("quote \"").unwrap();
            format!("{}quote \"对年产值首次超过一百亿元的企业给予奖励。\"\n    {}", &s[..q], &s[q..])
        },
        false,
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("E0602") && t.contains("E23.5"), "{t}");
}

#[test]
fn an_amount_the_quote_does_not_state_fails_check_deny_warnings() {
    let o = check_copy(|s| s.replacen("=> 30万", "=> 40万", 1), true);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("W0109") && t.contains("40万"), "{t}");
}

#[test]
fn a_document_does_not_pay_before_it_was_issued() {
    let c = policies();
    let facts = read_facts(
        &c.program,
        &serde_json::json!({"行业": "电子信息制造业", "营业收入": {"2014": "9000万", "2015": "1.2亿"}}),
    )
    .unwrap();
    let o = evaluate(&c.program, &facts, &Ledger::default(), EvalOptions::new(2015));
    let e23_5 = o.results.iter().find(|r| c.program.clause_ref(r.clause) == "E23.5").unwrap();
    assert_eq!(e23_5.status, Status::NotInForce);
    // and does from its year on: 2023 (issued 2023-03-02)
    let facts = read_facts(
        &c.program,
        &serde_json::json!({"行业": "电子信息制造业", "营业收入": {"2022": "9000万", "2023": "1.2亿"}}),
    )
    .unwrap();
    let o = evaluate(&c.program, &facts, &Ledger::default(), EvalOptions::new(2023));
    let e23_5 = o.results.iter().find(|r| c.program.clause_ref(r.clause) == "E23.5").unwrap();
    assert_eq!((e23_5.status, e23_5.amount), (Status::Granted, Some(d("300000"))));
}

#[test]
fn a_document_window_that_ends_before_it_starts_is_an_error() {
    let e = compile("policy R \"r\" {\n  in force 2025-01-01 to 2024-12-31\n}\n").unwrap_err();
    assert_eq!(e, vec![Code::BadLiteral]);
}

// ---------------------------------------------------------------- 10. plausible facts

#[test]
fn implausible_facts_are_rejected_with_their_paths() {
    let c = policies();
    let errs = parse_facts(&c.program, r#"{"营业收入": {"2024": "-5.6亿"}, "研发投入": {"2024": 1e40}}"#)
        .unwrap_err();
    let paths: Vec<(&str, Code)> = errs.iter().map(|e| (e.path.as_str(), e.code)).collect();
    assert!(paths.contains(&("营业收入.2024", Code::FactOutOfRange)), "{errs:?}");
    assert!(paths.contains(&("研发投入.2024", Code::FactOutOfRange)), "{errs:?}");
    assert!(errs.iter().any(|e| e.message.contains("too large")), "{errs:?}");
    // the streaming reader hands such a row back to the tree reader, which names it
    let reader = huiqi::eval::stream::FactsReader::new(&c.program);
    assert!(reader.read(r#"{"营业收入": {"2024": "-5.6亿"}}"#).is_none());
}

#[test]
fn signed_facts_may_be_negative_and_signed_rates_may_exceed_100_per_cent() {
    let prog = compile(
        "fact 利润: series money signed \"利润\"\nfact 增长率: rate signed\nfact 费率: rate\npolicy P \"p\" {\n}\n",
    )
    .unwrap();
    assert!(parse_facts(&prog, r#"{"利润": {"2024": "-300万"}, "增长率": "150%"}"#).is_ok());
    let e = parse_facts(&prog, r#"{"费率": "150%"}"#).unwrap_err();
    assert_eq!((e[0].path.as_str(), e[0].code), ("费率", Code::FactOutOfRange));
    assert_eq!(compile("fact 名称: text signed\n").unwrap_err(), vec![Code::ConstructMisuse]);
}

#[test]
fn the_facts_own_as_of_date_is_honoured_or_rejected() {
    let dir = tmp_dir("asof");
    let p = dir.join("f.json");
    std::fs::write(&p, r#"{"$period": 2024, "$as_of": "2024-06-30", "行业": "电子信息制造业"}"#).unwrap();
    let o = huiqi(&["eval", "--facts", p.to_str().unwrap(), "--format", "json"]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["as_of"], "2024-06-30", "{}", text(&o));
    std::fs::write(&p, r#"{"$period": 2024, "$as_of": "mid-year"}"#).unwrap();
    let o = huiqi(&["eval", "--facts", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("$as_of"), "{}", text(&o));
    std::fs::write(&p, r#"{"$as_of": "2024-06-30", "营业收入": {"2024": "1亿"}}"#).unwrap();
    let o = huiqi(&["simulate", "--facts", p.to_str().unwrap(), "--from", "2023", "--to", "2024"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

// ---------------------------------------------------------------- smaller truths

#[test]
fn one_file_checks_within_the_rule_set_of_its_folder() {
    let o = huiqi(&["check", "policies/E23.policy"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn flags_that_do_not_apply_are_usage_errors() {
    for args in [
        vec!["eval", "--facts", EXAMPLE, "--summary"],
        vec!["eval", "--facts", EXAMPLE, "--format", "csv"],
        vec!["eval", "--facts", "tests/data/population.jsonl", "--ledger", "tests/data/README.md"],
    ] {
        let o = huiqi(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    }
}

#[test]
fn an_exhausted_tier_names_the_earlier_grant() {
    let c = policies();
    let facts = read_facts(
        &c.program,
        &serde_json::json!({"行业": "电子信息制造业", "营业收入": {"2023": "9000万", "2024": "1.2亿"}}),
    )
    .unwrap();
    let ledger = Ledger::from_json(
        r#"{"schema_version":1,"entries":[{"policy":"E23","clause":"5","key":"1亿","period":2023,"amount":"300000.00"}]}"#,
        "l.json",
    )
    .unwrap();
    for explain in [true, false] {
        let o = evaluate(&c.program, &facts, &ledger, EvalOptions { period: 2024, as_of: None, explain });
        let r = o.results.iter().find(|r| c.program.clause_ref(r.clause) == "E23.5").unwrap();
        assert_eq!(r.status, Status::Exhausted, "explain {explain}");
        assert!(
            matches!(r.reasons.as_slice(), [huiqi::eval::Step::Once { period: 2023, .. }]),
            "{:?}",
            r.reasons
        );
    }
}

#[test]
fn a_broken_vocabulary_is_one_error_not_a_flood() {
    let dir = tmp_dir("cascade");
    copy_dir(std::path::Path::new("policies"), &dir);
    let p = dir.join("vocabulary.policy");
    let s = std::fs::read_to_string(&p).unwrap();
    std::fs::write(
        &p,
        s.replacen("fact 行业: 行业类别 \"所属行业\"", "fact 行业: 行业类别 \"所属行业\" }", 1),
    )
    .unwrap();
    let o = huiqi(&["check", dir.to_str().unwrap(), "--format", "short"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1));
    let errors: Vec<&str> = t.lines().filter(|l| l.contains("error[")).collect();
    assert_eq!(errors.len(), 1, "{t}");
    assert!(errors[0].contains("E0101") && errors[0].contains("vocabulary.policy"), "{t}");
}

#[test]
fn a_condition_keeps_its_parentheses_in_reasons() {
    let prog = compile(
        "fact a: boolean\nfact b: boolean\nfact c: boolean\npolicy P \"p\" {\n  clause 1 \"x\" {\n    when (a or b) and c\n    amount 1元\n  }\n}\n",
    )
    .unwrap();
    assert_eq!(&*prog.clauses[0].conditions[0].text, "(a or b) and c");
}
