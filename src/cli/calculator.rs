//! The in-browser calculator of the policy site: a page (`web/calc/`) that loads the rule
//! files, compiles them with huiqi compiled to WebAssembly (`wasm/`, bundled by `build.rs`)
//! and evaluates an enterprise's facts locally, with the same exact decimals as `huiqi eval`.
//!
//! Invariant: the page never computes a result itself; every answer is the wasm module's
//! `eval --format json` document. This module only writes files.

use std::path::Path;

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/calculator.rs"));
}

const PAGE: &str = include_str!("../../web/calc/calculator.html");
const SCRIPT: &str = include_str!("../../web/calc/calc.js");
const STYLE: &str = include_str!("../../web/calc/calc.css");

/// What to say when the calculator is not bundled: why, and how to get it.
pub const NOT_BUNDLED: &str = "this huiqi was built without the in-browser calculator, so the site has none; run scripts/setup-wasm (it installs the wasm32 target and wasm-bindgen-cli), then `cargo build --release` again";

/// Writes the calculator into the site folder `out`: `calculator.html`, `calc/calc.js`,
/// `calc/calc.css`, `calc/rules.json` (the rule files `(relative path, text)` and the example
/// facts JSON, if any, as text) and `pkg/huiqi_wasm.js` + `pkg/huiqi_wasm_bg.wasm`. Returns
/// false, writing nothing, when this build carries no calculator.
pub fn write_calculator(
    out: &Path,
    files: &[(String, String)],
    example: Option<&str>,
) -> std::io::Result<bool> {
    let Some((glue, module)) = bundled::BUNDLE else {
        return Ok(false);
    };
    let calc = out.join("calc");
    let pkg = out.join("pkg");
    std::fs::create_dir_all(&calc)?;
    std::fs::create_dir_all(&pkg)?;
    std::fs::write(out.join("calculator.html"), PAGE)?;
    std::fs::write(calc.join("calc.js"), SCRIPT)?;
    std::fs::write(calc.join("calc.css"), STYLE)?;
    std::fs::write(calc.join("rules.json"), rules_json(files, example))?;
    std::fs::write(pkg.join("huiqi_wasm.js"), glue)?;
    std::fs::write(pkg.join("huiqi_wasm_bg.wasm"), module)?;
    Ok(true)
}

/// `{"files": [{"path", "text"}], "example": "<facts JSON text>" | null}`. The example stays
/// text, so no number in it passes through a float on either side.
fn rules_json(files: &[(String, String)], example: Option<&str>) -> String {
    let files: Vec<serde_json::Value> =
        files.iter().map(|(path, text)| serde_json::json!({ "path": path, "text": text })).collect();
    serde_json::to_string(&serde_json::json!({ "files": files, "example": example })).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_json_keeps_the_example_as_text() {
        let j = rules_json(&[("a.policy".into(), "fact x: money".into())], Some(r#"{"x": 1234.5670}"#));
        assert_eq!(
            j,
            r#"{"files":[{"path":"a.policy","text":"fact x: money"}],"example":"{\"x\": 1234.5670}"}"#
        );
    }

    #[test]
    fn writes_the_site_part_or_says_it_has_none() {
        let dir = std::env::temp_dir().join(format!("huiqi-calc-{}", std::process::id()));
        let wrote = write_calculator(&dir, &[("a.policy".into(), String::new())], None).unwrap();
        assert_eq!(wrote, bundled::BUNDLE.is_some());
        assert_eq!(dir.join("pkg/huiqi_wasm_bg.wasm").is_file(), wrote);
        assert_eq!(dir.join("calculator.html").is_file(), wrote);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
