//! The rule-file formatter (`huiqi fmt`): one canonical layout, comments kept where they are.
//!
//! It works on tokens with their line breaks, not on the AST, so every comment survives: the
//! text is split into words, strings, comments and the punctuation that shapes the layout
//! (`{ } ( ) [ ] , ; :`); each line is re-indented by bracket depth (two spaces a level; a line
//! after one ending in `=` one level deeper) and the
//! spacing between tokens is recomputed. Line breaks are the analyst's (one clause part per
//! line as written); runs of blank lines collapse to one, and none follows `{` or precedes `}`.
//!
//! Invariant: formatting changes white space only, never removes the space between two words,
//! and is idempotent; [`format_source`] refuses (returns `None`) if the result would differ
//! from the input in anything but white space.

/// A token of the layout.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    /// Anything else up to white space or punctuation: names, literals, operators, `E23.5`.
    Word(String),
    /// A quoted string, with its quotes and escapes as written.
    Str(String),
    LineComment(String),
    BlockComment(String),
    Punct(char),
    Newline,
}

/// Indentation stops growing here: text nested deeper does not parse (see
/// [`crate::syntax::MAX_NESTING`]), and the output stays proportional to the input.
const MAX_INDENT: usize = crate::syntax::MAX_NESTING + 1;

const PUNCT: &[char] = &['{', '}', '(', ')', '[', ']', ',', ';', ':', '，', '；'];

/// Operators that are always operators, so splitting them from their neighbours can never
/// merge or split a name: they get one space on each side.
const OPS: &[&str] = &["=>", "==", "!=", ">=", "<=", "≥", "≤", "≠", "×", "÷"];

fn op_at(chars: &[char], i: usize) -> Option<&'static str> {
    OPS.iter().copied().find(|op| op.chars().enumerate().all(|(k, c)| chars.get(i + k) == Some(&c)))
}

/// White space as the grammar has it (`WHITESPACE` in `grammar/huiqi.pest`), apart from the
/// line breaks `\n` and a lone `\r`, which the lexer keeps as [`Tok::Newline`]. Anything else
/// (a no-break space, a vertical tab) is part of a word, as it is for the grammar: formatting
/// must not make it vanish.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\u{3000}' | '\u{feff}')
}

/// Tokens, each with whether it was written directly after the previous one.
fn lex(text: &str) -> Vec<(Tok, bool)> {
    lex_checked(text).0
}

/// Tokens, and whether every string and block comment is closed.
fn lex_checked(text: &str) -> (Vec<(Tok, bool)>, bool) {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<(Tok, bool)> = Vec::new();
    let mut i = 0;
    let mut spaced = false;
    let mut closed = true;
    let at = |k: usize| chars.get(k).copied();
    while let Some(c) = at(i) {
        let glued = !spaced;
        spaced = false;
        if c == '\n' || (c == '\r' && at(i + 1) != Some('\n')) {
            // a lone `\r` ends a line (and a `//` comment) for the grammar too
            out.push((Tok::Newline, glued));
            i += 1;
        } else if is_space(c) {
            spaced = true;
            i += 1;
        } else if c == '/' && at(i + 1) == Some('/') {
            let start = i;
            while at(i).is_some_and(|c| c != '\n' && c != '\r') {
                i += 1;
            }
            let s: String = chars.get(start..i).unwrap_or_default().iter().collect();
            out.push((Tok::LineComment(s.trim_end_matches(is_space).to_string()), glued));
        } else if c == '/' && at(i + 1) == Some('*') {
            let start = i;
            i += 2;
            while at(i).is_some() && !(at(i) == Some('*') && at(i + 1) == Some('/')) {
                i += 1;
            }
            closed &= at(i).is_some();
            i = (i + 2).min(chars.len());
            out.push((Tok::BlockComment(chars.get(start..i).unwrap_or_default().iter().collect()), glued));
        } else if c == '"' {
            let start = i;
            i += 1;
            let mut ended = false;
            while let Some(d) = at(i) {
                i += 1;
                if d == '\\' {
                    i += 1;
                } else if d == '"' {
                    ended = true;
                    break;
                }
            }
            closed &= ended;
            i = i.min(chars.len());
            out.push((Tok::Str(chars.get(start..i).unwrap_or_default().iter().collect()), glued));
        } else if PUNCT.contains(&c) {
            out.push((Tok::Punct(c), glued));
            i += 1;
        } else if let Some(op) = op_at(&chars, i) {
            out.push((Tok::Word(op.to_string()), glued));
            i += op.chars().count();
        } else {
            let start = i;
            while at(i).is_some_and(|d| {
                !is_space(d)
                    && d != '\n'
                    && !PUNCT.contains(&d)
                    && d != '"'
                    && op_at(&chars, i).is_none()
                    && !(d == '/' && matches!(at(i + 1), Some('/' | '*')))
            }) {
                i += 1;
            }
            out.push((Tok::Word(chars.get(start..i).unwrap_or_default().iter().collect()), glued));
        }
    }
    (out, closed)
}

