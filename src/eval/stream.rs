//! Facts read straight from JSON text into slots, without building a `serde_json::Value`
//! tree: the batch path, where parsing costs more than evaluating.
//!
//! Invariant: [`FactsReader::read`] returns exactly the [`Facts`] that
//! [`super::facts::parse_facts`] returns for the same text, or `None`; it never reports an
//! error itself. Anything it does not take in its stride (an unknown or mistyped fact, a
//! duplicate key, an odd `$period`) gives `None`, and the caller reads the text again the
//! slow way, which names every problem with its JSON path. Numbers are read from their JSON
//! text as exact decimals.

use super::facts::{FactValue, Facts, Item, Series, Value};
use crate::ir::{FactId, Num, Program, RecordDef, Type};
use crate::value::{Date, Literal, as_year, parse_decimal, parse_literal};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// What a batch row says about itself besides its facts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowMeta {
    /// `$id`, or `$name` when there is no `$id`; `None` when that is not a text.
    pub enterprise: Option<String>,
    /// `$period` when it is a whole year (a number or a text).
    pub period: Option<i32>,
}

type Fast<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;

/// The vocabulary indexed for reading: fact names, enumeration values and record fields
/// hashed once per program. Build it once and share it across threads.
#[derive(Clone, Debug)]
pub struct FactsReader<'p> {
    prog: &'p Program,
    facts: Fast<&'p str, FactId>,
    /// Per enumeration: value → index.
    variants: Vec<Fast<&'p str, u32>>,
    /// Per record: field name → index.
    fields: Vec<Fast<&'p str, usize>>,
    defaults: super::facts::Defaults,
    /// Every declared default passes the range checks ([`super::facts::Defaults::in_range`]).
    defaults_in_range: bool,
}

