//! The writer's half of the frame and status protocols, over a `Region` (a mapped file in
//! production, a heap buffer under miri). `docs/ring-format.md` ("Publishing a frame") states
//! the same steps for implementers in other languages.

use crate::clock;
use crate::error::ErrorKind;
use crate::futex;
use crate::layout::{COMPAT_CAMERA_TIME, SLOT_FLAG_CAMERA_TIME};
use crate::region::Region;
use crate::shared_bytes;
use crate::status::{self, State, Status};
use core::sync::atomic::{fence, Ordering};

/// What a writer knows about a frame besides its bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameInfo {
    pub width: u32,
    pub height: u32,
    /// CLOCK_MONOTONIC capture time in ns; 0 means "now".
    pub ts_mono_ns: u64,
    /// CLOCK_REALTIME capture time in ns; 0 means "now".
    pub ts_realtime_ns: u64,
    /// The camera's own capture time of the frame, ns since the Unix epoch by the camera's clock
    /// (its RTCP sender reports' NTP time); `None`: the camera gave no time for this frame.
    pub ts_camera_ns: Option<u64>,
}

const FPS_WINDOW_NS: u64 = 1_000_000_000;

/// `slot.flags` and `slot.ts_camera_ns` for a frame: the camera's time and its flag, or zeros
/// when the camera gave none (or 0, which the format reserves for "none") or the file does not announce camera times (`COMPAT_CAMERA_TIME`:
/// a file an older writer made and this one took over, whose readers ignore them).
fn camera_time_fields(region: &Region, ts_camera_ns: Option<u64>) -> (u32, u64) {
    match ts_camera_ns {
        Some(ns) if ns != 0 && region.geometry.compat_features & COMPAT_CAMERA_TIME != 0 => {
            (SLOT_FLAG_CAMERA_TIME, ns)
        }
        _ => (0, 0),
    }
}

pub(crate) struct Publisher {
    pub(crate) region: Region,
    status: Status,
    next_seq: u64,
    fps_window_start_ns: u64,
    fps_window_frames: u64,
}

impl Publisher {
    /// Takes over `region` as its only writer, continuing its sequence numbers and keeping its
    /// counters; `status` is what the block holds now, with pid and generation already updated.
    pub(crate) fn new(region: Region, status: Status) -> Self {
        let next_seq = region.index().latest_seq.load(Ordering::Relaxed) + 1;
        let mut publisher = Self {
            region,
            status,
            next_seq,
            fps_window_start_ns: clock::monotonic_ns(),
            fps_window_frames: 0,
        };
        status::store(publisher.region.status(), &publisher.status);
        publisher.beat(clock::monotonic_ns(), clock::realtime_ns());
        publisher
    }

    pub(crate) fn status(&self) -> &Status {
        &self.status
    }

