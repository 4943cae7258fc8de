//! `huiqi doc [PATHS] --out DIR`: the literate policy site (issue 14). Static pages, no server,
//! no external URL: `index.html` lists the documents; `doc/KEY.html` shows a document's
//! official source text with every quoted sentence highlighted and linked to its clause's
//! card (the encoding highlighted, its readings, tiers, parameters, tests, coverage, the quote
//! check), and every sentence no clause quotes marked as such.
//!
//! Invariant: the site is made of what the library already computes (the compiled program,
//! `testing::run`, `coverage::measure`, `check::locate_quote`, `ir::show`); nothing is
//! evaluated or matched here in a second way. The same input gives the same bytes: everything
//! is written in the program's order (documents, clauses, tests as declared).

use super::html::{esc, highlight, page};
use huiqi::Compiled;
use huiqi::coverage::{ClauseCoverage, Coverage};
use huiqi::ir::{
    Amount, ClauseDef, ClauseId, Const, ExprKind, ParamId, PolicyDef, Program, TestExpect, Window,
};
use huiqi::span::Span;
use huiqi::testing::TestReport;
use huiqi::value::fmt_money;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

/// The site's files: path relative to the output folder → content.
pub type Site = BTreeMap<String, String>;

/// The file name of the calculator page (written by the WASM build, linked from the index).
pub const CALCULATOR: &str = "calculator.html";

/// Writes the site for a compiled rule set into `out`.
pub fn run(c: &Compiled, texts: &BTreeMap<String, String>, out: &Path) -> super::Exit {
    let site = render(c, texts);
    let fail = |what: &Path, e: std::io::Error| {
        super::usage(format!(
            "cannot write the site to `{}`: {e}; name a folder you can write with `--out DIR` (it is created if missing)",
            what.display()
        ))
    };
    if let Err(e) = std::fs::create_dir_all(out.join("doc")) {
        return fail(out, e);
    }
    for (name, text) in &site {
        let p = out.join(name);
        if let Err(e) = std::fs::write(&p, text) {
            return fail(&p, e);
        }
    }
    errln!(
        "wrote {} pages to `{}` ({} documents); open `{}`",
        site.len(),
        out.display(),
        c.program.policies.len(),
        out.join("index.html").display()
    );
    super::Exit::Success
}

/// What the pages share: the program, its tests' results, coverage, source texts.
struct Ctx<'a> {
    c: &'a Compiled,
    prog: &'a Program,
    texts: &'a BTreeMap<String, String>,
    tests: TestReport,
    coverage: BTreeMap<String, ClauseCoverage>,
    /// Each clause's whole declaration (`clause 5 "…" { … }`), by the span of its id (what
    /// the IR keeps), from the rule files' syntax trees.
    decls: BTreeMap<(u32, u32), Span>,
}

/// The span of every clause declaration, by the span of its id: the rule files parsed again
/// (they parsed when the rule set compiled), with the file ids the compilation gave them.
fn clause_decls(c: &Compiled) -> BTreeMap<(u32, u32), Span> {
    let mut out = BTreeMap::new();
    for (id, f) in c.sources.files() {
        let Ok(file) = huiqi::syntax::parse(id, &f.text) else { continue };
        for item in &file.items {
            if let huiqi::syntax::ast::Item::Policy(pd) = item {
                for cd in &pd.clauses {
                    out.insert((cd.id_span.file.0, cd.id_span.start), cd.span);
                }
            }
        }
    }
    out
}

/// Every page of the site, by path.
pub fn render(c: &Compiled, texts: &BTreeMap<String, String>) -> Site {
    let prog = &c.program;
    let Coverage { clauses, .. } = huiqi::coverage::measure(prog);
    let ctx = Ctx {
        c,
        prog,
        texts,
        tests: huiqi::testing::run(prog, &c.sources),
        coverage: clauses.into_iter().map(|x| (x.clause.clone(), x)).collect(),
        decls: clause_decls(c),
    };
    let mut site = Site::new();
    let mut rows = Vec::new();
    for p in &prog.policies {
        let (html, summary) = doc_page(&ctx, p);
        site.insert(format!("doc/{}.html", p.key), html);
        rows.push(summary);
    }
    site.insert("index.html".into(), index_page(&ctx, &rows));
    site
}

