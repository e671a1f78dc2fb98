//! Raw output (`format = "nv12" | "rgb" | "bgr"`) through real GStreamer pipelines into real
//! rings: the ring's codec and layout, the pixels against the pattern the source drew, each
//! `resize` mode against where the picture's bars must land, and `camd snapshot` of a raw ring.

use camd_test_support as support;

use camd::camera_config::{CameraConfig, Resize};
use camd::source::Source;
use camd_ring::{Codec, PixelLayout, Reader, State};
use camd_worker::worker::Worker;
use std::time::Duration;
use support::fake_cameras::{self, MountSpec};
use support::*;

fn raw_camera(name: &str, url: &str, format: Codec, size: (u32, u32)) -> CameraConfig {
    let mut config = CameraConfig::new(name, Source::parse(url).unwrap());
    (config.width, config.height, config.format) = (Some(size.0), Some(size.1), format);
    config
}

/// The latest frame once the camera is ok, with the ring's layout.
fn latest_raw(reader: &Reader) -> (PixelLayout, Vec<u8>) {
    until_state(reader, State::Ok, Duration::from_secs(10));
    wait_for(Duration::from_secs(5), || reader.latest().unwrap()).expect("a frame");
    let mut frame = Vec::new();
    reader.copy_latest(&mut frame).unwrap().expect("a frame");
    let layout = reader.geometry().layout.expect("a raw ring has a layout");
    (layout, frame)
}

/// The 3 bytes of pixel (x, y) of a packed RGB or BGR frame, by the layout's stride.
fn pixel(layout: &PixelLayout, frame: &[u8], x: usize, y: usize) -> [u8; 3] {
    let at = layout.plane_offsets[0] as usize + y * layout.plane_strides[0] as usize + 3 * x;
    [frame[at], frame[at + 1], frame[at + 2]]
}

fn near(seen: [u8; 3], want: [u8; 3], tolerance: u8) -> bool {
    seen.iter()
        .zip(want)
        .all(|(s, w)| s.abs_diff(w) <= tolerance)
}

