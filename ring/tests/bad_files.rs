//! Bad ring files: every one gives a clear error naming the file and the field, never a panic
//! or an out-of-bounds read (a failure here would show as a crash of the test process).

use camd_ring_test_support as common;

use camd_ring::{FrameInfo, Reader, Writer, WriterOptions};
use common::*;
use std::path::{Path, PathBuf};

fn valid_ring(dir: &TempDir) -> PathBuf {
    let path = dir.join("cam.ring");
    let mut writer = Writer::create(&path, &WriterOptions::new("cam", 4, 1024)).unwrap();
    writer
        .publish(&frame_for(1, 1024), &FrameInfo::default())
        .unwrap();
    path
}

/// Opens `path`, expects a format error on `field`, and returns the message.
fn open_error(path: &Path, field: &str) -> String {
    let error = match Reader::open(path) {
        Ok(_) => panic!("{} opened although it is bad ({field})", path.display()),
        Err(e) => e,
    };
    let message = error.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "message does not name the file: {message}"
    );
    let format = error
        .format_error()
        .unwrap_or_else(|| panic!("not a format error: {message}"));
    assert_eq!(format.field, field, "{message}");
    message
}

#[test]
fn empty_file() {
    let dir = TempDir::new("bad");
    let path = dir.join("empty.ring");
    std::fs::write(&path, b"").unwrap();
    let message = open_error(&path, "header");
    assert!(message.contains("0 bytes"), "{message}");
}

#[test]
fn truncated_inside_the_static_header() {
    let dir = TempDir::new("bad");
    let path = valid_ring(&dir);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(100)
        .unwrap();
    open_error(&path, "header");
}

#[test]
fn truncated_after_the_header() {
    let dir = TempDir::new("bad");
    let path = valid_ring(&dir);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(5000)
        .unwrap();
    let message = open_error(&path, "header.file_size");
    assert!(message.contains("the file has 5000"), "{message}");
}

#[test]
fn bad_magic() {
    let dir = TempDir::new("bad");
    let path = valid_ring(&dir);
    patch(&path, "header.magic", b"NOTARING");
    let message = open_error(&path, "header.magic");
    assert!(message.contains("not a camd ring file"), "{message}");
}

#[test]
fn newer_version() {
    let dir = TempDir::new("bad");
    let path = valid_ring(&dir);
    patch(&path, "header.version", &2u32.to_le_bytes());
    let message = open_error(&path, "header.version");
    assert!(
        message.contains("format version 2 is not supported"),
        "{message}"
    );
}

#[test]
fn wrong_header_size() {
    let dir = TempDir::new("bad");
    let path = valid_ring(&dir);
    patch(&path, "header.header_size", &8192u32.to_le_bytes());
    open_error(&path, "header.header_size");
}

#[test]
fn unknown_incompatible_feature() {
    let dir = TempDir::new("bad");
    let path = valid_ring(&dir);
    patch(&path, "header.incompat_features", &1u32.to_le_bytes());
    open_error(&path, "header.incompat_features");
}

#[test]
fn unknown_compatible_feature_is_accepted() {
    let dir = TempDir::new("bad");
    let path = valid_ring(&dir);
    patch(
        &path,
        "header.compat_features",
        &0x8000_0000u32.to_le_bytes(),
    );
    let reader = Reader::open(&path).expect("compat features are ignored");
    assert!(reader.latest().unwrap().is_some());
}

#[test]
fn zero_slot_count() {
    let dir = TempDir::new("bad");
    let path = valid_ring(&dir);
    patch(&path, "header.slot_count", &0u32.to_le_bytes());
    open_error(&path, "header.slot_count");
}

#[test]
fn huge_slot_count() {
    let dir = TempDir::new("bad");
    let path = valid_ring(&dir);
    patch(&path, "header.slot_count", &u32::MAX.to_le_bytes());
    open_error(&path, "header.slot_count");
}

