//! A frame's ring timestamps are its capture time (worker/src/capture/capture_time.rs): when its
//! packets reached camd, before decode and encode, so the age a reader computes includes them.
//! Each frame's publish time is the ring's heartbeat while it is the latest frame; the gap from
//! its `ts_mono_ns` to that is what decode, convert and JPEG encode took. Seen failing before:
//! `ts_mono_ns` was the publish time itself (a gap of 0 in every frame).

use camd_test_support as support;

use camd_ring::State;
use camd_test_support::fake_cameras;
use camd_worker::worker::Worker;
use fake_cameras::{Codec, MountSpec};
use std::time::Duration;
use support::*;

#[test]
fn frame_timestamps_are_taken_before_decode_and_encode() {
    let server = fake_cameras::serve(
        0,
        &[MountSpec::new("cam", Codec::H264, 1280, 720, 10).with_pattern("textured")],
    )
    .unwrap();
    let dir = TempDir::new("capture-time");
    let worker = Worker::start(vec![camera("cam", &server.url("cam"))], dir.path(), None).unwrap();
    let ring = open(&dir, "cam");
    until_state(&ring, State::Ok, Duration::from_secs(10));
    let mut gaps_us = Vec::new();
    let mut seq = ring.latest().unwrap().map_or(0, |m| m.seq);
    while gaps_us.len() < 20 {
        let meta = ring
            .wait_next(seq, Duration::from_secs(5))
            .unwrap()
            .expect("a frame within 5 s");
        seq = meta.seq;
        // The heartbeat is this frame's publish while it is the latest frame, once the writer
        // has written it (just after the frame: a reader woken in between sees the last one).
        let mut publish = None;
        for _ in 0..100 {
            let snapshot = status(&ring);
            if snapshot.latest_seq != meta.seq {
                break;
            }
            if snapshot.heartbeat_mono_ns >= meta.ts_mono_ns {
                publish = Some(snapshot.heartbeat_mono_ns);
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let Some(publish) = publish else {
            // A later frame came first; or, still the latest after 100 ms, stamped after its
            // publish, which a capture time cannot be.
            assert_ne!(
                ring.latest_seq(),
                meta.seq,
                "frame {} is stamped after its publish",
                meta.seq
            );
            continue;
        };
        gaps_us.push((publish - meta.ts_mono_ns) / 1000);
    }
    gaps_us.sort_unstable();
    println!("capture to publish, us: {gaps_us:?}");
    // Decoding and JPEG-encoding a textured 720p frame takes milliseconds on any machine.
    let median = gaps_us[gaps_us.len() / 2];
    assert!(
        median >= 2000,
        "median capture-to-publish gap {median} us: the timestamps are not capture times"
    );
    // Nor times of something long before (a clock or epoch mixed up).
    assert!(
        median <= 1_000_000,
        "median capture-to-publish gap {median} us: not this frame's capture"
    );
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

#[test]
fn frames_carry_the_cameras_own_clock_from_its_sender_reports() {
    // A camera whose clock runs 1000 s ahead of this machine's wall clock; the fake camera
    // records each frame's capture time by that clock.
    const OFFSET_NS: i64 = 1000 * 1_000_000_000;
    let server = fake_cameras::serve(
        0,
        &[MountSpec::new("ntp", Codec::H264, 320, 240, 15).with_camera_clock(1000)],
    )
    .unwrap();
    let dir = TempDir::new("camera-time");
    let worker = Worker::start(vec![camera("ntp", &server.url("ntp"))], dir.path(), None).unwrap();
    let ring = open(&dir, "ntp");
    until_state(&ring, State::Ok, Duration::from_secs(10));
    // Its first sender report comes within about 0.2 s: frames before it carry no camera time.
    let mut seq = 0;
    let mut without = 0;
    let mut frames = Vec::new(); // (camera time, arrival by this machine's wall clock)
    while frames.len() < 20 && without < 30 {
        let meta = ring
            .wait_next(seq, Duration::from_secs(5))
            .unwrap()
            .expect("a frame within 5 s");
        seq = meta.seq;
        let Ok(camera_time) = ring.camera_time_ns(&meta) else {
            continue; // the frame left the ring before it was asked about
        };
        match camera_time {
            None if frames.is_empty() => without += 1,
            None => panic!("frame {seq} has no camera time, after frames that had it"),
            Some(ns) => frames.push((ns, meta.ts_realtime_ns)),
        }
    }
    assert!(without < 15, "{without} frames without camera time");
    // Each frame's camera time is the capture time the camera recorded for one of its frames
    // (they are 67 ms apart at 15 fps), within 10 ms.
    let captured = server.camera_capture_times("ntp");
    let mut errors_us = Vec::new();
    for &(camera_ns, arrival_ns) in &frames {
        let nearest = captured
            .iter()
            .map(|&c| camera_ns as i64 - c as i64)
            .min_by_key(|d| d.abs())
            .expect("the camera recorded its captures");
        errors_us.push(nearest / 1000);
        // The same machine: captured by the camera's clock 1000 s ahead, shortly before arrival.
        let delay = arrival_ns as i64 - (camera_ns as i64 - OFFSET_NS);
        assert!(
            (0..1_000_000_000).contains(&delay),
            "a frame arrived {delay} ns after its capture"
        );
    }
    println!(
        "{without} frames before the first sender report; camera time - the camera's record, us: {errors_us:?}"
    );
    for error in &errors_us {
        assert!(
            error.abs() <= 10_000,
            "a camera time {error} us off the camera's own record: {errors_us:?}"
        );
    }
    // camd status says how far the camera's clock is from this machine's.
    let out = std::process::Command::new(support::daemon::camd())
        .args(["status", "--format", "json", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let json = String::from_utf8_lossy(&out.stdout);
    let key = "\"camera_clock_offset_ms\":";
    let at = json
        .find(key)
        .unwrap_or_else(|| panic!("no {key} in {json}"))
        + key.len();
    let offset_ms: i64 = json[at..]
        .split([',', '}'])
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{key} is not a number in {json}"));
    // Its clock minus the arrival: 1000 s, less the few ms from capture to camd.
    assert!(
        (offset_ms - 1_000_000).abs() <= 100,
        "camd status: the camera's clock is {offset_ms} ms off, expected 1000000"
    );
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}
