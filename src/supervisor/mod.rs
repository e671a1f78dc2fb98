//! `camd run`: the supervisor. One thread, no GStreamer (it is initialised only in workers). It
//! creates the runtime directory and the rings, starts one worker process per group of cameras
//! (the Python design's `camera_process_worker(process_id, camera_list)`), and then loops:
//! restarts a worker that died (with backoff), replaces one that hangs (its rings stop
//! beating), reloads the config on SIGHUP camera by camera, stops everything on SIGTERM or
//! SIGINT, and keeps systemd informed (READY, STATUS, WATCHDOG, RELOADING, STOPPING).

use crate::error::{Error, Kind, Result};
pub mod plan;
pub mod restart;
mod rings;
mod signals;
mod worker_handle;

use crate::clock::{ns, Clock, SystemClock};
use crate::config::{CameraEntry, Config, RingGroup, SecretSource};
use crate::logging::Target;
use crate::ring_files::ring_path;
use crate::systemd_notify::{self, Notifier};
use crate::worker_protocol::{Message, Report, Settings, Setup};
use camd_ring::Reader;
use camd_ring::State;
use plan::{Assignment, WorkerKey};
use restart::{RestartBackoff, RingLife};
use rings::RingWatch;
use signals::Signals;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use worker_handle::{describe, WorkerProcess};

/// How often the loop looks at the workers' rings (hangs, the STATUS line).
const TICK: Duration = Duration::from_millis(250);

pub struct RunOptions {
    pub config_path: PathBuf,
    /// `--log-level`; wins over the config's.
    pub log_level: Option<log::LevelFilter>,
    /// `--log-to`; None chooses (journal, syslog, stderr).
    pub log_to: Option<Target>,
}

/// One worker: the cameras it should run, and its process while it has one.
struct WorkerSlot {
    cameras: BTreeMap<String, Handover>,
    process: Option<WorkerProcess>,
    backoff: RestartBackoff,
    /// When to start it again after it died.
    restart_at: Option<u64>,
}

