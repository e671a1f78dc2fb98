//! `Writer`: creates or takes over a ring file and publishes frames and status into it. One
//! writer per path, enforced with an exclusive `flock` on the path's private lock file (see
//! `files`) that the kernel drops when the writer's process dies, so a restarted worker can take
//! over at once. The writer maps only the ring file, which no reader can write.

use crate::clock;
use crate::error::{ErrorKind, FormatError, Result, RingError};
use crate::files::{self, allocate, legacy_doorbell_path, lock_writer, open_regular};
use crate::layout::*;
use crate::pixels::{Codec, PixelLayout};
use crate::publish::{FrameInfo, Publisher};
use crate::reader::too_short;
use crate::region::Region;
use crate::shared_bytes;
use crate::status::{self, State, Status};
use crate::validate::{validate_header, Geometry};
use core::ptr::NonNull;
use core::sync::atomic::Ordering;
use memmap2::MmapRaw;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use zerocopy::IntoBytes;

/// The shape of a new ring file.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// Camera name, stored in the header (1 to 63 bytes of UTF-8, no NUL).
    pub name: String,
    /// Number of slots (2 to 4096). With `n` slots a reader can hold a borrowed frame while the
    /// writer publishes `n - 1` newer ones.
    pub slot_count: u32,
    /// Largest frame in bytes (1 to 256 MiB). Larger frames are counted, not written.
    pub slot_capacity: u32,
    /// Output size the camera is configured for (0 if unknown; required for raw codecs).
    pub width: u32,
    pub height: u32,
    /// What the frames are: JPEG (the default) or raw pixels, laid out by
    /// `PixelLayout::packed` at `width` x `height`.
    pub codec: Codec,
    /// File mode of the ring (default 0640). Readers need only read permission.
    pub mode: u32,
    /// Group owning the ring file (the inference program's group); `None` keeps the creating
    /// process's group.
    pub group: Option<u32>,
}

impl WriterOptions {
    pub fn new(name: impl Into<String>, slot_count: u32, slot_capacity: u32) -> Self {
        Self {
            name: name.into(),
            slot_count,
            slot_capacity,
            width: 0,
            height: 0,
            codec: Codec::Jpeg,
            mode: 0o640,
            group: None,
        }
    }

    fn check(&self, path: &Path) -> Result<()> {
        let invalid = |m: String| Err(RingError::invalid(path, m));
        if self.name.is_empty() || self.name.len() >= NAME_LEN || self.name.contains('\0') {
            return invalid(format!(
                "camera name {:?} must be 1 to {} bytes with no NUL",
                self.name,
                NAME_LEN - 1
            ));
        }
        if !(MIN_SLOT_COUNT..=MAX_SLOT_COUNT).contains(&self.slot_count) {
            return invalid(format!(
                "slot_count {} must be between {MIN_SLOT_COUNT} and {MAX_SLOT_COUNT}",
                self.slot_count
            ));
        }
        if self.slot_capacity == 0 || self.slot_capacity > MAX_SLOT_CAPACITY {
            return invalid(format!(
                "slot_capacity {} must be between 1 and {MAX_SLOT_CAPACITY}",
                self.slot_capacity
            ));
        }
        if self.width > MAX_DIMENSION || self.height > MAX_DIMENSION {
            return invalid(format!(
                "size {}x{} is over {MAX_DIMENSION} pixels",
                self.width, self.height
            ));
        }
        if let Some(layout) = self.layout().map_err(|m| RingError::invalid(path, m))? {
            if layout.frame_size > self.slot_capacity {
                return invalid(format!(
                    "slot_capacity {} is smaller than one {} frame of {}x{} ({} bytes)",
                    self.slot_capacity,
                    self.codec.name(),
                    self.width,
                    self.height,
                    layout.frame_size
                ));
            }
        }
        if self.file_size() > MAX_FILE_SIZE {
            return invalid(format!(
                "{} slots of {} bytes exceed the {MAX_FILE_SIZE}-byte file limit",
                self.slot_count, self.slot_capacity
            ));
        }
        if self.mode & !0o777 != 0 {
            return invalid(format!("mode {:o} has bits beyond 0777", self.mode));
        }
        Ok(())
    }

    /// Size of the ring file these options make, in bytes (all of it allocated at creation).
    pub fn file_size(&self) -> u64 {
        u64::from(HEADER_SIZE) + u64::from(self.slot_count) * slot_stride(self.slot_capacity)
    }

