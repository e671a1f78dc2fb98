//! systemd's notification protocol against a real datagram socket: READY=1 once rings exist
//! and workers run, STATUS= with cameras ok out of total, WATCHDOG=1 at half WATCHDOG_USEC,
//! RELOADING=1 and READY=1 around a reload, STOPPING=1 on SIGTERM.
//!
//! The order of READY=1 is seen, not inferred from when the test reads it: the socket's queue
//! is filled before camd starts, so camd's first notification (a blocking send, as
//! libsystemd's) waits for room; while it waits, the rings and the workers must already exist.

use camd_test_support as support;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};
use support::daemon::Daemon;

/// Datagrams received, with when.
type Received = [(Duration, String)];

/// Fills the receiver's queue at `path` from fresh non-blocking sockets, each sending until its
/// own send buffer is full: queued datagrams are charged to their sender until read, so one
/// socket may run out of buffer before a long queue is full. A fresh socket that cannot send
/// even one means the receiver's queue is full. No privilege needed. Returns the datagrams
/// queued and the sockets, which are kept until the queue is read.
fn fill_queue(path: &std::path::Path) -> (usize, Vec<UnixDatagram>) {
    let (mut queued, mut fillers) = (0, Vec::new());
    loop {
        let filler = UnixDatagram::unbound().unwrap();
        filler.set_nonblocking(true).unwrap();
        let mut sent = 0;
        while filler.send_to(FILLER.as_bytes(), path).is_ok() {
            sent += 1;
        }
        fillers.push(filler);
        queued += sent;
        if sent == 0 {
            return (queued, fillers);
        }
    }
}

/// What the test itself queues on the socket to fill it.
const FILLER: &str = "X_CAMD_TEST_FILLER=1";

#[test]
fn ready_status_watchdog_reloading_stopping() {
    let sockets = support::TempDir::new("notify");
    let path = sockets.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    // The receiver takes net.unix.max_dgram_qlen + 1 datagrams (10 by the kernel's default,
    // 512 where systemd set it): all of them, so camd's first send waits.
    let qlen: usize = std::fs::read_to_string("/proc/sys/net/unix/max_dgram_qlen")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let (queued, _fillers) = fill_queue(&path);
    assert_eq!(
        queued,
        qlen + 1,
        "the notification socket's queue is not full"
    );
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
    // camd is held at its first notification: by then both rings and a worker exist.
    let supervisor = daemon.pid() as u32;
    let rings = [
        daemon.run_dir.join("one.ring"),
        daemon.run_dir.join("two.ring"),
    ];
    let held = support::wait_for(Duration::from_secs(10), || {
        (rings.iter().all(|r| r.exists()) && !support::daemon::children_of(supervisor).is_empty())
            .then_some(())
    });
    assert!(
        held.is_some(),
        "camd notified systemd before its rings and workers existed (it is held at that \
         notification): rings {:?}, workers {:?}",
        rings.map(|r| r.exists()),
        support::daemon::children_of(supervisor)
    );
    let mut got: Vec<(Duration, String)> = Vec::new();
    let start = Instant::now();
    let mut receive = |until: &dyn Fn(&Received) -> bool, timeout: Duration| {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 4096];
        while !until(&got) && Instant::now() < deadline {
            if let Ok(n) = socket.recv(&mut buf) {
                if &buf[..n] == FILLER.as_bytes() {
                    continue;
                }
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
    assert_eq!(seen[0].1, "READY=1", "{seen:?}");
    assert!(has(&seen, "STATUS=1 of 2 cameras ok"), "{seen:?}");
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
