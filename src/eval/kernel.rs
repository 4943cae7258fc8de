//! The lean evaluation path: the same rules, compiled once more into typed expression trees
//! that compute only each clause's status and amount, and with a ledger the entries it adds.
//! Batch budget runs, population simulation (`simulate --facts POP`, `crate::forecast`),
//! `huiqi diff` over a population and the benchmarks use it; explanations, reasons and missing
//! facts stay with [`super::evaluate`].
//!
//! Invariant: [`Kernel::evaluate`] (an empty ledger) gives every evaluated clause exactly the
//! status and amount (value *and* scale) that [`super::evaluate`] gives; with a ledger,
//! [`Kernel::evaluate_ledger`] gives exactly the statuses, amounts and new ledger entries (in
//! order, keys, balances and expiries included) that [`super::evaluate`] gives with that
//! ledger. History is read as the full evaluator reads it: `once` (per clause, tier, category,
//! year, item), `at most N years`, yearly, lifetime and per-item caps, carried credits (oldest
//! first, expiry; the arithmetic shared with the full evaluator), `granted(DOC.c[, N])`,
//! `qualifies(DOC.c)` (that clause's own history, no entries written), `once in "组"` over
//! history, and the zero entry a discretionary grant under a history limit records; per-item
//! amounts are keyed by the items' values shown as the full evaluator shows them. Where the
//! kernel cannot decide alone it says so instead of guessing: a clause it does not compile is
//! evaluated by the full evaluator's own per-clause step; an arithmetic failure (an overflow, also in the sums of the history)
//! returns [`Delegate`] so that the caller re-evaluates the enterprise with the full evaluator
//! (which names the failure with its code). `tests/kernel.rs` and `tests/kernel_ledger.rs`
//! hold the two paths to this over generated populations and random histories.
//!
//! Why it is fast: numeric nodes return `Decimal` directly and boolean nodes a tri-state (no
//! `Value` moved or dropped), facts are read by reference, nothing allocates per clause (a
//! ledger entry shares its names with the clause), each clause's history is gathered once per
//! evaluation, and the stacking pass runs only when the program has exclusions or groups.
//! The clause loop touches little memory for the many clauses an enterprise fails: a plain
//! clause's conditions (its `and`s split into leaves) sit in one array shared by all clauses,
//! read in order, and a first condition on one fact is kept in the clause itself as its guard;
//! the body (amount, caps) is reached only once the conditions hold.

use super::facts::{FactValue, Facts, Item, Series, Value};
use super::{
    EvalOptions, Ledger, LedgerEntry, Status, cash_total, cmp_num, evaluate_clause, ord_holds, round,
};
use crate::ir::*;
use crate::syntax::ast::{CapScope, ClauseKind, CmpOp, OnceScope, PayRule, Rounding};
use crate::value::{Date, as_year};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::Arc;

/// The kernel cannot finish this enterprise alone (an arithmetic failure, which the full
/// evaluator reports with its message): evaluate it with [`super::evaluate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delegate;

/// A window: first and last day, each open when `None`.
type Days = (Option<Date>, Option<Date>);

/// Unknown is `Ok(None)`; a failure is `Err(Delegate)`.
type R<T> = Result<Option<T>, Delegate>;

/// Deepest definition nesting the kernel inlines (the checker rejects cycles; this only
/// bounds the work).
const MAX_INLINE: u32 = 64;

/// The deepest expression the kernel compiles (counted through inlined definitions); a deeper
/// one is delegated to the full evaluator, which runs on the batch workers' large stacks.
/// Lowering recurses once per level on the caller's thread, which may be a 2 MiB thread (a
/// test, a Tokio worker, a Python thread), and a debug build's frames are several KiB.
const MAX_NEST: u32 = 128;

/// One clause's verdict: what a budget needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub clause: ClauseId,
    pub status: Status,
    pub amount: Option<Decimal>,
    /// Cash (kind `benefit`), counted in the total.
    pub benefit: bool,
}

impl From<&super::ClauseResult> for Verdict {
    /// The full evaluator's result reduced to what a budget needs (where a caller fell back
    /// to it after [`Delegate`]).
    fn from(r: &super::ClauseResult) -> Verdict {
        Verdict { clause: r.clause, status: r.status, amount: r.amount, benefit: r.benefit }
    }
}

/// The verdicts of one enterprise, one per evaluated clause in declaration order. Reused
/// across enterprises, so evaluating allocates nothing once it has grown.
#[derive(Clone, Debug, Default)]
pub struct Verdicts {
    pub items: Vec<Verdict>,
    /// The ledger entries the evaluation adds ([`Kernel::evaluate_ledger`] only), in the order
    /// of [`super::Outcome::new_entries`].
    pub entries: Vec<LedgerEntry>,
    /// The slot in `items` of each entry's clause.
    owner: Vec<usize>,
}

impl Verdicts {
    /// Cash granted: the granted amounts of `benefit` clauses, as [`super::Outcome::total`].
    pub fn total(&self) -> Result<Decimal, super::ClauseError> {
        cash_total(self.items.iter().map(|v| (v.clause, v.status, v.benefit, v.amount)))
            .map_err(super::TotalOverflow::to_clause_error)
    }
}

/// A program compiled for the lean path. Build it once per [`Program`] and share it across
/// threads (`Send + Sync`).
#[derive(Clone, Debug)]
pub struct Kernel {
    clauses: Vec<KClause>,
    /// The conditions of the plain, unamended clauses, one after another (`KClause::flat`):
    /// the clause loop reads them in order from one array instead of through each body.
    flat: Vec<B>,
    params: Vec<Vec<(Date, Decimal)>>,
    /// Slot pairs `(winner, excluded)`, from `excludes`.
    excludes: Vec<(usize, Vec<usize>)>,
    /// Slots of each `only largest in` group, in declaration order.
    groups: Vec<Vec<usize>>,
    /// Ledger names (`policy`, `clause`) to the clause, as [`Program::find_clause`] finds them.
    names: HashMap<Arc<str>, HashMap<Arc<str>, ClauseId>>,
    /// Per clause of the program: its `once in` group (an index), for history.
    once_in: Vec<Option<u32>>,
}

#[derive(Clone, Debug)]
struct KClause {
    id: ClauseId,
    benefit: bool,
    /// The first condition of a plain, unamended clause when it reads one fact against
    /// constants: tested in the clause loop without reaching the body, since most clauses
    /// fail there (the body is a pointer away, and its conditions another).
    guard: Guard,
    /// A plain, unamended clause: its conditions in [`Kernel::flat`] (first, end).
    flat: Option<(u32, u32)>,
    /// `None`: delegated to the full evaluator.
    body: Option<Box<Body>>,
    /// Versions written by amending documents (`amends … from DATE`), by date: the last one
    /// whose date is on or before the period's last day applies (`None`: delegated).
    versions: Vec<(Date, Option<Box<Body>>)>,
}

/// See [`KClause::guard`].
#[derive(Clone, Copy, Debug)]
enum Guard {
    None,
    /// An enumeration fact in a set of variants (bit `v`).
    EnumIn(FactId, u64),
    /// A boolean fact.
    Fact(FactId),
}

impl Guard {
    /// The guard of a plain, unamended clause's body.
    fn of(body: Option<&Body>) -> Guard {
        match body.and_then(|b| b.conds.first()) {
            Some(B::FactEnumIn(f, mask)) => Guard::EnumIn(*f, *mask),
            Some(B::Fact(f)) => Guard::Fact(*f),
            _ => Guard::None,
        }
    }
}

#[derive(Clone, Debug)]
struct Body {
    dated: Option<D>,
    once: Option<OnceScope>,
    in_force: Option<Days>,
    /// The clause's window and the date it tests (the period when `None`).
    window: Option<(Days, Option<D>)>,
    conds: Vec<B>,
    at_most: Option<(u32, Option<D>)>,
    caps: Vec<(CapScope, N)>,
    floor: Option<N>,
    amount: KAmount,
    rounding: Rounding,
    /// No dates, windows, history limits, caps or floor: conditions and an amount only.
    plain: bool,
}

#[derive(Clone, Debug)]
enum KAmount {
    Discretionary(Option<X>),
    Expr(N),
    Tiers {
        first_time: Option<SeriesRef>,
        subject: N,
        highest: bool,
        /// Per tier: comparison, threshold, amount and ledger key.
        tiers: Vec<(CmpOp, N, N, Arc<str>)>,
    },
    Brackets {
        subject: N,
        brackets: Vec<(Option<N>, N)>,
    },
    Category {
        subject: En,
        each: Option<Sel>,
        /// Per arm: variant, amount and ledger key (the value's name).
        arms: Vec<(u32, N, Arc<str>)>,
    },
    Credit {
        earned: N,
        capacity: N,
        years: u32,
    },
    /// Per person or item: the selection, the key field and the amount per item (`None`:
    /// `=> discretionary`).
    Each {
        sel: Sel,
        key: FieldId,
        /// The key field's type: a ledger key is the item's value shown as the full evaluator
        /// shows it (`super::show_value`).
        key_ty: Type,
        amount: Option<N>,
    },
    Provides,
}

/// A numeric expression (money, rate, number, integer, year).
#[derive(Clone, Debug)]
enum N {
    K(Decimal),
    Fact(FactId),
    Field(FieldId),
    At(SeriesRef, Box<N>),
    /// `s[period + k]`, the common case of `At`.
    AtPeriod(SeriesRef, i32),
    Param(ParamId),
    Period,
    Neg(Box<N>),
    Arith(ArithOp, Box<N>, Box<N>),
    /// `x × k` with a constant `k`.
    MulK(Box<N>, Decimal),
    /// `fact × k`, a fact times a constant.
    FactMulK(FactId, Decimal),
    /// `min(x, k)` and `max(x, k)` with a constant `k`.
    MinK(Box<N>, Box<KNum>),
    MaxK(Box<N>, Box<KNum>),
    Min(Vec<N>),
    Max(Vec<N>),
    Abs(Box<N>),
    Year(Box<D>),
    /// `month(d)`, `day(d)`, `months_between(a, b)`, `days_between(a, b)` (`eval::time`).
    DateFn(Builtin, Box<[D]>),
    /// `s[MONTH]`, `total(s, from, to)`, `months(s, from, to)` on a monthly fact.
    Monthly(Builtin, FactId, Box<[D]>),
    Increase(SeriesRef),
    MaxBefore(SeriesRef),
    Sum(Box<Sel>, Option<Box<N>>),
    Count(Box<Sel>),
    /// `max(LIST, KEY)` (`true`) or `min(LIST, KEY)`: 0 when no item is selected.
    Best(Box<Sel>, Box<N>, bool),
    If(Box<B>, Box<N>, Box<N>),
}

/// A constant operand of a comparison, prepared: its mantissa at each scale up to
/// `KNum::SCALES`, so that a value of one of those scales (money to the fen is scale 2)
/// compares by one integer comparison instead of a rescaling `Decimal::cmp`.
#[derive(Clone, Debug)]
struct KNum {
    d: Decimal,
    at: [i128; KNum::SCALES],
    /// Bit `s`: `at[s]` holds `d` exactly at scale `s`.
    exact: u16,
}

impl KNum {
    const SCALES: usize = 8;

    fn new(d: Decimal) -> KNum {
        let mut at = [0i128; KNum::SCALES];
        let mut exact = 0u16;
        for (s, slot) in at.iter_mut().enumerate() {
            let Ok(s32) = u32::try_from(s) else { continue };
            let mut r = d;
            r.rescale(s32);
            if r.scale() == s32 && r == d {
                *slot = r.mantissa();
                exact |= 1 << s;
            }
        }
        KNum { d, at, exact }
    }