fn text_of(t: &Tok) -> String {
    match t {
        Tok::Word(s) | Tok::Str(s) | Tok::LineComment(s) | Tok::BlockComment(s) => s.clone(),
        Tok::Punct(c) => c.to_string(),
        Tok::Newline => "\n".into(),
    }
}

/// Whether `[` at this position indexes what precedes it (`营业收入[period - 1]`), in which
/// case its contents are written without inner spaces; a list literal gets `[ … ]`.
fn is_index(prev: Option<&Tok>, glued: bool) -> bool {
    glued && matches!(prev, Some(Tok::Word(_) | Tok::Punct(')' | ']')))
}

/// Formats rule-file text; `None` when a string or block comment runs to the end of the text
/// (it does not parse), or when the layout cannot be made without changing more than white
/// space (which would be a bug, so the file is left alone).
pub fn format_source(text: &str) -> Option<String> {
    if !lex_checked(text).1 {
        // a string or comment open to the end of the file: no layout is safe to make
        return None;
    }
    let out = format_tokens(text);
    (squash(&out) == squash(text)).then_some(out)
}

/// The comments of a piece of rule text (e.g. one clause), in order, without their markers:
/// the readings an analyst wrote beside the rules. Consecutive line comments form one
/// paragraph (joined by a space, or by nothing between two CJK characters); a blank line or
/// any rule text ends it.
pub fn comments(text: &str) -> Vec<String> {
    paragraphs(lex(text).into_iter().map(|(t, _)| t))
}

