//! Credentials and certificates on the wire, for RTSP cameras.
//!
//! - **rtsps://**: the camera's certificate is checked. GLib checks it against the system's CAs
//!   first; then rtspsrc against the camera's `tls_ca_file` (`tls-database`); then, if both
//!   refused it, rtspsrc asks its `accept-certificate` signal, where camd accepts a certificate
//!   whose SHA-256 is the camera's `tls_fingerprint` and otherwise notes why it was refused.
//!   rtspsrc reports every refusal as "Could not open resource ... Failed to connect", the same
//!   as a camera that is off, so the camera's error comes from that note ([`TlsRefusal`]).
//!   `tls_verify = false` accepts any certificate and warns at every connect. Over rtsps the
//!   video goes inside the TLS connection: `transport = "auto"` means TCP there (RTP over UDP
//!   would travel unencrypted beside it).
//! - **rtsp:// with a password**: rtspsrc answers a 401 with the strongest scheme the camera
//!   offers, Digest over Basic, and Basic puts the password on the network readable by anyone.
//!   rtspsrc cannot be told not to (it adds the Authorization header after its `before-send`
//!   signal), so before each connection camd asks the camera itself, without credentials, what
//!   it offers ([`refuse_cleartext_basic`]): one DESCRIBE, a few ms. A camera that offers only
//!   Basic is refused unless the camera's config says `allow_basic_auth = true`. (A machine in
//!   the middle could answer camd's question with Digest and rtspsrc's with Basic: against that,
//!   rtsps.)

use super::pipeline::FrameTarget;
use camd::camera_config::{format_fingerprint, CameraConfig, Transport};
use camd::error::{Error, Kind, Result};
use gio::prelude::*;
use gstreamer as gst;
use gstreamer::glib;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// True for an rtsps:// URL.
pub fn is_tls(url: &str) -> bool {
    url.starts_with("rtsps://")
}

/// rtspsrc's `protocols` for the camera: over rtsps, `auto` is TCP (the video inside TLS).
pub fn protocols(url: &str, transport: Transport) -> &'static str {
    match transport {
        Transport::Auto if is_tls(url) => "tcp",
        Transport::Auto => "udp+tcp",
        Transport::Tcp => "tcp",
        Transport::Udp => "udp",
    }
}

/// Why rtspsrc's last connection refused the camera's certificate, for the camera's error.
#[derive(Default)]
pub struct TlsRefusal(Mutex<Option<String>>);

impl TlsRefusal {
    fn note(&self, why: String) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(why);
        }
    }

    /// The noted reason, once.
    pub fn take(&self) -> Option<String> {
        self.0.lock().ok()?.take()
    }
}

/// Sets up the certificate check of an rtsps:// camera's `rtspsrc`.
pub fn check_certificates(
    src: &gst::Element,
    camera: &CameraConfig,
    url: &str,
    target: &Arc<FrameTarget>,
) -> Result<()> {
    if !is_tls(url) {
        return Ok(());
    }
    // Without GIO's TLS backend rtspsrc says only "Failed to connect".
    if !gio::TlsBackend::default().supports_tls() {
        return Err(Error::new(
            Kind::Pipeline,
            "this system has no TLS for GLib (its glib-networking package is missing), so no \
             rtsps:// camera can connect: install glib-networking",
        ));
    }
    let tls = &camera.tls;
    if !tls.verify {
        log::warn!(
            "camera {}: tls_verify = false: accepting whatever certificate answers at {url}, so \
             a machine in the middle could read the stream and the password",
            camera.name
        );
        src.set_property("tls-validation-flags", gio::TlsCertificateFlags::empty());
        return Ok(());
    }
    if let Some(file) = &tls.ca_file {
        let database = gio::TlsFileDatabase::new(file).map_err(|e| {
            Error::new(
                Kind::Config,
                format!("tls_ca_file {}: {}", file.display(), e.message()),
            )
        })?;
        src.set_property("tls-database", &database);
    }
    let (pin, has_ca, name) = (tls.fingerprint, tls.ca_file.is_some(), camera.name.clone());
    let refusal = target.tls_refusal.clone();
    src.connect("accept-certificate", false, move |args| {
        let certificate = args
            .get(2)
            .and_then(|v| v.get::<gio::TlsCertificate>().ok());
        let errors = args
            .get(3)
            .and_then(|v| v.get::<gio::TlsCertificateFlags>().ok())
            .unwrap_or(gio::TlsCertificateFlags::GENERIC_ERROR);
        let sha256 = certificate.as_ref().and_then(sha256_of);
        let accept = pin.is_some() && sha256 == pin;
        if !accept {
            let why = refusal_text(errors, sha256.as_ref(), pin.is_some(), has_ca);
            log::debug!("camera {name}: {why}");
            refusal.note(why);
        }
        Some(accept.to_value())
    });
    Ok(())
}

