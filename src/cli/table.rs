//! Readable tables for `eval` and `simulate` (Chinese or English), aligned by display width.

use huiqi::eval::simulate::YearOutcome;
use huiqi::eval::{ClauseResult, Lang, Outcome, Status, Step};
use huiqi::ir::Program;
use huiqi::value::{WAN, fmt_money};
use rust_decimal::Decimal;
use unicode_width::UnicodeWidthStr;

fn status_word(s: Status, lang: Lang) -> &'static str {
    match (lang, s) {
        (Lang::Zh, Status::Granted) => "给予",
        (Lang::Zh, Status::Discretionary) => "酌定",
        (Lang::Zh, Status::Ineligible) => "不符合",
        (Lang::Zh, Status::Undetermined) => "待定",
        (Lang::Zh, Status::NotInForce) => "不在有效期",
        (Lang::Zh, Status::Exhausted) => "已用尽",
        (Lang::En, s) => s.as_str(),
    }
}

/// The status as a table shows it: a granted tax relief or ceiling is named as such, since
/// its amount is not cash and is not in the total.
fn result_word(prog: &Program, r: &ClauseResult, lang: Lang) -> &'static str {
    use huiqi::syntax::ast::ClauseKind;
    let kind = prog.clause(r.clause).map(|c| c.kind);
    match (r.status, kind, lang) {
        (Status::Granted, Some(ClauseKind::Tax), Lang::Zh) => "税收优惠",
        (Status::Granted, Some(ClauseKind::Tax), Lang::En) => "tax relief",
        (Status::Granted, Some(ClauseKind::Ceiling), Lang::Zh) => "上限",
        (Status::Granted, Some(ClauseKind::Ceiling), Lang::En) => "ceiling",
        (s, _, l) => status_word(s, l),
    }
}

fn wan(d: Decimal) -> String {
    let w = (d / WAN).round_dp(4).normalize();
    format!("{w}")
}

/// The one-line why of a result.
pub fn why(prog: &Program, r: &ClauseResult, lang: Lang) -> String {
    let pick: Vec<&Step> = match r.status {
        Status::Granted if r.amount.is_none() => {
            r.steps.iter().filter(|s| matches!(s, Step::Provides { .. })).collect()
        }
        Status::Granted => {
            let main: Vec<&Step> = r
                .steps
                .iter()
                .filter(|s| {
                    matches!(
                        s,
                        Step::Tier { .. }
                            | Step::Amount { .. }
                            | Step::Bracket { .. }
                            | Step::Category { .. }
                            | Step::Cap { .. }
                            | Step::Floor { .. }
                            | Step::Years { .. }
                            | Step::CreditUsed { .. }
                    )
                })
                .collect();
            main.into_iter().rev().take(3).collect::<Vec<_>>().into_iter().rev().collect()
        }
        Status::Discretionary => r.steps.iter().filter(|s| matches!(s, Step::Discretionary { .. })).collect(),
        Status::Undetermined => r.steps.iter().filter(|s| matches!(s, Step::Missing { .. })).collect(),
        _ => r.reasons.iter().take(1).collect(),
    };
    let sep = if lang == Lang::Zh { "；" } else { "; " };
    pick.iter().map(|s| s.render(prog, lang)).collect::<Vec<_>>().join(sep)
}

pub(super) fn pad(s: &str, w: usize) -> String {
    let n = UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(w.saturating_sub(n)))
}

pub(super) fn lpad(s: &str, w: usize) -> String {
    let n = UnicodeWidthStr::width(s);
    format!("{}{s}", " ".repeat(w.saturating_sub(n)))
}

/// The width tables are laid out for: a 120-column terminal. The last column (the reason)
/// wraps under itself rather than running past it.
const TABLE_WIDTH: usize = 120;

/// Splits a text into lines of at most `w` display columns: between words where there are
/// spaces (English), between characters in Chinese; a word longer than a line is cut.
fn wrap(text: &str, w: usize) -> Vec<String> {
    // tokens: a run of non-space characters that are not wide (a word), or one wide character
    let mut tokens: Vec<String> = Vec::new();
    for ch in text.chars() {
        let wide = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0) > 1;
        match tokens.last_mut() {
            Some(t)
                if !wide
                    && ch != ' '
                    && t.chars().last().is_some_and(|c| {
                        c != ' ' && unicode_width::UnicodeWidthChar::width(c).unwrap_or(0) <= 1
                    }) =>
            {
                t.push(ch)
            }
            _ => tokens.push(ch.to_string()),
        }
    }
    let mut lines = vec![String::new()];
    let mut used = 0;
    for t in tokens {
        let tw = UnicodeWidthStr::width(t.as_str());
        if used + tw > w && used > 0 {
            lines.push(String::new());
            used = 0;
            if t == " " {
                continue;
            }
        }
        for ch in t.chars() {
            let cw = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
            if used + cw > w && used > 0 {
                lines.push(String::new());
                used = 0;
            }
            if let Some(l) = lines.last_mut() {
                l.push(ch);
            }
            used += cw;
        }
    }
    lines
}