impl WorkerSlot {
    fn names(&self) -> String {
        self.cameras.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// A camera given to a worker process: when, and what the worker reported about it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Handover {
    /// When the current process was handed it (the clock's ns); 0 while there is no process.
    at: u64,
    taken: Taken,
}

impl Handover {
    const NOT_YET: Self = Self {
        at: 0,
        taken: Taken::Pending,
    };
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Taken {
    /// Handed over, no report yet.
    Pending,
    /// The worker runs it: its ring beats, or the worker is hung.
    Running,
    /// The worker could not run it (the reason is in its ring, or in missing-rings.toml); its
    /// silence is not the worker's hang. Tried again at a reload or a restart of the worker.
    Failed,
}

struct Supervisor {
    config_path: PathBuf,
    config: Config,
    gid: Option<u32>,
    /// `--log-level`: wins over the file's `log_level`, at start and at every reload.
    log_level_flag: Option<log::LevelFilter>,
    log_to: Target,
    cameras: BTreeMap<String, CameraEntry>,
    assignment: Assignment,
    workers: BTreeMap<WorkerKey, WorkerSlot>,
    /// Workers left without cameras by a reload, stopping.
    retiring: Vec<(WorkerKey, WorkerProcess)>,
    rings: RingWatch,
    notifier: Option<Notifier>,
    /// The time of the restart backoff, the hang test, the stop timeout and the watchdog.
    clock: Arc<dyn Clock>,
    last_status: String,
    /// `camd-worker`, found once at start (see `worker_executable`).
    worker_exe: PathBuf,
    /// Configured cameras without a ring, and why (for `camd status`, see `missing_rings`).
    missing: BTreeMap<String, String>,
    /// What `missing_rings` last wrote.
    missing_written: Option<BTreeMap<String, String>>,
}

/// The level camd logs at: `--log-level` (`flag`) over the file's `log_level`, else info.
fn log_level(flag: Option<log::LevelFilter>, file: Option<log::LevelFilter>) -> log::LevelFilter {
    flag.or(file).unwrap_or(log::LevelFilter::Info)
}

// A config with problems is reported before any log target exists, and a failed start on the
// terminal as well as in the log: stderr is where whoever started camd looks.
#[allow(clippy::print_stderr)]
pub fn run(options: RunOptions) -> ExitCode {
    let (config, warnings) =
        match Config::load_with_warnings(&options.config_path, &SecretSource::from_env()) {
            Ok(loaded) => loaded,
            Err(problems) => {
                eprintln!("camd: the config has problems, nothing started:\n{problems}");
                return ExitCode::from(2);
            }
        };
    let log_level = log_level(options.log_level, config.daemon.log_level);
    let target = crate::logging::init_to(log_level, options.log_to).unwrap_or(Target::Stderr);
    // Found before logging existed: logged now, where the operator reads the rest.
    for line in warnings.to_string().lines() {
        log::warn!("{line}");
    }
    let mut supervisor =
        match Supervisor::start(options.config_path, config, options.log_level, target) {
            Ok(s) => s,
            Err(e) => {
                log::error!("{e}");
                eprintln!("camd: {e}");
                return ExitCode::FAILURE;
            }
        };
    log::debug!("logging to {target}");
    supervisor.run()
}

/// The executable that runs cameras, `camd-worker`, installed beside `camd`. It is found once,
/// at start: a package upgrade that replaces both files while camd runs leaves /proc/self/exe
/// pointing at a deleted file, and the new worker beside it is the one to start.
pub fn worker_executable() -> Result<PathBuf> {
    let camd = std::fs::read_link("/proc/self/exe").map_err(|e| {
        Error::new(
            Kind::System,
            format!("cannot find camd's own executable (/proc/self/exe): {e}"),
        )
    })?;
    let worker = camd.with_file_name("camd-worker");
    match std::fs::metadata(&worker) {
        Ok(meta) if meta.is_file() => Ok(worker),
        Ok(_) => Err(Error::new(
            Kind::System,
            format!("{} is not a file", worker.display()),
        )),
        Err(e) => Err(Error::new(
            Kind::System,
            format!(
                "{}: {e} (camd runs its cameras in camd-worker, installed beside camd; in a \
                 checkout, `cargo build -p camd-worker` builds it)",
                worker.display()
            ),
        )),
    }
}

fn resolve_group(group: &Option<RingGroup>) -> Result<Option<u32>> {
    match group {
        None => Ok(None),
        Some(RingGroup::Gid(gid)) => Ok(Some(*gid)),
        Some(RingGroup::Name(name)) => match nix::unistd::Group::from_name(name) {
            Ok(Some(group)) => Ok(Some(group.gid.as_raw())),
            Ok(None) => Err(Error::new(
                Kind::System,
                format!("daemon.ring_group: no group named {name:?} on this system"),
            )),
            Err(e) => Err(Error::new(
                Kind::System,
                format!("daemon.ring_group: cannot look up {name:?}: {e}"),
            )),
        },
    }
}

impl Supervisor {
    fn start(
        config_path: PathBuf,
        config: Config,
        log_level_flag: Option<log::LevelFilter>,
        log_to: Target,
    ) -> Result<Self> {
        let worker_exe = worker_executable()?;
        let clock = Arc::new(SystemClock);
        Self::start_with(
            config_path,
            config,
            log_level_flag,
            log_to,
            worker_exe,
            clock,
        )
    }

    /// `start` with the worker executable and the clock given (tests: a stand-in worker, a
    /// simulated clock).
    fn start_with(
        config_path: PathBuf,
        config: Config,
        log_level_flag: Option<log::LevelFilter>,
        log_to: Target,
        worker_exe: PathBuf,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let gid = resolve_group(&config.daemon.ring_group)?;
        let dir = config.daemon.runtime_dir.clone();
        crate::ring_dir::prepare(&dir, gid)?;
        let mut supervisor = Self {
            config_path,
            gid,
            log_level_flag,
            log_to,
            cameras: BTreeMap::new(),
            assignment: Assignment::new(),
            workers: BTreeMap::new(),
            retiring: Vec::new(),
            rings: RingWatch::default(),
            notifier: Notifier::from_env(),
            clock,
            last_status: String::new(),
            worker_exe,
            missing: BTreeMap::new(),
            missing_written: None,
            // Nothing runs yet: `apply` below starts every camera of `config`.
            config: Config {
                daemon: config.daemon.clone(),
                cameras: Vec::new(),
            },
        };
        let wanted = by_name(&config);
        for name in rings::remove_stale(&dir, &wanted) {
            log::info!("removed the ring of camera {name}, which is no longer configured");
        }
        supervisor.apply(config);
        if supervisor.cameras.is_empty() {
            log::warn!(
                "{}: no cameras configured; add [[camera]] tables and reload (SIGHUP)",
                supervisor.config_path.display()
            );
        }
        log::info!(
            "running {} cameras in {} workers; rings in {}",
            supervisor.cameras.len(),
            supervisor.workers.len(),
            dir.display()
        );
        supervisor.notify("READY=1");
        Ok(supervisor)
    }