/// What the index shows of a document, gathered while its page is made.
struct DocSummary {
    key: String,
    quotes: usize,
    verified: usize,
    has_source: bool,
    unquoted: usize,
    covered: usize,
    evaluated: usize,
}

fn source_text<'a>(ctx: &Ctx<'a>, p: &PolicyDef) -> Option<(&'a str, &'a str)> {
    let src = p.source.as_deref()?;
    let name = src.rsplit('/').next().unwrap_or(src);
    ctx.texts.get_key_value(name).map(|(k, v)| (k.as_str(), v.as_str()))
}

fn index_page(ctx: &Ctx<'_>, rows: &[DocSummary]) -> String {
    let mut b = String::new();
    b.push_str("<header>\n<h1>惠企政策 · 规则与原文 <span lang=\"en\">Policies: the rules beside the official texts</span></h1>\n");
    b.push_str(&format!(
        "<nav><a class=\"calculator\" href=\"{CALCULATOR}\">计算器 Calculator</a></nav>\n</header>\n<main>\n"
    ));
    b.push_str("<table class=\"documents\">\n<thead><tr><th>文件 Document</th><th>标题 Title</th><th>文号 Number</th><th>发文机关 Issuer</th><th>成文日期 Issued</th><th>条款 Clauses</th><th>测试覆盖 Coverage</th><th>引文核对 Quote check</th><th>未引用句 Unquoted sentences</th></tr></thead>\n<tbody>\n");
    for (p, s) in ctx.prog.policies.iter().zip(rows) {
        let check = if !s.has_source {
            "<td class=\"quote-check not-found\">无原文 no source text</td>".to_string()
        } else if s.verified == s.quotes {
            format!("<td class=\"quote-check verified\">{}/{} verified</td>", s.verified, s.quotes)
        } else {
            format!("<td class=\"quote-check not-found\">{}/{} verified</td>", s.verified, s.quotes)
        };
        b.push_str(&format!(
            "<tr id=\"doc-{key}\"><td><a class=\"doc\" href=\"doc/{key}.html\">{key}</a></td><td class=\"title\">{}</td><td class=\"number\">{}</td><td class=\"issuer\">{}</td><td class=\"issued\">{}</td><td class=\"num clauses\">{}</td><td class=\"num coverage\">{}/{}</td>{check}<td class=\"num unquoted-sentences\">{}</td></tr>\n",
            esc(&p.title),
            esc(p.number.as_deref().unwrap_or("")),
            esc(p.issuer.as_deref().unwrap_or("")),
            p.issued.map(|d| d.to_string()).unwrap_or_default(),
            p.clauses.len(),
            s.covered,
            s.evaluated,
            if s.has_source { s.unquoted.to_string() } else { "–".into() },
            key = esc(&s.key),
        ));
    }
    b.push_str("</tbody>\n</table>\n");
    b.push_str("<p class=\"legend\">覆盖：有测试检查的条款 / 逐企业计算的条款。Coverage: clauses a test checks / clauses evaluated per enterprise. 引文核对：条款引文在原文中找到的数目。Quote check: the clauses' quotes found in the source text, as <code>huiqi check</code> matches them.</p>\n</main>\n");
    page("zh", "惠企政策 · 规则与原文", &b)
}

/// A quoted range of the source text and the clause it belongs to, with its card's address.
struct Mark {
    range: Range<usize>,
    clause: String,
    href: String,
}

