//! The camera state machine on simulated time: every test passes `now` explicitly or advances a
//! `ManualClock`; nothing sleeps.

use super::*;
use crate::clock::{Clock, ManualClock};

const S: u64 = 1_000_000_000;

fn machine() -> CameraMachine {
    CameraMachine::new(RetryPolicy::default(), 42)
}

#[test]
fn starting_then_ok_on_the_first_frame() {
    let mut m = machine();
    assert_eq!(m.start(0), PipelineCommand::Start);
    assert_eq!(m.state(), State::Starting);
    assert_eq!(m.next_deadline(), Some(10 * S), "connect timeout");
    m.on_frame(S / 5);
    assert_eq!((m.state(), m.retry_count()), (State::Ok, 0));
    assert_eq!(
        m.next_deadline(),
        Some(S / 5 + 5 * S),
        "stall timeout after the last frame"
    );
}

#[test]
fn consecutive_failures_back_off_exponentially_then_connection_failed() {
    let mut m = machine();
    m.start(0);
    let mut now = 0;
    let mut waits = Vec::new();
    for attempt in 1..=4u32 {
        assert_eq!(
            m.on_failure(now, "Could not connect"),
            PipelineCommand::Stop
        );
        assert_eq!((m.state(), m.retry_count()), (State::Retrying, attempt));
        let at = m.next_attempt_at().unwrap();
        let wait = at - now;
        let base = S << (attempt - 1);
        assert!(
            wait >= base * 8 / 10 && wait < base * 12 / 10,
            "attempt {attempt}: {wait} not within 20% of {base}"
        );
        waits.push(wait);
        assert_eq!(m.on_tick(at - 1), None, "no attempt before its time");
        assert_eq!(m.on_tick(at), Some(PipelineCommand::Start));
        assert_eq!(
            m.state(),
            State::Retrying,
            "an attempt in progress is still retrying"
        );
        now = at + S / 100;
    }
    assert_eq!(
        m.on_failure(now, "Could not connect"),
        PipelineCommand::Stop
    );
    assert_eq!((m.state(), m.retry_count()), (State::ConnectionFailed, 5));
    // The default probes: one attempt DEFAULT_PROBE_INTERVAL later.
    let probe = now + ns(DEFAULT_PROBE_INTERVAL);
    assert_eq!(m.next_attempt_at(), Some(probe));
    assert_eq!(m.on_tick(probe - 1), None);
    assert_eq!(m.on_tick(probe), Some(PipelineCommand::Start));
    assert_eq!(m.last_error(), "Could not connect");
}

#[test]
fn probe_interval_none_leaves_connection_failed_to_a_reload() {
    let policy = RetryPolicy {
        max_retry_attempts: 1,
        probe_interval: None,
        ..RetryPolicy::default()
    };
    let mut m = CameraMachine::new(policy, 42);
    m.start(0);
    m.on_failure(0, "Could not connect");
    assert_eq!(m.state(), State::ConnectionFailed);
    assert_eq!(
        m.next_deadline(),
        None,
        "no probe configured: only a reload brings it back"
    );
    assert_eq!(m.on_tick(3600 * S), None);
}

#[test]
fn backoff_is_capped_and_jitter_differs_between_cameras() {
    let policy = RetryPolicy {
        max_retry_attempts: 100,
        ..RetryPolicy::default()
    };
    let waits = |seed| {
        let mut m = CameraMachine::new(policy.clone(), seed);
        m.start(0);
        (0..12).map(|_| m.on_failure(0, "x")).count();
        m.next_attempt_at().unwrap()
    };
    let (a, b) = (waits(1), waits(2));
    assert!((24 * S..=36 * S).contains(&a), "capped at 30 s ± 20%: {a}");
    assert_ne!(a, b, "two cameras that fail together do not retry together");
}

#[test]
fn a_successful_retry_resets_the_count() {
    let mut m = machine();
    m.start(0);
    m.on_failure(S, "refused");
    m.on_failure(2 * S, "refused");
    let at = m.next_attempt_at().unwrap();
    assert_eq!(m.on_tick(at), Some(PipelineCommand::Start));
    m.on_frame(at + S / 10);
    assert_eq!(
        (m.state(), m.retry_count(), m.next_attempt_at()),
        (State::Ok, 0, None)
    );
    assert_eq!(
        m.reconnects(),
        0,
        "never had frames before: not a reconnect"
    );
}

