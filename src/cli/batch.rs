//! `huiqi eval` over a population: streaming chunks through the library's batch evaluation,
//! writing rows in input order, a progress bar on a terminal, the summary and the failures.

use super::Exit;
use huiqi::Compiled;
use huiqi::batch::{BatchOptions, Evaluated, Summary, csv_row, evaluate_chunk, evaluate_json_lines};
use huiqi::value::{fmt_money, fmt_yuan};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufRead, IsTerminal, Write};

/// Rows evaluated together (in parallel) before they are written.
const CHUNK: usize = 4096;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RowFormat {
    Jsonl,
    Csv,
    /// Only the budget summary.
    Table,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Input {
    JsonLines,
    Csv,
}

pub struct Run {
    pub format: RowFormat,
    pub opts: BatchOptions,
    pub quiet: bool,
    pub summary: bool,
}

/// Evaluates every row of `reader` (the first JSON line may already have been read).
pub fn run(
    c: &Compiled,
    input: Input,
    first: Vec<(usize, String)>,
    reader: Box<dyn BufRead>,
    run: Run,
) -> Exit {
    let progress = if !run.quiet && std::io::stderr().is_terminal() {
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {pos} enterprises evaluated ({per_sec}) {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb
    } else {
        ProgressBar::hidden()
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut summary = Summary::new(&c.program);
    let mut failures: Vec<(usize, String)> = Vec::new();
    let mut write_err = None;
    if run.format == RowFormat::Csv
        && let Err(e) = writeln!(out, "{}", csv_header(c))
    {
        write_err = Some(e);
    }
    let mut emit = |batch: Vec<Evaluated>, out: &mut dyn Write| -> std::io::Result<()> {
        for e in &batch {
            summary.add(e);
            if let Some(first) = e.row.errors.first() {
                failures.push((e.row.line, format!("{} at `{}`: {}", first.code, first.at, first.message)));
            }
            match run.format {
                RowFormat::Jsonl => writeln!(out, "{}", serde_json::to_string(&e.row).unwrap_or_default())?,
                RowFormat::Csv => writeln!(out, "{}", csv_line(c, e))?,
                RowFormat::Table => {}
            }
        }
        progress.inc(batch.len() as u64);
        Ok(())
    };
    let result: Result<(), String> = match input {
        Input::JsonLines => {
            let mut chunk: Vec<(usize, String)> = first;
            let mut line_no = chunk.last().map_or(0, |(l, _)| *l);
            let mut res = Ok(());
            for line in reader.lines() {
                line_no += 1;
                let text = match line {
                    Ok(t) => t,
                    Err(e) => {
                        res = Err(format!("cannot read line {line_no}: {e}"));
                        break;
                    }
                };
                if text.trim().is_empty() {
                    continue;
                }
                chunk.push((line_no, text));
                if chunk.len() >= CHUNK {
                    let done = evaluate_json_lines(&c.program, std::mem::take(&mut chunk), run.opts);
                    if let Err(e) = emit(done, &mut out) {
                        res = Err(e.to_string());
                        break;
                    }
                }
            }
            if res.is_ok() && !chunk.is_empty() {
                let done = evaluate_json_lines(&c.program, chunk, run.opts);
                res = emit(done, &mut out).map_err(|e| e.to_string());
            }
            res
        }
        Input::Csv => csv_rows(c, reader, run.opts, &mut |done| emit(done, &mut out)),
    };
    progress.finish_and_clear();
    if let Err(e) = out.flush() {
        write_err = Some(e);
    }
    if let Some(e) = write_err {
        eprintln!("error: cannot write the output: {e}");
        return Exit::Usage;
    }
    if let Err(e) = result {
        eprintln!("error: {e}");
        return Exit::Usage;
    }
    if run.summary || run.format == RowFormat::Table {
        let text = summary_table(c, &summary);
        if run.format == RowFormat::Table {
            print!("{text}");
        } else {
            eprint!("{text}");
        }
    }
    if !failures.is_empty() {
        eprintln!(
            "{} of {} rows failed (each has its errors in its output row):",
            failures.len(),
            summary.rows
        );
        for (line, msg) in failures.iter().take(10) {
            eprintln!("  line {line}: {msg}");
        }
        if failures.len() > 10 {
            eprintln!("  … and {} more", failures.len() - 10);
        }
        return Exit::Failure;
    }
    Exit::Success
}

fn csv_rows(
    c: &Compiled,
    reader: Box<dyn BufRead>,
    opts: BatchOptions,
    emit: &mut dyn FnMut(Vec<Evaluated>) -> std::io::Result<()>,
) -> Result<(), String> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(reader);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| format!("cannot read the CSV header: {e}"))?
        .iter()
        .map(String::from)
        .collect();
    let mut chunk = Vec::new();
    for rec in rdr.records() {
        let (line, row) = match rec {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line() as usize);
                let cells: Vec<String> = r.iter().map(String::from).collect();
                (line, csv_row(&header, &cells))
            }
            Err(e) => (
                e.position().map_or(0, |p| p.line() as usize),
                Err(format!("the CSV row cannot be read: {e}")),
            ),
        };
        chunk.push((line, row));
        if chunk.len() >= CHUNK {
            emit(evaluate_chunk(&c.program, std::mem::take(&mut chunk), opts)).map_err(|e| e.to_string())?;
        }
    }
    if !chunk.is_empty() {
        emit(evaluate_chunk(&c.program, chunk, opts)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn evaluated_clauses(c: &Compiled) -> impl Iterator<Item = (u32, String)> + '_ {
    c.program.clauses.iter().enumerate().filter(|(_, cl)| cl.kind.evaluated()).map(|(i, _)| {
        (u32::try_from(i).unwrap_or(u32::MAX), c.program.clause_ref(u32::try_from(i).unwrap_or(u32::MAX)))
    })
}

fn csv_header(c: &Compiled) -> String {
    let mut h =
        vec!["line".to_string(), "enterprise".into(), "period".into(), "total".into(), "error".into()];
    for (_, r) in evaluated_clauses(c) {
        h.push(format!("status:{r}"));
        h.push(format!("amount:{r}"));
    }
    h.join(",")
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn csv_line(c: &Compiled, e: &Evaluated) -> String {
    let r = &e.row;
    let mut f = vec![
        r.line.to_string(),
        csv_field(r.enterprise.as_deref().unwrap_or("")),
        r.period.map(|p| p.to_string()).unwrap_or_default(),
        r.total.clone().unwrap_or_default(),
        csv_field(
            &r.errors.first().map(|x| format!("{} at {}: {}", x.code, x.at, x.message)).unwrap_or_default(),
        ),
    ];
    for (id, _) in evaluated_clauses(c) {
        let res = e.outcome.as_ref().and_then(|o| o.results.iter().find(|x| x.clause == id));
        f.push(res.map(|x| x.status.as_str().to_string()).unwrap_or_default());
        f.push(res.and_then(|x| x.amount).map(fmt_yuan).unwrap_or_default());
    }
    f.join(",")
}

fn summary_table(c: &Compiled, s: &Summary) -> String {
    let mut out = format!("budget over {} enterprises ({} failed)\n", s.rows, s.failed);
    out.push_str(&format!(
        "{:<9} {:>10} {:>14} {:>22}\n",
        "clause", "granted", "discretionary", "total (yuan)"
    ));
    for (id, cs) in s.lines() {
        out.push_str(&format!(
            "{:<9} {:>10} {:>14} {:>22}\n",
            c.program.clause_ref(id),
            cs.granted,
            cs.discretionary,
            fmt_yuan(cs.total)
        ));
    }
    let g = s.grand_total();
    out.push_str(&format!("total cash granted: {} ({} yuan)\n", fmt_money(g), fmt_yuan(g)));
    out
}
