//! Facts input: a JSON object validated against the vocabulary into slot-indexed values.
//!
//! Invariant: every unknown or mistyped fact is reported, all at once, with its JSON path;
//! an absent (or `null`) fact is not an error. Numbers are read from their JSON text as exact
//! decimals, never through f64. Keys starting with `$` are metadata and are skipped.

use crate::diag::{Code, Diagnostic, did_you_mean};
use crate::ir::{FactId, Num, Program, Type};
use crate::json::Json as J;
use crate::value::{Date, Literal, as_year, parse_decimal, parse_literal};
use rust_decimal::Decimal;
use std::sync::Arc;

/// A scalar value at run time.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Num(Decimal),
    Bool(bool),
    Date(Date),
    Enum(u32),
    Text(Arc<str>),
}

/// A yearly series, sorted by year.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series(pub Vec<(i32, Decimal)>);

impl Series {
    pub fn at(&self, year: i32) -> Option<Decimal> {
        self.0.binary_search_by_key(&year, |(y, _)| *y).ok().and_then(|i| self.0.get(i)).map(|(_, v)| *v)
    }

    pub fn before(&self, year: i32) -> impl Iterator<Item = &(i32, Decimal)> {
        self.0.iter().take_while(move |(y, _)| *y < year)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum FactValue {
    Scalar(Value),
    Series(Series),
    List(Vec<Item>),
}

/// One record of a list: its fields by slot.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub fields: Vec<Option<FactValue>>,
}

/// Facts about one enterprise, by fact slot.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Facts {
    pub values: Vec<Option<FactValue>>,
}

impl Facts {
    pub fn get(&self, f: FactId) -> Option<&FactValue> {
        self.values.get(f as usize).and_then(Option::as_ref)
    }

    /// The period: the one given, else the latest year of any series (the rule of
    /// [`default_period`], for callers that read `$period` themselves).
    pub fn period_or_latest(&self, given: Option<i32>) -> Option<i32> {
        given.or_else(|| self.latest_year())
    }

    /// The latest year of any series in the facts.
    pub fn latest_year(&self) -> Option<i32> {
        self.values
            .iter()
            .flatten()
            .filter_map(|v| match v {
                FactValue::Series(s) => s.0.last().map(|(y, _)| *y),
                _ => None,
            })
            .max()
    }
}

/// The period a facts document is for when none is given: its `$period`, else the latest
/// year of any series in it.
pub fn default_period(json: &J, facts: &Facts) -> Option<i32> {
    let explicit = json.get("$period").and_then(|v| match v {
        J::Number(n) => n.to_string().parse::<i32>().ok(),
        J::String(s) => s.parse::<i32>().ok(),
        _ => None,
    });
    facts.period_or_latest(explicit)
}

/// The facts' own as-of date (`"$as_of": "2024-06-30"`), which every reader honours when no
/// as-of date is given from outside; a value that is not a date is an error, never ignored.
pub fn meta_as_of(json: &J) -> Result<Option<Date>, FactError> {
    let bad = |found: String| FactError {
        code: Code::FactType,
        path: "$as_of".into(),
        message: format!("`$as_of` is the date of the evaluation, and {found} is not a date"),
        help: "write \"$as_of\": \"2024-06-30\" (YYYY-MM-DD), or leave it out (the period's last day)".into(),
    };
    match json.get("$as_of") {
        None | Some(J::Null) => Ok(None),
        Some(J::String(s)) => match s.parse::<Date>() {
            Ok(d) if YEARS.contains(&d.year) => Ok(Some(d)),
            _ => Err(bad(format!("`{s}`"))),
        },
        Some(other) => Err(bad(kind(other).to_string())),
    }
}

/// A problem in a facts input: JSON path, code, sentence, fix.
#[derive(Clone, Debug, PartialEq)]
pub struct FactError {
    pub code: Code,
    pub path: String,
    pub message: String,
    pub help: String,
}

impl FactError {
    pub fn into_diagnostic(self, file: &str) -> Diagnostic {
        Diagnostic::new(self.code, self.message).in_input(file, self.path).help(self.help)
    }
}

/// A JSON path built on the stack and written out only when a problem is reported.
#[derive(Clone, Copy)]
struct JPath<'a> {
    parent: Option<&'a JPath<'a>>,
    seg: Seg<'a>,
}

