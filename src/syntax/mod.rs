//! Syntax: rule-file text to the span-carrying AST.
//!
//! pest recognises the grammar in `grammar/huiqi.pest`; this module turns its pairs into
//! [`ast`] nodes at once and maps pest's rule names to words an analyst knows.
//!
//! Invariant: no pest type leaves this module, and no input, however deeply nested, can make
//! parsing recurse without bound (brackets are counted before pest runs; expression trees are
//! cut off at [`MAX_EXPR_DEPTH`]).

pub mod ast;
pub mod keywords;

use crate::diag::{Code, Diagnostic};
use crate::span::{FileId, Span};
use crate::value::{Date, Literal, parse_literal};
use ast::*;
use pest::Parser;
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use std::sync::LazyLock;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/huiqi.pest"]
struct HuiqiParser;

/// Brackets nested deeper than this are refused before pest sees the text.
pub const MAX_NESTING: usize = 64;
/// Expression trees deeper than this are refused while they are built.
pub const MAX_EXPR_DEPTH: usize = 100;

type PResult<T> = Result<T, Box<Diagnostic>>;

/// The children of a pair without its keywords (`k_…` rules): the AST is built from the
/// structure alone, whichever language the keywords are written in.
type KidsIter<'i> = std::iter::Filter<pest::iterators::Pairs<'i, Rule>, fn(&Pair<'i, Rule>) -> bool>;

trait Kids<'i> {
    fn kids(self) -> KidsIter<'i>;
}

impl<'i> Kids<'i> for Pair<'i, Rule> {
    fn kids(self) -> KidsIter<'i> {
        self.into_inner().filter(|p| !keywords::is_keyword(p.as_rule()))
    }
}

