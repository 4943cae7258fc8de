//! Explanation steps: why a clause gave what it gave. Steps carry values, not sentences; they
//! are rendered in Chinese or English only when a report is made.

use crate::ir::{Program, Type};
use crate::syntax::ast::{CapScope, CmpOp, PayRule, Rounding};
use crate::value::{Date, Money, Rate};
use rust_decimal::Decimal;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Quote {
        text: String,
    },
    InForce {
        what: String,
        start: Option<Date>,
        end: Option<Date>,
        tested: String,
        inside: bool,
    },
    Condition {
        text: std::sync::Arc<str>,
        holds: Option<bool>,
        values: Vec<(String, String)>,
        document: bool,
    },
    Param {
        name: String,
        value: Decimal,
        ty: Type,
        from: Date,
        on: Date,
        label: Option<String>,
    },
    Amount {
        text: String,
        value: Decimal,
        values: Vec<(String, String)>,
    },
    Tier {
        key: String,
        op: CmpOp,
        value: Decimal,
        /// The subject's type: the value is shown as money, a rate or a plain number.
        ty: Type,
        amount: Decimal,
        first_time: bool,
        pay: PayRule,
    },
    TierBefore {
        key: String,
        year: i32,
        value: Decimal,
        ty: Type,
    },
    NoTier {
        value: Decimal,
        ty: Type,
        first_time: bool,
    },
    Bracket {
        from: Decimal,
        to: Option<Decimal>,
        slice: Decimal,
        rate: Decimal,
        part: Decimal,
    },
    /// A named table read in an expression (`担保费率上限表(单户担保额)`): the version read
    /// and the row that applied (tiers) or the slices (brackets).
    Table {
        /// The read as written, e.g. `担保费率上限表(单户担保额)`.
        text: String,
        /// When the table has later versions: the first day of the version read (`None`: the
        /// rows as first written) and its label.
        version: Option<(Option<Date>, Option<String>)>,
        subject: Decimal,
        subject_ty: Type,
        /// Tiers: the row reached as written (`超过 500万`); `None` when no row is reached.
        row: Option<String>,
        /// Brackets: the slices (from, to, slice, rate, part).
        slices: Vec<(Decimal, Option<Decimal>, Decimal, Decimal, Decimal)>,
        brackets: bool,
        value: Decimal,
        ty: Type,
    },
    /// An `each` amount whose selection kept no person or item.
    NoItem {
        list: String,
    },
    Category {
        name: String,
        amount: Decimal,
    },
    NoCategory {
        value: String,
    },
    /// One person or item of an `each` amount: what it computes to, what it is paid after its
    /// own caps (`per item`, `per item total` with what it had before).
    Item {
        key: String,
        computed: Decimal,
        paid: Decimal,
        cap: Option<Decimal>,
        before: Decimal,
    },
    /// One person or item of `each … => discretionary`: decided case by case, up to its own
    /// cap (`per item`, or what `per item total` leaves after what it had before).
    ItemDiscretionary {
        key: String,
        cap: Option<Decimal>,
        before: Decimal,
    },
    Discretionary {
        base: Option<Decimal>,
        cap: Option<Decimal>,
        floor: Option<Decimal>,
    },
    Cap {
        scope: CapScope,
        cap: Decimal,
        before: Decimal,
        after: Decimal,
        history: Vec<(i32, Decimal)>,
    },
    Floor {
        floor: Decimal,
        before: Decimal,
    },
    Once {
        key: Option<String>,
        period: i32,
    },
    Years {
        nth: i64,
        max: u32,
        first: Option<i32>,
        from_date: Option<Date>,
    },
    CreditEarned {
        amount: Decimal,
        expires: i32,
    },
    CreditUsed {
        origin: i32,
        used: Decimal,
        balance: Decimal,
        expires: i32,
        capacity: Decimal,
    },
    CreditExpired {
        origin: i32,
        balance: Decimal,
        expires: i32,
    },
    Rounding {
        mode: Rounding,
        before: Decimal,
        after: Decimal,
    },
    Zero {
        value: Decimal,
    },
    Missing {
        paths: Vec<String>,
    },
    Provides {
        what: String,
    },
    Excluded {
        by: String,
    },
    NotLargest {
        group: String,
        winner: String,
    },
    /// `once in "组"`: another clause of the group was received (in `period`, from the
    /// ledger) or wins this period (`None`: the larger amount).
    OnceIn {
        group: String,
        winner: String,
        period: Option<i32>,
    },
    /// The version of an amended clause that applied (see `relations::Version`).
    Version {
        document: String,
        change: &'static str,
        date: Option<Date>,
        clause: String,
    },
}

