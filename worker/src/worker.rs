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
use camd_ring::ErrorKind;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Worker {
    cameras: BTreeMap<String, (Sender<Event>, JoinHandle<()>)>,
    ring_dir: PathBuf,
    group: Option<u32>,
    clock: Arc<dyn Clock>,
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
        })
    }

    /// Names of the cameras running.
    pub fn camera_names(&self) -> impl Iterator<Item = &str> {
        self.cameras.keys().map(String::as_str)
    }

    /// Opens the camera's ring and starts its thread. A ring still held by a camera that is
    /// stopping elsewhere (moved between workers by a reload) is waited for, up to 5 s.
    pub fn add(&mut self, config: CameraConfig) -> Result<()> {
        let name = config.name.clone();
        if self.cameras.contains_key(&name) {
            return Err(Error::new(
                Kind::System,
                format!("camera {name} is already running in this worker"),
            ));
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
        let (runner, events) = CameraRunner::new(config, writer, self.clock.clone());
        let thread = std::thread::Builder::new()
            .name(format!("camera {name}"))
            .spawn(move || runner.run())
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
