#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark fails loudly on broken inputs"
)]
//! `cargo bench --bench ledger`: history on the lean path. A 3-year population simulation of
//! the seed rule set (each enterprise's ledger threaded through the years) on the full
//! evaluator and on the kernel, and one period with a non-empty ledger against the same period
//! with an empty one. Figures and their reading are in docs/performance.md.

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use huiqi::eval::kernel::{Kernel, Verdicts};
use huiqi::eval::{EvalOptions, Ledger, evaluate, facts::read_facts};

fn setup() -> (huiqi::ir::Program, Vec<huiqi::eval::Facts>) {
    let input = huiqi::load::load(&["policies".into()]).unwrap();
    let prog = huiqi::compile(&input).map_err(|f| f.diagnostics.len()).unwrap().program;
    let pop = huiqi::population::population(1_000, 7, 2024).map(|j| read_facts(&prog, &j).unwrap()).collect();
    (prog, pop)
}

fn simulation(c: &mut Criterion) {
    let (prog, pop) = setup();
    let kernel = Kernel::new(&prog);
    let mut g = c.benchmark_group("population simulation 2023–2025, one core");
    g.sample_size(10).throughput(Throughput::Elements(pop.len() as u64 * 3));
    g.bench_function("1k enterprises × 3 years, full evaluator", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for f in &pop {
                let mut ledger = Ledger::default();
                for period in 2023..=2025 {
                    let o = evaluate(
                        &prog,
                        black_box(f),
                        &ledger,
                        EvalOptions { period, as_of: None, explain: false },
                    );
                    ledger.extend(o.new_entries().cloned());
                }
                n += ledger.entries.len();
            }
            n
        })
    });
    let mut v = Verdicts::default();
    g.bench_function("1k enterprises × 3 years, lean path", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for f in &pop {
                let mut ledger = Ledger::default();
                for period in 2023..=2025 {
                    kernel.evaluate_ledger(&prog, black_box(f), &ledger, period, None, &mut v).unwrap();
                    ledger.extend(v.entries.drain(..));
                }
                n += ledger.entries.len();
            }
            n
        })
    });
    g.finish();
}

fn one_period(c: &mut Criterion) {
    let (prog, pop) = setup();
    let kernel = Kernel::new(&prog);
    let mut v = Verdicts::default();
    // each enterprise's history: what 2021–2023 granted it
    let ledgers: Vec<Ledger> = pop
        .iter()
        .map(|f| {
            let mut l = Ledger::default();
            for period in 2021..=2023 {
                kernel.evaluate_ledger(&prog, f, &l, period, None, &mut v).unwrap();
                l.extend(v.entries.drain(..));
            }
            l
        })
        .collect();
    let entries: usize = ledgers.iter().map(|l| l.entries.len()).sum();
    let clauses = prog.clauses.iter().filter(|c| c.kind.evaluated()).count() as u64;
    let mut g =
        c.benchmark_group(format!("one period, lean path ({entries} history entries over 1k enterprises)"));
    g.throughput(Throughput::Elements(pop.len() as u64 * clauses));
    g.bench_function("empty ledger (evaluate)", |b| {
        b.iter(|| {
            pop.iter()
                .map(|f| {
                    kernel.evaluate(&prog, black_box(f), 2024, None, &mut v).unwrap();
                    v.items.len()
                })
                .sum::<usize>()
        })
    });
    let empty = Ledger::default();
    g.bench_function("empty ledger, entries written (evaluate_ledger)", |b| {
        b.iter(|| {
            pop.iter()
                .map(|f| {
                    kernel.evaluate_ledger(&prog, black_box(f), &empty, 2024, None, &mut v).unwrap();
                    v.entries.len()
                })
                .sum::<usize>()
        })
    });
    g.bench_function("history of 2021–2023 (evaluate_ledger)", |b| {
        b.iter(|| {
            pop.iter()
                .zip(&ledgers)
                .map(|(f, l)| {
                    kernel.evaluate_ledger(&prog, black_box(f), l, 2024, None, &mut v).unwrap();
                    v.entries.len()
                })
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, simulation, one_period);
criterion_main!(benches);
