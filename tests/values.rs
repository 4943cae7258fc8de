#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]
//! Amounts that are not computed numbers: `each … key … => discretionary` (每人不超过1000元:
//! each item decided by the department up to its own cap, recorded per key with amount 0).
//! Each number is worked out beside its assertion; the lean path must agree with the evaluator.

use huiqi::Status;
use huiqi::eval::facts::parse_facts;
use huiqi::eval::kernel::{Kernel, Verdicts};
use huiqi::eval::{EvalOptions, Lang, Ledger, LedgerEntry, evaluate};
use huiqi::ir::Program;

mod common;

const RULES: &str = r#"
record 员工记录 "新招用员工" {
  身份证号: text "身份证号码"
  招用日期: date "招用日期"
}
fact 新招用员工: list 员工记录 "新招用员工"
policy V "v" {
  clause 1 "吸纳就业补助" {
    quote "按每人不超过1000元标准给予一次性吸纳就业补助"
    responsible 人社局
    amount each 新招用员工 where year(招用日期) == period key 身份证号 => discretionary
    cap 1000元 per item
    once per item
  }
  clause 2 "总额封顶" {
    quote "每人不超过1000元，每家企业最高2500元"
    responsible 人社局
    amount each 新招用员工 key 身份证号 => discretionary
    cap 1000元 per item
    cap 2500元
  }
  clause 3 "累计上限" {
    quote "每人累计不超过1500元"
    responsible 人社局
    amount each 新招用员工 key 身份证号 => discretionary
    cap 1500元 per item total
  }
  clause 4 "无上限" {
    quote "每人给予适当补助"
    responsible 人社局
    amount each 新招用员工 key 身份证号 => discretionary
  }
}
"#;

const FACTS: &str = r#"{
  "新招用员工": [
    {"身份证号": "A1", "招用日期": "2024-02-01"},
    {"身份证号": "B2", "招用日期": "2024-05-01"},
    {"身份证号": "C3", "招用日期": "2024-09-01"},
    {"身份证号": "D4", "招用日期": "2023-11-01"}
  ]
}"#;

fn program() -> Program {
    common::program(RULES)
}

fn entry(clause: &str, key: &str, period: i32, amount: &str) -> LedgerEntry {
    common::entry("V", clause, Some(key), period, amount)
}

fn result<'a>(out: &'a huiqi::eval::Outcome, prog: &Program, clause: &str) -> &'a huiqi::eval::ClauseResult {
    out.results.iter().find(|r| prog.clause_ref(r.clause) == clause).unwrap()
}

fn cap(r: &huiqi::eval::ClauseResult) -> Option<String> {
    r.cap.map(|d| d.normalize().to_string())
}

#[test]
fn each_item_is_discretionary_up_to_its_cap() {
    let prog = program();
    let facts = parse_facts(&prog, FACTS).unwrap();
    let out =
        evaluate(&prog, &facts, &Ledger::default(), EvalOptions { period: 2024, as_of: None, explain: true });
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    // A1, B2, C3 hired in 2024 (D4 in 2023): 3 × 1000元 = 3000元 at most
    let r = result(&out, &prog, "V.1");
    assert_eq!((r.status, r.amount, cap(r)), (Status::Discretionary, None, Some("3000".into())));
    // one ledger entry per hire, amount 0 (the department sets each amount)
    let keys: Vec<(String, String)> =
        r.entries.iter().map(|e| (e.key.as_deref().unwrap().to_string(), e.amount.to_string())).collect();
    assert_eq!(keys, [("A1", "0"), ("B2", "0"), ("C3", "0")].map(|(k, a)| (k.to_string(), a.to_string())));
    // the explanation: one line per hire, then the clause's cap
    let lines: Vec<String> = r.steps.iter().map(|s| s.render(&prog, Lang::Zh)).collect();
    assert!(lines.iter().any(|l| l == "A1：金额由主管部门酌定，每人（项）最高 1000元"), "{lines:#?}");
    assert!(lines.iter().any(|l| l == "C3：金额由主管部门酌定，每人（项）最高 1000元"), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("最高 3000元")), "{lines:#?}");
    // four hires × 1000元 = 4000元, but the clause's own cap 2500元 binds
    assert_eq!(cap(result(&out, &prog, "V.2")), Some("2500".into()));
    // 4 × 1500元 (nothing granted before) = 6000元
    assert_eq!(cap(result(&out, &prog, "V.3")), Some("6000".into()));
    // no per-item cap: discretionary with no cap
    let r = result(&out, &prog, "V.4");
    assert_eq!((r.status, cap(r)), (Status::Discretionary, None));
}

