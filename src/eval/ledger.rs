//! The grant ledger: what an enterprise was granted in earlier periods. The caller passes it
//! in; an evaluation returns the entries it adds. One-time awards, yearly and lifetime caps,
//! "at most N years" and carried credits all read it.
//!
//! JSON form (stable, `schema_version` 1): `{"schema_version": 1, "entries": [ … ]}` or a
//! bare array of entries; an entry is
//! `{"policy": "S22", "clause": "14a", "key": null, "period": 2023, "amount": "300000.00"}`,
//! and for a carried credit also `"balance"` (what is left of that year's credit after this
//! period) and `"expires"` (the last year it may be used).
//!
//! A ledger is input: [`Ledger::check`] validates every entry against the rule set before it is
//! used. An entry whose document, clause or key names nothing would otherwise be ignored, and
//! a one-time award would be paid again; so it is an error with the entry's index and a
//! did-you-mean. Keys have one canonical form: a tier's threshold as huiqi writes money
//! (`1亿`, `5000万`, `300元`; a threshold that is not a constant is written as in the rule
//! file), a category's value name (`省级`), a credit's year (`2023`), and `null` for every
//! other clause. Amounts written by huiqi have at least two decimals (`"500000.00"`).

use crate::diag::{Code, Diagnostic, did_you_mean};
use crate::ir::{Amount, ClauseDef, Program};
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
    #[serde(serialize_with = "yuan", deserialize_with = "rust_decimal::serde::str::deserialize")]
    #[cfg_attr(feature = "serve", schema(value_type = String))]
    pub amount: Decimal,
    /// For a carried credit: what remains of it after this period.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "yuan_option",
        deserialize_with = "rust_decimal::serde::str_option::deserialize"
    )]
    #[cfg_attr(feature = "serve", schema(value_type = Option<String>))]
    pub balance: Option<Decimal>,
    /// For a carried credit: the last year it may be used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<i32>,
    /// For an entry of a clause that is not a cash benefit (a tax relief's one-time use or
    /// carried credit): its kind, so that no reader adds it to cash. Absent for cash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "serve", schema(value_type = Option<String>))]
    pub kind: Option<crate::syntax::ast::ClauseKind>,
}

/// Amounts in the canonical form of the JSON contract (`"500000.00"`).
fn yuan<S: serde::Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::value::fmt_yuan(*d))
}

fn yuan_option<S: serde::Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => yuan(d, s),
        None => s.serialize_none(),
    }
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

    /// Validates every entry against the rule set: its document and clause exist, its key is
    /// one the clause can write (a tier, a category, a credit's year, or `null`), amounts are
    /// not negative and a balance belongs to a credit. Every problem is reported, each located
    /// at `entries[i]` in `file`, with a did-you-mean where one fits.
    pub fn check(&self, prog: &Program, file: &str) -> Result<(), Vec<Diagnostic>> {
        let mut out = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            if let Err(d) = check_entry(prog, e) {
                out.push(d.in_input(file, format!("entries[{i}]")));
            }
        }
        if out.is_empty() { Ok(()) } else { Err(out) }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(LedgerFile { schema_version: LEDGER_SCHEMA_VERSION, entries: &self.entries })
            .unwrap_or(serde_json::Value::Null)
    }

    pub fn extend(&mut self, new: impl IntoIterator<Item = LedgerEntry>) {
        self.entries.extend(new);
    }
}

/// The keys a clause writes to the ledger, when they are a closed set (tiers, categories).
fn clause_keys(c: &ClauseDef) -> Option<Vec<&str>> {
    match &c.amount {
        Amount::Tiers { tiers, .. } => Some(tiers.iter().map(|t| &*t.key).collect()),
        Amount::Category { arms, .. } => Some(arms.iter().map(|a| &*a.name).collect()),
        _ => None,
    }
}

