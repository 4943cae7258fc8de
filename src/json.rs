//! A JSON value that keeps every number as the text it was written in.
//!
//! Invariant: reading never goes through `f64` and never changes how serde_json reads numbers
//! for anyone else. serde_json parses and validates the text (so its error messages, with
//! line and column, are the ones users see); numbers are taken from their exact text through
//! [`serde_json::value::RawValue`], so `"1234.5670"` written as a JSON number keeps its four
//! decimals. The crate therefore needs no `arbitrary_precision`, a feature that would change
//! number reading in every crate of a program that embeds huiqi.

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::value::RawValue;
use std::fmt;

/// A JSON number, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Number(String);

impl Number {
    /// The number's text exactly as it was written (`1234.5670`, `1e3`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A JSON object: its entries in the order written; a repeated key keeps its first place and
/// its last value (as `serde_json::Value` with `preserve_order` does).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map(Vec<(String, Json)>);

impl Map {
    pub fn new() -> Map {
        Map(Vec::new())
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    /// Adds an entry; a key already present gets the new value in its old place.
    pub fn insert(&mut self, key: String, value: Json) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((key, value)),
        }
    }
    /// The value of `key`, added as `null` when it is not there yet.
    pub fn slot(&mut self, key: String) -> Option<&mut Json> {
        let i = match self.0.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                self.0.push((key, Json::Null));
                self.0.len().saturating_sub(1)
            }
        };
        self.0.get_mut(i).map(|(_, v)| v)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Json)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a String, &'a Json);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (String, Json)>, fn(&'a (String, Json)) -> Self::Item>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

/// A JSON value with exact numbers.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Json {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Json>),
    Object(Map),
}

impl Json {
    /// Parses JSON text; errors are serde_json's (with line and column).
    ///
    /// ```
    /// use huiqi::json::Json;
    /// let v = Json::parse(r#"{"营业收入": {"2024": 1234.5670}}"#).unwrap();
    /// let n = v.get("营业收入").and_then(|s| s.get("2024"));
    /// assert!(matches!(n, Some(Json::Number(x)) if x.as_str() == "1234.5670"));
    /// ```
    pub fn parse(text: &str) -> Result<Json, serde_json::Error> {
        // skipping a value reports some mistakes in other words than reading it does, and
        // does not count nesting: users see the reader's words, and its nesting limit holds
        let canonical = |e| serde_json::from_str::<serde_json::Value>(text).err().unwrap_or(e);
        let raw: &RawValue = serde_json::from_str(text).map_err(canonical)?;
        from_raw(raw, 0).map_err(|e| serde_json::from_str::<serde_json::Value>(text).err().unwrap_or(e))
    }

    /// The value of `key` when this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(m) => m.get(key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }
}

/// serde_json's nesting limit, which the tree reader keeps too.
const MAX_DEPTH: usize = 128;

/// Reads one value whose text serde_json has already checked; objects and arrays are read
/// entry by entry, each entry again as raw text.
fn from_raw(raw: &RawValue, depth: usize) -> Result<Json, serde_json::Error> {
    let text = raw.get();
    if depth >= MAX_DEPTH && matches!(text.as_bytes().first(), Some(b'{' | b'[')) {
        return Err(de::Error::custom("recursion limit exceeded"));
    }
    Ok(match text.as_bytes().first() {
        Some(b'{') => {
            let entries: Entries<'_> = serde_json::from_str(text)?;
            let mut m = Map::new();
            for (k, v) in entries.0 {
                m.insert(k, from_raw(v, depth + 1)?);
            }
            Json::Object(m)
        }
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(text)?;
            Json::Array(items.into_iter().map(|x| from_raw(x, depth + 1)).collect::<Result<_, _>>()?)
        }
        Some(b'"') => Json::String(serde_json::from_str(text)?),
        Some(b't') => Json::Bool(true),
        Some(b'f') => Json::Bool(false),
        Some(b'n') => Json::Null,
        _ => Json::Number(Number(text.trim().to_string())),
    })
}

/// An object's entries as raw text, in order.
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EntriesVisitor)
    }
}

struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = Entries<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut m = Vec::new();
        while let Some(k) = map.next_key::<String>()? {
            m.push((k, map.next_value::<&'de RawValue>()?));
        }
        Ok(Entries(m))
    }
}

