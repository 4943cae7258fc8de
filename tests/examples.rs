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
    // provincial SRDI with an IP-pledge loan: 2024 interest 60万 × 50% = 30万 (S22.14a)
    assert_eq!(amount(&r, "S22.14a"), granted("300000.00"));
    // valuation fee 5万 × 50% = 2.5万, under the 3万 yearly cap (S22.14b)
    assert_eq!(amount(&r, "S22.14b"), granted("25000.00"));
    // provincial enterprise technology centre newly recognised in 2024: 30万 (S22.9d)
    assert_eq!(amount(&r, "S22.9d"), granted("300000.00"));
    // 50万 + 30万 + 2.5万 + 30万
    assert_eq!(r["total"], "1125000.00");
}

#[test]
fn srdi_sme_with_a_catalogue_product_and_insured_units() {
    let r = report(&compiled(), "examples/长春精密装备.json");
    // newly recognised provincial SRDI in 2024: one-time 20万 (S22.5a)
    assert_eq!(amount(&r, "S22.5a"), granted("200000.00"));
    // sales price 2300万 × 20% = 460万 → capped at 200万 (S22.8a)
    assert_eq!(amount(&r, "S22.8a"), granted("2000000.00"));
    // first 3 insured units: 55万 + 60万 + 58万 = 173万 (each under 3% × 2300万 = 69万)
    // × 80% = 138.4万 → capped at 100万 (S22.8b); the 4th unit does not count
    assert_eq!(amount(&r, "S22.8b"), granted("1000000.00"));
    // IP-pledge loan interest 70万 × 50% = 35万 (S22.14a); valuation fee 4万 × 50% = 2万
    assert_eq!(amount(&r, "S22.14a"), granted("350000.00"));
    assert_eq!(amount(&r, "S22.14b"), granted("20000.00"));
    // guarantee of 800万 > 500万: the agency's fee is at most 1.5% = 12万 (a ceiling, S22.15);
    // the rate charged, 1.2%, is within it, so the ceiling holds
    assert_eq!(amount(&r, "S22.15"), granted("120000.00"));
    // cash total: 20万 + 200万 + 100万 + 35万 + 2万 (the ceiling and the tax relief excluded)
    assert_eq!(r["total"], "3570000.00");
}

#[test]
fn national_little_giant_listing_in_shenzhen() {
    let r = report(&compiled(), "examples/芯视电子.json");
    // 腾飞类, HQ in Jilin, listed on the Shenzhen exchange in 2024 → 1000万 (E23.12a)
    assert_eq!(amount(&r, "E23.12a"), granted("10000000.00"));
    // 8.8亿 → 10.6亿: first time past 10亿 → 100万 (E23.5)
    assert_eq!(amount(&r, "E23.5"), granted("1000000.00"));
    // first recognised as a national little giant in 2024: one-time 50万 (S22.5b)
    assert_eq!(amount(&r, "S22.5b"), granted("500000.00"));
    // IPO of an SRDI SME: direct financing cost reimbursed case by case (S22.16)
    assert_eq!(amount(&r, "S22.16").0, "discretionary");
    assert_eq!(r["total"], "11500000.00");
}

#[test]
fn firm_in_no_programme_gets_no_cash() {
    let r = report(&compiled(), "examples/长白山食品.json");
    // not electronics, not SRDI, no recognitions: no cash benefit at all
    assert_eq!(r["total"], "0.00");
    assert_eq!(amount(&r, "E23.5").0, "ineligible");
    assert_eq!(amount(&r, "S22.14a").0, "ineligible");
    // as a manufacturer it still has the national R&D super-deduction (a tax relief, kind
    // tax, not in the cash total): 2024 R&D 22万 × 100% = 22万 extra deduction
    assert_eq!(amount(&r, "S22.9a"), granted("220000.00"));
}

