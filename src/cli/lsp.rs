//! `huiqi lsp`: the language server (issue 14), speaking JSON-RPC over stdio.
//!
//! Built on `lsp-server`'s message types and `lsp-types`' protocol types. The transport (the
//! `Content-Length` framing) is read here so that a malformed message gets a JSON-RPC error
//! instead of ending the session. The server is single-threaded and synchronous: every
//! change recompiles the whole rule set (the folder the editor opened, with the unsaved text
//! of open documents overriding the disk), which takes milliseconds for policies/.
//!
//! A file that does not parse reports its syntax error; the others are checked against its
//! last text that parsed (or without it), so one broken file never hides the others'
//! diagnostics. Names (facts, definitions, parameters, enumerations and their values, records
//! and fields, documents and clauses) are read from each file's syntax tree, so hover,
//! definition, references, symbols, completion and semantic tokens work while the rule set
//! has errors.
//!
//! Positions are UTF-16 code units, as LSP counts them; spans are byte offsets
//! ([`offset_of`], [`position_of`] convert).

use huiqi::diag::{Diagnostic, Severity};
use huiqi::span::{FileId, SourceMap, Span};
use huiqi::syntax::ast;
use lsp_server::{ErrorCode, Message, Notification, Request, Response};
use lsp_types as lt;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

/// The largest message read (64 MiB); a larger one is skipped with an error.
const MAX_MESSAGE: usize = 64 << 20;

/// The command that runs one clause's tests (the code lens and the code action carry it;
/// `workspace/executeCommand` answers it).
const TESTS_COMMAND: &str = "huiqi.tests";

/// Threshold words of the grammar: the word, the operator, and what it means.
pub(super) const THRESHOLDS: &[(&str, &str, &str)] = &[
    ("达到", "≥", "at least: the number itself is included (达到 1亿 holds at exactly 1亿)"),
    ("不低于", "≥", "not below: the number itself is included"),
    ("不少于", "≥", "not less than: the number itself is included"),
    ("超过", ">", "more than: the number itself is excluded (超过 1亿 does not hold at exactly 1亿)"),
    ("高于", ">", "higher than: the number itself is excluded"),
    ("多于", ">", "more than: the number itself is excluded"),
    ("不超过", "≤", "at most: the number itself is included (不超过 100万 holds at exactly 100万)"),
    ("不高于", "≤", "not higher than: the number itself is included"),
    ("不多于", "≤", "not more than: the number itself is included"),
    ("低于", "<", "below: the number itself is excluded"),
    ("不满", "<", "short of: the number itself is excluded"),
    ("少于", "<", "less than: the number itself is excluded"),
    ("未达到", "<", "not reaching: the number itself is excluded"),
];

/// Whether a word is (part of) a keyword in either language: the table of
/// `huiqi::syntax::keywords`, the one source of the keyword spellings.
pub(super) fn is_keyword_word(w: &str) -> bool {
    huiqi::syntax::keywords::KEYWORDS
        .iter()
        .any(|(_, en, zh)| *zh == w || en.split_whitespace().any(|x| x == w))
}

/// Runs the server on stdin/stdout until `exit` (0 after `shutdown`, 1 otherwise).
pub fn run(root: Option<PathBuf>) -> super::Exit {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut server = Server::new(root);
    loop {
        let msg = match read_message(&mut input) {
            Ok(None) | Err(_) => {
                return if server.shutdown { super::Exit::Success } else { super::Exit::Failure };
            }
            Ok(Some(Incoming::Bad(reply))) => {
                if write_value(&reply).is_err() {
                    return super::Exit::Failure;
                }
                continue;
            }
            Ok(Some(Incoming::Msg(m))) => m,
        };
        match msg {
            Message::Request(req) => {
                let resp = server.request(req);
                server.outbox.push(Message::Response(resp));
            }
            Message::Notification(n) if n.method == "exit" => {
                return if server.shutdown { super::Exit::Success } else { super::Exit::Failure };
            }
            Message::Notification(n) => server.notify(n),
            Message::Response(_) => {}
        }
        for m in std::mem::take(&mut server.outbox) {
            let mut out = std::io::stdout().lock();
            if m.write(&mut out).is_err() {
                return super::Exit::Failure;
            }
        }
    }
}

enum Incoming {
    Msg(Message),
    /// A reply to send at once (a parse or request error).
    Bad(Value),
}

fn error_value(id: Value, code: ErrorCode, message: String) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code as i32, "message": message}})
}

fn write_value(v: &Value) -> std::io::Result<()> {
    let text = v.to_string();
    let mut out = std::io::stdout().lock();
    write!(out, "Content-Length: {}\r\n\r\n{text}", text.len())?;
    out.flush()
}

/// Reads one framed message; `None` at the end of input.
fn read_message(r: &mut impl BufRead) -> std::io::Result<Option<Incoming>> {
    let mut len: Option<usize> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            if len.is_some() {
                break;
            }
            continue;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.trim().eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().ok();
            if len.is_none() {
                return Ok(Some(Incoming::Bad(error_value(
                    Value::Null,
                    ErrorCode::ParseError,
                    format!("bad Content-Length header: `{l}`"),
                ))));
            }
        }
    }
    let n = len.unwrap_or(0);
    if n > MAX_MESSAGE {
        std::io::copy(&mut r.take(n as u64), &mut std::io::sink())?;
        return Ok(Some(Incoming::Bad(error_value(
            Value::Null,
            ErrorCode::InvalidRequest,
            format!("message of {n} bytes is larger than {MAX_MESSAGE}"),
        ))));
    }
    let mut buf = vec![0; n];
    r.read_exact(&mut buf)?;
    let v: Value = match serde_json::from_slice(&buf) {
        Ok(v) => v,
        Err(e) => {
            return Ok(Some(Incoming::Bad(error_value(
                Value::Null,
                ErrorCode::ParseError,
                format!("invalid JSON: {e}"),
            ))));
        }
    };
    let id = v.get("id").cloned().unwrap_or(Value::Null);
    let has_method = v.get("method").is_some();
    match serde_json::from_value::<Message>(v) {
        // a "response" with a method is a request whose method is not a string
        Ok(Message::Response(_)) if has_method => Ok(Some(Incoming::Bad(error_value(
            id,
            ErrorCode::InvalidRequest,
            "not a JSON-RPC message: `method` must be a string".into(),
        )))),
        Ok(m) => Ok(Some(Incoming::Msg(m))),
        Err(e) => Ok(Some(Incoming::Bad(error_value(
            id,
            ErrorCode::InvalidRequest,
            format!("not a JSON-RPC message: {e}"),
        )))),
    }
}

// ---------------------------------------------------------------- positions

