//! `huiqi eval` over a population: a reader thread cuts the input into chunks, the library's
//! batch evaluation works on each chunk on every core, and a writer thread writes the rows in
//! input order, with a progress bar on a terminal; then the summary and the failures.

use super::Exit;
use super::table::{lpad, pad};
use huiqi::Compiled;
use huiqi::batch::{BatchOptions, Evaluated, RowFormat, Summary, Tally, csv_row};
use huiqi::columnar::Columnar;
use huiqi::value::{fmt_money, fmt_yuan};
use indicatif::{ProgressBar, ProgressStyle};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::mpsc::sync_channel;

/// Rows evaluated together (in parallel) before they are written.
const CHUNK: usize = 1024;

pub enum Input {
    JsonLines,
    Csv,
    /// A Parquet file: its columns are fact paths, read into facts straight from the arrays.
    Parquet(PathBuf),
}

/// Where the rows go.
pub enum Sink {
    Stdout,
    File(PathBuf),
}

pub struct Run {
    pub format: RowFormat,
    pub opts: BatchOptions,
    pub quiet: bool,
    pub summary: bool,
    /// The language of the budget summary.
    pub lang: huiqi::eval::Lang,
    /// Rows as Parquet (line, enterprise, period, total, error, status and amount per clause)
    /// rather than in `format`.
    pub parquet: bool,
    pub sink: Sink,
}

/// The input, as the reader thread gets it.
type Reader = Box<dyn BufRead + Send>;

/// A chunk of JSON lines: line number and text, or why the line is not text.
pub type Rows = Vec<(usize, Result<String, String>)>;

/// A chunk of input rows, as the reader thread hands them over.
enum Chunk {
    Json(Rows),
    Csv(Vec<(usize, Result<huiqi::json::Json, String>)>),
    /// A record batch and the row number of its first row.
    Arrow(arrow_array::RecordBatch, usize),
}

