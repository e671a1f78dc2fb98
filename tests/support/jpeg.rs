//! Just enough JPEG parsing for tests: a frame is a JPEG if it starts with SOI, ends with EOI,
//! and has a start-of-frame marker, which gives its size.

/// (width, height) of a baseline or progressive JPEG, or why it is not one.
pub fn jpeg_size(bytes: &[u8]) -> Result<(u32, u32), String> {
    if bytes.len() < 4 || bytes[..2] != [0xff, 0xd8] {
        return Err("no SOI marker".into());
    }
    if bytes[bytes.len() - 2..] != [0xff, 0xd9] {
        return Err("no EOI marker at the end".into());
    }
    let mut i = 2;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xff {
            return Err(format!("expected a marker at {i}"));
        }
        let marker = bytes[i + 1];
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        if matches!(marker, 0xc0..=0xc3 | 0xc5..=0xc7 | 0xc9..=0xcb | 0xcd..=0xcf) {
            if i + 9 > bytes.len() {
                return Err("truncated SOF".into());
            }
            let h = u16::from_be_bytes([bytes[i + 5], bytes[i + 6]]) as u32;
            let w = u16::from_be_bytes([bytes[i + 7], bytes[i + 8]]) as u32;
            return Ok((w, h));
        }
        i += 2 + len;
    }
    Err("no SOF marker".into())
}
