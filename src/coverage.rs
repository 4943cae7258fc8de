//! `huiqi test --coverage`: which clauses the analysts' tests exercise. Every test evaluates
//! every clause, so a clause counts as tested when some test checks it (an `expect` names it);
//! for each clause: the statuses produced in the tests that check it; for tiers, brackets and
//! categories, which of them those tests reached (read from the explanation steps
//! [`Step::Tier`], [`Step::Bracket`], [`Step::Category`]).
//!
//! Invariant: clauses that are never evaluated per enterprise (`target`, `guidance`,
//! `stacking`) are listed apart and never counted in the denominator.

use crate::eval::facts::read_facts;
use crate::eval::{EvalOptions, Ledger, Status, Step, evaluate};
use crate::ir::view;
use crate::ir::{Amount, ClauseId, Program, TestExpect};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeSet;

pub const COVERAGE_SCHEMA_VERSION: u32 = 1;

/// What the tests of a program exercise.
#[derive(Clone, Debug, Serialize)]
pub struct Coverage {
    pub schema_version: u32,
    pub clauses: Vec<ClauseCoverage>,
    /// Clauses not evaluated per enterprise (targets, guidance, stacking rules), by reference.
    pub not_evaluated: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClauseCoverage {
    /// `E23.5`.
    pub clause: String,
    /// Whether a test checks the clause and produced a result for it.
    pub covered: bool,
    /// The statuses seen in the tests that check the clause, in the order of [`Status::ALL`].
    pub statuses: Vec<Status>,
    /// For tiers, brackets and categories: each one and whether a test reached it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<PartsCoverage>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PartsCoverage {
    /// `tiers`, `brackets` or `categories`.
    pub kind: &'static str,
    /// Each tier, bracket or category as the IR view writes it, with whether it was reached.
    pub items: Vec<(String, bool)>,
}

impl Coverage {
    pub fn covered(&self) -> usize {
        self.clauses.iter().filter(|c| c.covered).count()
    }

    pub fn total(&self) -> usize {
        self.clauses.len()
    }

    /// Whether coverage is at least `min` percent, compared exactly.
    pub fn meets(&self, min: Decimal) -> bool {
        let have = Decimal::from(self.covered()).checked_mul(Decimal::ONE_HUNDRED);
        let need = min.checked_mul(Decimal::from(self.total()));
        match (have, need) {
            (Some(h), Some(n)) => h >= n,
            _ => false,
        }
    }

