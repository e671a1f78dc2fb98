//! Cross-built code run under qemu-user (`cargo xtask cross --test`): the ring crate's tests,
//! and a capture smoke test (a test-pattern camera written into a ring by the target's
//! `camd-worker`, read back by the target's `camd status`).
//!
//! There is no binfmt_misc on these machines: a target executable runs only when started as
//! `qemu-<arch>-static PROGRAM`, and a target process cannot exec another target executable by
//! itself. So `camd run` (which execs camd-worker) is not run here; the smoke test plays the
//! supervisor's part and gives camd-worker its orders on stdin.

use crate::cross::Cross;
use crate::process::{run, target_dir};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `cargo test -p camd-ring` for the target: every test, the cross-language ones included. The
/// tests start target executables (the C and Rust readers, the re-executed test binary) through
/// CAMD_TEST_RUNNER, build the C reader with the cross compiler (CAMD_TEST_CC) and run the
/// Python readers with the sysroot's python3 under qemu (CAMD_TEST_PYTHON).
pub fn ring_tests(cross: &Cross) -> Result<(), String> {
    let t = cross.target;
    let sysroot = cross.sysroot.display();
    let with_env = |cmd: &mut Command| {
        cmd.env("CAMD_TEST_RUNNER", t.qemu)
            .env(
                "CAMD_TEST_CC",
                format!("{} --sysroot={sysroot}", t.tool("gcc")),
            )
            .env(
                "CAMD_TEST_PYTHON",
                format!("{} {sysroot}/usr/bin/python3", t.qemu),
            )
            .env(
                "CAMD_STRESS_SECS",
                // The stress test asks for 1000 frames at least: 3 s under qemu, on a loaded
                // 2-core machine, gave 903.
                std::env::var("CAMD_STRESS_SECS").unwrap_or_else(|_| "10".into()),
            );
    };
    let mut build = cross.cargo();
    build.args([
        "build",
        "-p",
        "camd-ring",
        "--lib",
        "--examples",
        "--locked",
    ]);
    build.args(["--target", t.triple]);
    run(&mut build)?;
    let mut test = cross.cargo();
    test.args(["test", "-p", "camd-ring", "--locked", "--target", t.triple]);
    with_env(&mut test);
    run(&mut test)
}

const CAMERA: &str = "ball";
const WIDTH: u32 = 320;
const HEIGHT: u32 = 240;
/// Under qemu the first start scans the GStreamer registry (cached for the next runs).
const FRAMES_WITHIN: Duration = Duration::from_secs(180);
const STOP_WITHIN: Duration = Duration::from_secs(30);

/// camd-worker (target build, under qemu) captures `test:ball` into a ring; camd status
/// (target build, under qemu) must read it `ok` with frames of the right size, then `stopped`
/// once the worker's input is closed.
pub fn smoke(cross: &Cross, bin: &Path) -> Result<(), String> {
    let t = cross.target;
    let dir = target_dir()
        .join("cross")
        .join(format!("smoke-{}", t.debian_arch));
    let rings = dir.join("rings");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(&rings).map_err(|e| format!("{}: {e}", rings.display()))?;
    let log = dir.join("worker.log");
    let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;

    let mut worker = cross.qemu(&bin.join("camd-worker"));
    worker
        .args(["worker", "smoke"])
        // GStreamer under qemu: no fork for the registry scan (the scanner helper is a target
        // executable), a registry file of this architecture's own, the sysroot's plugins.
        .env("GST_REGISTRY_FORK", "no")
        .env(
            "GST_REGISTRY",
            target_dir()
                .join("cross")
                .join(format!("gst-registry-{}.bin", t.debian_arch)),
        )
        .env(
            "GST_PLUGIN_SYSTEM_PATH_1_0",
            cross
                .sysroot
                .join(format!("usr/lib/{}/gstreamer-1.0", t.gnu)),
        )
        .env_remove("GST_PLUGIN_PATH")
        .env_remove("GST_PLUGIN_PATH_1_0")
        .stdin(Stdio::piped())
        .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
        .stderr(log_file);
    eprintln!("smoke: $ {worker:?} (log: {})", log.display());
    let mut child = worker
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", t.qemu))?;
    let result = drive(cross, bin, &rings, &mut child);
    if result.is_err() {
        let _ = child.kill();
        let _ = child.wait();
    }
    result.map_err(|e| {
        let tail: Vec<String> = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .rev()
            .take(15)
            .map(str::to_owned)
            .collect();
        let tail: Vec<&str> = tail.iter().rev().map(String::as_str).collect();
        format!(
            "smoke test on {}: {e}\nworker log ({}), last lines:\n{}",
            t.triple,
            log.display(),
            tail.join("\n")
        )
    })
}

