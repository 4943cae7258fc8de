#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
//! Populations with histories: `simulate --ledger/--ledger-out` over a population (a run's
//! output is the next run's history), CSV populations, and `diff --population --from --to`.
//! All through the real binary, as a budget office runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn huiqi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huiqi")).args(args).output().expect("huiqi runs")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("huiqi-pophist-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn rows(o: &Output) -> Vec<serde_json::Value> {
    text(o).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Per row id and year: the year's total.
fn totals(rows: &[serde_json::Value]) -> Vec<(String, i64, String)> {
    let mut out = Vec::new();
    for r in rows {
        let id = r["enterprise"].as_str().map_or_else(|| r["line"].to_string(), String::from);
        for y in r["years"].as_array().unwrap() {
            out.push((id.clone(), y["period"].as_i64().unwrap(), y["total"].as_str().unwrap().to_string()));
        }
    }
    out.sort();
    out
}

/// `simulate` of a population for 2025 alone, from the histories in `ledger`, as JSON lines.
fn simulate_2025(pop: &Path, ledger: &Path) -> Output {
    huiqi(&[
        "simulate",
        "--facts",
        pop.to_str().unwrap(),
        "--from",
        "2025",
        "--to",
        "2025",
        "--format",
        "jsonl",
        "--ledger",
        ledger.to_str().unwrap(),
    ])
}

