//! `cargo xtask bench capture`: what capture costs on this machine, as a table and as JSON.
//!
//! The fake cameras run in their own process (`examples/fake_cameras`, one shared textured
//! 720p15 mount per codec, so they encode once whatever the number of clients); the camd worker
//! and the bare pipelines each run in a child process of this binary, whose CPU time is read
//! from /proc over a measurement window after a warm-up.
//!
//! - cpu_vs_bare_h264: camd's worker with N H.264 cameras over the same N pipelines run bare
//!   (`rtspsrc ! rtph264depay ! h264parse ! avdec_h264 ! videoconvert ! jpegenc ! fakesink`),
//!   same cameras, runs alternated (camd, bare, camd, bare), ratio of the summed CPU.
//! - max_cameras_{h264,mjpeg}_720p15: the most cameras one worker holds at full rate (every
//!   camera's ring at >= 90% of 15 fps over the window), by a sweep of camera counts.
//! - worker_rss_mib_per_camera_h264: (RSS with N cameras - RSS with 1) / (N - 1).
//!
//! Usage: capture [--json PATH] [--quick]
//! Child modes: capture --worker DIR URL N | capture --bare URL N

use camd_test_support as support;

use camd::camera_config::{CameraConfig, Transport};
use camd::ring_files::ring_path;
use camd::source::Source;
use camd_ring::Reader;
use camd_worker::worker::Worker;
use gstreamer as gst;
use gstreamer::prelude::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FPS: f64 = 15.0;