fn drive(cross: &Cross, bin: &Path, rings: &Path, child: &mut Child) -> Result<(), String> {
    let orders = format!(
        "setup = {{ worker = \"smoke\", runtime_dir = \"{}\", stop_timeout_ms = 5000, log_level = \"info\", log_to = \"stderr\" }}\n\
         start = {{ name = \"{CAMERA}\", url = \"test:ball\", width = {WIDTH}, height = {HEIGHT}, max_fps = 10 }}\n",
        rings.display()
    );
    let mut stdin = child.stdin.take().expect("piped");
    stdin
        .write_all(orders.as_bytes())
        .map_err(|e| format!("cannot give the worker its orders: {e}"))?;

    let status = |format: &str| -> Result<String, String> {
        let out = cross
            .qemu(&bin.join("camd"))
            .args(["status", "--dir"])
            .arg(rings)
            .args(["--format", format])
            .output()
            .map_err(|e| format!("cannot run camd status: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "camd status failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };

    let start = Instant::now();
    let mut last = String::new();
    loop {
        if let Some(exit) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("the worker exited ({exit}) before frames came"));
        }
        if start.elapsed() > FRAMES_WITHIN {
            return Err(format!(
                "no frames of {WIDTH}x{HEIGHT} with the camera ok within {} s; last status: {last}",
                FRAMES_WITHIN.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
        last = status("json")?;
        if field(&last, "status") == Some("\"connection_failed\"") {
            return Err(format!("the camera failed for good: {last}"));
        }
        if let Some(frames) = camera_ok(&last) {
            eprintln!(
                "smoke: camera {CAMERA} ok after {:.1} s, {frames} frames\n{last}",
                start.elapsed().as_secs_f64()
            );
            break;
        }
    }
    // Let a few more frames come, then stop as the supervisor would: close the pipe.
    std::thread::sleep(Duration::from_secs(2));
    drop(stdin);
    let stopping = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().map_err(|e| e.to_string())? {
            break exit;
        }
        if stopping.elapsed() > STOP_WITHIN {
            return Err(format!(
                "the worker did not stop within {} s of its input closing",
                STOP_WITHIN.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    if !exit.success() {
        return Err(format!(
            "the worker exited with {exit} after its input closed"
        ));
    }
    let stopped = status("json")?;
    if field(&stopped, "status") != Some("\"stopped\"") {
        return Err(format!(
            "the ring is not `stopped` after the worker exited: {stopped}"
        ));
    }
    eprintln!(
        "smoke: worker stopped ({exit}); camd status:\n{}",
        status("table")?
    );
    Ok(())
}

/// The frame count if `json` (camd status, one camera) shows the camera up and `ok` with
/// frames of the asked size.
fn camera_ok(json: &str) -> Option<u64> {
    let frames: u64 = field(json, "frames")?.parse().ok()?;
    let ok = field(json, "name") == Some(&format!("\"{CAMERA}\""))
        && field(json, "status") == Some("\"ok\"")
        && field(json, "up") == Some("true")
        && field(json, "width") == Some(&WIDTH.to_string())
        && field(json, "height") == Some(&HEIGHT.to_string())
        && frames > 0;
    ok.then_some(frames)
}

/// The raw value of the first `"key":` in compact JSON, up to the next `,` or `}` (enough for
/// the numbers, booleans and simple strings checked here).
fn field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &json[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_smoke_camera_from_status_json() {
        let ok = r#"{"cameras":[{"name":"ball","status":"ok","up":true,"fps":0,"width":320,"height":240,"frames":8,"drops":0}]}"#;
        assert_eq!(camera_ok(ok), Some(8));
        for bad in [
            ok.replace("\"frames\":8", "\"frames\":0"),
            ok.replace("\"up\":true", "\"up\":false"),
            ok.replace("\"width\":320", "\"width\":640"),
            ok.replace("\"status\":\"ok\"", "\"status\":\"retrying\""),
            r#"{"cameras":[]}"#.into(),
        ] {
            assert_eq!(camera_ok(&bad), None, "{bad}");
        }
    }
}
