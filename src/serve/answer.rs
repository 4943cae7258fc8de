//! The answer of `POST /v1/evaluate` written straight from the evaluation's [`Outcome`]: the
//! bytes `serde_json::to_vec` gives for [`ServedReport`] (the `eval --format json` document
//! plus `ruleset`), without building the report's strings first.
//!
//! What each result repeats for every enterprise (its document, number, clause id, title and
//! kind, and the clause reference of each step) is escaped once per rule set, when it is
//! loaded ([`Answers::new`]); per request only the statuses, amounts, explanation sentences
//! and missing facts are written. Strings are escaped exactly as serde_json's compact writer
//! escapes them, a run of bytes that needs no escape copied at once.
//!
//! Invariant: [`Answers::write`] gives byte for byte what `serde_json::to_vec(&ServedReport
//! { report: eval_report(…), ruleset })` gives; the tests below hold it to that over generated
//! populations, in both languages, with and without explanations and with a ledger.
//!
//! [`ServedReport`]: super::api::ServedReport

use crate::eval::{Lang, Outcome, Status, Step};
use crate::ir::Program;
use crate::report::{ClauseErrorJson, EVAL_SCHEMA_VERSION, result_kind};
use crate::value::fmt_yuan;
use serde::Serialize;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A clause's fixed parts of its result.
struct Fixed {
    /// `{"policy":…,"number":…,"clause":…,"title":…,"kind":…` (no closing brace).
    head: Vec<u8>,
    /// `{"clause":"E23.5","kind":` of each of its steps.
    step: Vec<u8>,
    /// The quote step of the clause and of each of its versions, rendered and escaped.
    quotes: Vec<Quoted>,
}

/// A quote step's text as `Step::render` writes it, as JSON strings in both languages.
struct Quoted {
    source: String,
    zh: Vec<u8>,
    en: Vec<u8>,
}

/// The fixed parts of every clause of one rule set, and the size of the last answer (so the
/// next one is written into a buffer that will not grow).
/// Answer buffers kept for the next answers. An explained answer is about 150 KB: one
/// allocated and freed per request made the allocator hand its pages back to the system and
/// fault them in again (the kernel zeroing them), a sixth of the server's time at 64
/// connections. A buffer comes back when the response body that holds it ([`Pooled`]) has
/// been written and dropped.
pub struct Buffers;

/// Buffers kept at most, and the largest one kept: at most 32 MB held for reuse.
const KEEP: usize = 128;
const KEEP_BYTES: usize = 256 << 10;

static FREE: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());

impl Buffers {
    /// An empty buffer with room for at least `n` bytes, a kept one when there is one.
    pub fn take(n: usize) -> Vec<u8> {
        let kept = FREE.lock().map(|mut f| f.pop()).unwrap_or(None);
        match kept {
            Some(mut b) => {
                b.reserve(n);
                b
            }
            None => Vec::with_capacity(n),
        }
    }

    /// Keeps `b` for a later answer (unless enough are kept, or it is too large to keep).
    fn give(mut b: Vec<u8>) {
        if b.capacity() > KEEP_BYTES {
            return;
        }
        b.clear();
        if let Ok(mut f) = FREE.lock()
            && f.len() < KEEP
        {
            f.push(b);
        }
    }
}

/// An answer as a response body: its buffer goes back to [`Buffers`] when the body is dropped
/// (`Bytes::from_owner`).
pub struct Pooled(pub Vec<u8>);

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        Buffers::give(std::mem::take(&mut self.0));
    }
}

pub struct Answers {
    clauses: Vec<Fixed>,
    /// `"granted"` … in [`Status::ALL`] order.
    statuses: Vec<Vec<u8>>,
    last: AtomicUsize,
}

#[derive(Serialize)]
struct Head<'a> {
    policy: &'a str,
    number: Option<&'a str>,
    clause: &'a str,
    title: &'a str,
    kind: &'static str,
}

