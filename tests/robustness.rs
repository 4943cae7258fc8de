#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used, reason = "tests fail loudly")]
//! Hostile and broken input gets diagnostics, never a crash; arithmetic is exact and rounding is
//! explicit.

use huiqi::diag::Code;
use huiqi::eval::facts::{parse_facts, read_facts};
use huiqi::eval::{EvalOptions, Ledger, Status, evaluate};
use huiqi::{Input, compile};
use rust_decimal::Decimal;
use std::str::FromStr;

fn codes(src: &str) -> Vec<Code> {
    match compile(&Input::from_rules([("t.policy".to_string(), src.to_string())])) {
        Ok(_) => Vec::new(),
        Err(f) => f.diagnostics.iter().map(|d| d.code).collect(),
    }
}

/// Runs on a thread with a small (256 KiB) stack: bounded recursion must not need more.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(256 * 1024).spawn(f).unwrap().join().expect("no stack overflow")
}

#[test]
fn ten_thousand_nested_brackets_is_a_diagnostic() {
    let src = format!("fact x: money\ndefine d = {}x{}\n", "(".repeat(10_000), ")".repeat(10_000));
    let got = on_small_stack(move || codes(&src));
    assert_eq!(got, vec![Code::TooDeep]);
}

#[test]
fn ten_thousand_nested_brackets_in_test_facts_is_a_diagnostic() {
    let src = format!(
        "test \"t\" {{ period 2024 facts {{ a: {}1{} }} }}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let got = on_small_stack(move || codes(&src));
    assert_eq!(got, vec![Code::TooDeep]);
}

#[test]
fn ten_thousand_term_chain_is_a_diagnostic() {
    let src = format!("fact x: money\ndefine d = x{}\n", " + x".repeat(10_000));
    let got = on_small_stack(move || codes(&src));
    assert_eq!(got, vec![Code::TooDeep]);
}

#[test]
fn many_prefix_operators_are_a_syntax_error() {
    let src = format!("fact b: boolean\ndefine d = {}b\n", "not ".repeat(10_000));
    let got = on_small_stack(move || codes(&src));
    assert_eq!(got, vec![Code::SyntaxError]);
}

#[test]
fn long_definition_chain_is_a_diagnostic() {
    let mut src = String::from("fact x: money\ndefine d0 = x\n");
    for i in 1..200 {
        src.push_str(&format!("define d{i} = d{} + x\n", i - 1));
    }
    let got = on_small_stack(move || codes(&src));
    assert!(got.contains(&Code::TooDeep), "{got:?}");
}

#[test]
fn definition_cycle_shows_its_path() {
    let src = "fact x: money\ndefine a = b + x\ndefine b = c\ndefine c = a\n";
    let f = compile(&Input::from_rules([("t.policy".to_string(), src.to_string())])).expect_err("cycle");
    let d = f.diagnostics.iter().find(|d| d.code == Code::DefinitionCycle).expect("E0205");
    assert!(d.message.contains("`a` → `b` → `c` → `a`"), "{}", d.message);
}

#[test]
fn all_problems_are_reported_not_only_the_first() {
    let src = "fact x: mony\nfact y: moneyy\npolicy P \"p\" { clause 1 \"c\" { amount z } }\n";
    let got = codes(src);
    assert_eq!(got.iter().filter(|c| **c == Code::UnknownType).count(), 2, "{got:?}");
    assert!(got.contains(&Code::UnknownName), "{got:?}");
}

const VOCAB: &str = r#"
enum 等级 ordered { 无, 省级, 国家级 }
record 贷款记录 { 金额: money, 放款日期: date, 利息: series money }
fact 营业收入: series money
fact 层级: 等级
fact 贷款: list 贷款记录
fact 价格: money
policy P "测试" {
  clause 1 "乘积" { amount 价格 × 1000000000000 × 1000000000000 }
  clause 2 "固定" { when 营业收入 达到 1亿 amount 30万 }
  clause 3 "比例" { amount 价格 × 12.5% }
}
"#;

fn vocab() -> huiqi::Compiled {
    compile(&Input::from_rules([("v.policy".to_string(), VOCAB.to_string())])).expect("vocab compiles")
}

#[test]
fn facts_errors_are_all_reported_with_paths() {
    let c = vocab();
    let errs = parse_facts(
        &c.program,
        r#"{"营业收人": 1, "层级": "市级", "营业收入": 5, "贷款": [{"金额": "x", "放款日期": "2023-02-30", "利率": 1}]}"#,
    )
    .expect_err("invalid");
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    for want in ["营业收人", "层级", "营业收入", "贷款[0].金额", "贷款[0].放款日期", "贷款[0].利率"]
    {
        assert!(paths.contains(&want), "{want} missing from {paths:?}");
    }
    let unknown = errs.iter().find(|e| e.path == "营业收人").unwrap();
    assert_eq!(unknown.code, Code::UnknownFact);
    assert!(unknown.help.contains("营业收入"), "did-you-mean: {}", unknown.help);
}

#[test]
fn json_numbers_are_exact() {
    let c = vocab();
    let f = parse_facts(&c.program, r#"{"价格": 12345678901234567.891}"#).unwrap();
    let o = evaluate(&c.program, &f, &Ledger::default(), EvalOptions::new(2024));
    let r = o.results.iter().find(|r| c.program.clause_ref(r.clause) == "P.3").unwrap();
    // 12345678901234567.891 × 12.5% = 1543209862654320.986375 → 1543209862654320.99 (to the fen)
    assert_eq!(r.amount, Some(Decimal::from_str("1543209862654320.99").unwrap()));
}

#[test]
fn overflow_names_the_clause_and_the_others_carry_on() {
    let c = vocab();
    let f = parse_facts(&c.program, r#"{"价格": 9000000000000000000, "营业收入": {"2024": "2亿"}}"#).unwrap();
    let o = evaluate(&c.program, &f, &Ledger::default(), EvalOptions::new(2024));
    assert_eq!(o.errors.len(), 1);
    assert_eq!(c.program.clause_ref(o.errors[0].clause), "P.1");
    assert_eq!(o.errors[0].code, Code::Overflow);
    let r2 = o.results.iter().find(|r| c.program.clause_ref(r.clause) == "P.2").unwrap();
    assert_eq!((r2.status, r2.amount), (Status::Granted, Some(Decimal::from(300_000))));
}

#[test]
fn rounding_is_half_away_from_zero_to_the_fen() {
    use huiqi::eval::round;
    use huiqi::syntax::ast::Rounding;
    let d = |s: &str| Decimal::from_str(s).unwrap();
    assert_eq!(round(d("0.125"), Rounding::Fen), d("0.13")); // banker's would give 0.12
    assert_eq!(round(d("0.135"), Rounding::Fen), d("0.14"));
    assert_eq!(round(d("-0.125"), Rounding::Fen), d("-0.13"));
    assert_eq!(round(d("2.5"), Rounding::Yuan), d("3"));
    assert_eq!(round(d("125000"), Rounding::Wan), d("130000"));
    assert_eq!(round(d("1.005"), Rounding::None), d("1.005"));
}

#[test]
fn absent_fact_is_undetermined_with_its_path() {
    let c = vocab();
    let f = read_facts(&c.program, &serde_json::json!({})).unwrap();
    let o = evaluate(&c.program, &f, &Ledger::default(), EvalOptions::new(2024));
    let r = o.results.iter().find(|r| c.program.clause_ref(r.clause) == "P.2").unwrap();
    assert_eq!(r.status, Status::Undetermined);
    assert_eq!(r.missing, vec!["营业收入.2024".to_string()]);
}

#[test]
fn hot_ir_node_stays_small() {
    // Nickel's lesson: a fat expression node costs 25–30%; keep it from creeping back.
    assert!(std::mem::size_of::<huiqi::ir::Expr>() <= 64, "{}", std::mem::size_of::<huiqi::ir::Expr>());
}

#[test]
fn program_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<huiqi::ir::Program>();
    check::<huiqi::Compiled>();
}

/// A rule whose clause pays `d{n-1}`, where `d0 = x` and each further definition uses the one
/// before at the bottom of `k` more levels: `"left"` as `d + x + x …` (left-deep), `"right"`
/// as `d + (x + (x + …))` (brackets, right-deep).
fn chain_rule(n: usize, k: usize, shape: &str) -> String {
    let mut src = String::from("fact x: money \"x\"\ndefine d0 = x\n");
    for i in 1..n {
        let body = match shape {
            "left" => format!("d{}{}", i - 1, " + x".repeat(k)),
            _ => format!(
                "d{} + {}x{}",
                i - 1,
                "(x + ".repeat(k.saturating_sub(1)),
                ")".repeat(k.saturating_sub(1))
            ),
        };
        src.push_str(&format!("define d{i} = {body}\n"));
    }
    src.push_str(&format!(
        "policy T \"t\" {{\n  rounding none\n  clause 1 \"c\" {{\n    quote \"q\"\n    responsible r\n    amount d{}\n  }}\n}}\n",
        n - 1
    ));
    src
}

/// The largest `k` in 1..=100 for which `ok` holds (it holds up to some `k` and not after); 0
/// when it never does.
fn deepest(ok: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, 101); // ok(lo) (or lo = 0), !ok(hi)
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if ok(mid) { lo = mid } else { hi = mid }
    }
    lo
}

