//! huiqi in the browser: the core library compiled to WebAssembly, driven from JavaScript by
//! the glue `wasm-bindgen --target web` generates (`pkg/huiqi_wasm.js`).
//!
//! Invariant: this crate adds no meaning. It turns JSON text into calls of `huiqi::Rules` and
//! their answers back into JSON text, so an evaluation here is the document `huiqi eval
//! --format json` prints, to the byte (the same `EvalReport::to_json_text`). Amounts cross
//! the boundary only as decimal strings inside that text; nothing is ever an `f64`.
//!
//! Every export returns an [`Answer`]: `ok` and `json`. When `ok` is false, `json` is
//! `{"diagnostics": [...]}`, each with `code`, `severity`, `file`, `line`, `column`, `path`,
//! `message` and `help` (`huiqi::Located`). Nothing panics on bad input; should a bug panic
//! anyway, the hook keeps its message for [`last_panic`] before the trap reaches JavaScript.
//!
//! The functions without `#[wasm_bindgen]` (`compile_json`, …) are the same logic on plain
//! Rust types, so it is tested natively (`cargo test -p huiqi-wasm`).

use huiqi::eval::Lang;
use huiqi::{Located, Rules};
use serde::Deserialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use wasm_bindgen::prelude::*;

/// What every export returns: whether it succeeded, and its JSON text.
#[wasm_bindgen]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    ok: bool,
    json: String,
}

#[wasm_bindgen]
impl Answer {
    /// True when `json` is the answer; false when it is `{"diagnostics": [...]}`.
    #[wasm_bindgen(getter)]
    pub fn ok(&self) -> bool {
        self.ok
    }

    /// The answer, or the diagnostics, as JSON text.
    #[wasm_bindgen(getter)]
    pub fn json(&self) -> String {
        self.json.clone()
    }
}

impl Answer {
    fn success(json: String) -> Answer {
        Answer { ok: true, json }
    }

    fn failed(diagnostics: &[Located]) -> Answer {
        let json = serde_json::to_string(&serde_json::json!({ "diagnostics": diagnostics }))
            .unwrap_or_else(|_| r#"{"diagnostics":[]}"#.to_string());
        Answer { ok: false, json }
    }

    fn problem(code: &str, file: &str, message: String, help: &str) -> Answer {
        Answer::failed(&[Located {
            code: code.to_string(),
            severity: "error".to_string(),
            file: file.to_string(),
            line: None,
            column: None,
            path: None,
            message,
            help: Some(help.to_string()),
        }])
    }
}

thread_local! {
    /// Compiled rule sets by handle (index); `release` empties a slot.
    static RULES: RefCell<Vec<Option<Rules>>> = const { RefCell::new(Vec::new()) };
    /// The message of the last panic, kept by the hook installed at start.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the panic hook when the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let text = info.to_string();
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
    }));
}

/// The message of the last panic (a bug: please report it with the facts), if any.
#[wasm_bindgen]
pub fn last_panic() -> Option<String> {
    LAST_PANIC.with(|p| p.borrow().clone())
}

/// The version of huiqi compiled into this module.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Compiles a rule set from `[{"path": "E23.policy", "text": "…"}, …]`: `*.policy` files are
/// rule files (compiled in path order, as `huiqi` reads a folder), `*.txt` files are the
/// source texts quotes are verified against. `json` is `{"handle": N, "warnings": [...]}`.
#[wasm_bindgen]
pub fn compile(files_json: &str) -> Answer {
    match compile_json(files_json) {
        Ok((rules, warnings)) => {
            let handle = RULES.with(|r| {
                let mut r = r.borrow_mut();
                r.push(Some(rules));
                r.len() - 1
            });
            Answer::success(serde_json::json!({ "handle": handle, "warnings": warnings }).to_string())
        }
        Err(a) => a,
    }
}

