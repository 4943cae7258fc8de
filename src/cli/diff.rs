//! `huiqi diff OLD NEW`: reads the two rule sets and the population, prints the library's
//! report ([`huiqi::diff`]).

use super::{DiagFormat, Exit, build, usage};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

pub const AFTER_HELP: &str = "\
Examples:
  huiqi diff base/policies policies
  huiqi diff base/policies policies --population sample.jsonl --period 2024
  huiqi diff base/policies policies --population sample.jsonl --from 2024 --to 2026
  huiqi diff base/policies policies --format json --exit-code

OLD and NEW are rule-set folders (or files). The population is JSON lines: one facts object
per line, as `huiqi eval --facts` reads it (`$name`, `$period` optional). Every enterprise is
evaluated under both versions with an empty ledger; with --from/--to it is simulated year by
year under each version, its ledger threaded through the years.";

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DiffFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct DiffArgs {
    /// The rule set before the change (folder or file).
    old: PathBuf,
    /// The rule set after the change (folder or file).
    new: PathBuf,
    /// Enterprises to evaluate under both versions (JSON lines).
    #[arg(long, value_name = "FILE")]
    population: Option<PathBuf>,
    /// The period for every enterprise; default: each row's `$period`, else its latest series year.
    #[arg(long, value_name = "YEAR", conflicts_with_all = ["from", "to"])]
    period: Option<i32>,
    /// With `--to`: simulate every enterprise from this year, its ledger threaded through the
    /// years under each rule set (one-time awards once, caps over years), and sum the impact.
    #[arg(long, value_name = "YEAR", requires = "to")]
    from: Option<i32>,
    /// The last year of a multi-year impact (with `--from`).
    #[arg(long, value_name = "YEAR", requires = "from")]
    to: Option<i32>,
    #[arg(long, value_enum, default_value = "text")]
    format: DiffFormat,
    /// Exit 1 when there are semantic differences (default: exit 0 either way).
    #[arg(long)]
    exit_code: bool,
}

pub fn run(a: DiffArgs) -> Exit {
    let old = match build(vec![a.old.clone()], DiagFormat::Human, false) {
        Ok(c) => c,
        Err(e) => {
            errln!("error: the old rule set `{}` does not compile", a.old.display());
            return e;
        }
    };
    let new = match build(vec![a.new.clone()], DiagFormat::Human, false) {
        Ok(c) => c,
        Err(e) => {
            errln!("error: the new rule set `{}` does not compile", a.new.display());
            return e;
        }
    };
    let population = match &a.population {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => Some(t),
            Err(e) => return usage(format!("cannot read population `{}`: {e}", p.display())),
        },
        None => None,
    };
    let periods = match (a.from, a.to) {
        (Some(f), Some(t)) => {
            if t < f {
                return usage(format!("--to {t} is before --from {f}"));
            }
            if t - f > 100 {
                return usage("an impact over at most 100 years at a time");
            }
            if population.is_none() {
                return usage(
                    "--from/--to are the years of a budget impact; give the enterprises with --population",
                );
            }
            huiqi::diff::Periods::Years(f, t)
        }
        _ => huiqi::diff::Periods::One(a.period),
    };
    let names = (a.old.display().to_string(), a.new.display().to_string());
    let rep = huiqi::diff::report_over(
        &old.program,
        &new.program,
        (&names.0, &names.1),
        population.as_deref(),
        periods,
    );
    match a.format {
        DiffFormat::Text => out!("{}", huiqi::diff::render_text(&rep)),
        DiffFormat::Json => outln!("{}", serde_json::to_string_pretty(&rep).unwrap_or_default()),
    }
    if let Some(i) = &rep.impact
        && !i.errors.is_empty()
    {
        errln!("warning: {} population row(s) skipped", i.errors.len());
    }
    if a.exit_code && !rep.identical { Exit::Failure } else { Exit::Success }
}
