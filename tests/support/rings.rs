//! Helpers over camd's rings for the capture tests: a camera config, its ring, waiting for a
//! state (real pipelines run in real time), frame rates and JPEG checks.

use super::jpeg::jpeg_size;
use super::{wait_for, TempDir};
use camd::camera_config::{CameraConfig, Transport};
use camd::ring_files::ring_path;
use camd::source::Source;
use camd_ring::{Reader, State, StatusSnapshot};
use std::time::{Duration, Instant};

pub fn camera(name: &str, url: &str) -> CameraConfig {
    CameraConfig::new(name, Source::parse(url).unwrap())
}

pub fn open(dir: &TempDir, name: &str) -> Reader {
    wait_for(Duration::from_secs(2), || {
        Reader::open(ring_path(dir.path(), name)).ok()
    })
    .expect("ring created")
}

pub fn status(reader: &Reader) -> StatusSnapshot {
    reader.status().unwrap()
}

/// Waits (real time, for real pipelines) until the camera is in `state`; returns how long it took.
pub fn until_state(reader: &Reader, state: State, timeout: Duration) -> Duration {
    let start = Instant::now();
    wait_for(timeout, || {
        (status(reader).status.state == state).then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "not {state} within {timeout:?}: {:?}",
            status(reader).status
        )
    });
    start.elapsed()
}

/// Frames published over `window`.
pub fn frames_in(reader: &Reader, window: Duration) -> u64 {
    let start = reader.latest_seq();
    std::thread::sleep(window);
    reader.latest_seq() - start
}

pub fn check_jpegs(reader: &Reader, size: (u32, u32)) {
    let mut buf = Vec::new();
    let mut after = reader.latest_seq();
    for _ in 0..5 {
        let meta = reader
            .wait_next(after, Duration::from_secs(2))
            .unwrap()
            .expect("a frame");
        after = meta.seq;
        reader.copy_latest(&mut buf).unwrap();
        assert_eq!(jpeg_size(&buf).unwrap(), size);
    }
}

/// `camera` over a given RTSP transport.
pub fn camera_over(name: &str, url: &str, transport: Transport) -> CameraConfig {
    let mut config = camera(name, url);
    config.transport = transport;
    config
}

pub fn state(reader: &Reader) -> State {
    status(reader).status.state
}
