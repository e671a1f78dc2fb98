//! Where a camera's frames come from, parsed from the configured string, with credentials kept
//! out of everything that is displayed: `display()` shows `user:***@`.
//!
//! Forms: `rtsp://[user[:password]@]host[:port]/path` and `rtsps://...`; a V4L2 device path
//! (`/dev/video0`) or index (`0`, as in the Python design's `camera_list`); `file:///path` (played
//! in a loop); `test:PATTERN` (a videotestsrc pattern such as `test:smpte`, for demos and tests).

use crate::error::{Error, Kind, Result};
use std::fmt;
use std::path::PathBuf;

#[derive(Clone, PartialEq, Eq)]
pub enum Source {
    Rtsp {
        url: String,
        user: Option<String>,
        password: Option<String>,
    },
    V4l2 {
        device: PathBuf,
    },
    File {
        path: PathBuf,
    },
    TestPattern {
        pattern: String,
    },
}

impl Source {
    /// Parses a configured source; the error says what is wrong with it (credentials removed).
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if let Some(rest) = text
            .strip_prefix("rtsp://")
            .or_else(|| text.strip_prefix("rtsps://"))
        {
            let scheme = &text[..text.len() - rest.len()];
            let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
            let (userinfo, host) = match authority.rsplit_once('@') {
                Some((u, h)) => (Some(u), h),
                None => (None, authority),
            };
            if host.is_empty() {
                return Err(Error::new(Kind::Config, format!("{scheme}... has no host")));
            }

            let (user, password) = match userinfo {
                Some(u) => match u.split_once(':') {
                    Some((user, pass)) => (Some(percent_decode(user)), Some(percent_decode(pass))),
                    None => (Some(percent_decode(u)), None),
                },
                None => (None, None),
            };
            let source = Self::Rtsp {
                url: format!("{scheme}{host}/{path}"),
                user,
                password,
            };
            // A port that is not a number: `user:pa/ss@host`, where a '/' in the password ends
            // the authority early and the password would be shown as the host. Refused without
            // quoting the url (it may hold the password).
            if source.host_port().is_none() {
                return Err(Error::new(
                    Kind::Config,
                    format!(
                        "{scheme}... has a port that is not a number: a password holding '/' \
                         must write it %2F (or stay in password_file)"
                    ),
                ));
            }
            return Ok(source);
        }
        if let Some(path) = text.strip_prefix("file://") {
            return Ok(Self::File {
                path: PathBuf::from(path),
            });
        }
        if let Some(pattern) = text.strip_prefix("test:") {
            return test_pattern(pattern).map(|nick| Self::TestPattern {
                pattern: nick.to_owned(),
            });
        }
        if text.starts_with("/dev/") {
            return Ok(Self::V4l2 {
                device: PathBuf::from(text),
            });
        }
        if let Ok(index) = text.parse::<u32>() {
            return Ok(Self::V4l2 {
                device: PathBuf::from(format!("/dev/video{index}")),
            });
        }
        let scheme = text.split("://").next().filter(|_| text.contains("://"));
        Err(Error::new(Kind::Config, match scheme {
            Some(s) => format!("unsupported scheme {s:?} (use rtsp://, rtsps://, file://, test:, /dev/videoN or an index)"),
            None => "not a source (use rtsp://, rtsps://, file://, test:, /dev/videoN or an index)".into(),
        }))
    }

    /// True for an rtsps:// camera.
    pub fn is_tls(&self) -> bool {
        matches!(self, Self::Rtsp { url, .. } if url.starts_with("rtsps://"))
    }

    /// An RTSP camera's host (without brackets) and port: the url's, else 554, rtspsrc's
    /// default for rtsp:// and rtsps:// alike. `None` for other sources.
    pub fn host_port(&self) -> Option<(String, u16)> {
        let Self::Rtsp { url, .. } = self else {
            return None;
        };
        let authority = url.split_once("://")?.1.split('/').next()?;
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6.split_once(']')?;
                (host, after.strip_prefix(':'))
            }
            None => match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            },
        };
        let port = match port {
            Some(p) => p.parse().ok()?,
            None => 554,
        };
        (!host.is_empty()).then(|| (host.to_owned(), port))
    }

    /// The source as it may be shown: in logs, status and process titles.
    pub fn display(&self) -> String {
        match self {
            Self::Rtsp {
                url,
                user,
                password,
            } => match user {
                Some(user) => {
                    let (scheme, rest) = url.split_once("://").unwrap_or(("rtsp", url));
                    let secret = if password.is_some() { ":***" } else { "" };
                    format!("{scheme}://{user}{secret}@{rest}")
                }
                None => url.clone(),
            },
            Self::V4l2 { device } => device.display().to_string(),
            Self::File { path } => format!("file://{}", path.display()),
            Self::TestPattern { pattern } => format!("test:{pattern}"),
        }
    }

    /// The source as configured, password included: only for handing a camera to its worker
    /// over a private pipe. `Source::parse` of the result gives this source back.
    pub fn url_with_secret(&self) -> String {
        match self {
            Self::Rtsp {
                url,
                user: Some(user),
                password,
            } => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("rtsp", url));
                let secret = password
                    .as_deref()
                    .map(|p| format!(":{}", percent_encode(p)))
                    .unwrap_or_default();
                format!("{scheme}://{}{secret}@{rest}", percent_encode(user))
            }
            Self::V4l2 { device } => device.display().to_string(),
            other => other.display(),
        }
    }

    /// Removes the password (if any) from text that may quote it (an error message).
    pub fn redact(&self, text: &str) -> String {
        match self {
            Self::Rtsp {
                password: Some(p), ..
            } if !p.is_empty() => text
                .replace(p.as_str(), "***")
                // As the url camd hands GStreamer's parser writes it, and lower-case escapes.
                .replace(&percent_encode(p), "***")
                .replace(&percent_encode(p).to_ascii_lowercase(), "***"),
            _ => text.to_owned(),
        }
    }
}

