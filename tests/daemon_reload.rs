//! SIGHUP: only the cameras added, removed or changed are touched (the others keep their writer
//! pid, their ring generation and their frames: no pause longer than two frame intervals), also
//! in workers that have run longer than `hang_timeout_s`; an invalid config keeps the running
//! one.

use camd_test_support as support;

use std::time::Duration;
use support::daemon::{Daemon, GapWatch};

fn camera(name: &str, url: &str) -> String {
    format!("[[camera]]\nname = \"{name}\"\nurl = \"{url}\"\n")
}

const DAEMON: &str = "cameras_per_worker = 2\nhang_timeout_s = 2\n[daemon.defaults]\nwidth = 160\nheight = 120\nmax_fps = 10";
/// 1 / max_fps.
const FRAME_INTERVAL: Duration = Duration::from_millis(100);

#[test]
fn reload_touches_only_what_changed() {
    let before = camera("a", "test:ball")
        + &camera("b", "test:smpte")
        + &camera("c", "test:snow")
        + &camera("d", "test:pinwheel");
    let daemon = Daemon::start(DAEMON, &before, &[]);
    let generation = |name: &str| daemon.ring(name).status().unwrap().status.generation;
    for name in ["a", "b", "c", "d"] {
        daemon.until_ok(name, 0, Duration::from_secs(10));
    }
    let pid = |name: &str| daemon.ring(name).status().unwrap().status.writer_pid;
    let (a0, c0, d0) = (generation("a"), generation("c"), generation("d"));
    let (a_pid, d_pid) = (pid("a"), pid("d"));
    // Both workers have now run longer than hang_timeout_s (2 s): before, a camera added to one
    // counted as silent since the worker's start, and the worker was killed as hung at once.
    std::thread::sleep(Duration::from_millis(2500));
    let a_seq = daemon.ring("a").latest_seq();
    let old_b = daemon.ring("b");

    // b removed, c changed, e added.
    let after = camera("a", "test:ball")
        + &camera("c", "test:gradient")
        + &camera("d", "test:pinwheel")
        + &camera("e", "test:smpte");
    daemon.rewrite(DAEMON, &after);
    let watch = GapWatch::start(vec![daemon.ring("a"), daemon.ring("d")]);
    daemon.signal(libc::SIGHUP);
    daemon.until_logged(
        "config applied: 2 cameras started, 2 stopped, 2 unchanged",
        Duration::from_secs(5),
    );
    daemon.until_ok("e", 0, Duration::from_secs(10));
    let c = daemon.until_ok("c", 0, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));
    // Past the hang timeout after the reload too: nothing is replaced late.
    std::thread::sleep(Duration::from_millis(2000));
    let gaps = watch.stop();
    println!("longest pause of the untouched cameras over the reload: {gaps:?}");
    for gap in gaps {
        // Two frame intervals, plus the watch's own 5 ms sampling and scheduling slack.
        assert!(
            gap <= 2 * FRAME_INTERVAL + Duration::from_millis(50),
            "an untouched camera paused {gap:?}"
        );
    }
    assert!(
        !daemon.log_text().contains("is hung"),
        "{}",
        daemon.log_text()
    );
    assert_eq!(
        (pid("a"), pid("d")),
        (a_pid, d_pid),
        "an untouched camera got a new writer"
    );
    assert_eq!(generation("a"), a0, "untouched camera a was restarted");
    assert_eq!(generation("d"), d0, "untouched camera d was restarted");
    assert!(daemon.ring("a").latest_seq() > a_seq);
    assert!(c.status.generation > c0, "changed camera c kept its writer");
    assert!(
        !daemon.run_dir.join("b.ring").exists(),
        "removed camera b kept its ring"
    );
    assert_eq!(
        old_b.status().unwrap().status.state,
        camd_ring::State::Stopped
    );

    // An invalid config: refused with the reason, everything keeps running.
    daemon.rewrite(
        DAEMON,
        &(after.clone() + "[[camera]]\nname = \"a\"\nurl = \"test:\"\n"),
    );
    daemon.signal(libc::SIGHUP);
    daemon.until_logged(
        "reload refused, the running config stays",
        Duration::from_secs(5),
    );
    daemon.until_logged("duplicate camera name \"a\"", Duration::from_secs(1));
    for name in ["a", "c", "d", "e"] {
        daemon.until_ok(name, 0, Duration::from_secs(2));
    }
    assert_eq!(generation("a"), a0);
    assert_eq!(daemon.workers().len(), 2);
}

