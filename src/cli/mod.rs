//! Command-line interface: argument parsing (clap), reading files, choosing renderers, exit
//! codes. All the work is done by the library.
//!
//! Invariant: every failure leaves through [`Exit`]: 0 success, 1 diagnostics or failed
//! tests, 2 usage or input/output errors. Output goes through [`out`] (`outln!`, `errln!` …),
//! which a closed pipe cannot make panic; `println!` and `eprintln!` are denied here.
#![deny(clippy::print_stdout, clippy::print_stderr)]

#[macro_use]
mod out;
mod batch;
pub mod calculator;
mod diff;
mod forecast;
mod html;
mod lsp;
#[cfg(feature = "serve")]
mod serve;
mod sheet;
mod site;
mod table;

use clap::{Parser, Subcommand, ValueEnum};
use huiqi::diag::Diagnostic;
use huiqi::diag::render::{render_human, render_short, to_json};
use huiqi::eval::facts::{Facts, parse_facts};
use huiqi::eval::{EvalOptions, Lang, Ledger, evaluate};
use huiqi::report;
use huiqi::span::SourceMap;
use huiqi::value::Date;
use huiqi::{Compiled, Input, compile};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// The one exit-code enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Failure = 1,
    Usage = 2,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

const AFTER_HELP: &str = "\
Examples:
  huiqi check                                   check the rule files in policies/
  huiqi eval --facts examples/光电子科技.json     evaluate an enterprise (table, Chinese)
  huiqi eval --facts examples/光电子科技.json --format json --lang en
  huiqi simulate --facts examples/光电子科技.json --from 2023 --to 2025
  huiqi test policies                           run the tests written beside the rules
  huiqi ir --format json                        the typed IR of every clause
  huiqi doc policies --out site                 the literate site: each document's text beside its rules";

