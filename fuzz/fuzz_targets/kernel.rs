//! The lean evaluator (`eval::kernel`) against the full evaluator (`eval::evaluate`) on the
//! seed rule set, over facts generated from the vocabulary's types (each fact present or
//! absent; numbers on, beside and far from the rules' thresholds, at every scale, large
//! enough to overflow), in any period, with or without an evaluation date: the same status
//! and the same amount to the scale for every clause (`tests/kernel.rs` does the same over
//! generated populations).
#![no_main]

use huiqi::eval::facts::parse_facts;
use huiqi::eval::kernel::Kernel;
use huiqi::value::Date;
use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static KERNEL: LazyLock<Kernel> = LazyLock::new(|| Kernel::new(&huiqi_fuzz::SEEDS));

fuzz_target!(|data: &[u8]| {
    let prog = &*huiqi_fuzz::SEEDS;
    let mut u = Unstructured::new(data);
    let Ok(period) = u.int_in_range(2012i32..=2030) else { return };
    let as_of = match u.int_in_range(0u8..=3) {
        Ok(0) => format!("{}-{:02}-{:02}", period + 1, 1 + data.len() % 12, 1 + data.len() % 28)
            .parse::<Date>()
            .ok(),
        Ok(1) => format!("{period}-06-30").parse::<Date>().ok(),
        _ => None,
    };
    let Ok(text) = huiqi_fuzz::facts_json(&mut u, prog, period) else { return };
    let Ok(facts) = parse_facts(prog, &text) else { return };
    huiqi_fuzz::agree(prog, &KERNEL, &facts, period, as_of);
});