impl Answers {
    /// Escapes the fixed parts of every clause of `prog` (as `report::result_json` takes them).
    pub fn new(prog: &Program) -> Answers {
        let clauses = (0..prog.clauses.len())
            .map(|i| {
                let id = u32::try_from(i).unwrap_or(u32::MAX);
                let c = prog.clause(id);
                let p = c.and_then(|c| prog.policy_of(c));
                let head = Head {
                    policy: p.map_or("", |p| p.key.as_str()),
                    number: p.and_then(|p| p.number.as_deref()),
                    clause: c.map_or("", |c| c.id.as_str()),
                    title: c.map_or("", |c| c.title.as_str()),
                    kind: c.map_or("benefit", result_kind),
                };
                let mut head = serde_json::to_vec(&head).unwrap_or_default();
                head.pop(); // the closing brace: the result goes on
                let mut step = b"{\"clause\":".to_vec();
                string(&mut step, &prog.clause_ref(id));
                step.extend_from_slice(b",\"kind\":");
                let mut quotes: Vec<Quoted> = Vec::new();
                let defs =
                    c.into_iter().flat_map(|c| std::iter::once(c).chain(c.versions.iter().map(|v| &*v.def)));
                for q in defs.filter_map(crate::ir::ClauseDef::quote_text) {
                    if quotes.iter().all(|x| x.source != q) {
                        let step = Step::Quote { text: q.clone() };
                        let (mut zh, mut en) = (Vec::new(), Vec::new());
                        string(&mut zh, &step.render(prog, Lang::Zh));
                        string(&mut en, &step.render(prog, Lang::En));
                        quotes.push(Quoted { source: q, zh, en });
                    }
                }
                Fixed { head, step, quotes }
            })
            .collect();
        let statuses = Status::ALL.iter().map(|s| serde_json::to_vec(s).unwrap_or_default()).collect();
        Answers { clauses, statuses, last: AtomicUsize::new(16 << 10) }
    }

    /// The answer for `outcome`: the `eval --format json` document of `report::eval_report`
    /// with `enterprise` and `lang`, then `ruleset`, as compact JSON.
    pub fn write(
        &self,
        prog: &Program,
        outcome: &Outcome,
        enterprise: Option<&str>,
        lang: Lang,
        ruleset: &str,
    ) -> Vec<u8> {
        let guess = self.last.load(Ordering::Relaxed);
        let mut out = Buffers::take(guess + guess / 8);
        out.extend_from_slice(b"{\"schema_version\":");
        let _ = write!(out, "{EVAL_SCHEMA_VERSION}");
        if let Some(name) = enterprise {
            out.extend_from_slice(b",\"enterprise\":");
            string(&mut out, name);
        }
        let _ = write!(out, ",\"period\":{},\"as_of\":\"{}\",\"results\":[", outcome.period, outcome.as_of);
        let mut sentence = String::with_capacity(256);
        for (i, r) in outcome.results.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match self.clauses.get(r.clause as usize) {
                Some(fixed) => {
                    out.extend_from_slice(&fixed.head);
                    out.extend_from_slice(b",\"status\":");
                    let s = Status::ALL.iter().position(|x| *x == r.status);
                    match s.and_then(|s| self.statuses.get(s)) {
                        Some(s) => out.extend_from_slice(s),
                        None => serde(&mut out, &r.status),
                    }
                    out.extend_from_slice(b",\"amount\":");
                    yuan(&mut out, r.amount);
                    out.extend_from_slice(b",\"cap\":");
                    yuan(&mut out, r.cap);
                    out.extend_from_slice(b",\"floor\":");
                    yuan(&mut out, r.floor);
                    out.extend_from_slice(b",\"explanation\":");
                    steps(&mut out, fixed, &r.steps, lang, &mut sentence);
                    out.extend_from_slice(b",\"reasons\":");
                    steps(&mut out, fixed, &r.reasons, lang, &mut sentence);
                    out.extend_from_slice(b",\"missing\":[");
                    for (k, m) in r.missing.iter().enumerate() {
                        if k > 0 {
                            out.push(b',');
                        }
                        string(&mut out, m);
                    }
                    out.push(b']');
                    if let Some(v) = &r.version {
                        out.extend_from_slice(b",\"version\":");
                        serde(&mut out, v);
                    }
                    out.push(b'}');
                }
                // not a clause of this program (cannot happen): as the report writes it
                None => serde(&mut out, &crate::report::result_json(prog, r, lang)),
            }
        }
        out.extend_from_slice(b"],\"ledger\":[");
        for (i, e) in outcome.new_entries().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            serde(&mut out, e);
        }
        out.extend_from_slice(b"],\"total\":");
        yuan(&mut out, outcome.total().ok());
        out.extend_from_slice(b",\"errors\":[");
        for (i, e) in outcome.errors.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let c = prog.clause(e.clause);
            let json = ClauseErrorJson {
                policy: c.and_then(|c| prog.policy_of(c)).map_or_else(String::new, |p| p.key.clone()),
                clause: c.map_or_else(String::new, |c| c.id.clone()),
                code: e.code.id(),
                message: e.message.clone(),
            };
            serde(&mut out, &json);
        }
        out.extend_from_slice(b"],\"ruleset\":");
        string(&mut out, ruleset);
        out.push(b'}');
        self.last.store(out.len(), Ordering::Relaxed);
        out
    }
}

