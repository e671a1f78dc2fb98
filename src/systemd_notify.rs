//! The sd_notify(3) protocol without libsystemd: readiness, status text, watchdog keep-alives,
//! stopping and reloading, sent as datagrams to the socket systemd names in `NOTIFY_SOCKET`
//! (for `Type=notify`, `Type=notify-reload`, `WatchdogSec=`, or anything else that sets it).
//!
//! A message is newline-separated `KEY=VALUE` assignments in one datagram, for example
//! `"READY=1\nSTATUS=3 of 4 cameras ok"`. `NOTIFY_SOCKET` is a filesystem path (starts with
//! `/`) or a Linux abstract socket name (starts with `@`). systemd ≥ 254 may also pass
//! `vsock:CID:PORT` (inside virtual machines); that form is not supported here and is reported
//! as not usable.
//!
//! Only the supervisor process talks to systemd: it removes [`CHILD_ENV_REMOVE`] from the
//! environment of the workers it spawns, so that a worker neither notifies nor believes it owns
//! the watchdog.

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// Variables the supervisor removes (`Command::env_remove`) from every worker's environment:
/// the notification socket and the watchdog settings belong to the main process alone (with
/// `NotifyAccess=main`, systemd ignores messages from other processes anyway, and a worker that
/// saw `WATCHDOG_USEC` without a `WATCHDOG_PID` would think it must send keep-alives).
pub const CHILD_ENV_REMOVE: &[&str] = &["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"];

/// A connection-less sender of sd_notify messages to one socket.
#[derive(Debug)]
pub struct Notifier {
    socket: UnixDatagram,
    addr: SocketAddr,
}

impl Notifier {
    /// The notifier systemd asked for through `NOTIFY_SOCKET`; None when the variable is unset
    /// or empty (not started by systemd, or `Type=` needs no notifications). A value that cannot
    /// be used (relative path, `vsock:`, too long, no socket available) is logged as a warning
    /// and also gives None: the daemon runs on, and systemd will report the missing readiness.
    pub fn from_env() -> Option<Notifier> {
        let value = std::env::var_os("NOTIFY_SOCKET")?;
        if value.is_empty() {
            return None;
        }
        let Some(addr) = value.to_str() else {
            log::warn!("NOTIFY_SOCKET is not UTF-8 ({value:?}): not notifying systemd");
            return None;
        };
        match Notifier::new(addr) {
            Ok(notifier) => Some(notifier),
            Err(e) => {
                log::warn!("NOTIFY_SOCKET={addr:?} is not usable ({e}): not notifying systemd");
                None
            }
        }
    }

    /// A notifier sending to `addr`, in `NOTIFY_SOCKET` syntax: an absolute path, or `@name`
    /// for the abstract socket `name`.
    pub fn new(addr: &str) -> io::Result<Notifier> {
        let addr = if let Some(name) = addr.strip_prefix('@') {
            SocketAddr::from_abstract_name(name.as_bytes())?
        } else if addr.starts_with('/') {
            SocketAddr::from_pathname(addr)?
        } else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "expected an absolute path or an @abstract name",
            ));
        };
        // Close-on-exec (std's default): workers never inherit it.
        let socket = UnixDatagram::unbound()?;
        Ok(Notifier { socket, addr })
    }

    /// Sends `state`, newline-separated assignments, as one datagram. Fails when the socket is
    /// gone (systemd not listening there) or the datagram is too large. The send blocks while
    /// the receiver's queue is full (`net.unix.max_dgram_qlen` datagrams; systemd raises it to
    /// 512), as libsystemd's `sd_notify` does: dropping READY=1 would fail a `Type=notify`
    /// start, and dropping WATCHDOG=1 would get camd killed. tests/daemon_notify.rs relies on
    /// it to hold camd at its first notification.
    pub fn notify(&self, state: &str) -> io::Result<()> {
        let sent = self.socket.send_to_addr(state.as_bytes(), &self.addr)?;
        if sent != state.len() {
            // Datagrams are all or nothing; this would be a kernel surprise.
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "notification datagram truncated",
            ));
        }
        Ok(())
    }

    /// `READY=1`: start-up finished (for `Type=notify`), or a reload finished (after
    /// [`reloading`](Self::reloading)).
    pub fn ready(&self) -> io::Result<()> {
        self.notify("READY=1")
    }

    /// `STATUS=<text>`: the one-line status `systemctl status` shows. Newlines in `text` would
    /// start new assignments, so they are sent as spaces.
    pub fn status(&self, text: &str) -> io::Result<()> {
        self.notify(&format!("STATUS={}", text.replace('\n', " ")))
    }

    /// `WATCHDOG=1`: the keep-alive. Send it at least every half of [`watchdog_interval`].
    pub fn watchdog(&self) -> io::Result<()> {
        self.notify("WATCHDOG=1")
    }

    /// `STOPPING=1`: shutdown has begun.
    pub fn stopping(&self) -> io::Result<()> {
        self.notify("STOPPING=1")
    }

    /// `RELOADING=1` with `MONOTONIC_USEC=` the current `CLOCK_MONOTONIC` time in µs, as
    /// `Type=notify-reload` (systemd ≥ 253) requires: systemd uses the timestamp to tell this
    /// reload from an earlier one. When the reload is done (or has failed and the old
    /// configuration stays), send [`ready`](Self::ready).
    pub fn reloading(&self) -> io::Result<()> {
        self.notify(&reloading_message(monotonic_usec()))
    }
}

