//! A worker: one process running a group of cameras (the Python design's
//! `camera_process_worker(process_id, camera_list, ...)`), one `CameraRunner` thread and one
//! pipeline per camera, each publishing into its own ring, until told to stop. The supervisor
//! forks workers; tests start one directly.

use crate::camera_config::CameraConfig;
use crate::camera_runner::CameraRunner;
use crate::capture::pipeline::Event;
use crate::clock::{Clock, SystemClock};
use camd_ring::{Reader, Writer, WriterOptions};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Worker {
    cameras: Vec<(String, Sender<Event>, JoinHandle<()>)>,
}

/// Where camera `name`'s ring lives in `dir`.
pub fn ring_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.ring"))
}

/// Opens the camera's ring for writing: takes over an existing one of the right shape (a
/// restarted worker), or creates it.
pub fn open_ring(dir: &Path, config: &CameraConfig, group: Option<u32>) -> Result<Writer, String> {
    let path = ring_path(dir, &config.name);
    let options = WriterOptions {
        width: config.width.unwrap_or(0),
        height: config.height.unwrap_or(0),
        group,
        ..WriterOptions::new(
            config.name.clone(),
            config.slot_count,
            config.slot_capacity(),
        )
    };
    let fits = Reader::open(&path).map(|r| {
        let g = r.geometry();
        (g.slot_count, g.slot_capacity, g.width, g.height)
            == (
                options.slot_count,
                options.slot_capacity,
                options.width,
                options.height,
            )
    });
    let writer = if fits.unwrap_or(false) {
        Writer::attach(&path)
    } else {
        Writer::create(&path, &options)
    };
    writer.map_err(|e| format!("camera {}: {e}", config.name))
}

impl Worker {
    /// Initialises GStreamer, opens every camera's ring in `ring_dir` and starts its thread.
    pub fn start(
        cameras: Vec<CameraConfig>,
        ring_dir: &Path,
        group: Option<u32>,
    ) -> Result<Self, String> {
        Self::start_with_clock(cameras, ring_dir, group, Arc::new(SystemClock))
    }

    pub fn start_with_clock(
        cameras: Vec<CameraConfig>,
        ring_dir: &Path,
        group: Option<u32>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, String> {
        gstreamer::init().map_err(|e| format!("GStreamer cannot start: {e}"))?;
        let mut started = Vec::new();
        for config in cameras {
            let writer = open_ring(ring_dir, &config, group)?;
            let name = config.name.clone();
            let (runner, events) = CameraRunner::new(config, writer, clock.clone());
            let thread = std::thread::Builder::new()
                .name(format!("camera {name}"))
                .spawn(move || runner.run())
                .map_err(|e| format!("camera {name}: cannot start its thread: {e}"))?;
            started.push((name, events, thread));
        }
        Ok(Self { cameras: started })
    }

    /// Stops every camera (rings end `stopped`), waiting at most `timeout` in all; returns the
    /// cameras whose thread did not finish in time.
    pub fn stop(self, timeout: Duration) -> Vec<String> {
        for (_, events, _) in &self.cameras {
            let _ = events.send(Event::Stop);
        }
        let deadline = Instant::now() + timeout;
        let mut late = Vec::new();
        for (name, _, thread) in self.cameras {
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if thread.is_finished() {
                let _ = thread.join();
            } else {
                late.push(name);
            }
        }
        late
    }
}
