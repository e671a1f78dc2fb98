//! A camera that stays down does not write a log line per retry. Its own test binary: it
//! installs a logger that counts lines, and runs an hour of retries on a simulated clock.

use camd_test_support as support;

use camd::camera_config::CameraConfig;
use camd::clock::{Clock, ManualClock};
use camd::source::Source;
use camd_worker::worker::Worker;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::*;

struct CountingLogger;
static WARNINGS: AtomicUsize = AtomicUsize::new(0);

impl log::Log for CountingLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Warn
    }
    fn log(&self, record: &log::Record) {
        if record.level() <= log::Level::Warn && record.args().to_string().contains("camera down:")
        {
            WARNINGS.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn flush(&self) {}
}

#[test]
fn a_camera_down_for_an_hour_logs_about_once_a_minute() {
    log::set_logger(&CountingLogger).unwrap();
    log::set_max_level(log::LevelFilter::Debug);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = TempDir::new("logs");
    let clock = ManualClock::starting_at(1_000_000_000);
    let mut cam = CameraConfig::new(
        "down",
        Source::parse(&format!("rtsp://127.0.0.1:{port}/x")).unwrap(),
    );
    cam.retry.max_retry_attempts = 100_000;
    cam.retry.max_delay = Duration::from_secs(5);
    let worker =
        Worker::start_with_clock(vec![cam], dir.path(), None, Arc::new(clock.clone())).unwrap();
    let reader = open(&dir, "down");
    let hour = 3_600_000_000_000u64;
    let mut attempts = 0;
    let done = wait_for(Duration::from_secs(120), || {
        let s = status(&reader).status;
        attempts = s.retry_count;
        if clock.now() >= hour {
            return Some(());
        }
        if s.next_retry_mono_ns != 0 && clock.now() < s.next_retry_mono_ns {
            clock.set(s.next_retry_mono_ns); // each backoff passes in no time
        }
        None
    });
    done.expect("an hour of simulated retries within 2 minutes");
    let lines = WARNINGS.load(Ordering::SeqCst);
    assert!(
        attempts > 500,
        "only {attempts} attempts in the simulated hour"
    );
    assert!(
        (50..=75).contains(&lines),
        "{lines} warning lines for {attempts} failed attempts in an hour"
    );
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}
