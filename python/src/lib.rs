//! The Python binding: `huiqi._huiqi`, wrapped by the pure-Python `huiqi` package.
//!
//! Invariant: a thin adapter over `huiqi::Rules` and `huiqi::columnar`; it owns only the
//! protocol. Facts and reports cross as JSON text (numbers exact, amounts as strings); Arrow
//! batches cross through the Arrow C data interface, never row by row through Python objects.
//! Errors cross once, in [`to_py_err`]. The GIL is released while evaluating.

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi};
use arrow_array::{Array, RecordBatch, StructArray};
use huiqi::batch::{BatchOptions, RowFormat};
use huiqi::columnar::Columnar;
use huiqi::eval::Lang;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

create_exception!(huiqi, Error, PyException, "A problem huiqi found; `.diagnostics` lists each one.");
create_exception!(
    huiqi,
    CompileError,
    Error,
    "The rule set does not compile; `.diagnostics` lists every problem."
);
create_exception!(
    huiqi,
    FactsError,
    Error,
    "The facts (or the ledger) are invalid; `.diagnostics` lists every problem."
);

/// One diagnostic: what, where (file, line, column, or the JSON path of an input problem),
/// and how to fix it.
#[pyclass(frozen, get_all, module = "huiqi")]
#[derive(Clone)]
struct Diagnostic {
    code: String,
    severity: String,
    file: String,
    line: Option<usize>,
    column: Option<usize>,
    path: Option<String>,
    message: String,
    help: Option<String>,
}

#[pymethods]
impl Diagnostic {
    fn __repr__(&self) -> String {
        match (self.line, self.column, &self.path) {
            (Some(l), Some(c), _) => {
                format!("{}:{l}:{c}: {}[{}]: {}", self.file, self.severity, self.code, self.message)
            }
            (_, _, Some(p)) => {
                format!("{}: {p}: {}[{}]: {}", self.file, self.severity, self.code, self.message)
            }
            _ => format!("{}[{}]: {}", self.severity, self.code, self.message),
        }
    }
}

/// The one mapping of library errors to Python exceptions.
fn to_py_err(py: Python<'_>, e: &huiqi::Error, compile: bool) -> PyErr {
    let err = if compile { CompileError::new_err(e.to_string()) } else { FactsError::new_err(e.to_string()) };
    let diags: Vec<Diagnostic> = e
        .located()
        .into_iter()
        .map(|l| Diagnostic {
            code: l.code,
            severity: l.severity,
            file: l.file,
            line: l.line,
            column: l.column,
            path: l.path,
            message: l.message,
            help: l.help,
        })
        .collect();
    match PyList::new(py, diags).and_then(|list| err.value(py).setattr("diagnostics", list)) {
        Ok(()) => err,
        Err(other) => other,
    }
}

/// A compiled rule set.
#[pyclass(frozen, module = "huiqi")]
struct Rules {
    rules: huiqi::Rules,
}

#[pyfunction]
fn load(py: Python<'_>, paths: Vec<String>) -> PyResult<Rules> {
    let r = py.detach(|| huiqi::Rules::load(&paths));
    r.map(|rules| Rules { rules }).map_err(|e| to_py_err(py, &e, true))
}

#[pyfunction]
fn from_texts(py: Python<'_>, files: Vec<(String, String)>) -> PyResult<Rules> {
    let r = py.detach(|| huiqi::Rules::from_texts(files));
    r.map(|rules| Rules { rules }).map_err(|e| to_py_err(py, &e, true))
}

#[pymethods]
impl Rules {
    /// The `eval --format json` document of one enterprise, as JSON text.
    #[pyo3(signature = (facts, period=None, ledger=None, lang="zh"))]
    fn evaluate_json(
        &self,
        py: Python<'_>,
        facts: String,
        period: Option<i32>,
        ledger: Option<String>,
        lang: &str,
    ) -> PyResult<String> {
        let lang = match lang {
            "zh" => Lang::Zh,
            "en" => Lang::En,
            other => return Err(PyValueError::new_err(format!("lang is \"zh\" or \"en\", not {other:?}"))),
        };
        let r = py.detach(|| {
            self.rules
                .evaluate_json_in(&facts, period, ledger.as_deref(), lang)
                .map(|rep| serde_json::to_string(&rep).unwrap_or_default())
        });
        r.map_err(|e| to_py_err(py, &e, false))
    }

