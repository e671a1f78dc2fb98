//! The supervisor driven on simulated time: a stand-in worker (a script that reads its setup
//! order, so the supervisor's first write finds it alive, then exits) and a `ManualClock`. The
//! test waits, in real time, only for the stand-in process to exit; every backoff passes
//! because the test moves the clock, and nothing sleeps for one.
//!
//! Why a stand-in: `cargo test -p camd` does not build `camd-worker` (another package), and a
//! real worker cannot be made to die, hang or stay silent on cue. The real worker's deaths and
//! hangs are tested against the real binaries in tests/daemon_workers.rs.

use super::*;
use crate::clock::ManualClock;
use crate::config::SecretSource;
use std::time::Instant;

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("camd-sup-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A supervisor of one test-pattern camera whose worker is `script`, on `clock`.
fn supervisor(dir: &Path, script: &str, clock: &ManualClock) -> Supervisor {
    let exe = dir.join("worker.sh");
    std::fs::write(&exe, script).unwrap();
    std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let config_path = dir.join("camd.toml");
    let text = format!(
        "[daemon]\nruntime_dir = \"{}\"\n\n[[camera]]\nname = \"door\"\nurl = \"test:smpte\"\n",
        dir.join("run").display()
    );
    let config = Config::parse(&text, &config_path, &SecretSource::default()).unwrap();
    let clock: Arc<dyn Clock> = Arc::new(clock.clone());
    Supervisor::start_with(
        config_path,
        config,
        Some(log::LevelFilter::Off),
        Target::Stderr,
        exe,
        clock,
    )
    .unwrap()
}

/// The one worker's slot.
fn slot(s: &Supervisor) -> &WorkerSlot {
    assert_eq!(s.workers.len(), 1);
    s.workers.values().next().unwrap()
}

/// Turns the loop until the stand-in worker has exited and been reaped (a real process: this
/// is the only real-time wait), and returns when its restart is due.
fn until_reaped(s: &mut Supervisor) -> u64 {
    let give_up = Instant::now() + Duration::from_secs(10);
    loop {
        s.turn();
        if let Some(at) = slot(s).restart_at {
            return at;
        }
        assert!(Instant::now() < give_up, "the stand-in worker never exited");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_crashed_worker_is_restarted_after_its_backoff_on_the_clock() {
    let scratch = Scratch::new("restart");
    let t0 = 1_000 * 1_000_000_000;
    let clock = ManualClock::starting_at(t0);
    let mut s = supervisor(&scratch.0, "#!/bin/sh\nread -r setup\nexit 3\n", &clock);
    assert!(slot(&s).process.is_some(), "started at once");

    // It exits: the restart is due FIRST_DELAY later on the clock, not before.
    let at = until_reaped(&mut s);
    assert_eq!(at, t0 + ns(restart::FIRST_DELAY));
    clock.set(at - 1);
    s.turn();
    assert!(slot(&s).process.is_none(), "restarted before its backoff");
    clock.set(at);
    s.turn();
    assert!(
        slot(&s).process.is_some(),
        "not restarted when its backoff passed"
    );

    // It dies again at once: the next delay doubles.
    let again = until_reaped(&mut s);
    assert_eq!(again, at + 2 * ns(restart::FIRST_DELAY));
    s.shutdown();
}

/// Turns the loop and says whether the worker is still the same process, never told to go: a
/// kill decided in the turn shows at once, however long the process takes to die.
fn still_running(s: &mut Supervisor, pid: u32) -> bool {
    s.turn();
    s.turn();
    slot(s)
        .process
        .as_ref()
        .is_some_and(|p| p.pid() == pid && !p.told_to_go())
        && slot(s).restart_at.is_none()
}

#[test]
fn a_worker_still_initialising_gstreamer_is_not_hung_until_its_startup_budget() {
    let scratch = Scratch::new("startup");
    let t0 = 1_000 * 1_000_000_000;
    let clock = ManualClock::starting_at(t0);
    // Like a worker scanning the plugin registry: alive, silent, no `ready` report.
    let mut s = supervisor(
        &scratch.0,
        "#!/bin/sh\nread -r setup\nexec sleep 600\n",
        &clock,
    );
    let pid = slot(&s).process.as_ref().unwrap().pid();
    let hang = s.config.daemon.hang_timeout;
    clock.set(t0 + ns(hang) + ns(Duration::from_secs(1)));
    assert!(
        still_running(&mut s, pid),
        "killed as hung during its start"
    );
    clock.set(t0 + ns(restart::STARTUP_TIMEOUT) - 1);
    assert!(still_running(&mut s, pid), "killed before its budget");
    clock.set(t0 + ns(restart::STARTUP_TIMEOUT));
    until_reaped(&mut s);
    s.shutdown();
}

#[test]
fn a_ready_worker_that_stays_silent_is_hung_after_hang_timeout_from_its_ready() {
    let scratch = Scratch::new("ready");
    let t0 = 1_000 * 1_000_000_000;
    let clock = ManualClock::starting_at(t0);
    let mut s = supervisor(
        &scratch.0,
        "#!/bin/sh\nread -r setup\necho 'ready = true'\nexec sleep 600\n",
        &clock,
    );
    let pid = slot(&s).process.as_ref().unwrap().pid();
    let hang = s.config.daemon.hang_timeout;
    // The report arrives at a later clock time than the start: the hang counts from it.
    let ready_at = t0 + ns(Duration::from_secs(30));
    clock.set(ready_at);
    let give_up = Instant::now() + Duration::from_secs(10);
    while slot(&s).process.as_ref().unwrap().ready.is_none() {
        s.turn();
        assert!(Instant::now() < give_up, "the ready report never arrived");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(slot(&s).process.as_ref().unwrap().ready, Some(ready_at));
    clock.set(ready_at + ns(hang) - 1);
    assert!(still_running(&mut s, pid), "hung before hang_timeout");
    clock.set(ready_at + ns(hang));
    until_reaped(&mut s);
    s.shutdown();
}

#[test]
fn workers_start_with_gstreamer_draining_v4l2_pools() {
    let scratch = Scratch::new("env");
    let clock = ManualClock::starting_at(1_000 * 1_000_000_000);
    let seen = scratch.0.join("seen");
    let script = format!(
        "#!/bin/sh\nread -r setup\nprintf '%s' \"$GST_V4L2_FORCE_DRAIN\" > {}.tmp\nmv {0}.tmp {0}\nexec sleep 600\n",
        seen.display()
    );
    let mut s = supervisor(&scratch.0, &script, &clock);
    let give_up = Instant::now() + Duration::from_secs(10);
    while !seen.exists() {
        assert!(
            Instant::now() < give_up,
            "the stand-in worker wrote nothing"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), "1");
    s.shutdown();
}
