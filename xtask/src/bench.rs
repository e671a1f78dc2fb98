//! `cargo xtask bench ...`: benchmarks print a table and write JSON under target/bench/.

use crate::process::{cargo, root, run};

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
