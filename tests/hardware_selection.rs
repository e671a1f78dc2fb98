//! Hardware decoder selection. Its own test binary: registering an element is global to the
//! process, and the other capture tests expect the software decoder.
//!
//! A stand-in: these machines have no hardware decoder, so the software `avdec_h264` is
//! registered under a hardware decoder's name (`v4l2h264dec`) to see camd's choice prefer it.
//! A real V4L2 stateless decoder is chosen in the qemu guest against the kernel's visl driver
//! (`cargo xtask vm-test`, xtask/vm/checks.py `picked_decoder`).

use camd_test_support as support;

use camd_test_support::fake_cameras;

use camd_ring::State;
use camd_worker::worker::Worker;
use fake_cameras::{Codec, MountSpec};
use gstreamer as gst;
use gstreamer::prelude::PluginFeatureExtManual;
use std::time::Duration;
use support::*;

#[test]
fn a_hardware_decoder_is_preferred_when_the_registry_has_one() {
    gst::init().unwrap();
    let software = gst::ElementFactory::find("avdec_h264")
        .unwrap()
        .load()
        .unwrap();
    gst::Element::register(
        None,
        "v4l2h264dec",
        gst::Rank::PRIMARY,
        software.element_type(),
    )
    .unwrap();
    let server =
        fake_cameras::serve(0, &[MountSpec::new("cam", Codec::H264, 320, 240, 15)]).unwrap();
    let dir = TempDir::new("rtsp");
    let mut forced = camera("forced", &server.url("cam"));
    forced.decoder = Some("avdec_h264".into());
    let worker = Worker::start(
        vec![camera("auto", &server.url("cam")), forced],
        dir.path(),
        None,
    )
    .unwrap();
    let (auto, forced) = (open(&dir, "auto"), open(&dir, "forced"));
    until_state(&auto, State::Ok, Duration::from_secs(3));
    until_state(&forced, State::Ok, Duration::from_secs(3));
    assert_eq!(status(&auto).status.decoder, "v4l2h264dec");
    assert_eq!(
        status(&forced).status.decoder,
        "avdec_h264",
        "a per-camera override wins"
    );
    check_jpegs(&auto, (320, 240));
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}
