//! The IR as people and tools read it (`huiqi ir`, the per-clause snapshots): names instead of
//! slots, expressions in canonical text, no spans. A report type: its shape is a contract.

use super::*;
use crate::value::fmt_money;
use serde::Serialize;

pub const IR_SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct ProgramView {
    pub schema_version: u32,
    pub vocabulary: Vec<FactView>,
    pub enums: Vec<EnumView>,
    pub definitions: Vec<DefView>,
    pub parameters: Vec<ParamView>,
    /// Named tier and bracket tables (`table …`), with their versions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableView>,
    pub documents: Vec<DocumentView>,
    pub clauses: Vec<ClauseView>,
}

#[derive(Serialize)]
pub struct FactView {
    pub name: String,
    pub label: Option<String>,
    #[serde(rename = "type")]
    pub ty: String,
}

#[derive(Serialize)]
pub struct EnumView {
    pub name: String,
    pub ordered: bool,
    pub values: Vec<String>,
}

#[derive(Serialize)]
pub struct DefView {
    pub name: String,
    pub label: Option<String>,
    #[serde(rename = "type")]
    pub ty: String,
    pub expr: String,
}

#[derive(Serialize)]
pub struct ParamView {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub versions: Vec<ParamVersionView>,
}

#[derive(Serialize)]
pub struct ParamVersionView {
    pub from: String,
    pub value: String,
    pub label: Option<String>,
}

#[derive(Serialize)]
pub struct TableView {
    pub name: String,
    pub label: Option<String>,
    pub kind: crate::syntax::ast::TableKind,
    pub versions: Vec<TableVersionView>,
}

/// One version of a table: from a date (`None`: as first written), its rows as text
/// (`≥ 1亿 => 30万`, `up to 500万 => 25%`).
#[derive(Serialize)]
pub struct TableVersionView {
    pub from: Option<String>,
    pub label: Option<String>,
    pub rows: Vec<String>,
}

#[derive(Serialize)]
pub struct DocumentView {
    pub policy: String,
    pub title: String,
    pub number: Option<String>,
    pub issuer: Option<String>,
    pub issued: Option<String>,
    pub published: Option<String>,
    pub source: Option<String>,
    pub in_force: Option<String>,
    pub applies: Option<String>,
    pub rounding: crate::syntax::ast::Rounding,
    pub clauses: Vec<String>,
    /// Changes by later documents (`extended by E24 to 2026-12-31 (was ..2025-12-31)`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
}

#[derive(Serialize)]
pub struct ClauseView {
    pub policy: String,
    pub clause: String,
    pub kind: crate::syntax::ast::ClauseKind,
    pub title: String,
    pub quote: Option<String>,
    pub responsible: Vec<String>,
    pub conditions: Vec<String>,
    pub window: Option<WindowView>,
    pub dated: Option<String>,
    pub amount: AmountView,
    pub limits: Vec<String>,
    /// Changes of the clause's window by later documents (`repealed by …`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// Versions written by later documents (`amends … from DATE { … }`), by date.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<VersionView>,
}

/// One version of an amended clause: the change and the clause as it reads from then on.
#[derive(Serialize)]
pub struct VersionView {
    pub change: String,
    pub clause: Box<ClauseView>,
}

#[derive(Serialize)]
pub struct WindowView {
    pub from: Option<String>,
    pub to: Option<String>,
    pub tests: String,
}

#[derive(Serialize)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum AmountView {
    Discretionary { base: Option<String> },
    Expr { expr: String },
    Tiers { subject: String, first_time: bool, pay: crate::syntax::ast::PayRule, tiers: Vec<String> },
    Brackets { subject: String, brackets: Vec<String> },
    Category { subject: String, categories: Vec<String> },
    Credit { earned: String, against: String, carry_years: u32 },
    Provides { provides: String },
    Each { each: String },
}

fn window(w: &Window, on: Option<String>) -> WindowView {
    WindowView {
        from: w.start.map(|d| d.to_string()),
        to: w.end.map(|d| d.to_string()),
        tests: on.unwrap_or_else(|| "period".into()),
    }
}

