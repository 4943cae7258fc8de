#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
//! Population simulation equals single-enterprise simulation row by row; advice, applied,
//! gives what it says, and no smaller change does.

use huiqi::eval::advise::advise;
use huiqi::eval::facts::{FactValue, Value, read_facts};
use huiqi::eval::simulate::simulate;
use huiqi::eval::{EvalOptions, Ledger, Status, evaluate, evaluate_clause};
use huiqi::value::fmt_yuan;
use rust_decimal::Decimal;

fn policies() -> huiqi::Compiled {
    let input = huiqi::load::load(&["policies".into()]).unwrap();
    huiqi::compile(&input).map_err(|f| f.diagnostics.len()).unwrap()
}

#[test]
fn a_population_simulation_equals_each_rows_own_simulation() {
    let c = policies();
    let prog = &c.program;
    for (i, line) in huiqi::population::population_lines(200, 11, 2024).enumerate() {
        let s = huiqi::forecast::simulate_row(prog, i + 1, Ok(&line), 2023, 2025);
        let facts = read_facts(prog, &serde_json::from_str::<huiqi::json::Json>(&line).unwrap()).unwrap();
        let single = simulate(prog, &facts, &Ledger::default(), 2023, 2025, false);
        assert_eq!(s.row.years.len(), 3);
        for (y, one) in s.row.years.iter().zip(&single) {
            assert_eq!(y.period, one.outcome.period);
            assert_eq!(y.total, one.outcome.total().ok().map(fmt_yuan), "row {i} year {}", y.period);
        }
        let entries: Vec<_> = single.iter().flat_map(|y| y.outcome.new_entries().cloned()).collect();
        assert_eq!(s.row.ledger, entries, "row {i}");
    }
}

#[test]
fn one_time_awards_are_paid_once_over_the_years() {
    let c = policies();
    let prog = &c.program;
    // revenue passes 1亿 in 2023 and stays above it: E23.5 pays 30万 in 2023 only
    let line = r#"{"行业": "电子信息制造业", "营业收入": {"2022": "9000万", "2023": "1.2亿", "2024": "1.3亿", "2025": "1.4亿"}}"#;
    let s = huiqi::forecast::simulate_row(prog, 1, Ok(line), 2023, 2025);
    let e23_5: Vec<(i32, Option<&str>)> = s
        .row
        .years
        .iter()
        .flat_map(|y| {
            y.results
                .iter()
                .filter(|r| r.policy == "E23" && r.clause == "5")
                .map(move |r| (y.period, r.amount.as_deref()))
        })
        .collect();
    assert_eq!(e23_5, vec![(2023, Some("300000.00"))]);
}