#[derive(Parser)]
#[command(name = "huiqi", version, about = "惠企 huiqi: rules as code for enterprise-support policy", after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum DiagFormat {
    Human,
    Short,
    Json,
    /// SARIF 2.1.0 on standard output (code scanning, editors).
    Sarif,
    /// GitHub Actions annotations (`::error file=…,line=…::message`) on standard output.
    Github,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum TestFormat {
    Text,
    /// JUnit XML on standard output.
    Junit,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum DenyWhat {
    Warnings,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum EvalFormat {
    Table,
    Json,
    /// A population: one JSON object a row.
    Jsonl,
    /// A population: one CSV row an enterprise, a status and amount column per clause.
    Csv,
    /// A population: Parquet with the CSV's columns, amounts as decimal(38, 2).
    Parquet,
    /// One enterprise: a printable calculation sheet, one self-contained HTML page.
    Html,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum PopFormat {
    /// One JSON object a line.
    Jsonl,
    /// Columns named by fact paths (as CSV headers), numbers as decimal128; needs `--output`
    /// or a pipe.
    Parquet,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum SimFormat {
    Table,
    Json,
    /// A population: one object per input row.
    Jsonl,
    /// A population: one row per enterprise and year.
    Csv,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum IrFormat {
    Json,
    Yaml,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum LangArg {
    Zh,
    En,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Lang {
        match l {
            LangArg::Zh => Lang::Zh,
            LangArg::En => Lang::En,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Parse and type-check rule files; exit 1 on errors.
    #[command(after_help = "Examples:\n  huiqi check\n  huiqi check policies/E23.policy --format short")]
    Check {
        /// Rule files or folders (default: policies/).
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "human")]
        format: DiagFormat,
        /// `--deny warnings`: lints (W0xxx) fail the check too.
        #[arg(long, value_name = "warnings")]
        deny: Option<DenyWhat>,
    },
    /// Evaluate an enterprise's facts against the rules.
    #[command(
        after_help = "Examples:\n  huiqi eval --facts examples/光电子科技.json\n  huiqi eval --facts f.json --period 2024 --ledger ledger.json --format json --lang en"
    )]
    Eval {
        /// The facts: one enterprise (a JSON object), or a population (JSON lines, `.jsonl`;
        /// CSV or Parquet with fact paths as column names, `.csv`, `.parquet`); `-` reads
        /// standard input.
        #[arg(long)]
        facts: String,
        /// The period (year) the facts describe; default: the facts' `$period`, else the latest
        /// year of any series in them.
        #[arg(long)]
        period: Option<i32>,
        /// The evaluation date (YYYY-MM-DD); default: the period's last day.
        #[arg(long)]
        as_of: Option<String>,
        /// Earlier grants (ledger JSON), read by one-time awards, caps and carried credits.
        #[arg(long)]
        ledger: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "table")]
        format: EvalFormat,
        #[arg(long, value_enum, default_value = "zh")]
        lang: LangArg,
        /// Rule files or folders (default: policies/).
        #[arg(long = "policies", short = 'p')]
        policies: Vec<PathBuf>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        /// After a population: per clause, how many enterprises were granted and the total.
        #[arg(long)]
        summary: bool,
        /// Write a population's rows to this file (`.parquet`: Parquet) instead of standard
        /// output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// For each clause that does not pay (or could pay more): the smallest change of one
        /// fact that would make it pay, and what it would then pay (one enterprise).
        #[arg(long)]
        advise: bool,
    },
    /// Evaluate year by year, threading the ledger.
    #[command(
        after_help = "Example:\n  huiqi simulate --facts examples/光电子科技.json --from 2023 --to 2025"
    )]
    Simulate {
        #[arg(long)]
        facts: String,
        #[arg(long)]
        from: i32,
        #[arg(long)]
        to: i32,
        /// Earlier grants: one enterprise's ledger JSON, or for a population the JSON lines that
        /// `--ledger-out` writes (one history per enterprise, matched by `$id`/`$name` or line).
        #[arg(long)]
        ledger: Option<PathBuf>,
        /// A population's final ledgers, one JSON line per enterprise, for the next run's `--ledger`.
        #[arg(long, value_name = "FILE")]
        ledger_out: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "table")]
        format: SimFormat,
        #[arg(long, value_enum, default_value = "zh")]
        lang: LangArg,
        #[arg(long = "policies", short = 'p')]
        policies: Vec<PathBuf>,
        /// After a population's rows: the budget per clause and year (on stderr).
        #[arg(long)]
        summary: bool,
    },
    /// Print the typed IR.
    #[command(after_help = "Examples:\n  huiqi ir --format json\n  huiqi ir --clause E23.5 --format yaml")]
    Ir {
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "json")]
        format: IrFormat,
        /// Only this clause, e.g. `E23.5`.
        #[arg(long)]
        clause: Option<String>,
    },
    /// Format rule files in the canonical layout (comments kept); `--check` only lists them.
    #[command(
        after_help = "Examples:\n  huiqi fmt\n  huiqi fmt --check policies\n  huiqi fmt --keywords zh policies/E23.tests.policy"
    )]
    Fmt {
        /// Rule files or folders (default: policies/).
        paths: Vec<PathBuf>,
        /// List the files that would change and exit 1 if any; change nothing.
        #[arg(long)]
        check: bool,
        /// Also write every keyword in this language: `zh` (条款, 条件, 数额 …) or `en`
        /// (clause, when, amount …); comments, strings, names and the IR stay the same.
        #[arg(long, value_parser = ["zh", "en"])]
        keywords: Option<String>,
    },
    /// Write deterministic synthetic enterprises as JSON lines (benchmarks, tests, demos).
    #[command(
        name = "gen-population",
        after_help = "Example:\n  huiqi gen-population --count 1000000 --seed 7 | huiqi eval --facts - --summary --format table"
    )]
    GenPopulation {
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The period the enterprises' facts describe.
        #[arg(long, default_value_t = 2024)]
        period: i32,
        #[arg(long, value_enum, default_value = "jsonl")]
        format: PopFormat,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// The rule files whose vocabulary types the Parquet columns (default: policies/).
        #[arg(long = "policies", short = 'p')]
        policies: Vec<PathBuf>,
    },
    /// Run the tests written beside the rule files.
    #[command(
        after_help = "Examples:\n  huiqi test policies\n  huiqi test --format junit > report.xml\n  huiqi test --coverage --min-coverage 100"
    )]
    Test {
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: TestFormat,
        /// After the tests, report which clauses, tiers, brackets and categories they exercise.
        #[arg(long)]
        coverage: bool,
        /// Exit 1 when clause coverage is below this percentage (implies --coverage).
        #[arg(long, value_name = "PERCENT")]
        min_coverage: Option<rust_decimal::Decimal>,
    },
    /// Compare two versions of a rule set: what changed, and its budget impact.
    #[command(after_help = diff::AFTER_HELP)]
    Diff(diff::DiffArgs),
    /// Serve evaluations over HTTP (JSON), with hot reload of the rule files.
    #[cfg(feature = "serve")]
    #[command(after_help = serve::AFTER_HELP)]
    Serve(serve::ServeArgs),
    /// The language server for editors (LSP over stdin/stdout): diagnostics, hover,
    /// definition, references, symbols, completion, semantic tokens, test code lenses, formatting.
    #[command(after_help = "The editor starts it; see docs/workbench.md.\nExample:\n  huiqi lsp policies")]
    Lsp {
        /// The folder of rule files (default: the folder the editor opens, else the folder of
        /// each open file).
        folder: Option<PathBuf>,
    },
    /// Write the literate policy site: each document's official text with its quoted
    /// sentences linked to their clauses (encoding, readings, tiers, parameters, tests).
    #[command(
        after_help = "Example:\n  huiqi doc policies --out site     then open site/index.html (no server needed)\nSee docs/workbench.md."
    )]
    Doc {
        /// Rule files or folders (default: policies/); source texts from `sources/` beside them.
        paths: Vec<PathBuf>,
        /// The folder to write the site into (created if missing; files of the same names are
        /// replaced).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Facts JSON the calculator page opens with (an example enterprise).
        #[arg(long, value_name = "FACTS")]
        example: Option<PathBuf>,
    },
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { Exit::Usage.into() } else { Exit::Success.into() };
        }
    };
    // evaluation recurses as deep as a rule nests (bounded by the compiler; see
    // `huiqi::batch::WORKER_STACK`): the command runs on a stack sized for that, not the main
    // thread's
    let exit = match std::thread::Builder::new()
        .name("huiqi".into())
        .stack_size(huiqi::batch::WORKER_STACK)
        .spawn(move || run(cli))
    {
        Ok(h) => h.join().unwrap_or(Exit::Failure),
        Err(e) => {
            errln!("error: cannot start the command's thread: {e}");
            Exit::Usage
        }
    };
    // standard output that failed (other than by a closed pipe) is an input/output error
    if out::failed() { Exit::Usage.into() } else { exit.into() }
}