/// The `RELOADING=1` message for a `CLOCK_MONOTONIC` time in microseconds.
fn reloading_message(monotonic_usec: u64) -> String {
    format!("RELOADING=1\nMONOTONIC_USEC={monotonic_usec}")
}

/// `CLOCK_MONOTONIC` in microseconds (the rings' clock, which std's `Instant` does not expose).
fn monotonic_usec() -> u64 {
    camd_ring::monotonic_ns() / 1_000
}

/// The watchdog interval systemd expects of this process (`WatchdogSec=`), read from
/// `WATCHDOG_USEC` and `WATCHDOG_PID` as sd_watchdog_enabled(3) does; None when there is no
/// watchdog for us. The supervisor must send [`Notifier::watchdog`] at least every half of this
/// interval (systemd's advice, leaving room for scheduling delays), and only while it is
/// actually healthy.
pub fn watchdog_interval() -> Option<Duration> {
    let usec = std::env::var("WATCHDOG_USEC").ok();
    let pid = std::env::var("WATCHDOG_PID").ok();
    watchdog_interval_from(usec.as_deref(), pid.as_deref(), std::process::id())
}

/// [`watchdog_interval`] over given values: `usec` must be a positive decimal number of
/// microseconds; `pid`, when present, must be a decimal pid equal to `our_pid` (when it names
/// another process, the watchdog is that process's; when it is garbage, nothing is trusted).
pub fn watchdog_interval_from(
    usec: Option<&str>,
    pid: Option<&str>,
    our_pid: u32,
) -> Option<Duration> {
    let usec: u64 = parse_decimal(usec?)?;
    if usec == 0 {
        return None;
    }
    if let Some(pid) = pid {
        if parse_decimal(pid)? != u64::from(our_pid) {
            return None;
        }
    }
    Some(Duration::from_micros(usec))
}

/// Digits only: no sign, no spaces, no empty string.
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reloading_message_format() {
        assert_eq!(
            reloading_message(123_456_789),
            "RELOADING=1\nMONOTONIC_USEC=123456789"
        );
    }

    #[test]
    fn monotonic_usec_moves_forward() {
        let a = monotonic_usec();
        std::thread::sleep(Duration::from_millis(2));
        let b = monotonic_usec();
        assert!(b >= a + 2_000, "{a} then {b}");
    }

    #[test]
    fn new_rejects_what_is_not_a_path_or_abstract_name() {
        for bad in ["", "relative/path", "vsock:2:1234"] {
            let err = Notifier::new(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
        // Longer than sun_path.
        assert!(Notifier::new(&format!("/{}", "x".repeat(200))).is_err());
        assert!(Notifier::new(&format!("@{}", "x".repeat(200))).is_err());
    }
}
