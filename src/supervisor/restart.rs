//! When a dead worker is started again, and when a live one counts as hung. Pure functions of
//! CLOCK_MONOTONIC nanoseconds (the rings' clock), so tests drive them with any time they like.

use crate::clock::ns;
use std::time::Duration;

/// First restart delay; doubles for each further crash of a worker that never ran long.
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
    /// A worker started at `started` died at `now`: when to start it again.
    pub fn on_exit(&mut self, started: u64, now: u64) -> u64 {
        if now.saturating_sub(started) >= ns(STABLE_AFTER) {
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

/// Whether a worker (pid `pid`, started at `started`) is hung at `now`: one of its rings has not
/// been taken over by it, or has had no heartbeat, for `timeout`. Workers heartbeat every ring
/// twice a second from each camera's thread, so a stuck camera thread counts, too.
pub fn hung(pid: u32, started: u64, rings: &[RingLife], now: u64, timeout: Duration) -> bool {
    let timeout = ns(timeout);
    if now.saturating_sub(started) < timeout {
        return false;
    }
    rings.iter().any(|ring| {
        let since = if ring.writer_pid == pid {
            ring.heartbeat.max(started)
        } else {
            started
        };
        now.saturating_sub(since) >= timeout
    })
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
            let at = b.on_exit(now - S, now);
            delays.push((at - now) as f64 / S as f64);
            now = at + S;
        }
        assert_eq!(
            delays,
            [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
        );
        // Ran for a minute: the next crash is treated as the first.
        let at = b.on_exit(now, now + 61 * S);
        assert_eq!(at - (now + 61 * S), S / 4);
    }

    #[test]
    fn hung_needs_a_ring_silent_for_the_timeout() {
        let t = Duration::from_secs(10);
        let alive = RingLife {
            writer_pid: 7,
            heartbeat: 95 * S,
        };
        // Young worker: never hung.
        assert!(!hung(
            7,
            95 * S,
            &[RingLife {
                writer_pid: 0,
                heartbeat: 0
            }],
            100 * S,
            t
        ));
        // Every ring beating.
        assert!(!hung(7, 0, &[alive, alive], 100 * S, t));
        // One ring silent for 10 s.
        let silent = RingLife {
            writer_pid: 7,
            heartbeat: 90 * S,
        };
        assert!(hung(7, 0, &[alive, silent], 100 * S, t));
        // One ring never taken over (still the old pid's) 10 s after the start.
        let stale = RingLife {
            writer_pid: 3,
            heartbeat: 99 * S,
        };
        assert!(hung(7, 90 * S, &[alive, stale], 100 * S, t));
        assert!(!hung(7, 91 * S, &[alive, stale], 100 * S, t));
    }
}
