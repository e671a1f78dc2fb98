//! Time for the camera state machines: a `Clock` gives CLOCK_MONOTONIC nanoseconds (the ring's
//! clock, so deadlines and frame timestamps compare directly). `SystemClock` in the daemon;
//! `ManualClock` in tests, which advance it instead of sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub trait Clock: Send + Sync {
    /// Now, as CLOCK_MONOTONIC nanoseconds.
    fn now(&self) -> u64;

    /// How often a waiter must look at the clock again because it may jump (a simulated clock
    /// moved by a test); `None` for a clock that only flows.
    fn poll_interval(&self) -> Option<Duration> {
        None
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        camd_ring::monotonic_ns()
    }
}

/// A clock that only moves when told to.
#[derive(Clone, Debug, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    pub fn starting_at(ns: u64) -> Self {
        Self(Arc::new(AtomicU64::new(ns)))
    }

    pub fn set(&self, ns: u64) {
        self.0.store(ns, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    fn poll_interval(&self) -> Option<Duration> {
        Some(Duration::from_millis(5))
    }
}

pub fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
