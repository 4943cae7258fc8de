//! The typed intermediate representation: what a rule set means, with every name resolved to
//! a slot and every expression typed. Built by [`lower`] from the AST; read by `check` and
//! `eval`; shown to people through [`view`].
//!
//! Invariant: `eval` never sees a name, only slots; spans ride along for diagnostics but take
//! no part in equality (see `span`).

pub mod lower;
pub mod show;
pub mod view;

use crate::span::Span;
use crate::syntax::ast::{CapScope, CmpOp, OnceScope, PayRule, Rounding};
use crate::value::Date;
use rust_decimal::Decimal;
use std::collections::HashMap;

pub type EnumId = u32;
pub type RecordId = u32;
pub type FactId = u32;
pub type FieldId = u32;
pub type DefId = u32;
pub type ParamId = u32;
pub type PolicyId = u32;
pub type ClauseId = u32;
pub type TableId = u32;

/// Numeric kinds. All are `Decimal` at run time; the kind is checked at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Num {
    Money,
    Rate,
    Number,
    Integer,
}

/// Types of the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Num(Num),
    Bool,
    Date,
    Year,
    Text,
    Enum(EnumId),
    /// A yearly series of numbers: year → value.
    Series(Num),
    Record(RecordId),
    List(RecordId),
}

impl Type {
    pub const MONEY: Type = Type::Num(Num::Money);
    pub const RATE: Type = Type::Num(Num::Rate);
    pub const NUMBER: Type = Type::Num(Num::Number);
    pub const INTEGER: Type = Type::Num(Num::Integer);
}