#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

impl<'a> JPath<'a> {
    fn root(key: &'a str) -> JPath<'a> {
        JPath { parent: None, seg: Seg::Key(key) }
    }
    fn key(&'a self, key: &'a str) -> JPath<'a> {
        JPath { parent: Some(self), seg: Seg::Key(key) }
    }
    fn index(&'a self, i: usize) -> JPath<'a> {
        JPath { parent: Some(self), seg: Seg::Index(i) }
    }
}

impl std::fmt::Display for JPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(p) = self.parent {
            write!(f, "{p}")?;
        }
        match (self.seg, self.parent.is_some()) {
            (Seg::Key(k), true) => write!(f, ".{k}"),
            (Seg::Key(k), false) => write!(f, "{k}"),
            (Seg::Index(i), _) => write!(f, "[{i}]"),
        }
    }
}

/// Parses facts JSON text (numbers kept exact) and validates it.
pub fn parse_facts(prog: &Program, text: &str) -> Result<Facts, Vec<FactError>> {
    let json = J::parse(text).map_err(|e| {
        vec![FactError {
            code: Code::FactsSyntax,
            path: format!("line {}, column {}", e.line(), e.column()),
            message: format!("the facts are not valid JSON: {e}"),
            help: "facts are one JSON object, e.g. {\"营业收入\": {\"2023\": 120000000}}".into(),
        }]
    })?;
    read_facts(prog, &json)
}

/// Validates a JSON value against the vocabulary.
pub fn read_facts<T: crate::json::AsJson + ?Sized>(
    prog: &Program,
    json: &T,
) -> Result<Facts, Vec<FactError>> {
    let json = json.as_json();
    let json: &J = &json;
    let mut errors = Vec::new();
    let J::Object(map) = json else {
        return Err(vec![FactError {
            code: Code::FactType,
            path: "$".into(),
            message: format!("facts must be a JSON object, not {}", kind(json)),
            help: "write {\"事实名\": 值, …}".into(),
        }]);
    };
    let mut values: Vec<Option<FactValue>> = vec![None; prog.facts.len()];
    if let Err(e) = meta_as_of(json) {
        errors.push(e);
    }
    for (k, v) in map {
        if k.starts_with('$') {
            continue;
        }
        let Some(&fid) = prog.fact_index.get(k) else {
            let help = did_you_mean(k, prog.facts.iter().map(|f| f.name.as_str()))
                .unwrap_or_else(|| "remove it, or declare it in the vocabulary with `fact`".into());
            errors.push(FactError {
                code: Code::UnknownFact,
                path: k.clone(),
                message: format!("unknown fact `{k}`"),
                help,
            });
            continue;
        };
        let Some(def) = prog.facts.get(fid as usize) else { continue };
        if v.is_null() {
            continue;
        }
        let read = if def.monthly { read_monthly } else { read_value };
        if let Some(fv) = read(prog, def.ty, v, &JPath::root(k), &mut errors)
            && let Some(slot) = values.get_mut(fid as usize)
        {
            *slot = Some(fv);
        }
    }
    let mut facts = Facts { values };
    complete(prog, &mut facts);
    errors.extend(check_ranges(prog, &facts));
    if errors.is_empty() { Ok(facts) } else { Err(errors) }
}

/// The years a date or a series may name: anything else is a typo, never a fact.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// Plausibility: money and counts are not negative and rates lie within 0–100% unless the
/// vocabulary declares the fact `signed`; dates lie within [`YEARS`]. Read facts from either
/// reader (or any other source) pass through this, so no implausible value reaches a clause.
/// Every violation is reported with its JSON path.
pub fn check_ranges(prog: &Program, facts: &Facts) -> Vec<FactError> {
    let mut out = Vec::new();
    for (i, v) in facts.values.iter().enumerate() {
        let (Some(v), Some(def)) = (v, prog.facts.get(i)) else { continue };
        if let (true, FactValue::Series(s), Type::Series(n)) = (def.monthly, v, def.ty) {
            for (k, d) in &s.0 {
                let path = || format!("{}.{}", def.name, super::time::month_name(*k));
                if let Some(e) = range_scalar(Type::Num(n), (def.signed, false), &Value::Num(*d), &path) {
                    out.push(e);
                }
            }
            continue;
        }
        range_value(prog, (def.ty, def.signed, def.never), v, &|| def.name.clone(), &mut out);
    }
    out
}

