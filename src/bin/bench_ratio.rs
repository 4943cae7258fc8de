//! `scripts/bench-ratio`: the interpreter against the hand-written baseline on the reference
//! workload, from one process and the same inputs. Prints the throughputs and a last line
//! `ratio: X` (interpreter time / hand-written time). The interpreter is the lean path that
//! batch runs use (`huiqi::eval::kernel`); the full evaluator (explanations off) is shown for
//! comparison. Not a test: timings are reported, never asserted.

use huiqi::reference::{Interpreter, Output, by_full_evaluator, by_hand, facts, generate, program};
use rust_decimal::Decimal;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// One timed run: how long, and the sum it computed.
fn timed(f: impl FnOnce() -> Decimal) -> (Duration, Decimal) {
    let t = Instant::now();
    let sum = black_box(f());
    (t.elapsed(), sum)
}

fn main() -> ExitCode {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let rounds: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(7);
    let prog = match program() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let mut lean = match Interpreter::new(prog.clone()) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let inputs = generate(n);
    let facts: Vec<_> = inputs.iter().filter_map(|i| facts(&prog, i)).collect();
    if facts.len() != inputs.len() {
        eprintln!("some generated inputs are not valid facts");
        return ExitCode::from(1);
    }
    let total = |o: Output| o.total();
    let mut failed = false;
    // interleave the two so that a noisy neighbour slows both alike
    let (mut hand_t, mut lean_t) = (Duration::MAX, Duration::MAX);
    let (mut hand_sum, mut lean_sum) = (Decimal::ZERO, Decimal::ZERO);
    for _ in 0..rounds {
        let (t, s) = timed(|| inputs.iter().map(|i| total(by_hand(black_box(i)))).sum());
        (hand_t, hand_sum) = (hand_t.min(t), s);
        let (t, s) = timed(|| {
            facts
                .iter()
                .map(|f| match lean.run(black_box(f)) {
                    Some(o) => total(o),
                    None => {
                        failed = true;
                        Decimal::ZERO
                    }
                })
                .sum()
        });
        (lean_t, lean_sum) = (lean_t.min(t), s);
    }
    let (mut full_t, mut full_sum) = (Duration::MAX, Decimal::ZERO);
    for _ in 0..3 {
        let (t, s) = timed(|| facts.iter().map(|f| total(by_full_evaluator(&prog, black_box(f)))).sum());
        (full_t, full_sum) = (full_t.min(t), s);
    }
    let per = |d: Duration| d.as_nanos() as f64 / n as f64;
    let line = |name: &str, d: Duration| {
        println!(
            "{name:<34} {:>8.1} ns/enterprise  {:>12.0} enterprises/s",
            per(d),
            n as f64 / d.as_secs_f64()
        )
    };
    println!("reference workload: {n} enterprises, seed 20250101, one core, best of {rounds}");
    line("hand-written (rust_decimal):", hand_t);
    line("huiqi interpreter (lean path):", lean_t);
    line("huiqi full evaluator (no explain):", full_t);
    println!("Σ total: hand-written {hand_sum}, interpreter {lean_sum}, full evaluator {full_sum}");
    if failed || hand_sum != lean_sum || hand_sum != full_sum {
        eprintln!("the implementations disagree");
        return ExitCode::from(1);
    }
    if n == 100_000 && hand_sum.normalize().to_string() != "21478361293.07" {
        eprintln!("Σ total {hand_sum} is not the workload's checksum 21478361293.07");
        return ExitCode::from(1);
    }
    println!("full evaluator / hand-written: {:.2}", full_t.as_secs_f64() / hand_t.as_secs_f64());
    println!("ratio: {:.2}", lean_t.as_secs_f64() / hand_t.as_secs_f64());
    ExitCode::SUCCESS
}