fn doc_page(ctx: &Ctx<'_>, p: &PolicyDef) -> (String, DocSummary) {
    let prog = ctx.prog;
    let clauses: Vec<(ClauseId, &ClauseDef)> =
        p.clauses.iter().filter_map(|&id| prog.clause(id).map(|c| (id, c))).collect();
    let source = source_text(ctx, p);
    // the quotes of this document's clauses, and those its amendments write into other
    // documents' clauses (sentences of this document too)
    let mut marks = Vec::new();
    let mut found: BTreeMap<(ClauseId, usize), bool> = BTreeMap::new();
    let (mut quotes, mut verified) = (0, 0);
    if let Some((_, text)) = source {
        for &(id, c) in &clauses {
            let cref = prog.clause_ref(id);
            for (i, q) in c.quotes.iter().enumerate() {
                let at = huiqi::check::locate_quote(text, &q.text);
                quotes += 1;
                found.insert((id, i), at.is_some());
                if let Some(range) = at {
                    verified += 1;
                    marks.push(Mark { range, clause: cref.clone(), href: format!("#clause-{cref}") });
                }
            }
        }
        for c in &prog.clauses {
            let Some(target) = prog.policy_of(c) else { continue };
            let cref = prog.clause_ref_of(c);
            for v in c.versions.iter().filter(|v| v.change.by == p.key) {
                for q in v.def.quotes.iter().filter(|q| !c.quotes.contains(q)) {
                    if let Some(range) = huiqi::check::locate_quote(text, &q.text) {
                        let href = format!("{}.html#clause-{cref}", target.key);
                        marks.push(Mark { range, clause: cref.clone(), href });
                    }
                }
            }
        }
    }
    let (body_text, unquoted) = match source {
        Some((_, text)) => source_html(text, &marks),
        None => (
            "<p class=\"no-source\">这份文件没有原文（<code>source</code>）。This document names no source text in <code>sources/</code>.</p>\n"
                .to_string(),
            0,
        ),
    };
    let mut b = String::new();
    b.push_str("<nav><a href=\"../index.html\">← 全部文件 All documents</a> · ");
    b.push_str(&format!("<a href=\"../{CALCULATOR}\">计算器 Calculator</a></nav>\n"));
    b.push_str(&format!(
        "<header>\n<h1><span class=\"key\">{}</span> {}</h1>\n<dl class=\"meta\">\n",
        esc(&p.key),
        esc(&p.title)
    ));
    let mut meta = |k: &str, v: String| {
        if !v.is_empty() {
            b.push_str(&format!("<dt>{k}</dt><dd>{}</dd>\n", esc(&v)));
        }
    };
    meta("文号 Number", p.number.clone().unwrap_or_default());
    meta("发文机关 Issuer", p.issuer.clone().unwrap_or_default());
    meta("成文日期 Issued", p.issued.map(|d| d.to_string()).unwrap_or_default());
    meta("发布日期 Published", p.published.map(|d| d.to_string()).unwrap_or_default());
    meta("有效期 In force", p.in_force.as_ref().map(window_text).unwrap_or_default());
    meta("原文 Source text", source.map(|(n, _)| format!("sources/{n}")).unwrap_or_default());
    meta("适用 Applies when", p.applies.as_ref().map(|a| a.text.to_string()).unwrap_or_default());
    b.push_str("</dl>\n");
    if source.is_some() {
        b.push_str(&format!(
            "<p class=\"unquoted-count\" id=\"unquoted-count\" data-count=\"{unquoted}\">未被任何条款引用的句子：{unquoted} 句（灰色、划线）。{unquoted} sentence(s) of the text are quoted by no clause (grey, struck through).</p>\n"
        ));
    }
    b.push_str("</header>\n<div class=\"layout\">\n<article class=\"source\" lang=\"zh\">\n<h2>原文 Official text</h2>\n");
    b.push_str(&body_text);
    b.push_str("</article>\n<aside class=\"cards\">\n<h2>条款 Clauses</h2>\n");
    let mut covered = 0;
    let mut evaluated = 0;
    for &(id, c) in &clauses {
        let cref = prog.clause_ref(id);
        if let Some(cov) = ctx.coverage.get(&cref) {
            evaluated += 1;
            covered += usize::from(cov.covered);
        }
        let checks: Vec<Option<bool>> = (0..c.quotes.len())
            .map(|i| source.is_some().then(|| found.get(&(id, i)).copied().unwrap_or(false)))
            .collect();
        b.push_str(&card(ctx, id, c, &checks));
    }
    b.push_str("</aside>\n</div>\n");
    let title = format!("{} {}", p.key, p.title);
    let summary = DocSummary {
        key: p.key.clone(),
        quotes,
        verified,
        has_source: source.is_some(),
        unquoted,
        covered,
        evaluated,
    };
    (page("zh", &title, &b), summary)
}