/// `default V`: a fact or record field that is absent (or `null`) takes its declared default,
/// so a clause reading it is decided instead of undetermined. Every facts reader (JSON tree,
/// stream, columnar) calls this before `check_ranges`.
pub fn complete(prog: &Program, facts: &mut Facts) {
    for (slot, def) in facts.values.iter_mut().zip(&prog.facts) {
        if slot.is_none()
            && let Some(c) = &def.default
        {
            *slot = Some(FactValue::Scalar(const_value(c)));
        }
        if let (Some(FactValue::List(items)), Type::List(r)) = (slot.as_mut(), def.ty) {
            let Some(rec) = prog.records.get(r as usize) else { continue };
            if rec.fields.iter().all(|f| f.default.is_none()) {
                continue;
            }
            for it in items {
                for (fv, fd) in it.fields.iter_mut().zip(&rec.fields) {
                    if fv.is_none()
                        && let Some(c) = &fd.default
                    {
                        *fv = Some(FactValue::Scalar(const_value(c)));
                    }
                }
            }
        }
    }
}

/// A program's declared defaults, gathered once: what [`complete`] does, without walking
/// the whole vocabulary for every enterprise (the batch readers' way).
#[derive(Clone, Debug, Default)]
pub struct Defaults {
    /// The facts with a default: slot and value.
    facts: Vec<(usize, Value)>,
    /// The list facts whose records have fields with a default: slot, and those fields.
    lists: Vec<(usize, Vec<(usize, Value)>)>,
}

impl Defaults {
    pub fn new(prog: &Program) -> Defaults {
        let mut d = Defaults::default();
        for (slot, def) in prog.facts.iter().enumerate() {
            if let Some(c) = &def.default {
                d.facts.push((slot, const_value(c)));
            }
            if let Type::List(r) = def.ty
                && let Some(rec) = prog.records.get(r as usize)
            {
                let fields: Vec<(usize, Value)> = rec
                    .fields
                    .iter()
                    .enumerate()
                    .filter_map(|(i, f)| f.default.as_ref().map(|c| (i, const_value(c))))
                    .collect();
                if !fields.is_empty() {
                    d.lists.push((slot, fields));
                }
            }
        }
        d
    }

    /// Whether every declared default passes the range checks, so that a reader that checks
    /// each value it reads need not check the completed facts again.
    pub fn in_range(&self, prog: &Program) -> bool {
        let facts = self
            .facts
            .iter()
            .all(|(slot, v)| prog.facts.get(*slot).is_some_and(|d| in_range(d.ty, d.signed, d.never, v)));
        let fields = self.lists.iter().all(|(slot, fields)| {
            let Some(Type::List(r)) = prog.facts.get(*slot).map(|d| d.ty) else { return false };
            let Some(rec) = prog.records.get(r as usize) else { return false };
            fields
                .iter()
                .all(|(i, v)| rec.fields.get(*i).is_some_and(|f| in_range(f.ty, f.signed, f.never, v)))
        });
        facts && fields
    }

    /// [`complete`]: every absent fact or list item field with a default takes it.
    pub fn complete(&self, facts: &mut Facts) {
        for (slot, v) in &self.facts {
            if let Some(x @ None) = facts.values.get_mut(*slot) {
                *x = Some(FactValue::Scalar(v.clone()));
            }
        }
        for (slot, fields) in &self.lists {
            let Some(Some(FactValue::List(items))) = facts.values.get_mut(*slot) else { continue };
            for it in items {
                for (i, v) in fields {
                    if let Some(x @ None) = it.fields.get_mut(*i) {
                        *x = Some(FactValue::Scalar(v.clone()));
                    }
                }
            }
        }
    }
}

fn const_value(c: &crate::ir::Const) -> Value {
    match c {
        crate::ir::Const::Num(d) => Value::Num(*d),
        crate::ir::Const::Bool(b) => Value::Bool(*b),
        crate::ir::Const::Date(d) => Value::Date(*d),
        crate::ir::Const::Enum(_, v) => Value::Enum(*v),
    }
}

