//! `cargo xtask demo [--yes] [DEMO ARGS]`: the first-hour demo on a fresh Debian or Ubuntu
//! machine. Installs the system packages camd needs that are missing (after asking, or at once
//! with `--yes`), checks that GStreamer has every element the demo needs (naming each missing
//! one with its package), builds camd and the demo in release, then becomes `examples/demo.rs`
//! (fake RTSP cameras, camd, `camd status --watch`; Ctrl-C stops everything).

use crate::process::{cargo, run, target_dir};
use crate::{gst_inventory, packages};
use std::os::unix::process::CommandExt;
use std::process::Command;

pub fn run_demo(yes: bool, demo_args: &[String]) -> Result<(), String> {
    packages::install_missing(packages::DEMO, "camd's demo", "add --yes", yes)?;
    gst_inventory::check_registry("camd's demo", true)?;
    // The reader library (libcamd_ring.so) for the Python one-liner the demo prints.
    run(cargo().args(["build", "--release", "--locked", "-p", "camd-ring"]))?;
    crate::process::build_daemon_release("demo")?;
    let demo = target_dir().join("release/examples/demo");
    let e = Command::new(&demo).args(demo_args).exec();
    Err(format!("cannot run {}: {e}", demo.display()))
}
