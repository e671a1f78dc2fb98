//! Time for the state machines and the loops that drive them: a `Clock` gives CLOCK_MONOTONIC
//! nanoseconds (the ring's clock, so deadlines and frame timestamps compare directly), sleeps
//! until a time on itself, and tells a waiter how long it may block in real time. `SystemClock`
//! in the daemon; `ManualClock` in tests, which move it instead of sleeping: a thread asleep on
//! it wakes when the test moves it past the deadline, and a loop blocked on a channel is woken
//! by the clock's jump callbacks (`on_jump`), so nothing polls the clock.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

pub trait Clock: Send + Sync {
    /// Now, as CLOCK_MONOTONIC nanoseconds.
    fn now(&self) -> u64;

    /// Blocks until this clock reads `deadline` or later.
    fn sleep_until(&self, deadline: u64);

    /// How long, in real time, a waiter for `deadline` may block before it must look at the
    /// clock again: the time left, for a clock that flows; `None` for a clock that only jumps,
    /// which calls its `on_jump` callbacks when it does.
    fn real_wait(&self, deadline: u64) -> Option<Duration>;

    /// Registers `wake`, called after every jump of this clock, so a loop blocked on something
    /// else (a channel, a poll) looks at the clock again. A clock that flows never calls it.
    fn on_jump(&self, wake: Box<dyn Fn() + Send + Sync>);
}

#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        camd_ring::monotonic_ns()
    }

    fn sleep_until(&self, deadline: u64) {
        if let Some(left) = self.real_wait(deadline) {
            std::thread::sleep(left);
        }
    }

    fn real_wait(&self, deadline: u64) -> Option<Duration> {
        Some(Duration::from_nanos(deadline.saturating_sub(self.now())))
    }

    fn on_jump(&self, _wake: Box<dyn Fn() + Send + Sync>) {}
}

/// A clock that only moves when told to (`set`, `advance`). Sleepers wake when it passes their
/// deadline; `on_jump` callbacks run after every move.
#[derive(Clone, Default)]
pub struct ManualClock(Arc<Manual>);

#[derive(Default)]
struct Manual {
    now: Mutex<u64>,
    moved: Condvar,
    /// Threads blocked in `sleep_until` now.
    sleepers: std::sync::atomic::AtomicUsize,
    on_jump: Mutex<Vec<Box<dyn Fn() + Send + Sync>>>,
}

impl ManualClock {
    pub fn starting_at(ns: u64) -> Self {
        let clock = Self::default();
        *clock.0.now.lock().unwrap() = ns;
        clock
    }

    pub fn set(&self, ns: u64) {
        *self.0.now.lock().unwrap() = ns;
        self.0.moved.notify_all();
        for wake in self.0.on_jump.lock().unwrap().iter() {
            wake();
        }
    }

    pub fn advance(&self, by: Duration) {
        self.set(self.now() + ns(by));
    }

    /// How many threads are blocked in `sleep_until`: a test that moves the clock only while
    /// the code under test sleeps on it never moves time under work done in real time.
    pub fn sleepers(&self) -> usize {
        self.0.sleepers.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl std::fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ManualClock({})", self.now())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        *self.0.now.lock().unwrap()
    }

    fn sleep_until(&self, deadline: u64) {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.0.now.lock().unwrap();
        self.0.sleepers.fetch_add(1, SeqCst);
        drop(self.0.moved.wait_while(now, |now| *now < deadline).unwrap());
        self.0.sleepers.fetch_sub(1, SeqCst);
    }

    fn real_wait(&self, _deadline: u64) -> Option<Duration> {
        None
    }

    fn on_jump(&self, wake: Box<dyn Fn() + Send + Sync>) {
        self.0.on_jump.lock().unwrap().push(wake);
    }
}

pub fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A sleeper on a manual clock wakes when, and only when, the clock passes its deadline:
    /// the test moves time, nothing sleeps in real time for it.
    #[test]
    fn a_manual_sleeper_wakes_when_the_clock_passes_its_deadline() {
        let clock = ManualClock::starting_at(1_000);
        let sleeper = {
            let clock = clock.clone();
            std::thread::spawn(move || {
                clock.sleep_until(5_000);
                clock.now()
            })
        };
        clock.set(4_999);
        assert!(!sleeper.is_finished(), "woke before its deadline");
        clock.advance(Duration::from_nanos(1));
        assert_eq!(sleeper.join().unwrap(), 5_000);
        clock.sleep_until(10); // in the past: returns at once
    }

    #[test]
    fn a_jump_calls_every_callback_and_a_flowing_clock_has_a_real_wait() {
        let clock = ManualClock::starting_at(0);
        let calls = Arc::new(AtomicU32::new(0));
        for _ in 0..2 {
            let calls = calls.clone();
            clock.on_jump(Box::new(move || {
                calls.fetch_add(1, Ordering::SeqCst);
            }));
        }
        clock.advance(Duration::from_secs(1));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(clock.real_wait(u64::MAX), None);
        let now = SystemClock.now();
        let wait = SystemClock.real_wait(now + 2_000_000_000).unwrap();
        assert!(wait <= Duration::from_secs(2) && wait > Duration::from_secs(1));
        assert_eq!(SystemClock.real_wait(0), Some(Duration::ZERO));
    }
}
