#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]
//! The reference workload: the hand-written baseline and the interpreter both reproduce the
//! published checksums (N = 10,000, seed 20250101), on the full evaluator and on the lean path.

use huiqi::reference::{Interpreter, by_full_evaluator, by_hand, facts, generate, program};
use rust_decimal::Decimal;
use std::str::FromStr;

#[test]
fn both_implementations_reproduce_the_checksums() {
    let inputs = generate(10_000);
    let prog = program().unwrap();
    let mut lean = Interpreter::new(prog.clone()).unwrap();
    let (mut hand, mut interp) = ([Decimal::ZERO; 3], [Decimal::ZERO; 3]);
    let mut tiers = [0u32; 4];
    for i in &inputs {
        let h = by_hand(i);
        let f = facts(&prog, i).expect("valid facts");
        let v = by_full_evaluator(&prog, &f);
        assert_eq!(h, v, "{i:?}");
        // the lean path agrees to the scale of each amount, not only in value
        let k = lean.run(&f).expect("no arithmetic failure");
        assert_eq!(format!("{k:?}"), format!("{v:?}"), "{i:?}");
        for (k, a) in [h.award, h.rd_subsidy, h.interest_subsidy].into_iter().enumerate() {
            hand[k] += a;
        }
        for (k, a) in [v.award, v.rd_subsidy, v.interest_subsidy].into_iter().enumerate() {
            interp[k] += a;
        }
        let t = match h.award.to_string().as_str() {
            "1000000" => 0,
            "500000" => 1,
            "300000" => 2,
            _ => 3,
        };
        tiers[t] += 1;
    }
    let d = |s: &str| Decimal::from_str(s).unwrap();
    let want = [d("670200000"), d("473491526.322"), d("981569437.465")];
    assert_eq!(hand, want);
    assert_eq!(interp, want);
    assert_eq!(hand.iter().sum::<Decimal>(), d("2125260963.787"));
    assert_eq!(tiers, [361, 379, 399, 8861]);
}