fn window_text(w: &Window) -> String {
    let d = |x: Option<huiqi::value::Date>| x.map_or("…".to_string(), |d| d.to_string());
    format!("{} – {}", d(w.start), d(w.end))
}

/// Whether a character ends a sentence of Chinese official text.
fn ends_sentence(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '；' | '!' | '?')
}

/// The source text as paragraphs (one a non-blank line), quoted ranges as `mark.quote`
/// linked to their cards, sentences no quote touches as `span.unquoted`; and how many of
/// those there are.
fn source_html(text: &str, marks: &[Mark]) -> (String, usize) {
    let mut out = String::new();
    let mut unquoted = 0;
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let (ls, le) = (start, start + line.trim_end_matches(['\n', '\r']).len());
        start += line.len();
        if line.trim().is_empty() {
            continue;
        }
        out.push_str("<p>");
        // sentences of the line
        let mut s = ls;
        for (i, ch) in text.get(ls..le).unwrap_or("").char_indices() {
            let e = ls + i + ch.len_utf8();
            if ends_sentence(ch) {
                unquoted += sentence(text, s..e, marks, &mut out);
                s = e;
            }
        }
        if s < le {
            unquoted += sentence(text, s..le, marks, &mut out);
        }
        out.push_str("</p>\n");
    }
    (out, unquoted)
}

/// One sentence: its quoted parts marked, or the whole marked unquoted (returns 1 then).
fn sentence(text: &str, r: Range<usize>, marks: &[Mark], out: &mut String) -> usize {
    let t = text.get(r.clone()).unwrap_or("");
    if t.trim().is_empty() {
        out.push_str(&esc(t));
        return 0;
    }
    let touching: Vec<&Mark> =
        marks.iter().filter(|m| m.range.start < r.end && r.start < m.range.end).collect();
    if touching.is_empty() {
        out.push_str(&format!("<span class=\"unquoted\">{}</span>", esc(t)));
        return 1;
    }
    // cut the sentence where a quote begins or ends; each piece is marked with the clauses
    // whose quotes cover it (several clauses may quote the same words)
    let mut cuts: BTreeSet<usize> = BTreeSet::from([r.start, r.end]);
    for m in &touching {
        cuts.extend([m.range.start, m.range.end].into_iter().filter(|x| r.start < *x && *x < r.end));
    }
    let cuts: Vec<usize> = cuts.into_iter().collect();
    let mut pieces: Vec<(usize, usize, Vec<&Mark>)> = Vec::new();
    for w in cuts.windows(2) {
        let &[a, b] = w else { continue };
        let by: Vec<&Mark> =
            touching.iter().copied().filter(|m| m.range.start <= a && b <= m.range.end).collect();
        match pieces.last_mut() {
            Some(last) if same(&last.2, &by) => last.1 = b,
            _ => pieces.push((a, b, by)),
        }
    }
    for (a, b, by) in pieces {
        let t = esc(text.get(a..b).unwrap_or(""));
        match by.first() {
            None => out.push_str(&t),
            Some(first) => {
                let mut names: Vec<&str> = by.iter().map(|m| m.clause.as_str()).collect();
                names.dedup();
                out.push_str(&format!(
                    "<mark class=\"quote\" data-clause=\"{}\"><a href=\"{}\">{t}</a></mark>",
                    esc(&names.join(" ")),
                    esc(&first.href)
                ));
            }
        }
    }
    0
}

fn same(a: &[&Mark], b: &[&Mark]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| std::ptr::eq(*x, *y))
}

/// The parameters a clause reads, directly or through the definitions and tables it uses, in
/// declaration order.
fn params_of(prog: &Program, c: &ClauseDef) -> Vec<ParamId> {
    reads_of(prog, c).0
}

