#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]
//! `huiqi lsp` driven as an editor drives it: the real binary, JSON-RPC over its stdin and
//! stdout, on a copy of policies/ in a temporary folder.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

struct Client {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next: i64,
    /// Notifications received while waiting for responses.
    notes: Vec<Value>,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let t = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}

fn workspace(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("huiqi-lsp-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"), &dir);
    dir
}

fn uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

impl Client {
    fn start(root: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_huiqi"))
            .arg("lsp")
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let l = line.trim();
                    if l.is_empty() {
                        break;
                    }
                    if let Some(v) = l.strip_prefix("Content-Length:") {
                        len = v.trim().parse().unwrap();
                    }
                }
                let mut buf = vec![0; len];
                if r.read_exact(&mut buf).is_err() {
                    return;
                }
                if tx.send(serde_json::from_slice::<Value>(&buf).unwrap()).is_err() {
                    return;
                }
            }
        });
        Client { child, stdin, rx, next: 1, notes: Vec::new() }
    }

    fn send_raw(&mut self, body: &str) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn send(&mut self, v: Value) {
        self.send_raw(&v.to_string());
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn recv(&mut self) -> Value {
        self.rx.recv_timeout(Duration::from_secs(60)).expect("the server answers within 60 s")
    }

    /// Sends a request and returns its whole response (result or error).
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next;
        self.next += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.response(json!(id))
    }

    fn response(&mut self, id: Value) -> Value {
        loop {
            let m = self.recv();
            if m.get("method").is_some() {
                self.notes.push(m);
            } else if m["id"] == id {
                return m;
            }
        }
    }

    fn result(&mut self, method: &str, params: Value) -> Value {
        let r = self.call(method, params);
        assert!(r.get("error").is_none(), "{method}: {r}");
        r["result"].clone()
    }

    /// The next diagnostics published for a file (earlier ones already received included).
    fn diagnostics(&mut self, file: &str) -> Vec<Value> {
        loop {
            if let Some(i) = self
                .notes
                .iter()
                .position(|n| n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == file)
            {
                let n = self.notes.remove(i);
                return n["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
            }
            let m = self.recv();
            self.notes.push(m);
        }
    }

    fn open(&mut self, path: &Path) -> String {
        let text = std::fs::read_to_string(path).unwrap();
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri(path), "languageId": "huiqi", "version": 1, "text": text}}),
        );
        text
    }

    fn change(&mut self, path: &Path, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri(path), "version": version}, "contentChanges": [{"text": text}]}),
        );
    }
}

/// Line (0-based) and UTF-16 column of the first occurrence of `needle` (plus `skip` bytes).
fn pos(text: &str, needle: &str, skip: usize) -> Value {
    let off = text.find(needle).unwrap_or_else(|| panic!("`{needle}` in the text")) + skip;
    let before = &text[..off];
    let line = before.matches('\n').count();
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": before[start..].encode_utf16().count()})
}

fn line_of(text: &str, needle: &str) -> u64 {
    text[..text.find(needle).unwrap()].matches('\n').count() as u64
}