    fn dir(&self) -> &Path {
        &self.config.daemon.runtime_dir
    }

    fn setup(&self, key: &WorkerKey) -> Setup {
        Setup {
            worker: key.to_string(),
            runtime_dir: self.dir().to_owned(),
            ring_gid: self.gid,
            settings: self.worker_settings(),
            log_to: self.log_to,
        }
    }

    /// What a worker is told of `[daemon]`, at its start and after a reload that changes it.
    fn worker_settings(&self) -> Settings {
        Settings {
            // The worker's own deadline is shorter than the supervisor's, so a worker that stops
            // its cameras in time is never killed for it.
            stop_timeout: self.config.daemon.stop_timeout.mul_f64(0.8),
            log_level: log_level(self.log_level_flag, self.config.daemon.log_level),
        }
    }

    /// After a reload: the running workers get the settings that changed (those it started
    /// have them in their setup already, and hear them again, harmlessly).
    fn send_settings(&mut self, before: Settings) {
        let settings = self.worker_settings();
        if settings == before {
            return;
        }
        for (key, slot) in &mut self.workers {
            if let Some(process) = &mut slot.process {
                if let Err(e) = process.send(&Message::Settings(settings)) {
                    log::warn!("worker {key}: cannot tell it the new settings: {e}");
                }
            }
        }
    }

    /// Moves from the running config to `new`: starts, stops and restarts only the cameras that
    /// differ. Daemon settings that need a restart keep their running values.
    fn apply(&mut self, mut new: Config) {
        let old = &self.config.daemon;
        for (key, changed) in [
            ("runtime_dir", old.runtime_dir != new.daemon.runtime_dir),
            ("ring_group", old.ring_group != new.daemon.ring_group),
            (
                "cameras_per_worker",
                old.cameras_per_worker != new.daemon.cameras_per_worker,
            ),
        ] {
            if changed {
                log::warn!("daemon.{key} changed: it takes effect when camd restarts; keeping the running value");
            }
        }
        new.daemon.runtime_dir = old.runtime_dir.clone();
        new.daemon.ring_group = old.ring_group.clone();
        new.daemon.cameras_per_worker = old.cameras_per_worker;
        let assignment = plan::assign(&new, &self.assignment, &self.cameras);
        let changes = plan::diff(&self.cameras, &self.assignment, &new, &assignment);
        for (name, key) in &changes.stop {
            self.missing.remove(name);
            if let Some(slot) = self.workers.get_mut(key) {
                slot.cameras.remove(name);
                if let Some(process) = &mut slot.process {
                    if let Err(e) = process.send(&Message::Stop(name.clone())) {
                        log::warn!("worker {key}: cannot tell it to stop camera {name}: {e}");
                    }
                }
            }
        }
        for name in &changes.removed {
            rings::remove(&new.daemon.runtime_dir, name);
            self.rings.forget(name);
            log::info!("camera {name}: removed");
        }
        self.config = new;
        self.cameras = by_name(&self.config);
        self.assignment = assignment;
        let now = self.clock.now();
        for (name, key) in &changes.start {
            let entry = &self.cameras[name];
            // A ring of a camera that was just stopped is still held by its old thread; its
            // worker takes it over once that thread lets go.
            let is_new = !changes.stop.iter().any(|(n, _)| n == name);
            if is_new {
                if let Err(e) = rings::prepare(self.dir(), entry, self.gid) {
                    // The worker tries again and reports; until then the reason is on record.
                    log::error!("{e}");
                    self.missing.insert(name.clone(), e.to_string());
                }
            }
            let slot = self
                .workers
                .entry(key.clone())
                .or_insert_with(|| WorkerSlot {
                    cameras: BTreeMap::new(),
                    process: None,
                    backoff: RestartBackoff::default(),
                    restart_at: Some(now),
                });
            slot.cameras.insert(name.clone(), Handover::NOT_YET);
            // The stop orders above took every restarted camera out of its slot, so this is
            // news to the worker (a worker not running yet gets it when it starts).
            hand_over(key, slot, name, entry, now);
        }
        // A reload is the operator's "try again" for cameras their worker could not run.
        for (key, slot) in &mut self.workers {
            let failed: Vec<String> = slot
                .cameras
                .iter()
                .filter(|(_, h)| h.taken == Taken::Failed)
                .map(|(n, _)| n.clone())
                .collect();
            for name in failed {
                hand_over(key, slot, &name, &self.cameras[&name], now);
            }
        }
        // Workers left with no camera stop.
        let empty: Vec<WorkerKey> = self
            .workers
            .iter()
            .filter(|(_, s)| s.cameras.is_empty())
            .map(|(k, _)| k.clone())
            .collect();
        for key in empty {
            if let Some(mut process) = self.workers.remove(&key).and_then(|s| s.process) {
                process.terminate();
                self.retiring.push((key, process));
            }
        }
        self.start_due_workers(now);
        if !changes.start.is_empty() || !changes.stop.is_empty() {
            log::info!(
                "config applied: {} cameras started, {} stopped, {} unchanged",
                changes.start.len(),
                changes.stop.len(),
                changes.unchanged
            );
        }
    }