/// The parameters and the tables a clause reads, directly or through the definitions (and, for
/// parameters, the tables) it uses, in declaration order.
fn reads_of(prog: &Program, c: &ClauseDef) -> (Vec<ParamId>, Vec<u32>) {
    let mut params = BTreeSet::new();
    let mut defs = BTreeSet::new();
    let mut tables = BTreeSet::new();
    let mut todo: Vec<&huiqi::ir::Expr> = huiqi::check::lints::clause_exprs(c);
    while let Some(e) = todo.pop() {
        let mut used = Vec::new();
        let mut read = Vec::new();
        huiqi::ir::lower::visit(e, &mut |x| match &x.kind {
            ExprKind::Param(p) => {
                params.insert(*p);
            }
            ExprKind::Def(d) => used.push(*d),
            ExprKind::Table(t) => read.push(t.table),
            _ => {}
        });
        for d in used {
            if defs.insert(d)
                && let Some(def) = prog.defs.get(d as usize)
            {
                todo.push(&def.expr);
            }
        }
        for t in read {
            if tables.insert(t)
                && let Some(def) = prog.tables.get(t as usize)
            {
                for v in &def.versions {
                    for r in &v.tiers {
                        todo.extend([&r.threshold, &r.amount]);
                    }
                    for b in &v.brackets {
                        todo.extend(b.upper.iter());
                        todo.push(&b.rate);
                    }
                }
            }
        }
    }
    (params.into_iter().collect(), tables.into_iter().collect())
}

/// The named tables a clause reads, each version with its rows.
fn tables_html(prog: &Program, c: &ClauseDef) -> String {
    let ids = reads_of(prog, c).1;
    if ids.is_empty() {
        return String::new();
    }
    let mut b = String::from(
        "<h4>分档表 Tables</h4>\n<table class=\"params\">\n<thead><tr><th>表 Table</th><th>自 From</th><th>档 Rows</th><th>来源 Source</th></tr></thead>\n<tbody>\n",
    );
    for id in ids {
        let Some(t) = prog.tables.get(id as usize) else { continue };
        let view = huiqi::ir::view::table(prog, t);
        for v in &view.versions {
            b.push_str(&format!(
                "<tr><td class=\"param\" title=\"{}\">{}</td><td class=\"from\">{}</td><td class=\"amount\">{}</td><td class=\"source\">{}</td></tr>\n",
                esc(t.label.as_deref().unwrap_or("")),
                esc(&t.name),
                v.from.as_deref().unwrap_or("—"),
                esc(&v.rows.join("；")),
                esc(v.label.as_deref().unwrap_or(""))
            ));
        }
    }
    b.push_str("</tbody>\n</table>\n");
    b
}

