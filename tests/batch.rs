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
        let json = huiqi::json::Json::parse(line).unwrap();
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

/// Parquet in and out: the same budget as JSON lines, to the fen, and the same row totals.
#[test]
fn parquet_runs_agree_with_json_lines() {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::Decimal128Type;
    let dir = std::env::temp_dir().join(format!("huiqi-parquet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (pq, jl, res) = (dir.join("pop.parquet"), dir.join("pop.jsonl"), dir.join("res.parquet"));
    let s = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let gen_pq = huiqi(
        &["gen-population", "--count", "3000", "--seed", "9", "--format", "parquet", "--output", &s(&pq)],
        None,
    );
    assert_eq!(gen_pq.status.code(), Some(0), "{}", String::from_utf8_lossy(&gen_pq.stderr));
    assert_eq!(
        huiqi(&["gen-population", "--count", "3000", "--seed", "9", "--output", &s(&jl)], None).status.code(),
        Some(0)
    );
    let budget = |f: &str| {
        let o = huiqi(&["eval", "--facts", f, "--format", "table", "--quiet"], None);
        String::from_utf8(o.stdout).unwrap()
    };
    let (a, b) = (budget(&s(&jl)), budget(&s(&pq)));
    assert!(a.contains("3000") && a.contains("E23.5"), "{a}");
    assert_eq!(a, b);
    // Parquet rows out: one per input row, totals as the JSON-lines rows have them
    let o = huiqi(&["eval", "--facts", &s(&pq), "--output", &s(&res), "--quiet"], None);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = huiqi(&["eval", "--facts", &s(&jl), "--format", "jsonl", "--quiet"], None);
    let want: Vec<String> = String::from_utf8(rows.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["total"].as_str().unwrap().to_string())
        .collect();
    let file = std::fs::File::open(&res).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut got = Vec::new();
    for rb in reader {
        let rb = rb.unwrap();
        let total = rb.column_by_name("total").unwrap().as_primitive::<Decimal128Type>();
        assert_eq!(total.data_type(), &arrow_schema::DataType::Decimal128(38, 2));
        for i in 0..rb.num_rows() {
            got.push(rust_decimal::Decimal::from_i128_with_scale(total.value(i), 2).to_string());
        }
    }
    assert_eq!(got, want);
    // and Parquet on standard output, from JSON lines
    let o = huiqi(&["eval", "--facts", &s(&jl), "--format", "parquet", "--quiet"], None);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.starts_with(b"PAR1") && o.stdout.ends_with(b"PAR1"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The budget view (no output rows: the workers sum the verdicts themselves) gathers exactly
/// what the rows say, from JSON lines and from Arrow columns, bad rows included; and an
/// implausible value fails its row from Arrow columns as it does from JSON.
#[test]
fn the_budget_view_tallies_what_the_rows_say() {
    use huiqi::batch::{Batch, BatchOptions, RowFormat, Summary};
    use huiqi::columnar::{Columnar, Flattener};
    let input = huiqi::load::load(&["policies".into()]).unwrap();
    let c = huiqi::compile(&input).map_err(|f| f.diagnostics.len()).unwrap();
    let prog = &c.program;
    let mut lines: Vec<String> = population(400).lines().map(String::from).collect();
    // a money text that is not money, and a negative revenue (implausible)
    lines[7] = lines[7].replacen("\"营业收入\":{\"2021\":", "\"营业收入\":{\"2021\":\"很多\",\"2020\":", 1);
    lines[8] = lines[8].replacen("\"营业收入\":{\"2021\":\"", "\"营业收入\":{\"2021\":\"-", 1);
    let show = |s: &Summary| format!("{} {} {:?}", s.rows, s.failed, s.per_clause);
    let opts = BatchOptions::default();
    // JSON lines, one broken line besides
    let mut rows: Vec<(usize, Result<String, String>)> =
        lines.iter().enumerate().map(|(i, l)| (i + 1, Ok(l.clone()))).collect();
    rows[20].1 = Ok("{\"broken\": ".into());
    let batch = Batch::new(prog, opts, RowFormat::Table);
    let mut want = Summary::new(prog);
    let mut want_failures = Vec::new();
    for e in batch.json_lines(rows.clone()) {
        want.add(&e);
        if let Some(x) = e.row.errors.first() {
            want_failures.push((e.row.line, x.code, x.at.clone()));
        }
    }
    let got = batch.json_lines_tally(&rows);
    assert_eq!(show(&got.summary), show(&want));
    let failures: Vec<_> = got.failures.iter().map(|(l, x)| (*l, x.code, x.at.clone())).collect();
    assert_eq!(failures, want_failures);
    assert_eq!(failures.iter().map(|f| f.0).collect::<Vec<_>>(), vec![8, 9, 21], "{failures:?}");
    // the same population as Arrow columns
    let json: Vec<huiqi::json::Json> = lines.iter().map(|l| huiqi::json::Json::parse(l).unwrap()).collect();
    let mut flat = Flattener::new(prog);
    json.iter().for_each(|j| flat.observe(j));
    let rb = flat.to_arrow(&json).unwrap();
    let col = Columnar::new(prog, opts, RowFormat::Table);
    let mut from_rows = Summary::new(prog);
    let mut row_failures = Vec::new();
    for e in col.evaluate(&rb, 1) {
        from_rows.add(&e);
        if let Some(x) = e.row.errors.first() {
            row_failures.push((e.row.line, x.code, x.at.clone()));
        }
    }
    let got = col.evaluate_tally(&rb, 1);
    assert_eq!(show(&got.summary), show(&from_rows));
    let failures: Vec<_> = got.failures.iter().map(|(l, x)| (*l, x.code, x.at.clone())).collect();
    assert_eq!(failures, row_failures);
    assert_eq!(failures.iter().map(|f| f.0).collect::<Vec<_>>(), vec![8, 9], "{failures:?}");
}

/// The columnar reader checks each value's range as it reads it (not the whole facts after):
/// every kind of implausible value — a fact, a series' year, a list item's field, a field's
/// series, a rate, a date, `never` where the vocabulary does not allow it — fails its row
/// from Arrow columns exactly as from JSON lines (same line, code and path), in the rows and
/// in the budget view, and the other rows are untouched.
#[test]
fn arrow_rows_fail_on_implausible_values_as_json_lines_do() {
    use huiqi::batch::{Batch, BatchOptions, RowFormat};
    use huiqi::columnar::{Columnar, Flattener};
    let input = huiqi::load::load(&["policies".into()]).unwrap();
    let c = huiqi::compile(&input).map_err(|f| f.diagnostics.len()).unwrap();
    let prog = &c.program;
    let mut rows: Vec<serde_json::Value> =
        population(120).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let loans: Vec<usize> =
        (10..rows.len()).filter(|i| rows[*i]["贷款"].as_array().is_some_and(|l| !l.is_empty())).collect();
    assert!(loans.len() >= 6, "the population has loans");
    let set = |row: &mut serde_json::Value, path: &[&str], v: serde_json::Value| {
        let mut at = row;
        for (k, p) in path.iter().enumerate() {
            at = match p.parse::<usize>() {
                Ok(i) if at.is_array() => &mut at[i],
                _ if k + 1 == path.len() => {
                    at.as_object_mut().unwrap().insert(p.to_string(), serde_json::Value::Null);
                    &mut at[*p]
                }
                _ => &mut at[*p],
            };
        }
        *at = v;
    };
    use serde_json::json;
    // (line index, path, value): each implausible for its fact or field
    let bad: Vec<(usize, Vec<&str>, serde_json::Value)> = vec![
        (3, vec!["单户担保额"], json!("-12.50")),
        (5, vec!["营业收入", "2023"], json!("-1.00")),
        (7, vec!["京担保实际费率"], json!("1.5")),
        (9, vec!["京担保原综合费率"], json!("-0.01")),
        (loans[0], vec!["贷款", "0", "金额"], json!("-230.00")),
        (loans[1], vec!["贷款", "0", "放款日期"], json!("1800-02-27")),
        (loans[2], vec!["贷款", "0", "放款日期"], json!("never")),
        (loans[3], vec!["贷款", "0", "利息", "2024"], json!("-9.99")),
    ];
    let mut want_lines: Vec<usize> = bad.iter().map(|b| b.0 + 1).collect();
    want_lines.sort_unstable();
    want_lines.dedup();
    assert_eq!(want_lines.len(), bad.len(), "one implausible value per line");
    for (i, path, v) in &bad {
        set(&mut rows[*i], path, v.clone());
    }
    let opts = BatchOptions::default();
    let batch = Batch::new(prog, opts, RowFormat::Jsonl);
    let texts: Vec<(usize, Result<String, String>)> =
        rows.iter().enumerate().map(|(i, r)| (i + 1, Ok(r.to_string()))).collect();
    let from_json: Vec<_> = batch.json_lines(texts).into_iter().map(|e| e.row).collect();
    let json: Vec<huiqi::json::Json> =
        rows.iter().map(|r| huiqi::json::Json::parse(&r.to_string()).unwrap()).collect();
    let mut flat = Flattener::new(prog);
    json.iter().for_each(|j| flat.observe(j));
    let rb = flat.to_arrow(&json).unwrap();
    let col = Columnar::new(prog, opts, RowFormat::Jsonl);
    let from_arrow: Vec<_> = col.evaluate(&rb, 1).into_iter().map(|e| e.row).collect();
    assert_eq!(from_arrow.len(), rows.len());
    let failed = |rows: &[huiqi::batch::BatchRow<'_>]| -> Vec<(usize, String, String)> {
        rows.iter()
            .filter_map(|r| r.errors.first().map(|e| (r.line, e.code.to_string(), e.at.clone())))
            .collect()
    };
    let json_failed = failed(&from_json);
    assert_eq!(json_failed.iter().map(|f| f.0).collect::<Vec<_>>(), want_lines, "{json_failed:?}");
    assert!(json_failed.iter().all(|f| f.1 == "E0405" || f.1 == "E0403"), "{json_failed:?}");
    assert_eq!(failed(&from_arrow), json_failed);
    // every other row: the same totals and results
    for (a, j) in from_arrow.iter().zip(&from_json) {
        assert_eq!(serde_json::to_string(a).unwrap(), serde_json::to_string(j).unwrap(), "line {}", a.line);
    }
    // the budget view fails the same lines with the same first error
    let tally = col.evaluate_tally(&rb, 1);
    let tallied: Vec<_> =
        tally.failures.iter().map(|(l, e)| (*l, e.code.to_string(), e.at.clone())).collect();
    assert_eq!(tallied, json_failed);
}