fn usage(msg: impl std::fmt::Display) -> Exit {
    errln!("error: {msg}");
    Exit::Usage
}

fn default_paths(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() { vec![PathBuf::from("policies")] } else { paths }
}

fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn print_diags(diags: &[Diagnostic], sources: &SourceMap, format: DiagFormat) {
    match format {
        DiagFormat::Human => err!("{}", render_human(diags, sources, color())),
        DiagFormat::Short => err!("{}", render_short(diags, sources)),
        DiagFormat::Json => {
            outln!("{}", serde_json::to_string_pretty(&to_json(diags, sources)).unwrap_or_default())
        }
        DiagFormat::Sarif => {
            let log = huiqi::diag::ci::to_sarif(diags, sources);
            outln!("{}", serde_json::to_string_pretty(&log).unwrap_or_default())
        }
        DiagFormat::Github => out!("{}", huiqi::diag::ci::render_github(diags, sources)),
    }
}

/// Loads and compiles; prints diagnostics (errors, and warnings when `show_warnings`).
fn build(paths: Vec<PathBuf>, format: DiagFormat, show_warnings: bool) -> Result<Compiled, Exit> {
    build_input(paths, format, show_warnings).map(|(c, _)| c)
}

/// [`build`], keeping what was loaded (the source texts, for `huiqi doc`).
fn build_input(
    paths: Vec<PathBuf>,
    format: DiagFormat,
    show_warnings: bool,
) -> Result<(Compiled, Input), Exit> {
    let input: Input = huiqi::load::load(&default_paths(paths)).map_err(usage)?;
    match compile(&input) {
        Ok(c) => {
            if show_warnings && !c.warnings.is_empty() {
                print_diags(&c.warnings, &c.sources, format);
            }
            Ok((c, input))
        }
        Err(f) => {
            print_diags(&f.diagnostics, &f.sources, format);
            Err(Exit::Failure)
        }
    }
}

/// `check FILE`: the file within the rule set of its folder (see `load::rule_set_of`), with
/// the diagnostics of the named files shown and those of the rest counted.
fn build_focused(paths: Vec<PathBuf>, format: DiagFormat) -> Result<Compiled, Exit> {
    let (load_paths, focus) = huiqi::load::rule_set_of(&paths);
    let Some(focus) = focus else { return build(paths, format, true) };
    let input: Input = huiqi::load::load(&load_paths).map_err(usage)?;
    let canon = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let names: Vec<PathBuf> = focus.iter().map(|p| canon(p)).collect();
    let mine = |d: &Diagnostic, sources: &SourceMap| {
        d.primary_span()
            .and_then(|s| sources.get(s.file))
            .is_none_or(|f| names.contains(&canon(std::path::Path::new(&f.name))))
    };
    let report = |diags: &[Diagnostic], sources: &SourceMap| {
        let (shown, rest): (Vec<Diagnostic>, Vec<Diagnostic>) =
            diags.iter().cloned().partition(|d| mine(d, sources));
        print_diags(&shown, sources, format);
        if !rest.is_empty() {
            errln!(
                "note: {} problem(s) in other files of the rule set ({}) are not shown; check the folder to see them",
                rest.len(),
                load_paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            );
        }
        shown
    };
    match compile(&input) {
        Ok(mut c) => {
            c.warnings = report(&c.warnings, &c.sources);
            Ok(c)
        }
        Err(f) => {
            report(&f.diagnostics, &f.sources);
            Err(Exit::Failure)
        }
    }
}

