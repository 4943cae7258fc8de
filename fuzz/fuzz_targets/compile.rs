//! Arbitrary rule text compiles to a program or to diagnostics, never a panic or a stack
//! overflow; alone (first byte even) or beside the seed vocabulary (first byte odd). What
//! compiles is exercised further: its IR report, its own tests, its coverage, and the lean
//! evaluator against the full evaluator on each test's facts. Diagnostics are rendered in
//! every format (line and column from arbitrary text).
#![no_main]

use huiqi::eval::facts::read_facts;
use huiqi::eval::kernel::Kernel;
use huiqi::{Input, compile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let mut files = vec![("fuzz.policy".to_string(), text.to_string())];
    if mode & 1 == 1 {
        files.extend(huiqi_fuzz::VOCABULARY.iter().map(|(n, t)| (n.to_string(), t.to_string())));
    }
    match compile(&Input::from_rules(files)) {
        Ok(c) => {
            let prog = &c.program;
            let _ = serde_json::to_string(&huiqi::ir::view::program(prog));
            let report = huiqi::testing::run(prog, &c.sources);
            let _ = huiqi::testing::render(&report);
            let _ = huiqi::junit::render(&report);
            let _ = huiqi::coverage::render(&huiqi::coverage::measure(prog));
            let kernel = Kernel::new(prog);
            for t in prog.tests.iter().take(8) {
                let Ok(facts) = read_facts(prog, &t.facts) else { continue };
                let period = t.period.unwrap_or(2024);
                huiqi_fuzz::agree(prog, &kernel, &facts, period, None);
            }
        }
        Err(f) => {
            let _ = huiqi::diag::render::render_short(&f.diagnostics, &f.sources);
            let _ = huiqi::diag::render::render_human(&f.diagnostics, &f.sources, false);
            let _ = serde_json::to_string(&huiqi::diag::render::to_json(&f.diagnostics, &f.sources));
            let _ = serde_json::to_string(&huiqi::diag::ci::to_sarif(&f.diagnostics, &f.sources));
            let _ = huiqi::diag::ci::render_github(&f.diagnostics, &f.sources);
        }
    }
});