    /// The raw frames' layout these options make; `None` for JPEG.
    pub fn layout(&self) -> std::result::Result<Option<PixelLayout>, String> {
        if !self.codec.is_raw() {
            return Ok(None);
        }
        PixelLayout::packed(self.codec, self.width, self.height).map(Some)
    }

    pub(crate) fn static_header(&self) -> StaticHeader {
        let mut name = [0u8; NAME_LEN];
        encode_text(&self.name, &mut name);
        // `check` refused options without a layout.
        let layout = self.layout().ok().flatten();
        StaticHeader {
            magic: MAGIC,
            version: FORMAT_VERSION,
            header_size: HEADER_SIZE,
            file_size: self.file_size(),
            slots_offset: u64::from(HEADER_SIZE),
            slot_stride: slot_stride(self.slot_capacity),
            slot_count: self.slot_count,
            slot_capacity: self.slot_capacity,
            slot_header_size: SLOT_HEADER_SIZE,
            codec: self.codec.value(),
            width: self.width,
            height: self.height,
            compat_features: WRITER_COMPAT_FEATURES,
            incompat_features: 0,
            created_realtime_ns: clock::realtime_ns(),
            name,
            plane_offsets: layout.map_or([0; 2], |l| l.plane_offsets),
            plane_strides: layout.map_or([0; 2], |l| l.plane_strides),
            frame_size: layout.map_or(0, |l| l.frame_size),
            reserved: [0; 92],
        }
    }
}

/// The single writer of a ring file.
pub struct Writer {
    publisher: Publisher,
    path: PathBuf,
    // Keeps the mapping behind `publisher.region` alive, the file open, and the writer lock.
    _map: MmapRaw,
    file: File,
    _lock: File,
}

