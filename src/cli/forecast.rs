//! `huiqi simulate --facts POP.jsonl --from 2024 --to 2026`: a population simulated year by
//! year, streamed in chunks evaluated on every core and written in input order, then the
//! budget per clause and year.

use super::Exit;
use super::table::{lpad, pad};
use huiqi::Compiled;
use huiqi::eval::Lang;
use huiqi::forecast::{
    ForecastSummary, PopulationLedger, RowKey, Scratch, Simulated, Simulator, Want, ledger_line,
};
use huiqi::value::{fmt_money, fmt_yuan};
use rayon::prelude::*;
use std::io::{BufRead, Write};
use std::sync::mpsc::sync_channel;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
    Table,
}

const CHUNK: usize = 1024;

/// Where the population comes from: JSON lines (the first rows already read while deciding
/// what `--facts` holds) or CSV with fact paths as columns (the batch contract).
pub enum Source {
    Json(Vec<(usize, Result<String, String>)>, Box<dyn BufRead + Send>),
    Csv(Box<dyn BufRead + Send>),
}

/// One row as read: JSON text (parsed on the workers) or a CSV record already made a value.
enum RowIn {
    Text(Result<String, String>),
    Value(Result<huiqi::json::Json, String>),
}

/// Reads the population in chunks, keeping each row's line number.
enum Rows {
    Json { first: Vec<(usize, Result<String, String>)>, reader: Box<dyn BufRead + Send>, line: usize },
    Csv { header: Vec<String>, records: csv::StringRecordsIntoIter<Box<dyn BufRead + Send>> },
}

impl Rows {
    fn open(src: Source) -> Result<Rows, String> {
        Ok(match src {
            Source::Json(first, reader) => {
                let line = first.last().map_or(0, |(l, _)| *l);
                Rows::Json { first, reader, line }
            }
            Source::Csv(reader) => {
                let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(reader);
                let header: Vec<String> = rdr
                    .headers()
                    .map_err(|e| format!("cannot read the CSV header: {e}"))?
                    .iter()
                    .map(String::from)
                    .collect();
                Rows::Csv { header, records: rdr.into_records() }
            }
        })
    }

    /// The next chunk; empty at the end. An unreadable input (not a bad row) is an error.
    fn chunk(&mut self) -> Result<Vec<(usize, RowIn)>, String> {
        let mut out = Vec::with_capacity(CHUNK);
        match self {
            Rows::Json { first, reader, line } => {
                out.extend(std::mem::take(first).into_iter().map(|(l, t)| (l, RowIn::Text(t))));
                let mut buf = Vec::with_capacity(4096);
                while out.len() < CHUNK {
                    buf.clear();
                    match reader.read_until(b'\n', &mut buf) {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) => return Err(format!("cannot read line {}: {e}", *line + 1)),
                    }
                    *line += 1;
                    // SIMD validation, as `eval` reads its rows: most of the text is Chinese
                    let text = match simdutf8::basic::from_utf8(&buf).map_err(|_| std::str::from_utf8(&buf)) {
                        Ok(t) | Err(Ok(t)) if t.trim().is_empty() => continue,
                        Ok(t) | Err(Ok(t)) => Ok(t.trim_end_matches(['\n', '\r']).to_string()),
                        Err(Err(e)) => {
                            Err(format!("the row is not UTF-8 text: {e}; facts are JSON in UTF-8"))
                        }
                    };
                    out.push((*line, RowIn::Text(text)));
                }
            }
            Rows::Csv { header, records } => {
                for rec in records.by_ref() {
                    let (line, row) = match rec {
                        Ok(r) => {
                            let line = r.position().map_or(0, |p| p.line() as usize);
                            let cells: Vec<String> = r.iter().map(String::from).collect();
                            (line, huiqi::batch::csv_row(header, &cells))
                        }
                        Err(e) => (
                            e.position().map_or(0, |p| p.line() as usize),
                            Err(format!("the CSV row cannot be read: {e}")),
                        ),
                    };
                    out.push((line, RowIn::Value(row)));
                    if out.len() >= CHUNK {
                        break;
                    }
                }
            }
        }
        Ok(out)
    }
}

