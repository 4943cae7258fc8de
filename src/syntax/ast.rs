//! The abstract syntax tree: what the analyst wrote, with a span on every node. Built from
//! pest pairs by [`super::parse`]; nothing outside `syntax/` ever sees pest.

use crate::span::Span;
use crate::value::{Date, Literal};

#[derive(Clone, Debug)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct File {
    pub items: Vec<Item>,
    /// Warnings found while parsing (W0113: keywords of both languages in one file).
    pub warnings: Vec<crate::diag::Diagnostic>,
}

#[derive(Clone, Debug)]
pub enum Item {
    Enum(EnumDecl),
    Record(RecordDecl),
    Fact(FactDecl),
    Define(DefineDecl),
    Parameter(ParamDecl),
    Table(TableDecl),
    Policy(PolicyDecl),
    Test(TestDecl),
}

#[derive(Clone, Debug)]
pub struct EnumDecl {
    pub name: Ident,
    pub label: Option<String>,
    pub ordered: bool,
    pub variants: Vec<(Ident, Option<String>)>,
}

#[derive(Clone, Debug)]
pub struct RecordDecl {
    pub name: Ident,
    pub label: Option<String>,
    pub fields: Vec<FieldDecl>,
}

#[derive(Clone, Debug)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    /// Declared `signed`: may be negative (and a rate may exceed 100%).
    pub signed: bool,
    /// `date or never`.
    pub never: bool,
    /// `default V`: the value taken when the facts give none.
    pub default: Option<Expr>,
    pub label: Option<String>,
}

#[derive(Clone, Debug)]
pub enum TypeExpr {
    Named(Ident),
    Series(Ident),
    /// `monthly T`: a series by calendar month.
    Monthly(Ident),
    List(Ident),
}

#[derive(Clone, Debug)]
pub struct FactDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    /// Declared `signed`: may be negative (and a rate may exceed 100%).
    pub signed: bool,
    /// `date or never`.
    pub never: bool,
    /// `default V`: the value taken when the facts give none.
    pub default: Option<Expr>,
    pub label: Option<String>,
}

#[derive(Clone, Debug)]
pub struct DefineDecl {
    pub name: Ident,
    /// `define 名(记录)`: read on one item of a list of this record.
    pub record: Option<Ident>,
    /// `define 名: 类型 = …`: the declared type (an enumeration, so its values read bare).
    pub ty: Option<Ident>,
    pub label: Option<String>,
    pub expr: Expr,
}

#[derive(Clone, Debug)]
pub struct ParamDecl {
    pub name: Ident,
    pub ty: Ident,
    pub label: Option<String>,
    pub versions: Vec<ParamVersion>,
}

#[derive(Clone, Debug)]
pub struct ParamVersion {
    pub value: Expr,
    pub from: Date,
    pub label: Option<String>,
    pub span: Span,
}

