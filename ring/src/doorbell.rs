//! The doorbell: where blocked readers register, so that a publish makes the futex wake
//! syscall only when someone waits. It cannot live in the ring file, which readers map
//! read-only; it is a 64-byte companion file `<ring path>.waiters` that readers may write
//! (group-writable when the ring is group-readable). The worst a misbehaving reader can do with
//! it is cost other readers their wake-up (they then return at their timeout) or cost the
//! writer a syscall per frame; it cannot touch a frame or a status.

use crate::error::{FormatError, Result, RingError};
use core::sync::atomic::{AtomicU32, Ordering};
use memmap2::MmapRaw;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub const DOORBELL_MAGIC: [u8; 8] = *b"CAMDWAIT";
pub const DOORBELL_SIZE: usize = 64;
/// Offset of the waiter count (u32) in the doorbell file.
pub const DOORBELL_WAITERS_OFFSET: usize = 12;

/// `<ring path>.waiters`
pub fn doorbell_path(ring_path: &Path) -> PathBuf {
    let mut path = ring_path.as_os_str().to_owned();
    path.push(".waiters");
    PathBuf::from(path)
}

/// The initial contents of a doorbell file.
pub(crate) fn doorbell_bytes() -> [u8; DOORBELL_SIZE] {
    let mut bytes = [0u8; DOORBELL_SIZE];
    bytes[..8].copy_from_slice(&DOORBELL_MAGIC);
    bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
    bytes
}

enum Memory {
    Mapped(MmapRaw),
    /// A doorbell nobody else can ring: for tests over heap memory, and for readers that may
    /// not write the doorbell file (they then poll; see `Reader::wait_next`).
    Private(Box<AtomicU32>),
}

pub(crate) struct Doorbell {
    memory: Memory,
}

impl Doorbell {
    pub(crate) fn private() -> Self {
        Self {
            memory: Memory::Private(Box::new(AtomicU32::new(0))),
        }
    }

    /// Maps an existing doorbell file read-write and checks its header.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| RingError::io(path, "open the doorbell read-write", e))?;
        let len = file
            .metadata()
            .map_err(|e| RingError::io(path, "stat", e))?
            .len();
        if len != DOORBELL_SIZE as u64 {
            return Err(RingError::format(
                path,
                FormatError::new(
                    "doorbell",
                    format!("is {len} bytes, expected {DOORBELL_SIZE}"),
                ),
            ));
        }
        // A raw shared mapping: the waiter count is only ever reached as an AtomicU32.
        let map =
            MmapRaw::map_raw(&file).map_err(|e| RingError::io(path, "map the doorbell", e))?;
        let mut header = [0u8; 12];
        // SAFETY: the mapping is 64 bytes; the first 12 are never written after creation.
        unsafe { crate::shared_bytes::load(&mut header, map.as_ptr()) };
        if header[..8] != DOORBELL_MAGIC || header[8..12] != 1u32.to_le_bytes() {
            return Err(RingError::format(
                path,
                FormatError::new("doorbell.magic", "not a version 1 camd doorbell file"),
            ));
        }
        Ok(Self {
            memory: Memory::Mapped(map),
        })
    }

    /// Opens the doorbell at `path`, or, if it is missing or invalid, creates it (temporary name,
    /// then rename) with `mode` plus write permission wherever `mode` gives read permission, and
    /// `group`. A valid existing doorbell is kept: readers registered in it stay registered.
    pub(crate) fn ensure(path: &Path, mode: u32, group: Option<u32>) -> Result<Self> {
        if let Ok(doorbell) = Self::open(path) {
            return Ok(doorbell);
        }
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(&tmp)
            .map_err(|e| RingError::io(&tmp, "create", e))?;
        let result = (|| {
            crate::writer::set_owner_and_mode(&file, &tmp, group, mode | ((mode & 0o044) >> 1))?;
            (&file)
                .write_all(&doorbell_bytes())
                .map_err(|e| RingError::io(&tmp, "write", e))?;
            std::fs::rename(&tmp, path).map_err(|e| RingError::io(path, "rename into place", e))
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Self::open(path)
    }

    pub(crate) fn waiters(&self) -> &AtomicU32 {
        match &self.memory {
            // SAFETY: offset 12 of a page-aligned 64-byte mapping is in bounds and 4-aligned;
            // the mapping lives as long as `self`.
            Memory::Mapped(map) => unsafe {
                &*(map.as_ptr().add(DOORBELL_WAITERS_OFFSET) as *const AtomicU32)
            },
            Memory::Private(count) => count,
        }
    }

    pub(crate) fn is_shared(&self) -> bool {
        matches!(self.memory, Memory::Mapped(_))
    }

    /// Registers the calling reader as blocked for as long as the guard lives.
    pub(crate) fn register(&self) -> WaiterGuard<'_> {
        self.waiters().fetch_add(1, Ordering::SeqCst);
        WaiterGuard {
            count: self.waiters(),
        }
    }
}

pub(crate) struct WaiterGuard<'a> {
    count: &'a AtomicU32,
}

impl Drop for WaiterGuard<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::SeqCst);
    }
}
