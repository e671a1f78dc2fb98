//! `cargo xtask test [--quick] [--yes]`: everything CI checks, in order, stopping at the first
//! failure. First the Debian/Ubuntu packages it needs (`packages`): missing ones are installed
//! after asking, or at once with `--yes` (`.ci/run` installs them all beforehand); then this
//! machine's GStreamer registry against the element inventory (`gst_inventory`), naming each
//! missing element with its package.
//!
//! 1. rustfmt and clippy (warnings are errors); the device files: the Yocto layer (`cargo xtask
//!    yocto-check`: camd-crates.inc against Cargo.lock, do_install's files, no network at
//!    parse time, oelint-adv, licence checksums), systemd-analyze on the unit; the package list
//!    on a pristine Debian root (`cargo xtask pristine`);
//! 2. every test of the workspace with the default toolchain: unit, protocol, bad files, writer
//!    lifecycle, layout (Rust = C header = docs), cross-language (C, Python, Rust and the spec
//!    reader), Python unittests, and the stress test (CAMD_STRESS_SECS, default 10 s; 3 s with
//!    --quick or in CI);
//! 3. the workspace built with Rust 1.75;
//! 4. the protocol tests under miri;
//! 5. the header fuzzer for 30 s from the committed corpus (10 s with --quick);
//! 6. the aarch64 cross build, the ring's tests and the capture smoke test under qemu
//!    (`cargo xtask cross --target aarch64-unknown-linux-gnu --test`);
//! 7. camd against real kernel drivers (vivid webcams, the visl stateless decoder) and under
//!    systemd, in a qemu guest (`cargo xtask vm-test`).
//!
//! The last line sums the test counts of step 2: `tests: N passed, M failed`.

use crate::checks;
use crate::packages;
use crate::process::{self, cargo, run_lines};
use std::time::Instant;

pub fn run(quick: bool, yes: bool) -> Result<(), String> {
    let needed = [packages::DEMO, packages::TEST].concat();
    packages::install_missing(&needed, "cargo xtask test", "add --yes", yes)?;
    crate::gst_inventory::check_registry("cargo xtask test", false)?;
    let ci = std::env::var_os("CI").is_some();
    let stress_secs = std::env::var("CAMD_STRESS_SECS")
        .unwrap_or_else(|_| if quick || ci { "3" } else { "10" }.into());
    let mut steps: Vec<(&str, f64)> = Vec::new();
    let mut timed =
        |name: &'static str, step: &mut dyn FnMut() -> Result<(), String>| -> Result<(), String> {
            let start = Instant::now();
            let result = step();
            steps.push((name, start.elapsed().as_secs_f64()));
            result.map_err(|e| format!("step `{name}` failed: {e}"))
        };

    timed("fmt", &mut || {
        process::run(cargo().args(["fmt", "--all", "--", "--check"]))
    })?;
    timed("clippy", &mut || {
        process::run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    timed("yocto", &mut crate::yocto_check::run)?;
    timed("systemd", &mut crate::systemd::check)?;
    timed("pristine", &mut crate::pristine::main)?;
    let (mut passed, mut failed) = (0u64, 0u64);
    let tests = timed("tests", &mut || {
        process::run(cargo().args(["build", "--workspace", "--all-targets", "--locked"]))?;
        run_lines(
            cargo()
                .args(["test", "--workspace", "--locked"])
                .env("CAMD_STRESS_SECS", &stress_secs),
            |line| {
                if let Some((p, f)) = parse_test_result(line) {
                    passed += p;
                    failed += f;
                }
            },
        )
    });
    if tests.is_ok() {
        timed("msrv 1.75", &mut checks::msrv)?;
        timed("miri", &mut checks::miri)?;
        timed("fuzz", &mut || checks::fuzz(if quick { 10 } else { 30 }))?;
        timed("cross", &mut || {
            crate::cross::main("aarch64-unknown-linux-gnu", true)
        })?;
        timed("vm", &mut || crate::vm::run_vm_test(None))?;
    }
    eprintln!("\nxtask test steps:");
    for (name, secs) in &steps {
        eprintln!("  {name:<10} {secs:>7.1} s");
    }
    let outcome = tests;
    println!("tests: {passed} passed, {failed} failed");
    outcome
}

/// `test result: ok. 11 passed; 0 failed; ...` -> (11, 0)
fn parse_test_result(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix("test result: ")?;
    let number_before = |word: &str| -> Option<u64> {
        let end = rest.find(word)?;
        rest[..end].trim_end().rsplit(' ').next()?.parse().ok()
    };
    Some((number_before(" passed")?, number_before(" failed")?))
}