fn run(cli: Cli) -> Exit {
    match cli.command {
        Command::Check { paths, format, deny } => match build_focused(paths, format) {
            Ok(c) if deny.is_some() && !c.warnings.is_empty() => {
                errln!("error: {} warning(s) denied by `--deny warnings`", c.warnings.len());
                Exit::Failure
            }
            Ok(c) => {
                if matches!(format, DiagFormat::Json | DiagFormat::Sarif) {
                    if c.warnings.is_empty() {
                        print_diags(&[], &c.sources, format);
                    }
                } else {
                    let n = c.program.clauses.len();
                    errln!(
                        "ok: {} documents, {n} clauses, {} tests",
                        c.program.policies.len(),
                        c.program.tests.len()
                    );
                }
                Exit::Success
            }
            Err(e) => e,
        },
        Command::Eval {
            facts,
            period,
            as_of,
            ledger,
            format,
            lang,
            policies,
            quiet,
            summary,
            output,
            advise,
        } => {
            let rule_set = default_paths(policies.clone())
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let c = match build(policies, DiagFormat::Human, false) {
                Ok(c) => c,
                Err(e) => return e,
            };
            let as_of_d = match as_of.as_deref().map(str::parse::<Date>).transpose() {
                Ok(d) => d,
                Err(m) => return usage(format!("--as-of: {m}")),
            };
            let text = match open_facts(&facts) {
                Ok(Facts1::One(t)) => t,
                Ok(Facts1::Many(input, first, reader)) => {
                    if format == EvalFormat::Html {
                        return usage(
                            "--format html is the calculation sheet of one enterprise; evaluate the enterprise on its own (one JSON object), or use --format csv, jsonl or table for a population",
                        );
                    }
                    let parquet = format == EvalFormat::Parquet
                        || (output.as_ref().is_some_and(|p| p.extension().is_some_and(|e| e == "parquet"))
                            && format == EvalFormat::Table);
                    let format = match format {
                        EvalFormat::Csv => huiqi::batch::RowFormat::Csv,
                        EvalFormat::Table => huiqi::batch::RowFormat::Table,
                        EvalFormat::Parquet => huiqi::batch::RowFormat::Table,
                        EvalFormat::Json | EvalFormat::Jsonl | EvalFormat::Html => {
                            huiqi::batch::RowFormat::Jsonl
                        }
                    };
                    if advise {
                        return usage(
                            "--advise is advice to one enterprise; evaluate the enterprise on its own",
                        );
                    }
                    if ledger.is_some() {
                        return usage(
                            "--ledger is one enterprise's history and does not apply to a population; evaluate the enterprise on its own, or use `simulate` year by year",
                        );
                    }
                    let sink = output.map_or(batch::Sink::Stdout, batch::Sink::File);
                    let opts = huiqi::batch::BatchOptions { period, as_of: as_of_d };
                    let lang = lang.into();
                    return batch::run(
                        &c,
                        input,
                        first,
                        reader,
                        batch::Run { format, opts, quiet, summary, lang, parquet, sink },
                    );
                }
                Err(e) => return e,
            };
            if summary {
                return usage(
                    "--summary is the budget over a population (JSON lines or CSV); for one enterprise the table already ends with its total",
                );
            }
            if matches!(format, EvalFormat::Csv | EvalFormat::Parquet) {
                return usage(
                    "--format csv and --format parquet write one row per enterprise of a population; for one enterprise use --format table or json",
                );
            }
            if output.is_some() {
                return usage(
                    "--output writes a population's rows; for one enterprise redirect standard output",
                );
            }
            let (facts_v, name, fperiod, fas_of) = match read_facts_text(&c, &facts, &text) {
                Ok(x) => x,
                Err(e) => return e,
            };
            let Some(period) = period.or(fperiod) else {
                return usage(
                    "no period: pass `--period YEAR` (the year the facts describe), or give the facts a `$period` or a yearly series",
                );
            };
            // `--as-of` wins; else the facts' own `$as_of`; else the period's last day
            let as_of = as_of_d.or(fas_of);
            let ledger = match read_ledger(&c.program, ledger) {
                Ok(l) => l,
                Err(e) => return e,
            };
            let opts = EvalOptions { period, as_of, explain: true };
            let outcome = evaluate(&c.program, &facts_v, &ledger, opts);
            let mut rep = report::eval_report(&c.program, &outcome, name.clone(), lang.into());
            let advice: Vec<huiqi::eval::advise::ClauseAdvice> = if advise {
                outcome
                    .results
                    .iter()
                    .map(|r| huiqi::eval::advise::advise(&c.program, &facts_v, &ledger, opts, r))
                    .collect()
            } else {
                Vec::new()
            };
            for (r, a) in rep.results.iter_mut().zip(&advice) {
                let (adv, fixed) = report::advice_json(a, lang.into());
                r.advice = Some(adv);
                r.unchangeable = Some(fixed);
            }
            match format {
                EvalFormat::Json => outln!("{}", rep.to_json_text()),
                EvalFormat::Jsonl => outln!("{}", serde_json::to_string(&rep).unwrap_or_default()),
                EvalFormat::Html => out!("{}", sheet::render(&c.program, &rep, &rule_set, lang.into())),
                EvalFormat::Table | EvalFormat::Csv | EvalFormat::Parquet => {
                    out!("{}", table::eval_table(&c.program, &outcome, name.as_deref(), lang.into()));
                    if advise {
                        out!("{}", table::advice_section(&c.program, &outcome, &advice, lang.into()));
                    }
                }
            }
            for e in &rep.errors {
                errln!("error[{}]: {}.{}: {}", e.code, e.policy, e.clause, e.message);
            }
            if rep.errors.is_empty() { Exit::Success } else { Exit::Failure }
        }
        Command::Simulate { facts, from, to, ledger, ledger_out, format, lang, policies, summary } => {
            if to < from {
                return usage(format!("--to {to} is before --from {from}"));
            }
            if to - from > 100 {
                return usage("simulate at most 100 years at a time");
            }
            let c = match build(policies, DiagFormat::Human, false) {
                Ok(c) => c,
                Err(e) => return e,
            };
            let (facts_v, name, fas_of) = match open_facts(&facts) {
                Ok(Facts1::Many(input, first, reader)) => {
                    let src = match input {
                        batch::Input::JsonLines => forecast::Source::Json(first, reader),
                        batch::Input::Csv => forecast::Source::Csv(reader),
                        batch::Input::Parquet(_) => {
                            return usage(
                                "a population simulation reads JSON lines (`.jsonl` or `-`) or CSV; write the Parquet rows out with `huiqi eval --facts POP.parquet --format jsonl`-style tools first",
                            );
                        }
                    };
                    let before = match ledger {
                        Some(p) => match read_population_ledger(&c, &p) {
                            Ok(h) => Some(h),
                            Err(e) => return e,
                        },
                        None => None,
                    };
                    let out = match ledger_out {
                        Some(p) => match std::fs::File::create(&p) {
                            Ok(f) => Some((std::io::BufWriter::new(f), p.display().to_string())),
                            Err(e) => return usage(format!("cannot write `{}`: {e}", p.display())),
                        },
                        None => None,
                    };
                    let format = match format {
                        SimFormat::Jsonl | SimFormat::Json => forecast::Format::Jsonl,
                        SimFormat::Csv => forecast::Format::Csv,
                        SimFormat::Table => forecast::Format::Table,
                    };
                    let hist = forecast::Histories { before, out };
                    return forecast::run(&c, src, from, to, format, summary, lang.into(), hist);
                }
                Ok(Facts1::One(text)) => match read_facts_text(&c, &facts, &text) {
                    Ok((f, n, _, a)) => (f, n, a),
                    Err(e) => return e,
                },
                Err(e) => return e,
            };
            if summary {
                return usage(
                    "--summary is the budget over a population; for one enterprise the table already ends with its totals",
                );
            }
            if matches!(format, SimFormat::Jsonl | SimFormat::Csv) {
                return usage(
                    "--format jsonl and csv write one row per enterprise of a population; for one enterprise use table or json",
                );
            }
            if let Some(d) = fas_of {
                return usage(format!(
                    "the facts give `$as_of` {d}, but `simulate` evaluates each year at its last day; remove `$as_of`, or use `eval --period YEAR`"
                ));
            }
            let ledger = match read_ledger(&c.program, ledger) {
                Ok(l) => l,
                Err(e) => return e,
            };
            let years = huiqi::eval::simulate::simulate(&c.program, &facts_v, &ledger, from, to, true);
            let failed = years.iter().any(|y| !y.outcome.errors.is_empty());
            if let Some(p) = &ledger_out {
                // one enterprise: its ledger after the last year, as `--ledger` reads it
                let last = years.last().map_or_else(|| ledger.to_json(), |y| y.ledger.to_json());
                let text = serde_json::to_string_pretty(&last).unwrap_or_default() + "\n";
                if let Err(e) = std::fs::write(p, text) {
                    return usage(format!("cannot write `{}`: {e}", p.display()));
                }
            }
            match format {
                SimFormat::Json => {
                    let mut grand = Some(rust_decimal::Decimal::ZERO);
                    let ys: Vec<report::YearReport> = years
                        .iter()
                        .map(|y| {
                            let r = report::eval_report(&c.program, &y.outcome, None, lang.into());
                            grand = grand.zip(y.outcome.total().ok()).and_then(|(a, b)| a.checked_add(b));
                            report::YearReport {
                                period: r.period,
                                as_of: r.as_of,
                                results: r.results,
                                total: r.total,
                                errors: r.errors,
                                ledger: y.ledger.to_json(),
                            }
                        })
                        .collect();
                    let last = years.last().map_or_else(|| ledger.to_json(), |y| y.ledger.to_json());
                    let rep = report::SimulateReport {
                        schema_version: report::EVAL_SCHEMA_VERSION,
                        enterprise: name,
                        from,
                        to,
                        years: ys,
                        ledger: last,
                        total: grand.map(huiqi::value::fmt_yuan),
                    };
                    outln!("{}", serde_json::to_string_pretty(&rep).unwrap_or_default());
                }
                SimFormat::Table | SimFormat::Jsonl | SimFormat::Csv => {
                    out!("{}", table::simulate_table(&c.program, &years, name.as_deref(), lang.into()))
                }
            }
            if failed { Exit::Failure } else { Exit::Success }
        }
        Command::Fmt { paths, check, keywords } => fmt(paths, check, keywords.as_deref()),
        Command::GenPopulation { count, seed, period, format, output, policies } => {
            if format == PopFormat::Parquet {
                let c = match build(policies, DiagFormat::Human, false) {
                    Ok(c) => c,
                    Err(e) => return e,
                };
                let sink: Box<dyn Write + Send> = match &output {
                    Some(p) => match std::fs::File::create(p) {
                        Ok(f) => Box::new(f),
                        Err(e) => return usage(format!("cannot write `{}`: {e}", p.display())),
                    },
                    None if std::io::stdout().is_terminal() => {
                        return usage("Parquet is binary: pass `--output FILE` or pipe it");
                    }
                    None => Box::new(std::io::stdout()),
                };
                return match batch::population_parquet(&c.program, count, seed, period, sink) {
                    Ok(()) => Exit::Success,
                    Err(e) => usage(format!("cannot write the population: {e}")),
                };
            }
            if let Some(p) = output {
                let mut out = match std::fs::File::create(&p) {
                    Ok(f) => std::io::BufWriter::new(f),
                    Err(e) => return usage(format!("cannot write `{}`: {e}", p.display())),
                };
                for e in huiqi::population::population_lines(count, seed, period) {
                    if let Err(err) = out.write_all(e.as_bytes()).and_then(|()| out.write_all(b"\n")) {
                        return usage(format!("cannot write `{}`: {err}", p.display()));
                    }
                }
                return match out.flush() {
                    Ok(()) => Exit::Success,
                    Err(e) => usage(format!("cannot write `{}`: {e}", p.display())),
                };
            }
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            for e in huiqi::population::population_lines(count, seed, period) {
                if out.write_all(e.as_bytes()).is_err() || out.write_all(b"\n").is_err() {
                    // a closed pipe (e.g. `| head`) ends the output quietly
                    return Exit::Success;
                }
            }
            // a closed pipe when flushing ends the output quietly too
            let _ = out.flush();
            Exit::Success
        }
        Command::Ir { paths, format, clause } => {
            let c = match build(paths, DiagFormat::Human, false) {
                Ok(c) => c,
                Err(e) => return e,
            };
            let mut view = huiqi::ir::view::program(&c.program);
            if let Some(want) = clause {
                view.clauses.retain(|x| format!("{}.{}", x.policy, x.clause) == want);
                if view.clauses.is_empty() {
                    return usage(format!("no clause `{want}`; name one as `E23.5`"));
                }
            }
            let text = match format {
                IrFormat::Json => serde_json::to_string_pretty(&view).map_err(|e| e.to_string()),
                IrFormat::Yaml => serde_yaml::to_string(&view).map_err(|e| e.to_string()),
            };
            match text {
                Ok(t) => {
                    outln!("{t}");
                    Exit::Success
                }
                Err(e) => usage(e),
            }
        }
        Command::Test { paths, format, coverage, min_coverage } => {
            let c = match build(paths, DiagFormat::Human, false) {
                Ok(c) => c,
                Err(e) => return e,
            };
            let r = huiqi::testing::run(&c.program, &c.sources);
            match format {
                TestFormat::Text => out!("{}", huiqi::testing::render(&r)),
                TestFormat::Junit => out!("{}", huiqi::junit::render(&r)),
            }
            let _ = std::io::stdout().flush();
            let mut exit = if r.failed() == 0 { Exit::Success } else { Exit::Failure };
            if coverage || min_coverage.is_some() {
                let cov = huiqi::coverage::measure(&c.program);
                let text = huiqi::coverage::render(&cov);
                // JUnit XML owns standard output; the table then goes to standard error
                match format {
                    TestFormat::Text => out!("\n{text}"),
                    TestFormat::Junit => err!("{text}"),
                }
                if let Some(min) = min_coverage
                    && !cov.meets(min)
                {
                    errln!("error: clause coverage {}% is below --min-coverage {min}%", cov.percent());
                    exit = Exit::Failure;
                }
            }
            exit
        }
        Command::Diff(args) => diff::run(args),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::run(args),
        Command::Lsp { folder } => lsp::run(folder),
        Command::Doc { paths, out, example } => match build_input(paths, DiagFormat::Human, false) {
            Ok((c, input)) => doc(&c, &input, &out, example),
            Err(e) => e,
        },
    }
}

