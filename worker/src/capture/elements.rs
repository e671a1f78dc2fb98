//! Choosing GStreamer elements: the board's hardware decoder, JPEG encoder or (raw output)
//! converter when the registry has one, software otherwise, or the element a camera's configuration names. The priority
//! lists are the documented order (docs/hardware.md); the first name the registry knows wins.

use camd::error::{Error, Kind, Result};
/// What a camera sends, as far as decoding is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    H264,
    H265,
    Mjpeg,
    Raw,
}

impl Codec {
    pub fn name(self) -> &'static str {
        match self {
            Self::H264 => "h264",
            Self::H265 => "h265",
            Self::Mjpeg => "mjpeg",
            Self::Raw => "raw",
        }
    }

    /// From an RTP stream's `encoding-name`, or, where the SDP has no `a=rtpmap` line for it
    /// (RFC 3551 allows that for static payload types; ffmpeg sends MJPEG so), its payload type:
    /// 26 is JPEG. `Err` names what the camera sends.
    pub fn from_rtp(
        encoding: Option<&str>,
        payload: Option<i32>,
    ) -> std::result::Result<Self, String> {
        match (encoding.map(str::to_ascii_uppercase).as_deref(), payload) {
            (Some("H264"), _) => Ok(Self::H264),
            (Some("H265"), _) => Ok(Self::H265),
            (Some("JPEG"), _) | (None, Some(26)) => Ok(Self::Mjpeg),
            (Some(other), _) => Err(format!("{other:?}")),
            (None, Some(pt)) => Err(format!(
                "RTP payload type {pt} without a name (no a=rtpmap)"
            )),
            (None, None) => Err("a stream without an encoding name or payload type".into()),
        }
    }
}

/// Decoders by priority: stateful V4L2 (Raspberry Pi 4, i.MX8M, Amlogic, Qualcomm, TI, MediaTek),
/// NVIDIA Jetson, stateless V4L2 (mainline Rockchip, Allwinner, i.MX8M), Rockchip MPP, VA-API
/// (Intel/AMD; new `va` plugin, then legacy `vaapi`), then software.
pub fn decoder_candidates(codec: Codec) -> &'static [&'static str] {
    match codec {
        Codec::H264 => &[
            "v4l2h264dec",
            "nvv4l2decoder",
            "v4l2slh264dec",
            "mppvideodec",
            "vah264dec",
            "vaapih264dec",
            "avdec_h264",
            "openh264dec",
        ],
        Codec::H265 => &[
            "v4l2h265dec",
            "nvv4l2decoder",
            "v4l2slh265dec",
            "mppvideodec",
            "vah265dec",
            "vaapih265dec",
            "avdec_h265",
            "libde265dec",
        ],
        Codec::Mjpeg => &[
            "v4l2jpegdec",
            "nvjpegdec",
            "mppjpegdec",
            "vajpegdec",
            "jpegdec",
        ],
        Codec::Raw => &[],
    }
}

/// JPEG encoders by priority, software (`jpegenc`) last.
pub const ENCODER_CANDIDATES: &[&str] = &[
    "v4l2jpegenc",
    "nvjpegenc",
    "mppjpegenc",
    "vajpegenc",
    "jpegenc",
];

/// Scalers and colour converters for raw output, by priority: V4L2 memory-to-memory
/// converters (i.MX8 ISI/PXP, Rockchip RGA, and others with a mainline m2m driver), NVIDIA
/// Jetson, NXP's G2D, VA-API, then software ([`SOFTWARE_CONVERTER`]).
pub const CONVERTER_CANDIDATES: &[&str] = &[
    "v4l2convert",
    "nvvidconv",
    "imxvideoconvert_g2d",
    "vapostproc",
    SOFTWARE_CONVERTER,
];

/// The software converter: `videoscale` then `videoconvert`, scaling in the decoder's YUV
/// before converting at the output's size (a `converter` override may name
/// `videoconvertscale`, which does both in one, slower, pass).
pub const SOFTWARE_CONVERTER: &str = "videoscale";

/// Whether the element's source pad template says it can give system-memory `video/x-raw`
/// in `format` (GStreamer's name: NV12, RGB, BGR). A V4L2 converter's template is what its
/// device offers; Jetson's nvvidconv gives RGBA/BGRx, not packed RGB, so it is passed over for
/// `rgb` and `bgr`.
pub fn can_output(name: &str, format: &str) -> bool {
    pad_takes(name, gstreamer::PadDirection::Src, format)
}

/// Whether the element's sink pad template takes system-memory `video/x-raw` in `format`.
pub fn can_input(name: &str, format: &str) -> bool {
    pad_takes(name, gstreamer::PadDirection::Sink, format)
}

fn pad_takes(name: &str, direction: gstreamer::PadDirection, format: &str) -> bool {
    let Some(factory) = gstreamer::ElementFactory::find(name) else {
        return false;
    };
    let wanted = gstreamer::Caps::builder("video/x-raw")
        .field("format", format)
        .build();
    factory
        .static_pad_templates()
        .iter()
        .any(|template| template.direction() == direction && template.caps().can_intersect(&wanted))
}