/// An evaluated chunk, as the writer thread gets it: its rows, or in the budget view (no rows
/// written) only what they add to the budget.
enum Done<'p> {
    Rows(Vec<Evaluated<'p>>),
    Tally(Tally),
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
    let sink: Box<dyn Write + Send> = match &run.sink {
        Sink::Stdout => Box::new(std::io::stdout()),
        Sink::File(p) => match std::fs::File::create(p) {
            Ok(f) => Box::new(f),
            Err(e) => {
                errln!("error: cannot write `{}`: {e}", p.display());
                return Exit::Usage;
            }
        },
    };
    let row_format = if run.parquet { RowFormat::Table } else { run.format };
    let columnar = Columnar::new(&c.program, run.opts, row_format);
    let batch = columnar.batch();
    let parquet = run.parquet.then_some(&columnar);
    let (read, written) = std::thread::scope(|s| {
        let (tx_in, rx_in) = sync_channel::<Result<Chunk, String>>(2);
        let (tx_out, rx_out) = sync_channel::<Done<'_>>(2);
        s.spawn(move || match input {
            Input::JsonLines => read_json_lines(first, reader, &tx_in),
            Input::Csv => read_csv(reader, &tx_in),
            Input::Parquet(path) => read_parquet(&path, &tx_in),
        });
        let header = (row_format == RowFormat::Csv).then(|| batch.csv_header());
        // the budget view writes no rows: the workers sum the verdicts themselves
        let tally = row_format == RowFormat::Table && !run.parquet;
        let writer = s.spawn(|| write_rows(&c.program, row_format, header, rx_out, &progress, sink, parquet));
        let mut read = Ok(());
        for chunk in rx_in {
            let done = match chunk {
                Ok(Chunk::Json(rows)) if tally => Done::Tally(batch.json_lines_tally(&rows)),
                Ok(Chunk::Json(rows)) => Done::Rows(batch.json_lines(rows)),
                Ok(Chunk::Csv(rows)) => Done::Rows(batch.values(rows)),
                Ok(Chunk::Arrow(rb, first)) if tally => Done::Tally(columnar.evaluate_tally(&rb, first)),
                Ok(Chunk::Arrow(rb, first)) => Done::Rows(columnar.evaluate(&rb, first)),
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
    let table_on_stdout = run.format == RowFormat::Table && !run.parquet && matches!(run.sink, Sink::Stdout);
    if run.summary || table_on_stdout {
        let text = summary_table(c, &summary, run.lang);
        if table_on_stdout {
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
    rx: std::sync::mpsc::Receiver<Done<'_>>,
    progress: &ProgressBar,
    sink: Box<dyn Write + Send>,
    parquet: Option<&Columnar<'_>>,
) -> Written {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, sink);
    let mut w = Written { summary: Summary::new(prog), failures: Vec::new(), result: Ok(()) };
    if let Some(h) = header {
        w.result = writeln!(out, "{h}");
    }
    let mut pq = match parquet {
        Some(col) => {
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::SNAPPY)
                .set_max_row_group_row_count(Some(64 * 1024))
                .build();
            match ArrowWriter::try_new(out, col.output_schema(), Some(props)) {
                Ok(wr) => Ok((wr, col)),
                Err(e) => {
                    return Written { result: Err(std::io::Error::other(e.to_string())), ..w };
                }
            }
        }
        None => Err(out),
    };
    for done in rx {
        if w.result.is_err() {
            break;
        }
        let done = match done {
            Done::Rows(rows) => rows,
            Done::Tally(t) => {
                w.summary.merge(&t.summary);
                w.failures.extend(
                    t.failures
                        .into_iter()
                        .map(|(line, e)| (line, format!("{} at `{}`: {}", e.code, e.at, e.message))),
                );
                progress.inc(t.summary.rows);
                continue;
            }
        };
        if let Ok((wr, col)) = &mut pq {
            w.result = col
                .to_arrow(&done)
                .map_err(|e| std::io::Error::other(e.to_string()))
                .and_then(|rb| wr.write(&rb).map_err(|e| std::io::Error::other(e.to_string())));
        }
        for e in &done {
            w.summary.add(e);
            if let Some(first) = e.row.errors.first() {
                w.failures.push((e.row.line, format!("{} at `{}`: {}", first.code, first.at, first.message)));
            }
            if format != RowFormat::Table
                && let Err(out) = &mut pq
                && let Err(err) = out.write_all(e.text.as_bytes()).and_then(|()| out.write_all(b"\n"))
            {
                w.result = Err(err);
                break;
            }
        }
        progress.inc(done.len() as u64);
    }
    if w.result.is_ok() {
        w.result = match pq {
            Ok((wr, _)) => wr.close().map(|_| ()).map_err(|e| std::io::Error::other(e.to_string())),
            Err(mut out) => out.flush(),
        };
    }
    w
}

/// The reader thread for Parquet: record batches of [`CHUNK`] rows.
fn read_parquet(path: &std::path::Path, tx: &std::sync::mpsc::SyncSender<Result<Chunk, String>>) {
    let reader = std::fs::File::open(path)
        .map_err(|e| e.to_string())
        .and_then(|f| ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| e.to_string()))
        .and_then(|b| b.with_batch_size(CHUNK).build().map_err(|e| e.to_string()));
    let reader = match reader {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Err(format!("cannot read Parquet `{}`: {e}", path.display())));
            return;
        }
    };
    let mut line = 1;
    for rb in reader {
        match rb {
            Ok(rb) => {
                let n = rb.num_rows();
                if tx.send(Ok(Chunk::Arrow(rb, line))).is_err() {
                    return;
                }
                line += n;
            }
            Err(e) => {
                let _ = tx.send(Err(format!(
                    "cannot read Parquet `{}` after row {}: {e}",
                    path.display(),
                    line - 1
                )));
                return;
            }
        }
    }
}

/// `gen-population --format parquet`: the population drawn twice (it is deterministic), once
/// to learn its columns and once to write them, in row groups of 64 Ki rows.
pub fn population_parquet(
    prog: &huiqi::ir::Program,
    count: u64,
    seed: u64,
    period: i32,
    sink: Box<dyn Write + Send>,
) -> Result<(), String> {
    use huiqi::columnar::Flattener;
    use huiqi::json::Json;
    let mut flat = Flattener::new(prog);
    for text in huiqi::population::population_lines(count, seed, period) {
        flat.observe(&Json::parse(&text).map_err(|e| e.to_string())?);
    }
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .set_max_row_group_row_count(Some(64 * 1024))
        .build();
    let mut w =
        ArrowWriter::try_new(std::io::BufWriter::with_capacity(1 << 20, sink), flat.schema(), Some(props))
            .map_err(|e| e.to_string())?;
    let mut rows = Vec::with_capacity(8192);
    let mut lines = huiqi::population::population_lines(count, seed, period).peekable();
    while lines.peek().is_some() {
        rows.clear();
        for text in lines.by_ref().take(8192) {
            rows.push(Json::parse(&text).map_err(|e| e.to_string())?);
        }
        let rb = flat.to_arrow(&rows).map_err(|e| e.to_string())?;
        w.write(&rb).map_err(|e| e.to_string())?;
    }
    w.close().map(|_| ()).map_err(|e| e.to_string())
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
