//! When a dead worker is started again, and when a live one counts as hung. Pure functions of
//! CLOCK_MONOTONIC nanoseconds (the rings' clock), so tests drive them with any time they like.

use crate::clock::ns;
use std::time::Duration;

/// First restart delay; doubles for each further crash of a worker that died before it
/// published a frame (a crash loop). A worker that had published frames restarts after this.
pub const FIRST_DELAY: Duration = Duration::from_millis(250);
pub const MAX_DELAY: Duration = Duration::from_secs(30);
/// A worker that ran this long before it died starts again after `FIRST_DELAY`.
pub const STABLE_AFTER: Duration = Duration::from_secs(60);

/// One worker's crash history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestartBackoff {
    /// Crashes in a row without a stable run between them.
    pub crashes: u32,
}

impl RestartBackoff {
    /// A worker started at `started` died at `now`, having published frames (`produced`) or
    /// not: when to start it again. Only deaths before any frame (or a stable run) back off:
    /// a worker killed while its cameras streamed comes back at once, however often.
    pub fn on_exit(&mut self, started: u64, now: u64, produced: bool) -> u64 {
        if produced || now.saturating_sub(started) >= ns(STABLE_AFTER) {
            self.crashes = 0;
        }
        self.crashes = self.crashes.saturating_add(1);
        let factor = 1u64 << (self.crashes - 1).min(16);
        let delay = ns(FIRST_DELAY).saturating_mul(factor).min(ns(MAX_DELAY));
        now.saturating_add(delay)
    }
}

/// What the supervisor knows of one ring of a worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingLife {
    /// The pid that last wrote the ring's status (0: none yet).
    pub writer_pid: u32,
    /// The ring's last heartbeat, CLOCK_MONOTONIC ns (0: never).
    pub heartbeat: u64,
}

impl RingLife {
    /// A ring that is missing or unreadable, or that no writer has touched.
    pub const NEVER_WRITTEN: Self = Self {
        writer_pid: 0,
        heartbeat: 0,
    };
}

/// How long a new worker may take to initialise GStreamer before it is taken for hung (at
/// least `hang_timeout_s`). A first start scans every plugin into the registry: 0.3 s on these
/// machines, much longer on a slow board or an emulated one (docs/vm-test.md); a worker killed
/// during its scan would start it again, for ever.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

/// Whether a worker (pid `pid`) is hung at `now` as far as one camera is concerned: the camera
/// was handed to it at `handed` and its ring has not been taken over by it, or has had no
/// heartbeat, for `timeout` since. Workers heartbeat every ring twice a second from each
/// camera's thread, so a stuck camera thread counts, too; time before the handover does not (a
/// camera added by a reload to a worker that has run for hours gets the whole timeout).
pub fn hung(pid: u32, handed: u64, ring: RingLife, now: u64, timeout: Duration) -> bool {
    let since = if ring.writer_pid == pid {
        ring.heartbeat.max(handed)
    } else {
        handed
    };
    now.saturating_sub(since) >= ns(timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn backoff_doubles_to_the_cap_and_resets_after_a_stable_run() {
        let mut b = RestartBackoff::default();
        let mut now = 100 * S;
        let mut delays = Vec::new();
        for _ in 0..10 {
            let at = b.on_exit(now - S, now, false);
            delays.push((at - now) as f64 / S as f64);
            now = at + S;
        }
        assert_eq!(
            delays,
            [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
        );
        // Ran for a minute: the next crash is treated as the first.
        let at = b.on_exit(now, now + 61 * S, false);
        assert_eq!(at - (now + 61 * S), S / 4);
    }

    /// Killed every 10 s while streaming: before, the gap doubled with each kill (0.25, 0.5 ...
    /// 30 s); a worker that had published frames now always comes back after the first delay.
    #[test]
    fn a_worker_that_published_frames_restarts_at_the_first_delay_every_time() {
        let mut b = RestartBackoff::default();
        let mut now = 100 * S;
        for _ in 0..30 {
            let at = b.on_exit(now - 10 * S, now, true);
            assert_eq!(at - now, ns(FIRST_DELAY));
            now = at + 10 * S;
        }
    }

    #[test]
    fn hung_counts_from_the_handover_not_from_the_worker_start() {
        let t = Duration::from_secs(10);
        let beating = RingLife {
            writer_pid: 7,
            heartbeat: 99 * S,
        };
        assert!(!hung(7, 0, beating, 100 * S, t));
        // Silent for 10 s under this pid.
        let silent = RingLife {
            writer_pid: 7,
            heartbeat: 90 * S,
        };
        assert!(hung(7, 0, silent, 100 * S, t));
        // A camera handed at 95 s to a worker that has run since 0, not taken over yet (the
        // ring is still the supervisor's, pid 3): not hung at 100 s, hung at 105 s.
        let not_taken = RingLife {
            writer_pid: 3,
            heartbeat: 94 * S,
        };
        assert!(!hung(7, 95 * S, not_taken, 100 * S, t));
        assert!(hung(7, 95 * S, not_taken, 105 * S, t));
        // An old heartbeat before the handover does not count against it.
        assert!(!hung(7, 95 * S, silent, 100 * S, t));
    }
}
