//! `cargo xtask bench torture`: camd's workers killed over and over while readers check every
//! frame, as a table and as JSON (target/bench/torture.json).
//!
//! `camd run` (release build) with 4 test-pattern cameras (160x120, 10 fps) in 2 workers. Every
//! 10 s for 5 minutes (`--quick`: every 5 s for 60 s) one worker, in turn, is killed with
//! SIGKILL. Two reader processes (this program in `--reader` mode) block in `wait_next` on every
//! ring and copy every frame published, checking that each is a whole JPEG (SOI at the start,
//! EOI at the end): a torn frame would fail that.
//!
//! - gap_p50_s / gap_max_s: per kill, the longest time between the last frame a killed camera
//!   published before the kill and its first frame after (capture timestamps). Target:
//!   max <= 1.5 s.
//! - availability_{camera}_pct: per camera, the share of 50 ms samples at which its newest frame
//!   was younger than 250 ms (2.5 frame intervals). Target: >= 95 %.
//! - supervisor RSS (KiB) and open fds at start and end: no drift (fds equal, RSS within
//!   1 MiB).
//! - zombies: children of the supervisor in state Z at the end; orphans: camd workers whose
//!   parent is not the supervisor. Target: 0 and 0.
//! - torn: frames the readers found torn. Target: 0.
//!
//! Usage: torture [--json PATH] [--quick]      (reader mode: torture --reader DIR SECONDS CAMS)

use camd_test_support as support;

use camd_ring::{FrameMeta, Reader, State};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::daemon::{children_of, live_processes, Daemon};

const CAMERAS: [&str; 4] = ["a", "b", "c", "d"];
/// A camera is "up" while its newest frame is younger than this: 2.5 frame intervals at 10 fps,
/// so a sample during a restart gap counts as down once two frames are missing.
const FRESH: Duration = Duration::from_millis(250);

fn config() -> String {
    let mut text = String::new();
    for name in CAMERAS {
        text += &format!("[[camera]]\nname = \"{name}\"\nurl = \"test:ball\"\n");
    }
    text
}

const DAEMON: &str = "cameras_per_worker = 2\n[daemon.defaults]\nwidth = 160\nheight = 120\nmax_fps = 10\nslot_count = 8\nslot_capacity = 65536";

/// Reader mode: for `seconds`, every frame of every camera in `names`, copied and checked.
/// Prints `checked N torn M missed K`.
fn reader(dir: &Path, seconds: f64, names: &[&str]) {
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let threads: Vec<_> = names
        .iter()
        .map(|name| {
            let path = dir.join(format!("{name}.ring"));
            std::thread::spawn(move || {
                let ring = Reader::open(&path).unwrap();
                let (mut checked, mut torn, mut missed) = (0u64, 0u64, 0u64);
                let mut after = ring.latest_seq();
                let mut buf = Vec::new();
                while Instant::now() < until {
                    let Some(meta) = ring.wait_next(after, Duration::from_millis(200)).unwrap()
                    else {
                        continue;
                    };
                    for seq in after + 1..=meta.seq {
                        match ring.copy_frame(seq, &mut buf).unwrap() {
                            Some(m) => {
                                checked += 1;
                                let bytes = &buf[..m.len as usize];
                                if !(bytes.starts_with(&[0xff, 0xd8])
                                    && bytes.ends_with(&[0xff, 0xd9]))
                                {
                                    torn += 1;
                                }
                            }
                            None => missed += 1,
                        }
                    }
                    after = meta.seq;
                }
                (checked, torn, missed)
            })
        })
        .collect();
    let (mut checked, mut torn, mut missed) = (0, 0, 0);
    for t in threads {
        let (c, t, m) = t.join().unwrap();
        checked += c;
        torn += t;
        missed += m;
    }
    #[allow(clippy::print_stdout)]
    {
        println!("checked {checked} torn {torn} missed {missed}");
    }
}

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

