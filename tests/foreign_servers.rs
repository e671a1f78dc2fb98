//! RTSP servers that exist, not built on gst-rtsp-server (tests/support/foreign_servers.rs):
//! camd, with `transport = "auto"`, reaches `ok` with frames of the stream's size, notices the
//! server killed, and is `ok` again by itself when it returns.
//! - RTSP::Server, a relay fed by ffmpeg, speaks UDP only: H.264, and MJPEG as ffmpeg sends it
//!   (payload type 26 without `a=rtpmap`; before, camd refused it: "the camera sends \"?\"").
//! - aio-rtsp-toolkit speaks RTSP over TCP (interleaved) only: H.264 from a looped file.

use camd_test_support as support;

use camd_ring::{Reader, State};
use camd_worker::worker::Worker;
use std::path::Path;
use std::time::Duration;
use support::foreign_servers::{Feed, Relay, TcpOnlyServer};
use support::*;

/// `ok`, and frames of 320x240 that decode as JPEG.
fn streaming(ring: &Reader) {
    until_state(ring, State::Ok, Duration::from_secs(20));
    check_jpegs(ring, (320, 240));
}

/// Not `ok` within 10 s of the server's death, with a reason.
fn notices_the_loss(ring: &Reader) -> String {
    wait_for(Duration::from_secs(10), || {
        let status = status(ring).status;
        (status.state != State::Ok && !status.last_error.is_empty()).then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "still ok 10 s after the server died: {:?}",
            status(ring).status
        )
    });
    let status = status(ring).status;
    println!("after the kill: {} ({})", status.state, status.last_error);
    status.last_error
}

#[test]
fn a_udp_only_relay_fed_by_ffmpeg() {
    let mut relay = Relay::start();
    let publisher = relay.publish("live", Feed::H264);
    let dir = TempDir::new("relay");
    let worker =
        Worker::start(vec![camera("relay", &relay.url("live"))], dir.path(), None).unwrap();
    let ring = open(&dir, "relay");
    streaming(&ring);
    assert_eq!(status(&ring).status.input_codec, "h264");

    relay.kill();
    drop(publisher);
    notices_the_loss(&ring);
    relay.restart();
    let _publisher = relay.publish("live", Feed::H264);
    streaming(&ring);
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

#[test]
fn mjpeg_with_payload_type_26_and_no_rtpmap() {
    let relay = Relay::start();
    let _publisher = relay.publish("mjpeg", Feed::Mjpeg);
    let dir = TempDir::new("relay-mjpeg");
    let worker =
        Worker::start(vec![camera("mjpeg", &relay.url("mjpeg"))], dir.path(), None).unwrap();
    let ring = open(&dir, "mjpeg");
    streaming(&ring);
    let status = status(&ring).status;
    assert_eq!(status.input_codec, "mjpeg");
    // Passed through: camd neither decodes nor encodes ffmpeg's JPEGs.
    assert_eq!(status.decoder, "");
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

#[test]
fn a_tcp_only_server() {
    let mut server = TcpOnlyServer::start(Path::new(env!("CARGO_TARGET_TMPDIR")));
    let dir = TempDir::new("tcp-only");
    let worker = Worker::start(vec![camera("tcp", &server.url())], dir.path(), None).unwrap();
    let ring = open(&dir, "tcp");
    streaming(&ring);

    server.kill();
    notices_the_loss(&ring);
    server.restart();
    streaming(&ring);
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}
