//! The C ABI over `Reader` (see `include/camd_ring.h`, which documents every function). C, C++
//! and Python (ctypes) readers all go through these functions, so every language shares the
//! Rust implementation of validation and of the read protocol.
//!
//! Conventions: functions return 0 (`CAMD_RING_OK`) or a positive outcome code
//! (`CAMD_RING_NO_FRAME`, `CAMD_RING_TIMEOUT`) or a negative error code; the message of the last
//! error on the calling thread is `camd_ring_last_error()`. No function panics across the
//! boundary: a panic becomes `CAMD_RING_E_INTERNAL`.

use crate::error::{ErrorKind, RingError};
use crate::frames::FrameMeta;
use crate::layout::{encode_text, CODEC_LEN, ELEMENT_LEN, ERROR_LEN, FORMAT_VERSION, NAME_LEN};
use crate::pixels::Codec;
use crate::reader::Reader;
use crate::status::State;
use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

pub const CAMD_RING_OK: i32 = 0;
pub const CAMD_RING_NO_FRAME: i32 = 1;
pub const CAMD_RING_TIMEOUT: i32 = 2;
pub const CAMD_RING_RETIRED: i32 = 3;
pub const CAMD_RING_E_ARGUMENT: i32 = -1;
pub const CAMD_RING_E_IO: i32 = -2;
pub const CAMD_RING_E_FORMAT: i32 = -3;
pub const CAMD_RING_E_BUFFER_TOO_SMALL: i32 = -4;
pub const CAMD_RING_E_CONTENDED: i32 = -5;
pub const CAMD_RING_E_INTERNAL: i32 = -6;

/// A borrowed frame (`camd_frame_view`).
#[repr(C)]
pub struct CFrameView {
    pub data: *const u8,
    pub len: usize,
    pub meta: FrameMeta,
}

/// Static information (`camd_ring_info`).
#[repr(C)]
pub struct CRingInfo {
    pub name: [c_char; NAME_LEN],
    pub format_version: u32,
    pub slot_count: u32,
    pub slot_capacity: u32,
    pub codec: u32,
    pub width: u32,
    pub height: u32,
    pub file_size: u64,
    pub created_realtime_ns: u64,
}

/// A raw frame's layout (`camd_pixel_layout`).
#[repr(C)]
pub struct CPixelLayout {
    pub codec: u32,
    pub width: u32,
    pub height: u32,
    pub frame_size: u32,
    pub plane_offsets: [u32; 2],
    pub plane_strides: [u32; 2],
}

/// A status snapshot (`camd_ring_status`).
#[repr(C)]
pub struct CRingStatus {
    pub state: u32,
    pub retry_count: u32,
    pub max_retry_attempts: u32,
    pub writer_pid: u32,
    pub generation: u64,
    pub latest_seq: u64,
    pub next_retry_in_ms: i64,
    pub state_since_realtime_ns: u64,
    pub heartbeat_age_ms: u64,
    pub heartbeat_realtime_ns: u64,
    pub fps_milli: u32,
    pub source_width: u32,
    pub source_height: u32,
    pub retired: u32,
    pub drops: u64,
    pub oversize: u64,
    pub reconnects: u64,
    pub last_error_realtime_ns: u64,
    pub input_codec: [c_char; CODEC_LEN],
    pub decoder: [c_char; ELEMENT_LEN],
    pub encoder: [c_char; ELEMENT_LEN],
    pub last_error: [c_char; ERROR_LEN],
}

// The C header asserts the same numbers.
const _: () = assert!(core::mem::size_of::<FrameMeta>() == 40); // camd_frame_meta
const _: () = assert!(core::mem::size_of::<CRingInfo>() == 104);
const _: () = assert!(core::mem::size_of::<CPixelLayout>() == 32);
const _: () = assert!(core::mem::size_of::<CRingStatus>() == 480);

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: String) {
    let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
    // try_with: during thread exit the slot may be gone; then the message is dropped rather
    // than panicking across the C boundary.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = message;
        }
    });
}

fn code_of(error: &RingError) -> i32 {
    match error.kind {
        ErrorKind::Io { .. } => CAMD_RING_E_IO,
        ErrorKind::Format(_) => CAMD_RING_E_FORMAT,
        ErrorKind::BufferTooSmall { .. } => CAMD_RING_E_BUFFER_TOO_SMALL,
        ErrorKind::Contended { .. } => CAMD_RING_E_CONTENDED,
        _ => CAMD_RING_E_INTERNAL,
    }
}

/// Runs `body`, turning errors and panics into codes and the thread's last error message.
fn guarded(body: impl FnOnce() -> Result<i32, (i32, String)>) -> i32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(code)) => code,
        Ok(Err((code, message))) => {
            set_last_error(message);
            code
        }
        Err(_) => {
            set_last_error("internal error (panic) in camd_ring".into());
            CAMD_RING_E_INTERNAL
        }
    }
}

