//! Proof that the support for the credentials-on-the-wire tests (issue 16) works, with a plain
//! `rtspsrc ! fakesink` client (no camd): the certificates chain to their CA and not to the
//! other, the TLS camera plays for a client trusting the CA only, the user's credentials are
//! asked for, and the wire tap sees Basic's base64 but never Digest's password.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer_rtsp_server::gio;

use gst::glib;
use gst::prelude::*;
use gstreamer_rtsp_server::prelude::*;

use crate::fake_cameras::{serve_with, url, Auth, AuthMethods, Codec, MountSpec, ServeOptions};
use crate::test_certs::TestCerts;
use crate::wire_tap::WireTap;
use crate::TempDir;

const USER: &str = "camd";
const PASSWORD: &str = "s3cret-on-the-wire";

/// A small MJPEG camera: its first frame comes within a few hundred ms.
fn mount() -> MountSpec {
    MountSpec::new("cam", Codec::Mjpeg, 320, 240, 10)
}

/// A camera at `options` on any free port.
fn camera(options: ServeOptions) -> crate::fake_cameras::Server {
    serve_with(0, &[mount()], &options).expect("fake camera")
}

/// Certificates in a directory of their own, removed when the returned `TempDir` drops.
fn certs(tag: &str) -> (TempDir, TestCerts) {
    let dir = TempDir::new(tag);
    let certs = TestCerts::make(dir.path());
    (dir, certs)
}

fn user(methods: AuthMethods) -> Option<Auth> {
    Some(Auth::new(USER, PASSWORD, methods))
}

/// Plays `location` with `rtspsrc protocols=tcp ! fakesink`, `configure` setting what else the
/// source needs: Ok once a buffer reached the sink and the pipeline is PLAYING, Err with the
/// error the pipeline posted (or that nothing came) within 5 s.
fn play(location: &str, configure: impl FnOnce(&gst::Element)) -> Result<(), String> {
    gst::init().unwrap();
    let pipeline = gst::parse::launch("rtspsrc name=src protocols=tcp ! fakesink name=sink")
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let src = pipeline.by_name("src").unwrap();
    src.set_property("location", location);
    configure(&src);
    let (buffers, buffer) = mpsc::channel();
    let sink = pipeline
        .by_name("sink")
        .unwrap()
        .static_pad("sink")
        .unwrap();
    sink.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        let _ = buffers.send(());
        gst::PadProbeReturn::Remove
    });
    pipeline.set_state(gst::State::Playing).unwrap();
    let result = first_buffer_or_error(&pipeline, &buffer);
    pipeline.set_state(gst::State::Null).unwrap();
    result
}

/// Waits for `play`: the first buffer (then PLAYING), an error on the bus, or 5 s.
fn first_buffer_or_error(
    pipeline: &gst::Pipeline,
    buffer: &mpsc::Receiver<()>,
) -> Result<(), String> {
    let bus = pipeline.bus().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if buffer.try_recv().is_ok() {
            let (_, state, _) = pipeline.state(gst::ClockTime::from_seconds(2));
            return match state {
                gst::State::Playing => Ok(()),
                other => Err(format!("a buffer came, but the pipeline is {other:?}")),
            };
        }
        let error = bus.timed_pop_filtered(
            gst::ClockTime::from_mseconds(20),
            &[gst::MessageType::Error],
        );
        if let Some(message) = error {
            if let gst::MessageView::Error(e) = message.view() {
                return Err(format!("{} ({:?})", e.error(), e.debug()));
            }
        }
    }
    Err("no buffer within 5 s".to_string())
}

/// Sets `tls-database` to the CA file `ca` alone.
fn trusting(ca: &Path) -> impl FnOnce(&gst::Element) + '_ {
    move |src| {
        let database = gio::TlsFileDatabase::new(ca).expect("a CA file GLib reads");
        src.set_property("tls-database", &database);
    }
}

fn with_credentials(src: &gst::Element) {
    src.set_property("user-id", USER);
    src.set_property("user-pw", PASSWORD);
}

fn base64(text: &str) -> String {
    glib::base64_encode(text.as_bytes()).to_string()
}

#[test]
fn certificates_chain_to_their_ca_name_the_loopback_and_pin_the_der() {
    let (_dir, certs) = certs("test-certs");
    let load = |path: &Path| gio::TlsCertificate::from_file(path).unwrap();
    let (server, ca, other) = (
        load(&certs.server_cert),
        load(&certs.ca),
        load(&certs.other_ca),
    );
    let name = |host: &str| gio::NetworkAddress::new(host, 0);
    for host in ["127.0.0.1", "localhost"] {
        assert_eq!(
            server.verify(Some(&name(host)), Some(&ca)),
            gio::TlsCertificateFlags::empty(),
            "{host} with the right CA"
        );
    }
    assert_eq!(
        server.verify(Some(&name("127.0.0.1")), Some(&other)),
        gio::TlsCertificateFlags::UNKNOWN_CA
    );
    assert_eq!(
        server.verify(Some(&name("127.0.0.2")), Some(&ca)),
        gio::TlsCertificateFlags::BAD_IDENTITY
    );
    // The pin is what a client computes from the certificate the server presents (GIO's DER).
    let der = server.certificate().unwrap();
    let sha = glib::compute_checksum_for_data(glib::ChecksumType::Sha256, &der).unwrap();
    let pin: String = certs
        .server_sha256
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(pin, sha.as_str());
    assert!(certs.server_key.exists() && certs.ca_key.exists());
}

