//! Both facts readers on arbitrary text against the seed vocabulary, differentially: what the
//! streaming reader (`eval::stream`) accepts, the tree reader (`eval::facts::parse_facts`)
//! accepts with the same facts, the same period and the same enterprise name. The batch row
//! built from the text is rendered too.
#![no_main]

use huiqi::eval::facts::{default_period, parse_facts};
use huiqi::eval::stream::FactsReader;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static READER: LazyLock<FactsReader<'static>> = LazyLock::new(|| FactsReader::new(&huiqi_fuzz::SEEDS));

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let prog = &*huiqi_fuzz::SEEDS;
    let tree = parse_facts(prog, text);
    if let Some((facts, meta)) = READER.read(text) {
        let Ok(tree) = tree else {
            panic!("the streaming reader accepts what the tree reader refuses: {:?}", tree.err());
        };
        assert_eq!(facts, tree, "the same facts");
        let json = huiqi::json::Json::parse(text).expect("accepted text is JSON");
        assert_eq!(facts.period_or_latest(meta.period), default_period(&json, &tree), "the same period");
        let name = json.get("$id").or_else(|| json.get("$name")).and_then(|v| v.as_str()).map(String::from);
        assert_eq!(meta.enterprise, name, "the same enterprise");
    }
});