#[test]
fn high_tech_firm_with_transfer_income_and_equipment_credit() {
    let r = report(&compiled(), "examples/长春光学精密.json");
    // 1200万 special equipment × 10% = 120万 credit, fully used against 540万 tax (T13.14a)
    assert_eq!(amount(&r, "T13.14a"), granted("1200000.00"));
    // transfer income 860万: 500万 × 25% + 360万 × 12.5% = 125万 + 45万 = 170万 (T13.14b)
    assert_eq!(amount(&r, "T13.14b"), granted("1700000.00"));
    // high-tech 15% rate: 3600万 × (25% − 15%) = 360万, granted once (K22.1a; T13.14d is the same rule)
    assert_eq!(amount(&r, "K22.1a"), granted("3600000.00"));
    assert_eq!(amount(&r, "T13.14d").0, "ineligible");
    // 2024 super-deduction 100%: (2000万 + 120万 amortisation) × 100% = 2120万 (T13.14c)
    assert_eq!(amount(&r, "T13.14c"), granted("21200000.00"));
    // tax reliefs are not cash: the cash total is zero
    assert_eq!(r["total"], "0.00");
}

#[test]
fn tianhe_hong_kong_youth_enterprise() {
    let r = report(&compiled(), "examples/天河港澳青年科技.json");
    // founded by a Hong Kong resident of 34 (45周岁以下), 62% held by Hong Kong youth (≥ 25%):
    // a 港澳青年企业 (TH23.2a)
    assert_eq!(amount(&r, "TH23.2a").0, "granted");
    // 天英汇港澳组 prize winner registered in Tianhe: one-time 10万 (TH23.5a)
    assert_eq!(amount(&r, "TH23.5a"), granted("100000.00"));
    // operating since 2022-11-01 (a full year before 2024): 2024 rent 12.6万 × 50% = 6.3万,
    // capped at 5万 a year (TH23.5b)
    assert_eq!(amount(&r, "TH23.5b"), granted("50000.00"));
    // 小升规 on 2024-03-31: 10万 (TH23.5c1); high-tech recognition on 2024-12-10: 20万 (TH23.5c3)
    assert_eq!(amount(&r, "TH23.5c1"), granted("100000.00"));
    assert_eq!(amount(&r, "TH23.5c3"), granted("200000.00"));
    // not an incubator: no carrier award (TH23.3b)
    assert_eq!(amount(&r, "TH23.3b").0, "ineligible");
    // 10万 + 5万 + 10万 + 20万
    assert_eq!(r["total"], "450000.00");
}

#[test]
fn guangzhou_internship_base() {
    let r = report(&compiled(), "examples/广州就业见习基地.json");
    // the unit meets the recognition conditions (GZ19.5) and the demonstration-base ones:
    // 58 and 55 interns (≥ 50 each year), retention 62% (≥ 60%) (GZ19.19a)
    assert_eq!(amount(&r, "GZ19.5").0, "granted");
    assert_eq!(amount(&r, "GZ19.19a").0, "granted");
    // the living allowance the unit must pay: 2300元 × 80% = 1840元 a month (GZ19.16a, not cash)
    assert_eq!(amount(&r, "GZ19.16a"), granted("1840.00"));
    // city subsidy at 2300元 × 50% = 1150元 a month, 22 working days a month (GZ19.16b):
    //   6 months: 6 × 1150 = 6900
    //   3 months + 10 working days: 3450 + 10 × 1150 / 22 = 3972.7272…
    //   5 months + 8 working days: 5750 + 8 × 1150 / 22 = 6168.1818…
    //   (the fourth graduated more than 2 years before: not an intern of 第二十二条)
    //   6900 + 3972.7272… + 6168.1818… = 17040.9090… → 17040.91
    assert_eq!(amount(&r, "GZ19.16b"), granted("17040.91"));
    // the 低保 intern: 5 full months × 500元 = 2500元 (GZ19.17; the 8 days of a part month unpaid)
    assert_eq!(amount(&r, "GZ19.17"), granted("2500.00"));
    // 17040.91 + 2500
    assert_eq!(r["total"], "19540.91");
}

