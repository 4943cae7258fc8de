#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]
//! The README's "library in ten lines", compiled and run.

use huiqi::eval::{EvalOptions, Ledger, evaluate, facts::parse_facts};

#[test]
fn the_readme_library_example_runs() {
    let input = huiqi::load::load(&["policies".into()]).unwrap();
    let compiled = huiqi::compile(&input).map_err(|f| f.diagnostics).unwrap();
    let program = &compiled.program;
    let facts = parse_facts(
        program,
        r#"{"行业": "电子信息制造业", "营业收入": {"2023": "8000万", "2024": "1.2亿"}}"#,
    )
    .unwrap();
    let outcome = evaluate(program, &facts, &Ledger::default(), EvalOptions::new(2024));
    let e5 = outcome.results.iter().find(|r| program.clause_ref(r.clause) == "E23.5").unwrap();
    // 8000万 → 1.2亿: first time past 1亿 → 30万
    assert_eq!(e5.amount, Some(rust_decimal::Decimal::from(300_000)));
    let new_entries: Vec<_> = outcome.new_entries().cloned().collect();
    assert!(new_entries.iter().any(|e| &*e.clause == "5" && e.key.as_deref() == Some("1亿")));
    let json = huiqi::report::eval_report(program, &outcome, None, huiqi::eval::Lang::En);
    assert_eq!(json.schema_version, 1);

    // the lean path: the same total as `evaluate`
    use huiqi::eval::kernel::{Kernel, Verdicts};
    let kernel = Kernel::new(program);
    let mut verdicts = Verdicts::default();
    kernel.evaluate(program, &facts, 2024, None, &mut verdicts).unwrap();
    assert_eq!(verdicts.total(), outcome.total());
}
