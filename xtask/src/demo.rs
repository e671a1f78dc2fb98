//! `cargo xtask demo [--yes] [DEMO ARGS]`: the first-hour demo on a fresh Debian or Ubuntu
//! machine. Installs the system packages camd needs that are missing (after asking, or at once
//! with `--yes`), builds camd and the demo in release, then becomes `examples/demo.rs` (fake RTSP
//! cameras, camd, `camd status --watch`; Ctrl-C stops everything).

use crate::process::{cargo, root, run, succeeds};
use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

/// What building and running camd with its fake cameras needs, as Debian and Ubuntu name it.
const PACKAGES: &[(&str, &str)] = &[
    ("build-essential", "the C compiler and linker cargo uses"),
    ("pkg-config", "finds GStreamer for the build"),
    ("libgstreamer1.0-dev", "GStreamer"),
    (
        "libgstreamer-plugins-base1.0-dev",
        "GStreamer's app library (appsink)",
    ),
    ("libgstrtspserver-1.0-dev", "the fake cameras' RTSP server"),
    ("libclang-dev", "bindgen, for the V4L2 bindings"),
    (
        "gstreamer1.0-plugins-base",
        "videotestsrc, videoconvert, videoscale",
    ),
    (
        "gstreamer1.0-plugins-good",
        "rtspsrc, jpegenc, depayloaders",
    ),
    ("gstreamer1.0-plugins-bad", "the H.264/H.265 parsers"),
    (
        "gstreamer1.0-plugins-ugly",
        "x264enc, the fake cameras' H.264 encoder",
    ),
    (
        "gstreamer1.0-libav",
        "avdec_h264, the software H.264 decoder",
    ),
    ("python3", "the one-line frame reader"),
];

pub fn run_demo(args: &[&str]) -> Result<(), String> {
    let yes = args.contains(&"--yes");
    let demo_args: Vec<&str> = args.iter().copied().filter(|a| *a != "--yes").collect();
    install_missing(yes)?;
    // The reader library (libcamd_ring.so) for the Python one-liner the demo prints.
    run(cargo().args(["build", "--release", "--locked", "-p", "camd-ring"]))?;
    run(cargo().args([
        "build",
        "--release",
        "--locked",
        "--bins",
        "--example",
        "demo",
    ]))?;
    let demo = target_dir().join("release/examples/demo");
    let e = Command::new(&demo).args(&demo_args).exec();
    Err(format!("cannot run {}: {e}", demo.display()))
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

fn install_missing(yes: bool) -> Result<(), String> {
    if !succeeds(Command::new("dpkg-query").arg("--version")) {
        eprintln!(
            "demo: not a Debian or Ubuntu system (no dpkg-query): make sure these are installed \
             (Debian names): {}",
            names(PACKAGES)
        );
        return Ok(());
    }
    let missing: Vec<(&str, &str)> = PACKAGES
        .iter()
        .copied()
        .filter(|(name, _)| !installed(name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("camd's demo needs these packages, which are not installed:");
    for (name, why) in &missing {
        eprintln!("  {name:<34} {why}");
    }
    let sudo = if is_root() { "" } else { "sudo " };
    let apt_get = |args: &[&str]| {
        let mut command = if sudo.is_empty() {
            Command::new("apt-get")
        } else {
            let mut command = Command::new("sudo");
            command.arg("apt-get");
            command
        };
        command.args(args);
        command
    };
    if !yes && !confirm(&format!("Install them now with {sudo}apt-get? [y/N] "))? {
        return Err(format!(
            "not installed; run `{sudo}apt-get install {}` or `cargo xtask demo --yes`",
            names(&missing)
        ));
    }
    // A fresh machine may never have fetched the package lists.
    run(&mut apt_get(&["update"]))?;
    let mut install = apt_get(&["install", "-y", "--no-install-recommends"]);
    install.args(missing.iter().map(|(name, _)| *name));
    run(&mut install)
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Status}", package])
        .output()
        .map(|out| out.status.success() && out.stdout == b"installed")
        .unwrap_or(false)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Uid:"))?;
            Some(line.split_whitespace().nth(1)? == "0")
        })
        .unwrap_or(false)
}

fn confirm(question: &str) -> Result<bool, String> {
    if !std::io::stdin().is_terminal() {
        return Err(
            "packages are missing and there is no terminal to ask: add --yes to install them"
                .into(),
        );
    }
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn names(packages: &[(&str, &str)]) -> String {
    packages
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(" ")
}
