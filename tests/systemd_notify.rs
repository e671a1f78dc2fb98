//! sd_notify against real datagram sockets: a socket bound at a path in a temporary directory
//! and one at an abstract name stand in for systemd's notification socket, and every datagram
//! the `Notifier` sends is read back and compared byte for byte. `Notifier::from_env` and
//! `watchdog_interval` read the environment, so they run in a child process (this test binary
//! again, the ignored test `child_from_env`): the parent never changes its own environment.

use camd_test_support as support;

use camd::systemd_notify::{watchdog_interval_from, Notifier, CHILD_ENV_REMOVE};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::TempDir;

/// A stand-in for systemd's notification socket: the tests run without systemd as PID 1 (CI,
/// containers), and the protocol is only datagrams on a socket, which this is. The real systemd
/// reads camd's notifications in the qemu guest (`cargo xtask vm-test`, its systemd part).
struct Listener {
    socket: UnixDatagram,
}

impl Listener {
    fn at_path(dir: &TempDir) -> (Self, String) {
        let path = dir.join("notify");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        (Self { socket }, path.to_str().unwrap().to_string())
    }

    fn at_abstract_name(tag: &str) -> (Self, String) {
        let name = format!("camd-test-notify-{tag}-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let socket = UnixDatagram::bind_addr(&addr).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        (Self { socket }, format!("@{name}"))
    }

    fn recv(&self) -> String {
        let mut buf = [0u8; 4096];
        let n = self.socket.recv(&mut buf).expect("a notification datagram");
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    fn assert_nothing_more(&self) {
        self.socket.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 4096];
        match self.socket.recv(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("unexpected datagram: {other:?}"),
        }
    }
}

fn clock_monotonic_usec() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    assert_eq!(rc, 0);
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1_000
}

/// Sends every kind of message and checks the exact datagrams.
fn exercise(listener: &Listener, notifier: &Notifier) {
    notifier.ready().unwrap();
    assert_eq!(listener.recv(), "READY=1");
    notifier.status("3 of 4 cameras ok").unwrap();
    assert_eq!(listener.recv(), "STATUS=3 of 4 cameras ok");
    notifier.status("two\nlines").unwrap();
    assert_eq!(listener.recv(), "STATUS=two lines");
    notifier.watchdog().unwrap();
    assert_eq!(listener.recv(), "WATCHDOG=1");
    notifier.stopping().unwrap();
    assert_eq!(listener.recv(), "STOPPING=1");
    notifier
        .notify("READY=1\nSTATUS=3 of 4 cameras ok")
        .unwrap();
    assert_eq!(listener.recv(), "READY=1\nSTATUS=3 of 4 cameras ok");

    let before = clock_monotonic_usec();
    notifier.reloading().unwrap();
    let after = clock_monotonic_usec();
    let message = listener.recv();
    let usec: u64 = message
        .strip_prefix("RELOADING=1\nMONOTONIC_USEC=")
        .unwrap_or_else(|| panic!("{message:?}"))
        .parse()
        .unwrap_or_else(|_| panic!("{message:?}"));
    assert!(
        (before..=after).contains(&usec),
        "{before} <= {usec} <= {after}"
    );
    listener.assert_nothing_more();
}

#[test]
fn notifies_a_socket_at_a_path() {
    let dir = TempDir::new("notify-path");
    let (listener, addr) = Listener::at_path(&dir);
    exercise(&listener, &Notifier::new(&addr).unwrap());
}

#[test]
fn notifies_an_abstract_socket() {
    let (listener, addr) = Listener::at_abstract_name("abstract");
    assert!(addr.starts_with('@'));
    exercise(&listener, &Notifier::new(&addr).unwrap());
}

#[test]
fn notify_fails_when_nobody_listens() {
    let dir = TempDir::new("notify-none");
    let path = dir.join("nobody");
    let notifier = Notifier::new(path.to_str().unwrap()).unwrap();
    assert!(notifier.ready().is_err());
    let name = format!("@camd-test-notify-nobody-{}", std::process::id());
    assert!(Notifier::new(&name).unwrap().ready().is_err());
}

