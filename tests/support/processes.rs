//! What the benchmarks that measure whole processes share (`benches/vs_python.rs`,
//! `benches/pixels.rs`): the CPU time (utime + stime from `/proc/PID/stat`) of process trees
//! over a measurement window, their memory, a child's stdout lines up to its `ready`, signals,
//! stopping and reaping, `camd run` started and stopped for a window, percentiles, and their
//! command line (`[--json PATH] [--quick]`).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long each measured run warms up, then is measured.
pub struct Timing {
    pub warmup: Duration,
    pub window: Duration,
}

/// A bench's command line, `[--json PATH] [--quick]` (after its own child modes): `--quick` is
/// one round of 5 s windows after 3 s warm-ups, else two rounds of 15 s after 5 s.
pub struct Options {
    pub json: Option<PathBuf>,
    pub timing: Timing,
    pub rounds: usize,
}

impl Options {
    pub fn parse(args: &[String]) -> Options {
        let quick = args.iter().any(|a| a == "--quick");
        let json = args
            .iter()
            .position(|a| a == "--json")
            .map(|i| PathBuf::from(&args[i + 1]));
        let (warmup, window, rounds) = if quick { (3, 5, 1) } else { (5, 15, 2) };
        Options {
            json,
            timing: Timing {
                warmup: Duration::from_secs(warmup),
                window: Duration::from_secs(window),
            },
            rounds,
        }
    }

    /// Writes `text` to the `--json` file, if one was given.
    pub fn write_json(&self, text: &str) {
        if let Some(path) = &self.json {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
            println!("wrote {}", path.display());
        }
    }
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_CLK_TCK) as f64 }
}

/// (ppid, utime + stime in seconds) of a live (non-zombie) process.
pub fn stat(pid: u32) -> Option<(u32, f64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
    if fields[0] == "Z" {
        return None;
    }
    let ppid = fields[1].parse().ok()?;
    let ticks: f64 = fields[11].parse::<f64>().ok()? + fields[12].parse::<f64>().ok()?;
    Some((ppid, ticks / clock_ticks()))
}

/// Every live process in the trees under `roots`, with its CPU seconds so far.
pub fn tree_cpu(roots: &[u32]) -> HashMap<u32, f64> {
    let mut all = HashMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) {
            if let Some(s) = stat(pid) {
                all.insert(pid, s);
            }
        }
    }
    let mut found: HashMap<u32, f64> = HashMap::new();
    let mut queue: Vec<u32> = roots.to_vec();
    while let Some(pid) = queue.pop() {
        if let Some(&(_, cpu)) = all.get(&pid) {
            if found.insert(pid, cpu).is_none() {
                queue.extend(all.iter().filter(|(_, s)| s.0 == pid).map(|(p, _)| *p));
            }
        }
    }
    found
}

/// (RSS, PSS) in MiB summed over `pids`.
pub fn memory_mib(pids: impl Iterator<Item = u32>) -> (f64, f64) {
    let (mut rss, mut pss) = (0, 0);
    for pid in pids {
        rss += crate::proc_kib(&format!("/proc/{pid}/status"), "VmRSS:");
        pss += crate::proc_kib(&format!("/proc/{pid}/smaps_rollup"), "Pss:");
    }
    (rss as f64 / 1024.0, pss as f64 / 1024.0)
}

/// CPU over a window by process: processes alive at both ends count their difference,
/// processes born inside it all of theirs. Also how many processes died inside it (their CPU
/// since the start is lost: should be none).
pub fn cpu_delta(
    before: &HashMap<u32, f64>,
    after: &HashMap<u32, f64>,
) -> (Vec<(u32, f64)>, usize) {
    let cpu = after
        .iter()
        .map(|(pid, t)| (*pid, t - before.get(pid).copied().unwrap_or(0.0)))
        .collect();
    let died = before.keys().filter(|p| !after.contains_key(p)).count();
    (cpu, died)
}

/// A measured window over the process trees under some roots: CPU by process between its two
/// ends, memory at its end.
pub struct CpuWindow {
    /// CLOCK_MONOTONIC at the window's start and end, ns.
    pub t0: u64,
    pub t1: u64,
    /// CPU seconds inside the window, by process.
    pub by_pid: Vec<(u32, f64)>,
    /// RSS and PSS summed over the processes alive at the end, MiB.
    pub rss_mib: f64,
    pub pss_mib: f64,
    /// Processes alive at the end.
    pub processes: usize,
}

