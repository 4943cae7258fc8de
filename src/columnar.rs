//! Columnar batches: facts read from Arrow arrays straight into the lean evaluator, results
//! written back as Arrow arrays with exact `decimal128` amounts. The Parquet files of the
//! command line and the Python binding's `evaluate_arrow` both go through here.
//!
//! Invariant: a row means what the same row means as CSV (and so as JSON lines): columns are
//! fact paths (`行业`, `营业收入.2024`, `贷款[0].利息.2024`, `$id`, `$period`), a null or
//! empty cell is an absent fact, a text cell is read like a facts JSON string (`"true"` /
//! `"false"` are booleans), a decimal or integer cell is that exact number. A column named by
//! a list fact (`贷款`) holds its number of items, so an empty list (0) is told from an absent
//! one (null). Clean rows are read cell by cell into `Facts` with no JSON in between; any row
//! the fast reader does not take in its stride is rebuilt as a facts object and read by the
//! facts reader, which names every problem with its path. No row is ever dropped, no amount
//! rounded: an amount that `decimal128(38, 2)` cannot hold exactly fails its row, saying so.

use crate::batch::{
    Batch, BatchOptions, Evaluated, RowError, RowFormat, Tally, Worker, blocks, insert_path, on_workers,
};
use crate::eval::facts::{FactValue, Facts, Item, Series, Value, in_range, num_in_range};
use crate::eval::stream::{FactsReader, RowMeta, Tok, scalar};
use crate::ir::{FactId, Num, Program, Type};
use crate::json::{Json, Map, Number};
use arrow_array::builder::{Decimal128Builder, Int32Builder, Int64Builder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal128Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::sync::Arc;

/// The scale of amounts in Arrow output: the fen.
pub const AMOUNT_SCALE: i8 = 2;
/// The precision of amounts in Arrow output.
pub const AMOUNT_PRECISION: u8 = 38;

/// What one input column fills.
#[derive(Clone, Debug)]
enum Target {
    Id,
    Name,
    Period,
    /// Another `$` column: ignored, as `$` keys are in facts JSON.
    Meta,
    Scalar(FactId, Type),
    Year(FactId, i32, Num),
    ListLen(FactId),
    Field {
        fact: FactId,
        index: usize,
        field: usize,
        ty: Type,
    },
    FieldYear {
        fact: FactId,
        index: usize,
        field: usize,
        year: i32,
        num: Num,
    },
    /// Not a path of the vocabulary: rows with a value here go to the facts reader, which
    /// names it.
    Unknown,
}

/// One input column's cells as the reader takes them.
enum Cells<'a> {
    Utf8(&'a arrow_array::StringArray),
    LargeUtf8(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
    Decimal(&'a arrow_array::Decimal128Array, u32),
    Int(Vec<Option<i128>>),
    Bool(&'a arrow_array::BooleanArray),
    /// A type that cannot carry a fact exactly (floats, binary, nested …): every non-null
    /// cell fails its row with this message.
    Unsupported(String),
}

/// A cell's value.
enum Cell<'a> {
    Null,
    Str(&'a str),
    Dec(Decimal),
    Bool(bool),
    Bad(&'a str),
}

impl<'a> Cells<'a> {
    fn of(a: &'a dyn Array, name: &str) -> Cells<'a> {
        match a.data_type() {
            DataType::Utf8 => Cells::Utf8(a.as_string::<i32>()),
            DataType::LargeUtf8 => Cells::LargeUtf8(a.as_string::<i64>()),
            DataType::Utf8View => Cells::View(a.as_string_view()),
            DataType::Decimal128(_, s) if *s >= 0 => {
                Cells::Decimal(a.as_primitive::<Decimal128Type>(), u32::from(s.unsigned_abs()))
            }
            DataType::Boolean => Cells::Bool(a.as_boolean()),
            DataType::Int8 => Cells::Int(ints(a.as_primitive::<Int8Type>())),
            DataType::Int16 => Cells::Int(ints(a.as_primitive::<Int16Type>())),
            DataType::Int32 => Cells::Int(ints(a.as_primitive::<Int32Type>())),
            DataType::Int64 => Cells::Int(ints(a.as_primitive::<Int64Type>())),
            DataType::UInt8 => Cells::Int(ints(a.as_primitive::<UInt8Type>())),
            DataType::UInt16 => Cells::Int(ints(a.as_primitive::<UInt16Type>())),
            DataType::UInt32 => Cells::Int(ints(a.as_primitive::<UInt32Type>())),
            DataType::UInt64 => Cells::Int(ints(a.as_primitive::<UInt64Type>())),
            DataType::Null => Cells::Unsupported(String::new()),
            t => Cells::Unsupported(format!(
                "column `{name}` is {t}, which cannot hold a fact exactly; write numbers as decimal128 or integers (or text such as \"1.2亿\"), other facts as text or booleans"
            )),
        }
    }

    /// Inlined into the reader: a `Cell` returned through memory cost a stalled copy.
    #[inline(always)]
    fn at(&self, i: usize) -> Cell<'_> {
        let text = |s: Option<&'a str>| match s.map(str::trim) {
            None | Some("") => Cell::Null,
            Some("true") => Cell::Bool(true),
            Some("false") => Cell::Bool(false),
            Some(s) => Cell::Str(s),
        };
        match self {
            Cells::Utf8(a) => text(a.is_valid(i).then(|| a.value(i))),
            Cells::LargeUtf8(a) => text(a.is_valid(i).then(|| a.value(i))),
            Cells::View(a) => text(a.is_valid(i).then(|| a.value(i))),
            Cells::Decimal(a, scale) => match a.is_valid(i).then(|| a.value(i)) {
                None => Cell::Null,
                Some(v) => match Decimal::try_from_i128_with_scale(v, *scale) {
                    Ok(d) => Cell::Dec(d),
                    Err(_) => Cell::Bad("a decimal with more than 28 digits"),
                },
            },
            Cells::Int(v) => match v.get(i).copied().flatten() {
                None => Cell::Null,
                Some(x) => match Decimal::try_from_i128_with_scale(x, 0) {
                    Ok(d) => Cell::Dec(d),
                    Err(_) => Cell::Bad("an integer with more than 28 digits"),
                },
            },
            Cells::Bool(a) => match a.is_valid(i) {
                true => Cell::Bool(a.value(i)),
                false => Cell::Null,
            },
            Cells::Unsupported(m) if m.is_empty() => Cell::Null,
            Cells::Unsupported(m) => Cell::Bad(m),
        }
    }
}

fn ints<T: arrow_array::ArrowPrimitiveType>(a: &arrow_array::PrimitiveArray<T>) -> Vec<Option<i128>>
where
    T::Native: Into<i128>,
{
    a.iter().map(|x| x.map(Into::into)).collect()
}

/// A columnar evaluation of a program: the batch evaluator and the reader of the vocabulary.
pub struct Columnar<'p> {
    batch: Batch<'p>,
    reader: FactsReader<'p>,
    prog: &'p Program,
    schema: SchemaRef,
}

impl<'p> Columnar<'p> {
    /// `format` decides what [`Evaluated::text`] holds (JSON lines, CSV, or nothing).
    pub fn new(prog: &'p Program, opts: BatchOptions, format: RowFormat) -> Columnar<'p> {
        let batch = Batch::new(prog, opts, format);
        let mut fields = vec![
            Field::new("line", DataType::Int64, false),
            Field::new("enterprise", DataType::Utf8, true),
            Field::new("period", DataType::Int32, true),
            Field::new("total", DataType::Decimal128(AMOUNT_PRECISION, AMOUNT_SCALE), true),
            Field::new("error", DataType::Utf8, true),
        ];
        for id in batch.clauses() {
            let r = prog.clause_ref(id);
            fields.push(Field::new(format!("status:{r}"), DataType::Utf8, true));
            fields.push(Field::new(
                format!("amount:{r}"),
                DataType::Decimal128(AMOUNT_PRECISION, AMOUNT_SCALE),
                true,
            ));
        }
        Columnar { batch, reader: FactsReader::new(prog), prog, schema: Arc::new(Schema::new(fields)) }
    }

    /// The batch evaluator (JSON lines, CSV) this columnar evaluator shares.
    pub fn batch(&self) -> &Batch<'p> {
        &self.batch
    }

    /// The schema of [`Columnar::to_arrow`]'s batches: `line`, `enterprise`, `period`,
    /// `total`, `error`, then `status:E23.5` and `amount:E23.5` per evaluated clause.
    pub fn output_schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Evaluates every row of `input` (on every core with the `parallel` feature), in
    /// order; `first_line` is the row number (1-based) of its first row.
    pub fn evaluate(&self, input: &RecordBatch, first_line: usize) -> Vec<Evaluated<'p>> {
        let cols = Columns::of(self.prog, input);
        let rows: Vec<usize> = (0..input.num_rows()).collect();
        let done = on_workers(|| {
            blocks(&rows, |block| {
                Block::with(|b| {
                    self.read_block(&cols, block, b, true);
                    block
                        .iter()
                        .zip(b.rows.iter().zip(b.meta.iter_mut().zip(&b.state)))
                        .map(|(&i, (arena, (meta, st)))| {
                            let line = first_line + i;
                            match st.ok {
                                true => self.batch.evaluated_facts(line, &arena.facts, std::mem::take(meta)),
                                false => self
                                    .batch
                                    .value(line, self.row_json(&cols.names, &cols.targets, &cols.cells, i)),
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
        });
        done.into_iter().flatten().collect()
    }

    /// Evaluates every row of `input` for the budget only: what [`Summary::add`] over
    /// [`Columnar::evaluate`] would gather, without an output row per enterprise. Each worker
    /// reuses its facts and verdicts buffers from row to row.
    pub fn evaluate_tally(&self, input: &RecordBatch, first_line: usize) -> Tally {
        let cols = Columns::of(self.prog, input);
        let rows: Vec<usize> = (0..input.num_rows()).collect();
        let tallies = on_workers(|| {
            blocks(&rows, |block| {
                Block::with(|b| {
                    let mut w = Worker::new(self.prog);
                    self.read_block(&cols, block, b, false);
                    let opts = self.batch.options();
                    for (&i, (arena, (meta, st))) in
                        block.iter().zip(b.rows.iter().zip(b.meta.iter().zip(&b.state)))
                    {
                        let line = first_line + i;
                        if st.ok {
                            let period = arena.facts.period_or_latest(opts.period.or(meta.period));
                            w.row(&self.batch, line, &arena.facts, period, opts.as_of);
                        } else {
                            w.evaluated(
                                &self
                                    .batch
                                    .value(line, self.row_json(&cols.names, &cols.targets, &cols.cells, i)),
                            );
                        }
                    }
                    w.tally
                })
            })
        });
        Tally::merged(self.prog, tallies)
    }

    /// The fast reader: the rows `block` of the record batch into `b` (row `r` of the block
    /// into `b.rows[r].facts`), column by column: each column's target and cell type are
    /// matched once, and its buffer is read in order. `b.state[r].ok` is `false` for a row the
    /// facts reader must decide (see the module). `ids`: read `$id` / `$name` into the
    /// metadata (the budget view does not need them, and checks them without copying). Each
    /// value is range-checked as it is written, as the facts readers check the whole facts.
    fn read_block(&self, cols: &Columns<'_>, block: &[usize], b: &mut Block, ids: bool) {
        b.prepare(self.prog, block.len(), cols.clean);
        if !cols.clean {
            return;
        }
        let Block { rows, meta, state } = b;
        for (k, (t, c)) in cols.targets.iter().zip(&cols.cells).enumerate() {
            if cols.empty.get(k).copied().unwrap_or(false) {
                continue;
            }
            let check = cols.checks.get(k).copied().flatten();
            let rows = rows.iter_mut().zip(state.iter_mut()).zip(meta.iter_mut()).zip(block);
            match (t, c, check) {
                // the common columns, without a `Cell` per cell: a year of a money, rate or
                // number series, and a money, rate or number fact, from decimal cells
                (
                    Target::Year(fid, y, Num::Money | Num::Rate | Num::Number),
                    Cells::Decimal(a, scale),
                    Some(ch),
                ) => {
                    for (((arena, st), _), &i) in rows {
                        if !st.ok || a.is_null(i) {
                            continue;
                        }
                        st.ok = ch
                            .decimal(a, *scale, i)
                            .and_then(|d| arena.year(*fid, *y, d, &mut st.unsorted))
                            .is_some();
                    }
                }
                (
                    Target::Scalar(fid, Type::Num(Num::Money | Num::Rate | Num::Number)),
                    Cells::Decimal(a, scale),
                    Some(ch),
                ) => {
                    for (((arena, st), _), &i) in rows {
                        if !st.ok || a.is_null(i) {
                            continue;
                        }
                        st.ok = match (ch.decimal(a, *scale, i), arena.facts.values.get_mut(*fid as usize)) {
                            (Some(d), Some(slot)) => {
                                *slot = Some(FactValue::Scalar(Value::Num(d)));
                                true
                            }
                            _ => false,
                        };
                    }
                }
                (Target::Scalar(fid, Type::Bool), Cells::Bool(a), _) => {
                    for (((arena, st), _), &i) in rows {
                        if !st.ok || a.is_null(i) {
                            continue;
                        }
                        st.ok = match arena.facts.values.get_mut(*fid as usize) {
                            Some(slot) => {
                                *slot = Some(FactValue::Scalar(Value::Bool(a.value(i))));
                                true
                            }
                            None => false,
                        };
                    }
                }
                _ => {
                    for (((arena, st), m), &i) in rows {
                        if !st.ok {
                            continue;
                        }
                        let cell = c.at(i);
                        if matches!(cell, Cell::Null) {
                            continue;
                        }
                        st.ok = self.put(t, cell, check, arena, m, st, ids).is_some();
                    }
                }
            }
        }
        for ((arena, st), _) in rows.iter_mut().zip(state.iter_mut()).zip(block) {
            if !st.ok {
                continue;
            }
            // columns in any order: sort the series, and leave a repeated year to the facts
            // reader
            if st.unsorted {
                st.ok = arena.facts.values.iter_mut().flatten().all(sort_series);
            }
            // defaults (an implausible value was refused as it was read, and goes to the facts
            // reader, which names it, as the JSON-lines reader does)
            st.ok = st.ok && self.reader.complete_read_checked(&mut arena.facts);
        }
    }

    /// One non-null cell of a row into its facts (`arena`) or metadata (`m`), range-checked;
    /// `None` when the facts reader must decide the row.
    #[allow(clippy::too_many_arguments)]
    fn put(
        &self,
        t: &Target,
        cell: Cell<'_>,
        check: Option<Check>,
        arena: &mut Arena,
        m: &mut RowMeta,
        st: &mut RowState,
        ids: bool,
    ) -> Option<()> {
        let Arena { facts, pool } = arena;
        let values = &mut facts.values;
        let checked = |v: Value| check.is_none_or(|c| c.holds(&v)).then_some(v);
        let number_ok = |d: Decimal| check.is_none_or(|c| c.number(d)).then_some(d);
        match t {
            Target::Id => {
                let s = text(cell)?;
                st.named = true;
                if ids {
                    m.enterprise = Some(s.to_string());
                }
            }
            Target::Name => {
                if !st.named {
                    let s = text(cell)?;
                    st.named = true;
                    if ids {
                        m.enterprise = Some(s.to_string());
                    }
                }
            }
            Target::Period => {
                m.period = Some(match cell {
                    Cell::Str(s) => s.parse::<i32>().ok()?,
                    Cell::Dec(d) => crate::value::as_year(d)?,
                    _ => return None,
                })
            }
            Target::Meta => {}
            Target::Unknown => return None,
            Target::Scalar(fid, ty) => {
                let v = checked(scalar::<serde::de::value::Error>(&self.reader, *ty, tok(cell)?).ok()??)?;
                *values.get_mut(*fid as usize)? = Some(FactValue::Scalar(v));
            }
            Target::Year(fid, y, n) => {
                let d = number_ok(self.number(*n, cell)?)?;
                pool.push_year(values.get_mut(*fid as usize)?, *y, d, &mut st.unsorted)?;
            }
            Target::ListLen(fid) => {
                let Cell::Dec(d) = cell else { return None };
                let n = usize::try_from(crate::value::as_year(d)?).ok().filter(|n| *n <= 10_000)?;
                let width = self.record_width(*fid)?;
                let items = pool.list_in(values.get_mut(*fid as usize)?)?;
                if items.len() > n {
                    return None;
                }
                pool.grow(items, n, width);
            }
            Target::Field { fact, index, field, ty } => {
                let v = match ty {
                    Type::List(_) | Type::Record(_) | Type::Series(_) => return None,
                    _ => checked(scalar::<serde::de::value::Error>(&self.reader, *ty, tok(cell)?).ok()??)?,
                };
                let width = self.record_width(*fact)?;
                let items = pool.list_in(values.get_mut(*fact as usize)?)?;
                pool.grow(items, index + 1, width);
                *items.get_mut(*index)?.fields.get_mut(*field)? = Some(FactValue::Scalar(v));
            }
            Target::FieldYear { fact, index, field, year, num } => {
                let d = number_ok(self.number(*num, cell)?)?;
                let width = self.record_width(*fact)?;
                let items = pool.list_in(values.get_mut(*fact as usize)?)?;
                pool.grow(items, index + 1, width);
                let slot = items.get_mut(*index)?.fields.get_mut(*field)?;
                pool.push_year(slot, *year, d, &mut st.unsorted)?;
            }
        }
        Some(())
    }

    fn number(&self, n: Num, cell: Cell<'_>) -> Option<Decimal> {
        match (n, cell) {
            // a decimal cell is that number: money, a rate or a number as it is (what `num`
            // makes of it, without the detour)
            (Num::Money | Num::Rate | Num::Number, Cell::Dec(d)) => Some(d),
            (n, cell) => crate::eval::stream::num::<serde::de::value::Error>(n, tok(cell)?).ok(),
        }
    }

    fn record_width(&self, fid: FactId) -> Option<usize> {
        match self.prog.facts.get(fid as usize)?.ty {
            Type::List(r) => self.prog.records.get(r as usize).map(|r| r.fields.len()),
            _ => None,
        }
    }

    /// The row as the facts object its cells say (for the facts reader, which names every
    /// problem with its path).
    fn row_json(
        &self,
        names: &[&str],
        targets: &[Target],
        cells: &[Cells<'_>],
        i: usize,
    ) -> Result<Json, String> {
        let mut root = Json::Object(Map::new());
        let mut lists: Vec<(&str, usize)> = Vec::new();
        for ((name, t), c) in names.iter().zip(targets).zip(cells) {
            let v = match c.at(i) {
                Cell::Null => continue,
                Cell::Str(s) => Json::String(s.to_string()),
                Cell::Dec(d) => Number::from_text(&d.to_string()).map_or(Json::Null, Json::Number),
                Cell::Bool(b) => Json::Bool(b),
                Cell::Bad(m) => return Err(m.to_string()),
            };
            if let (Target::ListLen(_), Json::Number(n)) = (t, &v) {
                match n.as_str().parse::<usize>() {
                    Ok(k) if k <= 10_000 => {
                        lists.push((*name, k));
                        continue;
                    }
                    _ => return Err(format!("column `{name}` holds the number of items of a list, not {n}")),
                }
            }
            insert_path(&mut root, name, v).map_err(|e| format!("column `{name}`: {e}"))?;
        }
        for (name, k) in lists {
            if let Json::Object(m) = &mut root
                && let Some(slot) = m.slot(name.to_string())
            {
                let mut items = match std::mem::take(slot) {
                    Json::Array(a) => a,
                    _ => Vec::new(),
                };
                if items.len() < k {
                    items.resize_with(k, || Json::Object(Map::new()));
                }
                *slot = Json::Array(items);
            }
        }
        Ok(root)
    }

    /// The evaluated rows as one Arrow batch of [`Columnar::output_schema`]. An amount that
    /// `decimal128(38, 2)` cannot hold exactly fails its row (the `error` column says which
    /// and why; its amounts are null); nothing is rounded.
    pub fn to_arrow(&self, rows: &[Evaluated<'_>]) -> Result<RecordBatch, ArrowError> {
        let clauses: Vec<_> = self.batch.clauses().collect();
        let n = rows.len();
        let dec =
            || Decimal128Builder::with_capacity(n).with_precision_and_scale(AMOUNT_PRECISION, AMOUNT_SCALE);
        let mut line = Int64Builder::with_capacity(n);
        let mut enterprise = StringBuilder::with_capacity(n, n * 9);
        let mut period = Int32Builder::with_capacity(n);
        let mut total = dec()?;
        let mut error = StringBuilder::new();
        let mut status: Vec<StringBuilder> =
            clauses.iter().map(|_| StringBuilder::with_capacity(n, n * 10)).collect();
        let mut amount: Vec<Decimal128Builder> = clauses.iter().map(|_| dec()).collect::<Result<_, _>>()?;
        for e in rows {
            let r = &e.row;
            let mut errors: Vec<RowError> = r.errors.clone();
            // every amount of the row at the fen, or the row fails
            let mut fen: Vec<Option<i128>> = vec![None; clauses.len()];
            let mut total_fen = None;
            if let Some(vs) = &e.verdicts {
                for (k, id) in clauses.iter().enumerate() {
                    let Some(a) = vs.iter().find(|v| v.clause == *id).and_then(|v| v.amount) else {
                        continue;
                    };
                    match to_fen(a) {
                        Some(x) => {
                            if let Some(slot) = fen.get_mut(k) {
                                *slot = Some(x);
                            }
                        }
                        None => errors.push(not_fen(&self.prog.clause_ref(*id), a)),
                    }
                }
            }
            if let Some(t) = r.total.as_deref().and_then(|t| t.parse::<Decimal>().ok()) {
                match to_fen(t) {
                    Some(x) => total_fen = Some(x),
                    None => errors.push(not_fen("total", t)),
                }
            }
            let failed = errors.len() > r.errors.len();
            line.append_value(i64::try_from(r.line).unwrap_or(i64::MAX));
            enterprise.append_option(r.enterprise.as_deref());
            period.append_option(r.period);
            total.append_option(if failed { None } else { total_fen });
            if errors.is_empty() {
                error.append_null();
            } else {
                error.append_value(
                    errors
                        .iter()
                        .map(|x| format!("{} at {}: {}", x.code, x.at, x.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                );
            }
            for (k, id) in clauses.iter().enumerate() {
                let v = e.verdicts.as_ref().and_then(|vs| vs.iter().find(|v| v.clause == *id));
                if let Some(b) = status.get_mut(k) {
                    b.append_option(v.map(|v| v.status.as_str()));
                }
                if let Some(b) = amount.get_mut(k) {
                    b.append_option(if failed { None } else { fen.get(k).copied().flatten() });
                }
            }
        }
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(line.finish()),
            Arc::new(enterprise.finish()),
            Arc::new(period.finish()),
            Arc::new(total.finish()),
            Arc::new(error.finish()),
        ];
        for (mut s, mut a) in status.into_iter().zip(amount) {
            cols.push(Arc::new(s.finish()));
            cols.push(Arc::new(a.finish()));
        }
        RecordBatch::try_new(self.schema.clone(), cols)
    }
}

/// A record batch's columns as the fast reader takes them.
struct Columns<'a> {
    names: Vec<&'a str>,
    targets: Vec<Target>,
    cells: Vec<Cells<'a>>,
    /// Per column: the range check of the values it fills (none for metadata and list
    /// lengths).
    checks: Vec<Option<Check>>,
    /// Per column: every cell is null (skipped as a whole).
    empty: Vec<bool>,
    /// No path twice: else every row goes to the facts reader, which names the duplicate.
    clean: bool,
}

/// The range check of a path's values, as `facts::check_ranges` makes it for that path: the
/// type, `signed` and `never` of the fact or record field (a series' years: its number kind,
/// `signed`, never `never`).
#[derive(Clone, Copy, Debug)]
struct Check {
    ty: Type,
    signed: bool,
    never: bool,
}

impl Check {
    fn of(prog: &Program, t: &Target) -> Option<Check> {
        let field = |fact: FactId, field: usize| {
            let Type::List(r) = prog.facts.get(fact as usize)?.ty else { return None };
            prog.records.get(r as usize)?.fields.get(field)
        };
        match *t {
            Target::Scalar(fid, _) => {
                let d = prog.facts.get(fid as usize)?;
                Some(Check { ty: d.ty, signed: d.signed, never: d.never })
            }
            Target::Year(fid, _, n) => {
                let d = prog.facts.get(fid as usize)?;
                Some(Check { ty: Type::Num(n), signed: d.signed, never: false })
            }
            Target::Field { fact, field: f, .. } => {
                let d = field(fact, f)?;
                Some(Check { ty: d.ty, signed: d.signed, never: d.never })
            }
            Target::FieldYear { fact, field: f, num, .. } => {
                let d = field(fact, f)?;
                Some(Check { ty: Type::Num(num), signed: d.signed, never: false })
            }
            _ => None,
        }
    }

    #[inline]
    fn holds(self, v: &Value) -> bool {
        in_range(self.ty, self.signed, self.never, v)
    }

    /// A number read for this path passes (a series' year or a number fact).
    #[inline]
    fn number(self, d: Decimal) -> bool {
        match self.ty {
            Type::Num(n) => num_in_range(n, self.signed, d),
            _ => self.holds(&Value::Num(d)),
        }
    }

    /// Cell `i` of a decimal column as a number of this path: `None` when it does not fit a
    /// decimal or is out of range (the facts reader then reads the row and names it).
    #[inline(always)]
    fn decimal(self, a: &arrow_array::Decimal128Array, scale: u32, i: usize) -> Option<Decimal> {
        Decimal::try_from_i128_with_scale(a.value(i), scale).ok().filter(|d| self.number(*d))
    }
}

impl<'a> Columns<'a> {
    fn of(prog: &Program, input: &'a RecordBatch) -> Columns<'a> {
        let schema = input.schema_ref();
        let targets: Vec<Target> = schema.fields().iter().map(|f| target(prog, f.name())).collect();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let cells: Vec<Cells<'_>> =
            input.columns().iter().zip(&names).map(|(c, n)| Cells::of(c.as_ref(), n)).collect();
        let checks = targets.iter().map(|t| Check::of(prog, t)).collect();
        // (a column of a type that cannot carry a fact fails its rows as it does cell by cell)
        let empty = input
            .columns()
            .iter()
            .zip(&cells)
            .map(|(c, k)| c.null_count() == c.len() && !matches!(k, Cells::Unsupported(m) if !m.is_empty()))
            .collect();
        let mut sorted: Vec<&str> = names.clone();
        sorted.sort_unstable();
        let clean = sorted.windows(2).all(|w| w.first() != w.get(1));
        Columns { names, targets, cells, checks, empty, clean }
    }
}

/// One worker's buffers for reading rows: the facts of the current row, and the vectors of
/// the series and lists of earlier rows, emptied and kept rather than dropped, so that once
/// they have grown reading a row allocates nothing (but a text fact's text).
struct Arena {
    facts: Facts,
    pool: Pool,
}

/// Emptied vectors, ready for the next row's series, lists and list items.
#[derive(Default)]
struct Pool {
    series: Vec<Vec<(i32, Decimal)>>,
    lists: Vec<Vec<Item>>,
    fields: Vec<Vec<Option<FactValue>>>,
}

impl Arena {
    fn new(prog: &Program) -> Arena {
        Arena { facts: Facts { values: vec![None; prog.facts.len()] }, pool: Pool::default() }
    }

    /// Every fact absent again, their vectors back in the pool.
    fn clear(&mut self) {
        for slot in &mut self.facts.values {
            if let Some(v) = slot.take() {
                self.pool.keep(v);
            }
        }
    }

    /// Year `y` of the series fact `fid` is `d`; `unsorted` is set when an earlier column gave
    /// the same or a later year.
    #[inline]
    fn year(&mut self, fid: FactId, y: i32, d: Decimal, unsorted: &mut bool) -> Option<()> {
        self.pool.push_year(self.facts.values.get_mut(fid as usize)?, y, d, unsorted)
    }
}

/// One worker's rows of a block (at most [`crate::batch`]'s block size), read column by
/// column ([`Columnar::read_block`]); reused from block to block.
struct Block {
    rows: Vec<Arena>,
    meta: Vec<RowMeta>,
    state: Vec<RowState>,
}

/// What the fast reader knows of a row while it reads the columns.
#[derive(Clone, Copy, Debug, Default)]
struct RowState {
    /// Every cell so far taken in its stride (else the facts reader reads the row).
    ok: bool,
    /// `$id` (or `$name`) seen.
    named: bool,
    /// A series got a year not after its last one: sort before evaluating.
    unsorted: bool,
}

thread_local! {
    /// Each worker thread's block buffers, reused from block to block and from record batch
    /// to record batch, so that reading allocates nothing once they have grown.
    static BLOCK: std::cell::RefCell<Block> = std::cell::RefCell::new(Block::new());
}

impl Block {
    fn new() -> Block {
        Block { rows: Vec::new(), meta: Vec::new(), state: Vec::new() }
    }

    /// `f` with this thread's block buffers (fresh ones if they are in use).
    fn with<R>(f: impl FnOnce(&mut Block) -> R) -> R {
        BLOCK.with(|cell| match cell.try_borrow_mut() {
            Ok(mut b) => f(&mut b),
            Err(_) => f(&mut Block::new()),
        })
    }

    /// Room for `n` rows, each empty: no facts, no metadata, `ok` as `clean`.
    fn prepare(&mut self, prog: &Program, n: usize, clean: bool) {
        while self.rows.len() < n {
            self.rows.push(Arena::new(prog));
        }
        for a in self.rows.iter_mut().take(n) {
            a.clear();
            // (a thread's buffers may have served another program)
            a.facts.values.resize(prog.facts.len(), None);
        }
        self.meta.clear();
        self.meta.resize_with(n, RowMeta::default);
        self.state.clear();
        self.state.resize(n, RowState { ok: clean, named: false, unsorted: false });
    }
}

impl Pool {
    fn keep(&mut self, v: FactValue) {
        match v {
            FactValue::Scalar(_) => {}
            FactValue::Series(mut s) => {
                s.0.clear();
                self.series.push(s.0);
            }
            FactValue::List(mut items) => {
                for it in items.drain(..) {
                    let mut fields = it.fields;
                    for f in fields.drain(..).flatten() {
                        self.keep(f);
                    }
                    self.fields.push(fields);
                }
                self.lists.push(items);
            }
        }
    }

    /// The series in `slot`, a new (pooled) one when it is empty; `None` when it holds
    /// something else.
    fn series_in<'v>(&mut self, slot: &'v mut Option<FactValue>) -> Option<&'v mut Series> {
        let v = slot.get_or_insert_with(|| FactValue::Series(Series(self.series.pop().unwrap_or_default())));
        match v {
            FactValue::Series(s) => Some(s),
            _ => None,
        }
    }

    /// Year `y` of the series in `slot` (a new, pooled one when it is empty) is `d`; `unsorted`
    /// is set when an earlier column gave the same or a later year.
    fn push_year(
        &mut self,
        slot: &mut Option<FactValue>,
        y: i32,
        d: Decimal,
        unsorted: &mut bool,
    ) -> Option<()> {
        let s = self.series_in(slot)?;
        *unsorted |= s.0.last().is_some_and(|(last, _)| *last >= y);
        s.0.push((y, d));
        Some(())
    }

    /// The list in `slot`, a new (pooled) one when it is empty.
    fn list_in<'v>(&mut self, slot: &'v mut Option<FactValue>) -> Option<&'v mut Vec<Item>> {
        let v = slot.get_or_insert_with(|| FactValue::List(self.lists.pop().unwrap_or_default()));
        match v {
            FactValue::List(items) => Some(items),
            _ => None,
        }
    }

    /// At least `n` items in `items`, the new ones with `width` absent fields.
    fn grow(&mut self, items: &mut Vec<Item>, n: usize, width: usize) {
        while items.len() < n {
            let mut fields = self.fields.pop().unwrap_or_default();
            fields.resize_with(width, || None);
            items.push(Item { fields });
        }
    }
}

/// What the column named `path` fills.
fn target(prog: &Program, path: &str) -> Target {
    match path {
        "$id" => return Target::Id,
        "$name" => return Target::Name,
        "$period" => return Target::Period,
        // a row's own evaluation date: the facts reader validates and honours it
        "$as_of" => return Target::Unknown,
        p if p.starts_with('$') => return Target::Meta,
        _ => {}
    }
    let (head, rest) = match path.split_once(['.', '[']) {
        Some((h, _)) => (h, path.get(h.len()..).unwrap_or("")),
        None => (path, ""),
    };
    let Some(&fid) = prog.fact_index.get(head) else { return Target::Unknown };
    let Some(def) = prog.facts.get(fid as usize) else { return Target::Unknown };
    match (def.ty, rest) {
        // a monthly series (`社保缴费人数.2024-03`) is read from JSON facts only
        (Type::Series(_), _) if def.monthly => Target::Unknown,
        (Type::Series(n), r) if r.starts_with('.') => match year(r.get(1..).unwrap_or("")) {
            Some(y) => Target::Year(fid, y, n),
            None => Target::Unknown,
        },
        (Type::List(_), "") => Target::ListLen(fid),
        (Type::List(rec), r) => {
            let Some((idx, after)) = r.strip_prefix('[').and_then(|x| x.split_once("].")) else {
                return Target::Unknown;
            };
            let Some(index) = idx.parse::<usize>().ok().filter(|i| *i <= 10_000) else {
                return Target::Unknown;
            };
            let Some(rdef) = prog.records.get(rec as usize) else { return Target::Unknown };
            let (fname, y) = match after.split_once('.') {
                Some((f, y)) => (f, Some(y)),
                None => (after, None),
            };
            let Some(field) = rdef.fields.iter().position(|f| f.name == fname) else {
                return Target::Unknown;
            };
            let Some(fty) = rdef.fields.get(field).map(|f| f.ty) else { return Target::Unknown };
            match (fty, y) {
                (Type::Series(num), Some(y)) => match year(y) {
                    Some(year) => Target::FieldYear { fact: fid, index, field, year, num },
                    None => Target::Unknown,
                },
                (Type::Series(_) | Type::List(_), _) | (_, Some(_)) => Target::Unknown,
                (ty, None) => Target::Field { fact: fid, index, field, ty },
            }
        }
        (Type::Series(_), _) => Target::Unknown,
        (ty, "") => Target::Scalar(fid, ty),
        _ => Target::Unknown,
    }
}

/// An amount as a whole number of fen, when it is one exactly.
pub fn to_fen(d: Decimal) -> Option<i128> {
    let n = d.normalize();
    if n.scale() > u32::from(AMOUNT_SCALE.unsigned_abs()) {
        return None;
    }
    let mut r = n;
    r.rescale(u32::from(AMOUNT_SCALE.unsigned_abs()));
    (r == n).then(|| r.mantissa())
}

fn not_fen(what: &str, d: Decimal) -> RowError {
    RowError {
        code: crate::diag::Code::Overflow.id(),
        at: what.to_string(),
        message: format!(
            "the amount {d} is more precise than the fen and cannot be written exactly as decimal(38, 2); read this row as JSON lines (`--format jsonl`), which keeps every digit"
        ),
    }
}

fn year(s: &str) -> Option<i32> {
    s.parse::<i32>().ok().filter(|y| (1900..=2200).contains(y))
}

fn text(c: Cell<'_>) -> Option<&str> {
    match c {
        Cell::Str(s) => Some(s),
        _ => None,
    }
}

fn tok(c: Cell<'_>) -> Option<Tok<'_>> {
    match c {
        Cell::Null => Some(Tok::Null),
        Cell::Str(s) => Some(Tok::Str(Cow::Borrowed(s))),
        Cell::Dec(d) => Some(Tok::Dec(d)),
        Cell::Bool(b) => Some(Tok::Bool(b)),
        Cell::Bad(_) => None,
    }
}

/// Sorts the series in a value; `false` when a year is repeated.
fn sort_series(v: &mut FactValue) -> bool {
    match v {
        FactValue::Series(s) => {
            s.0.sort_by_key(|(y, _)| *y);
            s.0.windows(2).all(|w| w.first().map(|x| x.0) != w.get(1).map(|x| x.0))
        }
        FactValue::List(items) => {
            items.iter_mut().flat_map(|it| it.fields.iter_mut().flatten()).all(sort_series)
        }
        FactValue::Scalar(_) => true,
    }
}

/// A leaf of a flattened facts object.
enum Leaf<'a> {
    Text(&'a str),
    Number(&'a str),
    Bool(bool),
    Count(usize),
}

/// Facts objects flattened to `(path, leaf)` pairs, the paths of the CSV contract.
fn flatten<'a>(prefix: &str, v: &'a Json, out: &mut Vec<(String, Leaf<'a>)>) {
    match v {
        Json::Null => {}
        Json::Bool(b) => out.push((prefix.to_string(), Leaf::Bool(*b))),
        Json::Number(n) => out.push((prefix.to_string(), Leaf::Number(n.as_str()))),
        Json::String(s) => out.push((prefix.to_string(), Leaf::Text(s))),
        Json::Array(items) => {
            out.push((prefix.to_string(), Leaf::Count(items.len())));
            for (i, it) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), it, out);
            }
        }
        Json::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&p, x, out);
            }
        }
    }
}

/// What a column of a flattened population holds, as seen so far.
#[derive(Clone, Debug)]
struct Seen {
    numeric: bool,
    bools: bool,
    texts: bool,
    counts: bool,
    /// The one scale of every number (`None` when they differ, or a value is not a plain
    /// decimal: then the column stays text, every digit kept).
    scale: Option<Option<u32>>,
}

/// Facts objects (a population) written as Arrow columns named by fact paths: numbers of
/// numeric facts as `decimal128` at the scale they were written in (text when the scales in a
/// column differ, so no digit is added or lost), booleans as booleans, list lengths as
/// integers, everything else as text. Reading the columns back ([`Columnar::evaluate`])
/// gives the facts the objects give.
pub struct Flattener<'p> {
    prog: &'p Program,
    columns: Vec<(String, Seen)>,
    index: std::collections::HashMap<String, usize>,
}

impl<'p> Flattener<'p> {
    pub fn new(prog: &'p Program) -> Flattener<'p> {
        Flattener { prog, columns: Vec::new(), index: std::collections::HashMap::new() }
    }

    /// First pass: notes the columns of one row and what they hold.
    pub fn observe(&mut self, row: &Json) {
        let mut leaves = Vec::new();
        flatten("", row, &mut leaves);
        for (path, leaf) in leaves {
            let i = match self.index.get(&path) {
                Some(i) => *i,
                None => {
                    let numeric = path == "$period"
                        || matches!(
                            target(self.prog, &path),
                            Target::Year(..)
                                | Target::FieldYear { .. }
                                | Target::Scalar(_, Type::Num(_) | Type::Year)
                                | Target::Field { ty: Type::Num(_) | Type::Year, .. }
                        );
                    self.columns.push((
                        path.clone(),
                        Seen { numeric, bools: false, texts: false, counts: false, scale: None },
                    ));
                    self.index.insert(path, self.columns.len().saturating_sub(1));
                    self.columns.len().saturating_sub(1)
                }
            };
            let Some((_, seen)) = self.columns.get_mut(i) else { continue };
            match leaf {
                Leaf::Bool(_) => seen.bools = true,
                Leaf::Count(_) => seen.counts = true,
                Leaf::Text(t) | Leaf::Number(t) => {
                    if matches!(leaf, Leaf::Text(_)) {
                        seen.texts = true;
                    }
                    let sc = plain_scale(t);
                    seen.scale = match (seen.scale, sc) {
                        (None, s) => Some(s),
                        (Some(a), b) if a == b => Some(a),
                        _ => Some(None),
                    };
                }
            }
        }
    }

    fn kind(seen: &Seen) -> DataType {
        match seen {
            Seen { counts: true, bools: false, texts: false, scale: None, .. } => DataType::Int32,
            Seen { bools: true, texts: false, counts: false, scale: None, .. } => DataType::Boolean,
            Seen { numeric: true, bools: false, counts: false, scale: Some(Some(s)), .. } => {
                DataType::Decimal128(AMOUNT_PRECISION, i8::try_from(*s).unwrap_or(0))
            }
            _ => DataType::Utf8,
        }
    }

    /// The schema of the rows observed.
    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|(p, s)| Field::new(p.clone(), Flattener::kind(s), true))
                .collect::<Vec<_>>(),
        ))
    }

    /// Second pass: rows as one batch of [`Flattener::schema`]. A row with a column the
    /// first pass did not see is an error.
    pub fn to_arrow(&self, rows: &[Json]) -> Result<RecordBatch, ArrowError> {
        let schema = self.schema();
        let width = self.columns.len();
        let mut cells: Vec<Vec<Option<Leaf<'_>>>> = Vec::with_capacity(rows.len());
        for row in rows {
            let mut leaves = Vec::new();
            flatten("", row, &mut leaves);
            let mut r: Vec<Option<Leaf<'_>>> = (0..width).map(|_| None).collect();
            for (path, leaf) in leaves {
                let i = self.index.get(&path).ok_or_else(|| {
                    ArrowError::InvalidArgumentError(format!("column `{path}` was not in the first pass"))
                })?;
                if let Some(slot) = r.get_mut(*i) {
                    *slot = Some(leaf);
                }
            }
            cells.push(r);
        }
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(width);
        for (k, field) in schema.fields().iter().enumerate() {
            let col = cells.iter().map(|r| r.get(k).and_then(Option::as_ref));
            let arr: ArrayRef = match field.data_type() {
                DataType::Int32 => Arc::new(
                    col.map(|c| match c {
                        Some(Leaf::Count(n)) => i32::try_from(*n).ok(),
                        _ => None,
                    })
                    .collect::<arrow_array::Int32Array>(),
                ),
                DataType::Boolean => Arc::new(
                    col.map(|c| match c {
                        Some(Leaf::Bool(b)) => Some(*b),
                        _ => None,
                    })
                    .collect::<arrow_array::BooleanArray>(),
                ),
                DataType::Decimal128(p, s) => Arc::new(
                    col.map(|c| match c {
                        Some(Leaf::Text(t) | Leaf::Number(t)) => {
                            Decimal::from_str_exact(t).ok().map(|d| d.mantissa())
                        }
                        _ => None,
                    })
                    .collect::<arrow_array::Decimal128Array>()
                    .with_precision_and_scale(*p, *s)?,
                ),
                _ => Arc::new(
                    col.map(|c| match c {
                        Some(Leaf::Text(t) | Leaf::Number(t)) => Some(Cow::Borrowed(*t)),
                        Some(Leaf::Bool(b)) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
                        Some(Leaf::Count(n)) => Some(Cow::Owned(n.to_string())),
                        None => None,
                    })
                    .collect::<arrow_array::StringArray>(),
                ),
            };
            cols.push(arr);
        }
        RecordBatch::try_new(schema, cols)
    }
}

/// The scale of a plainly written decimal (`-12.50` → 2); `None` for anything else.
fn plain_scale(t: &str) -> Option<u32> {
    let digits = t.strip_prefix('-').unwrap_or(t);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let ok = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && (digits.contains('.') != frac.is_empty() || !digits.contains('.'))
        && int.len() + frac.len() <= 28;
    if !ok || t == "-0" {
        return None;
    }
    let scale = u32::try_from(frac.len()).ok()?;
    let d = Decimal::from_str_exact(t).ok()?;
    // a negative zero would come back without its sign
    (d.scale() == scale && !(d.is_zero() && t.starts_with('-'))).then_some(scale)
}
