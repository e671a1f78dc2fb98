//! The camera state machine: what a camera's status is and what to do with its pipeline, from
//! what happened (a frame, a failure, time passing). Pure: no GStreamer, no threads, no clock of
//! its own; every input carries `now` (CLOCK_MONOTONIC ns), so it is tested on simulated time.
//!
//! ```text
//!  start ──► starting ──frame──► ok ──no frame for stall_timeout──► no_signal (rebuild)
//!               │                 ▲ │                                   │
//!           failure or no         │ └──failure──┐                  frame│  failure or no frame
//!        frame in connect_timeout frame         ▼                       ▼  in connect_timeout
//!               └──────────► retrying ◄───────────────────────── (back to ok)
//!                     (backoff; attempt at next_retry; retry_count consecutive failures)
//!                               │ retry_count reaches max_retry_attempts
//!                               ▼
//!                       connection_failed ── every probe_interval (default 60 s, 0: never): one attempt
//!  stop ──► stopped (from any state)
//! ```

use crate::clock::ns;
use camd_ring::State;
use std::time::Duration;

/// How a camera reconnects; the defaults are the daemon's.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Consecutive failures after which the camera is `connection_failed` (Python's default: 5).
    pub max_retry_attempts: u32,
    /// Wait before the first retry; doubles for each further failure...
    pub initial_delay: Duration,
    /// ...up to this.
    pub max_delay: Duration,
    /// Each wait is scaled by a random factor in [1 - jitter, 1 + jitter), so cameras that failed
    /// together do not retry together.
    pub jitter: f64,
    /// No frame for this long while `ok` means `no_signal` (and a rebuilt pipeline).
    pub stall_timeout: Duration,
    /// An attempt (connect, first frame) that has produced no frame after this long failed.
    pub connect_timeout: Duration,
    /// While `connection_failed`, try again this often (`None`: only a reload brings it back).
    /// Default `DEFAULT_PROBE_INTERVAL`: a camera that reboots (30-90 s) comes back by itself.
    pub probe_interval: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retry_attempts: 5,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            jitter: 0.2,
            stall_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
            probe_interval: Some(DEFAULT_PROBE_INTERVAL),
        }
    }
}

/// How often a `connection_failed` camera is tried again unless configured otherwise.
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(60);

/// What the driver must do with the camera's pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipelineCommand {
    /// Build the pipeline and set it playing (a connection attempt).
    Start,
    /// Tear it down (set to NULL and drop it).
    Stop,
    /// Tear it down and build it again at once (rtspsrc does not recover by itself).
    Restart,
}

#[derive(Clone, Debug)]
pub struct CameraMachine {
    policy: RetryPolicy,
    state: State,
    retry_count: u32,
    /// When the running pipeline was (re)started; `None` while torn down.
    attempt_since: Option<u64>,
    last_frame: Option<u64>,
    next_attempt_at: Option<u64>,
    last_error: String,
    reconnects: u64,
    ever_ok: bool,
    rng: u64,
}

impl CameraMachine {
    /// `seed` drives the jitter (give each camera its own).
    pub fn new(policy: RetryPolicy, seed: u64) -> Self {
        Self {
            policy,
            state: State::Starting,
            retry_count: 0,
            attempt_since: None,
            last_frame: None,
            next_attempt_at: None,
            last_error: String::new(),
            reconnects: 0,
            ever_ok: false,
            rng: seed | 1,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }
    pub fn retry_count(&self) -> u32 {
        self.retry_count
    }
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }
    /// When the next connection attempt happens (monotonic ns), if one is scheduled.
    pub fn next_attempt_at(&self) -> Option<u64> {
        self.next_attempt_at
    }
    pub fn last_error(&self) -> &str {
        &self.last_error
    }
    /// Connections re-established after frames had flowed once.
    pub fn reconnects(&self) -> u64 {
        self.reconnects
    }

    /// The first attempt.
    pub fn start(&mut self, now: u64) -> PipelineCommand {
        self.state = State::Starting;
        self.attempt_since = Some(now);
        PipelineCommand::Start
    }