/// The nicks of `videotestsrc`'s `pattern` enum (GStreamer 1.22), in the enum's order: value N
/// is `TEST_PATTERNS[N]`. camd links no GStreamer, so the list is written out here, once;
/// camd-worker's test `test_patterns` holds it against the real element, so it cannot drift.
pub const TEST_PATTERNS: &[&str] = &[
    "smpte",
    "snow",
    "black",
    "white",
    "red",
    "green",
    "blue",
    "checkers-1",
    "checkers-2",
    "checkers-4",
    "checkers-8",
    "circular",
    "blink",
    "smpte75",
    "zone-plate",
    "gamut",
    "chroma-zone-plate",
    "solid-color",
    "ball",
    "smpte100",
    "bar",
    "pinwheel",
    "spokes",
    "gradient",
    "colors",
    "smpte-rp-219",
];

/// The pattern of `test:PATTERN`: a nick of `TEST_PATTERNS`, or its number in decimal (`18`, as
/// `gst-launch-1.0 videotestsrc pattern=18` takes it), which becomes the nick, so the worker is
/// handed a pattern checked here; empty is `smpte`, videotestsrc's default.
fn test_pattern(text: &str) -> Result<&'static str> {
    if text.is_empty() {
        return Ok(TEST_PATTERNS[0]);
    }
    if let Some(nick) = TEST_PATTERNS.iter().find(|nick| **nick == text) {
        return Ok(nick);
    }
    // Digits only and no leading zero: GStreamer reads `017` as octal and `0x11` as hex, which
    // no one means in a camera url.
    let decimal =
        text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0'));
    if let Some(nick) = decimal
        .then(|| text.parse::<usize>().ok())
        .flatten()
        .and_then(|n| TEST_PATTERNS.get(n))
    {
        return Ok(nick);
    }
    Err(Error::new(
        Kind::Config,
        format!(
            "unknown test pattern {text:?} (videotestsrc has {}, or their numbers 0-{})",
            TEST_PATTERNS.join(", "),
            TEST_PATTERNS.len() - 1
        ),
    ))
}

/// Never prints a password, even with {:?}.
impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Source({})", self.display())
    }
}

