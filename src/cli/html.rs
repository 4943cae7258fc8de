//! HTML for the pages the command line writes (`huiqi doc`, `eval --format html`): escaping,
//! the page shell with its stylesheet, rule text highlighted by token class.
//!
//! Invariant: every text that comes from a rule file, a source text, facts or a report passes
//! through [`esc`] before it is written into a page, and a page names no URL outside the site
//! (its stylesheet is inline; its Content-Security-Policy forbids loading anything else).

use super::lsp::{Lex, THRESHOLDS, is_keyword_word, lex};

/// Text for HTML (element content and quoted attribute values).
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A whole page: `lang` is `zh` or `en`; `body` is HTML already escaped.
pub fn page(lang: &str, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:\">\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        esc(title)
    )
}

/// The one stylesheet of every page (inline: the pages carry no other file).
const CSS: &str = r#":root { --ink: #1a1a1a; --muted: #555; --line: #ccc; --mark: #fff3b0; --unq: #f3f3f3; --ok: #0a6b2e; --bad: #a40000; }
* { box-sizing: border-box; }
body { font-family: "Noto Serif CJK SC", "Source Han Serif SC", "Songti SC", serif; color: var(--ink); background: #fff; margin: 0 auto; padding: 1rem 1.5rem; max-width: 90rem; line-height: 1.7; }
h1 { font-size: 1.5rem; margin: .5rem 0; } h2 { font-size: 1.25rem; } h3 { font-size: 1.05rem; margin: 0 0 .5rem; } h4 { font-size: .95rem; margin: .8rem 0 .3rem; }
a { color: #0645ad; }
nav { margin-bottom: 1rem; }
table { border-collapse: collapse; margin: .4rem 0; }
th, td { border: 1px solid var(--line); padding: .2rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.amount, td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.issued, td.from, td.period { white-space: nowrap; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .5rem 0; }
dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1.5rem; align-items: start; }
@media (min-width: 60rem) { article.source { position: sticky; top: 0; max-height: 100vh; overflow-y: auto; padding-right: .5rem; } }
@media (max-width: 60rem) { .layout { grid-template-columns: 1fr; } }
article.source p { white-space: pre-wrap; margin: .4rem 0; }
mark.quote { background: var(--mark); padding: 0 .1rem; }
mark.quote a { color: inherit; text-decoration: none; border-bottom: 1px dotted var(--muted); }
.unquoted { background: var(--unq); color: var(--muted); text-decoration: line-through dotted #999; }
.unquoted-count { color: var(--muted); }
section.card { border: 1px solid var(--line); border-radius: 4px; padding: .7rem 1rem; margin: 0 0 1rem; }
section.card:target { outline: 3px solid #f0c000; }
blockquote { margin: .4rem 0; padding: .2rem .8rem; border-left: 4px solid #e0c000; background: #fffbe6; }
pre.code { background: #f7f7f7; border: 1px solid #e5e5e5; padding: .6rem; overflow-x: auto; font-family: "Noto Sans Mono CJK SC", "Sarasa Mono SC", monospace; font-size: .85rem; line-height: 1.5; white-space: pre-wrap; overflow-wrap: anywhere; }
.tok-keyword { color: #7a1fa2; font-weight: bold; } .tok-string { color: #0a6b2e; } .tok-comment { color: #6b6b6b; font-style: italic; }
.tok-number { color: #a34a00; } .tok-threshold { color: #b00020; font-weight: bold; } .tok-ref { color: #0645ad; }
.verified, td.pass { color: var(--ok); } .not-found, td.fail, dd.fail { color: var(--bad); font-weight: bold; }
.readings p { margin: .2rem 0; color: #333; }
.status { font-weight: bold; }
.status-granted { color: var(--ok); } .status-ineligible, .status-not_in_force, .status-exhausted { color: var(--muted); }
.status-undetermined, .status-discretionary { color: #8a5a00; }
ol.steps { margin: .3rem 0; padding-left: 1.5rem; }
p.total { font-size: 1.2rem; font-weight: bold; border-top: 2px solid var(--ink); padding-top: .5rem; }
section.result { border-top: 1px solid var(--line); padding: .5rem 0; page-break-inside: avoid; break-inside: avoid; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  nav, .no-print { display: none; }
  a { color: inherit; text-decoration: none; }
  .layout { display: block; }
  article.source { position: static; max-height: none; overflow: visible; }
  section.card, section.result { break-inside: avoid; page-break-inside: avoid; }
  mark.quote { background: none; border-bottom: 1.5pt solid #000; }
  @page { size: A4; margin: 18mm 15mm; }
}
"#;

/// Rule text as `<pre class="code">`, each token in a span of its class: `tok-keyword`,
/// `tok-string`, `tok-comment`, `tok-number`, `tok-threshold` (达到, 超过 …), `tok-ref` (a
/// clause reference such as `E23.5`, a link to its card: `link` gives its address, or `None`
/// when the words name no clause). The words are those of the language server's lexer.
pub fn highlight(text: &str, link: &dyn Fn(&str) -> Option<String>) -> String {
    let toks = lex(text);
    let mut out = String::from("<pre class=\"code\"><code>");
    let mut at = 0;
    let mut i = 0;
    while let Some(&(s, e, kind)) = toks.get(i) {
        i += 1;
        out.push_str(&esc(text.get(at..s).unwrap_or("")));
        let word = text.get(s..e).unwrap_or("");
        let mut end = e;
        let mut href = None;
        let class = match kind {
            Lex::Str => Some("string"),
            Lex::Comment => Some("comment"),
            Lex::Word => {
                // `E23.5`: one token
                let dotted = match toks.get(i) {
                    Some(&(s2, e2, Lex::Word)) if e + 1 == s2 && text.get(e..s2) == Some(".") => {
                        text.get(s..e2).and_then(link).map(|h| (e2, h))
                    }
                    _ => None,
                };
                if let Some((e2, h)) = dotted {
                    end = e2;
                    i += 1;
                    href = Some(h);
                    Some("ref")
                } else if word.starts_with(|c: char| c.is_ascii_digit()) {
                    Some("number")
                } else if THRESHOLDS.iter().any(|t| t.0 == word) {
                    Some("threshold")
                } else if is_keyword_word(word) {
                    Some("keyword")
                } else {
                    None
                }
            }
        };
        let t = esc(text.get(s..end).unwrap_or(""));
        match (class, href) {
            (Some(c), Some(h)) => out.push_str(&format!("<a class=\"tok-{c}\" href=\"{}\">{t}</a>", esc(&h))),
            (Some(c), None) => out.push_str(&format!("<span class=\"tok-{c}\">{t}</span>")),
            (None, _) => out.push_str(&t),
        }
        at = end;
    }
    out.push_str(&esc(text.get(at..).unwrap_or("")));
    out.push_str("</code></pre>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn highlights_by_token_class() {
        let h = highlight("amount tiers { 达到 1亿 => 30万 } // a < b\nexcludes E23.5 \"q\"", &|n| {
            (n == "E23.5").then(|| "#clause-E23.5".to_string())
        });
        assert!(h.contains("<span class=\"tok-keyword\">amount</span>"), "{h}");
        assert!(h.contains("<span class=\"tok-threshold\">达到</span>"), "{h}");
        assert!(h.contains("<span class=\"tok-number\">1亿</span>"), "{h}");
        assert!(h.contains("<span class=\"tok-comment\">// a &lt; b</span>"), "{h}");
        assert!(h.contains("<a class=\"tok-ref\" href=\"#clause-E23.5\">E23.5</a>"), "{h}");
        assert!(h.contains("<span class=\"tok-string\">&quot;q&quot;</span>"), "{h}");
    }
}
