//! `cargo xtask bench daemon`: what the supervisor and the status command cost, as a table and
//! as JSON (target/bench/daemon.json).
//!
//! - supervisor_rss_mib: VmRSS of `camd run` (the supervisor alone, not its workers) with 8
//!   test-pattern cameras in 2 workers, after 3 s of running. Target: at most 4.
//!   Also its PSS and private memory: most of that RSS is pages of libc and of the camd binary.
//!   The supervisor maps no GStreamer or GLib: they are linked by `camd-worker` only.
//! - start_to_ready_ms: from spawning `camd run` (8 cameras) to READY=1 on its NOTIFY_SOCKET,
//!   the median of 5 starts.
//! - status_64_rings_ms: one `camd status --format json` over 64 rings, process start to exit,
//!   the median of 10 runs.
//!
//! Usage: daemon [--json PATH] [--quick]

use camd_test_support as support;

use camd_ring::{FrameInfo, Writer, WriterOptions};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::TempDir;

const CAMD: &str = env!("CARGO_BIN_EXE_camd");

fn start(dir: &Path, notify: Option<&Path>) -> Child {
    let mut config = format!(
        "[daemon]\nruntime_dir = \"{}\"\ncameras_per_worker = 4\n\
         [daemon.defaults]\nwidth = 160\nheight = 120\nmax_fps = 5\n",
        dir.join("run").display()
    );
    for i in 0..8 {
        config += &format!("[[camera]]\nname = \"cam{i}\"\nurl = \"test:ball\"\n");
    }
    let path = dir.join("camd.toml");
    std::fs::write(&path, config).unwrap();
    let mut cmd = support::daemon::run_command(&path, "warn");
    cmd.stderr(Stdio::null());
    if let Some(socket) = notify {
        cmd.env("NOTIFY_SOCKET", socket);
    }
    cmd.spawn().unwrap()
}

fn stop(mut child: Child) {
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
}

use support::proc_kib as kib;

fn rss_kib(pid: u32) -> u64 {
    let rss = kib(&format!("/proc/{pid}/status"), "VmRSS:");
    assert!(rss > 0, "no VmRSS for pid {pid}: did the process exit?");
    rss
}

/// Resident memory as (RSS, PSS, private), MiB: most of a process's RSS is pages of shared
/// libraries that the workers map too; PSS charges each page to its sharers, private is
/// what this process alone holds.
fn memory_mib(pid: u32) -> (f64, f64, f64) {
    let rollup = format!("/proc/{pid}/smaps_rollup");
    let private = kib(&rollup, "Private_Clean:") + kib(&rollup, "Private_Dirty:");
    (
        rss_kib(pid) as f64 / 1024.0,
        kib(&rollup, "Pss:") as f64 / 1024.0,
        private as f64 / 1024.0,
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn supervisor_rss(settle: Duration) -> ((f64, f64, f64), f64) {
    let dir = TempDir::new("bench-daemon");
    let child = start(dir.path(), None);
    std::thread::sleep(settle);
    let supervisor = memory_mib(child.id());
    let workers: f64 = support::daemon::children_of(child.id())
        .iter()
        .map(|(pid, _)| rss_kib(*pid) as f64 / 1024.0)
        .sum();
    stop(child);
    (supervisor, workers)
}

fn start_to_ready(runs: usize) -> f64 {
    let mut times = Vec::new();
    for _ in 0..runs {
        let dir = TempDir::new("bench-ready");
        let socket_path = dir.path().join("notify");
        let socket = UnixDatagram::bind(&socket_path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let started = Instant::now();
        let child = start(dir.path(), Some(&socket_path));
        let mut buf = [0u8; 512];
        loop {
            let n = socket.recv(&mut buf).expect("READY=1 within 10 s");
            if &buf[..n] == b"READY=1" {
                break;
            }
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        stop(child);
    }
    median(times)
}

fn status_64(runs: usize) -> f64 {
    let dir = TempDir::new("bench-status");
    let jpeg = vec![0xA5u8; 60_000];
    let writers: Vec<Writer> = (0..64)
        .map(|i| {
            let name = format!("cam{i:02}");
            let mut options = WriterOptions::new(name.clone(), 4, 256 << 10);
            options.width = 1280;
            options.height = 720;
            let mut w = Writer::create(dir.path().join(format!("{name}.ring")), &options).unwrap();
            w.publish(
                &jpeg,
                &FrameInfo {
                    width: 1280,
                    height: 720,
                    ts_mono_ns: 0,
                    ts_realtime_ns: 0,
                    ts_camera_ns: None,
                },
            )
            .unwrap();
            w.update_status(|s| s.state = camd_ring::State::Ok);
            w
        })
        .collect();
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let out = Command::new(CAMD)
            .args(["status", "--format", "json", "--dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout)
                .matches("\"name\"")
                .count(),
            64
        );
    }
    drop(writers);
    median(times)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let json_path = args
        .iter()
        .position(|a| a == "--json")
        .map(|i| PathBuf::from(&args[i + 1]));
    let ((rss, pss, private), workers_rss) =
        supervisor_rss(Duration::from_secs(if quick { 2 } else { 3 }));
    let ready = start_to_ready(if quick { 2 } else { 5 });
    let status = status_64(if quick { 3 } else { 10 });
    println!("{:<24} {:>10} {:>8}", "metric", "value", "target");
    println!("{:<24} {:>10.2} {:>8}", "supervisor_rss_mib", rss, "<= 4");
    println!("{:<24} {:>10.2} {:>8}", "supervisor_pss_mib", pss, "-");
    println!(
        "{:<24} {:>10.2} {:>8}",
        "supervisor_private_mib", private, "-"
    );
    println!("{:<24} {:>10.1} {:>8}", "start_to_ready_ms", ready, "-");
    println!("{:<24} {:>10.1} {:>8}", "status_64_rings_ms", status, "-");
    println!("(the 2 workers of 4 test-pattern cameras each: {workers_rss:.1} MiB RSS in all)");
    if let Some(path) = json_path {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let json = format!(
            "{{\n  \"supervisor_rss_mib\": {rss:.3},\n  \
             \"supervisor_pss_mib\": {pss:.3},\n  \"supervisor_private_mib\": {private:.3},\n  \"start_to_ready_ms\": {ready:.2},\n  \
             \"status_64_rings_ms\": {status:.2},\n  \"workers_rss_mib_8_cameras\": {workers_rss:.2}\n}}\n"
        );
        std::fs::write(&path, json).unwrap();
        println!("wrote {}", path.display());
    }
}