    /// The percentage, rounded to one decimal (half away from zero); 100 when nothing counts.
    pub fn percent(&self) -> Decimal {
        if self.total() == 0 {
            return Decimal::ONE_HUNDRED;
        }
        Decimal::from(self.covered())
            .checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|x| x.checked_div(Decimal::from(self.total())))
            .map(|x| x.round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
            .map(|x| x.normalize())
            .unwrap_or_default()
    }
}

/// What one clause's results showed.
#[derive(Default)]
struct Seen {
    statuses: BTreeSet<Status>,
    keys: BTreeSet<String>,
    brackets: usize,
}

/// Runs every test case's evaluation and records what it exercised.
pub fn measure(prog: &Program) -> Coverage {
    let mut seen: Vec<Seen> = prog.clauses.iter().map(|_| Seen::default()).collect();
    for t in &prog.tests {
        let Ok(facts) = read_facts(prog, &t.facts) else { continue };
        let outcome = evaluate(
            prog,
            &facts,
            &Ledger::new(t.ledger.clone()),
            EvalOptions { period: t.period.unwrap_or(0), as_of: t.as_of, explain: true },
        );
        let checked: BTreeSet<ClauseId> = t
            .expects
            .iter()
            .filter_map(|e| match e {
                TestExpect::Clause { clause, .. } => Some(*clause),
                TestExpect::Total { .. } | TestExpect::Error { .. } => None,
            })
            .collect();
        for r in outcome.results.iter().filter(|r| checked.contains(&r.clause)) {
            let Some(s) = seen.get_mut(r.clause as usize) else { continue };
            s.statuses.insert(r.status);
            let mut brackets = 0;
            for step in &r.steps {
                match step {
                    Step::Tier { key, .. } => {
                        s.keys.insert(key.clone());
                    }
                    Step::Category { name, .. } => {
                        s.keys.insert(name.clone());
                    }
                    // brackets are walked in order, one step each, from the lowest
                    Step::Bracket { .. } => brackets += 1,
                    _ => {}
                }
            }
            s.brackets = s.brackets.max(brackets);
        }
    }
    let mut clauses = Vec::new();
    let mut not_evaluated = Vec::new();
    for (i, (c, s)) in prog.clauses.iter().zip(seen).enumerate() {
        let cref = prog.clause_ref(ClauseId::try_from(i).unwrap_or(ClauseId::MAX));
        if !c.kind.evaluated() {
            not_evaluated.push(cref);
            continue;
        }
        let labels = || match view::clause(prog, c).amount {
            view::AmountView::Tiers { tiers, .. } => tiers,
            view::AmountView::Brackets { brackets, .. } => brackets,
            view::AmountView::Category { categories, .. } => categories,
            _ => Vec::new(),
        };
        let parts = match &c.amount {
            Amount::Tiers { tiers, .. } => Some(PartsCoverage {
                kind: "tiers",
                items: tiers.iter().zip(labels()).map(|(t, l)| (l, s.keys.contains(&*t.key))).collect(),
            }),
            Amount::Brackets { .. } => Some(PartsCoverage {
                kind: "brackets",
                items: labels().into_iter().enumerate().map(|(k, l)| (l, k < s.brackets)).collect(),
            }),
            Amount::Category { arms, .. } => Some(PartsCoverage {
                kind: "categories",
                items: arms.iter().zip(labels()).map(|(a, l)| (l, s.keys.contains(&*a.name))).collect(),
            }),
            _ => None,
        };
        clauses.push(ClauseCoverage {
            clause: cref,
            covered: !s.statuses.is_empty(),
            statuses: s.statuses.into_iter().collect(),
            parts,
        });
    }
    Coverage { schema_version: COVERAGE_SCHEMA_VERSION, clauses, not_evaluated }
}

/// The coverage table and the final `clause coverage: X/Y (Z%)` line.
pub fn render(c: &Coverage) -> String {
    let width = c.clauses.iter().map(|x| x.clause.chars().count()).max().unwrap_or(6).max(6);
    let mut out =
        format!("{:<width$}  {:<7}  statuses seen in its tests / parts reached\n", "clause", "tested");
    for x in &c.clauses {
        let statuses = if x.statuses.is_empty() {
            "-".to_string()
        } else {
            x.statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        };
        out.push_str(&format!(
            "{:<width$}  {:<7}  {statuses}\n",
            x.clause,
            if x.covered { "yes" } else { "NO" }
        ));
        if let Some(p) = &x.parts {
            let reached = p.items.iter().filter(|(_, r)| *r).count();
            let missing: Vec<&str> = p.items.iter().filter(|(_, r)| !*r).map(|(l, _)| l.as_str()).collect();
            let mut line = format!("{reached}/{} {} reached", p.items.len(), p.kind);
            if !missing.is_empty() {
                line.push_str(&format!("; not reached: {}", missing.join("; ")));
            }
            out.push_str(&format!("{:<width$}  {:<7}  {line}\n", "", ""));
        }
    }
    if !c.not_evaluated.is_empty() {
        out.push_str(&format!(
            "not counted (target, guidance and stacking clauses are not evaluated): {}\n",
            c.not_evaluated.join(", ")
        ));
    }
    out.push_str(&format!("clause coverage: {}/{} ({}%)\n", c.covered(), c.total(), c.percent()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{Input, compile};

    fn measure_text(text: &str) -> Coverage {
        let input = Input::from_rules([("t.policy".to_string(), text.to_string())]);
        match compile(&input) {
            Ok(c) => measure(&c.program),
            Err(f) => panic!("{:?}", f.diagnostics),
        }
    }

    const RULES: &str = "enum 规模 { 大型, 小型, 微型 }\nfact 企业规模: 规模\nfact 收入: money\n\
        policy P \"示例\" {\n\
          clause 1 \"累进\" { amount brackets 收入 { up to 500万 => 25%; up to 1000万 => 20%; above => 10% } }\n\
          clause 2 \"类别\" { amount by 企业规模 { 小型 => 10万, 微型 => 5万 } }\n\
          clause 3 \"未测\" { amount 1万 }\n\
          clause 4 \"目标\" { kind guidance amount discretionary }\n\
        }\n\
        test \"中等收入\" {\n  period 2024\n  facts { 收入: 800万, 企业规模: 小型 }\n  expect P.1 granted 185万\n  expect P.2 granted 10万\n}\n";

    #[test]
    fn brackets_categories_and_untested_clauses() {
        let c = measure_text(RULES);
        assert_eq!((c.covered(), c.total()), (2, 3));
        assert_eq!(c.not_evaluated, vec!["P.4".to_string()]);
        let b = c.clauses.first().and_then(|x| x.parts.clone()).map(|p| p.items);
        let b = b.unwrap_or_default();
        assert_eq!(b.iter().map(|(_, r)| *r).collect::<Vec<_>>(), vec![true, true, false]);
        let k = c.clauses.get(1).and_then(|x| x.parts.clone()).map(|p| p.items).unwrap_or_default();
        assert_eq!(k, vec![("小型 => 10万".to_string(), true), ("微型 => 5万".to_string(), false)]);
        assert_eq!(c.percent(), Decimal::new(667, 1));
        assert!(c.meets(Decimal::new(66, 0)));
        assert!(!c.meets(Decimal::new(67, 0)));
        let text = render(&c);
        assert!(text.contains("2/3 brackets reached; not reached: above => 10%"), "{text}");
        assert!(text.ends_with("clause coverage: 2/3 (66.7%)\n"), "{text}");
    }
}
