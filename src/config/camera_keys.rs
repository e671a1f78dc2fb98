//! The per-camera settings: the keys a `[[camera]]` table and `[daemon.defaults]` accept, with
//! their ranges, how each lands in a `CameraConfig`, and the reverse (`to_inline_table`), which
//! the supervisor uses to hand a worker its cameras. One list: a key added here is accepted,
//! checked and passed on, or the round-trip test fails.

use crate::camera_config::{
    format_fingerprint, parse_fingerprint, CameraConfig, Decode, Resize, Transport,
};
use crate::error::{Error, Kind, Result};
use camd_ring::Codec;
use std::fmt::Write as _;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;
use toml_edit::Item;

/// Every camera setting key (also valid in `[daemon.defaults]`).
pub const SETTING_KEYS: &[&str] = &[
    "width",
    "height",
    "format",
    "resize",
    "max_fps",
    "jpeg_quality",
    "transport",
    "latency_ms",
    "decode",
    "decoder",
    "encoder",
    "converter",
    "slot_count",
    "slot_capacity",
    "max_retry_attempts",
    "retry_initial_s",
    "retry_max_s",
    "retry_jitter",
    "stall_timeout_s",
    "connect_timeout_s",
    "probe_interval_s",
    "tls_ca_file",
    "tls_fingerprint",
    "tls_verify",
    "allow_basic_auth",
];