/// Reads through whatever deserializer serde_json hands over (text, bytes, a reader).
impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        from_raw(&raw, 0).map_err(de::Error::custom)
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Number(n) => match RawValue::from_string(n.0.clone()) {
                Ok(raw) => raw.serialize(s),
                Err(_) => s.serialize_str(&n.0),
            },
            Json::String(x) => s.serialize_str(x),
            Json::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Json::Object(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// `json["key"]`: the value, or `null` when this is not an object or has no such key (as
/// `serde_json::Value` indexes).
impl std::ops::Index<&str> for Json {
    type Output = Json;
    fn index(&self, key: &str) -> &Json {
        static NULL: Json = Json::Null;
        self.get(key).unwrap_or(&NULL)
    }
}

/// Compact JSON text, numbers as written.
impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| fmt::Error)?)
    }
}

/// A JSON value the facts reader takes: [`Json`] as it is, or a `serde_json::Value` built in
/// Rust (converted; its numbers are what serde_json prints for them).
pub trait AsJson {
    fn as_json(&self) -> std::borrow::Cow<'_, Json>;
}

impl AsJson for Json {
    fn as_json(&self) -> std::borrow::Cow<'_, Json> {
        std::borrow::Cow::Borrowed(self)
    }
}

impl AsJson for serde_json::Value {
    fn as_json(&self) -> std::borrow::Cow<'_, Json> {
        std::borrow::Cow::Owned(Json::from(self))
    }
}

/// A `serde_json::Value` built in Rust: its numbers are what serde_json prints for them.
impl From<&serde_json::Value> for Json {
    fn from(v: &serde_json::Value) -> Json {
        use serde_json::Value as V;
        match v {
            V::Null => Json::Null,
            V::Bool(b) => Json::Bool(*b),
            V::Number(n) => Json::Number(Number(n.to_string())),
            V::String(s) => Json::String(s.clone()),
            V::Array(a) => Json::Array(a.iter().map(Json::from).collect()),
            V::Object(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    out.insert(k.clone(), Json::from(x));
                }
                Json::Object(out)
            }
        }
    }
}

impl From<serde_json::Value> for Json {
    fn from(v: serde_json::Value) -> Json {
        Json::from(&v)
    }
}

impl From<Number> for Json {
    fn from(n: Number) -> Json {
        Json::Number(n)
    }
}

impl Number {
    /// A number from text, when the text is a JSON number.
    pub fn from_text(text: &str) -> Option<Number> {
        let raw: &RawValue = serde_json::from_str(text).ok()?;
        let t = raw.get();
        matches!(t.as_bytes().first(), Some(b'-' | b'0'..=b'9')).then(|| Number(t.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_text() {
        let v =
            Json::parse(r#" {"a": [1234.5670, -0.10, 1e3, 18446744073709551616], "b": {"c": 7}} "#).unwrap();
        let a: Vec<String> = match v.get("a") {
            Some(Json::Array(a)) => a.iter().map(|x| serde_json::to_string(x).unwrap()).collect(),
            _ => panic!("{v:?}"),
        };
        assert_eq!(a, ["1234.5670", "-0.10", "1e3", "18446744073709551616"]);
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"a":[1234.5670,-0.10,1e3,18446744073709551616],"b":{"c":7}}"#
        );
    }

    #[test]
    fn strings_escapes_duplicates_and_errors() {
        let v = Json::parse(r#"{"k": "a\"b\u00e9", "k": true, "n": null}"#).unwrap();
        assert_eq!(v.get("k"), Some(&Json::Bool(true)));
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"k":true,"n":null}"#);
        let v = Json::parse(r#"["a\"b\u00e9"]"#).unwrap();
        assert_eq!(v, Json::Array(vec![Json::String("a\"bé".into())]));
        let e = Json::parse("{\"a\": 1,}").unwrap_err();
        assert_eq!(
            e.to_string(),
            serde_json::from_str::<serde_json::Value>("{\"a\": 1,}").unwrap_err().to_string()
        );
        assert!(Json::parse("[1] x").is_err());
    }

    #[test]
    fn reads_through_serde_too() {
        let v: Json = serde_json::from_slice(br#"{"x": 0.30}"#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"x":0.30}"#);
        assert_eq!(Number::from_text("2.50").map(|n| n.to_string()), Some("2.50".into()));
        assert_eq!(Number::from_text("\"2\""), None);
    }
}