fn rss_kib(pid: u32) -> u64 {
    support::proc_kib(&format!("/proc/{pid}/status"), "VmRSS:")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn latest(ring: &Reader) -> Option<FrameMeta> {
    ring.latest().ok().flatten()
}

struct Outcome {
    kills: usize,
    gaps: Vec<f64>,
    availability: Vec<(String, f64)>,
    rss: (u64, u64),
    fds: (usize, usize),
    zombies: usize,
    orphans: usize,
    checked: u64,
    torn: u64,
    missed: u64,
}

fn torture(total: Duration, every: Duration) -> Outcome {
    let daemon = Daemon::start(DAEMON, &config(), &[]);
    for name in CAMERAS {
        daemon.until_ok(name, 0, Duration::from_secs(20));
    }
    let supervisor = daemon.pid() as u32;
    // Let the first frames settle before taking the baseline.
    std::thread::sleep(Duration::from_secs(1));
    let start_rss = rss_kib(supervisor);
    let start_fds = fds(supervisor);
    let seconds = (total + Duration::from_secs(2)).as_secs_f64().to_string();
    let me = std::env::current_exe().unwrap();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            Command::new(&me)
                .arg("--reader")
                .arg(&daemon.run_dir)
                .arg(&seconds)
                .args(CAMERAS)
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let rings: Vec<Reader> = CAMERAS.iter().map(|n| daemon.ring(n)).collect();
    let began = Instant::now();
    let mut next_kill = began + every;
    let mut samples = vec![(0u64, 0u64); CAMERAS.len()];
    let mut gaps = Vec::new();
    let mut kills = 0usize;
    // Open gap measurements: (camera index, last frame's capture time before the kill, its seq).
    let mut pending: Vec<(usize, u64, u64)> = Vec::new();
    let mut worst_this_kill: Option<f64> = None;
    while began.elapsed() < total {
        let now_mono = camd_ring::monotonic_ns();
        for (i, ring) in rings.iter().enumerate() {
            samples[i].1 += 1;
            if latest(ring)
                .is_some_and(|m| now_mono.saturating_sub(m.ts_mono_ns) < FRESH.as_nanos() as u64)
            {
                samples[i].0 += 1;
            }
        }
        pending.retain(|&(i, before_ts, before_seq)| match latest(&rings[i]) {
            Some(m) if m.seq > before_seq => {
                let gap = m.ts_mono_ns.saturating_sub(before_ts) as f64 / 1e9;
                worst_this_kill = Some(worst_this_kill.map_or(gap, |w: f64| w.max(gap)));
                false
            }
            _ => true,
        });
        if pending.is_empty() {
            if let Some(worst) = worst_this_kill.take() {
                gaps.push(worst);
            }
        }
        if Instant::now() >= next_kill && pending.is_empty() {
            // Worker #0 runs a and b, #1 runs c and d; alternate.
            let first = (kills % 2) * 2;
            let victim = rings[first].status().unwrap().status.writer_pid;
            for (i, ring) in rings.iter().enumerate().skip(first).take(2) {
                let status = ring.status().unwrap();
                if status.status.writer_pid == victim && status.status.state == State::Ok {
                    if let Some(m) = latest(ring) {
                        pending.push((i, m.ts_mono_ns, m.seq));
                    }
                }
            }
            // SAFETY: kill(2) on a worker of this bench's daemon.
            unsafe { libc::kill(victim as i32, libc::SIGKILL) };
            kills += 1;
            next_kill += every;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let the last restart finish, then look for leftovers.
    std::thread::sleep(Duration::from_secs(2));
    let end_rss = rss_kib(supervisor);
    let end_fds = fds(supervisor);
    let zombies = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                let rest = &s[s.rfind(')').map_or(0, |i| i + 2)..];
                let mut f = rest.split(' ');
                f.next() == Some("Z") && f.next() == Some(&supervisor.to_string())
            })
        })
        .count();
    let workers: Vec<u32> = children_of(supervisor)
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let orphans = live_processes()
        .into_iter()
        .filter(|(pid, ppid, _)| {
            *ppid != supervisor
                && support::daemon::cmdline(*pid).starts_with("camd worker")
                && !workers.contains(pid)
        })
        .count();
    let (mut checked, mut torn, mut missed) = (0, 0, 0);
    for mut r in readers {
        let out = r.stdout.take().unwrap();
        let line = BufReader::new(out).lines().next().unwrap().unwrap();
        let n: Vec<u64> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        checked += n[0];
        torn += n[1];
        missed += n[2];
        assert!(r.wait().unwrap().success(), "a reader failed");
    }
    drop(daemon);
    Outcome {
        kills,
        gaps,
        availability: CAMERAS
            .iter()
            .zip(&samples)
            .map(|(n, (up, all))| (n.to_string(), 100.0 * *up as f64 / (*all).max(1) as f64))
            .collect(),
        rss: (start_rss, end_rss),
        fds: (start_fds, end_fds),
        zombies,
        orphans,
        checked,
        torn,
        missed,
    }
}

