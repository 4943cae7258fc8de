#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
//! The command line as a user meets it: exit codes, formats, located errors.

use std::process::{Command, Output};

fn huiqi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huiqi")).args(args).output().expect("run huiqi")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn tmp(name: &str, content: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("huiqi-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

#[test]
fn check_passes_on_the_policies() {
    let o = huiqi(&["check", "policies"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn check_short_format_is_one_line_per_problem() {
    let p = tmp(
        "broken.policy",
        "fact x: money\npolicy P \"p\" {\n  clause 1 \"c\" {\n    amount x + 20%\n  }\n}\n",
    );
    let o = huiqi(&["check", p.to_str().unwrap(), "--format", "short"]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("broken.policy:4:12: error[E0301]: cannot compute money + rate"), "{t}");
}

#[test]
fn check_json_format_has_codes_and_positions() {
    let p = tmp("broken2.policy", "fact x: mony\n");
    let o = huiqi(&["check", p.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["diagnostics"][0]["code"], "E0203");
    assert_eq!(v["diagnostics"][0]["line"], 1);
    assert_eq!(v["diagnostics"][0]["column"], 9);
    assert!(v["diagnostics"][0]["help"].as_str().unwrap().contains("money"));
}

#[test]
fn eval_json_follows_the_contract() {
    let o = huiqi(&["eval", "--facts", "examples/光电子科技.json", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["period"], 2024);
    let e5 =
        v["results"].as_array().unwrap().iter().find(|r| r["policy"] == "E23" && r["clause"] == "5").unwrap();
    // revenue 4.8亿 (2023) → 5.6亿 (2024): the 5亿 tier is reached for the first time → 50万
    assert_eq!(e5["status"], "granted");
    assert_eq!(e5["amount"], "500000.00");
    assert_eq!(e5["number"], "吉政办发〔2023〕10号");
    assert!(e5["explanation"].as_array().unwrap().iter().all(|s| s["clause"] == "E23.5"));
    assert_eq!(v["ledger"][0]["key"], "5亿");
}

#[test]
fn eval_reports_every_bad_fact_with_its_path() {
    let p = tmp("bad.json", r#"{"行业": "电子", "营业收入": {"2024": "很多"}, "zz_unknown_fact": 1}"#);
    let o = huiqi(&["eval", "--facts", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    for want in ["zz_unknown_fact", "营业收入.2024", "`电子` is not a value of `行业类别`", "E0402", "E0403"]
    {
        assert!(t.contains(want), "missing {want} in {t}");
    }
}

#[test]
fn eval_facts_that_are_not_json_are_located() {
    let p = tmp("notjson.json", "{\"行业\": \n  \"电子信息制造业\",\n}");
    let o = huiqi(&["eval", "--facts", p.to_str().unwrap(), "--period", "2024"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("line 3, column 1"), "{}", text(&o));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(huiqi(&["eval"]).status.code(), Some(2));
    assert_eq!(huiqi(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(huiqi(&["eval", "--facts", "no/such/file.json"]).status.code(), Some(2));
    assert_eq!(
        huiqi(&["eval", "--facts", "examples/光电子科技.json", "--as-of", "2024-13-01"]).status.code(),
        Some(2)
    );
}

#[test]
fn eval_table_in_english() {
    let o = huiqi(&["eval", "--facts", "examples/光电子科技.json", "--lang", "en"]);
    assert_eq!(o.status.code(), Some(0));
    let t = text(&o);
    assert!(t.contains("period 2024"), "{t}");
    // the reason column wraps at 120 columns: read it with its line breaks folded
    let folded = t.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(folded.contains("reaches the 5亿 tier for the first time"), "{t}");
}

#[test]
fn eval_with_a_ledger_outputs_only_new_entries() {
    let l = tmp(
        "ledger.json",
        r#"{"schema_version": 1, "entries": [{"policy": "E23", "clause": "5", "key": "5亿", "period": 2023, "amount": "500000.00"}]}"#,
    );
    let o = huiqi(&[
        "eval",
        "--facts",
        "examples/光电子科技.json",
        "--ledger",
        l.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let e5 =
        v["results"].as_array().unwrap().iter().find(|r| r["policy"] == "E23" && r["clause"] == "5").unwrap();
    assert_eq!(e5["status"], "exhausted");
    assert!(v["ledger"].as_array().unwrap().iter().all(|e| e["clause"] != "5"));
}

#[test]
fn simulate_json_has_years_and_the_ledger() {
    let o = huiqi(&[
        "simulate",
        "--facts",
        "examples/光电子科技.json",
        "--from",
        "2023",
        "--to",
        "2025",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["years"].as_array().unwrap().len(), 3);
    assert!(v["ledger"]["entries"].is_array());
    assert_eq!(v["years"][1]["period"], 2024);
}

#[test]
fn ir_lists_every_clause_with_policy_and_clause() {
    let o = huiqi(&["ir", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let clauses = v["clauses"].as_array().unwrap();
    assert!(clauses.iter().any(|c| c["policy"] == "E23" && c["clause"] == "12c"));
    let y = huiqi(&["ir", "--format", "yaml", "--clause", "E23.5"]);
    assert!(String::from_utf8_lossy(&y.stdout).contains("first_time: true"));
}

#[test]
fn test_command_prints_the_summary_line() {
    let o = huiqi(&["test", "policies"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.trim_end().lines().last().unwrap().ends_with(" passed, 0 failed"), "{out}");
}

#[test]
fn deny_warnings_turns_lints_into_failure() {
    let p = tmp("lint.policy", "policy P \"p\" {\n  clause 1 \"c\" {\n    amount 30万\n  }\n}\n");
    let o = huiqi(&["check", p.to_str().unwrap(), "--format", "short"]);
    assert_eq!(o.status.code(), Some(0), "warnings alone pass: {}", text(&o));
    assert!(text(&o).contains("warning[W0107]"), "{}", text(&o));
    let o = huiqi(&["check", p.to_str().unwrap(), "--deny", "warnings"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        huiqi(&["check", "policies", "--deny", "warnings"]).status.code(),
        Some(0),
        "the policies are lint-free"
    );
}
