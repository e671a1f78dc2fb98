//! Rust toolchains the checks need besides the default one: 1.75 (Yocto scarthgap's Rust, the
//! minimum camd supports) and nightly with miri (for `cargo miri` and `cargo fuzz`). Installed
//! with rustup when missing; when that is impossible the check fails and says so: it is never
//! skipped silently.

use crate::process::{run, succeeds};
use std::process::Command;

pub const MSRV: &str = "1.75";

pub fn ensure(toolchain: &str, components: &[&str]) -> Result<(), String> {
    let have = succeeds(Command::new("rustup").args(["run", toolchain, "rustc", "--version"]));
    if !have {
        run(Command::new("rustup").args(["toolchain", "install", toolchain, "--profile", "minimal"])).map_err(|e| {
            format!("Rust {toolchain} is needed and could not be installed with rustup ({e}); install it and run again")
        })?;
    }
    for component in components {
        run(Command::new("rustup").args(["component", "add", component, "--toolchain", toolchain]))
            .map_err(|e| {
                format!("rustup component {component} for {toolchain} could not be installed: {e}")
            })?;
    }
    Ok(())
}

/// cargo-fuzz, installed from crates.io when missing.
pub fn ensure_cargo_fuzz() -> Result<(), String> {
    if succeeds(Command::new("cargo").args(["fuzz", "--version"])) {
        return Ok(());
    }
    run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))
        .map_err(|e| format!("cargo-fuzz is needed and could not be installed: {e}"))
}
