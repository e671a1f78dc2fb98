//! Drives one camera: its state machine, its pipeline and its ring's status. One thread per
//! camera, asleep until the machine's next deadline, a pipeline event or a heartbeat is due
//! (at least every 500 ms, `HEARTBEAT`, so readers can tell a silent camera from a dead
//! worker). Time comes from a `Clock`; the waiting itself is a channel receive with a timeout.

use crate::capture::pipeline::{self, Event, FrameTarget};
use camd::camera_config::CameraConfig;
use camd::camera_state::{CameraMachine, PipelineCommand};
use camd::clock::{ns, Clock};
use camd::error::{Error, Kind};
use camd_ring::{State, Writer};
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const HEARTBEAT: Duration = Duration::from_millis(500);
/// While a camera stays down, one summary line per this interval (each failure is at debug).
const QUIET_LOG_INTERVAL: Duration = Duration::from_secs(60);

pub struct CameraRunner {
    config: CameraConfig,
    clock: Arc<dyn Clock>,
    machine: CameraMachine,
    target: Arc<FrameTarget>,
    events: Receiver<Event>,
    pipeline: Option<gst::Pipeline>,
    generation: u64,
    /// What the ring's status says now, to write it only when the machine's view changes.
    published: Option<Published>,
    last_heartbeat: u64,
    last_quiet_log: u64,
    failures_since_log: u32,
}

impl CameraRunner {
    /// `events` must be the sender of the channel this runner listens on; keep a clone to send
    /// `Event::Stop`.
    pub fn new(
        config: CameraConfig,
        writer: Writer,
        clock: Arc<dyn Clock>,
    ) -> (Self, Sender<Event>) {
        let (tx, rx) = std::sync::mpsc::channel();
        let on_jump = tx.clone();
        clock.on_jump(Box::new(move || {
            let _ = on_jump.send(Event::ClockMoved);
        }));
        let seed = config.name.bytes().fold(std::process::id() as u64, |h, b| {
            h.rotate_left(5) ^ u64::from(b)
        });
        let target = Arc::new(FrameTarget::new(
            &config.name,
            Arc::new(Mutex::new(writer)),
            tx.clone(),
            clock.clone(),
        ));
        let machine = CameraMachine::new(config.retry.clone(), seed);
        let runner = Self {
            config,
            clock,
            machine,
            target,
            events: rx,
            pipeline: None,
            generation: 0,
            published: None,
            last_heartbeat: 0,
            last_quiet_log: 0,
            failures_since_log: 0,
        };
        (runner, tx)
    }

    /// The camera's ring, shared with its pipeline (for the thread's last words if it panics).
    pub fn ring(&self) -> Arc<Mutex<Writer>> {
        self.target.writer.clone()
    }

