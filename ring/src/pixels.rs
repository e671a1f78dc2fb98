//! Raw pixel frames: what `header.codec` 2 to 4 mean (NV12, RGB, BGR), the planes' offsets and
//! row strides a ring's static header carries for them (`header.plane_offsets`,
//! `header.plane_strides`, `header.frame_size`), the layout camd's writer makes, and the check a
//! reader applies to a header's layout (docs/ring-format.md, "Raw frames"). A JPEG ring has no
//! layout: its frames are whole JPEG files.

use crate::error::FormatError;
use crate::layout::{StaticHeader, CODEC_BGR, CODEC_JPEG, CODEC_NV12, CODEC_RGB};

/// What a ring's frames are (`header.codec`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// Baseline JPEG files, one per frame.
    Jpeg,
    /// 8-bit Y plane, then one plane of interleaved U,V at half the width and half the height.
    Nv12,
    /// Packed 24-bit pixels, bytes R, G, B.
    Rgb,
    /// Packed 24-bit pixels, bytes B, G, R (OpenCV's order).
    Bgr,
}

impl Codec {
    pub const ALL: [Codec; 4] = [Codec::Jpeg, Codec::Nv12, Codec::Rgb, Codec::Bgr];

    /// `header.codec`'s value.
    pub const fn value(self) -> u32 {
        match self {
            Codec::Jpeg => CODEC_JPEG,
            Codec::Nv12 => CODEC_NV12,
            Codec::Rgb => CODEC_RGB,
            Codec::Bgr => CODEC_BGR,
        }
    }

    pub fn from_value(value: u32) -> Option<Codec> {
        Codec::ALL.into_iter().find(|c| c.value() == value)
    }

    /// The name the configuration's `format` key, the status and the bindings use.
    pub fn name(self) -> &'static str {
        let name = self.name_with_nul();
        core::str::from_utf8(&name[..name.len() - 1]).expect("codec names are ASCII")
    }

    /// `name()` with a NUL, for the C ABI (`camd_ring_codec_name`).
    pub(crate) const fn name_with_nul(self) -> &'static [u8] {
        match self {
            Codec::Jpeg => b"jpeg\0",
            Codec::Nv12 => b"nv12\0",
            Codec::Rgb => b"rgb\0",
            Codec::Bgr => b"bgr\0",
        }
    }

    pub fn from_name(name: &str) -> Option<Codec> {
        Codec::ALL.into_iter().find(|c| c.name() == name)
    }

    pub const fn is_raw(self) -> bool {
        !matches!(self, Codec::Jpeg)
    }

    /// Planes of a raw frame (0 for JPEG).
    pub const fn plane_count(self) -> usize {
        match self {
            Codec::Jpeg => 0,
            Codec::Nv12 => 2,
            Codec::Rgb | Codec::Bgr => 1,
        }
    }

    /// Bytes of pixel data in one row of `plane` of a frame `width` pixels wide, and the
    /// plane's rows for a frame `height` pixels high. NV12's width and height are even.
    const fn plane_shape(self, plane: usize, width: u32, height: u32) -> (u64, u64) {
        let (w, h) = (width as u64, height as u64);
        match (self, plane) {
            (Codec::Rgb | Codec::Bgr, 0) => (w * 3, h),
            (Codec::Nv12, 0) => (w, h),
            (Codec::Nv12, 1) => (w, h / 2),
            _ => (0, 0),
        }
    }
}

/// Where a raw frame's pixels are: every frame of the ring has this layout and exactly
/// `frame_size` bytes. Row `r` of plane `p` starts at `plane_offsets[p] + r * plane_strides[p]`
/// from the frame's first byte; the bytes between a row's pixels and the next row are padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PixelLayout {
    pub codec: Codec,
    pub width: u32,
    pub height: u32,
    /// Unused planes are 0.
    pub plane_offsets: [u32; 2],
    pub plane_strides: [u32; 2],
    pub frame_size: u32,
}

