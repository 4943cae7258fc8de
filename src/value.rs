//! Values shared by the whole pipeline: calendar dates, the literal forms policy text uses
//! (`30万`, `1.5亿元`, `20%`, `2023-03-02`) and their canonical display.
//!
//! Invariant: every number is a `rust_decimal::Decimal`; nothing here goes through floats.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub const WAN: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);
pub const YI: Decimal = Decimal::from_parts(100_000_000, 0, 0, false, 0);

/// A calendar date (proleptic Gregorian), ordered by time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// `never`: the value of a `date or never` fact for an event that has not happened (a
    /// person still employed has no 离职日期). Not a day of the calendar (month 0): only `==`
    /// and `!=` read it; anything else is E0507 (see `eval::time`).
    pub const NEVER: Date = Date { year: 0, month: 0, day: 0 };

    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if is_leap(year) => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days).contains(&day).then_some(Date { year, month, day })
    }

    pub fn year_start(year: i32) -> Date {
        Date { year, month: 1, day: 1 }
    }

    pub fn year_end(year: i32) -> Date {
        Date { year, month: 12, day: 31 }
    }
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Date::NEVER {
            return f.write_str("never");
        }
        // the usual dates without the formatting machinery (a report writes hundreds)
        if let (Ok(y @ 0..=9999), m @ 0..=99, d @ 0..=99) = (u16::try_from(self.year), self.month, self.day) {
            let (m, d) = (u16::from(m), u16::from(d));
            let digits = [y / 1000, y / 100, y / 10, y, 0, m / 10, m, 0, d / 10, d];
            let mut buf = *b"0000-00-00";
            for (b, n) in buf.iter_mut().zip(digits) {
                if *b == b'0' {
                    *b = b'0' + (n % 10) as u8;
                }
            }
            return f.write_str(std::str::from_utf8(&buf).unwrap_or("0000-00-00"));
        }
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = String;
    fn from_str(s: &str) -> Result<Date, String> {
        let mut parts = s.split('-');
        let (Some(y), Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("`{s}` is not a date; write it as YYYY-MM-DD, e.g. 2023-03-02"));
        };
        let ok = y.len() == 4 && m.len() == 2 && d.len() == 2;
        let parsed = (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>());
        match parsed {
            (Ok(y), Ok(m), Ok(d)) if ok => {
                Date::new(y, m, d).ok_or_else(|| format!("`{s}` is not a day of the calendar"))
            }
            _ => Err(format!("`{s}` is not a date; write it as YYYY-MM-DD, e.g. 2023-03-02")),
        }
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A literal as policy text writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Literal {
    Money(Decimal),
    Rate(Decimal),
    Number(Decimal),
    Date(Date),
}

/// Parses `30万`, `1.5亿元`, `3000元` (money), `20%` (rate), `2023-03-02` (date) or a plain
/// decimal (number). The error is a sentence for the user.
pub fn parse_literal(text: &str) -> Result<Literal, String> {
    let t = text.trim();
    if t.len() == 10 && t.as_bytes().get(4) == Some(&b'-') {
        return t.parse().map(Literal::Date);
    }
    for (suffix, factor) in [("万元", WAN), ("亿元", YI), ("万", WAN), ("亿", YI), ("元", Decimal::ONE)]
    {
        if let Some(n) = t.strip_suffix(suffix) {
            let d = parse_decimal(n)?;
            return d.checked_mul(factor).map(Literal::Money).ok_or_else(|| format!("`{t}` is too large"));
        }
    }
    if let Some(n) = t.strip_suffix('%').or_else(|| t.strip_suffix('％')) {
        let d = parse_decimal(n)?;
        return d
            .checked_div(Decimal::ONE_HUNDRED)
            .map(Literal::Rate)
            .ok_or_else(|| format!("`{t}` is not a rate"));
    }
    parse_decimal(t).map(Literal::Number)
}

/// An exact decimal from its text, without floats.
pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let t = text.trim();
    if t.contains(['e', 'E']) {
        return Decimal::from_scientific(t)
            .map_err(|_| format!("`{t}` is not a number a decimal can hold exactly"));
    }
    Decimal::from_str_exact(t).map_err(|_| format!("`{t}` is not a number, or has too many digits"))
}