impl<'p> FactsReader<'p> {
    pub fn new(prog: &'p Program) -> FactsReader<'p> {
        let defaults = super::facts::Defaults::new(prog);
        let defaults_in_range = defaults.in_range(prog);
        let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        FactsReader {
            prog,
            facts: prog.facts.iter().enumerate().map(|(i, f)| (f.name.as_str(), index(i))).collect(),
            variants: prog
                .enums
                .iter()
                .map(|e| e.variants.iter().enumerate().map(|(i, v)| (v.as_str(), index(i))).collect())
                .collect(),
            fields: prog
                .records
                .iter()
                .map(|r| r.fields.iter().enumerate().map(|(i, f)| (f.name.as_str(), i)).collect())
                .collect(),
            defaults,
            defaults_in_range,
        }
    }

    /// Fills in the declared defaults and checks the ranges, as every facts reader does
    /// ([`super::facts::complete`], [`super::facts::check_ranges`]): `false` when a value is
    /// implausible (the tree reader reports it, with its path).
    pub(crate) fn complete(&self, facts: &mut Facts) -> bool {
        self.defaults.complete(facts);
        super::facts::check_ranges(self.prog, facts).is_empty()
    }

    /// Fills in the declared defaults of facts whose every value was range-checked as it was
    /// read (the columnar reader's way): the completed facts are checked again only when a
    /// default itself is out of range. `false` when a value is implausible.
    pub(crate) fn complete_read_checked(&self, facts: &mut Facts) -> bool {
        self.defaults.complete(facts);
        self.defaults_in_range || super::facts::check_ranges(self.prog, facts).is_empty()
    }

    /// Reads one facts object; `None` when the slow reader must decide (see the module).
    pub fn read(&self, text: &str) -> Option<(Facts, RowMeta)> {
        let mut de = serde_json::Deserializer::from_str(text);
        let mut out = FactsSeed { r: self }.deserialize(&mut de).ok()?;
        de.end().ok()?;
        // an implausible value is reported, with its path, by the tree reader
        self.complete(&mut out.0).then_some(out)
    }
}

/// Which of a small set of keys were seen (up to 64; more gives up).
#[derive(Default)]
struct Seen(Vec<u64>);

impl Seen {
    fn with(n: usize) -> Seen {
        Seen(vec![0; n.div_ceil(64)])
    }
    /// Marks `i`; `false` when it was already marked.
    fn first(&mut self, i: usize) -> bool {
        match self.0.get_mut(i / 64) {
            Some(w) => {
                let bit = 1u64 << (i % 64);
                let fresh = *w & bit == 0;
                *w |= bit;
                fresh
            }
            None => false,
        }
    }
}

/// Gives up: the slow reader decides.
fn bail<E: de::Error>() -> E {
    E::custom("")
}

struct FactsSeed<'r, 'p> {
    r: &'r FactsReader<'p>,
}

impl<'de> DeserializeSeed<'de> for FactsSeed<'_, '_> {
    type Value = (Facts, RowMeta);
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FactsSeed<'_, '_> {
    type Value = (Facts, RowMeta);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a facts object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let r = self.r;
        let prog = r.prog;
        let mut values: Vec<Option<FactValue>> = vec![None; prog.facts.len()];
        let mut seen = Seen::with(prog.facts.len());
        let (mut id, mut name, mut period): (
            Option<Option<String>>,
            Option<Option<String>>,
            Option<Tok<'de>>,
        ) = (None, None, None);
        let mut meta_seen = [false; 3];
        while let Some(key) = map.next_key_seed(Key)? {
            if let Some(meta) = key.strip_prefix('$') {
                let which = match meta {
                    "id" => 0,
                    "name" => 1,
                    "period" => 2,
                    // honoured by the tree reader (`facts::meta_as_of`)
                    "as_of" => return Err(bail()),
                    _ => {
                        map.next_value_seed(Skip)?;
                        continue;
                    }
                };
                let seen_before = meta_seen.get_mut(which).ok_or_else(bail)?;
                if std::mem::replace(seen_before, true) {
                    return Err(bail());
                }
                let tok = map.next_value_seed(TokSeed)?;
                match which {
                    0 => id = Some(text_of(tok)),
                    1 => name = Some(text_of(tok)),
                    _ => period = Some(tok),
                }
                continue;
            }
            let fid = *r.facts.get(&*key).ok_or_else(bail)?;
            if !seen.first(fid as usize) {
                return Err(bail());
            }
            let def = prog.facts.get(fid as usize).ok_or_else(bail)?;
            if def.monthly {
                // a monthly series (keys "2024-03"): the tree reader reads it
                return Err(bail());
            }
            let ty = def.ty;
            let v = map.next_value_seed(ValueSeed { r, ty })?;
            if let Some(slot) = values.get_mut(fid as usize) {
                *slot = v;
            }
        }
        let enterprise = match id {
            Some(x) => x,
            None => name.flatten(),
        };
        let period = match period {
            None => None,
            Some(tok) => Some(period_of(tok).ok_or_else(bail)?),
        };
        Ok((Facts { values }, RowMeta { enterprise, period: period.flatten() }))
    }
}

/// A text value's content, `None` for anything else.
fn text_of(t: Tok<'_>) -> Option<String> {
    match t {
        Tok::Str(s) => Some(s.into_owned()),
        _ => None,
    }
}

/// `$period` as `facts::default_period` reads it: `Some(None)` when it is not a whole year
/// written as such; `None` (ask the slow reader) for a number form it may read otherwise.
fn period_of(t: Tok<'_>) -> Option<Option<i32>> {
    match t {
        Tok::Str(s) => Some(s.parse::<i32>().ok()),
        Tok::Num(n) => n.parse::<i32>().ok().map(Some),
        Tok::Dec(_) => None,
        Tok::Bool(_) | Tok::Null => Some(None),
    }
}

/// Skips a value (`$…` metadata this reader does not use) as the tree reader reads it, so that
/// serde_json's nesting limit (128) holds here too: `IgnoredAny` skips without a limit, and
/// metadata nested deeper than the tree reader takes would pass here and fail there.
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }
    /// An object, or (under `arbitrary_precision`) a number as a one-entry map.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Skip)?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }
}

