//! Stopping `camd run`: SIGTERM ends it with status 0 within 5 s and every ring `stopped`;
//! SIGKILL of the supervisor takes its workers with it (parent-death signal).

use camd_test_support as support;

use camd_ring::State;
use std::time::{Duration, Instant};
use support::daemon::{alive, Daemon};
use support::wait_for;

const CAMERAS: &str = "[daemon.defaults]\nwidth = 160\nheight = 120\nmax_fps = 10\n\
    [[camera]]\nname = \"one\"\nurl = \"test:ball\"\n\
    [[camera]]\nname = \"two\"\nurl = \"test:smpte\"\n\
    [[camera]]\nname = \"down\"\nurl = \"rtsp://127.0.0.1:1/none\"\n";

#[test]
fn sigterm_stops_every_ring_and_exits_0() {
    let mut daemon = Daemon::start("cameras_per_worker = 1", CAMERAS, &[]);
    daemon.until_ok("one", 0, Duration::from_secs(10));
    daemon.until_ok("two", 0, Duration::from_secs(10));
    let workers = daemon.workers();
    assert_eq!(workers.len(), 3, "{workers:?}");
    let asked = Instant::now();
    daemon.signal(libc::SIGTERM);
    let status = daemon
        .wait_exit(Duration::from_secs(6))
        .expect("camd did not exit");
    let took = asked.elapsed();
    println!("SIGTERM to exit: {took:?}");
    assert_eq!(status.code(), Some(0), "{}", daemon.log_text());
    assert!(took < Duration::from_secs(5), "{took:?}");
    for name in ["one", "two", "down"] {
        let state = daemon.ring(name).status().unwrap().status.state;
        assert_eq!(state, State::Stopped, "{name}");
    }
    for (pid, _) in workers {
        assert!(!alive(pid), "worker {pid} outlived camd");
    }
}

#[test]
fn workers_do_not_outlive_a_killed_supervisor() {
    let mut daemon = Daemon::start("cameras_per_worker = 1", CAMERAS, &[]);
    daemon.until_ok("one", 0, Duration::from_secs(10));
    let workers = daemon.workers();
    assert_eq!(workers.len(), 3, "{workers:?}");
    daemon.signal(libc::SIGKILL);
    daemon
        .wait_exit(Duration::from_secs(2))
        .expect("camd survived SIGKILL");
    let gone = wait_for(Duration::from_secs(5), || {
        workers.iter().all(|(pid, _)| !alive(*pid)).then_some(())
    });
    assert!(
        gone.is_some(),
        "workers outlived the supervisor: {workers:?}"
    );
}
