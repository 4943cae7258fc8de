#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
//! The bundled example enterprises: each one's evaluation is pinned as a reviewed snapshot
//! (`snapshots/example__{name}.snap`), and the amounts that matter are asserted with the
//! arithmetic from the policy text.

use huiqi::eval::facts::parse_facts;
use huiqi::eval::{EvalOptions, Lang, Ledger, evaluate};
use std::path::PathBuf;

fn compiled() -> huiqi::Compiled {
    let input = huiqi::load::load(&[PathBuf::from("policies")]).expect("policies");
    huiqi::compile(&input).map_err(|f| f.diagnostics.len()).expect("policies compile")
}

fn report(c: &huiqi::Compiled, path: &str) -> serde_json::Value {
    serde_json::from_str(&serde_json::to_string(&report_struct(c, path)).unwrap()).unwrap()
}

fn report_struct(c: &huiqi::Compiled, path: &str) -> huiqi::report::EvalReport {
    let text = std::fs::read_to_string(path).expect("example");
    let facts = parse_facts(&c.program, &text).unwrap_or_else(|e| panic!("{path}: {e:?}"));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let period = json["$period"].as_i64().expect("examples name their period") as i32;
    let o = evaluate(&c.program, &facts, &Ledger::default(), EvalOptions::new(period));
    assert!(o.errors.is_empty(), "{path}: {:?}", o.errors);
    huiqi::report::eval_report(&c.program, &o, None, Lang::Zh)
}

fn amount(r: &serde_json::Value, clause: &str) -> (String, Option<String>) {
    let (p, c) = clause.split_once('.').unwrap();
    let x = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["policy"] == p && x["clause"] == c)
        .unwrap_or_else(|| panic!("{clause}"));
    (x["status"].as_str().unwrap().to_string(), x["amount"].as_str().map(String::from))
}

fn granted(a: &str) -> (String, Option<String>) {
    ("granted".into(), Some(a.into()))
}

pub fn example_names() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("examples")
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension().is_some_and(|x| x == "json"))
                .then(|| p.file_stem().unwrap().to_string_lossy().to_string())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_example_evaluates_and_is_pinned() {
    let c = compiled();
    let names = example_names();
    assert!(names.len() >= 4);
    for n in names {
        let r = report_struct(&c, &format!("examples/{n}.json"));
        let mut s = insta::Settings::clone_current();
        s.set_snapshot_path("../snapshots");
        s.set_prepend_module_to_snapshot(false);
        s.set_omit_expression(true);
        s.bind(|| insta::assert_yaml_snapshot!(format!("example__{n}"), r));
    }
}

#[test]
fn electronics_manufacturer_passing_5yi() {
    let r = report(&compiled(), "examples/光电子科技.json");
    // 4.8亿 (2023) → 5.6亿 (2024): first time past 5亿 → 50万 (E23.5)
    assert_eq!(amount(&r, "E23.5"), granted("500000.00"));
    // 2024 transformation loan interest 96万: E23.8 discretionary within its 100万 yearly cap
    assert_eq!(amount(&r, "E23.8").0, "discretionary");
}

#[test]
fn national_little_giant_listing_in_shenzhen() {
    let r = report(&compiled(), "examples/芯视电子.json");
    // 腾飞类, HQ in Jilin, listed on the Shenzhen exchange in 2024 → 1000万 (E23.12a)
    assert_eq!(amount(&r, "E23.12a"), granted("10000000.00"));
    // 8.8亿 → 10.6亿: first time past 10亿 → 100万 (E23.5)
    assert_eq!(amount(&r, "E23.5"), granted("1000000.00"));
}

#[test]
fn firm_in_no_programme_gets_nothing() {
    let r = report(&compiled(), "examples/长白山食品.json");
    assert_eq!(r["total"], "0.00");
    assert_eq!(amount(&r, "E23.5").0, "ineligible");
}
