//! A rule set as the service holds it: the compiled program, its version (a content hash of
//! the rule files), the IR view and the readings of each clause, and the evaluation counters.
//!
//! Invariant: a `RuleSet` exists only for rule files that compiled without errors; it is
//! immutable once built (the counters are atomics), so requests share it through an `Arc`.

use super::answer::Answers;
use super::metrics::{ClauseCounter, Metrics};
use crate::Compiled;
use crate::diag::render::{DiagnosticsReport, to_json};
use crate::eval::Status;
use crate::ir::ClauseId;
use crate::ir::view::{ProgramView, program};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;

pub struct RuleSet {
    pub compiled: Compiled,
    /// `sha256:` and the first 16 hex digits of the SHA-256 of the rule files' texts (in
    /// path order, each preceded by its length): the same files give the same version
    /// wherever they live.
    pub version: String,
    /// How many rule files it was compiled from.
    pub files: usize,
    pub view: ProgramView,
    /// Per clause (by `ClauseId`): the comments written inside it.
    pub readings: Vec<Vec<String>>,
    /// Per clause: evaluations by status, shared with [`Metrics`] across reloads.
    pub counters: Vec<Arc<ClauseCounter>>,
    /// The fixed parts of each clause's result, escaped once for every answer.
    pub answers: Answers,
}

/// A rule set that could not be loaded: why, with every diagnostic.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Refused {
    pub message: String,
    /// The compiler's diagnostics (`huiqi check --format json`), when it got that far.
    #[schema(value_type = Object)]
    pub diagnostics: Option<DiagnosticsReport>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet").field("version", &self.version).field("files", &self.files).finish()
    }
}

impl RuleSet {
    /// Reads and compiles the rule files under `paths` (blocking: file I/O and compilation).
    pub fn load(paths: &[PathBuf], metrics: &Metrics) -> Result<RuleSet, Refused> {
        let input = crate::load::load(paths).map_err(|message| Refused { message, diagnostics: None })?;
        let mut hash = Sha256::new();
        for (_, text) in &input.rule_files {
            hash.update((text.len() as u64).to_le_bytes());
            hash.update(text.as_bytes());
        }
        let digest = hash.finalize();
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let files = input.rule_files.len();
        let compiled = crate::compile(&input).map_err(|f| Refused {
            message: format!(
                "the rule files do not compile ({} error(s)); the rule set in service is unchanged",
                f.diagnostics.iter().filter(|d| d.is_error()).count()
            ),
            diagnostics: Some(to_json(&f.diagnostics, &f.sources)),
        })?;
        let prog = &compiled.program;
        let readings = prog
            .clauses
            .iter()
            // from the clause's id to the end of its block
            .map(|c| {
                let text = compiled.sources.get(c.span.file).map_or("", |f| f.text.as_str());
                crate::fmt::block_comments(text.get(c.span.start as usize..).unwrap_or(""))
            })
            .collect();
        let counters = (0..prog.clauses.len())
            .map(|i| metrics.clause_counter(&prog.clause_ref(u32::try_from(i).unwrap_or(u32::MAX))))
            .collect();
        let view = program(prog);
        let answers = Answers::new(prog);
        Ok(RuleSet { version: format!("sha256:{hex}"), files, view, readings, counters, answers, compiled })
    }

    /// Counts evaluations per clause and status.
    pub fn count(&self, items: impl Iterator<Item = (ClauseId, Status)>) {
        for (c, s) in items {
            if let Some(counter) = self.counters.get(c as usize) {
                counter.add(s, 1);
            }
        }
    }
}