/// SHA-256 of the certificate's DER bytes.
pub(crate) fn sha256_of(certificate: &gio::TlsCertificate) -> Option<[u8; 32]> {
    let der = certificate.certificate()?;
    let hex = glib::compute_checksum_for_data(glib::ChecksumType::Sha256, &der)?;
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The camera's error for a refused certificate: which check failed and what to set.
fn refusal_text(
    errors: gio::TlsCertificateFlags,
    sha256: Option<&[u8; 32]>,
    pinned: bool,
    has_ca: bool,
) -> String {
    let print = sha256.map_or_else(|| "unknown".to_owned(), format_fingerprint);
    if pinned {
        return format!(
            "the camera's TLS certificate is not the one tls_fingerprint pins: it is {print} \
             (the camera's certificate changed, or something is in between)"
        );
    }
    let what = problems(errors, has_ca);
    format!(
        "the camera's TLS certificate is {}: set tls_ca_file to its CA, or pin it: \
         tls_fingerprint = \"{print}\"",
        what.join(", ")
    )
}

/// What GLib's check found wrong with a certificate, in words.
pub(crate) fn problems(errors: gio::TlsCertificateFlags, has_ca: bool) -> Vec<&'static str> {
    let mut what = Vec::new();
    if errors.contains(gio::TlsCertificateFlags::UNKNOWN_CA) {
        what.push(if has_ca {
            "signed by neither tls_ca_file nor a system CA"
        } else {
            "signed by no CA this machine trusts"
        });
    }
    if errors.contains(gio::TlsCertificateFlags::BAD_IDENTITY) {
        what.push("made out for another name than the url's host");
    }
    if errors
        .intersects(gio::TlsCertificateFlags::EXPIRED | gio::TlsCertificateFlags::NOT_ACTIVATED)
    {
        what.push("outside its validity dates (check the camera's clock)");
    }
    if errors.intersects(gio::TlsCertificateFlags::REVOKED | gio::TlsCertificateFlags::INSECURE) {
        what.push("revoked or of an insecure algorithm");
    }
    if what.is_empty() {
        what.push("not valid");
    }
    what
}

/// How long connecting to the camera, and then its answer, may each take: the camera's thread
/// waits meanwhile, well inside any `hang_timeout_s`.
const ASK_TIMEOUT: Duration = Duration::from_secs(2);

/// Over rtsp:// with a password: asks the camera (one DESCRIBE, no credentials) which schemes
/// it offers, and refuses a camera that offers only Basic unless `allow_basic_auth`.
pub fn refuse_cleartext_basic(url: &str, has_password: bool, allow_basic_auth: bool) -> Result<()> {
    if is_tls(url) || !has_password || allow_basic_auth {
        return Ok(());
    }
    let Some(offered) = offered_schemes(url)? else {
        return Ok(()); // no authentication asked at DESCRIBE: rtspsrc sends no password
    };
    if offered.iter().any(|s| s.eq_ignore_ascii_case("digest")) {
        return Ok(());
    }
    Err(Error::new(
        Kind::Pipeline,
        format!(
            "the camera offers only {} authentication, which would send the password readable \
             on the network: enable Digest on the camera, use rtsps://, or set allow_basic_auth = \
             true for this camera",
            if offered.is_empty() {
                "unknown".to_owned()
            } else {
                offered.join(", ")
            }
        ),
    ))
}