fn check_entry(prog: &Program, e: &LedgerEntry) -> Result<(), Box<Diagnostic>> {
    let bad = |msg: String, help: String| Box::new(Diagnostic::new(Code::LedgerInvalid, msg).help(help));
    let policy = &*e.policy;
    if !prog.policies.iter().any(|p| p.key == policy) {
        let hint = did_you_mean(policy, prog.policies.iter().map(|p| p.key.as_str()));
        return Err(bad(
            format!("the ledger entry names the document `{policy}`, which is not in the rule set"),
            hint.unwrap_or_else(|| {
                let keys: Vec<&str> = prog.policies.iter().map(|p| p.key.as_str()).collect();
                format!("documents are named by their keys: {}", keys.join(", "))
            }),
        ));
    }
    let clause = &*e.clause;
    // an amended clause: the version in force in the entry's period wrote it (its tiers, its
    // categories)
    let Some(c) = prog.find_clause(policy, clause).and_then(|id| prog.clause_for(id, e.period)) else {
        let ids = prog
            .policies
            .iter()
            .filter(|p| p.key == policy)
            .flat_map(|p| p.clauses.iter().filter_map(|c| prog.clause(*c)).map(|c| c.id.as_str()));
        let ids: Vec<&str> = ids.collect();
        return Err(bad(
            format!("the ledger entry names the clause `{policy}.{clause}`, which `{policy}` does not have"),
            did_you_mean(clause, ids.iter().copied())
                .unwrap_or_else(|| format!("`{policy}` has the clauses {}", ids.join(", "))),
        ));
    };
    let credit = matches!(c.amount, Amount::Credit { .. });
    let each = matches!(c.amount, Amount::Each { .. });
    match (&e.key, clause_keys(c)) {
        (Some(k), Some(keys)) if !keys.contains(&&**k) => {
            return Err(bad(
                format!("`{k}` is not a key of `{policy}.{clause}`, so this grant would count for nothing"),
                did_you_mean(k, keys.iter().copied()).map_or_else(
                    || format!("its keys are {}", keys.join(", ")),
                    |h| format!("{h} (keys are written as huiqi writes them: {})", keys.join(", ")),
                ),
            ));
        }
        (None, Some(keys)) => {
            return Err(bad(
                format!("an entry of `{policy}.{clause}` needs the key of the tier or category it paid"),
                format!("give `\"key\"` one of {}", keys.join(", ")),
            ));
        }
        (Some(k), None) if credit && k.parse::<i32>().is_err() => {
            return Err(bad(
                format!(
                    "`{k}` is not a year: an entry of the credit `{policy}.{clause}` is keyed by the year it was earned"
                ),
                "write the year, e.g. `\"key\": \"2023\"`".into(),
            ));
        }
        (None, None) if each => {
            return Err(bad(
                format!("an entry of `{policy}.{clause}` needs the key of the person or item it paid"),
                "write the item's key as the clause names it (e.g. the id number), e.g. `\"key\": \"440100199901010011\"`".into(),
            ));
        }
        (Some(k), None) if !credit && !each => {
            return Err(bad(
                format!("`{policy}.{clause}` is paid as a whole, so its entries have no key (found `{k}`)"),
                "write `\"key\": null`".into(),
            ));
        }
        (None, None) if credit => {
            return Err(bad(
                format!("an entry of the credit `{policy}.{clause}` needs the year it was earned as its key"),
                "write the year, e.g. `\"key\": \"2023\"`".into(),
            ));
        }
        _ => {}
    }
    if e.amount.is_sign_negative() && !e.amount.is_zero() {
        return Err(bad(
            format!("the amount {} of a `{policy}.{clause}` entry is negative", e.amount),
            "a ledger records what was granted: amounts are zero or more".into(),
        ));
    }
    if !credit && (e.balance.is_some() || e.expires.is_some()) {
        return Err(bad(
            format!("`{policy}.{clause}` is not a carried credit, but its entry has a balance or expiry"),
            "remove `balance` and `expires`, or name the credit clause".into(),
        ));
    }
    if e.balance.is_some_and(|b| b.is_sign_negative() && !b.is_zero()) {
        return Err(bad(
            format!("the balance of a `{policy}.{clause}` entry is negative"),
            "a balance is what is left of a credit: zero or more".into(),
        ));
    }
    if let Some(k) = e.kind
        && k != c.kind
    {
        return Err(bad(
            format!(
                "the entry says `{policy}.{clause}` is of kind `{}`, but it is `{}`",
                k.as_str(),
                c.kind.as_str()
            ),
            "remove `kind` (huiqi writes it for entries that are not cash) or name the right clause".into(),
        ));
    }
    if !(1900..=2200).contains(&e.period) {
        return Err(bad(
            format!("the period {} of a `{policy}.{clause}` entry is not a plausible year", e.period),
            "periods are years such as 2023".into(),
        ));
    }
    Ok(())
}