/// Explanation steps: `[{"clause":…,"kind":…,"text":…},…]`; the clause's quote as rendered
/// once.
fn steps(out: &mut Vec<u8>, fixed: &Fixed, steps: &[Step], lang: Lang, sentence: &mut String) {
    out.push(b'[');
    for (i, s) in steps.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&fixed.step);
        string(out, s.kind());
        out.extend_from_slice(b",\"text\":");
        let quoted = match s {
            Step::Quote { text } => fixed.quotes.iter().find(|q| q.source == *text),
            _ => None,
        };
        match quoted {
            Some(q) => out.extend_from_slice(if lang == Lang::Zh { &q.zh } else { &q.en }),
            None => {
                // written into one buffer reused for every sentence of the answer, then
                // escaped in one pass (cheaper than escaping each of its pieces)
                sentence.clear();
                let _ = s.write(sentence, lang);
                string(out, sentence);
            }
        }
        out.push(b'}');
    }
    out.push(b']');
}

/// An amount in yuan as the report writes it (`fmt_yuan`), or `null`.
fn yuan(out: &mut Vec<u8>, d: Option<rust_decimal::Decimal>) {
    match d {
        Some(d) => string(out, &fmt_yuan(d)),
        None => out.extend_from_slice(b"null"),
    }
}

/// A value serde_json writes (the rare parts: ledger entries, versions, clause errors).
fn serde<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    if serde_json::to_writer(&mut *out, v).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// Whether a byte needs an escape in a JSON string (serde_json escapes exactly these).
fn needs_escape(b: u8) -> bool {
    (b < 0x20) | (b == b'"') | (b == b'\\')
}

