//! The keyword table: every keyword of the language with its English and its Chinese
//! spelling, keyed by the grammar rule that recognises it (`k_NAME` in `grammar/huiqi.pest`).
//!
//! A file is written with either set (§1 of docs/language.md); [`convert`] rewrites a file's
//! keywords into the other set by the spans the parser found, so comments, strings, names and
//! layout stay byte for byte, and the AST is the same. A file that mixes the two is warned
//! about (W0113, [`mixed`]).
//!
//! Invariant: this table and the grammar agree (a test reads the grammar's `k_` lines and
//! its `zh_keyword` list and compares them with [`KEYWORDS`]). To add a keyword: one line
//! `k_NAME = @{ ("english" | "中文") ~ kw_tail }` in the grammar, `"中文"` added to
//! `zh_keyword` there, and one row `(Rule::k_NAME, "english", "中文")` here.

use super::{HuiqiParser, Rule};
use crate::diag::{Code, Diagnostic};
use crate::span::{FileId, Span};
use pest::Parser;

/// The keyword language of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }
}

/// (grammar rule, English spelling, Chinese spelling). The English spelling of a keyword of
/// several words is written with one space (`in force`). The grammar may accept further
/// spellings of a keyword (`并且` and `且` for `and`), which convert to the one written here.
pub const KEYWORDS: &[(Rule, &str, &str)] = &[
    // declarations
    (Rule::k_enum, "enum", "枚举"),
    (Rule::k_ordered, "ordered", "有序"),
    (Rule::k_record, "record", "记录"),
    (Rule::k_fact, "fact", "事实"),
    (Rule::k_signed, "signed", "可负"),
    (Rule::k_series, "series", "逐年"),
    (Rule::k_list, "list", "列表"),
    (Rule::k_define, "define", "定义"),
    (Rule::k_parameter, "parameter", "参数"),
    (Rule::k_table, "table", "表"),
    (Rule::k_from, "from", "自"),
    (Rule::k_to, "to", "至"),
    // documents
    (Rule::k_policy, "policy", "文件"),
    (Rule::k_number, "number", "发文字号"),
    (Rule::k_issuer, "issuer", "发文机关"),
    (Rule::k_issued, "issued", "印发日期"),
    (Rule::k_published, "published", "发布日期"),
    (Rule::k_source, "source", "出处"),
    (Rule::k_in_force, "in force", "施行"),
    (Rule::k_applies_when, "applies when", "适用条件"),
    (Rule::k_rounding, "rounding", "取整"),
    (Rule::k_fen, "fen", "到分"),
    (Rule::k_yuan, "yuan", "到元"),
    (Rule::k_wan, "wan", "到万"),
    (Rule::k_none, "none", "不取整"),
    // clauses
    (Rule::k_clause, "clause", "条款"),
    (Rule::k_default, "default", "默认"),
    (Rule::k_monthly, "monthly", "逐月"),
    (Rule::k_or_never, "or never", "或从未"),
    (Rule::k_never, "never", "从未"),
    (Rule::k_amends, "amends", "修改"),
    (Rule::k_extends, "extends", "延长"),
    (Rule::k_repeals, "repeals", "废止"),
    (Rule::k_once_in, "once in", "择一"),
    (Rule::k_granted_fn, "granted", "已享受"),
    (Rule::k_qualifies, "qualifies", "符合"),
    (Rule::k_quote, "quote", "原文"),
    (Rule::k_responsible, "responsible", "责任单位"),
    (Rule::k_when, "when", "条件"),
    (Rule::k_valid, "valid", "有效期"),
    (Rule::k_on, "on", "判定日"),
    (Rule::k_dated, "dated", "基准日"),
    (Rule::k_amount, "amount", "数额"),
    (Rule::k_cap, "cap", "上限"),
    (Rule::k_per_grant, "per grant", "每次"),
    (Rule::k_per_year, "per year", "每年"),
    (Rule::k_per_item, "per item", "每项"),
    (Rule::k_per_tier, "per tier", "每档"),
    (Rule::k_per_category, "per category", "每类"),
    (Rule::k_total, "total", "累计"),
    (Rule::k_floor, "floor", "下限"),
    (Rule::k_once, "once", "一次性"),
    (Rule::k_at_most, "at most", "最多"),
    (Rule::k_years, "years", "年"),
    (Rule::k_provides, "provides", "提供"),
    (Rule::k_kind, "kind", "类型"),
    (Rule::k_benefit, "benefit", "资金"),
    (Rule::k_priority, "priority", "优先"),
    (Rule::k_ceiling, "ceiling", "限价"),
    (Rule::k_definition, "definition", "界定"),
    (Rule::k_guidance, "guidance", "指导"),
    (Rule::k_stacking, "stacking", "叠加"),
    (Rule::k_target, "target", "目标"),
    (Rule::k_tax, "tax", "税收"),
    (Rule::k_excludes, "excludes", "排除"),
    (Rule::k_only_largest_in, "only largest in", "择高"),
    (Rule::k_unquoted, "unquoted", "原文外"),
    // amounts
    (Rule::k_discretionary, "discretionary", "酌定"),
    (Rule::k_based_on, "based on", "依据"),
    (Rule::k_tiers, "tiers", "分档"),
    (Rule::k_first_time, "first time", "首次"),
    (Rule::k_pay, "pay", "取"),
    (Rule::k_highest, "highest", "最高档"),
    (Rule::k_pay_each, "each", "逐档"),
    (Rule::k_brackets, "brackets", "累进"),
    (Rule::k_up_to, "up to", "截至"),
    (Rule::k_above, "above", "超出部分"),
    (Rule::k_by, "by", "按"),
    (Rule::k_each, "each", "每个"),
    (Rule::k_of, "of", "来自"),
    (Rule::k_credit, "credit", "抵免"),
    (Rule::k_against, "against", "抵扣"),
    (Rule::k_carry, "carry", "结转"),
    (Rule::k_key, "key", "键"),
    // expressions
    (Rule::k_and, "and", "且"),
    (Rule::k_or, "or", "或"),
    (Rule::k_not, "not", "非"),
    (Rule::k_in, "in", "属于"),
    (Rule::k_true, "true", "真"),
    (Rule::k_false, "false", "假"),
    (Rule::k_period, "period", "考核年度"),
    (Rule::k_as_of, "as_of", "评估日"),
    (Rule::k_where, "where", "其中"),
    (Rule::k_first, "first", "前"),
    (Rule::k_descending, "descending", "降序"),
    (Rule::k_if, "if", "如果"),
    (Rule::k_then, "then", "则"),
    (Rule::k_else, "else", "否则"),
    // tests
    (Rule::k_test, "test", "测试"),
    (Rule::k_test_as_of, "as of", "评估日"),
    (Rule::k_facts, "facts", "数据"),
    (Rule::k_ledger, "ledger", "台账"),
    (Rule::k_balance, "balance", "余额"),
    (Rule::k_expires, "expires", "到期"),
    (Rule::k_expect, "expect", "预期"),
    (Rule::k_expect_total, "total", "合计"),
    (Rule::k_error, "error", "错误"),
    (Rule::k_granted, "granted", "给予"),
    (Rule::k_st_discretionary, "discretionary", "酌定"),
    (Rule::k_ineligible, "ineligible", "不符合"),
    (Rule::k_undetermined, "undetermined", "待定"),
    (Rule::k_not_in_force, "not_in_force", "未施行"),
    (Rule::k_exhausted, "exhausted", "已用尽"),
];