/// A map key, borrowed from the text when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

/// A value of a declared type; `None` for `null` (an absent fact).
struct ValueSeed<'r, 'p> {
    r: &'r FactsReader<'p>,
    ty: Type,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = Option<FactValue>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        match self.ty {
            Type::Series(n) => d.deserialize_any(SeriesVisitor { n }),
            Type::List(rec) => {
                let def = self.r.prog.records.get(rec as usize).ok_or_else(bail)?;
                let fields = self.r.fields.get(rec as usize).ok_or_else(bail)?;
                d.deserialize_any(ListVisitor { r: self.r, rec: def, fields })
            }
            ty => scalar(self.r, ty, TokSeed.deserialize(d)?).map(|v| v.map(FactValue::Scalar)),
        }
    }
}

/// A scalar JSON value as the parser hands it over: a string (borrowed when it has no
/// escapes), a number's exact text, a boolean, `null`.
pub(crate) enum Tok<'a> {
    Str(Cow<'a, str>),
    Num(&'a str),
    /// A number already read (an Arrow decimal or integer cell).
    #[cfg_attr(
        not(feature = "arrow"),
        expect(dead_code, reason = "only the columnar reader (feature `arrow`) reads cells")
    )]
    Dec(rust_decimal::Decimal),
    Bool(bool),
    Null,
}

/// Takes one scalar value from its raw text (serde_json has checked it); anything
/// structured gives up.
struct TokSeed;

impl<'de> DeserializeSeed<'de> for TokSeed {
    type Value = Tok<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let raw: &'de RawValue = de::Deserialize::deserialize(d)?;
        let t = raw.get();
        Ok(match t.as_bytes().first() {
            Some(b'"') => match t.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
                Some(inner) if !inner.contains('\\') => Tok::Str(Cow::Borrowed(inner)),
                _ => Tok::Str(Cow::Owned(serde_json::from_str::<String>(t).map_err(|_| bail::<D::Error>())?)),
            },
            Some(b't') => Tok::Bool(true),
            Some(b'f') => Tok::Bool(false),
            Some(b'n') => Tok::Null,
            Some(b'-' | b'0'..=b'9') => Tok::Num(t),
            _ => return Err(bail()),
        })
    }
}

/// A scalar, as `facts::read_scalar` reads it; `Ok(None)` for `null`.
pub(crate) fn scalar<E: de::Error>(r: &FactsReader<'_>, ty: Type, t: Tok<'_>) -> Result<Option<Value>, E> {
    let v = match (ty, t) {
        (_, Tok::Null) => return Ok(None),
        (Type::Num(n), t) => Value::Num(num(n, t)?),
        (Type::Bool, Tok::Bool(b)) => Value::Bool(b),
        (Type::Date, Tok::Str(s)) if &*s == "never" => Value::Date(Date::NEVER),
        (Type::Date, Tok::Str(s)) => Value::Date(s.parse::<Date>().map_err(|_| bail())?),
        (Type::Year, Tok::Num(t)) => Value::Num(year(t)?),
        (Type::Year, Tok::Dec(d)) => {
            Value::Num(as_year(d).map(rust_decimal::Decimal::from).ok_or_else(bail)?)
        }
        (Type::Year, Tok::Str(s)) => Value::Num(year(&s)?),
        (Type::Text, Tok::Str(s)) => Value::Text(Arc::from(&*s)),
        (Type::Enum(e), Tok::Str(s)) => {
            Value::Enum(*r.variants.get(e as usize).and_then(|m| m.get(&*s)).ok_or_else(bail)?)
        }
        _ => return Err(bail()),
    };
    Ok(Some(v))
}

fn year<E: de::Error>(t: &str) -> Result<rust_decimal::Decimal, E> {
    parse_decimal(t).ok().and_then(as_year).map(rust_decimal::Decimal::from).ok_or_else(bail)
}

