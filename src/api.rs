//! The embedding API: a rule set loaded once, enterprises evaluated against it one at a time
//! or in batches, every problem reported as [`Error`] with its diagnostics.
//!
//! Invariant: this module adds no meaning of its own. It calls the same stages as the command
//! line (`load` → `compile` → `facts` → `eval` → `report`), so an answer here is the answer
//! `huiqi eval` gives; the bindings (Python, Arrow, Parquet) are thin adapters over it.
//!
//! ```
//! use huiqi::Rules;
//!
//! let rules = Rules::load(["policies"])?;                          // compile once; Send + Sync
//! let report = rules.evaluate_json(
//!     r#"{"行业": "电子信息制造业", "营业收入": {"2023": "8000万", "2024": "5.6亿"}}"#,
//!     None,                                                          // period: the latest year
//!     None,                                                          // no earlier grants
//! )?;
//! let e23_5 = report.results.iter().find(|r| r.policy == "E23" && r.clause == "5").unwrap();
//! assert_eq!(e23_5.amount.as_deref(), Some("500000.00"));
//! # Ok::<(), huiqi::Error>(())
//! ```

use crate::batch::{Batch, BatchOptions, BatchRow, RowFormat, Summary};
use crate::compile::{Compiled, Input, compile};
use crate::diag::{Code, Diagnostic};
use crate::eval::facts::{Facts, default_period, meta_as_of, parse_facts, read_facts};
use crate::eval::{EvalOptions, Lang, Ledger, Outcome, evaluate};
use crate::ir::Program;
use crate::json::{Json, Map, Number};
use crate::report::{EvalReport, eval_report};
use crate::span::SourceMap;
use crate::value::Date;
use rust_decimal::Decimal;
use std::fmt;
use std::path::{Path, PathBuf};

/// A checked rule set, ready to evaluate enterprises. Compile it once and share it (it is
/// `Send + Sync`); evaluating does no I/O.
#[derive(Clone, Debug)]
pub struct Rules {
    compiled: Compiled,
}

/// One clause of the rule set as a catalogue row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ClauseInfo {
    /// The document key (`E23`).
    pub policy: String,
    /// The article id within it (`5`).
    pub clause: String,
    pub title: String,
    /// `benefit`, `tax`, `ceiling`, … (as in the IR and the eval report).
    pub kind: String,
    /// The sentence of the official text the clause encodes.
    pub quote: Option<String>,
}

impl Rules {
    /// Reads `*.policy` files (and the `sources/` texts their quotes are verified against)
    /// from files or folders, and compiles them.
    ///
    /// ```
    /// let rules = huiqi::Rules::load(["policies"]).unwrap();
    /// assert!(rules.clauses().iter().any(|c| c.policy == "E23" && c.clause == "5"));
    /// ```
    pub fn load<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Result<Rules, Error> {
        let paths: Vec<PathBuf> = paths.into_iter().map(|p| p.as_ref().to_path_buf()).collect();
        let input = crate::load::load(&paths).map_err(|m| {
            Error::single(
                Diagnostic::new(Code::NoRuleFiles, m)
                    .help("name a folder or file that holds `.policy` files"),
            )
        })?;
        Rules::compile(&input)
    }

    /// Compiles rule texts given as `(file name, text)` pairs; quotes are not verified
    /// against source texts (use [`Rules::compile`] with [`Input::source_texts`] for that).
    ///
    /// ```
    /// let rules = huiqi::Rules::from_texts([(
    ///     "demo.policy",
    ///     r#"fact 营业收入: series money
    ///        policy D "示例" {
    ///          clause 1 "奖励" {
    ///            quote "营业收入超过1亿元的，奖励10万元。"
    ///            when 营业收入 超过 1亿
    ///            amount 10万
    ///          }
    ///        }"#,
    /// )])?;
    /// let r = rules.evaluate_json(r#"{"营业收入": {"2024": "1.5亿"}}"#, None, None)?;
    /// assert_eq!(r.total.as_deref(), Some("100000.00"));
    ///
    /// // a broken rule file: every diagnostic, with where it is
    /// let err = huiqi::Rules::from_texts([("bad.policy", "policy X {")]).unwrap_err();
    /// let d = &err.located()[0];
    /// assert_eq!((d.file.as_str(), d.line, d.code.starts_with("E01")), ("bad.policy", Some(1), true));
    /// # Ok::<(), huiqi::Error>(())
    /// ```
    pub fn from_texts<N: Into<String>, T: Into<String>>(
        files: impl IntoIterator<Item = (N, T)>,
    ) -> Result<Rules, Error> {
        Rules::compile(&Input::from_rules(files.into_iter().map(|(n, t)| (n.into(), t.into()))))
    }