/// The byte offset of an LSP position (UTF-16 columns); clamped to the line and the text.
pub fn offset_of(text: &str, pos: lt::Position) -> usize {
    let mut start = 0;
    for _ in 0..pos.line {
        match text.get(start..).and_then(|t| t.find('\n')) {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let mut units = 0u32;
    for (i, c) in text.get(start..).unwrap_or("").char_indices() {
        if c == '\n' || units >= pos.character {
            return start + i;
        }
        units += c.len_utf16() as u32;
        if units > pos.character {
            // inside a surrogate pair: the character's start
            return start + i;
        }
    }
    text.len()
}

/// The LSP position (UTF-16 columns) of a byte offset; clamped to the text.
pub fn position_of(text: &str, offset: usize) -> lt::Position {
    let mut off = offset.min(text.len());
    while off > 0 && !text.is_char_boundary(off) {
        off -= 1;
    }
    let before = text.get(..off).unwrap_or("");
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col: usize = before.get(line_start..).unwrap_or("").chars().map(char::len_utf16).sum();
    lt::Position { line: line as u32, character: col as u32 }
}

fn range_of(text: &str, start: usize, end: usize) -> lt::Range {
    lt::Range { start: position_of(text, start), end: position_of(text, end) }
}

// ---------------------------------------------------------------- words

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Lex {
    Word,
    Str,
    Comment,
}

/// Words, strings and comments of rule text, as byte ranges (the rest is punctuation and
/// white space).
pub(super) fn lex(text: &str) -> Vec<(usize, usize, Lex)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|&(_, c)| c);
    let byte = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = at(i) {
        let s = i;
        if c == '/' && at(i + 1) == Some('/') {
            while at(i).is_some_and(|c| c != '\n') {
                i += 1;
            }
            out.push((byte(s), byte(i), Lex::Comment));
        } else if c == '/' && at(i + 1) == Some('*') {
            i += 2;
            while at(i).is_some() && !(at(i) == Some('*') && at(i + 1) == Some('/')) {
                i += 1;
            }
            i = (i + 2).min(chars.len());
            out.push((byte(s), byte(i), Lex::Comment));
        } else if c == '"' {
            i += 1;
            while let Some(c) = at(i) {
                i += 1;
                if c == '\\' {
                    i = (i + 1).min(chars.len());
                } else if c == '"' {
                    break;
                }
            }
            out.push((byte(s), byte(i), Lex::Str));
        } else if is_word(c) {
            while at(i).is_some_and(is_word) {
                i += 1;
            }
            out.push((byte(s), byte(i), Lex::Word));
        } else {
            i += 1;
        }
    }
    out
}

/// The words of rule text outside comments and strings, as byte ranges.
fn words(text: &str) -> Vec<(usize, usize)> {
    lex(text).into_iter().filter(|t| t.2 == Lex::Word).map(|(s, e, _)| (s, e)).collect()
}

/// The semantic token types, in the legend's order.
const TOKEN_TYPES: &[&str] = &[
    "keyword",
    "variable",
    "function",
    "parameter",
    "enum",
    "enumMember",
    "struct",
    "property",
    "namespace",
    "method",
    "operator",
    "string",
    "comment",
    "number",
];

fn token_type(k: Kind) -> u32 {
    match k {
        Kind::Fact => 1,
        Kind::Define => 2,
        Kind::Param => 3,
        Kind::Enum => 4,
        Kind::Variant => 5,
        Kind::Record => 6,
        Kind::Field => 7,
        Kind::Policy => 8,
        Kind::Clause => 9,
    }
}

/// Semantic tokens of a text: (start, end, type), single-line, in order.
fn classify(text: &str, by_name: &HashMap<String, Vec<usize>>, decls: &[Decl]) -> Vec<(usize, usize, u32)> {
    let toks = lex(text);
    let mut out = Vec::new();
    let mut skip = 0;
    for (n, &(s, e, kind)) in toks.iter().enumerate() {
        if skip > 0 {
            skip -= 1;
            continue;
        }
        let ty = match kind {
            Lex::Str => Some(11),
            Lex::Comment => Some(12),
            Lex::Word => {
                let w = text.get(s..e).unwrap_or("");
                // `E23.5`: one token
                if let Some(&(s2, e2, Lex::Word)) = toks.get(n + 1)
                    && e + 1 == s2
                    && text.get(e..s2) == Some(".")
                    && let Some(name) = text.get(s..e2)
                    && by_name.get(name).is_some()
                {
                    out.push((s, e2, 9));
                    skip = 1;
                    continue;
                }
                if w.starts_with(|c: char| c.is_ascii_digit()) {
                    Some(13)
                } else if let Some(d) = by_name.get(w).and_then(|v| v.first()).and_then(|&i| decls.get(i)) {
                    Some(token_type(d.kind))
                } else if THRESHOLDS.iter().any(|t| t.0 == w) {
                    Some(10)
                } else if is_keyword_word(w) {
                    Some(0)
                } else {
                    None
                }
            }
        };
        let Some(ty) = ty else { continue };
        // one token per line
        let mut a = s;
        for line in text.get(s..e).unwrap_or("").split_inclusive('\n') {
            let body = line.trim_end_matches(['\n', '\r']);
            if !body.is_empty() {
                out.push((a, a + body.len(), ty));
            }
            a += line.len();
        }
    }
    out
}

/// LSP's relative encoding of tokens (UTF-16 columns), walking the text once.
fn encode_tokens(text: &str, toks: &[(usize, usize, u32)]) -> Vec<lt::SemanticToken> {
    let (mut off, mut line, mut col) = (0usize, 0u32, 0u32);
    let (mut prev_line, mut prev_col) = (0u32, 0u32);
    let mut out = Vec::new();
    for &(s, e, ty) in toks {
        if s < off {
            continue;
        }
        for c in text.get(off..s).unwrap_or("").chars() {
            if c == '\n' {
                line += 1;
                col = 0;
            } else {
                col += c.len_utf16() as u32;
            }
        }
        off = s;
        let length: u32 = text.get(s..e).unwrap_or("").chars().map(|c| c.len_utf16() as u32).sum();
        let delta_line = line - prev_line;
        let delta_start = if delta_line == 0 { col - prev_col } else { col };
        out.push(lt::SemanticToken {
            delta_line,
            delta_start,
            length,
            token_type: ty,
            token_modifiers_bitset: 0,
        });
        prev_line = line;
        prev_col = col;
    }
    out
}

/// What is under the cursor: a word, and the clause reference (`E23.5`) it is part of.
struct Cursor {
    word: String,
    range: (usize, usize),
    dotted: Option<(String, (usize, usize))>,
}

fn cursor_at(text: &str, offset: usize) -> Option<Cursor> {
    let ws = words(text);
    let idx = ws.iter().position(|&(s, e)| s <= offset && offset <= e)?;
    let &(s, e) = ws.get(idx)?;
    let word = text.get(s..e)?.to_string();
    let pair = |a: usize, b: usize| -> Option<(String, (usize, usize))> {
        let &(s1, e1) = ws.get(a)?;
        let &(s2, e2) = ws.get(b)?;
        (e1 + 1 == s2 && text.get(e1..s2) == Some("."))
            .then(|| (text.get(s1..e2).unwrap_or("").to_string(), (s1, e2)))
    };
    let dotted = idx.checked_sub(1).and_then(|p| pair(p, idx)).or_else(|| pair(idx, idx + 1));
    Some(Cursor { word, range: (s, e), dotted })
}

// ---------------------------------------------------------------- the rule set

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Fact,
    Define,
    Param,
    Enum,
    Variant,
    Record,
    Field,
    Policy,
    Clause,
}

impl Kind {
    fn completion(self) -> lt::CompletionItemKind {
        match self {
            Kind::Fact => lt::CompletionItemKind::VARIABLE,
            Kind::Define => lt::CompletionItemKind::FUNCTION,
            Kind::Param => lt::CompletionItemKind::CONSTANT,
            Kind::Enum => lt::CompletionItemKind::ENUM,
            Kind::Variant => lt::CompletionItemKind::ENUM_MEMBER,
            Kind::Record => lt::CompletionItemKind::STRUCT,
            Kind::Field => lt::CompletionItemKind::FIELD,
            Kind::Policy => lt::CompletionItemKind::MODULE,
            Kind::Clause => lt::CompletionItemKind::REFERENCE,
        }
    }
}