#[test]
fn an_attempt_without_a_frame_within_the_connect_timeout_fails() {
    let mut m = machine();
    m.start(0);
    assert_eq!(m.on_tick(10 * S - 1), None);
    assert_eq!(m.on_tick(10 * S), Some(PipelineCommand::Stop));
    assert_eq!((m.state(), m.retry_count()), (State::Retrying, 1));
    assert!(
        m.last_error().contains("connect timeout"),
        "{}",
        m.last_error()
    );
}

#[test]
fn no_frame_for_the_stall_timeout_means_no_signal_and_a_rebuild() {
    let mut m = machine();
    m.start(0);
    m.on_frame(S);
    m.on_frame(2 * S);
    assert_eq!(m.on_tick(7 * S - 1), None);
    assert_eq!(m.on_tick(7 * S), Some(PipelineCommand::Restart));
    assert_eq!((m.state(), m.retry_count()), (State::NoSignal, 0));
    // Frames again: ok, and it counts as a reconnect.
    m.on_frame(7 * S + S / 2);
    assert_eq!((m.state(), m.reconnects()), (State::Ok, 1));
}

#[test]
fn no_signal_that_does_not_recover_becomes_retrying() {
    let mut m = machine();
    m.start(0);
    m.on_frame(S);
    assert_eq!(m.on_tick(6 * S), Some(PipelineCommand::Restart));
    // The rebuilt pipeline produces nothing (a frozen camera): a failure after connect_timeout.
    assert_eq!(m.next_deadline(), Some(16 * S));
    assert_eq!(m.on_tick(16 * S), Some(PipelineCommand::Stop));
    assert_eq!((m.state(), m.retry_count()), (State::Retrying, 1));
}

#[test]
fn connection_failed_probes_when_configured() {
    let policy = RetryPolicy {
        max_retry_attempts: 2,
        probe_interval: Some(Duration::from_secs(60)),
        ..RetryPolicy::default()
    };
    let mut m = CameraMachine::new(policy, 7);
    m.start(0);
    m.on_failure(0, "x");
    m.on_failure(S, "x");
    assert_eq!(m.state(), State::ConnectionFailed);
    assert_eq!(m.next_deadline(), Some(61 * S));
    assert_eq!(m.on_tick(61 * S), Some(PipelineCommand::Start));
    assert_eq!(m.on_failure(62 * S, "still down"), PipelineCommand::Stop);
    assert_eq!((m.state(), m.retry_count()), (State::ConnectionFailed, 2));
    assert_eq!(m.on_tick(122 * S), Some(PipelineCommand::Start));
    m.on_frame(122 * S + S / 10);
    assert_eq!((m.state(), m.retry_count()), (State::Ok, 0));
}

/// A camera that reboots (down 90 s) with every setting at its default: before, 5 failures in
/// ~16 s ended in `connection_failed` for good and a person had to reload. Now it probes every
/// `DEFAULT_PROBE_INTERVAL`, still reporting `connection_failed` (as the Python design did),
/// and is `ok` again by itself within one interval of the camera's return.
#[test]
fn a_rebooting_camera_comes_back_by_itself_with_the_defaults() {
    let mut m = CameraMachine::new(RetryPolicy::default(), 7);
    let back_at = 90 * S;
    let mut now = 0;
    let mut command = Some(m.start(now));
    let mut failed_since = None;
    while m.state() != State::Ok {
        assert!(now < 600 * S, "not ok after 10 minutes: {:?}", m.state());
        if command == Some(PipelineCommand::Start) || command == Some(PipelineCommand::Restart) {
            if now < back_at {
                m.on_failure(now, "connection refused");
            } else {
                m.on_frame(now + S / 10);
                continue;
            }
        }
        if m.state() == State::ConnectionFailed && failed_since.is_none() {
            failed_since = Some(now);
        }
        now = m.next_deadline().expect("a probe is always pending");
        command = m.on_tick(now);
    }
    let failed_since = failed_since.expect("it went through connection_failed");
    assert!(failed_since < 20 * S, "connection_failed at {failed_since}");
    assert!(
        now <= back_at + ns(DEFAULT_PROBE_INTERVAL) + S,
        "ok at {} s, the camera was back at 90 s",
        now / S
    );
}

