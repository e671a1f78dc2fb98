//! `camd probe rtsps://HOST[:PORT]`: the certificate an rtsps:// camera presents, as camd
//! checks it, so an operator can pin it (`tls_fingerprint`) or see why it is refused. One TLS
//! handshake over TCP, no RTSP request and no credentials: a URL's user and password, if given,
//! are never sent. The fingerprint is the SHA-256 of the certificate's DER bytes, in the form
//! the config takes.

use camd::camera_config::format_fingerprint;
use camd::error::{Error, Kind, Result};
use gio::prelude::*;
use gstreamer::glib;
use std::sync::{Arc, Mutex};

/// What the camera's certificate is, and whether this machine's CAs trust it for the host.
pub struct Presented {
    pub fingerprint: [u8; 32],
    /// `None`: trusted by the system's CAs; else why not.
    pub refused: Option<gio::TlsCertificateFlags>,
}

/// `host:port` of an rtsps:// URL, without credentials or path (port 554 by default, as
/// rtspsrc's).
pub fn host_port(url: &str) -> Option<(String, u16)> {
    let rest = url.strip_prefix("rtsps://")?;
    let authority = rest.split('/').next()?;
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') && !p.contains(']') => (h, p.parse().ok()?),
        _ => (authority, 554),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| (host.to_owned(), port))
}

/// Connects to the camera and reads its certificate.
pub fn presented(url: &str) -> Result<Presented> {
    let (host, port) = host_port(url).ok_or_else(|| {
        Error::new(
            Kind::Usage,
            format!("probe: {url:?} is not rtsps://HOST[:PORT]"),
        )
    })?;
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
            crate::capture::rtsp_security::problems(errors, false).join(", ")
        ),
    };
    format!("{url}: certificate {print}\n  {trust}\n  to pin it: tls_fingerprint = \"{print}\"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtsps_hosts_and_ports() {
        assert_eq!(host_port("rtsps://cam/s"), Some(("cam".into(), 554)));
        assert_eq!(
            host_port("rtsps://u:p@cam:322/s"),
            Some(("cam".into(), 322))
        );
        assert_eq!(host_port("rtsps://[::1]:8322"), Some(("::1".into(), 8322)));
        assert_eq!(host_port("rtsps://[::1]"), Some(("::1".into(), 554)));
        assert_eq!(host_port("rtsp://cam/s"), None);
        assert_eq!(host_port("rtsps:///s"), None);
    }
}