    /// `x` against the constant, exactly as `Decimal::cmp` orders them.
    #[inline(always)]
    fn order_of(&self, x: &Decimal) -> std::cmp::Ordering {
        let s = x.scale() as usize;
        match self.at.get(s) {
            Some(m) if self.exact & (1 << s) != 0 => x.mantissa().cmp(m),
            _ => x.cmp(&self.d),
        }
    }
}

/// A boolean expression.
#[derive(Clone, Debug)]
enum B {
    K(bool),
    Fact(FactId),
    Field(FieldId),
    Not(Box<B>),
    And(Box<B>, Box<B>),
    Or(Box<B>, Box<B>),
    CmpN(CmpOp, Box<N>, Box<N>),
    /// `x op k` with a constant `k`.
    CmpK(CmpOp, Box<N>, Box<KNum>),
    /// `fact op k`, a fact against a constant.
    FactCmpK(CmpOp, FactId, Box<KNum>),
    /// An enumeration fact compared with a constant or tested against a set, as the set of
    /// variants (bit `v`) for which it holds.
    FactEnumIn(FactId, u64),
    /// The same for a field of the current list item.
    FieldEnumIn(FieldId, u64),
    CmpD(CmpOp, Box<D>, Box<D>),
    CmpE(CmpOp, Box<En>, Box<En>),
    CmpBool(CmpOp, Box<B>, Box<B>),
    CmpT(CmpOp, Box<T>, Box<T>),
    InN(Box<N>, Vec<Decimal>),
    InE(Box<En>, Vec<u32>),
    InD(Box<D>, Vec<Date>),
    InBool(Box<B>, Vec<bool>),
    Within(Box<[D; 3]>),
    FirstTime(SeriesRef, CmpOp, Box<N>),
    Any(Box<Sel>, Option<Box<B>>),
    All(Box<Sel>, Option<Box<B>>),
    If(Box<B>, Box<B>, Box<B>),
    /// `qualifies(DOC.c)`: that clause's body and its amended versions by date.
    Qualifies(ClauseId, Box<Body>, Vec<(Date, Body)>),
    /// `granted(DOC.c[, N])`: read from the ledger (`relations::granted_in`).
    Granted(Box<(Arc<str>, Arc<str>, Option<u32>)>),
}

/// A date expression.
#[derive(Clone, Debug)]
enum D {
    K(Date),
    Fact(FactId),
    Field(FieldId),
    AsOf,
    Min(Vec<D>),
    Max(Vec<D>),
    If(Box<B>, Box<D>, Box<D>),
    /// `add_months(d, n)`, `add_days(d, n)`, `period_start`, `period_end` (`eval::time`).
    DateFn(Builtin, Option<Box<(D, N)>>),
}

/// An enumeration expression (the variant index).
#[derive(Clone, Debug)]
enum En {
    K(u32),
    Fact(FactId),
    Field(FieldId),
    If(Box<B>, Box<En>, Box<En>),
}

/// A text expression.
#[derive(Clone, Debug)]
enum T {
    Fact(FactId),
    Field(FieldId),
    If(Box<B>, Box<T>, Box<T>),
}

/// An expression of any type, evaluated only for its failures (a discretionary base).
#[derive(Clone, Debug)]
enum X {
    N(N),
    B(B),
    D(D),
    E(En),
    T(T),
}

#[derive(Clone, Debug)]
struct Sel {
    list: FactId,
    ops: Vec<SOp>,
}

#[derive(Clone, Debug)]
enum SOp {
    Where(B),
    First { n: u32, by: Option<Key>, descending: bool },
}

/// A sort key read on each item.
#[derive(Clone, Debug)]
enum Key {
    N(N),
    D(D),
}

/// `period`, `period + k` or `period - k` as a year expression: its offset.
fn period_offset(y: &Expr) -> Option<i32> {
    match &y.kind {
        ExprKind::Period => Some(0),
        ExprKind::Arith(op @ (ArithOp::Add | ArithOp::Sub), a, b) => match (&a.kind, &b.kind) {
            (ExprKind::Period, ExprKind::Const(Const::Num(k))) => {
                let k = as_year(*k).filter(|k| k.abs() < 1000)?;
                Some(if *op == ArithOp::Add { k } else { -k })
            }
            _ => None,
        },
        _ => None,
    }
}

/// The construct is not compiled; the clause is delegated.
struct No;

type C<T> = Result<T, No>;

struct Lower<'p> {
    prog: &'p Program,
    depth: u32,
    /// How deep the lowering recursion is now ([`MAX_NEST`]).
    nest: u32,
}