impl CpuWindow {
    /// Sleeps `warmup`, then measures `window` long. `at` runs right after each CPU snapshot
    /// (a bench reads its rings' sequence numbers there). `who` names the bench in warnings.
    pub fn measure(
        who: &str,
        roots: &[u32],
        warmup: Duration,
        window: Duration,
        mut at: impl FnMut(),
    ) -> CpuWindow {
        std::thread::sleep(warmup);
        let before = tree_cpu(roots);
        let t0 = camd_ring::monotonic_ns();
        at();
        std::thread::sleep(window);
        let after = tree_cpu(roots);
        let t1 = camd_ring::monotonic_ns();
        at();
        let (rss_mib, pss_mib) = memory_mib(after.keys().copied());
        let (by_pid, died) = cpu_delta(&before, &after);
        if died > 0 {
            eprintln!("{who}: {died} process(es) ended inside the window: CPU undercounted");
        }
        CpuWindow {
            t0,
            t1,
            by_pid,
            rss_mib,
            pss_mib,
            processes: after.len(),
        }
    }

    pub fn seconds(&self) -> f64 {
        (self.t1 - self.t0) as f64 / 1e9
    }

    /// CPU seconds of every process.
    pub fn cpu_s(&self) -> f64 {
        self.by_pid.iter().map(|p| p.1).sum()
    }

    /// CPU seconds summed by the role `role` gives each process.
    pub fn by_role(&self, role: impl Fn(u32) -> String) -> BTreeMap<String, f64> {
        let mut by_role = BTreeMap::new();
        for (pid, cpu) in &self.by_pid {
            *by_role.entry(role(*pid)).or_default() += cpu;
        }
        by_role
    }
}

/// The child's stdout lines, read by a thread.
pub fn stdout_lines(child: &mut Child) -> Receiver<String> {
    let (tx, rx) = channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for the line `ready`, passing the others to `seen`.
pub fn until_ready(
    rx: &Receiver<String>,
    timeout: Duration,
    mut seen: impl FnMut(&str),
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line == "ready" => return Ok(()),
            Ok(line) => seen(&line),
            Err(RecvTimeoutError::Timeout) => return Err(format!("no 'ready' within {timeout:?}")),
            Err(RecvTimeoutError::Disconnected) => return Err("exited before 'ready'".into()),
        }
    }
}

/// kill(2) of a process (or, negative, a process group) the bench started.
pub fn signal(pid: i32, sig: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions; the callers name their own children.
    unsafe { libc::kill(pid, sig) };
}

/// Waits up to `timeout` for the child to exit; SIGKILL (to `kill_target`) after that.
pub fn reap(child: &mut Child, timeout: Duration, kill_target: i32) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!(
        "pid {} still running after {timeout:?}: SIGKILL",
        child.id()
    );
    signal(kill_target, libc::SIGKILL);
    let _ = child.wait();
}

/// `camd run` (log level warn, into `dir/camd.log`) with the rings in `dir/run`: `daemon` lines
/// in `[daemon]`, `defaults` in `[daemon.defaults]`, and a camera on `url` for each of `names`.
pub fn start_camd(
    dir: &Path,
    daemon: &str,
    defaults: &str,
    names: &[String],
    url: &str,
) -> Result<Child, String> {
    let mut config = format!(
        "[daemon]\nruntime_dir = \"{}\"\n{daemon}\n[daemon.defaults]\n{defaults}",
        dir.join("run").display()
    );
    for name in names {
        config += &format!("\n[[camera]]\nname = \"{name}\"\nurl = \"{url}\"\n");
    }
    std::fs::write(dir.join("camd.toml"), config).unwrap();
    crate::daemon::run_command(&dir.join("camd.toml"), "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("camd.log")).unwrap())
        .spawn()
        .map_err(|e| format!("{}: {e}", crate::daemon::camd().display()))
}

/// Stops `camd run` (SIGTERM; SIGKILL after 10 s) and kills whatever workers it left.
pub fn stop_camd(camd: &mut Child) {
    let workers = crate::daemon::children_of(camd.id());
    signal(camd.id() as i32, libc::SIGTERM);
    reap(camd, Duration::from_secs(10), camd.id() as i32);
    for (pid, _) in workers {
        signal(pid as i32, libc::SIGKILL);
    }
}

/// The `p` quantile (0 to 1) of `values` by the nearest rank; NaN for none.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// The last 20 lines of a log file, for an error message.
pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// The Python interpreter the bench was given (`CAMD_BENCH_PYTHON`: `cargo xtask bench` checks
/// it has OpenCV), else `python3`.
pub fn python() -> String {
    std::env::var("CAMD_BENCH_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// A file of whitespace-separated records, one a line.
pub fn read_lines(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}