/// A declared name: where, and what hover shows of it.
struct Decl {
    kind: Kind,
    /// The name as written where it is used (`E23.5` for a clause).
    name: String,
    span: Span,
    detail: String,
    hover: String,
}

/// One rule file as the server sees it.
struct Doc {
    path: PathBuf,
    text: String,
    /// The syntax tree: of `text`, or while `text` does not parse, of the last text that did.
    ast: Option<ast::File>,
    /// The text `ast` was parsed from (its spans are offsets into it).
    ast_text: String,
    /// Whether `text` parses (`ast` is of it).
    current: bool,
    syntax: Vec<Diagnostic>,
}

/// The analysed rule set: every file, parsed, and the names declared in them.
struct Workspace {
    docs: Vec<Doc>,
    decls: Vec<Decl>,
    by_name: HashMap<String, Vec<usize>>,
    /// Diagnostics by file (including empty lists), as published.
    diagnostics: BTreeMap<PathBuf, Vec<lt::Diagnostic>>,
    /// The checked rule set, when it compiles (for the tests' code lenses).
    compiled: Option<huiqi::Compiled>,
    /// The tests' results by clause (`E23.5` → passed, failed, the first failing test's
    /// name), run when a code lens is first asked for.
    tests: Option<HashMap<String, (usize, usize, String)>>,
}

impl Workspace {
    /// Whether a name (`E23.5`) is a clause of the rule set.
    fn is_clause(&self, name: &str) -> bool {
        self.by_name
            .get(name)
            .is_some_and(|v| v.iter().any(|&i| self.decls.get(i).is_some_and(|x| x.kind == Kind::Clause)))
    }
}

struct Server {
    root: Option<PathBuf>,
    initialized: bool,
    shutdown: bool,
    open: HashMap<PathBuf, String>,
    /// The last text of each file that parsed: what the others are checked against while it
    /// does not.
    good: HashMap<PathBuf, String>,
    published: HashMap<PathBuf, Vec<lt::Diagnostic>>,
    ws: Option<Workspace>,
    outbox: Vec<Message>,
}

fn uri_of(p: &Path) -> Option<lt::Url> {
    lt::Url::from_file_path(p).ok()
}

fn path_of(uri: &lt::Url) -> Option<PathBuf> {
    uri.to_file_path().ok()
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf())
    }
}

impl Server {
    fn new(root: Option<PathBuf>) -> Server {
        Server {
            root: root.map(|r| absolute(&r)),
            initialized: false,
            shutdown: false,
            open: HashMap::new(),
            good: HashMap::new(),
            published: HashMap::new(),
            ws: None,
            outbox: Vec::new(),
        }
    }

    fn roots(&self) -> Vec<PathBuf> {
        if let Some(r) = &self.root {
            return vec![r.clone()];
        }
        let mut dirs: Vec<PathBuf> =
            self.open.keys().filter_map(|p| p.parent().map(Path::to_path_buf)).collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }

    /// Reads and compiles the rule set.
    fn analyze(&mut self) {
        let roots: Vec<PathBuf> = self.roots().into_iter().filter(|r| r.is_dir()).collect();
        let loaded = if roots.is_empty() {
            huiqi::Input::default()
        } else {
            huiqi::load::load(&roots).unwrap_or_default()
        };
        let mut texts: BTreeMap<PathBuf, String> =
            loaded.rule_files.into_iter().map(|(n, t)| (absolute(Path::new(&n)), t)).collect();
        for (p, t) in &self.open {
            texts.insert(p.clone(), t.clone());
        }
        let mut docs = Vec::new();
        for (i, (path, text)) in texts.into_iter().enumerate() {
            let id = FileId(u32::try_from(i).unwrap_or(u32::MAX));
            let (ast, syntax, ast_text, current) = match huiqi::syntax::parse(id, &text) {
                Ok(f) => {
                    self.good.insert(path.clone(), text.clone());
                    (Some(f), Vec::new(), text.clone(), true)
                }
                // names keep coming from the last text that parsed while this one does not
                Err(d) => {
                    match self.good.get(&path).and_then(|g| huiqi::syntax::parse(id, g).ok().map(|f| (f, g)))
                    {
                        Some((f, g)) => (Some(f), d, g.clone(), false),
                        None => (None, d, String::new(), false),
                    }
                }
            };
            docs.push(Doc { path, text, ast, ast_text, current, syntax });
        }
        // the whole rule set, each broken file replaced by its last text that parsed
        let mut rule_files = Vec::new();
        for d in &docs {
            let name = d.path.to_string_lossy().into_owned();
            if d.current {
                rule_files.push((name, d.text.clone()));
            } else if let Some(t) = self.good.get(&d.path) {
                rule_files.push((name, t.clone()));
            }
        }
        let input = huiqi::Input { rule_files, source_texts: loaded.source_texts };
        let mut compiled = None;
        let (sources, diags) = if input.rule_files.is_empty() {
            (SourceMap::new(), Vec::new())
        } else {
            match huiqi::compile(&input) {
                Ok(c) => {
                    let out = (c.sources.clone(), c.warnings.clone());
                    compiled = Some(c);
                    out
                }
                Err(f) => (f.sources, f.diagnostics),
            }
        };
        let broken: Vec<&Path> = docs.iter().filter(|d| !d.current).map(|d| d.path.as_path()).collect();
        let mut diagnostics: BTreeMap<PathBuf, Vec<lt::Diagnostic>> = BTreeMap::new();
        // the syntax diagnostics carry the FileId of their own file: a map in the same order
        let mut map = SourceMap::new();
        for d in &docs {
            map.add(d.path.to_string_lossy().into_owned(), d.text.clone());
        }
        for d in &docs {
            let list = d.syntax.iter().filter_map(|x| to_lsp(x, &map).map(|(_, l)| l)).collect();
            diagnostics.insert(d.path.clone(), list);
        }
        for x in &diags {
            if let Some((path, l)) = to_lsp(x, &sources)
                && !broken.contains(&path.as_path())
            {
                diagnostics.entry(path).or_default().push(l);
            }
        }
        let mut ws = Workspace {
            docs,
            decls: Vec::new(),
            by_name: HashMap::new(),
            diagnostics,
            compiled,
            tests: None,
        };
        index(&mut ws);
        self.ws = Some(ws);
    }

    fn ws(&mut self) -> Option<&Workspace> {
        if self.ws.is_none() {
            self.analyze();
        }
        self.ws.as_ref()
    }

    /// Publishes the diagnostics that changed (an empty list clears a file's).
    fn publish(&mut self) {
        let Some(ws) = &self.ws else { return };
        let mut now: HashMap<PathBuf, Vec<lt::Diagnostic>> = ws.diagnostics.clone().into_iter().collect();
        for p in self.published.keys() {
            now.entry(p.clone()).or_default();
        }
        let mut sorted: Vec<_> = now.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        for (path, list) in sorted {
            if self.published.get(&path) == Some(&list)
                || (list.is_empty() && !self.published.contains_key(&path))
            {
                continue;
            }
            let Some(uri) = uri_of(&path) else { continue };
            let params = lt::PublishDiagnosticsParams { uri, diagnostics: list.clone(), version: None };
            self.outbox.push(Message::Notification(Notification::new(
                "textDocument/publishDiagnostics".into(),
                params,
            )));
            self.published.insert(path, list);
        }
    }

