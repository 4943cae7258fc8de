//! The formatter on arbitrary text: it never panics; what it formats, formatting again leaves
//! alone (idempotent); it never turns a text that does not parse into one that does (nor the
//! reverse); a text that parses always formats; and a text that compiles compiles to the same
//! IR after formatting (alone, or beside the seed vocabulary when alone it names unknown
//! facts), with the same diagnostics when it does not.
#![no_main]

use huiqi::fmt::format_source;
use huiqi::span::FileId;
use huiqi::{Input, compile};
use libfuzzer_sys::fuzz_target;

/// The IR report, or the diagnostic codes in order.
fn meaning(text: &str, vocabulary: bool) -> Result<String, Vec<&'static str>> {
    let mut files = vec![("fuzz.policy".to_string(), text.to_string())];
    if vocabulary {
        files.extend(huiqi_fuzz::VOCABULARY.iter().map(|(n, t)| (n.to_string(), t.to_string())));
    }
    match compile(&Input::from_rules(files)) {
        Ok(c) => Ok(serde_json::to_string(&huiqi::ir::view::program(&c.program)).unwrap_or_default()),
        Err(f) => Err(f.diagnostics.iter().map(|d| d.code.id()).collect()),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parses = huiqi::syntax::parse(FileId(0), text).is_ok();
    let Some(once) = format_source(text) else {
        assert!(!parses, "a text that parses formats");
        return;
    };
    assert_eq!(
        huiqi::syntax::parse(FileId(0), &once).is_ok(),
        parses,
        "formatting changes whether the text parses:\n{once}"
    );
    assert_eq!(format_source(&once).as_deref(), Some(once.as_str()), "formatting is idempotent");
    if parses {
        let before = meaning(text, false);
        assert_eq!(meaning(&once, false), before, "the same meaning, alone");
        if before.as_ref().is_err_and(|codes| codes.contains(&"E0201")) {
            assert_eq!(meaning(&once, true), meaning(text, true), "the same meaning, beside the vocabulary");
        }
    }
});
