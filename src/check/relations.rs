//! Checks of declared relations between clauses (language.md §8): a `once in` group names
//! at least two clauses, else it relates nothing (W0116).

use crate::diag::{Code, Diagnostic};
use crate::ir::Program;

pub fn run(prog: &Program, out: &mut Vec<Diagnostic>) {
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
