//! huiqi (惠企): rules as code for enterprise-support policy.
//!
//! The pipeline: [`syntax`] (text → AST) → [`ir`] (lowering: names and types resolved,
//! AST → typed IR) → [`check`] (whole-program checks) → [`eval`] (IR + facts + ledger →
//! outcomes with explanations). [`diag`] holds the one diagnostic model; [`compile`] is the
//! entry point; [`load`] is the only module that reads files.
//!
//! ```no_run
//! use huiqi::{compile::{compile, Input}, eval::{evaluate, EvalOptions, Ledger, facts::parse_facts}};
//! let input = huiqi::load::load(&["policies".into()]).unwrap();
//! let compiled = compile(&input).unwrap();
//! let facts = parse_facts(&compiled.program, r#"{"营业收入": {"2023": "1.2亿"}}"#).unwrap();
//! let outcome = evaluate(&compiled.program, &facts, &Ledger::default(), EvalOptions::new(2023));
//! println!("{:?}", outcome.total()); // Err (E0504) only when the sum overflows
//! ```

pub mod batch;
pub mod check;
pub mod compile;
pub mod coverage;
pub mod diag;
pub mod diff;
pub mod eval;
pub mod fmt;
pub mod forecast;
pub mod ir;
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

pub use compile::{Compiled, Failed, Input, compile};
pub use eval::{EvalOptions, Ledger, Outcome, Status, evaluate};