    /// Compiles an [`Input`] (rule texts and source texts).
    pub fn compile(input: &Input) -> Result<Rules, Error> {
        compile(input)
            .map(|compiled| Rules { compiled })
            .map_err(|f| Error { diagnostics: f.diagnostics, sources: f.sources })
    }

    /// The checked program, for the lower-level API (`eval::evaluate`, `eval::kernel`).
    pub fn program(&self) -> &Program {
        &self.compiled.program
    }

    /// The compiled rule set with its sources and warnings.
    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// Warnings found while compiling (lints); the rule set is usable.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.compiled.warnings
    }

    /// [`Rules::warnings`] with their file, line and column written out.
    pub fn warnings_located(&self) -> Vec<Located> {
        Error { diagnostics: self.compiled.warnings.clone(), sources: self.compiled.sources.clone() }
            .located()
    }

    /// Every clause, in the order of the rule files.
    pub fn clauses(&self) -> Vec<ClauseInfo> {
        let p = self.program();
        p.clauses
            .iter()
            .map(|c| ClauseInfo {
                policy: p.policy_of(c).map_or_else(String::new, |x| x.key.clone()),
                clause: c.id.clone(),
                title: c.title.clone(),
                kind: serde_json::to_value(c.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                quote: c.quote_text(),
            })
            .collect()
    }

    /// The facts vocabulary (facts, types, units, labels, enumerations, record fields), for
    /// building an input form.
    ///
    /// ```
    /// let rules = huiqi::Rules::load(["policies"]).unwrap();
    /// let v = rules.vocabulary();
    /// let income = v.facts.iter().find(|f| f.name == "营业收入").unwrap();
    /// assert_eq!((income.kind, income.of.as_deref(), income.unit), ("series", Some("money"), Some("元")));
    /// ```
    pub fn vocabulary(&self) -> crate::ir::view::VocabularyView {
        crate::ir::view::vocabulary(self.program())
    }

    /// Reads facts JSON text (an object of fact names; numbers kept exact) and validates it
    /// against the vocabulary; every problem is reported with its JSON path.
    pub fn facts_json(&self, text: &str) -> Result<Facts, Error> {
        parse_facts(self.program(), text).map_err(|errs| self.facts_error(errs))
    }

    /// Builds facts value by value, validated like facts JSON when [`FactsBuilder::build`]
    /// is called.
    ///
    /// ```
    /// use rust_decimal::Decimal;
    /// let rules = huiqi::Rules::load(["policies"]).unwrap();
    /// let facts = rules
    ///     .facts()
    ///     .text("行业", "电子信息制造业")
    ///     .year("营业收入", 2023, Decimal::new(80_000_000, 0))
    ///     .year("营业收入", 2024, Decimal::new(560_000_000, 0))
    ///     .build()
    ///     .unwrap();
    /// let outcome = rules.evaluate(&facts, 2024);
    /// assert_eq!(outcome.total().map(huiqi::value::fmt_yuan).ok().as_deref(), Some("500000.00"));
    ///
    /// // a misspelt fact is named, with the fix
    /// let err = rules.facts().text("行 业", "电子信息制造业").build().unwrap_err();
    /// assert!(err.to_string().contains("行 业"));
    /// ```
    pub fn facts(&self) -> FactsBuilder<'_> {
        FactsBuilder { rules: self, map: Map::new() }
    }

    /// Evaluates one enterprise for a period with no earlier grants, explaining every step.
    pub fn evaluate(&self, facts: &Facts, period: i32) -> Outcome {
        evaluate(self.program(), facts, &Ledger::default(), EvalOptions::new(period))
    }

    /// Evaluates one enterprise with a ledger of earlier grants and options.
    pub fn evaluate_with(&self, facts: &Facts, ledger: &Ledger, opts: EvalOptions) -> Outcome {
        evaluate(self.program(), facts, ledger, opts)
    }

    /// The `eval --format json` document of one enterprise given as facts JSON text: the
    /// period is `period`, else the facts' `$period`, else the latest year of any series;
    /// `ledger` is the JSON text of earlier grants. Explanations are in Chinese; see
    /// [`Rules::evaluate_json_in`] for English.
    pub fn evaluate_json(
        &self,
        facts: &str,
        period: Option<i32>,
        ledger: Option<&str>,
    ) -> Result<EvalReport, Error> {
        self.evaluate_json_in(facts, period, ledger, Lang::Zh)
    }

    /// [`Rules::evaluate_json`] with the language of the explanations.
    pub fn evaluate_json_in(
        &self,
        facts: &str,
        period: Option<i32>,
        ledger: Option<&str>,
        lang: Lang,
    ) -> Result<EvalReport, Error> {
        self.evaluate_json_at(facts, period, None, ledger, lang)
    }

    /// [`Rules::evaluate_json_in`] with the evaluation date (`YYYY-MM-DD`): `as_of`, else
    /// the facts' `$as_of`, else the period's last day, as `huiqi eval --as-of` chooses it.
    ///
    /// ```
    /// let rules = huiqi::Rules::load(["policies"]).unwrap();
    /// let facts = r#"{"行业": "电子信息制造业", "营业收入": {"2023": "8000万", "2024": "5.6亿"}}"#;
    /// let r = rules.evaluate_json_at(facts, None, Some("2024-06-30"), None, huiqi::eval::Lang::Zh)?;
    /// assert_eq!(r.as_of, "2024-06-30");
    /// let Err(err) = rules.evaluate_json_at(facts, None, Some("2024-13-01"), None, huiqi::eval::Lang::Zh) else {
    ///     panic!("2024-13-01 is not a date")
    /// };
    /// assert_eq!(err.located()[0].file, "as_of");
    /// # Ok::<(), huiqi::Error>(())
    /// ```
    pub fn evaluate_json_at(
        &self,
        facts: &str,
        period: Option<i32>,
        as_of: Option<&str>,
        ledger: Option<&str>,
        lang: Lang,
    ) -> Result<EvalReport, Error> {
        let json = Json::parse(facts).unwrap_or_default();
        let facts_v = self.facts_json(facts)?;
        let name = json.get("$name").or_else(|| json.get("$id")).and_then(Json::as_str).map(String::from);
        let Some(period) = period.or_else(|| default_period(&json, &facts_v)) else {
            return Err(Error::single(
                Diagnostic::new(
                    Code::FactType,
                    "no period: the facts have no `$period` and no yearly series",
                )
                .in_input("facts", "$period")
                .help("pass the period (the year the facts describe), or give the facts a `$period`"),
            ));
        };
        let ledger = match ledger {
            Some(text) => Ledger::from_json(text, "ledger").map_err(|d| Error::single(*d))?,
            None => Ledger::default(),
        };
        let as_of = match as_of {
            Some(text) => Some(text.parse::<Date>().map_err(|m| {
                Error::single(
                    Diagnostic::new(Code::FactType, format!("the evaluation date `{text}` is not a date: {m}"))
                        .in_input("as_of", "as_of")
                        .help("write the evaluation date as YYYY-MM-DD, e.g. 2024-06-30, or leave it out (the period's last day)"),
                )
            })?),
            None => meta_as_of(&json).map_err(|e| self.facts_error(vec![e]))?,
        };
        let outcome =
            evaluate(self.program(), &facts_v, &ledger, EvalOptions { period, as_of, explain: true });
        Ok(eval_report(self.program(), &outcome, name, lang))
    }

    /// Evaluates many enterprises (JSON text each) on the lean path, on every core with the
    /// `parallel` feature: one compact row per input, in input order (a bad row carries its
    /// errors and is never dropped), and the budget per clause.
    ///
    /// ```
    /// let rules = huiqi::Rules::load(["policies"]).unwrap();
    /// let rows = [
    ///     r#"{"$id": "A", "行业": "电子信息制造业", "营业收入": {"2023": "8000万", "2024": "5.6亿"}}"#,
    ///     r#"{"$id": "B", "营业收入": "not a series"}"#,
    /// ];
    /// let out = rules.evaluate_batch(rows, Some(2024));
    /// assert_eq!(out.rows.len(), 2);
    /// assert_eq!(out.rows[0].total.as_deref(), Some("500000.00"));
    /// assert_eq!(out.rows[1].errors[0].at, "营业收入");
    /// assert_eq!((out.summary.rows, out.summary.failed), (2, 1));
    /// ```
    pub fn evaluate_batch<'a>(
        &'a self,
        rows: impl IntoIterator<Item = &'a str>,
        period: Option<i32>,
    ) -> BatchOutput<'a> {
        let batch = Batch::new(self.program(), BatchOptions { period, as_of: None }, RowFormat::Table);
        let lines: Vec<(usize, Result<String, String>)> =
            rows.into_iter().enumerate().map(|(i, t)| (i + 1, Ok(t.to_string()))).collect();
        let mut summary = Summary::new(self.program());
        let mut out = Vec::with_capacity(lines.len());
        for e in batch.json_lines(lines) {
            summary.add(&e);
            out.push(e.row);
        }
        BatchOutput { rows: out, summary }
    }

    fn facts_error(&self, errs: Vec<crate::eval::facts::FactError>) -> Error {
        Error {
            diagnostics: errs.into_iter().map(|e| e.into_diagnostic("facts")).collect(),
            sources: self.compiled.sources.clone(),
        }
    }
}