/// `table NAME "label" tiers|brackets { rows } from DATE "label" { rows } …`: a named tier or
/// bracket table, read in expressions as `NAME(x)`.
#[derive(Clone, Debug)]
pub struct TableDecl {
    pub name: Ident,
    pub label: Option<String>,
    pub kind: TableKind,
    /// The rows as first written (`from: None`), then each later version, in the order written.
    pub versions: Vec<TableVersion>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TableKind {
    /// `达到 X => V` rows: the value of the highest row the subject reaches.
    Tiers,
    /// `up to X => RATE` / `above => RATE` rows: the sum of each slice of the subject × its rate.
    Brackets,
}

#[derive(Clone, Debug)]
pub struct TableVersion {
    /// `None` for the rows as first written.
    pub from: Option<Date>,
    pub label: Option<String>,
    /// One of the two, as the table's kind says (the other is empty).
    pub tiers: Vec<Tier>,
    pub brackets: Vec<Bracket>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct PolicyDecl {
    pub key: Ident,
    pub title: String,
    pub meta: Vec<Meta>,
    pub clauses: Vec<ClauseDecl>,
    /// Amendments of earlier documents this document makes (`amends`, `extends`, `repeals`).
    pub changes: Vec<Change>,
    pub span: Span,
}

/// What a later document says of an earlier one (lowered by `ir::amend`).
#[derive(Clone, Debug)]
pub struct Change {
    pub what: ChangeKind,
    /// The document (`E23`) or clause (`E23.5`) changed.
    pub target: ClauseRef,
    /// `from DATE` of `amends`/`repeals`; `to DATE` of `extends`.
    pub date: Date,
    /// The sentence of the later document that says so.
    pub label: Option<String>,
    /// For `amends`: the parts that replace the clause's parts of the same kind.
    pub parts: Vec<ClausePart>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Amends,
    Extends,
    Repeals,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Amends => "amends",
            ChangeKind::Extends => "extends",
            ChangeKind::Repeals => "repeals",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Meta {
    Number(String, Span),
    Issuer(String, Span),
    Issued(Date, Span),
    Published(Date, Span),
    Source(String, Span),
    InForce(Window),
    Applies(Expr),
    Rounding(Rounding, Span),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rounding {
    /// to 0.01 yuan, half away from zero (the default)
    Fen,
    /// to whole yuan
    Yuan,
    /// to whole 万
    Wan,
    /// exact, unrounded
    None,
}

/// An inclusive date range; an open end is `None`.
#[derive(Clone, Debug)]
pub struct Window {
    pub start: Option<Date>,
    pub end: Option<Date>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct ClauseDecl {
    pub id: String,
    pub id_span: Span,
    pub title: String,
    pub parts: Vec<ClausePart>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ClausePart {
    Quote(String, Span),
    Responsible(Vec<Ident>),
    When(Expr),
    Valid(Window, Option<Expr>),
    Dated(Expr),
    Amount(Amount),
    Cap(Expr, CapScope, Span),
    Floor(Expr, Span),
    Once(OnceScope, Span),
    AtMost(u32, Option<Expr>, Span),
    /// A benefit that is not money (a priority, a service, a right): granted when eligible.
    Provides(String, Span),
    Kind(ClauseKind, Span),
    /// Benefits this clause cannot be combined with: when it is granted, they are not.
    Excludes(Vec<ClauseRef>),
    /// Of the clauses naming the same group, only the largest granted amount pays.
    LargestIn(String, Span),
    /// `once in "组"`: of the clauses naming the group, one is received, ever.
    OnceIn(String, Span),
    /// `unquoted 0.5 "why"`: a number the encoding uses that the quote does not state, and
    /// where it comes from.
    Unquoted(Literal, String, Span),
}

/// What kind of rule a catalogue row is. `guidance`, `stacking` and `target` rows are written
/// down and listed but not evaluated per enterprise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClauseKind {
    #[default]
    Benefit,
    /// A tax relief (a deduction, a reduced rate, a credit against tax): evaluated and
    /// explained, but not added to the total of cash granted.
    Tax,
    Priority,
    Ceiling,
    Definition,
    Guidance,
    Stacking,
    Target,
}

impl ClauseKind {
    /// Whether the clause gives a per-enterprise result.
    pub fn evaluated(self) -> bool {
        !matches!(self, ClauseKind::Guidance | ClauseKind::Stacking | ClauseKind::Target)
    }

    /// The word used in reports (`benefit`, `tax`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ClauseKind::Benefit => "benefit",
            ClauseKind::Tax => "tax",
            ClauseKind::Priority => "priority",
            ClauseKind::Ceiling => "ceiling",
            ClauseKind::Definition => "definition",
            ClauseKind::Guidance => "guidance",
            ClauseKind::Stacking => "stacking",
            ClauseKind::Target => "target",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapScope {
    PerGrant,
    PerYear,
    Total,
    /// `cap X per item`: each person or item of an `each` amount, per grant.
    PerItem,
    /// `cap X per item total`: each person or item over its whole history (the ledger).
    PerItemTotal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnceScope {
    Clause,
    PerTier,
    PerCategory,
    /// Each person or item of an `each` amount at most once (每人仅可申请一次).
    PerItem,
    /// At most once in a period (每年一次).
    PerYear,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PayRule {
    Highest,
    Each,
}

#[derive(Clone, Debug)]
pub enum Amount {
    Discretionary {
        base: Option<Expr>,
        span: Span,
    },
    Tiers {
        first_time: bool,
        subject: Expr,
        pay: PayRule,
        tiers: Vec<Tier>,
        span: Span,
    },
    Brackets {
        subject: Expr,
        brackets: Vec<Bracket>,
        span: Span,
    },
    Category {
        subject: Expr,
        /// `by each FIELD of LIST …`: the subject is the field, read on every selected item.
        each: Option<Selection>,
        arms: Vec<(Ident, Expr)>,
        span: Span,
    },
    Credit {
        earned: Expr,
        capacity: Expr,
        years: u32,
        span: Span,
    },
    /// `each LIST key FIELD => AMOUNT`: an amount per selected item, keyed in the ledger;
    /// `None` for `=> discretionary` (each item's amount set case by case).
    Each {
        list: Selection,
        key: Ident,
        amount: Option<Expr>,
        span: Span,
    },
    Expr(Expr),
}

#[derive(Clone, Debug)]
pub struct Tier {
    pub op: CmpOp,
    pub threshold: Expr,
    pub amount: Expr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Bracket {
    /// `up to X`; `None` for `above` (the rest).
    pub upper: Option<Expr>,
    pub rate: Expr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Lit(Literal),
    Bool(bool),
    Name(String),
    Period,
    AsOf,
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Index(Box<Expr>, Box<Expr>),
    Field(Box<Expr>, Ident),
    Set(Vec<Expr>),
    Call(Ident, Vec<Arg>),
    /// `granted(E23.5)` / `granted(E23.5, N)`: the ledger holds a grant of the clause (in the
    /// N years before the period).
    Granted(ClauseRef, Option<u32>),
    /// `qualifies(E23.5)`: the clause's own outcome this period, as a condition.
    Qualifies(ClauseRef),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
}

#[derive(Clone, Debug)]
pub enum Arg {
    Expr(Expr),
    Selection(Selection),
}

#[derive(Clone, Debug)]
pub struct Selection {
    pub list: Ident,
    pub ops: Vec<SelOp>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum SelOp {
    Where(Expr),
    /// `first N [by KEY [descending]]`: the key is an expression over the item's fields.
    First {
        n: u32,
        by: Option<Expr>,
        descending: bool,
        span: Span,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BinOp {
    Or,
    And,
    In,
    Add,
    Sub,
    Mul,
    Div,
    Cmp(CmpOp),
}

/// Comparison operators. The Chinese threshold words map onto these: 达到/不低于/以上 → `Ge`,
/// 超过 → `Gt`, 不超过/以下/以内 → `Le`, 不满/低于 → `Lt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    Ge,
    Gt,
    Le,
    Lt,
    Eq,
    Ne,
}

impl CmpOp {
    /// The threshold word of legal Chinese: 达到 (≥), 超过 (>), 不超过 (≤), 低于 (<).
    pub fn word_zh(self) -> &'static str {
        match self {
            CmpOp::Ge => "达到",
            CmpOp::Gt => "超过",
            CmpOp::Le => "不超过",
            CmpOp::Lt => "低于",
            CmpOp::Eq => "等于",
            CmpOp::Ne => "不等于",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Ge => "≥",
            CmpOp::Gt => ">",
            CmpOp::Le => "≤",
            CmpOp::Lt => "<",
            CmpOp::Eq => "=",
            CmpOp::Ne => "≠",
        }
    }
}

#[derive(Clone, Debug)]
pub struct TestDecl {
    pub name: String,
    pub span: Span,
    pub period: Option<(i32, Span)>,
    pub as_of: Option<Date>,
    /// The facts as the JSON value the facts reader validates, and where they were written.
    pub facts: Option<(crate::json::Json, Span)>,
    pub ledger: Vec<LedgerRow>,
    pub expects: Vec<Expect>,
}

#[derive(Clone, Debug)]
pub struct ClauseRef {
    pub policy: String,
    pub clause: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct LedgerRow {
    pub clause: ClauseRef,
    pub key: Option<String>,
    pub period: i32,
    pub amount: String,
    /// For a carried credit: what is left of it, and the last year it may be used.
    pub balance: Option<(String, i32)>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Expect {
    Total {
        amount: String,
        span: Span,
    },
    Clause {
        clause: ClauseRef,
        status: String,
        amount: Option<String>,
        span: Span,
    },
    /// `expect error E0405`: the facts, the ledger, a clause or the total fail with this code.
    Error {
        code: String,
        code_span: Span,
        span: Span,
    },
}
