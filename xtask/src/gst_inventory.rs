//! The one inventory of the GStreamer elements camd uses, each with what provides it: the Debian
//! package, or a board's hardware block (registered only where that hardware exists, so no
//! package can promise it). Every element a capture pipeline can be built from is here (software
//! fallbacks included), and so is every element of the fake cameras, the demo, the tests and the
//! benchmarks, and the elements the bins camd uses create inside themselves.
//!
//! Three things hold it true:
//! - `gst_inventory/scan.rs` (a unit test) reads every Rust source of the workspace and fails on
//!   an element named in a pipeline string, an `ElementFactory::make`/`find` or a candidate list
//!   that is not here, and on an entry here that nothing uses;
//! - `check_registry` (first thing in `cargo xtask test` and `cargo xtask demo`) asks this
//!   machine's registry and names each missing element with its package;
//! - `cargo xtask pristine` (a step of `cargo xtask test`) builds a Debian root holding only the
//!   packages of `packages.rs`, finds every software element there and checks, with `dpkg -S`,
//!   that the package named here is the one that ships it.

use std::collections::BTreeSet;
use std::process::Command;

/// Where an element comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// A Debian 12 package.
    Debian(&'static str),
    /// A board's hardware decoder or encoder: the boards that have it (docs/hardware.md).
    Hardware(&'static str),
}

/// What uses an element. `cargo xtask demo` needs those of `Capture`, `FakeCameras` and `Demo`;
/// `cargo xtask test` needs them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// camd's capture pipelines (`worker/src/capture/`).
    Capture,
    /// The fake RTSP cameras (`tests/support/fake_cameras.rs`, the demo's and the tests').
    FakeCameras,
    /// A test builds it itself (a clip for the file source, a registered stand-in).
    Tests,
    /// A benchmark's own pipeline.
    Bench,
    /// The demo's own pipeline: the contact sheet of `--pictures` (examples/demo.rs).
    Demo,
    /// Created inside another element of this inventory, never named by camd's code.
    Inside(&'static str),
}

#[derive(Clone, Copy, Debug)]
pub struct Element {
    pub name: &'static str,
    pub provider: Provider,
    pub uses: &'static [Use],
}

impl Element {
    pub fn package(&self) -> Option<&'static str> {
        match self.provider {
            Provider::Debian(package) => Some(package),
            Provider::Hardware(_) => None,
        }
    }

    /// Needed by `cargo xtask demo`: capture, the fake cameras, and what those create inside.
    pub fn for_demo(&self) -> bool {
        self.uses.iter().any(|u| {
            matches!(
                u,
                Use::Capture | Use::FakeCameras | Use::Demo | Use::Inside(_)
            )
        })
    }
}

use Provider::{Debian, Hardware};
use Use::{Bench, Capture, Demo, FakeCameras, Inside, Tests};

const CORE: Provider = Debian("libgstreamer1.0-0");
const BASE: Provider = Debian("gstreamer1.0-plugins-base");
const GOOD: Provider = Debian("gstreamer1.0-plugins-good");
const BAD: Provider = Debian("gstreamer1.0-plugins-bad");
const UGLY: Provider = Debian("gstreamer1.0-plugins-ugly");
const LIBAV: Provider = Debian("gstreamer1.0-libav");
const X: Provider = Debian("gstreamer1.0-x");

const STATEFUL_V4L2: Provider = Hardware(
    "stateful V4L2 codec: Raspberry Pi 4, i.MX8M (Hantro BSP), Amlogic, Qualcomm, TI, MediaTek",
);
const STATELESS_V4L2: Provider =
    Hardware("stateless V4L2 codec: mainline Rockchip, Allwinner, i.MX8M");
