//! Real GStreamer pipelines into real rings: a worker runs cameras, the test reads their rings.

use camd_test_support as support;

use camd::camera_config::CameraConfig;
use camd::ring_files::ring_path;
use camd::source::Source;
use camd_ring::{Reader, State};
use camd_worker::worker::Worker;
use std::time::{Duration, Instant};
use support::jpeg::jpeg_size;
use support::*;

/// Frames and their times over `window`, read with the blocking wait (no frame missed as long
/// as the reader keeps up; the test checks that it did).
fn frames_over(reader: &Reader, window: Duration) -> (u64, Vec<Vec<u8>>) {
    let start_seq = reader.latest_seq();
    let end = Instant::now() + window;
    let mut after = start_seq;
    let mut jpegs = Vec::new();
    let mut buf = Vec::new();
    while Instant::now() < end {
        if let Some(meta) = reader.wait_next(after, Duration::from_millis(200)).unwrap() {
            after = meta.seq;
            if jpegs.len() < 20 {
                reader.copy_latest(&mut buf).unwrap();
                jpegs.push(buf.clone());
            }
        }
    }
    (reader.latest_seq() - start_seq, jpegs)
}

#[test]
fn test_pattern_camera_first_frame_rate_and_jpeg_size() {
    let dir = TempDir::new("capture");
    let mut config = CameraConfig::new("pattern", Source::parse("test:smpte").unwrap());
    (config.width, config.height, config.max_fps) = (Some(320), Some(240), Some(15));
    let started = Instant::now();
    let worker = Worker::start(vec![config], dir.path(), None).unwrap();
    let reader = wait_for(Duration::from_secs(1), || {
        Reader::open(ring_path(dir.path(), "pattern")).ok()
    })
    .expect("ring created");
    let first = wait_for(Duration::from_secs(2), || reader.latest().unwrap()).expect("a frame");
    let first_after = started.elapsed();
    assert!(
        first_after < Duration::from_secs(1),
        "first frame after {first_after:?}"
    );
    assert_eq!((first.width, first.height), (320, 240));

    let (frames, jpegs) = frames_over(&reader, Duration::from_secs(3));
    let fps = frames as f64 / 3.0;
    assert!((fps - 15.0).abs() <= 1.5, "{fps} fps, expected 15 ± 10%");
    for jpeg in &jpegs {
        assert_eq!(jpeg_size(jpeg).unwrap(), (320, 240));
    }
    let status = reader.status().unwrap();
    assert_eq!(status.status.state, State::Ok);
    assert_eq!(
        (
            status.status.input_codec.as_str(),
            status.status.encoder.as_str()
        ),
        ("raw", "jpegenc")
    );

    assert!(worker.stop(Duration::from_secs(5)).is_empty());
    assert_eq!(reader.status().unwrap().status.state, State::Stopped);
}

/// No V4L2 device exists here: a webcam given by index (as in the Python design's camera_list)
/// that is missing makes the camera retry with an error naming the device; the worker's other
/// cameras are unaffected.
#[test]
fn a_missing_webcam_retries_with_an_error_naming_the_device() {
    let dir = TempDir::new("capture");
    let webcam = CameraConfig::new("webcam", Source::parse("7").unwrap());
    let pattern = CameraConfig::new("pattern", Source::parse("test:ball").unwrap());
    let worker = Worker::start(vec![webcam, pattern], dir.path(), None).unwrap();
    let webcam = wait_for(Duration::from_secs(1), || {
        Reader::open(ring_path(dir.path(), "webcam")).ok()
    })
    .unwrap();
    let pattern = wait_for(Duration::from_secs(1), || {
        Reader::open(ring_path(dir.path(), "pattern")).ok()
    })
    .unwrap();
    let status = wait_for(Duration::from_secs(2), || {
        let s = webcam.status().unwrap().status;
        (s.state == State::Retrying).then_some(s)
    })
    .expect("retrying");
    assert!(
        status.last_error.contains("/dev/video7 does not exist")
            || status.last_error.contains("without V4L2 support"),
        "{}",
        status.last_error
    );
    wait_for(Duration::from_secs(2), || {
        (pattern.status().unwrap().status.state == State::Ok).then_some(())
    })
    .expect("the other camera runs");
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

/// A file source loops: a 1 s clip keeps the camera ok at the clip's rate for several times its
/// length, with no retrying in between.
#[test]
fn a_file_source_loops_at_its_own_rate() {
    let dir = TempDir::new("capture");
    let clip = dir.path().join("clip.mkv");
    let made = std::process::Command::new("gst-launch-1.0")
        .args([
            "-q",
            "videotestsrc",
            "num-buffers=15",
            "!",
            "video/x-raw,width=320,height=240,framerate=15/1",
            "!",
            "x264enc",
            "!",
            "matroskamux",
            "!",
            "filesink",
        ])
        .arg(format!("location={}", clip.display()))
        .status()
        .expect("gst-launch-1.0 (gstreamer1.0-tools)");
    assert!(made.success());
    let source = Source::parse(&format!("file://{}", clip.display())).unwrap();
    let worker = Worker::start(vec![CameraConfig::new("clip", source)], dir.path(), None).unwrap();
    let reader = wait_for(Duration::from_secs(1), || {
        Reader::open(ring_path(dir.path(), "clip")).ok()
    })
    .unwrap();
    wait_for(Duration::from_secs(2), || {
        (reader.status().unwrap().status.state == State::Ok).then_some(())
    })
    .expect("ok");
    let start = reader.latest_seq();
    let mut states = Vec::new();
    let end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < end {
        let s = reader.status().unwrap().status.state;
        if states.last() != Some(&s) {
            states.push(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let fps = (reader.latest_seq() - start) as f64 / 3.0;
    assert_eq!(states, [State::Ok], "the loop must not look like a failure");
    assert!(
        (fps - 15.0).abs() <= 2.0,
        "{fps} fps over 3 plays of a 15 fps clip"
    );
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}
