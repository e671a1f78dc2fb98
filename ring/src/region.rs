//! `Region`: typed access to a validated ring mapping. It is the only place that turns offsets
//! into references; everything else asks it for the frame index, the liveness line, the status
//! block or a slot. A region does not own its memory: the `Writer` or `Reader` that made it
//! keeps the mapping alive (a heap buffer in the tests that run under miri).

use crate::layout::*;
use crate::validate::Geometry;
use core::ptr::NonNull;

pub(crate) struct Region {
    base: NonNull<u8>,
    len: usize,
    pub(crate) geometry: Geometry,
}

// SAFETY: a Region only hands out `&` references to atomics (which are Sync) and raw pointers
// to frame bytes, which are accessed through `shared_bytes` with the seqlock protocol; nothing
// in it is tied to the thread that created it.
unsafe impl Send for Region {}
// SAFETY: as for Send: shared use only reaches atomics and seqlock-guarded byte copies.
unsafe impl Sync for Region {}

impl Region {
    /// # Safety
    /// `base .. base + len` must be readable (and writable, if any writer method is used) and
    /// stay mapped for the life of the region; `base` must be 8-byte aligned; `geometry` must be
    /// the result of `validate_header` over this memory with `file_len == len`.
    pub(crate) unsafe fn new(base: NonNull<u8>, len: usize, geometry: Geometry) -> Self {
        debug_assert_eq!(geometry.file_size, len as u64);
        debug_assert_eq!(base.as_ptr() as usize % 8, 0);
        Self {
            base,
            len,
            geometry,
        }
    }

    /// # Safety
    /// `offset + size_of::<T>() <= len`, `offset` suitably aligned for `T`, and `T` a layout
    /// struct made only of atomics (layout.rs: the frame index, liveness line, status block and
    /// slot header are, reserved fields included), so a `&T` stays sound while other processes
    /// write any of its bytes.
    unsafe fn at<T>(&self, offset: usize) -> &T {
        debug_assert!(offset + core::mem::size_of::<T>() <= self.len);
        // SAFETY: the caller's contract: the range is inside the live mapping, aligned for `T`,
        // and `T` is made of atomics only.
        unsafe { &*(self.base.as_ptr().add(offset) as *const T) }
    }

    pub(crate) fn index(&self) -> &FrameIndex {
        // SAFETY: INDEX_OFFSET + 64 <= HEADER_SIZE <= len (validated), 64-aligned.
        unsafe { self.at(INDEX_OFFSET) }
    }

    pub(crate) fn liveness(&self) -> &Liveness {
        // SAFETY: as for `index`.
        unsafe { self.at(LIVENESS_OFFSET) }
    }

    pub(crate) fn status(&self) -> &StatusBlock {
        // SAFETY: as for `index`.
        unsafe { self.at(STATUS_OFFSET) }
    }

    pub(crate) fn slot_capacity(&self) -> u32 {
        self.geometry.slot_capacity
    }

    /// The slot that holds (or will hold) frame `seq`.
    pub(crate) fn slot_of(&self, seq: u64) -> u32 {
        (seq % u64::from(self.geometry.slot_count)) as u32
    }

    pub(crate) fn slot(&self, index: u32) -> &SlotHeader {
        assert!(index < self.geometry.slot_count);
        // SAFETY: validate_header proved slots_offset + slot_count * slot_stride <= file_size,
        // and slot offsets are multiples of 64.
        unsafe { self.at(self.geometry.slot_offset(index)) }
    }

    /// Pointer to the `slot_capacity` frame bytes of slot `index`.
    pub(crate) fn slot_data(&self, index: u32) -> *mut u8 {
        assert!(index < self.geometry.slot_count);
        // SAFETY: slot header + capacity <= stride, and the whole slot lies inside the mapping.
        unsafe {
            self.base
                .as_ptr()
                .add(self.geometry.slot_offset(index) + SLOT_HEADER_SIZE as usize)
        }
    }
}