#[allow(clippy::print_stdout)]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--reader") {
        let names: Vec<&str> = args[3..].iter().map(String::as_str).collect();
        reader(Path::new(&args[1]), args[2].parse().unwrap(), &names);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let json_path = args
        .iter()
        .position(|a| a == "--json")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let (total, every) = if quick {
        (Duration::from_secs(60), Duration::from_secs(5))
    } else {
        (Duration::from_secs(300), Duration::from_secs(10))
    };
    let o = torture(total, every);
    let mut gaps = o.gaps.clone();
    gaps.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let (p50, max) = (percentile(&gaps, 50.0), gaps.last().copied().unwrap_or(0.0));
    let availability_min = o.availability.iter().map(|(_, a)| *a).fold(100.0, f64::min);
    let rss_drift = o.rss.1 as i64 - o.rss.0 as i64;
    let ok = |pass: bool| if pass { "ok" } else { "MISSED" };
    println!(
        "{} kills, one every {:?} for {:?}; readers checked {} frames ({} overwritten before they got to them)",
        o.kills, every, total, o.checked, o.missed
    );
    println!(
        "{:<24} {:>12} {:>10} {:>7}",
        "metric", "value", "target", ""
    );
    println!("{:<24} {:>12.3} {:>10} {:>7}", "gap_p50_s", p50, "-", "");
    println!(
        "{:<24} {:>12.3} {:>10} {:>7}",
        "gap_max_s",
        max,
        "<= 1.5",
        ok(max <= 1.5)
    );
    for (name, a) in &o.availability {
        println!(
            "{:<24} {:>12.2} {:>10} {:>7}",
            format!("availability_{name}_pct"),
            a,
            ">= 95",
            ok(*a >= 95.0)
        );
    }
    println!(
        "{:<24} {:>12} {:>10} {:>7}",
        "supervisor_rss_kib",
        format!("{} -> {}", o.rss.0, o.rss.1),
        "+1024",
        ok(rss_drift <= 1024)
    );
    println!(
        "{:<24} {:>12} {:>10} {:>7}",
        "supervisor_fds",
        format!("{} -> {}", o.fds.0, o.fds.1),
        "equal",
        ok(o.fds.0 == o.fds.1)
    );
    println!(
        "{:<24} {:>12} {:>10} {:>7}",
        "zombies",
        o.zombies,
        "0",
        ok(o.zombies == 0)
    );
    println!(
        "{:<24} {:>12} {:>10} {:>7}",
        "orphans",
        o.orphans,
        "0",
        ok(o.orphans == 0)
    );
    println!(
        "{:<24} {:>12} {:>10} {:>7}",
        "torn_frames",
        o.torn,
        "0",
        ok(o.torn == 0)
    );
    if let Some(path) = json_path {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let availability: Vec<String> = o
            .availability
            .iter()
            .map(|(n, a)| format!("\"{n}\": {a:.3}"))
            .collect();
        let json = format!(
            "{{\"kills\": {}, \"every_s\": {}, \"total_s\": {}, \"gap_p50_s\": {p50:.4}, \"gap_max_s\": {max:.4}, \"gaps_s\": {:?}, \"availability_pct\": {{{}}}, \"availability_min_pct\": {availability_min:.3}, \"supervisor_rss_kib\": [{}, {}], \"supervisor_fds\": [{}, {}], \"zombies\": {}, \"orphans\": {}, \"frames_checked\": {}, \"frames_missed\": {}, \"torn_frames\": {}}}\n",
            o.kills,
            every.as_secs(),
            total.as_secs(),
            o.gaps,
            availability.join(", "),
            o.rss.0,
            o.rss.1,
            o.fds.0,
            o.fds.1,
            o.zombies,
            o.orphans,
            o.checked,
            o.missed,
            o.torn
        );
        std::fs::write(&path, json).unwrap();
        println!("wrote {}", path.display());
    }
}
