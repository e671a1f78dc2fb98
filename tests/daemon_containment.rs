//! `camd run` against what its operators and its readers can do wrong, with real processes and
//! files: one camera whose ring cannot be made (a directory at its path, a FIFO, a symbolic
//! link to another camera's ring, no space on a real small tmpfs), a member of the ring group
//! (a second user) who locks the ring and tries to write everything in the directory, a lock on
//! the directory itself, and `ring_group` taken out of the config. Each harms that one camera
//! at most: its neighbours keep their worker, their writer pid and their frames, the
//! supervisor keeps answering, and `camd status` lists the camera with the reason.

use camd_test_support as support;

use camd_ring::{Reader, State};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::daemon::{camd, Daemon};
use support::wait_for;

/// `nobody`, a second user; the tests run as root (CI does) to start its processes.
const OTHER_UID: u32 = 65534;

fn camera(name: &str, url: &str) -> String {
    format!("[[camera]]\nname = \"{name}\"\nurl = \"{url}\"\n")
}

const SMALL: &str = "[daemon.defaults]\nwidth = 160\nheight = 120\nmax_fps = 10\nslot_count = 4\nslot_capacity = 65536";

fn hang(s: u32) -> String {
    format!("hang_timeout_s = {s}\n{SMALL}")
}

/// `camd status --format json` of `dir`, run with a deadline (it must never block).
fn status_json(dir: &std::path::Path) -> String {
    let mut child = Command::new(camd())
        .args(["status", "--format", "json", "--dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let done = wait_for(Duration::from_secs(5), || child.try_wait().unwrap());
    if done.is_none() {
        let _ = child.kill();
        panic!("camd status blocked for 5 s");
    }
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Watches `name` for `for_how_long`: it must stay `ok` under one writer pid, with frames.
fn stays_ok(daemon: &Daemon, name: &str, for_how_long: Duration) -> u32 {
    let snap = daemon.until_ok(name, 0, Duration::from_secs(10));
    let pid = snap.status.writer_pid;
    let reader = daemon.ring(name);
    let start = Instant::now();
    let mut seq = reader.latest_seq();
    let mut last_new = Instant::now();
    while start.elapsed() < for_how_long {
        let now = reader.status().unwrap();
        assert_eq!(
            now.status.writer_pid,
            pid,
            "{name}'s writer changed:\n{}",
            daemon.log_text()
        );
        assert_eq!(now.status.state, State::Ok, "{name}: {:?}", now.status);
        if now.latest_seq != seq {
            seq = now.latest_seq;
            last_new = Instant::now();
        }
        assert!(
            last_new.elapsed() < Duration::from_secs(1),
            "{name} stopped getting frames"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    pid
}

/// Before: the camera whose ring could not be made never beat, its worker was killed as hung
/// every hang_timeout, and its healthy neighbour was down most of the time. Now its neighbour
/// (same worker) keeps running far past the hang timeout and status lists it with the reason.
#[test]
fn a_camera_whose_ring_cannot_be_made_harms_only_itself() {
    // A directory where blocked's ring goes, made before blocked is configured.
    let daemon = Daemon::start(&hang(2), "", &[]);
    daemon.until_logged("no cameras configured", Duration::from_secs(10));
    std::fs::create_dir_all(daemon.run_dir.join("blocked.ring")).unwrap();
    daemon.rewrite(
        &hang(2),
        &(camera("good", "test:ball") + &camera("blocked", "test:smpte")),
    );
    daemon.signal(libc::SIGHUP);
    daemon.until_logged("camera blocked cannot start", Duration::from_secs(10));
    stays_ok(&daemon, "good", Duration::from_secs(5));
    let json = status_json(&daemon.run_dir);
    assert!(json.contains("\"name\":\"blocked\""), "{json}");
    assert!(json.contains("is a directory"), "{json}");
    assert!(
        !daemon.log_text().contains("is hung"),
        "{}",
        daemon.log_text()
    );
}

/// A FIFO at one ring path and a symbolic link to another camera's ring at a second: before,
/// the supervisor blocked in open() before READY (and `camd status` with it), and the link was
/// followed (camera x wrote into camera z's ring). Now both are refused by name.
#[test]
fn a_fifo_or_a_symlink_at_a_ring_path_blocks_and_redirects_nothing() {
    let daemon = Daemon::start(&hang(2), "", &[]);
    let run = daemon.run_dir.clone();
    daemon.until_logged("no cameras configured", Duration::from_secs(10));
    let fifo = std::ffi::CString::new(run.join("piped.ring").to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    std::os::unix::fs::symlink(run.join("z.ring"), run.join("x.ring")).unwrap();
    let cameras =
        camera("z", "test:ball") + &camera("piped", "test:smpte") + &camera("x", "test:snow");
    daemon.rewrite(&hang(2), &cameras);
    daemon.signal(libc::SIGHUP);
    daemon.until_logged("config applied: 3 cameras started", Duration::from_secs(5));
    stays_ok(&daemon, "z", Duration::from_secs(4));
    assert_eq!(daemon.ring("z").geometry().name, "z");
    let json = status_json(&run);
    assert!(json.contains("is a FIFO"), "{json}");
    assert!(json.contains("is a symbolic link"), "{json}");
    assert!(std::fs::symlink_metadata(run.join("x.ring"))
        .unwrap()
        .file_type()
        .is_symlink());
    // The supervisor still answers: a reload goes through.
    daemon.signal(libc::SIGHUP);
    daemon.until_logged("reloading", Duration::from_secs(2));
}

/// A ring directory on a tmpfs too small for every ring: before, check-config said fine and
/// every worker died of SIGBUS within 0.5 s, over and over, the camera that fit included. Now
/// check-config warns, the camera that fits runs undisturbed, and the other one's status says
/// which directory and how many bytes.
#[test]
fn a_full_ring_directory_is_an_error_for_the_camera_that_does_not_fit() {
    let big = "[[camera]]\nname = \"big\"\nurl = \"test:smpte\"\nslot_count = 8\nslot_capacity = 262144\n";
    let cameras = camera("fits", "test:ball") + big;
    let daemon = Daemon::start_on_small_tmpfs(1 << 20, SMALL, &cameras);
    let pid = stays_ok(&daemon, "fits", Duration::from_secs(4));
    assert_eq!(daemon.workers().len(), 1, "{:?}", daemon.workers());
    assert!(support::daemon::alive(pid));
    let needed = 4096 + 8 * (64 + 262_144);
    daemon.until_logged("camera big: ring file", Duration::from_secs(5));
    let log = daemon.log_text();
    assert!(
        log.contains(&format!("the ring needs {needed} bytes")),
        "{log}"
    );
    assert!(!log.contains("SIGBUS"), "{log}");
    let json = status_json(&daemon.run_dir);
    assert!(json.contains("\"name\":\"big\""), "{json}");
    assert!(json.contains(&format!("needs {needed} bytes")), "{json}");

    // check-config of the same cameras, for a directory on the same small tmpfs, warns.
    let inside = daemon.dir.path().join("run-check");
    let text = std::fs::read_to_string(&daemon.config).unwrap().replace(
        &daemon.dir.path().join("run").display().to_string(),
        &inside.display().to_string(),
    );
    let config = daemon.dir.path().join("check.toml");
    std::fs::write(&config, text).unwrap();
    let mut check = Command::new(camd());
    check.arg("check-config").arg(&config);
    let out = support::small_tmpfs::command_on_small_tmpfs(1 << 20, &inside, &check)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: daemon.runtime_dir: the rings of the 2 cameras need"),
        "{stderr}"
    );
}

/// A member of the ring group (a second user) holds `flock -x` on a ring and tries to truncate
/// or write every file in the directory. Before, the flock made every restart of the camera's
/// worker fail ("another process holds the writer lock") and truncating the doorbell killed the
/// worker with SIGBUS. Now the user can write nothing there, and a restarted worker takes the
/// camera over at once.
#[test]
fn a_reader_in_the_ring_group_can_neither_lock_nor_write_anything() {
    assert!(
        support::is_root(),
        "this test starts a second user's processes: run it as root (CI does)"
    );
    let daemon = Daemon::start(
        &format!("ring_group = 4242\n{}", hang(2)),
        &camera("cam", "test:ball"),
        &[],
    );
    let first = daemon
        .until_ok("cam", 0, Duration::from_secs(10))
        .status
        .writer_pid;
    let ring = daemon.run_dir.join("cam.ring");
    assert_eq!(std::fs::metadata(&ring).unwrap().gid(), 4242);
    assert_eq!(std::fs::metadata(&daemon.run_dir).unwrap().gid(), 4242);
    let as_reader = |cmd: &mut Command| {
        cmd.uid(OTHER_UID).gid(4242).stdin(Stdio::null());
    };
    // The parents of the temporary directory must let the second user reach the ring.
    let mut holder = Command::new("flock");
    holder
        .args(["--exclusive", "--nonblock"])
        .arg(&ring)
        .args(["sleep", "60"]);
    as_reader(&mut holder);
    let mut holder = holder.stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        holder.try_wait().unwrap().is_none(),
        "the reader could not flock the ring"
    );
    // Write, truncate or replace anything in the directory: all refused.
    let mut vandal = Command::new("sh");
    vandal.arg("-c").arg(
        "cd \"$1\" || exit 9; ok=0; for f in * .*; do [ -f \"$f\" ] || continue; \
         if true > \"$f\" 2>/dev/null; then echo \"truncated $f\"; ok=1; fi; done; \
         if true > new.ring 2>/dev/null; then echo 'created new.ring'; ok=1; fi; \
         if mv cam.ring moved 2>/dev/null; then echo 'renamed cam.ring'; ok=1; fi; exit $ok",
    );
    vandal.arg("sh").arg(&daemon.run_dir);
    as_reader(&mut vandal);
    let out = vandal.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "the reader changed the ring directory: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Kill the worker: the new one takes the camera over while the reader holds its flock.
    let killed = Instant::now();
    // SAFETY: kill(2) on this test's worker.
    unsafe { libc::kill(first as i32, libc::SIGKILL) };
    daemon.until_ok("cam", first, Duration::from_millis(1500));
    println!(
        "cam ok under a new worker {:?} after the kill",
        killed.elapsed()
    );
    assert!(
        !daemon.log_text().contains("holds the writer lock"),
        "{}",
        daemon.log_text()
    );
    let _ = holder.kill();
    let _ = holder.wait();
}

/// Any user with `flock -x` on the ring directory: before, the supervisor blocked in flock at
/// the next reload (no signal handled, a dead worker left a zombie). Now nothing locks the
/// directory.
#[test]
fn a_lock_on_the_ring_directory_does_not_stop_a_reload() {
    let daemon = Daemon::start(&hang(2), &camera("a", "test:ball"), &[]);
    daemon.until_ok("a", 0, Duration::from_secs(10));
    let mut holder = Command::new("flock")
        .args(["--exclusive", "--nonblock"])
        .arg(&daemon.run_dir)
        .args(["sleep", "60"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        holder.try_wait().unwrap().is_none(),
        "flock on the directory failed"
    );
    daemon.rewrite(
        &hang(2),
        &(camera("a", "test:ball") + &camera("b", "test:smpte")),
    );
    daemon.signal(libc::SIGHUP);
    daemon.until_ok("b", 0, Duration::from_secs(10));
    let _ = holder.kill();
    let _ = holder.wait();
}

/// `ring_group` taken out of the config, camd restarted: before, the rings kept the old group.
#[test]
fn a_removed_ring_group_is_taken_off_existing_rings() {
    assert!(
        support::is_root(),
        "this test gives files a foreign group: run it as root (CI does)"
    );
    let mut daemon = Daemon::start(
        &format!("ring_group = 4242\n{SMALL}"),
        &camera("cam", "test:ball"),
        &[],
    );
    daemon.until_ok("cam", 0, Duration::from_secs(10));
    let ring = daemon.run_dir.join("cam.ring");
    assert_eq!(std::fs::metadata(&ring).unwrap().gid(), 4242);
    daemon.signal(libc::SIGTERM);
    daemon.wait_exit(Duration::from_secs(10)).expect("stopped");
    // Same directory and config, without ring_group.
    daemon.rewrite(SMALL, &camera("cam", "test:ball"));
    let again = support::daemon::run_command(&daemon.config, "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut again = KillOnDrop(again);
    let back = wait_for(Duration::from_secs(10), || {
        let status = Reader::open(&ring).ok()?.status().ok()?;
        (status.status.state == State::Ok).then_some(())
    });
    assert!(back.is_some(), "cam not ok after the restart");
    // SAFETY: getegid has no preconditions.
    let mine = unsafe { libc::getegid() };
    assert_eq!(std::fs::metadata(&ring).unwrap().gid(), mine);
    assert_eq!(std::fs::metadata(&daemon.run_dir).unwrap().gid(), mine);
    let _ = again.0.kill();
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
