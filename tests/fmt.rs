#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used, reason = "tests fail loudly")]
//! `huiqi fmt`: idempotent, white space only, the IR of the formatted file equals the IR of the
//! original, every file in policies/ already formatted, and `--check` exit codes.

use std::path::PathBuf;
use std::process::Command;

fn ir_json(name: &str, text: &str) -> String {
    let c = huiqi::compile(&huiqi::Input::from_rules([(name.to_string(), text.to_string())])).unwrap_or_else(
        |f| panic!("{name}: {}", huiqi::diag::render::render_short(&f.diagnostics, &f.sources)),
    );
    let t = huiqi::testing::run(&c.program, &c.sources);
    assert_eq!(t.failed(), 0, "{name}: {}", huiqi::testing::render(&t));
    serde_json::to_string(&huiqi::ir::view::program(&c.program)).unwrap()
}

fn corpus() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("tests/fmt")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "policy"))
        .collect();
    v.sort();
    assert!(v.len() >= 3);
    v
}

#[test]
fn messy_inputs_format_idempotently_without_changing_meaning() {
    for p in corpus() {
        let text = std::fs::read_to_string(&p).unwrap();
        let once = huiqi::fmt::format_source(&text).expect("formats");
        let twice = huiqi::fmt::format_source(&once).expect("formats again");
        assert_eq!(once, twice, "{}: formatting twice equals formatting once", p.display());
        assert_ne!(once, text, "{}: the corpus is messy on purpose", p.display());
        let name = p.display().to_string();
        assert_eq!(ir_json(&name, &text), ir_json(&name, &once), "{name}: same IR");
        for comment in ["// 行尾注释", "/* 块注释  保留 */", "多行块注释", "// 按期末版本"]
        {
            assert_eq!(text.contains(comment), once.contains(comment), "{name}: comment `{comment}` kept");
        }
    }
}

#[test]
fn policies_are_formatted() {
    for p in huiqi::load::rule_files(&["policies".into()]).unwrap() {
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            huiqi::fmt::format_source(&text).as_deref(),
            Some(text.as_str()),
            "{}: run `huiqi fmt`",
            p.display()
        );
    }
}

