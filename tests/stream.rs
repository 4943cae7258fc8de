#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]
//! The streaming facts reader (`huiqi::eval::stream`) against the tree reader: on every text
//! it either gives up or gives exactly the facts `parse_facts` gives, and it never accepts a
//! text `parse_facts` rejects.

use huiqi::eval::facts::parse_facts;
use huiqi::eval::stream::{FactsReader, RowMeta};
use huiqi::ir::Program;

fn seed_program() -> Program {
    let input = huiqi::load::load(&["policies".into()]).unwrap();
    huiqi::compile(&input).map_err(|f| f.diagnostics.len()).unwrap().program
}

/// `Some(meta)` when the fast reader took the text, after checking it agrees.
fn same(prog: &Program, reader: &FactsReader<'_>, text: &str) -> Option<RowMeta> {
    let slow = parse_facts(prog, text);
    match reader.read(text) {
        None => None,
        Some((fast, meta)) => {
            let slow =
                slow.unwrap_or_else(|e| panic!("accepted what the tree reader rejects: {text}: {e:?}"));
            assert_eq!(fast, slow, "{text}");
            Some(meta)
        }
    }
}

#[test]
fn generated_rows_are_read_fast_and_alike() {
    let prog = seed_program();
    let reader = FactsReader::new(&prog);
    for (i, row) in huiqi::population::population(500, 11, 2024).enumerate() {
        let text = row.to_string();
        let meta = same(&prog, &reader, &text).unwrap_or_else(|| panic!("row {i} fell back: {text}"));
        assert_eq!(meta.enterprise.as_deref(), row["$id"].as_str());
        assert_eq!(meta.period, Some(2024));
    }
}

#[test]
fn odd_texts_are_read_alike_or_handed_back() {
    let prog = seed_program();
    let reader = FactsReader::new(&prog);
    let taken = [
        // escapes in keys and strings, JSON numbers, texts with units, null as absent
        r#"{"\u8425\u4e1a\u6536\u5165": {"2023": 80000000, "2024": "1.2亿"}, "行业": "\u7535子信息制造业"}"#,
        r#"{"营业收入": {"2024": "1.2亿", "2022": "9000万", "2023": null}, "研发投入": null}"#,
        r#"{"营业收入": {"2024": 1.5e8}, "$id": 7, "$name": "甲"}"#,
        r#"{"$name": "甲", "$period": "2023", "$other": [1, {"x": 2}]}"#,
        // numbers kept as written: sign of zero, trailing zeros, exponents, beyond 64 bits
        r#"{"营业收入": {"2021": -0, "2022": 1.50, "2023": 1e5, "2024": 123456789012345678901}}"#,
        r#"{"研发投入": {"2024": 12.5}, "单户担保额": 0.10}"#,
        r#"  {"贷款": [{"金额": "100万", "$note": "x", "利息": {"2024": "3万"}}, {}]}  "#,
        r#"{"贷款": null, "认定": []}"#,
        r#"{}"#,
    ];
    for t in taken {
        assert!(same(&prog, &reader, t).is_some(), "fell back: {t}");
    }
    let metas = [
        (r#"{"$id": "E1", "$name": "甲"}"#, Some("E1"), None),
        (r#"{"$id": 7, "$name": "甲"}"#, None, None),
        (r#"{"$name": "甲", "$period": "2023"}"#, Some("甲"), Some(2023)),
        (r#"{"$period": "二〇二三"}"#, None, None),
    ];
    for (t, name, period) in metas {
        let m = same(&prog, &reader, t).unwrap();
        assert_eq!((m.enterprise.as_deref(), m.period), (name, period), "{t}");
    }
    let handed_back = [
        // problems the tree reader names
        r#"{"营业收入": {"2024": "一亿"}}"#,
        r#"{"未知": 1}"#,
        r#"{"营业收入": [1, 2]}"#,
        r#"{"营业收入": {"公元2024": 1}}"#,
        r#"{"行业": "未知行业"}"#,
        r#"{"总部在吉林": "是"}"#,
        r#"{"贷款": [1]}"#,
        r#"{"贷款": [{"未知字段": 1}]}"#,
        r#"[1, 2]"#,
        r#"{"营业收入": {"2024": 1}} trailing"#,
        // duplicates, where the tree keeps the last one
        r#"{"总部在吉林": true, "总部在吉林": null}"#,
        r#"{"营业收入": {"2024": 1, "2024": null}}"#,
        r#"{"贷款": [{"金额": 1, "金额": 2}]}"#,
        r#"{"$id": "a", "$id": "b"}"#,
        // a number that is not a whole year: which year applies is the tree reader's call
        r#"{"$period": 2024.5, "总部在吉林": true}"#,
    ];
    for t in handed_back {
        assert!(reader.read(t).is_none(), "should be handed back: {t}");
        let _ = same(&prog, &reader, t);
    }
}

/// `$…` metadata is skipped within serde_json's nesting limit (128), as the tree reader reads
/// it: deeper, the streaming reader gives up and the tree reader reports it. It used to skip
/// any depth and accept what the tree reader refuses.
#[test]
fn metadata_nested_past_the_limit_is_left_to_the_tree_reader() {
    let prog = seed_program();
    let reader = FactsReader::new(&prog);
    for depth in [1, 50, 126, 127, 128, 129, 200, 10_000] {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let meta = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            for text in [
                format!(r#"{{"$x": {meta}, "营业收入": {{"2024": "1"}}}}"#),
                format!(r#"{{"贷款": [{{"$note": {meta}, "金额": "1"}}]}}"#),
            ] {
                let slow = parse_facts(&prog, &text).is_ok();
                let fast = same(&prog, &reader, &text).is_some();
                assert!(!fast || slow, "depth {depth}: accepted what the tree reader refuses");
                if depth <= 100 {
                    assert!(fast, "depth {depth}: metadata within the limit is read fast");
                }
                if depth >= 200 {
                    assert!(!slow, "depth {depth}: the tree reader refuses it");
                }
            }
        }
    }
}