fn range_value(
    prog: &Program,
    (ty, signed, never): (Type, bool, bool),
    v: &FactValue,
    path: &dyn Fn() -> String,
    out: &mut Vec<FactError>,
) {
    match (v, ty) {
        (FactValue::Scalar(x), _) => {
            if let Some(e) = range_scalar(ty, (signed, never), x, path) {
                out.push(e);
            }
        }
        (FactValue::Series(s), Type::Series(n)) => {
            for (y, d) in &s.0 {
                if let Some(e) = range_scalar(Type::Num(n), (signed, false), &Value::Num(*d), &|| {
                    format!("{}.{y}", path())
                }) {
                    out.push(e);
                }
            }
        }
        (FactValue::List(items), Type::List(r)) => {
            let Some(rec) = prog.records.get(r as usize) else { return };
            for (i, it) in items.iter().enumerate() {
                for (fv, fd) in it.fields.iter().zip(&rec.fields) {
                    let Some(fv) = fv else { continue };
                    range_value(
                        prog,
                        (fd.ty, fd.signed, fd.never),
                        fv,
                        &|| format!("{}[{i}].{}", path(), fd.name),
                        out,
                    );
                }
            }
        }
        _ => {}
    }
}

/// Whether a number of kind `n` passes the range check (`signed`: declared so): a rate lies
/// in 0–100%, any other number is not negative. [`range_scalar`]'s test, for the readers that
/// check each value as they read it.
#[inline]
pub(crate) fn num_in_range(n: Num, signed: bool, d: Decimal) -> bool {
    let not_negative = d.is_zero() || !d.is_sign_negative();
    signed || not_negative && (n != Num::Rate || d <= Decimal::ONE)
}

/// Whether a value read for a fact or record field of type `ty` passes [`check_ranges`]'s
/// checks (`signed`, `never`: as declared; a series' years are checked with the series'
/// number kind, `signed`, and `never` false).
pub(crate) fn in_range(ty: Type, signed: bool, never: bool, v: &Value) -> bool {
    range_scalar(ty, (signed, never), v, &String::new).is_none()
}

fn range_scalar(
    ty: Type,
    (signed, never): (bool, bool),
    v: &Value,
    path: &dyn Fn() -> String,
) -> Option<FactError> {
    let bad = |message: String, help: &str| {
        Some(FactError { code: Code::FactOutOfRange, path: path(), message, help: help.into() })
    };
    match (ty, v) {
        (Type::Num(n @ Num::Rate), Value::Num(d)) if !num_in_range(n, signed, *d) => {
            bad(
                format!("the rate {} lies outside 0–100%", crate::value::fmt_rate(*d)),
                "write a rate as a fraction (0.15) or as \"15%\"; if this fact can be negative or exceed 100%, declare it `signed` in the vocabulary",
            )
        }
        (Type::Num(n), Value::Num(d)) if !num_in_range(n, signed, *d) => {
            bad(
                format!(
                    "{} is negative",
                    match n {
                        Num::Money => format!("the amount {}", crate::value::fmt_money(*d)),
                        _ => format!("the number {d}"),
                    }
                ),
                "amounts and counts are not negative; if this fact can be (a profit, an increment), declare it `signed` in the vocabulary",
            )
        }
        (Type::Date, Value::Date(d)) if *d == Date::NEVER => (!never).then(|| FactError {
            code: Code::FactType,
            path: path(),
            message: "`never` is given for a date the vocabulary declares as always known".into(),
            help: "give the date as \"YYYY-MM-DD\", or declare the fact (or field) `date or never` if the event may not have happened".into(),
        }),
        (Type::Date, Value::Date(d)) if !YEARS.contains(&d.year) => {
            bad(format!("the date {d} is not plausible"), "dates lie between 1900 and 2200; check the year")
        }
        _ => None,
    }
}

fn kind(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "true/false",
        J::Number(_) => "a number",
        J::String(_) => "a text",
        J::Array(_) => "a list",
        J::Object(_) => "an object",
    }
}

