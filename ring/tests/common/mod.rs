//! Shared by the ring's integration tests: temporary directories (real files, removed on drop),
//! deterministic frame contents, and raw patching of ring files by field name.
#![allow(dead_code)]

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

mod temp_dir;
pub use temp_dir::TempDir;

/// Frame `seq`'s bytes: the length and every 8-byte word derive from `seq`, so a reader can
/// detect a torn frame (bytes of two frames) or a mismatched one.
pub fn frame_for(seq: u64, max: usize) -> Vec<u8> {
    let words = 1 + (seq as usize).wrapping_mul(7919) % (max / 8);
    let mut out = Vec::with_capacity(words * 8);
    for i in 0..words as u64 {
        out.extend_from_slice(&(seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ i).to_le_bytes());
    }
    out
}

pub fn is_frame_for(seq: u64, bytes: &[u8], max: usize) -> bool {
    let words = 1 + (seq as usize).wrapping_mul(7919) % (max / 8);
    bytes.len() == words * 8
        && bytes.chunks_exact(8).enumerate().all(|(i, w)| {
            u64::from_le_bytes(w.try_into().unwrap())
                == seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ i as u64
        })
}

pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Offset of a field by its documented name (`header.slot_count`, `slot.len`, ...).
pub fn offset_of(field: &str) -> u64 {
    camd_ring::layout::field_offsets()
        .into_iter()
        .find(|(name, _)| *name == field)
        .unwrap_or_else(|| panic!("no field {field}"))
        .1 as u64
}

/// Overwrites bytes of a ring file at a field's offset, as corruption or a hostile writer would.
pub fn patch(path: &Path, field: &str, bytes: &[u8]) {
    patch_at(path, offset_of(field), bytes);
}

pub fn patch_at(path: &Path, offset: u64, bytes: &[u8]) {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open to patch");
    file.write_all_at(bytes, offset).expect("patch");
}

/// A directory of build outputs (target/debug) for the test binary that is running.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>")
        .to_owned()
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}