    /// Every clause: policy, clause, title, kind, quote.
    fn clauses<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.rules
            .clauses()
            .into_iter()
            .map(|c| {
                let d = PyDict::new(py);
                d.set_item("policy", c.policy)?;
                d.set_item("clause", c.clause)?;
                d.set_item("title", c.title)?;
                d.set_item("kind", c.kind)?;
                d.set_item("quote", c.quote)?;
                Ok(d)
            })
            .collect()
    }

    /// Warnings of the rule set (it compiled).
    fn warnings(&self, py: Python<'_>) -> Vec<String> {
        let _ = py;
        self.rules.warnings().iter().map(|d| format!("{}: {}", d.code.id(), d.message)).collect()
    }

    /// Evaluates the record batches of a pyarrow Table (or one RecordBatch): a list of
    /// pyarrow RecordBatches, one row per input row.
    #[pyo3(signature = (batches, period=None))]
    fn evaluate_batches<'py>(
        &self,
        py: Python<'py>,
        batches: Vec<Bound<'py, PyAny>>,
        period: Option<i32>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let inputs: Vec<RecordBatch> = batches.iter().map(import_batch).collect::<PyResult<_>>()?;
        let outputs = py.detach(|| {
            let col =
                Columnar::new(self.rules.program(), BatchOptions { period, as_of: None }, RowFormat::Table);
            let mut line = 1;
            let mut out = Vec::with_capacity(inputs.len().max(1));
            for rb in &inputs {
                let rows = col.evaluate(rb, line);
                line += rb.num_rows();
                out.push(col.to_arrow(&rows));
            }
            if out.is_empty() {
                out.push(col.to_arrow(&[]));
            }
            out.into_iter().collect::<Result<Vec<_>, _>>()
        });
        let outputs = outputs.map_err(|e| PyValueError::new_err(e.to_string()))?;
        outputs.into_iter().map(|rb| export_batch(py, rb)).collect()
    }
}

/// A pyarrow RecordBatch into Rust through the C data interface.
fn import_batch(b: &Bound<'_, PyAny>) -> PyResult<RecordBatch> {
    let mut array = Box::new(FFI_ArrowArray::empty());
    let mut schema = Box::new(FFI_ArrowSchema::empty());
    let pa = &raw mut *array as usize;
    let ps = &raw mut *schema as usize;
    b.call_method1("_export_to_c", (pa, ps))?;
    // SAFETY: pyarrow has just filled both structures through the C data interface; `from_ffi`
    // takes the array's ownership and validates it against the schema.
    #[allow(unsafe_code)]
    let data = unsafe { from_ffi(*array, &schema) }.map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(RecordBatch::from(StructArray::from(data)))
}

/// A Rust RecordBatch to pyarrow through the C data interface.
fn export_batch<'py>(py: Python<'py>, rb: RecordBatch) -> PyResult<Bound<'py, PyAny>> {
    let data = StructArray::from(rb).into_data();
    let schema =
        FFI_ArrowSchema::try_from(data.data_type()).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let array = FFI_ArrowArray::new(&data);
    let mut array = Box::new(array);
    let mut schema = Box::new(schema);
    let pa = &raw mut *array as usize;
    let ps = &raw mut *schema as usize;
    let pyarrow = py.import("pyarrow")?;
    // pyarrow moves the array and the schema out of the structures (leaving them released),
    // so dropping the boxes afterwards frees nothing twice
    let out = pyarrow.getattr("RecordBatch")?.call_method1("_import_from_c", (pa, ps))?;
    drop(array);
    drop(schema);
    Ok(out)
}

#[pymodule]
fn _huiqi(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("CompileError", py.get_type::<CompileError>())?;
    m.add("FactsError", py.get_type::<FactsError>())?;
    m.add_class::<Rules>()?;
    m.add_class::<Diagnostic>()?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(from_texts, m)?)?;
    Ok(())
}