#[derive(Clone, Debug, PartialEq)]
pub struct EnumDef {
    pub name: String,
    pub label: Option<String>,
    pub ordered: bool,
    pub variants: Vec<String>,
    pub variant_labels: Vec<Option<String>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecordDef {
    pub name: String,
    pub label: Option<String>,
    pub fields: Vec<FieldDef>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDef {
    pub name: String,
    pub label: Option<String>,
    pub ty: Type,
    /// May be negative (and, for a rate, above 100%); see [`FactDef::signed`].
    pub signed: bool,
    /// `date or never`: see [`FactDef::never`].
    pub never: bool,
    /// `default V`: see [`FactDef::default`].
    pub default: Option<Const>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FactDef {
    pub name: String,
    pub label: Option<String>,
    pub ty: Type,
    /// Declared `signed`: the value may be negative (a profit, an increment) and a rate may
    /// exceed 100%. Otherwise facts input rejects negative money and counts and rates outside
    /// 0–100% (a typo, never a fact).
    pub signed: bool,
    /// Declared `date or never`: the event may not have happened; facts input gives
    /// `"never"`, which only `==` / `!=` read (E0507 otherwise).
    pub never: bool,
    /// Declared `default V`: an absent value takes V (applied by every facts reader,
    /// `eval::facts::complete`), so clauses reading it are decided.
    pub default: Option<Const>,
    /// Declared `monthly T`: a series by calendar month (type `Series(T)`, keyed by
    /// `eval::time::month_key`), read only by `s[MONTH]`, `total(s, …)`, `months(s, …)`.
    pub monthly: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DefDef {
    pub name: String,
    /// `define 名(记录)`: read on one item of a list of this record, inside list functions.
    pub record: Option<RecordId>,
    pub label: Option<String>,
    pub expr: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ParamDef {
    pub name: String,
    pub label: Option<String>,
    pub ty: Type,
    /// Sorted by `from`.
    pub versions: Vec<ParamVersion>,
    pub span: Span,
}

impl ParamDef {
    /// The value of the version in force on a date (versions are sorted by `from`).
    pub fn value_on(&self, date: Date) -> Option<Decimal> {
        self.versions.iter().rev().find(|v| v.from <= date).map(|v| v.value)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ParamVersion {
    pub value: Decimal,
    pub from: Date,
    pub label: Option<String>,
    pub span: Span,
}

/// A named tier or bracket table (`table NAME … tiers|brackets { rows } from DATE { rows }`),
/// read in expressions as `NAME(x)` ([`TableRead`]). Its bounds and values are constants or
/// parameters, so every version can be checked when compiling (`check::bounds`, E0309).
#[derive(Clone, Debug, PartialEq)]
pub struct TableDef {
    pub name: String,
    pub label: Option<String>,
    pub kind: crate::syntax::ast::TableKind,
    /// What the table is read with: the thresholds' type (tiers), money (brackets).
    pub subject: Type,
    /// What it gives: the rows' values (tiers), money (brackets: slices × rates).
    pub ty: Type,
    /// The rows as first written (`from: None`), then later versions sorted by date.
    pub versions: Vec<TableVersion>,
    pub span: Span,
}

impl TableDef {
    /// The index of the version in force on a date (the last whose `from` is on or before it;
    /// the rows as first written before every later version).
    pub fn version_on(&self, date: Date) -> usize {
        self.versions.iter().rposition(|v| v.from.is_none_or(|f| f <= date)).unwrap_or(0)
    }
}

/// One version of a table: its rows, from a date (`None`: as first written).
#[derive(Clone, Debug, PartialEq)]
pub struct TableVersion {
    pub from: Option<Date>,
    pub label: Option<String>,
    /// The rows, of the table's kind (the other list is empty). Tier keys are the thresholds
    /// as written.
    pub tiers: Vec<TierDef>,
    pub brackets: Vec<BracketDef>,
    pub span: Span,
}

/// `NAME(subject)`: a table read on a value. `lowered` is the same reading in the nodes both
/// evaluators have (an `if` chain over the rows for tiers, a sum of `max(min(x, upper) - lower,
/// 0) × rate` for brackets, versions chosen by the date parameters are read on): what is
/// evaluated, so the lean kernel and the full evaluator agree by construction; the full
/// evaluator also explains which row applied.
#[derive(Clone, Debug, PartialEq)]
pub struct TableRead {
    pub table: TableId,
    pub subject: Expr,
    pub lowered: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    pub start: Option<Date>,
    pub end: Option<Date>,
    pub span: Span,
}

impl Window {
    pub fn contains(&self, d: Date) -> bool {
        self.start.is_none_or(|s| s <= d) && self.end.is_none_or(|e| d <= e)
    }

    /// Whether any day of the year lies in the window.
    pub fn overlaps_year(&self, year: i32) -> bool {
        self.start.is_none_or(|s| s <= Date::year_end(year))
            && self.end.is_none_or(|e| Date::year_start(year) <= e)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PolicyDef {
    pub key: String,
    pub title: String,
    pub number: Option<String>,
    pub issuer: Option<String>,
    pub issued: Option<Date>,
    pub published: Option<Date>,
    pub source: Option<String>,
    pub in_force: Option<Window>,
    pub applies: Option<Condition>,
    pub rounding: Rounding,
    pub clauses: Vec<ClauseId>,
    /// What later documents changed in this one (`extends`, `repeals` of the document), in
    /// date order; already folded into `in_force`, kept to explain it.
    pub changes: Vec<ChangeRecord>,
    pub span: Span,
}

/// A change a later document made (`ir::amend`): which document, what, from or to which date.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeRecord {
    pub what: crate::syntax::ast::ChangeKind,
    /// The key of the amending document.
    pub by: String,
    /// `from` of `amends`/`repeals`, `to` of `extends`.
    pub date: Date,
    /// The end the window had before this change (`extends`, `repeals`).
    pub before: Option<Date>,
    pub label: Option<String>,
    pub span: Span,
}

/// A version of a clause written by a later document (`amends DOC.c from DATE { … }`): the
/// clause with the replaced parts, applied to the periods whose last day is on or after `from`.
#[derive(Clone, Debug, PartialEq)]
pub struct ClauseVersion {
    pub change: ChangeRecord,
    pub def: Box<ClauseDef>,
}

/// A condition with the text the analyst wrote, shown in explanations and reasons.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub expr: Expr,
    /// Shared, so a failing condition's reason costs no allocation.
    pub text: std::sync::Arc<str>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClauseDef {
    pub policy: PolicyId,
    /// The document key and article id as ledger entries carry them (built once).
    pub ledger_names: (std::sync::Arc<str>, std::sync::Arc<str>),
    pub kind: crate::syntax::ast::ClauseKind,
    pub id: String,
    pub title: String,
    /// The sentences this clause encodes, in the order written; each is verified against the
    /// source on its own (a clause may be built from non-adjacent sentences).
    pub quotes: Vec<Quote>,
    pub responsible: Vec<String>,
    pub conditions: Vec<Condition>,
    pub window: Option<Window>,
    /// The date a window tests, when not the period.
    pub window_on: Option<Expr>,
    /// The date parameters are read on; the period's last day when absent.
    pub dated: Option<Expr>,
    pub amount: Amount,
    pub caps: Vec<Cap>,
    pub floor: Option<Expr>,
    pub once: Option<OnceScope>,
    pub at_most: Option<AtMost>,
    /// Clauses this one cannot be combined with (when this one is granted, they are not).
    pub excludes: Vec<ClauseId>,
    /// A group in which only the largest granted amount pays.
    pub largest_in: Option<String>,
    /// `once in "组"`: of the clauses naming the group, an enterprise receives one, ever.
    pub once_in: Option<String>,
    /// Later versions written by amending documents, sorted by `from` (`amends`).
    pub versions: Vec<ClauseVersion>,
    /// Changes of this clause's window by later documents (`repeals DOC.c`), folded into
    /// `window`, kept to explain it.
    pub changes: Vec<ChangeRecord>,
    /// Numbers the encoding uses that no quote states, each with where it comes from.
    pub unquoted: Vec<Unquoted>,
    pub span: Span,
}

/// `unquoted 0.5 "why"`: a number of the encoding that its quote does not state.
#[derive(Clone, Debug, PartialEq)]
pub struct Unquoted {
    pub value: Decimal,
    pub reason: String,
    pub span: Span,
}

/// One quoted sentence of the source, where it is written in the rule file.
#[derive(Clone, Debug, PartialEq)]
pub struct Quote {
    pub text: String,
    pub span: Span,
}

impl ClauseDef {
    /// The quoted sentences as one text (non-adjacent sentences joined by `……`), or `None`.
    pub fn quote_text(&self) -> Option<String> {
        if self.quotes.is_empty() {
            return None;
        }
        Some(self.quotes.iter().map(|q| q.text.as_str()).collect::<Vec<_>>().join("……"))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Cap {
    pub expr: Expr,
    pub scope: CapScope,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AtMost {
    pub years: u32,
    /// Count years from this date's year; from the first grant in the ledger when absent.
    pub from: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Amount {
    /// No amount written: a clause that only grants eligibility (reported as discretionary).
    Discretionary {
        base: Option<Expr>,
    },
    Expr(Expr),
    Tiers {
        /// For `first time`: the series whose earlier years must not have reached the tier.
        first_time: Option<SeriesRef>,
        subject: Expr,
        pay: PayRule,
        tiers: Vec<TierDef>,
    },
    Brackets {
        subject: Expr,
        brackets: Vec<BracketDef>,
    },
    Category {
        /// The category; with `each`, a field read on every selected item.
        subject: Expr,
        each: Option<Box<Selection>>,
        arms: Vec<CategoryArm>,
    },
    Credit {
        earned: Expr,
        capacity: Expr,
        years: u32,
    },
    /// `each LIST key FIELD => AMOUNT`: an amount per selected person or item, each recorded
    /// in the ledger under its key (the field's value), so that `once per item` and
    /// `cap X per item total` count per person, not per enterprise. `None`: `=> discretionary`,
    /// each item decided case by case up to its per-item cap (recorded with amount 0).
    Each {
        sel: Box<Selection>,
        key: FieldId,
        amount: Option<Expr>,
    },
    /// Not money: a priority, a service, a right, granted when the conditions hold.
    Provides {
        what: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct TierDef {
    pub op: CmpOp,
    pub threshold: Expr,
    pub amount: Expr,
    /// The ledger key of this tier: its threshold as policy text writes it (`1亿`).
    pub key: std::sync::Arc<str>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BracketDef {
    pub upper: Option<Expr>,
    pub rate: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CategoryArm {
    pub variant: u32,
    pub name: std::sync::Arc<str>,
    pub amount: Expr,
}

/// A typed expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeriesRef {
    Fact(FactId),
    Field(FieldId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Min,
    Max,
    Abs,
    Year,
    Within,
    /// Time within the year (`eval::time`): `month(d)`, `day(d)` → integer.
    Month,
    Day,
    /// `add_months(d, n)`, `add_days(d, n)` → date.
    AddMonths,
    AddDays,
    /// `months_between(a, b)`, `days_between(a, b)` → integer.
    MonthsBetween,
    DaysBetween,
    /// `period_start`, `period_end`: the first and last day of the evaluated period.
    PeriodStart,
    PeriodEnd,
    /// Monthly series (`monthly T` facts): `s[2024-03]` (args: the fact, a date in the month),
    /// `total(s, from, to)` and `months(s, from, to)` over the months of from … to inclusive.
    MonthAt,
    MonthTotal,
    MonthCount,
    /// The date parameters and tables are read on (the clause's `dated`, else the period's
    /// last day). Not a function of the language: only a table's versions are chosen by it
    /// (inside [`TableRead::lowered`]).
    Dated,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggOp {
    Sum,
    Count,
    Any,
    All,
    /// `max(LIST, KEY)`: the largest KEY over the selected items (0 when none).
    Max,
    /// `min(LIST, KEY)`: the smallest KEY over the selected items (0 when none).
    Min,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    Num(Decimal),
    Bool(bool),
    Date(Date),
    Enum(EnumId, u32),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Const(Const),
    Fact(FactId),
    SeriesAt(SeriesRef, Box<Expr>),
    Field(FieldId),
    Def(DefId),
    Param(ParamId),
    Period,
    AsOf,
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    In(Box<Expr>, Vec<Const>),
    Call(Builtin, Vec<Expr>),
    /// `increase(s)`: s[period] − s[period − 1]; a missing year is missing, never zero.
    Increase(SeriesRef),
    /// `max_before(s)`: the largest value of the known years before the period.
    MaxBefore(SeriesRef),
    /// `first_time(s op x)`: holds this period and held in no earlier known year.
    FirstTime(SeriesRef, CmpOp, Box<Expr>),
    Agg(AggOp, Box<Selection>, Option<Box<Expr>>),
    /// `granted(DOC.c[, N])`: the ledger holds an entry of the clause (its ledger names) in
    /// one of the N years before the period (any earlier year without N).
    Granted(std::sync::Arc<str>, std::sync::Arc<str>, Option<u32>),
    /// `qualifies(DOC.c)`: the clause's own status this period (before stacking): granted or
    /// discretionary is true, undetermined unknown, any other false. The clause exists (E0206)
    /// and no chain of `qualifies` leads back to the reader (E0210).
    Qualifies(std::sync::Arc<str>, std::sync::Arc<str>),
    /// `if C then A else B`.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `NAME(x)`: a named tier or bracket table read on a value.
    Table(Box<TableRead>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    pub list: FactId,
    pub record: RecordId,
    pub ops: Vec<SelOp>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SelOp {
    Where(Expr),
    /// `first N [by KEY [descending]]`: KEY is read on each item (a number or a date).
    First {
        n: u32,
        by: Option<Box<Expr>>,
        descending: bool,
    },
}

impl Selection {
    /// The expressions of the selection's steps (`where` conditions and sort keys), in order.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.ops.iter().filter_map(|op| match op {
            SelOp::Where(w) => Some(w),
            SelOp::First { by, .. } => by.as_deref(),
        })
    }
}

/// A test case written beside the rules.
#[derive(Clone, Debug)]
pub struct TestCase {
    pub name: String,
    pub span: Span,
    pub period: Option<i32>,
    pub as_of: Option<Date>,
    pub facts: crate::json::Json,
    pub facts_span: Span,
    pub ledger: Vec<crate::eval::ledger::LedgerEntry>,
    pub expects: Vec<TestExpect>,
}

#[derive(Clone, Debug)]
pub enum TestExpect {
    Total {
        amount: Decimal,
        span: Span,
    },
    Clause {
        clause: ClauseId,
        status: crate::eval::Status,
        amount: Option<Decimal>,
        span: Span,
    },
    /// `expect error CODE`: the facts or ledger are rejected, or a clause or the total fails,
    /// with this code.
    Error {
        code: crate::diag::Code,
        span: Span,
    },
}

impl TestCase {
    /// The codes the test expects its input or evaluation to fail with.
    pub fn expected_errors(&self) -> impl Iterator<Item = crate::diag::Code> + '_ {
        self.expects.iter().filter_map(|e| match e {
            TestExpect::Error { code, .. } => Some(*code),
            _ => None,
        })
    }
}

/// A compiled rule set. `Send + Sync`: compile once, evaluate many enterprises from many
/// threads.
#[derive(Clone, Debug, Default)]
pub struct Program {
    pub enums: Vec<EnumDef>,
    pub records: Vec<RecordDef>,
    pub facts: Vec<FactDef>,
    pub defs: Vec<DefDef>,
    pub params: Vec<ParamDef>,
    pub tables: Vec<TableDef>,
    pub policies: Vec<PolicyDef>,
    pub clauses: Vec<ClauseDef>,
    pub tests: Vec<TestCase>,
    /// Fact name → slot, for reading facts input (never used while evaluating).
    pub fact_index: HashMap<String, FactId>,
    /// `(policy key, clause id)` → clause, for reading ledgers and tests.
    pub clause_index: HashMap<(String, String), ClauseId>,
}

impl Program {
    pub fn clause(&self, id: ClauseId) -> Option<&ClauseDef> {
        self.clauses.get(id as usize)
    }

    pub fn policy_of(&self, c: &ClauseDef) -> Option<&PolicyDef> {
        self.policies.get(c.policy as usize)
    }

    /// `E23.5` for a clause.
    pub fn clause_ref(&self, id: ClauseId) -> String {
        match self.clause(id) {
            Some(c) => format!("{}.{}", self.policy_of(c).map_or("?", |p| p.key.as_str()), c.id),
            None => "?".into(),
        }
    }

    /// The version of a clause that applies to a period: the last `amends` version whose
    /// `from` is on or before the period's last day, else the clause as first written.
    pub fn clause_for(&self, id: ClauseId, period: i32) -> Option<&ClauseDef> {
        let c = self.clause(id)?;
        let end = Date::year_end(period);
        Some(c.versions.iter().rev().find(|v| v.change.date <= end).map_or(c, |v| &v.def))
    }

    /// `E23.5` for a clause definition.
    pub fn clause_ref_of(&self, c: &ClauseDef) -> String {
        format!("{}.{}", self.policy_of(c).map_or("?", |p| p.key.as_str()), c.id)
    }

    pub fn find_clause(&self, policy: &str, clause: &str) -> Option<ClauseId> {
        self.clause_index.get(&(policy.to_string(), clause.to_string())).copied()
    }

    pub fn type_name(&self, t: Type) -> String {
        match t {
            Type::Num(n) => num_name(n).into(),
            Type::Bool => "boolean".into(),
            Type::Date => "date".into(),
            Type::Year => "year".into(),
            Type::Text => "text".into(),
            Type::Enum(e) => self.enums.get(e as usize).map_or("enumeration".into(), |e| e.name.clone()),
            Type::Series(n) => format!("series {}", num_name(n)),
            Type::Record(r) => self.records.get(r as usize).map_or("record".into(), |r| r.name.clone()),
            Type::List(r) => {
                format!("list {}", self.records.get(r as usize).map_or("record", |r| r.name.as_str()))
            }
        }
    }
}

pub fn num_name(n: Num) -> &'static str {
    match n {
        Num::Money => "money",
        Num::Rate => "rate",
        Num::Number => "number",
        Num::Integer => "integer",
    }
}