/// The English words of the keywords in a pair (the pair itself or inside it), joined by a
/// space: `per item total`, `yuan`, `granted`, whichever language they were written in.
fn english_words(p: &Pair<'_, Rule>) -> String {
    std::iter::once(p.clone())
        .chain(p.clone().into_inner().flatten())
        .map(|q| keywords::english(q.as_rule()))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses one rule file. On failure, returns every diagnostic found (pest stops at the first
/// syntax error; literal errors are collected).
pub fn parse(file: FileId, text: &str) -> Result<ast::File, Vec<Diagnostic>> {
    if let Some(d) = check_nesting(file, text) {
        return Err(vec![d]);
    }
    let pairs = match HuiqiParser::parse(Rule::file, text) {
        Ok(p) => p,
        Err(e) => return Err(vec![pest_error(file, text, e)]),
    };
    let b = Builder { file };
    let occurrences = keywords::occurrences(pairs.clone());
    let warnings: Vec<Diagnostic> = keywords::mixed(file, text, &occurrences).into_iter().collect();
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for pair in pairs.flatten().take(1) {
        for item in pair.kids() {
            if item.as_rule() == Rule::EOI {
                continue;
            }
            match b.item(item) {
                Ok(i) => items.push(i),
                Err(d) => errors.push(*d),
            }
        }
    }
    if errors.is_empty() { Ok(ast::File { items, warnings }) } else { Err(errors) }
}

/// Counts nesting outside strings and comments, so that pest (which recurses once per level)
/// and the AST builder never see input deep enough to overflow the stack. Brackets nest, and
/// so does every `if` whose `else` branch has not ended: `if … else if … else if …` is nested
/// as deep as it is long, brackets or not. An `if`'s expression ends at the latest at the
/// `,` `;` `=>` or `=` that follows it in the same brackets, or at their closing bracket, so
/// the `if`s counted since then are open; counting an `if` that already ended (one clause
/// part after another) only ever counts too many. Comments end at `\n` or `\r`, as in the
/// grammar.
fn check_nesting(file: FileId, text: &str) -> Option<Diagnostic> {
    let bytes = text.as_bytes();
    // per open bracket (the first: the file itself), the `if`s since its last separator
    let mut ifs: Vec<usize> = vec![0];
    let mut open_ifs = 0usize;
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        match c {
            b'"' => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    if c == b'\\' {
                        i += 1;
                    } else if c == b'"' {
                        break;
                    }
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while bytes.get(i).is_some_and(|&c| c != b'\n' && c != b'\r') {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while bytes.get(i).is_some()
                    && !(bytes.get(i) == Some(&b'*') && bytes.get(i + 1) == Some(&b'/'))
                {
                    i += 1;
                }
                i += 1;
            }
            b'(' | b'[' | b'{' => {
                ifs.push(0);
                if ifs.len() - 1 + open_ifs > MAX_NESTING {
                    let message = if open_ifs == 0 {
                        format!("brackets are nested more than {MAX_NESTING} deep")
                    } else {
                        format!("brackets and `if` expressions are nested more than {MAX_NESTING} deep")
                    };
                    return Some(too_deep(file, i, i + 1, message));
                }
            }
            b')' | b']' | b'}' if ifs.len() > 1 => open_ifs -= ifs.pop().unwrap_or(0),
            b',' | b';' => open_ifs -= ifs.last_mut().map_or(0, std::mem::take),
            b'=' => {
                let prev = i.checked_sub(1).and_then(|k| bytes.get(k));
                let next = bytes.get(i + 1);
                let arrow = next == Some(&b'>');
                let alone = !matches!(prev, Some(b'=' | b'<' | b'>' | b'!')) && next != Some(&b'=');
                if arrow || alone {
                    open_ifs -= ifs.last_mut().map_or(0, std::mem::take);
                }
            }
            b'i' | 0xE5 if if_keyword_at(text, i).is_some() => {
                let len = if_keyword_at(text, i).unwrap_or(2);
                if let Some(n) = ifs.last_mut() {
                    *n += 1;
                }
                open_ifs += 1;
                if ifs.len() - 1 + open_ifs > MAX_NESTING {
                    let message = format!("`if` expressions are nested more than {MAX_NESTING} deep");
                    return Some(too_deep(file, i, i + len, message));
                }
                i += len;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The length of the `if` (or `如果`) keyword at byte `i`, when it stands on its own (not
/// inside a name such as `gift`, `if_x` or `如果值`). A letter the grammar would not take
/// counts as a boundary too: such a text fails to parse right there.
fn if_keyword_at(text: &str, i: usize) -> Option<usize> {
    let rest = text.get(i..)?;
    let len = ["if", "如果"].iter().find(|w| rest.starts_with(**w))?.len();
    let name_char = |c: char| c.is_alphanumeric() || c == '_';
    let before = text.get(..i).and_then(|t| t.chars().next_back());
    let after = text.get(i + len..).and_then(|t| t.chars().next());
    (!before.is_some_and(name_char) && !after.is_some_and(name_char)).then_some(len)
}

fn too_deep(file: FileId, start: usize, end: usize, message: String) -> Diagnostic {
    Diagnostic::new(Code::TooDeep, message)
        .at(Span::new(file, start, end), "too deep here")
        .help("split the expression into named definitions (`define …`)")
}

fn pest_error(file: FileId, text: &str, e: pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let (start, end) = match e.location {
        InputLocation::Pos(p) => (p, next_char_end(text, p)),
        InputLocation::Span((s, e)) => (s, e),
    };
    let found = text
        .get(start..)
        .and_then(|s| s.split_whitespace().next())
        .map(|w| w.chars().take(12).collect::<String>());
    let (message, help) = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut words: Vec<String> = positives.iter().map(|r| rule_words(*r)).collect();
            words.sort_unstable();
            words.dedup();
            let expected = match words.as_slice() {
                [] => "something else".to_string(),
                [one] => (*one).to_string(),
                many => {
                    let empty = String::new();
                    let (last, rest) = many.split_last().map_or((&empty, &[][..]), |(l, r)| (l, r));
                    format!("{} or {last}", rest.join(", "))
                }
            };
            let msg = match &found {
                Some(f) => format!("expected {expected}, found `{f}`"),
                None => format!("expected {expected}, found the end of the file"),
            };
            let help = if found.is_none() || words.iter().any(|w| w == "`}`") {
                "check that every `{` has its `}`".to_string()
            } else {
                format!("write {expected} here")
            };
            (msg, help)
        }
        ErrorVariant::CustomError { message } => (message.clone(), "see docs/language.md".into()),
    };
    Diagnostic::new(Code::SyntaxError, message).at(Span::new(file, start, end), "here").help(help)
}

fn next_char_end(text: &str, p: usize) -> usize {
    text.get(p..).and_then(|s| s.chars().next()).map_or(p, |c| p + c.len_utf8())
}

/// pest rule names in words an analyst knows.
fn rule_words(r: Rule) -> String {
    // a keyword that starts a construct is named by the construct, so that the alternatives
    // read as before keywords were rules: "a clause part (…)", not fifteen keywords
    let starts = match r {
        Rule::k_number
        | Rule::k_issuer
        | Rule::k_issued
        | Rule::k_published
        | Rule::k_source
        | Rule::k_in_force
        | Rule::k_applies_when
        | Rule::k_rounding
        | Rule::k_amends
        | Rule::k_extends
        | Rule::k_repeals => Some(Rule::meta_number),
        Rule::k_clause => Some(Rule::clause_decl),
        Rule::k_quote
        | Rule::k_responsible
        | Rule::k_when
        | Rule::k_valid
        | Rule::k_dated
        | Rule::k_amount
        | Rule::k_cap
        | Rule::k_floor
        | Rule::k_once
        | Rule::k_once_in
        | Rule::k_at_most
        | Rule::k_provides
        | Rule::k_kind
        | Rule::k_excludes
        | Rule::k_only_largest_in
        | Rule::k_unquoted => Some(Rule::c_quote),
        Rule::k_enum
        | Rule::k_record
        | Rule::k_fact
        | Rule::k_define
        | Rule::k_parameter
        | Rule::k_table
        | Rule::k_policy
        | Rule::k_test => Some(Rule::item),
        Rule::k_test_as_of | Rule::k_facts | Rule::k_ledger | Rule::k_expect => Some(Rule::t_period),
        _ => None,
    };
    if let Some(c) = starts {
        return rule_words_static(c).to_string();
    }
    if let Some((_, en, zh)) = keywords::entry(r) {
        return format!("`{en}` (`{zh}`)");
    }
    rule_words_static(r).to_string()
}

fn rule_words_static(r: Rule) -> &'static str {
    match r {
        Rule::EOI => "the end of the file",
        Rule::item
        | Rule::enum_decl
        | Rule::record_decl
        | Rule::fact_decl
        | Rule::define_decl
        | Rule::parameter_decl
        | Rule::table_decl
        | Rule::policy_decl
        | Rule::test_decl => {
            "a declaration (`enum`, `record`, `fact`, `define`, `parameter`, `table`, `policy`, `test`)"
        }
        Rule::ident | Rule::ident_raw => "a name",
        Rule::string | Rule::label => "a quoted text",
        Rule::date => "a date (YYYY-MM-DD)",
        Rule::number | Rule::decimal => "a number",
        Rule::money => "an amount of money (e.g. `30万`)",
        Rule::rate => "a rate (e.g. `20%`)",
        Rule::expr
        | Rule::arith
        | Rule::paren
        | Rule::call
        | Rule::granted_call
        | Rule::qualifies_call
        | Rule::set_lit
        | Rule::period_kw
        | Rule::as_of_kw
        | Rule::boolean => "an expression",
        Rule::op_or
        | Rule::op_and
        | Rule::op_in
        | Rule::op_add
        | Rule::op_sub
        | Rule::op_mul
        | Rule::op_div
        | Rule::op_ge
        | Rule::op_gt
        | Rule::op_le
        | Rule::op_lt
        | Rule::op_eq
        | Rule::op_ne => "an operator",
        Rule::index => "`[`",
        Rule::field_access => "`.`",
        Rule::clause_decl => "`clause`",
        Rule::meta_number
        | Rule::meta_issuer
        | Rule::meta_issued
        | Rule::meta_published
        | Rule::meta_source
        | Rule::meta_in_force
        | Rule::meta_applies
        | Rule::meta_rounding
        | Rule::p_amends
        | Rule::p_extends
        | Rule::p_repeals => {
            // amendments share the words: a message that lists what may follow stays as it was
            "document metadata (`number`, `issuer`, `issued`, `published`, `source`, `in force`, `applies when`, `rounding`)"
        }
        Rule::c_quote
        | Rule::c_responsible
        | Rule::c_when
        | Rule::c_valid
        | Rule::c_dated
        | Rule::c_amount
        | Rule::c_cap
        | Rule::c_floor
        | Rule::c_once
        | Rule::c_at_most
        | Rule::c_provides
        | Rule::c_kind
        | Rule::c_excludes
        | Rule::c_largest
        | Rule::c_once_in
        | Rule::c_unquoted => {
            "a clause part (`kind`, `quote`, `responsible`, `when`, `valid`, `dated`, `amount`, `provides`, `cap`, `floor`, `once`, `at most`, `excludes`, `only largest in`, `once in`, `unquoted`)"
        }
        Rule::cap_scope => "`per grant`, `per year` or `total`",
        Rule::once_scope => "`per tier` or `per category`",
        Rule::pay_rule => "`highest` or `each`",
        Rule::tier => "a tier (`达到 1亿 => 30万`)",
        Rule::bracket | Rule::above => "a bracket (`up to 500万 => 0%` or `above => 50%`)",
        Rule::category_arm => "a category (`名称 => 30万`)",
        Rule::type_expr | Rule::series_type | Rule::list_type => "a type",
        Rule::variant => "an enumeration value",
        Rule::field_decl => "a field (`名称: type`)",
        Rule::param_version => "a version (`75% from 2018-01-01`)",
        Rule::table_tiers | Rule::table_brackets => "`tiers { … }` or `brackets { … }`",
        Rule::table_version => "a later version of the table (`from 2025-01-01 { … }`)",
        Rule::window_range => "a date range (`2023-01-01 to 2025-12-31`)",
        Rule::clause_kind => {
            "a kind (`benefit`, `tax`, `priority`, `ceiling`, `definition`, `guidance`, `stacking`, `target`)"
        }
        Rule::rounding_mode => "`fen`, `yuan`, `wan` or `none`",
        Rule::clause_id => "an article number (e.g. `5`, `14a`)",
        Rule::t_period | Rule::t_as_of | Rule::t_facts | Rule::t_ledger | Rule::t_expect => {
            "a test part (`period`, `as of`, `facts`, `ledger`, `expect`)"
        }
        Rule::clause_ref => "a clause reference (e.g. `E23.5`)",
        Rule::doc_target => "a document or clause (e.g. `E23`, `E23.5`)",
        Rule::status => {
            "a status (`granted`, `discretionary`, `ineligible`, `undetermined`, `not_in_force`, `exhausted`)"
        }
        Rule::obj | Rule::arr | Rule::obj_entry => "a value",
        Rule::selection | Rule::sel_where | Rule::sel_first => "a list selection",
        Rule::each_of => "`each 字段 of 列表`",
        _ => "something else",
    }
}

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_in, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
        .op(Op::postfix(Rule::index) | Op::postfix(Rule::field_access))
});

struct Builder {
    file: FileId,
}

/// An expression with its tree depth, so deep trees are refused while built.
type Deep = (Expr, usize);

impl Builder {
    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        let s = p.as_span();
        Span::new(self.file, s.start(), s.end())
    }

    fn ident(&self, p: Pair<'_, Rule>) -> Ident {
        Ident { name: p.as_str().to_string(), span: self.span(&p) }
    }

    fn string(&self, p: Pair<'_, Rule>) -> String {
        // string → string_inner; label → string → string_inner
        let mut inner = p;
        while let Some(next) = inner.clone().kids().next() {
            inner = next;
        }
        unescape(inner.as_str())
    }

    fn date(&self, p: Pair<'_, Rule>) -> PResult<Date> {
        p.as_str().parse::<Date>().map_err(|m| {
            Box::new(
                Diagnostic::new(Code::BadLiteral, m)
                    .at(self.span(&p), "not a valid date")
                    .help("write dates as YYYY-MM-DD with a real day, e.g. 2023-03-02"),
            )
        })
    }

    fn int(&self, p: Pair<'_, Rule>) -> PResult<i64> {
        p.as_str().parse::<i64>().map_err(|_| {
            Box::new(
                Diagnostic::new(Code::BadLiteral, format!("`{}` is not a whole number", p.as_str()))
                    .at(self.span(&p), "a whole number is needed here")
                    .help("write a whole number such as `3` or `2023`"),
            )
        })
    }

    fn small_int(&self, p: Pair<'_, Rule>) -> PResult<u32> {
        let span = self.span(&p);
        let n = self.int(p)?;
        u32::try_from(n).ok().filter(|n| *n <= 1000).ok_or_else(|| {
            Box::new(
                Diagnostic::new(Code::BadLiteral, format!("`{n}` is out of range"))
                    .at(span, "expected a count from 0 to 1000"),
            )
        })
    }

    fn item(&self, p: Pair<'_, Rule>) -> PResult<Item> {
        let rule = p.as_rule();
        let span = self.span(&p);
        let mut it = p.kids().peekable();
        Ok(match rule {
            Rule::enum_decl => {
                let name = self.ident(next(&mut it, span)?);
                let mut label = None;
                let mut ordered = false;
                let mut variants = Vec::new();
                for q in it {
                    match q.as_rule() {
                        Rule::label => label = Some(self.string(q)),
                        Rule::ordered => ordered = true,
                        Rule::variant => {
                            let mut v = q.kids();
                            let n = self.ident(next(&mut v, span)?);
                            variants.push((n, v.next().map(|l| self.string(l))));
                        }
                        _ => {}
                    }
                }
                Item::Enum(EnumDecl { name, label, ordered, variants })
            }
            Rule::record_decl => {
                let name = self.ident(next(&mut it, span)?);
                let mut label = None;
                let mut fields = Vec::new();
                for q in it {
                    match q.as_rule() {
                        Rule::label => label = Some(self.string(q)),
                        Rule::field_decl => {
                            let mut f = q.kids();
                            let name = self.ident(next(&mut f, span)?);
                            let (ty, never) = self.type_expr(next(&mut f, span)?, span)?;
                            let (signed, default, label) = self.signed_and_label(f)?;
                            fields.push(FieldDecl { name, ty, signed, never, default, label });
                        }
                        _ => {}
                    }
                }
                Item::Record(RecordDecl { name, label, fields })
            }
            Rule::fact_decl => {
                let name = self.ident(next(&mut it, span)?);
                let (ty, never) = self.type_expr(next(&mut it, span)?, span)?;
                let (signed, default, label) = self.signed_and_label(it)?;
                Item::Fact(FactDecl { name, ty, signed, never, default, label })
            }
            Rule::define_decl => {
                let name = self.ident(next(&mut it, span)?);
                let mut label = None;
                let mut expr = None;
                let mut record = None;
                let mut ty = None;
                for q in it {
                    match q.as_rule() {
                        Rule::label => label = Some(self.string(q)),
                        Rule::def_item => {
                            let qspan = self.span(&q);
                            record = Some(self.ident(next(&mut q.kids(), qspan)?));
                        }
                        Rule::def_type => {
                            let qspan = self.span(&q);
                            ty = Some(self.ident(next(&mut q.kids(), qspan)?));
                        }
                        _ => expr = Some(self.expr(q)?),
                    }
                }
                let expr = expr.ok_or_else(|| missing(span))?;
                Item::Define(DefineDecl { name, record, ty, label, expr })
            }
            Rule::parameter_decl => {
                let name = self.ident(next(&mut it, span)?);
                let ty = self.ident(next(&mut it, span)?);
                let mut label = None;
                let mut versions = Vec::new();
                for q in it {
                    match q.as_rule() {
                        Rule::label => label = Some(self.string(q)),
                        Rule::param_version => {
                            let vspan = self.span(&q);
                            let mut v = q.kids();
                            let value = self.expr(next(&mut v, vspan)?)?;
                            let from = self.date(next(&mut v, vspan)?)?;
                            versions.push(ParamVersion {
                                value,
                                from,
                                label: v.next().map(|l| self.string(l)),
                                span: vspan,
                            });
                        }
                        _ => {}
                    }
                }
                Item::Parameter(ParamDecl { name, ty, label, versions })
            }
            Rule::table_decl => self.table(it, span)?,
            Rule::policy_decl => self.policy(it, span)?,
            Rule::test_decl => self.test(it, span)?,
            _ => return Err(missing(span)),
        })
    }

    /// The optional `signed`, `default V` and label after a fact's or field's type.
    fn signed_and_label<'i>(
        &self,
        rest: impl Iterator<Item = Pair<'i, Rule>>,
    ) -> PResult<(bool, Option<Expr>, Option<String>)> {
        let (mut signed, mut default, mut label) = (false, None, None);
        for q in rest {
            match q.as_rule() {
                Rule::signed => signed = true,
                Rule::default_value => {
                    let qspan = self.span(&q);
                    let v = q.kids().next().ok_or_else(|| missing(qspan))?;
                    default = Some(self.primary(v)?.0);
                }
                Rule::label => label = Some(self.string(q)),
                _ => {}
            }
        }
        Ok((signed, default, label))
    }

    /// A type, and whether it is `… or never`.
    fn type_expr(&self, p: Pair<'_, Rule>, span: Span) -> PResult<(TypeExpr, bool)> {
        let mut inner = p.kids();
        let q = inner.next().ok_or_else(|| missing(span))?;
        let never = inner.next().is_some_and(|n| n.as_rule() == Rule::or_never);
        Ok((self.type_expr_of(q, span)?, never))
    }

    fn type_expr_of(&self, q: Pair<'_, Rule>, span: Span) -> PResult<TypeExpr> {
        Ok(match q.as_rule() {
            Rule::series_type => TypeExpr::Series(self.ident(q.kids().next().ok_or_else(|| missing(span))?)),
            Rule::list_type => TypeExpr::List(self.ident(q.kids().next().ok_or_else(|| missing(span))?)),
            Rule::monthly_type => {
                TypeExpr::Monthly(self.ident(q.kids().next().ok_or_else(|| missing(span))?))
            }
            _ => TypeExpr::Named(self.ident(q)),
        })
    }

    fn window(&self, p: Pair<'_, Rule>) -> PResult<Window> {
        let span = self.span(&p);
        let from = p.clone().into_inner().next().is_some_and(|q| q.as_rule() == Rule::k_from);
        let dates: Vec<Date> = p.kids().map(|d| self.date(d)).collect::<PResult<_>>()?;
        Ok(if from {
            Window { start: dates.first().copied(), end: None, span }
        } else {
            Window { start: dates.first().copied(), end: dates.get(1).copied(), span }
        })
    }

    fn policy<'i>(&self, mut it: impl Iterator<Item = Pair<'i, Rule>>, span: Span) -> PResult<Item> {
        let key = self.ident(it.next().ok_or_else(|| missing(span))?);
        let title = self.string(it.next().ok_or_else(|| missing(span))?);
        let mut meta = Vec::new();
        let mut clauses = Vec::new();
        let mut changes = Vec::new();
        for q in it {
            let qspan = self.span(&q);
            let rule = q.as_rule();
            let mut inner = q.kids();
            match rule {
                Rule::meta_number => meta.push(Meta::Number(self.string(next(&mut inner, qspan)?), qspan)),
                Rule::meta_issuer => meta.push(Meta::Issuer(self.string(next(&mut inner, qspan)?), qspan)),
                Rule::meta_issued => meta.push(Meta::Issued(self.date(next(&mut inner, qspan)?)?, qspan)),
                Rule::meta_published => {
                    meta.push(Meta::Published(self.date(next(&mut inner, qspan)?)?, qspan))
                }
                Rule::meta_source => meta.push(Meta::Source(self.string(next(&mut inner, qspan)?), qspan)),
                Rule::meta_in_force => meta.push(Meta::InForce(self.window(next(&mut inner, qspan)?)?)),
                Rule::meta_applies => meta.push(Meta::Applies(self.expr(next(&mut inner, qspan)?)?)),
                Rule::meta_rounding => {
                    let mode = match english_words(&next(&mut inner, qspan)?).as_str() {
                        "yuan" => Rounding::Yuan,
                        "wan" => Rounding::Wan,
                        "none" => Rounding::None,
                        _ => Rounding::Fen,
                    };
                    meta.push(Meta::Rounding(mode, qspan));
                }
                Rule::clause_decl => clauses.push(self.clause(inner, qspan)?),
                Rule::p_amends | Rule::p_extends | Rule::p_repeals => {
                    changes.push(self.change(rule, inner, qspan)?)
                }
                _ => {}
            }
        }
        Ok(Item::Policy(PolicyDecl { key, title, meta, clauses, changes, span }))
    }

    /// `amends E23.5 from DATE ["…"] { parts }`, `extends E23 to DATE ["…"]`,
    /// `repeals E23[.5] from DATE ["…"]`.
    fn change<'i>(
        &self,
        rule: Rule,
        mut it: impl Iterator<Item = Pair<'i, Rule>>,
        span: Span,
    ) -> PResult<Change> {
        let what = match rule {
            Rule::p_amends => ChangeKind::Amends,
            Rule::p_extends => ChangeKind::Extends,
            _ => ChangeKind::Repeals,
        };
        let target = self.clause_ref(next(&mut it, span)?);
        let date = self.date(next(&mut it, span)?)?;
        let mut label = None;
        let mut rest: Vec<Pair<'i, Rule>> = Vec::new();
        for q in it {
            if q.as_rule() == Rule::label {
                label = Some(self.string(q));
            } else {
                rest.push(q);
            }
        }
        let parts = if rest.is_empty() {
            Vec::new()
        } else {
            // the replacement parts, read as the parts of a clause
            self.clause_parts(rest.into_iter())?
        };
        Ok(Change { what, target, date, label, parts, span })
    }

    fn clause<'i>(&self, mut it: impl Iterator<Item = Pair<'i, Rule>>, span: Span) -> PResult<ClauseDecl> {
        let idp = it.next().ok_or_else(|| missing(span))?;
        let id = idp.as_str().to_string();
        let id_span = self.span(&idp);
        let title = self.string(it.next().ok_or_else(|| missing(span))?);
        let parts = self.clause_parts(it)?;
        Ok(ClauseDecl { id, id_span, title, parts, span })
    }

    fn clause_parts<'i>(&self, it: impl Iterator<Item = Pair<'i, Rule>>) -> PResult<Vec<ClausePart>> {
        let mut parts = Vec::new();
        for q in it {
            let qspan = self.span(&q);
            let rule = q.as_rule();
            let text = q.as_str().to_string();
            let mut inner = q.kids();
            parts.push(match rule {
                Rule::c_quote => ClausePart::Quote(self.string(next(&mut inner, qspan)?), qspan),
                Rule::c_responsible => ClausePart::Responsible(inner.map(|i| self.ident(i)).collect()),
                Rule::c_when => ClausePart::When(self.expr(next(&mut inner, qspan)?)?),
                Rule::c_valid => {
                    let w = self.window(next(&mut inner, qspan)?)?;
                    let on = inner.next().map(|e| self.expr(e)).transpose()?;
                    ClausePart::Valid(w, on)
                }
                Rule::c_dated => ClausePart::Dated(self.expr(next(&mut inner, qspan)?)?),
                Rule::c_amount => ClausePart::Amount(self.amount(next(&mut inner, qspan)?)?),
                Rule::c_cap => {
                    let e = self.expr(next(&mut inner, qspan)?)?;
                    let scope = match inner.next().map(|s| english_words(&s)) {
                        Some(s) if s == "per year" => CapScope::PerYear,
                        Some(s) if s == "per item" => CapScope::PerItem,
                        Some(s) if s == "per item total" => CapScope::PerItemTotal,
                        Some(s) if s == "total" => CapScope::Total,
                        _ => CapScope::PerGrant,
                    };
                    ClausePart::Cap(e, scope, qspan)
                }
                Rule::c_floor => ClausePart::Floor(self.expr(next(&mut inner, qspan)?)?, qspan),
                Rule::c_once => {
                    let scope = match inner.next().map(|s| english_words(&s)) {
                        Some(s) if s.ends_with("tier") => OnceScope::PerTier,
                        Some(s) if s.ends_with("category") => OnceScope::PerCategory,
                        Some(s) if s.ends_with("item") => OnceScope::PerItem,
                        Some(s) if s.ends_with("year") => OnceScope::PerYear,
                        _ => OnceScope::Clause,
                    };
                    ClausePart::Once(scope, qspan)
                }
                Rule::c_at_most => {
                    let n = self.small_int(next(&mut inner, qspan)?)?;
                    let from = inner.next().map(|e| self.expr(e)).transpose()?;
                    ClausePart::AtMost(n, from, qspan)
                }
                Rule::c_provides => ClausePart::Provides(self.string(next(&mut inner, qspan)?), qspan),
                Rule::c_excludes => ClausePart::Excludes(inner.map(|r| self.clause_ref(r)).collect()),
                Rule::c_largest => ClausePart::LargestIn(self.string(next(&mut inner, qspan)?), qspan),
                Rule::c_once_in => ClausePart::OnceIn(self.string(next(&mut inner, qspan)?), qspan),
                Rule::c_unquoted => {
                    let n = next(&mut inner, qspan)?;
                    let nspan = self.span(&n);
                    let lit = parse_literal(n.as_str()).map_err(|m| {
                        Box::new(Diagnostic::new(Code::BadLiteral, m).at(nspan, "invalid literal"))
                    })?;
                    ClausePart::Unquoted(lit, self.string(next(&mut inner, qspan)?), qspan)
                }
                Rule::c_kind => {
                    let k = match english_words(&next(&mut inner, qspan)?).as_str() {
                        "priority" => ClauseKind::Priority,
                        "tax" => ClauseKind::Tax,
                        "ceiling" => ClauseKind::Ceiling,
                        "definition" => ClauseKind::Definition,
                        "guidance" => ClauseKind::Guidance,
                        "stacking" => ClauseKind::Stacking,
                        "target" => ClauseKind::Target,
                        _ => ClauseKind::Benefit,
                    };
                    ClausePart::Kind(k, qspan)
                }
                _ => {
                    return Err(Box::new(
                        Diagnostic::new(Code::SyntaxError, format!("unexpected `{text}`")).at(qspan, "here"),
                    ));
                }
            });
        }
        Ok(parts)
    }

    /// A tier row: `达到 1亿 => 30万`.
    fn tier(&self, t: Pair<'_, Rule>) -> PResult<Tier> {
        let tspan = self.span(&t);
        let mut ti = t.kids();
        let op = cmp_op(next(&mut ti, tspan)?.as_rule()).ok_or_else(|| missing(tspan))?;
        let threshold = self.expr(next(&mut ti, tspan)?)?;
        let amount = self.expr(next(&mut ti, tspan)?)?;
        // the pair runs on over trailing white space; end the span at the amount
        let tspan = Span { end: amount.span.end, ..tspan };
        Ok(Tier { op, threshold, amount, span: tspan })
    }

    /// A bracket row: `up to 500万 => 25%` or `above => 12.5%`.
    fn bracket(&self, b: Pair<'_, Rule>) -> PResult<Bracket> {
        let bspan = self.span(&b);
        let mut bi = b.kids();
        let first = next(&mut bi, bspan)?;
        let upper = if first.as_rule() == Rule::above { None } else { Some(self.expr(first)?) };
        let rate = self.expr(next(&mut bi, bspan)?)?;
        let bspan = Span { end: rate.span.end, ..bspan };
        Ok(Bracket { upper, rate, span: bspan })
    }

    /// `table NAME "label" tiers|brackets { rows } [from DATE "label" { rows }]…`.
    fn table<'i>(&self, mut it: impl Iterator<Item = Pair<'i, Rule>>, span: Span) -> PResult<Item> {
        let name = self.ident(it.next().ok_or_else(|| missing(span))?);
        let mut label = None;
        let mut kind = TableKind::Tiers;
        let mut versions = Vec::new();
        for q in it {
            let qspan = self.span(&q);
            match q.as_rule() {
                Rule::label => label = Some(self.string(q)),
                Rule::table_tiers | Rule::table_brackets => {
                    if q.as_rule() == Rule::table_brackets {
                        kind = TableKind::Brackets;
                    }
                    versions.push(self.table_rows(q.kids(), None, None, qspan)?);
                }
                Rule::table_version => {
                    let mut v = q.kids().peekable();
                    let from = self.date(next(&mut v, qspan)?)?;
                    let vlabel = match v.peek() {
                        Some(l) if l.as_rule() == Rule::label => v.next().map(|l| self.string(l)),
                        _ => None,
                    };
                    let version = self.table_rows(v, Some(from), vlabel, qspan)?;
                    let (wrong, want) = match kind {
                        TableKind::Tiers => {
                            (version.brackets.first().map(|b| b.span), "tiers (`达到 1亿 => 30万`)")
                        }
                        TableKind::Brackets => {
                            (version.tiers.first().map(|t| t.span), "brackets (`up to 500万 => 25%`)")
                        }
                    };
                    if let Some(at) = wrong {
                        return Err(Box::new(
                            Diagnostic::new(
                                Code::SyntaxError,
                                format!(
                                    "a version of the table `{}` lists other rows than the table",
                                    name.name
                                ),
                            )
                            .at(at, "not a row of this table's kind")
                            .help(format!("every version of this table lists {want}, as its first rows do")),
                        ));
                    }
                    versions.push(version);
                }
                _ => {}
            }
        }
        Ok(Item::Table(TableDecl { name, label, kind, versions, span }))
    }

    fn table_rows<'i>(
        &self,
        rows: impl Iterator<Item = Pair<'i, Rule>>,
        from: Option<Date>,
        label: Option<String>,
        span: Span,
    ) -> PResult<TableVersion> {
        let mut v = TableVersion { from, label, tiers: Vec::new(), brackets: Vec::new(), span };
        for r in rows {
            match r.as_rule() {
                Rule::tier => v.tiers.push(self.tier(r)?),
                Rule::bracket => v.brackets.push(self.bracket(r)?),
                _ => {}
            }
        }
        Ok(v)
    }

    fn amount(&self, p: Pair<'_, Rule>) -> PResult<Amount> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut it = p.kids().peekable();
        Ok(match rule {
            Rule::a_discretionary => {
                Amount::Discretionary { base: it.next().map(|e| self.expr(e)).transpose()?, span }
            }
            Rule::a_tiers => {
                let first_time = it.peek().is_some_and(|q| q.as_rule() == Rule::first_time);
                if first_time {
                    it.next();
                }
                let subject = self.expr(next(&mut it, span)?)?;
                let pay = match english_words(&next(&mut it, span)?).as_str() {
                    "each" => PayRule::Each,
                    _ => PayRule::Highest,
                };
                let tiers = it.map(|t| self.tier(t)).collect::<PResult<Vec<_>>>()?;
                Amount::Tiers { first_time, subject, pay, tiers, span }
            }
            Rule::a_brackets => {
                let subject = self.expr(next(&mut it, span)?)?;
                let brackets = it.map(|b| self.bracket(b)).collect::<PResult<Vec<_>>>()?;
                Amount::Brackets { subject, brackets, span }
            }
            Rule::a_category => {
                let first = next(&mut it, span)?;
                let (subject, each) = if first.as_rule() == Rule::each_of {
                    let espan = self.span(&first);
                    let mut ei = first.kids();
                    let field = self.ident(next(&mut ei, espan)?);
                    let list = next(&mut ei, espan)?;
                    let sel = self.selection(list)?;
                    (Expr { kind: ExprKind::Name(field.name), span: field.span }, Some(sel))
                } else {
                    (self.expr(first)?, None)
                };
                let mut arms = Vec::new();
                for a in it {
                    let aspan = self.span(&a);
                    let mut ai = a.kids();
                    let name = self.ident(next(&mut ai, aspan)?);
                    arms.push((name, self.expr(next(&mut ai, aspan)?)?));
                }
                Amount::Category { subject, each, arms, span }
            }
            Rule::a_each => {
                let list = self.selection(next(&mut it, span)?)?;
                let key = self.ident(next(&mut it, span)?);
                let a = next(&mut it, span)?;
                let amount = match a.as_rule() {
                    Rule::each_discretionary => None,
                    _ => Some(self.expr(a)?),
                };
                Amount::Each { list, key, amount, span }
            }
            Rule::a_credit => {
                let earned = self.expr(next(&mut it, span)?)?;
                let capacity = self.expr(next(&mut it, span)?)?;
                let years = self.small_int(next(&mut it, span)?)?;
                Amount::Credit { earned, capacity, years, span }
            }
            _ => Amount::Expr(self.expr(next(&mut it, span)?)?),
        })
    }

    fn expr(&self, p: Pair<'_, Rule>) -> PResult<Expr> {
        self.expr_deep(p).map(|(e, _)| e)
    }

    fn expr_deep(&self, p: Pair<'_, Rule>) -> PResult<Deep> {
        PRATT
            .map_primary(|q| self.primary(q))
            .map_prefix(|op, rhs| {
                let (rhs, d) = rhs?;
                let span = self.span(&op).to(rhs.span);
                let kind = if op.as_rule() == Rule::op_not {
                    ExprKind::Not(Box::new(rhs))
                } else {
                    ExprKind::Neg(Box::new(rhs))
                };
                deepen(Expr { kind, span }, d + 1)
            })
            .map_postfix(|lhs, op| {
                let (lhs, d) = lhs?;
                let span = lhs.span.to(self.span(&op));
                let opspan = self.span(&op);
                match op.as_rule() {
                    Rule::index => {
                        let (ix, d2) = self.expr_deep(op.kids().next().ok_or_else(|| missing(opspan))?)?;
                        deepen(
                            Expr { kind: ExprKind::Index(Box::new(lhs), Box::new(ix)), span },
                            d.max(d2) + 1,
                        )
                    }
                    _ => {
                        let f = self.ident(op.kids().next().ok_or_else(|| missing(opspan))?);
                        deepen(Expr { kind: ExprKind::Field(Box::new(lhs), f), span }, d + 1)
                    }
                }
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, d1) = lhs?;
                let (rhs, d2) = rhs?;
                let span = lhs.span.to(rhs.span);
                let bop = match op.as_rule() {
                    Rule::op_or => BinOp::Or,
                    Rule::op_and => BinOp::And,
                    Rule::op_in => BinOp::In,
                    Rule::op_add => BinOp::Add,
                    Rule::op_sub => BinOp::Sub,
                    Rule::op_mul => BinOp::Mul,
                    Rule::op_div => BinOp::Div,
                    r => BinOp::Cmp(cmp_op(r).unwrap_or(CmpOp::Eq)),
                };
                deepen(
                    Expr { kind: ExprKind::Binary(bop, Box::new(lhs), Box::new(rhs)), span },
                    d1.max(d2) + 1,
                )
            })
            .parse(p.kids())
    }

    fn primary(&self, p: Pair<'_, Rule>) -> PResult<Deep> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let kind = match rule {
            Rule::paren => {
                // the parentheses belong to the expression's text: a condition shown in a
                // reason keeps them (`(a or b) and c`, never `a or b) and c`)
                let (mut e, d) = self.expr_deep(p.kids().next().ok_or_else(|| missing(span))?)?;
                e.span = span;
                return Ok((e, d));
            }
            Rule::money | Rule::rate | Rule::number | Rule::date => {
                let lit = parse_literal(p.as_str()).map_err(|m| {
                    Box::new(Diagnostic::new(Code::BadLiteral, m).at(span, "invalid literal").help(
                        "money is written `30万`, `1.5亿元`, `3000元`; rates `20%`; dates `2023-03-02`",
                    ))
                })?;
                ExprKind::Lit(lit)
            }
            Rule::month_lit => month_literal(p.as_str(), span)?,
            Rule::boolean => ExprKind::Bool(english_words(&p) == "true"),
            Rule::if_expr => {
                let mut it = p.kids().filter(|q| q.as_rule() == Rule::expr);
                let (c, d1) = self.expr_deep(next(&mut it, span)?)?;
                let (a, d2) = self.expr_deep(next(&mut it, span)?)?;
                let (b, d3) = self.expr_deep(next(&mut it, span)?)?;
                return deepen(
                    Expr { kind: ExprKind::If(Box::new(c), Box::new(a), Box::new(b)), span },
                    d1.max(d2).max(d3) + 1,
                );
            }
            Rule::period_kw => ExprKind::Period,
            Rule::as_of_kw => ExprKind::AsOf,
            Rule::ident => ExprKind::Name(p.as_str().to_string()),
            // `never` / `从未`: the name the lowering gives the never-happened date
            Rule::never_kw => ExprKind::Name("never".to_string()),
            Rule::set_lit => {
                let mut items = Vec::new();
                let mut depth = 0;
                for q in p.kids() {
                    let (e, d) = self.expr_deep(q)?;
                    depth = depth.max(d);
                    items.push(e);
                }
                return deepen(Expr { kind: ExprKind::Set(items), span }, depth + 1);
            }
            Rule::granted_call => {
                let mut it = p.kids();
                let r = self.clause_ref(next(&mut it, span)?);
                let years = it.next().map(|n| self.small_int(n)).transpose()?;
                ExprKind::Granted(r, years)
            }
            Rule::qualifies_call => {
                let mut it = p.kids();
                ExprKind::Qualifies(self.clause_ref(next(&mut it, span)?))
            }
            Rule::call => {
                let mut it = p.kids();
                let name = self.ident(next(&mut it, span)?);
                let mut args = Vec::new();
                let mut depth = 0;
                for a in it {
                    if a.as_rule() == Rule::selection {
                        let sel = self.selection(a)?;
                        for op in &sel.ops {
                            if let SelOp::Where(w) | SelOp::First { by: Some(w), .. } = op {
                                depth = depth.max(expr_depth(w));
                            }
                        }
                        args.push(Arg::Selection(sel));
                    } else {
                        let (e, d) = self.expr_deep(a)?;
                        depth = depth.max(d);
                        args.push(Arg::Expr(e));
                    }
                }
                return deepen(Expr { kind: ExprKind::Call(name, args), span }, depth + 1);
            }
            _ => return Err(missing(span)),
        };
        Ok((Expr { kind, span }, 1))
    }

    fn test<'i>(&self, mut it: impl Iterator<Item = Pair<'i, Rule>>, span: Span) -> PResult<Item> {
        let name = self.string(it.next().ok_or_else(|| missing(span))?);
        let mut t = TestDecl {
            name,
            span,
            period: None,
            as_of: None,
            facts: None,
            ledger: Vec::new(),
            expects: Vec::new(),
        };
        for q in it {
            let qspan = self.span(&q);
            let rule = q.as_rule();
            let mut inner = q.kids();
            match rule {
                Rule::t_period => {
                    let n = self.int(next(&mut inner, qspan)?)?;
                    let y = i32::try_from(n).ok().filter(|y| (1900..=2200).contains(y)).ok_or_else(|| {
                        Box::new(
                            Diagnostic::new(Code::BadLiteral, format!("`{n}` is not a year"))
                                .at(qspan, "expected a year such as 2024"),
                        )
                    })?;
                    t.period = Some((y, qspan));
                }
                Rule::t_as_of => t.as_of = Some(self.date(next(&mut inner, qspan)?)?),
                Rule::t_facts => t.facts = Some((self.value(next(&mut inner, qspan)?)?, qspan)),
                Rule::t_ledger => {
                    for row in inner {
                        let rspan = self.span(&row);
                        let mut ri = row.kids().peekable();
                        let clause = self.clause_ref(next(&mut ri, rspan)?);
                        let key = if ri.peek().is_some_and(|p| p.as_rule() == Rule::string) {
                            ri.next().map(|k| self.string(k))
                        } else {
                            None
                        };
                        let py = self.int(next(&mut ri, rspan)?)?;
                        let period = i32::try_from(py).map_err(|_| missing(rspan))?;
                        let amount = next(&mut ri, rspan)?.as_str().to_string();
                        let balance = match ri.next() {
                            Some(b) => {
                                let e = self.int(next(&mut ri, rspan)?)?;
                                let e = i32::try_from(e).map_err(|_| missing(rspan))?;
                                Some((b.as_str().to_string(), e))
                            }
                            None => None,
                        };
                        t.ledger.push(LedgerRow { clause, key, period, amount, balance, span: rspan });
                    }
                }
                Rule::t_expect => {
                    let e = next(&mut inner, qspan)?;
                    let espan = self.span(&e);
                    let erule = e.as_rule();
                    let mut ei = e.kids();
                    if erule == Rule::expect_error {
                        let code = next(&mut ei, espan)?;
                        t.expects.push(Expect::Error {
                            code: code.as_str().to_string(),
                            code_span: self.span(&code),
                            span: espan,
                        });
                    } else if erule == Rule::expect_total {
                        t.expects.push(Expect::Total {
                            amount: next(&mut ei, espan)?.as_str().to_string(),
                            span: espan,
                        });
                    } else {
                        let clause = self.clause_ref(next(&mut ei, espan)?);
                        let status = english_words(&next(&mut ei, espan)?);
                        let amount = ei.next().map(|a| a.as_str().to_string());
                        t.expects.push(Expect::Clause { clause, status, amount, span: espan });
                    }
                }
                _ => {}
            }
        }
        Ok(Item::Test(t))
    }

    /// A list with its `where` / `first N by` steps (or a bare list name).
    fn selection(&self, p: Pair<'_, Rule>) -> PResult<Selection> {
        let sspan = self.span(&p);
        if p.as_rule() == Rule::ident {
            return Ok(Selection { list: self.ident(p), ops: Vec::new(), span: sspan });
        }
        let mut si = p.kids();
        let list = self.ident(next(&mut si, sspan)?);
        let mut ops = Vec::new();
        for o in si {
            let ospan = self.span(&o);
            match o.as_rule() {
                Rule::sel_where => ops.push(SelOp::Where(self.expr(next(&mut o.kids(), ospan)?)?)),
                _ => {
                    let mut oi = o.kids();
                    let n = self.small_int(next(&mut oi, ospan)?)?;
                    let by = oi.next().map(|b| self.expr(b)).transpose()?;
                    let descending = oi.next().is_some();
                    ops.push(SelOp::First { n, by, descending, span: ospan });
                }
            }
        }
        Ok(Selection { list, ops, span: sspan })
    }

    fn clause_ref(&self, p: Pair<'_, Rule>) -> ClauseRef {
        let span = self.span(&p);
        let text = p.as_str();
        let (policy, clause) = text.split_once('.').unwrap_or((text, ""));
        ClauseRef { policy: policy.to_string(), clause: clause.to_string(), span }
    }

    /// A facts value written in a test, as the JSON value the facts reader takes. Literals
    /// keep their policy spelling (`8000万`, `20%`), which the facts reader also accepts.
    fn value(&self, p: Pair<'_, Rule>) -> PResult<crate::json::Json> {
        use crate::json::{Json as J, Map, Number};
        let span = self.span(&p);
        Ok(match p.as_rule() {
            Rule::obj => {
                let mut m = Map::new();
                for e in p.kids() {
                    let espan = self.span(&e);
                    let mut ei = e.kids();
                    let k = next(&mut ei, espan)?;
                    let key =
                        if k.as_rule() == Rule::string { self.string(k) } else { k.as_str().to_string() };
                    let v = self.value(next(&mut ei, espan)?)?;
                    m.insert(key, v);
                }
                J::Object(m)
            }
            Rule::arr => J::Array(p.kids().map(|v| self.value(v)).collect::<PResult<_>>()?),
            Rule::string => J::String(self.string(p)),
            // `never` / `从未` in test facts: the facts JSON's "never"
            Rule::never_kw => J::String("never".to_string()),
            Rule::boolean => J::Bool(english_words(&p) == "true"),
            Rule::neg_literal => {
                // `-50万`: a number stays a number, money and rates keep their spelling
                let inner = next(&mut p.clone().kids(), span)?;
                if inner.as_rule() == Rule::number {
                    Number::from_text(p.as_str()).map(J::Number).ok_or_else(|| {
                        Box::new(
                            Diagnostic::new(Code::BadLiteral, format!("`{}` is not a number", p.as_str()))
                                .at(span, "here"),
                        )
                    })?
                } else {
                    J::String(p.as_str().to_string())
                }
            }
            Rule::number => Number::from_text(p.as_str()).map(J::Number).ok_or_else(|| {
                Box::new(
                    Diagnostic::new(Code::BadLiteral, format!("`{}` is not a number", p.as_str()))
                        .at(span, "here"),
                )
            })?,
            Rule::date => {
                self.date(p.clone())?;
                J::String(p.as_str().to_string())
            }
            _ => J::String(p.as_str().to_string()),
        })
    }
}

