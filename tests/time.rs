#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]
//! Time within the year: `date or never`, `default`, `month`/`day`/`year`, `add_months` (end of
//! month clamped), `add_days`, `months_between`, `days_between`, `max`/`min` of dates,
//! `period_start`/`period_end` and `as_of` in conditions; a `never` date used as a day (E0507)
//! and a date that cannot exist (E0506) fail the clause. Each number is worked out beside its
//! assertion; the lean path agrees with the evaluator (or hands the enterprise back on a
//! failure) on every case.

use huiqi::Status;
use huiqi::diag::Code;
use huiqi::eval::facts::parse_facts;
use huiqi::eval::kernel::{Delegate, Kernel, Verdicts};
use huiqi::eval::{EvalOptions, Ledger, evaluate};
use huiqi::ir::Program;
use huiqi::value::Date;

const RULES: &str = r#"
record 人员记录 "人员" {
  证件号码: text "证件号码"
  入职日期: date or never "入职日期（未就业：never）"
  离职日期: date or never default never "离职日期（仍在职：never）"
  实习开始日期: date "实习开始日期"
  实习结束日期: date "实习结束日期"
  符合条件: boolean default false "符合条件"
}
fact 人员: list 人员记录 "人员"
fact 取消日期: date or never "取消日期"
fact 月数: number "月数"
define 满一年在职(人员记录) "连续就业满1年且仍在职" =
  入职日期 != never and add_months(入职日期, 12) 不超过 as_of and (离职日期 == never or 离职日期 超过 as_of)
policy T "t" {
  clause 1 "实习补贴" {
    // whole months from the first day to the day after the last, at most 6, × 3000
    amount each 人员 where year(实习结束日期) == period key 证件号码 =>
      min(months_between(实习开始日期, add_days(实习结束日期, 1)), 6) × 3000元
  }
  clause 2 "住房补贴" {
    // months of the period in post after the first full year × 1500, at most 24 months
    amount each 人员 where 满一年在职 and 符合条件 key 证件号码 =>
      months_between(max(add_months(入职日期, 12), period_start), add_days(min(as_of, period_end), 1)) × 1500元
    cap 3.6万 per item total
  }
  clause 3 "两年内不予认定" {
    when 取消日期 == never or add_months(取消日期, 24) 不超过 as_of
    provides "可申请"
  }
  clause 4 "11月10日前申请" {
    when month(as_of) < 11 or (month(as_of) == 11 and day(as_of) 不超过 10)
    provides "可申请"
  }
  clause 5 "天数" {
    amount days_between(period_start, period_end) × 1元
  }
  clause 6 "取消满六个月（未加防护）" {
    when add_months(取消日期, 6) 不超过 as_of
    amount 1元
  }
  clause 7 "按月数" {
    when add_months(period_start, 月数) 不超过 as_of
    amount 1元
  }
}
"#;

fn program() -> Program {
    huiqi::compile(&huiqi::Input::from_rules([("t.policy".to_string(), RULES.to_string())]))
        .map_err(|f| huiqi::diag::render::render_short(&f.diagnostics, &f.sources))
        .unwrap()
        .program
}

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

struct Run {
    rows: Vec<(String, Status, Option<String>)>,
    errors: Vec<(String, Code)>,
}

/// Both evaluators on one enterprise: the kernel gives the same verdicts, or hands the
/// enterprise back exactly when the evaluator reports a failure.
fn run(prog: &Program, facts: &str, period: i32, as_of: Option<&str>, ledger: &Ledger) -> Run {
    let facts = parse_facts(prog, facts).unwrap();
    let as_of = as_of.map(date);
    let out = evaluate(prog, &facts, ledger, EvalOptions { period, as_of, explain: true });
    if ledger.entries.is_empty() {
        let kernel = Kernel::new(prog);
        assert_eq!(kernel.delegated(), 0, "time constructs run on the lean path");
        let mut v = Verdicts::default();
        match kernel.evaluate(prog, &facts, period, as_of, &mut v) {
            Err(Delegate) => {
                assert!(!out.errors.is_empty(), "the kernel handed back an enterprise without errors")
            }
            Ok(()) => {
                assert!(out.errors.is_empty(), "the kernel missed {:?}", out.errors);
                for (k, r) in v.items.iter().zip(&out.results) {
                    assert_eq!((k.status, k.amount), (r.status, r.amount), "{}", prog.clause_ref(r.clause));
                }
            }
        }
    }
    Run {
        rows: out
            .results
            .iter()
            .map(|r| (prog.clause_ref(r.clause), r.status, r.amount.map(|d| d.normalize().to_string())))
            .collect(),
        errors: out.errors.iter().map(|e| (prog.clause_ref(e.clause), e.code)).collect(),
    }
}