/// What `simulate` does with histories: read them (`--ledger`), write them (`--ledger-out`).
pub struct Histories {
    pub before: Option<(PopulationLedger, String)>,
    pub out: Option<(std::io::BufWriter<std::fs::File>, String)>,
}

/// One row simulated, with its output text made on the worker that simulated it.
struct Done<'p> {
    sim: Simulated<'p>,
    /// The row as written (`--format jsonl` or `csv`); `None` when it could not be serialised.
    text: Option<String>,
    /// Its `--ledger-out` line.
    ledger: Option<String>,
}

/// How the writer thread stopped.
enum Stop {
    /// Every row written.
    Done,
    /// Standard output closed (`| head`): it has what it wanted.
    Closed,
    /// The ledger file could not be written.
    Ledger,
}

/// Simulates every row of `src` and writes the rows, then the budget.
///
/// Three stages, as `eval` over a population (`cli::batch`), so that no core waits on another's
/// serial work: a reader thread cuts the input into chunks, this thread has each chunk
/// simulated on every core (rayon; each worker reuses its buffers from row to row, and formats
/// its rows), and a writer thread writes the rows in input order and adds them to the budget.
/// Each channel holds at most two chunks, so memory stays flat.
#[allow(clippy::too_many_arguments)]
pub fn run(
    c: &Compiled,
    src: Source,
    from: i32,
    to: i32,
    format: Format,
    summary: bool,
    lang: Lang,
    mut hist: Histories,
) -> Exit {
    let prog = &c.program;
    let mut rows = match Rows::open(src) {
        Ok(r) => r,
        Err(e) => {
            errln!("error: {e}");
            return Exit::Usage;
        }
    };
    let histories = hist.before.as_ref().map(|(h, _)| h);
    let want =
        Want { results: format == Format::Jsonl, totals: format == Format::Csv, after: hist.out.is_some() };
    // the lean path and the facts reader, built once and shared by the workers
    let sim = Simulator::new(prog, from, to, want);
    let ledger_out = hist.out.as_mut().map(|(w, _)| w);
    let (read, (sum, failures, stop)) = std::thread::scope(|s| {
        let (tx_in, rx_in) = sync_channel::<Result<Vec<(usize, RowIn)>, String>>(2);
        let (tx_out, rx_out) = sync_channel::<Vec<Done<'_>>>(2);
        s.spawn(move || {
            loop {
                match rows.chunk() {
                    Ok(c) if c.is_empty() => return,
                    chunk => {
                        // an unreadable input ends the rows after it is reported
                        let end = chunk.is_err();
                        if tx_in.send(chunk).is_err() || end {
                            return;
                        }
                    }
                }
            }
        });
        let writer = s.spawn(move || write_rows(prog, format, from, to, rx_out, ledger_out));
        let mut read = Ok(());
        for chunk in rx_in {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    read = Err(e);
                    break;
                }
            };
            let mut done: Vec<(Done<'_>, bool)> = huiqi::batch::on_workers(|| {
                chunk
                    .into_par_iter()
                    .map_init(Scratch::default, |scratch, (line, input)| {
                        // whether the row asked for its history (see `holds` below)
                        let asked = std::cell::Cell::new(false);
                        let lookup = |k: RowKey<'_>| match histories {
                            Some(h) => {
                                asked.set(true);
                                h.lookup(k)
                            }
                            None => Some(huiqi::forecast::empty_ledger()),
                        };
                        let s = match input {
                            RowIn::Text(t) => {
                                let t = match &t {
                                    Ok(t) => Ok(t.as_str()),
                                    Err(e) => Err(e.clone()),
                                };
                                sim.text(line, t, lookup, scratch)
                            }
                            RowIn::Value(v) => sim.value(line, v, lookup, scratch),
                        };
                        (format_row(s, format), asked.get())
                    })
                    .collect()
            });
            // two rows with one id ran side by side: the earlier row keeps the history, the
            // later one becomes the error row, whichever asked first
            if let Some(h) = histories {
                for (d, asked) in &mut done {
                    let key = RowKey { enterprise: d.sim.row.enterprise.as_deref(), line: d.sim.row.line };
                    if *asked && !h.holds(key) {
                        let (line, enterprise) = (d.sim.row.line, d.sim.row.enterprise.take());
                        *d = format_row(sim.unmatched_row(line, enterprise), format);
                    }
                }
            }
            let done: Vec<Done<'_>> = done.into_iter().map(|(d, _)| d).collect();
            if tx_out.send(done).is_err() {
                // the writer stopped (a closed pipe, an unwritable ledger)
                break;
            }
        }
        // dropping the channels ends the reader at its next chunk and the writer after the last
        drop(tx_out);
        let written = writer
            .join()
            .unwrap_or_else(|_| (ForecastSummary::new(prog, from, to), Vec::new(), Stop::Closed));
        (read, written)
    });
    match stop {
        Stop::Done => {}
        Stop::Closed => return Exit::Success,
        Stop::Ledger => {
            if let Some((_, path)) = &hist.out {
                errln!("error: cannot write the ledger to `{path}`");
            }
            return Exit::Usage;
        }
    }
    if let Err(e) = read {
        errln!("error: {e}");
        return Exit::Usage;
    }
    if let Some((w, path)) = &mut hist.out
        && w.flush().is_err()
    {
        errln!("error: cannot write the ledger to `{path}`");
        return Exit::Usage;
    }
    if summary || format == Format::Table {
        let text = budget(c, &sum, lang);
        if format == Format::Table {
            out!("{text}");
        } else {
            err!("{text}");
        }
    }
    let mut code = Exit::Success;
    if let Some((h, path)) = &hist.before {
        let unused = h.unused();
        if !unused.is_empty() {
            // a history with no row: that enterprise, under another id, was simulated afresh
            errln!(
                "error[E0404]: {} of {} histories in `{path}` matched no row of the population; \
                 their enterprises were not simulated with them:",
                unused.len(),
                h.len()
            );
            for (no, what) in unused.iter().take(10) {
                errln!("  {path}:{no}: {what}");
            }
            errln!(
                "  help: a history is matched by the row's `$id` (else `$name`), or by `\"line\"` when the rows have no id"
            );
            code = Exit::Failure;
        }
    }
    if !failures.is_empty() {
        errln!("{} of {} rows failed (each has its errors in its output row):", failures.len(), sum.rows);
        for (line, msg) in failures.iter().take(10) {
            errln!("  line {line}: {msg}");
        }
        return Exit::Failure;
    }
    code
}