/// The authentication schemes of the camera's 401 to an unauthenticated DESCRIBE; `None` if
/// it did not answer 401.
fn offered_schemes(url: &str) -> Result<Option<Vec<String>>> {
    let address = host_port(url)
        .ok_or_else(|| Error::new(Kind::Config, format!("{url}: no host to connect to")))?;
    let unreachable = |e: std::io::Error| {
        Error::new(
            Kind::Pipeline,
            format!(
                "nothing answers at the camera's address and port ({e}): check the url, the \
                 camera's power and the network"
            ),
        )
    };
    let socket = address
        .to_socket_addrs()
        .map_err(|_| {
            Error::new(
                Kind::Pipeline,
                "the camera's host name does not resolve: check the url, or use its IP address",
            )
        })?
        .next()
        .ok_or_else(|| Error::new(Kind::Pipeline, "the camera's host name has no address"))?;
    let mut stream = TcpStream::connect_timeout(&socket, ASK_TIMEOUT).map_err(unreachable)?;
    stream
        .set_read_timeout(Some(ASK_TIMEOUT))
        .map_err(unreachable)?;
    stream
        .set_write_timeout(Some(ASK_TIMEOUT))
        .map_err(unreachable)?;
    let request = format!(
        "DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\nUser-Agent: camd\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(unreachable)?;
    let head = read_head(&mut stream).map_err(unreachable)?;
    Ok(schemes_of_401(&head))
}

/// The response's status line and headers (up to the blank line, at most 16 KiB).
fn read_head(stream: &mut impl Read) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 << 10 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// For a 401 response head, the scheme of each `WWW-Authenticate` header.
fn schemes_of_401(head: &str) -> Option<Vec<String>> {
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?;
    if status != "401" {
        return None;
    }
    Some(
        lines
            .filter_map(|line| line.split_once(':'))
            .filter(|(name, _)| name.trim().eq_ignore_ascii_case("www-authenticate"))
            .filter_map(|(_, value)| value.split_whitespace().next().map(str::to_owned))
            .collect(),
    )
}

/// `host:port` of an rtsp:// URL without credentials (port 554 by default).
fn host_port(url: &str) -> Option<String> {
    let rest = url.strip_prefix("rtsp://")?;
    let authority = rest.split('/').next()?;
    if authority.is_empty() {
        return None;
    }
    let has_port = match authority.rfind(']') {
        Some(end) => authority[end..].contains(':'),
        None => authority.contains(':'),
    };
    Some(if has_port {
        authority.to_owned()
    } else {
        format!("{authority}:554")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtsps_auto_is_tcp() {
        assert_eq!(protocols("rtsps://h/s", Transport::Auto), "tcp");
        assert_eq!(protocols("rtsp://h/s", Transport::Auto), "udp+tcp");
        assert_eq!(protocols("rtsps://h/s", Transport::Udp), "udp");
    }

    #[test]
    fn host_and_port() {
        assert_eq!(host_port("rtsp://cam/s").as_deref(), Some("cam:554"));
        assert_eq!(host_port("rtsp://cam:8554/s").as_deref(), Some("cam:8554"));
        assert_eq!(host_port("rtsp://[::1]/s").as_deref(), Some("[::1]:554"));
        assert_eq!(host_port("rtsp://[::1]:9/s").as_deref(), Some("[::1]:9"));
        assert_eq!(host_port("rtsps://cam/s"), None);
    }

    #[test]
    fn the_schemes_of_a_401() {
        let basic =
            "RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Basic realm=\"x\"\r\n\r\n";
        assert_eq!(schemes_of_401(basic), Some(vec!["Basic".to_owned()]));
        let both = "RTSP/1.0 401 Unauthorized\r\nwww-authenticate: Digest realm=\"x\", nonce=\"n\"\r\nWWW-Authenticate: Basic realm=\"x\"\r\n\r\n";
        assert_eq!(
            schemes_of_401(both),
            Some(vec!["Digest".to_owned(), "Basic".to_owned()])
        );
        assert_eq!(schemes_of_401("RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n"), None);
    }

    #[test]
    fn refusals_say_which_check_failed_and_what_to_set() {
        let pin = [0xAB; 32];
        let said = refusal_text(
            gio::TlsCertificateFlags::UNKNOWN_CA,
            Some(&pin),
            false,
            false,
        );
        assert!(
            said.contains("signed by no CA this machine trusts"),
            "{said}"
        );
        assert!(said.contains("tls_fingerprint = \"sha256:AB:AB:"), "{said}");
        let said = refusal_text(
            gio::TlsCertificateFlags::UNKNOWN_CA,
            Some(&pin),
            true,
            false,
        );
        assert!(
            said.contains("not the one tls_fingerprint pins: it is sha256:AB:AB"),
            "{said}"
        );
        let said = refusal_text(
            gio::TlsCertificateFlags::UNKNOWN_CA | gio::TlsCertificateFlags::BAD_IDENTITY,
            None,
            false,
            true,
        );
        assert!(
            said.contains(
                "signed by neither tls_ca_file nor a system CA, made out for another name"
            ),
            "{said}"
        );
    }
}
