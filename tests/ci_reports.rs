#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]
//! Machine-readable reports for CI: SARIF (validated against the official 2.1.0 schema),
//! GitHub annotations, JUnit XML, test coverage, and `huiqi diff` with its budget impact.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn huiqi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_huiqi")).args(args).output().expect("run huiqi")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A fresh temporary folder for one test.
fn tmpdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("huiqi-ci-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// Copies `policies/` (with its sources) into `dir/name`; without the test files unless asked.
fn copy_policies(dir: &Path, name: &str, with_tests: bool) -> PathBuf {
    fn copy(from: &Path, to: &Path, with_tests: bool) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let p = e.unwrap().path();
            let target = to.join(p.file_name().unwrap());
            if p.is_dir() {
                copy(&p, &target, with_tests);
            } else if with_tests || !p.to_string_lossy().ends_with(".tests.policy") {
                std::fs::copy(&p, &target).unwrap();
            }
        }
    }
    let to = dir.join(name);
    copy(Path::new("policies"), &to, with_tests);
    to
}

/// Replaces `from` by `to` in a rule file, exactly once.
fn edit(file: &Path, from: &str, to: &str) {
    let s = std::fs::read_to_string(file).unwrap();
    assert_eq!(s.matches(from).count(), 1, "`{from}` should occur once in {}", file.display());
    std::fs::write(file, s.replacen(from, to, 1)).unwrap();
}

const BROKEN: &str = "fact x: money\npolicy P \"p\" {\n  clause 1 \"c\" {\n    amount x + 20%\n  }\n  clause 2 \"d\" {\n    when y 超过 1元\n    amount 1万\n  }\n}\n";

fn validate_sarif(log: &serde_json::Value) {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/data/sarif-schema-2.1.0.json").unwrap())
            .unwrap();
    // tests/data/README.md says where the schema comes from and the one pattern fixed in it
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> =
        validator.iter_errors(log).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "SARIF does not validate:\n{}\n{log:#}", errors.join("\n"));
}

// ------------------------------------------------------------------ check --format sarif

