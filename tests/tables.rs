#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]
//! Named tables (`table NAME … tiers|brackets { rows } from DATE { rows }`), read in
//! expressions as `NAME(x)`: the row that applies at every edge, versions chosen by the date
//! parameters are read on (with bounds that are themselves versioned parameters), the
//! explanation naming the row and the version, the checks (E0308, E0305, E0302, E0309, W0106,
//! W0109, W0102), `huiqi ir` and `huiqi diff`; and the explanation of an `each` amount that
//! selects nobody. Each number is worked out beside its assertion; the lean path agrees with
//! the evaluator on all of it (and `tests/kernel.rs` over many more values).

use huiqi::Status;
use huiqi::diag::Code;
use huiqi::eval::facts::parse_facts;
use huiqi::eval::kernel::{Kernel, Verdicts};
use huiqi::eval::{EvalOptions, Lang, Ledger, evaluate};
use huiqi::ir::Program;

const RULES: &str = r#"
fact 收入: series money "营业收入"
fact 担保额: money "单户担保额"
fact 费率: rate "实际担保费率"
fact 所得: money "技术转让所得"

parameter 起点: money "规模奖励起点" {
  1亿 from 2020-01-01 "原文件"
  2亿 from 2025-01-01 "修改文件：起点提高至2亿元"
}

// as first written two rows; from 2024 a third (增设10亿元一档)
table 规模奖励表 "规模奖励标准" tiers {
  达到 起点 => 30万
  达到 5亿  => 50万
} from 2024-01-01 "修改文件：增设10亿元一档" {
  达到 起点 => 30万
  达到 5亿  => 50万
  达到 10亿 => 100万
}

table 费率上限表 "担保费率上限" tiers {
  超过 0元   => 1%
  超过 500万 => 1.5%
}

table 减免表 "超额累进减免" brackets {
  up to 500万 => 100%
  above       => 50%
}

policy T "t" {
  issued 2020-01-01
  clause 1 "规模奖励" {
    quote "营业收入达到1亿元、5亿元、10亿元的，分别给予30万元、50万元、100万元奖励"
    responsible 示例厅
    amount 规模奖励表(收入)
  }
  clause 2 "按2023年的标准" {
    quote "按2023年的标准给予30万元、50万元、100万元奖励"
    responsible 示例厅
    dated 2023-12-31
    amount 规模奖励表(收入)
  }
  clause 3 "担保费率上限" {
    kind ceiling
    quote "500万元及以下的担保费率不超过1%，500万元以上的不超过1.5%"
    responsible 示例厅
    when 担保额 超过 0元
    when 费率 不超过 费率上限表(担保额)
    amount 担保额 × 费率上限表(担保额)
  }
  clause 4 "减免" {
    kind tax
    quote "不超过500万元的部分，免征；超过500万元的部分，减半征收"
    responsible 示例厅
    amount 减免表(所得)
  }
  clause 5 "同一累进写在条款中" {
    kind tax
    quote "不超过500万元的部分，免征；超过500万元的部分，减半征收"
    responsible 示例厅
    amount brackets 所得 {
      up to 500万 => 100%
      above       => 50%
    }
  }
  clause 6 "上限读表" {
    quote "按收入的1%给予奖励，最高不超过规模奖励标准"
    responsible 示例厅
    amount 收入 × 1%
    cap 规模奖励表(收入)
  }
}
"#;

fn compile(text: &str) -> Result<huiqi::Compiled, huiqi::Failed> {
    huiqi::compile(&huiqi::Input::from_rules([("t.policy".to_string(), text.to_string())]))
}

fn program() -> Program {
    compile(RULES).map_err(|f| huiqi::diag::render::render_short(&f.diagnostics, &f.sources)).unwrap().program
}