/// A row's output text and ledger line, made on its worker; the row keeps what the writer
/// reads (its line, errors and cash).
fn format_row(mut sim: Simulated<'_>, format: Format) -> Done<'_> {
    let ledger = sim.after.take().map(|after| ledger_line(&sim.row, &after));
    let text = match format {
        Format::Jsonl => serde_json::to_string(&sim.row).ok(),
        Format::Csv => {
            let mut t = Vec::new();
            csv_rows(&mut t, &sim).ok().and_then(|()| String::from_utf8(t).ok())
        }
        Format::Table => None,
    };
    sim.row.years = Vec::new();
    sim.row.ledger = Vec::new();
    Done { sim, text, ledger }
}

/// The writer thread: rows in input order to standard output and the ledger file, and into
/// the budget.
fn write_rows(
    prog: &huiqi::ir::Program,
    format: Format,
    from: i32,
    to: i32,
    rx: std::sync::mpsc::Receiver<Vec<Done<'_>>>,
    mut ledger_out: Option<&mut std::io::BufWriter<std::fs::File>>,
) -> (ForecastSummary, Vec<(usize, String)>, Stop) {
    let mut sum = ForecastSummary::new(prog, from, to);
    let mut failures: Vec<(usize, String)> = Vec::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    if format == Format::Csv && writeln!(out, "line,enterprise,period,total,error").is_err() {
        return (sum, failures, Stop::Closed);
    }
    for chunk in rx {
        for d in chunk {
            sum.add(&d.sim);
            if let Some(e) = d.sim.row.errors.first() {
                failures.push((d.sim.row.line, format!("{} at `{}`: {}", e.code, e.at, e.message)));
            }
            if let Some(w) = ledger_out.as_mut()
                && writeln!(w, "{}", d.ledger.as_deref().unwrap_or_default()).is_err()
            {
                return (sum, failures, Stop::Ledger);
            }
            let written = match (format, &d.text) {
                (Format::Table, _) => Ok(()),
                (Format::Jsonl, Some(t)) => writeln!(out, "{t}"),
                (Format::Csv, Some(t)) => out.write_all(t.as_bytes()),
                (_, None) => Err(std::io::Error::other("the row could not be written")),
            };
            if written.is_err() {
                // a closed pipe (`| head`) has what it wanted
                return (sum, failures, Stop::Closed);
            }
        }
    }
    if out.flush().is_err() {
        return (sum, failures, Stop::Closed);
    }
    (sum, failures, Stop::Done)
}

fn csv_rows(out: &mut impl Write, s: &Simulated<'_>) -> std::io::Result<()> {
    let enterprise = s.row.enterprise.as_deref().unwrap_or_default().replace('"', "\"\"");
    let error = s
        .row
        .errors
        .first()
        .map(|e| format!("{} {}", e.code, e.message).replace('"', "\"\""))
        .unwrap_or_default();
    if s.row.years.is_empty() {
        return writeln!(out, "{},\"{enterprise}\",,,\"{error}\"", s.row.line);
    }
    for y in &s.row.years {
        writeln!(
            out,
            "{},\"{enterprise}\",{},{},\"{error}\"",
            s.row.line,
            y.period,
            y.total.as_deref().unwrap_or_default()
        )?;
    }
    Ok(())
}

/// The budget view: per clause and year the enterprises granted and the cash, the cumulative
/// cash, and how many found the clause exhausted (a one-time award paid, a cap reached).
fn budget(c: &Compiled, s: &ForecastSummary, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let mut out = if zh {
        format!("共 {} 家企业 {}–{} 年的预算（{} 家出错）\n", s.rows, s.from, s.to, s.failed)
    } else {
        format!("budget over {} enterprises, {}–{} ({} failed)\n", s.rows, s.from, s.to, s.failed)
    };
    let head = if zh {
        ["年度", "条款", "给予", "已用尽", "本年资金（元）", "累计（元）"]
    } else {
        ["year", "clause", "granted", "exhausted", "cash (yuan)", "cumulative (yuan)"]
    };
    out.push_str(&format!(
        "{} {} {} {} {} {}\n",
        pad(head[0], 6),
        pad(head[1], 9),
        lpad(head[2], 9),
        lpad(head[3], 10),
        lpad(head[4], 20),
        lpad(head[5], 20)
    ));
    let show = |d: Option<rust_decimal::Decimal>| d.map_or_else(|| "E0504".to_string(), fmt_yuan);
    let mut cumulative = Some(rust_decimal::Decimal::ZERO);
    for year in s.from..=s.to {
        let i = usize::try_from(year - s.from).unwrap_or(usize::MAX);
        for (id, cells) in s.lines() {
            let Some(cell) = cells.get(i) else { continue };
            let upto =
                cells.iter().take(i + 1).try_fold(rust_decimal::Decimal::ZERO, |t, x| t.checked_add(x.cash?));
            if cell.granted == 0 && cell.exhausted == 0 {
                continue;
            }
            // only cash benefits have a budget; the others are counted, not summed
            let cash =
                c.program.clause(id).is_some_and(|x| x.kind == huiqi::syntax::ast::ClauseKind::Benefit);
            let (this, cum) = if cash { (show(cell.cash), show(upto)) } else { ("—".into(), "—".into()) };
            out.push_str(&format!(
                "{} {} {} {} {} {}\n",
                pad(&year.to_string(), 6),
                pad(&c.program.clause_ref(id), 9),
                lpad(&cell.granted.to_string(), 9),
                lpad(&cell.exhausted.to_string(), 10),
                lpad(&this, 20),
                lpad(&cum, 20)
            ));
        }
        let year_total = s.year_total(year);
        cumulative = cumulative.zip(year_total).and_then(|(a, b)| a.checked_add(b));
        out.push_str(&if zh {
            format!(
                "{year} 年合计 {}（累计 {}）\n",
                year_total.map_or_else(|| "E0504".into(), fmt_money),
                cumulative.map_or_else(|| "E0504".into(), fmt_money)
            )
        } else {
            format!(
                "{year} total {} (cumulative {})\n",
                year_total.map_or_else(|| "E0504".into(), fmt_money),
                cumulative.map_or_else(|| "E0504".into(), fmt_money)
            )
        });
    }
    out
}
