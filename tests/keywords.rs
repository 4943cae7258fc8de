#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used, reason = "tests fail loudly")]
//! Chinese keywords: every file in policies/ converted to Chinese keywords (`huiqi fmt
//! --keywords zh`) compiles to the same IR with the same test results, and converted back is
//! byte for byte the original; the CLI does the same on disk.

use huiqi::syntax::keywords::{Lang, convert};
use std::path::PathBuf;
use std::process::Command;

/// What `huiqi fmt --keywords LANG` makes of a file's text.
fn to(lang: Lang, text: &str) -> String {
    let c = convert(text, lang).expect("parses");
    huiqi::fmt::format_source(&c).expect("formats")
}

fn compile(files: Vec<(String, String)>) -> (String, String) {
    let input =
        huiqi::Input { rule_files: files, ..huiqi::load::load(&[PathBuf::from("policies")]).unwrap() };
    let c = huiqi::compile(&input)
        .unwrap_or_else(|f| panic!("{}", huiqi::diag::render::render_short(&f.diagnostics, &f.sources)));
    assert!(c.warnings.iter().all(|w| w.code != huiqi::diag::Code::MixedKeywords), "no file mixes keywords");
    let t = huiqi::testing::run(&c.program, &c.sources);
    assert_eq!(t.failed(), 0, "{}", huiqi::testing::render(&t));
    (serde_json::to_string(&huiqi::ir::view::program(&c.program)).unwrap(), format!("{}", t.passed()))
}

#[test]
fn policies_convert_to_chinese_and_back_byte_for_byte_with_the_same_ir() {
    let files: Vec<(String, String)> = huiqi::load::rule_files(&["policies".into()])
        .unwrap()
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    assert!(files.len() >= 20);
    let zh: Vec<(String, String)> = files.iter().map(|(n, t)| (n.clone(), to(Lang::Zh, t))).collect();
    for ((name, en), (_, z)) in files.iter().zip(&zh) {
        assert_ne!(en, z, "{name}: has keywords to convert");
        // no English keyword is left: converting to Chinese again changes nothing
        assert_eq!(&to(Lang::Zh, z), z, "{name}: all Chinese");
        assert_eq!(&to(Lang::En, z), en, "{name}: en → zh → en is byte for byte the original");
        for comment in en.lines().filter_map(|l| l.find("//").and_then(|i| l.get(i..))) {
            assert!(z.contains(comment.trim_end()), "{name}: comment `{comment}` kept");
        }
    }
    assert_eq!(compile(files), compile(zh), "the Chinese rule set compiles to the same IR and test results");
}

#[test]
fn mixing_is_warned_and_fmt_converts_files_on_disk() {
    let dir = std::env::temp_dir().join(format!("huiqi-kw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let original = std::fs::read_to_string("policies/E23.tests.policy").unwrap();
    let f = dir.join("E23.tests.policy");
    std::fs::write(&f, &original).unwrap();
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_huiqi")).args(args).output().unwrap();
    let path = f.to_str().unwrap();
    assert_eq!(run(&["fmt", "--check", "--keywords", "zh", path]).status.code(), Some(1));
    assert_eq!(run(&["fmt", "--keywords", "zh", path]).status.code(), Some(0));
    let zh = std::fs::read_to_string(&f).unwrap();
    assert!(zh.contains("测试 \"") && zh.contains("预期 ") && !zh.contains("expect "), "{zh}");
    assert_eq!(run(&["fmt", "--check", "--keywords", "zh", path]).status.code(), Some(0));
    assert_eq!(run(&["fmt", "--check", path]).status.code(), Some(0), "a Chinese file is formatted");
    assert_eq!(run(&["fmt", "--keywords", "en", path]).status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), original);
    // a file mixing the two is warned about, with the command that fixes it
    let mixed = original.replacen("expect ", "预期 ", 1);
    let d = huiqi::syntax::parse(huiqi::span::FileId(0), &mixed).expect("parses").warnings;
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].code.id(), "W0113");
    assert!(d[0].help.as_deref().unwrap_or("").contains("huiqi fmt --keywords en"), "{:?}", d[0].help);
}

/// `如果 … 否则 如果 …` chains nest like `if … else if …`: a long one is refused before the
/// parser recurses, never a stack overflow.
#[test]
fn chinese_if_chains_are_counted_for_nesting() {
    let chain = "如果 真 则 1 否则 ".repeat(300) + "0";
    let text = format!("定义 d = {chain}\n");
    let e = huiqi::syntax::parse(huiqi::span::FileId(0), &text).expect_err("too deep");
    assert_eq!(e[0].code.id(), "E0102");
}

/// `expect error CODE` passes only when that code occurs (facts rejected, or a clause fails),
/// and negative numbers in test facts are written plainly.
#[test]
fn tests_can_expect_errors_and_write_negative_numbers() {
    let rules = r#"
fact 利润: series money signed "利润总额"
fact 人数: number "职工人数"
policy N "示例" {
  clause 1 "扭亏奖励" {
    when 利润[period - 1] 低于 0元 and 利润 超过 0元
    amount 10万
  }
  clause 2 "人均" { amount 100万 / 人数 }
}
test "扭亏" { period 2024 facts { 利润: { 2023: -50万, 2024: 0.5万 }, 人数: 4 } expect N.1 granted 10万 }
test "人数为负" { period 2024 facts { 人数: -3 } expect error E0405 }
test "人数为零" { period 2024 facts { 人数: 0 } expect error E0502 }
test "预期错误而无错误" { period 2024 facts { 人数: 5 } expect error E0502 }
test "数据被拒绝时的其他预期" { period 2024 facts { 人数: -1 } expect error E0405 expect N.2 granted 1万 }
"#;
    for lang in [Lang::En, Lang::Zh] {
        let text = convert(rules, lang).unwrap();
        let c = huiqi::compile(&huiqi::Input::from_rules([("n.policy".to_string(), text)]))
            .unwrap_or_else(|f| panic!("{}", huiqi::diag::render::render_short(&f.diagnostics, &f.sources)));
        let r = huiqi::testing::run(&c.program, &c.sources);
        let failed: Vec<&str> =
            r.cases.iter().filter(|c| !c.failures.is_empty()).map(|c| c.name.as_str()).collect();
        assert_eq!(failed, ["预期错误而无错误", "数据被拒绝时的其他预期"], "{}", huiqi::testing::render(&r));
        let out = huiqi::testing::render(&r);
        assert!(out.contains("expected: error E0502\n  actual:   no error"), "{out}");
        assert!(out.contains("nothing evaluated, the facts are rejected: E0405"), "{out}");
    }
}
