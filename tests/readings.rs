#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
//! The audited readings of `policies/READINGS.md` that a `.tests.policy` case cannot pin: the
//! reason a clause gives. A firm recognised in 2020 and re-recognised in 2023 gets no
//! first-recognition award in 2023 with an empty ledger, and the reason names the earlier
//! recognition; a guarantee fee above the S22.15 ceiling says so with both rates.

use huiqi::eval::facts::parse_facts;
use huiqi::eval::{EvalOptions, Lang, Ledger, evaluate};
use std::path::PathBuf;

fn compiled() -> huiqi::Compiled {
    let input = huiqi::load::load(&[PathBuf::from("policies")]).expect("policies");
    huiqi::compile(&input).map_err(|f| f.diagnostics.len()).expect("policies compile")
}

fn report(c: &huiqi::Compiled, facts: &str, period: i32) -> serde_json::Value {
    let facts = parse_facts(&c.program, facts).unwrap_or_else(|e| panic!("{e:?}"));
    let o = evaluate(&c.program, &facts, &Ledger::default(), EvalOptions::new(period));
    assert!(o.errors.is_empty(), "{:?}", o.errors);
    let r = huiqi::report::eval_report(&c.program, &o, None, Lang::Zh);
    serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap()
}

fn result<'a>(r: &'a serde_json::Value, clause: &str) -> &'a serde_json::Value {
    let (p, c) = clause.split_once('.').unwrap();
    r["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["policy"] == p && x["clause"] == c)
        .unwrap_or_else(|| panic!("{clause}"))
}

fn reasons(x: &serde_json::Value) -> String {
    x["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

const RECOGNISED_2020_AND_2023: &str = r#"{
  "行业": "电子信息制造业", "专精特新等级": "国家级小巨人",
  "认定": [
    { "类别": "省级专精特新中小企业", "日期": "2020-05-10" },
    { "类别": "省级专精特新中小企业", "日期": "2023-05-10" },
    { "类别": "国家级专精特新小巨人", "日期": "2020-07-15" },
    { "类别": "国家级专精特新小巨人", "日期": "2023-07-15" },
    { "类别": "省级企业技术中心", "日期": "2020-09-01" },
    { "类别": "省级企业技术中心", "日期": "2023-09-01" }
  ]
}"#;

#[test]
fn re_recognition_is_not_a_first_recognition_and_says_why() {
    let r = report(&compiled(), RECOGNISED_2020_AND_2023, 2023);
    for (clause, earlier) in [
        ("S22.5a", "此前已认定省级专精特新中小企业"),
        ("S22.5b", "此前已认定国家级专精特新小巨人"),
        ("T13.7a", "此前已认定省级企业技术中心"),
    ] {
        let x = result(&r, clause);
        assert_eq!(x["status"], "ineligible", "{clause}");
        let why = reasons(x);
        assert!(why.contains(earlier) && why.contains("true"), "{clause}: {why}");
    }
    for clause in ["E23.6", "E23.2b", "S22.9d"] {
        let x = result(&r, clause);
        assert_eq!(x["status"], "ineligible", "{clause}");
        assert!(reasons(x).contains("首次认定"), "{clause}: {}", reasons(x));
    }
    // an empty ledger, and still nothing: 20万 (S22.5a) + 50万 (S22.5b) + 30万 (S22.9d) are not paid
    assert_eq!(r["total"], "0.00");
}

#[test]
fn a_first_recognition_in_2023_is_paid() {
    let facts = r#"{
      "行业": "电子信息制造业", "专精特新等级": "国家级小巨人",
      "认定": [
        { "类别": "省级专精特新中小企业", "日期": "2021-05-10" },
        { "类别": "国家级专精特新小巨人", "日期": "2023-07-15" },
        { "类别": "省级企业技术中心", "日期": "2023-09-01" }
      ]
    }"#;
    let r = report(&compiled(), facts, 2023);
    // the provincial recognition of 2021 is another category: S22.5a not (not in 2023), S22.5b yes
    assert_eq!(result(&r, "S22.5a")["status"], "ineligible");
    assert_eq!(result(&r, "S22.5b")["amount"], "500000.00");
    assert_eq!(result(&r, "S22.9d")["amount"], "300000.00");
    assert_eq!(result(&r, "E23.6")["status"], "discretionary");
    assert_eq!(result(&r, "E23.2b")["status"], "discretionary");
    // 50万 + 30万
    assert_eq!(r["total"], "800000.00");
}

