//! Credentials on the wire (worker/src/capture/rtsp_security.rs), through `camd run` as a
//! process: the config's keys, the worker's checks, the camera's status and the log.
//! - rtsps:// against a fake camera serving TLS with a throwaway CA's certificate: trusted
//!   through `tls_ca_file` or a `tls_fingerprint` pin; refused with a wrong CA, with none (the
//!   system's CAs do not know it), with a wrong pin, each error saying which check failed;
//!   `tls_verify = false` streams and warns.
//! - Plain rtsp:// through a recording proxy (tests/support/wire_tap.rs): a camera offering only
//!   Basic gets no password unless `allow_basic_auth = true`; a Digest camera streams and the
//!   password never crosses the wire.
//! - In all of them the password is in no log line and no status.
//! - `camd probe rtsps://...` prints the certificate's fingerprint in the form `tls_fingerprint`
//!   takes.
//!
//! Seen failing before: the Basic-only camera went `ok` with the password base64-encoded on
//! the wire, and every refused certificate said only "nothing answers at the camera's address".

use camd_test_support as support;

use camd::camera_config::format_fingerprint;
use camd_ring::State;
use std::time::Duration;
use support::daemon::{camd, Daemon};
use support::fake_cameras::{self, Auth, AuthMethods, Codec, MountSpec, ServeOptions};
use support::test_certs::TestCerts;
use support::wire_tap::WireTap;
use support::*;

const USER: &str = "viewer";
const PASSWORD: &str = "pa55-Wörd_9271";

fn mount() -> MountSpec {
    MountSpec::new("cam", Codec::Mjpeg, 160, 120, 10)
}

fn camera(name: &str, url: &str, extra: &str) -> String {
    format!("[[camera]]\nname = \"{name}\"\nurl = \"{url}\"\n{extra}\n")
}

/// A plain rtsp:// fake camera asking for USER and PASSWORD with `methods`, over TCP only (so
/// that the whole session goes through a `WireTap`).
fn plain_camera_with(methods: AuthMethods) -> fake_cameras::Server {
    let options = ServeOptions {
        auth: Some(Auth::new(USER, PASSWORD, methods)),
        tcp_only: true,
        ..ServeOptions::default()
    };
    fake_cameras::serve_with(0, &[mount()], &options).unwrap()
}

/// `rtsp[s]://USER:PASSWORD@127.0.0.1:PORT/cam`.
fn with_credentials(url: &str) -> String {
    url.replacen("://", &format!("://{USER}:{}@", encoded_password()), 1)
}

/// The password as the url holds it.
fn encoded_password() -> String {
    PASSWORD.replace('ö', "%C3%B6")
}

/// Waits until `name` is failing with a `last_error` that contains `needle`; returns it.
fn until_refused(daemon: &Daemon, name: &str, needle: &str) -> String {
    let ring = daemon.ring(name);
    wait_for(Duration::from_secs(20), || {
        let status = ring.status().unwrap().status;
        (status.state != State::Ok && status.last_error.contains(needle))
            .then_some(status.last_error)
    })
    .unwrap_or_else(|| {
        panic!(
            "{name}: no error with {needle:?} within 20 s: {:?}\n{}",
            ring.status().unwrap().status,
            daemon.log_text()
        )
    })
}