/// Whether none of eight bytes (little-endian in `w`) needs an escape: no byte below 0x20,
/// none `"`, none `\` (the exact "has a zero byte" and "has a byte below n" word tests).
fn clean8(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    (below_space | zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\')))) == 0
}

/// A JSON string, escaped as serde_json's compact writer escapes it: `\"`, `\\`, `\b`, `\t`,
/// `\n`, `\f`, `\r`, other control characters as `\u00xx`; everything else as it is.
pub fn string(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    escape(out, s);
    out.push(b'"');
}

/// The inside of a JSON string (no quotes), escaped as serde_json escapes it.
fn escape(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    // nearly every string needs no escape: one pass without an early exit (which the compiler
    // turns into vector compares), then one copy
    if !bytes.iter().fold(false, |dirty, &b| dirty | needs_escape(b)) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // skip eight bytes at a time while none needs an escape
        if let Some(chunk) = bytes.get(i..i + 8)
            && let Ok(word) = <[u8; 8]>::try_from(chunk)
            && clean8(u64::from_le_bytes(word))
        {
            i += 8;
            continue;
        }
        let Some(&b) = bytes.get(i) else { break };
        if needs_escape(b) {
            out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x09 => out.extend_from_slice(b"\\t"),
                0x0a => out.extend_from_slice(b"\\n"),
                0x0c => out.extend_from_slice(b"\\f"),
                0x0d => out.extend_from_slice(b"\\r"),
                _ => {
                    let hex = |n: u8| HEX.get(usize::from(n)).copied().unwrap_or(b'0');
                    out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hex(b >> 4), hex(b & 0xf)]);
                }
            }
            start = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::facts::{default_period, read_facts};
    use crate::eval::{EvalOptions, Ledger, evaluate};
    use crate::report::eval_report;
    use crate::serve::api::ServedReport;

    fn check(s: &str) {
        let mut mine = Vec::new();
        string(&mut mine, s);
        assert_eq!(String::from_utf8_lossy(&mine), serde_json::to_string(s).unwrap(), "{s:?}");
    }

    #[test]
    fn the_word_test_finds_every_byte_that_needs_an_escape() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut w = *b"abcdefgh";
                w[at] = b;
                assert_eq!(clean8(u64::from_le_bytes(w)), !needs_escape(b), "{b:#x} at {at}");
                let mut w = [0xe4u8, 0xb8, 0xad, 0xe6, 0x96, 0x87, 0x7f, 0x80];
                w[at] = b;
                assert_eq!(clean8(u64::from_le_bytes(w)), !needs_escape(b), "{b:#x} at {at}");
            }
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let every: String = (0u32..0x80).filter_map(char::from_u32).collect();
        check(&every);
        check("");
        check("条件 `营业收入.2024 超过 5亿` 不成立（营业收入.2024 = 4.8亿）");
        for c in (0u32..0x80).filter_map(char::from_u32) {
            // the character at every offset of a run longer than the chunk
            for at in 0..40 {
                let mut s = "原文：“第五条”abcdefghijklmnopqrstuvwxyz".to_string();
                let at = (0..=at).rev().find(|k| s.is_char_boundary(*k)).unwrap_or(0);
                s.insert(at, c);
                check(&s);
            }
        }
    }

    fn program() -> crate::Compiled {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let input = crate::load::load(&[root.join("policies")]).unwrap();
        crate::compile(&input).ok().unwrap()
    }

    #[test]
    fn answers_are_the_bytes_serde_json_writes_for_the_report() {
        let compiled = program();
        let prog = &compiled.program;
        let answers = Answers::new(prog);
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let example = std::fs::read_to_string(root.join("examples/光电子科技.json")).unwrap();
        let ledger_text = r#"{"schema_version": 1, "entries": [{"policy": "E23", "clause": "5", "key": "5亿", "period": 2023, "amount": "500000.00"}]}"#;
        let ledger = Ledger::from_json(ledger_text, "ledger").ok().unwrap();
        let mut inputs: Vec<String> = crate::population::population_lines(120, 7, 2024).collect();
        inputs.push(example);
        let mut compared = 0;
        for text in &inputs {
            let json = crate::json::Json::parse(text).ok().unwrap();
            let Ok(facts) = read_facts(prog, &json) else { continue };
            let period = default_period(&json, &facts).unwrap_or(2024);
            let name = json.get("$name").or_else(|| json.get("$id")).and_then(crate::json::Json::as_str);
            for (explain, lang, with_ledger) in [
                (true, Lang::Zh, false),
                (false, Lang::Zh, false),
                (true, Lang::En, true),
                (false, Lang::En, true),
            ] {
                let l = if with_ledger { ledger.clone() } else { Ledger::default() };
                let o = evaluate(prog, &facts, &l, EvalOptions { period, as_of: None, explain });
                let report = eval_report(prog, &o, name.map(String::from), lang);
                let want =
                    serde_json::to_vec(&ServedReport { report, ruleset: "sha256:0123\"x".into() }).unwrap();
                let got = answers.write(prog, &o, name, lang, "sha256:0123\"x");
                assert!(
                    got == want,
                    "explain={explain} {lang:?}:\n{}\n{}",
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&want)
                );
                compared += 1;
            }
        }
        assert!(compared > 400, "{compared}");
    }
}
