//! The grant ledger: what an enterprise was granted in earlier periods. The caller passes it
//! in; an evaluation returns the entries it adds. One-time awards, yearly and lifetime caps,
//! "at most N years" and carried credits all read it.
//!
//! JSON form (stable, `schema_version` 1): `{"schema_version": 1, "entries": [ … ]}` or a
//! bare array of entries; an entry is
//! `{"policy": "S22", "clause": "14a", "key": null, "period": 2023, "amount": "300000.00"}`,
//! and for a carried credit also `"balance"` (what is left of that year's credit after this
//! period) and `"expires"` (the last year it may be used).

use crate::diag::{Code, Diagnostic};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const LEDGER_SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "serve", derive(utoipa::ToSchema))]
pub struct LedgerEntry {
    /// Document key, e.g. `S22` (shared, so recording a grant allocates nothing).
    #[cfg_attr(feature = "serve", schema(value_type = String))]
    pub policy: Arc<str>,
    /// Article id, e.g. `14a`.
    #[cfg_attr(feature = "serve", schema(value_type = String))]
    pub clause: Arc<str>,
    /// What the grant was once-per: a tier (`1亿`), a category, or for a credit the year it
    /// was earned. `null` for the clause as a whole.
    #[serde(default)]
    #[cfg_attr(feature = "serve", schema(value_type = Option<String>))]
    pub key: Option<Arc<str>>,
    /// The period (year) of the grant.
    pub period: i32,
    /// The amount granted (for a credit: used) in that period, in yuan.
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "serve", schema(value_type = String))]
    pub amount: Decimal,
    /// For a carried credit: what remains of it after this period.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "serve", schema(value_type = Option<String>))]
    pub balance: Option<Decimal>,
    /// For a carried credit: the last year it may be used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<i32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub entries: Vec<LedgerEntry>,
}

#[derive(Serialize)]
struct LedgerFile<'a> {
    schema_version: u32,
    entries: &'a [LedgerEntry],
}

impl Ledger {
    pub fn new(entries: Vec<LedgerEntry>) -> Ledger {
        Ledger { entries }
    }

    /// Reads a ledger from JSON text; `file` names it in diagnostics, which point at the
    /// offending entry (`entries[2].amount`).
    pub fn from_json(text: &str, file: &str) -> Result<Ledger, Box<Diagnostic>> {
        const FORM: &str = "a ledger is {\"schema_version\": 1, \"entries\": [{\"policy\": \"S22\", \"clause\": \"14a\", \"key\": null, \"period\": 2023, \"amount\": \"300000.00\"}]}";
        let bad = |path: String, msg: String| {
            Box::new(Diagnostic::new(Code::LedgerInvalid, msg).in_input(file, path).help(FORM))
        };
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            bad(
                format!("line {}, column {}", e.line(), e.column()),
                format!("the ledger is not valid JSON: {e}"),
            )
        })?;
        let (entries, prefix) = match &json {
            serde_json::Value::Array(a) => (a, ""),
            serde_json::Value::Object(m) => {
                if let Some(v) = m.get("schema_version")
                    && v.as_u64() != Some(u64::from(LEDGER_SCHEMA_VERSION))
                {
                    return Err(Box::new(
                        Diagnostic::new(
                            Code::LedgerInvalid,
                            format!("ledger schema_version {v} is not supported"),
                        )
                        .in_input(file, "schema_version")
                        .help(format!("this huiqi reads schema_version {LEDGER_SCHEMA_VERSION}")),
                    ));
                }
                match m.get("entries") {
                    Some(serde_json::Value::Array(a)) => (a, "entries"),
                    _ => return Err(bad("entries".into(), "the ledger has no `entries` list".into())),
                }
            }
            _ => return Err(bad("$".into(), "a ledger is a JSON object or a list of entries".into())),
        };
        let mut out = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            let entry: LedgerEntry = serde_json::from_value(e.clone()).map_err(|err| {
                bad(format!("{prefix}[{i}]"), format!("ledger entry {i} is invalid: {err}"))
            })?;
            out.push(entry);
        }
        Ok(Ledger { entries: out })
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(LedgerFile { schema_version: LEDGER_SCHEMA_VERSION, entries: &self.entries })
            .unwrap_or(serde_json::Value::Null)
    }

    pub fn extend(&mut self, new: impl IntoIterator<Item = LedgerEntry>) {
        self.entries.extend(new);
    }
}