    /// Copies `bytes` into the next slot and makes it the latest frame. The one copy of the
    /// frame's bytes on the publish path is the one into the slot.
    pub(crate) fn publish(&mut self, bytes: &[u8], info: &FrameInfo) -> Result<u64, ErrorKind> {
        let capacity = self.region.slot_capacity();
        if bytes.is_empty() {
            return Err(ErrorKind::Invalid("empty frame: nothing published".into()));
        }
        if bytes.len() > capacity as usize {
            self.status.oversize += 1;
            status::store(self.region.status(), &self.status);
            return Err(ErrorKind::Oversize {
                len: bytes.len(),
                capacity,
            });
        }
        // Each clock is read once per frame: for the heartbeat, and for the timestamps the
        // caller left to "now".
        let (now_mono, now_real) = (clock::monotonic_ns(), clock::realtime_ns());
        let ts_mono = if info.ts_mono_ns == 0 {
            now_mono
        } else {
            info.ts_mono_ns
        };
        let ts_real = if info.ts_realtime_ns == 0 {
            now_real
        } else {
            info.ts_realtime_ns
        };
        let (flags, ts_camera) = camera_time_fields(&self.region, info.ts_camera_ns);
        let seq = self.next_seq;
        let index = self.region.slot_of(seq);
        let slot = self.region.slot(index);

        // 1. Mark the slot as being written (odd), ordered before every byte that follows.
        slot.seq.store((seq << 1) | 1, Ordering::Relaxed);
        fence(Ordering::Release);
        // 2. Bytes and metadata.
        // SAFETY: slot_data(index) points at `capacity` writable bytes of the mapping and
        // bytes.len() <= capacity (checked above); only this writer writes slots.
        unsafe { shared_bytes::store(self.region.slot_data(index), bytes) };
        slot.len.store(bytes.len() as u32, Ordering::Relaxed);
        slot.width.store(info.width, Ordering::Relaxed);
        slot.height.store(info.height, Ordering::Relaxed);
        slot.flags.store(flags, Ordering::Relaxed);
        slot.ts_realtime_ns.store(ts_real, Ordering::Relaxed);
        slot.ts_mono_ns.store(ts_mono, Ordering::Relaxed);
        slot.ts_camera_ns.store(ts_camera, Ordering::Relaxed);
        // 3. Complete (even), released so a reader that sees it sees the bytes.
        slot.seq.store(seq << 1, Ordering::Release);
        // 4. Make it the latest.
        self.region.index().latest_seq.store(seq, Ordering::Release);
        self.next_seq = seq + 1;
        // 5. Wake blocked readers: bump the futex word, then wake whoever sleeps on it. Every
        //    publish makes the wake syscall (about 0.2 us when nobody sleeps): knowing whether
        //    someone sleeps would need a count that readers write, and a file readers can write
        //    is one they can truncate under the writer's mapping (see docs/ring-format.md).
        self.region.index().notify.fetch_add(1, Ordering::SeqCst);
        futex::wake_all(&self.region.index().notify);
        self.fps_window_frames += 1;
        self.beat(now_mono, now_real);
        Ok(seq)
    }

    /// A sign of life without a frame. Call at least every second while no frames come.
    pub(crate) fn heartbeat(&mut self) {
        self.beat(clock::monotonic_ns(), clock::realtime_ns());
    }

    fn beat(&mut self, now_mono: u64, now_real: u64) {
        let liveness = self.region.liveness();
        liveness
            .heartbeat_mono_ns
            .store(now_mono, Ordering::Release);
        liveness
            .heartbeat_realtime_ns
            .store(now_real, Ordering::Release);
        let elapsed = now_mono.saturating_sub(self.fps_window_start_ns);
        if elapsed >= FPS_WINDOW_NS {
            let fps_milli = self.fps_window_frames.saturating_mul(1_000_000_000_000) / elapsed;
            self.fps_window_start_ns = now_mono;
            self.fps_window_frames = 0;
            if self.status.fps_milli as u64 != fps_milli {
                self.status.fps_milli = fps_milli.min(u64::from(u32::MAX)) as u32;
                status::store(self.region.status(), &self.status);
            }
        }
    }

    /// Changes the status block (one consistent update, visible to readers at once). The
    /// writer's own fields (pid, generation) are restored if `change` touches them.
    pub(crate) fn update_status(&mut self, change: impl FnOnce(&mut Status)) {
        let (pid, generation) = (self.status.writer_pid, self.status.generation);
        let before = self.status.state;
        change(&mut self.status);
        self.status.writer_pid = pid;
        self.status.generation = generation;
        if self.status.state != before {
            self.status.state_since_realtime_ns = clock::realtime_ns();
        }
        let now_mono = clock::monotonic_ns();
        if self.status.state == State::Stopped {
            // No frame comes after `stopped`, and no heartbeat to age the rate: it is 0 now.
            self.status.fps_milli = 0;
            self.fps_window_start_ns = now_mono;
            self.fps_window_frames = 0;
        }
        status::store(self.region.status(), &self.status);
        self.beat(now_mono, clock::realtime_ns());
    }
}