/// `huiqi doc`: the literate pages, then the calculator page when this build carries the
/// WebAssembly module (a release build with `scripts/setup-wasm` done).
fn doc(c: &Compiled, input: &Input, out: &std::path::Path, example: Option<PathBuf>) -> Exit {
    let example = match example.map(|p| std::fs::read_to_string(&p).map_err(|e| (p, e))).transpose() {
        Ok(e) => e,
        Err((p, e)) => {
            return usage(format!("cannot read the example `{}`: {e}; name a facts JSON file", p.display()));
        }
    };
    let exit = site::run(c, &input.source_texts, out);
    if !matches!(exit, Exit::Success) {
        return exit;
    }
    match calculator::write_calculator(out, &input.rule_files, example.as_deref()) {
        Ok(true) => {
            errln!("wrote {} (open it over HTTP)", out.join("calculator.html").display());
            Exit::Success
        }
        Ok(false) => {
            errln!("note: {}", calculator::NOT_BUNDLED);
            Exit::Success
        }
        Err(e) => usage(format!("cannot write the calculator into `{}`: {e}", out.display())),
    }
}

/// `huiqi fmt`: rewrites (or with `check`, lists) the files whose layout is not canonical,
/// or (with `keywords`) whose keywords are not all in that language. A file that does not
/// parse is reported and left alone.
fn fmt(paths: Vec<PathBuf>, check: bool, keywords: Option<&str>) -> Exit {
    use huiqi::syntax::keywords::Lang;
    let lang = keywords.map(|k| if k == "zh" { Lang::Zh } else { Lang::En });
    let files = match huiqi::load::rule_files(&default_paths(paths)) {
        Ok(f) => f,
        Err(e) => return usage(e),
    };
    let mut changed = 0;
    let mut broken = false;
    for path in files {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => return usage(format!("cannot read `{}`: {e}", path.display())),
        };
        let mut sources = SourceMap::new();
        let id = sources.add(path.display().to_string(), text.clone());
        if let Err(diags) = huiqi::syntax::parse(id, &text) {
            err!("{}", render_short(&diags, &sources));
            broken = true;
            continue;
        }
        let converted = match lang.map(|l| huiqi::syntax::keywords::convert(&text, l)) {
            None => text.clone(),
            Some(Ok(c)) => c,
            Some(Err(d)) => {
                err!("{}", render_short(&[*d], &sources));
                broken = true;
                continue;
            }
        };
        let Some(formatted) = huiqi::fmt::format_source(&converted) else {
            errln!(
                "error: `{}` cannot be formatted without changing more than white space (please report this)",
                path.display()
            );
            broken = true;
            continue;
        };
        if formatted == text {
            continue;
        }
        changed += 1;
        outln!("{}", path.display());
        if !check && let Err(e) = std::fs::write(&path, formatted) {
            return usage(format!("cannot write `{}`: {e}", path.display()));
        }
    }
    if broken || (check && changed > 0) { Exit::Failure } else { Exit::Success }
}

