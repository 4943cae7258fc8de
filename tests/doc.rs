#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]
//! `huiqi doc` (the literate site) and `eval --format html` (the calculation sheet), run as a
//! user runs them: the real binary, files on disk.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn huiqi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huiqi")).args(args).output().expect("run huiqi")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A fresh folder under the temporary folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("huiqi-doc-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Builds the site of `policies` into `out`; panics with the output when it fails.
fn site(policies: &Path, out: &Path) {
    let o = huiqi(&["doc", policies.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Copies a folder recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The element that starts at the first match of `open` and ends at its matching `close`
/// (elements of that name nest).
fn element<'a>(html: &'a str, open: &str, tag: &str) -> &'a str {
    let start = html.find(open).unwrap_or_else(|| panic!("no `{open}` in the page"));
    let (o, c) = (format!("<{tag}"), format!("</{tag}>"));
    let mut depth = 0;
    let mut i = start;
    loop {
        let next_o = html[i..].find(&o).map(|x| x + i);
        let next_c = html[i..].find(&c).map(|x| x + i).expect("a closing tag");
        match next_o {
            Some(n) if n < next_c => {
                depth += 1;
                i = n + o.len();
            }
            _ => {
                depth -= 1;
                i = next_c + c.len();
                if depth == 0 {
                    return &html[start..i];
                }
            }
        }
    }
}

const DOCS: &[&str] = &["E23", "K22", "T13", "S22", "A24", "BJ20", "HD20", "GD20", "GZ19", "TH23"];

#[test]
fn the_site_of_the_policies() {
    let out = scratch("site");
    site(Path::new("policies"), &out);
    let index = read(&out.join("index.html"));
    assert!(index.starts_with("<!DOCTYPE html>"), "{index}");
    for key in DOCS {
        assert!(
            index.contains(&format!("<a class=\"doc\" href=\"doc/{key}.html\">{key}</a>")),
            "{key} in the index"
        );
        assert!(out.join(format!("doc/{key}.html")).is_file(), "doc/{key}.html");
    }
    assert!(index.contains("href=\"calculator.html\""), "the index links the calculator");
    assert!(index.contains("吉政办发〔2023〕10号"), "the index shows document numbers");

    let e23 = read(&out.join("doc/E23.html"));
    // the quote of E23.5, in the official text, marked and linked to its card
    let mark_at = e23.find("年产值（主营收入）首次超过").expect("E23.5's sentence in the page");
    let open = e23[..mark_at].rfind("<mark").expect("inside a mark");
    assert!(e23[..mark_at].rfind("</mark>").is_none_or(|c| c < open), "the mark is still open");
    let mark = &e23[open..open + e23[open..].find("</mark>").unwrap()];
    assert!(mark.starts_with("<mark class=\"quote\" data-clause=\""), "{mark}");
    let clauses = &mark[mark.find("data-clause=\"").unwrap() + 13..];
    let clauses = &clauses[..clauses.find('"').unwrap()];
    assert!(clauses.split(' ').any(|c| c == "E23.5"), "{mark}");
    assert!(mark.contains("<a href=\"#clause-E23.5\">"), "{mark}");

    // its card: the tiers E23.5 gives, as the text says (1亿/5亿/10亿 → 30万/50万/100万)
    let card = element(&e23, "<section class=\"card\" id=\"clause-E23.5\"", "section");
    assert!(card.contains("鼓励企业壮大规模"), "{card}");
    let tiers = element(card, "<table class=\"tiers\">", "table");
    for (bound, amount) in [("达到 1亿", "30万"), ("达到 5亿", "50万"), ("达到 10亿", "100万")] {
        assert!(
            tiers.contains(&format!("<td class=\"bound\">{bound}</td><td class=\"amount\">{amount}</td>")),
            "{bound} → {amount} in {tiers}"
        );
    }
    assert!(card.contains("<pre class=\"code\">"), "the encoding");
    assert!(card.contains("<span class=\"tok-threshold\">达到</span>"), "threshold words highlighted");
    assert!(card.contains("<span class=\"tok-keyword\">amount</span>"), "keywords highlighted");
    assert!(card.contains("以上 includes the number"), "the reading comments");
    assert!(card.contains("quote-check verified"), "the quote check");
    assert!(
        card.contains("<table class=\"tests\">") && card.contains("E23.5 首次达到1亿：30万"),
        "its tests"
    );
    assert!(card.contains("class=\"result pass\""), "the tests pass");
    assert!(card.contains("class=\"coverage covered\""), "coverage");

    // sentences no clause quotes are marked, and counted
    assert!(e23.contains("<span class=\"unquoted\">5. 鼓励企业壮大规模。</span>"), "the article's heading");
    assert!(e23.contains("id=\"unquoted-count\" data-count=\""), "the count");

    // parameters with their versions (BJ20 has a versioned one)
    let bj = read(&out.join("doc/BJ20.html"));
    assert!(bj.contains("<table class=\"params\">") && bj.contains("便民网点租金支持比例上限"), "parameters");

    // nothing external
    for page in [&index, &e23, &bj] {
        assert!(
            !page.contains("http://") && !page.contains("https://") && !page.contains("src=\""),
            "no URL"
        );
    }
}

#[test]
fn the_site_is_the_same_bytes_every_time() {
    let (a, b) = (scratch("det-a"), scratch("det-b"));
    site(Path::new("policies"), &a);
    site(Path::new("policies"), &b);
    let mut names: Vec<String> = std::fs::read_dir(a.join("doc"))
        .unwrap()
        .map(|e| format!("doc/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    names.sort();
    names.push("index.html".into());
    assert!(names.len() > 5);
    for n in names {
        assert!(read(&a.join(&n)) == read(&b.join(&n)), "{n} differs between two runs");
    }
}

#[test]
fn rule_text_is_escaped() {
    let dir = scratch("escape");
    copy_dir(Path::new("policies"), &dir.join("policies"));
    let e23 = dir.join("policies/E23.policy");
    let t = read(&e23).replacen(
        "    // Thresholds:",
        "    // reviewer: 1亿 <script>alert(1)</script> & \"quoted\"\n    // Thresholds:",
        1,
    );
    std::fs::write(&e23, t).unwrap();
    let out = dir.join("site");
    site(&dir.join("policies"), &out);
    let page = read(&out.join("doc/E23.html"));
    assert!(!page.contains("<script>"), "markup from a comment is written as text");
    assert!(page.contains("1亿 &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot;"));
}

#[test]
fn a_broken_rule_set_writes_no_site() {
    let dir = scratch("broken");
    std::fs::write(
        dir.join("bad.policy"),
        "fact x: money\npolicy P \"p\" {\n  clause 1 \"c\" {\n    amount y\n  }\n}\n",
    )
    .unwrap();
    let out = dir.join("site");
    let o = huiqi(&["doc", dir.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("E0201"), "the diagnostic as check prints it: {}", text(&o));
    assert!(text(&o).contains("`y`"), "{}", text(&o));
    assert!(!out.join("index.html").exists());
}

#[test]
fn an_unwritable_folder_is_named() {
    let dir = scratch("unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let out = file.join("site");
    let o = huiqi(&["doc", "policies", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains(out.to_str().unwrap()) && t.contains("--out DIR"), "{t}");
}

#[test]
fn the_calculation_sheet() {
    for facts in ["examples/长春光学精密.json", "examples/光电子科技.json"] {
        sheet_agrees_with_json(facts);
    }
}

fn sheet_agrees_with_json(facts: &str) {
    let o = huiqi(&["eval", "--facts", facts, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let o = huiqi(&["eval", "--facts", facts, "--format", "html"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let html = String::from_utf8(o.stdout).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("@media print"), "a printable page");
    assert!(!html.contains("http://") && !html.contains("https://"), "self-contained");
    let name = json["enterprise"].as_str().unwrap();
    assert!(html.contains(&format!("<dd class=\"enterprise\">{name}</dd>")), "the enterprise");
    assert!(html.contains(&format!("<dd class=\"period\">{}</dd>", json["period"])), "the period");
    let results = json["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let cref = format!("{}.{}", r["policy"].as_str().unwrap(), r["clause"].as_str().unwrap());
        let section = element(&html, &format!("<section class=\"result\" id=\"result-{cref}\""), "section");
        let status = r["status"].as_str().unwrap();
        assert!(section.contains(&format!("data-status=\"{status}\"")), "{cref}: {section}");
        if let Some(a) = r["amount"].as_str() {
            assert!(
                section.contains(&format!("data-amount=\"{a}\">{a}</span>")),
                "{cref} amount {a}: {section}"
            );
        }
        for step in r["explanation"].as_array().unwrap() {
            if step["kind"] != "quote" {
                let t = step["text"]
                    .as_str()
                    .unwrap()
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;");
                let t = t.replace('"', "&quot;").replace('\'', "&#39;");
                assert!(section.contains(&t), "{cref}: step `{t}` in {section}");
            }
        }
    }
    let total = json["total"].as_str().unwrap();
    assert!(html.contains(&format!("data-total=\"{total}\">{total}</span>")), "the total {total}");
    // E23.5's quote is on the sheet where the clause is evaluated
    assert!(html.contains("<blockquote class=\"quote\">"), "quotes");
}

#[test]
fn the_sheet_is_for_one_enterprise() {
    let dir = scratch("pop");
    let p = dir.join("pop.jsonl");
    std::fs::write(
        &p,
        "{\"行业\": \"电子信息制造业\", \"$period\": 2024}\n{\"行业\": \"食品制造业\", \"$period\": 2024}\n",
    )
    .unwrap();
    let o = huiqi(&["eval", "--facts", p.to_str().unwrap(), "--format", "html"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("one enterprise"), "{}", text(&o));
}