/// A number of a kind (not `null`), as `facts::read_scalar` reads it.
pub(crate) fn num<E: de::Error>(n: Num, t: Tok<'_>) -> Result<rust_decimal::Decimal, E> {
    let parsed = match t {
        Tok::Num(t) => parse_decimal(t).map(Literal::Number),
        Tok::Dec(d) => Ok(Literal::Number(d)),
        Tok::Str(s) => match plain_decimal(&s) {
            // `"17945016.52"`, the common case: what `parse_literal` makes of it, directly
            Some(d) => Ok(Literal::Number(d)),
            None => parse_literal(&s),
        },
        Tok::Bool(_) | Tok::Null => return Err(bail()),
    };
    super::facts::of_kind(n, parsed).ok_or_else(bail)
}

/// A decimal written plainly — an optional `-`, at most 18 digits with at most one `.`
/// between them — read in one pass; `None` for anything else (and for a negative zero),
/// which `parse_literal` then reads. Equal to `Decimal::from_str_exact`, scale included.
fn plain_decimal(s: &str) -> Option<rust_decimal::Decimal> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let bytes = digits.as_bytes();
    if bytes.first().is_none_or(|b| !b.is_ascii_digit()) || bytes.last().is_none_or(|b| !b.is_ascii_digit()) {
        return None;
    }
    let (mut m, mut n, mut scale): (i64, u32, Option<u32>) = (0, 0, None);
    for &b in bytes {
        match b {
            b'0'..=b'9' => {
                n += 1;
                if n > 18 {
                    return None;
                }
                m = m * 10 + i64::from(b - b'0');
                if let Some(k) = scale.as_mut() {
                    *k += 1;
                }
            }
            b'.' if scale.is_none() => scale = Some(0),
            _ => return None,
        }
    }
    if neg && m == 0 {
        return None;
    }
    rust_decimal::Decimal::try_new(if neg { -m } else { m }, scale.unwrap_or(0)).ok()
}

struct SeriesVisitor {
    n: Num,
}

impl<'de> Visitor<'de> for SeriesVisitor {
    type Value = Option<FactValue>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a yearly series")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut s: Vec<(i32, rust_decimal::Decimal)> = Vec::with_capacity(map.size_hint().unwrap_or(4));
        // years 1900–2200, one bit each
        let mut years = [0u64; 5];
        let mut sorted = true;
        while let Some(key) = map.next_key_seed(Key)? {
            let year = key.parse::<i32>().ok().filter(|y| (1900..=2200).contains(y)).ok_or_else(bail)?;
            let off = usize::try_from(year - 1900).map_err(|_| bail())?;
            let word = years.get_mut(off / 64).ok_or_else(bail)?;
            if *word & (1 << (off % 64)) != 0 {
                return Err(bail());
            }
            *word |= 1 << (off % 64);
            match map.next_value_seed(TokSeed)? {
                Tok::Null => {}
                t => {
                    sorted &= s.last().is_none_or(|(y, _)| *y < year);
                    s.push((year, num(self.n, t)?));
                }
            }
        }
        if !sorted {
            s.sort_by_key(|(y, _)| *y);
        }
        Ok(Some(FactValue::Series(Series(s))))
    }
}

struct ListVisitor<'r, 'p> {
    r: &'r FactsReader<'p>,
    rec: &'p RecordDef,
    fields: &'r Fast<&'p str, usize>,
}

impl<'de> Visitor<'de> for ListVisitor<'_, '_> {
    type Value = Option<FactValue>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(2));
        while let Some(item) =
            seq.next_element_seed(ItemSeed { r: self.r, rec: self.rec, fields: self.fields })?
        {
            out.push(item);
        }
        Ok(Some(FactValue::List(out)))
    }
}

