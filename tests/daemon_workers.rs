//! `camd run` with real worker processes and signals: 4 RTSP fake cameras in 2 workers; a worker
//! killed with SIGKILL shows in its rings within 0.5 s, is restarted, and its cameras are ok
//! again within 1.5 s while the other worker's frames do not pause; a worker frozen with SIGSTOP is found hung by its rings'
//! heartbeats and replaced. The supervisor maps no GStreamer or GLib; its workers do.

use camd_test_support as support;

use std::time::{Duration, Instant};
use support::daemon::{alive, Daemon, GapWatch};
use support::FakeCameraProcess;

fn cameras(server: &FakeCameraProcess) -> String {
    ["a", "b", "c", "d"]
        .iter()
        .map(|n| {
            format!(
                "[[camera]]\nname = \"{n}\"\nurl = \"{}\"\ntransport = \"tcp\"\n",
                server.url(n)
            )
        })
        .collect()
}

#[test]
fn dead_and_hung_workers_are_replaced_without_disturbing_the_others() {
    let server = FakeCameraProcess::start(
        0,
        &[
            "a=h264:320x240@15",
            "b=h264:320x240@15",
            "c=h264:320x240@15",
            "d=h264:320x240@15",
        ],
    );
    let daemon = Daemon::start(
        "cameras_per_worker = 2\nhang_timeout_s = 2",
        &cameras(&server),
        &[],
    );
    for name in ["a", "b", "c", "d"] {
        daemon.until_ok(name, 0, Duration::from_secs(20));
    }
    let workers = daemon.workers();
    assert_eq!(workers.len(), 2, "{workers:?}");
    let pid_of = |name: &str| daemon.ring(name).status().unwrap().status.writer_pid;
    let first = pid_of("a");
    assert_eq!(pid_of("b"), first);
    let second = pid_of("c");
    assert_eq!(pid_of("d"), second);
    assert_ne!(first, second);
    // Each worker's title names its cameras.
    let title = |pid: u32| workers.iter().find(|(p, _)| *p == pid).unwrap().1.clone();
    assert_eq!(title(first), "camd worker #0: a b");
    assert_eq!(title(second), "camd worker #1: c d");
    // GStreamer lives in the workers only: the supervisor maps neither it nor GLib.
    let libraries = |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let supervisor_maps = libraries(daemon.pid() as u32);
    assert!(supervisor_maps.contains("libc.so"), "{supervisor_maps}");
    for lib in ["libgstreamer-1.0", "libglib-2.0", "libgobject-2.0"] {
        assert!(!supervisor_maps.contains(lib), "the supervisor maps {lib}");
        assert!(
            libraries(first).contains(lib),
            "the worker does not map {lib}"
        );
    }

    // kill -9 the first worker: its rings say so within 0.5 s (before, they said `ok` until the
    // heartbeat aged, 3 s); a and b come back within 1.5 s, c and d never pause.
    let watch = GapWatch::start(vec![daemon.ring("c"), daemon.ring("d")]);
    let a_ring = daemon.ring("a");
    let killed = Instant::now();
    // SAFETY: kill(2) on a worker of this test's daemon.
    unsafe { libc::kill(first as i32, libc::SIGKILL) };
    let shown = support::wait_for(Duration::from_secs(3), || {
        let status = a_ring.status().ok()?.status;
        (status.state != camd_ring::State::Ok).then_some((killed.elapsed(), status))
    });
    let (seen_after, status) = shown.expect("camera a still ok 3 s after its worker died");
    println!("a's ring showed the death after {seen_after:?}: {status:?}");
    assert!(seen_after <= Duration::from_millis(500), "{seen_after:?}");
    assert_eq!(status.state, camd_ring::State::Starting);
    assert!(
        status.last_error.contains("was killed by SIGKILL"),
        "{}",
        status.last_error
    );
    for name in ["a", "b"] {
        daemon.until_ok(
            name,
            first,
            Duration::from_millis(1500).saturating_sub(killed.elapsed()),
        );
    }
    let back = killed.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    let gaps = watch.stop();
    println!("a and b ok again {back:?} after kill -9; longest pause of c, d: {gaps:?}");
    for gap in gaps {
        assert!(
            gap < Duration::from_millis(500),
            "the other worker paused {gap:?}"
        );
    }
    daemon.until_logged(
        &format!("(pid {first}) was killed by SIGKILL; restarting it in 0.25 s: a, b"),
        Duration::from_secs(1),
    );

    // SIGSTOP the second worker: hung after hang_timeout (2 s), killed and replaced.
    let frozen = Instant::now();
    // SAFETY: kill(2) on a worker of this test's daemon.
    unsafe { libc::kill(second as i32, libc::SIGSTOP) };
    for name in ["c", "d"] {
        daemon.until_ok(name, second, Duration::from_secs(8));
    }
    println!("c and d ok again {:?} after SIGSTOP", frozen.elapsed());
    assert!(
        frozen.elapsed() >= Duration::from_secs(2),
        "replaced before the hang timeout"
    );
    daemon.until_logged(
        &format!("worker #1 (pid {second}) is hung"),
        Duration::from_secs(1),
    );
    assert!(!alive(second), "the hung worker still exists");
    assert_eq!(daemon.workers().len(), 2);
}
