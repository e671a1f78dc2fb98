//! `camd probe [--format table|json]`: what this machine offers camd, to write a configuration
//! and to check a board.
//!
//! 1. V4L2: every `/dev/video*` node with its driver, card name, bus, whether it captures video
//!    (or is a metadata node), and the formats and sizes it offers (`capture::v4l2::probe`, the
//!    same reading camd does before it opens a webcam; feature `v4l2`).
//! 2. GStreamer: its version, and per input codec (h264, h265, mjpeg) the decoders of
//!    `capture::elements` in camd's order of preference, each marked hardware or software and
//!    present or missing in the registry, and the one camd would pick; the same for the JPEG
//!    encoders, and per raw format for the converters (present: in the registry and able to
//!    give that format).
//!
//! 3. `camd probe rtsps://HOST[:PORT]...`: instead, each camera's TLS certificate, its
//!    fingerprint for `tls_fingerprint`, and whether this machine's CAs trust it (`tls_probe`).
//!
//! Exit status: 0 when the probe ran (missing devices or elements are findings, not failures);
//! 2 (an `Err` the caller prints) for a bad command line or a GStreamer that does not initialise.
// Printing the report is what this command is for.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use crate::capture::elements::{self, Codec};
use crate::capture::v4l2::{self, DeviceCaps};
use camd::cli::args::{self, Flag};
use camd::cli::status::json::Value;
use camd::cli::PROBE_USAGE as USAGE;
use camd::error::{Error, Kind, Result};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const FORMAT: Flag = Flag::value("--format");

/// The codecs a camera may send that camd decodes (raw needs no decoder).
const CODECS: [Codec; 3] = [Codec::H264, Codec::H265, Codec::Mjpeg];

/// Runs `camd probe` with the arguments after `probe`.
pub fn main(args: &[OsString]) -> Result<ExitCode> {
    let parsed = args::parse(args, &[FORMAT])
        .map_err(|e| Error::new(Kind::Usage, format!("probe: {e}\n{USAGE}")))?;
    if !parsed.positionals.is_empty() {
        if parsed.text(FORMAT).ok().flatten().is_some() {
            return Err(Error::new(
                Kind::Usage,
                format!("probe: --format is for the device report, not certificates\n{USAGE}"),
            ));
        }
        return certificates(&parsed.text_positionals()?);
    }
    let json = match parsed
        .text(FORMAT)
        .map_err(|e| Error::new(Kind::Usage, format!("probe: {e}")))?
        .unwrap_or("table")
    {
        "table" => false,
        "json" => true,
        other => {
            return Err(Error::new(
                Kind::Usage,
                format!("probe: unknown format {other:?} (table or json)"),
            ))
        }
    };
    let devices = video_nodes(Path::new("/dev"))
        .into_iter()
        .map(|path| {
            let caps = v4l2::probe(&path);
            (path, caps)
        })
        .collect::<Vec<_>>();
    gstreamer::init().map_err(|e| {
        Error::new(
            Kind::Usage,
            format!("probe: cannot initialise GStreamer: {e}"),
        )
    })?;
    let gst = GstreamerReport::from_registry(elements::registry_has, elements::can_output);
    let text = if json {
        let mut text = report_json(&devices, &gst).to_json();
        text.push('\n');
        text
    } else {
        report_table(&devices, &gst)
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// `camd probe rtsps://...`: each camera's certificate.
fn certificates(urls: &[&str]) -> Result<ExitCode> {
    // Every URL is checked before the first connection (none is shown: one may hold a password).
    let addresses = urls
        .iter()
        .map(|url| crate::tls_probe::camera_address(url))
        .collect::<Result<Vec<_>>>()?;
    for (url, _) in urls.iter().zip(addresses) {
        let presented = crate::tls_probe::presented(url)?;
        print!("{}", crate::tls_probe::report(url, &presented));
    }
    Ok(ExitCode::SUCCESS)
}

/// `/dev/videoN` nodes, by N.
fn video_nodes(dev: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dev) else {
        return Vec::new();
    };
    let mut nodes: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let n = name.to_str()?.strip_prefix("video")?.parse().ok()?;
            Some((n, entry.path()))
        })
        .collect();
    nodes.sort();
    nodes.into_iter().map(|(_, path)| path).collect()
}

