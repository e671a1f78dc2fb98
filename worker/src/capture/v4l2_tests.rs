//! Format choice on recorded capability lists (`v4l2-ctl --list-formats-ext` of real cameras,
//! transcribed): no V4L2 device can exist on the project's machines, so these stand in for one.

use super::*;

/// A Logitech C920-class UVC webcam's video node.
fn uvc_webcam() -> DeviceCaps {
    DeviceCaps {
        driver: "uvcvideo".into(),
        card: "HD Pro Webcam C920".into(),
        bus: "usb-0000:00:14.0-1".into(),
        video_capture: true,
        meta_capture: false,
        formats: vec![
            Format {
                fourcc: "YUYV".into(),
                sizes: vec![(640, 480), (160, 90), (320, 240), (1280, 720), (1920, 1080)],
                ranges: vec![],
            },
            Format {
                fourcc: "MJPG".into(),
                sizes: vec![(640, 480), (320, 240), (1280, 720), (1920, 1080)],
                ranges: vec![],
            },
        ],
    }
}

/// The same camera's second node (/dev/video1): UVC metadata.
fn uvc_metadata_node() -> DeviceCaps {
    DeviceCaps {
        video_capture: false,
        meta_capture: true,
        formats: vec![Format {
            fourcc: "UVCH".into(),
            sizes: vec![],
            ranges: vec![],
        }],
        ..uvc_webcam()
    }
}

/// A cheap webcam with raw YUYV only.
fn yuyv_only() -> DeviceCaps {
    DeviceCaps {
        driver: "uvcvideo".into(),
        card: "USB2.0 PC CAMERA".into(),
        bus: "usb-0000:00:14.0-2".into(),
        video_capture: true,
        meta_capture: false,
        formats: vec![Format {
            fourcc: "YUYV".into(),
            sizes: vec![(640, 480), (352, 288), (320, 240)],
            ranges: vec![],
        }],
    }
}

fn dev() -> &'static Path {
    Path::new("/dev/video0")
}

#[test]
fn mjpeg_at_the_requested_size_when_offered() {
    let choice = choose_format(dev(), &uvc_webcam(), Some((1280, 720)), None).unwrap();
    assert_eq!(
        choice,
        Choice {
            fourcc: "MJPG".into(),
            width: 1280,
            height: 720
        }
    );
    assert!(choice.is_mjpeg());
    assert_eq!(choice.input_name(), "mjpeg");
    assert_eq!(
        choice.reason(Some((1280, 720))),
        "MJPEG at 1280x720 offered: its JPEG passes through"
    );
}

#[test]
fn the_largest_mjpeg_when_no_size_is_asked() {
    assert_eq!(
        choose_format(dev(), &uvc_webcam(), None, None).unwrap(),
        Choice {
            fourcc: "MJPG".into(),
            width: 1920,
            height: 1080
        }
    );
}

#[test]
fn raw_when_mjpeg_lacks_the_size() {
    let choice = choose_format(dev(), &uvc_webcam(), Some((160, 90)), None).unwrap();
    assert_eq!(
        choice,
        Choice {
            fourcc: "YUYV".into(),
            width: 160,
            height: 90
        }
    );
    assert_eq!(choice.gst_raw_format(), "YUY2");
    assert_eq!(choice.input_name(), "yuyv");
    assert_eq!(
        choice.reason(Some((160, 90))),
        "no MJPEG at 160x90: capturing YUYV 160x90 and encoding JPEG"
    );
    assert_eq!(
        choose_format(dev(), &yuyv_only(), None, None).unwrap(),
        Choice {
            fourcc: "YUYV".into(),
            width: 640,
            height: 480
        }
    );
}

#[test]
fn a_metadata_node_is_refused_with_a_hint() {
    let err = choose_format(Path::new("/dev/video1"), &uvc_metadata_node(), None, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("/dev/video1 (HD Pro Webcam C920) is a metadata node"),
        "{err}"
    );
}