    fn notify(&mut self, n: Notification) {
        if !self.initialized && n.method != "initialized" {
            return;
        }
        match n.method.as_str() {
            "initialized" => {}
            "textDocument/didOpen" => {
                if let Ok(p) = serde_json::from_value::<lt::DidOpenTextDocumentParams>(n.params)
                    && let Some(path) = path_of(&p.text_document.uri)
                {
                    self.open.insert(path, p.text_document.text);
                    self.changed();
                }
            }
            "textDocument/didChange" => {
                if let Ok(p) = serde_json::from_value::<lt::DidChangeTextDocumentParams>(n.params)
                    && let Some(path) = path_of(&p.text_document.uri)
                {
                    let mut text = self.open.get(&path).cloned().unwrap_or_default();
                    for c in p.content_changes {
                        match c.range {
                            Some(r) => {
                                let s = offset_of(&text, r.start);
                                let e = offset_of(&text, r.end).max(s);
                                text.replace_range(s..e, &c.text);
                            }
                            None => text = c.text,
                        }
                    }
                    self.open.insert(path, text);
                    self.changed();
                }
            }
            "textDocument/didSave" => self.changed(),
            "textDocument/didClose" => {
                if let Ok(p) = serde_json::from_value::<lt::DidCloseTextDocumentParams>(n.params)
                    && let Some(path) = path_of(&p.text_document.uri)
                {
                    self.open.remove(&path);
                    self.changed();
                }
            }
            "workspace/didChangeWatchedFiles" => self.changed(),
            _ => {}
        }
    }

    fn changed(&mut self) {
        self.analyze();
        self.publish();
    }

    fn request(&mut self, req: Request) -> Response {
        let id = req.id.clone();
        if req.method == "initialize" {
            if self.initialized {
                return Response::new_err(
                    id,
                    ErrorCode::InvalidRequest as i32,
                    "initialize sent twice".into(),
                );
            }
            if self.root.is_none()
                && let Ok(p) = serde_json::from_value::<lt::InitializeParams>(req.params)
            {
                #[allow(deprecated)]
                let uri =
                    p.workspace_folders.and_then(|f| f.into_iter().next().map(|f| f.uri)).or(p.root_uri);
                self.root = uri.as_ref().and_then(path_of);
            }
            self.initialized = true;
            return Response::new_ok(id, initialize_result());
        }
        if !self.initialized {
            return Response::new_err(id, ErrorCode::ServerNotInitialized as i32, "initialize first".into());
        }
        if req.method == "shutdown" {
            self.shutdown = true;
            return Response::new_ok(id, Value::Null);
        }
        if self.shutdown {
            return Response::new_err(id, ErrorCode::InvalidRequest as i32, "the server is shut down".into());
        }
        let result = match req.method.as_str() {
            "textDocument/hover" => self.params::<lt::HoverParams>(req.params).map(|p| json!(self.hover(&p))),
            "textDocument/definition" => {
                self.params::<lt::GotoDefinitionParams>(req.params).map(|p| json!(self.definition(&p)))
            }
            "textDocument/references" => {
                self.params::<lt::ReferenceParams>(req.params).map(|p| json!(self.references(&p)))
            }
            "textDocument/documentSymbol" => {
                self.params::<lt::DocumentSymbolParams>(req.params).map(|p| json!(self.symbols(&p)))
            }
            "textDocument/completion" => {
                self.params::<lt::CompletionParams>(req.params).map(|p| json!(self.completion(&p)))
            }
            "textDocument/semanticTokens/full" => {
                self.params::<lt::SemanticTokensParams>(req.params).map(|p| json!(self.semantic_tokens(&p)))
            }
            "textDocument/codeLens" => {
                self.params::<lt::CodeLensParams>(req.params).map(|p| json!(self.code_lens(&p)))
            }
            "textDocument/formatting" => {
                self.params::<lt::DocumentFormattingParams>(req.params).map(|p| json!(self.formatting(&p)))
            }
            "textDocument/codeAction" => {
                self.params::<lt::CodeActionParams>(req.params).map(|p| json!(self.code_action(&p)))
            }
            "workspace/executeCommand" => {
                self.params::<lt::ExecuteCommandParams>(req.params).and_then(|p| self.execute_command(&p))
            }
            m => Err((ErrorCode::MethodNotFound, format!("method `{m}` is not supported"))),
        };
        match result {
            Ok(v) => Response::new_ok(id, v),
            Err((code, m)) => Response::new_err(id, code as i32, m),
        }
    }

    fn params<T: serde::de::DeserializeOwned>(&self, v: Value) -> Result<T, (ErrorCode, String)> {
        serde_json::from_value(v).map_err(|e| (ErrorCode::InvalidParams, format!("invalid params: {e}")))
    }

    /// The document and byte offset of a position.
    fn locate(&mut self, p: &lt::TextDocumentPositionParams) -> Option<(usize, usize)> {
        let path = path_of(&p.text_document.uri)?;
        let ws = self.ws()?;
        let i = ws.docs.iter().position(|d| d.path == path)?;
        let d = ws.docs.get(i)?;
        Some((i, offset_of(&d.text, p.position)))
    }