#[test]
fn slots_overflowing_the_file() {
    let dir = TempDir::new("bad");
    let path = valid_ring(&dir);
    // 4 slots of 64 + 1024 fit; 5 do not.
    patch(&path, "header.slot_count", &5u32.to_le_bytes());
    let message = open_error(&path, "header.slot_count");
    assert!(message.contains("overflow"), "{message}");
    // A stride that wraps u64 arithmetic must not wrap the check.
    let path = valid_ring(&dir);
    patch(&path, "header.slot_stride", &(u64::MAX - 63).to_le_bytes());
    open_error(&path, "header.slot_count");
}

#[test]
fn stride_smaller_than_a_slot() {
    let dir = TempDir::new("bad");
    let path = valid_ring(&dir);
    patch(&path, "header.slot_stride", &64u64.to_le_bytes());
    open_error(&path, "header.slot_stride");
}

#[test]
fn slot_capacity_out_of_range() {
    let dir = TempDir::new("bad");
    let path = valid_ring(&dir);
    patch(&path, "header.slot_capacity", &0u32.to_le_bytes());
    open_error(&path, "header.slot_capacity");
}

#[test]
fn unknown_codec() {
    let dir = TempDir::new("bad");
    let path = valid_ring(&dir);
    patch(&path, "header.codec", &7u32.to_le_bytes());
    open_error(&path, "header.codec");
}

#[test]
fn name_without_nul() {
    let dir = TempDir::new("bad");
    let path = valid_ring(&dir);
    patch(&path, "header.name", &[b'x'; 64]);
    open_error(&path, "header.name");
}

/// Patches slot 1's length (frame 1 is there) to `len` and returns the message of each read
/// (latest, copy, borrow), each of which must refuse the frame naming `slot[1].len` and the file.
fn every_read_refuses_slot_1_of_length(path: &Path, len: u32) -> Vec<String> {
    let reader = Reader::open(path).unwrap();
    let slot1 = 4096 + reader.geometry().slot_stride + offset_of("slot.len");
    patch_at(path, slot1, &len.to_le_bytes());
    [
        reader.latest().map(|_| ()),
        reader.copy_latest(&mut Vec::new()).map(|_| ()),
        reader.borrow_latest().map(|_| ()),
    ]
    .into_iter()
    .map(|result| {
        let error = result.expect_err("a frame of that length must be refused");
        let message = error.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert_eq!(
            error.format_error().unwrap().field,
            "slot[1].len",
            "{message}"
        );
        message
    })
    .collect()
}

#[test]
fn length_beyond_its_slot() {
    let dir = TempDir::new("bad");
    // The slot holds 1024 bytes.
    every_read_refuses_slot_1_of_length(&valid_ring(&dir), 1025);
}

#[test]
fn missing_file_names_the_path() {
    let dir = TempDir::new("bad");
    let path = dir.join("nope.ring");
    let message = Reader::open(&path).err().unwrap().to_string();
    assert!(
        message.contains(&path.display().to_string()) && message.contains("cannot open"),
        "{message}"
    );
}

