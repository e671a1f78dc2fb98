//! When a frame reached camd, in the host's clocks. A frame's ring timestamps are its capture
//! time, not its publish time, so the age a reader computes includes decode, scale and encode:
//! - from an RTSP camera, when the frame was complete at camd: the pipeline clock read as the
//!   depayloader hands the frame on ([`Arrivals`], looked up by PTS at the appsink). Not the
//!   buffer's PTS itself: rtpjitterbuffer smooths it from RTP time, and it runs tens of ms
//!   before or after the real arrival (FIELD-NOTES);
//! - from other sources, the buffer's PTS on the pipeline clock (v4l2src: the driver's capture
//!   timestamp).
//!
//! The pipeline clock need not be CLOCK_MONOTONIC, so the frame's age on that clock is measured
//! and taken back from both host clocks now.
//!
//! The camera's own capture time: rtspsrc (`add-reference-timestamp-meta`) stamps every packet
//! after the camera's first RTCP sender report with the report's NTP clock, carried to the
//! appsink as a `timestamp/x-ntp` reference timestamp meta (ns since 1900); the ring takes it
//! in ns since the Unix epoch.

use gstreamer as gst;
use gstreamer::prelude::*;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// More frames than are ever between a depayloader and the appsink (decoders hold up to 16).
const MAX_IN_FLIGHT: usize = 64;

/// When each frame left the depayloader, by PTS, on the pipeline clock.
#[derive(Default)]
pub struct Arrivals {
    recent: Mutex<VecDeque<(gst::ClockTime, gst::ClockTime)>>,
}

impl Arrivals {
    /// Notes, for every frame that leaves `depay`, the pipeline clock's time then.
    pub fn watch(depay: &gst::Element) -> Arc<Arrivals> {
        let arrivals = Arc::new(Arrivals::default());
        if let Some(pad) = depay.static_pad("src") {
            let noted = arrivals.clone();
            pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
                let pts = info.buffer().and_then(|b| b.pts());
                let now = pad
                    .parent_element()
                    .and_then(|e| e.clock())
                    .and_then(|c| c.time());
                if let (Some(pts), Some(now)) = (pts, now) {
                    noted.note(pts, now);
                }
                gst::PadProbeReturn::Ok
            });
        }
        arrivals
    }

    fn note(&self, pts: gst::ClockTime, at: gst::ClockTime) {
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() == MAX_IN_FLIGHT {
                recent.pop_front();
            }
            recent.push_back((pts, at));
        }
    }

    /// When the frame of `pts` arrived; forgets it and every frame of an earlier PTS (frames
    /// come out in PTS order: one passed by is not coming). Frames arrive in decode order, so a
    /// later-PTS frame noted before it (a P-frame before its B-frames) stays.
    fn take(&self, pts: gst::ClockTime) -> Option<gst::ClockTime> {
        let mut recent = self.recent.lock().ok()?;
        let at = recent.iter().find(|&&(p, _)| p == pts).map(|&(_, at)| at);
        recent.retain(|&(p, _)| p > pts);
        at
    }
}

/// A frame older than this by its timestamps is a timestamp gone wrong (a source that stamps
/// with another epoch): its publish time stands in.
const MAX_AGE_NS: u64 = 10_000_000_000;

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_TO_UNIX_S: u64 = 2_208_988_800;

/// CLOCK_MONOTONIC and CLOCK_REALTIME capture times in ns (0 means "now" to the ring), and the
/// camera's own, in ns since the Unix epoch, when it sends RTCP sender reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureTime {
    pub mono_ns: u64,
    pub realtime_ns: u64,
    pub camera_ns: Option<u64>,
}

impl CaptureTime {
    /// The capture time of `sample`'s buffer, as `sink` sees it now: its arrival if `arrivals`
    /// noted it, else its PTS; `NOW` when neither is known or the age is not believable.
    pub fn of(
        sink: &impl IsA<gst::Element>,
        sample: &gst::Sample,
        arrivals: Option<&Arrivals>,
    ) -> CaptureTime {
        let host = Self::age_on_pipeline_clock(sink, sample, arrivals)
            .map(|age| Self::before_now(age, camd_ring::monotonic_ns(), camd_ring::realtime_ns()))
            .unwrap_or(Self::NOW);
        CaptureTime {
            camera_ns: sample.buffer().and_then(camera_time),
            ..host
        }
    }

    /// "Now": the ring stamps the frame when it is published.
    pub const NOW: CaptureTime = CaptureTime {
        mono_ns: 0,
        realtime_ns: 0,
        camera_ns: None,
    };

    /// `age_ns` before the given host clock readings; `NOW` beyond `MAX_AGE_NS`.
    fn before_now(age_ns: u64, now_mono: u64, now_real: u64) -> CaptureTime {
        if age_ns > MAX_AGE_NS || age_ns >= now_mono || age_ns >= now_real {
            return Self::NOW;
        }
        CaptureTime {
            mono_ns: now_mono - age_ns,
            realtime_ns: now_real - age_ns,
            camera_ns: None,
        }
    }

