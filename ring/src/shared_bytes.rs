//! Copies of byte ranges that another process may write at the same time. Such a copy may see a
//! mix of old and new bytes; the seqlock around it (slot or status `seq`) tells the caller
//! whether to keep the result. Bytes have no invalid values, so a torn copy is wrong data, and
//! the copy is one pass into the caller's own buffer, never read twice.
//!
//! What this needs is the "atomic per-byte memcpy" of C++ proposal P1478, which Rust does not
//! have. Normal builds use `ptr::copy_nonoverlapping`: in Rust's abstract machine a
//! non-atomic read racing a write is undefined behaviour, whoever the writer is. camd accepts
//! that here, and only here, on these grounds: the racing writer is always another process
//! (the reader's own writes never alias), which the compiler cannot see, so it has nothing to
//! optimise on; each byte is read once; and the hardware copies memory this way anyway. Under
//! miri each byte is a relaxed atomic access instead, so miri's data-race detector checks the
//! protocol around the copy (the seqlock), not this copy itself. Relaxed word-sized atomics in
//! every build would make the copy defined, and were measured: this file's `load` and `store`
//! rewritten as `AtomicU64` relaxed accesses on the 8-aligned words, `AtomicU8` at either end
//! (a local build, not kept; `cargo xtask bench ring` with each, 2026-12-02, minutes apart): publish of 64 KiB 3.19 times a memcpy (target
//! 1.3; 1.24 with this copy), 1 MiB 1.42 (1.01), `copy_read_256k` 35.5 µs against 6.1 µs. The
//! compiler cannot vectorise atomics, so that is the price of the change: not paid.

#[cfg(not(miri))]
pub(crate) unsafe fn load(dst: &mut [u8], src: *const u8) {
    // SAFETY: by the caller's contract, `src .. src + dst.len()` is inside a live mapping and does not overlap
    // `dst`, which is the caller's own memory.
    unsafe { core::ptr::copy_nonoverlapping(src, dst.as_mut_ptr(), dst.len()) };
}

#[cfg(not(miri))]
pub(crate) unsafe fn store(dst: *mut u8, src: &[u8]) {
    // SAFETY: by the caller's contract, `dst .. dst + src.len()` is inside a live writable mapping that only this
    // writer writes, and does not overlap `src`.
    unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len()) };
}

#[cfg(miri)]
pub(crate) unsafe fn load(dst: &mut [u8], src: *const u8) {
    use core::sync::atomic::{AtomicU8, Ordering};
    for (i, out) in dst.iter_mut().enumerate() {
        // SAFETY: as above; AtomicU8 has the size and alignment of u8.
        *out = unsafe { (*(src.add(i) as *const AtomicU8)).load(Ordering::Relaxed) };
    }
}

#[cfg(miri)]
pub(crate) unsafe fn store(dst: *mut u8, src: &[u8]) {
    use core::sync::atomic::{AtomicU8, Ordering};
    for (i, byte) in src.iter().enumerate() {
        // SAFETY: as above.
        unsafe { (*(dst.add(i) as *const AtomicU8)).store(*byte, Ordering::Relaxed) };
    }
}
