//! What the fuzz targets share: the seed rule set, its vocabulary, the comparison of the two
//! evaluators, and facts generated from the vocabulary's types. See docs/reliability.md.

use huiqi::eval::facts::Facts;
use huiqi::eval::kernel::{Delegate, Kernel, Verdicts};
use huiqi::eval::{EvalOptions, Ledger, evaluate};
use huiqi::ir::{Num, Program, Type};
use huiqi::value::Date;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use std::fmt::Write;
use std::sync::LazyLock;

/// The seed vocabulary files (`policies/vocabulary*.policy`), compiled beside fuzzed text.
pub const VOCABULARY: &[(&str, &str)] = &[
    ("vocabulary.policy", include_str!("../../policies/vocabulary.policy")),
    ("vocabulary_K22_T13.policy", include_str!("../../policies/vocabulary_K22_T13.policy")),
    ("vocabulary_S22.policy", include_str!("../../policies/vocabulary_S22.policy")),
];

/// The seed rule set (`policies/`, with its sources), compiled once.
pub static SEEDS: LazyLock<Program> = LazyLock::new(|| {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let input = huiqi::load::load(&[dir]).expect("policies/ loads");
    match huiqi::compile(&input) {
        Ok(c) => c.program,
        Err(f) => {
            panic!("policies/ compiles: {}", huiqi::diag::render::render_short(&f.diagnostics, &f.sources))
        }
    }
});

/// The lean path and the full evaluator on one enterprise with an empty ledger: the same
/// clauses, statuses and amounts to the scale, the same total; an enterprise handed back
/// (`Delegate`) must be one the evaluator reports an error for. Panics on a difference.
pub fn agree(prog: &Program, kernel: &Kernel, facts: &Facts, period: i32, as_of: Option<Date>) {
    let full = evaluate(prog, facts, &Ledger::default(), EvalOptions { period, as_of, explain: false });
    let mut v = Verdicts::default();
    match kernel.evaluate(prog, facts, period, as_of, &mut v) {
        Err(Delegate) => {
            assert!(
                !full.errors.is_empty(),
                "the kernel handed back an enterprise the evaluator reads without error"
            )
        }
        Ok(()) => {
            // a total that overflows is no clause's failure: the kernel's `total` reports it
            // (compared below), the evaluator lists it among its errors
            let missed: Vec<_> =
                full.errors.iter().filter(|e| e.code != huiqi::diag::Code::TotalOverflow).collect();
            assert!(missed.is_empty(), "the kernel missed {missed:?}");
            assert_eq!(v.items.len(), full.results.len(), "as many verdicts as results");
            for (k, r) in v.items.iter().zip(&full.results) {
                let c = prog.clause_ref(r.clause);
                assert_eq!(k.clause, r.clause, "the same clause");
                assert_eq!(k.status, r.status, "{c}: status");
                assert_eq!(format!("{:?}", k.amount), format!("{:?}", r.amount), "{c}: amount to the scale");
            }
            let total = |t: Result<rust_decimal::Decimal, huiqi::eval::ClauseError>| match t {
                Ok(d) => Ok(d.to_string()),
                Err(e) => Err((e.clause, e.code)),
            };
            assert_eq!(total(v.total()), total(full.total()), "the total (or the overflow that stops it)");
        }
    }
}

