//! The library entry point: rule-file texts in, a checked [`Program`] (or every diagnostic)
//! out. No I/O: the caller supplies the texts (see [`crate::load`] for reading a folder).

use crate::check;
use crate::diag::Diagnostic;
use crate::ir::{Program, lower};
use crate::span::SourceMap;
use crate::syntax;
use std::collections::BTreeMap;

/// What to compile: rule files by name, and the source documents they quote, by file name.
#[derive(Clone, Debug, Default)]
pub struct Input {
    pub rule_files: Vec<(String, String)>,
    /// Source texts (`policies/sources/*.txt`) by file name. When empty, quotes are not
    /// verified; when given, every `source` must be among them.
    pub source_texts: BTreeMap<String, String>,
}

impl Input {
    pub fn from_rules(files: impl IntoIterator<Item = (String, String)>) -> Input {
        Input { rule_files: files.into_iter().collect(), source_texts: BTreeMap::new() }
    }
}

/// A checked program with its sources (for rendering diagnostics) and warnings.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub program: Program,
    pub sources: SourceMap,
    pub warnings: Vec<Diagnostic>,
}

/// Compilation failed: every diagnostic found, errors and warnings.
#[derive(Clone, Debug)]
pub struct Failed {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses, lowers and checks rule files.
pub fn compile(input: &Input) -> Result<Compiled, Failed> {
    let mut sources = SourceMap::new();
    if input.rule_files.is_empty() {
        let d = Diagnostic::new(crate::diag::Code::NoRuleFiles, "no rule files (`*.policy`) to compile")
            .help("name a folder or file that holds `.policy` files, e.g. `policies/`");
        return Err(Failed { sources, diagnostics: vec![d] });
    }
    let mut files = Vec::new();
    let mut diags = Vec::new();
    for (name, text) in &input.rule_files {
        let id = sources.add(name.clone(), text.clone());
        match syntax::parse(id, text) {
            Ok(mut f) => {
                diags.append(&mut f.warnings);
                files.push((id, f));
            }
            Err(d) => diags.extend(d),
        }
    }
    let syntax_errors = diags.iter().any(Diagnostic::is_error);
    let (program, lower_diags) = lower::lower_after(&files, &sources, syntax_errors);
    if syntax_errors {
        // A file that does not parse declares nothing: every name it would have declared is
        // then "unknown" in the other files. Those follow-on errors would bury the one that
        // matters, so they are counted, not shown, until the syntax is fixed.
        let hidden = lower_diags.iter().filter(|d| d.is_error()).count();
        if hidden > 0
            && let Some(first) = diags.iter_mut().find(|d| d.is_error())
        {
            first.notes.push(format!(
                "{hidden} further error(s) in the rule set are not shown: they may follow from this one (names it would have declared are unknown elsewhere); fix it and check again"
            ));
        }
    } else {
        diags.extend(lower_diags);
    }
    if !diags.iter().any(Diagnostic::is_error) {
        diags.extend(check::run(&program, &sources, &input.source_texts));
    }
    diags.sort_by_key(|d| (d.primary_span().map(|s| (s.file, s.start)), d.code));
    if diags.iter().any(Diagnostic::is_error) {
        Err(Failed { sources, diagnostics: diags })
    } else {
        Ok(Compiled { program, sources, warnings: diags })
    }
}