/// A number as its type reads: money with its unit, a rate as a percentage, else plain.
struct Typed(Decimal, Type);

impl fmt::Display for Typed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Type::Num(crate::ir::Num::Money) => Money(self.0).fmt(f),
            Type::Num(crate::ir::Num::Rate) => Rate(self.0).fmt(f),
            _ => write!(f, "{}", self.0.normalize()),
        }
    }
}

fn m(d: Decimal) -> Money {
    Money(d)
}

fn ordinal_en(n: i64) -> String {
    match n {
        1 => "first".into(),
        2 => "second".into(),
        3 => "third".into(),
        4 => "fourth".into(),
        5 => "fifth".into(),
        _ => format!("{n}th"),
    }
}

/// The values read, at most eight of them (a condition over a long list reads many).
struct Values<'a>(&'a [(String, String)]);

impl fmt::Display for Values<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, x)) in self.0.iter().take(8).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k} = {x}")?;
        }
        if self.0.len() > 8 {
            write!(f, ", … {} more", self.0.len() - 8)?;
        }
        Ok(())
    }
}

struct Range(Option<Date>, Option<Date>);

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1) {
            (Some(s), Some(e)) => write!(f, "{s}..{e}"),
            (Some(s), None) => write!(f, "{s}.."),
            (None, Some(e)) => write!(f, "..{e}"),
            (None, None) => f.write_str(".."),
        }
    }
}

struct History<'a>(&'a [(i32, Decimal)], Lang);

impl fmt::Display for History<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (y, a)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match self.1 {
                Lang::Zh => write!(f, "{y}年已获{}", m(*a))?,
                Lang::En => write!(f, "{} granted in {y}", m(*a))?,
            }
        }
        Ok(())
    }
}

/// One slice of a progressive amount: `100万–500万 部分 400万 × 5% = 20万`.
fn slice<W: fmt::Write + ?Sized>(
    w: &mut W,
    zh: bool,
    (from, to, slice, rate, part): (Decimal, Option<Decimal>, Decimal, Decimal, Decimal),
) -> fmt::Result {
    if zh {
        write!(w, "{}–", m(from))?;
    } else {
        write!(w, "slice {}–", m(from))?;
    }
    match (to, zh) {
        (Some(t), _) => write!(w, "{}", m(t))?,
        (None, true) => w.write_str("以上")?,
        (None, false) => w.write_str("and above")?,
    }
    if zh {
        write!(w, " 部分 {} × {} = {}", m(slice), Rate(rate), m(part))
    } else {
        write!(w, ": {} × {} = {}", m(slice), Rate(rate), m(part))
    }
}

/// Which version of a table was read (nothing when the table has one).
fn table_version<W: fmt::Write + ?Sized>(
    w: &mut W,
    zh: bool,
    version: &Option<(Option<Date>, Option<String>)>,
) -> fmt::Result {
    match (zh, version) {
        (_, None) => Ok(()),
        (true, Some((None, _))) => w.write_str("（按原表）"),
        (false, Some((None, _))) => w.write_str(" (the table as first written)"),
        (true, Some((Some(d), l))) => {
            write!(w, "（按 {d} 起施行的版本")?;
            if let Some(l) = l {
                write!(w, "：{l}")?;
            }
            w.write_str("）")
        }
        (false, Some((Some(d), l))) => {
            write!(w, " (the version in force from {d}")?;
            if let Some(l) = l {
                write!(w, ": {l}")?;
            }
            w.write_str(")")
        }
    }
}