#[test]
fn check_exits_1_when_a_file_would_change_and_fmt_fixes_it() {
    let dir = std::env::temp_dir().join(format!("huiqi-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("m.policy");
    std::fs::copy("tests/fmt/messy_lists.policy", &f).unwrap();
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_huiqi")).args(args).output().unwrap();
    let o = run(&["fmt", "--check", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("m.policy"));
    assert_eq!(run(&["fmt", dir.to_str().unwrap()]).status.code(), Some(0));
    assert_eq!(run(&["fmt", "--check", dir.to_str().unwrap()]).status.code(), Some(0));
    // a file that does not parse is reported and left alone
    std::fs::write(dir.join("bad.policy"), "policy P \"p\" {").unwrap();
    let o = run(&["fmt", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(dir.join("bad.policy")).unwrap(), "policy P \"p\" {");
}

/// Formats, formats again to the same text, and keeps the meaning.
fn formats_keeping_meaning(name: &str, text: &str) -> String {
    let once = huiqi::fmt::format_source(text).unwrap_or_else(|| panic!("{name}: formats"));
    assert_eq!(huiqi::fmt::format_source(&once).as_deref(), Some(once.as_str()), "{name}: idempotent");
    assert_eq!(ir_json(name, text), ir_json(name, &once), "{name}: same IR");
    once
}

const TIERS_WITH: &str = "fact x: money \"x\"\npolicy P \"p\" {\n  clause 1 \"c\" {\n    quote \"q\"\n    responsible r\n    amount tiers x pay highest {\n      达到 1亿 => 30万 COMMENT\n      达到 10亿    => 100万\n      达到 100亿 => 200万\n    }\n  }\n}\n";

/// A block comment or a string that spans lines is one token: the formatter used to align
/// arrows by the lines of its output and subtract past zero (a panic) or refuse the file.
#[test]
fn block_comments_and_strings_that_span_lines_format() {
    for (name, comment) in [
        ("block comment", "/* 第一行\n   第二行很长很长很长很长很长很长很长很长很长 */"),
        ("block comment with CRLF", "/* a\r\n  b */"),
        ("block comment first", "/*\n*/"),
    ] {
        let text = TIERS_WITH.replace("COMMENT", comment);
        let once = formats_keeping_meaning(name, &text);
        assert!(once.contains(comment), "{name}: the comment is kept as written:\n{once}");
    }
    let text = TIERS_WITH
        .replace(" COMMENT", "")
        .replace("quote \"q\"", "quote \"第一句。\n第二句，\r\n  第三句。\"");
    let once = formats_keeping_meaning("string", &text);
    assert!(once.contains("quote \"第一句。\n第二句，\r\n  第三句。\""), "{once}");
    let text = "fact x: money \"x\"\ndefine d = x /* a\nb */ + x\n";
    formats_keeping_meaning("comment inside an expression", text);
}

/// White space as the grammar has it: a lone `\r` ends a line (and a `//` comment), `\r\n` is
/// one line break, and a character the grammar does not take as white space (a no-break
/// space, a vertical tab) is kept, so that formatting never makes a broken file parse.
#[test]
fn formatting_treats_white_space_as_the_grammar_does() {
    let once = formats_keeping_meaning("lone CR", "// 注释\rfact x: money \"x\"\rdefine d = x + x\r");
    assert_eq!(once, "// 注释\nfact x: money \"x\"\ndefine d = x + x\n");
    let once = formats_keeping_meaning("CRLF", "fact x: money \"x\"\r\ndefine d =  x + x // 注释  \r\n");
    assert_eq!(once, "fact x: money \"x\"\ndefine d = x + x // 注释\n");
    let once = formats_keeping_meaning("ideographic space", "fact\u{3000}x: money \"x\"\n");
    assert_eq!(once, "fact x: money \"x\"\n");
    let parses = |t: &str| huiqi::syntax::parse(huiqi::span::FileId(0), t).is_ok();
    for broken in
        ["fact\u{a0}x: money\n", "fact x:\u{b}money\n", "fact x: money\u{2028}\n", "fact x: money \u{85}\n"]
    {
        assert!(!parses(broken), "{broken:?} does not parse");
        if let Some(out) = huiqi::fmt::format_source(broken) {
            assert!(!parses(&out), "{broken:?} formatted into a file that parses: {out:?}");
        }
    }
    // a string or comment open to the end of the file is not formatted
    assert_eq!(huiqi::fmt::format_source("fact x: money \"x"), None);
    assert_eq!(huiqi::fmt::format_source("fact x: money /* x"), None);
}

/// Inputs the `fmt` fuzz target found (`tests/fuzz/fmt/`, each named for what it broke): each
/// keeps the target's properties. `align-subtract-overflow`: on the `fmt.rs` before issue 10,
/// aligning its arrows subtracted past zero (a panic).
#[test]
fn fuzz_findings_keep_the_formatter_properties() {
    let parses = |t: &str| huiqi::syntax::parse(huiqi::span::FileId(0), t).is_ok();
    let mut n = 0;
    for e in std::fs::read_dir("tests/fuzz/fmt").unwrap() {
        let p = e.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
        n += 1;
        let Some(once) = huiqi::fmt::format_source(&text) else {
            assert!(!parses(&text), "{}: a text that parses formats", p.display());
            continue;
        };
        assert_eq!(parses(&once), parses(&text), "{}: parses as before", p.display());
        assert_eq!(
            huiqi::fmt::format_source(&once).as_deref(),
            Some(once.as_str()),
            "{}: idempotent",
            p.display()
        );
    }
    assert!(n >= 1);
}