fn population(dir: &Path, n: &str) -> PathBuf {
    let p = dir.join("pop.jsonl");
    let o = huiqi(&["gen-population", "--count", n, "--seed", "7", "--period", "2024"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(&p, &o.stdout).unwrap();
    p
}

#[test]
fn a_run_continued_from_its_ledger_equals_one_run_over_all_the_years() {
    let d = tmp("chain");
    let pop = population(&d, "150");
    let pop = pop.to_str().unwrap();
    let ledger = d.join("after-2023.jsonl");
    let ledger = ledger.to_str().unwrap();
    let whole = huiqi(&["simulate", "--facts", pop, "--from", "2022", "--to", "2024", "--format", "jsonl"]);
    assert!(whole.status.success(), "{}", String::from_utf8_lossy(&whole.stderr));
    let first = huiqi(&[
        "simulate",
        "--facts",
        pop,
        "--from",
        "2022",
        "--to",
        "2023",
        "--format",
        "jsonl",
        "--ledger-out",
        ledger,
    ]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let then = huiqi(&[
        "simulate", "--facts", pop, "--from", "2024", "--to", "2024", "--format", "jsonl", "--ledger", ledger,
    ]);
    assert!(then.status.success(), "{}", String::from_utf8_lossy(&then.stderr));
    let mut chained = totals(&rows(&first));
    chained.extend(totals(&rows(&then)));
    chained.sort();
    assert_eq!(chained, totals(&rows(&whole)));
    // one history line per enterprise, each holding what the rows say they added
    let hist = std::fs::read_to_string(ledger).unwrap();
    assert_eq!(hist.lines().count(), 150);
    // and the history matters: 2024 alone from empty ledgers pays more (one-time awards of
    // 2022–2023 again), so a run that ignored `--ledger` would fail the equality above
    let fresh = huiqi(&["simulate", "--facts", pop, "--from", "2024", "--to", "2024", "--format", "jsonl"]);
    assert_ne!(totals(&rows(&fresh)), totals(&rows(&then)));
}

#[test]
fn a_one_time_award_in_the_history_is_not_paid_again() {
    let d = tmp("once");
    // E23.5: 营业收入首次达到1亿 pays 30万 once. This enterprise passed 1亿 only in 2025 by the
    // facts, but its history says 30万 was paid in 2022 (the facts before 2024 are missing):
    // 2025 pays nothing under E23.5.
    let pop = d.join("pop.jsonl");
    std::fs::write(
        &pop,
        "{\"$id\": \"A\", \"行业\": \"电子信息制造业\", \"营业收入\": {\"2024\": \"9000万\", \"2025\": \"1.2亿\"}}\n\
         {\"$id\": \"B\", \"行业\": \"电子信息制造业\", \"营业收入\": {\"2024\": \"9000万\", \"2025\": \"1.2亿\"}}\n",
    )
    .unwrap();
    let ledger = d.join("hist.jsonl");
    std::fs::write(
        &ledger,
        "{\"enterprise\": \"A\", \"entries\": [{\"policy\": \"E23\", \"clause\": \"5\", \"key\": \"1亿\", \"period\": 2022, \"amount\": \"300000.00\"}]}\n",
    )
    .unwrap();
    let o = simulate_2025(&pop, &ledger);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rs = rows(&o);
    let e23_5 = |r: &serde_json::Value| {
        r["years"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["policy"] == "E23" && x["clause"] == "5")
            .map(|x| (x["status"].as_str().unwrap().to_string(), x["amount"].clone()))
    };
    assert_eq!(e23_5(&rs[0]).unwrap().0, "exhausted");
    assert_eq!(e23_5(&rs[1]).unwrap(), ("granted".to_string(), serde_json::json!("300000.00")));
}

#[test]
fn a_history_that_matches_no_row_or_names_nothing_is_an_error() {
    let d = tmp("bad");
    let pop = d.join("pop.jsonl");
    std::fs::write(&pop, "{\"$id\": \"A\", \"营业收入\": {\"2025\": \"1.2亿\"}}\n{\"$id\": \"B\"}\n")
        .unwrap();
    // C is not in the population: its history would be lost, so the run says so and fails
    let ledger = d.join("hist.jsonl");
    std::fs::write(&ledger, "{\"enterprise\": \"C\", \"entries\": []}\n").unwrap();
    let o = simulate_2025(&pop, &ledger);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("E0404") && err.contains("hist.jsonl:1") && err.contains("`C`"), "{err}");
    assert_eq!(rows(&o).len(), 2, "the rows are still written");
    // an entry naming a clause that does not exist: nothing is simulated, the entry is named
    std::fs::write(
        &ledger,
        "{\"enterprise\": \"A\", \"entries\": []}\n{\"enterprise\": \"B\", \"entries\": [{\"policy\": \"E23\", \"clause\": \"99\", \"key\": null, \"period\": 2022, \"amount\": \"1.00\"}]}\n",
    )
    .unwrap();
    let o = simulate_2025(&pop, &ledger);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("hist.jsonl:2") && err.contains("entries[0]"), "{err}");
    assert!(text(&o).is_empty());
    // two histories for one enterprise
    std::fs::write(
        &ledger,
        "{\"enterprise\": \"A\", \"entries\": []}\n{\"enterprise\": \"A\", \"entries\": []}\n",
    )
    .unwrap();
    let o = simulate_2025(&pop, &ledger);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("first is line 1"));
    // two rows with one id: the first takes the history, the second is an error row (a
    // history used twice would pay a one-time award twice)
    // (the rows run in parallel: whichever asks first, the earliest row keeps it)
    let ids: Vec<String> = (1..=300)
        .map(|l| if [100, 151, 299].contains(&l) { "A".to_string() } else { format!("R{l}") })
        .collect();
    let text: String = ids.iter().map(|id| format!("{{\"$id\": \"{id}\"}}\n")).collect();
    std::fs::write(&pop, text).unwrap();
    std::fs::write(&ledger, "{\"enterprise\": \"A\", \"entries\": []}\n").unwrap();
    for _ in 0..3 {
        let o = simulate_2025(&pop, &ledger);
        assert_eq!(o.status.code(), Some(1));
        let out = rows(&o);
        assert_eq!(out.len(), 300, "every row is written");
        let failed: Vec<u64> = out
            .iter()
            .filter(|r| r.to_string().contains("same enterprise id"))
            .map(|r| r["line"].as_u64().unwrap())
            .collect();
        assert_eq!(failed, vec![151, 299], "line 100 keeps the history");
    }
}

