//! Time within the year: the calendar arithmetic behind `add_months`, `add_days`,
//! `months_between`, `days_between`, `month`, `day`, `period_start` and `period_end`, shared by
//! both evaluators (so the lean kernel and the full evaluator cannot disagree), and the
//! `never` date of `date or never` facts.
//!
//! Invariant: nothing here panics or overflows: every result is checked, and a date that
//! cannot exist (a month count that is not whole, a year outside 1–9999) is `Err`, which the
//! evaluators report as E0506. A `never` date given to anything but `==` / `!=` is E0507.

use crate::value::Date;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Why a date computation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeError {
    /// E0506: the result is not a day of the calendar (or a count is not whole).
    Impossible(String),
    /// E0507: a `never` date used as a day.
    Never(&'static str),
}

type T<X> = Result<X, TimeError>;

/// The years a computed date may fall in.
const YEARS: std::ops::RangeInclusive<i64> = 1..=9999;

fn days_in_month(y: i64, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// A day the evaluation may compute with: not `never`.
pub fn day_of(d: Date, what: &'static str) -> T<Date> {
    if d == Date::NEVER { Err(TimeError::Never(what)) } else { Ok(d) }
}

/// A whole count (of months or days) within ±10^6.
fn whole(n: Decimal, unit: &str) -> T<i64> {
    if !n.fract().is_zero() {
        return Err(TimeError::Impossible(format!(
            "{} {unit} is not a whole number of {unit}",
            n.normalize()
        )));
    }
    n.to_i64()
        .filter(|n| n.abs() <= 1_000_000)
        .ok_or_else(|| TimeError::Impossible(format!("{} {unit} is too many {unit}", n.normalize())))
}

fn make(y: i64, m: u8, d: u8) -> T<Date> {
    let year = i32::try_from(y).ok().filter(|_| YEARS.contains(&y));
    match year.and_then(|y| Date::new(y, m, d)) {
        Some(x) => Ok(x),
        None => Err(TimeError::Impossible(format!("the year {y} is outside the calendar (1–9999)"))),
    }
}

/// Days since 1970-01-01 (proleptic Gregorian; H. Hinnant's `days_from_civil`).
pub fn to_days(d: Date) -> i64 {
    let (m, dd) = (i64::from(d.month), i64::from(d.day));
    let y = i64::from(d.year) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + dd - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `z` days after 1970-01-01.
fn from_days(z: i64) -> T<Date> {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    make(y, u8::try_from(m).unwrap_or(0), u8::try_from(d).unwrap_or(0))
}

/// `add_months(d, n)`: the same day n months later (earlier when n < 0), clamped to the end of
/// a shorter month: 2024-01-31 + 1 = 2024-02-29, 2023-01-31 + 1 = 2023-02-28, 2024-02-29 + 12
/// = 2025-02-28.
pub fn add_months(d: Date, n: Decimal) -> T<Date> {
    let d = day_of(d, "add_months")?;
    let n = whole(n, "months")?;
    let idx = i64::from(d.year) * 12 + i64::from(d.month) - 1 + n;
    let (y, m) = (idx.div_euclid(12), u8::try_from(idx.rem_euclid(12) + 1).unwrap_or(1));
    make(y, m, d.day.min(days_in_month(y, m)))
}

/// `add_days(d, n)`: n days later (earlier when n < 0).
pub fn add_days(d: Date, n: Decimal) -> T<Date> {
    let d = day_of(d, "add_days")?;
    let n = whole(n, "days")?;
    from_days(to_days(d) + n)
}

/// `months_between(a, b)`: the whole months from a to b — the largest n with
/// `add_months(a, n) ≤ b` (so the month is full on the same day of a later month, or on the
/// last day of a shorter one); negative, symmetrically, when b is before a. 2024-03-01 →
/// 2024-06-01 = 3; 2024-03-15 → 2024-06-14 = 2; 2024-01-31 → 2024-02-29 = 1.
pub fn months_between(a: Date, b: Date) -> T<Decimal> {
    let a = day_of(a, "months_between")?;
    let b = day_of(b, "months_between")?;
    if b < a {
        return months_between(b, a).map(|m| -m);
    }
    let mut m = (i64::from(b.year) - i64::from(a.year)) * 12 + i64::from(b.month) - i64::from(a.month);
    if add_months(a, Decimal::from(m))? > b {
        m -= 1;
    }
    Ok(Decimal::from(m))
}

/// `days_between(a, b)`: b − a in days (2024-02-28 → 2024-03-01 = 2).
pub fn days_between(a: Date, b: Date) -> T<Decimal> {
    let a = day_of(a, "days_between")?;
    let b = day_of(b, "days_between")?;
    Ok(Decimal::from(to_days(b) - to_days(a)))
}

/// `month(d)`: 1–12.
pub fn month(d: Date) -> T<Decimal> {
    Ok(Decimal::from(day_of(d, "month")?.month))
}

/// `day(d)`: 1–31.
pub fn day(d: Date) -> T<Decimal> {
    Ok(Decimal::from(day_of(d, "day")?.day))
}

/// `year(d)`.
pub fn year(d: Date) -> T<Decimal> {
    Ok(Decimal::from(day_of(d, "year")?.year))
}

// ---------------------------------------------------------------- monthly series

/// The key of a month in a monthly series: months since year 0 (`2024-03` → 2024 × 12 + 2).
pub fn month_key(d: Date) -> T<i32> {
    let d = day_of(d, "a monthly series")?;
    d.year
        .checked_mul(12)
        .and_then(|y| y.checked_add(i32::from(d.month) - 1))
        .ok_or_else(|| TimeError::Impossible(format!("the year {} is outside the calendar", d.year)))
}

/// `2024-03` for a month key.
pub fn month_name(key: i32) -> String {
    format!("{:04}-{:02}", key.div_euclid(12), key.rem_euclid(12) + 1)
}

/// A month key from facts input (`"2024-03"`), within the plausible years.
pub fn parse_month(s: &str) -> Option<i32> {
    let d: Date = format!("{s}-01").parse().ok()?;
    (s.len() == 7 && crate::eval::facts::YEARS.contains(&d.year)).then_some(())?;
    month_key(d).ok()
}

/// `total(s, from, to)` (`count` false) or `months(s, from, to)` (`count` true) over the
/// months present from the month of `from` to the month of `to`, inclusive (none when `to`
/// is before `from`: 0).
pub fn month_range(s: &super::Series, from: Date, to: Date, count: bool) -> T<Option<Decimal>> {
    let (a, b) = (month_key(from)?, month_key(to)?);
    let mut acc = Decimal::ZERO;
    for (_, v) in s.0.iter().filter(|(k, _)| a <= *k && *k <= b) {
        let add = if count { Decimal::ONE } else { *v };
        match acc.checked_add(add) {
            Some(x) => acc = x,
            None => return Ok(None),
        }
    }
    Ok(Some(acc))
}

// ---------------------------------------------------------------- the full evaluator

use super::{Evaluator, Fail, V, Value};
use crate::diag::Code;
use crate::ir::{Builtin, Expr};
use crate::syntax::ast::CmpOp;

/// A date failure as the full evaluator reports it (E0506, E0507).
pub(super) fn fail(e: TimeError) -> Fail {
    match e {
        TimeError::Impossible(m) => {
            Fail { code: Code::ImpossibleDate, message: format!("a date that cannot exist: {m}") }
        }
        TimeError::Never(what) => Fail {
            code: Code::NeverDate,
            message: format!("`{what}` reads a date that is `never` (the event has not happened)"),
        },
    }
}

/// A value used as a day (a `min`/`max` argument, a sort key): not `never`.
pub(super) fn value_day(v: &Value, what: &'static str) -> Result<(), Fail> {
    match v {
        Value::Date(d) => day_of(*d, what).map(drop).map_err(fail),
        _ => Ok(()),
    }
}

/// An ordering comparison (`<`, `达到` …) of dates: neither may be `never`; `==` and `!=`
/// compare `never` like any value.
pub(super) fn order_never(op: CmpOp, a: &Value, b: &Value) -> Result<(), Fail> {
    if matches!(op, CmpOp::Eq | CmpOp::Ne) {
        return Ok(());
    }
    value_day(a, "a comparison")?;
    value_day(b, "a comparison")
}

/// A date function on its arguments' values: a number or a date.
pub(super) enum Out {
    Num(Decimal),
    Date(Date),
}

/// The date functions on evaluated arguments (shared by both evaluators). `args` are the
/// argument values, in order; numbers and dates as the function takes them.
pub(super) fn apply(f: Builtin, period: i32, dates: &[Date], n: Option<Decimal>) -> Option<T<Out>> {
    let d0 = dates.first().copied();
    let d1 = dates.get(1).copied();
    Some(match f {
        Builtin::Month => month(d0?).map(Out::Num),
        Builtin::Day => day(d0?).map(Out::Num),
        Builtin::AddMonths => add_months(d0?, n?).map(Out::Date),
        Builtin::AddDays => add_days(d0?, n?).map(Out::Date),
        Builtin::MonthsBetween => months_between(d0?, d1?).map(Out::Num),
        Builtin::DaysBetween => days_between(d0?, d1?).map(Out::Num),
        Builtin::PeriodStart => Ok(Out::Date(Date::year_start(period))),
        Builtin::PeriodEnd => Ok(Out::Date(Date::year_end(period))),
        _ => return None,
    })
}

impl Evaluator<'_> {
    /// `month`, `day`, `add_months`, `add_days`, `months_between`, `days_between`,
    /// `period_start`, `period_end`. Every argument is read (so every missing fact is
    /// listed); unknown when any is.
    pub(super) fn time_call(&mut self, f: Builtin, args: &[Expr]) -> V {
        if matches!(f, Builtin::MonthAt | Builtin::MonthTotal | Builtin::MonthCount) {
            return self.monthly(f, args);
        }
        let mut dates = smallvec::SmallVec::<[Date; 2]>::new();
        let mut n = None;
        let mut unknown = false;
        for a in args {
            match self.eval(a)? {
                Some(Value::Date(d)) => dates.push(d),
                Some(Value::Num(x)) => n = Some(x),
                _ => unknown = true,
            }
        }
        if unknown {
            return Ok(None);
        }
        match apply(f, self.period, &dates, n) {
            Some(Ok(Out::Num(x))) => Ok(Some(Value::Num(x))),
            Some(Ok(Out::Date(d))) => Ok(Some(Value::Date(d))),
            Some(Err(e)) => Err(fail(e)),
            None => Ok(None),
        }
    }
}

impl Evaluator<'_> {
    /// `s[MONTH]`, `total(s, from, to)`, `months(s, from, to)`: the series is the fact of the
    /// first argument (not evaluated as a value).
    fn monthly(&mut self, f: Builtin, args: &[Expr]) -> V {
        let Some(crate::ir::ExprKind::Fact(fid)) = args.first().map(|a| &a.kind) else { return Ok(None) };
        let fid = *fid;
        let mut dates = smallvec::SmallVec::<[Date; 2]>::new();
        for a in args.iter().skip(1) {
            match self.eval(a)? {
                Some(Value::Date(d)) => dates.push(d),
                _ => return Ok(None),
            }
        }
        let name = self.prog.facts.get(fid as usize).map_or_else(String::new, |d| d.name.clone());
        let series = match self.facts.get(fid) {
            Some(super::FactValue::Series(s)) => s,
            _ => {
                self.missing.push(name);
                return Ok(None);
            }
        };
        match (f, dates.as_slice()) {
            (Builtin::MonthAt, [d]) => {
                let key = month_key(*d).map_err(fail)?;
                match series.at(key) {
                    Some(v) => {
                        let v = Value::Num(v);
                        let ty = args.first().map_or(crate::ir::Type::NUMBER, |a| a.ty);
                        self.read(|| format!("{name}.{}", month_name(key)), &v, ty);
                        Ok(Some(v))
                    }
                    None => {
                        self.missing.push(format!("{name}.{}", month_name(key)));
                        Ok(None)
                    }
                }
            }
            (_, [a, b]) => match month_range(series, *a, *b, f == Builtin::MonthCount).map_err(fail)? {
                Some(x) => Ok(Some(Value::Num(x))),
                None => Err(super::overflow()),
            },
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap_or(Date::NEVER)
    }

    #[test]
    fn month_arithmetic_clamps_to_the_month_end() {
        let one = Decimal::ONE;
        assert_eq!(add_months(d("2024-01-31"), one), Ok(d("2024-02-29")));
        assert_eq!(add_months(d("2023-01-31"), one), Ok(d("2023-02-28")));
        assert_eq!(add_months(d("2024-02-29"), Decimal::from(12)), Ok(d("2025-02-28")));
        assert_eq!(add_months(d("2024-03-15"), Decimal::from(-3)), Ok(d("2023-12-15")));
        assert_eq!(add_days(d("2024-02-28"), Decimal::from(2)), Ok(d("2024-03-01")));
        assert_eq!(add_days(d("2024-12-31"), one), Ok(d("2025-01-01")));
        assert!(matches!(add_months(d("2024-01-31"), Decimal::new(15, 1)), Err(TimeError::Impossible(_))));
        assert!(matches!(add_months(Date::NEVER, one), Err(TimeError::Never(_))));
        assert!(matches!(add_days(d("9999-12-31"), one), Err(TimeError::Impossible(_))));
    }

    #[test]
    fn whole_months_and_days_between() {
        let mb = |a: &str, b: &str| months_between(d(a), d(b));
        assert_eq!(mb("2024-03-01", "2024-06-01"), Ok(Decimal::from(3)));
        assert_eq!(mb("2024-03-15", "2024-06-14"), Ok(Decimal::from(2)));
        assert_eq!(mb("2024-03-15", "2024-06-15"), Ok(Decimal::from(3)));
        assert_eq!(mb("2024-01-31", "2024-02-29"), Ok(Decimal::ONE));
        assert_eq!(mb("2024-06-01", "2024-03-01"), Ok(Decimal::from(-3)));
        assert_eq!(mb("2024-03-01", "2024-03-31"), Ok(Decimal::ZERO));
        assert_eq!(days_between(d("2024-01-01"), d("2024-12-31")), Ok(Decimal::from(365)));
        assert_eq!(days_between(d("2023-03-01"), d("2023-02-28")), Ok(Decimal::from(-1)));
        for s in ["1900-01-01", "1970-01-01", "2000-02-29", "2024-12-31", "2200-06-30"] {
            assert_eq!(from_days(to_days(d(s))), Ok(d(s)));
        }
    }
}