#[test]
fn tls_camera_plays_for_a_client_trusting_its_ca_only() {
    let (_dir, certs) = certs("tls-camera");
    let server = camera(ServeOptions {
        tls: certs.server_tls(),
        ..Default::default()
    });
    play(&server.tls_url("cam"), trusting(&certs.ca)).unwrap();
    let error = play(&server.tls_url("cam"), trusting(&certs.other_ca)).unwrap_err();
    assert!(error.contains("Could not open resource"), "{error}");
    // rtsp:// to it: the server waits for a TLS hello that never comes, the client for an
    // answer, until its tcp-timeout (20 s by default; 1 s here).
    let error = play(&server.url("cam"), |src| {
        src.set_property("tcp-timeout", 1_000_000u64)
    })
    .unwrap_err();
    assert!(
        error.contains("Timeout while waiting for server response"),
        "{error}"
    );
}

#[test]
fn basic_credentials_cross_the_tap_in_base64() {
    let server = camera(ServeOptions {
        auth: user(AuthMethods::Basic),
        ..Default::default()
    });
    let tap = WireTap::start(server.port());
    let error = play(&url(tap.port, "cam"), |_| {}).unwrap_err();
    assert!(error.contains("Unauthorized"), "{error}");
    play(&url(tap.port, "cam"), with_credentials).unwrap();
    let basic = format!(
        "Authorization: Basic {}",
        base64(&format!("{USER}:{PASSWORD}"))
    );
    assert!(tap.client_text().contains(&basic), "{}", tap.client_text());
    let offered = tap.server_text();
    assert!(
        offered.contains("WWW-Authenticate: Basic realm="),
        "{offered}"
    );
    assert!(!offered.contains("WWW-Authenticate: Digest"), "{offered}");
    assert_eq!(tap.connections(), 2);
}

#[test]
fn digest_never_puts_the_password_on_the_wire() {
    let server = camera(ServeOptions {
        auth: user(AuthMethods::Digest),
        tcp_only: true,
        ..Default::default()
    });
    let tap = WireTap::start(server.port());
    play(&url(tap.port, "cam"), with_credentials).unwrap();
    let sent = tap.client_text();
    assert!(
        sent.contains(&format!("Authorization: Digest username=\"{USER}\"")),
        "{sent}"
    );
    for secret in [
        PASSWORD.to_string(),
        base64(PASSWORD),
        base64(&format!("{USER}:{PASSWORD}")),
    ] {
        assert!(!sent.contains(&secret), "{secret:?} went over the wire");
    }
    assert!(!sent.contains("Authorization: Basic"), "{sent}");
    // RTP came through the tap too: far more than the RTSP requests.
    assert!(
        tap.server_bytes().len() > 10_000,
        "{}",
        tap.server_bytes().len()
    );
    // TCP only: a client that asks for UDP gets no stream.
    let error = play(&url(server.port(), "cam"), |src| {
        with_credentials(src);
        src.set_property_from_str("protocols", "udp");
    })
    .unwrap_err();
    assert!(error.contains("No supported stream"), "{error}");
}

#[test]
fn both_methods_are_offered_and_rtspsrc_takes_digest_over_tls() {
    let (_dir, certs) = certs("tls-both");
    let server = camera(ServeOptions {
        tls: certs.server_tls(),
        auth: user(AuthMethods::Both),
        tcp_only: false,
    });
    let tap = WireTap::start(server.port());
    play(&crate::fake_cameras::tls_url(tap.port, "cam"), |src| {
        trusting(&certs.ca)(src);
        with_credentials(src);
    })
    .unwrap();
    // Through TLS the tap sees records, not RTSP: neither the scheme nor the user name.
    let sent = tap.client_text();
    assert!(!sent.contains("Authorization"), "{sent}");
    assert!(!sent.contains(USER) && !sent.contains(&base64(PASSWORD)));
    // Without TLS in the way, the 401 offers both, and rtspsrc answers with Digest.
    let plain = camera(ServeOptions {
        auth: user(AuthMethods::Both),
        ..Default::default()
    });
    let tap = WireTap::start(plain.port());
    play(&url(tap.port, "cam"), with_credentials).unwrap();
    let offered = tap.server_text();
    assert!(
        offered.contains("WWW-Authenticate: Basic realm="),
        "{offered}"
    );
    assert!(
        offered.contains("WWW-Authenticate: Digest realm="),
        "{offered}"
    );
    assert!(tap.client_text().contains("Authorization: Digest"));
    assert!(!tap.client_text().contains("Authorization: Basic"));
}