enum Facts1 {
    /// One enterprise: the whole text.
    One(String),
    /// A population: its kind, the rows already read (a row that is not UTF-8 text carries
    /// why), and the rest of the input.
    Many(batch::Input, Vec<(usize, Result<String, String>)>, Box<dyn std::io::BufRead + Send>),
}

/// The usage error for facts past [`huiqi::load::MAX_INPUT_BYTES`].
fn too_large(arg: &str) -> Exit {
    usage(format!(
        "the facts in `{arg}` hold a row (or one enterprise) larger than {} MiB; one enterprise's facts are far smaller: check the file, or split it into JSON lines",
        huiqi::load::MAX_INPUT_BYTES >> 20
    ))
}

/// The next line that is not blank (as bytes, which need not be UTF-8) and its number; an
/// empty line at the end of the input.
fn next_line(reader: &mut dyn std::io::BufRead, line_no: &mut usize, arg: &str) -> Result<Vec<u8>, Exit> {
    use std::io::{BufRead, Read};
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .take(huiqi::load::MAX_INPUT_BYTES + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| usage(format!("cannot read facts `{arg}`: {e}")))?;
        if line.len() as u64 > huiqi::load::MAX_INPUT_BYTES {
            return Err(too_large(arg));
        }
        *line_no += 1;
        if n == 0 || !String::from_utf8_lossy(&line).trim().is_empty() {
            return Ok(line);
        }
    }
}