pub fn clause(p: &Program, c: &ClauseDef) -> ClauseView {
    let e = |x: &Expr| show::expr(p, x);
    let amount = match &c.amount {
        Amount::Discretionary { base } => AmountView::Discretionary { base: base.as_ref().map(e) },
        Amount::Expr(x) => AmountView::Expr { expr: e(x) },
        Amount::Tiers { first_time, subject, pay, tiers } => AmountView::Tiers {
            subject: e(subject),
            first_time: first_time.is_some(),
            pay: *pay,
            tiers: tiers
                .iter()
                .map(|t| format!("{} {} => {}", t.op.symbol(), e(&t.threshold), e(&t.amount)))
                .collect(),
        },
        Amount::Brackets { subject, brackets } => AmountView::Brackets {
            subject: e(subject),
            brackets: brackets
                .iter()
                .map(|b| match &b.upper {
                    Some(u) => format!("up to {} => {}", e(u), e(&b.rate)),
                    None => format!("above => {}", e(&b.rate)),
                })
                .collect(),
        },
        Amount::Category { subject, each, arms } => AmountView::Category {
            subject: match each {
                Some(sel) => show::each(p, subject, sel),
                None => e(subject),
            },
            categories: arms.iter().map(|a| format!("{} => {}", a.name, e(&a.amount))).collect(),
        },
        Amount::Credit { earned, capacity, years } => {
            AmountView::Credit { earned: e(earned), against: e(capacity), carry_years: *years }
        }
        Amount::Provides { what } => AmountView::Provides { provides: what.clone() },
        Amount::Each { sel, key, amount } => {
            AmountView::Each { each: show::each_amount(p, sel, *key, amount.as_ref()) }
        }
    };
    let mut limits = Vec::new();
    for cap in &c.caps {
        limits.push(match cap.scope {
            crate::syntax::ast::CapScope::PerGrant => format!("cap {} per grant", e(&cap.expr)),
            crate::syntax::ast::CapScope::PerYear => format!("cap {} per year", e(&cap.expr)),
            crate::syntax::ast::CapScope::Total => format!("cap {} total", e(&cap.expr)),
            crate::syntax::ast::CapScope::PerItem => format!("cap {} per item", e(&cap.expr)),
            crate::syntax::ast::CapScope::PerItemTotal => format!("cap {} per item total", e(&cap.expr)),
        });
    }
    if let Some(f) = &c.floor {
        limits.push(format!("floor {}", e(f)));
    }
    if let Some(o) = c.once {
        limits.push(match o {
            crate::syntax::ast::OnceScope::Clause => "once".into(),
            crate::syntax::ast::OnceScope::PerTier => "once per tier".into(),
            crate::syntax::ast::OnceScope::PerCategory => "once per category".into(),
            crate::syntax::ast::OnceScope::PerItem => "once per item".into(),
            crate::syntax::ast::OnceScope::PerYear => "once per year".into(),
        });
    }
    for x in &c.excludes {
        limits.push(format!("excludes {}", p.clause_ref(*x)));
    }
    if let Some(g) = &c.largest_in {
        limits.push(format!("only largest in \"{g}\""));
    }
    if let Some(g) = &c.once_in {
        limits.push(format!("once in \"{g}\""));
    }
    if let Some(a) = &c.at_most {
        limits.push(match &a.from {
            Some(f) => format!("at most {} years from {}", a.years, e(f)),
            None => format!("at most {} years from the first grant", a.years),
        });
    }
    ClauseView {
        policy: p.policy_of(c).map_or_else(String::new, |x| x.key.clone()),
        clause: c.id.clone(),
        kind: c.kind,
        title: c.title.clone(),
        quote: c.quote_text(),
        responsible: c.responsible.clone(),
        conditions: c.conditions.iter().map(|x| e(&x.expr)).collect(),
        window: c.window.as_ref().map(|w| window(w, c.window_on.as_ref().map(e))),
        dated: c.dated.as_ref().map(e),
        amount,
        limits,
        changes: c.changes.iter().map(change_text).collect(),
        versions: c
            .versions
            .iter()
            .map(|v| VersionView { change: change_text(&v.change), clause: Box::new(clause(p, &v.def)) })
            .collect(),
    }
}

