//! `huiqi eval --facts F.json --format html`: the calculation sheet for one enterprise, one
//! self-contained printable page (issue 14): the header (enterprise, period, as-of, rule
//! set), a summary table, then per clause the quote, the status, the explanation steps with
//! their values, the amount; the total.
//!
//! Invariant: the sheet is the `eval --format json` report laid out as a page: every status,
//! amount, step and the total are the report's own strings, never recomputed.

use super::html::{esc, page};
use huiqi::eval::{Lang, Status};
use huiqi::ir::Program;
use huiqi::report::{EvalReport, ResultJson};

/// The words of the sheet in a language: (Chinese, English).
fn w(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

fn status_word(s: Status, lang: Lang) -> &'static str {
    match lang {
        Lang::En => s.as_str(),
        Lang::Zh => match s {
            Status::Granted => "给予",
            Status::Discretionary => "酌定",
            Status::Ineligible => "不符合",
            Status::Undetermined => "待定",
            Status::NotInForce => "不在有效期",
            Status::Exhausted => "已用尽",
        },
    }
}

/// The sheet for an evaluation report; `rule_set` names the rule files evaluated.
pub fn render(prog: &Program, rep: &EvalReport, rule_set: &str, lang: Lang) -> String {
    let l = |zh, en| w(lang, zh, en);
    let name =
        rep.enterprise.clone().unwrap_or_else(|| l("（未署名企业）", "(enterprise not named)").to_string());
    let mut b = String::new();
    b.push_str(&format!(
        "<header>\n<h1>{}</h1>\n<dl class=\"meta\">\n",
        l("惠企政策计算单", "Enterprise-support calculation sheet")
    ));
    b.push_str(&format!(
        "<dt>{}</dt><dd class=\"enterprise\">{}</dd>\n",
        l("企业", "Enterprise"),
        esc(&name)
    ));
    b.push_str(&format!("<dt>{}</dt><dd class=\"period\">{}</dd>\n", l("年度", "Period"), rep.period));
    b.push_str(&format!("<dt>{}</dt><dd class=\"as-of\">{}</dd>\n", l("计算日期", "As of"), esc(&rep.as_of)));
    b.push_str(&format!("<dt>{}</dt><dd class=\"rule-set\">{}</dd>\n", l("规则", "Rule set"), esc(rule_set)));
    let docs: Vec<String> = prog
        .policies
        .iter()
        .map(|p| match &p.number {
            Some(n) => format!("{} {n}", p.key),
            None => p.key.clone(),
        })
        .collect();
    b.push_str(&format!(
        "<dt>{}</dt><dd class=\"documents\">{}</dd>\n",
        l("文件", "Documents"),
        esc(&docs.join("；"))
    ));
    b.push_str("</dl>\n</header>\n<main>\n");
    // the summary: every clause on one line
    b.push_str(&format!(
        "<h2>{}</h2>\n<table class=\"summary\">\n<thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>\n<tbody>\n",
        l("结果一览", "Results"),
        l("条款", "Clause"),
        l("标题", "Title"),
        l("结论", "Status"),
        l("金额（元）", "Amount (yuan)")
    ));
    for r in &rep.results {
        let cref = format!("{}.{}", r.policy, r.clause);
        b.push_str(&format!(
            "<tr class=\"status-{st}\" data-clause=\"{c}\"><td><a href=\"#result-{c}\">{c}</a></td><td>{}</td><td class=\"status status-{st}\">{}</td><td class=\"amount\">{}</td></tr>\n",
            esc(&r.title),
            status_word(r.status, lang),
            esc(r.amount.as_deref().unwrap_or("")),
            c = esc(&cref),
            st = r.status.as_str(),
        ));
    }
    b.push_str("</tbody>\n</table>\n");
    b.push_str(&total_html(rep, lang));
    b.push_str(&format!("<h2>{}</h2>\n", l("逐条计算", "Clause by clause")));
    for r in &rep.results {
        b.push_str(&result_html(prog, rep.period, r, lang));
    }
    if !rep.errors.is_empty() {
        b.push_str(&format!("<h2>{}</h2>\n<ul class=\"errors\">\n", l("计算错误", "Evaluation errors")));
        for e in &rep.errors {
            b.push_str(&format!(
                "<li>{} {}.{}: {}</li>\n",
                esc(e.code),
                esc(&e.policy),
                esc(&e.clause),
                esc(&e.message)
            ));
        }
        b.push_str("</ul>\n");
    }
    b.push_str(&total_html(rep, lang));
    b.push_str(&format!(
        "<p class=\"note\">{}</p>\n</main>\n",
        l(
            "合计为给予的现金奖补（benefit）之和；税收优惠、上限和非现金支持单列，不计入合计。金额为精确的十进制数，单位元。",
            "The total is the cash granted (benefit clauses); tax reliefs, ceilings and non-cash support are listed per clause and not added to it. Amounts are exact decimals in yuan."
        )
    ));
    let lang_attr = w(lang, "zh", "en");
    page(lang_attr, &format!("{} — {name}", l("计算单", "Calculation sheet")), &b)
}