/// A solid red test pattern, 66x50 (an RGB row of 198 bytes, padded to 200): every pixel of
/// every format is red, in that format's byte order, at the layout's offsets and strides.
#[test]
fn raw_frames_hold_the_pattern_in_each_format() {
    let dir = TempDir::new("raw");
    let size = (66, 50);
    let cameras = vec![
        raw_camera("rgb", "test:red", Codec::Rgb, size),
        raw_camera("bgr", "test:red", Codec::Bgr, size),
        raw_camera("nv12", "test:red", Codec::Nv12, size),
    ];
    let worker = Worker::start(cameras, dir.path(), None).unwrap();
    for (name, codec, red) in [
        ("rgb", Codec::Rgb, [255, 0, 0]),
        ("bgr", Codec::Bgr, [0, 0, 255]),
    ] {
        let reader = open(&dir, name);
        let (layout, frame) = latest_raw(&reader);
        assert_eq!(
            layout,
            PixelLayout::packed(codec, 66, 50).unwrap(),
            "{name}"
        );
        assert_eq!(
            layout.plane_strides[0], 200,
            "{name}: rows padded to 4 bytes"
        );
        assert_eq!(reader.geometry().codec, codec.value());
        assert_eq!(frame.len(), 200 * 50);
        for y in 0..50 {
            for x in 0..66 {
                let seen = pixel(&layout, &frame, x, y);
                assert!(
                    near(seen, red, 3),
                    "{name}: pixel ({x}, {y}) is {seen:?}, not {red:?}"
                );
            }
        }
        let s = status(&reader).status;
        assert_eq!(
            (s.input_codec.as_str(), s.encoder.as_str()),
            ("raw", "videoscale+videoconvert"),
            "{name}: the converter is the status's encoder"
        );
    }
    let reader = open(&dir, "nv12");
    let (layout, frame) = latest_raw(&reader);
    assert_eq!(layout.plane_strides, [68, 68]);
    assert_eq!(layout.plane_offsets, [0, 68 * 50]);
    let [y_plane, uv_plane] = layout.planes(&frame).unwrap();
    // Red in limited-range BT.601 YUV (what videotestsrc draws): Y 81, U 90, V 240.
    for row in 0..50 {
        for x in 0..66 {
            let y = y_plane[row * 68 + x];
            assert!(y.abs_diff(81) <= 3, "Y({x}, {row}) = {y}");
        }
    }
    for row in 0..25 {
        for pair in 0..33 {
            let (u, v) = (
                uv_plane[row * 68 + 2 * pair],
                uv_plane[row * 68 + 2 * pair + 1],
            );
            assert!(
                u.abs_diff(90) <= 3 && v.abs_diff(240) <= 3,
                "UV({pair}, {row}) = {u}, {v}"
            );
        }
    }
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

/// An RTSP MJPEG camera of 320x240 SMPTE bars (seven bars, white, yellow, cyan, green, magenta,
/// red, blue, over the top two thirds) into a 32x64 (1:2) RGB frame, in each resize mode: the
/// picture's bars must be where that mode puts them. Pixels are taken inside bars, away from
/// JPEG's and the scaler's edges.
#[test]
fn each_resize_mode_puts_the_picture_where_it_says() {
    gstreamer::init().unwrap();
    let server = fake_cameras::serve(
        0,
        &[MountSpec::new(
            "bars",
            fake_cameras::Codec::Mjpeg,
            320,
            240,
            15,
        )],
    )
    .unwrap();
    let dir = TempDir::new("raw");
    let url = server.url("bars");
    let cameras = [Resize::Stretch, Resize::Letterbox, Resize::Crop].map(|resize| {
        let mut config = raw_camera(resize.name(), &url, Codec::Rgb, (32, 64));
        config.resize = resize;
        config
    });
    let worker = Worker::start(cameras.to_vec(), dir.path(), None).unwrap();
    let (white, cyan, green, black) = ([255, 255, 255], [0, 255, 255], [0, 255, 0], [0, 0, 0]);
    let frames = |name: &str| latest_raw(&open(&dir, name));
    // (camera, x, y, colour, why)
    let expect: &[(&str, usize, usize, [u8; 3], &str)] = &[
        (
            "stretch",
            1,
            10,
            white,
            "the whole width: bar 1 at the left edge",
        ),
        ("stretch", 16, 10, green, "bar 4 in the middle"),
        ("letterbox", 16, 5, black, "the bar above the 32x24 picture"),
        ("letterbox", 16, 58, black, "the bar below it"),
        ("letterbox", 16, 22, green, "the picture in the middle rows"),
        (
            "crop",
            1,
            10,
            cyan,
            "the middle 120 of 320 columns: bar 3 at the left edge",
        ),
        ("crop", 16, 10, green, "bar 4 in the middle"),
    ];
    for &(name, x, y, colour, why) in expect {
        let (layout, frame) = frames(name);
        let seen = pixel(&layout, &frame, x, y);
        assert!(
            near(seen, colour, 40),
            "{name}: pixel ({x}, {y}) is {seen:?}, expected {colour:?}: {why}"
        );
    }
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

/// `camd snapshot` of a raw ring writes a PNG or a JPEG of it, by the file's name.
#[test]
fn snapshot_of_a_raw_camera_is_a_picture() {
    let dir = TempDir::new("raw");
    let worker = Worker::start(
        vec![raw_camera("cam", "test:red", Codec::Nv12, (64, 48))],
        dir.path(),
        None,
    )
    .unwrap();
    latest_raw(&open(&dir, "cam"));
    let status = |format: &str| {
        let out = std::process::Command::new(support::daemon::camd())
            .args(["status", "--format", format, "--dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(
        status("json").contains(r#""format":"nv12""#),
        "{}",
        status("json")
    );
    assert!(
        status("table").contains("64x48 nv12"),
        "{}",
        status("table")
    );
    for (file, magic) in [
        ("cam.png", &b"\x89PNG\r\n\x1a\n"[..]),
        ("cam.jpg", &b"\xff\xd8"[..]),
    ] {
        let to = dir.join(file);
        let out = std::process::Command::new(support::daemon::camd())
            .args(["snapshot", "cam", "--dir"])
            .arg(dir.path())
            .arg("-o")
            .arg(&to)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let picture = std::fs::read(&to).unwrap();
        assert!(
            picture.starts_with(magic),
            "{file}: starts {:02x?}",
            &picture[..8]
        );
        if file.ends_with(".jpg") {
            assert_eq!(support::jpeg::jpeg_size(&picture).unwrap(), (64, 48));
        } else {
            // IHDR: width and height, big-endian, at bytes 16 and 20.
            let be = |at: usize| u32::from_be_bytes(picture[at..at + 4].try_into().unwrap());
            assert_eq!((be(16), be(20)), (64, 48));
        }
    }
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

/// A converter override that cannot do what the camera asks is that camera's error, named and
/// with the fix; its neighbour in the worker runs on.
#[test]
fn a_converter_that_cannot_letterbox_is_the_cameras_error() {
    let dir = TempDir::new("raw");
    let mut boxed = raw_camera("boxed", "test:red", Codec::Rgb, (64, 48));
    // identity: in every registry, passes frames through, has no add-borders.
    (boxed.resize, boxed.converter) = (Resize::Letterbox, Some("identity".into()));
    let plain = raw_camera("plain", "test:red", Codec::Rgb, (64, 48));
    let worker = Worker::start(vec![boxed, plain], dir.path(), None).unwrap();
    let boxed = open(&dir, "boxed");
    let status = wait_for(Duration::from_secs(3), || {
        let s = boxed.status().unwrap().status;
        (s.state == State::Retrying).then_some(s)
    })
    .expect("retrying");
    assert!(
        status
            .last_error
            .contains("converter \"identity\" cannot letterbox")
            && status.last_error.contains("videoconvertscale"),
        "{}",
        status.last_error
    );
    latest_raw(&open(&dir, "plain"));
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}
