//! Bundles the in-browser calculator (the `wasm/` member compiled to WebAssembly, with the
//! JavaScript glue of `wasm-bindgen --target web`) into the `huiqi` command, for `huiqi doc`.
//!
//! It does so only when all of these hold, and otherwise writes an empty bundle (the command
//! then writes sites without a calculator and says how to get one, `scripts/setup-wasm`):
//! - feature `cli` is on (the library alone, the Python binding and the wasm build itself
//!   never bundle anything; the last is what stops the recursion);
//! - the profile is `release` (so `cargo test` and clippy stay fast);
//! - the target `wasm32-unknown-unknown` is installed and `wasm-bindgen` is exactly the
//!   version `wasm/Cargo.toml` pins;
//! - `HUIQI_NO_CALCULATOR` is not set.
//!
//! The module is built by a nested `cargo build` into a target folder of its own
//! (`<target>/wasm`: the outer build holds the lock of its own folder), with the `wasm`
//! profile (size over speed), then `wasm-bindgen` writes the glue into `OUT_DIR`, and
//! `OUT_DIR/calculator.rs` includes both files as bytes.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    for p in ["build.rs", "src", "grammar", "wasm/src", "wasm/Cargo.toml", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={p}");
    }
    println!("cargo:rerun-if-env-changed=HUIQI_NO_CALCULATOR");
    let Some(out) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        return;
    };
    let bundle = out.join("calculator.rs");
    let wanted = std::env::var_os("CARGO_FEATURE_CLI").is_some()
        && std::env::var("PROFILE").is_ok_and(|p| p == "release")
        && std::env::var_os("HUIQI_NO_CALCULATOR").is_none()
        && std::env::var_os("HUIQI_WASM_NESTED").is_none();
    let files = if wanted {
        match build_calculator(&out) {
            Ok(files) => Some(files),
            Err(why) => {
                println!("cargo:warning=huiqi doc will write sites without the calculator: {why}");
                println!("cargo:warning=run scripts/setup-wasm, then build again");
                None
            }
        }
    } else {
        None
    };
    let text = match files {
        Some((js, wasm)) => format!(
            "/// The calculator's JavaScript glue and WebAssembly module.\n\
             pub const BUNDLE: Option<(&[u8], &[u8])> = Some((include_bytes!({js:?}), include_bytes!({wasm:?})));\n"
        ),
        None => "/// No calculator was bundled into this build.\n\
                 pub const BUNDLE: Option<(&[u8], &[u8])> = None;\n"
            .to_string(),
    };
    if let Err(e) = std::fs::write(&bundle, text) {
        println!("cargo:warning=cannot write {}: {e}", bundle.display());
        std::process::exit(1);
    }
}

/// Builds the module and its glue; the paths of the glue and the module, or why not.
fn build_calculator(out: &Path) -> Result<(PathBuf, PathBuf), String> {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?);
    let want = pinned_version(&root.join("wasm/Cargo.toml"))?;
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if !sysroot.join("lib/rustlib/wasm32-unknown-unknown").is_dir() {
        return Err("the target wasm32-unknown-unknown is not installed".into());
    }
    let bindgen = find_bindgen().ok_or("wasm-bindgen (wasm-bindgen-cli) is not installed")?;
    let have = Command::new(&bindgen)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .map_err(|e| format!("cannot run {}: {e}", bindgen.display()))?;
    if have.split_whitespace().nth(1) != Some(want.as_str()) {
        return Err(format!(
            "`{have}` is installed, and the wasm-bindgen crate is {want}: they must be equal"
        ));
    }

    // <target>/<profile>/build/huiqi-…/out → <target>/wasm
    let target_dir = out.ancestors().nth(4).ok_or("OUT_DIR is not inside a target folder")?.join("wasm");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "-p", "huiqi-wasm", "--target", "wasm32-unknown-unknown", "--profile", "wasm"])
        .arg("--target-dir")
        .arg(&target_dir)
        .env("HUIQI_WASM_NESTED", "1");
    // the outer build's settings are for the host, not for wasm32
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
        "OUT_DIR",
    ] {
        cmd.env_remove(var);
    }
    let built = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !built.status.success() {
        let err = String::from_utf8_lossy(&built.stderr);
        let tail: Vec<&str> = err.lines().rev().take(20).collect();
        for l in tail.into_iter().rev() {
            println!("cargo:warning={l}");
        }
        return Err("building wasm/ for wasm32-unknown-unknown failed (above)".into());
    }
    let module = target_dir.join("wasm32-unknown-unknown/wasm/huiqi_wasm.wasm");
    let pkg = out.join("pkg");
    let glued = Command::new(&bindgen)
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&pkg)
        .arg(&module)
        .output()
        .map_err(|e| format!("cannot run wasm-bindgen: {e}"))?;
    if !glued.status.success() {
        return Err(format!("wasm-bindgen failed: {}", String::from_utf8_lossy(&glued.stderr).trim()));
    }
    Ok((pkg.join("huiqi_wasm.js"), pkg.join("huiqi_wasm_bg.wasm")))
}

/// The `=X.Y.Z` of `wasm-bindgen = "=X.Y.Z"` in the member's manifest.
fn pinned_version(manifest: &Path) -> Result<String, String> {
    let text =
        std::fs::read_to_string(manifest).map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    text.lines()
        .find_map(|l| l.trim().strip_prefix("wasm-bindgen = \"="))
        .and_then(|rest| rest.split('"').next())
        .map(str::to_string)
        .ok_or_else(|| {
            format!("{} does not pin wasm-bindgen (`wasm-bindgen = \"=X.Y.Z\"`)", manifest.display())
        })
}

/// `wasm-bindgen` on PATH, else in cargo's bin folder.
fn find_bindgen() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("wasm-bindgen"));
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|h| h.join("bin/wasm-bindgen"));
    on_path.chain(cargo_home).find(|p| p.is_file())
}
