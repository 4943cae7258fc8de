//! Explanation steps: why a clause gave what it gave. Steps carry values, not sentences; they
//! are rendered in Chinese or English only when a report is made.

use crate::ir::{Program, Type};
use crate::syntax::ast::{CapScope, CmpOp, PayRule, Rounding};
use crate::value::{Date, fmt_money, fmt_rate};
use rust_decimal::Decimal;

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
fn typed(value: Decimal, ty: Type) -> String {
    match ty {
        Type::Num(crate::ir::Num::Money) => m(value),
        Type::Num(crate::ir::Num::Rate) => fmt_rate(value),
        _ => value.normalize().to_string(),
    }
}

fn m(d: Decimal) -> String {
    fmt_money(d)
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
fn values(v: &[(String, String)]) -> String {
    let mut parts: Vec<String> = v.iter().take(8).map(|(k, x)| format!("{k} = {x}")).collect();
    if v.len() > 8 {
        parts.push(format!("… {} more", v.len() - 8));
    }
    parts.join(", ")
}

fn range(start: Option<Date>, end: Option<Date>) -> String {
    match (start, end) {
        (Some(s), Some(e)) => format!("{s}..{e}"),
        (Some(s), None) => format!("{s}.."),
        (None, Some(e)) => format!("..{e}"),
        (None, None) => "..".into(),
    }
}

fn history(h: &[(i32, Decimal)], lang: Lang) -> String {
    let parts: Vec<String> = h
        .iter()
        .map(|(y, a)| match lang {
            Lang::Zh => format!("{y}年已获{}", m(*a)),
            Lang::En => format!("{} granted in {y}", m(*a)),
        })
        .collect();
    parts.join(", ")
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
        let zh = lang == Lang::Zh;
        match self {
            Step::Quote { text } => {
                if zh {
                    format!("原文：“{text}”")
                } else {
                    format!("source: “{text}”")
                }
            }
            Step::InForce { what, start, end, tested, inside } => {
                let r = range(*start, *end);
                let doc = what == "document";
                match (zh, inside) {
                    (true, true) => format!("{}有效期 {r}，{tested} 在内", if doc { "文件" } else { "条款" }),
                    (true, false) => {
                        format!("{}有效期 {r}，{tested} 不在其内", if doc { "文件" } else { "条款" })
                    }
                    (false, true) => {
                        format!("{} window {r} includes {tested}", if doc { "document" } else { "clause" })
                    }
                    (false, false) => format!(
                        "{} window {r} does not include {tested}",
                        if doc { "document" } else { "clause" }
                    ),
                }
            }
            Step::Condition { text, holds, values: v, document } => {
                let vals = if v.is_empty() { String::new() } else { format!("（{}）", values(v)) };
                let vals_en = if v.is_empty() { String::new() } else { format!(" ({})", values(v)) };
                let pre = if *document {
                    if zh { "适用范围：" } else { "document applies when " }
                } else {
                    ""
                };
                match (zh, holds) {
                    (true, Some(true)) => format!("{pre}条件 `{text}` 成立{vals}"),
                    (true, Some(false)) => format!("{pre}条件 `{text}` 不成立{vals}"),
                    (true, None) => format!("{pre}条件 `{text}` 无法判断{vals}"),
                    (false, Some(true)) => format!("{pre}`{text}` holds{vals_en}"),
                    (false, Some(false)) => format!("{pre}`{text}` does not hold{vals_en}"),
                    (false, None) => format!("{pre}`{text}` cannot be decided{vals_en}"),
                }
            }
            Step::Param { name, value, ty, from, on, label } => {
                let v = typed(*value, *ty);
                let l = label.as_ref().map(|l| format!(" ({l})")).unwrap_or_default();
                if zh {
                    format!("参数 {name} = {v}（{from} 起施行的版本，按 {on} 取用）{l}")
                } else {
                    format!("parameter {name} = {v} (version in force from {from}, read on {on}){l}")
                }
            }
            Step::Amount { text, value, values: v } => {
                let vals = if v.is_empty() { String::new() } else { format!(" ({})", values(v)) };
                let fixed = *text == m(*value);
                match (zh, fixed) {
                    (true, true) => format!("定额 {}", m(*value)),
                    (false, true) => format!("fixed amount {}", m(*value)),
                    (true, false) => format!("金额 {text} = {}{vals}", m(*value)),
                    (false, false) => format!("amount {text} = {}{vals}", m(*value)),
                }
            }
            Step::Tier { key, op, value, ty, amount, first_time, pay } => {
                let highest = matches!(pay, PayRule::Highest);
                if zh {
                    let ft = if *first_time { "首次" } else { "" };
                    let h = if highest { "（按达到的最高档）" } else { "" };
                    format!("{} {ft}{} {key} 档：{}{h}", typed(*value, *ty), op.word_zh(), m(*amount))
                } else {
                    let ft = if *first_time { "for the first time " } else { "" };
                    let h = if highest { " (highest tier reached pays)" } else { "" };
                    format!(
                        "{} reaches the {key} tier {ft}({} {key}): {}{h}",
                        typed(*value, *ty),
                        op.symbol(),
                        m(*amount)
                    )
                }
            }
            Step::TierBefore { key, year, value, ty } => {
                if zh {
                    format!("{key} 档已在 {year} 年达到（{}），不是首次", typed(*value, *ty))
                } else {
                    format!(
                        "the {key} tier was already reached in {year} ({}), so not for the first time",
                        typed(*value, *ty)
                    )
                }
            }
            Step::NoTier { value, ty, first_time } => match (zh, first_time) {
                (true, true) => format!("{} 未首次达到任何一档", typed(*value, *ty)),
                (true, false) => format!("{} 未达到任何一档", typed(*value, *ty)),
                (false, true) => format!("{} reaches no tier for the first time", typed(*value, *ty)),
                (false, false) => format!("{} reaches no tier", typed(*value, *ty)),
            },
            Step::Bracket { from, to, slice, rate, part } => {
                let upper =
                    to.map_or_else(|| if zh { "以上".to_string() } else { "and above".to_string() }, m);
                if zh {
                    format!("{}–{upper} 部分 {} × {} = {}", m(*from), m(*slice), fmt_rate(*rate), m(*part))
                } else {
                    format!("slice {}–{upper}: {} × {} = {}", m(*from), m(*slice), fmt_rate(*rate), m(*part))
                }
            }
            Step::Table { text, version, subject, subject_ty, row, slices, brackets, value, ty } => {
                let x = typed(*subject, *subject_ty);
                let v = typed(*value, *ty);
                let version = match (zh, version) {
                    (_, None) => String::new(),
                    (true, Some((None, _))) => "（按原表）".to_string(),
                    (false, Some((None, _))) => " (the table as first written)".to_string(),
                    (true, Some((Some(d), l))) => {
                        format!(
                            "（按 {d} 起施行的版本{}）",
                            l.as_ref().map(|l| format!("：{l}")).unwrap_or_default()
                        )
                    }
                    (false, Some((Some(d), l))) => format!(
                        " (the version in force from {d}{})",
                        l.as_ref().map(|l| format!(": {l}")).unwrap_or_default()
                    ),
                };
                if *brackets {
                    let parts: Vec<String> = slices
                        .iter()
                        .map(|(from, to, slice, rate, part)| {
                            let upper = to.map_or_else(
                                || if zh { "以上".to_string() } else { "and above".to_string() },
                                m,
                            );
                            if zh {
                                format!(
                                    "{}–{upper} 部分 {} × {} = {}",
                                    m(*from),
                                    m(*slice),
                                    fmt_rate(*rate),
                                    m(*part)
                                )
                            } else {
                                format!(
                                    "slice {}–{upper}: {} × {} = {}",
                                    m(*from),
                                    m(*slice),
                                    fmt_rate(*rate),
                                    m(*part)
                                )
                            }
                        })
                        .collect();
                    return match (zh, parts.is_empty()) {
                        (true, true) => format!("累进表 {text}：{x} 无可计算的部分，得 {v}{version}"),
                        (true, false) => format!("累进表 {text}：{}，合计 {v}{version}", parts.join("；")),
                        (false, true) => {
                            format!("bracket table {text}: nothing of {x} to slice: {v}{version}")
                        }
                        (false, false) => {
                            format!("bracket table {text}: {}; total {v}{version}", parts.join("; "))
                        }
                    };
                }
                match (zh, row) {
                    (true, Some(r)) => format!("分档表 {text}：{x} {r} 档，取 {v}{version}"),
                    (true, None) => format!("分档表 {text}：{x} 未达到任何一档，取 {v}{version}"),
                    (false, Some(r)) => format!("tier table {text}: {x} is in the row {r}: {v}{version}"),
                    (false, None) => format!("tier table {text}: {x} reaches no row: {v}{version}"),
                }
            }
            Step::NoItem { list } => {
                if zh {
                    format!("{list} 中没有符合条件的人员或项目，无可给予的金额")
                } else {
                    format!("no person or item of {list} qualifies: nothing to grant")
                }
            }
            Step::Category { name, amount } => {
                if zh {
                    format!("类别 {name}：{}", m(*amount))
                } else {
                    format!("category {name}: {}", m(*amount))
                }
            }
            Step::NoCategory { value } => {
                if zh {
                    format!("类别 {value} 不在给予支持的类别之列")
                } else {
                    format!("category {value} is not among the categories supported")
                }
            }
            Step::Item { key, computed, paid, cap, before } => {
                let mut s =
                    if zh { format!("{key}：{}", m(*computed)) } else { format!("{key}: {}", m(*computed)) };
                if let Some(c) = cap
                    && paid < computed
                {
                    s.push_str(&match (zh, before.is_zero()) {
                        (true, true) => format!("，每人（项）上限 {}，按 {} 计", m(*c), m(*paid)),
                        (true, false) => {
                            format!("，每人（项）上限 {}，此前已获 {}，按 {} 计", m(*c), m(*before), m(*paid))
                        }
                        (false, true) => format!(", capped per item at {}: {}", m(*c), m(*paid)),
                        (false, false) => format!(
                            ", cap per item {} with {} granted before: {}",
                            m(*c),
                            m(*before),
                            m(*paid)
                        ),
                    });
                }
                s
            }
            Step::ItemDiscretionary { key, cap, before } => match (zh, cap, before.is_zero()) {
                (true, None, _) => format!("{key}：金额由主管部门酌定"),
                (true, Some(c), true) => format!("{key}：金额由主管部门酌定，每人（项）最高 {}", m(*c)),
                (true, Some(c), false) => {
                    format!("{key}：金额由主管部门酌定，此前已获 {}，最高 {}", m(*before), m(*c))
                }
                (false, None, _) => format!("{key}: amount decided case by case"),
                (false, Some(c), true) => format!("{key}: amount decided case by case, at most {}", m(*c)),
                (false, Some(c), false) => format!(
                    "{key}: amount decided case by case, {} granted before, at most {}",
                    m(*before),
                    m(*c)
                ),
            },
            Step::Discretionary { base, cap, floor } => {
                let mut s = if zh {
                    "金额由主管部门酌定（原文未给出可计算的金额）".to_string()
                } else {
                    "amount decided case by case (the text gives no computable amount)".to_string()
                };
                if let Some(b) = base {
                    s.push_str(&if zh {
                        format!("；计算基数 {}", m(*b))
                    } else {
                        format!("; base {}", m(*b))
                    });
                }
                if let Some(c) = cap {
                    s.push_str(&if zh {
                        format!("；最高 {}", m(*c))
                    } else {
                        format!("; at most {}", m(*c))
                    });
                }
                if let Some(f) = floor {
                    s.push_str(&if zh {
                        format!("；不低于 {}", m(*f))
                    } else {
                        format!("; at least {}", m(*f))
                    });
                }
                s
            }
            Step::Cap { scope, cap, before, after, history: h } => {
                let hist = history(h, lang);
                match (zh, scope) {
                    (true, CapScope::PerGrant | CapScope::PerItem | CapScope::PerItemTotal) => {
                        format!("{} 超过上限 {}，按 {} 计", m(*before), m(*cap), m(*after))
                    }
                    (false, CapScope::PerGrant | CapScope::PerItem | CapScope::PerItemTotal) => {
                        format!("{} capped at {}", m(*before), m(*cap))
                    }
                    (true, CapScope::PerYear) => format!(
                        "每年上限 {}：{}，剩余 {}，本次 {}",
                        m(*cap),
                        if hist.is_empty() { "本年尚未获得".into() } else { hist },
                        m(*cap - h.iter().map(|x| x.1).sum::<Decimal>()),
                        m(*after)
                    ),
                    (false, CapScope::PerYear) => format!(
                        "yearly cap {}: {}, {} left; this grant {}",
                        m(*cap),
                        if hist.is_empty() { "nothing granted this year".into() } else { hist },
                        m(*cap - h.iter().map(|x| x.1).sum::<Decimal>()),
                        m(*after)
                    ),
                    (true, CapScope::Total) => format!(
                        "累计上限 {}：{}，剩余 {}，本次 {}",
                        m(*cap),
                        if hist.is_empty() { "尚未获得".into() } else { hist },
                        m((*cap - h.iter().map(|x| x.1).sum::<Decimal>()).max(Decimal::ZERO)),
                        m(*after)
                    ),
                    (false, CapScope::Total) => format!(
                        "lifetime cap {}: {}, {} left; this grant {}",
                        m(*cap),
                        if hist.is_empty() { "nothing granted yet".into() } else { hist },
                        m((*cap - h.iter().map(|x| x.1).sum::<Decimal>()).max(Decimal::ZERO)),
                        m(*after)
                    ),
                }
            }
            Step::Floor { floor, before } => {
                if zh {
                    format!("{} 低于下限 {}，按 {} 计", m(*before), m(*floor), m(*floor))
                } else {
                    format!("{} raised to the floor {}", m(*before), m(*floor))
                }
            }
            Step::Once { key, period } => match (zh, key) {
                (true, Some(k)) => format!("{k} 一次性奖励已于 {period} 年获得"),
                (true, None) => format!("一次性支持已于 {period} 年获得"),
                (false, Some(k)) => format!("the one-time award for {k} was granted in {period}"),
                (false, None) => format!("this one-time benefit was granted in {period}"),
            },
            Step::Years { nth, max, first, from_date } => {
                let since = match (from_date, first) {
                    (Some(d), _) => {
                        if zh {
                            format!("自 {d} 起算")
                        } else {
                            format!("counted from {d}")
                        }
                    }
                    (None, Some(y)) => {
                        if zh {
                            format!("自首次获得的 {y} 年起算")
                        } else {
                            format!("counted from the first grant in {y}")
                        }
                    }
                    (None, None) => {
                        if zh {
                            "本年为首年".into()
                        } else {
                            "this is the first year".into()
                        }
                    }
                };
                match (zh, *nth > i64::from(*max), *nth < 1) {
                    (true, _, true) => format!("尚未开始（{since}）"),
                    (false, _, true) => format!("not started yet ({since})"),
                    (true, true, _) => format!("最多 {max} 年，已满（{since}）"),
                    (false, true, _) => format!("at most {max} years, all used ({since})"),
                    (true, false, _) => format!("最多 {max} 年中的第 {nth} 年（{since}）"),
                    (false, false, _) => format!("{} of at most {max} years ({since})", ordinal_en(*nth)),
                }
            }
            Step::CreditEarned { amount, expires } => {
                if zh {
                    format!("本年形成抵免额 {}，可结转至 {expires} 年", m(*amount))
                } else {
                    format!("credit of {} earned this year, usable until {expires}", m(*amount))
                }
            }
            Step::CreditUsed { origin, used, balance, expires, capacity } => {
                if zh {
                    format!(
                        "{origin} 年抵免额：本年抵免 {}（可抵 {}），余 {}，{expires} 年后失效",
                        m(*used),
                        m(*capacity),
                        m(*balance)
                    )
                } else {
                    format!(
                        "credit from {origin}: {} used this year (against {}), {} carried, expires after {expires}",
                        m(*used),
                        m(*capacity),
                        m(*balance)
                    )
                }
            }
            Step::CreditExpired { origin, balance, expires } => {
                if zh {
                    format!("{origin} 年抵免额余 {} 已于 {expires} 年后失效", m(*balance))
                } else {
                    format!("credit from {origin}: {} left expired after {expires}", m(*balance))
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
                format!("{before} → {after} ({how})")
            }
            Step::Zero { value } => {
                if zh {
                    format!("计算金额为 {}，无可给予的金额", m(*value))
                } else {
                    format!("the computed amount is {}: nothing to grant", m(*value))
                }
            }
            Step::Excluded { by } => {
                if zh {
                    format!("与已给予的 {by} 不可同时享受")
                } else {
                    format!("cannot be combined with {by}, which is granted")
                }
            }
            Step::NotLargest { group, winner } => {
                if zh {
                    format!("“{group}”中只给予金额最高的一项（{winner}）")
                } else {
                    format!("only the largest of “{group}” pays ({winner})")
                }
            }
            Step::OnceIn { group, winner, period } => match (zh, period) {
                (true, Some(y)) => format!("“{group}”只能享受其中一项：{y}年已享受 {winner}"),
                (false, Some(y)) => format!("only one of “{group}” is received: {winner} was granted in {y}"),
                (true, None) => format!("“{group}”只能享受其中一项：本期给予金额较高的 {winner}"),
                (false, None) => {
                    format!("only one of “{group}” is received: {winner}, the larger this period")
                }
            },
            Step::Version { document, change, date, clause } => {
                let d = date.map(|d| d.to_string()).unwrap_or_default();
                match (zh, *change) {
                    (true, "amends") => format!("适用 {document} 修改后的 {clause}（自 {d} 起）"),
                    (false, "amends") => format!("{clause} as amended by {document} from {d} applies"),
                    (true, "extends") => format!("{clause} 所在文件经 {document} 延长至 {d}"),
                    (false, "extends") => format!("{clause}'s document extended by {document} to {d}"),
                    (true, "repeals") => format!("{clause} 自 {d} 起被 {document} 废止"),
                    (false, "repeals") => format!("{clause} repealed by {document} from {d}"),
                    (true, _) => format!("适用 {clause} 原文（{document}）"),
                    (false, _) => format!("{clause} as first written ({document}) applies"),
                }
            }
            Step::Provides { what } => {
                if zh {
                    format!("给予非资金支持：{what}")
                } else {
                    format!("provides (not money): {what}")
                }
            }
            Step::Missing { paths } => {
                if zh {
                    format!("缺少事实：{}", paths.join(", "))
                } else {
                    format!("missing facts: {}", paths.join(", "))
                }
            }
        }
    }
}