/// A change by a later document as one line: `amended by E24 from 2024-01-01 "…"`.
pub fn change_text(r: &ChangeRecord) -> String {
    let label = r.label.as_ref().map(|l| format!(" \"{l}\"")).unwrap_or_default();
    let was = r.before.map(|b| format!(" (was to {b})")).unwrap_or_default();
    match r.what {
        crate::syntax::ast::ChangeKind::Amends => format!("amended by {} from {}{label}", r.by, r.date),
        crate::syntax::ast::ChangeKind::Extends => format!("extended by {} to {}{was}{label}", r.by, r.date),
        crate::syntax::ast::ChangeKind::Repeals => {
            format!("repealed by {} from {}{was}{label}", r.by, r.date)
        }
    }
}

pub fn table(p: &Program, t: &TableDef) -> TableView {
    let e = |x: &Expr| show::expr(p, x);
    TableView {
        name: t.name.clone(),
        label: t.label.clone(),
        kind: t.kind,
        versions: t
            .versions
            .iter()
            .map(|v| TableVersionView {
                from: v.from.map(|d| d.to_string()),
                label: v.label.clone(),
                rows: v
                    .tiers
                    .iter()
                    .map(|r| format!("{} {} => {}", r.op.symbol(), e(&r.threshold), e(&r.amount)))
                    .chain(v.brackets.iter().map(|b| match &b.upper {
                        Some(u) => format!("up to {} => {}", e(u), e(&b.rate)),
                        None => format!("above => {}", e(&b.rate)),
                    }))
                    .collect(),
            })
            .collect(),
    }
}

pub fn program(p: &Program) -> ProgramView {
    ProgramView {
        schema_version: IR_SCHEMA_VERSION,
        vocabulary: p
            .facts
            .iter()
            .map(|f| FactView { name: f.name.clone(), label: f.label.clone(), ty: p.type_name(f.ty) })
            .collect(),
        enums: p
            .enums
            .iter()
            .map(|x| EnumView { name: x.name.clone(), ordered: x.ordered, values: x.variants.clone() })
            .collect(),
        definitions: p
            .defs
            .iter()
            .map(|d| DefView {
                name: d.name.clone(),
                label: d.label.clone(),
                ty: p.type_name(d.expr.ty),
                expr: show::expr(p, &d.expr),
            })
            .collect(),
        parameters: p
            .params
            .iter()
            .map(|x| ParamView {
                name: x.name.clone(),
                ty: p.type_name(x.ty),
                versions: x
                    .versions
                    .iter()
                    .map(|v| ParamVersionView {
                        from: v.from.to_string(),
                        value: show::constant(p, &Const::Num(v.value), x.ty),
                        label: v.label.clone(),
                    })
                    .collect(),
            })
            .collect(),
        tables: p.tables.iter().map(|t| table(p, t)).collect(),
        documents: p
            .policies
            .iter()
            .map(|d| DocumentView {
                policy: d.key.clone(),
                title: d.title.clone(),
                number: d.number.clone(),
                issuer: d.issuer.clone(),
                issued: d.issued.map(|x| x.to_string()),
                published: d.published.map(|x| x.to_string()),
                source: d.source.clone(),
                in_force: d.in_force.as_ref().map(|w| {
                    format!(
                        "{}..{}",
                        w.start.map(|x| x.to_string()).unwrap_or_default(),
                        w.end.map(|x| x.to_string()).unwrap_or_default()
                    )
                }),
                applies: d.applies.as_ref().map(|a| show::expr(p, &a.expr)),
                rounding: d.rounding,
                clauses: d.clauses.iter().filter_map(|c| p.clause(*c)).map(|c| c.id.clone()).collect(),
                changes: d.changes.iter().map(change_text).collect(),
            })
            .collect(),
        clauses: p.clauses.iter().map(|c| clause(p, c)).collect(),
    }
}

/// Money as the IR view writes it.
pub fn money(d: rust_decimal::Decimal) -> String {
    fmt_money(d)
}

/// The version of [`VocabularyView`]'s shape.
pub const VOCABULARY_SCHEMA_VERSION: u32 = 1;

/// The facts a rule set reads, as a form builder needs them (the calculator page): every fact
/// with its type, unit and label, the enumerations with their values, the records with their
/// fields. Facts JSON written from it is what `huiqi eval --facts` reads.
#[derive(Serialize)]
pub struct VocabularyView {
    pub schema_version: u32,
    pub facts: Vec<FactInputView>,
    pub enums: Vec<EnumInputView>,
    pub records: Vec<RecordInputView>,
}