/// One clause's card.
fn card(ctx: &Ctx<'_>, id: ClauseId, c: &ClauseDef, checks: &[Option<bool>]) -> String {
    let prog = ctx.prog;
    let cref = prog.clause_ref(id);
    let mut b = format!(
        "<section class=\"card\" id=\"clause-{}\" data-kind=\"{}\">\n<h3><span class=\"ref\">{}</span> {}</h3>\n<dl class=\"meta\">\n",
        esc(&cref),
        c.kind.as_str(),
        esc(&cref),
        esc(&c.title)
    );
    b.push_str(&format!("<dt>类型 Kind</dt><dd class=\"kind\">{}</dd>\n", c.kind.as_str()));
    let window = match (&c.window, prog.policy_of(c).and_then(|p| p.in_force.as_ref())) {
        (Some(w), _) => window_text(w),
        (None, Some(w)) => format!("{}（文件有效期 the document's）", window_text(w)),
        (None, None) => "未限定 not limited".into(),
    };
    b.push_str(&format!("<dt>有效期 Window</dt><dd class=\"window\">{}</dd>\n", esc(&window)));
    if !c.responsible.is_empty() {
        b.push_str(&format!(
            "<dt>责任单位 Responsible</dt><dd class=\"responsible\">{}</dd>\n",
            esc(&c.responsible.join("、"))
        ));
    }
    let check = if c.quotes.is_empty() {
        "<dd class=\"quote-check not-found\">无引文 no quote</dd>".to_string()
    } else if checks.iter().all(|x| *x == Some(true)) {
        "<dd class=\"quote-check verified\">verified 已核对：引文见于原文</dd>".to_string()
    } else if checks.iter().all(Option::is_none) {
        "<dd class=\"quote-check not-found\">not verified 无原文可核对</dd>".to_string()
    } else {
        "<dd class=\"quote-check not-found\">not found in source 原文中未找到</dd>".to_string()
    };
    b.push_str(&format!("<dt>引文核对 Quote check</dt>{check}\n"));
    b.push_str(&format!("<dt>测试覆盖 Coverage</dt>{}\n", coverage_html(ctx.coverage.get(&cref))));
    for v in &c.versions {
        b.push_str(&format!(
            "<dt>修改 Amended</dt><dd class=\"amended\">{} 自 {} 起 from</dd>\n",
            esc(&v.change.by),
            v.change.date
        ));
    }
    for ch in &c.changes {
        b.push_str(&format!("<dt>变更 Changed</dt><dd class=\"changed\">{} {}</dd>\n", esc(&ch.by), ch.date));
    }
    b.push_str("</dl>\n");
    for (q, ok) in c.quotes.iter().zip(checks) {
        let class = match ok {
            Some(true) => "verified",
            _ => "not-found",
        };
        b.push_str(&format!("<blockquote class=\"clause-quote {class}\">{}</blockquote>\n", esc(&q.text)));
    }
    // the encoding as written, with the reading comments above it
    let file = ctx.c.sources.get(c.span.file);
    let file_text = file.map_or("", |f| f.text.as_str());
    let span = ctx.decls.get(&(c.span.file.0, c.span.start)).copied().unwrap_or(c.span);
    let code = file_text.get(span.range()).unwrap_or("");
    let above = comments_above(file_text, span.range().start);
    let mut readings: Vec<String> = above;
    readings.extend(comments_in(code));
    if !readings.is_empty() {
        b.push_str("<div class=\"readings\">\n<h4>解读 Readings</h4>\n");
        for r in &readings {
            b.push_str(&format!("<p>{}</p>\n", esc(r)));
        }
        b.push_str("</div>\n");
    }
    b.push_str("<h4>编码 Encoding</h4>\n");
    let link = |name: &str| -> Option<String> {
        let (doc, clause) = name.split_once('.')?;
        prog.find_clause(doc, clause)?;
        let own = prog.policy_of(c).is_some_and(|p| p.key == doc);
        Some(if own { format!("#clause-{name}") } else { format!("{doc}.html#clause-{name}") })
    };
    b.push_str(&highlight(&dedent(file_text, span.range().start, code), &link));
    b.push('\n');
    b.push_str(&amount_tables(prog, c));
    b.push_str(&params_html(prog, c));
    b.push_str(&tables_html(prog, c));
    b.push_str(&tests_html(ctx, id, &cref));
    b.push_str("</section>\n");
    b
}

/// A declaration's text as it stands in its file, without the indentation of its first line
/// (taken off every line that has it).
fn dedent(file: &str, at: usize, code: &str) -> String {
    let before = file.get(..at).unwrap_or("");
    let indent = before.rsplit('\n').next().unwrap_or("");
    if indent.is_empty() || !indent.trim().is_empty() {
        return code.to_string();
    }
    code.split_inclusive('\n')
        .enumerate()
        .map(|(i, l)| if i == 0 { l } else { l.strip_prefix(indent).unwrap_or(l) })
        .collect()
}

/// The `//` comment lines right above a position (no blank line between), as one reading.
fn comments_above(text: &str, at: usize) -> Vec<String> {
    let before = text.get(..at).unwrap_or("");
    // the clause's own line before its keyword holds only indentation
    let (rest, own) = before.rsplit_once('\n').unwrap_or(("", before));
    if !own.trim().is_empty() {
        return Vec::new();
    }
    let mut lines: Vec<&str> = Vec::new();
    for line in rest.lines().rev() {
        match line.trim().strip_prefix("//") {
            Some(body) => lines.push(body.trim()),
            None => break,
        }
    }
    lines.reverse();
    if lines.is_empty() { Vec::new() } else { vec![lines.join(" ")] }
}

/// The comments inside a clause's text, consecutive comment lines joined into one reading.
fn comments_in(code: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut last_end: Option<usize> = None;
    for (s, e, kind) in super::lsp::lex(code) {
        if kind != super::lsp::Lex::Comment {
            last_end = None;
            continue;
        }
        let raw = code.get(s..e).unwrap_or("");
        let body = raw.trim_start_matches("//").trim_start_matches("/*").trim_end_matches("*/").trim();
        let joined = last_end.is_some_and(|le| {
            code.get(le..s).is_some_and(|g| g.trim().is_empty() && g.matches('\n').count() <= 1)
        });
        match out.last_mut() {
            Some(prev) if joined => {
                prev.push(' ');
                prev.push_str(body);
            }
            _ => out.push(body.to_string()),
        }
        last_end = Some(e);
    }
    out
}