const V4L2_M2M: Provider = Hardware(
    "V4L2 memory-to-memory converter: i.MX8 ISI/PXP, Rockchip RGA, others with a mainline m2m driver",
);
const G2D: Provider = Hardware("NXP i.MX G2D (gstreamer-imx / NXP BSP's imx plugins)");
const JETSON: Provider = Hardware("NVIDIA Jetson (L4T's gst-nvvideo4linux2, nvjpeg)");
const MPP: Provider = Hardware("Rockchip BSP (gstreamer-rockchip, MPP)");
const VA: Provider = Hardware("VA-API on Intel/AMD graphics (va plugin, needs a render node)");
const VAAPI: Provider = Hardware("VA-API on Intel/AMD graphics (legacy gstreamer-vaapi)");

/// Every element, by name.
pub const INVENTORY: &[Element] = &[
    // Capture: sources.
    e("videotestsrc", BASE, &[Capture, FakeCameras, Tests]),
    e("rtspsrc", GOOD, &[Capture, Bench, Tests]),
    e("filesrc", CORE, &[Capture]),
    e("v4l2src", GOOD, &[Capture]),
    e("decodebin", BASE, &[Capture]),
    // Capture: depayloaders and parsers.
    e("rtph264depay", GOOD, &[Capture, Bench, FakeCameras]),
    e("rtph265depay", GOOD, &[Capture, FakeCameras]),
    e("rtpjpegdepay", GOOD, &[Capture, FakeCameras]),
    e("h264parse", BAD, &[Capture, Bench, FakeCameras]),
    e("h265parse", BAD, &[Capture, FakeCameras]),
    e("jpegparse", BAD, &[Capture, FakeCameras]),
    // Capture: reshaping, the sink.
    e("capsfilter", CORE, &[Capture]),
    e("videoscale", BASE, &[Capture, Bench]),
    e("videorate", BASE, &[Capture, Bench]),
    e("videoconvert", BASE, &[Capture, Bench, Tests]),
    e("aspectratiocrop", GOOD, &[Capture]),
    e("appsink", BASE, &[Capture, Tests]),
    // tests/clean_frames.rs feeds published JPEGs back through jpegdec to check their pixels.
    e("appsrc", BASE, &[Capture, Tests]),
    // Capture: decoders, hardware first, then software (worker/src/capture/elements.rs).
    e("v4l2h264dec", STATEFUL_V4L2, &[Capture, Tests]),
    e("v4l2h265dec", STATEFUL_V4L2, &[Capture]),
    e("v4l2jpegdec", STATEFUL_V4L2, &[Capture]),
    e("nvv4l2decoder", JETSON, &[Capture, Tests]),
    e("nvjpegdec", JETSON, &[Capture]),
    e("v4l2slh264dec", STATELESS_V4L2, &[Capture]),
    e("v4l2slh265dec", STATELESS_V4L2, &[Capture]),
    e("mppvideodec", MPP, &[Capture]),
    e("mppjpegdec", MPP, &[Capture]),
    e("vah264dec", VA, &[Capture]),
    e("vah265dec", VA, &[Capture]),
    e("vajpegdec", VA, &[Capture]),
    e("vaapih264dec", VAAPI, &[Capture]),
    e("vaapih265dec", VAAPI, &[Capture]),
    e("avdec_h264", LIBAV, &[Capture, Bench, Tests, FakeCameras]),
    e("openh264dec", BAD, &[Capture, Tests]),
    e("avdec_h265", LIBAV, &[Capture, FakeCameras]),
    e("libde265dec", BAD, &[Capture]),
    e("jpegdec", GOOD, &[Capture, FakeCameras, Tests]),
    // Capture: JPEG encoders, hardware first.
    e("v4l2jpegenc", STATEFUL_V4L2, &[Capture]),
    e("nvjpegenc", JETSON, &[Capture]),
    e("mppjpegenc", MPP, &[Capture]),
    e("vajpegenc", VA, &[Capture]),
    e("jpegenc", GOOD, &[Capture, FakeCameras, Bench, Tests]),
    // Capture: converters of raw output (scale and convert), hardware first.
    e("v4l2convert", V4L2_M2M, &[Capture]),
    e("nvvidconv", JETSON, &[Capture]),
    e("imxvideoconvert_g2d", G2D, &[Capture]),
    e("vapostproc", VA, &[Capture]),
    e("videoconvertscale", BASE, &[Capture, Bench, Tests]),
    // `camd snapshot` of a raw camera: appsrc ! videoconvert ! pngenc|jpegenc (worker/src/still.rs).
    e("pngenc", GOOD, &[Capture]),
    // Inside rtspsrc: the RTP session manager and the UDP transport.
    // The fake camera with a known clock (fake_cameras.rs) sets rtpbin's NTP source and the
    // media's multiudpsink (gst-rtsp-server makes both) not to sync.
    e("rtpbin", GOOD, &[Inside("rtspsrc"), FakeCameras]),
    e("multiudpsink", GOOD, &[FakeCameras]),
    e("rtpjitterbuffer", GOOD, &[Inside("rtspsrc")]),
    e("udpsrc", GOOD, &[Inside("rtspsrc")]),
    e("udpsink", GOOD, &[Inside("rtspsrc")]),
    // Inside decodebin, for the file source's test clip (Matroska, H.264).
    e("typefind", CORE, &[Inside("decodebin")]),
    e("multiqueue", CORE, &[Inside("decodebin")]),
    e("matroskademux", GOOD, &[Inside("decodebin")]),
    // The fake cameras.
    e("timeoverlay", X, &[FakeCameras]),
    e("x264enc", UGLY, &[FakeCameras, Tests]),
    e("x265enc", BAD, &[FakeCameras]),
    e("rtph264pay", GOOD, &[FakeCameras]),
    e("rtph265pay", GOOD, &[FakeCameras]),
    e("rtpjpegpay", GOOD, &[FakeCameras]),
    // The tests' own pipelines (a clip for the file source, the test support's rtspsrc client
    // of the TLS fake cameras), the capture benchmark's bare one.
    e("matroskamux", GOOD, &[Tests]),
    e("filesink", CORE, &[Tests, Demo]),
    // The demo's contact sheet (`--pictures`): each camera's JPEG held, labelled, tiled.
    e("imagefreeze", GOOD, &[Demo]),
    e("textoverlay", X, &[Demo]),
    e("compositor", BASE, &[Demo]),
    e("fakesink", CORE, &[Bench, Tests]),
    e("identity", CORE, &[Bench]),
];

