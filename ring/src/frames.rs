//! The reader's half of the frame protocol, over a `Region`: the latest frame's metadata, a
//! copy that is never torn, a borrow that tells afterwards whether it was overwritten, a
//! frame's camera time, and the blocking wait. `docs/ring-format.md` ("Reading a frame") states
//! the same steps.

use crate::clock;
use crate::error::{ErrorKind, FormatError};
use crate::futex;
use crate::layout::{COMPAT_CAMERA_TIME, COMPAT_WAKE_EVERY_PUBLISH, SLOT_FLAG_CAMERA_TIME};
use crate::region::Region;
use crate::shared_bytes;
use core::sync::atomic::{fence, Ordering};
use std::time::{Duration, Instant};

/// How many times a read starts over because the writer overwrote the slot under it before
/// giving up with `ErrorKind::Contended`. With two or more slots a reader loses a race only
/// when it is slower than `slot_count - 1` whole frames, so this bound is reached only by a
/// reader that is being starved.
pub(crate) const MAX_TRIES: u32 = 1000;

/// How often a wait polls a file whose writer does not wake every publish (camd 0.1's files,
/// without `COMPAT_WAKE_EVERY_PUBLISH`).
const POLL_INTERVAL: Duration = Duration::from_millis(2);

/// A frame's metadata, read consistently with its slot's sequence lock. Also the C ABI's
/// `camd_frame_meta` (same layout, asserted in the header).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct FrameMeta {
    /// 1 for the first frame the ring ever held, +1 for each frame after.
    pub seq: u64,
    /// CLOCK_REALTIME capture time, ns since the Unix epoch.
    pub ts_realtime_ns: u64,
    /// CLOCK_MONOTONIC capture time, ns (comparable with any process's CLOCK_MONOTONIC).
    pub ts_mono_ns: u64,
    /// Length of the frame in bytes (for raw pixels, always the layout's `frame_size`).
    pub len: u32,
    pub width: u32,
    pub height: u32,
    /// The slot that holds it.
    pub slot: u32,
}

impl FrameMeta {
    /// Time since capture, by CLOCK_MONOTONIC.
    pub fn age(&self) -> Duration {
        Duration::from_nanos(clock::monotonic_ns().saturating_sub(self.ts_mono_ns))
    }
}

/// A frame is no longer in the ring: the writer has reused its slot for a newer frame. (Also
/// the answer for metadata that names no frame of this ring, which no reader method returns.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameGone {
    /// The frame asked about.
    pub seq: u64,
}

impl core::fmt::Display for FrameGone {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "frame {} is no longer in the ring (its slot holds a newer frame)",
            self.seq
        )
    }
}

impl std::error::Error for FrameGone {}

/// True if `seq` can be a frame's number: frames start at 1, and stay below 2^63 so that
/// `seq << 1` (a slot's sequence word) does not overflow. 0 is an unused slot's word.
fn is_frame_number(seq: u64) -> bool {
    seq != 0 && seq < 1 << 63
}

/// Outcome of one consistent look at a slot.
enum Look {
    Frame(FrameMeta),
    /// The slot no longer (or not yet) holds the asked frame.
    Moved,
}

/// Reads frame `seq`'s metadata if its slot holds it complete. A length beyond the slot is an
/// error only when read consistently (a torn read just starts over).
fn look(region: &Region, seq: u64) -> Result<Look, FormatError> {
    if !is_frame_number(seq) {
        return Ok(Look::Moved);
    }
    let index = region.slot_of(seq);
    let slot = region.slot(index);
    let word = slot.seq.load(Ordering::Acquire);
    if word != seq << 1 {
        return Ok(Look::Moved);
    }
    let meta = FrameMeta {
        seq,
        len: slot.len.load(Ordering::Relaxed),
        width: slot.width.load(Ordering::Relaxed),
        height: slot.height.load(Ordering::Relaxed),
        ts_realtime_ns: slot.ts_realtime_ns.load(Ordering::Relaxed),
        ts_mono_ns: slot.ts_mono_ns.load(Ordering::Relaxed),
        slot: index,
    };
    fence(Ordering::Acquire);
    if slot.seq.load(Ordering::Relaxed) != word {
        return Ok(Look::Moved);
    }
    if meta.len > region.slot_capacity() {
        return Err(FormatError::new(
            format!("slot[{index}].len"),
            format!(
                "is {} bytes, beyond the slot capacity of {}",
                meta.len,
                region.slot_capacity()
            ),
        ));
    }
    if let Some(layout) = &region.geometry.layout {
        if meta.len != layout.frame_size {
            return Err(FormatError::new(
                format!("slot[{index}].len"),
                format!(
                    "is {} bytes, but every {} frame of this ring is {}",
                    meta.len,
                    layout.codec.name(),
                    layout.frame_size
                ),
            ));
        }
    }
    Ok(Look::Frame(meta))
}

