//! `huiqi eval` over a population: a reader thread cuts the input into chunks while the
//! library's batch evaluation works on the previous one on every core; rows are written in
//! input order, with a progress bar on a terminal, then the summary and the failures.

use super::Exit;
use huiqi::Compiled;
use huiqi::batch::{Batch, BatchOptions, Evaluated, RowFormat, Summary, csv_row};
use huiqi::value::{fmt_money, fmt_yuan};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufRead, IsTerminal, Write};
use std::sync::mpsc::sync_channel;

/// Rows evaluated together (in parallel) before they are written.
const CHUNK: usize = 1024;

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

/// The input, as the reader thread gets it.
type Reader = Box<dyn BufRead + Send>;

/// A chunk of JSON lines: line number and text, or why the line is not text.
type Rows = Vec<(usize, Result<String, String>)>;

/// Evaluates every row of `reader` (the first JSON lines may already have been read).
pub fn run(c: &Compiled, input: Input, first: Vec<(usize, String)>, reader: Reader, run: Run) -> Exit {
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
    let batch = Batch::new(&c.program, run.opts, run.format);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut summary = Summary::new(&c.program);
    let mut failures: Vec<(usize, String)> = Vec::new();
    let mut write_err = None;
    if run.format == RowFormat::Csv
        && let Err(e) = writeln!(out, "{}", batch.csv_header())
    {
        write_err = Some(e);
    }
    let mut emit = |done: Vec<Evaluated<'_>>, out: &mut dyn Write| -> std::io::Result<()> {
        for e in &done {
            summary.add(e);
            if let Some(first) = e.row.errors.first() {
                failures.push((e.row.line, format!("{} at `{}`: {}", first.code, first.at, first.message)));
            }
            if run.format != RowFormat::Table {
                out.write_all(e.text.as_bytes())?;
                out.write_all(b"\n")?;
            }
        }
        progress.inc(done.len() as u64);
        Ok(())
    };
    let result: Result<(), String> = match input {
        Input::JsonLines => std::thread::scope(|s| {
            // the reader runs ahead by at most two chunks, so memory stays flat
            let (tx, rx) = sync_channel::<Result<Rows, String>>(2);
            s.spawn(move || read_json_lines(first, reader, &tx));
            let mut res = Ok(());
            for chunk in rx {
                let rows = match chunk {
                    Ok(rows) => rows,
                    Err(e) => {
                        res = Err(e);
                        break;
                    }
                };
                if let Err(e) = emit(batch.json_lines(rows), &mut out) {
                    res = Err(e.to_string());
                    break;
                }
            }
            // dropping the receiver ends the reader at its next chunk
            res
        }),
        Input::Csv => csv_rows(&batch, reader, &mut |done| emit(done, &mut out)),
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

/// The reader thread: chunks of non-blank lines with their line numbers. A line that is not
/// UTF-8 is kept as a row (its evaluation reports it); only a failing read ends the input.
fn read_json_lines(
    first: Vec<(usize, String)>,
    mut reader: Reader,
    tx: &std::sync::mpsc::SyncSender<Result<Rows, String>>,
) {
    let mut chunk: Rows = first.into_iter().map(|(l, t)| (l, Ok(t))).collect();
    let mut line_no = chunk.last().map_or(0, |(l, _)| *l);
    let mut buf = Vec::with_capacity(4096);
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                let _ = tx.send(Err(format!("cannot read line {}: {e}", line_no + 1)));
                return;
            }
        }
        line_no += 1;
        // SIMD validation: most of the text is Chinese, which the standard check walks slowly
        let text = match simdutf8::basic::from_utf8(&buf).map_err(|_| std::str::from_utf8(&buf)) {
            Ok(t) if t.trim().is_empty() => continue,
            Ok(t) => Ok(t.trim_end_matches(['\n', '\r']).to_string()),
            Err(Err(e)) => Err(format!("the row is not UTF-8 text: {e}; facts are JSON in UTF-8")),
            Err(Ok(t)) => Ok(t.trim_end_matches(['\n', '\r']).to_string()),
        };
        chunk.push((line_no, text));
        if chunk.len() >= CHUNK && tx.send(Ok(std::mem::take(&mut chunk))).is_err() {
            return;
        }
    }
    if !chunk.is_empty() {
        let _ = tx.send(Ok(chunk));
    }
}

fn csv_rows(
    batch: &Batch<'_>,
    reader: Reader,
    emit: &mut dyn FnMut(Vec<Evaluated<'_>>) -> std::io::Result<()>,
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
            emit(batch.values(std::mem::take(&mut chunk))).map_err(|e| e.to_string())?;
        }
    }
    if !chunk.is_empty() {
        emit(batch.values(chunk)).map_err(|e| e.to_string())?;
    }
    Ok(())
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
