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
//!   signal), so before a connection camd asks the camera itself, without credentials, what
//!   it offers ([`refuse_cleartext_basic`]): one DESCRIBE, a few ms; a camera that offered
//!   Digest (or asked for nothing) is not asked again for an hour. A camera that offers only
//!   Basic is refused unless the camera's config says `allow_basic_auth = true`. (A machine in
//!   the middle could answer camd's question with Digest and rtspsrc's with Basic: against that,
//!   rtsps.)

use super::error_text::{self, UNREACHABLE};
use super::pipeline::FrameTarget;
use camd::camera_config::{format_fingerprint, CameraConfig, Transport};
use camd::error::{Error, Kind, Result};
use camd::source::Source;
use gio::prelude::*;
use gstreamer as gst;
use gstreamer::glib;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// rtspsrc's `protocols` for the camera: over rtsps, `auto` is TCP (the video inside TLS).
pub fn protocols(source: &Source, transport: Transport) -> &'static str {
    match transport {
        Transport::Auto if source.is_tls() => "tcp",
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
    target: &Arc<FrameTarget>,
) -> Result<()> {
    let Source::Rtsp { url, .. } = &camera.source else {
        return Ok(());
    };
    if !camera.source.is_tls() {
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
    let (pin, name) = (tls.fingerprint, camera.name.clone());
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
            let why = refusal_text(errors, sha256.as_ref(), pin.is_some());
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
    let mut checksum = glib::Checksum::new(glib::ChecksumType::Sha256)?;
    checksum.update(&der);
    checksum.digest().try_into().ok()
}

/// The camera's error for a refused certificate: which check failed and what to set.
fn refusal_text(
    errors: gio::TlsCertificateFlags,
    sha256: Option<&[u8; 32]>,
    pinned: bool,
) -> String {
    // The fingerprint first: `last_error` holds 255 bytes and is cut at the end.
    let print = sha256.map_or_else(|| "unknown".to_owned(), format_fingerprint);
    if pinned {
        return format!(
            "the camera's certificate {print} is not the one tls_fingerprint pins (the camera's \
             certificate changed, or something is in between)"
        );
    }
    format!(
        "the camera's certificate {print} is {}: set tls_ca_file or tls_fingerprint",
        problems(errors).join(", ")
    )
}

/// What GLib's check found wrong with a certificate, in words.
pub(crate) fn problems(errors: gio::TlsCertificateFlags) -> Vec<&'static str> {
    let mut what = Vec::new();
    if errors.contains(gio::TlsCertificateFlags::UNKNOWN_CA) {
        what.push("from an unknown CA");
    }
    if errors.contains(gio::TlsCertificateFlags::BAD_IDENTITY) {
        what.push("for another host name");
    }
    if errors
        .intersects(gio::TlsCertificateFlags::EXPIRED | gio::TlsCertificateFlags::NOT_ACTIVATED)
    {
        what.push("expired or not yet valid");
    }
    if errors.intersects(gio::TlsCertificateFlags::REVOKED | gio::TlsCertificateFlags::INSECURE) {
        what.push("revoked or insecure");
    }
    if what.is_empty() {
        what.push("not valid");
    }
    what
}

/// How long asking the camera may take in all (name lookup, connect, answer): the camera's
/// thread writes no heartbeat meanwhile, and the smallest `hang_timeout_s` is 2 s.
const ASK_BUDGET: Duration = Duration::from_millis(1500);

/// Over rtsp:// with a password: asks the camera (one DESCRIBE, no credentials) which schemes
/// it offers, and refuses a camera that offers only Basic unless `allow_basic_auth`.
pub fn refuse_cleartext_basic(source: &Source, allow_basic_auth: bool) -> Result<()> {
    let Source::Rtsp {
        url,
        password: Some(_),
        ..
    } = source
    else {
        return Ok(());
    };
    if source.is_tls() || allow_basic_auth {
        return Ok(());
    }
    let refuse = |what: String| {
        Err(Error::new(
            Kind::Pipeline,
            format!(
                "{what}, which would send the password readable on the network: enable Digest on \
                 the camera, use rtsps://, or set allow_basic_auth = true for this camera"
            ),
        ))
    };
    if recently_cleared(url) {
        return Ok(());
    }
    let answer = ask(source, url)?;
    if answer.sends_no_cleartext() {
        clear(url);
        return Ok(());
    }
    match answer {
        Answer::NoAuthentication => Ok(()),
        Answer::Redirect => refuse(
            "the camera redirects camd's first request elsewhere, where rtspsrc could be asked \
             for Basic authentication"
                .into(),
        ),
        Answer::Challenges(schemes) => refuse(format!(
            "the camera offers only {} authentication",
            if schemes.is_empty() {
                "unnamed".to_owned()
            } else {
                schemes.join(", ")
            }
        )),
    }
}

