//! Amendments of documents by later documents, and the checks of `granted(…)` references —
//! both need every document lowered first, so they run at the end of lowering.
//!
//! A later document writes, inside its `policy` block:
//! - `amends E23.5 from 2024-01-01 ["…"] { parts }`: from that date E23.5 is read with these
//!   parts in place of its parts of the same kind (every `when` replaced when one is written,
//!   every `cap` when one is written, …). The result is a [`ClauseVersion`] of the clause,
//!   applied to the periods whose last day is on or after the date (as a parameter version
//!   is read); its ledger names stay those of E23.5, so limits over history count across
//!   versions.
//! - `extends E23 to 2026-12-31 ["…"]`: the document's window now ends on that date.
//! - `repeals E23[.5] from 2025-01-01 ["…"]`: the document's (clause's) window ends the day
//!   before.
//!
//! Every change is kept as a [`ChangeRecord`] on what it changed, so explanations, the JSON
//! `version` field and `huiqi diff` can name the document whose words applied.
//!
//! Invariant: a change never takes effect before the amending document does (E0604); a
//! document never amends itself or a document that amends it (E0605).

use super::*;
use crate::syntax::ast::ChangeKind;

/// The day before a date (for `repeals … from DATE`: in force until the day before).
pub(crate) fn day_before(d: Date) -> Date {
    if d.day > 1 {
        return Date { day: d.day - 1, ..d };
    }
    if d.month > 1 {
        let m = d.month - 1;
        let day = (28..=31).rev().find(|x| Date::new(d.year, m, *x).is_some()).unwrap_or(28);
        return Date { year: d.year, month: m, day };
    }
    Date { year: d.year - 1, month: 12, day: 31 }
}

fn past(k: ChangeKind) -> &'static str {
    match k {
        ChangeKind::Amends => "amended",
        ChangeKind::Extends => "extended",
        ChangeKind::Repeals => "repealed",
    }
}

/// Whether a clause writes ledger entries that `granted(…)` could read.
fn records_grants(c: &ClauseDef) -> bool {
    let history =
        c.once.is_some() || c.at_most.is_some() || c.caps.iter().any(|k| k.scope != ast::CapScope::PerGrant);
    c.kind.evaluated()
        && match c.amount {
            Amount::Provides { .. } => false,
            Amount::Discretionary { .. } => c.once.is_some() || c.at_most.is_some(),
            Amount::Credit { .. } => true,
            _ => c.kind == ast::ClauseKind::Benefit || history,
        }
}

impl<'a> Lowerer<'a> {
    /// `granted(DOC.c)`: the clause exists (E0206) and writes ledger entries (E0209).
    pub(super) fn check_granted(&mut self) {
        for r in std::mem::take(&mut self.pending_granted) {
            let Some(id) = self.clause_ref(&r) else { continue };
            let Some(c) = self.prog.clause(id) else { continue };
            if !records_grants(c) {
                let what = match c.amount {
                    Amount::Provides { .. } => "it provides something that is not money",
                    Amount::Discretionary { .. } if c.kind.evaluated() => {
                        "it is discretionary without `once` or `at most N years`"
                    }
                    _ => "of its kind",
                };
                self.err(
                    Diagnostic::new(
                        Code::GrantedNotRecorded,
                        format!(
                            "`granted({}.{})` can never hold: the clause writes nothing to the ledger ({what})",
                            r.policy, r.clause
                        ),
                    )
                    .at(r.span, "never in the ledger")
                    .also(c.span, "this clause")
                    .help("name a cash clause, or give the discretionary clause `once` or `at most N years` so its grants are recorded"),
                );
            }
        }
    }