/// The result of [`Rules::evaluate_batch`].
#[derive(Debug)]
pub struct BatchOutput<'p> {
    pub rows: Vec<BatchRow<'p>>,
    pub summary: Summary,
}

/// Facts built value by value; see [`Rules::facts`].
#[derive(Clone, Debug)]
pub struct FactsBuilder<'r> {
    rules: &'r Rules,
    map: Map,
}

impl FactsBuilder<'_> {
    /// A text, enumeration value, date (`"2024-03-01"`) or written amount (`"1.2亿"`).
    pub fn text(mut self, fact: &str, value: &str) -> Self {
        self.map.insert(fact.to_string(), Json::String(value.to_string()));
        self
    }

    /// An exact number (money in yuan, a rate as a fraction, a count).
    pub fn number(mut self, fact: &str, value: Decimal) -> Self {
        self.map.insert(fact.to_string(), number(value));
        self
    }

    pub fn bool(mut self, fact: &str, value: bool) -> Self {
        self.map.insert(fact.to_string(), Json::Bool(value));
        self
    }

    /// One year of a yearly series.
    pub fn year(mut self, fact: &str, year: i32, value: Decimal) -> Self {
        let mut series = match self.map.get(fact) {
            Some(Json::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        series.insert(year.to_string(), number(value));
        self.map.insert(fact.to_string(), Json::Object(series));
        self
    }

    /// Validates the facts against the vocabulary (as facts JSON is validated).
    pub fn build(self) -> Result<Facts, Error> {
        read_facts(self.rules.program(), &Json::Object(self.map)).map_err(|e| self.rules.facts_error(e))
    }
}

fn number(d: Decimal) -> Json {
    Number::from_text(&d.to_string()).map_or_else(|| Json::String(d.to_string()), Json::Number)
}

/// Why a rule set could not be compiled, or facts could not be read: every diagnostic, with
/// the sources to show them against.
#[derive(Clone, Debug)]
pub struct Error {
    diagnostics: Vec<Diagnostic>,
    sources: SourceMap,
}

/// A diagnostic with its place written out: what bindings hand their users.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Located {
    /// `E0101`, `W0103`, …
    pub code: String,
    /// `error` or `warning`.
    pub severity: String,
    /// The rule file (or `facts` / `ledger` for input problems).
    pub file: String,
    /// 1-based line and column in the rule file; `None` for input problems.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The JSON path of an input problem (`营业收入.2024`).
    pub path: Option<String>,
    pub message: String,
    pub help: Option<String>,
}

