//! V4L2 webcams: what a device offers and which format camd asks it for. The choice is a pure
//! function over the device's capabilities (`choose_format`), tested on recorded capability
//! lists, since no V4L2 device exists on the project's machines; `probe` reads the real
//! capabilities with the `v4l` crate (feature `v4l2`, on by default).
//!
//! The rule: the device must be a video capture node (not a metadata node, not an output);
//! MJPEG at the requested size if the device offers it; otherwise a raw format at that size;
//! otherwise the smallest size that covers the requested one (MJPEG, then raw), else the
//! largest, which the pipeline then scales to the requested size (a model's 640x640 from a
//! webcam's 1280x720); an error that lists what the device offers when it has no MJPEG or raw
//! format at all. With no size requested, the largest MJPEG size, else the largest raw. Sizes
//! are the device's discrete sizes or its ranges (stepwise, as memory-to-memory devices and
//! some webcams give them), never expanded into every size of a range.

use camd::error::{Error, Kind, Result};
use std::fmt;
use std::path::Path;

/// One pixel format and the sizes the device offers for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    /// FourCC: `MJPG`, `YUYV`, `NV12`, ...
    pub fourcc: String,
    /// Discrete sizes.
    pub sizes: Vec<(u32, u32)>,
    /// Ranges (V4L2's stepwise and continuous frame sizes).
    pub ranges: Vec<SizeRange>,
}

/// Every size from `min` to `max` in steps of `step` (each side on its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeRange {
    pub min: (u32, u32),
    pub max: (u32, u32),
    pub step: (u32, u32),
}

impl SizeRange {
    /// The smallest size of the range at least `wanted` on each side, if there is one.
    fn covering(&self, wanted: (u32, u32)) -> Option<(u32, u32)> {
        let side = |want: u32, min: u32, max: u32, step: u32| {
            let at = want.max(min);
            let step = step.max(1);
            let at = min + (at - min).div_ceil(step) * step;
            (at <= max).then_some(at)
        };
        Some((
            side(wanted.0, self.min.0, self.max.0, self.step.0)?,
            side(wanted.1, self.min.1, self.max.1, self.step.1)?,
        ))
    }
}

impl Format {
    /// The sizes worth asking for: the discrete ones and each range's largest.
    fn candidates(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.sizes
            .iter()
            .copied()
            .chain(self.ranges.iter().map(|r| r.max))
    }

    /// The smallest size at least `wanted` on each side (exactly `wanted` if offered).
    fn covering(&self, wanted: (u32, u32)) -> Option<(u32, u32)> {
        let discrete = self
            .sizes
            .iter()
            .copied()
            .filter(|&(w, h)| w >= wanted.0 && h >= wanted.1);
        let ranged = self.ranges.iter().filter_map(|r| r.covering(wanted));
        discrete.chain(ranged).min_by_key(|&(w, h)| area((w, h)))
    }
}

fn area((w, h): (u32, u32)) -> u64 {
    u64::from(w) * u64::from(h)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceCaps {
    pub driver: String,
    pub card: String,
    /// Where the device is attached (`usb-0000:00:14.0-1`, `platform:...`), as the driver says.
    pub bus: String,
    /// The node can capture video (V4L2_CAP_VIDEO_CAPTURE of the node's device_caps).
    pub video_capture: bool,
    /// The node carries metadata (V4L2_CAP_META_CAPTURE): UVC cameras expose one beside the
    /// video node, and it is the usual wrong pick.
    pub meta_capture: bool,
    pub formats: Vec<Format>,
}

/// What camd asks the device for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub fourcc: String,
    pub width: u32,
    pub height: u32,
}

impl Choice {
    pub fn is_mjpeg(&self) -> bool {
        self.fourcc == "MJPG"
    }

    /// The status's `input_codec` for this choice: `mjpeg`, or the raw FourCC in lower case
    /// (`yuyv`, `nv12`), so the status says the format the device delivers.
    pub fn input_name(&self) -> String {
        if self.is_mjpeg() {
            "mjpeg".into()
        } else {
            self.fourcc.to_ascii_lowercase()
        }
    }