/// Every prefix and every single-byte corruption of the static header is handled, never a panic
/// (the fuzz target does this at scale): a prefix of the file is refused, and so is a flip in a
/// field the reader checks first, naming that field; any other flip gives a valid reader or an
/// error naming a header field.
#[test]
fn every_prefix_and_byte_flip_of_the_header_is_handled() {
    let dir = TempDir::new("bad");
    let good = std::fs::read(valid_ring(&dir)).unwrap();
    camd_ring::validate_header(&good, good.len() as u64).expect("the ring itself is valid");
    for len in 0..300 {
        let result = camd_ring::validate_header(&good[..len], len as u64);
        assert!(result.is_err(), "a {len}-byte prefix was accepted");
    }
    // The header's fields in order, each with its size (up to the next one).
    let mut fields: Vec<(&str, usize)> = camd_ring::layout::field_offsets()
        .into_iter()
        .filter(|(name, offset)| name.starts_with("header.") && *offset < 256)
        .collect();
    fields.sort_by_key(|&(_, offset)| offset);
    let field_at = |i: usize| {
        fields
            .iter()
            .rev()
            .find(|&&(_, offset)| offset <= i)
            .map_or("", |&(name, _)| name)
    };
    let checked_first = [
        "header.magic",
        "header.version",
        "header.header_size",
        "header.incompat_features",
        "header.file_size",
    ];
    for i in 0..256 {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bytes = good[..256].to_vec();
            bytes[i] ^= flip;
            let result = camd_ring::validate_header(&bytes, good.len() as u64);
            let field = field_at(i);
            match result {
                Err(e) if checked_first.contains(&field) => {
                    assert_eq!(e.field, field, "byte {i} ^ {flip:#x}: {e}")
                }
                Err(e) => assert!(e.field.starts_with("header"), "byte {i} ^ {flip:#x}: {e}"),
                Ok(_) => assert!(
                    !checked_first.contains(&field),
                    "byte {i} ^ {flip:#x} ({field}) was accepted"
                ),
            }
        }
    }
}

/// A ring of 4x2 NV12 frames (Y 4x2 then UV 4x1: 12 bytes each) with one frame published.
fn raw_ring(dir: &TempDir) -> PathBuf {
    let path = dir.join("raw.ring");
    let options = WriterOptions {
        width: 4,
        height: 2,
        codec: camd_ring::Codec::Nv12,
        ..WriterOptions::new("raw", 4, 64)
    };
    let mut writer = Writer::create(&path, &options).unwrap();
    writer.publish(&[7u8; 12], &FrameInfo::default()).unwrap();
    path
}

#[test]
fn raw_layouts_that_leave_the_frame_or_the_slot() {
    let dir = TempDir::new("bad");
    let u32s = |v: &[u32]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
    // (field patched, its new value, field the error must name, words in the message)
    let cases: [(&str, Vec<u8>, &str, &str); 7] = [
        ("header.width", u32s(&[3]), "header.width", "even"),
        (
            "header.plane_strides",
            u32s(&[3, 4]),
            "header.plane_strides",
            "plane 0",
        ),
        (
            "header.plane_strides",
            u32s(&[4, 3]),
            "header.plane_strides",
            "plane 1",
        ),
        (
            "header.plane_offsets",
            u32s(&[0, 4]),
            "header.plane_offsets",
            "inside the plane before",
        ),
        (
            "header.plane_offsets",
            u32s(&[0, 9]),
            "header.frame_size",
            "plane 1 ends at byte 13",
        ),
        (
            "header.frame_size",
            u32s(&[11]),
            "header.frame_size",
            "ends at byte 12",
        ),
        (
            "header.frame_size",
            u32s(&[65]),
            "header.frame_size",
            "slot capacity 64",
        ),
    ];
    for (field, value, named, words) in cases {
        let path = raw_ring(&dir);
        patch(&path, field, &value);
        let message = open_error(&path, named);
        assert!(message.contains(words), "{field} {value:?}: {message}");
    }
    // An RGB ring says nothing about a second plane.
    let path = dir.join("rgb.ring");
    let options = WriterOptions {
        width: 2,
        height: 2,
        codec: camd_ring::Codec::Rgb,
        ..WriterOptions::new("rgb", 2, 64)
    };
    drop(Writer::create(&path, &options).unwrap());
    patch(&path, "header.plane_strides", &u32s(&[8, 8]));
    let message = open_error(&path, "header.plane_offsets");
    assert!(message.contains("1 plane"), "{message}");
}

#[test]
fn a_raw_frame_of_another_length_is_corrupt() {
    let dir = TempDir::new("bad");
    for message in every_read_refuses_slot_1_of_length(&raw_ring(&dir), 11) {
        assert!(
            message.contains("every nv12 frame of this ring is 12"),
            "{message}"
        );
    }
}
