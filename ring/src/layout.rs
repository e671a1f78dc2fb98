//! The ring file's fixed layout, format version 1: every structure, offset and size that
//! `docs/ring-format.md` specifies and `include/camd_ring.h` repeats for C.
//!
//! The file is, in order: the header page (`HEADER_SIZE` bytes) holding the static header, the
//! frame index, the liveness line and the status block, each on its own cache line(s); then
//! `slot_count` slots of `slot_stride` bytes, each a 64-byte slot header and the frame bytes.
//! All integers are little-endian (the crate refuses to build for big-endian targets).
//!
//! The static header is plain data, written once before the file is renamed into place, and
//! read by copying it out. Everything after it is made of atomics, reserved bytes included,
//! because another process (or thread) writes it while readers read, and a hostile one may
//! write any byte: these structures are only ever reached through `&` references into the
//! mapping (see `region.rs`), never copied or written whole, and a `&` to a plain field that
//! another process writes would be a data race.

use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

#[cfg(target_endian = "big")]
compile_error!("the camd ring format is little-endian; big-endian targets are not supported");

/// First eight bytes of every ring file.
pub const MAGIC: [u8; 8] = *b"CAMDRING";
/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Size of the header page; slots start at `slots_offset` (>= this, 64-byte aligned).
pub const HEADER_SIZE: u32 = 4096;
/// Size of a slot header; a slot's frame bytes start this far into the slot.
pub const SLOT_HEADER_SIZE: u32 = 64;
/// Alignment of slots and of the header's hot lines.
pub const CACHE_LINE: u64 = 64;

/// Offsets of the header page's parts.
pub const STATIC_OFFSET: usize = 0;
pub const INDEX_OFFSET: usize = 256;
pub const LIVENESS_OFFSET: usize = 320;
pub const STATUS_OFFSET: usize = 384;

/// Limits a reader enforces (and a writer refuses to exceed).
pub const MIN_SLOT_COUNT: u32 = 2;
pub const MAX_SLOT_COUNT: u32 = 4096;
pub const MAX_SLOT_CAPACITY: u32 = 256 << 20;
pub const MAX_FILE_SIZE: u64 = 1 << 30;
pub const MAX_DIMENSION: u32 = 16384;

/// Sizes of the fixed text fields (UTF-8, NUL-padded, at least one NUL).
pub const NAME_LEN: usize = 64;
pub const CODEC_LEN: usize = 16;
pub const ELEMENT_LEN: usize = 48;
pub const ERROR_LEN: usize = 256;

/// `codec` values: what the slots' frame bytes are (`pixels::Codec`).
pub const CODEC_JPEG: u32 = 1;
/// Raw frames laid out as `header.plane_offsets`, `header.plane_strides` and
/// `header.frame_size` say (`pixels.rs`).
pub const CODEC_NV12: u32 = 2;
pub const CODEC_RGB: u32 = 3;
pub const CODEC_BGR: u32 = 4;

/// Feature bits. A reader ignores `compat_features` bits it does not know and rejects a file
/// with any `incompat_features` bit it does not know. Version 1 defines no incompatible bit.
pub const KNOWN_INCOMPAT_FEATURES: u32 = 0;
/// `compat_features` bit: the writer wakes the futex on `index.notify` after every publish, so
/// a blocked reader needs no registration (camd 0.2; camd 0.1 woke only registered readers,
/// through the reader-writable doorbell file, and did not set this bit).
pub const COMPAT_WAKE_EVERY_PUBLISH: u32 = 1;
/// `compat_features` bit: the writer fills `slot.flags` bit `SLOT_FLAG_CAMERA_TIME` and
/// `slot.ts_camera_ns` for the frames whose camera gives its own capture time. In a file without
/// it every frame has no camera time, whatever the slot holds.
pub const COMPAT_CAMERA_TIME: u32 = 2;
/// The `compat_features` this version's writer sets in the files it creates. A file that lacks
/// one (made by an older camd) is one whose readers miss what the bit promises.
pub const WRITER_COMPAT_FEATURES: u32 = COMPAT_WAKE_EVERY_PUBLISH | COMPAT_CAMERA_TIME;

/// `slot.flags` bit: `slot.ts_camera_ns` holds the camera's own capture time of this frame.
/// Without it `ts_camera_ns` is 0 and means nothing.
pub const SLOT_FLAG_CAMERA_TIME: u32 = 1;

