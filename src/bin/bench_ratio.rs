//! `scripts/bench-ratio`: the interpreter against the hand-written baseline on the reference
//! workload, from one process and the same inputs. Prints both throughputs and a last line
//! `ratio: X` (interpreter time / hand-written time). Not a test: timings are reported, never
//! asserted.

use huiqi::reference::{Output, by_hand, by_interpreter, facts, generate, program};
use rust_decimal::Decimal;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn best_of(rounds: usize, mut f: impl FnMut() -> Decimal) -> (Duration, Decimal) {
    let mut best = Duration::MAX;
    let mut sum = Decimal::ZERO;
    for _ in 0..rounds {
        let t = Instant::now();
        sum = black_box(f());
        best = best.min(t.elapsed());
    }
    (best, sum)
}

fn main() -> ExitCode {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let prog = match program() {
        Ok(p) => p,
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
    let (hand_t, hand_sum) = best_of(5, || inputs.iter().map(|i| total(by_hand(black_box(i)))).sum());
    let (interp_t, interp_sum) =
        best_of(5, || facts.iter().map(|f| total(by_interpreter(&prog, black_box(f)))).sum());
    let per = |d: Duration| d.as_nanos() as f64 / n as f64;
    println!("reference workload: {n} enterprises, seed 20250101, one core, best of 5");
    println!(
        "hand-written (rust_decimal): {:>8.1} ns/enterprise  {:>12.0} enterprises/s",
        per(hand_t),
        n as f64 / hand_t.as_secs_f64()
    );
    println!(
        "huiqi interpreter:           {:>8.1} ns/enterprise  {:>12.0} enterprises/s",
        per(interp_t),
        n as f64 / interp_t.as_secs_f64()
    );
    println!("Σ total: hand-written {hand_sum}, interpreter {interp_sum}");
    if hand_sum != interp_sum {
        eprintln!("the two implementations disagree");
        return ExitCode::from(1);
    }
    if n == 100_000 && hand_sum.normalize().to_string() != "21478361293.07" {
        eprintln!("Σ total {hand_sum} is not the workload's checksum 21478361293.07");
        return ExitCode::from(1);
    }
    println!("ratio: {:.2}", interp_t.as_secs_f64() / hand_t.as_secs_f64());
    ExitCode::SUCCESS
}