fn total_html(rep: &EvalReport, lang: Lang) -> String {
    let total = rep.total.as_deref().unwrap_or(w(lang, "溢出，见错误", "overflow, see the errors"));
    format!(
        "<p class=\"total\">{} <span class=\"amount\" data-total=\"{t}\">{t}</span> {}</p>\n",
        w(lang, "合计", "Total"),
        w(lang, "元", "yuan"),
        t = esc(total)
    )
}

fn result_html(prog: &Program, period: i32, r: &ResultJson, lang: Lang) -> String {
    let l = |zh, en| w(lang, zh, en);
    let cref = format!("{}.{}", r.policy, r.clause);
    let mut b = format!(
        "<section class=\"result\" id=\"result-{c}\" data-clause=\"{c}\" data-status=\"{}\">\n<h3>{}{} · <span class=\"ref\">{c}</span> {}</h3>\n",
        r.status.as_str(),
        esc(&r.policy),
        esc(&r.number.as_deref().map(|n| format!(" {n}")).unwrap_or_default()),
        esc(&r.title),
        c = esc(&cref),
    );
    let quote = prog
        .find_clause(&r.policy, &r.clause)
        .and_then(|id| prog.clause_for(id, period))
        .and_then(|c| c.quote_text());
    if let Some(q) = quote {
        b.push_str(&format!("<blockquote class=\"quote\">{}</blockquote>\n", esc(&q)));
    }
    b.push_str(&format!(
        "<p>{}：<span class=\"status status-{}\">{}</span>",
        l("结论", "Status"),
        r.status.as_str(),
        status_word(r.status, lang)
    ));
    if let Some(a) = &r.amount {
        b.push_str(&format!(
            " · {}：<span class=\"amount\" data-amount=\"{a}\">{a}</span> {}",
            l("金额", "Amount"),
            l("元", "yuan"),
            a = esc(a)
        ));
    }
    if let Some(c) = &r.cap {
        b.push_str(&format!(" · {}：{} {}", l("上限", "Cap"), esc(c), l("元", "yuan")));
    }
    if let Some(f) = &r.floor {
        b.push_str(&format!(" · {}：{} {}", l("下限", "Floor"), esc(f), l("元", "yuan")));
    }
    if r.kind != "benefit" {
        b.push_str(&format!(" · <span class=\"kind\">{}</span>", esc(r.kind)));
    }
    b.push_str("</p>\n");
    let steps: Vec<_> = r.explanation.iter().filter(|s| s.kind != "quote").collect();
    if !steps.is_empty() {
        b.push_str(&format!("<h4>{}</h4>\n<ol class=\"steps\">\n", l("计算过程", "Working")));
        for s in steps {
            b.push_str(&format!("<li data-kind=\"{}\">{}</li>\n", esc(s.kind), esc(&s.text)));
        }
        b.push_str("</ol>\n");
    }
    // the reasons, unless the working already says them
    let reasons: Vec<_> =
        r.reasons.iter().filter(|x| !r.explanation.iter().any(|s| s.text == x.text)).collect();
    if !reasons.is_empty() {
        b.push_str(&format!("<h4>{}</h4>\n<ul class=\"reasons\">\n", l("原因", "Reasons")));
        for s in reasons {
            b.push_str(&format!("<li data-kind=\"{}\">{}</li>\n", esc(s.kind), esc(&s.text)));
        }
        b.push_str("</ul>\n");
    }
    if !r.missing.is_empty() {
        b.push_str(&format!(
            "<p class=\"missing\">{}：{}</p>\n",
            l("缺少的事实", "Missing facts"),
            esc(&r.missing.join("、"))
        ));
    }
    b.push_str("</section>\n");
    b
}
