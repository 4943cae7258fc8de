#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    reason = "a test fails loudly on a broken fixture"
)]

//! The snapshot harness. Adding a test means adding a file:
//! - every clause under `policies/` gets an IR snapshot `snapshots/{doc}__{clause}.snap`
//!   (spans left out, so it changes only when the clause's meaning does);
//! - every fixture under `tests/diagnostics/` (first line `// expect: CODE`, or a `.json`
//!   facts file, a `.ledger.json` ledger, or a folder) gets its rendered diagnostics pinned in
//!   `snapshots/diag__{name}.snap`;
//! - a snapshot file that no test produces is an error (orphans fail CI).

use huiqi::diag::render::{render_human, render_short};
use huiqi::diag::{Code, Diagnostic};
use huiqi::eval::facts::{parse_facts, read_facts};
use huiqi::eval::{EvalOptions, Ledger, evaluate};
use huiqi::span::SourceMap;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots");
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

fn snapshot_name(doc: &str, clause: &str) -> String {
    format!("{doc}__{}", clause.replace('*', "star"))
}

fn policies() -> huiqi::Compiled {
    let input = huiqi::load::load(&[PathBuf::from("policies")]).expect("policies load");
    match huiqi::compile(&input) {
        Ok(c) => c,
        Err(f) => panic!("policies/ must compile:\n{}", render_short(&f.diagnostics, &f.sources)),
    }
}

#[test]
fn ir_snapshot_per_clause() {
    let c = policies();
    let view = huiqi::ir::view::program(&c.program);
    assert!(!view.clauses.is_empty());
    for clause in &view.clauses {
        let name = snapshot_name(&clause.policy, &clause.clause);
        settings().bind(|| insta::assert_yaml_snapshot!(name, clause));
    }
}

fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("tests/diagnostics")
        .expect("tests/diagnostics")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(['E', 'W'])))
        .collect();
    v.sort();
    v
}

fn fixture_name(p: &Path) -> String {
    let n = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    n.trim_end_matches(".ledger.json").trim_end_matches(".json").trim_end_matches(".policy").to_string()
}

/// The diagnostics a fixture produces, with the sources to render them.
fn run_fixture(p: &Path) -> (Vec<Diagnostic>, SourceMap) {
    let name = p.to_string_lossy().to_string();
    if name.ends_with(".ledger.json") {
        let text = std::fs::read_to_string(p).expect("read");
        let d = Ledger::from_json(&text, &name).expect_err("a broken ledger");
        return (vec![*d], SourceMap::new());
    }
    if name.ends_with(".json") {
        let c = policies();
        let text = std::fs::read_to_string(p).expect("read");
        let errs = parse_facts(&c.program, &text).expect_err("broken facts");
        return (errs.into_iter().map(|e| e.into_diagnostic(&name)).collect(), SourceMap::new());
    }
    let input = huiqi::load::load(&[p.to_path_buf()]).expect("load fixture");
    match huiqi::compile(&input) {
        Err(f) => (f.diagnostics, f.sources),
        Ok(c) => {
            // evaluation errors show when the fixture's tests run
            let mut diags = c.warnings.clone();
            for t in &c.program.tests {
                let facts = read_facts(&c.program, &t.facts).expect("fixture facts");
                let o = evaluate(
                    &c.program,
                    &facts,
                    &Ledger::new(t.ledger.clone()),
                    EvalOptions { period: t.period.unwrap_or(2024), as_of: t.as_of, explain: false },
                );
                diags.extend(o.errors.iter().map(|e| e.to_diagnostic(&c.program)));
            }
            (diags, c.sources)
        }
    }
}

fn expected_code(p: &Path) -> String {
    fixture_name(p).split('_').next().unwrap_or_default().to_string()
}

#[test]
fn diagnostics_corpus() {
    let all = fixtures();
    assert!(all.len() >= Code::ALL.len(), "every code has a fixture");
    for p in all {
        let (diags, sources) = run_fixture(&p);
        let want = expected_code(&p);
        if p.extension().is_some_and(|e| e == "policy") {
            let text = std::fs::read_to_string(&p).expect("read");
            let header = text.lines().next().unwrap_or_default();
            assert_eq!(header, format!("// expect: {want}"), "{}: first line names the code", p.display());
        }
        assert!(
            diags.iter().any(|d| d.code.id() == want),
            "{}: expected {want}, got {:?}",
            p.display(),
            diags.iter().map(|d| d.code.id()).collect::<Vec<_>>()
        );
        let rendered =
            format!("{}\n{}", render_short(&diags, &sources), render_human(&diags, &sources, false));
        let name = format!("diag__{}", fixture_name(&p));
        settings().bind(|| insta::assert_snapshot!(name, rendered));
    }
}

#[test]
fn every_code_has_a_fixture_and_a_doc_entry() {
    let docs = std::fs::read_to_string("docs/diagnostics.md").expect("docs/diagnostics.md");
    let names: Vec<String> = fixtures().iter().map(|p| fixture_name(p)).collect();
    for code in Code::ALL {
        let id = code.id();
        assert!(
            names.iter().any(|n| n.starts_with(&format!("{id}_"))),
            "{id} has no fixture in tests/diagnostics/"
        );
        assert!(docs.contains(&format!("## {id}")), "{id} has no `## {id}` entry in docs/diagnostics.md");
    }
}

#[test]
fn no_orphaned_snapshots() {
    let c = policies();
    let mut expected: BTreeSet<String> = huiqi::ir::view::program(&c.program)
        .clauses
        .iter()
        .map(|x| snapshot_name(&x.policy, &x.clause))
        .collect();
    expected.extend(fixtures().iter().map(|p| format!("diag__{}", fixture_name(p))));
    for e in std::fs::read_dir("examples").expect("examples/") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "json") {
            expected
                .insert(format!("example__{}", p.file_stem().and_then(|s| s.to_str()).unwrap_or_default()));
        }
    }
    let mut orphans = Vec::new();
    for e in std::fs::read_dir("snapshots").expect("snapshots/") {
        let p = e.expect("entry").path();
        let n = p.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if let Some(stem) = n.strip_suffix(".snap")
            && !expected.contains(stem)
        {
            orphans.push(n);
        }
    }
    assert!(orphans.is_empty(), "orphaned snapshot files (delete them or restore their source): {orphans:?}");
}
