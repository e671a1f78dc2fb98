//! One camera's settings, as the worker uses them (the TOML configuration maps onto this).

use crate::camera_state::RetryPolicy;
use crate::source::Source;
use camd_ring::{Codec, PixelLayout};
use std::path::PathBuf;

/// RTSP lower transport.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transport {
    /// UDP first, TCP if UDP fails (rtspsrc's default).
    #[default]
    Auto,
    Tcp,
    Udp,
}

impl Transport {
    /// Each value with its spelling in the config (`transport`).
    pub const CHOICES: &'static [(&'static str, Self)] =
        &[("auto", Self::Auto), ("tcp", Self::Tcp), ("udp", Self::Udp)];

    /// The config's spelling.
    pub fn name(self) -> &'static str {
        choice_name(Self::CHOICES, self)
    }
}

/// Which frames of an H.264/H.265 camera are decoded (`decode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Decode {
    /// Every frame.
    #[default]
    All,
    /// Keyframes only: every other frame (a buffer the parser flags `DELTA_UNIT`) is dropped
    /// before the decoder, for cameras sampled at a few frames per second. MJPEG and raw
    /// sources have only keyframes: there it changes nothing.
    Keyframes,
}

impl Decode {
    /// Each value with its spelling in the config (`decode`).
    pub const CHOICES: &'static [(&'static str, Self)] =
        &[("all", Self::All), ("keyframes", Self::Keyframes)];

    /// The config's spelling.
    pub fn name(self) -> &'static str {
        choice_name(Self::CHOICES, self)
    }
}

/// How a frame is brought to the configured `width` x `height` when its aspect ratio differs
/// (`resize`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Resize {
    /// Scaled to exactly the size, the picture distorted.
    #[default]
    Stretch,
    /// Scaled to fit inside the size, the aspect kept, black bars on two sides.
    Letterbox,
    /// Cut to the size's aspect ratio around the centre, then scaled: nothing distorted, the
    /// edges lost.
    Crop,
}

impl Resize {
    /// Each value with its spelling in the config (`resize`).
    pub const CHOICES: &'static [(&'static str, Self)] = &[
        ("stretch", Self::Stretch),
        ("letterbox", Self::Letterbox),
        ("crop", Self::Crop),
    ];

    /// The config's spelling.
    pub fn name(self) -> &'static str {
        choice_name(Self::CHOICES, self)
    }
}

/// The spelling of `value` in its `CHOICES` table (every value is in its table).
fn choice_name<T: Copy + PartialEq>(choices: &[(&'static str, T)], value: T) -> &'static str {
    choices
        .iter()
        .find(|(_, v)| *v == value)
        .map_or("?", |(name, _)| name)
}

#[derive(Clone, Debug, PartialEq)]
pub struct CameraConfig {
    /// Ring file name and display name.
    pub name: String,
    pub source: Source,
    /// Output size; `None` keeps the camera's (MJPEG then passes through untouched).
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// What the ring holds: JPEG (the default) or raw pixels (`format`: nv12, rgb, bgr), which
    /// need `width` and `height`.
    pub format: Codec,
    /// How the picture meets `width` x `height` when its aspect differs.
    pub resize: Resize,
    /// Frame-rate limit; `None` keeps the camera's rate.
    pub max_fps: Option<u32>,
    /// JPEG quality of re-encoded frames (1-100).
    pub jpeg_quality: u32,
    pub transport: Transport,
    /// rtspsrc jitter-buffer latency, ms.
    pub latency_ms: u32,
    /// Which frames are decoded: all, or keyframes only (H.264/H.265).
    pub decode: Decode,
    /// Element overrides (otherwise hardware first, see capture::elements).
    pub decoder: Option<String>,
    pub encoder: Option<String>,
    /// The scaler and colour converter of raw output (otherwise hardware first).
    pub converter: Option<String>,
    pub slot_count: u32,
    /// Largest JPEG a slot holds; `None`: sized for the output resolution. Raw frames are
    /// always their layout's size.
    pub slot_capacity: Option<u32>,
    pub retry: RetryPolicy,
    /// rtsps:// cameras: how the camera's certificate is checked.
    pub tls: TlsCheck,
    /// Over plain rtsp://, give the password to a camera that offers only Basic authentication
    /// (which sends it readable by anyone on the network). Off: such a camera is refused.
    pub allow_basic_auth: bool,
}

/// How an rtsps:// camera's certificate is checked. By default against the system's CAs; a
/// certificate signed by `ca_file`'s CA, or whose SHA-256 is `fingerprint`, is trusted too.
/// `verify: false` accepts any certificate (camd warns at every connect).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsCheck {
    /// PEM file of CA certificates to trust for this camera (absolute path).
    pub ca_file: Option<PathBuf>,
    /// SHA-256 of the camera's certificate (its DER bytes): the pin.
    pub fingerprint: Option<[u8; 32]>,
    pub verify: bool,
}

impl Default for TlsCheck {
    fn default() -> Self {
        Self {
            ca_file: None,
            fingerprint: None,
            verify: true,
        }
    }
}

/// A certificate fingerprint as camd prints it and accepts it: `sha256:` and 32 bytes in
/// colon-separated upper-case hex, as `openssl x509 -fingerprint -sha256` prints them.
pub fn format_fingerprint(sha256: &[u8; 32]) -> String {
    let hex: Vec<String> = sha256.iter().map(|b| format!("{b:02X}")).collect();
    format!("sha256:{}", hex.join(":"))
}

/// Parses a SHA-256 fingerprint: 64 hex digits, in either case, optionally with `:` between
/// bytes and a leading `sha256:` (or openssl's `SHA256 Fingerprint=`).
pub fn parse_fingerprint(text: &str) -> Result<[u8; 32], String> {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    let digits = ["sha256 fingerprint=", "sha256:"]
        .iter()
        .find_map(|prefix| lower.strip_prefix(prefix))
        .unwrap_or(&lower);
    let hex: String = digits.chars().filter(|&c| c != ':').collect();
    let wrong = || {
        format!(
            "{trimmed:?} is not a SHA-256 fingerprint (64 hex digits, e.g. \"sha256:AB:CD:...\", as \
             `camd probe rtsps://HOST:PORT` prints it)"
        )
    };
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(wrong());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| wrong())?;
    }
    Ok(out)
}

