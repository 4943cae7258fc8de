//! `huiqi eval` over a population: a reader thread cuts the input into chunks, the library's
//! batch evaluation works on each chunk on every core, and a writer thread writes the rows in
//! input order, with a progress bar on a terminal; then the summary and the failures.

use super::Exit;
use super::table::{lpad, pad};
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
    /// The language of the budget summary.
    pub lang: huiqi::eval::Lang,
}

/// The input, as the reader thread gets it.
type Reader = Box<dyn BufRead + Send>;

/// A chunk of JSON lines: line number and text, or why the line is not text.
pub type Rows = Vec<(usize, Result<String, String>)>;

/// A chunk of input rows, as the reader thread hands them over.
enum Chunk {
    Json(Rows),
    Csv(Vec<(usize, Result<serde_json::Value, String>)>),
}

/// What the writer thread ends with.
struct Written {
    summary: Summary,
    failures: Vec<(usize, String)>,
    result: std::io::Result<()>,
}

/// Evaluates every row of `reader` (the first JSON lines may already have been read).
///
/// Three stages, so that no core waits on another's serial work: the reader thread cuts the
/// input into chunks, this thread has each chunk evaluated on every core (rayon), and the
/// writer thread writes the rows in input order and adds them to the summary. Each channel
/// holds at most two chunks, so memory stays flat.
pub fn run(c: &Compiled, input: Input, first: Rows, reader: Reader, run: Run) -> Exit {
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
    let (read, written) = std::thread::scope(|s| {
        let (tx_in, rx_in) = sync_channel::<Result<Chunk, String>>(2);
        let (tx_out, rx_out) = sync_channel::<Vec<Evaluated<'_>>>(2);
        s.spawn(move || match input {
            Input::JsonLines => read_json_lines(first, reader, &tx_in),
            Input::Csv => read_csv(reader, &tx_in),
        });
        let header = (run.format == RowFormat::Csv).then(|| batch.csv_header());
        let writer = s.spawn(|| write_rows(&c.program, run.format, header, rx_out, &progress));
        let mut read = Ok(());
        for chunk in rx_in {
            let done = match chunk {
                Ok(Chunk::Json(rows)) => batch.json_lines(rows),
                Ok(Chunk::Csv(rows)) => batch.values(rows),
                Err(e) => {
                    read = Err(e);
                    break;
                }
            };
            if tx_out.send(done).is_err() {
                // the writer stopped on an error, which it reports
                break;
            }
        }
        // dropping the channels ends the reader at its next chunk and the writer after the last
        drop(tx_out);
        let written = writer.join().unwrap_or_else(|_| Written {
            summary: Summary::new(&c.program),
            failures: Vec::new(),
            result: Err(std::io::Error::other("the writer thread stopped")),
        });
        (read, written)
    });
    progress.finish_and_clear();
    let Written { summary, failures, result } = written;
    // a reader that closed the pipe (`| head`) has what it wanted
    if let Err(e) = &result
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        return Exit::Success;
    }
    if let Err(e) = result {
        errln!("error: cannot write the output: {e}");
        return Exit::Usage;
    }
    if let Err(e) = read {
        errln!("error: {e}");
        return Exit::Usage;
    }
    if run.summary || run.format == RowFormat::Table {
        let text = summary_table(c, &summary, run.lang);
        if run.format == RowFormat::Table {
            out!("{text}");
        } else {
            err!("{text}");
        }
    }
    if summary.grand_total().is_err() {
        return Exit::Failure;
    }
    if !failures.is_empty() {
        errln!("{} of {} rows failed (each has its errors in its output row):", failures.len(), summary.rows);
        for (line, msg) in failures.iter().take(10) {
            errln!("  line {line}: {msg}");
        }
        if failures.len() > 10 {
            errln!("  … and {} more", failures.len() - 10);
        }
        return Exit::Failure;
    }
    Exit::Success
}