/// Applies setting `key` = `value` to `camera`. `Ok(false)`: not a setting key.
pub fn apply(camera: &mut CameraConfig, key: &str, value: &Item) -> Result<bool> {
    let retry = &mut camera.retry;
    match key {
        "width" => camera.width = Some(integer(value, 16..=8192)? as u32),
        "height" => camera.height = Some(integer(value, 16..=8192)? as u32),
        "format" => camera.format = choice(value, &format_choices())?,
        "resize" => camera.resize = choice(value, Resize::CHOICES)?,
        "max_fps" => camera.max_fps = Some(integer(value, 1..=240)? as u32),
        "jpeg_quality" => camera.jpeg_quality = integer(value, 1..=100)? as u32,
        "transport" => camera.transport = choice(value, Transport::CHOICES)?,
        "latency_ms" => camera.latency_ms = integer(value, 0..=10_000)? as u32,
        "decode" => camera.decode = choice(value, Decode::CHOICES)?,
        "decoder" => camera.decoder = Some(element_name(value)?),
        "encoder" => camera.encoder = Some(element_name(value)?),
        "converter" => camera.converter = Some(element_name(value)?),
        "slot_count" => camera.slot_count = integer(value, 2..=64)? as u32,
        "slot_capacity" => {
            camera.slot_capacity = Some(integer(value, 4096..=64 << 20)? as u32);
        }
        "max_retry_attempts" => retry.max_retry_attempts = integer(value, 1..=1_000_000)? as u32,
        "retry_initial_s" => retry.initial_delay = seconds(value, 0.01..=3600.0)?,
        "retry_max_s" => retry.max_delay = seconds(value, 0.01..=86_400.0)?,
        "retry_jitter" => retry.jitter = float(value, 0.0..=0.9)?,
        "stall_timeout_s" => retry.stall_timeout = seconds(value, 0.2..=3600.0)?,
        "connect_timeout_s" => retry.connect_timeout = seconds(value, 0.2..=3600.0)?,
        "probe_interval_s" => {
            retry.probe_interval = match seconds(value, 0.0..=86_400.0)? {
                d if d.is_zero() => None,
                d if d < Duration::from_secs(1) => {
                    return Err(Error::new(
                        Kind::Config,
                        "must be 0 (no probing) or from 1 to 86400 seconds",
                    ))
                }
                d => Some(d),
            }
        }
        "tls_ca_file" => camera.tls.ca_file = Some(ca_file(value)?),
        "tls_fingerprint" => {
            camera.tls.fingerprint =
                Some(parse_fingerprint(string(value)?).map_err(|e| Error::new(Kind::Config, e))?)
        }
        "tls_verify" => camera.tls.verify = boolean(value)?,
        "allow_basic_auth" => camera.allow_basic_auth = boolean(value)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// `format`'s spellings: the ring's codec names (jpeg, nv12, rgb, bgr).
fn format_choices() -> Vec<(&'static str, Codec)> {
    Codec::ALL.iter().map(|&c| (c.name(), c)).collect()
}

/// `tls_ca_file`: an absolute path to a regular file that holds a PEM certificate.
fn ca_file(value: &Item) -> Result<PathBuf> {
    let path = PathBuf::from(string(value)?);
    let fail = |why: String| {
        Err(Error::new(
            Kind::Config,
            format!("{}: {why}", path.display()),
        ))
    };
    if !path.is_absolute() {
        return fail("is relative: give the CA file's absolute path".into());
    }
    match std::fs::metadata(&path) {
        Err(e) => return fail(format!("cannot read: {e}")),
        Ok(m) if !m.is_file() => return fail("is not a regular file".into()),
        Ok(m) if m.len() > 1 << 20 => return fail("is larger than 1 MiB: not a CA file".into()),
        Ok(_) => {}
    }
    match std::fs::read_to_string(&path) {
        Err(e) => fail(format!("cannot read: {e}")),
        Ok(text) if !text.contains("-----BEGIN CERTIFICATE-----") => {
            fail("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into())
        }
        Ok(_) => Ok(path),
    }
}

/// Checks between settings, once all are applied; each problem names its key.
pub fn check(camera: &CameraConfig) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    match (camera.width, camera.height) {
        (Some(_), None) => {
            problems.push(("width", "width without height: set both or neither".into()))
        }
        (None, Some(_)) => {
            problems.push(("height", "height without width: set both or neither".into()))
        }
        _ => {}
    }
    if camera.format.is_raw() {
        match (camera.width, camera.height) {
            (Some(w), Some(h)) => {
                if let Err(why) = camd_ring::PixelLayout::packed(camera.format, w, h) {
                    problems.push(("width", why));
                }
            }
            _ => problems.push((
                "format",
                format!(
                    "{:?} needs width and height: the size the model takes",
                    camera.format.name()
                ),
            )),
        }
        if camera.slot_capacity.is_some() {
            problems.push((
                "slot_capacity",
                format!(
                    "raw frames are always their size ({} frames of width x height): remove slot_capacity",
                    camera.format.name()
                ),
            ));
        }
    }
    if camera.retry.max_delay < camera.retry.initial_delay {
        problems.push((
            "retry_max_s",
            format!(
                "{:?} is shorter than retry_initial_s ({:?})",
                camera.retry.max_delay, camera.retry.initial_delay
            ),
        ));
    }
    let tls = &camera.tls;
    let rtsps = camera.source.is_tls();
    for (key, set) in [
        ("tls_ca_file", tls.ca_file.is_some()),
        ("tls_fingerprint", tls.fingerprint.is_some()),
        ("tls_verify", !tls.verify),
    ] {
        if set && !rtsps {
            problems.push((
                key,
                "only rtsps:// cameras have a certificate to check".into(),
            ));
        }
    }
    if !tls.verify && (tls.ca_file.is_some() || tls.fingerprint.is_some()) {
        problems.push((
            "tls_verify",
            "false accepts any certificate, so tls_ca_file and tls_fingerprint would do nothing: \
             remove one or the other"
                .into(),
        ));
    }
    let file_size = u64::from(camera.slot_count) * u64::from(camera.slot_capacity());
    if file_size > 1 << 30 {
        problems.push((
            "slot_capacity",
            format!(
                "{} slots of {} bytes make a ring file over 1 GiB",
                camera.slot_count,
                camera.slot_capacity()
            ),
        ));
    }
    problems
}

/// The camera as a one-line TOML inline table with every setting spelled out and the source
/// with its password: what a worker receives on its private pipe (never argv or environment).
pub fn to_inline_table(camera: &CameraConfig, worker: Option<&str>) -> String {
    let mut t = String::from("{ ");
    let mut kv = |key: &str, value: String| {
        let _ = write!(t, "{key} = {value}, ");
    };
    kv("name", quote(&camera.name));
    kv("url", quote(&camera.source.url_with_secret()));
    if let Some(worker) = worker {
        kv("worker", quote(worker));
    }
    if let (Some(w), Some(h)) = (camera.width, camera.height) {
        kv("width", w.to_string());
        kv("height", h.to_string());
    }
    kv("format", quote(camera.format.name()));
    kv("resize", quote(camera.resize.name()));
    if let Some(fps) = camera.max_fps {
        kv("max_fps", fps.to_string());
    }
    kv("jpeg_quality", camera.jpeg_quality.to_string());
    kv("transport", quote(camera.transport.name()));
    kv("latency_ms", camera.latency_ms.to_string());
    kv("decode", quote(camera.decode.name()));
    if let Some(decoder) = &camera.decoder {
        kv("decoder", quote(decoder));
    }
    if let Some(encoder) = &camera.encoder {
        kv("encoder", quote(encoder));
    }
    if let Some(converter) = &camera.converter {
        kv("converter", quote(converter));
    }
    kv("slot_count", camera.slot_count.to_string());
    if let Some(capacity) = camera.slot_capacity {
        kv("slot_capacity", capacity.to_string());
    }
    let r = &camera.retry;
    kv("max_retry_attempts", r.max_retry_attempts.to_string());
    kv("retry_initial_s", secs(r.initial_delay));
    kv("retry_max_s", secs(r.max_delay));
    kv("retry_jitter", format!("{:?}", r.jitter));
    kv("stall_timeout_s", secs(r.stall_timeout));
    kv("connect_timeout_s", secs(r.connect_timeout));
    // 0 is "no probing": the default probes, so "off" must travel too.
    kv(
        "probe_interval_s",
        r.probe_interval.map_or_else(|| "0".to_owned(), secs),
    );
    if let Some(file) = &camera.tls.ca_file {
        kv("tls_ca_file", quote(&file.to_string_lossy()));
    }
    if let Some(pin) = &camera.tls.fingerprint {
        kv("tls_fingerprint", quote(&format_fingerprint(pin)));
    }
    kv("tls_verify", camera.tls.verify.to_string());
    kv("allow_basic_auth", camera.allow_basic_auth.to_string());
    t.truncate(t.len() - 2);
    t.push_str(" }");
    t
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Seconds with nanosecond precision, as TOML accepts them (a float, exact to the ns for any
/// duration a config can hold).
fn secs(d: Duration) -> String {
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

pub(crate) fn integer(value: &Item, range: RangeInclusive<i64>) -> Result<i64> {
    let n = value.as_integer().ok_or_else(|| {
        Error::new(
            Kind::Config,
            format!("must be an integer, not {}", kind(value)),
        )
    })?;
    if !range.contains(&n) {
        return Err(Error::new(
            Kind::Config,
            format!("{n} is out of range {}..={}", range.start(), range.end()),
        ));
    }
    Ok(n)
}

pub(crate) fn float(value: &Item, range: RangeInclusive<f64>) -> Result<f64> {
    let x = value
        .as_float()
        .or_else(|| value.as_integer().map(|i| i as f64))
        .ok_or_else(|| {
            Error::new(
                Kind::Config,
                format!("must be a number, not {}", kind(value)),
            )
        })?;
    if !range.contains(&x) {
        return Err(Error::new(
            Kind::Config,
            format!("{x} is out of range {}..={}", range.start(), range.end()),
        ));
    }
    Ok(x)
}

/// Seconds (integer or float) as a Duration, rounded to the nanosecond.
pub(crate) fn seconds(value: &Item, range: RangeInclusive<f64>) -> Result<Duration> {
    let x = float(value, range)?;
    let whole = x.trunc();
    let nanos = ((x - whole) * 1e9).round().min(999_999_999.0);
    Ok(Duration::new(whole as u64, nanos as u32))
}

pub(crate) fn boolean(value: &Item) -> Result<bool> {
    value.as_bool().ok_or_else(|| {
        Error::new(
            Kind::Config,
            format!("must be true or false, not {}", kind(value)),
        )
    })
}

/// A string value: every string the config holds is read through here, so none holds a control
/// character (a newline, NUL, ESC, DEL: `names::check_no_control`).
/// A string that must be one of `choices`' spellings: its value, or an error listing them.
fn choice<T: Copy>(value: &Item, choices: &[(&str, T)]) -> Result<T> {
    let text = string(value)?;
    choices
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<String> = choices.iter().map(|(n, _)| format!("{n:?}")).collect();
            Error::new(
                Kind::Config,
                format!("{text:?} is not one of {}", names.join(", ")),
            )
        })
}

pub(crate) fn string(value: &Item) -> Result<&str> {
    let text = any_string(value)?;
    super::names::check_no_control(text)?;
    Ok(text)
}

/// A string value with any characters in it: only for names, whose own check
/// (`check_camera_name`) refuses control characters and says which name holds one.
pub(crate) fn any_string(value: &Item) -> Result<&str> {
    value.as_str().ok_or_else(|| {
        Error::new(
            Kind::Config,
            format!("must be a string, not {}", kind(value)),
        )
    })
}

/// A GStreamer element factory name: letters, digits, `_` and `-`, short enough for the ring's
/// status fields that show it (`decoder`, `encoder`: NUL-terminated).
fn element_name(value: &Item) -> Result<String> {
    let name = string(value)?;
    let ok = !name.is_empty()
        && name.len() < camd_ring::layout::ELEMENT_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(name.to_owned())
    } else {
        Err(Error::new(
            Kind::Config,
            format!(
                "{name:?} is not a GStreamer element name (letters, digits, '_' and '-'; at most {} bytes)",
                camd_ring::layout::ELEMENT_LEN - 1
            ),
        ))
    }
}

pub(crate) fn kind(value: &Item) -> &'static str {
    match value {
        Item::Value(v) => match v {
            toml_edit::Value::String(_) => "a string",
            toml_edit::Value::Integer(_) => "an integer",
            toml_edit::Value::Float(_) => "a float",
            toml_edit::Value::Boolean(_) => "a boolean",
            toml_edit::Value::Datetime(_) => "a date",
            toml_edit::Value::Array(_) => "an array",
            toml_edit::Value::InlineTable(_) => "a table",
        },
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
        Item::None => "nothing",
    }
}