/// How long a camera that offered Digest (or asked for nothing) is not asked again. Each
/// question costs the camera a connection, and a DESCRIBE that needs no authentication makes a
/// server prepare its stream: gst-rtsp-server answered the reconnect right after it with 503
/// (tests/demo.rs, a camera with a password on a server without authentication).
const CLEARED_FOR: Duration = Duration::from_secs(3600);

/// Cameras (by url) that recently offered Digest or asked for nothing, and when.
static CLEARED: Mutex<Vec<(String, Instant)>> = Mutex::new(Vec::new());

fn recently_cleared(url: &str) -> bool {
    CLEARED.lock().is_ok_and(|cleared| {
        cleared
            .iter()
            .any(|(u, at)| u == url && at.elapsed() < CLEARED_FOR)
    })
}

fn clear(url: &str) {
    if let Ok(mut cleared) = CLEARED.lock() {
        cleared.retain(|(u, at)| u != url && at.elapsed() < CLEARED_FOR);
        cleared.push((url.to_owned(), Instant::now()));
    }
}

/// What the camera answered to an unauthenticated DESCRIBE.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// 2xx, or an error rtspsrc will meet and report itself (404, ...): no password asked here.
    NoAuthentication,
    /// 3xx.
    Redirect,
    /// 401: the schemes of its challenges.
    Challenges(Vec<String>),
}

impl Answer {
    /// True when rtspsrc will not send the password in the clear: nothing asked, or Digest
    /// offered (rtspsrc picks Digest over Basic).
    fn sends_no_cleartext(&self) -> bool {
        match self {
            Answer::NoAuthentication => true,
            Answer::Redirect => false,
            Answer::Challenges(schemes) => schemes.iter().any(|s| s.eq_ignore_ascii_case("digest")),
        }
    }
}

/// One unauthenticated DESCRIBE to the camera, within `ASK_BUDGET`.
fn ask(source: &Source, url: &str) -> Result<Answer> {
    let deadline = Instant::now() + ASK_BUDGET;
    let (host, port) = source.host_port().ok_or_else(|| {
        Error::new(
            Kind::Config,
            format!("{url}: no host and port to connect to"),
        )
    })?;
    let addresses = resolve(host, port, deadline)?;
    let mut last = None;
    for address in addresses {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&address, left) {
            Ok(stream) => return exchange(stream, url, deadline),
            Err(e) => last = Some(e),
        }
    }
    Err(Error::new(
        Kind::Pipeline,
        match last {
            Some(e) => format!("{UNREACHABLE} ({e})"),
            None => UNREACHABLE.to_owned(),
        },
    ))
}

/// The camera's addresses, looked up on a thread of its own so that a slow resolver cannot hold
/// the camera's thread past `deadline`.
fn resolve(host: String, port: u16, deadline: Instant) -> Result<Vec<SocketAddr>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("camd-resolve".into())
        .spawn(move || {
            let _ = tx.send(
                (host.as_str(), port)
                    .to_socket_addrs()
                    .map(Iterator::collect),
            );
        })
        .map_err(|e| Error::new(Kind::Pipeline, format!("cannot look up the camera: {e}")))?;
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(Ok(addresses)) => Ok(addresses),
        Ok(Err(_)) => Err(Error::new(Kind::Pipeline, error_text::UNRESOLVED)),
        Err(_) => Err(Error::new(
            Kind::Pipeline,
            "the camera's host name did not resolve in time: check the DNS, or use its IP address",
        )),
    }
}

/// Sends the DESCRIBE and reads the answer's head before `deadline`.
fn exchange(mut stream: TcpStream, url: &str, deadline: Instant) -> Result<Answer> {
    let silent = |e: std::io::Error| {
        Error::new(
            Kind::Pipeline,
            format!(
                "the camera accepted the connection and did not answer an RTSP request in time \
                 ({e}): is it an RTSP server, and is the port right?"
            ),
        )
    };
    stream.set_write_timeout(Some(ASK_BUDGET)).map_err(silent)?;
    let request = format!(
        "DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\nUser-Agent: camd\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(silent)?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !ends_head(&head) && head.len() < 16 << 10 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(silent(std::io::ErrorKind::TimedOut.into()));
        }
        stream.set_read_timeout(Some(left)).map_err(silent)?;
        let n = stream.read(&mut buf).map_err(silent)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(answer_of(&String::from_utf8_lossy(&head)))
}

/// True once `head` holds a blank line (CRLF or, from sloppy servers, LF only).
fn ends_head(head: &[u8]) -> bool {
    head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n")
}

/// What a response head means for the password.
fn answer_of(head: &str) -> Answer {
    let mut lines = head.lines().map(|l| l.trim_end_matches('\r'));
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .unwrap_or(0);
    match status {
        401 => Answer::Challenges(
            lines
                .take_while(|l| !l.is_empty())
                .filter_map(|line| line.split_once(':'))
                .filter(|(name, _)| name.trim().eq_ignore_ascii_case("www-authenticate"))
                .flat_map(|(_, value)| schemes_of(value))
                .collect(),
        ),
        300..=399 => Answer::Redirect,
        _ => Answer::NoAuthentication,
    }
}