#[test]
fn watchdog_interval_rules() {
    let our = 4242;
    let two_s = Some(Duration::from_secs(2));
    // No WATCHDOG_PID: the watchdog is ours.
    assert_eq!(watchdog_interval_from(Some("2000000"), None, our), two_s);
    // WATCHDOG_PID is us, or another process.
    assert_eq!(
        watchdog_interval_from(Some("2000000"), Some("4242"), our),
        two_s
    );
    assert_eq!(
        watchdog_interval_from(Some("2000000"), Some("4243"), our),
        None
    );
    assert_eq!(
        watchdog_interval_from(Some("2000000"), Some("1"), our),
        None
    );
    // Garbage WATCHDOG_PID: nothing trusted.
    for pid in ["", "x", "-4242", " 4242", "4242 ", "+4242", "4242x"] {
        assert_eq!(
            watchdog_interval_from(Some("2000000"), Some(pid), our),
            None,
            "{pid:?}"
        );
    }
    // No, zero or garbage WATCHDOG_USEC.
    assert_eq!(watchdog_interval_from(None, None, our), None);
    assert_eq!(watchdog_interval_from(None, Some("4242"), our), None);
    for usec in ["", "0", "-1", "2s", "1e6", "18446744073709551616"] {
        assert_eq!(
            watchdog_interval_from(Some(usec), None, our),
            None,
            "{usec:?}"
        );
    }
    assert_eq!(
        watchdog_interval_from(Some("1"), None, our),
        Some(Duration::from_micros(1))
    );
}

const CHILD_ENV: &str = "CAMD_NOTIFY_TEST_CHILD";

/// In the child only: reports what `from_env` and `watchdog_interval` see, and sends one
/// status through the notifier when there is one.
#[test]
#[ignore = "child process of the other tests in this file; does nothing when run alone"]
fn child_from_env() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    // Markers on lines of their own: libtest has just printed "test child_from_env ... ".
    match Notifier::from_env() {
        Some(notifier) => {
            notifier.status("from the child").unwrap();
            println!("\nNOTIFIER=some");
        }
        None => println!("\nNOTIFIER=none"),
    }
    println!("WATCHDOG={:?}", camd::systemd_notify::watchdog_interval());
}

/// Runs `child_from_env` with `env` set (a None value removes the variable); returns its
/// NOTIFIER= and WATCHDOG= values.
fn run_child(env: &[(&str, Option<&str>)]) -> (String, String) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "child_from_env",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdin(Stdio::null());
    // A clean start whatever the test runner's own environment holds.
    for name in CHILD_ENV_REMOVE {
        command.env_remove(name);
    }
    for (name, value) in env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "child failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let value = |key: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} line from the child:\n{stdout}"))
            .to_string()
    };
    (value("NOTIFIER="), value("WATCHDOG="))
}

#[test]
fn from_env_reads_notify_socket() {
    let dir = TempDir::new("notify-env");
    let (listener, path) = Listener::at_path(&dir);
    let (notifier, _) = run_child(&[("NOTIFY_SOCKET", Some(&path))]);
    assert_eq!(notifier, "some");
    assert_eq!(listener.recv(), "STATUS=from the child");

    let (abstract_listener, name) = Listener::at_abstract_name("env");
    let (notifier, _) = run_child(&[("NOTIFY_SOCKET", Some(&name))]);
    assert_eq!(notifier, "some");
    assert_eq!(abstract_listener.recv(), "STATUS=from the child");

    for unusable in [None, Some(""), Some("relative/notify"), Some("vsock:2:999")] {
        let (notifier, _) = run_child(&[("NOTIFY_SOCKET", unusable)]);
        assert_eq!(notifier, "none", "{unusable:?}");
    }
    listener.assert_nothing_more();
}

#[test]
fn watchdog_interval_from_env() {
    let (_, watchdog) = run_child(&[("WATCHDOG_USEC", Some("3000000"))]);
    assert_eq!(watchdog, format!("{:?}", Some(Duration::from_secs(3))));
    // The parent's pid is not the child's: the watchdog belongs to another process.
    let parent = std::process::id().to_string();
    let (_, watchdog) = run_child(&[
        ("WATCHDOG_USEC", Some("3000000")),
        ("WATCHDOG_PID", Some(&parent)),
    ]);
    assert_eq!(watchdog, "None");
    let (_, watchdog) = run_child(&[]);
    assert_eq!(watchdog, "None");
}

/// What the supervisor does when it spawns a worker: with `CHILD_ENV_REMOVE` removed, the
/// worker neither notifies nor keeps a watchdog, whatever the supervisor was given.
#[test]
fn a_child_without_child_env_remove_sees_no_notifier_and_no_watchdog() {
    let dir = TempDir::new("notify-worker");
    let (listener, path) = Listener::at_path(&dir);
    let mut env: Vec<(&str, Option<&str>)> = vec![
        ("NOTIFY_SOCKET", Some(&path)),
        ("WATCHDOG_USEC", Some("3000000")),
    ];
    env.extend(CHILD_ENV_REMOVE.iter().map(|name| (*name, None)));
    let (notifier, watchdog) = run_child(&env);
    assert_eq!((notifier.as_str(), watchdog.as_str()), ("none", "None"));
    listener.assert_nothing_more();
}