/// The table row of a keyword rule.
pub fn entry(rule: Rule) -> Option<&'static (Rule, &'static str, &'static str)> {
    KEYWORDS.iter().find(|(r, _, _)| *r == rule)
}

/// Whether a grammar rule is a keyword (its pairs carry no structure the AST needs).
pub fn is_keyword(rule: Rule) -> bool {
    entry(rule).is_some()
}

/// The English spelling of a keyword rule (`""` for a rule that is no keyword).
pub fn english(rule: Rule) -> &'static str {
    entry(rule).map_or("", |e| e.1)
}

/// The spelling of a keyword rule in a language.
pub fn spelling(rule: Rule, lang: Lang) -> &'static str {
    entry(rule).map_or("", |e| if lang == Lang::En { e.1 } else { e.2 })
}

/// The language a keyword was written in: ASCII is English, anything else Chinese.
fn written_in(text: &str) -> Lang {
    if text.is_ascii() { Lang::En } else { Lang::Zh }
}

/// One keyword as written in a file.
#[derive(Clone, Copy, Debug)]
pub struct Occurrence {
    pub rule: Rule,
    pub start: usize,
    pub end: usize,
    pub lang: Lang,
}

/// Every keyword of a parsed file, in order.
pub(crate) fn occurrences(pairs: pest::iterators::Pairs<'_, Rule>) -> Vec<Occurrence> {
    pairs
        .flatten()
        .filter(|p| is_keyword(p.as_rule()))
        .map(|p| {
            let s = p.as_span();
            Occurrence { rule: p.as_rule(), start: s.start(), end: s.end(), lang: written_in(s.as_str()) }
        })
        .collect()
}