    /// Why `choose_format` chose this, for the log: the rule applied to what was asked.
    pub fn reason(&self, wanted: Option<(u32, u32)>) -> String {
        let size = format!("{}x{}", self.width, self.height);
        if let Some((w, h)) = wanted.filter(|&w| w != (self.width, self.height)) {
            let what = if self.is_mjpeg() {
                "MJPEG".to_owned()
            } else {
                self.fourcc.clone()
            };
            return format!(
                "no MJPEG or raw format at {w}x{h}: capturing {what} {size} and scaling it"
            );
        }
        match (self.is_mjpeg(), wanted) {
            (true, Some(_)) => format!("MJPEG at {size} offered: its JPEG passes through"),
            (true, None) => format!("MJPEG offered, largest size {size}: its JPEG passes through"),
            (false, Some(_)) => format!(
                "no MJPEG at {size}: capturing {} {size} and encoding JPEG",
                self.fourcc
            ),
            (false, None) => format!(
                "no MJPEG offered: capturing {} at its largest size {size} and encoding JPEG",
                self.fourcc
            ),
        }
    }

    /// The GStreamer format name of a raw FourCC (`YUYV` -> `YUY2`).
    pub fn gst_raw_format(&self) -> &str {
        match self.fourcc.as_str() {
            "YUYV" => "YUY2",
            "RGB3" => "RGB",
            "BGR3" => "BGR",
            "YU12" => "I420",
            other => other,
        }
    }
}

/// The V4L2 FourCC of a raw ring format: what a webcam delivering it needs no conversion from.
pub fn fourcc_of(format: camd_ring::Codec) -> Option<&'static str> {
    match format {
        camd_ring::Codec::Rgb => Some("RGB3"),
        camd_ring::Codec::Bgr => Some("BGR3"),
        camd_ring::Codec::Nv12 => Some("NV12"),
        camd_ring::Codec::Jpeg => None,
    }
}

/// Raw formats camd can encode, in order of preference (GStreamer's videoconvert takes them all).
const RAW_FORMATS: &[&str] = &["YUYV", "NV12", "UYVY", "I420", "YU12", "RGB3", "BGR3"];

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sizes = self.sizes.iter().map(|(w, h)| format!("{w}x{h}"));
        let ranges = self.ranges.iter().map(|r| {
            format!(
                "{}x{}-{}x{} (step {}x{})",
                r.min.0, r.min.1, r.max.0, r.max.1, r.step.0, r.step.1
            )
        });
        let all: Vec<String> = sizes.chain(ranges).collect();
        write!(f, "{} {}", self.fourcc, all.join(" "))
    }
}

/// Picks the format for `wanted` size (or the best available); the error names the device and
/// says what it offers.
///
/// `raw_first`: a raw FourCC to prefer to every other format, MJPEG included: the ring's own
/// pixel format (`RGB3` for `format = "rgb"`), which then needs no decode and no conversion.
pub fn choose_format(
    device: &Path,
    caps: &DeviceCaps,
    wanted: Option<(u32, u32)>,
    raw_first: Option<&str>,
) -> Result<Choice> {
    let name = device.display();
    if !caps.video_capture {
        let what = if caps.meta_capture {
            "a metadata node (use the camera's video node, usually the one before it)"
        } else {
            "not a video capture device"
        };
        return Err(Error::new(
            Kind::Device,
            format!("{name} ({}) is {what}", caps.card),
        ));
    }
    // MJPEG first, then the raw formats in camd's order.
    let formats: Vec<&Format> = raw_first
        .into_iter()
        .chain(std::iter::once("MJPG"))
        .chain(RAW_FORMATS.iter().copied())
        .filter_map(|fourcc| caps.formats.iter().find(|f| f.fourcc == fourcc))
        .collect();
    let choice = |format: &Format, (width, height): (u32, u32)| Choice {
        fourcc: format.fourcc.clone(),
        width,
        height,
    };
    let largest = |format: &&Format| format.candidates().max_by_key(|&s| area(s));
    let found = match wanted {
        // Exactly the size (MJPEG, then raw), else the smallest that covers it, else the largest.
        Some(size) => formats
            .iter()
            .find_map(|f| {
                f.covering(size)
                    .filter(|&s| s == size)
                    .map(|s| choice(f, s))
            })
            .or_else(|| {
                formats
                    .iter()
                    .find_map(|f| f.covering(size).map(|s| choice(f, s)))
            })
            .or_else(|| {
                formats
                    .iter()
                    .find_map(|f| largest(f).map(|s| choice(f, s)))
            }),
        None => formats
            .iter()
            .find_map(|f| largest(f).map(|s| choice(f, s))),
    };
    if let Some(choice) = found {
        return Ok(choice);
    }
    let offered: Vec<String> = caps.formats.iter().map(Format::to_string).collect();
    let wanted = wanted.map_or("any size".to_owned(), |(w, h)| format!("{w}x{h}"));
    Err(Error::new(
        Kind::Device,
        format!(
            "{name} ({}) offers no MJPEG or raw format at {wanted}; it offers: {}",
            caps.card,
            if offered.is_empty() {
                "nothing".into()
            } else {
                offered.join("; ")
            }
        ),
    ))
}

