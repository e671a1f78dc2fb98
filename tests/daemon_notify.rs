//! systemd's notification protocol against a real datagram socket: READY=1 once rings exist
//! and workers run, STATUS= with cameras ok out of total, WATCHDOG=1 at half WATCHDOG_USEC,
//! RELOADING=1 and READY=1 around a reload, STOPPING=1 on SIGTERM.

use camd_test_support as support;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};
use support::daemon::Daemon;

/// Datagrams received, with when.
type Received = [(Duration, String)];

#[test]
fn ready_status_watchdog_reloading_stopping() {
    let sockets = support::TempDir::new("notify");
    let path = sockets.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let cameras = "[[camera]]\nname = \"one\"\nurl = \"test:ball\"\nwidth = 160\nheight = 120\n\
                   [[camera]]\nname = \"two\"\nurl = \"rtsp://127.0.0.1:1/none\"\n";
    let mut daemon = Daemon::start(
        "",
        cameras,
        &[
            ("NOTIFY_SOCKET", path.to_str().unwrap()),
            ("WATCHDOG_USEC", "400000"),
        ],
    );
    let mut got: Vec<(Duration, String)> = Vec::new();
    let start = Instant::now();
    let mut receive = |until: &dyn Fn(&Received) -> bool, timeout: Duration| {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 4096];
        while !until(&got) && Instant::now() < deadline {
            if let Ok(n) = socket.recv(&mut buf) {
                got.push((
                    start.elapsed(),
                    String::from_utf8_lossy(&buf[..n]).into_owned(),
                ));
            }
        }
        got.clone()
    };
    let has = |m: &Received, s: &str| m.iter().any(|(_, x)| x == s);
    let seen = receive(
        &|m| {
            has(m, "STATUS=1 of 2 cameras ok")
                && m.iter().filter(|(_, x)| x == "WATCHDOG=1").count() >= 4
        },
        Duration::from_secs(10),
    );
    assert!(has(&seen, "READY=1"), "{seen:?}");
    assert!(has(&seen, "STATUS=1 of 2 cameras ok"), "{seen:?}");
    let ready_at = seen.iter().position(|(_, x)| x == "READY=1").unwrap();
    let dog: Vec<Duration> = seen
        .iter()
        .filter(|(_, x)| x == "WATCHDOG=1")
        .map(|(t, _)| *t)
        .collect();
    assert!(dog.len() >= 4, "{seen:?}");
    // Half of 400 ms, give or take the loop's tick.
    for pair in dog.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(190) && gap <= Duration::from_millis(500),
            "watchdog gap {gap:?}"
        );
    }
    assert!(
        daemon.ring("one").status().is_ok(),
        "READY before the rings existed"
    );
    assert!(ready_at < seen.len());

    daemon.signal(libc::SIGHUP);
    let seen = receive(
        &|m| m.iter().filter(|(_, x)| x == "READY=1").count() >= 2,
        Duration::from_secs(5),
    );
    let reloading = seen
        .iter()
        .position(|(_, x)| x.starts_with("RELOADING=1\nMONOTONIC_USEC="))
        .expect("RELOADING");
    assert!(
        seen[reloading..].iter().any(|(_, x)| x == "READY=1"),
        "{seen:?}"
    );

    daemon.signal(libc::SIGTERM);
    let seen = receive(&|m| has(m, "STOPPING=1"), Duration::from_secs(5));
    assert!(has(&seen, "STOPPING=1"), "{seen:?}");
    assert_eq!(
        daemon.wait_exit(Duration::from_secs(6)).unwrap().code(),
        Some(0)
    );
}
