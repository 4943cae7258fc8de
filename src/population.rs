//! Deterministic synthetic enterprises over the shared vocabulary (`huiqi gen-population`),
//! for benchmarks, tests and demos. The same seed always gives the same population.
//!
//! Invariant: the output uses only facts the seed policies declare, with realistic spreads
//! (revenue log-uniform 1e6..2e9 with a few years of history, industries, SRDI levels,
//! recognitions, loans), so that the rule set grants a realistic mix.

use crate::json::Json as Value;

/// SplitMix64: small, fast, and the same everywhere.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform draw in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + self.unit() * (hi.ln() - lo.ln())).exp()
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let n = items.len().max(1);
        let i = ((self.unit() * n as f64) as usize).min(n - 1);
        items.get(i).copied().unwrap_or_default()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

const INDUSTRIES: &[&str] = &[
    "电子信息制造业",
    "电子信息制造业",
    "装备制造业",
    "汽车制造业",
    "医药制造业",
    "化工制造业",
    "食品制造业",
    "其他制造业",
    "软件和信息技术服务业",
    "科技服务业",
    "其他行业",
];
const RECOGNITIONS: &[&str] = &[
    "省级企业技术中心",
    "国家企业技术中心",
    "制造业创新中心",
    "工程研究中心",
    "国家级专精特新小巨人",
    "制造业单项冠军",
    "省级专精特新中小企业",
    "省级科技企业孵化器",
    "省级首席技师工作室",
    "国家科技型中小企业评价入库",
    "高新技术企业",
    "国家技术创新示范企业",
];
const LOAN_USES: &[&str] = &["转型升级项目", "技术改造项目", "流动资金", "其他用途"];

/// One enterprise as a facts object (parsed from [`enterprise_text`], so both forms are one).
pub fn enterprise(r: &mut SplitMix64, index: u64, period: i32) -> Value {
    Value::parse(&enterprise_text(r, index, period)).unwrap_or(Value::Null)
}

/// `count` enterprises from `seed`, one JSON object a line.
pub fn population(count: u64, seed: u64, period: i32) -> impl Iterator<Item = Value> {
    let mut r = SplitMix64::new(seed);
    (0..count).map(move |i| enterprise(&mut r, i, period))
}

/// The same population as JSON text, written straight from the draws (no `Value` built): what
/// `gen-population` prints, in the compact form `serde_json` writes.
pub fn population_lines(count: u64, seed: u64, period: i32) -> impl Iterator<Item = String> {
    let mut r = SplitMix64::new(seed);
    (0..count).map(move |i| enterprise_text(&mut r, i, period))
}

/// A compact JSON object written field by field.
struct Obj {
    s: String,
    empty: bool,
}

impl Obj {
    fn new() -> Obj {
        Obj::with_capacity(64)
    }
    fn with_capacity(n: usize) -> Obj {
        let mut s = String::with_capacity(n);
        s.push('{');
        Obj { s, empty: true }
    }
    fn key(&mut self, k: &str) -> &mut String {
        if !self.empty {
            self.s.push(',');
        }
        self.empty = false;
        push_str(&mut self.s, k);
        self.s.push(':');
        &mut self.s
    }
    fn text(&mut self, k: &str, v: &str) {
        let s = self.key(k);
        push_str(s, v);
    }
    fn raw(&mut self, k: &str, v: &str) {
        self.key(k).push_str(v);
    }
    fn bool(&mut self, k: &str, v: bool) {
        self.raw(k, if v { "true" } else { "false" });
    }
    fn list(&mut self, k: &str, items: &[String]) {
        let s = self.key(k);
        s.push('[');
        s.push_str(&items.join(","));
        s.push(']');
    }
    fn done(mut self) -> String {
        self.s.push('}');
        self.s
    }
}