impl PixelLayout {
    /// The layout camd writes: each row rounded up to a multiple of 4 bytes, the planes one
    /// after the other (GStreamer's default layout, so its buffers are copied whole). `Err`
    /// says what is wrong with the size.
    pub fn packed(codec: Codec, width: u32, height: u32) -> Result<PixelLayout, String> {
        if !codec.is_raw() {
            return Err(format!("{} frames have no pixel layout", codec.name()));
        }
        if width == 0 || height == 0 {
            return Err(format!(
                "{} frames need a width and a height (got {width}x{height})",
                codec.name()
            ));
        }
        if codec == Codec::Nv12 && (width % 2 != 0 || height % 2 != 0) {
            return Err(format!(
                "nv12 needs an even width and height (got {width}x{height})"
            ));
        }
        let mut layout = PixelLayout {
            codec,
            width,
            height,
            plane_offsets: [0; 2],
            plane_strides: [0; 2],
            frame_size: 0,
        };
        let mut end = 0u64;
        for plane in 0..codec.plane_count() {
            let (row, rows) = codec.plane_shape(plane, width, height);
            let stride = row.div_ceil(4) * 4;
            layout.plane_offsets[plane] = narrow(end)?;
            layout.plane_strides[plane] = narrow(stride)?;
            end += stride * rows;
        }
        layout.frame_size = narrow(end)?;
        Ok(layout)
    }

    /// Bytes of pixel data in each row of `plane`, and its rows.
    pub fn plane_shape(&self, plane: usize) -> (usize, usize) {
        let (row, rows) = self.codec.plane_shape(plane, self.width, self.height);
        (row as usize, rows as usize)
    }

    /// The planes of one frame, each from its first byte to the end of its last row's pixels
    /// (unused planes empty). `None` when `frame` is not `frame_size` bytes (a corrupt slot).
    pub fn planes<'a>(&self, frame: &'a [u8]) -> Option<[&'a [u8]; 2]> {
        if frame.len() != self.frame_size as usize {
            return None;
        }
        let mut planes: [&[u8]; 2] = [&[], &[]];
        for (plane, out) in planes.iter_mut().enumerate().take(self.codec.plane_count()) {
            let (start, end) = self.plane_span(plane);
            *out = frame.get(start as usize..end as usize)?;
        }
        Some(planes)
    }

    /// The pixels of row `row` of `plane` in one frame (its padding left out): `plane_shape`'s
    /// row bytes from `plane_offsets[plane] + row * plane_strides[plane]`. `None` when `frame` is
    /// not `frame_size` bytes, or the plane or the row does not exist. So pixel (x, y) of an RGB
    /// frame is `layout.row(frame, 0, y)?[3 * x..3 * x + 3]`.
    pub fn row<'a>(&self, frame: &'a [u8], plane: usize, row: usize) -> Option<&'a [u8]> {
        if frame.len() != self.frame_size as usize || plane >= self.codec.plane_count() {
            return None;
        }
        let (bytes, rows) = self.codec.plane_shape(plane, self.width, self.height);
        if row as u64 >= rows {
            return None;
        }
        let start = u64::from(self.plane_offsets[plane])
            + row as u64 * u64::from(self.plane_strides[plane]);
        let start = usize::try_from(start).ok()?;
        frame.get(start..start.checked_add(bytes as usize)?)
    }

    /// Byte range of `plane` within a frame (u64: computed from untrusted numbers).
    fn plane_span(&self, plane: usize) -> (u64, u64) {
        let (row, rows) = self.codec.plane_shape(plane, self.width, self.height);
        let start = u64::from(self.plane_offsets[plane]);
        let end = if rows == 0 {
            start
        } else {
            start + u64::from(self.plane_strides[plane]) * (rows - 1) + row
        };
        (start, end)
    }
}

fn narrow(value: u64) -> Result<u32, String> {
    u32::try_from(value).map_err(|_| format!("a frame of {value} bytes is too large"))
}

