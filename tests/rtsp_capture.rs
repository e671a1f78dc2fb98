//! RTSP cameras through real pipelines: fake cameras (gstreamer-rtsp-server on 127.0.0.1) in this
//! process or in a child process that the fault tests kill, freeze and restart.

use camd_test_support as support;

use camd_test_support::fake_cameras;

use camd::camera_config::Transport;
use camd::clock::{Clock, ManualClock};
use camd_ring::State;
use camd_worker::worker::Worker;
use fake_cameras::{Codec, MountSpec};
use gstreamer as gst;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

#[test]
fn h264_camera_first_frame_within_a_second_full_rate_valid_jpegs() {
    gst::init().unwrap();
    let server =
        fake_cameras::serve(0, &[MountSpec::new("cam", Codec::H264, 640, 480, 15)]).unwrap();
    let dir = TempDir::new("rtsp");
    let started = Instant::now();
    let worker = Worker::start(vec![camera("h264", &server.url("cam"))], dir.path(), None).unwrap();
    let reader = open(&dir, "h264");
    wait_for(Duration::from_secs(3), || reader.latest().unwrap()).expect("a frame");
    let first = started.elapsed();
    assert!(
        first < Duration::from_secs(1),
        "first frame after {first:?}"
    );
    let fps = frames_in(&reader, Duration::from_secs(3)) as f64 / 3.0;
    assert!((fps - 15.0).abs() <= 1.5, "{fps} fps, expected 15 ± 10%");
    check_jpegs(&reader, (640, 480));
    let s = status(&reader).status;
    assert_eq!(
        (
            s.state,
            s.input_codec.as_str(),
            s.decoder.as_str(),
            s.encoder.as_str()
        ),
        (State::Ok, "h264", "avdec_h264", "jpegenc")
    );
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

#[test]
fn mjpeg_camera_passes_through_and_scaling_reencodes() {
    gst::init().unwrap();
    let server =
        fake_cameras::serve(0, &[MountSpec::new("cam", Codec::Mjpeg, 640, 480, 15)]).unwrap();
    let dir = TempDir::new("rtsp");
    let mut scaled = camera("scaled", &server.url("cam"));
    (scaled.width, scaled.height) = (Some(320), Some(240));
    let worker = Worker::start(
        vec![camera("mjpeg", &server.url("cam")), scaled],
        dir.path(),
        None,
    )
    .unwrap();
    let (passthrough, scaled) = (open(&dir, "mjpeg"), open(&dir, "scaled"));
    until_state(&passthrough, State::Ok, Duration::from_secs(3));
    until_state(&scaled, State::Ok, Duration::from_secs(3));
    check_jpegs(&passthrough, (640, 480));
    check_jpegs(&scaled, (320, 240));
    let s = status(&passthrough).status;
    assert_eq!(
        (
            s.input_codec.as_str(),
            s.decoder.as_str(),
            s.encoder.as_str()
        ),
        ("mjpeg", "", ""),
        "no decode, no encode"
    );
    let s = status(&scaled).status;
    assert_eq!(
        (s.decoder.as_str(), s.encoder.as_str()),
        ("jpegdec", "jpegenc")
    );
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

#[test]
fn h265_camera() {
    gst::init().unwrap();
    let server =
        fake_cameras::serve(0, &[MountSpec::new("cam", Codec::H265, 320, 240, 15)]).unwrap();
    let dir = TempDir::new("rtsp");
    let worker = Worker::start(vec![camera("h265", &server.url("cam"))], dir.path(), None).unwrap();
    let reader = open(&dir, "h265");
    until_state(&reader, State::Ok, Duration::from_secs(5));
    check_jpegs(&reader, (320, 240));
    assert_eq!(status(&reader).status.input_codec, "h265");
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

#[test]
fn a_decoder_the_board_lacks_is_an_error_naming_it() {
    gst::init().unwrap();
    let server =
        fake_cameras::serve(0, &[MountSpec::new("cam", Codec::H264, 320, 240, 15)]).unwrap();
    let dir = TempDir::new("rtsp");
    let mut cam = camera("cam", &server.url("cam"));
    cam.decoder = Some("nvv4l2decoder".into());
    let worker = Worker::start(vec![cam], dir.path(), None).unwrap();
    let reader = open(&dir, "cam");
    until_state(&reader, State::Retrying, Duration::from_secs(3));
    let error = status(&reader).status.last_error;
    assert!(
        error.contains("\"nvv4l2decoder\" is not in the GStreamer registry"),
        "{error}"
    );
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

/// A port with nothing listening, a wrong path, and a listener that accepts and never answers:
/// each ends in `retrying` with an error that says which, within its time.
#[test]
fn closed_port_wrong_path_and_silent_server_fail_into_retrying() {
    gst::init().unwrap();
    let server =
        fake_cameras::serve(0, &[MountSpec::new("cam", Codec::H264, 320, 240, 15)]).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // bound, then dropped
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    // Accepts every connection and never answers, for 6 s.
    silent.set_nonblocking(true).unwrap();
    let keep = std::thread::spawn(move || {
        let (mut conns, end) = (Vec::new(), Instant::now() + Duration::from_secs(6));
        while Instant::now() < end {
            if let Ok((conn, _)) = silent.accept() {
                conns.push(conn);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let dir = TempDir::new("rtsp");
    let mut silent_cam = camera("silent", &format!("rtsp://127.0.0.1:{silent_port}/x"));
    silent_cam.retry.connect_timeout = Duration::from_secs(2);
    silent_cam.transport = Transport::Tcp;
    let worker = Worker::start(
        vec![
            camera("closed", &format!("rtsp://127.0.0.1:{closed}/x")),
            camera("wrongpath", &server.url("nope")),
            silent_cam,
        ],
        dir.path(),
        None,
    )
    .unwrap();
    let (closed, wrong, silent) = (
        open(&dir, "closed"),
        open(&dir, "wrongpath"),
        open(&dir, "silent"),
    );
    assert!(until_state(&closed, State::Retrying, Duration::from_secs(2)) < Duration::from_secs(1));
    assert!(until_state(&wrong, State::Retrying, Duration::from_secs(2)) < Duration::from_secs(1));
    let waited = until_state(&silent, State::Retrying, Duration::from_secs(5));
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(3),
        "silent server: retrying after {waited:?}"
    );
    let (c, w, s) = (
        status(&closed).status,
        status(&wrong).status,
        status(&silent).status,
    );
    assert!(
        // One sentence with the fix, no GStreamer source location (error_text).
        c.last_error
            .contains("nothing answers at the camera's address and port")
            && !c.last_error.contains(".c("),
        "closed port: {}",
        c.last_error
    );
    assert!(
        w.last_error
            .contains("no stream at that path (RTSP 404 Not Found)"),
        "wrong path: {}",
        w.last_error
    );
    assert!(
        s.last_error.contains("timeout") || s.last_error.contains("connect"),
        "silent: {}",
        s.last_error
    );
    // At least the first failure is counted; how many retries real time allowed is not this
    // test's business (the backoff's times: the simulated-clock test below).
    assert!(
        c.retry_count >= 1 && c.retry_count < c.max_retry_attempts && c.max_retry_attempts == 5,
        "{c:?}"
    );
    assert!(status(&closed).next_retry_in().is_some());
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
    keep.join().unwrap();
}

/// Retries on a simulated clock: the test moves time past each backoff instead of waiting for
/// it; the camera is connection_failed with retry_count = max after max attempts.
#[test]
fn retries_exhausted_means_connection_failed_with_the_maximum_count() {
    gst::init().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = TempDir::new("rtsp");
    let clock = ManualClock::starting_at(1_000_000_000);
    let mut cam = camera("down", &format!("rtsp://127.0.0.1:{port}/x"));
    cam.retry.max_retry_attempts = 4;
    let worker =
        Worker::start_with_clock(vec![cam], dir.path(), None, Arc::new(clock.clone())).unwrap();
    let reader = open(&dir, "down");
    let mut seen = Vec::new();
    let result = wait_for(Duration::from_secs(20), || {
        let s = status(&reader).status;
        if seen.last() != Some(&(s.state, s.retry_count)) {
            seen.push((s.state, s.retry_count));
        }
        if s.state == State::ConnectionFailed {
            return Some(s);
        }
        if s.next_retry_mono_ns != 0 && clock.now() < s.next_retry_mono_ns {
            clock.set(s.next_retry_mono_ns); // the backoff passes in no time
        }
        None
    })
    .expect("connection_failed");
    assert_eq!((result.retry_count, result.max_retry_attempts), (4, 4));
    let retrying: Vec<u32> = seen
        .iter()
        .filter(|(s, _)| *s == State::Retrying)
        .map(|(_, n)| *n)
        .collect();
    assert_eq!(retrying, [1, 2, 3], "{seen:?}");
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

/// A frame-rate limit: a 15 fps camera limited to 5 fps publishes 5 fps, H.264 (decoded, the
/// rate limit before the scaler) and MJPEG (passed through undecoded, rate-limited as JPEG).
#[test]
fn a_frame_rate_limit_is_applied() {
    gst::init().unwrap();
    let server = fake_cameras::serve(
        0,
        &[
            MountSpec::new("cam", Codec::H264, 320, 240, 15),
            MountSpec::new("mjpeg", Codec::Mjpeg, 320, 240, 15),
        ],
    )
    .unwrap();
    let dir = TempDir::new("rtsp");
    let mut cam = camera("limited", &server.url("cam"));
    cam.max_fps = Some(5);
    (cam.width, cam.height) = (Some(160), Some(120));
    let mut mjpeg = camera("limited-mjpeg", &server.url("mjpeg"));
    mjpeg.max_fps = Some(5);
    let worker = Worker::start(vec![cam, mjpeg], dir.path(), None).unwrap();
    for (name, size, elements) in [
        ("limited", (160, 120), ("avdec_h264", "jpegenc")),
        ("limited-mjpeg", (320, 240), ("", "")),
    ] {
        let reader = open(&dir, name);
        until_state(&reader, State::Ok, Duration::from_secs(3));
        // Measured after a second of settling, over 4 s: on a loaded machine (this binary's
        // tests run in parallel) the frames of the first second can arrive in a burst (8 fps was
        // seen over a 3 s window right after `ok`).
        std::thread::sleep(Duration::from_secs(1));
        let fps = frames_in(&reader, Duration::from_secs(4)) as f64 / 4.0;
        assert!((fps - 5.0).abs() <= 0.75, "{name}: {fps} fps, expected 5");
        check_jpegs(&reader, size);
        let s = status(&reader).status;
        assert_eq!((s.decoder.as_str(), s.encoder.as_str()), elements, "{name}");
    }
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

/// Frames larger than the slot capacity are counted as oversize and never written truncated.
#[test]
fn oversize_frames_are_counted_not_truncated() {
    gst::init().unwrap();
    let server =
        fake_cameras::serve(0, &[MountSpec::new("cam", Codec::Mjpeg, 640, 480, 15)]).unwrap();
    let dir = TempDir::new("rtsp");
    let mut cam = camera("tiny", &server.url("cam"));
    cam.slot_capacity = Some(2000); // a 640x480 JPEG is far larger
    let worker = Worker::start(vec![cam], dir.path(), None).unwrap();
    let reader = open(&dir, "tiny");
    let oversize = wait_for(Duration::from_secs(5), || {
        let s = status(&reader).status;
        (s.oversize >= 1 && s.state == State::Retrying).then_some(s.oversize)
    })
    .expect("oversize frames counted");
    assert!(oversize >= 1);
    assert_eq!(reader.latest_seq(), 0, "nothing truncated into the ring");
    let s = status(&reader).status;
    assert_eq!(
        s.state,
        State::Retrying,
        "every frame too large: the attempt fails"
    );
    assert!(
        s.last_error
            .contains("does not fit the slot capacity of 2000 bytes")
            && s.last_error.contains("raise slot_capacity"),
        "{}",
        s.last_error
    );
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}