/// A population row's text, or why it is not text (the row then fails with E0401, as any
/// other row that is not UTF-8 does).
fn row_text(line: Vec<u8>) -> Result<String, String> {
    String::from_utf8(line)
        .map(|t| t.trim_end().to_string())
        .map_err(|e| format!("the row is not UTF-8 text: {}; facts are JSON in UTF-8", e.utf8_error()))
}

fn is_object(line: &[u8]) -> bool {
    matches!(serde_json::from_slice::<serde_json::Value>(line), Ok(serde_json::Value::Object(_)))
}

/// Opens `--facts` and decides: one enterprise, or a population (`.jsonl`, `.csv`, or more
/// than one line that each hold a whole JSON object). A first line that is not UTF-8 text is
/// a population's first row when the file is `.jsonl` or its next line is a whole object.
fn open_facts(arg: &str) -> Result<Facts1, Exit> {
    let mut reader: Box<dyn std::io::BufRead + Send> = if arg == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        let f = std::fs::File::open(arg).map_err(|e| usage(format!("cannot read facts `{arg}`: {e}")))?;
        Box::new(std::io::BufReader::new(f))
    };
    if arg.ends_with(".parquet") {
        if arg == "-" {
            return Err(usage("Parquet cannot be read from standard input; name the file"));
        }
        return Ok(Facts1::Many(batch::Input::Parquet(PathBuf::from(arg)), Vec::new(), reader));
    }
    if arg.ends_with(".csv") {
        return Ok(Facts1::Many(batch::Input::Csv, Vec::new(), reader));
    }
    let jsonl = arg.ends_with(".jsonl");
    let mut line_no = 0;
    let first = next_line(&mut reader, &mut line_no, arg)?;
    let first_no = line_no;
    let text = std::str::from_utf8(&first).is_ok();
    if jsonl || !text || is_object(&first) {
        let second = next_line(&mut reader, &mut line_no, arg)?;
        let blank = second.is_empty();
        if jsonl || (!blank && (text || is_object(&second))) {
            let mut rows = vec![(first_no, row_text(first))];
            if !blank {
                rows.push((line_no, row_text(second)));
            }
            return Ok(Facts1::Many(batch::Input::JsonLines, rows, reader));
        }
        if text && blank {
            return Ok(Facts1::One(String::from_utf8_lossy(&first).into_owned()));
        }
        let mut rest = first;
        rest.extend_from_slice(&second);
        return one(arg, rest, &mut reader);
    }
    one(arg, first, &mut reader)
}