/// Forgets a compiled rule set.
#[wasm_bindgen]
pub fn release(handle: u32) {
    RULES.with(|r| {
        if let Some(slot) = r.borrow_mut().get_mut(handle as usize) {
            *slot = None;
        }
    });
}

/// The facts vocabulary of a compiled rule set (`huiqi::ir::view::VocabularyView`), with
/// `clauses` (policy, clause, title, kind, quote) for the page's headings.
#[wasm_bindgen]
pub fn vocabulary(handle: u32) -> Answer {
    with_rules(handle, vocabulary_json)
}

/// Evaluates one enterprise: `facts_json` as `huiqi eval --facts` reads it; `options_json`
/// is `{"period": 2024, "as_of": "2024-06-30", "ledger": {...}, "lang": "zh"}` (every key
/// optional). `json` is the `huiqi eval --format json` document.
#[wasm_bindgen]
pub fn evaluate(handle: u32, facts_json: &str, options_json: &str) -> Answer {
    with_rules(handle, |rules| evaluate_json(rules, facts_json, options_json))
}

fn with_rules(handle: u32, f: impl FnOnce(&Rules) -> Answer) -> Answer {
    RULES.with(|r| match r.borrow().get(handle as usize) {
        Some(Some(rules)) => f(rules),
        _ => Answer::problem(
            "E0104",
            "rules",
            format!("no compiled rule set has the handle {handle}"),
            "compile the rule files first and pass the handle `compile` returned",
        ),
    })
}

#[derive(Deserialize)]
struct FileIn {
    path: String,
    text: String,
}

/// The rule set of `[{path, text}]`, with its warnings, or the diagnostics.
pub fn compile_json(files_json: &str) -> Result<(Rules, Vec<Located>), Answer> {
    let files: Vec<FileIn> = serde_json::from_str(files_json).map_err(|e| {
        Answer::problem(
            "E0401",
            "rules",
            format!("the rule files are not a list of files: {e}"),
            r#"pass JSON text such as [{"path": "E23.policy", "text": "policy E23 …"}]"#,
        )
    })?;
    let mut input = huiqi::Input::default();
    let mut rule_files = Vec::new();
    let mut sources = BTreeMap::new();
    for f in files {
        if f.path.ends_with(".policy") {
            rule_files.push((f.path, f.text));
        } else if f.path.ends_with(".txt") {
            let name = f.path.rsplit('/').next().unwrap_or(&f.path).to_string();
            sources.insert(name, f.text);
        }
    }
    if rule_files.is_empty() {
        return Err(Answer::problem(
            "E0104",
            "rules",
            "no rule files: none of the files given ends in `.policy`".to_string(),
            "pass the rule set's `*.policy` files (and its `sources/*.txt`)",
        ));
    }
    rule_files.sort();
    input.rule_files = rule_files;
    input.source_texts = sources;
    match Rules::compile(&input) {
        Ok(rules) => {
            let warnings = rules.warnings_located();
            Ok((rules, warnings))
        }
        Err(e) => Err(Answer::failed(&e.located())),
    }
}