/// One element of a priority list.
struct Candidate {
    name: &'static str,
    hardware: bool,
    present: bool,
}

/// One priority list and camd's pick from it.
struct Choice {
    candidates: Vec<Candidate>,
    picked: Option<&'static str>,
}

impl Choice {
    fn new(names: &[&'static str], exists: &impl Fn(&str) -> bool) -> Self {
        let candidates: Vec<Candidate> = names
            .iter()
            .map(|&name| Candidate {
                name,
                hardware: elements::is_hardware(name),
                present: exists(name),
            })
            .collect();
        // The same rule as `elements::choose` with no override: the first one present.
        let picked = candidates.iter().find(|c| c.present).map(|c| c.name);
        Self { candidates, picked }
    }
}

struct GstreamerReport {
    version: String,
    decoders: Vec<(Codec, Choice)>,
    encoders: Choice,
    /// Per raw format (GStreamer's name), the converters that can give it.
    converters: Vec<(&'static str, Choice)>,
}

/// The raw formats of `format =`, by GStreamer's name.
const RAW_FORMATS: [&str; 3] = ["NV12", "RGB", "BGR"];

impl GstreamerReport {
    /// `outputs(element, format)`: whether a converter can give that raw format.
    fn from_registry(exists: impl Fn(&str) -> bool, outputs: impl Fn(&str, &str) -> bool) -> Self {
        let (major, minor, micro, nano) = gstreamer::version();
        let mut version = format!("{major}.{minor}.{micro}");
        if nano != 0 {
            let _ = write!(version, ".{nano}");
        }
        Self {
            version,
            decoders: CODECS
                .iter()
                .map(|&codec| {
                    (
                        codec,
                        Choice::new(elements::decoder_candidates(codec), &exists),
                    )
                })
                .collect(),
            encoders: Choice::new(elements::ENCODER_CANDIDATES, &exists),
            converters: RAW_FORMATS
                .iter()
                .map(|&format| {
                    let usable = |name: &str| exists(name) && outputs(name, format);
                    (format, Choice::new(elements::CONVERTER_CANDIDATES, &usable))
                })
                .collect(),
        }
    }
}

fn report_table(devices: &[(PathBuf, Result<DeviceCaps>)], gst: &GstreamerReport) -> String {
    let mut out = String::from("V4L2 devices\n");
    if !cfg!(feature = "v4l2") {
        out.push_str("  (this camd was built without V4L2 support: cargo feature `v4l2`)\n");
    }
    if devices.is_empty() {
        out.push_str("  no V4L2 devices (no /dev/video* nodes)\n");
    }
    for (path, caps) in devices {
        let caps = match caps {
            Ok(caps) => caps,
            Err(e) => {
                let _ = writeln!(out, "  {}: {e}", path.display());
                continue;
            }
        };
        let _ = writeln!(
            out,
            "  {}  {} ({}, driver {}): {}",
            path.display(),
            caps.card,
            if caps.bus.is_empty() { "-" } else { &caps.bus },
            caps.driver,
            capability(caps)
        );
        for format in &caps.formats {
            // The format's own text: its fourcc, discrete sizes, then ranges.
            let text = format.to_string();
            let sizes = text.strip_prefix(&format.fourcc).unwrap_or(&text).trim();
            let sizes = if sizes.is_empty() {
                "(no sizes)"
            } else {
                sizes
            };
            let _ = writeln!(out, "      {:<6}{sizes}", format.fourcc);
        }
    }
    let _ = writeln!(out, "\nGStreamer {}", gst.version);
    out.push_str("\nDecoders, in camd's order of preference (it uses the first one present)\n");
    for (codec, choice) in &gst.decoders {
        choice_table(&mut out, codec.name(), choice);
    }
    out.push_str("\nJPEG encoders, in camd's order of preference\n");
    choice_table(&mut out, "jpeg", &gst.encoders);
    out.push_str(
        "\nConverters of raw output (format = nv12, rgb, bgr), present = can give that format\n",
    );
    for (format, choice) in &gst.converters {
        choice_table(&mut out, &format.to_lowercase(), choice);
    }
    out
}

fn capability(caps: &DeviceCaps) -> &'static str {
    match (caps.video_capture, caps.meta_capture) {
        (true, _) => "video capture",
        (false, true) => "metadata node (not for capture)",
        (false, false) => "no video capture",
    }
}

fn choice_table(out: &mut String, what: &str, choice: &Choice) {
    let _ = writeln!(out, "  {what}");
    let width = choice
        .candidates
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    for c in &choice.candidates {
        let _ = writeln!(
            out,
            "    {:<width$}  {:<8}  {:<7}{}",
            c.name,
            if c.hardware { "hardware" } else { "software" },
            if c.present { "present" } else { "missing" },
            if choice.picked == Some(c.name) {
                "  <- camd uses this"
            } else {
                ""
            }
        );
    }
    if choice.picked.is_none() {
        let _ = writeln!(
            out,
            "    none present: cameras that need a {what} element cannot be captured"
        );
    }
}

fn report_json(devices: &[(PathBuf, Result<DeviceCaps>)], gst: &GstreamerReport) -> Value {
    let devices = devices
        .iter()
        .map(|(path, caps)| {
            let path = ("path", Value::from(path.display().to_string()));
            match caps {
                Err(e) => Value::Object(vec![path, ("error", e.to_string().as_str().into())]),
                Ok(caps) => Value::Object(vec![
                    path,
                    ("error", Value::Null),
                    ("driver", caps.driver.as_str().into()),
                    ("card", caps.card.as_str().into()),
                    ("bus", caps.bus.as_str().into()),
                    ("video_capture", caps.video_capture.into()),
                    ("meta_capture", caps.meta_capture.into()),
                    (
                        "formats",
                        Value::Array(
                            caps.formats
                                .iter()
                                .map(|f| {
                                    let sizes = f
                                        .sizes
                                        .iter()
                                        .map(|(w, h)| {
                                            Value::Object(vec![
                                                ("width", (*w).into()),
                                                ("height", (*h).into()),
                                            ])
                                        })
                                        .collect();
                                    let ranges = f
                                        .ranges
                                        .iter()
                                        .map(|r| {
                                            let pair = |(w, h): (u32, u32)| {
                                                Value::Object(vec![
                                                    ("width", w.into()),
                                                    ("height", h.into()),
                                                ])
                                            };
                                            Value::Object(vec![
                                                ("min", pair(r.min)),
                                                ("max", pair(r.max)),
                                                ("step", pair(r.step)),
                                            ])
                                        })
                                        .collect();
                                    Value::Object(vec![
                                        ("fourcc", f.fourcc.as_str().into()),
                                        ("sizes", Value::Array(sizes)),
                                        ("ranges", Value::Array(ranges)),
                                    ])
                                })
                                .collect(),
                        ),
                    ),
                ]),
            }
        })
        .collect();
    let choice = |choice: &Choice| {
        let candidates = choice
            .candidates
            .iter()
            .map(|c| {
                Value::Object(vec![
                    ("name", c.name.into()),
                    ("hardware", c.hardware.into()),
                    ("present", c.present.into()),
                ])
            })
            .collect();
        Value::Object(vec![
            ("picked", choice.picked.into()),
            ("candidates", Value::Array(candidates)),
        ])
    };
    Value::Object(vec![
        (
            "v4l2",
            Value::Object(vec![
                ("supported", cfg!(feature = "v4l2").into()),
                ("devices", Value::Array(devices)),
            ]),
        ),
        (
            "gstreamer",
            Value::Object(vec![
                ("version", gst.version.as_str().into()),
                (
                    "decoders",
                    Value::Object(
                        gst.decoders
                            .iter()
                            .map(|(codec, c)| (codec.name(), choice(c)))
                            .collect(),
                    ),
                ),
                ("jpeg_encoders", choice(&gst.encoders)),
                (
                    "converters",
                    Value::Object(
                        gst.converters
                            .iter()
                            .map(|(format, c)| (*format, choice(c)))
                            .collect(),
                    ),
                ),
            ]),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camd_picks_the_first_present_candidate_and_says_so() {
        let have = |n: &str| {
            [
                "avdec_h264",
                "v4l2slh264dec",
                "jpegenc",
                "nvvidconv",
                "videoscale",
            ]
            .contains(&n)
        };
        // nvvidconv gives NV12, not packed RGB.
        let outputs = |n: &str, format: &str| n != "nvvidconv" || format == "NV12";
        let gst = GstreamerReport::from_registry(have, outputs);
        let converters: Vec<_> = gst.converters.iter().map(|(f, c)| (*f, c.picked)).collect();
        assert_eq!(
            converters,
            [
                ("NV12", Some("nvvidconv")),
                ("RGB", Some("videoscale")),
                ("BGR", Some("videoscale"))
            ]
        );
        let h264 = &gst.decoders[0];
        assert_eq!(h264.0, Codec::H264);
        assert_eq!(h264.1.picked, Some("v4l2slh264dec"));
        assert_eq!(gst.decoders[1].1.picked, None);
        assert_eq!(gst.encoders.picked, Some("jpegenc"));
        let text = report_table(&[], &gst);
        assert!(text.contains("no V4L2 devices"), "{text}");
        let line = |name: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(&format!("{name} ")))
                .unwrap_or_else(|| panic!("{name} missing:\n{text}"))
                .to_owned()
        };
        assert!(line("v4l2slh264dec").contains("hardware  present  <- camd uses this"));
        assert!(line("avdec_h264").ends_with("software  present"));
        assert!(text.contains("none present: cameras that need a h265 element"));
    }

    #[test]
    fn devices_are_listed_with_their_formats() {
        let caps = DeviceCaps {
            driver: "uvcvideo".into(),
            card: "Cam \"1\"".into(),
            bus: "usb-1".into(),
            video_capture: true,
            meta_capture: false,
            formats: vec![v4l2::Format {
                fourcc: "MJPG".into(),
                sizes: vec![(640, 480), (1280, 720)],
                ranges: vec![],
            }],
        };
        let devices = vec![
            (PathBuf::from("/dev/video0"), Ok(caps)),
            (
                PathBuf::from("/dev/video1"),
                Err(Error::new(Kind::Usage, "no access")),
            ),
        ];
        let gst = GstreamerReport::from_registry(|_| false, |_, _| true);
        let text = report_table(&devices, &gst);
        assert!(
            text.contains("/dev/video0  Cam \"1\" (usb-1, driver uvcvideo): video capture"),
            "{text}"
        );
        assert!(text.contains("MJPG  640x480 1280x720"), "{text}");
        assert!(text.contains("/dev/video1: no access"), "{text}");
        let json = report_json(&devices, &gst).to_json();
        assert!(json.contains(r#""card":"Cam \"1\"""#), "{json}");
        assert!(
            json.contains(r#""sizes":[{"width":640,"height":480}"#),
            "{json}"
        );
    }

    #[test]
    fn video_nodes_sort_by_number() {
        let dir = std::env::temp_dir().join(format!("camd-probe-nodes-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["video10", "video2", "videox", "media0", "video0"] {
            std::fs::write(dir.join(name), b"").unwrap();
        }
        let nodes = video_nodes(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        let names: Vec<_> = nodes
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["video0", "video2", "video10"]);
    }
}