impl Lower<'_> {
    fn def<T>(&mut self, d: DefId, f: impl FnOnce(&mut Self, &Expr) -> C<T>) -> C<T> {
        let def = self.prog.defs.get(d as usize).ok_or(No)?;
        if self.depth >= MAX_INLINE {
            return Err(No);
        }
        self.depth += 1;
        let r = f(self, &def.expr);
        self.depth -= 1;
        r
    }

    /// `f` one level deeper, or `No` past [`MAX_NEST`].
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> C<T>) -> C<T> {
        if self.nest >= MAX_NEST {
            return Err(No);
        }
        self.nest += 1;
        let r = f(self);
        self.nest -= 1;
        r
    }

    /// How many values an enumeration has.
    fn variants(&self, e: EnumId) -> u32 {
        self.prog
            .enums
            .get(e as usize)
            .map_or(u32::MAX, |d| u32::try_from(d.variants.len()).unwrap_or(u32::MAX))
    }

    fn n(&mut self, e: &Expr) -> C<N> {
        self.nested(|me| me.n_node(e))
    }

    fn n_node(&mut self, e: &Expr) -> C<N> {
        Ok(match &e.kind {
            ExprKind::Const(Const::Num(d)) => N::K(*d),
            ExprKind::Fact(f) => N::Fact(*f),
            ExprKind::Field(f) => N::Field(*f),
            ExprKind::SeriesAt(s, y) => match period_offset(y) {
                Some(k) => N::AtPeriod(*s, k),
                None => N::At(*s, Box::new(self.n(y)?)),
            },
            ExprKind::Def(d) => self.def(*d, |me, x| me.n(x))?,
            ExprKind::Param(p) => N::Param(*p),
            // a named table: its reading in the nodes compiled here (`TableRead::lowered`)
            ExprKind::Table(t) => self.n(&t.lowered)?,
            ExprKind::Period => N::Period,
            ExprKind::Neg(x) => N::Neg(Box::new(self.n(x)?)),
            ExprKind::Arith(ArithOp::Mul, a, b) if matches!(b.kind, ExprKind::Const(Const::Num(_))) => {
                let ExprKind::Const(Const::Num(k)) = b.kind else { return Err(No) };
                match self.n(a)? {
                    N::Fact(f) => N::FactMulK(f, k),
                    x => N::MulK(Box::new(x), k),
                }
            }
            ExprKind::Call(f @ (Builtin::Min | Builtin::Max), xs)
                if matches!(xs.as_slice(), [_, Expr { kind: ExprKind::Const(Const::Num(_)), .. }]) =>
            {
                let [x, Expr { kind: ExprKind::Const(Const::Num(k)), .. }] = xs.as_slice() else {
                    return Err(No);
                };
                let (x, k) = (Box::new(self.n(x)?), Box::new(KNum::new(*k)));
                if *f == Builtin::Min { N::MinK(x, k) } else { N::MaxK(x, k) }
            }
            ExprKind::Arith(op, a, b) => N::Arith(*op, Box::new(self.n(a)?), Box::new(self.n(b)?)),
            ExprKind::Call(Builtin::Min, xs) => N::Min(xs.iter().map(|x| self.n(x)).collect::<C<_>>()?),
            ExprKind::Call(Builtin::Max, xs) => N::Max(xs.iter().map(|x| self.n(x)).collect::<C<_>>()?),
            ExprKind::Call(Builtin::Abs, xs) => match xs.as_slice() {
                [x] => N::Abs(Box::new(self.n(x)?)),
                _ => return Err(No),
            },
            ExprKind::Call(Builtin::Year, xs) => match xs.as_slice() {
                [x] => N::Year(Box::new(self.d(x)?)),
                _ => return Err(No),
            },
            ExprKind::Increase(s) => N::Increase(*s),
            ExprKind::MaxBefore(s) => N::MaxBefore(*s),
            ExprKind::Agg(AggOp::Sum, sel, body) => N::Sum(
                Box::new(self.sel(sel)?),
                body.as_deref().map(|b| self.n(b).map(Box::new)).transpose()?,
            ),
            ExprKind::Agg(AggOp::Count, sel, _) => N::Count(Box::new(self.sel(sel)?)),
            ExprKind::Agg(op @ (AggOp::Max | AggOp::Min), sel, Some(body)) => {
                N::Best(Box::new(self.sel(sel)?), Box::new(self.n(body)?), *op == AggOp::Max)
            }
            ExprKind::If(c, a, b) => N::If(Box::new(self.b(c)?), Box::new(self.n(a)?), Box::new(self.n(b)?)),
            // the date functions and monthly series (`n_time`): out of the match, so that
            // this recursive frame stays small on deep rules
            _ => return self.n_time(e),
        })
    }

    /// The numeric date functions and monthly series, out of line: `n` recurses, and its
    /// frame stays small on deep rules.
    #[inline(never)]
    fn n_time(&mut self, e: &Expr) -> C<N> {
        let ExprKind::Call(f, xs) = &e.kind else { return Err(No) };
        let f = *f;
        Ok(match f {
            Builtin::Month | Builtin::Day | Builtin::MonthsBetween | Builtin::DaysBetween => {
                N::DateFn(f, xs.iter().map(|x| self.d(x)).collect::<C<_>>()?)
            }
            Builtin::MonthAt | Builtin::MonthTotal | Builtin::MonthCount => {
                let Some((Expr { kind: ExprKind::Fact(fid), .. }, ds)) = xs.split_first() else {
                    return Err(No);
                };
                N::Monthly(f, *fid, ds.iter().map(|x| self.d(x)).collect::<C<_>>()?)
            }
            _ => return Err(No),
        })
    }

    fn b(&mut self, e: &Expr) -> C<B> {
        self.nested(|me| me.b_node(e))
    }

    fn b_node(&mut self, e: &Expr) -> C<B> {
        Ok(match &e.kind {
            ExprKind::Const(Const::Bool(b)) => B::K(*b),
            ExprKind::Fact(f) => B::Fact(*f),
            ExprKind::Field(f) => B::Field(*f),
            ExprKind::Def(d) => self.def(*d, |me, x| me.b(x))?,
            ExprKind::Not(x) => B::Not(Box::new(self.b(x)?)),
            ExprKind::And(a, b) => B::And(Box::new(self.b(a)?), Box::new(self.b(b)?)),
            ExprKind::Or(a, b) => B::Or(Box::new(self.b(a)?), Box::new(self.b(b)?)),
            ExprKind::Cmp(op, a, b) => match (a.ty, b.ty) {
                (Type::Num(_) | Type::Year, Type::Num(_) | Type::Year) => match b.kind {
                    ExprKind::Const(Const::Num(k)) => match self.n(a)? {
                        N::Fact(f) => B::FactCmpK(*op, f, Box::new(KNum::new(k))),
                        x => B::CmpK(*op, Box::new(x), Box::new(KNum::new(k))),
                    },
                    _ => B::CmpN(*op, Box::new(self.n(a)?), Box::new(self.n(b)?)),
                },
                (Type::Date, Type::Date) => B::CmpD(*op, Box::new(self.d(a)?), Box::new(self.d(b)?)),
                (Type::Enum(en), Type::Enum(_)) => match (&a.kind, &b.kind) {
                    (ExprKind::Fact(_) | ExprKind::Field(_), ExprKind::Const(Const::Enum(_, k)))
                        if self.variants(en) <= 64 =>
                    {
                        let mask = (0..self.variants(en))
                            .filter(|v| ord_holds(*op, v.cmp(k)))
                            .fold(0u64, |m, v| m | 1 << v);
                        match a.kind {
                            ExprKind::Fact(f) => B::FactEnumIn(f, mask),
                            ExprKind::Field(f) => B::FieldEnumIn(f, mask),
                            _ => return Err(No),
                        }
                    }
                    _ => B::CmpE(*op, Box::new(self.e(a)?), Box::new(self.e(b)?)),
                },
                (Type::Bool, Type::Bool) => B::CmpBool(*op, Box::new(self.b(a)?), Box::new(self.b(b)?)),
                (Type::Text, Type::Text) => B::CmpT(*op, Box::new(self.t(a)?), Box::new(self.t(b)?)),
                _ => return Err(No),
            },
            ExprKind::In(x, set) => match x.ty {
                Type::Num(_) | Type::Year => B::InN(
                    Box::new(self.n(x)?),
                    set.iter()
                        .map(|c| if let Const::Num(d) = c { Ok(*d) } else { Err(No) })
                        .collect::<C<_>>()?,
                ),
                Type::Enum(en)
                    if matches!(x.kind, ExprKind::Fact(_) | ExprKind::Field(_))
                        && self.variants(en) <= 64 =>
                {
                    let mask = set
                        .iter()
                        .map(|c| if let Const::Enum(_, v) = c { Ok(*v) } else { Err(No) })
                        .try_fold(0u64, |m, v| v.map(|v| m | 1u64.checked_shl(v).unwrap_or(0)))?;
                    match x.kind {
                        ExprKind::Fact(f) => B::FactEnumIn(f, mask),
                        ExprKind::Field(f) => B::FieldEnumIn(f, mask),
                        _ => return Err(No),
                    }
                }
                Type::Enum(_) => B::InE(
                    Box::new(self.e(x)?),
                    set.iter()
                        .map(|c| if let Const::Enum(_, v) = c { Ok(*v) } else { Err(No) })
                        .collect::<C<_>>()?,
                ),
                Type::Date => B::InD(
                    Box::new(self.d(x)?),
                    set.iter()
                        .map(|c| if let Const::Date(d) = c { Ok(*d) } else { Err(No) })
                        .collect::<C<_>>()?,
                ),
                Type::Bool => B::InBool(
                    Box::new(self.b(x)?),
                    set.iter()
                        .map(|c| if let Const::Bool(b) = c { Ok(*b) } else { Err(No) })
                        .collect::<C<_>>()?,
                ),
                _ => return Err(No),
            },
            ExprKind::Call(Builtin::Within, xs) => match xs.as_slice() {
                [a, b, c] => B::Within(Box::new([self.d(a)?, self.d(b)?, self.d(c)?])),
                _ => return Err(No),
            },
            ExprKind::FirstTime(s, op, rhs) => B::FirstTime(*s, *op, Box::new(self.n(rhs)?)),
            ExprKind::Agg(op @ (AggOp::Any | AggOp::All), sel, body) => {
                let sel = Box::new(self.sel(sel)?);
                let body = body.as_deref().map(|b| self.b(b).map(Box::new)).transpose()?;
                if *op == AggOp::Any { B::Any(sel, body) } else { B::All(sel, body) }
            }
            ExprKind::If(c, a, b) => B::If(Box::new(self.b(c)?), Box::new(self.b(a)?), Box::new(self.b(b)?)),
            // the clause read is compiled in place (the checker rejects cycles)
            ExprKind::Qualifies(p, c) => {
                let id = self.prog.find_clause(p, c).ok_or(No)?;
                let target = self.prog.clause(id).ok_or(No)?;
                let base = self.body(target)?;
                let versions = target
                    .versions
                    .iter()
                    .map(|v| Ok((v.change.date, self.body(&v.def)?)))
                    .collect::<C<Vec<_>>>()?;
                B::Qualifies(id, Box::new(base), versions)
            }
            ExprKind::Granted(p, c, n) => B::Granted(Box::new((p.clone(), c.clone(), *n))),
            _ => return Err(No),
        })
    }

    fn d(&mut self, e: &Expr) -> C<D> {
        self.nested(|me| me.d_node(e))
    }

    fn d_node(&mut self, e: &Expr) -> C<D> {
        Ok(match &e.kind {
            ExprKind::Const(Const::Date(d)) => D::K(*d),
            ExprKind::Fact(f) => D::Fact(*f),
            ExprKind::Field(f) => D::Field(*f),
            ExprKind::Def(d) => self.def(*d, |me, x| me.d(x))?,
            ExprKind::AsOf => D::AsOf,
            ExprKind::Call(Builtin::Min, xs) => D::Min(xs.iter().map(|x| self.d(x)).collect::<C<_>>()?),
            ExprKind::Call(Builtin::Max, xs) => D::Max(xs.iter().map(|x| self.d(x)).collect::<C<_>>()?),
            ExprKind::If(c, a, b) => D::If(Box::new(self.b(c)?), Box::new(self.d(a)?), Box::new(self.d(b)?)),
            ExprKind::Call(f @ (Builtin::AddMonths | Builtin::AddDays), xs) => match xs.as_slice() {
                [d, n] => D::DateFn(*f, Some(Box::new((self.d(d)?, self.n(n)?)))),
                _ => return Err(No),
            },
            ExprKind::Call(f @ (Builtin::PeriodStart | Builtin::PeriodEnd | Builtin::Dated), _) => {
                D::DateFn(*f, None)
            }
            _ => return Err(No),
        })
    }

    fn e(&mut self, e: &Expr) -> C<En> {
        Ok(match &e.kind {
            ExprKind::Const(Const::Enum(_, v)) => En::K(*v),
            ExprKind::Fact(f) => En::Fact(*f),
            ExprKind::Field(f) => En::Field(*f),
            ExprKind::Def(d) => self.def(*d, |me, x| me.e(x))?,
            ExprKind::If(c, a, b) => En::If(Box::new(self.b(c)?), Box::new(self.e(a)?), Box::new(self.e(b)?)),
            _ => return Err(No),
        })
    }

    fn t(&mut self, e: &Expr) -> C<T> {
        Ok(match &e.kind {
            ExprKind::Fact(f) => T::Fact(*f),
            ExprKind::Field(f) => T::Field(*f),
            ExprKind::Def(d) => self.def(*d, |me, x| me.t(x))?,
            ExprKind::If(c, a, b) => T::If(Box::new(self.b(c)?), Box::new(self.t(a)?), Box::new(self.t(b)?)),
            _ => return Err(No),
        })
    }

    fn x(&mut self, e: &Expr) -> C<X> {
        Ok(match e.ty {
            Type::Num(_) | Type::Year => X::N(self.n(e)?),
            Type::Bool => X::B(self.b(e)?),
            Type::Date => X::D(self.d(e)?),
            Type::Enum(_) => X::E(self.e(e)?),
            Type::Text => X::T(self.t(e)?),
            _ => return Err(No),
        })
    }

    fn sel(&mut self, s: &Selection) -> C<Sel> {
        let ops = s
            .ops
            .iter()
            .map(|o| match o {
                SelOp::Where(w) => self.b(w).map(SOp::Where),
                SelOp::First { n, by, descending } => {
                    let by = match by.as_deref() {
                        None => None,
                        Some(k) if k.ty == Type::Date => Some(Key::D(self.d(k)?)),
                        Some(k) => Some(Key::N(self.n(k)?)),
                    };
                    Ok(SOp::First { n: *n, by, descending: *descending })
                }
            })
            .collect::<C<_>>()?;
        Ok(Sel { list: s.list, ops })
    }

    fn body(&mut self, c: &ClauseDef) -> C<Body> {
        let policy = self.prog.policy_of(c).ok_or(No)?;
        let win = |w: &Window| (w.start, w.end);
        // a condition `a and b` is the two conditions `a`, `b` in turn (three-valued `and`
        // is what the conditions' loop computes, and it too stops at the first false), so
        // that the loop and the clause's guard see the leaves
        fn split(b: B, out: &mut Vec<B>) {
            match b {
                B::And(x, y) => {
                    split(*x, out);
                    split(*y, out);
                }
                x => out.push(x),
            }
        }
        let mut conds = Vec::new();
        for x in policy.applies.iter().chain(c.conditions.iter()) {
            split(self.b(&x.expr)?, &mut conds);
        }
        let amount = match &c.amount {
            Amount::Discretionary { base } => {
                KAmount::Discretionary(base.as_ref().map(|b| self.x(b)).transpose()?)
            }
            Amount::Expr(e) => KAmount::Expr(self.n(e)?),
            Amount::Tiers { first_time, subject, pay, tiers } => KAmount::Tiers {
                first_time: *first_time,
                subject: self.n(subject)?,
                highest: *pay == PayRule::Highest,
                tiers: tiers
                    .iter()
                    .map(|t| Ok((t.op, self.n(&t.threshold)?, self.n(&t.amount)?, t.key.clone())))
                    .collect::<C<_>>()?,
            },
            Amount::Brackets { subject, brackets } => KAmount::Brackets {
                subject: self.n(subject)?,
                brackets: brackets
                    .iter()
                    .map(|b| Ok((b.upper.as_ref().map(|u| self.n(u)).transpose()?, self.n(&b.rate)?)))
                    .collect::<C<_>>()?,
            },
            Amount::Category { subject, each, arms } => KAmount::Category {
                subject: self.e(subject)?,
                each: each.as_deref().map(|s| self.sel(s)).transpose()?,
                arms: arms
                    .iter()
                    .map(|a| Ok((a.variant, self.n(&a.amount)?, a.name.clone())))
                    .collect::<C<_>>()?,
            },
            Amount::Credit { earned, capacity, years } => {
                KAmount::Credit { earned: self.n(earned)?, capacity: self.n(capacity)?, years: *years }
            }
            Amount::Each { sel, key, amount } => KAmount::Each {
                sel: self.sel(sel)?,
                key: *key,
                key_ty: self
                    .prog
                    .records
                    .get(sel.record as usize)
                    .and_then(|r| r.fields.get(*key as usize))
                    .map_or(Type::Text, |f| f.ty),
                amount: amount.as_ref().map(|a| self.n(a)).transpose()?,
            },
            Amount::Provides { .. } => KAmount::Provides,
        };
        let plain = c.dated.is_none()
            && c.once.is_none()
            && policy.in_force.is_none()
            && c.window.is_none()
            && c.at_most.is_none()
            && c.caps.is_empty()
            && c.floor.is_none();
        Ok(Body {
            plain,
            once: c.once,
            dated: c.dated.as_ref().map(|d| self.d(d)).transpose()?,
            in_force: policy.in_force.as_ref().map(win),
            window: match &c.window {
                Some(w) => Some((win(w), c.window_on.as_ref().map(|d| self.d(d)).transpose()?)),
                None => None,
            },
            conds,
            at_most: match &c.at_most {
                Some(a) => Some((a.years, a.from.as_ref().map(|d| self.d(d)).transpose()?)),
                None => None,
            },
            caps: c.caps.iter().map(|cap| Ok((cap.scope, self.n(&cap.expr)?))).collect::<C<_>>()?,
            floor: c.floor.as_ref().map(|f| self.n(f)).transpose()?,
            amount,
            rounding: policy.rounding,
        })
    }
}

