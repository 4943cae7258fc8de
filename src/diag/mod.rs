//! The one diagnostic model of huiqi and its renderers.
//!
//! Every stage reports problems as [`Diagnostic`] values: a stable [`Code`], a severity, a
//! one-sentence message, labelled spans (or a JSON path for facts input), a help line. The
//! renderers in [`render`] turn the same values into rich miette reports, one-line
//! codespan-reporting output, or JSON.
//!
//! Invariant: a code, once published in `docs/diagnostics.md`, keeps its meaning.

pub mod ci;
pub mod render;

use crate::span::Span;
use serde::Serialize;

macro_rules! codes {
    ($($name:ident = $id:literal, $sev:ident, $title:literal;)*) => {
        /// Every diagnostic code huiqi can emit. Grouped by stage: E01xx syntax, E02xx names,
        /// E03xx types, E04xx facts and ledger input, E05xx evaluation, E06xx documents and
        /// sources, W0xxx lints.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($name),* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$name),*];

            /// The stable identifier, e.g. `E0301`.
            pub fn id(self) -> &'static str {
                match self { $(Code::$name => $id),* }
            }

            /// The severity this code has unless a flag changes it.
            pub fn default_severity(self) -> Severity {
                match self { $(Code::$name => Severity::$sev),* }
            }

            /// A short title: the rule name in SARIF and the heading in the docs.
            pub fn title(self) -> &'static str {
                match self { $(Code::$name => $title),* }
            }
        }
    };
}

codes! {
    SyntaxError = "E0101", Error, "syntax error";
    TooDeep = "E0102", Error, "nesting too deep";
    BadLiteral = "E0103", Error, "invalid literal";
    NoRuleFiles = "E0104", Error, "no rule files";
    InvalidKey = "E0105", Error, "a document key that is not letters and digits";
    UnknownCode = "E0106", Error, "a test expects an unknown diagnostic code";
    UnknownName = "E0201", Error, "unknown name";
    Duplicate = "E0202", Error, "duplicate declaration";
    UnknownType = "E0203", Error, "unknown type";
    UnknownVariant = "E0204", Error, "unknown enumeration value";
    DefinitionCycle = "E0205", Error, "definitions refer to themselves";
    UnknownClause = "E0206", Error, "unknown clause";
    UnknownField = "E0207", Error, "unknown record field";
    UnknownFunction = "E0208", Error, "unknown function";
    GrantedNotRecorded = "E0209", Error, "`granted` of a clause the ledger never holds";
    QualifiesCycle = "E0210", Error, "clauses read each other's results";
    ArithmeticType = "E0301", Error, "operands that cannot be combined";
    CompareType = "E0302", Error, "values that cannot be compared";
    NotBoolean = "E0303", Error, "condition is not true/false";
    AmountType = "E0304", Error, "amount is not money";
    ArgumentType = "E0305", Error, "wrong arguments";
    NotSeries = "E0306", Error, "not a yearly series";
    ExpectedType = "E0307", Error, "wrong type";
    ConstructMisuse = "E0308", Error, "construct used where it has no meaning";
    BoundsNotRising = "E0309", Error, "tier or bracket bounds that do not rise";
    NeverMisuse = "E0310", Error, "`never` where no date can be never";
    DefaultType = "E0311", Error, "a default that is not a value of the type";
    MonthlyMisuse = "E0312", Error, "a monthly series read other than by month";
    FactsSyntax = "E0401", Error, "facts are not valid JSON";
    UnknownFact = "E0402", Error, "unknown fact";
    FactType = "E0403", Error, "fact has the wrong type";
    LedgerInvalid = "E0404", Error, "invalid ledger";
    FactOutOfRange = "E0405", Error, "fact value out of range";
    Overflow = "E0501", Error, "arithmetic overflow";
    DivisionByZero = "E0502", Error, "division by zero";
    NoParamVersion = "E0503", Error, "no parameter version in force";
    TotalOverflow = "E0504", Error, "a total overflows";
    BoundBelowPrevious = "E0505", Error, "a bound below the one before";
    ImpossibleDate = "E0506", Error, "a date that cannot exist";
    NeverDate = "E0507", Error, "a `never` date used as a day";
    SourceMissing = "E0601", Error, "source text not found";
    QuoteNotInSource = "E0602", Error, "quote not found in the source";
    UnknownAmended = "E0603", Error, "amendment of an unknown document or clause";
    AmendmentBeforeDocument = "E0604", Error, "amendment dated before the amending document";
    AmendmentCycle = "E0605", Error, "a document amends itself or a document that amends it";
    AmendmentConflict = "E0606", Error, "two changes of the same clause from the same date";
    ExtensionInvalid = "E0607", Error, "an extension that does not extend a document";
    TiersOutOfOrder = "W0101", Warning, "tiers out of order, overlapping or unreachable";
    BracketsGap = "W0102", Warning, "brackets out of order or leaving a gap";
    CapNeverBinds = "W0103", Warning, "a cap or floor that contradicts the amount";
    WindowOutsideDocument = "W0104", Warning, "clause window outside the document's period";
    ParameterVersions = "W0105", Warning, "parameter versions on the same date";
    Unused = "W0106", Warning, "declared and never used";
    NoQuote = "W0107", Warning, "clause without a quote";
    NoResponsible = "W0108", Warning, "clause without a responsible department";
    NumberNotInQuote = "W0109", Warning, "a number the quote does not state";
    MixedKeywords = "W0113", Warning, "English and Chinese keywords in one file";
    OnceInAlone = "W0116", Warning, "a `once in` group with one clause";
    AmendmentNeverApplies = "W0117", Warning, "an amendment that never applies";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A span with what it shows.
#[derive(Clone, Debug)]
pub struct Label {
    pub span: Span,
    pub message: String,
    pub primary: bool,
}

/// One problem, located either by spans in rule files or by a path in a JSON input.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    /// For input documents (facts, ledger): the file and the JSON path of the value.
    pub input: Option<InputLocation>,
    pub help: Option<String>,
    pub notes: Vec<String>,
}

/// Where in a JSON input a problem is: the file name and a path such as `贷款[0].利息.2023`.
#[derive(Clone, Debug, Serialize)]
pub struct InputLocation {
    pub file: String,
    pub path: String,
}

impl Diagnostic {
    pub fn new(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.default_severity(),
            message: message.into(),
            labels: Vec::new(),
            input: None,
            help: None,
            notes: Vec::new(),
        }
    }

    /// The primary location.
    pub fn at(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, message: message.into(), primary: true });
        self
    }

    /// A secondary location.
    pub fn also(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, message: message.into(), primary: false });
        self
    }

    pub fn in_input(mut self, file: impl Into<String>, path: impl Into<String>) -> Diagnostic {
        self.input = Some(InputLocation { file: file.into(), path: path.into() });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    pub fn primary_span(&self) -> Option<Span> {
        self.labels.iter().find(|l| l.primary).or(self.labels.first()).map(|l| l.span)
    }
}

/// "did you mean `x`?" for an unknown name, from the names in scope.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let raw = strsim::normalized_damerau_levenshtein(name, c);
        let contains = !name.is_empty() && (c.contains(name) || name.contains(c));
        // containment lifts a candidate; among those, the closer spelling wins (`14x` → `14`)
        let score = if contains { raw.max(0.7) + raw / 100.0 } else { raw };
        if score >= 0.5 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}