#[test]
fn advice_applied_gives_what_it_says_and_no_smaller_change_does() {
    let c = policies();
    let prog = &c.program;
    let mut checked = 0;
    for line in huiqi::population::population_lines(150, 5, 2024) {
        let facts = read_facts(prog, &serde_json::from_str::<huiqi::json::Json>(&line).unwrap()).unwrap();
        let opts = EvalOptions { period: 2024, as_of: None, explain: false };
        let o = evaluate(prog, &facts, &Ledger::default(), opts);
        for r in &o.results {
            for a in advise(prog, &facts, &Ledger::default(), opts, r).advice {
                let (name, year) = match a.fact.split_once('.') {
                    Some((n, y)) => (n.to_string(), y.parse::<i32>().ok()),
                    None => (a.fact.clone(), None),
                };
                let slot = prog.fact_index[&name];
                let with = |v: Decimal| {
                    let mut f = facts.clone();
                    let value = match year {
                        None => FactValue::Scalar(Value::Num(v)),
                        Some(y) => {
                            let mut s = match f.get(slot) {
                                Some(FactValue::Series(s)) => s.0.clone(),
                                _ => Vec::new(),
                            };
                            s.retain(|(yy, _)| *yy != y);
                            s.push((y, v));
                            s.sort_by_key(|(yy, _)| *yy);
                            FactValue::Series(huiqi::eval::Series(s))
                        }
                    };
                    f.values[slot as usize] = Some(value);
                    evaluate_clause(prog, r.clause, &f, &Ledger::default(), opts).unwrap()
                };
                let after = with(a.needed);
                assert_eq!(
                    (after.status, after.amount),
                    (a.status_after, a.amount_after),
                    "{}: {a:?}",
                    prog.clause_ref(r.clause)
                );
                // one step less (a fen of money, a hundredth of a point, one) pays no more than now
                let step = match a.num {
                    huiqi::ir::Num::Money => Decimal::new(1, 2),
                    huiqi::ir::Num::Rate => Decimal::new(1, 4),
                    _ => Decimal::ONE,
                };
                if a.gap.is_some_and(|g| g > Decimal::ZERO) {
                    let less = with(a.needed - step);
                    let more = (less.status == Status::Granted
                        && less.amount.unwrap_or_default() > r.amount.unwrap_or_default())
                        || (a.status_after == Status::Discretionary && less.status == Status::Discretionary);
                    assert!(
                        !more,
                        "{}: {} less than advised already pays more",
                        prog.clause_ref(r.clause),
                        step
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "only {checked} advices checked");
}

#[test]
fn population_rows_keep_numbers_exact() {
    // 研发投入 with 19 significant digits: through f64 it would become 12345678901234568;
    // S22.9a (manufacturers, 100% from 2021) deducts it exactly
    let c = policies();
    let line = r#"{"行业": "装备制造业", "研发投入": {"2024": 12345678901234567.89}}"#;
    let s = huiqi::forecast::simulate_row(&c.program, 1, Ok(line), 2024, 2024);
    let r = s.row.years[0].results.iter().find(|r| r.policy == "S22" && r.clause == "9a").unwrap();
    assert_eq!(r.amount.as_deref(), Some("12345678901234567.89"));
}

/// `eval --facts EXAMPLE --advise --format json --lang LANG`: the document and its text.
fn advised(example: &str, lang: &str) -> (serde_json::Value, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_huiqi"))
        .args(["eval", "--facts", example, "--advise", "--format", "json", "--lang", lang])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    (serde_json::from_str(&text).unwrap(), text)
}

/// The result of clause `policy`.`clause` in an `eval --format json` document.
fn result<'d>(d: &'d serde_json::Value, policy: &str, clause: &str) -> &'d serde_json::Value {
    d["results"].as_array().unwrap().iter().find(|r| r["policy"] == policy && r["clause"] == clause).unwrap()
}

#[test]
fn advice_names_what_makes_a_discretionary_clause_reachable() {
    // BJ20.2c (为承租户减免租金的企业, 由市区政府给予一定资金补贴) is discretionary and asks
    // `为中小微企业减免租金额 超过 0元`: this enterprise reduced no rent (0元), so the advice
    // is a fen of reduction, after which the department decides the amount (amount_after null).
    let (d, _) = advised("examples/中关村智检科技.json", "zh");
    let r = result(&d, "BJ20", "2c");
    assert_eq!(r["status"], "ineligible");
    let a = &r["advice"][0];
    assert_eq!(a["fact"], "为中小微企业减免租金额");
    assert_eq!(
        (a["now"].as_str(), a["needed"].as_str(), a["gap"].as_str()),
        (Some("0.00"), Some("0.01"), Some("0.01"))
    );
    assert_eq!(a["status_after"], "discretionary");
    assert!(a["amount_after"].is_null());
    assert!(a["text"].as_str().unwrap().contains("酌定"), "{a}");
}

#[test]
fn advice_on_a_fact_not_given_states_the_threshold_without_a_gap() {
    // T13.6b (展位费补贴) asks for 展位费 超过 0元; 光电子科技 did not give it, so there is no
    // gap to state: "现为 未提供，需达到 0.01元", never an empty "（差 ）".
    for (lang, want, never) in [
        ("zh", "现为 未提供，需达到 0.01元；", "（差 ）"),
        ("en", "is not given; it would need 0.01元 to", "( short)"),
    ] {
        let (d, out) = advised("examples/光电子科技.json", lang);
        let r = result(&d, "T13", "6b");
        let a = &r["advice"][0];
        assert!(a["now"].is_null() && a["gap"].is_null(), "{a}");
        let text = a["text"].as_str().unwrap();
        assert!(text.contains(want) && !text.contains(never), "{lang}: {text}");
        assert!(!out.contains(never), "{lang}");
    }
}
