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
//! With `decode = "keyframes"` the parser's output drops every frame that is not a keyframe, on
//! purpose, before any decoder: those are skipped, not held back, and never counted (frames are
//! then counted from the decoder's input).
//!
//! Every frame held back is counted in the ring's `status.drops`. The depayloader (waiting for a
//! keyframe), the parser's gate and the decoder (avdec with `output-corrupt=false`) drop frames
//! without telling anyone, so they are found by timestamp: a frame whose PTS entered the
//! depayloader (or, without one, the decoder) and that a later PTS passes at the decoder's
//! output never came out. A frame whose every packet was lost on the network never entered and
//! is not counted. On a join mid-interval it is the depayloader that holds the frames back
//! until the keyframe (tests/clean_frames.rs).

use super::pipeline::FrameTarget;
use gstreamer as gst;
use gstreamer::prelude::*;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// More frames than any decoder keeps (H.264's largest picture buffer holds 16): a frame this
/// far behind the newest input is not coming out.
const MAX_IN_FLIGHT: usize = 32;

/// The PTS of frames that went into a decoder and have not come out (a multiset, in PTS
/// order: decoders take frames in decode order and output them in presentation order).
/// The RTP packets of one frame share its timestamp: a buffer with the timestamp of the one
/// before it is the same frame.
#[derive(Default)]
struct InFlight {
    pending: BTreeMap<gst::ClockTime, u32>,
    len: usize,
    last_input: Option<gst::ClockTime>,
}

impl InFlight {
    /// A buffer goes in; returns how many old frames are now known to be swallowed.
    fn input(&mut self, pts: gst::ClockTime) -> u64 {
        if self.last_input.replace(pts) == Some(pts) {
            return 0;
        }
        *self.pending.entry(pts).or_insert(0) += 1;
        self.len += 1;
        let mut swallowed = 0;
        while self.len > MAX_IN_FLIGHT {
            self.take_first();
            swallowed += 1;
        }
        swallowed
    }

    /// A frame comes out; returns how many frames before it never did.
    fn output(&mut self, pts: gst::ClockTime) -> u64 {
        let mut swallowed = 0;
        while let Some((&first, _)) = self.pending.first_key_value() {
            if first > pts {
                break;
            }
            self.take_first();
            if first < pts {
                swallowed += 1;
            } else {
                break;
            }
        }
        swallowed
    }

    fn take_first(&mut self) {
        if let Some(mut entry) = self.pending.first_entry() {
            self.len -= 1;
            if *entry.get() > 1 {
                *entry.get_mut() -= 1;
            } else {
                entry.remove();
            }
        }
    }
}

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

/// A decoder: never output a frame it knows is corrupt (avdec_*: `output-corrupt=false`), drop
/// any frame it flags `CORRUPTED`, and count every frame held back between `entry` (the element
/// where frames enter the capture side: the depayloader, or the decoder itself) and the
/// decoder's output: those the depayloader drops waiting for a keyframe, the parser's gate and
/// what the decoder swallows.
///
/// `keyframes_only` (`decode = "keyframes"`, with `keyframes_only` on the parser): the frames
/// that are not keyframes never reach the decoder, on purpose, so they are not held back:
/// frames are then counted from the decoder's input (`drops` counts the keyframes the decoder
/// did not output). Counted from the depayloader, the frames it drops waiting for a keyframe
/// (at every join mid-interval, after every loss) would count, and they are the frames this
/// mode skips.
pub fn guard_decoder(
    decoder: &gst::Element,
    entry: Option<&gst::Element>,
    target: &Arc<FrameTarget>,
    keyframes_only: bool,
) {
    set_if_present(decoder, "output-corrupt", false);
    let entry = if keyframes_only {
        decoder
    } else {
        entry.unwrap_or(decoder)
    };
    let (Some(sink), Some(src)) = (entry.static_pad("sink"), decoder.static_pad("src")) else {
        return;
    };
    let in_flight = Arc::new(Mutex::new(InFlight::default()));
    {
        let (target, in_flight) = (target.clone(), in_flight.clone());
        sink.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(pts) = info.buffer().and_then(|b| b.pts()) {
                let swallowed = in_flight.lock().map(|mut f| f.input(pts)).unwrap_or(0);
                held_back(&target, swallowed);
            }
            gst::PadProbeReturn::Ok
        });
    }
    let target = target.clone();
    src.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        let Some(buffer) = info.buffer() else {
            return gst::PadProbeReturn::Ok;
        };
        if let Some(pts) = buffer.pts() {
            let swallowed = in_flight.lock().map(|mut f| f.output(pts)).unwrap_or(0);
            held_back(&target, swallowed);
        }
        if buffer.flags().contains(gst::BufferFlags::CORRUPTED) {
            held_back(&target, 1);
            gst::PadProbeReturn::Drop
        } else {
            gst::PadProbeReturn::Ok
        }
    });
}