impl Step {
    /// A stable kind name for JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Quote { .. } => "quote",
            Step::InForce { .. } => "window",
            Step::Condition { .. } => "condition",
            Step::Param { .. } => "parameter",
            Step::Amount { .. } => "amount",
            Step::Tier { .. } => "tier",
            Step::TierBefore { .. } => "tier_reached_before",
            Step::NoTier { .. } => "no_tier",
            Step::Bracket { .. } => "bracket",
            Step::Table { .. } => "table",
            Step::NoItem { .. } => "no_item",
            Step::Category { .. } => "category",
            Step::NoCategory { .. } => "no_category",
            Step::Item { .. } => "item",
            Step::ItemDiscretionary { .. } => "item_discretionary",
            Step::Discretionary { .. } => "discretionary",
            Step::Cap { .. } => "cap",
            Step::Floor { .. } => "floor",
            Step::Once { .. } => "once",
            Step::Years { .. } => "years",
            Step::CreditEarned { .. } => "credit_earned",
            Step::CreditUsed { .. } => "credit_used",
            Step::CreditExpired { .. } => "credit_expired",
            Step::Rounding { .. } => "rounding",
            Step::Zero { .. } => "zero",
            Step::Missing { .. } => "missing",
            Step::Provides { .. } => "provides",
            Step::Excluded { .. } => "excluded",
            Step::NotLargest { .. } => "not_largest",
            Step::OnceIn { .. } => "once_in",
            Step::Version { .. } => "version",
        }
    }

    /// The step as a sentence.
    pub fn render(&self, _prog: &Program, lang: Lang) -> String {
        let mut s = String::new();
        // writing into a `String` does not fail
        let _ = self.write(&mut s, lang);
        s
    }

    /// The step's sentence (what [`Step::render`] returns) written into `w` as it is made, with
    /// no `String` of its own: the service writes it straight into its answer.
    pub fn write<W: fmt::Write + ?Sized>(&self, w: &mut W, lang: Lang) -> fmt::Result {
        let zh = lang == Lang::Zh;
        match self {
            Step::Quote { text } => {
                if zh {
                    write!(w, "原文：“{text}”")
                } else {
                    write!(w, "source: “{text}”")
                }
            }
            Step::InForce { what, start, end, tested, inside } => {
                let r = Range(*start, *end);
                let what = match (zh, what == "document") {
                    (true, true) => "文件",
                    (true, false) => "条款",
                    (false, true) => "document",
                    (false, false) => "clause",
                };
                match (zh, inside) {
                    (true, true) => write!(w, "{what}有效期 {r}，{tested} 在内"),
                    (true, false) => write!(w, "{what}有效期 {r}，{tested} 不在其内"),
                    (false, true) => write!(w, "{what} window {r} includes {tested}"),
                    (false, false) => write!(w, "{what} window {r} does not include {tested}"),
                }
            }
            Step::Condition { text, holds, values: v, document } => {
                if *document {
                    w.write_str(if zh { "适用范围：" } else { "document applies when " })?;
                }
                match (zh, holds) {
                    (true, Some(true)) => write!(w, "条件 `{text}` 成立")?,
                    (true, Some(false)) => write!(w, "条件 `{text}` 不成立")?,
                    (true, None) => write!(w, "条件 `{text}` 无法判断")?,
                    (false, Some(true)) => write!(w, "`{text}` holds")?,
                    (false, Some(false)) => write!(w, "`{text}` does not hold")?,
                    (false, None) => write!(w, "`{text}` cannot be decided")?,
                }
                match (zh, v.is_empty()) {
                    (_, true) => Ok(()),
                    (true, false) => write!(w, "（{}）", Values(v)),
                    (false, false) => write!(w, " ({})", Values(v)),
                }
            }
            Step::Param { name, value, ty, from, on, label } => {
                let v = Typed(*value, *ty);
                if zh {
                    write!(w, "参数 {name} = {v}（{from} 起施行的版本，按 {on} 取用）")?;
                } else {
                    write!(w, "parameter {name} = {v} (version in force from {from}, read on {on})")?;
                }
                match label {
                    Some(l) => write!(w, " ({l})"),
                    None => Ok(()),
                }
            }
            Step::Amount { text, value, values: v } => {
                let fixed = *text == m(*value).to_string();
                match (zh, fixed) {
                    (true, true) => return write!(w, "定额 {}", m(*value)),
                    (false, true) => return write!(w, "fixed amount {}", m(*value)),
                    (true, false) => write!(w, "金额 {text} = {}", m(*value))?,
                    (false, false) => write!(w, "amount {text} = {}", m(*value))?,
                }
                if v.is_empty() { Ok(()) } else { write!(w, " ({})", Values(v)) }
            }
            Step::Tier { key, op, value, ty, amount, first_time, pay } => {
                let highest = matches!(pay, PayRule::Highest);
                let x = Typed(*value, *ty);
                if zh {
                    let ft = if *first_time { "首次" } else { "" };
                    let h = if highest { "（按达到的最高档）" } else { "" };
                    write!(w, "{x} {ft}{} {key} 档：{}{h}", op.word_zh(), m(*amount))
                } else {
                    let ft = if *first_time { "for the first time " } else { "" };
                    let h = if highest { " (highest tier reached pays)" } else { "" };
                    write!(w, "{x} reaches the {key} tier {ft}({} {key}): {}{h}", op.symbol(), m(*amount))
                }
            }
            Step::TierBefore { key, year, value, ty } => {
                let x = Typed(*value, *ty);
                if zh {
                    write!(w, "{key} 档已在 {year} 年达到（{x}），不是首次")
                } else {
                    write!(w, "the {key} tier was already reached in {year} ({x}), so not for the first time")
                }
            }
            Step::NoTier { value, ty, first_time } => {
                let x = Typed(*value, *ty);
                match (zh, first_time) {
                    (true, true) => write!(w, "{x} 未首次达到任何一档"),
                    (true, false) => write!(w, "{x} 未达到任何一档"),
                    (false, true) => write!(w, "{x} reaches no tier for the first time"),
                    (false, false) => write!(w, "{x} reaches no tier"),
                }
            }
            Step::Bracket { from, to, slice: s, rate, part } => slice(w, zh, (*from, *to, *s, *rate, *part)),
            Step::Table { text, version, subject, subject_ty, row, slices, brackets, value, ty } => {
                let x = Typed(*subject, *subject_ty);
                let v = Typed(*value, *ty);
                if *brackets {
                    let sep = if zh { "；" } else { "; " };
                    match (zh, slices.is_empty()) {
                        (true, true) => write!(w, "累进表 {text}：{x} 无可计算的部分，得 {v}")?,
                        (false, true) => write!(w, "bracket table {text}: nothing of {x} to slice: {v}")?,
                        (_, false) => {
                            if zh {
                                write!(w, "累进表 {text}：")?;
                            } else {
                                write!(w, "bracket table {text}: ")?;
                            }
                            for (i, s) in slices.iter().enumerate() {
                                if i > 0 {
                                    w.write_str(sep)?;
                                }
                                slice(w, zh, *s)?;
                            }
                            if zh {
                                write!(w, "，合计 {v}")?;
                            } else {
                                write!(w, "; total {v}")?;
                            }
                        }
                    }
                } else {
                    match (zh, row) {
                        (true, Some(r)) => write!(w, "分档表 {text}：{x} {r} 档，取 {v}")?,
                        (true, None) => write!(w, "分档表 {text}：{x} 未达到任何一档，取 {v}")?,
                        (false, Some(r)) => write!(w, "tier table {text}: {x} is in the row {r}: {v}")?,
                        (false, None) => write!(w, "tier table {text}: {x} reaches no row: {v}")?,
                    }
                }
                table_version(w, zh, version)
            }
            Step::NoItem { list } => {
                if zh {
                    write!(w, "{list} 中没有符合条件的人员或项目，无可给予的金额")
                } else {
                    write!(w, "no person or item of {list} qualifies: nothing to grant")
                }
            }
            Step::Category { name, amount } => {
                if zh {
                    write!(w, "类别 {name}：{}", m(*amount))
                } else {
                    write!(w, "category {name}: {}", m(*amount))
                }
            }
            Step::NoCategory { value } => {
                if zh {
                    write!(w, "类别 {value} 不在给予支持的类别之列")
                } else {
                    write!(w, "category {value} is not among the categories supported")
                }
            }
            Step::Item { key, computed, paid, cap, before } => {
                if zh {
                    write!(w, "{key}：{}", m(*computed))?;
                } else {
                    write!(w, "{key}: {}", m(*computed))?;
                }
                match cap {
                    Some(c) if paid < computed => match (zh, before.is_zero()) {
                        (true, true) => write!(w, "，每人（项）上限 {}，按 {} 计", m(*c), m(*paid)),
                        (true, false) => {
                            write!(
                                w,
                                "，每人（项）上限 {}，此前已获 {}，按 {} 计",
                                m(*c),
                                m(*before),
                                m(*paid)
                            )
                        }
                        (false, true) => write!(w, ", capped per item at {}: {}", m(*c), m(*paid)),
                        (false, false) => write!(
                            w,
                            ", cap per item {} with {} granted before: {}",
                            m(*c),
                            m(*before),
                            m(*paid)
                        ),
                    },
                    _ => Ok(()),
                }
            }
            Step::ItemDiscretionary { key, cap, before } => match (zh, cap, before.is_zero()) {
                (true, None, _) => write!(w, "{key}：金额由主管部门酌定"),
                (true, Some(c), true) => write!(w, "{key}：金额由主管部门酌定，每人（项）最高 {}", m(*c)),
                (true, Some(c), false) => {
                    write!(w, "{key}：金额由主管部门酌定，此前已获 {}，最高 {}", m(*before), m(*c))
                }
                (false, None, _) => write!(w, "{key}: amount decided case by case"),
                (false, Some(c), true) => write!(w, "{key}: amount decided case by case, at most {}", m(*c)),
                (false, Some(c), false) => write!(
                    w,
                    "{key}: amount decided case by case, {} granted before, at most {}",
                    m(*before),
                    m(*c)
                ),
            },
            Step::Discretionary { base, cap, floor } => {
                w.write_str(if zh {
                    "金额由主管部门酌定（原文未给出可计算的金额）"
                } else {
                    "amount decided case by case (the text gives no computable amount)"
                })?;
                if let Some(b) = base {
                    if zh {
                        write!(w, "；计算基数 {}", m(*b))?;
                    } else {
                        write!(w, "; base {}", m(*b))?;
                    }
                }
                if let Some(c) = cap {
                    if zh {
                        write!(w, "；最高 {}", m(*c))?;
                    } else {
                        write!(w, "; at most {}", m(*c))?;
                    }
                }
                if let Some(f) = floor {
                    if zh {
                        write!(w, "；不低于 {}", m(*f))?;
                    } else {
                        write!(w, "; at least {}", m(*f))?;
                    }
                }
                Ok(())
            }
            Step::Cap { scope, cap, before, after, history: h } => {
                let hist = History(h, lang);
                let left = || *cap - h.iter().map(|x| x.1).sum::<Decimal>();
                let (per_year, total) = match (zh, scope) {
                    (true, CapScope::PerGrant | CapScope::PerItem | CapScope::PerItemTotal) => {
                        return write!(w, "{} 超过上限 {}，按 {} 计", m(*before), m(*cap), m(*after));
                    }
                    (false, CapScope::PerGrant | CapScope::PerItem | CapScope::PerItemTotal) => {
                        return write!(w, "{} capped at {}", m(*before), m(*cap));
                    }
                    (_, CapScope::PerYear) => (true, false),
                    (_, CapScope::Total) => (false, true),
                };
                let rest = if total { left().max(Decimal::ZERO) } else { left() };
                match (zh, per_year) {
                    (true, true) => write!(w, "每年上限 {}：", m(*cap))?,
                    (false, true) => write!(w, "yearly cap {}: ", m(*cap))?,
                    (true, false) => write!(w, "累计上限 {}：", m(*cap))?,
                    (false, false) => write!(w, "lifetime cap {}: ", m(*cap))?,
                }
                match (h.is_empty(), zh, per_year) {
                    (false, _, _) => write!(w, "{hist}")?,
                    (true, true, true) => w.write_str("本年尚未获得")?,
                    (true, false, true) => w.write_str("nothing granted this year")?,
                    (true, true, false) => w.write_str("尚未获得")?,
                    (true, false, false) => w.write_str("nothing granted yet")?,
                }
                if zh {
                    write!(w, "，剩余 {}，本次 {}", m(rest), m(*after))
                } else {
                    write!(w, ", {} left; this grant {}", m(rest), m(*after))
                }
            }
            Step::Floor { floor, before } => {
                if zh {
                    write!(w, "{} 低于下限 {}，按 {} 计", m(*before), m(*floor), m(*floor))
                } else {
                    write!(w, "{} raised to the floor {}", m(*before), m(*floor))
                }
            }
            Step::Once { key, period } => match (zh, key) {
                (true, Some(k)) => write!(w, "{k} 一次性奖励已于 {period} 年获得"),
                (true, None) => write!(w, "一次性支持已于 {period} 年获得"),
                (false, Some(k)) => write!(w, "the one-time award for {k} was granted in {period}"),
                (false, None) => write!(w, "this one-time benefit was granted in {period}"),
            },
            Step::Years { nth, max, first, from_date } => {
                match (zh, *nth > i64::from(*max), *nth < 1) {
                    (true, _, true) => w.write_str("尚未开始（")?,
                    (false, _, true) => w.write_str("not started yet (")?,
                    (true, true, _) => write!(w, "最多 {max} 年，已满（")?,
                    (false, true, _) => write!(w, "at most {max} years, all used (")?,
                    (true, false, _) => write!(w, "最多 {max} 年中的第 {nth} 年（")?,
                    (false, false, _) => write!(w, "{} of at most {max} years (", ordinal_en(*nth))?,
                }
                match (from_date, first, zh) {
                    (Some(d), _, true) => write!(w, "自 {d} 起算")?,
                    (Some(d), _, false) => write!(w, "counted from {d}")?,
                    (None, Some(y), true) => write!(w, "自首次获得的 {y} 年起算")?,
                    (None, Some(y), false) => write!(w, "counted from the first grant in {y}")?,
                    (None, None, true) => w.write_str("本年为首年")?,
                    (None, None, false) => w.write_str("this is the first year")?,
                }
                w.write_str(if zh { "）" } else { ")" })
            }
            Step::CreditEarned { amount, expires } => {
                if zh {
                    write!(w, "本年形成抵免额 {}，可结转至 {expires} 年", m(*amount))
                } else {
                    write!(w, "credit of {} earned this year, usable until {expires}", m(*amount))
                }
            }
            Step::CreditUsed { origin, used, balance, expires, capacity } => {
                if zh {
                    write!(
                        w,
                        "{origin} 年抵免额：本年抵免 {}（可抵 {}），余 {}，{expires} 年后失效",
                        m(*used),
                        m(*capacity),
                        m(*balance)
                    )
                } else {
                    write!(
                        w,
                        "credit from {origin}: {} used this year (against {}), {} carried, expires after {expires}",
                        m(*used),
                        m(*capacity),
                        m(*balance)
                    )
                }
            }
            Step::CreditExpired { origin, balance, expires } => {
                if zh {
                    write!(w, "{origin} 年抵免额余 {} 已于 {expires} 年后失效", m(*balance))
                } else {
                    write!(w, "credit from {origin}: {} left expired after {expires}", m(*balance))
                }
            }
            Step::Rounding { mode, before, after } => {
                let how = match (zh, mode) {
                    (true, Rounding::Fen) => "四舍五入到分",
                    (true, Rounding::Yuan) => "四舍五入到元",
                    (true, Rounding::Wan) => "四舍五入到万元",
                    (true, Rounding::None) => "不取整",
                    (false, Rounding::Fen) => "rounded half away from zero to the fen",
                    (false, Rounding::Yuan) => "rounded half away from zero to the yuan",
                    (false, Rounding::Wan) => "rounded half away from zero to the 万",
                    (false, Rounding::None) => "not rounded",
                };
                write!(w, "{before} → {after} ({how})")
            }
            Step::Zero { value } => {
                if zh {
                    write!(w, "计算金额为 {}，无可给予的金额", m(*value))
                } else {
                    write!(w, "the computed amount is {}: nothing to grant", m(*value))
                }
            }
            Step::Excluded { by } => {
                if zh {
                    write!(w, "与已给予的 {by} 不可同时享受")
                } else {
                    write!(w, "cannot be combined with {by}, which is granted")
                }
            }
            Step::NotLargest { group, winner } => {
                if zh {
                    write!(w, "“{group}”中只给予金额最高的一项（{winner}）")
                } else {
                    write!(w, "only the largest of “{group}” pays ({winner})")
                }
            }
            Step::OnceIn { group, winner, period } => match (zh, period) {
                (true, Some(y)) => write!(w, "“{group}”只能享受其中一项：{y}年已享受 {winner}"),
                (false, Some(y)) => {
                    write!(w, "only one of “{group}” is received: {winner} was granted in {y}")
                }
                (true, None) => write!(w, "“{group}”只能享受其中一项：本期给予金额较高的 {winner}"),
                (false, None) => {
                    write!(w, "only one of “{group}” is received: {winner}, the larger this period")
                }
            },
            Step::Version { document, change, date, clause } => {
                let d = date.map(|d| d.to_string()).unwrap_or_default();
                match (zh, *change) {
                    (true, "amends") => write!(w, "适用 {document} 修改后的 {clause}（自 {d} 起）"),
                    (false, "amends") => write!(w, "{clause} as amended by {document} from {d} applies"),
                    (true, "extends") => write!(w, "{clause} 所在文件经 {document} 延长至 {d}"),
                    (false, "extends") => write!(w, "{clause}'s document extended by {document} to {d}"),
                    (true, "repeals") => write!(w, "{clause} 自 {d} 起被 {document} 废止"),
                    (false, "repeals") => write!(w, "{clause} repealed by {document} from {d}"),
                    (true, _) => write!(w, "适用 {clause} 原文（{document}）"),
                    (false, _) => write!(w, "{clause} as first written ({document}) applies"),
                }
            }
            Step::Provides { what } => {
                if zh {
                    write!(w, "给予非资金支持：{what}")
                } else {
                    write!(w, "provides (not money): {what}")
                }
            }
            Step::Missing { paths } => {
                w.write_str(if zh { "缺少事实：" } else { "missing facts: " })?;
                for (i, p) in paths.iter().enumerate() {
                    if i > 0 {
                        w.write_str(", ")?;
                    }
                    w.write_str(p)?;
                }
                Ok(())
            }
        }
    }
}
