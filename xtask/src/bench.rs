//! `cargo xtask bench ...`: benchmarks print a table and write JSON under target/bench/.

use crate::process::{cargo, root, run};

/// `cargo bench [-p PACKAGE] --bench NAME -- --json target/bench/NAME.json [--quick]`, with
/// `env` set.
fn bench(
    package: Option<&str>,
    name: &str,
    quick: bool,
    env: &[(&str, &str)],
) -> Result<(), String> {
    let json = root().join(format!("target/bench/{name}.json"));
    let mut cmd = cargo();
    cmd.arg("bench");
    if let Some(package) = package {
        cmd.args(["-p", package]);
    }
    cmd.args(["--bench", name, "--", "--json"]).arg(&json);
    if quick {
        cmd.arg("--quick");
    }
    cmd.envs(env.iter().copied());
    run(&mut cmd)
}

/// Capture: needs the fake cameras built in release next to the bench binary.
pub fn capture(quick: bool) -> Result<(), String> {
    build_release_helpers()?;
    bench(None, "capture", quick, &[])
}

/// The supervisor's memory, start to READY, and `camd status` over 64 rings.
pub fn daemon(quick: bool) -> Result<(), String> {
    build_release_helpers()?;
    bench(None, "daemon", quick, &[])
}

/// Workers killed every 10 s for 5 minutes (`--quick`: every 5 s for 1 minute) under two
/// readers checking every frame: gaps, availability, the supervisor's drift, leftovers.
pub fn torture(quick: bool) -> Result<(), String> {
    build_release_helpers()?;
    bench(None, "torture", quick, &[])
}

pub fn ring(quick: bool) -> Result<(), String> {
    bench(Some("camd-ring"), "ring", quick, &[])
}

/// camd against the Python design it replaces (bench/python_design), same fake cameras, same
/// run. Needs Python 3 with OpenCV, checked first.
pub fn vs_python(quick: bool) -> Result<(), String> {
    let python = python_with_opencv("bench vs-python", "the Python design")?;
    build_release_helpers()?;
    bench(None, "vs_python", quick, &[("CAMD_BENCH_PYTHON", &python)])
}

/// What an inference program's RGB pixels cost, camd and its consumers together: JPEG decoded
/// by OpenCV against raw RGB read in place, keyframes-only decode, max_fps before the scaler.
/// Needs Python 3 with OpenCV and NumPy (the consumers, bench/pixels), checked first, and the
/// ring's C library for the Python binding.
pub fn pixels(quick: bool) -> Result<(), String> {
    let python = python_with_opencv("bench pixels", "the consumers (bench/pixels)")?;
    build_release_helpers()?;
    run(cargo().args(["build", "--release", "--locked", "-p", "camd-ring", "--lib"]))?;
    bench(None, "pixels", quick, &[("CAMD_BENCH_PYTHON", &python)])
}

/// What the benchmarks start besides themselves, in release: the fake cameras and
/// `camd-worker`.
fn build_release_helpers() -> Result<(), String> {
    crate::process::build_daemon_release("fake_cameras")
}

/// The first of $CAMD_BENCH_PYTHON, python3, /usr/bin/python3 that has NumPy and an OpenCV that
/// reads streams with FFmpeg; else an error, for the benchmark `what` (which needs them for
/// `whom`), that says what to install.
fn python_with_opencv(what: &str, whom: &str) -> Result<String, String> {
    let check = "import cv2, numpy, sys; \
                 sys.exit(0 if cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG) else 3)";
    let mut tried = Vec::new();
    let candidates = std::env::var("CAMD_BENCH_PYTHON")
        .into_iter()
        .chain(["python3".to_owned(), "/usr/bin/python3".to_owned()]);
    for python in candidates {
        let ok = std::process::Command::new(&python)
            .args(["-c", check])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(python);
        }
        tried.push(python);
    }
    Err(format!(
        "{what} needs Python 3 with OpenCV (FFmpeg backend) and NumPy for {whom}: `sudo \
         apt-get install python3-opencv` (Debian 12: OpenCV 4.6 over the system's FFmpeg 5.1 \
         and libjpeg-turbo, the same libraries camd's GStreamer plugins use), or set \
         CAMD_BENCH_PYTHON to an interpreter that has them. Tried: {}",
        tried.join(", ")
    ))
}