fn child_worker(dir: &str, url: &str, n: usize) {
    let cameras = (0..n)
        .map(|i| {
            let mut c = CameraConfig::new(format!("cam{i}"), Source::parse(url).unwrap());
            c.transport = Transport::Tcp;
            c
        })
        .collect();
    let _worker = Worker::start(cameras, Path::new(dir), None).unwrap();
    println!("ready");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn child_bare(url: &str, n: usize) {
    gst::init().unwrap();
    let pipelines: Vec<gst::Element> = (0..n)
        .map(|_| {
            let line = format!(
                "rtspsrc location={url} protocols=tcp latency=200 ! rtph264depay ! h264parse ! avdec_h264 ! videoconvert ! jpegenc quality=85 ! fakesink sync=false"
            );
            let p = gst::parse::launch(&line).unwrap();
            p.set_state(gst::State::Playing).unwrap();
            p
        })
        .collect();
    println!("ready");
    let _keep = pipelines;
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// CPU seconds (user + system) and RSS (MiB) of a process, from /proc.
fn cpu_and_rss(pid: u32) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let cpu = (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / ticks;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss_kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    (cpu, rss_kib / 1024.0)
}

struct Run {
    cpu_s: f64,
    rss_mib: f64,
    min_fps: f64,
}

fn spawn_child(args: &[&str]) -> Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    child
}

/// Runs a child (`--worker` or `--bare`) with `n` cameras: warm-up, then a measured window.
fn measure(camd: bool, url: &str, n: usize, warmup: Duration, window: Duration) -> Run {
    let dir = PathBuf::from(format!(
        "/dev/shm/camd-bench-capture-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let n_text = n.to_string();
    let mut child = if camd {
        spawn_child(&["--worker", dir.to_str().unwrap(), url, &n_text])
    } else {
        spawn_child(&["--bare", url, &n_text])
    };
    std::thread::sleep(warmup);
    let readers: Vec<Reader> = if camd {
        (0..n)
            .filter_map(|i| Reader::open(ring_path(&dir, &format!("cam{i}"))).ok())
            .collect()
    } else {
        Vec::new()
    };
    let seq0: Vec<u64> = readers.iter().map(Reader::latest_seq).collect();
    let (cpu0, _) = cpu_and_rss(child.id());
    let start = Instant::now();
    std::thread::sleep(window);
    let (cpu1, rss) = cpu_and_rss(child.id());
    let elapsed = start.elapsed().as_secs_f64();
    let min_fps = if camd {
        if readers.len() < n {
            0.0
        } else {
            readers
                .iter()
                .zip(&seq0)
                .map(|(r, s)| (r.latest_seq() - s) as f64 / elapsed)
                .fold(f64::MAX, f64::min)
        }
    } else {
        f64::NAN
    };
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        cpu_s: cpu1 - cpu0,
        rss_mib: rss,
        min_fps,
    }
}

/// The most cameras held at >= 90% of full rate, over `counts` (stops at the first miss).
fn max_cameras(
    url: &str,
    counts: &[usize],
    warmup: Duration,
    window: Duration,
    log: &mut Vec<String>,
) -> usize {
    let mut best = 0;
    for &n in counts {
        let run = measure(true, url, n, warmup, window);
        let held = run.min_fps >= 0.9 * FPS;
        log.push(format!(
            "  {url} x{n}: slowest camera {:.1} fps, worker {:.0}% of a core, {}",
            run.min_fps,
            run.cpu_s / window.as_secs_f64() * 100.0,
            if held { "held" } else { "missed" }
        ));
        if !held {
            break;
        }
        best = n;
    }
    best
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--worker") => return child_worker(&args[1], &args[2], args[3].parse().unwrap()),
        Some("--bare") => return child_bare(&args[1], args[2].parse().unwrap()),
        _ => {}
    }
    let quick = args.iter().any(|a| a == "--quick");
    let json_path = args
        .iter()
        .position(|a| a == "--json")
        .map(|i| PathBuf::from(&args[i + 1]));
    let (warmup, window) = if quick {
        (Duration::from_secs(3), Duration::from_secs(4))
    } else {
        (Duration::from_secs(4), Duration::from_secs(10))
    };

    // In its own process: its CPU is not counted (needs the example built in release, which
    // `cargo xtask bench capture` does).
    let server = support::FakeCameraProcess::start(
        0,
        &[
            "h264=h264:1280x720@15:textured",
            "mjpeg=mjpeg:1280x720@15:textured",
        ],
    );
    let port = server.port;
    let h264 = format!("rtsp://127.0.0.1:{port}/h264");
    let mjpeg = format!("rtsp://127.0.0.1:{port}/mjpeg");

    // CPU against bare pipelines: 8 cameras, alternated runs.
    let n = 8;
    let rounds = if quick { 1 } else { 2 };
    let (mut camd_cpu, mut bare_cpu, mut camd_rss) = (0.0, 0.0, 0.0);
    for _ in 0..rounds {
        let c = measure(true, &h264, n, warmup, window);
        let b = measure(false, &h264, n, warmup, window);
        camd_cpu += c.cpu_s;
        bare_cpu += b.cpu_s;
        camd_rss = c.rss_mib;
    }
    let one = measure(true, &h264, 1, warmup, window);
    let rss_per_camera = (camd_rss - one.rss_mib) / (n - 1) as f64;
    let cpu_ratio = camd_cpu / bare_cpu;

    let mut log = Vec::new();
    let h264_counts: &[usize] = if quick {
        &[8, 16, 24]
    } else {
        &[8, 16, 24, 32, 40]
    };
    let mjpeg_counts: &[usize] = if quick {
        &[16, 32, 64]
    } else {
        &[16, 32, 48, 64, 80, 96]
    };
    let max_h264 = max_cameras(&h264, h264_counts, warmup, window, &mut log);
    let max_mjpeg = max_cameras(&mjpeg, mjpeg_counts, warmup, window, &mut log);
    drop(server);

    let secs = window.as_secs_f64() * rounds as f64;
    println!("sweep (each: {:?} warm-up, {:?} window):", warmup, window);
    for line in &log {
        println!("{line}");
    }
    let rows = [
        (
            "cpu_vs_bare_h264",
            cpu_ratio,
            format!(
                "<= 1.05 (camd {:.1}% vs bare {:.1}% of a core, {n} cameras)",
                camd_cpu / secs * 100.0,
                bare_cpu / secs * 100.0
            ),
            cpu_ratio <= 1.05,
        ),
        (
            "max_cameras_h264_720p15",
            max_h264 as f64,
            ">= 24".into(),
            max_h264 >= 24,
        ),
        (
            "max_cameras_mjpeg_720p15",
            max_mjpeg as f64,
            ">= 64".into(),
            max_mjpeg >= 64,
        ),
        (
            "worker_rss_mib_per_camera_h264",
            rss_per_camera,
            format!(
                "(no target; {:.1} MiB with 1 camera, {:.1} with {n})",
                one.rss_mib, camd_rss
            ),
            true,
        ),
    ];
    println!("{:<32} {:>9}  {:<60}", "metric", "value", "target");
    for (name, value, target, ok) in &rows {
        println!(
            "{name:<32} {value:>9.3}  {target:<60} {}",
            if *ok { "ok" } else { "MISSED" }
        );
    }
    if let Some(path) = json_path {
        let mut json = String::from("{\n");
        for (name, value, _, _) in &rows {
            json += &format!("  \"{name}\": {value:.4},\n");
        }
        json += &format!(
            "  \"camd_cpu_percent_h264_{n}\": {:.2},\n  \"bare_cpu_percent_h264_{n}\": {:.2},\n  \"window_s\": {},\n  \"meets_targets\": {}\n}}\n",
            camd_cpu / secs * 100.0,
            bare_cpu / secs * 100.0,
            window.as_secs(),
            rows.iter().all(|r| r.3)
        );
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, json).unwrap();
        println!("wrote {}", path.display());
    }
}
