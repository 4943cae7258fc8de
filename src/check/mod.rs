//! Whole-program checks that need more than one declaration at a time: the facts written in
//! tests are valid against the vocabulary, every test names a period, every quoted sentence
//! occurs verbatim in its source document.
//!
//! Invariant: checks only read the program; they never change what it means.

pub mod bounds;
pub mod lints;
pub mod numbers;
pub mod relations;

use crate::diag::{Code, Diagnostic};
use crate::eval::facts::read_facts;
use crate::ir::{ClauseDef, PolicyDef, Program, Quote};
use crate::span::SourceMap;
use std::collections::BTreeMap;

pub fn run(prog: &Program, sources: &SourceMap, texts: &BTreeMap<String, String>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    tests(prog, &mut out);
    if !texts.is_empty() {
        quotes(prog, texts, &mut out);
    }
    bounds::run(prog, &mut out);
    lints::run(prog, &mut out);
    numbers::run(prog, &mut out);
    relations::run(prog, &mut out);
    let _ = sources;
    out
}

fn tests(prog: &Program, out: &mut Vec<Diagnostic>) {
    for t in &prog.tests {
        if t.period.is_none() {
            out.push(
                Diagnostic::new(Code::ConstructMisuse, format!("test `{}` names no period", t.name))
                    .at(t.span, "no `period` in this test")
                    .help("add `period 2024` (the year the facts describe)"),
            );
        }
        if let Err(errors) = crate::eval::Ledger::new(t.ledger.clone()).check(prog, "") {
            let expected: Vec<Code> = t.expected_errors().collect();
            for mut e in errors.into_iter().filter(|e| !expected.contains(&e.code)) {
                let at = e.input.take().map(|i| i.path).unwrap_or_default();
                e.message = format!("in test `{}`: {} ({at} of its ledger)", t.name, e.message);
                out.push(e.at(t.span, "in this test's `ledger`"));
            }
        }
        if let Err(errors) = read_facts(prog, &t.facts) {
            // a test that expects its facts rejected (`expect error E0405`) is run, not refused
            let expected: Vec<Code> = t.expected_errors().collect();
            for e in errors.into_iter().filter(|e| !expected.contains(&e.code)) {
                out.push(
                    Diagnostic::new(e.code, format!("in test `{}`: {} (at `{}`)", t.name, e.message, e.path))
                        .at(t.facts_span, format!("`{}`", e.path))
                        .help(e.help),
                );
            }
        }
    }
}

/// Removes all white space, so a quote matches across line breaks and spacing.
pub fn normalise(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Where a quote occurs in a source text, matched as the quote check matches it (white space
/// removed on both sides, see [`normalise`]): the byte range of the source text from the
/// quote's first character to its last, or `None` when it does not occur. The first
/// occurrence wins.
pub fn locate_quote(source: &str, quote: &str) -> Option<std::ops::Range<usize>> {
    let nq = normalise(quote);
    if nq.is_empty() {
        return None;
    }
    // the normalised text, and for each of its bytes the byte of the source it comes from
    let mut text = String::with_capacity(source.len());
    let mut from: Vec<usize> = Vec::with_capacity(source.len());
    for (i, c) in source.char_indices().filter(|(_, c)| !c.is_whitespace()) {
        text.push(c);
        from.extend(i..i + c.len_utf8());
    }
    let at = text.find(&nq)?;
    let start = *from.get(at)?;
    let end = *from.get(at + nq.len() - 1)? + 1;
    Some(start..end)
}

fn quotes(prog: &Program, texts: &BTreeMap<String, String>, out: &mut Vec<Diagnostic>) {
    let normalised: BTreeMap<&str, String> = texts.iter().map(|(k, v)| (k.as_str(), normalise(v))).collect();
    for p in &prog.policies {
        let Some(src) = &p.source else { continue };
        let name = src.rsplit('/').next().unwrap_or(src);
        let Some(text) = normalised.get(name) else {
            let known: Vec<&str> = normalised.keys().copied().collect();
            out.push(
                Diagnostic::new(
                    Code::SourceMissing,
                    format!("source text `{src}` of `{}` is not among the sources", p.key),
                )
                .at(p.span, "names its source here")
                .help(format!(
                    "copy the document into a `sources/` folder beside the rule file; found: {}",
                    known.join(", ")
                )),
            );
            continue;
        };
        for cid in &p.clauses {
            let Some(c) = prog.clause(*cid) else { continue };
            for q in &c.quotes {
                quote(p, c, q, src, text, out);
            }
        }
    }
    relations::amended_quotes(prog, &normalised, out);
}

/// One quoted sentence must occur in the source; otherwise the diagnostic points at where it
/// drifts from the text.
fn quote(p: &PolicyDef, c: &ClauseDef, q: &Quote, src: &str, text: &str, out: &mut Vec<Diagnostic>) {
    let nq = normalise(&q.text);
    if nq.is_empty() || text.contains(&nq) {
        return;
    }
    // the longest prefix that does occur, to point at where the quote drifts
    let chars: Vec<char> = nq.chars().collect();
    let (mut lo, mut hi) = (0usize, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let prefix: String = chars.iter().take(mid).collect();
        if text.contains(&prefix) { lo = mid } else { hi = mid - 1 }
    }
    let good: String = chars.iter().take(lo).collect();
    let bad: String = chars.iter().skip(lo).take(12).collect();
    let help = if lo == 0 {
        format!("copy the sentence exactly from `{src}`")
    } else {
        format!(
            "the quote matches `{src}` up to “…{}”, then differs at “{bad}…”; copy the sentence exactly",
            good.chars().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect::<String>()
        )
    };
    out.push(
        Diagnostic::new(
            Code::QuoteNotInSource,
            format!("the quote of `{}.{}` does not occur in its source text", p.key, c.id),
        )
        .at(q.span, "not found verbatim")
        .help(help),
    );
}

#[cfg(test)]
mod tests {
    use super::locate_quote;

    #[test]
    fn a_quote_is_located_across_white_space() {
        let src = "甲。对年产值 首次超过\n1 亿元的企业给予奖励。乙";
        let r = locate_quote(src, "对年产值首次超过 1 亿元的企业给予奖励。").unwrap();
        assert_eq!(src.get(r), Some("对年产值 首次超过\n1 亿元的企业给予奖励。"));
        assert_eq!(locate_quote(src, "丙"), None);
        assert_eq!(locate_quote(src, "  "), None);
    }
}