/// A monthly series: an object keyed by month (`{"2024-03": 12}`).
fn read_monthly(
    prog: &Program,
    ty: Type,
    v: &J,
    path: &JPath<'_>,
    errors: &mut Vec<FactError>,
) -> Option<FactValue> {
    let Type::Series(n) = ty else { return None };
    let J::Object(m) = v else {
        errors.push(type_error(
            prog,
            ty,
            v,
            path,
            "write a monthly series as {\"2024-01\": 12, \"2024-02\": 13}",
        ));
        return None;
    };
    let mut s = Vec::with_capacity(m.len());
    for (k, x) in m {
        let p = path.key(k);
        let Some(key) = super::time::parse_month(k) else {
            errors.push(FactError {
                code: Code::FactType,
                path: p.to_string(),
                message: format!("`{k}` is not a month"),
                help: "the keys of a monthly series are months such as \"2024-03\"".into(),
            });
            continue;
        };
        if x.is_null() {
            continue;
        }
        if let Some(Value::Num(d)) = read_scalar(prog, Type::Num(n), x, &p, errors) {
            s.push((key, d));
        }
    }
    s.sort_by_key(|(k, _)| *k);
    Some(FactValue::Series(Series(s)))
}

fn read_value(
    prog: &Program,
    ty: Type,
    v: &J,
    path: &JPath<'_>,
    errors: &mut Vec<FactError>,
) -> Option<FactValue> {
    match ty {
        Type::Series(n) => {
            let J::Object(m) = v else {
                errors.push(type_error(prog, ty, v, path, "write {\"2022\": 80000000, \"2023\": 120000000}"));
                return None;
            };
            let mut s = Vec::with_capacity(m.len());
            for (y, x) in m {
                let p = path.key(y);
                let Some(year) = y.parse::<i32>().ok().filter(|y| (1900..=2200).contains(y)) else {
                    errors.push(FactError {
                        code: Code::FactType,
                        path: p.to_string(),
                        message: format!("`{y}` is not a year"),
                        help: "the keys of a yearly series are years such as \"2023\"".into(),
                    });
                    continue;
                };
                if x.is_null() {
                    continue;
                }
                if let Some(Value::Num(d)) = read_scalar(prog, Type::Num(n), x, &p, errors) {
                    s.push((year, d));
                }
            }
            s.sort_by_key(|(y, _)| *y);
            Some(FactValue::Series(Series(s)))
        }
        Type::List(r) => {
            let J::Array(items) = v else {
                errors.push(type_error(prog, ty, v, path, "write a list of objects: [{\"字段\": 值}]"));
                return None;
            };
            let rec = prog.records.get(r as usize)?;
            let mut out = Vec::with_capacity(items.len());
            for (i, it) in items.iter().enumerate() {
                let ip = path.index(i);
                let J::Object(m) = it else {
                    errors.push(type_error(
                        prog,
                        Type::Record(r),
                        it,
                        &ip,
                        "each item is an object of the record's fields",
                    ));
                    continue;
                };
                let mut fields = vec![None; rec.fields.len()];
                for (k, x) in m {
                    if k.starts_with('$') {
                        continue;
                    }
                    let fp = ip.key(k);
                    let Some(fi) = rec.fields.iter().position(|f| f.name == *k) else {
                        let help = did_you_mean(k, rec.fields.iter().map(|f| f.name.as_str()))
                            .unwrap_or_else(|| {
                                format!(
                                    "the fields of `{}` are {}",
                                    rec.name,
                                    rec.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
                                )
                            });
                        errors.push(FactError {
                            code: Code::UnknownFact,
                            path: fp.to_string(),
                            message: format!("unknown field `{k}` of `{}`", rec.name),
                            help,
                        });
                        continue;
                    };
                    if x.is_null() {
                        continue;
                    }
                    let fty = rec.fields.get(fi).map(|f| f.ty)?;
                    if let Some(fv) = read_value(prog, fty, x, &fp, errors)
                        && let Some(slot) = fields.get_mut(fi)
                    {
                        *slot = Some(fv);
                    }
                }
                out.push(Item { fields });
            }
            Some(FactValue::List(out))
        }
        _ => read_scalar(prog, ty, v, path, errors).map(FactValue::Scalar),
    }
}

