//! `cargo xtask bench vs-python`: camd against the Python design it replaces, on the same fake
//! cameras in the same run, as a table and as JSON (target/bench/vs_python.json).
//!
//! The fake cameras run in their own process (one shared textured 720p15 mount per codec; their
//! CPU is counted on neither side). For each codec (H.264, then MJPEG), 8 cameras, the two sides
//! run one after the other against that same server, in windows of equal length, each after
//! its own start and a warm-up (rounds alternate the order: camd, python, then python, camd):
//!
//! - camd: `camd run` (supervisor + 2 workers of 4 cameras, RTSP over TCP, JPEG quality 85;
//!   MJPEG passes through) and a consumer process (this binary, `--consumer`) that waits on
//!   every ring (futex) and copies out every frame published.
//! - python: `bench/python_design/run.py`: a Manager process, 2 worker processes of 4 camera
//!   threads (cv2.VideoCapture + cv2.imencode at quality 85), each copying its local dict into
//!   the Manager dict every 100 ms, and a consumer process polling the dict.
//!
//! Per side: CPU (utime + stime from /proc of every process of the side, over the window),
//! frames captured (camd: ring sequence numbers; python: frames encoded) and delivered (held by
//! the consumer), delivery latency (CLOCK_MONOTONIC when the JPEG existed in the capturing
//! process to CLOCK_MONOTONIC when the consumer held its copy), RSS and PSS summed over the side's
//! processes at the end of the window.
//!
//! Usage: vs_python [--json PATH] [--quick]
//! Child mode: vs_python --consumer OUT DIR NAME...
//! Environment: CAMD_BENCH_PYTHON, an interpreter with OpenCV (default python3).

use camd_test_support as support;

use support::processes::{
    self, python, read_lines, reap, signal, start_camd, stdout_lines, stop_camd, tail, until_ready,
    Options, Timing,
};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const CAMERAS: usize = 8;
const PER_PROCESS: usize = 4;
const QUALITY: u32 = 85;
/// After the window, before stopping: frames captured in the window still on their way.
const DRAIN: Duration = Duration::from_millis(500);

#[derive(Clone, Copy, PartialEq, Debug)]
enum Side {
    Camd,
    Python,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Camd => "camd",
            Side::Python => "python",
        }
    }
}

/// One side's figures, summed over rounds (memory: the mean of the rounds).
#[derive(Default)]
struct Measured {
    rounds: usize,
    window_s: f64,
    cpu_s: f64,
    captured: u64,
    delivered: u64,
    latencies_ms: Vec<f64>,
    rss_mib: f64,
    pss_mib: f64,
    processes: usize,
    /// CPU seconds by role (supervisor, worker, consumer, manager, main).
    by_role: BTreeMap<String, f64>,
}

impl Measured {
    fn add(&mut self, other: Measured) {
        self.rounds += other.rounds;
        self.window_s += other.window_s;
        self.cpu_s += other.cpu_s;
        self.captured += other.captured;
        self.delivered += other.delivered;
        self.latencies_ms.extend(other.latencies_ms);
        self.rss_mib += other.rss_mib;
        self.pss_mib += other.pss_mib;
        self.processes = other.processes;
        for (role, cpu) in other.by_role {
            *self.by_role.entry(role).or_default() += cpu;
        }
    }

    fn rss(&self) -> f64 {
        self.rss_mib / self.rounds.max(1) as f64
    }

    fn pss(&self) -> f64 {
        self.pss_mib / self.rounds.max(1) as f64
    }

    fn percentile(&self, p: f64) -> f64 {
        processes::percentile(&self.latencies_ms, p)
    }

    fn cpu_percent(&self) -> f64 {
        self.cpu_s / self.window_s * 100.0
    }

    fn cpu_ms_per_frame(&self) -> f64 {
        self.cpu_s * 1000.0 / self.captured.max(1) as f64
    }

    fn delivered_fraction(&self) -> f64 {
        self.delivered as f64 / self.captured.max(1) as f64
    }
}

// ---- child processes ----