/// Frame `seq`'s capture time by the camera's clock, read under its slot's sequence lock:
/// `Ok(None)` if the frame has none (the camera gave none, or the file's writer does not announce
/// camera times with `COMPAT_CAMERA_TIME`), `Err` if the ring no longer holds the frame.
pub(crate) fn camera_time(region: &Region, seq: u64) -> Result<Option<u64>, FrameGone> {
    let gone = FrameGone { seq };
    if !is_frame_number(seq) {
        return Err(gone);
    }
    let slot = region.slot(region.slot_of(seq));
    let word = slot.seq.load(Ordering::Acquire);
    if word != seq << 1 {
        return Err(gone);
    }
    let flags = slot.flags.load(Ordering::Relaxed);
    let ts_camera_ns = slot.ts_camera_ns.load(Ordering::Relaxed);
    fence(Ordering::Acquire);
    if slot.seq.load(Ordering::Relaxed) != word {
        return Err(gone); // the writer began a newer frame in the slot: this one is gone for good
    }
    let announced = region.geometry.compat_features & COMPAT_CAMERA_TIME != 0;
    Ok((announced && flags & SLOT_FLAG_CAMERA_TIME != 0).then_some(ts_camera_ns))
}

/// True while the slot of `meta` still holds that frame.
pub(crate) fn intact(region: &Region, meta: &FrameMeta) -> bool {
    if meta.slot >= region.geometry.slot_count {
        return false;
    }
    fence(Ordering::Acquire);
    region.slot(meta.slot).seq.load(Ordering::Relaxed) == meta.seq << 1
}

pub(crate) fn latest_seq(region: &Region) -> u64 {
    region.index().latest_seq.load(Ordering::Acquire)
}

/// The newest frame's metadata; `None` before the first frame.
pub(crate) fn latest(region: &Region) -> Result<Option<FrameMeta>, ErrorKind> {
    for _ in 0..MAX_TRIES {
        let seq = latest_seq(region);
        if seq == 0 {
            return Ok(None);
        }
        if let Look::Frame(meta) = look(region, seq).map_err(ErrorKind::Format)? {
            return Ok(Some(meta));
        }
    }
    Err(ErrorKind::Contended { tries: MAX_TRIES })
}

/// Where a copy goes: given the frame's length, the buffer to fill (exactly that long), or
/// `None` if the caller's buffer is too small.
pub(crate) trait CopySink {
    fn buffer(&mut self, len: usize) -> Option<&mut [u8]>;
    fn available(&self) -> usize;
}

impl CopySink for Vec<u8> {
    fn buffer(&mut self, len: usize) -> Option<&mut [u8]> {
        self.resize(len, 0);
        Some(self)
    }
    fn available(&self) -> usize {
        usize::MAX
    }
}

impl CopySink for &mut [u8] {
    fn buffer(&mut self, len: usize) -> Option<&mut [u8]> {
        self.get_mut(..len)
    }
    fn available(&self) -> usize {
        self.len()
    }
}

/// Copies frame `seq` into `out`. `None` if the ring does not hold it (not published yet, or
/// overwritten before or during the copy).
pub(crate) fn copy(
    region: &Region,
    seq: u64,
    out: &mut impl CopySink,
) -> Result<Option<FrameMeta>, ErrorKind> {
    let meta = match look(region, seq).map_err(ErrorKind::Format)? {
        Look::Frame(meta) => meta,
        Look::Moved => return Ok(None),
    };
    let available = out.available();
    let buffer = out
        .buffer(meta.len as usize)
        .ok_or(ErrorKind::BufferTooSmall {
            needed: meta.len as usize,
            available,
        })?;
    // SAFETY: slot_data points at slot_capacity bytes of the mapping and len <= capacity
    // (checked by `look`); `buffer` is the caller's own memory, exactly len bytes. A concurrent
    // overwrite is detected below.
    unsafe { shared_bytes::load(buffer, region.slot_data(meta.slot)) };
    Ok(intact(region, &meta).then_some(meta))
}

/// Copies the newest frame, starting over when the writer overwrites it mid-copy: the result is
/// never torn.
pub(crate) fn copy_latest(
    region: &Region,
    out: &mut impl CopySink,
) -> Result<Option<FrameMeta>, ErrorKind> {
    for _ in 0..MAX_TRIES {
        let seq = latest_seq(region);
        if seq == 0 {
            return Ok(None);
        }
        if let Some(meta) = copy(region, seq, out)? {
            return Ok(Some(meta));
        }
    }
    Err(ErrorKind::Contended { tries: MAX_TRIES })
}