    /// The declarations named at a position, and the range of the name there.
    fn decls_at(&mut self, p: &lt::TextDocumentPositionParams) -> Option<(Vec<usize>, (usize, usize))> {
        let (doc, off) = self.locate(p)?;
        let ws = self.ws.as_ref()?;
        let text = &ws.docs.get(doc)?.text;
        let fid = FileId(u32::try_from(doc).ok()?);
        let current = ws.docs.get(doc)?.current;
        // a declaration site first (`clause 5` is E23.5 there), when the spans are of this text
        let here: Vec<usize> = ws
            .decls
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                current && d.span.file == fid && (d.span.start as usize) <= off && off <= d.span.end as usize
            })
            .map(|(i, _)| i)
            .collect();
        if let Some(&i) = here.first() {
            let d = ws.decls.get(i)?;
            let same: Vec<usize> = ws.by_name.get(&d.name).cloned().unwrap_or_default();
            return Some((
                if same.is_empty() { here } else { same },
                (d.span.start as usize, d.span.end as usize),
            ));
        }
        let c = cursor_at(text, off)?;
        if let Some((name, r)) = &c.dotted
            && let Some(v) = ws.by_name.get(name)
        {
            return Some((v.clone(), *r));
        }
        ws.by_name.get(&c.word).map(|v| (v.clone(), c.range))
    }

    fn hover(&mut self, p: &lt::HoverParams) -> Option<lt::Hover> {
        let tp = &p.text_document_position_params;
        if let Some((ids, (s, e))) = self.decls_at(tp) {
            let (doc, _) = self.locate(tp)?;
            let ws = self.ws.as_ref()?;
            let text = ws.docs.get(doc).map(|d| d.text.as_str()).unwrap_or("");
            let value = ids
                .iter()
                .filter_map(|&i| ws.decls.get(i))
                .map(|d| d.hover.clone())
                .collect::<Vec<_>>()
                .join("\n\n---\n\n");
            return Some(lt::Hover {
                contents: lt::HoverContents::Markup(lt::MarkupContent {
                    kind: lt::MarkupKind::Markdown,
                    value,
                }),
                range: Some(range_of(text, s, e)),
            });
        }
        let (doc, off) = self.locate(tp)?;
        let ws = self.ws.as_ref()?;
        let text = &ws.docs.get(doc)?.text;
        let c = cursor_at(text, off)?;
        let &(w, op, meaning) = THRESHOLDS.iter().find(|(w, _, _)| *w == c.word)?;
        Some(lt::Hover {
            contents: lt::HoverContents::Markup(lt::MarkupContent {
                kind: lt::MarkupKind::Markdown,
                value: format!("**{w}** — threshold word: `{op}`\n\n{meaning}"),
            }),
            range: Some(range_of(text, c.range.0, c.range.1)),
        })
    }

    fn location(&self, span: Span) -> Option<lt::Location> {
        let ws = self.ws.as_ref()?;
        let d = ws.docs.get(span.file.0 as usize)?;
        Some(lt::Location {
            uri: uri_of(&d.path)?,
            range: range_of(&d.ast_text, span.start as usize, span.end as usize),
        })
    }

    fn definition(&mut self, p: &lt::GotoDefinitionParams) -> Option<lt::GotoDefinitionResponse> {
        let (ids, _) = self.decls_at(&p.text_document_position_params)?;
        let ws = self.ws.as_ref()?;
        let locs: Vec<lt::Location> =
            ids.iter().filter_map(|&i| ws.decls.get(i)).filter_map(|d| self.location(d.span)).collect();
        if locs.is_empty() { None } else { Some(lt::GotoDefinitionResponse::Array(locs)) }
    }

    fn references(&mut self, p: &lt::ReferenceParams) -> Option<Vec<lt::Location>> {
        let (ids, _) = self.decls_at(&p.text_document_position)?;
        let ws = self.ws.as_ref()?;
        let d = ws.decls.get(*ids.first()?)?;
        let name = d.name.clone();
        let decl_spans: Vec<Span> = ids.iter().filter_map(|&i| ws.decls.get(i)).map(|d| d.span).collect();
        let mut out = Vec::new();
        for (i, doc) in ws.docs.iter().enumerate() {
            let Some(uri) = uri_of(&doc.path) else { continue };
            let ws_ = words(&doc.text);
            let mut hits: Vec<(usize, usize)> = Vec::new();
            if d.kind == Kind::Clause {
                for pair in ws_.windows(2) {
                    if let [(s1, e1), (s2, e2)] = pair
                        && e1 + 1 == *s2
                        && doc.text.get(*s1..*e2) == Some(name.as_str())
                    {
                        hits.push((*s1, *e2));
                    }
                }
            } else {
                hits.extend(ws_.iter().filter(|(s, e)| doc.text.get(*s..*e) == Some(name.as_str())));
            }
            for s in &decl_spans {
                if s.file.0 as usize == i && doc.current {
                    let r = (s.start as usize, s.end as usize);
                    hits.retain(|h| *h != r);
                    if p.context.include_declaration {
                        hits.push(r);
                    }
                }
            }
            hits.sort();
            hits.dedup();
            out.extend(
                hits.into_iter()
                    .map(|(s, e)| lt::Location { uri: uri.clone(), range: range_of(&doc.text, s, e) }),
            );
        }
        Some(out)
    }

    fn symbols(&mut self, p: &lt::DocumentSymbolParams) -> Option<lt::DocumentSymbolResponse> {
        let path = path_of(&p.text_document.uri)?;
        let ws = self.ws()?;
        let doc = ws.docs.iter().find(|d| d.path == path)?;
        let ast = doc.ast.as_ref()?;
        let t = doc.ast_text.as_str();
        let mut out = Vec::new();
        for item in &ast.items {
            let s = match item {
                ast::Item::Enum(e) => symbol(
                    t,
                    &e.name.name,
                    e.label.clone(),
                    lt::SymbolKind::ENUM,
                    e.name.span,
                    e.name.span,
                    vec![],
                ),
                ast::Item::Record(r) => {
                    let fields = r
                        .fields
                        .iter()
                        .map(|f| {
                            symbol(
                                t,
                                &f.name.name,
                                f.label.clone(),
                                lt::SymbolKind::FIELD,
                                f.name.span,
                                f.name.span,
                                vec![],
                            )
                        })
                        .collect();
                    symbol(
                        t,
                        &r.name.name,
                        r.label.clone(),
                        lt::SymbolKind::STRUCT,
                        r.name.span,
                        r.name.span,
                        fields,
                    )
                }
                ast::Item::Fact(f) => symbol(
                    t,
                    &f.name.name,
                    f.label.clone(),
                    lt::SymbolKind::VARIABLE,
                    f.name.span,
                    f.name.span,
                    vec![],
                ),
                ast::Item::Define(d) => {
                    let whole = d.name.span.to(d.expr.span);
                    symbol(
                        t,
                        &d.name.name,
                        d.label.clone(),
                        lt::SymbolKind::FUNCTION,
                        whole,
                        d.name.span,
                        vec![],
                    )
                }
                ast::Item::Parameter(pd) => {
                    let whole = pd.versions.iter().fold(pd.name.span, |a, v| a.to(v.span));
                    symbol(
                        t,
                        &pd.name.name,
                        pd.label.clone(),
                        lt::SymbolKind::CONSTANT,
                        whole,
                        pd.name.span,
                        vec![],
                    )
                }
                ast::Item::Table(td) => symbol(
                    t,
                    &td.name.name,
                    td.label.clone(),
                    lt::SymbolKind::ARRAY,
                    td.span,
                    td.name.span,
                    vec![],
                ),
                ast::Item::Policy(pd) => {
                    let clauses = pd
                        .clauses
                        .iter()
                        .map(|c| {
                            symbol(
                                t,
                                &format!("{}.{}", pd.key.name, c.id),
                                Some(c.title.clone()),
                                lt::SymbolKind::FUNCTION,
                                c.span,
                                c.id_span,
                                vec![],
                            )
                        })
                        .collect();
                    symbol(
                        t,
                        &pd.key.name,
                        Some(pd.title.clone()),
                        lt::SymbolKind::MODULE,
                        pd.span,
                        pd.key.span,
                        clauses,
                    )
                }
                ast::Item::Test(td) => {
                    symbol(t, &td.name, None, lt::SymbolKind::METHOD, td.span, td.span, vec![])
                }
            };
            out.push(s);
        }
        Some(lt::DocumentSymbolResponse::Nested(out))
    }

    fn completion(&mut self, p: &lt::CompletionParams) -> Option<lt::CompletionResponse> {
        let _ = &p.text_document_position;
        let ws = self.ws()?;
        let mut seen = std::collections::HashSet::new();
        let mut items = Vec::new();
        for d in &ws.decls {
            if seen.insert(d.name.clone()) {
                items.push(lt::CompletionItem {
                    label: d.name.clone(),
                    kind: Some(d.kind.completion()),
                    detail: Some(d.detail.clone()),
                    ..Default::default()
                });
            }
        }
        for &(w, op, meaning) in THRESHOLDS {
            if seen.insert(w.to_string()) {
                items.push(lt::CompletionItem {
                    label: w.into(),
                    kind: Some(lt::CompletionItemKind::OPERATOR),
                    detail: Some(format!("{op}: {meaning}")),
                    ..Default::default()
                });
            }
        }
        // keywords in both spellings, each with the other as its detail
        for (_, en, zh) in huiqi::syntax::keywords::KEYWORDS {
            for (k, other) in [(*en, *zh), (*zh, *en)] {
                if seen.insert(k.to_string()) {
                    items.push(lt::CompletionItem {
                        label: k.into(),
                        kind: Some(lt::CompletionItemKind::KEYWORD),
                        detail: Some(format!("keyword ({other})")),
                        ..Default::default()
                    });
                }
            }
        }
        Some(lt::CompletionResponse::Array(items))
    }

    /// The tests' results by clause, run once per analysed rule set (`None` while it has
    /// errors).
    fn test_results(&mut self) -> Option<&HashMap<String, (usize, usize, String)>> {
        self.ws()?;
        let ws = self.ws.as_mut()?;
        ws.compiled.as_ref()?;
        if ws.tests.is_none() {
            ws.tests = Some(test_results(ws.compiled.as_ref()));
        }
        ws.tests.as_ref()
    }

    /// The clause at a position: the reference under the cursor (`E23.5` in a test, an
    /// `excludes`, a `granted(…)`), else the clause whose text holds the position.
    fn clause_at(&mut self, p: &lt::TextDocumentPositionParams) -> Option<String> {
        let (doc, off) = self.locate(p)?;
        let ws = self.ws.as_ref()?;
        let d = ws.docs.get(doc)?;
        if let Some(c) = cursor_at(&d.text, off)
            && let Some((name, _)) = c.dotted
            && ws.is_clause(&name)
        {
            return Some(name);
        }
        if !d.current {
            return None;
        }
        let file = d.ast.as_ref()?;
        file.items.iter().find_map(|item| match item {
            ast::Item::Policy(pd) => pd
                .clauses
                .iter()
                .find(|c| (c.span.start as usize) <= off && off <= c.span.end as usize)
                .map(|c| format!("{}.{}", pd.key.name, c.id)),
            _ => None,
        })
    }

    /// On a clause or a reference to one: the action that runs its tests (the command
    /// `huiqi.tests`, answered by [`Server::execute_command`]).
    fn code_action(&mut self, p: &lt::CodeActionParams) -> Option<Vec<lt::CodeActionOrCommand>> {
        let at = lt::TextDocumentPositionParams {
            text_document: p.text_document.clone(),
            position: p.range.start,
        };
        let Some(name) = self.clause_at(&at) else { return Some(Vec::new()) };
        let title = format!("Run the tests of {name}");
        Some(vec![lt::CodeActionOrCommand::CodeAction(lt::CodeAction {
            title: title.clone(),
            command: Some(lt::Command {
                title,
                command: TESTS_COMMAND.into(),
                arguments: Some(vec![json!(name)]),
            }),
            ..Default::default()
        })])
    }

    /// `huiqi.tests CLAUSE`: runs the rule set's tests and reports the clause's, as the
    /// result (`{clause, passed, failed, first_failure}`) and as a `window/showMessage`.
    fn execute_command(&mut self, p: &lt::ExecuteCommandParams) -> Result<Value, (ErrorCode, String)> {
        if p.command != TESTS_COMMAND {
            return Err((ErrorCode::InvalidParams, format!("unknown command `{}`", p.command)));
        }
        let Some(name) = p.arguments.first().and_then(Value::as_str).map(str::to_string) else {
            return Err((
                ErrorCode::InvalidParams,
                format!("`{TESTS_COMMAND}` takes one argument, a clause such as \"E23.5\""),
            ));
        };
        let known = self.ws().is_some_and(|ws| ws.is_clause(&name));
        let (typ, message, mut result) = if !known {
            (
                lt::MessageType::WARNING,
                format!("{name}: no such clause in the rule set"),
                json!({"clause": name, "error": "no such clause"}),
            )
        } else {
            match self.test_results() {
                None => (
                    lt::MessageType::WARNING,
                    format!("{name}: the rule set has errors (see Problems); the tests run once it compiles"),
                    json!({"clause": name, "error": "the rule set has errors"}),
                ),
                Some(results) => {
                    let (pass, fail, first) = results.get(&name).cloned().unwrap_or_default();
                    let (typ, message) = if pass + fail == 0 {
                        (lt::MessageType::INFO, format!("{name}: no test expects anything of this clause"))
                    } else if fail == 0 {
                        (lt::MessageType::INFO, format!("{name}: ✓ {pass} test(s) pass"))
                    } else {
                        (
                            lt::MessageType::ERROR,
                            format!("{name}: ✗ {fail} of {} test(s) fail, the first: {first}", pass + fail),
                        )
                    };
                    let first = (fail > 0).then_some(first);
                    (
                        typ,
                        message,
                        json!({"clause": name, "passed": pass, "failed": fail, "first_failure": first}),
                    )
                }
            }
        };
        self.outbox.push(Message::Notification(Notification::new(
            "window/showMessage".into(),
            lt::ShowMessageParams { typ, message: message.clone() },
        )));
        if let Some(o) = result.as_object_mut() {
            o.insert("message".into(), json!(message));
        }
        Ok(result)
    }

    /// Over each clause, the result of the tests that expect something of it.
    fn code_lens(&mut self, p: &lt::CodeLensParams) -> Option<Vec<lt::CodeLens>> {
        let path = path_of(&p.text_document.uri)?;
        if self.test_results().is_none() {
            return self.ws().is_some().then(Vec::new);
        }
        let ws = self.ws.as_ref()?;
        let results = ws.tests.as_ref()?;
        let i = ws.docs.iter().position(|d| d.path == path)?;
        let doc = ws.docs.get(i)?;
        if !doc.current || ws.compiled.is_none() {
            return Some(Vec::new());
        }
        let mut out = Vec::new();
        for d in ws.decls.iter().filter(|d| d.kind == Kind::Clause && d.span.file.0 as usize == i) {
            let (pass, fail, first) = results.get(&d.name).cloned().unwrap_or_default();
            let title = if pass + fail == 0 {
                "no tests".to_string()
            } else if fail == 0 {
                format!("✓ {pass} test(s) pass")
            } else {
                format!("✗ {fail} of {} test(s) fail: {first}", pass + fail)
            };
            out.push(lt::CodeLens {
                range: range_of(&doc.text, d.span.start as usize, d.span.end as usize),
                command: Some(lt::Command {
                    title,
                    command: TESTS_COMMAND.into(),
                    arguments: Some(vec![json!(d.name)]),
                }),
                data: None,
            });
        }
        Some(out)
    }

    fn semantic_tokens(&mut self, p: &lt::SemanticTokensParams) -> Option<lt::SemanticTokens> {
        let path = path_of(&p.text_document.uri)?;
        let ws = self.ws()?;
        let doc = ws.docs.iter().find(|d| d.path == path)?;
        let toks = classify(&doc.text, &ws.by_name, &ws.decls);
        Some(lt::SemanticTokens { result_id: None, data: encode_tokens(&doc.text, &toks) })
    }

    fn formatting(&mut self, p: &lt::DocumentFormattingParams) -> Option<Vec<lt::TextEdit>> {
        let path = path_of(&p.text_document.uri)?;
        let ws = self.ws()?;
        let doc = ws.docs.iter().find(|d| d.path == path)?;
        if !doc.current {
            return None;
        }
        let formatted = huiqi::fmt::format_source(&doc.text)?;
        if formatted == doc.text {
            return Some(Vec::new());
        }
        Some(vec![lt::TextEdit { range: range_of(&doc.text, 0, doc.text.len()), new_text: formatted }])
    }
}