/// One enterprise: the lines read so far and the rest of the input, as UTF-8 text.
fn one(arg: &str, mut bytes: Vec<u8>, reader: &mut dyn std::io::BufRead) -> Result<Facts1, Exit> {
    use std::io::Read;
    reader
        .take(huiqi::load::MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| usage(format!("cannot read facts `{arg}`: {e}")))?;
    if bytes.len() as u64 > huiqi::load::MAX_INPUT_BYTES {
        return Err(too_large(arg));
    }
    String::from_utf8(bytes)
        .map(Facts1::One)
        .map_err(|e| usage(format!("cannot read facts `{arg}`: the text is not UTF-8 ({})", e.utf8_error())))
}

/// One enterprise's facts with its `$name`, default period and `$as_of`.
type OneEnterprise = (Facts, Option<String>, Option<i32>, Option<Date>);

/// Validates one enterprise's facts; returns them with `$name` and a default period.
fn read_facts_text(c: &Compiled, arg: &str, text: &str) -> Result<OneEnterprise, Exit> {
    let text = text.to_string();
    let facts = match parse_facts(&c.program, &text) {
        Ok(f) => f,
        Err(errs) => {
            let diags: Vec<Diagnostic> = errs.into_iter().map(|e| e.into_diagnostic(arg)).collect();
            err!("{}", render_human(&diags, &c.sources, color()));
            errln!("{} problem(s) in the facts; nothing was evaluated", diags.len());
            return Err(Exit::Failure);
        }
    };
    let json = huiqi::json::Json::parse(&text).unwrap_or_default();
    let name = json.get("$name").or_else(|| json.get("$id")).and_then(|v| v.as_str()).map(String::from);
    let period = huiqi::eval::facts::default_period(&json, &facts);
    let as_of = huiqi::eval::facts::meta_as_of(&json).ok().flatten();
    Ok((facts, name, period, as_of))
}

/// Reads a population's histories (`simulate --ledger` with a population) and validates every
/// entry against the rule set; every problem is reported with its `file:line` and entry.
fn read_population_ledger(
    c: &Compiled,
    path: &std::path::Path,
) -> Result<(huiqi::forecast::PopulationLedger, String), Exit> {
    let file = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| usage(format!("cannot read ledger `{file}`: {e}")))?;
    match huiqi::forecast::PopulationLedger::read(&c.program, &text, &file) {
        Ok(h) => Ok((h, file)),
        Err(ds) => {
            err!("{}", render_human(&ds, &c.sources, color()));
            errln!("{} problem(s) in the ledger `{file}`; nothing was simulated", ds.len());
            Err(Exit::Failure)
        }
    }
}

/// Reads a ledger and validates it against the rule set (an entry that names nothing is an
/// error, never ignored).
fn read_ledger(prog: &huiqi::ir::Program, path: Option<PathBuf>) -> Result<Ledger, Exit> {
    let Some(p) = path else { return Ok(Ledger::default()) };
    let text = std::fs::read_to_string(&p)
        .map_err(|e| usage(format!("cannot read ledger `{}`: {e}", p.display())))?;
    let file = p.display().to_string();
    let ledger = Ledger::from_json(&text, &file).map_err(|d| {
        err!("{}", render_human(&[*d], &SourceMap::new(), color()));
        Exit::Failure
    })?;
    ledger.check(prog, &file).map_err(|ds| {
        err!("{}", render_human(&ds, &SourceMap::new(), color()));
        Exit::Failure
    })?;
    Ok(ledger)
}