/// The schemes of one `WWW-Authenticate` value, which may hold several challenges (RFC 7235):
/// each comma-separated part that starts with a token not followed by `=` starts a challenge.
fn schemes_of(value: &str) -> Vec<String> {
    value
        .split(',')
        .filter_map(|part| {
            let word = part.split_whitespace().next()?;
            (!word.contains('=')).then(|| word.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtsps_auto_is_tcp() {
        let source = |url: &str| Source::parse(url).unwrap();
        assert_eq!(protocols(&source("rtsps://h/s"), Transport::Auto), "tcp");
        assert_eq!(protocols(&source("rtsp://h/s"), Transport::Auto), "udp+tcp");
        assert_eq!(protocols(&source("rtsps://h/s"), Transport::Udp), "udp");
    }

    #[test]
    fn what_an_answer_means_for_the_password() {
        let challenges = |v: &[&str]| Answer::Challenges(v.iter().map(|s| s.to_string()).collect());
        let basic =
            "RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Basic realm=\"x\"\r\n\r\n";
        assert_eq!(answer_of(basic), challenges(&["Basic"]));
        let two_headers = "RTSP/1.0 401 Unauthorized\r\nwww-authenticate: Digest realm=\"x\", nonce=\"n\"\r\nWWW-Authenticate: Basic realm=\"x\"\r\n\r\n";
        assert_eq!(answer_of(two_headers), challenges(&["Digest", "Basic"]));
        let one_header = "RTSP/1.0 401 Unauthorized\nWWW-Authenticate: Basic realm=\"a\", Digest realm=\"a\", nonce=\"n\"\n\n";
        assert_eq!(answer_of(one_header), challenges(&["Basic", "Digest"]));
        assert_eq!(
            answer_of("RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n"),
            Answer::NoAuthentication
        );
        assert_eq!(
            answer_of("RTSP/1.0 404 Not Found\r\n\r\n"),
            Answer::NoAuthentication
        );
        assert_eq!(
            answer_of("RTSP/1.0 302 Moved\r\nLocation: rtsp://b/\r\n\r\n"),
            Answer::Redirect
        );
        assert!(ends_head(b"RTSP/1.0 200 OK\n\n") && !ends_head(b"RTSP/1.0 200 OK\r\n"));
    }

    #[test]
    fn a_silent_camera_costs_its_thread_at_most_the_budget() {
        // Accepts and never answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let source = Source::parse(&format!("rtsp://u:p@127.0.0.1:{port}/s")).unwrap();
        let start = Instant::now();
        let said = refuse_cleartext_basic(&source, false)
            .unwrap_err()
            .to_string();
        let took = start.elapsed();
        assert!(took < ASK_BUDGET + Duration::from_millis(300), "{took:?}");
        assert!(
            said.contains("did not answer an RTSP request in time"),
            "{said}"
        );
        drop(listener);
        let said = refuse_cleartext_basic(&source, false)
            .unwrap_err()
            .to_string();
        assert!(said.contains(UNREACHABLE), "{said}");
        // No password, rtsps, or the opt-in: nothing is asked.
        let none = Source::parse(&format!("rtsp://u@127.0.0.1:{port}/s")).unwrap();
        assert!(refuse_cleartext_basic(&none, false).is_ok());
        assert!(refuse_cleartext_basic(&source, true).is_ok());
    }

    #[test]
    fn refusals_say_which_check_failed_and_what_to_set() {
        let pin = [0xAB; 32];
        let print = format_fingerprint(&pin);
        let said = refusal_text(gio::TlsCertificateFlags::UNKNOWN_CA, Some(&pin), false);
        assert_eq!(
            said,
            format!("the camera's certificate {print} is from an unknown CA: set tls_ca_file or tls_fingerprint")
        );
        let said = refusal_text(gio::TlsCertificateFlags::UNKNOWN_CA, Some(&pin), true);
        assert!(
            said.contains(&format!("{print} is not the one tls_fingerprint pins")),
            "{said}"
        );
        let two = gio::TlsCertificateFlags::UNKNOWN_CA | gio::TlsCertificateFlags::BAD_IDENTITY;
        assert!(refusal_text(two, None, false)
            .contains("unknown is from an unknown CA, for another host name"));
        // A self-signed camera reached by its IP, with its clock wrong, fits last_error whole;
        // with every problem at once, the cut keeps the fingerprint.
        let usual = two | gio::TlsCertificateFlags::EXPIRED;
        let said = refusal_text(usual, Some(&pin), false);
        assert!(
            said.len() <= error_text::MAX_LEN,
            "{} bytes: {said}",
            said.len()
        );
        assert_eq!(error_text::fit(&said), said);
        let all = refusal_text(gio::TlsCertificateFlags::all(), Some(&pin), false);
        assert!(error_text::fit(&all).contains(&print), "{all}");
    }
}
