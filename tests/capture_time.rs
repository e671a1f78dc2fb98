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
            continue; // a later frame came first
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
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}