/// The static header: geometry and identity, immutable once the file has its name.
#[derive(Clone, Debug, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct StaticHeader {
    pub magic: [u8; 8],
    pub version: u32,
    pub header_size: u32,
    pub file_size: u64,
    pub slots_offset: u64,
    pub slot_stride: u64,
    pub slot_count: u32,
    pub slot_capacity: u32,
    pub slot_header_size: u32,
    pub codec: u32,
    pub width: u32,
    pub height: u32,
    pub compat_features: u32,
    pub incompat_features: u32,
    pub created_realtime_ns: u64,
    pub name: [u8; NAME_LEN],
    /// Raw codecs only (zero for JPEG): where each plane starts in a frame, the bytes from one
    /// of its rows to the next, and every frame's size.
    pub plane_offsets: [u32; 2],
    pub plane_strides: [u32; 2],
    pub frame_size: u32,
    pub reserved: [u8; 92],
}

/// The frame index: the hot line every reader polls and the futex word blocked readers sleep on.
#[derive(FromBytes, IntoBytes, KnownLayout)]
#[repr(C)]
pub struct FrameIndex {
    /// Sequence number of the newest complete frame; 0 before the first. Frame `n` lives in
    /// slot `n % slot_count`.
    pub latest_seq: AtomicU64,
    /// Incremented (wrapping) after every publish; blocked readers FUTEX_WAIT on it.
    pub notify: AtomicU32,
    pub reserved0: AtomicU32,
    pub reserved: [AtomicU8; 48],
}

/// Liveness: moves even when no frame comes, so a reader can tell a silent camera from a dead
/// writer.
#[derive(FromBytes, IntoBytes, KnownLayout)]
#[repr(C)]
pub struct Liveness {
    /// CLOCK_MONOTONIC of the writer's last sign of life (publish or heartbeat).
    pub heartbeat_mono_ns: AtomicU64,
    /// CLOCK_REALTIME of the same moment, for display.
    pub heartbeat_realtime_ns: AtomicU64,
    /// Non-zero once a newer file has been renamed over this one: reopen the path.
    pub retired: AtomicU32,
    pub reserved0: AtomicU32,
    pub reserved: [AtomicU8; 40],
}

/// The status block, guarded by its own sequence lock (`seq` odd while the writer updates it).
#[derive(FromBytes, IntoBytes, KnownLayout)]
#[repr(C)]
pub struct StatusBlock {
    pub seq: AtomicU64,
    pub state: AtomicU32,
    pub retry_count: AtomicU32,
    pub max_retry_attempts: AtomicU32,
    pub writer_pid: AtomicU32,
    pub generation: AtomicU64,
    pub next_retry_mono_ns: AtomicU64,
    pub state_since_realtime_ns: AtomicU64,
    pub fps_milli: AtomicU32,
    pub source_width: AtomicU32,
    pub source_height: AtomicU32,
    pub reserved0: AtomicU32,
    pub drops: AtomicU64,
    pub oversize: AtomicU64,
    pub reconnects: AtomicU64,
    pub last_error_realtime_ns: AtomicU64,
    pub input_codec: [AtomicU8; CODEC_LEN],
    pub decoder: [AtomicU8; ELEMENT_LEN],
    pub encoder: [AtomicU8; ELEMENT_LEN],
    pub last_error: [AtomicU8; ERROR_LEN],
    pub reserved: [AtomicU8; 48],
}

/// The header of every slot. `seq` is the slot's sequence lock: `frame_seq << 1` when the slot
/// holds frame `frame_seq` complete, `(frame_seq << 1) | 1` while that frame is being written,
/// 0 when the slot never held a frame.
#[derive(FromBytes, IntoBytes, KnownLayout)]
#[repr(C)]
pub struct SlotHeader {
    pub seq: AtomicU64,
    pub len: AtomicU32,
    pub width: AtomicU32,
    pub height: AtomicU32,
    pub flags: AtomicU32,
    pub ts_realtime_ns: AtomicU64,
    pub ts_mono_ns: AtomicU64,
    /// The camera's own capture time, ns since the Unix epoch by the camera's clock (its RTCP
    /// sender reports), when `flags` has `SLOT_FLAG_CAMERA_TIME`; else 0.
    pub ts_camera_ns: AtomicU64,
    pub reserved: [AtomicU8; 16],
}

// Sizes and offsets are the format: a change here is a new format version.
const _: () = assert!(core::mem::size_of::<StaticHeader>() == 256);
const _: () = assert!(core::mem::size_of::<FrameIndex>() == 64);
const _: () = assert!(core::mem::size_of::<Liveness>() == 64);
const _: () = assert!(core::mem::size_of::<StatusBlock>() == 512);
const _: () = assert!(core::mem::size_of::<SlotHeader>() == SLOT_HEADER_SIZE as usize);
const _: () = assert!(STATIC_OFFSET + core::mem::size_of::<StaticHeader>() == INDEX_OFFSET);
const _: () = assert!(INDEX_OFFSET + core::mem::size_of::<FrameIndex>() == LIVENESS_OFFSET);
const _: () = assert!(LIVENESS_OFFSET + core::mem::size_of::<Liveness>() == STATUS_OFFSET);
const _: () = assert!(STATUS_OFFSET + core::mem::size_of::<StatusBlock>() <= HEADER_SIZE as usize);
const _: () = assert!(INDEX_OFFSET % CACHE_LINE as usize == 0);
const _: () = assert!(LIVENESS_OFFSET % CACHE_LINE as usize == 0);
const _: () = assert!(STATUS_OFFSET % CACHE_LINE as usize == 0);
const _: () = assert!(core::mem::align_of::<StatusBlock>() <= CACHE_LINE as usize);