    /// Clock time now minus the frame's: its arrival, else base time + running time of its PTS.
    fn age_on_pipeline_clock(
        sink: &impl IsA<gst::Element>,
        sample: &gst::Sample,
        arrivals: Option<&Arrivals>,
    ) -> Option<u64> {
        let pts = sample.buffer()?.pts()?;
        let now = sink.clock()?.time()?;
        let at = match arrivals.and_then(|a| a.take(pts)) {
            Some(arrived) => arrived,
            None => {
                let segment = sample.segment()?.downcast_ref::<gst::ClockTime>()?;
                sink.base_time()? + segment.to_running_time(pts)?
            }
        };
        // A buffer stamped ahead of the clock counts as captured now.
        Some(now.nseconds().saturating_sub(at.nseconds()))
    }
}

/// The camera's capture time of `buffer`, from its first `timestamp/x-ntp` reference meta (a
/// buffer may carry two), in ns since the Unix epoch. A clock before 1970 is no time.
fn camera_time(buffer: &gst::BufferRef) -> Option<u64> {
    let ntp = buffer
        .iter_meta::<gst::ReferenceTimestampMeta>()
        .find(|m| {
            m.reference()
                .structure(0)
                .is_some_and(|s| s.name() == "timestamp/x-ntp")
        })?
        .timestamp();
    from_ntp(ntp.nseconds())
}

fn from_ntp(ntp_ns: u64) -> Option<u64> {
    ntp_ns
        .checked_sub(NTP_TO_UNIX_S * 1_000_000_000)
        .filter(|&unix| unix > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_age_is_taken_back_from_both_clocks() {
        let t = CaptureTime::before_now(30_000_000, 5_000_000_000, 1_700_000_000_000_000_000);
        assert_eq!(t.mono_ns, 4_970_000_000);
        assert_eq!(t.realtime_ns, 1_699_999_999_970_000_000);
    }

    #[test]
    fn an_arrival_is_found_by_pts_and_forgets_the_frames_before_it() {
        let t = gst::ClockTime::from_mseconds;
        let arrivals = Arrivals::default();
        for i in 1..=3 {
            arrivals.note(t(i * 100), t(i * 100 + 5));
        }
        // Frame 100 was dropped on the way (a held-back frame): 200 is found, 100 forgotten.
        assert_eq!(arrivals.take(t(200)), Some(t(205)));
        assert_eq!(arrivals.take(t(100)), None);
        assert_eq!(arrivals.take(t(300)), Some(t(305)));
        assert_eq!(arrivals.take(t(999)), None);
        // Decode order I0 P3 B1 B2 (arriving in that order), presentation order 0 1 2 3: each
        // keeps its own arrival.
        for (pts, at) in [(0, 10), (3, 11), (1, 12), (2, 13)] {
            arrivals.note(t(pts), t(at));
        }
        for (pts, at) in [(0, 10), (1, 12), (2, 13), (3, 11)] {
            assert_eq!(arrivals.take(t(pts)), Some(t(at)), "frame {pts}");
        }
        for i in 0..(MAX_IN_FLIGHT as u64 + 10) {
            arrivals.note(t(i), t(i));
        }
        assert_eq!(arrivals.recent.lock().unwrap().len(), MAX_IN_FLIGHT);
    }

    #[test]
    fn ntp_time_is_taken_to_the_unix_epoch() {
        let unix = 1_700_000_000_123_456_789;
        assert_eq!(from_ntp(unix + NTP_TO_UNIX_S * 1_000_000_000), Some(unix));
        assert_eq!(from_ntp(5), None);
        assert_eq!(from_ntp(NTP_TO_UNIX_S * 1_000_000_000), None);
    }

    #[test]
    fn the_camera_time_is_the_first_ntp_reference_meta() {
        gst::init().unwrap();
        let mut buffer = gst::Buffer::new();
        let ntp = gst::ClockTime::from_seconds(NTP_TO_UNIX_S + 10);
        {
            let b = buffer.get_mut().unwrap();
            let other = gst::Caps::new_empty_simple("timestamp/x-unix");
            gst::ReferenceTimestampMeta::add(b, &other, gst::ClockTime::from_seconds(3), None);
            let caps = gst::Caps::new_empty_simple("timestamp/x-ntp");
            gst::ReferenceTimestampMeta::add(b, &caps, ntp, None);
            gst::ReferenceTimestampMeta::add(b, &caps, ntp + gst::ClockTime::SECOND, None);
        }
        assert_eq!(camera_time(&buffer), Some(10_000_000_000));
        assert_eq!(camera_time(&gst::Buffer::new()), None);
    }

    #[test]
    fn an_unbelievable_age_stands_for_now() {
        assert_eq!(
            CaptureTime::before_now(MAX_AGE_NS + 1, u64::MAX / 2, u64::MAX / 2),
            CaptureTime::NOW
        );
        assert_eq!(CaptureTime::before_now(10, 5, 100), CaptureTime::NOW);
    }
}
