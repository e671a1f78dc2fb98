//! Support shared by camd's integration tests.
#![allow(dead_code)]

pub mod jpeg;

use std::time::{Duration, Instant};

#[path = "../../ring/tests/common/temp_dir.rs"]
mod temp_dir;
pub use temp_dir::TempDir;

/// Polls `check` every 10 ms until it returns Some or `timeout` passes. For waiting on real
/// pipelines (real time, by nature), never for a backoff: those are tested on a simulated clock.
pub fn wait_for<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
