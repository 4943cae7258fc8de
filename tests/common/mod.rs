//! What several integration tests set up the same way: the rule set in `policies/`, a rule
//! file's text compiled, a ledger entry. Each test file uses some of these (`mod common;`).
#![allow(dead_code)]

use huiqi::eval::LedgerEntry;
use huiqi::ir::Program;

/// The rule set in `policies/`, compiled.
pub fn seed_program() -> Program {
    let input = huiqi::load::load(&["policies".into()]).unwrap();
    huiqi::compile(&input).map_err(|f| f.diagnostics.len()).unwrap().program
}

/// One rule file's text, compiled (as `t.policy`); panics with its diagnostics.
pub fn program(text: &str) -> Program {
    huiqi::compile(&huiqi::Input::from_rules([("t.policy".to_string(), text.to_string())]))
        .map_err(|f| huiqi::diag::render::render_short(&f.diagnostics, &f.sources))
        .unwrap()
        .program
}

/// A ledger entry of clause `clause` of document `policy`, as a ledger file writes it.
pub fn entry(policy: &str, clause: &str, key: Option<&str>, period: i32, amount: &str) -> LedgerEntry {
    serde_json::from_value(serde_json::json!({
        "policy": policy, "clause": clause, "key": key, "period": period, "amount": amount
    }))
    .unwrap()
}
