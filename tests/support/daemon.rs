//! `camd run` as a real process for the daemon tests: a config in a temp dir, the log in a
//! file, signals, the worker processes found through /proc, and the rings it writes.

use super::{wait_for, TempDir};
use camd_ring::{Reader, State, StatusSnapshot};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// `camd` of the same build as the running test or bench (`target/PROFILE/deps/NAME-HASH` ->
/// `target/PROFILE/camd`): this crate is a library, so cargo gives it no `CARGO_BIN_EXE_camd`.
pub fn camd() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let camd = exe.parent().unwrap().parent().unwrap().join("camd");
    assert!(
        camd.exists(),
        "{} missing: run `cargo build --workspace` first (`cargo xtask test` does)",
        camd.display()
    );
    camd
}

pub struct Daemon {
    child: Child,
    pub dir: TempDir,
    pub config: PathBuf,
    pub log: PathBuf,
    pub run_dir: PathBuf,
}

impl Daemon {
    /// Writes `cameras` (TOML after a `[daemon]` table whose runtime_dir is in the temp dir;
    /// `daemon_extra` lines go into that table) and starts `camd run` with debug logs.
    pub fn start(daemon_extra: &str, cameras: &str, env: &[(&str, &str)]) -> Self {
        Self::spawn(daemon_extra, cameras, Some("debug"), |mut cmd, _| {
            cmd.envs(env.iter().copied());
            cmd
        })
    }

    /// `start` with `--log-level LEVEL`, or (None) without the flag: the file's `log_level`.
    pub fn start_at_level(level: Option<&str>, daemon_extra: &str, cameras: &str) -> Self {
        Self::spawn(daemon_extra, cameras, level, |cmd, _| cmd)
    }

    /// `start`, with the ring directory on a real tmpfs of `size` bytes that only this daemon
    /// sees (see `small_tmpfs`); `run_dir` is where the test sees it.
    pub fn start_on_small_tmpfs(size: u64, daemon_extra: &str, cameras: &str) -> Self {
        let mut daemon = Self::spawn(daemon_extra, cameras, Some("debug"), |cmd, run_dir| {
            crate::small_tmpfs::command_on_small_tmpfs(size, run_dir, &cmd)
        });
        daemon.run_dir = crate::small_tmpfs::seen_from_outside(daemon.child.id(), &daemon.run_dir);
        daemon
    }

    /// Writes the config and starts `wrap(camd run ..., its runtime_dir)`, its log to a file.
    fn spawn(
        daemon_extra: &str,
        cameras: &str,
        level: Option<&str>,
        wrap: impl FnOnce(Command, &Path) -> Command,
    ) -> Self {
        let dir = TempDir::new("daemon");
        let run_dir = dir.path().join("run");
        let config = dir.path().join("camd.toml");
        std::fs::write(&config, config_text(&run_dir, daemon_extra, cameras)).unwrap();
        let log = dir.path().join("camd.log");
        let child = wrap(command_at_level(&config, level), &run_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Self {
            child,
            dir,
            config,
            log,
            run_dir,
        }
    }

    /// Replaces the config file (then `signal(SIGHUP)` to reload it).
    pub fn rewrite(&self, daemon_extra: &str, cameras: &str) {
        std::fs::write(
            &self.config,
            config_text(&self.dir.path().join("run"), daemon_extra, cameras),
        )
        .unwrap();
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.pid(), signal) };
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for a log line containing `needle`.
    pub fn until_logged(&self, needle: &str, timeout: Duration) {
        wait_for(timeout, || self.log_text().contains(needle).then_some(())).unwrap_or_else(|| {
            panic!(
                "no log line with {needle:?} within {timeout:?}:\n{}",
                self.log_text()
            )
        });
    }

    pub fn ring(&self, name: &str) -> Reader {
        let path = self.run_dir.join(format!("{name}.ring"));
        wait_for(Duration::from_secs(10), || Reader::open(&path).ok())
            .unwrap_or_else(|| panic!("no ring for {name}:\n{}", self.log_text()))
    }

