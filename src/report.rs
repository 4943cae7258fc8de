//! JSON report types of `huiqi eval` and `huiqi simulate`: the output contract. Built from
//! library outcomes; never internal structs serialised as they are. Any change to these shapes
//! is a breaking change and bumps [`EVAL_SCHEMA_VERSION`].

use crate::eval::{ClauseResult, Lang, LedgerEntry, Outcome, Status, Step};
use crate::ir::Program;
use crate::value::fmt_yuan;
use serde::Serialize;

pub const EVAL_SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
#[cfg_attr(feature = "serve", derive(utoipa::ToSchema))]
pub struct EvalReport {
    pub schema_version: u32,
    /// The enterprise's `$name` (or `$id`) from the facts, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<String>,
    pub period: i32,
    pub as_of: String,
    pub results: Vec<ResultJson>,
    /// The ledger entries this evaluation adds.
    pub ledger: Vec<LedgerEntry>,
    /// The sum of granted cash amounts, in yuan; `null` only when it overflows (then `errors`
    /// holds E0504 naming the clause).
    pub total: Option<String>,
    /// Clauses whose evaluation failed (overflow, division by zero …).
    pub errors: Vec<ClauseErrorJson>,
}

impl EvalReport {
    /// The document as `huiqi eval --format json` prints it (pretty, two-space indent, fields
    /// in declaration order, amounts as exact decimal strings); every surface that hands out
    /// the document as text (the command line, the calculator in WebAssembly) writes it here.
    pub fn to_json_text(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[derive(Serialize)]
#[cfg_attr(feature = "serve", derive(utoipa::ToSchema))]
pub struct ResultJson {
    pub policy: String,
    pub number: Option<String>,
    pub clause: String,
    pub title: String,
    /// What the result is: `benefit` (cash, counted in `total`), `tax` (a tax relief),
    /// `ceiling` (a limit binding a third party), `provides` (a non-cash benefit: a service, a
    /// right, a priority), `priority`, `definition`. Only `benefit` amounts are cash.
    pub kind: &'static str,
    pub status: Status,
    pub amount: Option<String>,
    pub cap: Option<String>,
    pub floor: Option<String>,
    pub explanation: Vec<StepJson>,
    pub reasons: Vec<StepJson>,
    pub missing: Vec<String>,
    /// For a clause that later documents changed (`amends`, `extends`, `repeals`): the
    /// document whose words applied to this period and the change, e.g. `{"document": "E24",
    /// "change": "amends", "date": "2024-01-01", "clause": "E23.5"}`. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<crate::eval::relations::Version>,
    /// With `--advise`: what it would take to pay (more), one entry per fact that can move.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<Vec<AdviceJson>>,
    /// With `--advise`: conditions the enterprise cannot change (its industry, a date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchangeable: Option<Vec<FixedJson>>,
}

/// One advice (`eval --advise`): the fact, its value now and the value needed, the gap, and
/// the clause's amount now and after the change; amounts in yuan as exact decimal strings,
/// rates as fractions.
#[derive(Serialize, Clone)]
#[cfg_attr(feature = "serve", derive(utoipa::ToSchema))]
pub struct AdviceJson {
    pub fact: String,
    pub now: Option<String>,
    pub needed: String,
    pub gap: Option<String>,
    pub amount_now: Option<String>,
    pub amount_after: Option<String>,
    pub status_after: Status,
    /// The advice as a sentence (zh or en).
    pub text: String,
}

#[derive(Serialize, Clone)]
#[cfg_attr(feature = "serve", derive(utoipa::ToSchema))]
pub struct FixedJson {
    pub fact: String,
    pub condition: String,
}

/// The advice of one clause as JSON.
pub fn advice_json(a: &crate::eval::advise::ClauseAdvice, lang: Lang) -> (Vec<AdviceJson>, Vec<FixedJson>) {
    let num = |n: crate::ir::Num, d: rust_decimal::Decimal| match n {
        crate::ir::Num::Money => fmt_yuan(d),
        _ => d.normalize().to_string(),
    };
    let advice = a
        .advice
        .iter()
        .map(|x| AdviceJson {
            fact: x.fact.clone(),
            now: x.now.map(|d| num(x.num, d)),
            needed: num(x.num, x.needed),
            gap: x.gap.map(|d| num(x.num, d)),
            amount_now: x.amount_now.map(fmt_yuan),
            amount_after: x.amount_after.map(fmt_yuan),
            status_after: x.status_after,
            text: advice_text(x, lang),
        })
        .collect();
    let fixed =
        a.fixed.iter().map(|f| FixedJson { fact: f.fact.clone(), condition: f.condition.clone() }).collect();
    (advice, fixed)
}

/// "营业收入.2024 4.8亿：距 5亿 差 2000万；金额将由 30万 增至 50万".
pub fn advice_text(a: &crate::eval::advise::Advice, lang: Lang) -> String {
    let show = |d: rust_decimal::Decimal| match a.num {
        crate::ir::Num::Money => crate::value::fmt_money(d),
        crate::ir::Num::Rate => crate::value::fmt_rate(d),
        _ => d.normalize().to_string(),
    };
    let now = a
        .now
        .map_or_else(|| if lang == Lang::Zh { "未提供".to_string() } else { "not given".to_string() }, show);
    // no gap when the fact was not given: "需达到 X" alone, never an empty "（差 ）"
    let gap = a.gap.map(show).map_or_else(String::new, |g| match lang {
        Lang::Zh => format!("（差 {g}）"),
        Lang::En => format!(" ({g} short)"),
    });
    let before = a.amount_now.map_or_else(|| "0".to_string(), crate::value::fmt_money);
    let after = a.amount_after.map_or_else(|| "—".to_string(), crate::value::fmt_money);
    // eligible for an award whose amount the department decides, or an amount from → to
    let discretionary = a.status_after == crate::eval::Status::Discretionary;
    match (lang, discretionary) {
        (Lang::Zh, true) => {
            format!("{} 现为 {now}，需达到 {}{gap}；即可申请（金额由主管部门酌定）", a.fact, show(a.needed))
        }
        (Lang::Zh, false) => {
            format!("{} 现为 {now}，需达到 {}{gap}；金额将由 {before} 变为 {after}", a.fact, show(a.needed))
        }
        (Lang::En, true) => format!(
            "{} is {now}; it would need {}{gap} to be eligible (the department decides the amount)",
            a.fact,
            show(a.needed)
        ),
        (Lang::En, false) => format!(
            "{} is {now}; it would need {}{gap}; the amount would go from {before} to {after}",
            a.fact,
            show(a.needed)
        ),
    }
}

#[derive(Serialize, Clone)]
#[cfg_attr(feature = "serve", derive(utoipa::ToSchema))]
pub struct StepJson {
    /// The clause the step belongs to, e.g. `S22.14a`.
    pub clause: String,
    pub kind: &'static str,
    pub text: String,
}

#[derive(Serialize)]
#[cfg_attr(feature = "serve", derive(utoipa::ToSchema))]
pub struct ClauseErrorJson {
    pub policy: String,
    pub clause: String,
    pub code: &'static str,
    pub message: String,
}

fn steps(prog: &Program, cref: &str, s: &[Step], lang: Lang) -> Vec<StepJson> {
    s.iter()
        .map(|x| StepJson { clause: cref.to_string(), kind: x.kind(), text: x.render(prog, lang) })
        .collect()
}

/// The `kind` of a clause's result: its clause kind, or `provides` for a clause that grants
/// something other than money.
pub fn result_kind(c: &crate::ir::ClauseDef) -> &'static str {
    match c.amount {
        crate::ir::Amount::Provides { .. } => "provides",
        _ => c.kind.as_str(),
    }
}

pub fn result_json(prog: &Program, r: &ClauseResult, lang: Lang) -> ResultJson {
    let c = prog.clause(r.clause);
    let p = c.and_then(|c| prog.policy_of(c));
    let cref = prog.clause_ref(r.clause);
    ResultJson {
        policy: p.map_or_else(String::new, |p| p.key.clone()),
        number: p.and_then(|p| p.number.clone()),
        clause: c.map_or_else(String::new, |c| c.id.clone()),
        title: c.map_or_else(String::new, |c| c.title.clone()),
        kind: c.map_or("benefit", result_kind),
        status: r.status,
        amount: r.amount.map(fmt_yuan),
        cap: r.cap.map(fmt_yuan),
        floor: r.floor.map(fmt_yuan),
        explanation: steps(prog, &cref, &r.steps, lang),
        reasons: steps(prog, &cref, &r.reasons, lang),
        missing: r.missing.clone(),
        version: r.version.clone(),
        advice: None,
        unchangeable: None,
    }
}

pub fn eval_report(prog: &Program, o: &Outcome, enterprise: Option<String>, lang: Lang) -> EvalReport {
    EvalReport {
        schema_version: EVAL_SCHEMA_VERSION,
        enterprise,
        period: o.period,
        as_of: o.as_of.to_string(),
        results: o.results.iter().map(|r| result_json(prog, r, lang)).collect(),
        ledger: o.new_entries().cloned().collect(),
        total: o.total().ok().map(fmt_yuan),
        errors: o
            .errors
            .iter()
            .map(|e| {
                let c = prog.clause(e.clause);
                ClauseErrorJson {
                    policy: c.and_then(|c| prog.policy_of(c)).map_or_else(String::new, |p| p.key.clone()),
                    clause: c.map_or_else(String::new, |c| c.id.clone()),
                    code: e.code.id(),
                    message: e.message.clone(),
                }
            })
            .collect(),
    }
}

/// `huiqi simulate --format json`: one object per year, each with its results and the ledger
/// after that year, plus the final ledger.
#[derive(Serialize)]
pub struct SimulateReport {
    pub schema_version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<String>,
    pub from: i32,
    pub to: i32,
    pub years: Vec<YearReport>,
    /// The ledger after the last year.
    pub ledger: serde_json::Value,
    /// Granted over all years, in yuan; `null` only when it overflows (E0504 in the years'
    /// errors).
    pub total: Option<String>,
}

#[derive(Serialize)]
pub struct YearReport {
    pub period: i32,
    pub as_of: String,
    pub results: Vec<ResultJson>,
    pub total: Option<String>,
    pub errors: Vec<ClauseErrorJson>,
    /// The whole ledger after this year.
    pub ledger: serde_json::Value,
}
