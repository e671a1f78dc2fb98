//! Only clean frames reach the ring. A client that joins a live H.264/H.265 stream between two
//! keyframes (every connect and reconnect, unless the camera starts each session with one), or
//! that loses packets, gets frames whose references are missing: decoders turn them into grey
//! or green smears, and an inference program cannot tell those from a real picture. So, for
//! every decoder camd may choose:
//! - the parser's output is held back until its first keyframe (nothing before it can decode);
//! - after packet loss the depayloader waits for the next keyframe and asks the camera for one
//!   (RTCP, where the session allows it);
//! - a decoder that can drop what it knows is corrupt (avdec's `output-corrupt`) does, and a
//!   frame any decoder flags `CORRUPTED` is dropped after it.
//!
//! The frames the two probes drop are counted in the ring's `status.drops`; avdec's own drops
//! (`output-corrupt=false`) happen inside the decoder and are not. On a join mid-interval with
//! avdec_h264 it is avdec that holds the smears back (tests/clean_frames.rs): h264parse's first
//! buffers after a join carry no DELTA_UNIT flag, so the keyframe gate lets them through.

use super::pipeline::FrameTarget;
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::Arc;

/// Sets `name` to `value` where the element has such a property (versions and vendors differ).
fn set_if_present(element: &gst::Element, name: &str, value: bool) {
    if element.find_property(name).is_some() {
        element.set_property(name, value);
    }
}

/// An RTP depayloader of H.264/H.265: after a lost packet, wait for a keyframe and ask for one.
pub fn configure_depayloader(depay: &gst::Element) {
    set_if_present(depay, "wait-for-keyframe", true);
    set_if_present(depay, "request-keyframe", true);
}

/// A decoder: never output a frame it knows is corrupt (avdec_*: `output-corrupt=false`), and
/// drop any frame it flags `CORRUPTED`.
pub fn guard_decoder(decoder: &gst::Element, target: &Arc<FrameTarget>) {
    set_if_present(decoder, "output-corrupt", false);
    let Some(pad) = decoder.static_pad("src") else {
        return;
    };
    let target = target.clone();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        match info.buffer() {
            Some(buffer) if buffer.flags().contains(gst::BufferFlags::CORRUPTED) => {
                held_back(&target);
                gst::PadProbeReturn::Drop
            }
            _ => gst::PadProbeReturn::Ok,
        }
    });
}

/// A parser's output: nothing passes until its first keyframe (a buffer without DELTA_UNIT);
/// the probe then removes itself, so frames after it cost nothing.
pub fn hold_until_keyframe(parser: &gst::Element, target: &Arc<FrameTarget>) {
    let Some(pad) = parser.static_pad("src") else {
        return;
    };
    let target = target.clone();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        match info.buffer() {
            Some(buffer) if buffer.flags().contains(gst::BufferFlags::DELTA_UNIT) => {
                held_back(&target);
                gst::PadProbeReturn::Drop
            }
            Some(_) => gst::PadProbeReturn::Remove,
            None => gst::PadProbeReturn::Ok,
        }
    });
}

fn held_back(target: &FrameTarget) {
    if let Ok(mut writer) = target.writer.lock() {
        writer.count_drops(1);
    }
}
