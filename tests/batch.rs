#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
//! Population evaluation: one output row per input row in input order, bad rows kept and
//! reported by line, the summary equals the sum of single evaluations, CSV input by fact paths.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn huiqi(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_huiqi"))
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn population(n: u64) -> String {
    let o = huiqi(&["gen-population", "--count", &n.to_string(), "--seed", "42"], None);
    assert_eq!(o.status.code(), Some(0));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn gen_population_is_deterministic() {
    assert_eq!(population(50), population(50));
    assert_eq!(population(50).lines().count(), 50);
}

#[test]
fn a_broken_row_keeps_every_other_row_in_order() {
    let mut lines: Vec<String> = population(200).lines().map(String::from).collect();
    lines[9] = "{\"broken\": ".into();
    lines[19] = "{\"zz_unknown\": 1, \"$period\": 2024}".into();
    let input = lines.join("\n") + "\n";
    let o = huiqi(&["eval", "--facts", "-", "--format", "jsonl", "--quiet"], Some(&input));
    assert_eq!(o.status.code(), Some(1), "some rows failed");
    let out: Vec<serde_json::Value> =
        String::from_utf8(o.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(out.len(), 200, "one output row per input row");
    for (i, row) in out.iter().enumerate() {
        assert_eq!(row["line"], i + 1, "input order");
    }
    assert_eq!(out[9]["errors"][0]["code"], "E0401");
    assert_eq!(out[19]["errors"][0]["code"], "E0402");
    assert_eq!(out[19]["errors"][0]["at"], "zz_unknown");
    assert!(out[10]["errors"].as_array().unwrap().is_empty());
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(
        err.contains("2 of 200 rows failed") && err.contains("line 10") && err.contains("line 20"),
        "{err}"
    );
}

#[test]
fn a_row_that_is_not_utf8_is_kept_and_reported() {
    let lines: Vec<String> = population(20).lines().map(String::from).collect();
    let mut input: Vec<u8> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if i == 4 {
            input.extend_from_slice(b"{\"\xff\xfe\": 1}");
        } else {
            input.extend_from_slice(l.as_bytes());
        }
        input.push(b'\n');
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_huiqi"))
        .args(["eval", "--facts", "-", "--format", "jsonl", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out: Vec<serde_json::Value> =
        String::from_utf8(o.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(out.len(), 20, "one output row per input row");
    assert_eq!(out[4]["line"], 5);
    assert_eq!(out[4]["errors"][0]["code"], "E0401");
    assert!(out[4]["errors"][0]["message"].as_str().unwrap().contains("not UTF-8"));
    assert!(out[5]["errors"].as_array().unwrap().is_empty());
    assert!(String::from_utf8(o.stderr).unwrap().contains("line 5"));
}

#[test]
fn summary_equals_the_sum_of_single_evaluations() {
    let pop = population(300);
    let o = huiqi(&["eval", "--facts", "-", "--format", "table", "--lang", "en"], Some(&pop));
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let table = String::from_utf8(o.stdout).unwrap();
    let total_line = table.lines().find(|l| l.starts_with("total cash granted")).unwrap();
    // the same enterprises one by one, through the library
    let input = huiqi::load::load(&["policies".into()]).unwrap();
    let c = huiqi::compile(&input).map_err(|f| f.diagnostics.len()).unwrap();
    let mut sum = rust_decimal::Decimal::ZERO;
    for line in pop.lines() {
        let json: serde_json::Value = serde_json::from_str(line).unwrap();
        let f = huiqi::eval::facts::read_facts(&c.program, &json).unwrap();
        let o =
            huiqi::eval::evaluate(&c.program, &f, &huiqi::Ledger::default(), huiqi::EvalOptions::new(2024));
        sum += o.total().unwrap();
    }
    assert!(total_line.contains(&format!("({} yuan)", huiqi::value::fmt_yuan(sum))), "{total_line} vs {sum}");
}

#[test]
fn csv_input_by_fact_paths() {
    let csv = "$id,行业,营业收入.2023,营业收入.2024,专精特新等级\nA,电子信息制造业,8000万,1.2亿,无\nB,电子信息制造业,8000万,,无\nC,食品制造业,很多,1亿,无\n";
    let dir = std::env::temp_dir().join(format!("huiqi-batch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("pop.csv");
    std::fs::write(&p, csv).unwrap();
    let o = huiqi(
        &["eval", "--facts", p.to_str().unwrap(), "--period", "2024", "--format", "jsonl", "--quiet"],
        None,
    );
    let out: Vec<serde_json::Value> =
        String::from_utf8(o.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(out.len(), 3);
    let e5 = |row: &serde_json::Value| {
        row["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["policy"] == "E23" && r["clause"] == "5")
            .cloned()
    };
    // A: 8000万 → 1.2亿, first time past 1亿 → 30万
    assert_eq!(e5(&out[0]).unwrap()["amount"], "300000.00");
    // B: 2024 revenue missing → E23.5 undetermined, listing the path
    assert_eq!(e5(&out[1]).unwrap()["status"], "undetermined");
    // C: `很多` is not money → the row fails with the column's path, the others stand
    assert_eq!(out[2]["errors"][0]["at"], "营业收入.2023");
    assert_eq!(o.status.code(), Some(1));
    let csv_out = huiqi(
        &["eval", "--facts", p.to_str().unwrap(), "--period", "2024", "--format", "csv", "--quiet"],
        None,
    );
    let text = String::from_utf8(csv_out.stdout).unwrap();
    assert!(text.lines().next().unwrap().starts_with("line,enterprise,period,total,error,status:"));
    assert_eq!(text.lines().count(), 4);
}