const fn e(name: &'static str, provider: Provider, uses: &'static [Use]) -> Element {
    Element {
        name,
        provider,
        uses,
    }
}

#[cfg(test)]
pub fn find(name: &str) -> Option<&'static Element> {
    INVENTORY.iter().find(|e| e.name == name)
}

/// The software elements a chore needs: all of them, or the demo's.
pub fn software(demo_only: bool) -> impl Iterator<Item = &'static Element> {
    INVENTORY
        .iter()
        .filter(move |e| e.package().is_some() && (!demo_only || e.for_demo()))
}

/// Names each element of `needed` that `have` lacks, with its package, one per line.
pub fn missing_report<'a>(
    needed: impl Iterator<Item = &'a Element>,
    have: &BTreeSet<String>,
) -> Option<String> {
    let lines: Vec<String> = needed
        .filter(|e| !have.contains(e.name))
        .map(|e| {
            format!(
                "  {:<16} Debian package {}",
                e.name,
                e.package().unwrap_or("(hardware)")
            )
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// The element names `gst-inspect-1.0` lists (lines `plugin:  element: description`).
pub fn parse_inspect_list(output: &str) -> BTreeSet<String> {
    output
        .lines()
        .filter_map(|line| {
            let (plugin, rest) = line.split_once(": ")?;
            let (name, _) = rest.trim_start().split_once(": ")?;
            let plain = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
            (plain(plugin) && plain(name)).then(|| name.to_owned())
        })
        .collect()
}

/// Checks this machine's GStreamer registry against the inventory's software elements (the
/// demo's, or all): `what` names the chore in the error.
pub fn check_registry(what: &str, demo_only: bool) -> Result<(), String> {
    let output = Command::new("gst-inspect-1.0")
        .env("GST_REGISTRY_FORK", "no")
        .output()
        .map_err(|e| {
            format!(
                "{what}: cannot run gst-inspect-1.0 to check the GStreamer elements ({e}): \
                 install gstreamer1.0-tools"
            )
        })?;
    let have = parse_inspect_list(&String::from_utf8_lossy(&output.stdout));
    match missing_report(software(demo_only), &have) {
        None => {
            eprintln!(
                "{what}: GStreamer has all {} elements it needs",
                software(demo_only).count()
            );
            Ok(())
        }
        Some(report) => {
            let mut packages: Vec<&str> = software(demo_only)
                .filter(|e| !have.contains(e.name))
                .filter_map(Element::package)
                .collect();
            packages.sort_unstable();
            packages.dedup();
            Err(format!(
                "{what}: this machine's GStreamer lacks elements camd needs:\n{report}\n\
                 Install them (`apt-get install {}` on Debian), then check with \
                 `gst-inspect-1.0 ELEMENT`.",
                packages.join(" ")
            ))
        }
    }
}

#[cfg(test)]
mod scan;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packages;

    #[test]
    fn names_are_unique() {
        let mut seen = BTreeSet::new();
        for e in INVENTORY {
            assert!(seen.insert(e.name), "{} is listed twice", e.name);
        }
    }

    /// The package lists install every package the inventory names: the demo's list those of
    /// the demo's elements, the test suite's the rest.
    #[test]
    fn every_package_is_in_the_lists() {
        let demo: Vec<&str> = packages::DEMO.iter().map(|(n, _)| *n).collect();
        let all = packages::all();
        for e in software(false) {
            let package = e.package().unwrap();
            let list = if e.for_demo() { &demo } else { &all };
            assert!(
                list.contains(&package),
                "{} needs {package}, which {} does not install",
                e.name,
                if e.for_demo() {
                    "packages::DEMO"
                } else {
                    "packages::DEMO + TEST"
                }
            );
        }
    }

    /// A GStreamer plugin package in the lists provides some element of the inventory: a
    /// package nothing uses is not installed on every machine for nothing.
    #[test]
    fn every_plugin_package_is_used() {
        for (package, _) in packages::DEMO.iter().chain(packages::TEST) {
            if package.starts_with("gstreamer1.0-") && *package != "gstreamer1.0-tools" {
                assert!(
                    INVENTORY.iter().any(|e| e.package() == Some(package)),
                    "{package} is installed but provides no element of the inventory"
                );
            }
        }
    }

    #[test]
    fn inside_names_an_element_of_the_inventory() {
        for e in INVENTORY {
            for u in e.uses {
                if let Use::Inside(outer) = u {
                    assert!(find(outer).is_some(), "{}: inside {outer}?", e.name);
                }
            }
        }
    }

    #[test]
    fn gst_inspect_list_is_parsed_and_missing_ones_named() {
        let out = "coreelements:  fakesink: Fake Sink\n\
                   pango:  timeoverlay: Time overlay\n\
                   staticelements:  bin: Generic bin\n\
                   \n\
                   Total count: 3 plugins, 3 features\n";
        let have = parse_inspect_list(out);
        assert_eq!(
            have.iter().map(String::as_str).collect::<Vec<_>>(),
            ["bin", "fakesink", "timeoverlay"]
        );
        let needed = [find("timeoverlay").unwrap(), find("x264enc").unwrap()];
        let report = missing_report(needed.into_iter(), &have).unwrap();
        assert!(report.contains("x264enc"), "{report}");
        assert!(report.contains("gstreamer1.0-plugins-ugly"), "{report}");
        assert!(!report.contains("timeoverlay"), "{report}");
    }
}