fn ring_error(error: RingError) -> (i32, String) {
    (code_of(&error), error.to_string())
}

fn argument(what: &str) -> (i32, String) {
    (CAMD_RING_E_ARGUMENT, format!("invalid argument: {what}"))
}

/// # Safety
/// `ring` must be null or a pointer returned by `camd_ring_open` and not yet closed.
unsafe fn reader<'a>(ring: *const Reader) -> Result<&'a Reader, (i32, String)> {
    // SAFETY: by this function's contract `ring` is null (None) or points to a live Reader.
    unsafe { ring.as_ref() }.ok_or_else(|| argument("ring is NULL"))
}

fn copy_text<const N: usize>(text: &str, out: &mut [c_char; N]) {
    let mut bytes = [0u8; N];
    encode_text(text, &mut bytes);
    for (dst, src) in out.iter_mut().zip(bytes) {
        *dst = src as c_char;
    }
}

fn write_meta(out: *mut FrameMeta, meta: &FrameMeta) {
    if !out.is_null() {
        // SAFETY: the caller passes null or a valid, writable camd_frame_meta.
        unsafe { out.write(*meta) };
    }
}

#[no_mangle]
pub extern "C" fn camd_ring_format_version() -> u32 {
    FORMAT_VERSION
}

#[no_mangle]
pub extern "C" fn camd_ring_last_error() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| {
            slot.try_borrow()
                .map(|s| s.as_ptr())
                .unwrap_or(b"\0".as_ptr().cast())
        })
        .unwrap_or(b"\0".as_ptr().cast())
}

#[no_mangle]
pub extern "C" fn camd_ring_state_name(state: u32) -> *const c_char {
    State::from_raw(state).name_with_nul().as_ptr().cast()
}

#[no_mangle]
pub extern "C" fn camd_ring_codec_name(codec: u32) -> *const c_char {
    Codec::from_value(codec)
        .map_or(&b"unknown\0"[..], Codec::name_with_nul)
        .as_ptr()
        .cast()
}

/// # Safety
/// `path` must be a NUL-terminated string; `out` a valid pointer to write the handle to.
#[no_mangle]
pub unsafe extern "C" fn camd_ring_open(path: *const c_char, out: *mut *mut Reader) -> i32 {
    guarded(|| {
        if out.is_null() {
            return Err(argument("out must not be NULL"));
        }
        // SAFETY: `out` is not null (checked) and, by the contract, valid to write.
        unsafe { out.write(core::ptr::null_mut()) };
        if path.is_null() {
            return Err(argument("path must not be NULL"));
        }
        // SAFETY: `path` is not null (checked) and, by the contract, NUL-terminated.
        let path = std::ffi::OsStr::from_bytes(unsafe { CStr::from_ptr(path) }.to_bytes());
        let reader = Reader::open(path).map_err(ring_error)?;
        // SAFETY: as above for `out`.
        unsafe { out.write(Box::into_raw(Box::new(reader))) };
        Ok(CAMD_RING_OK)
    })
}

/// # Safety
/// `ring` must be null or a handle from `camd_ring_open`, not used after this call.
#[no_mangle]
pub unsafe extern "C" fn camd_ring_close(ring: *mut Reader) {
    if !ring.is_null() {
        // SAFETY: a handle from camd_ring_open is a Box::into_raw'd Reader, and the contract
        // says it is not used after this call, so the box is dropped exactly once.
        drop(unsafe { Box::from_raw(ring) });
    }
}

/// # Safety
/// `ring` a live handle; `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn camd_ring_get_info(ring: *const Reader, out: *mut CRingInfo) -> i32 {
    guarded(|| {
        // SAFETY: the caller passes null or a live handle from camd_ring_open (the contract above).
        let ring = unsafe { reader(ring) }?;
        if out.is_null() {
            return Err(argument("out is NULL"));
        }
        let g = ring.geometry();
        let mut info = CRingInfo {
            name: [0; NAME_LEN],
            format_version: FORMAT_VERSION,
            slot_count: g.slot_count,
            slot_capacity: g.slot_capacity,
            codec: g.codec,
            width: g.width,
            height: g.height,
            file_size: g.file_size,
            created_realtime_ns: g.created_realtime_ns,
        };
        copy_text(&g.name, &mut info.name);
        // SAFETY: `out` is not null (checked) and, by the contract, valid to write.
        unsafe { out.write(info) };
        Ok(CAMD_RING_OK)
    })
}