impl Error {
    fn single(d: Diagnostic) -> Error {
        Error { diagnostics: vec![d], sources: SourceMap::new() }
    }

    /// Every diagnostic, errors first as the compiler sorted them.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The source texts the diagnostics point into.
    pub fn sources(&self) -> &SourceMap {
        &self.sources
    }

    /// Each diagnostic with its file, line and column (or JSON path) written out.
    pub fn located(&self) -> Vec<Located> {
        self.diagnostics
            .iter()
            .map(|d| {
                let (file, line, column, path) = match (&d.input, d.primary_span()) {
                    (Some(i), _) => (i.file.clone(), None, None, Some(i.path.clone())),
                    (None, Some(span)) => match self.sources.get(span.file) {
                        Some(f) => {
                            let (l, c) = f.line_col(span.start as usize);
                            (f.name.clone(), Some(l), Some(c), None)
                        }
                        None => (String::new(), None, None, None),
                    },
                    (None, None) => (String::new(), None, None, None),
                };
                Located {
                    code: d.code.id().to_string(),
                    severity: if d.is_error() { "error" } else { "warning" }.to_string(),
                    file,
                    line,
                    column,
                    path,
                    message: d.message.clone(),
                    help: d.help.clone(),
                }
            })
            .collect()
    }

    /// The rich terminal rendering (source excerpts), as `huiqi check` prints it.
    pub fn render(&self) -> String {
        crate::diag::render::render_human(&self.diagnostics, &self.sources, false)
    }

