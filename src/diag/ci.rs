//! Renderers for CI systems: SARIF 2.1.0 (code-scanning uploads, editors) and GitHub Actions
//! workflow commands (`::error file=…,line=…::message`, shown as annotations on a pull
//! request).
//!
//! Invariant: both read the same [`Diagnostic`] values as the other renderers and compute
//! lines and columns only here, from the [`SourceMap`]; columns count characters (SARIF's
//! `unicodeCodePoints`), and an end column points just past the last character.

use super::{Code, Diagnostic, Severity};
use crate::span::{SourceMap, Span};
use serde::Serialize;

pub const SARIF_VERSION: &str = "2.1.0";
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// A SARIF log (`sarifLog`). Its `version` is SARIF's own; SARIF forbids extra top-level
/// properties, so the huiqi report version rides in `runs[0].properties`.
#[derive(Serialize)]
pub struct SarifLog {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub version: &'static str,
    pub runs: Vec<SarifRun>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifRun {
    pub tool: SarifTool,
    pub column_kind: &'static str,
    pub results: Vec<SarifResult>,
    pub properties: SarifRunProperties,
}

#[derive(Serialize)]
pub struct SarifRunProperties {
    pub schema_version: u32,
}

#[derive(Serialize)]
pub struct SarifTool {
    pub driver: SarifDriver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifDriver {
    pub name: &'static str,
    pub version: &'static str,
    pub semantic_version: &'static str,
    pub rules: Vec<SarifRule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifRule {
    pub id: &'static str,
    pub name: String,
    pub short_description: SarifText,
    pub default_configuration: SarifConfiguration,
}

#[derive(Serialize)]
pub struct SarifConfiguration {
    pub level: &'static str,
}

#[derive(Serialize)]
pub struct SarifText {
    pub text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    pub rule_id: &'static str,
    pub rule_index: usize,
    pub level: &'static str,
    pub message: SarifText,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<SarifLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related_locations: Vec<SarifLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifLocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<usize>,
    pub physical_location: SarifPhysical,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub logical_locations: Vec<SarifLogical>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<SarifText>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifPhysical {
    pub artifact_location: SarifArtifact,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<SarifRegion>,
}

#[derive(Serialize)]
pub struct SarifArtifact {
    pub uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifRegion {
    pub start_line: usize,
    pub start_column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifLogical {
    pub fully_qualified_name: String,
    pub kind: &'static str,
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A file name as a URI reference: relative names stay relative (resolved against the
/// repository root by code scanning), absolute ones become `file://` URIs; every byte outside
/// the unreserved set and `/` is percent-encoded.
pub fn file_uri(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    if name.starts_with('/') {
        out.push_str("file://");
    }
    for b in name.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `(file name, start line, start column, end line, end column)` of a span, 1-based.
fn region_of(sources: &SourceMap, span: Span) -> Option<(String, usize, usize, usize, usize)> {
    let f = sources.get(span.file)?;
    let (l1, c1) = f.line_col(span.start as usize);
    let (l2, c2) = f.line_col(span.end.max(span.start) as usize);
    // an empty span still marks one character
    let c2 = if (l1, c1) == (l2, c2) { c2.saturating_add(1) } else { c2 };
    Some((f.name.clone(), l1, c1, l2, c2))
}

fn message_text(d: &Diagnostic) -> String {
    let mut text = d.message.clone();
    if let Some(h) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(h);
    }
    for n in &d.notes {
        text.push_str("\nnote: ");
        text.push_str(n);
    }
    text
}

fn physical(sources: &SourceMap, span: Span) -> Option<SarifPhysical> {
    let (file, l1, c1, l2, c2) = region_of(sources, span)?;
    Some(SarifPhysical {
        artifact_location: SarifArtifact { uri: file_uri(&file) },
        region: Some(SarifRegion { start_line: l1, start_column: c1, end_line: l2, end_column: c2 }),
    })
}

/// The SARIF log of a set of diagnostics. Every code huiqi knows is a rule, so rule indices
/// are stable from one run to the next.
pub fn to_sarif(diags: &[Diagnostic], sources: &SourceMap) -> SarifLog {
    let rules: Vec<SarifRule> = Code::ALL
        .iter()
        .map(|c| SarifRule {
            id: c.id(),
            name: c.title().to_string(),
            short_description: SarifText { text: c.title().to_string() },
            default_configuration: SarifConfiguration { level: level(c.default_severity()) },
        })
        .collect();
    let results = diags
        .iter()
        .map(|d| {
            let primary = d.labels.iter().find(|l| l.primary).or(d.labels.first());
            let mut locations = Vec::new();
            if let Some(p) = primary.and_then(|l| physical(sources, l.span)) {
                locations.push(SarifLocation {
                    id: None,
                    physical_location: p,
                    logical_locations: Vec::new(),
                    message: None,
                });
            } else if let Some(i) = &d.input {
                locations.push(SarifLocation {
                    id: None,
                    physical_location: SarifPhysical {
                        artifact_location: SarifArtifact { uri: file_uri(&i.file) },
                        region: None,
                    },
                    logical_locations: vec![SarifLogical {
                        fully_qualified_name: i.path.clone(),
                        kind: "member",
                    }],
                    message: None,
                });
            }
            let related_locations = d
                .labels
                .iter()
                .filter(|l| primary.is_none_or(|p| !std::ptr::eq(*l, p)))
                .filter_map(|l| Some((l, physical(sources, l.span)?)))
                .enumerate()
                .map(|(i, (l, p))| SarifLocation {
                    id: Some(i),
                    physical_location: p,
                    logical_locations: Vec::new(),
                    message: Some(SarifText { text: l.message.clone() }).filter(|m| !m.text.is_empty()),
                })
                .collect();
            SarifResult {
                rule_id: d.code.id(),
                rule_index: Code::ALL.iter().position(|c| *c == d.code).unwrap_or(0),
                level: level(d.severity),
                message: SarifText { text: message_text(d) },
                locations,
                related_locations,
            }
        })
        .collect();
    SarifLog {
        schema: SARIF_SCHEMA,
        version: SARIF_VERSION,
        runs: vec![SarifRun {
            tool: SarifTool {
                driver: SarifDriver {
                    name: "huiqi",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            column_kind: "unicodeCodePoints",
            results,
            properties: SarifRunProperties { schema_version: 1 },
        }],
    }
}

/// Escapes the message of a workflow command.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
fn gh_prop(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands, one per diagnostic: `::error file=…,line=…,col=…,
/// endLine=…,endColumn=…,title=E0301::message`; warnings as `::warning`. The runner turns them
/// into annotations on the pull request's changed lines.
pub fn render_github(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diags {
        let cmd = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut props = Vec::new();
        let mut message = message_text(d);
        if let Some((file, l1, c1, l2, c2)) = d.primary_span().and_then(|s| region_of(sources, s)) {
            props.push(format!("file={}", gh_prop(&file)));
            props.push(format!("line={l1}"));
            props.push(format!("col={c1}"));
            props.push(format!("endLine={l2}"));
            props.push(format!("endColumn={c2}"));
        } else if let Some(i) = &d.input {
            props.push(format!("file={}", gh_prop(&i.file)));
            message = format!("at `{}`: {message}", i.path);
        }
        props.push(format!("title={}", gh_prop(d.code.id())));
        out.push_str(&format!("::{cmd} {}::{}\n", props.join(","), gh_data(&message)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded() {
        assert_eq!(file_uri("policies/E23.policy"), "policies/E23.policy");
        assert_eq!(file_uri("/tmp/a b.policy"), "file:///tmp/a%20b.policy");
        assert_eq!(file_uri("规则.policy"), "%E8%A7%84%E5%88%99.policy");
    }

    #[test]
    fn github_escapes() {
        assert_eq!(gh_prop("a:b,c%"), "a%3Ab%2Cc%25");
        assert_eq!(gh_data("x\ny"), "x%0Ay");
    }
}