/// # Safety
/// `ring` a live handle; `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn camd_ring_get_pixel_layout(
    ring: *const Reader,
    out: *mut CPixelLayout,
) -> i32 {
    guarded(|| {
        // SAFETY: the caller passes null or a live handle from camd_ring_open (the contract above).
        let ring = unsafe { reader(ring) }?;
        if out.is_null() {
            return Err(argument("out is NULL"));
        }
        let g = ring.geometry();
        let layout = match &g.layout {
            Some(l) => CPixelLayout {
                codec: g.codec,
                width: l.width,
                height: l.height,
                frame_size: l.frame_size,
                plane_offsets: l.plane_offsets,
                plane_strides: l.plane_strides,
            },
            None => CPixelLayout {
                codec: g.codec,
                width: g.width,
                height: g.height,
                frame_size: 0,
                plane_offsets: [0; 2],
                plane_strides: [0; 2],
            },
        };
        // SAFETY: `out` is not null (checked) and, by the contract, valid to write.
        unsafe { out.write(layout) };
        Ok(CAMD_RING_OK)
    })
}

/// # Safety
/// `ring` a live handle (or null: returns 0).
#[no_mangle]
pub unsafe extern "C" fn camd_ring_latest_seq(ring: *const Reader) -> u64 {
    // SAFETY: the caller passes null or a live handle from camd_ring_open (the contract above).
    unsafe { ring.as_ref() }.map_or(0, Reader::latest_seq)
}

/// # Safety
/// `ring` a live handle; `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn camd_ring_latest(ring: *const Reader, out: *mut FrameMeta) -> i32 {
    // SAFETY: the caller passes null or a live handle from camd_ring_open (the contract above).
    guarded(
        || match unsafe { reader(ring) }?.latest().map_err(ring_error)? {
            Some(meta) => {
                write_meta(out, &meta);
                Ok(CAMD_RING_OK)
            }
            None => Ok(CAMD_RING_NO_FRAME),
        },
    )
}

/// # Safety
/// `ring` a live handle; `buf` valid for `buf_len` writable bytes; `out` null or valid.
#[no_mangle]
pub unsafe extern "C" fn camd_ring_copy_latest(
    ring: *const Reader,
    buf: *mut u8,
    buf_len: usize,
    out: *mut FrameMeta,
) -> i32 {
    guarded(|| {
        // SAFETY: the caller passes null or a live handle from camd_ring_open (the contract above).
        let ring = unsafe { reader(ring) }?;
        if buf.is_null() && buf_len != 0 {
            return Err(argument("buf is NULL"));
        }
        let buffer: &mut [u8] = if buf_len == 0 {
            &mut []
        } else {
            // SAFETY: `buf` is not null (checked) and, by the contract, valid for `buf_len`
            // writable bytes that nothing else uses during the call.
            unsafe { core::slice::from_raw_parts_mut(buf, buf_len) }
        };
        match ring.copy_latest_into(buffer).map_err(ring_error)? {
            Some(meta) => {
                write_meta(out, &meta);
                Ok(CAMD_RING_OK)
            }
            None => Ok(CAMD_RING_NO_FRAME),
        }
    })
}

/// # Safety
/// `ring` a live handle; `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn camd_ring_borrow_latest(ring: *const Reader, out: *mut CFrameView) -> i32 {
    guarded(|| {
        // SAFETY: the caller passes null or a live handle from camd_ring_open (the contract above).
        let ring = unsafe { reader(ring) }?;
        if out.is_null() {
            return Err(argument("out is NULL"));
        }
        match ring.borrow_latest().map_err(ring_error)? {
            Some(frame) => {
                let view = CFrameView {
                    data: frame.as_ptr(),
                    len: frame.meta().len as usize,
                    meta: *frame.meta(),
                };
                // SAFETY: `out` is not null (checked) and, by the contract, valid to write.
                unsafe { out.write(view) };
                Ok(CAMD_RING_OK)
            }
            None => Ok(CAMD_RING_NO_FRAME),
        }
    })
}

/// # Safety
/// `ring` a live handle; `view` filled by `camd_ring_borrow_latest` on the same handle.
#[no_mangle]
pub unsafe extern "C" fn camd_ring_view_intact(
    ring: *const Reader,
    view: *const CFrameView,
) -> i32 {
    guarded(|| {
        // SAFETY: the caller passes null or a live handle from camd_ring_open (the contract above).
        let ring = unsafe { reader(ring) }?;
        // SAFETY: by the contract `view` is null (None) or a view this handle filled.
        let view = unsafe { view.as_ref() }.ok_or_else(|| argument("view is NULL"))?;
        Ok(i32::from(ring.is_intact(&view.meta)))
    })
    .max(0) // an error (message in camd_ring_last_error) counts as "not intact"
}