    /// Waits until camera `name` is `ok` with frames flowing from a live writer, other than
    /// `not_pid` (a worker that was killed); returns the snapshot.
    pub fn until_ok(&self, name: &str, not_pid: u32, timeout: Duration) -> StatusSnapshot {
        let deadline = Instant::now() + timeout;
        loop {
            let reader = self.ring(name);
            let start = reader.latest_seq();
            let snap = reader.status().unwrap();
            if snap.status.state == State::Ok
                && snap.status.writer_pid != not_pid
                && snap.heartbeat_age() < Duration::from_secs(1)
            {
                // One more frame, from this writer.
                if wait_for(Duration::from_millis(500), || {
                    (reader.latest_seq() > start).then_some(())
                })
                .is_some()
                {
                    return reader.status().unwrap();
                }
            }
            assert!(
                Instant::now() < deadline,
                "camera {name} not ok within {timeout:?}: {:?}\n{}",
                snap.status,
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Pids and command lines of the supervisor's children.
    pub fn workers(&self) -> Vec<(u32, String)> {
        children_of(self.pid() as u32)
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        wait_for(timeout, || self.child.try_wait().unwrap())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.wait();
        // Workers follow by their parent-death signal; a frozen one needs SIGKILL.
        for (pid, _) in self.workers() {
            // SAFETY: kill(2) on a process of this test.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    }
}

/// `camd run --log-to stderr --log-level LEVEL --config CONFIG`, stdin from /dev/null.
pub fn run_command(config: &Path, level: &str) -> Command {
    command_at_level(config, Some(level))
}

/// `run_command`, or without `--log-level` for None.
fn command_at_level(config: &Path, level: Option<&str>) -> Command {
    // camd-worker is another package's executable: `cargo test -p camd` alone does not build it.
    let camd = camd();
    let worker = camd.with_file_name("camd-worker");
    assert!(
        worker.exists(),
        "{} missing: run `cargo build --workspace` first (`cargo xtask test` does)",
        worker.display()
    );
    let mut cmd = Command::new(camd);
    cmd.args(["run", "--log-to", "stderr"]);
    if let Some(level) = level {
        cmd.args(["--log-level", level]);
    }
    cmd.arg("--config").arg(config).stdin(Stdio::null());
    cmd
}

fn config_text(run_dir: &Path, daemon_extra: &str, cameras: &str) -> String {
    format!(
        "[daemon]\nruntime_dir = \"{}\"\n{daemon_extra}\n\n{cameras}",
        run_dir.display()
    )
}

/// Every live (not zombie) process as `(pid, ppid, pgrp)`, from `/proc/PID/stat`.
pub fn live_processes() -> Vec<(u32, u32, u32)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the last ')'.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        let mut fields = rest.split(' ');
        let state = fields.next();
        let mut number = || fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let (ppid, pgrp) = (number(), number());
        if state != Some("Z") {
            found.push((pid, ppid, pgrp));
        }
    }
    found
}

/// `(pid, cmdline)` of every process whose parent is `parent`.
pub fn children_of(parent: u32) -> Vec<(u32, String)> {
    live_processes()
        .into_iter()
        .filter(|&(_, ppid, _)| ppid == parent)
        .map(|(pid, _, _)| (pid, cmdline(pid)))
        .collect()
}

pub fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            String::from_utf8_lossy(&b)
                .replace('\0', " ")
                .trim()
                .to_owned()
        })
        .unwrap_or_default()
}

pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

/// Watches cameras' frame sequence numbers in a thread; `stop` returns, per camera, the
/// longest time without a new frame.
pub struct GapWatch {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Vec<Duration>>,
}

impl GapWatch {
    pub fn start(readers: Vec<Reader>) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut last: Vec<(u64, Instant)> = readers
                .iter()
                .map(|r| (r.latest_seq(), Instant::now()))
                .collect();
            let mut worst = vec![Duration::ZERO; readers.len()];
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                for (i, r) in readers.iter().enumerate() {
                    let seq = r.latest_seq();
                    if seq != last[i].0 {
                        last[i] = (seq, Instant::now());
                    }
                    worst[i] = worst[i].max(last[i].1.elapsed());
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            worst
        });
        Self { stop, thread }
    }

    pub fn stop(self) -> Vec<Duration> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}