struct ItemSeed<'r, 'p> {
    r: &'r FactsReader<'p>,
    rec: &'p RecordDef,
    fields: &'r Fast<&'p str, usize>,
}

impl<'de> DeserializeSeed<'de> for ItemSeed<'_, '_> {
    type Value = Item;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ItemSeed<'_, '_> {
    type Value = Item;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields: Vec<Option<FactValue>> = vec![None; self.rec.fields.len()];
        let mut seen = 0u64;
        while let Some(key) = map.next_key_seed(Key)? {
            if key.starts_with('$') {
                map.next_value_seed(Skip)?;
                continue;
            }
            let fi = *self.fields.get(&*key).ok_or_else(bail)?;
            let bit = 1u64.checked_shl(u32::try_from(fi).map_err(|_| bail())?).ok_or_else(bail)?;
            if seen & bit != 0 {
                return Err(bail());
            }
            seen |= bit;
            let ty = self.rec.fields.get(fi).ok_or_else(bail)?.ty;
            let v = map.next_value_seed(ValueSeed { r: self.r, ty })?;
            if let Some(slot) = fields.get_mut(fi) {
                *slot = v;
            }
        }
        Ok(Item { fields })
    }
}

#[cfg(test)]
mod tests {
    use super::{FactsReader, plain_decimal};
    use rust_decimal::Decimal;

    #[test]
    fn defaults_gathered_once_fill_what_the_tree_reader_fills() {
        let rules = r#"
enum 级别 "级别" { 低, 高 }
record 人员 "人员" {
  在读: boolean default false "在读"
  工资: money "工资"
}
fact 日期: date or never default never "日期"
fact 等级: 级别 default 低 "等级"
fact 人数: integer default 3 "人数"
fact 员工: list 人员 "员工"
policy T "t" {
  clause 1 "一" {
    quote "一"
    responsible 省财政厅
    when 等级 == 高 and 人数 > 2 and 日期 == never and any(员工 where 在读)
    amount 10万
  }
}
"#;
        let c = crate::compile(&crate::Input::from_rules([("t.policy".to_string(), rules.to_string())]))
            .unwrap_or_else(|f| panic!("{}", crate::diag::render::render_short(&f.diagnostics, &f.sources)));
        let reader = FactsReader::new(&c.program);
        for text in [
            "{}",
            r#"{"等级": "高", "员工": [{"工资": 1}, {"在读": true}]}"#,
            r#"{"人数": 7, "日期": "2024-01-02", "员工": []}"#,
        ] {
            let tree = crate::eval::facts::parse_facts(&c.program, text).unwrap_or_else(|e| panic!("{e:?}"));
            let (fast, _) = reader.read(text).unwrap_or_else(|| panic!("{text}: not read"));
            assert_eq!(fast, tree, "{text}");
        }
    }

    #[test]
    fn plain_decimals_read_as_from_str_exact_reads_them() {
        let cases = [
            "0",
            "7",
            "007",
            "0.00",
            "17945016.52",
            "-12.5",
            "123456789012345678",
            "1234567890.12345678",
            "0.000000000000000001",
            "-1",
            "99.990",
            "5.",
        ];
        for c in cases {
            let exact = Decimal::from_str_exact(c).ok();
            match plain_decimal(c) {
                Some(d) => {
                    let e = exact.unwrap_or_else(|| panic!("{c}: from_str_exact refuses it"));
                    assert_eq!(format!("{d:?}"), format!("{e:?}"), "{c}");
                    assert_eq!(d.is_sign_negative(), e.is_sign_negative(), "{c}");
                }
                // left to `parse_literal`: a trailing point, more than 18 digits
                None => assert!(matches!(c, "5." | "0.000000000000000001"), "{c} should be read"),
            }
        }
        for other in
            ["", "-", ".5", "1.2.3", "1e5", "1,000", "-0", "-0.00", "1234567890123456789", "+1", " 1", "１"]
        {
            assert_eq!(plain_decimal(other), None, "{other}");
        }
    }
}