/// A raw ring's layout from its static header, checked so that every plane lies inside a frame
/// and every frame inside a slot; `None` for JPEG. `header.codec` must already be known and the
/// size within limits (validate_header's checks 14 and 15).
pub(crate) fn validate_layout(header: &StaticHeader) -> Result<Option<PixelLayout>, FormatError> {
    let codec = match Codec::from_value(header.codec) {
        Some(codec) if codec.is_raw() => codec,
        _ => return Ok(None),
    };
    let (width, height) = (header.width, header.height);
    if width == 0 || height == 0 || (codec == Codec::Nv12 && (width % 2 != 0 || height % 2 != 0)) {
        return Err(FormatError::new(
            "header.width",
            format!(
                "{width}x{height} is not a size for {} frames (non-zero{})",
                codec.name(),
                if codec == Codec::Nv12 { ", even" } else { "" }
            ),
        ));
    }
    let layout = PixelLayout {
        codec,
        width,
        height,
        plane_offsets: header.plane_offsets,
        plane_strides: header.plane_strides,
        frame_size: header.frame_size,
    };
    let mut previous_end = 0u64;
    for plane in 0..2 {
        if plane >= codec.plane_count() {
            if layout.plane_offsets[plane] != 0 || layout.plane_strides[plane] != 0 {
                return Err(FormatError::new(
                    "header.plane_offsets",
                    format!(
                        "plane {plane} is set, but {} frames have {} plane(s)",
                        codec.name(),
                        codec.plane_count()
                    ),
                ));
            }
            continue;
        }
        let (row, _) = codec.plane_shape(plane, width, height);
        if u64::from(layout.plane_strides[plane]) < row {
            return Err(FormatError::new(
                "header.plane_strides",
                format!(
                    "plane {plane}'s rows are {} bytes apart, less than their {row} bytes of pixels",
                    layout.plane_strides[plane]
                ),
            ));
        }
        let (start, end) = layout.plane_span(plane);
        if start < previous_end {
            return Err(FormatError::new(
                "header.plane_offsets",
                format!("plane {plane} starts at {start}, inside the plane before it"),
            ));
        }
        if end > u64::from(layout.frame_size) {
            return Err(FormatError::new(
                "header.frame_size",
                format!(
                    "is {}, but plane {plane} ends at byte {end}",
                    layout.frame_size
                ),
            ));
        }
        previous_end = end;
    }
    if layout.frame_size > header.slot_capacity {
        return Err(FormatError::new(
            "header.frame_size",
            format!(
                "is {}, more than the slot capacity {}",
                layout.frame_size, header.slot_capacity
            ),
        ));
    }
    Ok(Some(layout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camd_lays_rows_out_as_gstreamer_does() {
        let rgb = PixelLayout::packed(Codec::Rgb, 641, 2).unwrap();
        assert_eq!(rgb.plane_strides, [1924, 0]);
        assert_eq!(rgb.frame_size, 1924 * 2);
        let nv12 = PixelLayout::packed(Codec::Nv12, 642, 4).unwrap();
        assert_eq!(nv12.plane_strides, [644, 644]);
        assert_eq!(nv12.plane_offsets, [0, 644 * 4]);
        assert_eq!(nv12.frame_size, 644 * 4 + 644 * 2);
        let bgr = PixelLayout::packed(Codec::Bgr, 640, 360).unwrap();
        assert_eq!((bgr.plane_strides[0], bgr.frame_size), (1920, 1920 * 360));
    }

    #[test]
    fn sizes_a_format_cannot_have_are_refused() {
        assert!(PixelLayout::packed(Codec::Nv12, 641, 2).is_err());
        assert!(PixelLayout::packed(Codec::Rgb, 0, 2).is_err());
        assert!(PixelLayout::packed(Codec::Jpeg, 4, 2).is_err());
    }

    #[test]
    fn planes_are_cut_from_a_frame_of_the_exact_size() {
        let nv12 = PixelLayout::packed(Codec::Nv12, 4, 2).unwrap();
        let frame: Vec<u8> = (0..nv12.frame_size as u8).collect();
        let [y, uv] = nv12.planes(&frame).unwrap();
        assert_eq!(y, &frame[..8]);
        assert_eq!(uv, &frame[8..12]);
        assert!(nv12.planes(&frame[1..]).is_none());
        assert_eq!(Codec::from_name("bgr"), Some(Codec::Bgr));
        assert_eq!(Codec::from_value(2), Some(Codec::Nv12));
        assert_eq!(Codec::from_value(5), None);
    }

    #[test]
    fn rows_leave_the_padding_out() {
        // 3x2 RGB: rows of 9 pixel bytes, 12 apart.
        let rgb = PixelLayout::packed(Codec::Rgb, 3, 2).unwrap();
        let frame: Vec<u8> = (0..rgb.frame_size as u8).collect();
        assert_eq!(rgb.row(&frame, 0, 0), Some(&frame[0..9]));
        assert_eq!(rgb.row(&frame, 0, 1), Some(&frame[12..21]));
        assert_eq!(rgb.row(&frame, 0, 2), None);
        assert_eq!(rgb.row(&frame, 1, 0), None);
        assert_eq!(rgb.row(&frame[1..], 0, 0), None);
        // 6x2 NV12: Y rows of 6 bytes 8 apart, then one UV row.
        let nv12 = PixelLayout::packed(Codec::Nv12, 6, 2).unwrap();
        let frame: Vec<u8> = (0..nv12.frame_size as u8).collect();
        assert_eq!(nv12.row(&frame, 0, 1), Some(&frame[8..14]));
        assert_eq!(nv12.row(&frame, 1, 0), Some(&frame[16..22]));
        assert_eq!(nv12.row(&frame, 1, 1), None);
        for codec in Codec::ALL {
            let name = codec.name_with_nul();
            assert_eq!(name.last(), Some(&0));
            assert_eq!(&name[..name.len() - 1], codec.name().as_bytes());
        }
    }
}
