//! `huiqi test --format junit`: the test report as JUnit XML, the format CI systems collect
//! (GitHub test reporters, GitLab, Jenkins). One `<testsuite>` per test file, one
//! `<testcase>` per `test` block, a `<failure>` per case that failed carrying expected vs
//! actual and the location of each failing expectation.
//!
//! Invariant: built only from [`TestReport`]; every text is XML-escaped here. Durations are
//! not measured: `time` is always `0` (some readers require the attribute).

use crate::testing::TestReport;

/// Escapes text for XML attributes and element content.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(ch),
            c if u32::from(c) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// `(file, line)` of a `file:line:col` location.
fn split_location(loc: &str) -> (&str, Option<&str>) {
    let mut parts = loc.rsplitn(3, ':');
    let _col = parts.next();
    let line = parts.next();
    match (line, parts.next()) {
        (Some(l), Some(f)) if l.chars().all(|c| c.is_ascii_digit()) => (f, Some(l)),
        _ => (loc, None),
    }
}

/// The JUnit XML document of a test run.
pub fn render(r: &TestReport) -> String {
    // suites in order of first appearance of their file
    let mut files: Vec<&str> = Vec::new();
    for c in &r.cases {
        let (f, _) = split_location(&c.location);
        if !files.contains(&f) {
            files.push(f);
        }
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"huiqi\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"0\">\n",
        r.cases.len(),
        r.failed()
    ));
    for file in files {
        let cases: Vec<_> = r.cases.iter().filter(|c| split_location(&c.location).0 == file).collect();
        let failed = cases.iter().filter(|c| !c.failures.is_empty()).count();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\" time=\"0\">\n",
            esc(file),
            cases.len()
        ));
        for c in cases {
            let (f, line) = split_location(&c.location);
            let line_attr = line.map(|l| format!(" line=\"{l}\"")).unwrap_or_default();
            out.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"{line_attr} time=\"0\"",
                esc(&c.name),
                esc(f),
                esc(f)
            ));
            if c.failures.is_empty() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            let summary = c
                .failures
                .iter()
                .map(|x| format!("{}: expected {}, actual {}", x.what, x.expected, x.actual))
                .collect::<Vec<_>>()
                .join("; ");
            let mut body = format!("{}: test `{}` failed\n", c.location, c.name);
            for x in &c.failures {
                body.push_str(&format!(
                    "{}: {}\n  expected: {}\n  actual:   {}\n",
                    x.location, x.what, x.expected, x.actual
                ));
                if !x.why.is_empty() {
                    body.push_str(&format!("  why:      {}\n", x.why));
                }
            }
            out.push_str(&format!(
                "      <failure message=\"{}\" type=\"expectation\">{}</failure>\n",
                esc(&summary),
                esc(&body)
            ));
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{CaseResult, Failure};

    #[test]
    fn failures_carry_expected_actual_and_location() {
        let r = TestReport {
            cases: vec![
                CaseResult { name: "ok <1>".into(), location: "p/T.policy:3:1".into(), failures: vec![] },
                CaseResult {
                    name: "bad".into(),
                    location: "p/T.policy:9:1".into(),
                    failures: vec![Failure {
                        location: "p/T.policy:12:3".into(),
                        what: "E23.5".into(),
                        expected: "granted 30万".into(),
                        actual: "ineligible".into(),
                        why: "a & b".into(),
                    }],
                },
            ],
        };
        let x = render(&r);
        assert!(x.contains("<testsuites name=\"huiqi\" tests=\"2\" failures=\"1\""), "{x}");
        assert!(
            x.contains(
                "<testcase name=\"ok &lt;1&gt;\" classname=\"p/T.policy\" file=\"p/T.policy\" line=\"3\" time=\"0\"/>"
            ),
            "{x}"
        );
        assert!(x.contains("message=\"E23.5: expected granted 30万, actual ineligible\""), "{x}");
        assert!(x.contains("p/T.policy:12:3: E23.5\n  expected: granted 30万\n  actual:   ineligible\n  why:      a &amp; b"), "{x}");
    }

    #[test]
    fn locations_split() {
        assert_eq!(split_location("a/b.policy:3:1"), ("a/b.policy", Some("3")));
        assert_eq!(split_location("<unknown>"), ("<unknown>", None));
    }
}
