//! Deterministic synthetic enterprises over the shared vocabulary (`huiqi gen-population`),
//! for benchmarks, tests and demos. The same seed always gives the same population.
//!
//! Invariant: the output uses only facts the seed policies declare, with realistic spreads
//! (revenue log-uniform 1e6..2e9 with a few years of history, industries, SRDI levels,
//! recognitions, loans), so that the rule set grants a realistic mix.

use serde_json::{Map, Value, json};

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

/// Money as an exact decimal string in yuan, to the fen.
fn money(yuan: f64) -> Value {
    let fen = (yuan.max(0.0) * 100.0 + 0.5).floor() as i64;
    Value::String(format!("{}.{:02}", fen / 100, fen % 100))
}

fn date(year: i32, r: &mut SplitMix64) -> Value {
    let month = 1 + (r.unit() * 12.0) as u32 % 12;
    let day = 1 + (r.unit() * 28.0) as u32 % 28;
    Value::String(format!("{year:04}-{month:02}-{day:02}"))
}

fn yearly(period: i32, years: i32, mut f: impl FnMut(i32) -> f64) -> Value {
    let mut m = Map::new();
    for y in (period - years + 1)..=period {
        m.insert(y.to_string(), money(f(y)));
    }
    Value::Object(m)
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

/// One enterprise as a facts object.
pub fn enterprise(r: &mut SplitMix64, index: u64, period: i32) -> Value {
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
        loans.push(json!({
            "金额": money(amount),
            "放款日期": date(start, r),
            "用途": r.pick(LOAN_USES),
            "知识产权质押": r.chance(0.15),
            "利息": yearly(period, 2, |_| amount * 0.04),
        }));
    }
    let mut recognitions = Vec::new();
    for _ in 0..(r.unit() * 2.5) as usize {
        let year = period - (r.unit() * 4.0) as i32;
        recognitions.push(json!({ "类别": r.pick(RECOGNITIONS), "日期": date(year, r) }));
    }
    let contracts: Vec<Value> = if r.chance(0.1) {
        vec![
            json!({ "对方": r.pick(&["高校", "科研院所", "企业"]), "合同额": money(r.log_uniform(1e5, 1e7)), "签订日期": date(period, r), "已实施转化": r.chance(0.7) }),
        ]
    } else {
        Vec::new()
    };
    let (products, units) = if r.chance(0.05) {
        let price = r.log_uniform(1e6, 5e7);
        let units: Vec<Value> = (0..(r.unit() * 5.0) as usize)
            .map(|_| json!({ "投保日期": date(period, r), "保费": yearly(period, 1, |_| price * 0.02), "保险金额": money(price) }))
            .collect();
        (
            vec![
                json!({ "目录": r.pick(&["首台套", "首批次", "首版次", "重点新材料"]), "销售价格": money(price), "销售日期": date(period, r) }),
            ],
            units,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let listed = r.chance(0.02);
    let taxable = revenue_now * r.unit() * 0.15;
    let zero = |r: &mut SplitMix64, p: f64, lo: f64, hi: f64| {
        yearly(period, 1, |_| if r.chance(p) { r.log_uniform(lo, hi) } else { 0.0 })
    };
    let mut m = Map::new();
    m.insert("$id".into(), Value::String(format!("E{index:07}")));
    m.insert("$period".into(), json!(period));
    m.insert("行业".into(), Value::String(r.pick(INDUSTRIES).into()));
    m.insert("企业规模".into(), Value::String(size.into()));
    m.insert("总部在吉林".into(), Value::Bool(r.chance(0.9)));
    m.insert("腾飞类企业".into(), Value::Bool(r.chance(0.05)));
    m.insert("专精特新等级".into(), Value::String(srdi.into()));
    m.insert("营业收入".into(), yearly(period, 4, revenue));
    m.insert("研发投入".into(), yearly(period, 2, |y| revenue(y) * rd_share));
    m.insert("研发无形资产摊销额".into(), yearly(period, 1, |_| revenue_now * rd_share * 0.05));
    m.insert("技术改造设备投资".into(), zero(r, 0.3, 1e5, 5e7));
    m.insert("新引进项目投资额".into(), zero(r, 0.05, 1e6, 2e9));
    m.insert("贷款".into(), Value::Array(loans));
    m.insert("认定".into(), Value::Array(recognitions));
    m.insert("技术合同".into(), Value::Array(contracts));
    m.insert("首台套产品".into(), Value::Array(products));
    m.insert("投保设备".into(), Value::Array(units));
    m.insert(
        "上市地点".into(),
        Value::String(if listed {
            r.pick(&["上交所", "深交所", "北交所", "境外"]).into()
        } else {
            "未上市".into()
        }),
    );
    if listed {
        m.insert("上市日期".into(), date(period, r));
        m.insert("上市直接融资成本".into(), yearly(period, 1, |_| revenue_now * 0.02));
    } else {
        m.insert("上市直接融资成本".into(), yearly(period, 1, |_| 0.0));
    }
    m.insert("借壳迁入".into(), Value::Bool(false));
    m.insert("应纳税所得额".into(), yearly(period, 1, |_| taxable));
    m.insert("应纳所得税额".into(), yearly(period, 1, |_| taxable * 0.25));
    m.insert("专用设备投资".into(), zero(r, 0.1, 1e5, 2e7));
    m.insert("技术转让所得".into(), zero(r, 0.05, 1e5, 2e7));
    m.insert("展位费".into(), zero(r, 0.1, 5e3, 2e5));
    m.insert("专利评估费".into(), zero(r, 0.05, 5e3, 1e5));
    m.insert("专利保险费".into(), zero(r, 0.05, 5e3, 2e5));
    m.insert("兼并费用".into(), zero(r, 0.01, 1e6, 1e8));
    m.insert("债券直接融资成本".into(), zero(r, 0.02, 1e5, 5e6));
    m.insert("孵化园运营费用".into(), zero(r, 0.01, 1e5, 5e6));
    m.insert("减免孵化租金".into(), zero(r, 0.01, 1e4, 5e5));
    m.insert("单户担保额".into(), if r.chance(0.2) { money(r.log_uniform(1e5, 2e7)) } else { money(0.0) });
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
        m.insert(k.into(), Value::Bool(r.chance(p)));
    }
    Value::Object(m)
}

/// `count` enterprises from `seed`, one JSON object a line.
pub fn population(count: u64, seed: u64, period: i32) -> impl Iterator<Item = Value> {
    let mut r = SplitMix64::new(seed);
    (0..count).map(move |i| enterprise(&mut r, i, period))
}