/// Amounts the seed rules compare against (1万 … 100亿), so that generated numbers land on and
/// next to the thresholds.
const ROUND: &[i64] = &[
    0,
    1,
    100,
    1_000,
    10_000,
    50_000,
    100_000,
    200_000,
    300_000,
    500_000,
    1_000_000,
    2_000_000,
    3_000_000,
    5_000_000,
    10_000_000,
    20_000_000,
    30_000_000,
    50_000_000,
    100_000_000,
    200_000_000,
    300_000_000,
    500_000_000,
    1_000_000_000,
    2_000_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// A number as JSON text (a string or a bare number) for a numeric kind.
fn number(u: &mut Unstructured<'_>, kind: Num) -> Result<String> {
    let text = match u.int_in_range(0u8..=9)? {
        // on a threshold, or just beside it
        0..=3 => {
            let base = *u.choose(ROUND)?;
            let delta: i64 = match u.int_in_range(0u8..=3)? {
                0 => 0,
                1 => 1,
                2 => -1,
                _ => i64::from(u.int_in_range(-999i32..=999)?),
            };
            let v = base.saturating_add(delta);
            match kind {
                Num::Rate => format!("{}", v.rem_euclid(101)),
                _ => v.to_string(),
            }
        }
        // anything, at any scale (rust_decimal takes up to 28 places)
        4..=6 => {
            let m: i64 = u.arbitrary()?;
            let scale = u.int_in_range(0u32..=8)?;
            match rust_decimal::Decimal::try_new(m, scale) {
                Ok(d) => d.to_string(),
                Err(_) => m.to_string(),
            }
        }
        // small whole numbers (counts, years, percentages)
        7 | 8 => u.int_in_range(-3i32..=120)?.to_string(),
        // very large, for overflow
        _ => {
            let digits = u.int_in_range(15usize..=29)?;
            let mut s = String::from("9");
            for _ in 1..digits {
                s.push(char::from(b'0' + u.int_in_range(0u8..=9)?));
            }
            s
        }
    };
    let rate_form = kind == Num::Rate && u.ratio(1u8, 2)?;
    Ok(match u.int_in_range(0u8..=2)? {
        _ if rate_form => format!("\"{text}%\""),
        0 => text,
        _ => format!("\"{text}\""),
    })
}

fn date(u: &mut Unstructured<'_>, period: i32) -> Result<String> {
    let year = period + u.int_in_range(-6i32..=2)?;
    let month = u.int_in_range(1u32..=12)?;
    let day = u.int_in_range(1u32..=28)?;
    Ok(format!("\"{year:04}-{month:02}-{day:02}\""))
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// A value of `ty` as JSON text; `null` sometimes.
fn value(u: &mut Unstructured<'_>, prog: &Program, ty: Type, period: i32, depth: u8) -> Result<String> {
    if u.ratio(1u8, 16)? {
        return Ok("null".into());
    }
    Ok(match ty {
        Type::Num(n) => number(u, n)?,
        Type::Bool => if u.arbitrary()? { "true" } else { "false" }.into(),
        Type::Date => date(u, period)?,
        Type::Year => (period + u.int_in_range(-8i32..=2)?).to_string(),
        Type::Text => quoted(u.choose(&["甲", "乙", "", "长春"])?),
        Type::Enum(e) => match prog.enums.get(e as usize) {
            Some(def) if !def.variants.is_empty() => quoted(u.choose(&def.variants)?),
            _ => "null".into(),
        },
        Type::Series(n) => {
            let mut s = String::from("{");
            let from = period - i32::from(u.int_in_range(0u8..=6)?);
            let to = period + i32::from(u.int_in_range(0u8..=1)?);
            let mut first = true;
            for year in from..=to {
                if u.ratio(1u8, 5)? {
                    continue;
                }
                if !first {
                    s.push(',');
                }
                first = false;
                let _ = write!(s, "\"{year}\":{}", number(u, n)?);
            }
            s.push('}');
            s
        }
        Type::Record(r) | Type::List(r) if depth < 2 => {
            let Some(rec) = prog.records.get(r as usize) else { return Ok("null".into()) };
            let one = |u: &mut Unstructured<'_>| -> Result<String> {
                let mut s = String::from("{");
                let mut first = true;
                for f in &rec.fields {
                    if u.ratio(1u8, 6)? {
                        continue;
                    }
                    if !first {
                        s.push(',');
                    }
                    first = false;
                    let _ = write!(s, "{}:{}", quoted(&f.name), value(u, prog, f.ty, period, depth + 1)?);
                }
                s.push('}');
                Ok(s)
            };
            if matches!(ty, Type::Record(_)) {
                one(u)?
            } else {
                let n = u.int_in_range(0u8..=4)?;
                let items: Result<Vec<String>> = (0..n).map(|_| one(u)).collect();
                format!("[{}]", items?.join(","))
            }
        }
        Type::Record(_) | Type::List(_) => "null".into(),
    })
}

/// A facts object for `prog`'s vocabulary, as JSON text: each fact present or absent, every
/// value of its declared type (the reader may still refuse some, e.g. out of range).
pub fn facts_json(u: &mut Unstructured<'_>, prog: &Program, period: i32) -> Result<String> {
    let mut s = String::from("{");
    let mut first = true;
    for f in &prog.facts {
        if u.ratio(1u8, 4)? {
            continue;
        }
        if !first {
            s.push(',');
        }
        first = false;
        let _ = write!(s, "{}:{}", quoted(&f.name), value(u, prog, f.ty, period, 0)?);
    }
    s.push('}');
    Ok(s)
}
