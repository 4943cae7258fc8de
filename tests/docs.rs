#![allow(clippy::expect_used, clippy::panic, reason = "a test fails loudly on a broken example")]
//! The docs are tested: every fenced `huiqi` block in docs/language.md, its Chinese edition
//! docs/language.zh.md and README.md compiles
//! together with `policies/`; every `huiqi-error` block fails to compile.

use huiqi::diag::render::render_short;
use std::path::PathBuf;

fn blocks(path: &str) -> Vec<(String, String, usize)> {
    let text = std::fs::read_to_string(path).expect("doc");
    let mut out = Vec::new();
    let mut cur: Option<(String, String, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        match &mut cur {
            None => {
                if let Some(info) = t.strip_prefix("```")
                    && (info == "huiqi" || info == "huiqi-error")
                {
                    cur = Some((info.to_string(), String::new(), i + 1));
                }
            }
            Some((_, body, _)) => {
                if t.starts_with("```") {
                    out.extend(cur.take());
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    out
}

fn compile_with_policies(block: &str, name: &str) -> Result<(), String> {
    let mut input = huiqi::load::load(&[PathBuf::from("policies")]).expect("policies");
    input.rule_files.push((name.to_string(), block.to_string()));
    match huiqi::compile(&input) {
        Ok(c) => {
            // only the example's own tests: other documents' totals change with the example's clauses
            let mut r = huiqi::testing::run(&c.program, &c.sources);
            r.cases.retain(|case| case.location.starts_with(name));
            if r.failed() == 0 { Ok(()) } else { Err(huiqi::testing::render(&r)) }
        }
        Err(f) => Err(render_short(&f.diagnostics, &f.sources)),
    }
}

#[test]
fn language_reference_examples_compile() {
    for doc in ["docs/language.md", "docs/language.zh.md", "README.md"] {
        let bs = blocks(doc);
        if doc.starts_with("docs/language") {
            assert!(bs.len() >= 6, "the reference has its examples");
        }
        for (kind, body, line) in bs {
            let name = format!("{doc}:{line}");
            let result = compile_with_policies(&body, &name);
            match kind.as_str() {
                "huiqi" => {
                    if let Err(e) = result {
                        panic!("{name}: example does not compile:\n{e}");
                    }
                }
                _ => assert!(result.is_err(), "{name}: a `huiqi-error` example must fail"),
            }
        }
    }
}

/// The Chinese edition has the same examples as the reference, written with Chinese
/// keywords: converted to English keywords, each is the reference's block (up to layout).
#[test]
fn the_chinese_edition_has_the_same_examples_in_chinese_keywords() {
    use huiqi::syntax::keywords::{Lang, convert};
    let en = blocks("docs/language.md");
    let zh = blocks("docs/language.zh.md");
    assert_eq!(en.len(), zh.len(), "the same number of examples");
    // the words outside comments, each string as `""` (labels and reasons may be translated)
    let words = |t: &str| -> Vec<String> {
        let mut out = String::new();
        let mut in_string = false;
        let code = t.lines().filter(|l| !l.trim_start().starts_with("//"));
        for c in code.flat_map(|l| l.chars().chain(['\n'])) {
            if c == '"' {
                in_string = !in_string;
                out.push_str(if in_string { " \"" } else { "\" " });
            } else if !in_string {
                out.push(c);
            }
        }
        out.split_whitespace().map(String::from).collect()
    };
    for ((ek, eb, el), (zk, zb, zl)) in en.iter().zip(&zh) {
        assert_eq!(ek, zk, "language.md:{el} and language.zh.md:{zl} are the same kind of block");
        assert_ne!(eb, zb, "language.zh.md:{zl} is written with Chinese keywords");
        let back = convert(zb, Lang::En).unwrap_or_else(|e| panic!("language.zh.md:{zl}: {}", e.message));
        assert_eq!(words(&back), words(eb), "language.zh.md:{zl} is language.md:{el} in Chinese keywords");
    }
}
