//! Entry point for the fuzz target (`ring/fuzz/fuzz_targets/header.rs`): treats arbitrary bytes
//! as a whole ring file, validates it, and if it passes, reads every frame (with its camera
//! time, and a raw frame's every row) and the status from it exactly as a reader would from a
//! mapping. Any panic or
//! out-of-bounds access is a bug.

use crate::frames;
use crate::region::Region;
use crate::status;
use crate::validate::validate_header;
use core::ptr::NonNull;

#[doc(hidden)]
pub fn read_file_image(bytes: &[u8]) {
    let Ok(geometry) = validate_header(bytes, bytes.len() as u64) else {
        return;
    };
    // An 8-aligned copy, as a mapping would be page-aligned.
    let mut words = vec![0u64; bytes.len().div_ceil(8)];
    let base = NonNull::new(words.as_mut_ptr()).unwrap().cast::<u8>();
    // SAFETY: `words` holds at least bytes.len() bytes and does not overlap `bytes`.
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), base.as_ptr(), bytes.len()) };
    // SAFETY: the buffer outlives the region (both end with this function), is 8-aligned, and
    // the geometry was validated against exactly bytes.len().
    let region = unsafe { Region::new(base, bytes.len(), geometry) };
    let mut out = Vec::new();
    let _ = frames::latest(&region);
    if let (Ok(Some(_)), Some(layout)) = (
        frames::copy_latest(&region, &mut out),
        region.geometry.layout,
    ) {
        // A raw frame's planes, each row of pixels read as a reader of the layout would.
        if let Some(planes) = layout.planes(&out) {
            for (plane, bytes) in planes.iter().enumerate().take(layout.codec.plane_count()) {
                let (row, rows) = layout.plane_shape(plane);
                let stride = layout.plane_strides[plane] as usize;
                for r in 0..rows {
                    let _ = bytes[r * stride..r * stride + row]
                        .iter()
                        .fold(0u8, |a, b| a ^ b);
                }
            }
        }
    }
    if let Ok(Some(frame)) = frames::borrow_latest(&region) {
        // SAFETY: no other writer exists here; each byte is read once.
        let _ = unsafe { frame.bytes() }.iter().fold(0u8, |a, b| a ^ b);
        let _ = frame.is_intact();
        let _ = frame.camera_time_ns();
    }
    for index in 0..region.geometry.slot_count {
        let seq = region
            .slot(index)
            .seq
            .load(core::sync::atomic::Ordering::Relaxed)
            >> 1;
        let _ = frames::copy(&region, seq, &mut out);
        let _ = frames::camera_time(&region, seq);
    }
    let _ = status::try_load(region.status());
}