#[test]
fn a_guarantee_fee_above_the_ceiling_says_so() {
    let c = compiled();
    // 800万 guarantee: ceiling 1.5%; 1.8% charged is above it
    let above =
        report(&c, r#"{ "专精特新等级": "省级专精特新", "单户担保额": "800万", "担保费率": "1.8%" }"#, 2024);
    let x = result(&above, "S22.15");
    assert_eq!(x["status"], "ineligible");
    let why = reasons(x);
    assert!(why.contains("担保费率") && why.contains("担保费率上限"), "{why}");
    // 1.2% is within: the ceiling holds, with the highest fee allowed, 800万 × 1.5% = 12万
    let within =
        report(&c, r#"{ "专精特新等级": "省级专精特新", "单户担保额": "800万", "担保费率": "1.2%" }"#, 2024);
    assert_eq!(result(&within, "S22.15")["status"], "granted");
    assert_eq!(result(&within, "S22.15")["amount"], "120000.00");
}

#[test]
fn non_cash_provisions_need_their_conditions() {
    let c = compiled();
    let none = report(
        &c,
        r#"{ "行业": "电子信息制造业", "阶段性聘用域外高层次人才数": 0, "所在园区级别": "省级及以下", "园区重点企业": true, "专业技术人员密集": true }"#,
        2024,
    );
    assert_eq!(result(&none, "E23.13")["status"], "ineligible");
    assert_eq!(result(&none, "E23.14")["status"], "ineligible");
    assert!(reasons(result(&none, "E23.14")).contains("所在园区级别"));
    let both = report(
        &c,
        r#"{ "行业": "电子信息制造业", "阶段性聘用域外高层次人才数": 2, "所在园区级别": "国家级", "园区重点企业": true, "专业技术人员密集": true }"#,
        2024,
    );
    assert_eq!(result(&both, "E23.13")["status"], "granted");
    assert_eq!(result(&both, "E23.14")["status"], "granted");
}

fn cap_floor(r: &serde_json::Value, clause: &str) -> (String, Option<String>, Option<String>) {
    let x = result(r, clause);
    (
        x["status"].as_str().unwrap().to_string(),
        x["cap"].as_str().map(String::from),
        x["floor"].as_str().map(String::from),
    )
}

fn discretionary(cap: &str, floor: Option<&str>) -> (String, Option<String>, Option<String>) {
    ("discretionary".into(), Some(cap.into()), floor.map(String::from))
}

#[test]
fn bj20_5e_reads_the_raised_cap_of_70_percent() {
    // "支持比例上限由原50%提高至70%": rent 10万 → at most 7万, the version of 京政办发〔2020〕7号
    let r = report(
        &compiled(),
        r#"{ "在北京注册": true, "企业规模": "小型", "便民网点设立项目": true, "疫情影响程度": "严重",
             "保障市民基本生活": false, "便民网点房屋租金": "10万" }"#,
        2020,
    );
    assert_eq!(cap_floor(&r, "BJ20.5e"), discretionary("70000.00", None));
    let steps = serde_json::to_string(&result(&r, "BJ20.5e")["explanation"]).unwrap();
    assert!(steps.contains("京政办发〔2020〕7号"), "{steps}");
}

#[test]
fn bj20_15b_voucher_is_at_most_half_the_contract_and_20wan() {
    let c = compiled();
    let voucher = |contract: &str| {
        let facts = format!(
            r#"{{ "在北京注册": true, "企业规模": "小型", "疫情影响程度": "严重", "服务券采购合同额": "{contract}" }}"#
        );
        cap_floor(&report(&c, &facts, 2020), "BJ20.15b")
    };
    // 30万 × 50% = 15万; 40万 × 50% = 20万 (at the cap); 40万 + 1分 → 20.000005万 → 20万
    assert_eq!(voucher("30万"), discretionary("150000.00", None));
    assert_eq!(voucher("40万"), discretionary("200000.00", None));
    assert_eq!(voucher("400000.01"), discretionary("200000.00", None));
}

#[test]
fn hd20_7b_credit_loss_subsidy_is_20_to_70_percent_at_most_500wan() {
    let c = compiled();
    let loss = |principal: &str| {
        let facts = format!(
            r#"{{ "在海淀区注册纳税纳统": true, "骗取区内补贴处理日期": "never", "信用贷款损失本金": "{principal}" }}"#
        );
        cap_floor(&report(&c, &facts, 2020), "HD20.7b")
    };
    // 500万: floor 20% = 100万, cap 70% = 350万
    assert_eq!(loss("500万"), discretionary("3500000.00", Some("1000000.00")));
    // 1000万: floor 200万, cap 700万 → 500万
    assert_eq!(loss("1000万"), discretionary("5000000.00", Some("2000000.00")));
    // 3000万: floor 600万 would pass the 500万 cap: both 500万
    assert_eq!(loss("3000万"), discretionary("5000000.00", Some("5000000.00")));
}

#[test]
fn gd20_per_person_and_per_item_caps() {
    let c = compiled();
    let r = report(
        &c,
        r#"{ "在广东省注册": true, "生产配送防疫急需物资": true,
             "粤疫情期间新招用员工": [ { "身份证号": "H1" }, { "身份证号": "H2" }, { "身份证号": "H3" } ],
             "粤农村电商服务站点": [ { "站点编号": "S0", "建成日期": "2019-11-01" },
                                     { "站点编号": "S1", "建成日期": "2020-03-01" },
                                     { "站点编号": "S2", "建成日期": "2020-12-31" } ],
             "见习人员月数": 18, "当地最低工资标准": "1720元",
             "粤隔离职工": [ { "隔离期间工资": "6000元", "缴费工资基数": "8000元" },
                             { "隔离期间工资": "3000元", "缴费工资基数": "8000元" } ],
             "就业监测人月数": 12, "承担就业监测任务项数": 2 }"#,
        2020,
    );
    // each hire up to 1000元 (每人不超过1000元): 3 hires, 1000 + 1000 + 1000 = 3000元
    assert_eq!(cap_floor(&r, "GD20.1f"), discretionary("3000.00", None));
    // each station up to 10万 (每个不超过10万元): S1, S2 built in 2020 (S0 in 2019), 20万
    assert_eq!(cap_floor(&r, "GD20.4e"), discretionary("200000.00", None));
    // 18 person-months × 1720元 (the example's local minimum wage) = 30960元
    assert_eq!(cap_floor(&r, "GD20.5c"), discretionary("30960.00", None));
    // per employee min(wages, base × 50%): min(6000, 4000) + min(3000, 4000) = 7000元
    assert_eq!(cap_floor(&r, "GD20.5h"), discretionary("7000.00", None));
    // 12 person-months × (200元 + 50元 for the second task) = 3000元
    assert_eq!(cap_floor(&r, "GD20.9a"), discretionary("3000.00", None));
}

#[test]
fn hd20_fraud_lock_out_and_bj20_fee_ceiling_say_why() {
    let c = compiled();
    let r = report(
        &c,
        r#"{ "在海淀区注册纳税纳统": true, "骗取区内补贴处理日期": "2020-03-01", "驻区金融机构": true, "疫情期间首笔贷款金额": "1000万" }"#,
        2020,
    );
    assert_eq!(result(&r, "HD20.7a")["status"], "ineligible");
    // found on 2020-03-01: locked out until 2023-03-01 inclusive, so in 2020 (as of 12-31)
    assert!(reasons(result(&r, "HD20.7a")).contains("三年内不准申请区内补贴"));
    // 原综合费率 2% − 0.5 个百分点 = 1.5%: 1.6% charged is above it, the reason shows both
    let r = report(
        &c,
        r#"{ "在北京注册": true, "企业规模": "小型", "疫情影响程度": "严重", "京担保额": "1000万",
             "京担保原综合费率": "2%", "京担保实际费率": "1.6%" }"#,
        2020,
    );
    let why = reasons(result(&r, "BJ20.10a"));
    assert!(why.contains("京担保实际费率") && why.contains("京担保原综合费率"), "{why}");
}