/// Whether the element can letterbox (it has videoscale's `add-borders` property).
pub fn adds_borders(name: &str) -> bool {
    use gstreamer::prelude::*;
    gstreamer::ElementFactory::make(name)
        .build()
        .is_ok_and(|e| e.find_property("add-borders").is_some())
}

/// The software elements of the priority lists (every other candidate is a hardware block's).
const SOFTWARE: &[&str] = &[
    "avdec_h264",
    "openh264dec",
    "avdec_h265",
    "libde265dec",
    "jpegdec",
    "jpegenc",
    SOFTWARE_CONVERTER,
];

/// True for the hardware decoders and encoders of the priority lists; false for the software
/// ones and for any element the lists do not name (an override's element is not classified).
pub fn is_hardware(name: &str) -> bool {
    let listed = [Codec::H264, Codec::H265, Codec::Mjpeg]
        .iter()
        .any(|c| decoder_candidates(*c).contains(&name))
        || ENCODER_CANDIDATES.contains(&name)
        || CONVERTER_CANDIDATES.contains(&name);
    listed && !SOFTWARE.contains(&name)
}

/// The element to use: `wanted` if the configuration names one (it must exist), else the first
/// candidate the registry has. `exists` asks the registry.
pub fn choose(
    what: &str,
    wanted: Option<&str>,
    candidates: &[&str],
    exists: impl Fn(&str) -> bool,
) -> Result<String> {
    if let Some(name) = wanted {
        return if exists(name) {
            Ok(name.to_owned())
        } else {
            Err(Error::new(Kind::Element, format!("{what} {name:?} is not in the GStreamer registry (`camd probe` lists what this board has)")))
        };
    }
    candidates
        .iter()
        .find(|name| exists(name))
        .map(|name| (*name).to_owned())
        .ok_or_else(|| {
            Error::new(
                Kind::Element,
                format!(
                    "no {what} available: none of {} is installed",
                    candidates.join(", ")
                ),
            )
        })
}

/// Asks the GStreamer registry whether an element factory exists.
pub fn registry_has(name: &str) -> bool {
    gstreamer::ElementFactory::find(name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtp_codecs_by_name_or_by_static_payload_type() {
        assert_eq!(Codec::from_rtp(Some("h264"), Some(96)), Ok(Codec::H264));
        assert_eq!(Codec::from_rtp(Some("H265"), Some(97)), Ok(Codec::H265));
        assert_eq!(Codec::from_rtp(Some("JPEG"), Some(26)), Ok(Codec::Mjpeg));
        // ffmpeg's MJPEG: payload type 26 and no a=rtpmap, so no encoding-name.
        assert_eq!(Codec::from_rtp(None, Some(26)), Ok(Codec::Mjpeg));
        assert_eq!(
            Codec::from_rtp(Some("VP8"), Some(96)),
            Err("\"VP8\"".into())
        );
        assert!(Codec::from_rtp(None, Some(32))
            .unwrap_err()
            .contains("payload type 32"));
    }

    #[test]
    fn hardware_first_then_software() {
        let have = |n: &str| ["avdec_h264", "v4l2slh264dec", "vah264dec"].contains(&n);
        assert_eq!(
            choose("decoder", None, decoder_candidates(Codec::H264), have).unwrap(),
            "v4l2slh264dec"
        );
        let software_only = |n: &str| n == "avdec_h264";
        assert_eq!(
            choose(
                "decoder",
                None,
                decoder_candidates(Codec::H264),
                software_only
            )
            .unwrap(),
            "avdec_h264"
        );
    }

    #[test]
    fn software_is_last_in_every_list() {
        assert!(is_hardware("v4l2h264dec") && is_hardware("nvjpegenc"));
        assert!(!is_hardware("avdec_h264") && !is_hardware("jpegenc"));
        assert!(
            !is_hardware("x264enc"),
            "unlisted elements are not classified"
        );
        let lists = [Codec::H264, Codec::H265, Codec::Mjpeg]
            .map(decoder_candidates)
            .into_iter()
            .chain([ENCODER_CANDIDATES, CONVERTER_CANDIDATES]);
        for list in lists {
            let first_software = list.iter().position(|n| !is_hardware(n)).unwrap();
            assert!(
                list[first_software..].iter().all(|n| !is_hardware(n)),
                "{list:?}"
            );
        }
    }

    #[test]
    fn an_override_must_exist() {
        let have = |n: &str| n == "avdec_h264";
        assert_eq!(
            choose("decoder", Some("avdec_h264"), &[], have).unwrap(),
            "avdec_h264"
        );
        let err = choose("decoder", Some("nvv4l2decoder"), &[], have)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"nvv4l2decoder\" is not in the GStreamer registry"),
            "{err}"
        );
        let err = choose("decoder", None, decoder_candidates(Codec::H265), |_| false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no decoder available"), "{err}");
    }
}