#[test]
fn once_per_item_counts_the_discretionary_records() {
    let prog = program();
    let facts = parse_facts(&prog, FACTS).unwrap();
    let run = |ledger: &Ledger| {
        evaluate(&prog, &facts, ledger, EvalOptions { period: 2024, as_of: None, explain: true })
    };
    // A1 granted in 2023 (amount 0): B2 and C3 left, 2 × 1000元 = 2000元
    let ledger = Ledger::new(vec![entry("1", "A1", 2023, "0")]);
    ledger.check(&prog, "ledger.json").unwrap();
    let out = run(&ledger);
    let r = result(&out, &prog, "V.1");
    assert_eq!((r.status, cap(r)), (Status::Discretionary, Some("2000".into())));
    // this period's own record (amount 0) is the grant being decided, not an earlier one
    let out = run(&Ledger::new(vec![entry("1", "A1", 2024, "0")]));
    assert_eq!(cap(result(&out, &prog, "V.1")), Some("3000".into()));
    // every hire of 2024 granted before: exhausted
    let all = Ledger::new(vec![
        entry("1", "A1", 2023, "0"),
        entry("1", "B2", 2023, "0"),
        entry("1", "C3", 2022, "0"),
    ]);
    assert_eq!(result(&run(&all), &prog, "V.1").status, Status::Exhausted);
    // per item total: A1 had 1000元, 500元 left; B2 had 1500元, nothing left (not counted);
    // C3, D4 1500元 each: 500 + 1500 + 1500 = 3500元
    let out = run(&Ledger::new(vec![entry("3", "A1", 2023, "1000"), entry("3", "B2", 2022, "1500")]));
    let r = result(&out, &prog, "V.3");
    assert_eq!((r.status, cap(r)), (Status::Discretionary, Some("3500".into())));
    assert_eq!(r.entries.len(), 3);
}