    /// One line per problem: `path:line:col: error[E0101]: message`.
    pub fn render_short(&self) -> String {
        crate::diag::render::render_short(&self.diagnostics, &self.sources)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors: Vec<&Diagnostic> = self.diagnostics.iter().filter(|d| d.is_error()).collect();
        match errors.first() {
            None => f.write_str("no problems"),
            Some(d) => {
                let at = self.located().into_iter().find(|l| l.code == d.code.id() && l.message == d.message);
                match at {
                    Some(Located { file, line: Some(l), column: Some(c), .. }) => {
                        write!(f, "{file}:{l}:{c}: error[{}]: {}", d.code.id(), d.message)?
                    }
                    Some(Located { file, path: Some(p), .. }) => {
                        write!(f, "{file}: {p}: error[{}]: {}", d.code.id(), d.message)?
                    }
                    _ => write!(f, "error[{}]: {}", d.code.id(), d.message)?,
                }
                if errors.len() > 1 {
                    write!(f, " (and {} more)", errors.len() - 1)?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {}

impl miette::Diagnostic for Error {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostics
            .iter()
            .find(|d| d.is_error())
            .map(|d| Box::new(d.code.id()) as Box<dyn fmt::Display + 'a>)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostics
            .iter()
            .find(|d| d.is_error())
            .and_then(|d| d.help.as_ref())
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_std_and_miette_errors() {
        fn takes<E: std::error::Error + miette::Diagnostic + Send + Sync + 'static>(_: &E) {}
        let e = Rules::from_texts([("x.policy", "policy {")]).unwrap_err();
        takes(&e);
        assert!(e.to_string().starts_with("x.policy:1:"), "{e}");
        assert!(miette::Diagnostic::code(&e).is_some());
    }

    #[test]
    fn facts_errors_carry_their_path() {
        let rules = Rules::load(["policies"]).unwrap();
        let Err(e) = rules.evaluate_json(r#"{"营业收入": {"2024": "abc"}}"#, None, None) else {
            panic!()
        };
        let l = e.located();
        assert_eq!(l.len(), 1);
        assert_eq!(
            (l[0].code.as_str(), l[0].path.as_deref(), l[0].file.as_str()),
            ("E0403", Some("营业收入.2024"), "facts")
        );
    }
}