impl Writer {
    /// Creates a complete ring file at `path` (fully allocated, written under a temporary name,
    /// then renamed over `path`) and becomes its writer. If `path` held a valid ring, its
    /// generation is carried on (+1) and, once the new file has the name, the old one is marked
    /// retired so readers still mapping it know to reopen. A ring whose writer is still running
    /// is not replaced (`ErrorKind::WriterBusy`); anything at `path` that is not a regular file
    /// is refused (`ErrorKind::NotRegular`), and a filesystem without room for the whole file is
    /// `ErrorKind::NoSpace`.
    pub fn create(path: impl AsRef<Path>, options: &WriterOptions) -> Result<Self> {
        let path = path.as_ref();
        options.check(path)?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let file_name = path
            .file_name()
            .ok_or_else(|| RingError::invalid(path, "path has no file name"))?;
        let lock = lock_writer(path)?;
        let previous = PreviousRing::open(path)?;
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            file_name.to_string_lossy(),
            std::process::id()
        ));
        let mut created = false;
        let result = (|| {
            let mut file = create_exclusive(&tmp, options)?;
            created = true;
            allocate(&file, &tmp, options.file_size())?;
            let mut page = vec![0u8; HEADER_SIZE as usize];
            page[..256].copy_from_slice(options.static_header().as_bytes());
            file.write_all(&page)
                .map_err(|e| RingError::io(&tmp, "write the header", e))?;
            let status = Status {
                state: State::Starting,
                state_since_realtime_ns: clock::realtime_ns(),
                generation: previous
                    .as_ref()
                    .map_or(1, |p| p.generation.wrapping_add(1)),
                ..Status::default()
            };
            let (map, region) = map_writable(&file, &tmp)?;
            let writer = Self::start(file, lock, map, region, path, Some(status))?;
            std::fs::rename(&tmp, path)
                .map_err(|e| RingError::io(path, "rename the new ring into place", e))?;
            Ok(writer)
        })();
        match result {
            Ok(writer) => {
                if let Some(previous) = previous {
                    previous.retire();
                }
                let _ = std::fs::remove_file(legacy_doorbell_path(path));
                Ok(writer)
            }
            Err(e) => {
                if created {
                    let _ = std::fs::remove_file(&tmp);
                }
                Err(e)
            }
        }
    }

    /// Takes over an existing ring file as its writer (a restarted worker): keeps its frames,
    /// sequence numbers and counters, bumps its generation and records this process's pid. A
    /// file with holes (made by camd 0.1, which did not allocate) is allocated first.
    pub fn attach(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let lock = lock_writer(path)?;
        let file = open_regular(path, true)?;
        let len = file
            .metadata()
            .map_err(|e| RingError::io(path, "stat", e))?
            .len();
        let (map, region) = map_writable(&file, path)?;
        allocate(&file, path, len)?;
        if region.liveness().retired.load(Ordering::Acquire) != 0 {
            return Err(RingError::invalid(
                path,
                "the file at this path is marked retired (replaced by a newer ring)",
            ));
        }
        let latest = region.index().latest_seq.load(Ordering::Relaxed);
        if latest >= 1 << 62 {
            return Err(RingError::format(
                path,
                FormatError::new(
                    "index.latest_seq",
                    format!("{latest} is not a plausible sequence number"),
                ),
            ));
        }
        let writer = Self::start(file, lock, map, region, path, None)?;
        let _ = std::fs::remove_file(legacy_doorbell_path(path));
        Ok(writer)
    }

    /// Starts publishing into a mapped file whose writer lock is `lock`. `new_status` is the
    /// status of a file being created; for an existing file the status is read from it and its
    /// generation bumped.
    fn start(
        file: File,
        lock: File,
        map: MmapRaw,
        region: Region,
        path: &Path,
        new_status: Option<Status>,
    ) -> Result<Self> {
        let mut status = match new_status {
            Some(status) => status,
            None => {
                let mut status = read_status(&region, path)?;
                status.generation = status.generation.wrapping_add(1);
                status
            }
        };
        status.writer_pid = std::process::id();
        let publisher = Publisher::new(region, status);
        Ok(Self {
            publisher,
            path: path.to_owned(),
            _map: map,
            file,
            _lock: lock,
        })
    }

    /// Gives the ring file `group` (`None`: this process's effective group) and `mode`, if it
    /// has others: a changed `ring_group` applies to rings made before the change.
    pub fn set_owner_and_mode(&self, group: Option<u32>, mode: u32) -> Result<()> {
        // SAFETY: getegid has no preconditions.
        let gid = group.unwrap_or_else(|| unsafe { libc::getegid() });
        set_owner_and_mode(&self.file, &self.path, Some(gid), mode)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn geometry(&self) -> &Geometry {
        &self.publisher.region.geometry
    }

    /// Copies `bytes` (one JPEG, or one raw frame in the ring's layout) into the next slot and
    /// makes it the latest frame; returns its sequence number. A frame larger than the slot
    /// capacity is counted in `oversize` and refused with `ErrorKind::Oversize`; nothing is
    /// truncated and the previous frame stays. A raw frame must be exactly the layout's
    /// `frame_size` (`ErrorKind::Invalid` otherwise, nothing written).
    pub fn publish(&mut self, bytes: &[u8], info: &FrameInfo) -> Result<u64> {
        if let Some(layout) = &self.publisher.region.geometry.layout {
            if bytes.len() != layout.frame_size as usize {
                return Err(RingError::invalid(
                    &self.path,
                    format!(
                        "a {} frame of {}x{} is {} bytes, not {}",
                        layout.codec.name(),
                        layout.width,
                        layout.height,
                        layout.frame_size,
                        bytes.len()
                    ),
                ));
            }
        }
        self.publisher
            .publish(bytes, info)
            .map_err(|kind| RingError::with_kind(&self.path, kind))
    }

    /// Sequence number of the last frame published into this file (by any writer), 0 if none.
    pub fn latest_seq(&self) -> u64 {
        crate::frames::latest_seq(&self.publisher.region)
    }

    /// A sign of life when no frame comes (call at least once a second); also refreshes fps.
    pub fn heartbeat(&mut self) {
        self.publisher.heartbeat();
    }

    /// The status as this writer last wrote it.
    pub fn status(&self) -> &Status {
        self.publisher.status()
    }

    /// Changes the status (state, retries, errors, counters, decoder names ...) in one update
    /// that readers see whole. `writer_pid` and `generation` are the writer's and stay.
    pub fn update_status(&mut self, change: impl FnOnce(&mut Status)) {
        self.publisher.update_status(change);
    }

    /// Adds `count` to the frames the capture side dropped before they reached the ring.
    pub fn count_drops(&mut self, count: u64) {
        self.publisher
            .update_status(|s| s.drops = s.drops.saturating_add(count));
    }
}

