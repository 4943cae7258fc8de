#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! The conformance corpus (`tests/conformance/*.json`, written by `scripts/gen-conformance`):
//! every case through the library API and through the command line, each agreeing with the
//! expected `eval --format json` document to the byte. The Python binding runs the same files
//! (`python/tests/test_conformance.py`).

use huiqi::json::Json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

struct Case {
    file: String,
    name: String,
    rules: Option<BTreeMap<String, String>>,
    facts: String,
    period: Option<i32>,
    ledger: Option<String>,
    expected: serde_json::Value,
}

fn cases() -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("tests/conformance")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let case = Json::parse(&std::fs::read_to_string(&p).unwrap()).unwrap();
            let rules = match case.get("rules").unwrap() {
                Json::String(s) => {
                    assert_eq!(s, "policies");
                    None
                }
                Json::Object(m) => {
                    Some(m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect())
                }
                other => panic!("{}: rules is {other:?}", p.display()),
            };
            Case {
                file: p.display().to_string(),
                name: case.get("name").and_then(Json::as_str).unwrap().to_string(),
                rules,
                facts: case.get("facts").unwrap().to_string(),
                period: match case.get("period") {
                    Some(Json::Number(n)) => Some(n.as_str().parse().unwrap()),
                    _ => None,
                },
                ledger: case.get("ledger").filter(|l| !l.is_null()).map(|l| l.to_string()),
                expected: serde_json::from_str(&case.get("expected").unwrap().to_string()).unwrap(),
            }
        })
        .collect()
}

#[test]
fn the_corpus_covers_every_status() {
    let cases = cases();
    assert!(cases.len() >= 60, "{} cases; want at least 60", cases.len());
    let mut statuses: Vec<String> = cases
        .iter()
        .flat_map(|c| {
            c.expected["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["status"].as_str().unwrap().to_string())
        })
        .collect();
    statuses.sort();
    statuses.dedup();
    assert_eq!(
        statuses,
        ["discretionary", "exhausted", "granted", "ineligible", "not_in_force", "undetermined"]
    );
}

#[test]
fn the_library_agrees_with_every_case() {
    let policies = huiqi::Rules::load(["policies"]).unwrap();
    for c in cases() {
        let inline;
        let rules = match &c.rules {
            None => &policies,
            Some(files) => {
                inline = huiqi::Rules::from_texts(files.clone()).unwrap();
                &inline
            }
        };
        let rep = rules.evaluate_json(&c.facts, c.period, c.ledger.as_deref()).unwrap();
        let got = serde_json::to_value(&rep).unwrap();
        assert_eq!(got, c.expected, "{} ({})", c.file, c.name);
    }
}

#[test]
fn the_command_line_agrees_with_every_case() {
    let cases = cases();
    let dir = std::env::temp_dir().join(format!("huiqi-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let half = cases.len().div_ceil(2);
    std::thread::scope(|s| {
        for (k, part) in cases.chunks(half).enumerate() {
            let dir = dir.join(k.to_string());
            s.spawn(move || {
                std::fs::create_dir_all(&dir).unwrap();
                for c in part {
                    let facts = dir.join("facts.json");
                    std::fs::write(&facts, &c.facts).unwrap();
                    let mut cmd = Command::new(env!("CARGO_BIN_EXE_huiqi"));
                    cmd.args(["eval", "--facts"]).arg(&facts).args(["--format", "json"]);
                    if let Some(p) = c.period {
                        cmd.args(["--period", &p.to_string()]);
                    }
                    if let Some(l) = &c.ledger {
                        let lf = dir.join("ledger.json");
                        std::fs::write(&lf, l).unwrap();
                        cmd.arg("--ledger").arg(lf);
                    }
                    match &c.rules {
                        None => cmd.args(["--policies", "policies"]),
                        Some(files) => {
                            let rd = dir.join("rules");
                            let _ = std::fs::remove_dir_all(&rd);
                            std::fs::create_dir_all(&rd).unwrap();
                            for (n, t) in files {
                                std::fs::write(rd.join(n), t).unwrap();
                            }
                            cmd.arg("--policies").arg(rd)
                        }
                    };
                    let out = cmd.output().unwrap();
                    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                        panic!("{}: {e}: {}", c.file, String::from_utf8_lossy(&out.stderr))
                    });
                    assert_eq!(got, c.expected, "{} ({})", c.file, c.name);
                }
            });
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
