//! The checks that need another toolchain: the Rust 1.75 build, miri, and the fuzzer.

use crate::process::{cargo_with, root, run};
use crate::toolchain::{self, MSRV};

/// The whole workspace, every target, built with Rust 1.75 from the committed Cargo.lock.
pub fn msrv() -> Result<(), String> {
    toolchain::ensure(MSRV, &[])?;
    run(cargo_with(MSRV)
        .args(["build", "--workspace", "--all-targets", "--locked"])
        .env("CARGO_TARGET_DIR", root().join("target/msrv")))
}

/// The ring's protocol tests (ring/src/protocol_tests.rs, over heap memory) under miri, whose
/// data-race detector and borrow checker check the seqlock and the raw-pointer code.
/// Isolation is off because the code reads CLOCK_REALTIME; four scheduler seeds explore more
/// interleavings of the concurrent tests.
pub fn miri() -> Result<(), String> {
    toolchain::ensure("nightly", &["miri", "rust-src"])?;
    run(cargo_with("nightly")
        .args(["miri", "test", "-p", "camd-ring", "--lib"])
        .env(
            "MIRIFLAGS",
            "-Zmiri-disable-isolation -Zmiri-many-seeds=0..4",
        ))
}

/// Fuzzes the ring header validation (ring/fuzz) for `seconds`, starting from the committed
/// corpus; new interesting inputs are added to the corpus directory.
pub fn fuzz(seconds: u32) -> Result<(), String> {
    toolchain::ensure("nightly", &[])?;
    toolchain::ensure_cargo_fuzz()?;
    let fuzz_dir = root().join("ring");
    run(cargo_with("nightly").current_dir(&fuzz_dir).args([
        "fuzz",
        "run",
        "header",
        "--",
        &format!("-max_total_time={seconds}"),
        "-max_len=8192",
    ]))
}