/// Runs the rule set's tests; by clause, how many of the tests expecting something of it pass
/// and fail, and the first failing one's name.
fn test_results(c: Option<&huiqi::Compiled>) -> HashMap<String, (usize, usize, String)> {
    let mut m: HashMap<String, (usize, usize, String)> = HashMap::new();
    let Some(c) = c else { return m };
    let report = huiqi::testing::run(&c.program, &c.sources);
    for (t, r) in c.program.tests.iter().zip(&report.cases) {
        let mut names: Vec<String> = t
            .expects
            .iter()
            .filter_map(|e| match e {
                huiqi::ir::TestExpect::Clause { clause, .. } => Some(c.program.clause_ref(*clause)),
                huiqi::ir::TestExpect::Total { .. } | huiqi::ir::TestExpect::Error { .. } => None,
            })
            .collect();
        names.sort();
        names.dedup();
        for n in names {
            let e = m.entry(n).or_default();
            if r.failures.is_empty() {
                e.0 += 1;
            } else {
                e.1 += 1;
                if e.2.is_empty() {
                    e.2.clone_from(&r.name);
                }
            }
        }
    }
    m
}

#[allow(deprecated)]
fn symbol(
    text: &str,
    name: &str,
    detail: Option<String>,
    kind: lt::SymbolKind,
    whole: Span,
    sel: Span,
    children: Vec<lt::DocumentSymbol>,
) -> lt::DocumentSymbol {
    let whole = whole.to(sel);
    lt::DocumentSymbol {
        name: if name.is_empty() { "?".into() } else { name.into() },
        detail,
        kind,
        tags: None,
        deprecated: None,
        range: range_of(text, whole.start as usize, whole.end as usize),
        selection_range: range_of(text, sel.start as usize, sel.end as usize),
        children: if children.is_empty() { None } else { Some(children) },
    }
}