impl CameraConfig {
    pub fn new(name: impl Into<String>, source: Source) -> Self {
        Self {
            name: name.into(),
            source,
            width: None,
            height: None,
            format: Codec::Jpeg,
            resize: Resize::Stretch,
            max_fps: None,
            jpeg_quality: 85,
            transport: Transport::Auto,
            latency_ms: 200,
            decode: Decode::All,
            decoder: None,
            encoder: None,
            converter: None,
            slot_count: 4,
            slot_capacity: None,
            retry: RetryPolicy::default(),
            tls: TlsCheck::default(),
            allow_basic_auth: false,
        }
    }

    /// The slot capacity: configured, or 3/4 byte per output pixel (a textured 720p frame at
    /// quality 85 is ~140 kB; this gives 675 kB), at least 256 KiB; 4 MiB when the output size
    /// is unknown (passthrough). Untouched slot bytes cost no memory on tmpfs.
    pub fn slot_capacity(&self) -> u32 {
        if let Some(layout) = self.pixel_layout() {
            return layout.frame_size;
        }
        if let Some(capacity) = self.slot_capacity {
            return capacity;
        }
        match (self.width, self.height) {
            (Some(w), Some(h)) => {
                (u64::from(w) * u64::from(h) * 3 / 4).clamp(256 << 10, 64 << 20) as u32
            }
            _ => 4 << 20,
        }
    }
}

impl CameraConfig {
    /// The raw frames' layout in the ring: `None` for JPEG, or when the size is missing or
    /// wrong for the format (the config check says so: `camera_keys::check`).
    pub fn pixel_layout(&self) -> Option<PixelLayout> {
        match (self.format.is_raw(), self.width, self.height) {
            (true, Some(w), Some(h)) => PixelLayout::packed(self.format, w, h).ok(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_in_the_forms_people_paste() {
        let bytes: [u8; 32] = core::array::from_fn(|i| (i * 7) as u8);
        let printed = format_fingerprint(&bytes);
        assert!(printed.starts_with("sha256:00:07:0E:"), "{printed}");
        assert_eq!(parse_fingerprint(&printed), Ok(bytes));
        let plain: String = printed[7..].replace(':', "").to_lowercase();
        assert_eq!(parse_fingerprint(&plain), Ok(bytes));
        let openssl = format!("SHA256 Fingerprint={}", &printed[7..]);
        assert_eq!(parse_fingerprint(&openssl), Ok(bytes));
        for bad in [
            "",
            "sha256:",
            "sha1:00",
            &plain[..62],
            &format!("{plain}00"),
            &plain.replace('0', "g"),
        ] {
            assert!(parse_fingerprint(bad).is_err(), "{bad:?}");
        }
    }
}