/// The password is in no log line and no status output, in clear or as its base64 forms.
fn password_nowhere(daemon: &Daemon) {
    let status = std::process::Command::new(camd())
        .args(["status", "--format", "json", "--dir"])
        .arg(&daemon.run_dir)
        .output()
        .unwrap();
    assert!(
        status.status.success() && status.stdout.starts_with(b"{\"cameras\":["),
        "camd status failed, so it cannot show what it hides: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let status = String::from_utf8_lossy(&status.stdout).into_owned();
    let log = daemon.log_text();
    for secret in secrets() {
        assert!(!log.contains(&secret), "{secret:?} in the log:\n{log}");
        assert!(
            !status.contains(&secret),
            "{secret:?} in camd status: {status}"
        );
    }
}

/// The password as configured (percent-encoded in the url) and decoded, and what Basic
/// authentication would send of it.
fn secrets() -> Vec<String> {
    vec![
        PASSWORD.to_owned(),
        encoded_password(),
        base64(PASSWORD.as_bytes()),
        base64(format!("{USER}:{PASSWORD}").as_bytes()),
    ]
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn base64_as_basic_authentication_writes_it() {
    assert_eq!(
        base64(b"Aladdin:open sesame"),
        "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    );
    assert_eq!(base64(b"ab"), "YWI=");
}

#[test]
fn rtsps_certificates_are_checked_and_refusals_say_which_check_failed() {
    let dir = TempDir::new("tls-certs");
    let certs = TestCerts::make(dir.path());
    let options = ServeOptions {
        tls: certs.server_tls(),
        auth: Some(Auth::new(USER, PASSWORD, AuthMethods::Basic)),
        ..ServeOptions::default()
    };
    let server = fake_cameras::serve_with(0, &[mount()], &options).unwrap();
    let url = with_credentials(&server.tls_url("cam"));
    let pin = format_fingerprint(&certs.server_sha256);
    let wrong_pin = format_fingerprint(&[0x5A; 32]);
    let cameras = [
        camera(
            "by-ca",
            &url,
            &format!("tls_ca_file = \"{}\"", certs.ca.display()),
        ),
        camera("pinned", &url, &format!("tls_fingerprint = \"{pin}\"")),
        camera("unverified", &url, "tls_verify = false"),
        camera(
            "wrong-ca",
            &url,
            &format!("tls_ca_file = \"{}\"", certs.other_ca.display()),
        ),
        camera("no-ca", &url, ""),
        camera(
            "wrong-pin",
            &url,
            &format!("tls_fingerprint = \"{wrong_pin}\""),
        ),
    ]
    .concat();
    let daemon = Daemon::start("", &cameras, &[]);
    for name in ["by-ca", "pinned", "unverified"] {
        daemon.until_ok(name, 0, Duration::from_secs(20));
    }
    // Over rtsps Basic travels inside TLS: allowed without allow_basic_auth.
    // Each error: the certificate's fingerprint (to check and pin), which check, what to set.
    let refused = format!(
        "the camera's certificate {pin} is from an unknown CA: set tls_ca_file or tls_fingerprint"
    );
    assert_eq!(until_refused(&daemon, "wrong-ca", "unknown CA"), refused);
    assert_eq!(until_refused(&daemon, "no-ca", "unknown CA"), refused);
    let said = until_refused(&daemon, "wrong-pin", "not the one tls_fingerprint pins");
    assert!(
        said.starts_with(&format!("the camera's certificate {pin} ")),
        "{said}"
    );
    daemon.until_logged(
        "camera unverified: tls_verify = false: accepting whatever certificate",
        Duration::from_secs(5),
    );
    password_nowhere(&daemon);
}

#[test]
fn a_camera_offering_only_basic_gets_no_password_unless_allowed() {
    let server = plain_camera_with(AuthMethods::Basic);
    let (refused_tap, allowed_tap) = (WireTap::start(server.port()), WireTap::start(server.port()));
    let url = |tap: &WireTap| with_credentials(&fake_cameras::url(tap.port, "cam"));
    let cameras = [
        camera("basic", &url(&refused_tap), "transport = \"tcp\""),
        camera(
            "allowed",
            &url(&allowed_tap),
            "transport = \"tcp\"\nallow_basic_auth = true",
        ),
    ]
    .concat();
    let daemon = Daemon::start("", &cameras, &[]);
    daemon.until_ok("allowed", 0, Duration::from_secs(20));
    let said = until_refused(&daemon, "basic", "offers only Basic authentication");
    assert!(said.contains("allow_basic_auth = true"), "{said}");
    // The refused camera was asked, and nothing of the password went to it.
    let sent = refused_tap.client_text();
    assert!(
        sent.contains("DESCRIBE rtsp://"),
        "camd asked nothing: {sent}"
    );
    assert!(!sent.contains("Authorization"), "{sent}");
    for secret in secrets() {
        assert!(!sent.contains(&secret), "{secret:?} went to the camera");
    }
    // The opt-in sends it, as documented.
    let sent = allowed_tap.client_text();
    assert!(
        sent.contains(&format!(
            "Authorization: Basic {}",
            base64(format!("{USER}:{PASSWORD}").as_bytes())
        )),
        "{sent}"
    );
    password_nowhere(&daemon);
}

#[test]
fn digest_is_used_and_the_password_never_crosses_the_wire() {
    let server = plain_camera_with(AuthMethods::Digest);
    let tap = WireTap::start(server.port());
    let url = with_credentials(&fake_cameras::url(tap.port, "cam"));
    let daemon = Daemon::start("", &camera("digest", &url, "transport = \"tcp\""), &[]);
    daemon.until_ok("digest", 0, Duration::from_secs(20));
    let sent = tap.client_text();
    assert!(sent.contains("Authorization: Digest"), "{sent}");
    assert!(!sent.contains("Authorization: Basic"), "{sent}");
    for secret in secrets() {
        assert!(!sent.contains(&secret), "{secret:?} went to the camera");
    }
    password_nowhere(&daemon);
}

#[test]
fn camd_probe_prints_the_fingerprint_to_pin() {
    let dir = TempDir::new("tls-probe");
    let certs = TestCerts::make(dir.path());
    let options = ServeOptions {
        tls: certs.server_tls(),
        ..ServeOptions::default()
    };
    let server = fake_cameras::serve_with(0, &[mount()], &options).unwrap();
    let probe = |url: &str| {
        let out = std::process::Command::new(camd())
            .args(["probe", url])
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), said)
    };
    let (ok, said) = probe(&server.tls_url("cam"));
    assert!(ok, "{said}");
    let pin = format_fingerprint(&certs.server_sha256);
    assert!(
        said.contains(&format!("tls_fingerprint = \"{pin}\"")),
        "{said}"
    );
    assert!(
        said.contains("not trusted here: from an unknown CA"),
        "{said}"
    );
    // Credentials on the command line are refused, and not shown.
    let (ok, said) = probe(&with_credentials(&server.tls_url("cam")));
    assert!(
        !ok && said.contains("leave the user name and password out"),
        "{said}"
    );
    for secret in secrets() {
        assert!(!said.contains(&secret), "{said}");
    }
}