#[test]
fn no_item_is_ineligible_and_the_lean_path_agrees() {
    let prog = program();
    let kernel = Kernel::new(&prog);
    assert_eq!(kernel.delegated(), 0, "discretionary per item runs on the lean path");
    for (json, period) in [
        (FACTS, 2024),
        (FACTS, 2023),
        (FACTS, 2025),
        (r#"{"新招用员工": []}"#, 2024),
        (r#"{}"#, 2024),
        (r#"{"新招用员工": [{"招用日期": "2024-02-01"}]}"#, 2024),
    ] {
        let facts = parse_facts(&prog, json).unwrap();
        let full =
            evaluate(&prog, &facts, &Ledger::default(), EvalOptions { period, as_of: None, explain: false });
        let mut v = Verdicts::default();
        kernel.evaluate(&prog, &facts, period, None, &mut v).unwrap();
        for (k, r) in v.items.iter().zip(&full.results) {
            assert_eq!(
                (k.status, k.amount),
                (r.status, r.amount),
                "{json} {period}: {}",
                prog.clause_ref(r.clause)
            );
        }
    }
    // 2025: nobody hired that year
    let facts = parse_facts(&prog, FACTS).unwrap();
    let out = evaluate(
        &prog,
        &facts,
        &Ledger::default(),
        EvalOptions { period: 2025, as_of: None, explain: false },
    );
    assert_eq!(result(&out, &prog, "V.1").status, Status::Ineligible);
    // a hire without an id: undetermined
    let facts = parse_facts(&prog, r#"{"新招用员工": [{"招用日期": "2024-02-01"}]}"#).unwrap();
    let out = evaluate(
        &prog,
        &facts,
        &Ledger::default(),
        EvalOptions { period: 2024, as_of: None, explain: false },
    );
    assert_eq!(result(&out, &prog, "V.1").status, Status::Undetermined);
}

const QRULES: &str = r#"
fact 收入: money "营业收入"
fact 研发: money "研发投入"
policy Q "q" {
  clause 1 "追加奖励" {
    when qualifies(Q.2) and 研发 达到 500万
    amount 10万
  }
  clause 2 "规模奖励" {
    when 收入 达到 1亿
    amount 30万
    once
  }
  clause 3 "酌定支持" {
    when 收入 达到 5000万
    amount discretionary
  }
  clause 4 "读酌定" {
    when qualifies(Q.3)
    amount 1万
  }
  clause 5 "排除规模奖励" {
    when 收入 达到 1亿
    amount 50万
    excludes Q.2
  }
}
"#;

fn compile(text: &str) -> Result<Program, String> {
    huiqi::compile(&huiqi::Input::from_rules([("q.policy".to_string(), text.to_string())]))
        .map(|c| c.program)
        .map_err(|f| huiqi::diag::render::render_short(&f.diagnostics, &f.sources))
}

#[test]
fn qualifies_reads_another_clauses_outcome() {
    let prog = compile(QRULES).unwrap();
    let run = |json: &str, ledger: &Ledger| {
        let facts = parse_facts(&prog, json).unwrap();
        let out = evaluate(&prog, &facts, ledger, EvalOptions { period: 2024, as_of: None, explain: true });
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        out
    };
    let none = Ledger::default();
    // 收入 2亿 达到 1亿: Q.2 granted (before stacking), 研发 600万 达到 500万: Q.1 10万. Q.5
    // excludes Q.2 from the payment, but Q.2 still qualifies.
    let out = run(r#"{"收入": "2亿", "研发": "600万"}"#, &none);
    let q1 = result(&out, &prog, "Q.1");
    assert_eq!(
        (q1.status, q1.amount.map(|a| a.normalize().to_string())),
        (Status::Granted, Some("100000".into()))
    );
    assert_ne!(result(&out, &prog, "Q.2").status, Status::Granted, "Q.2 is excluded by Q.5");
    let lines: Vec<String> = q1.steps.iter().map(|s| s.render(&prog, Lang::En)).collect();
    assert!(lines.iter().any(|l| l.contains("qualifies(Q.2)") && l.contains("granted")), "{lines:#?}");
    // Q.2 paid in 2023 (once): exhausted this period, so Q.1 does not qualify
    let paid: LedgerEntry = serde_json::from_value(serde_json::json!({
        "policy": "Q", "clause": "2", "period": 2023, "amount": "300000"
    }))
    .unwrap();
    let out = run(r#"{"收入": "2亿", "研发": "600万"}"#, &Ledger::new(vec![paid]));
    assert_eq!(result(&out, &prog, "Q.2").status, Status::Exhausted);
    assert_eq!(result(&out, &prog, "Q.1").status, Status::Ineligible);
    // 收入 unknown: Q.2 undetermined, so Q.1 is undetermined and misses 收入
    let out = run(r#"{"研发": "600万"}"#, &none);
    let q1 = result(&out, &prog, "Q.1");
    assert_eq!(q1.status, Status::Undetermined);
    assert!(q1.missing.iter().any(|m| m == "收入"), "{:?}", q1.missing);
    // 收入 6000万: Q.3 discretionary qualifies (Q.4 1万); Q.2 ineligible, so Q.1 is too
    let out = run(r#"{"收入": "6000万", "研发": "600万"}"#, &none);
    assert_eq!(result(&out, &prog, "Q.4").status, Status::Granted);
    assert_eq!(result(&out, &prog, "Q.1").status, Status::Ineligible);
}

#[test]
fn qualifies_checks_the_clause_and_cycles() {
    let err = compile(&QRULES.replace("qualifies(Q.2)", "qualifies(Q.22)")).unwrap_err();
    assert!(err.contains("E0206") && err.contains("Q.2"), "{err}");
    let cyclic = QRULES.replace("when 收入 达到 5000万", "when qualifies(Q.4)");
    let err = compile(&cyclic).unwrap_err();
    assert!(
        err.contains("E0210") && err.contains("`Q.3` → `Q.4` → `Q.3`")
            || err.contains("`Q.4` → `Q.3` → `Q.4`"),
        "{err}"
    );
}

#[test]
fn the_lean_path_agrees_on_qualifies() {
    let prog = compile(QRULES).unwrap();
    let kernel = Kernel::new(&prog);
    assert_eq!(kernel.delegated(), 0, "qualifies runs on the lean path");
    for json in [
        r#"{"收入": "2亿", "研发": "600万"}"#,
        r#"{"收入": "1亿", "研发": "499万"}"#,
        r#"{"收入": "6000万", "研发": "600万"}"#,
        r#"{"研发": "600万"}"#,
        r#"{"收入": "1000万"}"#,
        r#"{}"#,
    ] {
        let facts = parse_facts(&prog, json).unwrap();
        let full = evaluate(
            &prog,
            &facts,
            &Ledger::default(),
            EvalOptions { period: 2024, as_of: None, explain: false },
        );
        let mut v = Verdicts::default();
        kernel.evaluate(&prog, &facts, 2024, None, &mut v).unwrap();
        for (k, r) in v.items.iter().zip(&full.results) {
            assert_eq!((k.status, k.amount), (r.status, r.amount), "{json}: {}", prog.clause_ref(r.clause));
        }
    }
}
