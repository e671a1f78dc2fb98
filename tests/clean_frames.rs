//! Only clean frames reach the ring (worker/src/capture/clean_frames.rs). A camera joined
//! between two keyframes: a fake H.264 camera with a keyframe every 75 frames (5 s at 15 fps)
//! already streaming to a first client when a second camera joins its shared stream mid-interval.
//! Before, the joiner published grey/green smears as `ok` until the keyframe. Now every frame
//! it publishes is decoded from a keyframe on: the SMPTE bars of the test pattern are checked
//! pixel by pixel in each of its first six frames. Seen failing without the guards: frame 1 was
//! [128, 128, 128] where the white bar belongs.

use camd_test_support as support;

use camd_ring::State;
use camd_test_support::fake_cameras;
use camd_worker::worker::Worker;
use fake_cameras::{Codec, MountSpec};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use std::time::Duration;
use support::*;

/// Decodes a JPEG to RGB (width, height, bytes) with GStreamer's jpegdec.
fn decode(jpeg: &[u8]) -> (usize, usize, Vec<u8>) {
    let pipeline = gst::parse::launch(
        "appsrc name=src caps=image/jpeg ! jpegdec ! videoconvert ! video/x-raw,format=RGB \
         ! appsink name=sink sync=false",
    )
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let src = pipeline
        .by_name("src")
        .unwrap()
        .downcast::<gst_app::AppSrc>()
        .unwrap();
    let sink = pipeline
        .by_name("sink")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    src.push_buffer(gst::Buffer::from_slice(jpeg.to_vec()))
        .unwrap();
    src.end_of_stream().unwrap();
    let sample = sink.pull_sample().expect("a decoded frame");
    let caps = sample.caps().unwrap().structure(0).unwrap().to_owned();
    let (w, h) = (
        caps.get::<i32>("width").unwrap() as usize,
        caps.get::<i32>("height").unwrap() as usize,
    );
    let map = sample.buffer().unwrap().map_readable().unwrap();
    let stride = map.len() / h;
    let mut rgb = Vec::with_capacity(w * h * 3);
    for row in map.chunks(stride) {
        rgb.extend_from_slice(&row[..w * 3]);
    }
    pipeline.set_state(gst::State::Null).unwrap();
    (w, h, rgb)
}

/// The SMPTE pattern's top bars, left to right, as (is R high, is G high, is B high).
const BARS: [(bool, bool, bool); 7] = [
    (true, true, true),
    (true, true, false),
    (false, true, true),
    (false, true, false),
    (true, false, true),
    (true, false, false),
    (false, false, true),
];

/// Why the frame is not the SMPTE bars, if it is not.
fn not_bars(jpeg: &[u8]) -> Option<String> {
    let (w, h, rgb) = decode(jpeg);
    let y = h / 3;
    for (i, (r, g, b)) in BARS.iter().enumerate() {
        let x = w * (2 * i + 1) / 14;
        let p = &rgb[(y * w + x) * 3..][..3];
        let high = |v: u8| v > 140;
        let low = |v: u8| v < 90;
        let ok = |v: u8, want: bool| if want { high(v) } else { low(v) };
        if !(ok(p[0], *r) && ok(p[1], *g) && ok(p[2], *b)) {
            return Some(format!("bar {i} at ({x},{y}) is {p:?}"));
        }
    }
    None
}

#[test]
fn a_camera_joined_between_keyframes_publishes_only_clean_frames() {
    gst::init().unwrap();
    let server = fake_cameras::serve(
        0,
        &[MountSpec::new("cam", Codec::H264, 320, 240, 15).with_keyframe_interval(75)],
    )
    .unwrap();
    let dir = TempDir::new("clean");
    // The first client starts the shared stream (its first frame is a keyframe).
    let first = Worker::start(vec![camera("first", &server.url("cam"))], dir.path(), None).unwrap();
    let first_ring = open(&dir, "first");
    until_state(&first_ring, State::Ok, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(1500));
    // The joiner comes 1.5 s or more into a 5 s interval.
    let joiner =
        Worker::start(vec![camera("joiner", &server.url("cam"))], dir.path(), None).unwrap();
    let ring = open(&dir, "joiner");
    // Its first 6 frames, each copied as it is published (the ring holds only a few).
    let mut frames = Vec::new();
    let mut buf = Vec::new();
    for seq in 1..=6u64 {
        ring.wait_next(seq - 1, Duration::from_secs(10))
            .unwrap()
            .unwrap_or_else(|| panic!("no frame {seq} within 10 s"));
        let meta = ring
            .copy_frame(seq, &mut buf)
            .unwrap()
            .expect("frame still in the ring");
        frames.push(buf[..meta.len as usize].to_vec());
    }
    assert_eq!(status(&ring).status.state, State::Ok);
    for (i, jpeg) in frames.iter().enumerate() {
        if let Some(why) = not_bars(jpeg) {
            panic!(
                "frame {} of the joiner is not a clean picture: {why}",
                i + 1
            );
        }
    }
    // What the probes held back (avdec's own drops of corrupt frames are not among them).
    println!("the joiner's drops counter: {}", status(&ring).status.drops);
    assert!(joiner.stop(Duration::from_secs(5)).is_empty());
    assert!(first.stop(Duration::from_secs(5)).is_empty());
}