/// # Safety
/// `ring` a live handle; `frame` a valid camd_frame_meta (from this handle's functions);
/// `out_ns` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn camd_ring_camera_time(
    ring: *const Reader,
    frame: *const FrameMeta,
    out_ns: *mut u64,
) -> i32 {
    guarded(|| {
        // SAFETY: the caller passes null or a live handle from camd_ring_open (the contract above).
        let ring = unsafe { reader(ring) }?;
        if out_ns.is_null() {
            return Err(argument("out_ns is NULL"));
        }
        // SAFETY: `out_ns` is not null (checked) and, by the contract, valid to write: it is 0
        // whatever the outcome, unless the frame has a camera time.
        unsafe { out_ns.write(0) };
        // SAFETY: by the contract `frame` is null (None) or a valid camd_frame_meta.
        let frame = unsafe { frame.as_ref() }.ok_or_else(|| argument("frame is NULL"))?;
        match ring.camera_time_ns(frame) {
            Ok(ns) => {
                // SAFETY: as above for `out_ns`.
                unsafe { out_ns.write(ns.unwrap_or(0)) };
                Ok(CAMD_RING_OK)
            }
            Err(_gone) => Ok(CAMD_RING_NO_FRAME),
        }
    })
}

/// # Safety
/// `ring` a live handle; `out` null or valid.
#[no_mangle]
pub unsafe extern "C" fn camd_ring_wait_next(
    ring: *const Reader,
    after_seq: u64,
    timeout_ms: u32,
    out: *mut FrameMeta,
) -> i32 {
    guarded(|| {
        // SAFETY: the caller passes null or a live handle from camd_ring_open (the contract above).
        let ring = unsafe { reader(ring) }?;
        match ring
            .wait_next(after_seq, Duration::from_millis(timeout_ms.into()))
            .map_err(ring_error)?
        {
            Some(meta) => {
                write_meta(out, &meta);
                Ok(CAMD_RING_OK)
            }
            None if ring.is_retired() => Ok(CAMD_RING_RETIRED),
            None => Ok(CAMD_RING_TIMEOUT),
        }
    })
}

/// # Safety
/// `ring` a live handle; `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn camd_ring_get_status(ring: *const Reader, out: *mut CRingStatus) -> i32 {
    guarded(|| {
        // SAFETY: the caller passes null or a live handle from camd_ring_open (the contract above).
        let ring = unsafe { reader(ring) }?;
        if out.is_null() {
            return Err(argument("out is NULL"));
        }
        let snap = ring.status().map_err(ring_error)?;
        let s = &snap.status;
        let mut c = CRingStatus {
            state: s.state.to_raw(),
            retry_count: s.retry_count,
            max_retry_attempts: s.max_retry_attempts,
            writer_pid: s.writer_pid,
            generation: s.generation,
            latest_seq: snap.latest_seq,
            next_retry_in_ms: snap
                .next_retry_in()
                .map_or(-1, |d| d.as_millis().min(i64::MAX as u128) as i64),
            state_since_realtime_ns: s.state_since_realtime_ns,
            heartbeat_age_ms: snap.heartbeat_age().as_millis().min(u64::MAX as u128) as u64,
            heartbeat_realtime_ns: snap.heartbeat_realtime_ns,
            fps_milli: s.fps_milli,
            source_width: s.source_width,
            source_height: s.source_height,
            retired: u32::from(snap.retired),
            drops: s.drops,
            oversize: s.oversize,
            reconnects: s.reconnects,
            last_error_realtime_ns: s.last_error_realtime_ns,
            input_codec: [0; CODEC_LEN],
            decoder: [0; ELEMENT_LEN],
            encoder: [0; ELEMENT_LEN],
            last_error: [0; ERROR_LEN],
        };
        copy_text(&s.input_codec, &mut c.input_codec);
        copy_text(&s.decoder, &mut c.decoder);
        copy_text(&s.encoder, &mut c.encoder);
        copy_text(&s.last_error, &mut c.last_error);
        // SAFETY: `out` is not null (checked) and, by the contract, valid to write.
        unsafe { out.write(c) };
        Ok(CAMD_RING_OK)
    })
}

/// # Safety
/// `ring` a live handle.
#[no_mangle]
pub unsafe extern "C" fn camd_ring_writer_alive(ring: *const Reader, timeout_ms: u32) -> i32 {
    guarded(|| {
        Ok(i32::from(
            // SAFETY: the caller passes null or a live handle (the contract above).
            unsafe { reader(ring) }?.writer_alive(Duration::from_millis(timeout_ms.into())),
        ))
    })
    .max(0) // an error (message in camd_ring_last_error) counts as "not alive"
}

/// # Safety
/// `ring` a live handle.
#[no_mangle]
pub unsafe extern "C" fn camd_ring_is_replaced(ring: *const Reader) -> i32 {
    guarded(|| {
        // SAFETY: the caller passes null or a live handle (the contract above).
        let ring = unsafe { reader(ring) }?;
        Ok(i32::from(ring.is_replaced().map_err(ring_error)?))
    })
}