#[test]
fn stop_wins_from_any_state() {
    for failures in 0..6 {
        let mut m = machine();
        m.start(0);
        for i in 0..failures {
            m.on_failure(i * S, "x");
        }
        assert_eq!(m.stop(), PipelineCommand::Stop);
        assert_eq!((m.state(), m.next_deadline()), (State::Stopped, None));
        m.on_frame(100 * S);
        assert_eq!(
            m.state(),
            State::Stopped,
            "a late frame does not revive a stopped camera"
        );
        assert_eq!(m.on_failure(100 * S, "late"), PipelineCommand::Stop);
        assert_eq!(m.state(), State::Stopped);
    }
}

/// Runs a whole outage on a simulated clock, the way the worker drives the machine: sleep (here:
/// advance the clock) to the next deadline, tick, act. The camera is down from t=10 s to
/// t=40 s. Every attempt while it is down fails at once (connection refused); the first attempt
/// after it is back gets a frame within 100 ms. Returns the status sequence, the attempts made
/// while down, when the last retry was due and when the camera was ok again.
fn outage(mut m: CameraMachine) -> (Vec<State>, u32, u64, u64) {
    let clock = ManualClock::starting_at(0);
    let (down_from, back_at) = (10 * S, 40 * S);
    let camera_up = |t: u64| t < down_from || t >= back_at;
    let mut states = vec![m.state()];
    let mut pipeline_running = m.start(clock.now()) == PipelineCommand::Start;
    let mut attempts_while_down = 0;
    let mut retry_scheduled_at = None;
    while clock.now() < 120 * S {
        // Frames every 100 ms while the pipeline runs and the camera is up.
        let mut next = m
            .next_deadline()
            .unwrap_or(u64::MAX)
            .min(clock.now() + S / 10);
        if pipeline_running && !camera_up(clock.now()) {
            // The camera went away under a running pipeline: rtspsrc reports an error.
            m.on_failure(clock.now(), "server closed the connection");
            pipeline_running = false;
            retry_scheduled_at = m.next_attempt_at();
            next = clock.now();
        } else if pipeline_running {
            m.on_frame(clock.now());
        }
        if states.last() != Some(&m.state()) {
            states.push(m.state());
        }
        clock.set(next.max(clock.now() + 1));
        match m.on_tick(clock.now()) {
            Some(PipelineCommand::Start) | Some(PipelineCommand::Restart) => {
                if camera_up(clock.now()) {
                    pipeline_running = true;
                } else {
                    attempts_while_down += 1;
                    m.on_failure(clock.now(), "Could not connect");
                    retry_scheduled_at = m.next_attempt_at();
                }
            }
            Some(PipelineCommand::Stop) => pipeline_running = false,
            None => {}
        }
        if states.last() != Some(&m.state()) {
            states.push(m.state());
        }
        if m.state() == State::Ok && clock.now() > back_at {
            break;
        }
    }
    (
        states,
        attempts_while_down,
        retry_scheduled_at.unwrap_or(0),
        clock.now(),
    )
}

#[test]
fn an_outage_on_a_simulated_clock_recovers_within_the_pending_backoff() {
    let policy = RetryPolicy {
        max_retry_attempts: 10,
        ..RetryPolicy::default()
    };
    let (states, attempts, pending, recovered) = outage(CameraMachine::new(policy, 42));
    assert_eq!(
        states,
        [State::Starting, State::Ok, State::Retrying, State::Ok]
    );
    assert!(
        recovered <= pending + S / 10 + 1,
        "ok at {recovered}, retry was due at {pending}"
    );
    // Retries at about 1, 2, 4, 8 s after each failure: 4 of them fall inside the outage.
    assert_eq!(attempts, 4, "attempts during 30 s of outage");
}

/// With the defaults (the Python design's 5 attempts), the same 30 s outage exhausts the
/// retries after about 15 s: connection_failed, as the Python design reported; the probe
/// DEFAULT_PROBE_INTERVAL later finds the camera back and it is ok by itself.
#[test]
fn an_outage_longer_than_the_retries_ends_in_connection_failed_then_the_probe_by_default() {
    let (states, attempts, pending, recovered) = outage(machine());
    assert_eq!(
        states,
        [
            State::Starting,
            State::Ok,
            State::Retrying,
            State::ConnectionFailed,
            State::Ok
        ]
    );
    assert_eq!(
        attempts, 4,
        "4 retries after the first failure: 5 consecutive failures"
    );
    assert!(
        recovered <= pending + S / 10 + 1 && pending > 40 * S,
        "ok at {recovered}, the probe was due at {pending}"
    );
}