/// Both evaluators on the facts; the results in the evaluator's order.
fn run(prog: &Program, facts: &str, period: i32) -> huiqi::eval::Outcome {
    let facts = parse_facts(prog, facts).unwrap();
    let out = evaluate(prog, &facts, &Ledger::default(), EvalOptions { period, as_of: None, explain: true });
    let kernel = Kernel::new(prog);
    assert_eq!(kernel.delegated(), 0, "every table read runs on the lean path");
    let mut v = Verdicts::default();
    kernel.evaluate(prog, &facts, period, None, &mut v).unwrap();
    for (k, r) in v.items.iter().zip(&out.results) {
        assert_eq!(k.status, r.status, "{}", prog.clause_ref(r.clause));
        assert_eq!(format!("{:?}", k.amount), format!("{:?}", r.amount), "{}", prog.clause_ref(r.clause));
    }
    out
}

fn result<'a>(out: &'a huiqi::eval::Outcome, prog: &Program, clause: &str) -> &'a huiqi::eval::ClauseResult {
    out.results.iter().find(|r| prog.clause_ref(r.clause) == clause).unwrap()
}

fn amount(out: &huiqi::eval::Outcome, prog: &Program, clause: &str) -> (Status, Option<String>) {
    let r = result(out, prog, clause);
    (r.status, r.amount.map(|a| a.normalize().to_string()))
}

fn lines(r: &huiqi::eval::ClauseResult, prog: &Program, lang: Lang) -> Vec<String> {
    r.steps.iter().map(|s| s.render(prog, lang)).collect()
}