/// The deepest rules the compiler accepts (definition chains at their limits of length, of
/// depth per definition and of depth counted through the chain) evaluate on both evaluators
/// on a quarter of a batch worker's stack, in a debug build; one level more is refused
/// (E0102). 32 definitions that each nested 100 deep used to compile and overflow a rayon
/// worker's stack in batch runs.
#[test]
fn the_deepest_accepted_rules_evaluate_on_a_quarter_of_a_worker_stack() {
    use huiqi::ir::lower::MAX_EVAL_DEPTH;
    let mut shapes = 0;
    for (n, shape) in [(32, "left"), (32, "right"), (6, "left"), (5, "right")] {
        // the largest k the compiler accepts for this chain
        let compiles = |k: usize| {
            huiqi::compile(&Input::from_rules([("t.policy".to_string(), chain_rule(n, k, shape))]))
        };
        let k = deepest(|k| compiles(k).is_ok());
        assert!(k >= 1, "{n} × {shape}: nothing compiles");
        if k < 100 {
            let refused =
                compiles(k + 1).err().map(|f| f.diagnostics.iter().map(|d| d.code).collect::<Vec<_>>());
            assert!(
                refused.is_some_and(|c| c.contains(&Code::TooDeep)),
                "{n} × {shape}: one level more is E0102"
            );
        }
        let compiled = compiles(k).unwrap();
        let want = rust_decimal::Decimal::from(1 + (n - 1) * k);
        let quarter = std::thread::Builder::new().stack_size(huiqi::batch::WORKER_STACK / 4);
        let total = quarter.spawn(move || {
            let prog = &compiled.program;
            let facts = huiqi::eval::facts::parse_facts(prog, r#"{"x": 1}"#).unwrap();
            let full = evaluate(prog, &facts, &Ledger::default(), EvalOptions::new(2024));
            let kernel = huiqi::eval::kernel::Kernel::new(prog);
            let mut v = huiqi::eval::kernel::Verdicts::default();
            kernel.evaluate(prog, &facts, 2024, None, &mut v).unwrap();
            assert_eq!(v.total().unwrap(), full.total().unwrap());
            full.total().unwrap()
        });
        let total = total.unwrap().join().expect("no stack overflow");
        assert_eq!(total, want, "{n} × {shape} (k = {k})");
        shapes += 1;
    }
    assert_eq!(shapes, 4);
    const { assert!(MAX_EVAL_DEPTH >= 400, "room for real rules") };
}

/// The same deepest rule in a batch (rayon workers) and through the command line, one
/// enterprise and a population: no stack overflow on either path.
#[test]
fn the_deepest_accepted_rule_evaluates_in_a_batch_and_on_the_command_line() {
    let k = deepest(|k| {
        huiqi::compile(&Input::from_rules([("t.policy".to_string(), chain_rule(32, k, "left"))])).is_ok()
    });
    let rule = chain_rule(32, k, "left");
    let want = (1 + 31 * k).to_string();
    let c = huiqi::compile(&Input::from_rules([("t.policy".to_string(), rule.clone())])).unwrap();
    let batch = huiqi::batch::Batch::new(
        &c.program,
        huiqi::batch::BatchOptions { period: Some(2024), as_of: None },
        huiqi::batch::RowFormat::Jsonl,
    );
    let rows: Vec<(usize, Result<String, String>)> =
        (1..=64).map(|i| (i, Ok(r#"{"x": 1}"#.to_string()))).collect();
    for e in batch.json_lines(rows) {
        assert!(e.row.errors.is_empty(), "{:?}", e.row.errors);
        assert!(e.text.contains(&format!("\"total\":\"{want}")), "{}", e.text);
    }
    let dir = std::env::temp_dir().join(format!("huiqi-deep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("t.policy"), rule).unwrap();
    std::fs::write(dir.join("one.json"), r#"{"x": 1, "$period": 2024}"#).unwrap();
    std::fs::write(dir.join("many.jsonl"), "{\"x\": 1, \"$period\": 2024}\n".repeat(50)).unwrap();
    let policies = dir.join("t.policy");
    for facts in ["one.json", "many.jsonl"] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_huiqi"))
            .args(["eval", "--quiet", "--format", "json", "-p", policies.to_str().unwrap(), "--facts"])
            .arg(dir.join(facts))
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{facts}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(out.contains(&want), "{facts}: {out}");
    }
}

// ---------------------------------------------------------------- no panic, no stack overflow

/// `if … then … else if …` without brackets nests as deep as the chain is long: refused before
/// pest or the builder recurse (it overflowed the main thread at about 4,500 rows).
#[test]
fn unbracketed_else_if_chain_is_a_diagnostic() {
    for rows in [65, 4_500, 20_000] {
        let src = format!("fact x: boolean\ndefine d = {}0\n", "if x then 1 else ".repeat(rows));
        let got = on_small_stack(move || codes(&src));
        assert_eq!(got, vec![Code::TooDeep], "{rows} rows");
    }
    // as the `then` branch and as the condition too
    let src =
        format!("fact x: boolean\ndefine d = {}1{}\n", "if x then ".repeat(5_000), " else 0".repeat(5_000));
    assert_eq!(on_small_stack(move || codes(&src)), vec![Code::TooDeep]);
    let src =
        format!("fact x: boolean\ndefine d = {}x{}\n", "if ".repeat(5_000), " then x else x".repeat(5_000));
    assert_eq!(on_small_stack(move || codes(&src)), vec![Code::TooDeep]);
    // inside brackets: the `if`s and the brackets count together
    let src = format!(
        "fact x: boolean\ndefine d = {}{}0{}\n",
        "(".repeat(40),
        "if x then 1 else ".repeat(40),
        ")".repeat(40)
    );
    assert_eq!(on_small_stack(move || codes(&src)), vec![Code::TooDeep]);
}

/// Runs on a thread with a 1 MiB stack (half a test thread's or a rayon worker's): what the
/// compiler accepts at its limits must compile on it, also in a debug build.
fn on_mib_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(1024 * 1024).spawn(f).unwrap().join().expect("no stack overflow")
}

/// A decision table as long as the nesting limit allows still compiles, and `if`s that follow
/// one another (one definition, set item or tier after another) do not add up.
#[test]
fn else_if_chains_within_the_limit_compile() {
    let src = format!("fact x: boolean\ndefine d = {}0\n", "if x then 1 else ".repeat(64));
    assert_eq!(on_mib_stack(move || codes(&src)), vec![]);
    let src = format!(
        "fact x: boolean\ndefine d = {}{}0{}\n",
        "(".repeat(32),
        "if x then 1 else ".repeat(32),
        ")".repeat(32)
    );
    assert_eq!(on_mib_stack(move || codes(&src)), vec![]);
    let mut src = String::from("fact x: boolean\nfact y: number\n");
    for i in 0..200 {
        src.push_str(&format!("define d{i} = if x then {i} else 0\n"));
    }
    src.push_str("define t = {");
    src.push_str(&vec!["if x then 1 else 2"; 200].join(", "));
    src.push_str("}\npolicy P \"p\" {\n  clause 1 \"c\" {\n    quote \"q\"\n    responsible r\n");
    src.push_str("    amount tiers y pay highest {\n");
    for i in 0..100 {
        src.push_str(&format!("      达到 {i} => if x then 1万 else 2万;\n"));
    }
    src.push_str("    }\n  }\n}\n");
    let got = on_mib_stack(move || codes(&src));
    assert!(!got.contains(&Code::TooDeep) && !got.contains(&Code::SyntaxError), "{got:?}");
}

/// A `//` comment ends at `\r` as in the grammar: brackets after it are counted.
#[test]
fn brackets_after_a_comment_ended_by_a_carriage_return_are_counted() {
    let src = format!("fact x: money // c\rdefine d = {}x{}\n", "(".repeat(10_000), ")".repeat(10_000));
    assert_eq!(on_small_stack(move || codes(&src)), vec![Code::TooDeep]);
    let src = format!("fact x: boolean // c\rdefine d = {}0\n", "if x then 1 else ".repeat(10_000));
    assert_eq!(on_small_stack(move || codes(&src)), vec![Code::TooDeep]);
    // and a comment ended by `\r` compiles as one ended by `\n`
    assert_eq!(codes("// c\rfact x: money \"x\"\r\n"), vec![]);
}

// ---------------------------------------------------------------- closed output pipes

/// Runs the command line with standard output (and, with `both`, standard error) on a pipe
/// whose reader is already gone: every write fails with a broken pipe.
fn closed_pipe(args: &[&str], both: bool) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_huiqi"));
    cmd.args(args).stdout(writer.try_clone().unwrap());
    if both {
        cmd.stderr(writer);
    } else {
        cmd.stderr(std::process::Stdio::piped());
    }
    let o = cmd.output().unwrap();
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// `huiqi … | head -c1`: a reader that closes the pipe ends the output quietly, with the exit
/// code the command has anyway; `println!` used to panic (exit 101). Standard error on the same
/// closed pipe (`2>&1 | head`) too.
#[test]
fn a_closed_output_pipe_ends_every_command_quietly() {
    let dir = std::env::temp_dir().join(format!("huiqi-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let messy = dir.join("messy.policy");
    std::fs::write(&messy, "fact   x: money\n").unwrap();
    let pop = dir.join("pop.jsonl");
    let rows: Vec<String> = huiqi::population::population_lines(300, 3, 2024).collect();
    std::fs::write(&pop, rows.join("\n")).unwrap();
    let (pop, messy) = (pop.to_str().unwrap(), messy.to_str().unwrap());
    let ex = "examples/光电子科技.json";
    let commands: &[&[&str]] = &[
        &["eval", "--facts", ex, "--format", "json"],
        &["eval", "--facts", ex, "--format", "jsonl"],
        &["eval", "--facts", ex],
        &["eval", "--facts", ex, "--lang", "en"],
        &["eval", "--facts", pop, "--format", "jsonl", "--quiet"],
        &["eval", "--facts", pop, "--format", "csv", "--quiet"],
        &["eval", "--facts", pop, "--format", "table", "--quiet"],
        &["eval", "--facts", pop, "--format", "jsonl", "--summary", "--quiet"],
        &["simulate", "--facts", ex, "--from", "2023", "--to", "2025"],
        &["simulate", "--facts", ex, "--from", "2023", "--to", "2025", "--format", "json"],
        &["ir"],
        &["ir", "--format", "yaml"],
        &["check", "--format", "sarif"],
        &["check", "--format", "json"],
        &["check", "--format", "github"],
        &["test", "policies"],
        &["test", "policies", "--format", "junit", "--coverage"],
        &["test", "policies", "--coverage"],
        &["diff", "policies", "policies"],
        &["diff", "policies", "policies", "--format", "json", "--population", "tests/data/population.jsonl"],
        &["fmt", "--check", messy],
        &["gen-population", "--count", "2000"],
        &["--help"],
        &["eval", "--help"],
    ];
    for args in commands {
        let usual = std::process::Command::new(env!("CARGO_BIN_EXE_huiqi")).args(*args).output().unwrap();
        for both in [false, true] {
            // the pipe is closed before the command starts, so one run shows it; the first
            // command (the contract's) is run more often all the same
            let runs = if args == &commands[0] { 10 } else { 1 };
            for _ in 0..runs {
                let (code, stderr) = closed_pipe(args, both);
                assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
                assert_ne!(code, Some(101), "{args:?} (stderr too: {both}) panicked");
                assert_eq!(code, usual.status.code(), "{args:?} (stderr too: {both}): the usual exit code");
            }
        }
    }
}

/// A population whose first (or second) line is not UTF-8: that row fails with E0401 and the
/// others are evaluated, as for any later line; it used to end the run (exit 2, no rows).
#[test]
fn a_population_line_that_is_not_utf8_is_a_row_error_wherever_it_stands() {
    let dir = std::env::temp_dir().join(format!("huiqi-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rows: Vec<String> = huiqi::population::population_lines(5, 1, 2024).collect();
    let good = rows.join("\n").into_bytes();
    let bad = b"{\"$name\": \"\xff\xfe\"}".to_vec();
    for (name, bytes, bad_line) in [
        ("first.jsonl", [bad.clone(), b"\n".to_vec(), good.clone()].concat(), 1),
        ("first.json", [bad.clone(), b"\n".to_vec(), good.clone()].concat(), 1),
        ("blank-then-first.jsonl", [b"\n\n".to_vec(), bad.clone(), b"\n".to_vec(), good.clone()].concat(), 3),
        (
            "second.json",
            [rows[0].clone().into_bytes(), b"\n".to_vec(), bad.clone(), b"\n".to_vec(), good.clone()]
                .concat(),
            2,
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_huiqi"))
            .args(["eval", "--format", "jsonl", "--quiet", "--facts"])
            .arg(&path)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            o.status.code(),
            Some(1),
            "{name}: one row failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let want = if name == "second.json" { 7 } else { 6 };
        assert_eq!(lines.len(), want, "{name}: every row has its output row:\n{out}");
        let failed: Vec<&&str> = lines.iter().filter(|l| l.contains("E0401")).collect();
        assert_eq!(failed.len(), 1, "{name}: {out}");
        assert!(failed[0].contains(&format!("\"line\":{bad_line}")), "{name}: {}", failed[0]);
        assert!(failed[0].contains("UTF-8"), "{name}: {}", failed[0]);
    }
    // one enterprise that is not UTF-8 stays an input error (exit 2) that says so
    let one = dir.join("one.json");
    std::fs::write(&one, b"{\"$name\": \"\xff\"\n}\n").unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_huiqi"))
        .args(["eval", "--facts"])
        .arg(&one)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("UTF-8"), "{}", String::from_utf8_lossy(&o.stderr));
}

/// 30 definitions that each use the one before twice stand for 2³⁰ operations: refused
/// (E0102) instead of compiling into a rule whose evaluation (and the kernel's inlining) never
/// ends.
#[test]
fn definitions_that_double_at_each_step_are_a_diagnostic() {
    let mut src = String::from("fact x: money \"x\"\ndefine d0 = x\n");
    for i in 1..30 {
        src.push_str(&format!("define d{i} = d{p} + d{p}\n", p = i - 1));
    }
    src.push_str(
        "policy T \"t\" {\n  clause 1 \"c\" {\n    quote \"q\"\n    responsible r\n    amount d29\n  }\n}\n",
    );
    let started = std::time::Instant::now();
    let got = on_small_stack(move || codes(&src));
    assert!(got.contains(&Code::TooDeep), "{got:?}");
    assert!(started.elapsed().as_secs() < 10, "refused at once");
}
