#![allow(clippy::expect_used, clippy::unwrap_used, reason = "a benchmark fails loudly on broken inputs")]
//! `cargo bench`: compile time of policies/, the reference workload by the interpreter and by
//! hand over the same 100k enterprises, the full seed rule set per enterprise, and end-to-end
//! batch evaluation of JSON lines. Figures and their reading are in docs/performance.md.

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use huiqi::batch::{Batch, BatchOptions, RowFormat};
use huiqi::eval::kernel::{Kernel, Verdicts};
use huiqi::eval::{EvalOptions, Ledger, evaluate, facts::read_facts};
use huiqi::reference::{Interpreter, by_full_evaluator, by_hand, facts, generate, program};

fn compile(c: &mut Criterion) {
    let input = huiqi::load::load(&["policies".into()]).unwrap();
    c.bench_function("compile policies/", |b| {
        b.iter(|| huiqi::compile(black_box(&input)).map(|c| c.program.clauses.len()).unwrap_or(0))
    });
}

fn reference(c: &mut Criterion) {
    let prog = program().unwrap();
    let inputs = generate(100_000);
    let fs: Vec<_> = inputs.iter().map(|i| facts(&prog, i).unwrap()).collect();
    let mut g = c.benchmark_group("reference workload (100k enterprises)");
    g.sample_size(10).throughput(Throughput::Elements(inputs.len() as u64));
    g.bench_function("hand-written", |b| {
        b.iter(|| inputs.iter().map(|i| by_hand(black_box(i)).total()).sum::<rust_decimal::Decimal>())
    });
    let mut lean = Interpreter::new(prog.clone()).unwrap();
    g.bench_function("interpreter (lean path)", |b| {
        b.iter(|| fs.iter().map(|f| lean.run(black_box(f)).unwrap().total()).sum::<rust_decimal::Decimal>())
    });
    g.bench_function("full evaluator (no explain)", |b| {
        b.iter(|| {
            fs.iter().map(|f| by_full_evaluator(&prog, black_box(f)).total()).sum::<rust_decimal::Decimal>()
        })
    });
    g.finish();
}

fn seed_policies(c: &mut Criterion) {
    let input = huiqi::load::load(&["policies".into()]).unwrap();
    let compiled = huiqi::compile(&input).map_err(|f| f.diagnostics.len()).unwrap();
    let prog = &compiled.program;
    let pop: Vec<_> =
        huiqi::population::population(1_000, 7, 2024).map(|j| read_facts(prog, &j).unwrap()).collect();
    let clauses = prog.clauses.iter().filter(|c| c.kind.evaluated()).count() as u64;
    let mut g = c.benchmark_group("seed policies per enterprise");
    g.throughput(Throughput::Elements(pop.len() as u64 * clauses));
    g.bench_function("1k enterprises × evaluated clauses", |b| {
        b.iter(|| {
            pop.iter()
                .map(|f| {
                    evaluate(
                        prog,
                        black_box(f),
                        &Ledger::default(),
                        EvalOptions { period: 2024, as_of: None, explain: false },
                    )
                    .total()
                })
                .sum::<rust_decimal::Decimal>()
        })
    });
    let kernel = Kernel::new(prog);
    let mut v = Verdicts::default();
    g.bench_function("1k enterprises × evaluated clauses, lean path", |b| {
        b.iter(|| {
            pop.iter()
                .map(|f| {
                    kernel.evaluate(prog, black_box(f), 2024, None, &mut v).unwrap();
                    v.total()
                })
                .sum::<rust_decimal::Decimal>()
        })
    });
    g.finish();
}

fn batch(c: &mut Criterion) {
    let input = huiqi::load::load(&["policies".into()]).unwrap();
    let compiled = huiqi::compile(&input).map_err(|f| f.diagnostics.len()).unwrap();
    let lines: Vec<String> = huiqi::population::population(20_000, 7, 2024).map(|j| j.to_string()).collect();
    let batch = Batch::new(&compiled.program, BatchOptions::default(), RowFormat::Table);
    let mut g = c.benchmark_group("end-to-end JSON lines");
    g.sample_size(10).throughput(Throughput::Elements(lines.len() as u64));
    g.bench_function("20k rows parsed and evaluated, both cores", |b| {
        b.iter(|| {
            let rows: Vec<_> =
                lines.iter().enumerate().map(|(i, l)| (i + 1, Ok(black_box(l).clone()))).collect();
            batch.json_lines(rows).len()
        })
    });
    g.finish();
}

/// The product end to end: `huiqi eval` over a 1M-row JSON-lines file (made once under
/// `target/`), both cores, to the budget table.
fn end_to_end(c: &mut Criterion) {
    let bin = env!("CARGO_BIN_EXE_huiqi");
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("population-1m-seed7.jsonl");
    if !file.exists() {
        let out = std::fs::File::create(&file).unwrap();
        let ok = std::process::Command::new(bin)
            .args(["gen-population", "--count", "1000000", "--seed", "7"])
            .stdout(out)
            .status()
            .unwrap();
        assert!(ok.success());
    }
    let mut g = c.benchmark_group("end-to-end huiqi eval");
    g.sample_size(10).throughput(Throughput::Elements(1_000_000));
    g.bench_function("1M-row JSON lines → budget table", |b| {
        b.iter(|| {
            let o = std::process::Command::new(bin)
                .args(["eval", "--facts", file.to_str().unwrap(), "--format", "table", "--quiet"])
                .output()
                .unwrap();
            assert!(o.status.success());
            o.stdout.len()
        })
    });
    g.finish();
}

criterion_group!(benches, compile, reference, seed_policies, batch, end_to_end);
criterion_main!(benches);