impl Kernel {
    /// Compiles a checked program for the lean path.
    pub fn new(prog: &Program) -> Kernel {
        let mut lower = Lower { prog, depth: 0, nest: 0 };
        let mut clauses = Vec::new();
        let mut flat = Vec::new();
        let mut slot_of = vec![None; prog.clauses.len()];
        for (i, c) in prog.clauses.iter().enumerate() {
            if !c.kind.evaluated() {
                continue;
            }
            if let Some(s) = slot_of.get_mut(i) {
                *s = Some(clauses.len());
            }
            let body = lower.body(c).ok().map(Box::new);
            let in_flat = match body.as_deref() {
                Some(b) if b.plain && c.versions.is_empty() => {
                    let first = u32::try_from(flat.len()).ok();
                    flat.extend(b.conds.iter().cloned());
                    first.zip(u32::try_from(flat.len()).ok())
                }
                _ => None,
            };
            clauses.push(KClause {
                id: u32::try_from(i).unwrap_or(u32::MAX),
                benefit: c.kind == ClauseKind::Benefit,
                guard: if in_flat.is_some() { Guard::of(body.as_deref()) } else { Guard::None },
                flat: in_flat,
                body,
                versions: c
                    .versions
                    .iter()
                    .map(|v| (v.change.date, lower.body(&v.def).ok().map(Box::new)))
                    .collect(),
            });
        }
        let slot = |id: ClauseId| slot_of.get(id as usize).copied().flatten();
        let excludes = prog
            .clauses
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let me = slot(u32::try_from(i).ok()?)?;
                let xs: Vec<usize> = c.excludes.iter().filter_map(|x| slot(*x)).collect();
                (!xs.is_empty()).then_some((me, xs))
            })
            .collect();
        // `only largest in` and `once in` groups (separate names): within one period both pay
        // the largest amount only; `once in` reads history too, which an empty ledger lacks
        fn group_of(c: &ClauseDef, once: bool) -> Option<&str> {
            if once { c.once_in.as_deref() } else { c.largest_in.as_deref() }
        }
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for once in [false, true] {
            let mut names: Vec<&str> = prog.clauses.iter().filter_map(|c| group_of(c, once)).collect();
            names.sort_unstable();
            names.dedup();
            groups.extend(names.into_iter().map(|g| {
                clauses
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| prog.clause(k.id).and_then(|c| group_of(c, once)) == Some(g))
                    .map(|(s, _)| s)
                    .collect()
            }));
        }
        let params =
            prog.params.iter().map(|p| p.versions.iter().map(|v| (v.from, v.value)).collect()).collect();
        // a name is kept only where `find_clause` finds the same clause by it; any other name
        // is looked up with `find_clause` itself
        let mut names: HashMap<Arc<str>, HashMap<Arc<str>, ClauseId>> = HashMap::new();
        for (i, c) in prog.clauses.iter().enumerate() {
            let Ok(id) = ClauseId::try_from(i) else { continue };
            let (p, k) = &c.ledger_names;
            if prog.find_clause(p, k) == Some(id) {
                names.entry(p.clone()).or_default().insert(k.clone(), id);
            }
        }
        let mut once_groups: Vec<&str> = prog.clauses.iter().filter_map(|c| c.once_in.as_deref()).collect();
        once_groups.sort_unstable();
        once_groups.dedup();
        let once_in = prog
            .clauses
            .iter()
            .map(|c| {
                let g = c.once_in.as_deref()?;
                once_groups.iter().position(|x| *x == g).and_then(|i| u32::try_from(i).ok())
            })
            .collect();
        Kernel { clauses, flat, params, excludes, groups, names, once_in }
    }

    /// The clause a ledger entry is filed under, as [`super::evaluate`] files it.
    fn clause_of(&self, prog: &Program, e: &LedgerEntry) -> Option<ClauseId> {
        match self.names.get(&*e.policy).and_then(|m| m.get(&*e.clause)) {
            Some(id) => Some(*id),
            None => prog.find_clause(&e.policy, &e.clause),
        }
    }

    /// The evaluated clauses, in the order of [`Verdicts::items`].
    pub fn clauses(&self) -> impl Iterator<Item = ClauseId> + '_ {
        self.clauses.iter().map(|c| c.id)
    }

    /// The slot of a clause in [`Verdicts::items`].
    pub fn slot(&self, clause: ClauseId) -> Option<usize> {
        self.clauses.iter().position(|c| c.id == clause)
    }

    /// How many evaluated clauses the full evaluator handles for the kernel.
    pub fn delegated(&self) -> usize {
        self.clauses.iter().filter(|c| c.body.is_none()).count()
    }

    /// Evaluates every clause for one enterprise with an empty ledger into `out` (cleared
    /// first); no ledger entries are written. `Err(Delegate)`: some clause failed
    /// arithmetically; call [`super::evaluate`] for this enterprise to learn which and why.
    pub fn evaluate(
        &self,
        prog: &Program,
        facts: &Facts,
        period: i32,
        as_of: Option<Date>,
        out: &mut Verdicts,
    ) -> Result<(), Delegate> {
        self.run(prog, facts, None, period, as_of, out)
    }

    /// Evaluates every clause for one enterprise with the history `ledger` into `out` (cleared
    /// first): the statuses and amounts [`super::evaluate`] gives with that ledger, and in
    /// `out.entries` the ledger entries it adds (its [`super::Outcome::new_entries`]), in the
    /// same order. `Err(Delegate)`: some clause failed (an arithmetic overflow, also in the
    /// history's sums); call [`super::evaluate`] for this enterprise, which names the failure.
    pub fn evaluate_ledger(
        &self,
        prog: &Program,
        facts: &Facts,
        ledger: &Ledger,
        period: i32,
        as_of: Option<Date>,
        out: &mut Verdicts,
    ) -> Result<(), Delegate> {
        self.run(prog, facts, Some(&ledger.entries), period, as_of, out)
    }

    fn run(
        &self,
        prog: &Program,
        facts: &Facts,
        ledger: Option<&[LedgerEntry]>,
        period: i32,
        as_of: Option<Date>,
        out: &mut Verdicts,
    ) -> Result<(), Delegate> {
        out.items.clear();
        // one allocation at the final size for a new buffer, none for a reused one
        out.items.reserve(self.clauses.len());
        out.entries.clear();
        out.owner.clear();
        let record = ledger.is_some();
        let ledger = ledger.unwrap_or(&[]);
        // the clause each entry of the history is filed under
        let mut filed: smallvec::SmallVec<[Option<ClauseId>; 8]> = smallvec::SmallVec::new();
        filed.extend(ledger.iter().map(|e| self.clause_of(prog, e)));
        let mut cx = Cx {
            facts,
            params: &self.params,
            period,
            as_of: as_of.unwrap_or(Date::year_end(period)),
            date: Date::year_end(period),
            item: None,
            ledger,
            history: smallvec::SmallVec::new(),
            record,
            def: None,
            slot: 0,
            entries: std::mem::take(&mut out.entries),
            owner: std::mem::take(&mut out.owner),
            prog,
            keys: Vec::new(),
        };
        let result = self.clauses_into(prog, &mut cx, &filed, as_of, out);
        out.entries = std::mem::take(&mut cx.entries);
        out.owner = std::mem::take(&mut cx.owner);
        result?;
        let mut dropped = false;
        if !ledger.is_empty() && self.once_in.iter().any(Option::is_some) {
            dropped |= self.once_in_history(prog, ledger, &filed, &mut out.items);
        }
        if !self.excludes.is_empty() || !self.groups.is_empty() {
            dropped |= self.stack(&mut out.items);
        }
        if dropped && !out.entries.is_empty() {
            // a clause that lost its grant loses its entries, as in the full evaluator
            let keep: Vec<bool> = out
                .owner
                .iter()
                .map(|s| {
                    out.items
                        .get(*s)
                        .is_some_and(|v| matches!(v.status, Status::Granted | Status::Discretionary))
                })
                .collect();
            let mut k = keep.iter();
            out.entries.retain(|_| k.next().copied().unwrap_or(false));
            let mut k = keep.iter();
            out.owner.retain(|_| k.next().copied().unwrap_or(false));
        }
        Ok(())
    }

    fn clauses_into<'f>(
        &self,
        prog: &'f Program,
        cx: &mut Cx<'f>,
        filed: &[Option<ClauseId>],
        as_of: Option<Date>,
        out: &mut Verdicts,
    ) -> Result<(), Delegate> {
        let period = cx.period;
        let end = Date::year_end(period);
        for (slot, c) in self.clauses.iter().enumerate() {
            out.items.push(Verdict {
                clause: c.id,
                status: Status::Ineligible,
                amount: None,
                benefit: c.benefit,
            });
            let Some(v) = out.items.last_mut() else { continue };
            // a plain clause whose first condition fails is ineligible, whatever else it says
            let fails = match c.guard {
                Guard::None => false,
                Guard::EnumIn(f, mask) => enum_in(cx.scalar(f), mask) == Some(false),
                Guard::Fact(f) => cx.bool_fact(f) == Some(false),
            };
            if fails {
                continue;
            }
            cx.history.clear();
            if !cx.ledger.is_empty() {
                for (e, f) in cx.ledger.iter().zip(filed) {
                    if *f == Some(c.id) {
                        cx.history.push(e);
                    }
                }
            }
            cx.slot = slot;
            if cx.record {
                cx.def = prog.clause_for(c.id, period);
            }
            if let Some((first, stop)) = c.flat {
                // a plain clause: its conditions from the flat array, its body only once they hold
                cx.date = end;
                let conds = self.flat.get(first as usize..stop as usize).unwrap_or(&[]);
                match cx.conditions(conds)? {
                    Some(true) => {}
                    Some(false) => continue,
                    None => {
                        v.status = Status::Undetermined;
                        continue;
                    }
                }
                if let Some(b) = &c.body {
                    cx.plain_amount(b, v)?;
                }
                continue;
            }
            let body = c.versions.iter().rev().find(|(d, _)| *d <= end).map_or(&c.body, |(_, b)| b);
            match body {
                Some(b) => {
                    if b.plain {
                        cx.plain(b, v)?
                    } else {
                        v.status = cx.clause(b, &mut v.amount)?
                    }
                }
                _ => {
                    let opts = EvalOptions { period, as_of, explain: false };
                    let r = if cx.record {
                        super::clause_in_evaluation(
                            prog,
                            c.id,
                            cx.facts,
                            cx.ledger,
                            cx.history.as_slice(),
                            opts,
                        )
                    } else {
                        evaluate_clause(prog, c.id, cx.facts, &Ledger::default(), opts)
                    }
                    .map_err(|_| Delegate)?;
                    (v.status, v.amount) = (r.status, r.amount);
                    if cx.record {
                        for e in r.entries {
                            cx.entries.push(e);
                            cx.owner.push(slot);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// `once in "组"` over history, as `relations::once_in_history`: a granted (or
    /// discretionary) clause whose group has another clause in the ledger is exhausted.
    fn once_in_history(
        &self,
        prog: &Program,
        ledger: &[LedgerEntry],
        filed: &[Option<ClauseId>],
        items: &mut [Verdict],
    ) -> bool {
        let mut dropped = false;
        for v in items.iter_mut() {
            if !matches!(v.status, Status::Granted | Status::Discretionary) {
                continue;
            }
            let Some(g) = self.once_in.get(v.clause as usize).copied().flatten() else { continue };
            let Some(c) = prog.clause(v.clause) else { continue };
            let other = ledger.iter().zip(filed).any(|(e, f)| {
                !(*e.policy == *c.ledger_names.0 && *e.clause == *c.ledger_names.1)
                    && f.and_then(|m| self.once_in.get(m as usize).copied().flatten()) == Some(g)
            });
            if other {
                v.status = Status::Exhausted;
                v.amount = None;
                dropped = true;
            }
        }
        dropped
    }

    /// Stacking, as [`super::evaluate`] does it: drops are decided on the verdicts before any
    /// is applied.
    fn stack(&self, items: &mut [Verdict]) -> bool {
        let paid = |v: &Verdict| v.status == Status::Granted && v.amount.is_some_and(|a| a > Decimal::ZERO);
        let mut drop: Vec<usize> = Vec::new();
        for (me, xs) in &self.excludes {
            if items.get(*me).is_some_and(paid) {
                drop.extend(xs.iter().copied().filter(|x| items.get(*x).is_some_and(paid)));
            }
        }
        for g in &self.groups {
            let members: Vec<usize> = g.iter().copied().filter(|s| items.get(*s).is_some_and(paid)).collect();
            let amount = |k: usize| items.get(k).and_then(|v| v.amount).unwrap_or(Decimal::ZERO);
            let winner =
                members.iter().copied().reduce(|best, i| if amount(i) > amount(best) { i } else { best });
            if let Some(w) = winner {
                drop.extend(members.into_iter().filter(|i| *i != w));
            }
        }
        let mut dropped = false;
        for i in drop {
            if let Some(v) = items.get_mut(i)
                && v.status == Status::Granted
            {
                v.status = Status::Ineligible;
                v.amount = None;
                dropped = true;
            }
        }
        dropped
    }
}

/// Per-enterprise state.
struct Cx<'f> {
    facts: &'f Facts,
    params: &'f [Vec<(Date, Decimal)>],
    period: i32,
    as_of: Date,
    /// The date parameters are read on (per clause).
    date: Date,
    item: Option<&'f Item>,
    /// The history: every entry (`granted(…)`) and the current clause's.
    ledger: &'f [LedgerEntry],
    history: smallvec::SmallVec<[&'f LedgerEntry; 4]>,
    /// Whether ledger entries are written ([`Kernel::evaluate_ledger`]), and for the current
    /// clause its version's definition (which names its entries) and slot.
    record: bool,
    def: Option<&'f ClauseDef>,
    slot: usize,
    entries: Vec<LedgerEntry>,
    owner: Vec<usize>,
    prog: &'f Program,
    /// The ledger keys of the current `each` clause's items paid or decided (its parts' keys).
    keys: Vec<Arc<str>>,
}

/// A part of an amount without a ledger key (not a tier or category).
const NO_KEY: u32 = u32::MAX;

fn overlaps_year((start, end): Days, year: i32) -> bool {
    start.is_none_or(|s| s <= Date::year_end(year)) && end.is_none_or(|e| Date::year_start(year) <= e)
}

fn contains((start, end): Days, d: Date) -> bool {
    start.is_none_or(|s| s <= d) && end.is_none_or(|e| d <= e)
}

/// Whether an enumeration value is in a set of variants (bit `v`); unknown when the value
/// is absent.
#[inline(always)]
fn enum_in(v: Option<&Value>, mask: u64) -> Option<bool> {
    match v {
        Some(Value::Enum(v)) => Some(mask.checked_shr(*v).is_some_and(|m| m & 1 == 1)),
        _ => None,
    }
}

/// The outcome of one clause: status and amount.
type Out = (Status, Option<Decimal>);

const UNDETERMINED: Out = (Status::Undetermined, None);
const INELIGIBLE: Out = (Status::Ineligible, None);

impl<'f> Cx<'f> {
    /// A clause's status, and its amount into `amount` (left as it is when there is none).
    /// The status alone is returned: an outcome with its amount returned through memory cost
    /// the clause loop a stalled copy on every clause (a failed store-to-load forwarding).
    #[inline(always)]
    fn clause(&mut self, b: &Body, amount: &mut Option<Decimal>) -> Result<Status, Delegate> {
        self.date = Date::year_end(self.period);
        if let Some(d) = &b.dated {
            match self.d(d)? {
                Some(x) => self.date = x,
                None => return Ok(Status::Undetermined),
            }
        }
        if let Some(w) = b.in_force
            && !overlaps_year(w, self.period)
        {
            return Ok(Status::NotInForce);
        }
        if let Some((w, on)) = &b.window {
            let inside = match on {
                Some(on) => match self.d(on)? {
                    Some(d) => contains(*w, d),
                    None => return Ok(Status::Undetermined),
                },
                None => overlaps_year(*w, self.period),
            };
            if !inside {
                return Ok(Status::NotInForce);
            }
        }
        match self.conditions(&b.conds)? {
            Some(true) => {}
            Some(false) => return Ok(Status::Ineligible),
            None => return Ok(Status::Undetermined),
        }
        // history limits, as the full evaluator's `history_gate`
        match b.once {
            Some(OnceScope::Clause)
                if self.history.iter().any(|e| e.period != self.period || !e.amount.is_zero()) =>
            {
                return Ok(Status::Exhausted);
            }
            Some(OnceScope::PerYear) if self.history.iter().any(|e| e.period == self.period) => {
                return Ok(Status::Exhausted);
            }
            _ => {}
        }
        if let Some((years, from)) = &b.at_most {
            match from {
                Some(from) => {
                    let Some(d) = self.d(from)? else { return Ok(Status::Undetermined) };
                    let nth = i64::from(self.period) - i64::from(d.year) + 1;
                    if nth < 1 {
                        return Ok(Status::Ineligible);
                    }
                    if nth > i64::from(*years) {
                        return Ok(Status::Exhausted);
                    }
                }
                None => {
                    // the distinct earlier years with a grant
                    let mut seen: smallvec::SmallVec<[i32; 4]> = smallvec::SmallVec::new();
                    for e in &self.history {
                        if e.period < self.period && !seen.contains(&e.period) {
                            seen.push(e.period);
                        }
                    }
                    let nth = i64::try_from(seen.len()).unwrap_or(i64::MAX).saturating_add(1);
                    if nth > i64::from(*years) {
                        return Ok(Status::Exhausted);
                    }
                }
            }
        }
        let mut caps: smallvec::SmallVec<[(CapScope, Decimal); 2]> = smallvec::SmallVec::new();
        for (scope, e) in &b.caps {
            match self.n(e)? {
                Some(v) => caps.push((*scope, v)),
                None => return Ok(Status::Undetermined),
            }
        }
        let floor = match &b.floor {
            Some(f) => match self.n(f)? {
                Some(v) => Some(v),
                None => return Ok(Status::Undetermined),
            },
            None => None,
        };
        let (status, a) = self.amount(b, &caps, floor)?;
        *amount = a;
        Ok(status)
    }

    /// The amount, once conditions and limits have passed.
    fn amount(
        &mut self,
        b: &Body,
        caps: &[(CapScope, Decimal)],
        floor: Option<Decimal>,
    ) -> Result<Out, Delegate> {
        // each part with its ledger key: a tier's or an arm's index, or `NO_KEY`
        let mut parts: smallvec::SmallVec<[(u32, Decimal); 2]> = smallvec::SmallVec::new();
        match &b.amount {
            KAmount::Discretionary(base) => {
                if let Some(x) = base {
                    self.x(x)?;
                }
                // recorded (amount 0) under a history limit, as the full evaluator does
                if b.once.is_some() || b.at_most.is_some() {
                    self.record_entry(None, Decimal::ZERO);
                }
                return Ok((Status::Discretionary, None));
            }
            KAmount::Provides => return Ok((Status::Granted, None)),
            KAmount::Credit { earned, capacity, years } => {
                let Some(earned) = self.n(earned)? else { return Ok(UNDETERMINED) };
                let Some(cap) = self.n(capacity)? else { return Ok(UNDETERMINED) };
                return self.credit(round(earned.max(Decimal::ZERO), b.rounding), cap, *years);
            }
            KAmount::Expr(e) => match self.n(e)? {
                Some(v) => parts.push((NO_KEY, v)),
                None => return Ok(UNDETERMINED),
            },
            KAmount::Each { sel, key, key_ty, amount } => {
                let Some(FactValue::List(items)) = self.facts.get(sel.list) else { return Ok(UNDETERMINED) };
                let saved = self.item;
                let r = self.each(b.once, sel, *key, *key_ty, amount.as_ref(), caps, items, &mut parts);
                self.item = saved;
                if let Some(out) = r? {
                    return Ok(out);
                }
            }
            KAmount::Tiers { first_time, subject, highest, tiers } => {
                let Some(value) = self.n(subject)? else { return Ok(UNDETERMINED) };
                let earlier: &[(i32, Decimal)] = match first_time {
                    Some(s) => match self.series(*s) {
                        Some(x) => x.0.get(..x.before(self.period).count()).unwrap_or(&[]),
                        None => &[],
                    },
                    None => &[],
                };
                // the highest newly reached tier (ties: the later one), or every one
                let mut best: Option<(usize, Decimal)> = None;
                let mut paid_before = false;
                for (i, (op, th, amount, key)) in tiers.iter().enumerate() {
                    let Some(th) = self.n(th)? else { return Ok(UNDETERMINED) };
                    if !cmp_num(*op, value, th) || earlier.iter().any(|(_, v)| cmp_num(*op, *v, th)) {
                        continue;
                    }
                    // `once per tier`: a tier in the ledger is not paid again
                    if b.once == Some(OnceScope::PerTier)
                        && self.history.iter().any(|e| e.key.as_deref() == Some(&**key))
                    {
                        paid_before = true;
                        continue;
                    }
                    let Some(a) = self.n(amount)? else { return Ok(UNDETERMINED) };
                    if *highest {
                        if best.is_none_or(|(bi, ba)| a.cmp(&ba).then(i.cmp(&bi)).is_ge()) {
                            best = Some((i, a));
                        }
                    } else {
                        parts.push((u32::try_from(i).unwrap_or(NO_KEY), a));
                    }
                }
                if let Some((i, a)) = best {
                    parts.push((u32::try_from(i).unwrap_or(NO_KEY), a));
                }
                if parts.is_empty() {
                    return Ok(if paid_before { (Status::Exhausted, None) } else { INELIGIBLE });
                }
            }
            KAmount::Brackets { subject, brackets } => {
                let Some(value) = self.n(subject)? else { return Ok(UNDETERMINED) };
                let mut lower = Decimal::ZERO;
                let mut total = Decimal::ZERO;
                for (i, (upper, rate)) in brackets.iter().enumerate() {
                    let upper = match upper {
                        Some(u) => match self.n(u)? {
                            Some(x) => Some(x),
                            None => return Ok(UNDETERMINED),
                        },
                        None => None,
                    };
                    let Some(rate) = self.n(rate)? else { return Ok(UNDETERMINED) };
                    if upper.is_some_and(|u| i > 0 && u <= lower) {
                        // a bound that does not rise: the full evaluator names the failure
                        return Err(Delegate);
                    }
                    let top = upper.map_or(value, |u| u.min(value));
                    if top <= lower {
                        break;
                    }
                    let slice = top.checked_sub(lower).ok_or(Delegate)?;
                    let part = slice.checked_mul(rate).ok_or(Delegate)?;
                    total = total.checked_add(part).ok_or(Delegate)?;
                    match upper {
                        Some(u) => lower = u,
                        None => break,
                    }
                }
                parts.push((NO_KEY, total));
            }
            KAmount::Category { subject, each, arms } => {
                let mut found: smallvec::SmallVec<[u32; 4]> = smallvec::SmallVec::new();
                match each {
                    None => match self.e(subject)? {
                        Some(x) => found.push(x),
                        None => return Ok(UNDETERMINED),
                    },
                    Some(sel) => {
                        let Some(FactValue::List(items)) = self.facts.get(sel.list) else {
                            return Ok(UNDETERMINED);
                        };
                        let saved = self.item;
                        let mut unknown = false;
                        let chosen = self.select(sel, items, &mut unknown)?;
                        for i in chosen {
                            let Some(it) = items.get(i) else { continue };
                            self.item = Some(it);
                            match self.e(subject)? {
                                Some(x) if !found.contains(&x) => found.push(x),
                                Some(_) => {}
                                None => unknown = true,
                            }
                        }
                        self.item = saved;
                        if unknown {
                            return Ok(UNDETERMINED);
                        }
                    }
                }
                let mut paid_before = false;
                for (i, (variant, amount, key)) in arms.iter().enumerate() {
                    if !found.contains(variant) {
                        continue;
                    }
                    // `once per category`: a category in the ledger is not paid again
                    if b.once == Some(OnceScope::PerCategory)
                        && self.history.iter().any(|e| e.key.as_deref() == Some(&**key))
                    {
                        paid_before = true;
                        continue;
                    }
                    match self.n(amount)? {
                        Some(v) => parts.push((u32::try_from(i).unwrap_or(NO_KEY), v)),
                        None => return Ok(UNDETERMINED),
                    }
                }
                if parts.is_empty() {
                    return Ok(if paid_before { (Status::Exhausted, None) } else { INELIGIBLE });
                }
            }
        }
        self.finish(b, &parts, caps, floor)
    }

    /// An amount per selected person or item, as the full evaluator's `each_items`: each item
    /// under its own `once per item` and `per item` caps, read from the clause's history by the
    /// item's key (its value shown as the full evaluator shows it). Fills `parts` (keys in
    /// `self.keys`) and returns `None` when something is paid, else the clause's outcome.
    #[allow(clippy::too_many_arguments)]
    fn each(
        &mut self,
        once: Option<OnceScope>,
        sel: &Sel,
        key: FieldId,
        key_ty: Type,
        amount: Option<&N>,
        caps: &[(CapScope, Decimal)],
        items: &'f [Item],
        parts: &mut smallvec::SmallVec<[(u32, Decimal); 2]>,
    ) -> Result<Option<Out>, Delegate> {
        let mut undecided = false;
        let chosen = self.select(sel, items, &mut undecided)?;
        if undecided {
            return Ok(Some(UNDETERMINED));
        }
        let per_item = caps.iter().filter(|(s, _)| *s == CapScope::PerItem).map(|(_, v)| *v).min();
        let per_item_total = caps.iter().filter(|(s, _)| *s == CapScope::PerItemTotal).map(|(_, v)| *v).min();
        // keys are needed to write entries and to find an item's earlier grants; without a
        // ledger neither is done, and no key is made
        let keyed = self.record || !self.history.is_empty();
        // an item's earlier grants, and what they left of its lifetime cap
        fn earlier<'a, 'b>(
            history: &'a [&'b LedgerEntry],
            k: &'a Option<Arc<str>>,
        ) -> impl Iterator<Item = &'a &'b LedgerEntry> {
            history.iter().filter(move |e| e.key.is_some() && e.key == *k)
        }
        fn left(history: &[&LedgerEntry], k: &Option<Arc<str>>, total: Decimal) -> Result<Decimal, Delegate> {
            let mut before = Decimal::ZERO;
            for e in earlier(history, k) {
                before = before.checked_add(e.amount).ok_or(Delegate)?;
            }
            Ok(total.checked_sub(before).ok_or(Delegate)?.max(Decimal::ZERO))
        }
        self.keys.clear();
        let mut unknown = false;
        let mut paid_before = false;
        // the discretionary items: their caps (the keys are in `self.keys`)
        let mut decided: smallvec::SmallVec<[Option<Decimal>; 2]> = smallvec::SmallVec::new();
        for i in chosen {
            let Some(it) = items.get(i) else { continue };
            self.item = Some(it);
            let Some(Some(FactValue::Scalar(kv))) = it.fields.get(key as usize) else {
                unknown = true;
                continue;
            };
            let k: Option<Arc<str>> = keyed.then(|| super::show_value(self.prog, kv, key_ty).into());
            let period = self.period;
            // as for a clause's `once`, a discretionary record (amount 0) of this very period is
            // the grant being decided, not an earlier one
            if once == Some(OnceScope::PerItem)
                && earlier(&self.history, &k).any(|e| e.period != period || !e.amount.is_zero())
            {
                paid_before = true;
                continue;
            }
            let Some(amount) = amount else {
                // `=> discretionary`: the item is decided case by case, up to its own cap
                let cap = match per_item_total {
                    Some(total) => {
                        let l = left(&self.history, &k, total)?;
                        Some(per_item.map_or(l, |x| x.min(l)))
                    }
                    None => per_item,
                };
                if cap.is_some_and(|x| x <= Decimal::ZERO) {
                    paid_before = true;
                    continue;
                }
                decided.push(cap);
                self.keys.extend(k);
                continue;
            };
            let Some(v) = self.n(amount)? else {
                unknown = true;
                continue;
            };
            let mut paid = v;
            if let Some(cap) = per_item
                && paid > cap
            {
                paid = cap;
            }
            if let Some(total) = per_item_total {
                let l = left(&self.history, &k, total)?;
                if paid > l {
                    paid = l;
                }
            }
            if paid <= Decimal::ZERO {
                paid_before |= v > Decimal::ZERO;
                continue;
            }
            let slot = match k {
                Some(k) => {
                    self.keys.push(k);
                    u32::try_from(self.keys.len() - 1).unwrap_or(NO_KEY)
                }
                None => NO_KEY,
            };
            parts.push((slot, paid));
        }
        if unknown {
            return Ok(Some(UNDETERMINED));
        }
        if !decided.is_empty() {
            // the clause's cap is the sum of the items' caps: an overflow fails, as there
            let mut sum = Some(Decimal::ZERO);
            for cap in &decided {
                sum = match (sum, cap) {
                    (Some(s), Some(x)) => Some(s.checked_add(*x).ok_or(Delegate)?),
                    _ => None,
                };
            }
            // one entry (amount 0) per item decided
            for i in 0..self.keys.len() {
                let k = self.keys.get(i).cloned();
                self.record_entry(k, Decimal::ZERO);
            }
            return Ok(Some((Status::Discretionary, None)));
        }
        if parts.is_empty() {
            // every person or item paid in full before: exhausted, not ineligible
            return Ok(Some(if paid_before { (Status::Exhausted, None) } else { INELIGIBLE }));
        }
        Ok(None)
    }

    /// The document's and the clause's conditions, three-valued: any false → `Some(false)`
    /// (the rest are not evaluated); else any unknown → `None`.
    #[inline(always)]
    fn conditions(&mut self, conds: &[B]) -> R<bool> {
        let mut unknown = false;
        for cond in conds {
            // most clauses fail on a first condition that reads one fact (`行业 == …`): such
            // a leaf is tested here, without a call into `b`
            let holds = match cond {
                B::FactEnumIn(f, mask) => enum_in(self.scalar(*f), *mask),
                B::Fact(f) => self.bool_fact(*f),
                B::FactCmpK(op, f, k) => self.num_fact(*f).map(|x| ord_holds(*op, k.order_of(&x))),
                _ => self.b(cond)?,
            };
            match holds {
                Some(false) => return Ok(Some(false)),
                None => unknown = true,
                Some(true) => {}
            }
        }
        Ok(if unknown { None } else { Some(true) })
    }

    /// A clause of conditions and an amount (`Body::plain`), the common case, written into
    /// its verdict (which starts ineligible) without the date, window, history and cap steps.
    #[inline(always)]
    fn plain(&mut self, b: &Body, v: &mut Verdict) -> Result<(), Delegate> {
        self.date = Date::year_end(self.period);
        match self.conditions(&b.conds)? {
            Some(true) => {}
            Some(false) => return Ok(()),
            None => {
                v.status = Status::Undetermined;
                return Ok(());
            }
        }
        self.plain_amount(b, v)
    }

    /// A plain clause's amount, once its conditions hold (the date is the period's end).
    #[inline(always)]
    fn plain_amount(&mut self, b: &Body, v: &mut Verdict) -> Result<(), Delegate> {
        match &b.amount {
            KAmount::Expr(e) => match self.n(e)? {
                // as `finish` with one part (0 + x is x, to the bit) and no caps
                Some(x) if x.is_zero() || x.is_sign_negative() => {}
                Some(x) => {
                    let rounded = round(x, b.rounding);
                    v.status = Status::Granted;
                    v.amount = Some(rounded);
                    if self.record
                        && let Some(def) = self.def
                        && def.kind == ClauseKind::Benefit
                    {
                        self.record_entry(None, rounded);
                    }
                }
                None => v.status = Status::Undetermined,
            },
            _ => (v.status, v.amount) = self.amount(b, &[], None)?,
        }
        Ok(())
    }

    /// Caps, floor, history caps, rounding, and the ledger entries: as the full evaluator's
    /// `finish`.
    fn finish(
        &mut self,
        b: &Body,
        parts: &[(u32, Decimal)],
        caps: &[(CapScope, Decimal)],
        floor: Option<Decimal>,
    ) -> Result<Out, Delegate> {
        let mut amount = Decimal::ZERO;
        for (_, p) in parts {
            amount = amount.checked_add(*p).ok_or(Delegate)?;
        }
        if amount <= Decimal::ZERO {
            return Ok(INELIGIBLE);
        }
        for (_, cap) in caps.iter().filter(|(s, _)| *s == CapScope::PerGrant) {
            if amount > *cap {
                amount = *cap;
            }
        }
        if let Some(f) = floor
            && amount < f
        {
            amount = f;
        }
        for (scope, cap) in caps.iter().filter(|(s, _)| matches!(s, CapScope::PerYear | CapScope::Total)) {
            // what the clause's history used of the cap (every year, or this one)
            let mut sum = Decimal::ZERO;
            for e in &self.history {
                if *scope == CapScope::Total || e.period == self.period {
                    sum = sum.checked_add(e.amount).ok_or(Delegate)?;
                }
            }
            let left = cap.checked_sub(sum).ok_or(Delegate)?;
            if left <= Decimal::ZERO {
                return Ok((Status::Exhausted, None));
            }
            amount = amount.min(left);
        }
        let rounded = round(amount, b.rounding);
        if self.record
            && let Some(def) = self.def
            && (def.kind == ClauseKind::Benefit || super::needs_history(def))
        {
            // the rounded amount over the parts, in order: each its part, the last the rest
            let mut left = rounded;
            let n = parts.len();
            for (i, (k, part)) in parts.iter().enumerate() {
                let take = if i + 1 == n { left } else { (*part).min(left) };
                left = left.checked_sub(take).ok_or(Delegate)?;
                let key = match &b.amount {
                    KAmount::Tiers { tiers, .. } => tiers.get(*k as usize).map(|t| t.3.clone()),
                    KAmount::Category { arms, .. } => arms.get(*k as usize).map(|a| a.2.clone()),
                    KAmount::Each { .. } => self.keys.get(*k as usize).cloned(),
                    _ => None,
                };
                self.record_entry(key, take);
            }
        }
        Ok((Status::Granted, Some(rounded)))
    }

    /// Writes a ledger entry of the current clause (when entries are recorded).
    fn record_entry(&mut self, key: Option<Arc<str>>, amount: Decimal) {
        if let (true, Some(def)) = (self.record, self.def) {
            self.entries.push(super::entry(def, key, self.period, amount));
            self.owner.push(self.slot);
        }
    }

    /// A carried credit, as the full evaluator's `credit`: this period's credit and the live
    /// balances of earlier ones used against the capacity, oldest first; an entry per credit
    /// with what is left of it and when it expires.
    fn credit(&mut self, earned_now: Decimal, cap: Decimal, years: u32) -> Result<Out, Delegate> {
        let mut live = super::live_credits(self.history.iter().copied(), self.period, years, |_, _, _| {});
        let expires = self.period.saturating_add(i32::try_from(years).unwrap_or(i32::MAX));
        if earned_now > Decimal::ZERO {
            live.push((self.period, earned_now, expires));
        }
        if live.is_empty() {
            return Ok(INELIGIBLE);
        }
        let (period, slot) = (self.period, self.slot);
        let def = if self.record { self.def } else { None };
        let (entries, owner) = (&mut self.entries, &mut self.owner);
        let used_total = super::use_credits(&live, cap, |origin, used, balance, expires| {
            if let Some(def) = def {
                entries.push(LedgerEntry {
                    balance: Some(balance),
                    expires: Some(expires),
                    ..super::entry(def, Some(origin.to_string().into()), period, used)
                });
                owner.push(slot);
            }
        })
        .ok_or(Delegate)?;
        Ok((Status::Granted, Some(used_total)))
    }

    #[inline]
    fn scalar(&self, f: FactId) -> Option<&'f Value> {
        match self.facts.values.get(f as usize) {
            Some(Some(FactValue::Scalar(v))) => Some(v),
            _ => None,
        }
    }

    fn field(&self, f: FieldId) -> Option<&'f Value> {
        match self.item.and_then(|it| it.fields.get(f as usize)) {
            Some(Some(FactValue::Scalar(v))) => Some(v),
            _ => None,
        }
    }

    fn series(&self, s: SeriesRef) -> Option<&'f Series> {
        let v = match s {
            SeriesRef::Fact(f) => self.facts.values.get(f as usize),
            SeriesRef::Field(f) => self.item.and_then(|it| it.fields.get(f as usize)),
        };
        match v {
            Some(Some(FactValue::Series(s))) => Some(s),
            _ => None,
        }
    }

    fn at(&self, s: SeriesRef, year: i32) -> Option<Decimal> {
        self.series(s).and_then(|x| x.at(year))
    }

    /// The hot arms; the rest are in [`Cx::n_cold`], so that this stays small.
    #[inline]
    fn n(&mut self, e: &N) -> R<Decimal> {
        Ok(match e {
            N::K(d) => Some(*d),
            N::Fact(f) => self.num_fact(*f),
            N::FactMulK(f, k) => match self.num_fact(*f) {
                Some(x) => Some(x.checked_mul(*k).ok_or(Delegate)?),
                None => None,
            },
            N::MulK(x, k) => match self.n(x)? {
                Some(x) => Some(x.checked_mul(*k).ok_or(Delegate)?),
                None => None,
            },
            // `min` keeps the first of equals: k replaces x only when strictly smaller
            N::MinK(x, k) => self.n(x)?.map(|x| if k.order_of(&x).is_gt() { k.d } else { x }),
            N::MaxK(x, k) => self.n(x)?.map(|x| if k.order_of(&x).is_lt() { k.d } else { x }),
            N::AtPeriod(s, k) => self.at(*s, self.period.checked_add(*k).ok_or(Delegate)?),
            N::If(c, a, b) => match self.b(c)? {
                Some(true) => self.n(a)?,
                Some(false) => self.n(b)?,
                None => None,
            },
            _ => self.n_cold(e)?,
        })
    }

    #[inline]
    fn bool_fact(&self, f: FactId) -> Option<bool> {
        match self.scalar(f) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    #[inline]
    fn num_fact(&self, f: FactId) -> Option<Decimal> {
        match self.scalar(f) {
            Some(Value::Num(d)) => Some(*d),
            _ => None,
        }
    }

    #[inline(never)]
    fn n_cold(&mut self, e: &N) -> R<Decimal> {
        Ok(match e {
            // handled by `n`, which never sends them here
            N::K(_)
            | N::Fact(_)
            | N::FactMulK(..)
            | N::MulK(..)
            | N::MinK(..)
            | N::MaxK(..)
            | N::AtPeriod(..)
            | N::If(..) => self.n(e)?,
            N::Field(f) => match self.field(*f) {
                Some(Value::Num(d)) => Some(*d),
                _ => None,
            },
            N::At(s, y) => {
                let Some(yd) = self.n(y)? else { return Ok(None) };
                let year = as_year(yd).ok_or(Delegate)?;
                self.at(*s, year)
            }
            N::Param(p) => {
                let versions = self.params.get(*p as usize).ok_or(Delegate)?;
                let date = self.date;
                match versions.iter().rposition(|(from, _)| *from <= date) {
                    Some(i) => versions.get(i).map(|(_, v)| *v),
                    None => return Err(Delegate),
                }
            }
            N::Period => Some(Decimal::from(self.period)),
            N::Neg(x) => self.n(x)?.map(|d| -d),
            N::Arith(op, a, b) => {
                let (Some(x), Some(y)) = (self.n(a)?, self.n(b)?) else { return Ok(None) };
                let r = match op {
                    ArithOp::Add => x.checked_add(y),
                    ArithOp::Sub => x.checked_sub(y),
                    ArithOp::Mul => x.checked_mul(y),
                    ArithOp::Div if y.is_zero() => return Err(Delegate),
                    ArithOp::Div => x.checked_div(y),
                };
                Some(r.ok_or(Delegate)?)
            }
            N::Min(xs) => self.extreme(xs, true, Self::n)?,
            N::Max(xs) => self.extreme(xs, false, Self::n)?,
            N::Abs(x) => self.n(x)?.map(|d| d.abs()),
            N::Year(x) => self.d(x)?.map(|d| Decimal::from(d.year)),
            // out of line: the recursive path (`n` ↔ `n_cold`) keeps a small frame
            N::Monthly(f, fid, xs) => self.monthly(*f, *fid, xs)?,
            N::DateFn(f, xs) => self.date_fn(*f, xs)?,
            N::Increase(s) => {
                let now = self.at(*s, self.period);
                let before = self.at(*s, self.period.saturating_sub(1));
                match (now, before) {
                    (Some(a), Some(b)) => Some(a.checked_sub(b).ok_or(Delegate)?),
                    _ => None,
                }
            }
            N::MaxBefore(s) => self.series(*s).and_then(|x| x.before(self.period).map(|(_, v)| *v).max()),
            N::Sum(sel, body) => {
                let acc = self.agg(sel, |me, acc| match body {
                    None => {
                        acc.any = true;
                        Ok(())
                    }
                    Some(b) => {
                        match me.n(b)? {
                            Some(d) => acc.sum = acc.sum.checked_add(d).ok_or(Delegate)?,
                            None => acc.unknown_body = true,
                        }
                        Ok(())
                    }
                })?;
                acc.filter(|a| !a.undecided && !a.unknown_body).map(|a| a.sum)
            }
            N::Count(sel) => {
                let acc = self.agg(sel, |_, _| Ok(()))?;
                acc.filter(|a| !a.undecided).map(|a| Decimal::from(a.count))
            }
            N::Best(sel, key, is_max) => {
                let acc = self.agg(sel, |me, acc| {
                    match me.n(key)? {
                        Some(d) => {
                            let better = acc.best.is_none_or(|x| if *is_max { d > x } else { d < x });
                            if better {
                                acc.best = Some(d);
                            }
                        }
                        None => acc.unknown_body = true,
                    }
                    Ok(())
                })?;
                acc.filter(|a| !a.undecided && !a.unknown_body).map(|a| a.best.unwrap_or(Decimal::ZERO))
            }
        })
    }

    #[inline(never)]
    fn monthly(&mut self, f: Builtin, fid: FactId, xs: &[D]) -> R<Decimal> {
        let mut dates = smallvec::SmallVec::<[Date; 2]>::new();
        for x in xs {
            match self.d(x)? {
                Some(d) => dates.push(d),
                None => return Ok(None),
            }
        }
        let Some(s) = self.series(SeriesRef::Fact(fid)) else { return Ok(None) };
        Ok(match (f, dates.as_slice()) {
            (Builtin::MonthAt, [d]) => s.at(super::time::month_key(*d).map_err(|_| Delegate)?),
            (_, [a, b]) => Some(
                super::time::month_range(s, *a, *b, f == Builtin::MonthCount)
                    .map_err(|_| Delegate)?
                    .ok_or(Delegate)?,
            ),
            _ => None,
        })
    }

    #[inline(never)]
    fn date_fn(&mut self, f: Builtin, xs: &[D]) -> R<Decimal> {
        let mut dates = smallvec::SmallVec::<[Date; 2]>::new();
        let mut unknown = false;
        for x in xs {
            match self.d(x)? {
                Some(d) => dates.push(d),
                None => unknown = true,
            }
        }
        if unknown {
            return Ok(None);
        }
        match super::time::apply(f, self.period, &dates, None) {
            Some(Ok(super::time::Out::Num(x))) => Ok(Some(x)),
            _ => Err(Delegate),
        }
    }

    /// The hot arms; the rest are in [`Cx::b_cold`].
    #[inline]
    fn b(&mut self, e: &B) -> R<bool> {
        Ok(match e {
            B::K(b) => Some(*b),
            B::Fact(f) => self.bool_fact(*f),
            B::FactCmpK(op, f, k) => self.num_fact(*f).map(|x| ord_holds(*op, k.order_of(&x))),
            B::FactEnumIn(f, mask) => enum_in(self.scalar(*f), *mask),
            B::FieldEnumIn(f, mask) => enum_in(self.field(*f), *mask),
            B::Not(x) => self.b(x)?.map(|b| !b),
            B::Or(a, b) => match self.b(a)? {
                Some(true) => Some(true),
                x => match self.b(b)? {
                    Some(true) => Some(true),
                    Some(false) => x,
                    None => None,
                },
            },
            B::CmpK(op, a, k) => self.n(a)?.map(|x| ord_holds(*op, k.order_of(&x))),
            B::And(a, b) => match self.b(a)? {
                Some(false) => Some(false),
                x => match self.b(b)? {
                    Some(false) => Some(false),
                    Some(true) => x,
                    None => None,
                },
            },
            _ => self.b_cold(e)?,
        })
    }

    #[inline(never)]
    fn b_cold(&mut self, e: &B) -> R<bool> {
        Ok(match e {
            B::Qualifies(id, base, versions) => {
                let end = Date::year_end(self.period);
                let body = versions.iter().rev().find(|(d, _)| *d <= end).map_or(&**base, |(_, b)| b);
                // that clause's own status with its own history (found by its ledger names, as
                // the full evaluator's `qualifies` finds it), writing no ledger entries
                let mut history = smallvec::SmallVec::new();
                if !self.ledger.is_empty()
                    && let Some(c) = self.prog.clause(*id)
                {
                    let (p, k) = &c.ledger_names;
                    history.extend(self.ledger.iter().filter(|e| e.policy == *p && e.clause == *k));
                }
                let history = std::mem::replace(&mut self.history, history);
                let keys = std::mem::take(&mut self.keys);
                let saved = (self.date, self.item, self.record);
                self.item = None;
                self.record = false;
                let out = self.clause(body, &mut None);
                (self.date, self.item, self.record) = saved;
                self.history = history;
                self.keys = keys;
                match out? {
                    Status::Granted | Status::Discretionary => Some(true),
                    Status::Undetermined => None,
                    _ => Some(false),
                }
            }
            // handled by `b`, which never sends them here
            B::K(_)
            | B::Fact(_)
            | B::FactCmpK(..)
            | B::FactEnumIn(..)
            | B::FieldEnumIn(..)
            | B::CmpK(..)
            | B::And(..)
            | B::Or(..)
            | B::Not(_) => self.b(e)?,
            B::Field(f) => match self.field(*f) {
                Some(Value::Bool(b)) => Some(*b),
                _ => None,
            },
            B::CmpN(op, a, b) => {
                let x = self.n(a)?;
                let y = self.n(b)?;
                x.zip(y).map(|(x, y)| cmp_num(*op, x, y))
            }
            B::CmpD(op, a, b) => {
                // `==` / `!=` compare `never` like any value; an order needs days
                let read = if matches!(op, CmpOp::Eq | CmpOp::Ne) { Self::d_any } else { Self::d };
                let x = read(self, a)?;
                let y = read(self, b)?;
                x.zip(y).map(|(x, y)| ord_holds(*op, x.cmp(&y)))
            }
            B::CmpE(op, a, b) => {
                let x = self.e(a)?;
                let y = self.e(b)?;
                x.zip(y).map(|(x, y)| ord_holds(*op, x.cmp(&y)))
            }
            B::CmpBool(op, a, b) => {
                let x = self.b(a)?;
                let y = self.b(b)?;
                x.zip(y).map(|(x, y)| ord_holds(*op, x.cmp(&y)))
            }
            B::CmpT(op, a, b) => {
                let x = self.t(a)?;
                let y = self.t(b)?;
                x.zip(y).map(|(x, y)| ord_holds(*op, x.cmp(y)))
            }
            B::InN(x, set) => self.n(x)?.map(|v| set.contains(&v)),
            B::InE(x, set) => self.e(x)?.map(|v| set.contains(&v)),
            B::InD(x, set) => self.d_any(x)?.map(|v| set.contains(&v)),
            B::InBool(x, set) => self.b(x)?.map(|v| set.contains(&v)),
            B::Within(ds) => {
                let [d, s, e] = &**ds;
                let Some(d) = self.d(d)? else { return Ok(None) };
                let Some(s) = self.d(s)? else { return Ok(None) };
                let Some(e) = self.d(e)? else { return Ok(None) };
                Some(s <= d && d <= e)
            }
            B::FirstTime(s, op, rhs) => {
                let Some(now) = self.at(*s, self.period) else { return Ok(None) };
                let Some(th) = self.n(rhs)? else { return Ok(None) };
                if !cmp_num(*op, now, th) {
                    return Ok(Some(false));
                }
                let before =
                    self.series(*s).is_some_and(|x| x.before(self.period).any(|(_, v)| cmp_num(*op, *v, th)));
                Some(!before)
            }
            B::Any(sel, body) | B::All(sel, body) => {
                let is_any = matches!(e, B::Any(..));
                let acc = self.agg(sel, |me, acc| {
                    match body {
                        None => acc.any = true,
                        Some(b) => match me.b(b)? {
                            Some(true) => acc.any = true,
                            Some(false) => acc.all = false,
                            None => acc.unknown_body = true,
                        },
                    }
                    Ok(())
                })?;
                let Some(a) = acc else { return Ok(None) };
                let decided = !a.undecided && !a.unknown_body;
                match (is_any, a.any, a.all) {
                    (true, true, _) => Some(true),
                    (true, false, _) if decided => Some(false),
                    (false, _, false) => Some(false),
                    (false, _, true) if decided => Some(true),
                    _ => None,
                }
            }
            B::If(c, a, b) => match self.b(c)? {
                Some(true) => self.b(a)?,
                Some(false) => self.b(b)?,
                None => None,
            },
            B::Granted(g) => {
                let (p, c, n) = &**g;
                Some(super::relations::granted_in(self.ledger, p, c, self.period, *n).is_some())
            }
        })
    }

    /// A date used as a day: `never` is a failure (E0507, named by the full evaluator).
    fn d(&mut self, e: &D) -> R<Date> {
        match self.d_any(e)? {
            Some(d) if d == Date::NEVER => Err(Delegate),
            x => Ok(x),
        }
    }

    /// A date that may be `never` (what `==`, `!=` and `in` read).
    fn d_any(&mut self, e: &D) -> R<Date> {
        Ok(match e {
            D::K(d) => Some(*d),
            D::Fact(f) => match self.scalar(*f) {
                Some(Value::Date(d)) => Some(*d),
                _ => None,
            },
            D::Field(f) => match self.field(*f) {
                Some(Value::Date(d)) => Some(*d),
                _ => None,
            },
            D::AsOf => Some(self.as_of),
            D::Min(xs) => self.extreme(xs, true, Self::d)?,
            D::Max(xs) => self.extreme(xs, false, Self::d)?,
            D::If(c, a, b) => match self.b(c)? {
                Some(true) => self.d_any(a)?,
                Some(false) => self.d_any(b)?,
                None => None,
            },
            // the date parameters are read on: a table's version
            D::DateFn(Builtin::Dated, _) => Some(self.date),
            D::DateFn(f, arg) => {
                let (dates, n) = match arg.as_deref() {
                    Some((d, n)) => {
                        let d = self.d(d)?;
                        let n = self.n(n)?;
                        let (Some(d), Some(n)) = (d, n) else { return Ok(None) };
                        (Some(d), Some(n))
                    }
                    None => (None, None),
                };
                match super::time::apply(*f, self.period, dates.as_slice(), n) {
                    Some(Ok(super::time::Out::Date(d))) => Some(d),
                    _ => return Err(Delegate),
                }
            }
        })
    }

    fn e(&mut self, e: &En) -> R<u32> {
        Ok(match e {
            En::K(v) => Some(*v),
            En::Fact(f) => match self.scalar(*f) {
                Some(Value::Enum(v)) => Some(*v),
                _ => None,
            },
            En::Field(f) => match self.field(*f) {
                Some(Value::Enum(v)) => Some(*v),
                _ => None,
            },
            En::If(c, a, b) => match self.b(c)? {
                Some(true) => self.e(a)?,
                Some(false) => self.e(b)?,
                None => None,
            },
        })
    }

    fn t(&mut self, e: &T) -> R<&'f str> {
        Ok(match e {
            T::Fact(f) => match self.scalar(*f) {
                Some(Value::Text(t)) => Some(&**t),
                _ => None,
            },
            T::Field(f) => match self.field(*f) {
                Some(Value::Text(t)) => Some(&**t),
                _ => None,
            },
            T::If(c, a, b) => match self.b(c)? {
                Some(true) => self.t(a)?,
                Some(false) => self.t(b)?,
                None => None,
            },
        })
    }

    /// `min` or `max` over every argument (all evaluated, in order): unknown when any is; of
    /// equals, the first.
    fn extreme<E, V: PartialOrd + Copy>(
        &mut self,
        xs: &[E],
        is_min: bool,
        eval: fn(&mut Self, &E) -> R<V>,
    ) -> R<V> {
        let mut best: Option<V> = None;
        let mut unknown = false;
        for x in xs {
            match eval(self, x)? {
                Some(v) => {
                    best = Some(match best {
                        Some(b) if !(if is_min { v < b } else { v > b }) => b,
                        _ => v,
                    })
                }
                None => unknown = true,
            }
        }
        Ok(if unknown { None } else { best })
    }

    fn x(&mut self, e: &X) -> Result<(), Delegate> {
        match e {
            X::N(x) => self.n(x).map(drop),
            X::B(x) => self.b(x).map(drop),
            X::D(x) => self.d(x).map(drop),
            X::E(x) => self.e(x).map(drop),
            X::T(x) => self.t(x).map(drop),
        }
    }

    /// Folds the items a selection keeps with `body`; `None` when the list is absent.
    fn agg(
        &mut self,
        sel: &Sel,
        mut body: impl FnMut(&mut Self, &mut Acc) -> Result<(), Delegate>,
    ) -> Result<Option<Acc>, Delegate> {
        let Some(FactValue::List(items)) = self.facts.get(sel.list) else { return Ok(None) };
        let saved = self.item;
        let mut acc = Acc {
            sum: Decimal::ZERO,
            count: 0,
            any: false,
            all: true,
            unknown_body: false,
            undecided: false,
            best: None,
        };
        let result = if sel.ops.iter().all(|o| matches!(o, SOp::Where(_))) {
            self.fold_where(sel, items, &mut acc, &mut body)
        } else {
            let mut undecided = false;
            self.select(sel, items, &mut undecided).and_then(|chosen| {
                acc.undecided = undecided;
                for i in chosen {
                    let Some(it) = items.get(i) else { continue };
                    self.item = Some(it);
                    acc.count += 1;
                    body(self, &mut acc)?;
                }
                Ok(())
            })
        };
        self.item = saved;
        result.map(|()| Some(acc))
    }

    fn fold_where(
        &mut self,
        sel: &Sel,
        items: &'f [Item],
        acc: &mut Acc,
        body: &mut impl FnMut(&mut Self, &mut Acc) -> Result<(), Delegate>,
    ) -> Result<(), Delegate> {
        'items: for it in items {
            self.item = Some(it);
            for o in &sel.ops {
                if let SOp::Where(w) = o {
                    match self.b(w)? {
                        Some(true) => {}
                        Some(false) => continue 'items,
                        None => {
                            acc.undecided = true;
                            continue 'items;
                        }
                    }
                }
            }
            acc.count += 1;
            body(self, acc)?;
        }
        Ok(())
    }

    /// The items a selection keeps, in order; `undecided` when some `where` or sort key could
    /// not be decided.
    fn select(&mut self, sel: &Sel, items: &'f [Item], undecided: &mut bool) -> Result<Vec<usize>, Delegate> {
        let mut chosen: Vec<usize> = (0..items.len()).collect();
        for op in &sel.ops {
            match op {
                SOp::Where(cond) => {
                    let mut kept = Vec::with_capacity(chosen.len());
                    for i in chosen {
                        let Some(it) = items.get(i) else { continue };
                        self.item = Some(it);
                        match self.b(cond)? {
                            Some(true) => kept.push(i),
                            Some(false) => {}
                            None => *undecided = true,
                        }
                    }
                    chosen = kept;
                }
                SOp::First { n, by, descending } => match by {
                    None => chosen.truncate(*n as usize),
                    Some(key) => {
                        let mut keyed = Vec::with_capacity(chosen.len());
                        for i in chosen {
                            let Some(it) = items.get(i) else { continue };
                            self.item = Some(it);
                            let k = match key {
                                Key::N(x) => self.n(x)?.map(|d| (0, d)),
                                Key::D(x) => self.d(x)?.map(|d| super::sort_key(&Value::Date(d))),
                            };
                            match k {
                                Some(k) => keyed.push((k, i)),
                                None => *undecided = true,
                            }
                        }
                        chosen = super::first_n(keyed, *n, *descending);
                    }
                },
            }
        }
        Ok(chosen)
    }
}

/// What an aggregation has gathered.
struct Acc {
    sum: Decimal,
    count: u64,
    any: bool,
    all: bool,
    unknown_body: bool,
    undecided: bool,
    best: Option<Decimal>,
}
