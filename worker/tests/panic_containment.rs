//! A camera thread that panics takes only that camera down. The panic is a real one from the
//! real pipeline code: a `Source` built by hand (the config parser refuses unknown test
//! patterns) names a videotestsrc pattern that does not exist, and GStreamer's
//! `property_from_str` panics on it while the pipeline is built. The worker's other camera keeps
//! publishing, the bad camera's ring says `connection_failed` with the reason, and the worker
//! reports it failed (which keeps the supervisor from taking its silent ring for a hang).

use camd::camera_config::CameraConfig;
use camd::source::Source;
use camd::worker_protocol::Report;
use camd_ring::{Reader, State};
use camd_worker::worker::Worker;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn wait_until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "{what} within {timeout:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_panicking_camera_thread_fails_that_camera_only() {
    let dir = std::env::temp_dir().join(format!("camd-panic-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut good = CameraConfig::new("good", Source::parse("test:ball").unwrap());
    good.width = Some(160);
    good.height = Some(120);
    let bad = CameraConfig::new(
        "bad",
        Source::TestPattern {
            pattern: "nosuchpattern".into(),
        },
    );
    let reports = Arc::new(Mutex::new(Vec::new()));
    let mut worker = Worker::new(&dir, None, Arc::new(camd::clock::SystemClock)).unwrap();
    let sink = reports.clone();
    worker.set_reporter(Arc::new(move |r| sink.lock().unwrap().push(r)));
    worker.add(good).unwrap();
    worker.add(bad).unwrap();
    let good_ring = Reader::open(dir.join("good.ring")).unwrap();
    let bad_ring = Reader::open(dir.join("bad.ring")).unwrap();
    wait_until("the bad camera failed", Duration::from_secs(10), || {
        bad_ring.status().unwrap().status.state == State::ConnectionFailed
    });
    let status = bad_ring.status().unwrap().status;
    assert!(
        status.last_error.contains("internal error (a bug)"),
        "{}",
        status.last_error
    );
    wait_until("the failure reported", Duration::from_secs(2), || {
        reports
            .lock()
            .unwrap()
            .iter()
            .any(|r| matches!(r, Report::Failed { camera, .. } if camera == "bad"))
    });
    // The other camera keeps publishing, from the same worker.
    wait_until("good ok", Duration::from_secs(10), || {
        good_ring.status().unwrap().status.state == State::Ok
    });
    let seq = good_ring.latest_seq();
    wait_until("good's frames go on", Duration::from_secs(5), || {
        good_ring.latest_seq() >= seq + 5
    });
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