fn coverage_html(cov: Option<&ClauseCoverage>) -> String {
    let Some(cov) = cov else {
        return "<dd class=\"coverage\">不逐企业计算 not evaluated per enterprise</dd>".into();
    };
    let mut s = if cov.covered {
        let seen: Vec<&str> = cov.statuses.iter().map(|x| x.as_str()).collect();
        format!("<dd class=\"coverage covered\">tested 有测试 ({})", esc(&seen.join(", ")))
    } else {
        "<dd class=\"coverage not-covered fail\">no test checks it 无测试".to_string()
    };
    if let Some(parts) = &cov.parts {
        let reached = parts.items.iter().filter(|x| x.1).count();
        s.push_str(&format!("; {reached}/{} {} reached", parts.items.len(), parts.kind));
        let missing: Vec<&str> = parts.items.iter().filter(|x| !x.1).map(|x| x.0.as_str()).collect();
        if !missing.is_empty() {
            s.push_str(&format!(" (not reached: {})", esc(&missing.join("; "))));
        }
    }
    s.push_str("</dd>");
    s
}

/// Tiers, brackets and categories as tables.
fn amount_tables(prog: &Program, c: &ClauseDef) -> String {
    let show = |e: &huiqi::ir::Expr| huiqi::ir::show::expr(prog, e);
    let mut b = String::new();
    match &c.amount {
        Amount::Tiers { tiers, .. } => {
            b.push_str("<h4>档次 Tiers</h4>\n<table class=\"tiers\">\n<thead><tr><th>门槛 Bound</th><th>金额 Amount</th></tr></thead>\n<tbody>\n");
            for t in tiers {
                b.push_str(&format!(
                    "<tr><td class=\"bound\">{} {}</td><td class=\"amount\">{}</td></tr>\n",
                    t.op.word_zh(),
                    esc(&show(&t.threshold)),
                    esc(&show(&t.amount))
                ));
            }
            b.push_str("</tbody>\n</table>\n");
        }
        Amount::Brackets { brackets, .. } => {
            b.push_str("<h4>分段 Brackets</h4>\n<table class=\"brackets\">\n<thead><tr><th>上限 Up to</th><th>比例 Rate</th></tr></thead>\n<tbody>\n");
            for br in brackets {
                let upper = br.upper.as_ref().map_or("以上 and above".to_string(), show);
                b.push_str(&format!(
                    "<tr><td class=\"bound\">{}</td><td class=\"amount\">{}</td></tr>\n",
                    esc(&upper),
                    esc(&show(&br.rate))
                ));
            }
            b.push_str("</tbody>\n</table>\n");
        }
        Amount::Category { arms, .. } => {
            b.push_str("<h4>类别 Categories</h4>\n<table class=\"categories\">\n<thead><tr><th>类别 Category</th><th>金额 Amount</th></tr></thead>\n<tbody>\n");
            for a in arms {
                b.push_str(&format!(
                    "<tr><td class=\"bound\">{}</td><td class=\"amount\">{}</td></tr>\n",
                    esc(&a.name),
                    esc(&show(&a.amount))
                ));
            }
            b.push_str("</tbody>\n</table>\n");
        }
        _ => {}
    }
    b
}

fn params_html(prog: &Program, c: &ClauseDef) -> String {
    let ids = params_of(prog, c);
    if ids.is_empty() {
        return String::new();
    }
    let mut b = String::from(
        "<h4>参数 Parameters</h4>\n<table class=\"params\">\n<thead><tr><th>参数 Parameter</th><th>自 From</th><th>值 Value</th><th>来源 Source</th></tr></thead>\n<tbody>\n",
    );
    for id in ids {
        let Some(p) = prog.params.get(id as usize) else { continue };
        for v in &p.versions {
            b.push_str(&format!(
                "<tr><td class=\"param\" title=\"{}\">{}</td><td class=\"from\">{}</td><td class=\"amount\">{}</td><td class=\"source\">{}</td></tr>\n",
                esc(p.label.as_deref().unwrap_or("")),
                esc(&p.name),
                v.from,
                esc(&huiqi::ir::show::constant(prog, &Const::Num(v.value), p.ty)),
                esc(v.label.as_deref().unwrap_or(""))
            ));
        }
    }
    b.push_str("</tbody>\n</table>\n");
    b
}