/// Bytes between consecutive slots for a given capacity: the slot header, then the capacity
/// rounded up to a whole cache line.
pub const fn slot_stride(slot_capacity: u32) -> u64 {
    SLOT_HEADER_SIZE as u64 + round_up(slot_capacity as u64, CACHE_LINE)
}

pub const fn round_up(value: u64, to: u64) -> u64 {
    value.div_ceil(to) * to
}

/// The offset of every field, by its name in `docs/ring-format.md` and `camd_ring.h`; tests
/// compare this table with the document and with what a C compiler makes of the header.
pub fn field_offsets() -> Vec<(&'static str, usize)> {
    macro_rules! offsets {
        ($base:expr, $ty:ty, $prefix:literal, [$($field:ident),* $(,)?]) => {{
            let value = core::mem::MaybeUninit::<$ty>::uninit();
            let start = value.as_ptr();
            vec![$((
                concat!($prefix, ".", stringify!($field)),
                // SAFETY: addr_of! computes a field address inside `value` without reading or
                // creating a reference to the uninitialised memory.
                $base + unsafe { core::ptr::addr_of!((*start).$field) as usize - start as usize },
            )),*]
        }};
    }
    let mut all = Vec::new();
    all.extend(offsets!(
        STATIC_OFFSET,
        StaticHeader,
        "header",
        [
            magic,
            version,
            header_size,
            file_size,
            slots_offset,
            slot_stride,
            slot_count,
            slot_capacity,
            slot_header_size,
            codec,
            width,
            height,
            compat_features,
            incompat_features,
            created_realtime_ns,
            name,
            plane_offsets,
            plane_strides,
            frame_size,
            reserved,
        ]
    ));
    all.extend(offsets!(
        INDEX_OFFSET,
        FrameIndex,
        "index",
        [latest_seq, notify, reserved0, reserved]
    ));
    all.extend(offsets!(
        LIVENESS_OFFSET,
        Liveness,
        "liveness",
        [
            heartbeat_mono_ns,
            heartbeat_realtime_ns,
            retired,
            reserved0,
            reserved,
        ]
    ));
    all.extend(offsets!(
        STATUS_OFFSET,
        StatusBlock,
        "status",
        [
            seq,
            state,
            retry_count,
            max_retry_attempts,
            writer_pid,
            generation,
            next_retry_mono_ns,
            state_since_realtime_ns,
            fps_milli,
            source_width,
            source_height,
            reserved0,
            drops,
            oversize,
            reconnects,
            last_error_realtime_ns,
            input_codec,
            decoder,
            encoder,
            last_error,
            reserved,
        ]
    ));
    all.extend(offsets!(
        0,
        SlotHeader,
        "slot",
        [
            seq,
            len,
            width,
            height,
            flags,
            ts_realtime_ns,
            ts_mono_ns,
            ts_camera_ns,
            reserved,
        ]
    ));
    all
}

/// Copies `text` into a fixed NUL-padded field, cut at a character boundary so that at least
/// one NUL remains.
pub fn encode_text(text: &str, field: &mut [u8]) {
    let mut end = text.len().min(field.len() - 1);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    field.fill(0);
    field[..end].copy_from_slice(&text.as_bytes()[..end]);
}

/// Reads a NUL-padded field written by `encode_text`; `None` if it has no NUL or is not UTF-8.
pub fn decode_text(field: &[u8]) -> Option<&str> {
    let end = field.iter().position(|&b| b == 0)?;
    core::str::from_utf8(&field[..end]).ok()
}

/// `encode_text` into a text field of the status block, one relaxed atomic store per byte
/// (the status seqlock orders them).
pub fn store_text(text: &str, field: &[AtomicU8]) {
    let mut bytes = vec![0u8; field.len()];
    encode_text(text, &mut bytes);
    for (cell, byte) in field.iter().zip(bytes) {
        cell.store(byte, Ordering::Relaxed);
    }
}

/// Reads a text field of the status block. Bytes that are not UTF-8 are replaced rather than
/// rejected, so a status is always displayable; a field with no NUL is read whole.
pub fn load_text(field: &[AtomicU8]) -> String {
    let bytes: Vec<u8> = field
        .iter()
        .map(|cell| cell.load(Ordering::Relaxed))
        .collect();
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}