fn at(r: &Run, clause: &str) -> (Status, Option<String>) {
    let x = r.rows.iter().find(|x| x.0 == clause).unwrap_or_else(|| panic!("{clause}: no result"));
    (x.1, x.2.clone())
}

fn person(id: &str, fields: &str) -> String {
    format!(r#"{{"证件号码": "{id}", "实习开始日期": "2024-03-01", "实习结束日期": "2024-05-31", {fields}}}"#)
}

#[test]
fn whole_months_of_an_internship() {
    let prog = program();
    let facts = format!(
        r#"{{"取消日期": "never", "月数": 1, "人员": [{}, {}, {}, {}]}}"#,
        // 2024-03-01 … 2024-05-31: months_between(03-01, 06-01) = 3 → 9000
        person("A", r#""入职日期": "never""#),
        // 2024-03-15 … 2024-06-13: months_between(03-15, 06-14) = 2 → 6000
        person("B", r#""入职日期": "never""#)
            .replace("2024-03-01", "2024-03-15")
            .replace("2024-05-31", "2024-06-13"),
        // 2024-01-31 … 2024-02-29: add_months(01-31, 1) = 02-29 ≤ 03-01 → 1 → 3000
        person("C", r#""入职日期": "never""#)
            .replace("2024-03-01", "2024-01-31")
            .replace("2024-05-31", "2024-02-29"),
        // 2024-01-01 … 2024-08-31: 8 months, at most 6 → 18000
        person("D", r#""入职日期": "never""#)
            .replace("2024-03-01", "2024-01-01")
            .replace("2024-05-31", "2024-08-31"),
    );
    let r = run(&prog, &facts, 2024, None, &Ledger::default());
    // 9000 + 6000 + 3000 + 18000
    assert_eq!(at(&r, "T.1"), (Status::Granted, Some("36000".into())));
    // 2024 is a leap year: days_between(2024-01-01, 2024-12-31) = 365
    assert_eq!(at(&r, "T.5"), (Status::Granted, Some("365".into())));
    let r = run(&prog, &facts, 2023, None, &Ledger::default());
    assert_eq!(at(&r, "T.5"), (Status::Granted, Some("364".into())));
}

#[test]
fn months_in_post_after_the_first_full_year() {
    let prog = program();
    let one =
        |fields: &str| format!(r#"{{"取消日期": "never", "月数": 1, "人员": [{}]}}"#, person("A", fields));
    let hired = r#""入职日期": "2023-03-01", "符合条件": true"#;
    // 2024 at its end: max(2024-03-01, 2024-01-01) → 2025-01-01: 10 months × 1500 = 15000
    let r = run(&prog, &one(hired), 2024, None, &Ledger::default());
    assert_eq!(at(&r, "T.2"), (Status::Granted, Some("15000".into())));
    // 2025: the whole year, 12 × 1500 = 18000
    let r = run(&prog, &one(hired), 2025, None, &Ledger::default());
    assert_eq!(at(&r, "T.2"), (Status::Granted, Some("18000".into())));
    // 2026 after 1.5万 + 1.8万: 3.6万 − 3.3万 = 3000 left (the 24 months end on 2026-02-28)
    let ledger = Ledger::new(vec![
        serde_json::from_value(
            serde_json::json!({"policy": "T", "clause": "2", "key": "A", "period": 2024, "amount": "15000"}),
        )
        .unwrap(),
        serde_json::from_value(
            serde_json::json!({"policy": "T", "clause": "2", "key": "A", "period": 2025, "amount": "18000"}),
        )
        .unwrap(),
    ]);
    let r = run(&prog, &one(hired), 2026, None, &ledger);
    assert_eq!(at(&r, "T.2"), (Status::Granted, Some("3000".into())));
    // the anniversary: hired 2023-06-15, full on 2024-06-15; on 2024-07-14 one whole month
    // (06-15 → 07-15) = 1500; on 2024-07-13 none; on 2024-06-14 not yet a full year
    let mid = r#""入职日期": "2023-06-15", "符合条件": true"#;
    let r = run(&prog, &one(mid), 2024, Some("2024-07-14"), &Ledger::default());
    assert_eq!(at(&r, "T.2"), (Status::Granted, Some("1500".into())));
    let r = run(&prog, &one(mid), 2024, Some("2024-07-13"), &Ledger::default());
    assert_eq!(at(&r, "T.2").0, Status::Ineligible);
    let r = run(&prog, &one(mid), 2024, Some("2024-06-14"), &Ledger::default());
    assert_eq!(at(&r, "T.2").0, Status::Ineligible);
    // hired on a leap day: full on 2025-02-28; 2025-02-28 → 2026-01-01 is 10 months = 15000
    let leap = r#""入职日期": "2024-02-29", "符合条件": true"#;
    let r = run(&prog, &one(leap), 2025, None, &Ledger::default());
    assert_eq!(at(&r, "T.2"), (Status::Granted, Some("15000".into())));
    // `default false`: 符合条件 absent → decided (ineligible), not undetermined
    let r = run(&prog, &one(r#""入职日期": "2023-03-01""#), 2024, None, &Ledger::default());
    assert_eq!(at(&r, "T.2").0, Status::Ineligible);
    // left before the as-of date: not in post
    let left = r#""入职日期": "2023-03-01", "离职日期": "2024-10-31", "符合条件": true"#;
    let r = run(&prog, &one(left), 2024, None, &Ledger::default());
    assert_eq!(at(&r, "T.2").0, Status::Ineligible);
    // never employed: `入职日期 != never` stops the condition before add_months reads it
    let r = run(&prog, &one(r#""入职日期": "never", "符合条件": true"#), 2024, None, &Ledger::default());
    assert_eq!(at(&r, "T.2").0, Status::Ineligible);
    assert!(r.errors.iter().all(|e| e.0 != "T.2"), "{:?}", r.errors);
}

#[test]
fn never_is_compared_and_anniversaries_are_inclusive() {
    let prog = program();
    let f = |cancel: &str| format!(r#"{{"取消日期": {cancel}, "月数": 1, "人员": []}}"#);
    // never: T.3 holds at once; T.6 reads the never date as a day: E0507 for T.6 only
    let r = run(&prog, &f(r#""never""#), 2024, None, &Ledger::default());
    assert_eq!(at(&r, "T.3").0, Status::Granted);
    assert_eq!(r.errors, vec![("T.6".to_string(), Code::NeverDate)]);
    // cancelled 2022-03-15: on 2024-03-14 still within two years, on 2024-03-15 not
    let r = run(&prog, &f(r#""2022-03-15""#), 2024, Some("2024-03-14"), &Ledger::default());
    assert_eq!(at(&r, "T.3").0, Status::Ineligible);
    let r = run(&prog, &f(r#""2022-03-15""#), 2024, Some("2024-03-15"), &Ledger::default());
    assert_eq!(at(&r, "T.3").0, Status::Granted);
    // absent (null) is unknown, not never: undetermined
    let r = run(&prog, &f("null"), 2024, None, &Ledger::default());
    assert_eq!(at(&r, "T.3").0, Status::Undetermined);
    // 11月10日前 includes 10 November
    for (as_of, ok) in
        [("2024-11-10", true), ("2024-11-11", false), ("2024-10-31", true), ("2024-12-01", false)]
    {
        let r = run(&prog, &f(r#""never""#), 2024, Some(as_of), &Ledger::default());
        assert_eq!(at(&r, "T.4").0 == Status::Granted, ok, "{as_of}");
    }
}

#[test]
fn a_month_count_that_is_not_whole_is_e0506() {
    let prog = program();
    let r = run(&prog, r#"{"取消日期": "never", "月数": 1.5}"#, 2024, None, &Ledger::default());
    assert!(r.errors.contains(&("T.7".to_string(), Code::ImpossibleDate)), "{:?}", r.errors);
    // a whole number stored as 2.0 is whole
    let r = run(&prog, r#"{"取消日期": "2020-01-01", "月数": 2.0}"#, 2024, None, &Ledger::default());
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(at(&r, "T.7").0, Status::Granted);
}

#[test]
fn never_for_a_plain_date_is_rejected_in_the_facts() {
    let prog = program();
    let e = parse_facts(
        &prog,
        &format!(
            r#"{{"人员": [{}]}}"#,
            person("A", r#""入职日期": "2023-01-01""#).replace("\"2024-03-01\"", "\"never\"")
        ),
    )
    .unwrap_err();
    assert_eq!(e[0].path, "人员[0].实习开始日期");
    assert!(e[0].help.contains("date or never"), "{}", e[0].help);
}

#[test]
fn misused_time_constructs_are_errors_with_a_fix() {
    let cases = [
        ("when 取消日期 < never\n    provides \"x\"", "E0310"),
        ("when add_months(never, 1) 不超过 as_of\n    provides \"x\"", "E0310"),
        ("when add_months(取消日期) 不超过 as_of\n    provides \"x\"", "takes a date and a whole number"),
        ("when months_between(取消日期, 3) > 0\n    provides \"x\"", "E0305"),
    ];
    for (body, want) in cases {
        let text = RULES.replacen("when month(as_of) < 11 or (month(as_of) == 11 and day(as_of) 不超过 10)\n    provides \"可申请\"", body, 1);
        let Err(f) = huiqi::compile(&huiqi::Input::from_rules([("t.policy".to_string(), text)])) else {
            panic!("{body}: compiled")
        };
        let shown = huiqi::diag::render::render_short(&f.diagnostics, &f.sources);
        assert!(shown.contains(want), "{body}: {shown}");
    }
    for (decl, want) in [
        ("fact 年数: integer or never", "E0310"),
        ("fact 合格: boolean default 3", "E0311"),
        ("fact 开始: date default never", "E0311"),
    ] {
        let text = format!("{RULES}\n{decl}\n");
        let Err(f) = huiqi::compile(&huiqi::Input::from_rules([("t.policy".to_string(), text)])) else {
            panic!("{decl}: compiled")
        };
        let shown = huiqi::diag::render::render_short(&f.diagnostics, &f.sources);
        assert!(shown.contains(want), "{decl}: {shown}");
    }
}

const MONTHLY: &str = r#"
fact 社保缴费人数: monthly integer "每月参加社会保险的职工人数"
fact 见习月补贴: monthly money "每月发放的见习补贴"
policy M "m" {
  clause 1 "全年人月" { amount total(社保缴费人数, 2024-01, 2024-12) × 100元 }
  clause 2 "缴费月数" { when months(社保缴费人数, period_start, period_end) 达到 3 provides "x" }
  clause 3 "三月人数" { amount 社保缴费人数[2024-03] × 100元 }
  clause 4 "二月人数" { amount 社保缴费人数[2024-02-15] × 100元 }
  clause 5 "申请月" { amount 见习月补贴[as_of] }
  clause 6 "最长6个月" { amount min(total(见习月补贴, 2024-01, 2024-12), 6 × 1500元) }
}
"#;

#[test]
fn monthly_series_are_read_by_month() {
    let prog = huiqi::compile(&huiqi::Input::from_rules([("m.policy".to_string(), MONTHLY.to_string())]))
        .map_err(|f| huiqi::diag::render::render_short(&f.diagnostics, &f.sources))
        .unwrap()
        .program;
    let facts = r#"{"社保缴费人数": {"2024-01": 10, "2024-02": 12, "2024-04": 11, "2023-12": 9},
                    "见习月补贴": {"2024-03": 1500, "2024-04": 1500, "2024-05": 1500, "2024-06": 1500,
                                  "2024-07": 1500, "2024-08": 1500, "2024-09": 1500}}"#;
    let r = run(&prog, facts, 2024, Some("2024-09-30"), &Ledger::default());
    // 2024-01 … 2024-12: 10 + 12 + 11 = 33 (2023-12 is outside) × 100 = 3300
    assert_eq!(at(&r, "M.1"), (Status::Granted, Some("3300".into())));
    // three months present in 2024
    assert_eq!(at(&r, "M.2").0, Status::Granted);
    // March is absent: missing, never zero
    assert_eq!(at(&r, "M.3").0, Status::Undetermined);
    // any day names its month: 2024-02-15 → 12 × 100
    assert_eq!(at(&r, "M.4"), (Status::Granted, Some("1200".into())));
    // the month of the as-of date (September): 1500
    assert_eq!(at(&r, "M.5"), (Status::Granted, Some("1500".into())));
    // 7 months × 1500 = 10500, at most 6 months: 9000
    assert_eq!(at(&r, "M.6"), (Status::Granted, Some("9000".into())));
    // keys are months
    for bad in [
        r#"{"社保缴费人数": {"2024": 3}}"#,
        r#"{"社保缴费人数": {"2024-13": 3}}"#,
        r#"{"社保缴费人数": {"2024-3": 3}}"#,
    ] {
        let e = parse_facts(&prog, bad).unwrap_err();
        assert!(e[0].message.contains("is not a month"), "{bad}: {}", e[0].message);
    }
    for (body, want) in [
        ("amount 社保缴费人数 × 100元", "E0312"),
        ("amount increase(社保缴费人数) × 100元", "E0306"),
        ("amount 社保缴费人数[period] × 100元", "E0312"),
        ("amount total(社保缴费人数, 2024-01) × 100元", "E0305"),
    ] {
        let text = MONTHLY.replacen("amount total(社保缴费人数, 2024-01, 2024-12) × 100元", body, 1);
        let Err(f) = huiqi::compile(&huiqi::Input::from_rules([("m.policy".to_string(), text)])) else {
            panic!("{body}: compiled")
        };
        let shown = huiqi::diag::render::render_short(&f.diagnostics, &f.sources);
        assert!(shown.contains(want), "{body}: {shown}");
    }
}