/// Money for people: `30万`, `1.2亿`, `3,500元`-style plain yuan below 1万.
pub fn fmt_money(d: Decimal) -> String {
    Money(d).to_string()
}

/// Money for people, written where it is displayed (what [`fmt_money`] returns).
#[derive(Clone, Copy, Debug)]
pub struct Money(pub Decimal);

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        let abs = d.abs();
        let sign = if d.is_sign_negative() && !d.is_zero() { "-" } else { "" };
        if abs >= YI && (abs % (YI / Decimal::from(100))).is_zero() {
            write!(f, "{sign}{}亿", (abs / YI).normalize())
        } else if abs >= WAN {
            let w = (abs / WAN).normalize();
            if w.scale() <= 4 { write!(f, "{sign}{w}万") } else { write!(f, "{sign}{}元", abs.normalize()) }
        } else {
            write!(f, "{sign}{}元", abs.normalize())
        }
    }
}

/// A rate for people: `0.2` → `20%`.
pub fn fmt_rate(d: Decimal) -> String {
    Rate(d).to_string()
}

/// A rate for people, written where it is displayed (what [`fmt_rate`] returns).
#[derive(Clone, Copy, Debug)]
pub struct Rate(pub Decimal);

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.checked_mul(Decimal::ONE_HUNDRED) {
            Some(p) => write!(f, "{}%", p.normalize()),
            // too large to show in per cent: show the fraction itself, never a wrong number
            None => write!(f, "{} (as a fraction)", self.0.normalize()),
        }
    }
}

/// Money in yuan with two decimals, as the JSON contract writes amounts.
pub fn fmt_yuan(d: Decimal) -> String {
    let mut r = d;
    if r.scale() < 2 {
        r.rescale(2);
    }
    r.to_string()
}

/// Whole years as an integer, when the decimal is one.
pub fn as_year(d: Decimal) -> Option<i32> {
    if d.fract().is_zero() { d.to_i32() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(s: &str) -> Decimal {
        match parse_literal(s) {
            Ok(Literal::Money(d)) => d,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn dates_display_as_the_padded_format_writes_them() {
        for (y, m, d) in
            [(2024, 1, 1), (2024, 12, 31), (0, 1, 9), (9999, 10, 10), (10000, 2, 3), (-5, 6, 7), (42, 0, 0)]
        {
            let date = Date { year: y, month: m, day: d };
            assert_eq!(date.to_string(), format!("{y:04}-{m:02}-{d:02}"));
        }
        assert_eq!(Date::NEVER.to_string(), "never");
    }

    #[test]
    fn literals_as_policy_text_writes_them() {
        assert_eq!(money("30万"), Decimal::from(300_000));
        assert_eq!(money("1亿"), Decimal::from(100_000_000));
        assert_eq!(money("1.5亿元"), Decimal::from(150_000_000));
        assert_eq!(money("200万元"), Decimal::from(2_000_000));
        assert_eq!(money("3000元"), Decimal::from(3000));
        assert_eq!(parse_literal("20%"), Ok(Literal::Rate(Decimal::new(2, 1))));
        assert_eq!(parse_literal("1.5%"), Ok(Literal::Rate(Decimal::new(15, 3))));
        assert_eq!(parse_literal("2023-03-02"), Ok(Literal::Date(Date { year: 2023, month: 3, day: 2 })));
        assert!(parse_literal("2023-02-29").is_err());
        assert!(parse_literal("2024-02-29").is_ok());
    }

    #[test]
    fn money_display() {
        assert_eq!(fmt_money(Decimal::from(300_000)), "30万");
        assert_eq!(fmt_money(Decimal::from(150_000_000)), "1.5亿");
        assert_eq!(fmt_money(Decimal::from(3500)), "3500元");
        assert_eq!(fmt_money(Decimal::new(123_456_789, 2)), "1234567.89元");
        assert_eq!(fmt_money(Decimal::new(10_000_000_001, 2)), "100000000.01元");
        assert_eq!(fmt_yuan(Decimal::from(300_000)), "300000.00");
        assert_eq!(fmt_rate(Decimal::new(15, 3)), "1.5%");
    }
}