/// The comments inside the first `{ … }` block of `text` (e.g. a clause, from its `clause`
/// keyword or its id on), as [`comments`] gives them.
pub fn block_comments(text: &str) -> Vec<String> {
    let mut depth = 0usize;
    let mut started = false;
    let inside = lex(text).into_iter().map(|(t, _)| t).take_while(move |t| {
        match t {
            Tok::Punct('{') => {
                depth += 1;
                started = true;
            }
            Tok::Punct('}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        !(started && depth == 0)
    });
    paragraphs(inside.skip_while(|t| *t != Tok::Punct('{')))
}

fn paragraphs(tokens: impl Iterator<Item = Tok>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut para: Option<String> = None;
    let mut newlines = 0;
    for tok in tokens {
        match tok {
            Tok::LineComment(c) => {
                let line = c.trim_start_matches('/').trim();
                match para.as_mut() {
                    Some(p) if newlines <= 1 => join_line(p, line),
                    _ => {
                        out.extend(para.take());
                        para = Some(line.to_string());
                    }
                }
                newlines = 0;
            }
            Tok::BlockComment(c) => {
                out.extend(para.take());
                let inner = c.trim_start_matches("/*").trim_end_matches("*/");
                let mut p = String::new();
                for line in inner.lines() {
                    join_line(&mut p, line.trim().trim_start_matches('*').trim());
                }
                out.push(p);
                newlines = 0;
            }
            Tok::Newline => newlines += 1,
            _ => {
                out.extend(para.take());
                newlines = 0;
            }
        }
    }
    out.extend(para);
    out.retain(|p| !p.is_empty());
    out
}

fn join_line(p: &mut String, line: &str) {
    if line.is_empty() {
        return;
    }
    let cjk = |c: char| c as u32 >= 0x2E80;
    let spaced = p.chars().last().is_some_and(|c| !cjk(c)) || line.chars().next().is_some_and(|c| !cjk(c));
    if spaced && !p.is_empty() {
        p.push(' ');
    }
    p.push_str(line);
}

/// The text without white space outside strings and comments: what formatting must keep.
fn squash(text: &str) -> String {
    lex(text)
        .iter()
        .filter(|(t, _)| *t != Tok::Newline)
        .map(|(t, _)| text_of(t))
        .collect::<Vec<_>>()
        .join("\u{1}")
}

fn format_tokens(text: &str) -> String {
    // which `[` are index brackets is decided on the original spacing
    let chars_tokens = lex(text);
    let mut lines: Vec<Vec<(Tok, bool)>> = vec![Vec::new()];
    for (t, glued) in chars_tokens {
        if t == Tok::Newline {
            lines.push(Vec::new());
        } else if let Some(l) = lines.last_mut() {
            l.push((t, glued));
        }
    }
    // the formatted lines, each with where its `=>` stands (one line may hold a string or a
    // comment that spans lines: it is aligned as one)
    let mut out: Vec<(String, Option<usize>)> = Vec::new();
    let mut depth: usize = 0;
    let mut brackets: Vec<bool> = Vec::new(); // true: index bracket
    let mut blank_pending = false;
    let mut last_line_opened = true; // start of file behaves like after `{`
    let mut continues = false;
    for line in lines {
        if line.is_empty() {
            blank_pending = true;
            continue;
        }
        let closes_first = matches!(line.first(), Some((Tok::Punct('}' | ']' | ')'), _)));
        if blank_pending && !last_line_opened && !closes_first {
            out.push((String::new(), None));
        }
        blank_pending = false;
        // deeper than the grammar allows, the text does not parse: the indentation stops growing
        let indent = (if closes_first { depth.saturating_sub(1) } else { depth } + usize::from(continues))
            .min(MAX_INDENT);
        let mut s = "  ".repeat(indent);
        let mut prev: Option<&Tok> = None;
        let mut arrow_at = None;
        for (t, glued) in &line {
            if let Some(p) = prev
                && space_between(p, t, *glued, &brackets)
            {
                s.push(' ');
            }
            match t {
                Tok::Punct('{' | '(') => depth += 1,
                Tok::Punct('}' | ')') => depth = depth.saturating_sub(1),
                Tok::Punct('[') => {
                    depth += 1;
                    brackets.push(is_index(prev, *glued));
                }
                Tok::Punct(']') => {
                    depth = depth.saturating_sub(1);
                    brackets.pop();
                }
                _ => {}
            }
            if arrow_at.is_none() && matches!(t, Tok::Word(w) if w == "=>") {
                arrow_at = Some(s.len());
            }
            s.push_str(&text_of(t));
            prev = Some(t);
        }
        last_line_opened = matches!(line.last(), Some((Tok::Punct('{' | '[' | '('), _)));
        // a line ending in `=` continues on the next, one level deeper
        continues = matches!(line.last(), Some((Tok::Word(w), _)) if w == "=");
        // where the line's first `=>` stands (tiers, brackets and categories are aligned on it)
        let arrow = if line.iter().filter(|(t, _)| matches!(t, Tok::Word(w) if w == "=>")).count() == 1 {
            arrow_at
        } else {
            None
        };
        out.push((s.trim_end_matches(' ').to_string(), arrow));
    }
    while out.last().is_some_and(|(l, _)| l.is_empty()) {
        out.pop();
    }
    align_arrows(&out)
}

/// Pads runs of consecutive lines (at one indentation) that hold one `=>` each, so that
/// their arrows line up: `达到 1亿  => 30万` / `达到 10亿 => 100万`; then joins the lines.
fn align_arrows(lines: &[(String, Option<usize>)]) -> String {
    use unicode_width::UnicodeWidthStr;
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let mut out = String::with_capacity(lines.iter().map(|(l, _)| l.len() + 1).sum::<usize>() + 64);
    let mut i = 0;
    while let Some((first, _)) = lines.get(i) {
        let mut j = i;
        while lines.get(j).is_some_and(|(l, a)| a.is_some() && indent(l) == indent(first)) {
            j += 1;
        }
        let run = lines.get(i..j).unwrap_or_default();
        if run.len() > 1 {
            fn head((l, a): &(String, Option<usize>)) -> &str {
                a.and_then(|a| l.get(..a)).unwrap_or(l).trim_end_matches(' ')
            }
            let width = run.iter().map(|x| head(x).width()).max().unwrap_or(0);
            for x in run {
                let (h, tail) = (head(x), x.1.and_then(|a| x.0.get(a..)).unwrap_or(""));
                out.push_str(h);
                out.push_str(&" ".repeat(width.saturating_sub(h.width()) + 1));
                out.push_str(tail);
                out.push('\n');
            }
            i = j;
        } else {
            out.push_str(first);
            out.push('\n');
            i += 1;
        }
    }
    if out.is_empty() {
        out.push('\n');
    }
    out
}

fn space_between(prev: &Tok, next: &Tok, glued: bool, brackets: &[bool]) -> bool {
    let in_index = brackets.last().copied().unwrap_or(false);
    match (prev, next) {
        (_, Tok::LineComment(_)) => true,
        (Tok::Punct('(' | '（'), _) | (_, Tok::Punct(')' | '）')) => false,
        (_, Tok::Punct(',' | ';' | ':' | '，' | '；')) => false,
        (Tok::Punct(',' | ';' | ':' | '，' | '；'), _) => true,
        (Tok::Punct('['), Tok::Punct(']')) | (Tok::Punct('{'), Tok::Punct('}')) => false,
        (Tok::Punct('['), _) => !in_index,
        (_, Tok::Punct(']')) => !in_index,
        (_, Tok::Punct('[')) => !is_index(Some(prev), glued),
        (Tok::Word(_) | Tok::Punct(')'), Tok::Punct('(')) => !glued,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_paragraphs_of_readings() {
        let text = "clause 5 \"t\" {\n  quote \"a // not a comment\"\n  // Thresholds: 以上 includes\n  // the number.\n\n  // Second reading.\n  amount 1万 // trailing\n  /* block\n   * two */\n}";
        assert_eq!(
            comments(text),
            vec!["Thresholds: 以上 includes the number.", "Second reading.", "trailing", "block two"]
        );
        let two =
            "clause 1 \"a\" {\n  // one\n  when x { y } // two\n}\n// between clauses\nclause 2 \"b\" {}";
        assert_eq!(block_comments(two), vec!["one", "two"]);
    }

    fn f(s: &str) -> String {
        format_source(s).expect("formats")
    }

    #[test]
    fn indents_and_spaces() {
        let messy = "policy P \"p\"{\n\tclause 1 \"c\" {\n   when  营业收入[ period - 1 ]   达到 1亿 // 以上\n\n\n  amount min( 30万 ,x )\n }\n}";
        assert_eq!(
            f(messy),
            "policy P \"p\" {\n  clause 1 \"c\" {\n    when 营业收入[period - 1] 达到 1亿 // 以上\n\n    amount min(30万, x)\n  }\n}\n"
        );
    }

    #[test]
    fn lists_sets_and_objects_get_inner_spaces() {
        assert_eq!(
            f("test \"t\" { facts {a:[{b:1},{c:2}], d: []} }"),
            "test \"t\" { facts { a: [ { b: 1 }, { c: 2 } ], d: [] } }\n"
        );
        assert_eq!(f("define d = x in {甲,乙}"), "define d = x in { 甲, 乙 }\n");
    }

    #[test]
    fn strings_and_comments_are_untouched() {
        let s = "// 头注释  保留\nfact x: money \"a  ,b\" /* 块  注释 */\n";
        assert_eq!(f(s), "// 头注释  保留\nfact x: money \"a  ,b\" /* 块  注释 */\n");
    }

    #[test]
    fn idempotent_and_whitespace_only() {
        let s = "policy P \"p\" {\nclause 1 \"c\"{ amount sum(贷款 where 知识产权质押,利息)×50% cap 3万 per year }\n\n}\n";
        let once = f(s);
        assert_eq!(f(&once), once);
        assert_eq!(squash(&once), squash(s));
    }
}
