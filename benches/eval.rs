#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark fails loudly on broken inputs"
)]
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

/// `n` documents: the seed documents copied with their keys renamed (`E23` → `E23v7`, and so
/// every reference to them), over the one shared vocabulary (the definitions and parameters
/// written before a document are kept in its first copy only), quotes verified.
fn generated_documents(n: usize) -> huiqi::Input {
    let base = huiqi::load::load(&["policies".into()]).unwrap();
    let keys = ["E23", "K22", "T13", "S22", "A24"];
    let (vocab, docs): (Vec<_>, Vec<_>) = base
        .rule_files
        .iter()
        .filter(|(name, _)| !name.contains(".tests."))
        .partition(|(name, _)| name.contains("vocabulary"));
    let mut files: Vec<(String, String)> = vocab.into_iter().cloned().collect();
    for i in 0..n {
        let (name, text) = docs[i % docs.len()];
        let copy = i / docs.len();
        // the declarations before the document (definitions, parameters) are global: once
        let body = match text.find("\npolicy ") {
            Some(at) if copy > 0 => text.get(at + 1..).unwrap().to_string(),
            _ => text.clone(),
        };
        let renamed = keys.iter().fold(body, |t, k| t.replace(k, &format!("{k}v{copy}")));
        files.push((format!("generated/{copy}/{name}"), renamed));
    }
    huiqi::Input { rule_files: files, source_texts: base.source_texts }
}

fn compile_many(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile generated documents");
    g.sample_size(10);
    for n in [100, 1000] {
        let input = generated_documents(n);
        if let Err(f) = huiqi::compile(&input) {
            panic!(
                "{n} generated documents: {}",
                huiqi::diag::render::render_short(&f.diagnostics[..3.min(f.diagnostics.len())], &f.sources)
            );
        }
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("{n} documents"), |b| {
            b.iter(|| huiqi::compile(black_box(&input)).map(|c| c.program.clauses.len()).unwrap_or(0))
        });
    }
    g.finish();
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
                    .unwrap()
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
                    v.total().unwrap()
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

criterion_group!(benches, compile, compile_many, reference, seed_policies, batch, end_to_end);
criterion_main!(benches);