/// The newest frame's bytes in place, in the shared mapping.
///
/// The bytes stay readable for the borrow's life, but the writer does not wait for readers:
/// once it has published `slot_count - 1` newer frames it reuses the slot, and the bytes change
/// under the borrow. `is_intact` (or `finish`) tells whether that happened; a caller that gets
/// `false` discards whatever it computed from the bytes.
///
/// The borrow holds a raw pointer; `bytes()` lends a slice of it, which is `unsafe` because the
/// slice's contents may change while it is borrowed (see its contract). `copy_latest` is the
/// safe alternative.
pub struct BorrowedFrame<'a> {
    region: &'a Region,
    meta: FrameMeta,
    data: *const u8,
}

impl<'a> BorrowedFrame<'a> {
    pub fn meta(&self) -> &FrameMeta {
        &self.meta
    }

    /// The frame's bytes in the shared mapping (always inside it: the length was checked
    /// against the slot).
    ///
    /// # Safety
    /// The writer may rewrite these bytes while the slice is alive (then `is_intact` turns
    /// false). Rust assumes the contents of a `&[u8]` do not change: in its abstract machine a
    /// write racing the slice's reads is undefined behaviour whatever the caller does, so this
    /// is outside what Rust guarantees, as every zero-copy view of memory another process writes
    /// is (the C and Python bindings' in-place views are the same memory). What keeps it sound
    /// in practice, and what the caller must keep true: the writer is another process (camd's
    /// is), whose writes the compiler cannot see; and the caller makes no decision that memory
    /// safety depends on from a value it reads twice and expects equal (a length read once for a
    /// bounds check and again for an index, say: the compiler may also re-read). Reading each
    /// byte as untrusted data, as a hash, a copy or a decoder written for untrusted input does,
    /// is that. A caller that wants only defined behaviour copies instead (`copy_latest`,
    /// shared_bytes.rs says on what terms).
    pub unsafe fn bytes(&self) -> &[u8] {
        // SAFETY: `borrow_latest` checked len <= slot_capacity, so the range lies inside the
        // slot, inside the mapping that `region` keeps alive; the caller accepts the contract
        // above about concurrent changes.
        unsafe { core::slice::from_raw_parts(self.data, self.meta.len as usize) }
    }

    /// Pointer to the frame's first byte (`meta().len` bytes), for FFI.
    pub fn as_ptr(&self) -> *const u8 {
        self.data
    }

    /// True if the slot still holds this frame: everything read from `bytes` so far was the
    /// frame's.
    pub fn is_intact(&self) -> bool {
        intact(self.region, &self.meta)
    }

    /// The frame's capture time by the camera's clock (see `Reader::camera_time_ns`).
    pub fn camera_time_ns(&self) -> Result<Option<u64>, FrameGone> {
        camera_time(self.region, self.meta.seq)
    }

    /// Ends the borrow; `Err(meta)` if the frame was overwritten while borrowed.
    pub fn finish(self) -> Result<FrameMeta, FrameMeta> {
        if self.is_intact() {
            Ok(self.meta)
        } else {
            Err(self.meta)
        }
    }
}

pub(crate) fn borrow_latest(region: &Region) -> Result<Option<BorrowedFrame<'_>>, ErrorKind> {
    let Some(meta) = latest(region)? else {
        return Ok(None);
    };
    Ok(Some(BorrowedFrame {
        region,
        meta,
        data: region.slot_data(meta.slot),
    }))
}

/// Blocks until a frame newer than `after_seq` is published, or `timeout` passes, or the file is
/// retired (a newer file replaced it: no frame will come here); `Ok(None)` for the last two.
/// A file whose writer wakes on every publish (`COMPAT_WAKE_EVERY_PUBLISH`) is waited for on its
/// futex; another is polled every `POLL_INTERVAL`.
pub(crate) fn wait_next(
    region: &Region,
    after_seq: u64,
    timeout: Duration,
) -> Result<Option<FrameMeta>, ErrorKind> {
    // A timeout too large for Instant means "no deadline" in practice: about 30 years.
    let deadline = Instant::now()
        .checked_add(timeout)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(1 << 30));
    loop {
        // Read the futex word before checking the condition, so that a publish between the
        // check and the sleep changes the word and the sleep returns at once.
        let notify = region.index().notify.load(Ordering::SeqCst);
        if latest_seq(region) > after_seq {
            return latest(region);
        }
        let now = Instant::now();
        if now >= deadline || region.liveness().retired.load(Ordering::Acquire) != 0 {
            return Ok(None);
        }
        let mut slice = deadline - now;
        if !wakes_every_publish(region) {
            slice = slice.min(POLL_INTERVAL);
        }
        // The writer bumps `notify` after making the frame the latest, then wakes; the kernel
        // compares `notify` with the value read before the check above, so a publish between
        // that check and the sleep makes the wait return at once: no lost wake-up.
        futex::wait(&region.index().notify, notify, slice);
    }
}

/// True if the file's writer wakes the futex after every publish (`COMPAT_WAKE_EVERY_PUBLISH`).
pub(crate) fn wakes_every_publish(region: &Region) -> bool {
    region.geometry.compat_features & COMPAT_WAKE_EVERY_PUBLISH != 0
}