/// A JSON string literal, escaped as serde_json escapes it.
fn push_str(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn money_text(yuan: f64) -> String {
    let fen = (yuan.max(0.0) * 100.0 + 0.5).floor() as i64;
    format!("\"{}.{:02}\"", fen / 100, fen % 100)
}

fn date_text(year: i32, r: &mut SplitMix64) -> String {
    let month = 1 + (r.unit() * 12.0) as u32 % 12;
    let day = 1 + (r.unit() * 28.0) as u32 % 28;
    format!("\"{year:04}-{month:02}-{day:02}\"")
}

fn yearly_text(period: i32, years: i32, mut f: impl FnMut(i32) -> f64) -> String {
    let mut o = Obj::new();
    for y in (period - years + 1)..=period {
        o.raw(&y.to_string(), &money_text(f(y)));
    }
    o.done()
}

/// One enterprise as JSON text: the draws of [`enterprise`] in the same order.
pub fn enterprise_text(r: &mut SplitMix64, index: u64, period: i32) -> String {
    let revenue_now = r.log_uniform(1e6, 2e9);
    let growth: Vec<f64> = (0..4).map(|_| 0.75 + r.unit() * 0.6).collect();
    let revenue = |y: i32| {
        let back = (period - y).max(0) as usize;
        growth.iter().take(back).fold(revenue_now, |v, g| v / g)
    };
    let rd_share = r.unit() * 0.08;
    let srdi = {
        let u = r.unit();
        if u < 0.6 {
            "无"
        } else if u < 0.8 {
            "创新型中小企业"
        } else if u < 0.95 {
            "省级专精特新"
        } else {
            "国家级小巨人"
        }
    };
    let size = if revenue_now > 4e8 {
        "大型"
    } else if revenue_now > 2e7 {
        "中型"
    } else if revenue_now > 3e6 {
        "小型"
    } else {
        "微型"
    };
    let mut loans = Vec::new();
    for _ in 0..(r.unit() * 3.2) as usize {
        let amount = r.log_uniform(1e5, 5e7);
        let start = period - (r.unit() * 3.0) as i32;
        let mut o = Obj::new();
        o.raw("金额", &money_text(amount));
        o.raw("放款日期", &date_text(start, r));
        o.text("用途", r.pick(LOAN_USES));
        o.bool("知识产权质押", r.chance(0.15));
        o.raw("利息", &yearly_text(period, 2, |_| amount * 0.04));
        loans.push(o.done());
    }
    let mut recognitions = Vec::new();
    for _ in 0..(r.unit() * 2.5) as usize {
        let year = period - (r.unit() * 4.0) as i32;
        let mut o = Obj::new();
        o.text("类别", r.pick(RECOGNITIONS));
        o.raw("日期", &date_text(year, r));
        recognitions.push(o.done());
    }
    let contracts: Vec<String> = if r.chance(0.1) {
        let mut o = Obj::new();
        o.text("对方", r.pick(&["高校", "科研院所", "企业"]));
        o.raw("合同额", &money_text(r.log_uniform(1e5, 1e7)));
        o.raw("签订日期", &date_text(period, r));
        o.bool("已实施转化", r.chance(0.7));
        vec![o.done()]
    } else {
        Vec::new()
    };
    let (products, units) = if r.chance(0.05) {
        let price = r.log_uniform(1e6, 5e7);
        let units: Vec<String> = (0..(r.unit() * 5.0) as usize)
            .map(|_| {
                let mut o = Obj::new();
                o.raw("投保日期", &date_text(period, r));
                o.raw("保费", &yearly_text(period, 1, |_| price * 0.02));
                o.raw("保险金额", &money_text(price));
                o.done()
            })
            .collect();
        let mut o = Obj::new();
        o.text("目录", r.pick(&["首台套", "首批次", "首版次", "重点新材料"]));
        o.raw("销售价格", &money_text(price));
        o.raw("销售日期", &date_text(period, r));
        (vec![o.done()], units)
    } else {
        (Vec::new(), Vec::new())
    };
    let listed = r.chance(0.02);
    let taxable = revenue_now * r.unit() * 0.15;
    let zero = |r: &mut SplitMix64, p: f64, lo: f64, hi: f64| {
        yearly_text(period, 1, |_| if r.chance(p) { r.log_uniform(lo, hi) } else { 0.0 })
    };
    let mut m = Obj::with_capacity(2048);
    m.text("$id", &format!("E{index:07}"));
    m.raw("$period", &period.to_string());
    m.text("行业", r.pick(INDUSTRIES));
    m.text("企业规模", size);
    m.bool("总部在吉林", r.chance(0.9));
    m.bool("腾飞类企业", r.chance(0.05));
    m.text("专精特新等级", srdi);
    m.raw("营业收入", &yearly_text(period, 4, revenue));
    m.raw("研发投入", &yearly_text(period, 2, |y| revenue(y) * rd_share));
    m.raw("研发无形资产摊销额", &yearly_text(period, 1, |_| revenue_now * rd_share * 0.05));
    m.raw("技术改造设备投资", &zero(r, 0.3, 1e5, 5e7));
    m.raw("新引进项目投资额", &zero(r, 0.05, 1e6, 2e9));
    m.list("贷款", &loans);
    m.list("认定", &recognitions);
    m.list("技术合同", &contracts);
    m.list("首台套产品", &products);
    m.list("投保设备", &units);
    if listed {
        m.text("上市地点", r.pick(&["上交所", "深交所", "北交所", "境外"]));
        m.raw("上市日期", &date_text(period, r));
        m.raw("上市直接融资成本", &yearly_text(period, 1, |_| revenue_now * 0.02));
    } else {
        m.text("上市地点", "未上市");
        m.raw("上市直接融资成本", &yearly_text(period, 1, |_| 0.0));
    }
    m.bool("借壳迁入", false);
    m.raw("应纳税所得额", &yearly_text(period, 1, |_| taxable));
    m.raw("应纳所得税额", &yearly_text(period, 1, |_| taxable * 0.25));
    m.raw("专用设备投资", &zero(r, 0.1, 1e5, 2e7));
    m.raw("技术转让所得", &zero(r, 0.05, 1e5, 2e7));
    m.raw("展位费", &zero(r, 0.1, 5e3, 2e5));
    m.raw("专利评估费", &zero(r, 0.05, 5e3, 1e5));
    m.raw("专利保险费", &zero(r, 0.05, 5e3, 2e5));
    m.raw("兼并费用", &zero(r, 0.01, 1e6, 1e8));
    m.raw("债券直接融资成本", &zero(r, 0.02, 1e5, 5e6));
    m.raw("孵化园运营费用", &zero(r, 0.01, 1e5, 5e6));
    m.raw("减免孵化租金", &zero(r, 0.01, 1e4, 5e5));
    let guarantee = if r.chance(0.2) { money_text(r.log_uniform(1e5, 2e7)) } else { money_text(0.0) };
    m.raw("单户担保额", &guarantee);
    for (k, p) in [
        ("自主知识产权转化为标准", 0.02),
        ("技术中心项目入选", 0.05),
        ("检测平台建设项目", 0.02),
        ("自有土地技术改造", 0.05),
        ("技术改造项目核准备案", 0.1),
        ("省科技厅立项支持", 0.05),
        ("省科技厅推荐", 0.05),
        ("属于重点产业链", 0.3),
        ("承担国家重点研发计划", 0.01),
    ] {
        m.bool(k, r.chance(p));
    }
    m.done()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_compact_json_and_the_values_are_the_same_population() {
        for (seed, period) in [(7, 2024), (42, 2023), (3, 2026)] {
            let values: Vec<Value> = population(500, seed, period).collect();
            let lines: Vec<String> = population_lines(500, seed, period).collect();
            for (i, (v, l)) in values.iter().zip(&lines).enumerate() {
                // serde_json writes back exactly the text: compact, keys in order, nothing lost
                assert_eq!(&v.to_string(), l, "seed {seed} row {i}");
                assert_eq!(v.get("$id").and_then(Value::as_str), Some(format!("E{i:07}").as_str()));
            }
        }
    }

    #[test]
    fn strings_are_escaped_as_json() {
        let mut s = String::new();
        let text = "a\"b\\c\nd\u{1}\u{8}\u{c}\t\r吉林";
        push_str(&mut s, text);
        assert_eq!(s, serde_json::to_string(text).unwrap());
    }
}