/// Reads the status of a ring whose writer lock the caller holds.
fn read_status(region: &Region, path: &Path) -> Result<Status> {
    status::recover(region.status());
    for _ in 0..crate::frames::MAX_TRIES {
        if let Some(status) = status::try_load(region.status()) {
            return Ok(status);
        }
        std::thread::yield_now();
    }
    Err(RingError::with_kind(
        path,
        ErrorKind::Contended {
            tries: crate::frames::MAX_TRIES,
        },
    ))
}

fn create_exclusive(path: &Path, options: &WriterOptions) -> Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| RingError::io(path, "create", e))?;
    set_owner_and_mode(&file, path, options.group, options.mode)?;
    Ok(file)
}

fn set_owner_and_mode(file: &File, path: &Path, group: Option<u32>, mode: u32) -> Result<()> {
    if let Some(gid) = group {
        // SAFETY: fchown on an fd we own; uid -1 leaves the owner unchanged.
        if unsafe { libc::fchown(file.as_raw_fd(), u32::MAX, gid) } != 0 {
            return Err(RingError::io(
                path,
                "set the group",
                std::io::Error::last_os_error(),
            ));
        }
    }
    // SAFETY: fchmod on an fd we own.
    if unsafe { libc::fchmod(file.as_raw_fd(), mode as libc::mode_t) } != 0 {
        return Err(RingError::io(
            path,
            "set the mode",
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// Maps a ring file read-write and validates its header. A raw mapping: no Rust reference to
/// the whole mapping is ever made, only `Region`'s references to atomics.
fn map_writable(file: &File, path: &Path) -> Result<(MmapRaw, Region)> {
    let len = file
        .metadata()
        .map_err(|e| RingError::io(path, "stat", e))?
        .len();
    if len < 256 {
        return Err(too_short(path, len));
    }
    let map = MmapRaw::map_raw(file).map_err(|e| RingError::io(path, "map", e))?;
    // The mapping's own length (memmap2 stats the file again), as in Reader::open.
    if map.len() < 256 {
        return Err(too_short(path, map.len() as u64));
    }
    let mut header = [0u8; 256];
    // SAFETY: the mapping has at least 256 bytes (map.len(), checked just above); the static
    // header is never written after creation.
    unsafe { shared_bytes::load(&mut header, map.as_ptr()) };
    let geometry =
        validate_header(&header, map.len() as u64).map_err(|e| RingError::format(path, e))?;
    let base = NonNull::new(map.as_mut_ptr()).expect("mmap returned null");
    // SAFETY: the mapping is map.len() bytes, page-aligned and validated above; the caller keeps
    // it alive as long as the region.
    let region = unsafe { Region::new(base, map.len(), geometry) };
    Ok((map, region))
}

/// The ring a new file replaces, open while the caller holds the path's writer lock (so no
/// writer can start on it meanwhile) until it is retired after the rename.
struct PreviousRing {
    _file: File,
    _map: MmapRaw,
    region: Region,
    generation: u64,
}

impl PreviousRing {
    /// The valid ring at `path`, if any. A regular file that is not a valid ring is simply
    /// replaced (`None`); anything else at `path` (a directory, a FIFO, a symbolic link ...) is
    /// refused: it is not camd's, and renaming over it would hide that.
    fn open(path: &Path) -> Result<Option<Self>> {
        match files::entry_type(path)? {
            None => return Ok(None),
            Some(t) if !t.is_file() => {
                return Err(RingError::with_kind(
                    path,
                    ErrorKind::NotRegular(files::describe(t)),
                ))
            }
            Some(_) => {}
        }
        let Ok(file) = open_regular(path, true) else {
            return Ok(None);
        };
        let Ok((map, region)) = map_writable(&file, path) else {
            return Ok(None);
        };
        if region.liveness().retired.load(Ordering::Acquire) != 0 {
            return Ok(None);
        }
        let generation = read_status(&region, path)?.generation;
        Ok(Some(Self {
            _file: file,
            _map: map,
            region,
            generation,
        }))
    }

    /// Marks the replaced file retired and wakes its blocked readers. Called after the rename, so
    /// a reader that reopens the path on seeing the flag gets the new file.
    fn retire(self) {
        self.region.liveness().retired.store(1, Ordering::SeqCst);
        self.region.index().notify.fetch_add(1, Ordering::SeqCst);
        crate::futex::wake_all(&self.region.index().notify);
    }
}