#[test]
fn sarif_of_errors_validates_and_locates() {
    let dir = tmpdir("sarif");
    let p = write(&dir, "broken.policy", BROKEN);
    let o = huiqi(&["check", p.to_str().unwrap(), "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let log: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    validate_sarif(&log);
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif"));
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "huiqi");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let e0301 = rules.iter().find(|r| r["id"] == "E0301").expect("rule E0301");
    assert_eq!(e0301["shortDescription"]["text"], "operands that cannot be combined");
    assert_eq!(e0301["defaultConfiguration"]["level"], "error");
    let results = run["results"].as_array().unwrap();
    let r = results.iter().find(|r| r["ruleId"] == "E0301").expect("an E0301 result");
    assert_eq!(r["level"], "error");
    assert!(r["message"]["text"].as_str().unwrap().contains("money + rate"), "{r}");
    assert_eq!(rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"], "E0301");
    let loc = &r["locations"][0]["physicalLocation"];
    assert!(loc["artifactLocation"]["uri"].as_str().unwrap().ends_with("broken.policy"), "{loc}");
    assert_eq!(loc["region"]["startLine"], 4);
    assert_eq!(loc["region"]["startColumn"], 12);
    assert_eq!(loc["region"]["endLine"], 4);
    assert_eq!(loc["region"]["endColumn"], 19);
    assert!(results.iter().any(|r| r["ruleId"] == "E0201"), "{results:?}");
}

#[test]
fn sarif_of_clean_policies_validates_with_no_results() {
    let o = huiqi(&["check", "policies", "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let log: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    validate_sarif(&log);
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);
}

#[test]
fn sarif_of_a_warning_validates() {
    // a library-level check: a warning with a secondary label and a facts-input diagnostic
    use huiqi::diag::{Code, Diagnostic, Severity};
    use huiqi::span::{SourceMap, Span};
    let mut sources = SourceMap::new();
    let f = sources.add("规则/示例.policy", "fact x: money\nfact y: money\n");
    let mut w = Diagnostic::new(Code::Duplicate, "`x` is declared twice")
        .at(Span::new(f, 19, 20), "again here")
        .also(Span::new(f, 5, 6), "first here")
        .help("rename one");
    w.severity = Severity::Warning;
    let input = Diagnostic::new(Code::UnknownFact, "unknown fact `z`").in_input("facts.json", "z");
    let log = serde_json::to_value(huiqi::diag::ci::to_sarif(&[w, input], &sources)).unwrap();
    validate_sarif(&log);
    let r = &log["runs"][0]["results"];
    assert_eq!(r[0]["level"], "warning");
    assert_eq!(
        r[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "%E8%A7%84%E5%88%99/%E7%A4%BA%E4%BE%8B.policy"
    );
    assert_eq!(r[0]["relatedLocations"][0]["message"]["text"], "first here");
    assert_eq!(r[1]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"], "z");
    // the validator does reject a log that breaks the schema
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/data/sarif-schema-2.1.0.json").unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut bad = log.clone();
    bad["version"] = "2.0.0".into();
    assert!(!validator.is_valid(&bad));
    let mut bad = log.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&bad));
}

// ------------------------------------------------------------------ check --format github

#[test]
fn github_annotations_one_line_per_problem() {
    let dir = tmpdir("github");
    let p = write(&dir, "broken.policy", BROKEN);
    let o = huiqi(&["check", p.to_str().unwrap(), "--format", "github"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = stdout(&o);
    let line = out.lines().find(|l| l.contains("title=E0301")).unwrap_or_else(|| panic!("{out}"));
    let file = p.to_str().unwrap();
    assert!(
        line.starts_with(&format!(
            "::error file={file},line=4,col=12,endLine=4,endColumn=19,title=E0301::cannot compute money + rate"
        )),
        "{line}"
    );
    assert!(out.lines().all(|l| l.starts_with("::error ") || l.starts_with("::warning ")), "{out}");
    let clean = huiqi(&["check", "policies", "--format", "github"]);
    assert_eq!(clean.status.code(), Some(0));
    assert_eq!(stdout(&clean), "");
}

// ------------------------------------------------------------------ test --format junit

const WITH_TESTS: &str = "fact 收入: money\n\
policy P \"示例\" {\n\
  clause 1 \"固定\" { when 收入 达到 100万 amount 10万 }\n\
  clause 2 \"分档\" {\n\
    amount tiers 收入 pay highest { 达到 100万 => 1万; 达到 200万 => 2万 }\n\
  }\n\
  clause 3 \"目标\" { kind target amount discretionary }\n\
}\n\
test \"对\" {\n  period 2024\n  facts { 收入: 150万 }\n  expect P.1 granted 10万\n  expect P.2 granted 1万\n}\n\
test \"错 & <坏>\" {\n  period 2024\n  facts { 收入: 50万 }\n  expect P.1 granted 10万\n}\n";

#[test]
fn junit_report_has_a_case_per_test_and_failures_with_locations() {
    let dir = tmpdir("junit");
    let p = write(&dir, "t.policy", WITH_TESTS);
    let o = huiqi(&["test", p.to_str().unwrap(), "--format", "junit"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let x = stdout(&o);
    assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"huiqi\" tests=\"2\" failures=\"1\""), "{x}");
    assert_eq!(x.matches("<testcase ").count(), 2, "{x}");
    assert!(x.contains("<testcase name=\"对\""), "{x}");
    assert!(x.contains("<testcase name=\"错 &amp; &lt;坏&gt;\""), "{x}");
    assert!(x.contains("<failure message=\"P.1: expected granted 10万, actual ineligible\""), "{x}");
    let file = p.to_str().unwrap();
    assert!(
        x.contains(&format!("{file}:18:10: P.1\n  expected: granted 10万\n  actual:   ineligible")),
        "{x}"
    );
    assert!(x.trim_end().ends_with("</testsuites>"), "{x}");
}

#[test]
fn junit_report_passes_on_the_policies() {
    let o = huiqi(&["test", "policies", "--format", "junit"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(stdout(&o).contains("failures=\"0\""));
}

// ------------------------------------------------------------------ test --coverage

#[test]
fn coverage_of_the_policies_is_complete() {
    let o = huiqi(&["test", "policies", "--coverage", "--min-coverage", "100"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = stdout(&o);
    let line = out.lines().find(|l| l.starts_with("clause coverage: ")).expect("coverage line");
    assert!(line.ends_with("(100%)"), "{line}");
    assert!(out.contains("3/3 tiers reached"), "{out}");
}

#[test]
fn coverage_reports_untested_clauses_tiers_and_the_threshold() {
    let dir = tmpdir("coverage");
    let p = write(&dir, "t.policy", WITH_TESTS);
    // drop the failing test so that only coverage decides the exit status
    let s = WITH_TESTS.split("test \"错").next().unwrap();
    let s = s.replace("expect P.2 granted 1万\n", "");
    std::fs::write(&p, &s).unwrap();
    let o = huiqi(&["test", p.to_str().unwrap(), "--coverage"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = stdout(&o);
    assert!(out.contains("clause coverage: 1/2 (50%)"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("P.2 ") && l.contains(" NO ")), "{out}");
    assert!(
        out.contains("not counted (target, guidance and stacking clauses are not evaluated): P.3"),
        "{out}"
    );
    let below = huiqi(&["test", p.to_str().unwrap(), "--coverage", "--min-coverage", "60"]);
    assert_eq!(below.status.code(), Some(1), "{}", text(&below));
    assert!(text(&below).contains("below --min-coverage 60%"), "{}", text(&below));
    // --min-coverage implies --coverage
    let at = huiqi(&["test", p.to_str().unwrap(), "--min-coverage", "50"]);
    assert_eq!(at.status.code(), Some(0), "{}", text(&at));

    // tiers: the test of P.2 reaches only the 100万 tier
    std::fs::write(&p, WITH_TESTS.split("test \"错").next().unwrap()).unwrap();
    let o = huiqi(&["test", p.to_str().unwrap(), "--coverage", "--min-coverage", "100"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = stdout(&o);
    assert!(out.contains("1/2 tiers reached; not reached: ≥ 200万 => 2万"), "{out}");
    assert!(out.contains("clause coverage: 2/2 (100%)"), "{out}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(huiqi(&["test", "policies", "--min-coverage", "ninety"]).status.code(), Some(2));
    assert_eq!(huiqi(&["test", "policies", "--format", "tap"]).status.code(), Some(2));
    assert_eq!(huiqi(&["diff", "policies", "policies", "--format", "yaml"]).status.code(), Some(2));
    assert_eq!(huiqi(&["check", "policies", "--format", "xml"]).status.code(), Some(2));
    assert_eq!(huiqi(&["diff", "policies"]).status.code(), Some(2));
    assert_eq!(huiqi(&["diff", "policies", "no/such/folder"]).status.code(), Some(2));
    let o = huiqi(&["diff", "policies", "policies", "--population", "no/such.jsonl"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

// ------------------------------------------------------------------ diff

/// Old and new copies of the policies; `change` edits the new `E23.policy`.
fn versions(name: &str, change: impl FnOnce(&Path)) -> (PathBuf, PathBuf) {
    let dir = tmpdir(name);
    let old = copy_policies(&dir, "old", false);
    let new = copy_policies(&dir, "new", false);
    change(&new.join("E23.policy"));
    (old, new)
}

fn diff_text(old: &Path, new: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["diff", old.to_str().unwrap(), new.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = huiqi(&args);
    (o.status.code(), text(&o))
}

#[test]
fn diff_of_identical_rule_sets_is_empty() {
    let (old, new) = versions("diff-same", |_| {});
    let (code, out) = diff_text(&old, &new, &["--exit-code"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("no semantic changes"), "{out}");
}

#[test]
fn diff_says_a_cap_change_in_policy_terms() {
    let (old, new) = versions("diff-cap", |f| edit(f, "cap 100万 per year", "cap 50万 per year"));
    let (code, out) = diff_text(&old, &new, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("~ E23.8: cap 100万 per year → cap 50万 per year"), "{out}");
    let (code, _) = diff_text(&old, &new, &["--exit-code"]);
    assert_eq!(code, Some(1));
}

#[test]
fn diff_says_window_and_tier_changes() {
    let (old, new) = versions("diff-window", |f| {
        edit(f, "valid 2023-01-01 to 2025-12-31", "valid 2023-01-01 to 2026-12-31");
        edit(f, "达到 10亿 => 100万", "达到 10亿 => 120万");
        edit(f, "达到 5亿  => 50万\n", "");
        edit(f, "达到 1亿  => 30万\n", "达到 1亿  => 30万\n      达到 3亿  => 40万\n");
    });
    let (_, out) = diff_text(&old, &new, &[]);
    assert!(out.contains("~ E23.8: window end 2025-12-31 → 2026-12-31"), "{out}");
    assert!(out.contains("~ E23.5: tier ≥ 10亿 now pays 120万 (was 100万)"), "{out}");
    assert!(out.contains("~ E23.5: tier removed: ≥ 5亿 => 50万"), "{out}");
    assert!(out.contains("~ E23.5: tier added: ≥ 3亿 => 40万"), "{out}");
}

#[test]
fn diff_says_added_removed_and_changed_clauses() {
    let (old, new) = versions("diff-clauses", |f| {
        let s = std::fs::read_to_string(f).unwrap();
        let start = s.find("  clause 17 \"").unwrap();
        let end = start + s[start..].find("\n  }\n").unwrap() + 5;
        let s = format!("{}{}", &s[..start], &s[end..]);
        let s = s.replacen(
            "  clause 1 \"支持关键技术攻关\" {",
            "  clause 18 \"新设条款\" {\n    amount 5万\n  }\n\n  clause 1 \"支持关键技术攻关\" {",
            1,
        );
        std::fs::write(f, s).unwrap();
        edit(f, "when 专精特新等级 达到 市州级专精特新", "when 专精特新等级 达到 国家级小巨人");
        edit(
            f,
            "amount 1000万\n    once\n  }\n\n  clause 12b",
            "amount 800万\n    once\n  }\n\n  clause 12b",
        );
    });
    let (_, out) = diff_text(&old, &new, &[]);
    assert!(out.contains("- E23.17 \"开展精准靶向招商\": removed"), "{out}");
    assert!(out.contains("+ E23.18 \"新设条款\": added"), "{out}");
    assert!(
        out.contains("~ E23.9: condition 专精特新等级 ≥ 市州级专精特新 → 专精特新等级 ≥ 国家级小巨人"),
        "{out}"
    );
    assert!(out.contains("~ E23.12a: amount 1000万 → 800万"), "{out}");

    let o = huiqi(&["diff", old.to_str().unwrap(), new.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["identical"], false);
    let clauses = v["clauses"].as_array().unwrap();
    assert!(clauses.iter().any(|c| c["subject"] == "E23.17" && c["kind"] == "removed"));
    assert!(clauses.iter().any(|c| c["subject"] == "E23.18" && c["kind"] == "added"));
    assert!(v.get("impact").is_none());
}

#[test]
fn diff_budget_impact_over_a_population() {
    // tests/data/population.jsonl, worked out by hand (period 2024 for every row):
    //   甲 营业收入 8000万 → 1.2亿: E23.5 tier 1亿, 30万 → 20万 (loses 10万)
    //   乙 8000万 → 6亿: tier 5亿, 50万 both (unchanged)
    //   丙 深交所上市 2024: E23.12a 1000万 → 800万 (loses 200万)
    //   丁 食品制造业: nothing under either version
    //   戊 9000万 → 1.05亿 (period from its series): tier 1亿, 30万 → 20万 (loses 10万)
    //   己 8亿 → 12亿: tier 10亿, 100万 → 120万 (gains 20万)
    //   庚 a 转型升级 loan in 2024: E23.8 discretionary, its cap 100万 → 50万 (ceiling −50万)
    // totals: 30+50+1000+30+100 = 1210万 → 20+50+800+20+120 = 1010万, −200万
    let (old, new) = versions("diff-impact", |f| {
        edit(f, "达到 1亿  => 30万", "达到 1亿  => 20万");
        edit(f, "达到 10亿 => 100万", "达到 10亿 => 120万");
        edit(
            f,
            "amount 1000万\n    once\n  }\n\n  clause 12b",
            "amount 800万\n    once\n  }\n\n  clause 12b",
        );
        edit(f, "cap 100万 per year", "cap 50万 per year");
        // no row says its 专精特新等级: E23.9 is undetermined under both versions
        edit(f, "when 专精特新等级 达到 市州级专精特新", "when 专精特新等级 达到 国家级小巨人");
    });
    let (code, out) = diff_text(&old, &new, &["--population", "tests/data/population.jsonl"]);
    assert!(out.contains("  E23.9: no enterprise of the population affected\n"), "{out}");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("budget impact over 7 enterprises (each row's period):"), "{out}");
    assert!(out.contains("  E23.5: of 7 enterprises 1 gain, 2 lose, no change in total\n"), "{out}");
    assert!(out.contains("  E23.12a: 1 of 7 enterprises lose, −200万 in total\n"), "{out}");
    assert!(
        out.contains(
            "  E23.8: 1 of 7 enterprises have a new cap, no change in total; discretionary ceiling −50万\n"
        ),
        "{out}"
    );
    assert!(out.contains("  total granted: 1210万 → 1010万 (−200万)\n"), "{out}");

    let o = huiqi(&[
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--population",
        "tests/data/population.jsonl",
        "--period",
        "2024",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let i = &v["impact"];
    assert_eq!(i["enterprises"], 7);
    assert_eq!(i["period"], 2024);
    assert_eq!(i["old_total"], "12100000.00");
    assert_eq!(i["new_total"], "10100000.00");
    assert_eq!(i["delta"], "-2000000.00");
    let e235 = i["clauses"].as_array().unwrap().iter().find(|c| c["clause"] == "E23.5").unwrap();
    assert_eq!((e235["gain"].as_u64(), e235["lose"].as_u64()), (Some(1), Some(2)));
    assert_eq!(e235["old_total"], "2100000.00");
    assert_eq!(e235["new_total"], "2100000.00");
    assert_eq!(e235["examples"].as_array().unwrap().len(), 3);
    let e238 = i["clauses"].as_array().unwrap().iter().find(|c| c["clause"] == "E23.8").unwrap();
    assert_eq!((e238["cap_changed"].as_u64(), e238["old_ceiling"].as_str()), (Some(1), Some("1000000.00")));
    assert_eq!(e238["new_ceiling"], "500000.00");
}

#[test]
fn diff_skips_rows_it_cannot_read() {
    let (old, new) = versions("diff-rows", |f| {
        edit(f, "amount 1000万\n    once\n  }\n\n  clause 12b", "amount 900万\n    once\n  }\n\n  clause 12b")
    });
    let pop = write(
        old.parent().unwrap(),
        "pop.jsonl",
        "{\"行业\": \"电子信息制造业\", \"总部在吉林\": true, \"腾飞类企业\": true, \"上市地点\": \"境外\", \"上市日期\": \"2024-01-02\", \"$period\": 2024}\nnot json\n{\"未知\": 1}\n\n{\"行业\": \"电子信息制造业\"}\n",
    );
    let (code, out) = diff_text(&old, &new, &["--population", pop.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("budget impact over 1 enterprise"), "{out}");
    assert!(out.contains("line 2: skipped: not valid JSON"), "{out}");
    assert!(out.contains("line 3: skipped: 未知"), "{out}");
    assert!(out.contains("line 5: skipped: no period"), "{out}");
    assert!(out.contains("warning: 3 population row(s) skipped"), "{out}");
}

// ------------------------------------------------------------------ the workflow

#[test]
fn the_workflow_is_yaml_and_runs_the_commands_documented() {
    let workflow = std::fs::read_to_string(".github/workflows/policies.yml").unwrap();
    let y: serde_yaml::Value = serde_yaml::from_str(&workflow).expect("valid YAML");
    let steps = y["jobs"]["policies"]["steps"].as_sequence().expect("steps");
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    let has = |needle: &str| runs.iter().any(|r| r.contains(needle));
    assert!(has("huiqi check \"$RULES\" --format github"));
    assert!(has("huiqi check \"$RULES\" --format sarif"));
    assert!(has("huiqi fmt --check \"$RULES\""));
    assert!(has("huiqi test \"$RULES\" --format junit --coverage --min-coverage \"$MIN_COVERAGE\""));
    assert!(has("GITHUB_STEP_SUMMARY"));
    assert!(has("args=(diff \"../base/$RULES\" \"$RULES\")"));
    // the same invocations succeed on this repository's rules
    for args in [
        &["check", "policies", "--format", "github"][..],
        &["test", "policies", "--format", "junit", "--coverage", "--min-coverage", "100"],
        &["diff", "policies", "policies", "--population", "tests/data/population.jsonl", "--format", "json"],
    ] {
        let o = huiqi(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o));
    }
}