/// One fact (or record field) as input.
#[derive(Serialize)]
pub struct FactInputView {
    pub name: String,
    pub label: Option<String>,
    /// The type as the vocabulary writes it (`series money`, `行业`, `list 认定`).
    #[serde(rename = "type")]
    pub ty: String,
    /// `money`, `rate`, `number`, `integer`, `boolean`, `date`, `year`, `text`, `enum`,
    /// `series`, `record` or `list`.
    pub kind: &'static str,
    /// What a series holds (`money` …), or the enumeration or record named.
    pub of: Option<String>,
    /// `元` for money, `%` for rates.
    pub unit: Option<&'static str>,
    /// A series by calendar month (`2024-03`) instead of by year.
    pub monthly: bool,
    /// May be negative (and a rate above 100%).
    pub signed: bool,
    /// A date that may be `"never"`.
    pub never: bool,
    /// The value an absent fact takes, as the rule files write it.
    pub default: Option<String>,
}

#[derive(Serialize)]
pub struct EnumInputView {
    pub name: String,
    pub label: Option<String>,
    pub ordered: bool,
    pub values: Vec<EnumValueView>,
}

#[derive(Serialize)]
pub struct EnumValueView {
    pub value: String,
    pub label: Option<String>,
}

#[derive(Serialize)]
pub struct RecordInputView {
    pub name: String,
    pub label: Option<String>,
    pub fields: Vec<FactInputView>,
}

/// The facts vocabulary of a program; see [`VocabularyView`].
pub fn vocabulary(p: &Program) -> VocabularyView {
    struct Decl<'a> {
        name: &'a str,
        label: &'a Option<String>,
        ty: Type,
        monthly: bool,
        signed: bool,
        never: bool,
        default: &'a Option<Const>,
    }
    let input = |d: Decl<'_>| {
        let (kind, of, unit) = match d.ty {
            Type::Num(n) => (num_name(n), None, num_unit(n)),
            Type::Bool => ("boolean", None, None),
            Type::Date => ("date", None, None),
            Type::Year => ("year", None, None),
            Type::Text => ("text", None, None),
            Type::Enum(e) => ("enum", p.enums.get(e as usize).map(|e| e.name.clone()), None),
            Type::Series(n) => ("series", Some(num_name(n).to_string()), num_unit(n)),
            Type::Record(r) => ("record", p.records.get(r as usize).map(|r| r.name.clone()), None),
            Type::List(r) => ("list", p.records.get(r as usize).map(|r| r.name.clone()), None),
        };
        let value_ty = match d.ty {
            Type::Series(n) => Type::Num(n),
            t => t,
        };
        FactInputView {
            name: d.name.to_string(),
            label: d.label.clone(),
            ty: p.type_name(d.ty),
            kind,
            of,
            unit,
            monthly: d.monthly,
            signed: d.signed,
            never: d.never,
            default: d.default.as_ref().map(|c| show::constant(p, c, value_ty)),
        }
    };
    VocabularyView {
        schema_version: VOCABULARY_SCHEMA_VERSION,
        facts: p
            .facts
            .iter()
            .map(|f| {
                input(Decl {
                    name: &f.name,
                    label: &f.label,
                    ty: f.ty,
                    monthly: f.monthly,
                    signed: f.signed,
                    never: f.never,
                    default: &f.default,
                })
            })
            .collect(),
        enums: p
            .enums
            .iter()
            .map(|e| EnumInputView {
                name: e.name.clone(),
                label: e.label.clone(),
                ordered: e.ordered,
                values: e
                    .variants
                    .iter()
                    .enumerate()
                    .map(|(i, v)| EnumValueView {
                        value: v.clone(),
                        label: e.variant_labels.get(i).cloned().flatten(),
                    })
                    .collect(),
            })
            .collect(),
        records: p
            .records
            .iter()
            .map(|r| RecordInputView {
                name: r.name.clone(),
                label: r.label.clone(),
                fields: r
                    .fields
                    .iter()
                    .map(|f| {
                        input(Decl {
                            name: &f.name,
                            label: &f.label,
                            ty: f.ty,
                            monthly: false,
                            signed: f.signed,
                            never: f.never,
                            default: &f.default,
                        })
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn num_unit(n: Num) -> Option<&'static str> {
    match n {
        Num::Money => Some("元"),
        Num::Rate => Some("%"),
        Num::Number | Num::Integer => None,
    }
}