/// `2024-03`: the month's first day (out of line: `primary` recurses).
#[inline(never)]
fn month_literal(text: &str, span: Span) -> PResult<ExprKind> {
    match crate::value::parse_literal(&format!("{text}-01")) {
        Ok(lit @ crate::value::Literal::Date(_)) => Ok(ExprKind::Lit(lit)),
        _ => Err(Box::new(
            Diagnostic::new(Code::BadLiteral, format!("`{text}` is not a month"))
                .at(span, "invalid month")
                .help("a month is written `2024-03` (year, then 01–12)"),
        )),
    }
}

/// The depth of an already built (and so already bounded) expression.
fn expr_depth(e: &Expr) -> usize {
    1 + match &e.kind {
        ExprKind::Not(x) | ExprKind::Neg(x) | ExprKind::Field(x, _) => expr_depth(x),
        ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) => expr_depth(a).max(expr_depth(b)),
        ExprKind::If(c, a, b) => expr_depth(c).max(expr_depth(a)).max(expr_depth(b)),
        ExprKind::Set(xs) => xs.iter().map(expr_depth).max().unwrap_or(0),
        ExprKind::Call(_, args) => args
            .iter()
            .map(|a| match a {
                Arg::Expr(x) => expr_depth(x),
                Arg::Selection(s) => s
                    .ops
                    .iter()
                    .map(|o| match o {
                        SelOp::Where(w) | SelOp::First { by: Some(w), .. } => expr_depth(w),
                        SelOp::First { by: None, .. } => 0,
                    })
                    .max()
                    .unwrap_or(0),
            })
            .max()
            .unwrap_or(0),
        _ => 0,
    }
}