fn render(rows: &[Vec<String>], right: &[bool]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| UnicodeWidthStr::width(c.as_str()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    // the columns before the last, with their gaps; the last gets what is left (30 at least)
    let lead: usize = widths.iter().take(cols.saturating_sub(1)).map(|w| w + 2).sum();
    let last_w = TABLE_WIDTH.saturating_sub(lead).max(30);
    let mut out = String::new();
    for r in rows {
        if let Some(last) = r.last()
            && r.len() == cols
            && UnicodeWidthStr::width(last.as_str()) > last_w
        {
            let mut parts = wrap(last, last_w).into_iter();
            let mut first = r.clone();
            if let Some(l) = first.last_mut() {
                *l = parts.next().unwrap_or_default();
            }
            out.push_str(&render_row(&first, &widths, right));
            for p in parts {
                out.push_str(&" ".repeat(lead));
                out.push_str(p.trim_end());
                out.push('\n');
            }
            continue;
        }
        out.push_str(&render_row(r, &widths, right));
    }
    out
}

fn render_row(r: &[String], widths: &[usize], right: &[bool]) -> String {
    let cells: Vec<String> = r
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let w = widths.get(i).copied().unwrap_or(0);
            let last = i + 1 == r.len();
            if right.get(i).copied().unwrap_or(false) {
                lpad(c, w)
            } else if last {
                c.clone()
            } else {
                pad(c, w)
            }
        })
        .collect();
    let mut out = cells.join("  ").trim_end().to_string();
    out.push('\n');
    out
}

pub fn eval_table(prog: &Program, o: &Outcome, name: Option<&str>, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let mut out = String::new();
    let who = name.map(|n| format!("{n} · ")).unwrap_or_default();
    out.push_str(&if zh {
        format!("{who}考核年度 {} · 评估日期 {}\n\n", o.period, o.as_of)
    } else {
        format!("{who}period {} · as of {}\n\n", o.period, o.as_of)
    });
    let head = if zh {
        ["条款", "标题", "结果", "金额(万元)", "金额(元)", "理由"]
    } else {
        ["clause", "title", "status", "amount (万)", "amount (yuan)", "why"]
    };
    let mut rows = vec![head.iter().map(|s| (*s).to_string()).collect::<Vec<_>>()];
    for r in &o.results {
        let c = prog.clause(r.clause);
        rows.push(vec![
            prog.clause_ref(r.clause),
            c.map_or_else(String::new, |c| c.title.clone()),
            result_word(prog, r, lang).to_string(),
            r.amount.map_or_else(|| "—".into(), wan),
            r.amount.map_or_else(|| "—".into(), huiqi::value::fmt_yuan),
            why(prog, r, lang),
        ]);
    }
    out.push_str(&render(&rows, &[false, false, false, true, true, false]));
    out.push_str(&match (o.total(), zh) {
        (Ok(total), true) => format!(
            "\n合计给予资金 {}（{} 元；税收优惠和上限不计入）\n",
            fmt_money(total),
            huiqi::value::fmt_yuan(total)
        ),
        (Ok(total), false) => format!(
            "\ntotal cash granted {} ({} yuan; tax reliefs and ceilings not included)\n",
            fmt_money(total),
            huiqi::value::fmt_yuan(total)
        ),
        (Err(_), true) => "\n合计给予资金：无法计算（合计溢出，见下方错误 E0504）\n".to_string(),
        (Err(_), false) => {
            "\ntotal cash granted: cannot be computed (the sum overflows, see error E0504 below)\n"
                .to_string()
        }
    });
    for e in &o.errors {
        out.push_str(&format!("error[{}] {}: {}\n", e.code.id(), prog.clause_ref(e.clause), e.message));
    }
    out
}