#[test]
fn a_csv_population_simulates_as_its_json_lines_do() {
    let d = tmp("csv");
    let csv = d.join("pop.csv");
    std::fs::write(
        &csv,
        "$id,行业,营业收入.2023,营业收入.2024\nA,电子信息制造业,9000万,1.2亿\nB,电子信息制造业,1.1亿,1.3亿\n",
    )
    .unwrap();
    let jsonl = d.join("pop.jsonl");
    std::fs::write(
        &jsonl,
        "{\"$id\": \"A\", \"行业\": \"电子信息制造业\", \"营业收入\": {\"2023\": \"9000万\", \"2024\": \"1.2亿\"}}\n\
         {\"$id\": \"B\", \"行业\": \"电子信息制造业\", \"营业收入\": {\"2023\": \"1.1亿\", \"2024\": \"1.3亿\"}}\n",
    )
    .unwrap();
    let run = |p: &Path| {
        huiqi(&[
            "simulate",
            "--facts",
            p.to_str().unwrap(),
            "--from",
            "2023",
            "--to",
            "2024",
            "--format",
            "jsonl",
        ])
    };
    let (a, b) = (run(&csv), run(&jsonl));
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert_eq!(totals(&rows(&a)), totals(&rows(&b)));
    // E23.5 (首次达到1亿, 30万): A in 2024, B in 2023 — each once over the two years
    let t = totals(&rows(&a));
    assert!(t.iter().all(|(_, _, total)| total.parse::<rust_decimal::Decimal>().is_ok()));
    let e23_5: Vec<(String, i64)> = rows(&a)
        .iter()
        .flat_map(|r| {
            let id = r["enterprise"].as_str().unwrap().to_string();
            r["years"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|y| {
                    y["results"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|x| x["policy"] == "E23" && x["clause"] == "5" && x["status"] == "granted")
                })
                .map(move |y| (id.clone(), y["period"].as_i64().unwrap()))
        })
        .collect();
    assert_eq!(e23_5, vec![("A".to_string(), 2024), ("B".to_string(), 2023)]);
}

#[test]
fn diff_over_years_counts_a_one_time_award_in_the_year_it_is_paid() {
    let d = tmp("diff");
    let new = d.join("policies");
    std::fs::create_dir_all(&new).unwrap();
    for e in std::fs::read_dir("policies").unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "policy") {
            let mut t = std::fs::read_to_string(&p).unwrap();
            if p.file_name().unwrap() == "E23.policy" {
                // the first tier of E23.5 lowered from 30万 to 20万
                assert!(t.contains("达到 1亿  => 30万"));
                t = t.replace("达到 1亿  => 30万", "达到 1亿  => 20万");
            }
            std::fs::write(new.join(p.file_name().unwrap()), t).unwrap();
        }
    }
    let sources = d.join("policies/sources");
    std::fs::create_dir_all(&sources).unwrap();
    for e in std::fs::read_dir("policies/sources").unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, sources.join(p.file_name().unwrap())).unwrap();
    }
    // passes 1亿 for the first time in 2024 and stays there: E23.5 pays once, in 2024
    let pop = d.join("pop.jsonl");
    std::fs::write(
        &pop,
        "{\"$id\": \"A\", \"行业\": \"电子信息制造业\", \"营业收入\": {\"2023\": \"9000万\", \"2024\": \"1.2亿\", \"2025\": \"1.3亿\"}}\n",
    )
    .unwrap();
    let o = huiqi(&[
        "diff",
        "policies",
        new.to_str().unwrap(),
        "--population",
        pop.to_str().unwrap(),
        "--from",
        "2023",
        "--to",
        "2025",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_str(&text(&o)).unwrap();
    let i = &r["impact"];
    assert_eq!((i["from"].as_i64(), i["to"].as_i64()), (Some(2023), Some(2025)));
    // 30万 → 20万 once over the three years: −10万 in total, all of it in 2024
    let e23_5 = i["clauses"].as_array().unwrap().iter().find(|c| c["clause"] == "E23.5").unwrap();
    assert_eq!(e23_5["delta"], "-100000.00");
    assert_eq!(e23_5["lose"], 1);
    let years = i["years"].as_array().unwrap();
    let per_year: Vec<(i64, &str)> =
        years.iter().map(|y| (y["period"].as_i64().unwrap(), y["delta"].as_str().unwrap())).collect();
    assert_eq!(per_year, vec![(2023, "0.00"), (2024, "-100000.00"), (2025, "0.00")]);
    assert_eq!(years[1]["clauses"][0]["clause"], "E23.5");
    // the text says it per year too
    let o = huiqi(&[
        "diff",
        "policies",
        new.to_str().unwrap(),
        "--population",
        pop.to_str().unwrap(),
        "--from",
        "2023",
        "--to",
        "2025",
    ]);
    let t = text(&o);
    assert!(t.contains("2023–2025") && t.contains("2024: ") && t.contains("E23.5: −10万"), "{t}");
    // years without a population make no sense
    let o = huiqi(&["diff", "policies", new.to_str().unwrap(), "--from", "2023", "--to", "2025"]);
    assert_eq!(o.status.code(), Some(2));
}