fn tests_html(ctx: &Ctx<'_>, id: ClauseId, cref: &str) -> String {
    let mut rows = String::new();
    for (t, r) in ctx.prog.tests.iter().zip(&ctx.tests.cases) {
        let expects: Vec<String> = t
            .expects
            .iter()
            .filter_map(|e| match e {
                TestExpect::Clause { clause, status, amount, .. } if *clause == id => Some(match amount {
                    Some(a) => format!("{} {}", status.as_str(), fmt_money(*a)),
                    None => status.as_str().to_string(),
                }),
                _ => None,
            })
            .collect();
        if expects.is_empty() {
            continue;
        }
        let failed = r.failures.iter().any(|f| f.what == cref || !f.what.contains('.'));
        let (class, word) = if failed { ("fail", "fail 未通过") } else { ("pass", "pass 通过") };
        let period = t.period.map(|p| p.to_string()).unwrap_or_default();
        rows.push_str(&format!(
            "<tr class=\"test {class}\"><td class=\"name\">{}</td><td class=\"period\">{period}</td><td class=\"facts\"><code>{}</code>{}</td><td class=\"expect\">{}</td><td class=\"result {class}\">{word}</td></tr>\n",
            esc(&t.name),
            esc(&t.facts.to_string()),
            if t.ledger.is_empty() { String::new() } else { format!(" <span class=\"ledger\">(+{} ledger entries)</span>", t.ledger.len()) },
            esc(&expects.join("; ")),
        ));
    }
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "<h4>测试 Tests</h4>\n<table class=\"tests\">\n<thead><tr><th>测试 Test</th><th>年度 Period</th><th>事实 Facts</th><th>预期 Expected</th><th>结果 Result</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(text: &str, quote: &str, clause: &str) -> Mark {
        let range = huiqi::check::locate_quote(text, quote).unwrap();
        Mark { range, clause: clause.into(), href: format!("#clause-{clause}") }
    }

    #[test]
    fn quotes_are_marked_and_the_rest_counted() {
        let text = "一、标题\n\n1. 支持。对甲 给予奖励。乙。\n丙；丁\n";
        let marks = [mark(text, "对甲给予奖励。", "X.1"), mark(text, "给予奖励。乙。", "X.2")];
        let (html, unquoted) = source_html(text, &marks);
        assert_eq!(
            html,
            "<p><span class=\"unquoted\">一、标题</span></p>\n\
             <p><span class=\"unquoted\">1. 支持。</span>\
             <mark class=\"quote\" data-clause=\"X.1\"><a href=\"#clause-X.1\">对甲 </a></mark>\
             <mark class=\"quote\" data-clause=\"X.1 X.2\"><a href=\"#clause-X.1\">给予奖励。</a></mark>\
             <mark class=\"quote\" data-clause=\"X.2\"><a href=\"#clause-X.2\">乙。</a></mark></p>\n\
             <p><span class=\"unquoted\">丙；</span><span class=\"unquoted\">丁</span></p>\n"
        );
        assert_eq!(unquoted, 4);
    }

    #[test]
    fn readings_are_the_comments_above_and_inside() {
        let file = "// not this\n\n  // above 1\n  // above 2\n  clause 1 \"t\" {\n    // in 1\n    // in 2\n    amount 1元 // end\n  }\n";
        let at = file.find("clause").unwrap();
        assert_eq!(comments_above(file, at), vec!["above 1 above 2".to_string()]);
        let code = file.get(at..).unwrap();
        assert_eq!(comments_in(code), vec!["in 1 in 2".to_string(), "end".to_string()]);
        assert_eq!(
            dedent(file, at, code),
            "clause 1 \"t\" {\n  // in 1\n  // in 2\n  amount 1元 // end\n}\n"
        );
    }
}