/// Consumer records: (camera, seq, ns when the JPEG existed (camd: 0 if not known), ns when the
/// consumer held it).
fn consumer_records(path: &Path) -> Vec<(String, u64, u64, u64)> {
    read_lines(path)
        .into_iter()
        .map(|f| {
            (
                f[0].clone(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
            )
        })
        .collect()
}

fn names() -> Vec<String> {
    (0..CAMERAS).map(|i| format!("cam{i}")).collect()
}

fn work_dir(side: Side) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = PathBuf::from(format!(
        "/dev/shm/camd-bench-vspy-{}-{}-{n}",
        std::process::id(),
        side.name()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// ---- camd's consumer (a child process of this binary) ----

/// `vs_python --consumer OUT DIR NAME...`: one thread per ring, blocked in `wait_next` (futex:
/// woken by the publish), then a copy of every frame published since the last one it held
/// (`copy_frame` by sequence number: the ring keeps each frame for `slot_count` publishes, so a
/// consumer that wakes late still gets every frame, as long as it is less than 4 frames late).
/// Prints `ready` once every ring has given a frame; at the end of its stdin writes OUT (camera,
/// seq, CLOCK_MONOTONIC of the frame's publish or 0, CLOCK_MONOTONIC after the copy) and exits.
fn child_consumer(out: &str, dir: &str, names: &[String]) {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    let stop = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = names
        .iter()
        .map(|name| {
            let path = Path::new(dir).join(format!("{name}.ring"));
            let (name, stop, started) = (name.clone(), stop.clone(), started.clone());
            std::thread::spawn(move || {
                let ring = support::wait_for(Duration::from_secs(30), || {
                    camd_ring::Reader::open(&path).ok()
                })
                .expect("ring within 30 s");
                let mut records = Vec::new();
                let mut jpeg = Vec::new();
                let mut last = ring.latest_seq();
                let mut counted = false;
                while !stop.load(Ordering::Relaxed) {
                    if ring
                        .wait_next(last, Duration::from_millis(200))
                        .unwrap()
                        .is_none()
                    {
                        continue;
                    }
                    let latest = ring.latest_seq();
                    for seq in last + 1..=latest {
                        if let Some(meta) = ring.copy_frame(seq, &mut jpeg).unwrap() {
                            let held = camd_ring::monotonic_ns();
                            records.push((meta.seq, published(&ring, &meta), held));
                        }
                    }
                    if !counted && !records.is_empty() {
                        counted = true;
                        started.fetch_add(1, Ordering::SeqCst);
                    }
                    last = latest;
                }
                (name, records)
            })
        })
        .collect();
    while started.load(Ordering::SeqCst) < names.len() {
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("ready");
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    stop.store(true, Ordering::Relaxed);
    let mut text = String::new();
    for thread in threads {
        let (name, records) = thread.join().unwrap();
        for (seq, produced, held) in records {
            text += &format!("{name} {seq} {produced} {held}\n");
        }
    }
    std::fs::write(out, text).unwrap();
}

/// When camd published frame `meta` (its JPEG existed: the ring's timestamps are the earlier
/// capture time): the liveness heartbeat, written just after the frame, while the frame is the
/// latest; 0 (not known) if a newer frame came first.
fn published(ring: &camd_ring::Reader, meta: &camd_ring::FrameMeta) -> u64 {
    for _ in 0..1000 {
        let Ok(snapshot) = ring.status() else {
            return 0;
        };
        if snapshot.latest_seq != meta.seq {
            return 0;
        }
        if snapshot.heartbeat_mono_ns >= meta.ts_mono_ns {
            return snapshot.heartbeat_mono_ns;
        }
        std::thread::yield_now(); // woken between the frame and its heartbeat
    }
    0
}

// ---- the two sides ----

/// The window itself (warm-up, CPU of the trees under the roots at both ends, memory at the
/// end) and its CPU by role.
struct Window {
    cpu: processes::CpuWindow,
    by_role: BTreeMap<String, f64>,
}

impl Window {
    /// The side's figures: `delivered` are the consumer's records of frames captured inside
    /// the window.
    fn measured(
        self,
        captured: u64,
        delivered: impl Iterator<Item = (String, u64, u64, u64)>,
    ) -> Measured {
        let delivered: Vec<(String, u64, u64, u64)> = delivered.collect();
        // Latency over the frames whose JPEG's time is known (0: camd's consumer woke after a
        // newer frame, so it cannot tell when this one was published).
        let latencies_ms: Vec<f64> = delivered
            .iter()
            .filter(|(_, _, produced, _)| *produced != 0)
            .map(|(_, _, produced, held)| held.saturating_sub(*produced) as f64 / 1e6)
            .collect();
        Measured {
            rounds: 1,
            window_s: self.cpu.seconds(),
            cpu_s: self.cpu.cpu_s(),
            captured,
            delivered: delivered.len() as u64,
            latencies_ms,
            rss_mib: self.cpu.rss_mib,
            pss_mib: self.cpu.pss_mib,
            processes: self.cpu.processes,
            by_role: self.by_role,
        }
    }
}

/// `at` runs right after each CPU snapshot (camd reads its rings' sequence numbers there).
fn window(
    roots: &[u32],
    timing: &Timing,
    role: impl Fn(u32) -> String,
    at: impl FnMut(),
) -> Window {
    let cpu = processes::CpuWindow::measure("vs_python", roots, timing.warmup, timing.window, at);
    let by_role = cpu.by_role(role);
    std::thread::sleep(DRAIN);
    Window { cpu, by_role }
}

fn run_camd(url: &str, timing: &Timing) -> Result<Measured, String> {
    let dir = work_dir(Side::Camd);
    let run_dir = dir.join("run");
    let log = dir.join("camd.log");
    let mut camd = start_camd(
        &dir,
        &format!("cameras_per_worker = {PER_PROCESS}\n"),
        &format!("jpeg_quality = {QUALITY}\ntransport = \"tcp\"\n"),
        &names(),
        url,
    )?;
    let records_path = dir.join("records.txt");
    let mut consumer = Command::new(std::env::current_exe().unwrap())
        .arg("--consumer")
        .arg(&records_path)
        .arg(&run_dir)
        .args(names())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stdout_lines(&mut consumer);
    let ready = until_ready(&lines, Duration::from_secs(30), |_| {});

    let stop = |camd: &mut Child, consumer: &mut Child| {
        drop(consumer.stdin.take()); // end of input: the consumer writes its records and exits
        reap(consumer, Duration::from_secs(10), consumer.id() as i32);
        stop_camd(camd);
    };
    if let Err(e) = ready {
        stop(&mut camd, &mut consumer);
        return Err(format!(
            "camd side: consumer {e}\ncamd log:\n{}",
            tail(&log)
        ));
    }

    let readers: Vec<camd_ring::Reader> = names()
        .iter()
        .map(|n| camd_ring::Reader::open(run_dir.join(format!("{n}.ring"))).unwrap())
        .collect();
    let mut seqs: Vec<Vec<u64>> = Vec::new();
    let (supervisor, consumer_pid) = (camd.id(), consumer.id());
    let role = |pid| match pid {
        p if p == supervisor => "supervisor".to_owned(),
        p if p == consumer_pid => "consumer".to_owned(),
        _ => "worker".to_owned(),
    };
    let w = window(&[supervisor, consumer_pid], timing, role, || {
        seqs.push(readers.iter().map(camd_ring::Reader::latest_seq).collect())
    });
    stop(&mut camd, &mut consumer);

    let (seq0, seq1) = (&seqs[0], &seqs[1]);
    let index: HashMap<String, usize> = names().into_iter().zip(0..).collect();
    let captured = seq0.iter().zip(seq1).map(|(a, b)| b - a).sum();
    let delivered = consumer_records(&records_path)
        .into_iter()
        .filter(|(name, seq, _, _)| *seq > seq0[index[name]] && *seq <= seq1[index[name]]);
    let measured = w.measured(captured, delivered);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(measured)
}

fn run_python(
    url: &str,
    timing: &Timing,
    backends: &mut HashSet<String>,
) -> Result<Measured, String> {
    let dir = work_dir(Side::Python);
    let log = dir.join("python.log");
    let mut launcher = Command::new(python())
        .arg(Path::new(ROOT).join("bench/python_design/run.py"))
        .arg("--out-dir")
        .arg(&dir)
        .args(["--per-process", &PER_PROCESS.to_string()])
        .args(["--quality", &QUALITY.to_string()])
        .args(names().iter().map(|n| format!("{n}={url}")))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        // Its own process group: the stop is a Ctrl-C to the whole group, as at a terminal.
        .process_group(0)
        .spawn()
        .map_err(|e| format!("{}: {e}", python()))?;
    let group = -(launcher.id() as i32);
    let lines = stdout_lines(&mut launcher);
    let mut roles: HashMap<u32, String> = HashMap::new();
    roles.insert(launcher.id(), "main".to_owned());
    let ready = until_ready(&lines, Duration::from_secs(60), |line| {
        if let Some((role, pid)) = line.strip_prefix("pid ").and_then(|r| r.split_once(' ')) {
            roles.insert(pid.parse().unwrap(), role.to_owned());
        }
        if let Some(rest) = line.strip_prefix("camera ") {
            if let Some((_, backend)) = rest.split_once(" backend ") {
                backends.insert(backend.to_owned());
            }
        }
    });
    let stop = |launcher: &mut Child| {
        signal(group, libc::SIGINT);
        reap(launcher, Duration::from_secs(15), group);
        // Anything of the group left behind.
        signal(group, libc::SIGKILL);
    };
    if let Err(e) = ready {
        stop(&mut launcher);
        return Err(format!("python side: {e}\nlog:\n{}", tail(&log)));
    }

    let role = |pid| {
        roles
            .get(&pid)
            .cloned()
            .unwrap_or_else(|| "other".to_owned())
    };
    let w = window(&[launcher.id()], timing, role, || {});
    stop(&mut launcher);

    let mut captured: HashSet<(String, u64)> = HashSet::new();
    for p in 0..CAMERAS.div_ceil(PER_PROCESS) {
        for f in read_lines(&dir.join(format!("capture-{p}.txt"))) {
            let ns: u64 = f[2].parse().unwrap();
            if ns >= w.cpu.t0 && ns < w.cpu.t1 {
                captured.insert((f[0].clone(), f[1].parse().unwrap()));
            }
        }
    }
    let delivered = consumer_records(&dir.join("consumer.txt"))
        .into_iter()
        .filter(|(name, seq, _, _)| captured.contains(&(name.clone(), *seq)));
    let measured = w.measured(captured.len() as u64, delivered);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(measured)
}

// ---- report ----

struct CodecResult {
    codec: &'static str,
    camd: Measured,
    python: Measured,
    cpu_target: f64,
}

impl CodecResult {
    fn cpu_ratio(&self) -> f64 {
        self.python.cpu_s / self.camd.cpu_s
    }

    /// The CPU ratio per frame captured: the same as cpu_ratio when both sides keep up.
    fn cpu_ratio_per_frame(&self) -> f64 {
        self.python.cpu_ms_per_frame() / self.camd.cpu_ms_per_frame()
    }

    fn p50_ratio(&self) -> f64 {
        self.python.percentile(0.5) / self.camd.percentile(0.5)
    }

    /// (name, met, text) of each target.
    fn targets(&self) -> Vec<(String, bool, String)> {
        vec![
            (
                format!("{}: camd delivers every captured frame", self.codec),
                self.camd.delivered == self.camd.captured,
                format!(
                    "{} of {} (python {} of {}, {:.0} %)",
                    self.camd.delivered,
                    self.camd.captured,
                    self.python.delivered,
                    self.python.captured,
                    self.python.delivered_fraction() * 100.0
                ),
            ),
            (
                format!("{}: p50 delivery latency >= 100x lower", self.codec),
                self.p50_ratio() >= 100.0,
                format!(
                    "{:.0}x ({:.3} ms vs {:.1} ms)",
                    self.p50_ratio(),
                    self.camd.percentile(0.5),
                    self.python.percentile(0.5)
                ),
            ),
            (
                format!("{}: CPU >= {}x lower", self.codec, self.cpu_target),
                self.cpu_ratio() >= self.cpu_target,
                format!(
                    "{:.2}x ({:.1} % vs {:.1} % of a core; per frame {:.2}x)",
                    self.cpu_ratio(),
                    self.camd.cpu_percent(),
                    self.python.cpu_percent(),
                    self.cpu_ratio_per_frame()
                ),
            ),
        ]
    }
}

fn side_json(m: &Measured) -> String {
    let by_role: Vec<String> = m
        .by_role
        .iter()
        .map(|(role, cpu)| format!("\"{role}\": {cpu:.3}"))
        .collect();
    format!(
        "{{\"cpu_s\": {:.3}, \"cpu_percent_of_a_core\": {:.2}, \"frames_captured\": {}, \
         \"frames_delivered\": {}, \"delivered_fraction\": {:.4}, \"latency_p50_ms\": {:.4}, \
         \"latency_p99_ms\": {:.4}, \"rss_mib\": {:.1}, \"pss_mib\": {:.1}, \"processes\": {}, \
         \"cpu_ms_per_frame\": {:.3}, \"cpu_s_by_role\": {{{}}}}}",
        m.cpu_s,
        m.cpu_percent(),
        m.captured,
        m.delivered,
        m.delivered_fraction(),
        m.percentile(0.5),
        m.percentile(0.99),
        m.rss(),
        m.pss(),
        m.processes,
        m.cpu_ms_per_frame(),
        by_role.join(", ")
    )
}

/// "worker 50.1 %, consumer 3.2 %, ...": each role's share of a core over the windows.
fn roles_text(m: &Measured) -> String {
    let mut roles: Vec<(&String, &f64)> = m.by_role.iter().collect();
    roles.sort_by(|a, b| b.1.partial_cmp(a.1).unwrap());
    roles
        .iter()
        .map(|(role, cpu)| format!("{role} {:.1} %", *cpu / m.window_s * 100.0))
        .collect::<Vec<_>>()
        .join(", ")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--consumer") {
        return child_consumer(&args[1], &args[2], &args[3..]);
    }
    let options = Options::parse(&args);
    let (timing, rounds) = (&options.timing, options.rounds);

    let server = support::FakeCameraProcess::start(
        0,
        &[
            "h264=h264:1280x720@15:textured",
            "mjpeg=mjpeg:1280x720@15:textured",
        ],
    );
    let mut backends = HashSet::new();
    let mut results = Vec::new();
    for (codec, cpu_target) in [("h264", 1.3), ("mjpeg", 5.0)] {
        let url = server.url(codec);
        let (mut camd, mut python) = (Measured::default(), Measured::default());
        for round in 0..rounds {
            let order = if round % 2 == 0 {
                [Side::Camd, Side::Python]
            } else {
                [Side::Python, Side::Camd]
            };
            for side in order {
                let run = match side {
                    Side::Camd => run_camd(&url, timing),
                    Side::Python => run_python(&url, timing, &mut backends),
                }
                .unwrap_or_else(|e| panic!("{e}"));
                println!(
                    "  {codec} round {} {:<6}: {:5.1} % of a core, {} of {} frames delivered, p50 {:.3} ms",
                    round + 1,
                    side.name(),
                    run.cpu_percent(),
                    run.delivered,
                    run.captured,
                    run.percentile(0.5)
                );
                match side {
                    Side::Camd => camd.add(run),
                    Side::Python => python.add(run),
                }
            }
        }
        results.push(CodecResult {
            codec,
            camd,
            python,
            cpu_target,
        });
    }
    drop(server);

    let backends: Vec<String> = backends.into_iter().collect();
    println!(
        "\n{CAMERAS} cameras 1280x720@15 textured, JPEG quality {QUALITY}, {rounds} round(s) of {:?} \
         windows after {:?} warm-up; python capture backend: {}",
        timing.window,
        timing.warmup,
        backends.join(",")
    );
    println!(
        "{:<6} {:<7} {:>8} {:>7} {:>9} {:>9} {:>7} {:>9} {:>9} {:>8} {:>8}",
        "codec",
        "side",
        "cpu_s",
        "%core",
        "captured",
        "delivered",
        "deliv%",
        "p50_ms",
        "p99_ms",
        "rss_mib",
        "pss_mib"
    );
    for r in &results {
        for (side, m) in [("camd", &r.camd), ("python", &r.python)] {
            println!(
                "{:<6} {:<7} {:>8.2} {:>7.1} {:>9} {:>9} {:>7.1} {:>9.3} {:>9.3} {:>8.1} {:>8.1}",
                r.codec,
                side,
                m.cpu_s,
                m.cpu_percent(),
                m.captured,
                m.delivered,
                m.delivered_fraction() * 100.0,
                m.percentile(0.5),
                m.percentile(0.99),
                m.rss(),
                m.pss()
            );
        }
    }
    println!("\nCPU by process role, % of a core:");
    for r in &results {
        for (side, m) in [("camd", &r.camd), ("python", &r.python)] {
            println!("{:<6} {:<7} {}", r.codec, side, roles_text(m));
        }
    }
    println!();
    let mut all_met = true;
    for r in &results {
        for (name, met, text) in r.targets() {
            all_met &= met;
            println!(
                "{name:<45} {text:<58} {}",
                if met { "ok" } else { "MISSED" }
            );
        }
    }

    let mut json = String::from("{\n");
    for r in &results {
        json += &format!(
            "  \"{}\": {{\n    \"cameras\": {CAMERAS},\n    \"cpu_ratio\": {:.3},\n    \
             \"cpu_ratio_per_frame\": {:.3},\n    \"p50_latency_ratio\": {:.1},\n    \"camd\": {},\n    \"python\": {}\n  }},\n",
            r.codec,
            r.cpu_ratio(),
            r.cpu_ratio_per_frame(),
            r.p50_ratio(),
            side_json(&r.camd),
            side_json(&r.python)
        );
    }
    json += &format!(
        "  \"window_s\": {},\n  \"warmup_s\": {},\n  \"rounds\": {rounds},\n  \
         \"jpeg_quality\": {QUALITY},\n  \"python_capture_backend\": \"{}\",\n  \
         \"meets_targets\": {all_met}\n}}\n",
        timing.window.as_secs(),
        timing.warmup.as_secs(),
        backends.join(",")
    );
    options.write_json(&json);
}