    fn start_due_workers(&mut self, now: u64) {
        let due: Vec<WorkerKey> = self
            .workers
            .iter()
            .filter(|(_, s)| s.process.is_none() && s.restart_at.is_some_and(|t| t <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            let setup = self.setup(&key);
            let slot = self.workers.get_mut(&key).expect("due worker exists");
            slot.restart_at = None;
            match WorkerProcess::spawn(&self.worker_exe, &key, &setup, now) {
                Ok(process) => {
                    log::info!(
                        "worker {key} (pid {}) started: {}",
                        process.pid(),
                        slot.names()
                    );
                    slot.process = Some(process);
                    let names: Vec<String> = slot.cameras.keys().cloned().collect();
                    for name in names {
                        hand_over(&key, slot, &name, &self.cameras[&name], now);
                    }
                }
                Err(e) => {
                    let at = slot.backoff.on_exit(now, now, false);
                    log::error!(
                        "worker {key}: cannot start: {e}; trying again in {:.1} s",
                        (at - now) as f64 / 1e9
                    );
                    slot.restart_at = Some(at);
                }
            }
        }
    }

    fn run(&mut self) -> ExitCode {
        let signals = match Signals::install() {
            Ok(s) => s,
            Err(e) => {
                log::error!("cannot handle signals: {e}");
                return ExitCode::FAILURE;
            }
        };
        let watchdog = systemd_notify::watchdog_interval().map(|d| d / 2);
        let mut next_watchdog = self.clock.now();
        // A clock that jumps (a test's) wakes the loop as a signal would.
        self.clock.on_jump(signals.waker());
        loop {
            let mut timeout = TICK;
            if let Some(at) = self.workers.values().filter_map(|s| s.restart_at).min() {
                timeout = self
                    .clock
                    .real_wait(at)
                    .map_or(timeout, |left| left.min(timeout));
            }
            signals.wait(timeout);
            if Signals::take(&signals.terminate) {
                return self.shutdown();
            }
            if Signals::take(&signals.reload) {
                self.reload();
            }
            Signals::take(&signals.child);
            let now = self.turn();
            if let Some(interval) = watchdog {
                if now >= next_watchdog {
                    self.notify("WATCHDOG=1");
                    next_watchdog = now + ns(interval);
                }
            }
        }
    }

    /// One turn of the loop, at the clock's now (returned): reap, restart what is due, look at
    /// the rings, replace hung workers, update the status.
    fn turn(&mut self) -> u64 {
        let now = self.clock.now();
        self.read_reports(now);
        self.reap(now);
        self.start_due_workers(now);
        let rings = self.look_at_rings();
        self.note_frames(&rings);
        self.replace_hung(now, &rings);
        self.update_status(&rings);
        self.write_missing();
        now
    }

    /// What the workers said about their cameras since the last turn.
    fn read_reports(&mut self, now: u64) {
        let dir = self.config.daemon.runtime_dir.clone();
        for (key, slot) in &mut self.workers {
            let Some(process) = &mut slot.process else {
                continue;
            };
            for report in process.reports() {
                let (name, taken) = match report {
                    Report::Ready => {
                        process.ready = Some(now);
                        continue;
                    }
                    Report::Running(name) => {
                        self.missing.remove(&name);
                        (name, Taken::Running)
                    }
                    Report::Failed { camera, reason } => {
                        // A camera whose ring exists has the reason in it; one without is listed.
                        if Reader::open(ring_path(&dir, &camera)).is_err() {
                            self.missing.insert(camera.clone(), reason);
                        }
                        (camera, Taken::Failed)
                    }
                };
                match slot.cameras.get_mut(&name) {
                    Some(handover) => handover.taken = taken,
                    None => {
                        log::debug!("worker {key}: a report on camera {name}, not one of its own")
                    }
                }
            }
        }
    }

    /// A worker whose ring shows it publishing (`ok` under its pid) is past any crash loop.
    fn note_frames(&mut self, rings: &BTreeMap<String, (Option<State>, RingLife)>) {
        for slot in self.workers.values_mut() {
            let Some(process) = &mut slot.process else {
                continue;
            };
            let pid = process.pid();
            if slot.cameras.keys().any(|name| {
                rings.get(name).is_some_and(|(state, life)| {
                    *state == Some(State::Ok) && life.writer_pid == pid
                })
            }) {
                process.produced = true;
            }
        }
    }

    /// Keeps `missing-rings.toml` equal to `missing` (written only when it changes).
    fn write_missing(&mut self) {
        self.missing
            .retain(|name, _| self.cameras.contains_key(name));
        if self.missing_written.as_ref() == Some(&self.missing) {
            return;
        }
        match crate::missing_rings::write(self.dir(), self.gid, &self.missing) {
            Ok(()) => self.missing_written = Some(self.missing.clone()),
            Err(e) => log::warn!("{e}"),
        }
    }

    /// Notices workers that ended and schedules their restart.
    fn reap(&mut self, now: u64) {
        for (key, slot) in &mut self.workers {
            let Some(process) = &mut slot.process else {
                continue;
            };
            let Some(status) = process.try_wait() else {
                continue;
            };
            let at = slot.backoff.on_exit(process.started, now, process.produced);
            let what = format!(
                "worker {key} (pid {}) {}; restarting it in {:.2} s",
                process.pid(),
                describe(status),
                (at - now) as f64 / 1e9
            );
            log::error!("{what}: {}", slot.names());
            slot.process = None;
            slot.restart_at = Some(at);
            // Its rings say so at once: readers and `camd status` need not wait for the
            // heartbeat to age.
            for (name, handover) in &mut slot.cameras {
                *handover = Handover::NOT_YET;
                if let Err(e) =
                    rings::mark_worker_gone(&self.config.daemon.runtime_dir, name, &what)
                {
                    log::debug!("camera {name}: cannot mark its ring: {e}");
                }
            }
        }
        self.retiring
            .retain_mut(|(key, process)| match process.try_wait() {
                Some(status) => {
                    log::info!(
                        "worker {key} (pid {}) {} after its last camera went",
                        process.pid(),
                        describe(status)
                    );
                    false
                }
                None => true,
            });
    }

    /// Every camera's ring, read once per tick.
    fn look_at_rings(&mut self) -> BTreeMap<String, (Option<State>, RingLife)> {
        let dir = &self.config.daemon.runtime_dir;
        self.cameras
            .keys()
            .map(|name| (name.clone(), self.rings.look(dir, name)))
            .collect()
    }

    /// Kills a worker whose rings stopped beating; `reap` then restarts it.
    fn replace_hung(&mut self, now: u64, rings: &BTreeMap<String, (Option<State>, RingLife)>) {
        let timeout = self.config.daemon.hang_timeout;
        for (key, slot) in &mut self.workers {
            let Some(process) = &mut slot.process else {
                continue;
            };
            let pid = process.pid();
            // Until GStreamer is initialised (a first start scans every plugin: tens of seconds
            // on a slow board, measured in docs/vm-test.md) the worker cannot beat; killing it
            // then would throw the scan away and start it again, for ever.
            let Some(ready) = process.ready else {
                let budget = restart::STARTUP_TIMEOUT.max(timeout);
                if now.saturating_sub(process.started) >= ns(budget) {
                    log::error!(
                        "worker {key} (pid {pid}) has not initialised GStreamer within {budget:?}: \
                         a plugin hangs while it loads (`gst-inspect-1.0` as camd's user shows \
                         which); replacing it"
                    );
                    process.kill();
                }
                continue;
            };
            // A worker is hung when it does not beat for a camera it was handed (from the
            // moment it was handed, or it was ready if later); a camera it reported it could not
            // run does not count.
            let silent: Vec<&str> = slot
                .cameras
                .iter()
                .filter(|(name, handover)| {
                    let life = rings
                        .get(*name)
                        .map_or(RingLife::NEVER_WRITTEN, |(_, life)| *life);
                    handover.taken != Taken::Failed
                        && restart::hung(pid, handover.at.max(ready), life, now, timeout)
                })
                .map(|(name, _)| name.as_str())
                .collect();
            if !silent.is_empty() {
                log::error!(
                    "worker {key} (pid {pid}) is hung: no sign of life from camera {} for {:?}; replacing it",
                    silent.join(", "),
                    timeout
                );
                process.kill();
            }
        }
    }

    /// STATUS=N of M cameras ok, when it changes.
    fn update_status(&mut self, rings: &BTreeMap<String, (Option<State>, RingLife)>) {
        let ok = rings
            .values()
            .filter(|(state, _)| *state == Some(State::Ok))
            .count();
        let status = format!("{ok} of {} cameras ok", rings.len());
        if status != self.last_status {
            log::debug!("{status}");
            self.notify(&format!("STATUS={status}"));
            self.last_status = status;
        }
    }

    fn reload(&mut self) {
        self.notify_reloading();
        log::info!("reloading {}", self.config_path.display());
        match Config::load(&self.config_path, &SecretSource::from_env()) {
            Ok(new) => {
                let before = self.worker_settings();
                self.apply(new);
                let level = self.worker_settings().log_level;
                crate::logging::change_level(before.log_level, level, "");
                self.send_settings(before);
            }
            Err(problems) => {
                log::error!("reload refused, the running config stays:\n{problems}");
            }
        }
        self.last_status.clear();
        self.notify("READY=1");
    }

    /// Stops every worker within the stop timeout (then SIGKILL), marks every ring `stopped`.
    fn shutdown(&mut self) -> ExitCode {
        self.notify("STOPPING=1");
        log::info!("stopping");
        let timeout = self.config.daemon.stop_timeout;
        let deadline = self.clock.now() + ns(timeout);
        let mut running: Vec<(WorkerKey, WorkerProcess)> = std::mem::take(&mut self.retiring);
        for (key, slot) in std::mem::take(&mut self.workers) {
            if let Some(process) = slot.process {
                running.push((key, process));
            }
        }
        for (_, process) in &mut running {
            process.terminate();
        }
        while !running.is_empty() && self.clock.now() < deadline {
            running.retain_mut(|(_, p)| p.try_wait().is_none());
            std::thread::sleep(Duration::from_millis(10));
        }
        for (key, process) in &mut running {
            log::warn!(
                "worker {key} (pid {}) did not stop within {timeout:?}: killed",
                process.pid()
            );
            process.kill();
            process.wait();
        }
        let dir = self.config.daemon.runtime_dir.clone();
        for name in self.cameras.keys() {
            if let Err(e) = rings::mark_stopped(&dir, name) {
                log::warn!("camera {name}: cannot mark its ring stopped: {e}");
            }
        }
        log::info!("stopped");
        ExitCode::SUCCESS
    }

    fn notify(&self, state: &str) {
        if let Some(n) = &self.notifier {
            if let Err(e) = n.notify(state) {
                log::debug!("sd_notify {state}: {e}");
            }
        }
    }

    fn notify_reloading(&self) {
        if let Some(n) = &self.notifier {
            let _ = n.reloading();
        }
    }
}

/// Gives camera `name` to the slot's running process, if it has one (one that is not running
/// yet gets it when it starts).
fn hand_over(key: &WorkerKey, slot: &mut WorkerSlot, name: &str, entry: &CameraEntry, now: u64) {
    let Some(process) = &mut slot.process else {
        return;
    };
    if let Some(handover) = slot.cameras.get_mut(name) {
        *handover = Handover {
            at: now,
            taken: Taken::Pending,
        };
    }
    if let Err(e) = process.send(&Message::Start(Box::new(entry.clone()))) {
        // It is reaped and restarted with all its cameras, like a crash.
        log::warn!("worker {key}: cannot hand it camera {name}: {e}");
    }
}

fn by_name(config: &Config) -> BTreeMap<String, CameraEntry> {
    config
        .cameras
        .iter()
        .map(|e| (e.camera.name.clone(), e.clone()))
        .collect()
}

#[cfg(test)]
mod tests;