/// Reads a device's capabilities. Errors name the device: missing, not a V4L2 device, no access.
#[cfg(feature = "v4l2")]
pub fn probe(device: &Path) -> Result<DeviceCaps> {
    use v4l::capability::Flags;
    use v4l::video::Capture;
    let name = device.display();
    if !device.exists() {
        return Err(Error::new(
            Kind::Device,
            format!(
            "{name} does not exist (is the camera plugged in? `camd probe` lists video devices)"
        ),
        ));
    }
    let dev = v4l::Device::with_path(device).map_err(|e| {
        // Seen in the vm-test guest with the unit's DeviceAllow= removed: "Operation not
        // permitted (os error 1)".
        let hint = if e.kind() == std::io::ErrorKind::PermissionDenied {
            " (camd's user needs the video group; under systemd, the unit's DeviceAllow= must \
             include the device)"
        } else {
            ""
        };
        Error::new(Kind::Device, format!("{name}: cannot open: {e}{hint}"))
    })?;
    // The v4l crate unwraps the driver's name strings as UTF-8: a device reporting anything
    // else would panic this camera's thread (or `camd probe`). Make it this device's error.
    let not_utf8 = |what: &str| {
        Error::new(
            Kind::Device,
            format!("{name}: the driver reports a {what} that is not UTF-8"),
        )
    };
    let caps = std::panic::catch_unwind(|| dev.query_caps())
        .map_err(|_| not_utf8("driver, card or bus name"))?
        .map_err(|e| Error::new(Kind::Device, format!("{name} is not a V4L2 device ({e})")))?;
    let mut formats = Vec::new();
    for desc in std::panic::catch_unwind(|| dev.enum_formats())
        .map_err(|_| not_utf8("format description"))?
        .map_err(|e| Error::new(Kind::Device, format!("{name}: cannot list formats: {e}")))?
    {
        let fourcc = desc.fourcc.str().unwrap_or("????").to_owned();
        let mut sizes = Vec::new();
        let mut ranges = Vec::new();
        for size in dev.enum_framesizes(desc.fourcc).unwrap_or_default() {
            match size.size {
                v4l::framesize::FrameSizeEnum::Discrete(d) => sizes.push((d.width, d.height)),
                // Not expanded: vim2m's range is 4389 sizes per format.
                v4l::framesize::FrameSizeEnum::Stepwise(r) => ranges.push(SizeRange {
                    min: (r.min_width, r.min_height),
                    max: (r.max_width, r.max_height),
                    step: (r.step_width, r.step_height),
                }),
            }
        }
        formats.push(Format {
            fourcc,
            sizes,
            ranges,
        });
    }
    Ok(DeviceCaps {
        driver: caps.driver,
        card: caps.card,
        bus: caps.bus,
        video_capture: caps.capabilities.contains(Flags::VIDEO_CAPTURE),
        meta_capture: caps.capabilities.contains(Flags::META_CAPTURE),
        formats,
    })
}

#[cfg(not(feature = "v4l2"))]
pub fn probe(device: &Path) -> Result<DeviceCaps> {
    Err(Error::new(
        Kind::Device,
        format!(
            "{}: this camd was built without V4L2 support (cargo feature `v4l2`)",
            device.display()
        ),
    ))
}

#[cfg(test)]
#[path = "v4l2_tests.rs"]
mod tests;
