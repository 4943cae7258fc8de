#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used, reason = "tests fail loudly")]
//! Hostile and broken input gets diagnostics, never a crash; arithmetic is exact and rounding is
//! explicit.

use huiqi::diag::Code;
use huiqi::eval::facts::{parse_facts, read_facts};
use huiqi::eval::{EvalOptions, Ledger, Status, evaluate};
use huiqi::{Input, compile};
use rust_decimal::Decimal;
use std::str::FromStr;

fn codes(src: &str) -> Vec<Code> {
    match compile(&Input::from_rules([("t.policy".to_string(), src.to_string())])) {
        Ok(_) => Vec::new(),
        Err(f) => f.diagnostics.iter().map(|d| d.code).collect(),
    }
}

/// Runs on a thread with a small (256 KiB) stack: bounded recursion must not need more.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(256 * 1024).spawn(f).unwrap().join().expect("no stack overflow")
}

#[test]
fn ten_thousand_nested_brackets_is_a_diagnostic() {
    let src = format!("fact x: money\ndefine d = {}x{}\n", "(".repeat(10_000), ")".repeat(10_000));
    let got = on_small_stack(move || codes(&src));
    assert_eq!(got, vec![Code::TooDeep]);
}

#[test]
fn ten_thousand_nested_brackets_in_test_facts_is_a_diagnostic() {
    let src = format!(
        "test \"t\" {{ period 2024 facts {{ a: {}1{} }} }}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let got = on_small_stack(move || codes(&src));
    assert_eq!(got, vec![Code::TooDeep]);
}

#[test]
fn ten_thousand_term_chain_is_a_diagnostic() {
    let src = format!("fact x: money\ndefine d = x{}\n", " + x".repeat(10_000));
    let got = on_small_stack(move || codes(&src));
    assert_eq!(got, vec![Code::TooDeep]);
}

#[test]
fn many_prefix_operators_are_a_syntax_error() {
    let src = format!("fact b: boolean\ndefine d = {}b\n", "not ".repeat(10_000));
    let got = on_small_stack(move || codes(&src));
    assert_eq!(got, vec![Code::SyntaxError]);
}

#[test]
fn long_definition_chain_is_a_diagnostic() {
    let mut src = String::from("fact x: money\ndefine d0 = x\n");
    for i in 1..200 {
        src.push_str(&format!("define d{i} = d{} + x\n", i - 1));
    }
    let got = on_small_stack(move || codes(&src));
    assert!(got.contains(&Code::TooDeep), "{got:?}");
}

#[test]
fn definition_cycle_shows_its_path() {
    let src = "fact x: money\ndefine a = b + x\ndefine b = c\ndefine c = a\n";
    let f = compile(&Input::from_rules([("t.policy".to_string(), src.to_string())])).expect_err("cycle");
    let d = f.diagnostics.iter().find(|d| d.code == Code::DefinitionCycle).expect("E0205");
    assert!(d.message.contains("`a` → `b` → `c` → `a`"), "{}", d.message);
}

#[test]
fn all_problems_are_reported_not_only_the_first() {
    let src = "fact x: mony\nfact y: moneyy\npolicy P \"p\" { clause 1 \"c\" { amount z } }\n";
    let got = codes(src);
    assert_eq!(got.iter().filter(|c| **c == Code::UnknownType).count(), 2, "{got:?}");
    assert!(got.contains(&Code::UnknownName), "{got:?}");
}

const VOCAB: &str = r#"
enum 等级 ordered { 无, 省级, 国家级 }
record 贷款记录 { 金额: money, 放款日期: date, 利息: series money }
fact 营业收入: series money
fact 层级: 等级
fact 贷款: list 贷款记录
fact 价格: money
policy P "测试" {
  clause 1 "乘积" { amount 价格 × 1000000000000 × 1000000000000 }
  clause 2 "固定" { when 营业收入 达到 1亿 amount 30万 }
  clause 3 "比例" { amount 价格 × 12.5% }
}
"#;

fn vocab() -> huiqi::Compiled {
    compile(&Input::from_rules([("v.policy".to_string(), VOCAB.to_string())])).expect("vocab compiles")
}

#[test]
fn facts_errors_are_all_reported_with_paths() {
    let c = vocab();
    let errs = parse_facts(
        &c.program,
        r#"{"营业收人": 1, "层级": "市级", "营业收入": 5, "贷款": [{"金额": "x", "放款日期": "2023-02-30", "利率": 1}]}"#,
    )
    .expect_err("invalid");
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    for want in ["营业收人", "层级", "营业收入", "贷款[0].金额", "贷款[0].放款日期", "贷款[0].利率"]
    {
        assert!(paths.contains(&want), "{want} missing from {paths:?}");
    }
    let unknown = errs.iter().find(|e| e.path == "营业收人").unwrap();
    assert_eq!(unknown.code, Code::UnknownFact);
    assert!(unknown.help.contains("营业收入"), "did-you-mean: {}", unknown.help);
}

#[test]
fn json_numbers_are_exact() {
    let c = vocab();
    let f = parse_facts(&c.program, r#"{"价格": 12345678901234567.891}"#).unwrap();
    let o = evaluate(&c.program, &f, &Ledger::default(), EvalOptions::new(2024));
    let r = o.results.iter().find(|r| c.program.clause_ref(r.clause) == "P.3").unwrap();
    // 12345678901234567.891 × 12.5% = 1543209862654320.986375 → 1543209862654320.99 (to the fen)
    assert_eq!(r.amount, Some(Decimal::from_str("1543209862654320.99").unwrap()));
}

#[test]
fn overflow_names_the_clause_and_the_others_carry_on() {
    let c = vocab();
    let f = parse_facts(&c.program, r#"{"价格": 9000000000000000000, "营业收入": {"2024": "2亿"}}"#).unwrap();
    let o = evaluate(&c.program, &f, &Ledger::default(), EvalOptions::new(2024));
    assert_eq!(o.errors.len(), 1);
    assert_eq!(c.program.clause_ref(o.errors[0].clause), "P.1");
    assert_eq!(o.errors[0].code, Code::Overflow);
    let r2 = o.results.iter().find(|r| c.program.clause_ref(r.clause) == "P.2").unwrap();
    assert_eq!((r2.status, r2.amount), (Status::Granted, Some(Decimal::from(300_000))));
}

#[test]
fn rounding_is_half_away_from_zero_to_the_fen() {
    use huiqi::eval::round;
    use huiqi::syntax::ast::Rounding;
    let d = |s: &str| Decimal::from_str(s).unwrap();
    assert_eq!(round(d("0.125"), Rounding::Fen), d("0.13")); // banker's would give 0.12
    assert_eq!(round(d("0.135"), Rounding::Fen), d("0.14"));
    assert_eq!(round(d("-0.125"), Rounding::Fen), d("-0.13"));
    assert_eq!(round(d("2.5"), Rounding::Yuan), d("3"));
    assert_eq!(round(d("125000"), Rounding::Wan), d("130000"));
    assert_eq!(round(d("1.005"), Rounding::None), d("1.005"));
}

#[test]
fn absent_fact_is_undetermined_with_its_path() {
    let c = vocab();
    let f = read_facts(&c.program, &serde_json::json!({})).unwrap();
    let o = evaluate(&c.program, &f, &Ledger::default(), EvalOptions::new(2024));
    let r = o.results.iter().find(|r| c.program.clause_ref(r.clause) == "P.2").unwrap();
    assert_eq!(r.status, Status::Undetermined);
    assert_eq!(r.missing, vec!["营业收入.2024".to_string()]);
}

#[test]
fn hot_ir_node_stays_small() {
    // Nickel's lesson: a fat expression node costs 25–30%; keep it from creeping back.
    assert!(std::mem::size_of::<huiqi::ir::Expr>() <= 64, "{}", std::mem::size_of::<huiqi::ir::Expr>());
}

#[test]
fn program_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<huiqi::ir::Program>();
    check::<huiqi::Compiled>();
}

/// The deepest rule the compiler accepts: a chain of 31 definitions, each nesting brackets as
/// deep as allowed. Both evaluators must run it on a rayon worker's default stack (2 MiB).
#[test]
fn the_deepest_accepted_rule_evaluates_on_a_worker_stack() {
    let rule = |k: usize| {
        let mut src = String::from("fact x: money \"x\"\ndefine d0 = x\n");
        for i in 1..32 {
            let nest = format!("{}x{}", "(x + ".repeat(k), ")".repeat(k));
            src.push_str(&format!("define d{i} = d{} + {nest}\n", i - 1));
        }
        src.push_str(
            "policy T \"t\" {\n  rounding none\n  clause 1 \"c\" {\n    quote \"q\"\n    responsible r\n    amount d31\n  }\n}\n",
        );
        src
    };
    let compiled = [95, 90, 80, 60, 40, 20].into_iter().find_map(|k| {
        huiqi::compile(&huiqi::Input::from_rules([("t.policy".to_string(), rule(k))])).ok().map(|c| (k, c))
    });
    let (k, compiled) = compiled.expect("some depth compiles");
    assert!(k >= 40, "the compiler accepts bracket depth {k}");
    let total = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let prog = &compiled.program;
            let facts = huiqi::eval::facts::parse_facts(prog, r#"{"x": 1}"#).unwrap();
            let full =
                huiqi::evaluate(prog, &facts, &huiqi::Ledger::default(), huiqi::EvalOptions::new(2024));
            let kernel = huiqi::eval::kernel::Kernel::new(prog);
            let mut v = huiqi::eval::kernel::Verdicts::default();
            kernel.evaluate(prog, &facts, 2024, None, &mut v).unwrap();
            assert_eq!(v.total().unwrap(), full.total().unwrap());
            (k, full.total().unwrap())
        })
        .unwrap()
        .join()
        .expect("no stack overflow");
    // d0 = 1; each further definition adds k + 1 ones: 1 + 31 × (k + 1)
    assert_eq!(total.1, rust_decimal::Decimal::from(1 + 31 * (total.0 + 1)));
}