/// W0113 when a file writes keywords in both languages: at the first keyword written in the
/// language other than the file's first keyword's.
pub(crate) fn mixed(file: FileId, text: &str, occ: &[Occurrence]) -> Option<Diagnostic> {
    let first = occ.first()?;
    let others: Vec<&Occurrence> = occ.iter().filter(|o| o.lang != first.lang).collect();
    let other = others.first()?;
    let word = |o: &Occurrence| text.get(o.start..o.end).unwrap_or("").to_string();
    let (lang, lang_name) = match first.lang {
        Lang::En => (Lang::En, "English"),
        Lang::Zh => (Lang::Zh, "Chinese"),
    };
    Some(
        Diagnostic::new(
            Code::MixedKeywords,
            format!(
                "this file mixes English and Chinese keywords: its first keyword `{}` is {lang_name}, and {} keyword(s) are not, the first `{}`",
                word(first),
                others.len(),
                word(other)
            ),
        )
        .at(Span::new(file, other.start, other.end), format!("`{}` in {lang_name} is `{}`", word(other), spelling(other.rule, lang)))
        .help(format!(
            "write every keyword of a file in one language: `huiqi fmt --keywords {} FILE` converts them all (or `--keywords {}`)",
            lang.name(),
            if lang == Lang::En { "zh" } else { "en" }
        )),
    )
}

/// The file's text with every keyword written in `lang`; everything else (comments,
/// strings, names, white space) is kept byte for byte. Fails with the syntax error when the
/// file does not parse.
pub fn convert(text: &str, lang: Lang) -> Result<String, Box<Diagnostic>> {
    let pairs =
        HuiqiParser::parse(Rule::file, text).map_err(|e| Box::new(super::pest_error(FileId(0), text, e)))?;
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut at = 0;
    for o in occurrences(pairs) {
        out.push_str(text.get(at..o.start).unwrap_or(""));
        let written = text.get(o.start..o.end).unwrap_or("");
        if o.lang == lang {
            out.push_str(written);
        } else {
            out.push_str(spelling(o.rule, lang));
        }
        at = o.end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grammar's `k_` lines, as (rule name, spellings).
    fn grammar_keywords() -> Vec<(String, Vec<String>)> {
        let g = include_str!("../../grammar/huiqi.pest");
        g.lines()
            .filter(|l| l.starts_with("k_"))
            .map(|l| {
                let name = l.split_whitespace().next().unwrap_or("").to_string();
                let words: Vec<String> = l.split('"').skip(1).step_by(2).map(str::to_string).collect();
                (name, words)
            })
            .collect()
    }

    #[test]
    fn the_table_and_the_grammar_agree() {
        let g = grammar_keywords();
        assert_eq!(g.len(), KEYWORDS.len(), "one grammar line per table row");
        let zh_reserved = include_str!("../../grammar/huiqi.pest")
            .split("zh_keyword = _{")
            .nth(1)
            .unwrap_or("")
            .to_string();
        for (rule, en, zh) in KEYWORDS {
            let name = format!("{rule:?}");
            let (_, words) =
                g.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("{name} in the grammar"));
            let en_words: Vec<&str> = en.split(' ').collect();
            assert!(words.iter().any(|w| w == zh), "{name}: the grammar accepts `{zh}`");
            for w in &en_words {
                assert!(words.iter().any(|x| x == w), "{name}: the grammar has `{w}`");
            }
            for text in [en.to_string(), zh.to_string(), en.replace(' ', "  ")] {
                let parsed = HuiqiParser::parse(*rule, &text).map(|p| p.as_str().len());
                assert_eq!(parsed.ok(), Some(text.len()), "{name} reads `{text}`");
            }
            assert!(zh_reserved.contains(&format!("\"{zh}\"")), "`{zh}` is in `zh_keyword` (reserved)");
            assert!(
                HuiqiParser::parse(Rule::ident, zh).map(|p| p.as_str().len()).ok() != Some(zh.len()),
                "`{zh}` is not a name"
            );
            assert!(!zh.is_ascii() && !zh.contains(' '), "`{zh}`: one Chinese word");
        }
    }

    #[test]
    fn chinese_spellings_are_unique_where_they_can_meet() {
        // the same Chinese word for two rules only where the English is the same word too
        // (`discretionary` of an amount and of a status) or both mean the evaluation date
        for (i, (r1, e1, z1)) in KEYWORDS.iter().enumerate() {
            for (r2, e2, z2) in KEYWORDS.iter().skip(i + 1) {
                if z1 == z2 {
                    assert!(
                        e1 == e2 || (e1.starts_with("as") && e2.starts_with("as")),
                        "{r1:?} and {r2:?} share `{z1}`"
                    );
                }
            }
        }
    }

    #[test]
    fn convert_round_trips_and_keeps_comments() {
        let en = "policy P \"p\" { // 注释 clause\n  in  force 2024-01-01 to 2024-12-31\n  clause 1 \"c\" { when x and not y amount 5万 cap 1万 per year /* once */ }\n}\n";
        let zh = convert(en, Lang::Zh).expect("converts");
        assert_eq!(
            zh,
            "文件 P \"p\" { // 注释 clause\n  施行 2024-01-01 至 2024-12-31\n  条款 1 \"c\" { 条件 x 且 非 y 数额 5万 上限 1万 每年 /* once */ }\n}\n"
        );
        let back = convert(&zh, Lang::En).expect("converts back");
        assert_eq!(back, en.replace("in  force", "in force"));
        assert!(convert("policy P {", Lang::Zh).is_err());
    }
}