    /// `amends`, `extends`, `repeals` of every document, in the order written.
    pub(super) fn apply_changes(&mut self, items: &[&'a ast::Item]) {
        let mut seen: HashMap<(String, String, Date), Span> = HashMap::new();
        let mut pairs: Vec<(String, String, Span)> = Vec::new();
        for item in items {
            let ast::Item::Policy(p) = item else { continue };
            if p.changes.is_empty() {
                continue;
            }
            let by = p.key.name.as_str();
            // the amending document as lowered (a duplicate key was not lowered)
            let Some(me) = self.prog.policies.iter().find(|d| d.key == by && d.span == p.key.span) else {
                continue;
            };
            let starts = me.in_force.as_ref().and_then(|w| w.start);
            for ch in &p.changes {
                self.change(items, by, starts, ch, &mut seen, &mut pairs);
            }
        }
        for (a, b, span) in &pairs {
            if a < b && pairs.iter().any(|(x, y, _)| x == b && y == a) {
                self.err(
                    Diagnostic::new(
                        Code::AmendmentCycle,
                        format!("`{a}` and `{b}` amend each other: which is the later document?"),
                    )
                    .at(*span, "changes the other document")
                    .help("only the later document states the change; remove it from the earlier one"),
                );
            }
        }
    }

    fn change(
        &mut self,
        items: &[&'a ast::Item],
        by: &str,
        starts: Option<Date>,
        ch: &ast::Change,
        seen: &mut HashMap<(String, String, Date), Span>,
        pairs: &mut Vec<(String, String, Span)>,
    ) {
        let t = &ch.target;
        let what = ch.what.as_str();
        let target =
            if t.clause.is_empty() { t.policy.clone() } else { format!("{}.{}", t.policy, t.clause) };
        if t.policy == by {
            self.err(
                Diagnostic::new(Code::AmendmentCycle, format!("`{by}` {what} itself"))
                    .at(t.span, "the document's own key")
                    .help("a document says its own dates with `in force`; `amends`, `extends` and `repeals` name an earlier document"),
            );
            return;
        }
        let Some(tp) = self.prog.policies.iter().position(|d| d.key == t.policy) else {
            if self.earlier_errors {
                return;
            }
            let keys: Vec<&str> = self.prog.policies.iter().map(|d| d.key.as_str()).collect();
            let help = did_you_mean(&t.policy, keys.iter().copied()).unwrap_or_else(|| {
                "name an encoded document by its key; a document that is not encoded cannot be changed here: say so in a comment or a `guidance` clause".into()
            });
            self.err(
                Diagnostic::new(
                    Code::UnknownAmended,
                    format!("`{what} {target}`: there is no document `{}`", t.policy),
                )
                .at(t.span, "no such document")
                .help(help),
            );
            return;
        };
        let clause = if t.clause.is_empty() {
            None
        } else {
            match self.prog.find_clause(&t.policy, &t.clause) {
                Some(c) => Some(c),
                None => {
                    if !self.earlier_errors
                        && !self.failed_clauses.contains(&(t.policy.clone(), t.clause.clone()))
                    {
                        let all: Vec<String> = self
                            .prog
                            .clause_index
                            .keys()
                            .filter(|(p, _)| *p == t.policy)
                            .map(|(p, c)| format!("{p}.{c}"))
                            .collect();
                        let help = did_you_mean(&target, all.iter().map(String::as_str))
                            .unwrap_or_else(|| format!("name one of the clauses of `{}`", t.policy));
                        self.err(
                            Diagnostic::new(
                                Code::UnknownAmended,
                                format!("`{what} {target}`: `{}` has no clause `{}`", t.policy, t.clause),
                            )
                            .at(t.span, "no such clause")
                            .help(help),
                        );
                    }
                    return;
                }
            }
        };
        pairs.push((by.to_string(), t.policy.clone(), t.span));
        // a change takes effect from the amending document's date, never before
        if ch.what != ChangeKind::Extends
            && let Some(s) = starts
            && ch.date < s
        {
            self.err(
                Diagnostic::new(
                    Code::AmendmentBeforeDocument,
                    format!("`{what} {target} from {}` is dated before `{by}` takes effect ({s})", ch.date),
                )
                .at(ch.span, "dated too early")
                .help(format!("a document changes nothing before its own date: write `from {s}` or later, or correct `{by}`'s `issued`/`in force`")),
            );
            return;
        }
        if let Some(prev) = seen.insert((target.clone(), what.to_string(), ch.date), ch.span) {
            self.err(
                Diagnostic::new(
                    Code::AmendmentConflict,
                    format!("`{target}` is {} twice from {}", past(ch.what), ch.date),
                )
                .at(ch.span, "changed again here")
                .also(prev, "first changed here")
                .help("keep one change per date: merge the parts into one `amends` block, or correct a date"),
            );
            return;
        }
        let record = |before: Option<Date>| ChangeRecord {
            what: ch.what,
            by: by.to_string(),
            date: ch.date,
            before,
            label: ch.label.clone(),
            span: ch.span,
        };
        match (ch.what, clause) {
            (ChangeKind::Extends, Some(_)) => {
                self.err(
                    Diagnostic::new(Code::ExtensionInvalid, format!("`extends {target}`: `extends` moves the end of a document"))
                        .at(t.span, "a clause")
                        .help(format!("write `extends {}` for the document, or `amends {target} from DATE {{ valid … }}` for one clause", t.policy)),
                );
            }
            (ChangeKind::Extends, None) => {
                let Some(d) = self.prog.policies.get_mut(tp) else { return };
                let before = d.in_force.as_ref().and_then(|w| w.end);
                if let Some(e) = before
                    && ch.date <= e
                {
                    self.err(
                        Diagnostic::new(
                            Code::ExtensionInvalid,
                            format!(
                                "`extends {target} to {}` does not extend: `{target}` already runs to {e}",
                                ch.date
                            ),
                        )
                        .at(ch.span, "not later than the current end")
                        .help(format!(
                            "write a date after {e}, or `repeals {target} from DATE` to end it earlier"
                        )),
                    );
                    return;
                }
                let span = ch.span;
                let w = d.in_force.get_or_insert(Window { start: None, end: None, span });
                w.end = Some(ch.date);
                d.changes.push(record(before));
            }
            (ChangeKind::Repeals, None) => {
                let Some(d) = self.prog.policies.get_mut(tp) else { return };
                let before = d.in_force.as_ref().and_then(|w| w.end);
                let end = day_before(ch.date);
                let w = d.in_force.get_or_insert(Window { start: None, end: None, span: ch.span });
                w.end = Some(w.end.map_or(end, |e| e.min(end)));
                d.changes.push(record(before));
            }
            (ChangeKind::Repeals, Some(cid)) => {
                let Some(c) = self.prog.clauses.get_mut(cid as usize) else { return };
                if c.window_on.is_some() {
                    self.err(
                        Diagnostic::new(
                            Code::ConstructMisuse,
                            format!(
                                "`repeals {target}`: the clause's window tests an event date, not the period"
                            ),
                        )
                        .at(ch.span, "cannot end by period")
                        .help(format!(
                            "write `amends {target} from {} {{ valid … on … }}` with the window that applies",
                            ch.date
                        )),
                    );
                    return;
                }
                let before = c.window.as_ref().and_then(|w| w.end);
                let end = day_before(ch.date);
                let w = c.window.get_or_insert(Window { start: None, end: None, span: ch.span });
                w.end = Some(w.end.map_or(end, |e| e.min(end)));
                c.changes.push(record(before));
            }
            (ChangeKind::Amends, cid) => {
                let Some(cid) = cid else {
                    self.err(
                        Diagnostic::new(Code::UnknownAmended, format!("`amends {target}` names a document, not a clause"))
                            .at(t.span, "a clause is needed")
                            .help("write `amends DOC.clause from DATE { … }`, or `extends`/`repeals` for the document"),
                    );
                    return;
                };
                self.amend(items, tp, cid, ch, record(None));
            }
        }
    }

    /// Lowers the clause with the amendment's parts in place of its parts of the same kind.
    fn amend(
        &mut self,
        items: &[&'a ast::Item],
        tp: usize,
        cid: ClauseId,
        ch: &ast::Change,
        record: ChangeRecord,
    ) {
        let t = &ch.target;
        let original = items.iter().find_map(|i| match i {
            ast::Item::Policy(p) if p.key.name == t.policy => p.clauses.iter().find(|c| c.id == t.clause),
            _ => None,
        });
        let Some(original) = original else { return };
        let kind = |p: &ast::ClausePart| std::mem::discriminant(p);
        for part in &ch.parts {
            if let ast::ClausePart::Excludes(_)
            | ast::ClausePart::LargestIn(..)
            | ast::ClausePart::OnceIn(..) = part
            {
                self.err(
                    Diagnostic::new(Code::ConstructMisuse, "an amendment cannot change a clause's relations (`excludes`, `only largest in`, `once in`)")
                        .at(ch.span, "in this amendment")
                        .help("relations are declared once, on the clause; amend its conditions, amount, caps or window"),
                );
                return;
            }
        }
        let replaced: Vec<_> = ch.parts.iter().map(kind).collect();
        let mut parts: Vec<ast::ClausePart> = original
            .parts
            .iter()
            .filter(|p| !replaced.contains(&kind(p)) && !matches!(p, ast::ClausePart::Excludes(_)))
            .cloned()
            .collect();
        parts.extend(ch.parts.iter().cloned());
        let merged = ast::ClauseDecl {
            id: original.id.clone(),
            id_span: original.id_span,
            title: original.title.clone(),
            parts,
            span: ch.span,
        };
        let Some(key) = self.prog.policies.get(tp).map(|d| d.key.clone()) else { return };
        let Some(mut def) = self.clause(&merged, idx(tp), &key) else { return };
        def.span = ch.span;
        let Some(c) = self.prog.clauses.get_mut(cid as usize) else { return };
        def.excludes = c.excludes.clone();
        c.versions.push(ClauseVersion { change: record, def: Box::new(def) });
        c.versions.sort_by_key(|v| v.change.date);
    }
}

/// The clauses an expression reads with `qualifies(…)`, through the definitions it uses.
fn qualifies_in(prog: &Program, e: &Expr, out: &mut Vec<(ClauseId, Span)>, defs: &mut Vec<DefId>) {
    visit(e, &mut |x| match &x.kind {
        ExprKind::Qualifies(p, c) => {
            if let Some(id) = prog.find_clause(p, c) {
                out.push((id, x.span));
            }
        }
        ExprKind::Def(d) if !defs.contains(d) => {
            defs.push(*d);
            if let Some(def) = prog.defs.get(*d as usize) {
                qualifies_in(prog, &def.expr, out, defs);
            }
        }
        _ => {}
    });
}

impl Lowerer<'_> {
    /// `qualifies(DOC.c)`: the clause exists (E0206, with a did-you-mean), and no clause reads
    /// its own result through a chain of `qualifies` (E0210, with the path), in any version.
    pub(super) fn check_qualifies(&mut self) {
        let refs = std::mem::take(&mut self.pending_qualifies);
        if refs.is_empty() {
            return;
        }
        let mut known = true;
        for r in &refs {
            known &= self.clause_ref(r).is_some();
        }
        if !known {
            return;
        }
        let reads: Vec<Vec<(ClauseId, Span)>> = self
            .prog
            .clauses
            .iter()
            .map(|c| {
                let mut out = Vec::new();
                let mut defs = Vec::new();
                for def in std::iter::once(c).chain(c.versions.iter().map(|v| &*v.def)) {
                    for e in crate::check::lints::clause_exprs(def) {
                        qualifies_in(&self.prog, e, &mut out, &mut defs);
                    }
                }
                out
            })
            .collect();
        // depth-first: 0 unseen, 1 on the path, 2 done
        let mut state = vec![0u8; reads.len()];
        let mut path: Vec<(ClauseId, Span)> = Vec::new();
        let mut found: Vec<(Vec<ClauseId>, Span)> = Vec::new();
        fn walk(
            at: ClauseId,
            reads: &[Vec<(ClauseId, Span)>],
            state: &mut [u8],
            path: &mut Vec<(ClauseId, Span)>,
            found: &mut Vec<(Vec<ClauseId>, Span)>,
        ) {
            if let Some(s) = state.get_mut(at as usize) {
                *s = 1;
            }
            for &(next, span) in reads.get(at as usize).map_or(&[][..], Vec::as_slice) {
                match state.get(next as usize).copied() {
                    Some(0) => {
                        path.push((at, span));
                        walk(next, reads, state, path, found);
                        path.pop();
                    }
                    Some(1) => {
                        let start = path.iter().position(|(c, _)| *c == next).unwrap_or(path.len());
                        let mut cycle: Vec<ClauseId> =
                            path.get(start..).unwrap_or(&[]).iter().map(|(c, _)| *c).collect();
                        cycle.push(at);
                        found.push((cycle, span));
                    }
                    _ => {}
                }
            }
            if let Some(s) = state.get_mut(at as usize) {
                *s = 2;
            }
        }
        for i in 0..reads.len() {
            if state.get(i).copied() == Some(0) {
                walk(u32::try_from(i).unwrap_or(u32::MAX), &reads, &mut state, &mut path, &mut found);
            }
        }
        for (cycle, span) in found {
            let names: Vec<String> =
                cycle.iter().map(|c| format!("`{}`", self.prog.clause_ref(*c))).collect();
            let first = names.first().cloned().unwrap_or_default();
            let last = cycle.last().map(|c| self.prog.clause_ref(*c)).unwrap_or_default();
            self.err(
                Diagnostic::new(
                    Code::QualifiesCycle,
                    format!("`{last}` reads its own result: {} → {first}", names.join(" → ")),
                )
                .at(span, "reads back into the chain here")
                .help("a clause may read the results of other clauses, but not its own through any chain; let one clause state the condition itself"),
            );
        }
    }
}
