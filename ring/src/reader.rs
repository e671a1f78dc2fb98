//! `Reader`: maps a ring file read-only after validating every length and offset in it, and
//! reads frames and status with no lock and no syscall (except the blocking wait and the
//! replaced-file check, which say so).

use crate::clock;
use crate::error::{ErrorKind, Result, RingError};
use crate::frames::{self, BorrowedFrame, FrameGone, FrameMeta};
use crate::pixels::Codec;
use crate::region::Region;
use crate::shared_bytes;
use crate::status::{self, Status};
use crate::validate::{validate_header, Geometry};
use core::ptr::NonNull;
use core::sync::atomic::Ordering;
use memmap2::{MmapOptions, MmapRaw};
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long without a heartbeat before `writer_alive` says no, by default. Writers heartbeat at
/// least once a second.
pub const DEFAULT_ALIVE_TIMEOUT: Duration = Duration::from_secs(3);

/// A consistent picture of a camera's status at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusSnapshot {
    pub status: Status,
    /// Sequence number of the latest frame (= frames published since the file was created).
    pub latest_seq: u64,
    /// The writer's last sign of life, CLOCK_MONOTONIC and CLOCK_REALTIME ns.
    pub heartbeat_mono_ns: u64,
    pub heartbeat_realtime_ns: u64,
    /// A newer file has replaced this one at its path: reopen.
    pub retired: bool,
    /// CLOCK_MONOTONIC when the snapshot was taken, for the `*_in` / `*_age` helpers.
    pub taken_mono_ns: u64,
}

impl StatusSnapshot {
    /// Time until the next connection attempt, if one is pending.
    pub fn next_retry_in(&self) -> Option<Duration> {
        (self.status.next_retry_mono_ns != 0).then(|| {
            Duration::from_nanos(
                self.status
                    .next_retry_mono_ns
                    .saturating_sub(self.taken_mono_ns),
            )
        })
    }

    /// Time since the writer's last sign of life.
    pub fn heartbeat_age(&self) -> Duration {
        Duration::from_nanos(self.taken_mono_ns.saturating_sub(self.heartbeat_mono_ns))
    }

    /// Measured frames per second.
    pub fn fps(&self) -> f64 {
        f64::from(self.status.fps_milli) / 1000.0
    }
}

/// A read-only view of one camera's ring file.
pub struct Reader {
    region: Region,
    path: PathBuf,
    file: File,
    // Keeps the mapping behind `region` alive.
    _map: MmapRaw,
}

/// A file (or its mapping) of `len` bytes, too short to hold the static header: the error
/// `validate_header` gives for it, naming the file.
pub(crate) fn too_short(path: &Path, len: u64) -> RingError {
    RingError::format(path, validate_header(&[], len).unwrap_err())
}

