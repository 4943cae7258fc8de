//! Reading rule files and source texts from disk: the only I/O of the library, kept apart
//! from [`crate::compile`] so embedders can feed texts from anywhere.

use crate::compile::Input;
use std::path::{Path, PathBuf};

/// The largest rule file, source text or single facts input huiqi reads (16 MiB). Real ones
/// are kilobytes (the five Jilin documents with their tests: about 150 KB); the bound keeps
/// memory within a known multiple of the input (docs/performance.md) and turns a wrong file
/// into a clear error instead of an exhausted machine.
pub const MAX_INPUT_BYTES: u64 = 16 << 20;

/// Reads a text file of at most [`MAX_INPUT_BYTES`].
fn read_bounded(p: &Path, what: &str) -> Result<String, String> {
    let len = std::fs::metadata(p).map_err(|e| format!("cannot read `{}`: {e}", p.display()))?.len();
    if len > MAX_INPUT_BYTES {
        return Err(format!(
            "`{}` is {} MiB; a {what} may be at most {} MiB (split the rule set into files, or check that this is the file you meant)",
            p.display(),
            len >> 20,
            MAX_INPUT_BYTES >> 20
        ));
    }
    std::fs::read_to_string(p).map_err(|e| format!("cannot read `{}`: {e}", p.display()))
}

/// Collects `*.policy` files under the given paths (files or folders, recursively, sorted),
/// and the source texts (`*.txt`) found in any `sources/` folder beside them.
pub fn load(paths: &[PathBuf]) -> Result<Input, String> {
    let mut rules = Vec::new();
    let mut texts = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut rules, &mut texts)?;
        } else if p.is_file() {
            rules.push(p.clone());
            if let Some(dir) = p.parent() {
                let src = dir.join("sources");
                if src.is_dir() {
                    walk(&src, &mut Vec::new(), &mut texts)?;
                }
            }
        } else {
            return Err(format!("`{}` is neither a rule file nor a folder", p.display()));
        }
    }
    rules.sort();
    rules.dedup();
    texts.sort();
    texts.dedup();
    let mut input = Input::default();
    for r in rules {
        let text = read_bounded(&r, "rule file")?;
        input.rule_files.push((display(&r), text));
    }
    for t in texts {
        let text = read_bounded(&t, "source text")?;
        if let Some(name) = t.file_name().and_then(|n| n.to_str()) {
            input.source_texts.insert(name.to_string(), text);
        }
    }
    Ok(input)
}

/// The rule set a list of paths belongs to. A rule file named on its own is checked within the
/// rule set of its folder when that folder holds a vocabulary (`vocabulary*.policy`): its
/// facts, definitions and the documents its tests name are declared there. Returns the paths
/// to load and, when widened, the files named (whose diagnostics are the ones to report).
pub fn rule_set_of(paths: &[PathBuf]) -> (Vec<PathBuf>, Option<Vec<PathBuf>>) {
    // a bare file name's folder is the working folder
    let folder = |p: &Path| {
        p.parent().map(|d| if d.as_os_str().is_empty() { PathBuf::from(".") } else { d.to_path_buf() })
    };
    let widen = !paths.is_empty()
        && paths.iter().all(|p| {
            p.is_file()
                && folder(p).is_some_and(|d| {
                    std::fs::read_dir(d)
                        .map(|rd| {
                            rd.flatten().any(|e| {
                                let n = e.file_name();
                                let n = n.to_string_lossy();
                                n.starts_with("vocabulary") && n.ends_with(".policy")
                            })
                        })
                        .unwrap_or(false)
                })
        });
    if !widen {
        return (paths.to_vec(), None);
    }
    let mut dirs: Vec<PathBuf> = paths.iter().filter_map(|p| folder(p)).collect();
    dirs.sort();
    dirs.dedup();
    (dirs, Some(paths.to_vec()))
}

/// The rule files (`*.policy`) under the given paths, sorted; source texts are skipped.
pub fn rule_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut rules = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut rules, &mut Vec::new())?;
        } else if p.is_file() {
            rules.push(p.clone());
        } else {
            return Err(format!("`{}` is neither a rule file nor a folder", p.display()));
        }
    }
    rules.sort();
    rules.dedup();
    Ok(rules)
}

fn walk(dir: &Path, rules: &mut Vec<PathBuf>, texts: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read folder `{}`: {e}", dir.display()))?;
    let in_sources = dir.file_name().is_some_and(|n| n == "sources");
    for e in entries {
        let p = e.map_err(|e| format!("cannot read folder `{}`: {e}", dir.display()))?.path();
        if p.is_dir() {
            walk(&p, rules, texts)?;
        } else if p.extension().is_some_and(|x| x == "policy") {
            rules.push(p);
        } else if in_sources && p.extension().is_some_and(|x| x == "txt") {
            texts.push(p);
        }
    }
    Ok(())
}

/// A path as diagnostics print it: relative to the working folder where possible.
fn display(p: &Path) -> String {
    let rel = std::env::current_dir().ok().and_then(|cwd| p.strip_prefix(&cwd).ok().map(Path::to_path_buf));
    rel.unwrap_or_else(|| p.to_path_buf()).to_string_lossy().replace('\\', "/")
}
