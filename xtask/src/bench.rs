//! `cargo xtask bench ...`: benchmarks print a table and write JSON under target/bench/.

use crate::process::{cargo, root, run};

/// Capture: needs the fake cameras built in release next to the bench binary.
pub fn capture(quick: bool) -> Result<(), String> {
    run(cargo().args(["build", "--release", "--example", "fake_cameras"]))?;
    let json = root().join("target/bench/capture.json");
    let mut cmd = cargo();
    cmd.args(["bench", "--bench", "capture", "--", "--json"])
        .arg(&json);
    if quick {
        cmd.arg("--quick");
    }
    run(&mut cmd)
}

/// The supervisor's memory, start to READY, and `camd status` over 64 rings.
pub fn daemon(quick: bool) -> Result<(), String> {
    let json = root().join("target/bench/daemon.json");
    let mut cmd = cargo();
    cmd.args(["bench", "--bench", "daemon", "--", "--json"])
        .arg(&json);
    if quick {
        cmd.arg("--quick");
    }
    run(&mut cmd)
}

pub fn ring(quick: bool) -> Result<(), String> {
    let json = root().join("target/bench/ring.json");
    let mut cmd = cargo();
    cmd.args([
        "bench",
        "-p",
        "camd-ring",
        "--bench",
        "ring",
        "--",
        "--json",
    ])
    .arg(&json);
    if quick {
        cmd.arg("--quick");
    }
    run(&mut cmd)
}
