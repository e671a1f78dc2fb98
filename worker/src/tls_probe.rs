//! `camd probe rtsps://HOST[:PORT]`: the certificate an rtsps:// camera presents, as camd
//! checks it, so an operator can pin it (`tls_fingerprint`) or see why it is refused. One TLS
//! handshake over TCP, no RTSP request and no credentials: a URL's user and password, if given,
//! are never sent. The fingerprint is the SHA-256 of the certificate's DER bytes, in the form
//! the config takes.

use camd::camera_config::format_fingerprint;
use camd::error::{Error, Kind, Result};
use camd::source::Source;
use gio::prelude::*;
use gstreamer::glib;
use std::sync::{Arc, Mutex};

/// What the camera's certificate is, and whether this machine's CAs trust it for the host.
pub struct Presented {
    pub fingerprint: [u8; 32],
    /// `None`: trusted by the system's CAs; else why not.
    pub refused: Option<gio::TlsCertificateFlags>,
}

/// The host and port of `rtsps://HOST[:PORT][/...]`. A URL with a user or a password is
/// refused without being shown: the probe sends neither, and on a command line a password is
/// readable by every user of the machine (`ps`).
pub fn camera_address(url: &str) -> Result<(String, u16)> {
    let source = Source::parse(url)
        .ok()
        .filter(Source::is_tls)
        .ok_or_else(|| Error::new(Kind::Usage, "probe: give an rtsps://HOST[:PORT] URL"))?;
    if let Source::Rtsp { user: Some(_), .. } = &source {
        return Err(Error::new(
            Kind::Usage,
            "probe: leave the user name and password out of the URL (rtsps://HOST:PORT): the \
             probe sends neither, and a password on a command line is readable by every user \
             of the machine",
        ));
    }
    source
        .host_port()
        .ok_or_else(|| Error::new(Kind::Usage, format!("probe: {url}: no host and port")))
}

/// Connects to the camera and reads its certificate.
pub fn presented(url: &str) -> Result<Presented> {
    let (host, port) = camera_address(url)?;
    let failed = |what: &str, e: glib::Error| {
        Error::new(
            Kind::Io,
            format!("probe: {host}:{port}: {what}: {}", e.message()),
        )
    };
    let client = gio::SocketClient::new();
    client.set_timeout(5);
    let address = gio::NetworkAddress::new(&host, port);
    let connection = SocketClientExt::connect(&client, &address, gio::Cancellable::NONE)
        .map_err(|e| failed("cannot connect", e))?;
    let tls = gio::TlsClientConnection::new(&connection, Some(&address))
        .map_err(|e| failed("cannot start TLS", e))?;
    // The certificate and why it failed GLib's check, if it did; accepted either way, as
    // nothing is sent over this connection.
    let refused: Arc<Mutex<Option<gio::TlsCertificateFlags>>> = Arc::default();
    let noted = refused.clone();
    tls.connect_accept_certificate(move |_, _, errors| {
        if let Ok(mut slot) = noted.lock() {
            *slot = Some(errors);
        }
        true
    });
    tls.handshake(gio::Cancellable::NONE)
        .map_err(|e| failed("TLS handshake", e))?;
    let certificate = tls
        .peer_certificate()
        .ok_or_else(|| Error::new(Kind::Io, format!("probe: {host}:{port}: no certificate")))?;
    let fingerprint = crate::capture::rtsp_security::sha256_of(&certificate).ok_or_else(|| {
        Error::new(
            Kind::Io,
            format!("probe: {host}:{port}: unreadable certificate"),
        )
    })?;
    let _ = tls.close(gio::Cancellable::NONE);
    let refused = *refused
        .lock()
        .map_err(|_| Error::new(Kind::Io, "probe: lock poisoned"))?;
    Ok(Presented {
        fingerprint,
        refused,
    })
}

/// The report for one camera.
pub fn report(url: &str, presented: &Presented) -> String {
    let print = format_fingerprint(&presented.fingerprint);
    let trust = match presented.refused {
        None => "trusted by this machine's CAs".to_owned(),
        Some(errors) => format!(
            "not trusted here: {}",
            crate::capture::rtsp_security::problems(errors).join(", ")
        ),
    };
    format!("{url}: certificate {print}\n  {trust}\n  to pin it: tls_fingerprint = \"{print}\"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_rtsps_url_without_credentials() {
        assert_eq!(
            camera_address("rtsps://cam:322/s").unwrap(),
            ("cam".into(), 322)
        );
        assert_eq!(
            camera_address("rtsps://[::1]").unwrap(),
            ("::1".into(), 554)
        );
        for bad in ["rtsp://cam/s", "rtsps:///s", "/dev/video0"] {
            assert!(camera_address(bad).is_err(), "{bad}");
        }
        let said = camera_address("rtsps://admin:hunter2@cam/s")
            .unwrap_err()
            .to_string();
        assert!(
            said.contains("leave the user name and password out") && !said.contains("hunter2"),
            "{said}"
        );
    }
}