fn read_scalar(
    prog: &Program,
    ty: Type,
    v: &J,
    path: &JPath<'_>,
    errors: &mut Vec<FactError>,
) -> Option<Value> {
    let fail = |errors: &mut Vec<FactError>, help: &str| {
        errors.push(type_error(prog, ty, v, path, help));
        None
    };
    match ty {
        Type::Num(n) => {
            let parsed = match v {
                J::Number(x) => match parse_decimal(&x.to_string()) {
                    Ok(d) => Ok(Literal::Number(d)),
                    Err(_) => {
                        errors.push(FactError {
                            code: Code::FactOutOfRange,
                            path: path.to_string(),
                            message: format!(
                                "the number {x} is too large (or too precise) for an exact decimal of 28 digits"
                            ),
                            help: "check the magnitude (amounts are in yuan); write at most 28 significant digits".into(),
                        });
                        return None;
                    }
                },
                J::String(s) => parse_literal(s),
                _ => return fail(errors, num_help(n)),
            };
            match of_kind(n, parsed) {
                Some(d) => Some(Value::Num(d)),
                None => fail(errors, num_help(n)),
            }
        }
        Type::Bool => match v {
            J::Bool(b) => Some(Value::Bool(*b)),
            _ => fail(errors, "write true or false"),
        },
        Type::Date => match v {
            // `date or never`: checked against the declaration in `check_ranges`
            J::String(s) if s == "never" => Some(Value::Date(Date::NEVER)),
            J::String(s) => match s.parse::<Date>() {
                Ok(d) => Some(Value::Date(d)),
                Err(m) => {
                    errors.push(FactError {
                        code: Code::FactType,
                        path: path.to_string(),
                        message: m,
                        help: "write dates as \"YYYY-MM-DD\"".into(),
                    });
                    None
                }
            },
            _ => fail(errors, "write dates as \"YYYY-MM-DD\""),
        },
        Type::Year => {
            let d = match v {
                J::Number(x) => parse_decimal(&x.to_string()).ok(),
                J::String(s) => parse_decimal(s).ok(),
                _ => None,
            };
            match d.and_then(as_year) {
                Some(y) => Some(Value::Num(Decimal::from(y))),
                None => fail(errors, "write a year such as 2023"),
            }
        }
        Type::Text => match v {
            J::String(s) => Some(Value::Text(Arc::from(s.as_str()))),
            _ => fail(errors, "write a text in quotes"),
        },
        Type::Enum(e) => {
            let def = prog.enums.get(e as usize)?;
            match v {
                J::String(s) => match def.variants.iter().position(|x| x == s) {
                    Some(i) => Some(Value::Enum(u32::try_from(i).unwrap_or(u32::MAX))),
                    None => {
                        let help =
                            did_you_mean(s, def.variants.iter().map(String::as_str)).unwrap_or_else(|| {
                                format!("the values of `{}` are {}", def.name, def.variants.join(", "))
                            });
                        errors.push(FactError {
                            code: Code::FactType,
                            path: path.to_string(),
                            message: format!("`{s}` is not a value of `{}`", def.name),
                            help,
                        });
                        None
                    }
                },
                _ => fail(errors, &format!("write one of {}", def.variants.join(", "))),
            }
        }
        Type::Series(_) | Type::List(_) | Type::Record(_) => fail(errors, "this needs a structured value"),
    }
}

/// A literal read for a numeric kind: money takes money or a plain number, a rate a rate or
/// a plain number, a number a plain number, an integer a whole one; anything else is `None`.
pub(super) fn of_kind(n: Num, parsed: Result<Literal, String>) -> Option<Decimal> {
    match (n, parsed) {
        (Num::Money, Ok(Literal::Money(d) | Literal::Number(d))) => Some(d),
        (Num::Rate, Ok(Literal::Rate(d) | Literal::Number(d))) => Some(d),
        (Num::Number, Ok(Literal::Number(d))) => Some(d),
        (Num::Integer, Ok(Literal::Number(d))) if d.fract().is_zero() => Some(d),
        _ => None,
    }
}

fn num_help(n: Num) -> &'static str {
    match n {
        Num::Money => {
            "write money in yuan as a JSON number (120000000) or a text such as \"1.2亿\" or \"30万\""
        }
        Num::Rate => "write a rate as a fraction (0.15) or a text such as \"15%\"",
        Num::Number => "write a number",
        Num::Integer => "write a whole number",
    }
}

fn type_error(prog: &Program, ty: Type, v: &J, path: &JPath<'_>, help: &str) -> FactError {
    FactError {
        code: Code::FactType,
        path: path.to_string(),
        message: format!("expected {}, found {}", prog.type_name(ty), kind(v)),
        help: help.into(),
    }
}