/// `decode = "keyframes"`: a parser's output passes only keyframes (buffers without
/// `DELTA_UNIT`), so no other frame reaches the decoder, hardware or software; those before the
/// first keyframe included (`hold_until_keyframe` is not needed). Not counted anywhere: these
/// frames are skipped, not lost (`guard_decoder` counts from the decoder's input).
pub fn keyframes_only(parser: &gst::Element) {
    let Some(pad) = parser.static_pad("src") else {
        return;
    };
    pad.add_probe(gst::PadProbeType::BUFFER, |_, info| match info.buffer() {
        Some(buffer) if buffer.flags().contains(gst::BufferFlags::DELTA_UNIT) => {
            gst::PadProbeReturn::Drop
        }
        _ => gst::PadProbeReturn::Ok,
    });
}

/// A parser's output: nothing passes until its first keyframe (a buffer without DELTA_UNIT);
/// the probe then removes itself, so frames after it cost nothing. `counted`: the frames it
/// drops are counted already (`guard_decoder` watches them from the depayloader on).
pub fn hold_until_keyframe(parser: &gst::Element, counted: bool, target: &Arc<FrameTarget>) {
    let Some(pad) = parser.static_pad("src") else {
        return;
    };
    let target = target.clone();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        match info.buffer() {
            Some(buffer) if buffer.flags().contains(gst::BufferFlags::DELTA_UNIT) => {
                if !counted {
                    held_back(&target, 1);
                }
                gst::PadProbeReturn::Drop
            }
            Some(_) => gst::PadProbeReturn::Remove,
            None => gst::PadProbeReturn::Ok,
        }
    });
}

fn held_back(target: &FrameTarget, frames: u64) {
    if frames == 0 {
        return;
    }
    if let Ok(mut writer) = target.writer.lock() {
        writer.count_drops(frames);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> gst::ClockTime {
        gst::ClockTime::from_mseconds(v)
    }

    #[test]
    fn frames_out_of_order_in_and_all_out_are_not_swallowed() {
        let mut f = InFlight::default();
        // Decode order I0 P3 B1 B2, presentation order 0 1 2 3.
        for pts in [0, 3, 1, 2] {
            assert_eq!(f.input(ms(pts)), 0);
        }
        for pts in [0, 1, 2, 3] {
            assert_eq!(f.output(ms(pts)), 0);
        }
        assert_eq!(f.len, 0);
    }

    #[test]
    fn frames_passed_by_a_later_output_were_swallowed() {
        let mut f = InFlight::default();
        for pts in 0..5 {
            f.input(ms(pts));
        }
        // The decoder swallows 0..=2 (no keyframe yet) and outputs 3 and 4.
        assert_eq!(f.output(ms(3)), 3);
        assert_eq!(f.output(ms(4)), 0);
        assert!(f.pending.is_empty());
    }

    #[test]
    fn a_decoder_that_outputs_nothing_has_its_frames_counted_past_the_bound() {
        let mut f = InFlight::default();
        let swallowed: u64 = (0..100).map(|pts| f.input(ms(pts))).sum();
        assert_eq!(swallowed, 100 - MAX_IN_FLIGHT as u64);
        assert_eq!(f.len, MAX_IN_FLIGHT);
    }

    #[test]
    fn the_packets_of_one_frame_are_one_frame() {
        let mut f = InFlight::default();
        for pts in [1, 1, 1, 2, 2, 3] {
            f.input(ms(pts));
        }
        assert_eq!(f.len, 3);
        // Frame 2 lost a packet: the depayloader dropped it.
        assert_eq!(f.output(ms(1)), 0);
        assert_eq!(f.output(ms(3)), 1);
        assert_eq!(f.len, 0);
    }

    #[test]
    fn frames_with_one_timestamp_apart_are_counted_one_by_one() {
        let mut f = InFlight::default();
        f.input(ms(1));
        f.input(ms(2));
        f.input(ms(1));
        assert_eq!(f.output(ms(1)), 0);
        assert_eq!(f.output(ms(2)), 1);
        assert_eq!(f.len, 0);
    }
}