    /// A frame reached the ring.
    pub fn on_frame(&mut self, now: u64) {
        self.last_frame = Some(now);
        if matches!(self.state, State::Ok | State::Stopped) {
            return;
        }
        if self.ever_ok {
            self.reconnects += 1;
        }
        self.ever_ok = true;
        self.state = State::Ok;
        self.retry_count = 0;
        self.next_attempt_at = None;
    }

    /// The pipeline failed (error, end of stream, no frame within the connect timeout).
    pub fn on_failure(&mut self, now: u64, error: &str) -> PipelineCommand {
        if self.state == State::Stopped {
            return PipelineCommand::Stop;
        }
        self.last_error = error.to_owned();
        self.attempt_since = None;
        self.retry_count = self
            .retry_count
            .saturating_add(1)
            .min(self.policy.max_retry_attempts.max(1));
        if self.retry_count >= self.policy.max_retry_attempts {
            self.state = State::ConnectionFailed;
            self.next_attempt_at = self.policy.probe_interval.map(|p| now + ns(p));
        } else {
            self.state = State::Retrying;
            self.next_attempt_at = Some(now + self.backoff(self.retry_count));
        }
        PipelineCommand::Stop
    }

    /// Time has passed: the driver calls this at `next_deadline()` (or later, or at any time).
    pub fn on_tick(&mut self, now: u64) -> Option<PipelineCommand> {
        match (self.state, self.attempt_since) {
            (State::Stopped, _) => None,
            // An attempt in progress that has not produced a frame in time.
            (
                State::Starting | State::Retrying | State::NoSignal | State::ConnectionFailed,
                Some(since),
            ) if now.saturating_sub(since) >= ns(self.policy.connect_timeout) => {
                let error = format!(
                    "no frame within the {:?} connect timeout",
                    self.policy.connect_timeout
                );
                Some(self.on_failure(now, &error))
            }
            // Waiting to retry (or to probe), and the time has come.
            (State::Retrying | State::ConnectionFailed, None)
                if self.next_attempt_at.is_some_and(|t| now >= t) =>
            {
                self.next_attempt_at = None;
                self.attempt_since = Some(now);
                Some(PipelineCommand::Start)
            }
            (State::Ok, _)
                if now.saturating_sub(self.last_frame.unwrap_or(now))
                    >= ns(self.policy.stall_timeout) =>
            {
                self.state = State::NoSignal;
                self.last_error = format!("no frame for {:?}", self.policy.stall_timeout);
                self.attempt_since = Some(now);
                Some(PipelineCommand::Restart)
            }
            _ => None,
        }
    }

    /// Shutdown: `stopped` whatever the state.
    pub fn stop(&mut self) -> PipelineCommand {
        self.state = State::Stopped;
        self.attempt_since = None;
        self.next_attempt_at = None;
        PipelineCommand::Stop
    }

    /// The earliest time `on_tick` has something to do; `None`: nothing until an event.
    pub fn next_deadline(&self) -> Option<u64> {
        match (self.state, self.attempt_since) {
            (State::Stopped, _) => None,
            (State::Ok, _) => self.last_frame.map(|t| t + ns(self.policy.stall_timeout)),
            (_, Some(since)) => Some(since + ns(self.policy.connect_timeout)),
            (_, None) => self.next_attempt_at,
        }
    }

    /// The wait before retry `attempt` (1-based): initial × 2^(attempt-1), at most max, jittered.
    fn backoff(&mut self, attempt: u32) -> u64 {
        let base = ns(self.policy.initial_delay)
            .saturating_mul(1u64 << (attempt - 1).min(32))
            .min(ns(self.policy.max_delay));
        // xorshift64: jitter needs spread, not cryptographic quality.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let unit = (self.rng >> 11) as f64 / (1u64 << 53) as f64;
        let factor = 1.0 - self.policy.jitter + 2.0 * self.policy.jitter * unit;
        (base as f64 * factor) as u64
    }
}

#[cfg(test)]
#[path = "camera_state_tests.rs"]
mod tests;