fn initialize_result() -> Value {
    let caps = lt::ServerCapabilities {
        text_document_sync: Some(lt::TextDocumentSyncCapability::Options(lt::TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(lt::TextDocumentSyncKind::FULL),
            save: Some(lt::TextDocumentSyncSaveOptions::Supported(true)),
            ..Default::default()
        })),
        hover_provider: Some(lt::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lt::OneOf::Left(true)),
        references_provider: Some(lt::OneOf::Left(true)),
        document_symbol_provider: Some(lt::OneOf::Left(true)),
        completion_provider: Some(lt::CompletionOptions::default()),
        document_formatting_provider: Some(lt::OneOf::Left(true)),
        code_lens_provider: Some(lt::CodeLensOptions { resolve_provider: Some(false) }),
        code_action_provider: Some(lt::CodeActionProviderCapability::Simple(true)),
        execute_command_provider: Some(lt::ExecuteCommandOptions {
            commands: vec![TESTS_COMMAND.into()],
            ..Default::default()
        }),
        semantic_tokens_provider: Some(lt::SemanticTokensServerCapabilities::SemanticTokensOptions(
            lt::SemanticTokensOptions {
                legend: lt::SemanticTokensLegend {
                    token_types: TOKEN_TYPES.iter().map(|t| lt::SemanticTokenType::new(t)).collect(),
                    token_modifiers: Vec::new(),
                },
                full: Some(lt::SemanticTokensFullOptions::Bool(true)),
                range: None,
                ..Default::default()
            },
        )),
        ..Default::default()
    };
    json!({
        "capabilities": caps,
        "serverInfo": {"name": "huiqi", "version": env!("CARGO_PKG_VERSION")},
    })
}

/// A huiqi diagnostic as LSP shows it, with the file it belongs to.
fn to_lsp(d: &Diagnostic, sources: &SourceMap) -> Option<(PathBuf, lt::Diagnostic)> {
    let span = d.primary_span()?;
    let file = sources.get(span.file)?;
    let primary = d.labels.iter().find(|l| l.primary);
    let mut message = d.message.clone();
    if let Some(l) = primary
        && !l.message.is_empty()
        && l.message != d.message
    {
        message.push_str(&format!(" ({})", l.message));
    }
    if let Some(h) = &d.help {
        message.push_str(&format!("\nhelp: {h}"));
    }
    for n in &d.notes {
        message.push_str(&format!("\nnote: {n}"));
    }
    let related: Vec<lt::DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter(|l| !l.primary)
        .filter_map(|l| {
            let f = sources.get(l.span.file)?;
            Some(lt::DiagnosticRelatedInformation {
                location: lt::Location {
                    uri: uri_of(Path::new(&f.name))?,
                    range: range_of(&f.text, l.span.start as usize, l.span.end as usize),
                },
                message: if l.message.is_empty() { "here".into() } else { l.message.clone() },
            })
        })
        .collect();
    let diag = lt::Diagnostic {
        range: range_of(&file.text, span.start as usize, span.end as usize),
        severity: Some(match d.severity {
            Severity::Error => lt::DiagnosticSeverity::ERROR,
            Severity::Warning => lt::DiagnosticSeverity::WARNING,
        }),
        code: Some(lt::NumberOrString::String(d.code.id().into())),
        source: Some("huiqi".into()),
        message,
        related_information: if related.is_empty() { None } else { Some(related) },
        ..Default::default()
    };
    Some((PathBuf::from(&file.name), diag))
}

// ---------------------------------------------------------------- the index of names

fn slice(text: &str, span: Span) -> &str {
    text.get(span.range()).unwrap_or("")
}

fn type_text(t: &ast::TypeExpr) -> (String, &str) {
    match t {
        ast::TypeExpr::Named(i) => (i.name.clone(), i.name.as_str()),
        ast::TypeExpr::Series(i) => (format!("series {}", i.name), i.name.as_str()),
        ast::TypeExpr::List(i) => (format!("list {}", i.name), i.name.as_str()),
        ast::TypeExpr::Monthly(i) => (format!("monthly {}", i.name), i.name.as_str()),
    }
}

fn unit_range(base: &str, signed: bool) -> Option<String> {
    let range = match (base, signed) {
        ("money", false) => "unit 元 (written 元, 万, 亿); at least 0",
        ("money", true) => "unit 元 (written 元, 万, 亿); may be negative",
        ("rate", false) => "a rate (written with %); 0% to 100%",
        ("rate", true) => "a rate (written with %); may be negative or above 100%",
        ("integer", false) => "a whole number; at least 0",
        ("integer", true) => "a whole number; may be negative",
        ("number", false) => "a number; at least 0",
        ("number", true) => "a number; may be negative",
        _ => return None,
    };
    Some(range.into())
}

fn label_line(label: &Option<String>) -> String {
    label.as_ref().map(|l| format!("\n\n{l}")).unwrap_or_default()
}

fn window_text(w: &ast::Window) -> String {
    let d = |x: &Option<huiqi::value::Date>| x.as_ref().map_or("…".to_string(), |d| d.to_string());
    format!("{} to {}", d(&w.start), d(&w.end))
}