#[test]
fn a_tier_table_gives_the_value_of_the_highest_row_reached() {
    let prog = program();
    let granted = |a: &str| (Status::Granted, Some(a.to_string()));
    // 2023, the rows as first written: 起点 is 1亿 (version from 2020)
    for (income, want) in [
        ("99999999.99", (Status::Ineligible, None)), // one fen below 1亿: no row, 0 → nothing to grant
        ("1亿", granted("300000")),                  // 达到 includes 1亿
        ("499999999.99", granted("300000")),
        ("5亿", granted("500000")),
        ("20亿", granted("500000")), // no 10亿 row before 2024
    ] {
        let out = run(&prog, &format!(r#"{{ "收入": {{ "2023": "{income}" }} }}"#), 2023);
        assert_eq!(amount(&out, &prog, "T.1"), want, "2023, 收入 {income}");
    }
    // 2024: the version from 2024-01-01 adds the 10亿 row
    for (income, want) in [("999999999.99", granted("500000")), ("10亿", granted("1000000"))] {
        let out = run(&prog, &format!(r#"{{ "收入": {{ "2024": "{income}" }} }}"#), 2024);
        assert_eq!(amount(&out, &prog, "T.1"), want, "2024, 收入 {income}");
    }
    // 2025: 起点 raised to 2亿 by its parameter version: 1.5亿 reaches no row, 2亿 does
    let out = run(&prog, r#"{ "收入": { "2025": "1.5亿" } }"#, 2025);
    assert_eq!(amount(&out, &prog, "T.1").0, Status::Ineligible);
    let out = run(&prog, r#"{ "收入": { "2025": "2亿" } }"#, 2025);
    assert_eq!(amount(&out, &prog, "T.1"), granted("300000"));
}

#[test]
fn a_clause_dated_earlier_reads_the_earlier_version() {
    let prog = program();
    // T.2 is dated 2023-12-31: in 2025 it still reads the rows as first written (no 10亿 row)
    // with 起点 1亿: 12亿 → 50万, 1.5亿 → 30万; T.1 reads the 2025 rows: 100万 and nothing.
    let out = run(&prog, r#"{ "收入": { "2025": "12亿" } }"#, 2025);
    assert_eq!(amount(&out, &prog, "T.1"), (Status::Granted, Some("1000000".into())));
    assert_eq!(amount(&out, &prog, "T.2"), (Status::Granted, Some("500000".into())));
    let out = run(&prog, r#"{ "收入": { "2025": "1.5亿" } }"#, 2025);
    assert_eq!(amount(&out, &prog, "T.1").0, Status::Ineligible);
    assert_eq!(amount(&out, &prog, "T.2"), (Status::Granted, Some("300000".into())));
}

#[test]
fn one_table_read_in_a_condition_and_the_amount() {
    let prog = program();
    let facts = |g: &str, r: &str| format!(r#"{{ "担保额": "{g}", "费率": "{r}" }}"#);
    // 500万 (及以下 includes it): 1%; 1% charged is within it: the ceiling is 500万 × 1% = 5万
    let out = run(&prog, &facts("500万", "1%"), 2024);
    assert_eq!(amount(&out, &prog, "T.3"), (Status::Granted, Some("50000".into())));
    // one fen more: 1.5%, 5000000.01 × 1.5% = 75000.00015 → 75000.00 to the fen
    let out = run(&prog, &facts("5000000.01", "1.5%"), 2024);
    assert_eq!(amount(&out, &prog, "T.3"), (Status::Granted, Some("75000".into())));
    // 1.2% charged on 500万 is above the 1% ceiling: ineligible
    let out = run(&prog, &facts("500万", "1.2%"), 2024);
    assert_eq!(amount(&out, &prog, "T.3").0, Status::Ineligible);
}

#[test]
fn a_bracket_table_sums_its_slices_as_the_brackets_amount_does() {
    let prog = program();
    for (income, want) in [
        ("0元", None),
        ("300万", Some("3000000")),    // 300万 × 100%
        ("500万", Some("5000000")),    // 500万 × 100%
        ("800万", Some("6500000")),    // 500万 + 300万 × 50% = 650万
        ("500.01万", Some("5000050")), // 500万 + 100元 × 50%
    ] {
        let out = run(&prog, &format!(r#"{{ "所得": "{income}" }}"#), 2024);
        let table = amount(&out, &prog, "T.4");
        assert_eq!(table.1.as_deref(), want, "所得 {income}");
        assert_eq!(table, amount(&out, &prog, "T.5"), "所得 {income}: the table as the clause's brackets");
    }
}

#[test]
fn a_table_can_be_a_cap() {
    let prog = program();
    // 2023: 收入 6亿 × 1% = 600万, capped by the table's 50万 (达到 5亿)
    let out = run(&prog, r#"{ "收入": { "2023": "6亿" } }"#, 2023);
    assert_eq!(amount(&out, &prog, "T.6"), (Status::Granted, Some("500000".into())));
}

#[test]
fn the_explanation_names_the_row_and_the_version() {
    let prog = program();
    let out = run(&prog, r#"{ "收入": { "2024": "12亿" } }"#, 2024);
    let zh = lines(result(&out, &prog, "T.1"), &prog, Lang::Zh);
    assert!(
        zh.iter().any(|l| l
            == "分档表 规模奖励表(收入[period])：12亿 达到 10亿 档，取 100万（按 2024-01-01 起施行的版本：修改文件：增设10亿元一档）"),
        "{zh:#?}"
    );
    let en = lines(result(&out, &prog, "T.1"), &prog, Lang::En);
    assert!(
        en.iter().any(|l| l
            == "tier table 规模奖励表(收入[period]): 12亿 is in the row 达到 10亿: 100万 (the version in force from 2024-01-01: 修改文件：增设10亿元一档)"),
        "{en:#?}"
    );
    // before 2024, the rows as first written; the parameter bound is shown with its version
    let out = run(&prog, r#"{ "收入": { "2023": "3亿" } }"#, 2023);
    let zh = lines(result(&out, &prog, "T.1"), &prog, Lang::Zh);
    assert!(
        zh.iter().any(|l| l == "分档表 规模奖励表(收入[period])：3亿 达到 起点 档，取 30万（按原表）"),
        "{zh:#?}"
    );
    assert!(zh.iter().any(|l| l.starts_with("参数 起点 = 1亿")), "{zh:#?}");
    // no row reached
    let out = run(&prog, r#"{ "收入": { "2023": "5000万" } }"#, 2023);
    let en = lines(result(&out, &prog, "T.1"), &prog, Lang::En);
    assert!(
        en.iter().any(|l| l == "tier table 规模奖励表(收入[period]): 5000万 reaches no row: 0元 (the table as first written)"),
        "{en:#?}"
    );
    // a table read in a condition: the row follows the condition
    let out = run(&prog, r#"{ "担保额": "800万", "费率": "1.2%" }"#, 2024);
    let zh = lines(result(&out, &prog, "T.3"), &prog, Lang::Zh);
    let cond = zh.iter().position(|l| l.starts_with("条件 `费率 不超过 费率上限表(担保额)` 成立")).unwrap();
    assert_eq!(
        zh.get(cond + 1).map(String::as_str),
        Some("分档表 费率上限表(担保额)：800万 超过 500万 档，取 1.5%")
    );
    // brackets: the slices
    let out = run(&prog, r#"{ "所得": "800万" }"#, 2024);
    let zh = lines(result(&out, &prog, "T.4"), &prog, Lang::Zh);
    assert!(
        zh.iter().any(|l| l == "累进表 减免表(所得)：0元–500万 部分 500万 × 100% = 500万；500万–以上 部分 300万 × 50% = 150万，合计 650万"),
        "{zh:#?}"
    );
}

fn codes(text: &str) -> Vec<Code> {
    match compile(text) {
        Ok(c) => c.warnings.iter().map(|d| d.code).collect(),
        Err(f) => f.diagnostics.iter().map(|d| d.code).collect(),
    }
}

const HEAD: &str = "fact 收入: money \"收入\"\nfact 件数: integer \"件数\"\n";

fn with_table(table: &str, read: &str) -> String {
    format!(
        "{HEAD}{table}\npolicy D \"d\" {{\n  clause 1 \"c\" {{\n    quote \"达到1亿元的奖励30万元，达到5亿元的奖励50万元\"\n    responsible 示例厅\n    amount {read}\n  }}\n}}\n"
    )
}

#[test]
fn what_a_table_cannot_be() {
    let ok = "table 表一 \"t\" tiers {\n  达到 1亿 => 30万\n  达到 5亿 => 50万\n}";
    assert!(compile(&with_table(ok, "表一(收入)")).is_ok());
    // the name without a value; two values; a value of another kind
    assert!(codes(&with_table(ok, "表一")).contains(&Code::ConstructMisuse));
    assert!(codes(&with_table(ok, "表一(收入, 收入)")).contains(&Code::ArgumentType));
    assert!(codes(&with_table(ok, "表一(件数)")).contains(&Code::CompareType));
    // a row read from the facts; a row that ends at its threshold
    let facts = "table 表一 \"t\" tiers {\n  达到 收入 => 30万\n}";
    assert!(codes(&with_table(facts, "表一(收入)")).contains(&Code::ConstructMisuse));
    let down = "table 表一 \"t\" tiers {\n  不超过 1亿 => 30万\n}";
    assert!(codes(&with_table(down, "表一(收入)")).contains(&Code::ConstructMisuse));
    // versions out of date order, or two on one date
    let order = "table 表一 \"t\" tiers {\n  达到 1亿 => 30万\n} from 2025-01-01 {\n  达到 1亿 => 30万\n} from 2024-01-01 {\n  达到 5亿 => 50万\n}";
    assert!(codes(&with_table(order, "表一(收入)")).contains(&Code::ConstructMisuse));
    let same = "table 表一 \"t\" tiers {\n  达到 1亿 => 30万\n} from 2024-01-01 {\n  达到 1亿 => 30万\n} from 2024-01-01 {\n  达到 5亿 => 50万\n}";
    assert!(codes(&with_table(same, "表一(收入)")).contains(&Code::ConstructMisuse));
    // a version with rows of the other kind is a syntax error
    let mixed = "table 表一 \"t\" tiers {\n  达到 1亿 => 30万\n} from 2024-01-01 {\n  up to 1亿 => 30%\n}";
    assert!(codes(&with_table(mixed, "表一(收入)")).contains(&Code::SyntaxError));
    // `above` before the last row
    let above = "table 表二 \"t\" brackets {\n  above => 50%\n  up to 1亿 => 30%\n}";
    assert!(codes(&with_table(above, "表二(收入)")).contains(&Code::ConstructMisuse));
    // the tables share the names of facts, definitions and parameters
    let dup = "table 收入 \"t\" tiers {\n  达到 1亿 => 30万\n}";
    assert!(codes(&with_table(dup, "30万")).contains(&Code::Duplicate));
}

#[test]
fn rows_that_do_not_rise_in_some_version_are_e0309() {
    // thresholds written out of order
    let t = "table 表一 \"t\" tiers {\n  达到 5亿 => 50万\n  达到 1亿 => 30万\n}";
    assert!(codes(&with_table(t, "表一(收入)")).contains(&Code::BoundsNotRising));
    // the same threshold twice (one row could never apply)
    let t = "table 表一 \"t\" tiers {\n  达到 1亿 => 30万\n  超过 1亿 => 50万\n}";
    assert!(codes(&with_table(t, "表一(收入)")).contains(&Code::BoundsNotRising));
    // a parameter bound that overtakes the next row from 2025, in the version in force then
    let p = "parameter 门槛: money \"门槛\" {\n  1亿 from 2020-01-01\n  6亿 from 2025-01-01\n}\n";
    let t = format!("{p}table 表一 \"t\" tiers {{\n  达到 门槛 => 30万\n  达到 5亿 => 50万\n}}");
    let text = with_table(&t, "表一(收入)");
    let Err(f) = compile(&text) else { panic!("an error") };
    let d = f.diagnostics.iter().find(|d| d.code == Code::BoundsNotRising).expect("E0309");
    assert!(d.message.contains("2025-01-01"), "{}", d.message);
    // … but not when a later table version (from 2025) moves the next row up with it
    let t = format!(
        "{p}table 表一 \"t\" tiers {{\n  达到 门槛 => 30万\n  达到 5亿 => 50万\n}} from 2025-01-01 {{\n  达到 门槛 => 30万\n  达到 10亿 => 50万\n}}"
    );
    assert!(!codes(&with_table(&t, "表一(收入)")).contains(&Code::BoundsNotRising));
    // brackets: a bound that does not rise in the later version only
    let t = "table 表二 \"t\" brackets {\n  up to 1亿 => 30%\n  above => 20%\n} from 2024-01-01 {\n  up to 5亿 => 30%\n  up to 1亿 => 25%\n  above => 20%\n}";
    let Err(f) = compile(&with_table(t, "表二(收入)")) else { panic!("an error") };
    let d = f.diagnostics.iter().find(|d| d.code == Code::BoundsNotRising).expect("E0309");
    assert!(d.message.contains("the version from 2024-01-01"), "{}", d.message);
}

#[test]
fn table_lints() {
    // a table no clause reads
    let t = "table 表一 \"t\" tiers {\n  达到 1亿 => 30万\n}";
    assert!(codes(&with_table(t, "30万")).contains(&Code::Unused));
    // a number of the table that no quote of a reader states (40万, not 50万)
    let t = "table 表一 \"t\" tiers {\n  达到 1亿 => 30万\n  达到 5亿 => 40万\n}";
    let c = compile(&with_table(t, "表一(收入)")).unwrap();
    let w = c.warnings.iter().find(|d| d.code == Code::NumberNotInQuote).expect("W0109");
    assert!(
        w.message.contains("表一") && w.message.contains("40万") && w.message.contains("D.1"),
        "{}",
        w.message
    );
    // a bracket table without `above`
    let t = "table 表二 \"t\" brackets {\n  up to 1亿 => 30%\n}";
    assert!(codes(&with_table(t, "表二(收入)")).contains(&Code::BracketsGap));
}

#[test]
fn ir_and_diff_show_tables() {
    let old = program();
    let view = huiqi::ir::view::program(&old);
    let t = view.tables.iter().find(|t| t.name == "规模奖励表").unwrap();
    assert_eq!(t.versions.len(), 2);
    assert_eq!(t.versions[0].rows, vec!["≥ 起点 => 30万", "≥ 5亿 => 50万"]);
    assert_eq!(t.versions[1].from.as_deref(), Some("2024-01-01"));
    // a clause reads the table by name
    let c = view.clauses.iter().find(|c| c.clause == "3").unwrap();
    assert_eq!(c.conditions[1], "费率 ≤ 费率上限表(担保额)");
    // a new row in the 2024 version, a 2026 version, a changed rate
    let new_rules = RULES
        .replace("  达到 10亿 => 100万\n}", "  达到 10亿 => 100万\n  达到 20亿 => 200万\n} from 2026-01-01 \"再修改\" {\n  达到 起点 => 40万\n}")
        .replace("超过 500万 => 1.5%", "超过 500万 => 2%");
    let new = compile(&new_rules).unwrap().program;
    let d = huiqi::diff::diff(&old, &new);
    let lines: Vec<String> =
        d.tables.iter().flat_map(|c| c.changes.iter().map(move |l| format!("{}: {l}", c.subject))).collect();
    assert_eq!(
        lines,
        vec![
            "规模奖励表: version from 2024-01-01: row added: ≥ 20亿 => 200万",
            "规模奖励表: version from 2026-01-01 added \"再修改\": ≥ 起点 => 40万",
            "费率上限表: rows as first written: row removed: > 500万 => 1.5%",
            "费率上限表: rows as first written: row added: > 500万 => 2%",
        ]
    );
    let text = huiqi::diff::render_text(&huiqi::diff::report(&old, &new, ("old", "new"), None, None));
    assert!(
        text.contains("\ntables:\n  ~ 规模奖励表: version from 2024-01-01: row added: ≥ 20亿 => 200万\n"),
        "{text}"
    );
}

#[test]
fn chinese_keywords_for_tables() {
    use huiqi::syntax::keywords::{Lang as K, convert};
    let zh = convert(RULES, K::Zh).unwrap();
    assert!(zh.contains("表 规模奖励表 \"规模奖励标准\" 分档 {"), "{zh}");
    assert!(zh.contains("} 自 2024-01-01 \"修改文件：增设10亿元一档\" {"), "{zh}");
    assert!(zh.contains("  截至 500万 => 100%\n  超出部分 "), "{zh}");
    assert_eq!(convert(&zh, K::En).unwrap(), RULES);
    // the same program either way
    let a = huiqi::ir::view::program(&program());
    let b = huiqi::ir::view::program(&compile(&zh).unwrap().program);
    assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
}

#[test]
fn an_each_amount_that_selects_nobody_says_so() {
    let rules = r#"
record 人员记录 "人员" {
  证件号码: text "证件号码"
  入职日期: date "入职日期"
}
fact 人员: list 人员记录 "人员"
policy E "e" {
  clause 1 "每人补贴" {
    quote "每人1000元"
    responsible 示例厅
    amount each 人员 where year(入职日期) == period key 证件号码 => 1000元
  }
  clause 2 "每人酌定" {
    quote "每人不超过1000元"
    responsible 示例厅
    amount each 人员 where year(入职日期) == period key 证件号码 => discretionary
    cap 1000元 per item
  }
}
"#;
    let prog = compile(rules).unwrap().program;
    // nobody joined in 2024
    let out = run(&prog, r#"{ "人员": [ { "证件号码": "A1", "入职日期": "2023-05-01" } ] }"#, 2024);
    for c in ["E.1", "E.2"] {
        let r = result(&out, &prog, c);
        assert_eq!(r.status, Status::Ineligible, "{c}");
        let zh = lines(r, &prog, Lang::Zh);
        assert!(zh.contains(&"人员 中没有符合条件的人员或项目，无可给予的金额".to_string()), "{c}: {zh:#?}");
        assert!(!zh.iter().any(|l| l.contains("计算金额为")), "{c}: {zh:#?}");
        let en = lines(r, &prog, Lang::En);
        assert!(
            en.contains(&"no person or item of 人员 qualifies: nothing to grant".to_string()),
            "{c}: {en:#?}"
        );
        // the reason says so too
        assert_eq!(r.reasons.len(), 1);
        assert_eq!(
            r.reasons[0].render(&prog, Lang::En),
            "no person or item of 人员 qualifies: nothing to grant"
        );
    }
    // an empty list likewise
    let out = run(&prog, r#"{ "人员": [] }"#, 2024);
    assert_eq!(
        result(&out, &prog, "E.1").reasons[0].render(&prog, Lang::Zh),
        "人员 中没有符合条件的人员或项目，无可给予的金额"
    );
}
