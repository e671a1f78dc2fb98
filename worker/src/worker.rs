//! A worker: one process running a group of cameras (the Python design's
//! `camera_process_worker(process_id, camera_list, ...)`), one `CameraRunner` thread and one
//! pipeline per camera, each publishing into its own ring, until told to stop. The supervisor
//! forks workers; tests start one directly.

use crate::camera_runner::CameraRunner;
use crate::capture::pipeline::Event;
use camd::camera_config::CameraConfig;
use camd::clock::{ns, Clock, SystemClock};
use camd::error::{Error, Kind, Result};
use camd::ring_files::open_ring;
use camd::worker_protocol::Report;
use camd_ring::{ErrorKind, State};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Where a worker sends what it has to tell the supervisor (see `Report`).
pub type Reporter = Arc<dyn Fn(Report) + Send + Sync>;

pub struct Worker {
    cameras: BTreeMap<String, (Sender<Event>, JoinHandle<()>)>,
    ring_dir: PathBuf,
    group: Option<u32>,
    clock: Arc<dyn Clock>,
    reporter: Reporter,
}

impl Worker {
    /// Initialises GStreamer, opens every camera's ring in `ring_dir` and starts its thread.
    pub fn start(cameras: Vec<CameraConfig>, ring_dir: &Path, group: Option<u32>) -> Result<Self> {
        Self::start_with_clock(cameras, ring_dir, group, Arc::new(SystemClock))
    }

    pub fn start_with_clock(
        cameras: Vec<CameraConfig>,
        ring_dir: &Path,
        group: Option<u32>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let mut worker = Self::new(ring_dir, group, clock)?;
        for config in cameras {
            worker.add(config)?;
        }
        Ok(worker)
    }

    /// A worker with no camera yet (GStreamer initialised).
    pub fn new(ring_dir: &Path, group: Option<u32>, clock: Arc<dyn Clock>) -> Result<Self> {
        gstreamer::init()
            .map_err(|e| Error::new(Kind::System, format!("GStreamer cannot start: {e}")))?;
        Ok(Self {
            cameras: BTreeMap::new(),
            ring_dir: ring_dir.to_owned(),
            group,
            clock,
            reporter: Arc::new(|_| {}),
        })
    }

    /// Sends reports to `reporter` (the worker process: to the supervisor) instead of nowhere.
    /// Camera threads report through it when they die.
    pub fn set_reporter(&mut self, reporter: Reporter) {
        self.reporter = reporter;
    }

    /// Names of the cameras running.
    pub fn camera_names(&self) -> impl Iterator<Item = &str> {
        self.cameras.keys().map(String::as_str)
    }

    /// Opens the camera's ring and starts its thread. A ring still held by a camera that is
    /// stopping elsewhere (moved between workers by a reload) is waited for, up to 5 s.
    pub fn add(&mut self, config: CameraConfig) -> Result<()> {
        let name = config.name.clone();
        // A camera whose thread ended by itself (it panicked, see `contain_panic`) is started
        // afresh; one still running is not started twice.
        if let Some((_, thread)) = self.cameras.get(&name) {
            if !thread.is_finished() {
                return Err(Error::new(
                    Kind::System,
                    format!("camera {name} is already running in this worker"),
                ));
            }
            if let Some((_, thread)) = self.cameras.remove(&name) {
                let _ = thread.join();
            }
        }
        // The wait is on the worker's clock (a test moves a simulated one through it); the
        // lock has no notification, so it is tried again every RING_BUSY_RETRY.
        let deadline = self.clock.now() + ns(RING_BUSY_WAIT);
        let writer = loop {
            match open_ring(&self.ring_dir, &config, self.group) {
                Ok(writer) => break writer,
                Err(e)
                    if matches!(e.ring_kind(), Some(ErrorKind::WriterBusy))
                        && self.clock.now() < deadline =>
                {
                    let next = self.clock.now() + ns(RING_BUSY_RETRY);
                    self.clock.sleep_until(next.min(deadline));
                }
                Err(e) => return Err(e),
            }
        };
        let source = config.source.clone();
        let (runner, events) = CameraRunner::new(config, writer, self.clock.clone());
        let ring = runner.ring();
        let reporter = self.reporter.clone();
        let camera = name.clone();
        let thread = std::thread::Builder::new()
            .name(format!("camera {name}"))
            .spawn(move || {
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.run()));
                if let Err(panic) = run {
                    contain_panic(&camera, &source, &ring, panic.as_ref(), &reporter);
                }
            })
            .map_err(|e| {
                Error::new(
                    Kind::System,
                    format!("camera {name}: cannot start its thread: {e}"),
                )
            })?;
        self.cameras.insert(name, (events, thread));
        Ok(())
    }

    /// Stops one camera (its ring ends `stopped`), waiting at most `timeout`; false if its thread
    /// did not finish in time (it is left to finish on its own).
    pub fn remove(&mut self, name: &str, timeout: Duration) -> bool {
        match self.cameras.remove(name) {
            Some((events, thread)) => {
                let _ = events.send(Event::Stop);
                join_by(thread, Instant::now() + timeout)
            }
            None => true,
        }
    }

    /// Stops every camera (rings end `stopped`), waiting at most `timeout` in all; returns the
    /// cameras whose thread did not finish in time.
    pub fn stop(self, timeout: Duration) -> Vec<String> {
        for (events, _) in self.cameras.values() {
            let _ = events.send(Event::Stop);
        }
        let deadline = Instant::now() + timeout;
        let mut late = Vec::new();
        for (name, (_, thread)) in self.cameras {
            if !join_by(thread, deadline) {
                late.push(name);
            }
        }
        late
    }
}

/// A camera thread panicked (a bug in camd or a library): the runner is gone (its pipeline torn
/// down as it unwound), the other cameras run on. The camera's ring says what happened, as
/// `connection_failed` with the panic's message, and the supervisor hears that this camera
/// failed, so it does not take the silence of its ring for a hung worker.
fn contain_panic(
    camera: &str,
    source: &camd::source::Source,
    ring: &std::sync::Mutex<camd_ring::Writer>,
    panic: &(dyn std::any::Any + Send),
    reporter: &Reporter,
) {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .map(|what| source.redact(&what))
        .unwrap_or_else(|| "a panic without a message".into());
    let reason = format!("camd stopped this camera after an internal error (a bug): {what}");
    log::error!("camera {camera}: {reason}; it stays down until a reload");
    let mut writer = ring.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    writer.update_status(|s| {
        s.state = State::ConnectionFailed;
        s.next_retry_mono_ns = 0;
        s.last_error = reason.clone();
        s.last_error_realtime_ns = camd_ring::realtime_ns();
    });
    reporter(Report::Failed {
        camera: camera.to_owned(),
        reason,
    });
}

/// How long `Worker::add` waits for a ring whose previous writer is still stopping.
pub const RING_BUSY_WAIT: Duration = Duration::from_secs(5);
/// How often it tries the ring's lock again meanwhile.
const RING_BUSY_RETRY: Duration = Duration::from_millis(20);

fn join_by(thread: JoinHandle<()>, deadline: Instant) -> bool {
    while !thread.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let finished = thread.is_finished();
    if finished {
        let _ = thread.join();
    }
    finished
}