/// The vocabulary document of [`vocabulary`].
pub fn vocabulary_json(rules: &Rules) -> Answer {
    let doc = serde_json::json!({
        "vocabulary": rules.vocabulary(),
        "clauses": rules.clauses(),
    });
    Answer::success(doc.to_string())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Options {
    period: Option<i32>,
    as_of: Option<String>,
    ledger: Option<serde_json::Value>,
    lang: Option<String>,
}

/// The document of [`evaluate`].
pub fn evaluate_json(rules: &Rules, facts_json: &str, options_json: &str) -> Answer {
    let options: Options = if options_json.trim().is_empty() {
        Options::default()
    } else {
        match serde_json::from_str(options_json) {
            Ok(o) => o,
            Err(e) => {
                return Answer::problem(
                    "E0401",
                    "options",
                    format!("the options are not understood: {e}"),
                    r#"pass JSON text such as {"period": 2024, "as_of": "2024-06-30", "lang": "zh"}; every key may be left out"#,
                );
            }
        }
    };
    let lang = match options.lang.as_deref() {
        None | Some("zh") => Lang::Zh,
        Some("en") => Lang::En,
        Some(other) => {
            return Answer::problem(
                "E0401",
                "options",
                format!("`lang` is `{other}`, which is not a language of the explanations"),
                r#"write "lang": "zh" (Chinese) or "lang": "en" (English)"#,
            );
        }
    };
    let ledger = options.ledger.filter(|l| !l.is_null()).map(|l| l.to_string());
    match rules.evaluate_json_at(
        facts_json,
        options.period,
        options.as_of.as_deref(),
        ledger.as_deref(),
        lang,
    ) {
        Ok(report) => Answer::success(report.to_json_text()),
        Err(e) => Answer::failed(&e.located()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests fail loudly")]
    use super::*;

    const DEMO: &str = r#"[{"path": "demo.policy", "text": "fact 营业收入: series money\npolicy D \"示例\" {\n  clause 1 \"奖励\" {\n    quote \"营业收入超过1亿元的，奖励10万元。\"\n    when 营业收入 超过 1亿\n    amount 10万\n  }\n}\n"}]"#;

    #[test]
    fn compiles_evaluates_and_answers_as_the_library() {
        let (rules, warnings) = compile_json(DEMO).unwrap();
        assert!(warnings.iter().all(|w| w.severity == "warning"));
        let facts = r#"{"营业收入": {"2024": "1.5亿"}}"#;
        let a = evaluate_json(&rules, facts, r#"{"as_of": "2024-12-31"}"#);
        assert!(a.ok, "{}", a.json);
        let lib = rules.evaluate_json(facts, None, None).unwrap().to_json_text();
        assert_eq!(a.json, lib);
        assert!(a.json.contains(r#""total": "100000.00""#), "{}", a.json);
    }

    #[test]
    fn problems_come_back_as_located_diagnostics() {
        let Err(a) = compile_json(r#"[{"path": "bad.policy", "text": "policy X {"}]"#) else { panic!() };
        let v: serde_json::Value = serde_json::from_str(&a.json).unwrap();
        let d = &v["diagnostics"][0];
        assert_eq!((d["file"].as_str(), d["line"].as_u64()), (Some("bad.policy"), Some(1)));
        assert!(d["code"].as_str().unwrap().starts_with("E01"));

        let Err(a) = compile_json("not json") else { panic!() };
        assert!(a.json.contains("E0401"));
        let Err(a) = compile_json("[]") else { panic!() };
        assert!(a.json.contains("E0104"));

        let (rules, _) = compile_json(DEMO).unwrap();
        let a = evaluate_json(&rules, r#"{"营业收入": {"2024": "abc"}}"#, "");
        assert!(!a.ok && a.json.contains("营业收入.2024"), "{}", a.json);
        let a = evaluate_json(&rules, r#"{"营业收入": {"2024": "1亿"}}"#, r#"{"as_of": "2024-02-30"}"#);
        assert!(!a.ok && a.json.contains(r#""file":"as_of""#), "{}", a.json);
        let a = evaluate_json(&rules, "{}", r#"{"perod": 2024}"#);
        assert!(!a.ok && a.json.contains("perod"), "{}", a.json);
        assert!(!with_rules(99, vocabulary_json).ok);
    }

    #[test]
    fn the_vocabulary_names_types_and_units() {
        let (rules, _) = compile_json(DEMO).unwrap();
        let v: serde_json::Value = serde_json::from_str(&vocabulary_json(&rules).json).unwrap();
        let f = &v["vocabulary"]["facts"][0];
        assert_eq!(
            (f["name"].as_str(), f["kind"].as_str(), f["unit"].as_str()),
            (Some("营业收入"), Some("series"), Some("元"))
        );
        assert_eq!(v["clauses"][0]["policy"], "D");
    }
}
