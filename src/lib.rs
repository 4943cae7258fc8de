//! huiqi (惠企): rules as code for enterprise-support policy.
//!
//! The pipeline: [`syntax`] (text → AST) → [`ir`] (lowering: names and types resolved,
//! AST → typed IR) → [`check`] (whole-program checks) → [`eval`] (IR + facts + ledger →
//! outcomes with explanations). [`diag`] holds the one diagnostic model; [`compile`] is the
//! entry point; [`load`] is the only module that reads files.
//!
//! The embedding API is [`Rules`] (load or compile a rule set, evaluate one enterprise from
//! facts JSON or a typed builder, evaluate a batch) and [`Error`] (every diagnostic, with
//! where it is; a `std::error::Error` and a `miette::Diagnostic`):
//!
//! ```
//! let rules = huiqi::Rules::load(["policies"])?;
//! let report = rules.evaluate_json(r#"{"行业": "电子信息制造业", "营业收入": {"2023": "8000万", "2024": "1.2亿"}}"#, None, None)?;
//! assert_eq!(report.total.as_deref(), Some("300000.00"));
//! # Ok::<(), huiqi::Error>(())
//! ```
//!
//! Features: `cli` (default) builds the `huiqi` command and brings its dependencies (clap,
//! indicatif, mimalloc, csv); `parallel` (with `cli`) evaluates batches on every core
//! (rayon). An embedder writes `huiqi = { ..., default-features = false }` and gets the
//! library alone; serde_json's number reading is left as it is (facts numbers are read
//! exactly through [`json::Json`]).

pub mod api;
pub mod batch;
pub mod check;
#[cfg(feature = "arrow")]
pub mod columnar;
pub mod compile;
pub mod coverage;
pub mod diag;
pub mod diff;
pub mod eval;
pub mod fmt;
pub mod forecast;
pub mod ir;
pub mod json;
pub mod junit;
pub mod load;
pub mod population;
pub mod reference;
pub mod report;
#[cfg(feature = "serve")]
pub mod serve;
pub mod span;
pub mod syntax;
pub mod testing;
pub mod value;

pub use api::{BatchOutput, ClauseInfo, Error, FactsBuilder, Located, Rules};
pub use compile::{Compiled, Failed, Input, compile};
pub use eval::{EvalOptions, Ledger, Outcome, Status, evaluate};

/// The README's Rust examples, run as doctests so they cannot drift from the API.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