/// Everything but unreserved characters (RFC 3986) as %XX, so `:` `@` `/` in a user name or a
/// password survive `parse`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtsp_hosts_and_ports() {
        let hp = |url: &str| Source::parse(url).unwrap().host_port();
        assert_eq!(hp("rtsp://cam/s"), Some(("cam".into(), 554)));
        assert_eq!(hp("rtsps://u:p@cam:322/s"), Some(("cam".into(), 322)));
        assert_eq!(hp("rtsp://[::1]:8554/s"), Some(("::1".into(), 8554)));
        assert_eq!(hp("rtsps://[fe80::1]"), Some(("fe80::1".into(), 554)));
        assert!(Source::parse("rtsp://cam:notaport/s").is_err());
        assert_eq!(hp("test:ball"), None);
        assert!(Source::parse("rtsps://cam/s").unwrap().is_tls());
        assert!(!Source::parse("rtsp://cam/s").unwrap().is_tls());
    }

    #[test]
    fn rtsp_credentials_are_split_out_and_never_displayed() {
        let s = Source::parse("rtsp://admin:s3cr%40t@10.0.0.5:554/stream1").unwrap();
        match &s {
            Source::Rtsp {
                url,
                user,
                password,
            } => {
                assert_eq!(url, "rtsp://10.0.0.5:554/stream1");
                assert_eq!(user.as_deref(), Some("admin"));
                assert_eq!(password.as_deref(), Some("s3cr@t"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.display(), "rtsp://admin:***@10.0.0.5:554/stream1");
        assert!(!format!("{s:?}").contains("s3cr"));
        assert_eq!(s.redact("auth failed for s3cr@t"), "auth failed for ***");
        assert_eq!(
            s.redact("at rtsp://admin:s3cr%40t@x"),
            "at rtsp://admin:***@x"
        );
        let slash = Source::parse("rtsp://admin:p%2Fq@cam/s").unwrap();
        assert_eq!(slash.redact("p/q, p%2Fq or p%2fq"), "***, *** or ***");
        assert_eq!(
            s.url_with_secret(),
            "rtsp://admin:s3cr%40t@10.0.0.5:554/stream1"
        );
        let odd = Source::Rtsp {
            url: "rtsp://cam/x".into(),
            user: Some("a:b@c".into()),
            password: Some("p/%: @q".into()),
        };
        assert_eq!(Source::parse(&odd.url_with_secret()).unwrap(), odd);
    }

    #[test]
    fn a_password_with_a_bare_slash_is_refused_without_showing_it() {
        let error = Source::parse("rtsp://admin:pa/ss@cam/s")
            .unwrap_err()
            .to_string();
        assert!(error.contains("has a port that is not a number"), "{error}");
        assert!(
            !error.contains("pa/ss") && !error.contains("ss@"),
            "{error}"
        );
        // Percent-encoded, it is a password like any other.
        let s = Source::parse("rtsp://admin:pa%2Fss@cam/s").unwrap();
        assert!(matches!(&s, Source::Rtsp { password: Some(p), .. } if p == "pa/ss"));
        assert_eq!(s.display(), "rtsp://admin:***@cam/s");
        // An '@' in the path is the path's: cameras that take credentials there, a query.
        for url in [
            "rtsp://admin@cam/live@1",
            "rtsp://10.0.0.9:554/user=admin&password=p@ss&channel=1&stream=0.sdp",
            "rtsp://cam/stream?user=me@corp.example",
            "rtsp://[fe80::1]:8554/s@1",
        ] {
            assert!(Source::parse(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn other_kinds() {
        assert_eq!(
            Source::parse("0").unwrap(),
            Source::V4l2 {
                device: "/dev/video0".into()
            }
        );
        assert_eq!(
            Source::parse("/dev/video2").unwrap(),
            Source::V4l2 {
                device: "/dev/video2".into()
            }
        );
        assert_eq!(
            Source::parse("test:ball").unwrap(),
            Source::TestPattern {
                pattern: "ball".into()
            }
        );
        assert_eq!(
            Source::parse("test:").unwrap(),
            Source::TestPattern {
                pattern: "smpte".into()
            }
        );
        assert_eq!(
            Source::parse("file:///tmp/a.mp4").unwrap(),
            Source::File {
                path: "/tmp/a.mp4".into()
            }
        );
        assert!(Source::parse("http://x/y")
            .unwrap_err()
            .to_string()
            .contains("\"http\""));
        assert!(Source::parse("rtsp:///path")
            .unwrap_err()
            .to_string()
            .contains("no host"));
    }

    #[test]
    fn test_patterns_are_videotestsrc_nicks_or_their_numbers() {
        for (number, nick) in TEST_PATTERNS.iter().enumerate() {
            let want = Source::TestPattern {
                pattern: (*nick).to_owned(),
            };
            assert_eq!(Source::parse(&format!("test:{nick}")).unwrap(), want);
            assert_eq!(Source::parse(&format!("test:{number}")).unwrap(), want);
        }
        for bad in [
            "nosuchpattern",
            "Ball",
            " ball",
            "26",
            "018",
            "0x12",
            "-1",
            "+18",
            "SMPTE 100% color bars",
        ] {
            let message = Source::parse(&format!("test:{bad}"))
                .unwrap_err()
                .to_string();
            assert!(
                message.starts_with(&format!(
                    "unknown test pattern {bad:?} (videotestsrc has smpte, snow, "
                )) && message.ends_with(", smpte-rp-219, or their numbers 0-25)"),
                "{bad:?}: {message}"
            );
        }
    }
}