pub fn simulate_table(prog: &Program, years: &[YearOutcome], name: Option<&str>, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let mut out = String::new();
    if let Some(n) = name {
        out.push_str(&format!("{n}\n\n"));
    }
    let head = if zh {
        ["年度", "条款", "标题", "结果", "本年(万元)", "累计(万元)", "累计上限", "理由"]
    } else {
        ["year", "clause", "title", "status", "this year (万)", "running (万)", "lifetime cap", "why"]
    };
    let mut rows = vec![head.iter().map(|s| (*s).to_string()).collect::<Vec<_>>()];
    // `None` once a running total overflows: shown as the error code, never as a wrong sum
    let mut running: Vec<Option<Decimal>> = vec![Some(Decimal::ZERO); prog.clauses.len()];
    let mut grand = Some(Decimal::ZERO);
    for y in years {
        let mut discretionary = 0usize;
        for r in &y.outcome.results {
            // only cash benefits run up a total; a tax relief or a ceiling is shown, not summed
            let amount = if r.status == Status::Granted && r.benefit {
                r.amount.unwrap_or(Decimal::ZERO)
            } else {
                Decimal::ZERO
            };
            if let Some(x) = running.get_mut(r.clause as usize) {
                *x = x.and_then(|x| x.checked_add(amount));
            }
            let money = r.status == Status::Granted && r.amount.is_some();
            if r.status == Status::Discretionary {
                discretionary += 1;
            }
            if !(money || r.status == Status::Exhausted) {
                continue;
            }
            let cum = running.get(r.clause as usize).copied().flatten();
            let total_cap = prog.clause(r.clause).and_then(|c| {
                c.caps
                    .iter()
                    .find(|k| k.scope == huiqi::syntax::ast::CapScope::Total)
                    .map(|k| huiqi::ir::show::expr(prog, &k.expr))
            });
            rows.push(vec![
                y.outcome.period.to_string(),
                prog.clause_ref(r.clause),
                prog.clause(r.clause).map_or_else(String::new, |c| c.title.clone()),
                result_word(prog, r, lang).to_string(),
                r.amount.filter(|_| money).map_or_else(|| "—".into(), wan),
                cum.map_or_else(|| "E0504".into(), wan),
                total_cap.unwrap_or_else(|| "—".into()),
                why(prog, r, lang),
            ]);
        }
        let year_total = y.outcome.total().ok();
        grand = grand.zip(year_total).and_then(|(a, b)| a.checked_add(b));
        let note = match (zh, discretionary) {
            (_, 0) => String::new(),
            (true, n) => format!("另有 {n} 项酌定支持（金额由主管部门确定）"),
            (false, n) => format!("plus {n} discretionary items (amounts decided case by case)"),
        };
        rows.push(vec![
            y.outcome.period.to_string(),
            String::new(),
            if zh { "本年合计".into() } else { "year total".into() },
            String::new(),
            year_total.map_or_else(|| "E0504".into(), wan),
            grand.map_or_else(|| "E0504".into(), wan),
            String::new(),
            note,
        ]);
    }
    out.push_str(&render(&rows, &[false, false, false, false, true, true, false, false]));
    out.push_str(&if zh {
        format!(
            "\n{} 年累计给予 {}\n",
            years.len(),
            grand.map_or_else(|| "E0504 (overflow)".into(), fmt_money)
        )
    } else {
        format!(
            "\ngranted over {} years: {}\n",
            years.len(),
            grand.map_or_else(|| "E0504 (overflow)".into(), fmt_money)
        )
    });
    out
}

/// `eval --advise`: what it would take, clause by clause.
pub fn advice_section(
    prog: &Program,
    o: &Outcome,
    advice: &[huiqi::eval::advise::ClauseAdvice],
    lang: Lang,
) -> String {
    let zh = lang == Lang::Zh;
    let mut out = String::from(if zh {
        "\n还差多少（每项只改一个事实）\n"
    } else {
        "\nwhat it would take (one fact changed at a time)\n"
    });
    let mut any = false;
    for (r, a) in o.results.iter().zip(advice) {
        let cref = prog.clause_ref(r.clause);
        for x in &a.advice {
            any = true;
            out.push_str(&format!("  {cref}  {}\n", huiqi::report::advice_text(x, lang)));
        }
        for f in &a.fixed {
            if a.advice.is_empty() && r.status != Status::Granted {
                any = true;
                out.push_str(&if zh {
                    format!("  {cref}  `{}` 取决于 {}，企业无法改变\n", f.condition, f.fact)
                } else {
                    format!(
                        "  {cref}  `{}` depends on {}, which the enterprise cannot change\n",
                        f.condition, f.fact
                    )
                });
            }
        }
    }
    if !any {
        out.push_str(if zh {
            "  （没有只改一个事实就能获得或增加的支持）\n"
        } else {
            "  (no clause would pay, or pay more, with one fact changed)\n"
        });
    }
    out
}