    /// Runs until `Event::Stop`; leaves the ring `stopped`.
    pub fn run(mut self) {
        log::info!(
            "camera {}: starting ({})",
            self.config.name,
            self.config.source.display()
        );
        let command = self.machine.start(self.clock.now());
        self.apply(command);
        loop {
            let deadline = self
                .machine
                .next_deadline()
                .unwrap_or(u64::MAX)
                .min(self.last_heartbeat + ns(HEARTBEAT));
            // A clock that only jumps wakes this loop through Event::ClockMoved; the heartbeat
            // interval bounds the wait in real time all the same.
            let timeout = self
                .clock
                .real_wait(deadline)
                .map_or(HEARTBEAT, |left| left.min(HEARTBEAT));
            match self.events.recv_timeout(timeout) {
                Ok(Event::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(Event::Frame { generation, at }) if generation == self.generation => {
                    self.machine.on_frame(at)
                }
                Ok(Event::Failed { generation, error })
                    if generation == self.generation && self.pipeline.is_some() =>
                {
                    self.failure(&error.to_string());
                }
                Ok(Event::EndOfFile { generation }) if generation == self.generation => {
                    self.rewind()
                }
                Ok(_) | Err(RecvTimeoutError::Timeout) => {}
            }
            // Frames while ok arrive without events: read the time of the last one.
            let last = self.target.last_frame.load(Ordering::Acquire);
            if last != 0 {
                self.machine.on_frame(last);
            }
            if let Some(command) = self.machine.on_tick(self.clock.now()) {
                if command == PipelineCommand::Restart {
                    log::warn!(
                        "camera {}: no frame for {:?}: no_signal, rebuilding the pipeline",
                        self.config.name,
                        self.config.retry.stall_timeout
                    );
                }
                self.apply(command);
            }
            self.publish_status();
        }
        let command = self.machine.stop();
        self.apply(command);
        self.publish_status();
    }

    /// A file source ended: play it again from the start (a failed seek is a failure).
    fn rewind(&mut self) {
        let Some(pipeline) = &self.pipeline else {
            return;
        };
        let sought = pipeline.seek_simple(
            gst::SeekFlags::FLUSH | gst::SeekFlags::KEY_UNIT,
            gst::ClockTime::ZERO,
        );
        if let Err(e) = sought {
            self.failure(&format!("cannot loop the file: {e}"));
        }
    }

    /// Every failure's text, wherever it came from, passes here (and `start_pipeline`'s) on its
    /// way to the ring's `last_error` and the log: the password is taken out once more.
    fn failure(&mut self, error: &str) {
        let error = &self.config.source.redact(error);
        let was_ok = self.machine.state() == State::Ok;
        let command = self.machine.on_failure(self.clock.now(), error);
        self.log_failure(error, was_ok);
        self.apply(command);
    }

    /// Rate-limited: the first failure after frames flowed, connection_failed, and otherwise
    /// one line a minute while the camera stays down.
    fn log_failure(&mut self, error: &str, was_ok: bool) {
        let name = &self.config.name;
        let now = self.clock.now();
        self.failures_since_log += 1;
        if self.machine.state() == State::ConnectionFailed {
            log::error!(
                "camera {name}: connection_failed after {} attempts: {error}",
                self.machine.retry_count()
            );
        } else if was_ok
            || now.saturating_sub(self.last_quiet_log) >= ns(QUIET_LOG_INTERVAL)
            || self.last_quiet_log == 0
        {
            log::warn!(
                "camera {name}: {error}; retrying (attempt {} of {}, {} failure(s) since the last line)",
                self.machine.retry_count(),
                self.config.retry.max_retry_attempts,
                self.failures_since_log
            );
            self.last_quiet_log = now;
            self.failures_since_log = 0;
        } else {
            log::debug!("camera {name}: {error}");
        }
    }

    fn apply(&mut self, command: PipelineCommand) {
        match command {
            PipelineCommand::Stop => self.teardown(),
            PipelineCommand::Restart => {
                self.teardown();
                self.start_pipeline();
            }
            PipelineCommand::Start => self.start_pipeline(),
        }
    }

    fn start_pipeline(&mut self) {
        self.teardown();
        self.generation += 1;
        self.target.last_frame.store(0, Ordering::Release);
        self.target.notify_next_frame.store(true, Ordering::Release);
        let built =
            pipeline::build(&self.config, self.target.clone(), self.generation).and_then(|p| {
                p.set_state(gst::State::Playing).map_err(|e| {
                    Error::new(Kind::Pipeline, "cannot start the pipeline").because(e)
                })?;
                Ok(p)
            });
        match built {
            Ok(p) => self.pipeline = Some(p),
            Err(error) => {
                // Counted like any failed attempt; the machine schedules the retry.
                let error = self.config.source.redact(&error.to_string());
                let command = self.machine.on_failure(self.clock.now(), &error);
                self.log_failure(&error, false);
                if command != PipelineCommand::Stop {
                    self.apply(command);
                }
            }
        }
    }

    fn teardown(&mut self) {
        if let Some(p) = self.pipeline.take() {
            let change = p.set_state(gst::State::Null);
            log::debug!(
                "camera {}: pipeline stopped ({change:?}), {} reference(s) left",
                self.config.name,
                p.ref_count()
            );
        }
        self.target.last_frame.store(0, Ordering::Release);
    }

    /// Writes the machine's status into the ring when it changed; heartbeats otherwise.
    fn publish_status(&mut self) {
        let m = &self.machine;
        let now = Published {
            state: m.state(),
            retry_count: m.retry_count(),
            next_attempt_at: m.next_attempt_at(),
            last_error: m.last_error().to_owned(),
        };
        let Ok(mut writer) = self.target.writer.lock() else {
            return;
        };
        if self.published.as_ref() != Some(&now) {
            // The first state (starting) was logged with the source by `run`.
            if self
                .published
                .as_ref()
                .is_some_and(|p| p.state != now.state)
            {
                log::info!("camera {}: {}", self.config.name, now.state);
            }
            let max = self.config.retry.max_retry_attempts;
            let reconnects = m.reconnects();
            writer.update_status(|s| {
                s.state = now.state;
                s.retry_count = now.retry_count;
                s.max_retry_attempts = max;
                // The ring's format spells "no attempt pending" as 0 (docs/ring-format.md).
                s.next_retry_mono_ns = now.next_attempt_at.unwrap_or(0);
                // Whole words: the ring's field holds 255 bytes.
                let last_error = crate::capture::error_text::fit(&now.last_error);
                if s.last_error != last_error {
                    s.last_error = last_error;
                    s.last_error_realtime_ns = camd_ring::realtime_ns();
                }
                s.reconnects = reconnects;
            });
            self.published = Some(now);
        } else {
            writer.heartbeat();
        }
        self.last_heartbeat = self.clock.now();
    }
}

/// A runner that unwinds (a panic) stops its pipeline, so no GStreamer thread goes on writing
/// into the ring or holding it.
impl Drop for CameraRunner {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// The part of the ring's status the state machine decides.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Published {
    state: State,
    retry_count: u32,
    /// CLOCK_MONOTONIC of the next connection attempt, if one is pending.
    next_attempt_at: Option<u64>,
    last_error: String,
}