/// A camera on a closed port fails every attempt at once, one attempt every 0.2 s; each failure
/// is a debug line of its worker (`DEBUG camera shut: ...`).
const FAILING: &str =
    "[daemon.defaults]\nretry_initial_s = 0.2\nretry_max_s = 0.2\nmax_retry_attempts = 1000000";
const FAILURE_LINE: &str = "DEBUG camera shut: ";

/// Waits until the camera `shut` has failed `n` more times.
fn until_failed_more(daemon: &Daemon, n: u32) {
    let count = || daemon.ring("shut").status().unwrap().status.retry_count;
    let start = count();
    support::wait_for(Duration::from_secs(10), || {
        (count() >= start + n).then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "camera shut did not fail {n} more times:\n{}",
            daemon.log_text()
        )
    });
}

/// What the log gained after its first line containing `needle`.
fn logged_after(daemon: &Daemon, needle: &str) -> String {
    let text = daemon.log_text();
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("no {needle:?} in:\n{text}"));
    text[at..].to_owned()
}

#[test]
fn a_reload_sets_the_log_level_of_running_workers() {
    let shut = camera("shut", "rtsp://127.0.0.1:9/none");
    let daemon = Daemon::start_at_level(None, &format!("log_level = \"info\"\n{FAILING}"), &shut);
    until_failed_more(&daemon, 3);
    assert!(
        !daemon.log_text().contains(FAILURE_LINE),
        "debug lines at log_level = \"info\":\n{}",
        daemon.log_text()
    );
    let workers = daemon.workers();

    // Raised: the running worker logs each failure now, without a restart.
    daemon.rewrite(&format!("log_level = \"debug\"\n{FAILING}"), &shut);
    daemon.signal(libc::SIGHUP);
    daemon.until_logged("log level DEBUG (was INFO)", Duration::from_secs(5));
    until_failed_more(&daemon, 3);
    assert!(
        logged_after(&daemon, "log level DEBUG (was INFO)").contains(FAILURE_LINE),
        "no failure at debug level after the reload:\n{}",
        daemon.log_text()
    );
    assert_eq!(daemon.workers(), workers, "the worker was replaced");

    // Removed from the file: back to the default, info.
    daemon.rewrite(FAILING, &shut);
    daemon.signal(libc::SIGHUP);
    daemon.until_logged("log level INFO (was DEBUG)", Duration::from_secs(5));
    // The worker says so once it has its new level (the supervisor's line may come first).
    support::wait_for(Duration::from_secs(5), || {
        (daemon
            .log_text()
            .matches("log level INFO (was DEBUG)")
            .count()
            >= 2)
            .then_some(())
    })
    .expect("the worker did not take the new level");
    let text = daemon.log_text();
    let worker_took_it = text.rfind("log level INFO (was DEBUG)").unwrap();
    until_failed_more(&daemon, 3);
    assert!(
        !daemon.log_text()[worker_took_it..].contains(FAILURE_LINE),
        "debug lines after log_level went:\n{}",
        daemon.log_text()
    );
    assert_eq!(daemon.workers(), workers, "the worker was replaced");
}

#[test]
fn the_log_level_flag_wins_over_the_file_at_start_and_at_reload() {
    let shut = camera("shut", "rtsp://127.0.0.1:9/none");
    let daemon = Daemon::start_at_level(
        Some("info"),
        &format!("log_level = \"debug\"\n{FAILING}"),
        &shut,
    );
    until_failed_more(&daemon, 3);
    daemon.signal(libc::SIGHUP);
    daemon.until_logged("config applied", Duration::from_secs(5));
    until_failed_more(&daemon, 3);
    assert!(
        !daemon.log_text().contains(FAILURE_LINE),
        "--log-level info, yet debug lines:\n{}",
        daemon.log_text()
    );
    assert!(
        !daemon.log_text().contains("log level "),
        "{}",
        daemon.log_text()
    );
}