fn deepen(e: Expr, depth: usize) -> PResult<Deep> {
    if depth > MAX_EXPR_DEPTH {
        Err(Box::new(
            Diagnostic::new(
                Code::TooDeep,
                format!("this expression is nested more than {MAX_EXPR_DEPTH} levels deep"),
            )
            .at(e.span, "too deep")
            .help("split it into named definitions (`define …`)"),
        ))
    } else {
        Ok((e, depth))
    }
}

fn cmp_op(r: Rule) -> Option<CmpOp> {
    Some(match r {
        Rule::op_ge => CmpOp::Ge,
        Rule::op_gt => CmpOp::Gt,
        Rule::op_le => CmpOp::Le,
        Rule::op_lt => CmpOp::Lt,
        Rule::op_eq => CmpOp::Eq,
        Rule::op_ne => CmpOp::Ne,
        _ => return None,
    })
}

fn next<'a>(it: &mut impl Iterator<Item = Pair<'a, Rule>>, span: Span) -> PResult<Pair<'a, Rule>> {
    it.next().ok_or_else(|| missing(span))
}

/// The grammar guarantees the parts the builder asks for; this is the diagnostic for the
/// impossible case, so that a grammar change can never become a panic.
fn missing(span: Span) -> Box<Diagnostic> {
    Box::new(
        Diagnostic::new(Code::SyntaxError, "this construct is incomplete")
            .at(span, "incomplete")
            .help("see docs/language.md for the form of this construct"),
    )
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The literal a test wrote, as a decimal: used for expected amounts.
pub fn test_amount(text: &str) -> Result<rust_decimal::Decimal, String> {
    match parse_literal(text)? {
        Literal::Money(d) | Literal::Number(d) => Ok(d),
        _ => Err(format!("`{text}` is not an amount of money")),
    }
}