impl Reader {
    /// Opens and maps `path` read-only, validating the header (magic, version, sizes, and every
    /// offset and length against the file's real size). A symbolic link at `path` is not
    /// followed, and anything but a regular file is refused without blocking
    /// (`ErrorKind::NotRegular`).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = crate::files::open_regular(path, false)?;
        let len = file
            .metadata()
            .map_err(|e| RingError::io(path, "stat", e))?
            .len();
        if len < 256 {
            return Err(too_short(path, len));
        }
        // A raw read-only shared mapping of a file we keep open: no Rust reference to the whole
        // mapping is made. The writer changes parts of it while we read; every such part is read
        // through atomics or `shared_bytes` under a sequence lock (see region.rs). Ring files are
        // never resized in place: a process that truncated one (only its owner can) would make
        // this mapping fault (SIGBUS), as with any mapped file.
        let map = MmapOptions::new()
            .map_raw_read_only(&file)
            .map_err(|e| RingError::io(path, "map", e))?;
        // The mapping's own length (memmap2 stats the file again): a file shrunk since the check
        // above is refused here rather than read past.
        if map.len() < 256 {
            return Err(too_short(path, map.len() as u64));
        }
        let mut header = [0u8; 256];
        // SAFETY: the mapping has at least 256 bytes (map.len(), checked just above).
        unsafe { shared_bytes::load(&mut header, map.as_ptr()) };
        let geometry =
            validate_header(&header, map.len() as u64).map_err(|e| RingError::format(path, e))?;
        let base = NonNull::new(map.as_mut_ptr()).expect("mmap returned null");
        // SAFETY: the mapping is map.len() bytes, page-aligned, validated above and kept alive in
        // `_map`. It is PROT_READ: Reader never calls a writing method of Region (a write would
        // fault, not corrupt).
        let region = unsafe { Region::new(base, map.len(), geometry) };
        Ok(Self {
            region,
            path: path.to_owned(),
            file,
            _map: map,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Camera name, slot count and capacity, codec, configured width and height.
    pub fn geometry(&self) -> &Geometry {
        &self.region.geometry
    }

    /// What the frames are (`header.codec`, known: `open` refuses a codec it does not know).
    /// For raw pixels, `geometry().layout` says where they are.
    pub fn codec(&self) -> Codec {
        self.region.geometry.layout.map_or(Codec::Jpeg, |l| l.codec)
    }

    fn err(&self, kind: ErrorKind) -> RingError {
        RingError::with_kind(&self.path, kind)
    }

    /// Sequence number of the newest frame (0: none yet). One atomic load.
    pub fn latest_seq(&self) -> u64 {
        frames::latest_seq(&self.region)
    }

    /// Metadata of the newest frame, or `None` before the first.
    pub fn latest(&self) -> Result<Option<FrameMeta>> {
        frames::latest(&self.region).map_err(|k| self.err(k))
    }

    /// Copies the newest frame into `out` (resized to fit). Never torn: if the writer overwrites
    /// the slot mid-copy, the copy starts over with the then-newest frame.
    pub fn copy_latest(&self, out: &mut Vec<u8>) -> Result<Option<FrameMeta>> {
        frames::copy_latest(&self.region, out).map_err(|k| self.err(k))
    }

    /// Like `copy_latest`, into a caller's buffer (at least `slot_capacity` bytes is always
    /// enough); returns the metadata, whose `len` says how much of `out` holds the frame.
    pub fn copy_latest_into(&self, mut out: &mut [u8]) -> Result<Option<FrameMeta>> {
        frames::copy_latest(&self.region, &mut out).map_err(|k| self.err(k))
    }

    /// True while the slot of `meta` still holds that frame (for callers that keep metadata
    /// from `borrow_latest` or the C ABI's frame views).
    pub fn is_intact(&self, meta: &FrameMeta) -> bool {
        frames::intact(&self.region, meta)
    }

    /// The capture time of the frame `meta` describes by the camera's own clock, in ns since the
    /// Unix epoch: `Ok(None)` if the frame has none (nor has any frame of a file whose writer does
    /// not announce camera times, `layout::COMPAT_CAMERA_TIME`); `Err(FrameGone)` if the ring no
    /// longer holds the frame (the writer reused its slot: ask soon after reading the frame,
    /// within about `(slot_count - 1) / fps` seconds). Reads the slot again under its sequence
    /// lock, without a syscall. The camera's clock may be off from this machine's by any amount,
    /// and a camera gives its time only once its first RTCP sender report has come (about the
    /// first second of a stream); V4L2 cameras and cameras that send no reports never give it.
    pub fn camera_time_ns(&self, meta: &FrameMeta) -> Result<Option<u64>, FrameGone> {
        frames::camera_time(&self.region, meta.seq)
    }

    /// Copies frame `seq` if the ring still holds it; `None` if it is not published yet or was
    /// overwritten (for consumers that want every frame in order).
    pub fn copy_frame(&self, seq: u64, out: &mut Vec<u8>) -> Result<Option<FrameMeta>> {
        frames::copy(&self.region, seq, out).map_err(|k| self.err(k))
    }

    /// The newest frame's bytes in place, with no copy. See `BorrowedFrame`: check `is_intact`
    /// or `finish` after using the bytes.
    pub fn borrow_latest(&self) -> Result<Option<BorrowedFrame<'_>>> {
        frames::borrow_latest(&self.region).map_err(|k| self.err(k))
    }

    /// Blocks until a frame newer than `after_seq` exists and returns its metadata, or returns
    /// `None` after `timeout` or as soon as the file is retired (see `is_retired`). Sleeps on
    /// the futex the writer wakes after every publish; a file made by camd 0.1 (whose writer
    /// woke only readers registered in its doorbell file) is polled every 2 ms instead.
    pub fn wait_next(&self, after_seq: u64, timeout: Duration) -> Result<Option<FrameMeta>> {
        frames::wait_next(&self.region, after_seq, timeout).map_err(|k| self.err(k))
    }

    /// True if `wait_next` sleeps until the writer wakes it; false if it polls (a camd 0.1 file).
    pub fn can_be_woken(&self) -> bool {
        frames::wakes_every_publish(&self.region)
    }

    /// A consistent snapshot of the status block, plus the latest sequence and heartbeat.
    pub fn status(&self) -> Result<StatusSnapshot> {
        for _ in 0..frames::MAX_TRIES {
            if let Some(status) = status::try_load(self.region.status()) {
                let liveness = self.region.liveness();
                return Ok(StatusSnapshot {
                    status,
                    latest_seq: self.latest_seq(),
                    heartbeat_mono_ns: liveness.heartbeat_mono_ns.load(Ordering::Acquire),
                    heartbeat_realtime_ns: liveness.heartbeat_realtime_ns.load(Ordering::Acquire),
                    retired: liveness.retired.load(Ordering::Acquire) != 0,
                    taken_mono_ns: clock::monotonic_ns(),
                });
            }
            std::thread::yield_now();
        }
        Err(self.err(ErrorKind::Contended {
            tries: frames::MAX_TRIES,
        }))
    }

    /// True if the writer gave a sign of life within `timeout` (see `DEFAULT_ALIVE_TIMEOUT`).
    /// A camera that sends nothing still has a live writer; a crashed worker does not.
    pub fn writer_alive(&self, timeout: Duration) -> bool {
        let beat = self
            .region
            .liveness()
            .heartbeat_mono_ns
            .load(Ordering::Acquire);
        let timeout_ns = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
        beat != 0 && clock::monotonic_ns().saturating_sub(beat) < timeout_ns
    }

    /// True once a newer ring has been renamed over this file's path (no syscall: the replacing
    /// writer sets a flag in this file). `is_replaced` also catches a replacement whose creator
    /// could not set it.
    pub fn is_retired(&self) -> bool {
        self.region.liveness().retired.load(Ordering::Acquire) != 0
    }

    /// Compares the file this reader maps with what `path` names now (two `stat` calls): true
    /// if the path was removed or now names another file. Reopen with `Reader::open`.
    pub fn is_replaced(&self) -> Result<bool> {
        let mapped = self
            .file
            .metadata()
            .map_err(|e| RingError::io(&self.path, "stat the open file", e))?;
        match std::fs::symlink_metadata(&self.path) {
            Ok(now) => {
                Ok(self.is_retired() || now.ino() != mapped.ino() || now.dev() != mapped.dev())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
            Err(e) => Err(RingError::io(&self.path, "stat", e)),
        }
    }
}
