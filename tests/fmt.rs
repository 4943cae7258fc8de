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
