//! Validation of a ring file's static header: the one parser of outside data in this crate
//! (fuzzed by `fuzz/fuzz_targets/header.rs`). It turns untrusted bytes into a `Geometry` whose
//! every offset and length is known to lie inside the file, so the rest of the crate can index
//! the mapping with the geometry's numbers without further checks.

use crate::error::FormatError;
use crate::layout::*;
use crate::pixels::{validate_layout, Codec, PixelLayout};
use zerocopy::FromBytes;

/// The validated shape and identity of a ring file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub name: String,
    pub file_size: u64,
    pub slots_offset: u64,
    pub slot_stride: u64,
    pub slot_count: u32,
    pub slot_capacity: u32,
    pub codec: u32,
    /// Where a raw frame's pixels are (`header.codec` 2 to 4); `None` for JPEG.
    pub layout: Option<PixelLayout>,
    /// `header.compat_features`: bits a reader may ignore (see `COMPAT_WAKE_EVERY_PUBLISH` and
    /// `COMPAT_CAMERA_TIME`).
    pub compat_features: u32,
    pub width: u32,
    pub height: u32,
    pub created_realtime_ns: u64,
}

impl Geometry {
    /// Offset of slot `index`'s header. `index < slot_count` is the caller's promise.
    pub(crate) fn slot_offset(&self, index: u32) -> usize {
        debug_assert!(index < self.slot_count);
        (self.slots_offset + u64::from(index) * self.slot_stride) as usize
    }
}

/// Checks the first bytes of a ring file of `file_len` bytes and returns its geometry. `bytes`
/// may be shorter than the file (only the static header is read); every failure names the field.
pub fn validate_header(bytes: &[u8], file_len: u64) -> Result<Geometry, FormatError> {
    let static_len = core::mem::size_of::<StaticHeader>();
    if bytes.len() < static_len || file_len < static_len as u64 {
        let len = file_len.min(bytes.len() as u64);
        return Err(FormatError::new(
            "header",
            format!("file is {len} bytes, shorter than the {static_len}-byte static header (empty or truncated)"),
        ));
    }
    let (header, _) = StaticHeader::read_from_prefix(bytes)
        .map_err(|_| FormatError::new("header", "static header unreadable"))?;

    if header.magic != MAGIC {
        return Err(FormatError::new(
            "header.magic",
            format!(
                "expected {:?}, found {:?}: not a camd ring file",
                ascii(&MAGIC),
                ascii(&header.magic)
            ),
        ));
    }
    if header.version != FORMAT_VERSION {
        return Err(FormatError::new(
            "header.version",
            format!("format version {} is not supported by this reader (it reads version {FORMAT_VERSION})", header.version),
        ));
    }
    if header.header_size != HEADER_SIZE {
        return Err(FormatError::new(
            "header.header_size",
            format!(
                "is {}, version {FORMAT_VERSION} requires {HEADER_SIZE}",
                header.header_size
            ),
        ));
    }
    let unknown = header.incompat_features & !KNOWN_INCOMPAT_FEATURES;
    if unknown != 0 {
        return Err(FormatError::new(
            "header.incompat_features",
            format!("has feature bits {unknown:#x} this reader does not know"),
        ));
    }
    if header.file_size != file_len {
        return Err(FormatError::new(
            "header.file_size",
            format!(
                "says {} bytes but the file has {file_len} (truncated or replaced mid-write?)",
                header.file_size
            ),
        ));
    }
    if header.file_size > MAX_FILE_SIZE {
        return Err(FormatError::new(
            "header.file_size",
            format!(
                "{} bytes is over the {MAX_FILE_SIZE}-byte limit",
                header.file_size
            ),
        ));
    }
    if header.slot_header_size != SLOT_HEADER_SIZE {
        return Err(FormatError::new(
            "header.slot_header_size",
            format!(
                "is {}, version {FORMAT_VERSION} requires {SLOT_HEADER_SIZE}",
                header.slot_header_size
            ),
        ));
    }
    if !(MIN_SLOT_COUNT..=MAX_SLOT_COUNT).contains(&header.slot_count) {
        return Err(FormatError::new(
            "header.slot_count",
            format!(
                "is {}, must be between {MIN_SLOT_COUNT} and {MAX_SLOT_COUNT}",
                header.slot_count
            ),
        ));
    }
    if header.slot_capacity == 0 || header.slot_capacity > MAX_SLOT_CAPACITY {
        return Err(FormatError::new(
            "header.slot_capacity",
            format!(
                "is {}, must be between 1 and {MAX_SLOT_CAPACITY}",
                header.slot_capacity
            ),
        ));
    }
    if header.slot_stride % CACHE_LINE != 0
        || header.slot_stride < u64::from(SLOT_HEADER_SIZE) + u64::from(header.slot_capacity)
    {
        return Err(FormatError::new(
            "header.slot_stride",
            format!(
                "is {}, must be a multiple of {CACHE_LINE} and at least {} (slot header + capacity)",
                header.slot_stride,
                u64::from(SLOT_HEADER_SIZE) + u64::from(header.slot_capacity)
            ),
        ));
    }
    if header.slots_offset < u64::from(HEADER_SIZE) || header.slots_offset % CACHE_LINE != 0 {
        return Err(FormatError::new(
            "header.slots_offset",
            format!(
                "is {}, must be a multiple of {CACHE_LINE} and at least {HEADER_SIZE}",
                header.slots_offset
            ),
        ));
    }
    let slots_end = u64::from(header.slot_count)
        .checked_mul(header.slot_stride)
        .and_then(|len| len.checked_add(header.slots_offset));
    match slots_end {
        Some(end) if end <= header.file_size => {}
        _ => {
            return Err(FormatError::new(
                "header.slot_count",
                format!(
                    "{} slots of {} bytes from offset {} overflow the {}-byte file",
                    header.slot_count, header.slot_stride, header.slots_offset, header.file_size
                ),
            ))
        }
    }
    if Codec::from_value(header.codec).is_none() {
        return Err(FormatError::new(
            "header.codec",
            format!(
                "codec {} is unknown (1 = JPEG, 2 = NV12, 3 = RGB, 4 = BGR)",
                header.codec
            ),
        ));
    }
    if header.width > MAX_DIMENSION || header.height > MAX_DIMENSION {
        return Err(FormatError::new(
            "header.width",
            format!(
                "{}x{} is over the {MAX_DIMENSION}-pixel limit",
                header.width, header.height
            ),
        ));
    }
    let name = decode_text(&header.name).ok_or_else(|| {
        FormatError::new(
            "header.name",
            "is not NUL-terminated UTF-8 within its 64 bytes",
        )
    })?;
    if name.is_empty() {
        return Err(FormatError::new("header.name", "is empty"));
    }
    let layout = validate_layout(&header)?;
    Ok(Geometry {
        name: name.to_owned(),
        file_size: header.file_size,
        slots_offset: header.slots_offset,
        slot_stride: header.slot_stride,
        slot_count: header.slot_count,
        slot_capacity: header.slot_capacity,
        codec: header.codec,
        layout,
        compat_features: header.compat_features,
        width: header.width,
        height: header.height,
        created_realtime_ns: header.created_realtime_ns,
    })
}

fn ascii(bytes: &[u8]) -> String {
    bytes
        .iter()
        .flat_map(|&b| core::ascii::escape_default(b))
        .map(char::from)
        .collect()
}