#[test]
fn beijing_sme_keeping_its_staff_in_2020() {
    let r = report(&compiled(), "examples/京西精密制造.json");
    // BJ20.12a: 6 months × 1800元 (the example's 2019 monthly average benefit) × 60 insured = 64.8万
    assert_eq!(amount(&r, "BJ20.12a"), granted("648000.00"));
    // BJ20.12b: headcount 60 → 66 to the end of April, growth 10% (< 20%) → 30% of 3 months'
    // contributions 27万 = 8.1万
    assert_eq!(amount(&r, "BJ20.12b"), granted("81000.00"));
    // BJ20.12c: the firm enjoys 12a/12b, 40 employees trained × 1000元 = 4万
    assert_eq!(amount(&r, "BJ20.12c"), granted("40000.00"));
    // BJ20.2a: municipal SOE premises for production, open and no lay-offs: February rent waived
    // (a waiver, not cash)
    assert_eq!(amount(&r, "BJ20.2a"), ("granted".into(), None));
    // BJ20.10b: a 生活服务保障 firm: the guarantor may charge at most 500万 × 1.5% = 7.5万; the
    // 1.2% charged is within it (a ceiling, not cash)
    assert_eq!(amount(&r, "BJ20.10b"), granted("75000.00"));
    // 64.8万 + 8.1万 + 4万
    assert_eq!(r["total"], "769000.00");
}

#[test]
fn haidian_test_kit_developer_on_top_of_the_city_measures() {
    let r = report(&compiled(), "examples/中关村智检科技.json");
    // HD20.9a: high-tech firm's bond intermediary fees 120万 × 50% = 60万 (≤ 100万); BJ20.11d,
    // the city's subsidy of the same kind, stays discretionary (HD20 五: one level only)
    assert_eq!(amount(&r, "HD20.9a"), granted("600000.00"));
    assert_eq!(amount(&r, "BJ20.11d").0, "discretionary");
    // HD20.8c: 确权融资 interest at the benchmark rate 30万 × 50% = 15万 (≤ 50万)
    assert_eq!(amount(&r, "HD20.8c"), granted("150000.00"));
    // HD20.4a on top of BJ20.2a: February rent waived by the city rule, property fee by the district
    assert_eq!(amount(&r, "BJ20.2a").0, "granted");
    assert_eq!(amount(&r, "HD20.4a").0, "granted");
    // HD20.1a: COVID test-kit R&D support up to 300万, decided by the department
    assert_eq!(amount(&r, "HD20.1a").0, "discretionary");
    // a medium firm is not 小微: BJ20.4 (研发费用补助 for small and micro firms) does not apply
    assert_eq!(amount(&r, "BJ20.4").0, "ineligible");
    // 60万 + 15万
    assert_eq!(r["total"], "750000.00");
}

#[test]
fn guangdong_housekeeping_firm_hiring_in_2020() {
    let r = report(&compiled(), "examples/梅州嘉宜家政.json");
    // GD20.3c: 45 staff on average (≥ 20 in 粤东粤西粤北) × 1000元 = 4.5万
    assert_eq!(amount(&r, "GD20.3c"), granted("45000.00"));
    // GD20.3d: rated 省级家政服务龙头企业 in 2020 → 30万
    assert_eq!(amount(&r, "GD20.3d"), granted("300000.00"));
    // GD20.4a: 15 new hires of 60 staff = 25% ≥ 20%; loan 300万 × 4.05% × 50% = 6.075万
    assert_eq!(amount(&r, "GD20.4a"), granted("60750.00"));
    // GD20.5d: two veterans hired within a year of discharge, insured 12 and 14 months → 2 × 1万
    assert_eq!(amount(&r, "GD20.5d"), granted("20000.00"));
    // GD20.5g: one hire unemployed 8 months, insured 9 months → 5000元
    assert_eq!(amount(&r, "GD20.5g"), granted("5000.00"));
    // GD20.1d: 60 insured, lay-off rate 3% ≤ 5.5%: the refund follows the national rules
    assert_eq!(amount(&r, "GD20.1d").0, "discretionary");
    // 4.5万 + 30万 + 6.075万 + 2万 + 0.5万
    assert_eq!(r["total"], "430750.00");
}