/// Semantic tokens as (line, column, length, type).
fn decode(r: &Value) -> Vec<(u64, u64, u64, u64)> {
    let data: Vec<u64> = r["data"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(data.len() % 5, 0);
    let (mut line, mut col) = (0u64, 0u64);
    let mut toks = Vec::new();
    for t in data.chunks(5) {
        if t[0] > 0 {
            line += t[0];
            col = t[1];
        } else {
            col += t[1];
        }
        toks.push((line, col, t[2], t[3]));
    }
    toks
}

fn at(path: &Path, p: Value) -> Value {
    json!({"textDocument": {"uri": uri(path)}, "position": p})
}

fn init(c: &mut Client, root: &Path) {
    let r = c.result("initialize", json!({"processId": null, "rootUri": uri(root), "capabilities": {}}));
    assert_eq!(r["capabilities"]["hoverProvider"], true);
    assert_eq!(r["serverInfo"]["name"], "huiqi");
    c.notify("initialized", json!({}));
}

fn finish(mut c: Client) {
    assert_eq!(c.result("shutdown", Value::Null), Value::Null);
    c.notify("exit", Value::Null);
    let status = c.child.wait().unwrap();
    assert!(status.success(), "exit after shutdown is 0: {status}");
}

#[test]
fn diagnostics_appear_with_code_and_range_and_clear_when_fixed() {
    let root = workspace("diag");
    let mut c = Client::start(&root);
    init(&mut c, &root);
    let e23 = root.join("E23.policy");
    let tests = root.join("E23.tests.policy");
    let text = c.open(&e23);

    // an unknown name, on a line with Chinese before it: the range is in UTF-16 units
    let broken = text.replacen("when 承担揭榜挂帅项目", "when 承担揭榜挂帅项目甲", 1);
    c.change(&e23, 2, &broken);
    let d = c.diagnostics(&uri(&e23));
    let e = d.iter().find(|d| d["code"] == "E0201").unwrap_or_else(|| panic!("E0201 in {d:?}"));
    assert_eq!(e["severity"], 1);
    assert_eq!(e["range"]["start"], pos(&broken, "承担揭榜挂帅项目甲", 0));
    assert_eq!(e["range"]["end"], pos(&broken, "承担揭榜挂帅项目甲", "承担揭榜挂帅项目甲".len()));
    assert!(e["message"].as_str().unwrap().contains("承担揭榜挂帅项目甲"), "{e}");

    // a ranged change (as incremental clients send): UTF-16 positions on a Chinese line
    let at_name = pos(&text, "when 承担揭榜挂帅项目", "when 承担揭榜挂帅项目".len());
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&e23), "version": 2},
               "contentChanges": [{"range": {"start": at_name, "end": at_name}, "text": "乙"}]}),
    );
    let d = c.diagnostics(&uri(&e23));
    assert!(d.iter().any(|d| d["message"].as_str().unwrap().contains("`承担揭榜挂帅项目乙甲`")), "{d:?}");
    // with the help line of `huiqi check`
    assert!(
        d.iter().any(|d| d["message"].as_str().unwrap().contains("help: did you mean `承担揭榜挂帅项目`?")),
        "{d:?}"
    );
    // fixed: the file's diagnostics are published empty
    c.change(&e23, 3, &text);
    assert_eq!(c.diagnostics(&uri(&e23)), Vec::<Value>::new());

    // a duplicate: reported where the second declaration is (vocabulary.policy, after
    // E23.policy in the rule set's order), the first as related information
    let vocab_path = root.join("vocabulary.policy");
    let vocab = std::fs::read_to_string(&vocab_path).unwrap();
    let dup_text = format!("{text}\nfact 营业收入: money \"重复\"\n");
    c.change(&e23, 30, &dup_text);
    let d = c.diagnostics(&uri(&vocab_path));
    let dup = d.iter().find(|d| d["code"] == "E0202").unwrap_or_else(|| panic!("E0202 in {d:?}"));
    assert_eq!(dup["range"]["start"]["line"], line_of(&vocab, "fact 营业收入"));
    assert_eq!(dup["range"]["start"]["character"], 5);
    let rel = &dup["relatedInformation"][0];
    assert_eq!(rel["location"]["uri"], uri(&e23));
    assert_eq!(
        rel["location"]["range"]["start"]["line"],
        line_of(&dup_text, "fact 营业收入: money \"重复\"")
    );
    assert_eq!(rel["message"], "first declared here");
    c.change(&e23, 31, &text);
    assert_eq!(c.diagnostics(&uri(&vocab_path)), Vec::<Value>::new());
    // E23's own follow-on errors (if any were published) are cleared too
    // (published in the same round, before vocabulary.policy's: the last one received counts)
    let last = c.notes.iter().rev().find(|n| n["params"]["uri"] == uri(&e23)).cloned();
    if let Some(n) = last {
        assert_eq!(n["params"]["diagnostics"], json!([]));
    }
    c.notes.clear();

    // a syntax error in one file does not hide another file's errors
    let tests_text = c.open(&tests);
    let bad_tests = tests_text.replacen("expect E23.5 granted 30万", "expect E23.99 granted 30万", 1);
    c.change(&tests, 2, &bad_tests);
    let d = c.diagnostics(&uri(&tests));
    assert!(d.iter().any(|d| d["code"] == "E0206"), "{d:?}");
    let no_syntax = text.replacen("clause 5 \"鼓励企业壮大规模\" {", "clause 5 \"鼓励企业壮大规模\" {{", 1);
    c.change(&e23, 4, &no_syntax);
    let d = c.diagnostics(&uri(&e23));
    assert!(d.iter().any(|d| d["code"] == "E0101"), "{d:?}");
    // E23.tests is checked against E23's last good text: its error stands (not republished),
    // and requests on it still answer
    // and names still come from E23's last text that parsed
    let r = c.result("textDocument/hover", at(&tests, pos(&bad_tests, "E23.5 ", 1)));
    assert!(r["contents"]["value"].as_str().unwrap().contains("鼓励企业壮大规模"), "{r}");
    let r = c.result("textDocument/definition", at(&tests, pos(&bad_tests, "E23.5 ", 1)));
    assert_eq!(r[0]["range"]["start"]["line"], line_of(&text, "clause 5 \"鼓励企业壮大规模\""));
    let r = c.result(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri(&e23)}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(r, Value::Null, "a file that does not parse is not formatted");
    c.change(&e23, 5, &text);
    assert_eq!(c.diagnostics(&uri(&e23)), Vec::<Value>::new());
    c.change(&tests, 3, &tests_text);
    assert_eq!(c.diagnostics(&uri(&tests)), Vec::<Value>::new());
    finish(c);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn hover_definition_references_symbols_completion_formatting() {
    let root = workspace("nav");
    let mut c = Client::start(&root);
    init(&mut c, &root);
    let e23 = root.join("E23.policy");
    let tests = root.join("E23.tests.policy");
    let vocab = std::fs::read_to_string(root.join("vocabulary.policy")).unwrap();
    let text = c.open(&e23);
    let tests_text = c.open(&tests);

    // hover on a fact: its label and type, from the vocabulary
    let r =
        c.result("textDocument/hover", at(&e23, pos(&text, "first time 营业收入", "first time ".len() + 3)));
    let v = r["contents"]["value"].as_str().unwrap();
    assert!(v.contains("年产值（主营业务收入）") && v.contains("series money") && v.contains("元"), "{v}");
    // on a clause reference in a test: the title and the quote
    let r = c.result("textDocument/hover", at(&tests, pos(&tests_text, "expect E23.5", 8)));
    let v = r["contents"]["value"].as_str().unwrap();
    assert!(v.contains("鼓励企业壮大规模") && v.contains("对年产值（主营收入）首次超过 1 亿元"), "{v}");
    assert!(v.contains("kind: benefit"), "{v}");
    // on a threshold word
    let r = c.result("textDocument/hover", at(&e23, pos(&text, "达到 1亿", 0)));
    assert!(r["contents"]["value"].as_str().unwrap().contains("≥"), "{r}");
    // on a parameter: its versions with their dates and sources
    let bj20 = root.join("BJ20.policy");
    let bj = std::fs::read_to_string(&bj20).unwrap();
    let r = c.result("textDocument/hover", at(&bj20, pos(&bj, "× 便民网点租金支持比例上限", "× ".len() + 3)));
    let v = r["contents"]["value"].as_str().unwrap();
    assert!(v.contains("50% from 1900-01-01") && v.contains("70% from 2020-02-05"), "{v}");
    assert!(v.contains("由原50%提高至70%"), "{v}");
    // on a definition (used in E23.2b): its expression
    let r = c.result("textDocument/hover", at(&e23, pos(&text, "when 首次认定省级企业技术中心", 5)));
    let v = r["contents"]["value"].as_str().unwrap();
    assert!(v.starts_with("**define** `首次认定省级企业技术中心`") && v.contains("```huiqi"), "{v}");
    // on nothing
    let r = c.result("textDocument/hover", at(&e23, json!({"line": 0, "character": 0})));
    assert_eq!(r, Value::Null);
    // out of range: no error, no crash
    let r = c.result("textDocument/hover", at(&e23, json!({"line": 100000, "character": 100000})));
    assert_eq!(r, Value::Null);

    // definition: the fact in vocabulary.policy, the clause in E23.policy
    let r =
        c.result("textDocument/definition", at(&e23, pos(&text, "first time 营业收入", "first time ".len())));
    assert_eq!(r[0]["uri"], uri(&root.join("vocabulary.policy")));
    assert_eq!(r[0]["range"]["start"]["line"], line_of(&vocab, "fact 营业收入"));
    assert_eq!(r[0]["range"]["start"]["character"], 5);
    let r = c.result("textDocument/definition", at(&tests, pos(&tests_text, "expect E23.5", 7)));
    assert_eq!(r[0]["uri"], uri(&e23));
    assert_eq!(r[0]["range"]["start"]["line"], line_of(&text, "clause 5 \"鼓励企业壮大规模\""));

    // an enumeration value: its place in the enumeration
    let r = c.result("textDocument/definition", at(&e23, pos(&text, "== 电子信息制造业", 3)));
    assert_eq!(r[0]["uri"], uri(&root.join("vocabulary.policy")));
    assert_eq!(r[0]["range"]["start"]["line"], line_of(&vocab, "  电子信息制造业, 装备制造业"));

    // references of E23.5: every test naming it, and the declaration
    let r = c.result(
        "textDocument/references",
        json!({"textDocument": {"uri": uri(&e23)}, "position": pos(&text, "clause 5 \"", 7), "context": {"includeDeclaration": true}}),
    );
    let refs = r.as_array().unwrap();
    let in_tests = refs.iter().filter(|l| l["uri"] == uri(&tests)).count();
    let expected: usize = tests_text
        .lines()
        .map(|l| {
            let code = l.split("//").next().unwrap_or("");
            let outside: String = code.split('"').step_by(2).collect::<Vec<_>>().join(" ");
            outside
                .match_indices("E23.5")
                .filter(|(i, _)| !outside[i + 5..].starts_with(|c: char| c.is_alphanumeric()))
                .count()
        })
        .sum();
    assert!(expected > 3);
    assert_eq!(in_tests, expected, "{refs:?}");
    assert!(refs.iter().any(|l| l["uri"] == uri(&e23)));
    // references of a fact span files
    let r = c.result(
        "textDocument/references",
        json!({"textDocument": {"uri": uri(&e23)}, "position": pos(&text, "first time 营业收入", "first time ".len() + 3), "context": {"includeDeclaration": false}}),
    );
    let refs = r.as_array().unwrap();
    assert!(refs.iter().any(|l| l["uri"] == uri(&e23)));
    assert!(refs.iter().all(|l| l["uri"] != uri(&root.join("vocabulary.policy"))
        || l["range"]["start"]["line"] != line_of(&vocab, "fact 营业收入")));

    // document symbols: the document, its clauses inside
    let r = c.result("textDocument/documentSymbol", json!({"textDocument": {"uri": uri(&e23)}}));
    let doc = r.as_array().unwrap().iter().find(|s| s["name"] == "E23").unwrap().clone();
    let clauses: Vec<&str> =
        doc["children"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(clauses.contains(&"E23.1") && clauses.contains(&"E23.5"), "{clauses:?}");
    let five = doc["children"].as_array().unwrap().iter().find(|s| s["name"] == "E23.5").unwrap();
    assert_eq!(five["detail"], "鼓励企业壮大规模");
    assert_eq!(five["selectionRange"]["start"]["line"], line_of(&text, "clause 5 \"鼓励企业壮大规模\""));

    // completion: facts, threshold words, clause ids, keywords
    let r = c.result("textDocument/completion", at(&e23, pos(&text, "when 承担", 5)));
    let labels: Vec<&str> = r.as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap()).collect();
    for l in ["营业收入", "达到", "超过", "E23.5", "clause", "条款", "once in", "择一", "电子信息制造业"]
    {
        assert!(labels.contains(&l), "{l} in completion");
    }

    // semantic tokens: facts, threshold words, keywords, clause references, strings
    let r = c.result("textDocument/semanticTokens/full", json!({"textDocument": {"uri": uri(&e23)}}));
    let toks = decode(&r);
    let kind_at = |p: Value| {
        let (l, c) = (p["line"].as_u64().unwrap(), p["character"].as_u64().unwrap());
        toks.iter().find(|t| t.0 == l && t.1 == c).map(|t| (t.2, t.3))
    };
    // 营业收入: a fact (variable), four UTF-16 units
    assert_eq!(kind_at(pos(&text, "first time 营业收入", "first time ".len())), Some((4, 1)));
    assert_eq!(kind_at(pos(&text, "达到 1亿", 0)), Some((2, 10)));
    assert_eq!(kind_at(pos(&text, "clause 5 \"鼓励", 0)), Some((6, 0)));
    assert_eq!(kind_at(pos(&text, "\"鼓励企业壮大规模\"", 0)).map(|t| t.1), Some(11));
    let tr = c.result("textDocument/semanticTokens/full", json!({"textDocument": {"uri": uri(&tests)}}));
    let ttoks = decode(&tr);
    let p = pos(&tests_text, "expect E23.5", 7);
    let t =
        ttoks.iter().find(|t| t.0 == p["line"].as_u64().unwrap() && t.1 == p["character"].as_u64().unwrap());
    assert_eq!(t.map(|t| (t.2, t.3)), Some((5, 9)), "E23.5: one clause token");

    // code lenses: over each clause, its tests' result
    let r = c.result("textDocument/codeLens", json!({"textDocument": {"uri": uri(&e23)}}));
    let five_line = line_of(&text, "clause 5 \"鼓励企业壮大规模\"");
    let lens = |r: &Value| {
        r.as_array().unwrap().iter().find(|l| l["range"]["start"]["line"] == five_line).unwrap()["command"]["title"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let t = lens(&r);
    assert!(t.starts_with("✓ ") && t.ends_with("test(s) pass"), "{t}");
    let wrong = tests_text.replacen("expect E23.5 granted 30万", "expect E23.5 granted 31万", 1);
    c.change(&tests, 2, &wrong);
    let r = c.result("textDocument/codeLens", json!({"textDocument": {"uri": uri(&e23)}}));
    let t = lens(&r);
    assert!(t.starts_with("✗ 1 of ") && t.contains("E23.5 首次达到1亿：30万"), "{t}");
    c.change(&tests, 3, &tests_text);

    // formatting: a file out of layout comes back as `huiqi fmt` writes it
    let messy = text.replacen("  clause 5 \"", "        clause 5   \"", 1);
    c.change(&e23, 2, &messy);
    let r = c.result(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri(&e23)}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let edits = r.as_array().unwrap();
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0]["newText"], text);
    c.change(&e23, 3, &text);
    let r = c.result(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri(&e23)}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(r, json!([]));
    finish(c);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn malformed_input_gets_errors_not_a_crash() {
    let root = workspace("bad");
    let mut c = Client::start(&root);
    // a request before initialize
    let r = c.call("textDocument/hover", json!({}));
    assert_eq!(r["error"]["code"], -32002);
    init(&mut c, &root);
    // not JSON
    c.send_raw("{not json");
    let r = c.response(Value::Null);
    assert_eq!(r["error"]["code"], -32700);
    // JSON, not a message
    c.send_raw(r#"{"jsonrpc": "2.0", "id": 77, "method": 5}"#);
    let r = c.response(json!(77));
    assert_eq!(r["error"]["code"], -32600);
    // an unknown method
    let r = c.call("textDocument/frobnicate", json!({}));
    assert_eq!(r["error"]["code"], -32601);
    // wrong params
    let r = c.call("textDocument/hover", json!({"textDocument": 3}));
    assert_eq!(r["error"]["code"], -32602);
    // a document the server never saw, positions anywhere
    let r = c.result(
        "textDocument/definition",
        at(&root.join("nowhere.policy"), json!({"line": 5, "character": 9})),
    );
    assert_eq!(r, Value::Null);
    // and it still works
    let e23 = root.join("E23.policy");
    let text = c.open(&e23);
    let r = c.result("textDocument/hover", at(&e23, pos(&text, "超过 0元", 0)));
    assert!(r["contents"]["value"].as_str().unwrap().contains('>'), "{r}");
    finish(c);
    let _ = std::fs::remove_dir_all(&root);
}

/// The tests of policies/E23.tests.policy that expect something of E23.5, counted in the
/// file itself (each `test` block with an `expect E23.5` line once).
fn e23_5_tests(tests_text: &str) -> usize {
    tests_text.split("\ntest \"").skip(1).filter(|block| block.contains("expect E23.5 ")).count()
}

#[test]
fn code_action_runs_one_clauses_tests() {
    let root = workspace("action");
    let mut c = Client::start(&root);
    let r = c.result("initialize", json!({"processId": null, "rootUri": uri(&root), "capabilities": {}}));
    assert_eq!(r["capabilities"]["codeActionProvider"], true);
    assert_eq!(r["capabilities"]["executeCommandProvider"]["commands"], json!(["huiqi.tests"]));
    c.notify("initialized", json!({}));
    let e23 = root.join("E23.policy");
    let tests = root.join("E23.tests.policy");
    let text = c.open(&e23);
    let tests_text = c.open(&tests);
    let n = e23_5_tests(&tests_text);
    assert_eq!(n, 13, "E23.tests.policy has 13 tests of E23.5");

    let action = |c: &mut Client, path: &Path, p: Value| {
        c.result(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri(path)}, "range": {"start": p, "end": p},
                   "context": {"diagnostics": []}}),
        )
    };
    // anywhere in clause 5 (on its tier line), and on a reference `E23.5` in a test
    for r in [
        action(&mut c, &e23, pos(&text, "达到 5亿", 3)),
        action(&mut c, &tests, pos(&tests_text, "expect E23.5 granted 30万", 9)),
    ] {
        let a = &r.as_array().unwrap()[0];
        assert_eq!(a["title"], "Run the tests of E23.5", "{r}");
        assert_eq!(a["command"]["command"], "huiqi.tests");
        assert_eq!(a["command"]["arguments"], json!(["E23.5"]));
    }
    // in clause 1, another clause; outside any clause (the document's header), none
    let r = action(&mut c, &e23, pos(&text, "clause 1 \"", 10));
    assert_eq!(r[0]["command"]["arguments"], json!(["E23.1"]), "{r}");
    let r = action(&mut c, &e23, json!({"line": 0, "character": 0}));
    assert_eq!(r, json!([]));

    // the command: the clause's real count, as the result and as a message
    let run = |c: &mut Client| {
        let r =
            c.result("workspace/executeCommand", json!({"command": "huiqi.tests", "arguments": ["E23.5"]}));
        let i = c.notes.iter().position(|n| n["method"] == "window/showMessage").expect("a showMessage");
        let note = c.notes.remove(i);
        (r, note["params"].clone())
    };
    let (r, msg) = run(&mut c);
    assert_eq!(r["passed"], n as u64, "{r}");
    assert_eq!(r["failed"], 0);
    assert_eq!(msg["type"], 3, "info: {msg}");
    assert_eq!(msg["message"], format!("E23.5: ✓ {n} test(s) pass"));
    // one test made to fail: the count of failures and the first failing test's name
    let wrong = tests_text.replacen("expect E23.5 granted 30万", "expect E23.5 granted 31万", 1);
    c.change(&tests, 2, &wrong);
    let (r, msg) = run(&mut c);
    assert_eq!((r["passed"].as_u64(), r["failed"].as_u64()), (Some(n as u64 - 1), Some(1)), "{r}");
    assert_eq!(r["first_failure"], "E23.5 首次达到1亿：30万");
    assert_eq!(msg["type"], 1, "error: {msg}");
    assert_eq!(msg["message"], format!("E23.5: ✗ 1 of {n} test(s) fail, the first: E23.5 首次达到1亿：30万"));
    c.change(&tests, 3, &tests_text);
    // an unknown clause and a missing argument
    let (r, msg) = {
        let r =
            c.result("workspace/executeCommand", json!({"command": "huiqi.tests", "arguments": ["E23.99"]}));
        let i = c.notes.iter().position(|n| n["method"] == "window/showMessage").unwrap();
        (r, c.notes.remove(i)["params"].clone())
    };
    assert_eq!(r["error"], "no such clause");
    assert_eq!(msg["message"], "E23.99: no such clause in the rule set");
    let r = c.call("workspace/executeCommand", json!({"command": "huiqi.tests", "arguments": []}));
    assert_eq!(r["error"]["code"], -32602);
    let r = c.call("workspace/executeCommand", json!({"command": "huiqi.other", "arguments": []}));
    assert_eq!(r["error"]["code"], -32602);
    finish(c);
    let _ = std::fs::remove_dir_all(&root);
}