/// The writer thread: rows in input order to standard output, the summary, the failures.
fn write_rows(
    prog: &huiqi::ir::Program,
    format: RowFormat,
    header: Option<String>,
    rx: std::sync::mpsc::Receiver<Vec<Evaluated<'_>>>,
    progress: &ProgressBar,
) -> Written {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut w = Written { summary: Summary::new(prog), failures: Vec::new(), result: Ok(()) };
    if let Some(h) = header {
        w.result = writeln!(out, "{h}");
    }
    for done in rx {
        if w.result.is_err() {
            break;
        }
        for e in &done {
            w.summary.add(e);
            if let Some(first) = e.row.errors.first() {
                w.failures.push((e.row.line, format!("{} at `{}`: {}", first.code, first.at, first.message)));
            }
            if format != RowFormat::Table
                && let Err(err) = out.write_all(e.text.as_bytes()).and_then(|()| out.write_all(b"\n"))
            {
                w.result = Err(err);
                break;
            }
        }
        progress.inc(done.len() as u64);
    }
    if w.result.is_ok() {
        w.result = out.flush();
    }
    w
}

/// The reader thread: chunks of non-blank lines with their line numbers. A line that is not
/// UTF-8 is kept as a row (its evaluation reports it); only a failing read ends the input.
fn read_json_lines(first: Rows, mut reader: Reader, tx: &std::sync::mpsc::SyncSender<Result<Chunk, String>>) {
    let mut chunk: Rows = first;
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
        if chunk.len() >= CHUNK && tx.send(Ok(Chunk::Json(std::mem::take(&mut chunk)))).is_err() {
            return;
        }
    }
    if !chunk.is_empty() {
        let _ = tx.send(Ok(Chunk::Json(chunk)));
    }
}

/// The reader thread for CSV: records as facts objects by their column paths.
fn read_csv(reader: Reader, tx: &std::sync::mpsc::SyncSender<Result<Chunk, String>>) {
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(reader);
    let header: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(String::from).collect(),
        Err(e) => {
            let _ = tx.send(Err(format!("cannot read the CSV header: {e}")));
            return;
        }
    };
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
        if chunk.len() >= CHUNK && tx.send(Ok(Chunk::Csv(std::mem::take(&mut chunk)))).is_err() {
            return;
        }
    }
    if !chunk.is_empty() {
        let _ = tx.send(Ok(Chunk::Csv(chunk)));
    }
}

fn summary_table(c: &Compiled, s: &Summary, lang: huiqi::eval::Lang) -> String {
    let zh = lang == huiqi::eval::Lang::Zh;
    let mut out = if zh {
        format!("共 {} 家企业的预算（{} 家出错）\n", s.rows, s.failed)
    } else {
        format!("budget over {} enterprises ({} failed)\n", s.rows, s.failed)
    };
    let head = if zh {
        ["条款", "给予", "酌定", "合计（元）"]
    } else {
        ["clause", "granted", "discretionary", "total (yuan)"]
    };
    out.push_str(&format!(
        "{} {} {} {}\n",
        pad(head[0], 9),
        lpad(head[1], 10),
        lpad(head[2], 14),
        lpad(head[3], 22)
    ));
    for (id, cs) in s.lines() {
        out.push_str(&format!(
            "{:<9} {:>10} {:>14} {:>22}\n",
            c.program.clause_ref(id),
            cs.granted,
            cs.discretionary,
            cs.total.map_or_else(|| "E0504 overflow".into(), fmt_yuan)
        ));
    }
    match (s.grand_total(), zh) {
        (Ok(g), true) => out.push_str(&format!("合计给予资金：{}（{} 元）\n", fmt_money(g), fmt_yuan(g))),
        (Ok(g), false) => out.push_str(&format!("total cash granted: {} ({} yuan)\n", fmt_money(g), fmt_yuan(g))),
        (Err(o), true) => out.push_str(&format!(
            "合计给予资金：error[E0504]：加到 `{}` 时合计溢出（超出 28 位精确小数）\n",
            c.program.clause_ref(o.clause)
        )),
        (Err(o), false) => out.push_str(&format!(
            "total cash granted: error[E0504]: the sum overflows at `{}` (more than an exact decimal of 28 digits holds)\n",
            c.program.clause_ref(o.clause)
        )),
    }
    out
}
