//! Checks of declared relations between clauses (language.md §8): a `once in` group names
//! at least two clauses, else it relates nothing (W0116); a quote written in an amendment
//! (`amends … { quote "…" }`) is a sentence of the amending document, verified against its
//! source (E0602).

use crate::diag::{Code, Diagnostic};
use crate::ir::Program;

pub fn run(prog: &Program, out: &mut Vec<Diagnostic>) {
    never_applies(prog, out);
    let mut groups: Vec<&str> = prog.clauses.iter().filter_map(|c| c.once_in.as_deref()).collect();
    groups.sort_unstable();
    groups.dedup();
    for g in groups {
        let members: Vec<_> = prog.clauses.iter().filter(|c| c.once_in.as_deref() == Some(g)).collect();
        if let [only] = members.as_slice() {
            out.push(
                Diagnostic::new(
                    Code::OnceInAlone,
                    format!("`{}` is the only clause `once in \"{g}\"`: the group relates nothing", prog.clause_ref_of(only)),
                )
                .at(only.span, "alone in its group")
                .help("write the same `once in \"…\"` on the other clauses the text names (check the spelling of the group), or use `once` for a one-time award"),
            );
        }
    }
}

/// The quotes an amendment writes (those not inherited from the clause) against the amending
/// document's source.
pub(super) fn amended_quotes(
    prog: &Program,
    texts: &std::collections::BTreeMap<&str, String>,
    out: &mut Vec<Diagnostic>,
) {
    for c in &prog.clauses {
        for v in &c.versions {
            let Some(p) = prog.policies.iter().find(|p| p.key == v.change.by) else { continue };
            let Some(src) = &p.source else { continue };
            let Some(text) = texts.get(src.rsplit('/').next().unwrap_or(src)) else { continue };
            // named as the amended clause (`OLD.5`), checked against the amending source
            let Some(target) = prog.policy_of(c) else { continue };
            for q in v.def.quotes.iter().filter(|q| !c.quotes.contains(q)) {
                super::quote(target, &v.def, q, src, text, out);
            }
        }
    }
}

/// An `amends … from DATE` whose date lies after the last period the amended document (as
/// extended) is in force for: the version never applies (W0117).
fn never_applies(prog: &Program, out: &mut Vec<Diagnostic>) {
    for c in &prog.clauses {
        let Some(end) = prog.policy_of(c).and_then(|p| p.in_force.as_ref()).and_then(|w| w.end) else {
            continue;
        };
        for v in &c.versions {
            if v.change.date > crate::value::Date::year_end(end.year) {
                out.push(
                    Diagnostic::new(
                        Code::AmendmentNeverApplies,
                        format!(
                            "`{}` as amended by {} from {} never applies: its document is in force to {end}",
                            prog.clause_ref_of(c),
                            v.change.by,
                            v.change.date
                        ),
                    )
                    .at(v.change.span, "after the document ends")
                    .help("check the date; if the later document also extends the earlier one, write `extends DOC to DATE` as well"),
                );
            }
        }
    }
}
