//! Renderers for [`Diagnostic`]: rich terminal reports (miette), one line per problem
//! (codespan-reporting, `path:line:col: error[E0101]: message`) and JSON report types.

use super::{Diagnostic, Severity};
use crate::span::SourceMap;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor::NoColor};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use serde::Serialize;
use std::fmt;

pub const DIAGNOSTICS_SCHEMA_VERSION: u32 = 1;

/// Rich reports with source excerpts, as miette draws them.
pub fn render_human(diags: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for d in diags {
        let report = MietteReport::new(d, sources);
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&render_short(std::slice::from_ref(d), sources));
        }
        out.push('\n');
    }
    out
}

/// One line per problem: `path:line:col: error[E0101]: message`, for CI logs and editors.
pub fn render_short(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut files = SimpleFiles::new();
    let ids: Vec<usize> = sources.files().map(|(_, f)| files.add(f.name.clone(), f.text.clone())).collect();
    let config = term::Config { display_style: term::DisplayStyle::Short, ..term::Config::default() };
    let mut out = String::new();
    for d in diags {
        if let Some(input) = &d.input {
            out.push_str(&format!(
                "{}: {}: {}[{}]: {}\n",
                input.file,
                input.path,
                severity_word(d.severity),
                d.code.id(),
                d.message
            ));
            continue;
        }
        let labels: Vec<cs::Label<usize>> = d
            .labels
            .iter()
            .filter_map(|l| {
                let file = *ids.get(l.span.file.0 as usize)?;
                let style = if l.primary { cs::LabelStyle::Primary } else { cs::LabelStyle::Secondary };
                Some(cs::Label::new(style, file, l.span.range()).with_message(l.message.clone()))
            })
            .collect();
        let sev = match d.severity {
            Severity::Error => cs::Severity::Error,
            Severity::Warning => cs::Severity::Warning,
        };
        let cd = cs::Diagnostic::new(sev)
            .with_code(d.code.id())
            .with_message(d.message.clone())
            .with_labels(labels);
        let mut buf = NoColor::new(Vec::new());
        if term::emit(&mut buf, &config, &files, &cd).is_ok() {
            out.push_str(&String::from_utf8_lossy(&buf.into_inner()));
        } else {
            out.push_str(&format!("{}[{}]: {}\n", severity_word(d.severity), d.code.id(), d.message));
        }
    }
    out
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The JSON report of `huiqi check --format json`.
#[derive(Serialize)]
pub struct DiagnosticsReport {
    pub schema_version: u32,
    pub errors: usize,
    pub warnings: usize,
    pub diagnostics: Vec<DiagnosticJson>,
}

#[derive(Serialize)]
pub struct DiagnosticJson {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The file of the primary location (a rule file, or the facts/ledger input).
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
    /// For JSON inputs: the path of the offending value, e.g. `营业收入.2023`.
    pub path: Option<String>,
    pub labels: Vec<LabelJson>,
    pub help: Option<String>,
    pub notes: Vec<String>,
}

#[derive(Serialize)]
pub struct LabelJson {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub primary: bool,
}

pub fn to_json(diags: &[Diagnostic], sources: &SourceMap) -> DiagnosticsReport {
    let diagnostics: Vec<DiagnosticJson> = diags.iter().map(|d| diag_json(d, sources)).collect();
    DiagnosticsReport {
        schema_version: DIAGNOSTICS_SCHEMA_VERSION,
        errors: diags.iter().filter(|d| d.is_error()).count(),
        warnings: diags.iter().filter(|d| !d.is_error()).count(),
        diagnostics,
    }
}

pub fn diag_json(d: &Diagnostic, sources: &SourceMap) -> DiagnosticJson {
    let labels: Vec<LabelJson> = d
        .labels
        .iter()
        .filter_map(|l| {
            let f = sources.get(l.span.file)?;
            let (line, column) = f.line_col(l.span.start as usize);
            Some(LabelJson {
                file: f.name.clone(),
                line,
                column,
                message: l.message.clone(),
                primary: l.primary,
            })
        })
        .collect();
    let primary = d.primary_span().and_then(|s| {
        let f = sources.get(s.file)?;
        Some((f.name.clone(), f.line_col(s.start as usize), f.line_col(s.end as usize)))
    });
    let (file, start, end) = match (&primary, &d.input) {
        (Some((f, s, e)), _) => (Some(f.clone()), Some(*s), Some(*e)),
        (None, Some(i)) => (Some(i.file.clone()), None, None),
        (None, None) => (None, None, None),
    };
    DiagnosticJson {
        code: d.code.id(),
        severity: d.severity,
        message: d.message.clone(),
        file,
        line: start.map(|s| s.0),
        column: start.map(|s| s.1),
        end_line: end.map(|e| e.0),
        end_column: end.map(|e| e.1),
        path: d.input.as_ref().map(|i| i.path.clone()),
        labels,
        help: d.help.clone(),
        notes: d.notes.clone(),
    }
}

/// Adapter from our model to `miette::Diagnostic`. Labels in the primary label's file are
/// drawn; labels elsewhere become notes with their location.
struct MietteReport {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
}

impl MietteReport {
    fn new(d: &Diagnostic, sources: &SourceMap) -> MietteReport {
        let primary_file = d.primary_span().map(|s| s.file);
        let mut labels = Vec::new();
        let mut extra = Vec::new();
        for l in &d.labels {
            if Some(l.span.file) == primary_file {
                let len = l.span.end.saturating_sub(l.span.start) as usize;
                let label = Some(l.message.clone()).filter(|m| !m.is_empty());
                labels.push(if l.primary {
                    LabeledSpan::new_primary_with_span(label, (l.span.start as usize, len))
                } else {
                    LabeledSpan::new_with_span(label, (l.span.start as usize, len))
                });
            } else {
                extra.push(format!("{}: {}", sources.locate(l.span), l.message));
            }
        }
        let source = primary_file
            .and_then(|f| sources.get(f))
            .map(|f| NamedSource::new(f.name.clone(), f.text.clone()).with_language("huiqi"));
        let mut message = d.message.clone();
        if let Some(i) = &d.input {
            message = format!("{message}\n  at `{}` in {}", i.path, i.file);
        }
        let mut help_lines: Vec<String> = d.help.iter().cloned().collect();
        help_lines.extend(d.notes.iter().map(|n| format!("note: {n}")));
        help_lines.extend(extra);
        MietteReport {
            message,
            code: d.code.id().to_string(),
            severity: match d.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
            help: (!help_lines.is_empty()).then(|| help_lines.join("\n")),
            source,
            labels,
        }
    }
}

impl fmt::Debug for MietteReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl fmt::Display for MietteReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for MietteReport {}

impl miette::Diagnostic for MietteReport {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() { None } else { Some(Box::new(self.labels.iter().cloned())) }
    }
}