fn index(ws: &mut Workspace) {
    let mut decls = Vec::new();
    for doc in &ws.docs {
        let Some(file) = &doc.ast else { continue };
        let t = doc.ast_text.as_str();
        for item in &file.items {
            match item {
                ast::Item::Enum(e) => {
                    let values: Vec<String> = e
                        .variants
                        .iter()
                        .map(|(v, l)| l.as_ref().map_or(v.name.clone(), |l| format!("{} ({l})", v.name)))
                        .collect();
                    decls.push(Decl {
                        kind: Kind::Enum,
                        name: e.name.name.clone(),
                        span: e.name.span,
                        detail: format!("enum{}", if e.ordered { " (ordered)" } else { "" }),
                        hover: format!(
                            "**enum** `{}`{}{}\n\nvalues: {}",
                            e.name.name,
                            if e.ordered { " (ordered, lowest first)" } else { "" },
                            label_line(&e.label),
                            values.join("、")
                        ),
                    });
                    for (v, l) in &e.variants {
                        decls.push(Decl {
                            kind: Kind::Variant,
                            name: v.name.clone(),
                            span: v.span,
                            detail: format!("value of {}", e.name.name),
                            hover: format!(
                                "**enum value** `{}` of `{}`{}",
                                v.name,
                                e.name.name,
                                label_line(l)
                            ),
                        });
                    }
                }
                ast::Item::Record(r) => {
                    decls.push(Decl {
                        kind: Kind::Record,
                        name: r.name.name.clone(),
                        span: r.name.span,
                        detail: "record".into(),
                        hover: format!(
                            "**record** `{}`{}\n\nfields: {}",
                            r.name.name,
                            label_line(&r.label),
                            r.fields.iter().map(|f| f.name.name.as_str()).collect::<Vec<_>>().join("、")
                        ),
                    });
                    for f in &r.fields {
                        let (ty, base) = type_text(&f.ty);
                        let ur = unit_range(base, f.signed).map(|u| format!("\n\n{u}")).unwrap_or_default();
                        decls.push(Decl {
                            kind: Kind::Field,
                            name: f.name.name.clone(),
                            span: f.name.span,
                            detail: format!("{ty} (field of {})", r.name.name),
                            hover: format!(
                                "**field** `{}` of `{}`: `{ty}`{}{ur}",
                                f.name.name,
                                r.name.name,
                                label_line(&f.label)
                            ),
                        });
                    }
                }
                ast::Item::Fact(f) => {
                    let (ty, base) = type_text(&f.ty);
                    let ur = unit_range(base, f.signed).map(|u| format!("\n\n{u}")).unwrap_or_default();
                    decls.push(Decl {
                        kind: Kind::Fact,
                        name: f.name.name.clone(),
                        span: f.name.span,
                        detail: ty.clone(),
                        hover: format!(
                            "**fact** `{}`: `{ty}`{}{}{ur}",
                            f.name.name,
                            if f.signed { " (signed)" } else { "" },
                            label_line(&f.label)
                        ),
                    });
                }
                ast::Item::Define(d) => {
                    let on = d.record.as_ref().map(|r| format!("({})", r.name)).unwrap_or_default();
                    decls.push(Decl {
                        kind: Kind::Define,
                        name: d.name.name.clone(),
                        span: d.name.span,
                        detail: "definition".into(),
                        hover: format!(
                            "**define** `{}{on}`{}\n\n```huiqi\n{}\n```",
                            d.name.name,
                            label_line(&d.label),
                            slice(t, d.expr.span)
                        ),
                    });
                }
                ast::Item::Parameter(pd) => {
                    let versions: Vec<String> = pd
                        .versions
                        .iter()
                        .map(|v| {
                            format!(
                                "- {} from {}{}",
                                slice(t, v.value.span),
                                v.from,
                                v.label.as_ref().map(|l| format!(" — {l}")).unwrap_or_default()
                            )
                        })
                        .collect();
                    decls.push(Decl {
                        kind: Kind::Param,
                        name: pd.name.name.clone(),
                        span: pd.name.span,
                        detail: format!("parameter: {}", pd.ty.name),
                        hover: format!(
                            "**parameter** `{}`: `{}`{}\n\nversions:\n{}",
                            pd.name.name,
                            pd.ty.name,
                            label_line(&pd.label),
                            versions.join("\n")
                        ),
                    });
                }
                ast::Item::Table(td) => {
                    let kind = match td.kind {
                        ast::TableKind::Tiers => "tiers",
                        ast::TableKind::Brackets => "brackets",
                    };
                    decls.push(Decl {
                        kind: Kind::Param,
                        name: td.name.name.clone(),
                        span: td.name.span,
                        detail: format!("table: {kind}"),
                        hover: format!(
                            "**table** `{}` ({kind}, read as `{}(…)`){}\n\n```huiqi\n{}\n```",
                            td.name.name,
                            td.name.name,
                            label_line(&td.label),
                            slice(t, td.span)
                        ),
                    });
                }
                ast::Item::Policy(pd) => index_policy(&mut decls, pd),
                ast::Item::Test(_) => {}
            }
        }
    }
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, d) in decls.iter().enumerate() {
        by_name.entry(d.name.clone()).or_default().push(i);
    }
    ws.decls = decls;
    ws.by_name = by_name;
}

fn index_policy(decls: &mut Vec<Decl>, pd: &ast::PolicyDecl) {
    let mut meta = Vec::new();
    let mut in_force = None;
    for m in &pd.meta {
        match m {
            ast::Meta::Number(n, _) => meta.push(format!("number: {n}")),
            ast::Meta::Issuer(n, _) => meta.push(format!("issuer: {n}")),
            ast::Meta::Issued(d, _) => meta.push(format!("issued: {d}")),
            ast::Meta::Source(s, _) => meta.push(format!("source: {s}")),
            ast::Meta::InForce(w) => {
                meta.push(format!("in force: {}", window_text(w)));
                in_force = Some(window_text(w));
            }
            _ => {}
        }
    }
    decls.push(Decl {
        kind: Kind::Policy,
        name: pd.key.name.clone(),
        span: pd.key.span,
        detail: pd.title.clone(),
        hover: format!("**policy** `{}` {}\n\n{}", pd.key.name, pd.title, meta.join("  \n")),
    });
    for c in &pd.clauses {
        let mut quotes = Vec::new();
        let mut window = None;
        let mut kind = ast::ClauseKind::Benefit;
        for part in &c.parts {
            match part {
                ast::ClausePart::Quote(q, _) => quotes.push(format!("> {q}")),
                ast::ClausePart::Valid(w, _) => window = Some(window_text(w)),
                ast::ClausePart::Kind(k, _) => kind = *k,
                _ => {}
            }
        }
        let window = window.map(|w| format!("valid: {w}")).unwrap_or_else(|| match &in_force {
            Some(f) => format!("valid: the document's period ({f})"),
            None => "valid: the document's period".into(),
        });
        let name = format!("{}.{}", pd.key.name, c.id);
        decls.push(Decl {
            kind: Kind::Clause,
            name: name.clone(),
            span: c.id_span,
            detail: c.title.clone(),
            hover: format!(
                "**{name}** {}\n\n{}\n\n{window}  \nkind: {}  \ndocument: {}",
                c.title,
                if quotes.is_empty() { "(no quote)".into() } else { quotes.join("\n>\n") },
                kind.as_str(),
                pd.title
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_positions_round_trip_on_chinese() {
        let text = "fact 营业收入: series money \"营业收入\"\n  when 营业收入 达到 1亿 // 𝄞\nx";
        let off = text.find("达到").unwrap_or(0);
        let p = position_of(text, off);
        assert_eq!(p.line, 1);
        assert_eq!(p.character, 12);
        assert_eq!(offset_of(text, p), off);
        // past the end of a line: its end; past the last line: the end of the text
        assert_eq!(offset_of(text, lt::Position { line: 0, character: 999 }), text.find('\n').unwrap_or(0));
        assert_eq!(offset_of(text, lt::Position { line: 99, character: 0 }), text.len());
        // a surrogate pair counts two
        let clef = text.find('𝄞').unwrap_or(0);
        let pc = position_of(text, clef + '𝄞'.len_utf8());
        assert_eq!(pc.character, position_of(text, clef).character + 2);
        assert_eq!(
            offset_of(text, lt::Position { line: 1, character: position_of(text, clef).character + 1 }),
            clef
        );
    }

    #[test]
    fn words_skip_strings_and_comments() {
        let text = "expect E23.5 granted \"营业收入\" // 营业收入\n营业收入";
        let ws: Vec<&str> = words(text).iter().map(|&(s, e)| text.get(s..e).unwrap_or("")).collect();
        assert_eq!(ws, ["expect", "E23", "5", "granted", "营业收入"]);
        let c = cursor_at(text, 8).map(|c| c.dotted.map(|d| d.0));
        assert_eq!(c, Some(Some("E23.5".to_string())));
    }
}