#[test]
fn a_size_not_offered_is_captured_larger_and_scaled() {
    let yuyv = |width, height| Choice {
        fourcc: "YUYV".into(),
        width,
        height,
    };
    // Nothing covers 1280x720: the largest, scaled up.
    let choice = choose_format(dev(), &yuyv_only(), Some((1280, 720)), None).unwrap();
    assert_eq!(choice, yuyv(640, 480));
    assert_eq!(
        choice.reason(Some((1280, 720))),
        "no MJPEG or raw format at 1280x720: capturing YUYV 640x480 and scaling it"
    );
    // A model's square: the smallest size that covers it, MJPEG first.
    let mjpeg = choose_format(dev(), &uvc_webcam(), Some((300, 300)), None).unwrap();
    assert_eq!(
        (mjpeg.fourcc.as_str(), mjpeg.width, mjpeg.height),
        ("MJPG", 640, 480)
    );
    assert_eq!(
        choose_format(dev(), &yuyv_only(), Some((330, 250)), None).unwrap(),
        yuyv(352, 288)
    );
}

/// A memory-to-memory-like range (vim2m: 32x32 to 640x480 in steps of 8): the size asked for
/// if it is on the steps, else the next one up; never a list of every size.
#[test]
fn ranges_of_sizes_are_matched_not_expanded() {
    let caps = DeviceCaps {
        formats: vec![Format {
            fourcc: "YUYV".into(),
            sizes: vec![],
            ranges: vec![SizeRange {
                min: (32, 32),
                max: (640, 480),
                step: (8, 8),
            }],
        }],
        ..yuyv_only()
    };
    let pick = |size| {
        let c = choose_format(dev(), &caps, size, None).unwrap();
        (c.width, c.height)
    };
    assert_eq!(pick(Some((320, 240))), (320, 240));
    assert_eq!(pick(Some((322, 237))), (328, 240));
    assert_eq!(pick(Some((16, 16))), (32, 32));
    assert_eq!(pick(Some((1280, 720))), (640, 480));
    assert_eq!(pick(None), (640, 480));
    assert_eq!(caps.formats[0].to_string(), "YUYV 32x32-640x480 (step 8x8)");
}

#[test]
fn a_device_without_mjpeg_or_raw_lists_what_it_offers() {
    let caps = DeviceCaps {
        formats: vec![Format {
            fourcc: "H264".into(),
            sizes: vec![(1280, 720)],
            ranges: vec![],
        }],
        ..yuyv_only()
    };
    let err = choose_format(dev(), &caps, Some((640, 360)), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no MJPEG or raw format at 640x360"), "{err}");
    assert!(err.contains("H264 1280x720"), "{err}");
}

#[test]
fn a_missing_device_is_named() {
    let err = probe(Path::new("/dev/video97")).unwrap_err().to_string();
    assert!(
        err.starts_with("/dev/video97 does not exist") || err.contains("without V4L2 support"),
        "{err}"
    );
}

#[cfg(feature = "v4l2")]
#[test]
fn a_file_that_is_not_a_v4l2_device_is_named() {
    let err = probe(Path::new("/dev/null")).unwrap_err().to_string();
    assert!(err.starts_with("/dev/null is not a V4L2 device"), "{err}");
}

/// A raw camera (`format = "rgb"`) takes the webcam's own RGB when it has it at the size, before
/// MJPEG: no decode, no conversion.
#[test]
fn the_rings_own_raw_format_comes_first() {
    let mut caps = uvc_webcam();
    caps.formats.push(Format {
        fourcc: "RGB3".into(),
        sizes: vec![(640, 480)],
        ranges: vec![],
    });
    let rgb = fourcc_of(camd_ring::Codec::Rgb);
    let choice = choose_format(dev(), &caps, Some((640, 480)), rgb).unwrap();
    assert_eq!(
        (choice.fourcc.as_str(), choice.gst_raw_format()),
        ("RGB3", "RGB")
    );
    let jpeg = choose_format(dev(), &caps, Some((640, 480)), None).unwrap();
    assert_eq!(jpeg.fourcc, "MJPG", "a JPEG camera keeps MJPEG first");
}
