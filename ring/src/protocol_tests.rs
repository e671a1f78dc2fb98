//! Tests of the frame and status protocols over heap memory instead of a mapped file, so that
//! they also run under miri (`cargo xtask miri`), whose data-race detector checks the seqlock
//! orderings. The code under test is the production code: `Publisher`, `frames`, `status`.

use crate::error::ErrorKind;
use crate::frames::{self, FrameGone};
use crate::layout::{StaticHeader, COMPAT_CAMERA_TIME, SLOT_FLAG_CAMERA_TIME};
use crate::publish::{FrameInfo, Publisher};
use crate::region::Region;
use crate::status::{self, State, Status};
use crate::validate::validate_header;
use crate::writer::WriterOptions;
use core::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use zerocopy::IntoBytes;

/// A ring file image in an 8-byte-aligned heap buffer, shared by threads. The buffer is held
/// as a raw pointer (not a Box or a slice) so that the regions' writes through it are not
/// writes through a shared reference.
struct HeapRing {
    words: NonNull<u64>,
    len: usize,
}

// SAFETY: the buffer is only accessed through Regions (atomics and shared_bytes).
unsafe impl Send for HeapRing {}
// SAFETY: as for Send.
unsafe impl Sync for HeapRing {}

impl HeapRing {
    fn new(slot_count: u32, slot_capacity: u32) -> Arc<Self> {
        Self::with_header(slot_count, slot_capacity, |_| {})
    }

    /// Like `new`, with the static header changed by `change` first (to make an older writer's
    /// file, say).
    fn with_header(
        slot_count: u32,
        slot_capacity: u32,
        change: impl FnOnce(&mut StaticHeader),
    ) -> Arc<Self> {
        let options = WriterOptions {
            width: 64,
            height: 48,
            ..WriterOptions::new("heap", slot_count, slot_capacity)
        };
        let mut header = options.static_header();
        change(&mut header);
        let len = options.file_size() as usize;
        let mut words = vec![0u64; len / 8].into_boxed_slice();
        words.as_mut_bytes()[..256].copy_from_slice(header.as_bytes());
        let words = NonNull::new(Box::into_raw(words) as *mut u64).unwrap();
        Arc::new(Self { words, len })
    }

    fn region(&self) -> Region {
        let mut header = [0u8; 256];
        // SAFETY: the buffer is at least 4096 bytes; the static header is never written after
        // creation.
        unsafe {
            core::ptr::copy_nonoverlapping(
                self.words.as_ptr() as *const u8,
                header.as_mut_ptr(),
                256,
            )
        };
        let geometry = validate_header(&header, self.len as u64).expect("valid header");
        // SAFETY: the buffer lives until the HeapRing is dropped, and every test keeps its Arc
        // alive next to the regions it makes; it is 8-aligned and validated just above.
        unsafe { Region::new(self.words.cast(), self.len, geometry) }
    }

    fn publisher(&self) -> Publisher {
        let status = Status {
            generation: 1,
            writer_pid: 42,
            ..Status::default()
        };
        Publisher::new(self.region(), status)
    }
}

impl Drop for HeapRing {
    fn drop(&mut self) {
        // SAFETY: the pointer came from Box::into_raw of a boxed slice of len / 8 u64s.
        unsafe {
            drop(Box::from_raw(core::ptr::slice_from_raw_parts_mut(
                self.words.as_ptr(),
                self.len / 8,
            )))
        };
    }
}

/// Frame `seq`'s bytes: its length and every byte derive from `seq`, so a reader can tell a
/// torn or mismatched frame from a good one.
fn frame_for(seq: u64, max: usize) -> Vec<u8> {
    let len = 8 + (seq as usize * 37) % (max - 8);
    (0..len)
        .map(|i| (seq as usize).wrapping_mul(31).wrapping_add(i) as u8)
        .collect()
}

fn is_frame_for(seq: u64, bytes: &[u8], max: usize) -> bool {
    bytes == frame_for(seq, max).as_slice()
}

#[test]
fn no_frame_before_the_first_publish() {
    let ring = HeapRing::new(4, 256);
    let region = ring.region();
    assert_eq!(frames::latest(&region).unwrap(), None);
    assert_eq!(frames::copy_latest(&region, &mut Vec::new()).unwrap(), None);
    // Unused slots hold seq 0: "frame 0" does not exist and is never returned.
    assert_eq!(frames::copy(&region, 0, &mut Vec::new()).unwrap(), None);
}

#[test]
fn publish_then_copy_gives_the_same_bytes_and_metadata() {
    let ring = HeapRing::new(4, 256);
    let mut publisher = ring.publisher();
    let region = ring.region();
    for seq in 1..=10u64 {
        let info = FrameInfo {
            width: 64,
            height: 48,
            ts_mono_ns: 1000 + seq,
            ts_realtime_ns: 2000 + seq,
            ts_camera_ns: None,
        };
        assert_eq!(publisher.publish(&frame_for(seq, 256), &info).unwrap(), seq);
        let mut out = Vec::new();
        let meta = frames::copy_latest(&region, &mut out).unwrap().unwrap();
        assert_eq!((meta.seq, meta.width, meta.height), (seq, 64, 48));
        assert_eq!(
            (meta.ts_mono_ns, meta.ts_realtime_ns),
            (1000 + seq, 2000 + seq)
        );
        assert_eq!(meta.slot, (seq % 4) as u32);
        assert!(is_frame_for(seq, &out, 256));
    }
    // Older frames still in the ring can be copied by number; overwritten ones cannot.
    let mut out = Vec::new();
    assert!(frames::copy(&region, 8, &mut out).unwrap().is_some());
    assert!(is_frame_for(8, &out, 256));
    assert_eq!(frames::copy(&region, 6, &mut out).unwrap(), None);
    assert_eq!(frames::copy(&region, 11, &mut out).unwrap(), None);
}

/// The camera time the tests give frame `seq`: every other frame has one.
fn camera_time_for(seq: u64) -> Option<u64> {
    (seq % 2 == 1).then_some(1_700_000_000_000_000_000 + seq * 40_000_000)
}

fn info_with_camera_time(seq: u64) -> FrameInfo {
    FrameInfo {
        ts_camera_ns: camera_time_for(seq),
        ..FrameInfo::default()
    }
}

#[test]
fn camera_time_is_read_back_for_frames_that_have_one_and_none_for_the_others() {
    // Three slots: slot 1 holds frames 1 (with a camera time), 4 (without) and 7 (with), so the
    // writer both sets and clears the slot's flag.
    let ring = HeapRing::new(3, 64);
    let mut publisher = ring.publisher();
    let region = ring.region();
    for seq in 1..=7u64 {
        publisher
            .publish(&frame_for(seq, 64), &info_with_camera_time(seq))
            .unwrap();
        assert_eq!(frames::camera_time(&region, seq), Ok(camera_time_for(seq)));
        let slot = region.slot(region.slot_of(seq));
        let (flags, ts) = (
            slot.flags.load(Ordering::Relaxed),
            slot.ts_camera_ns.load(Ordering::Relaxed),
        );
        match camera_time_for(seq) {
            Some(ns) => assert_eq!((flags, ts), (SLOT_FLAG_CAMERA_TIME, ns)),
            None => assert_eq!((flags, ts), (0, 0), "frame {seq}: no camera time, zeros"),
        }
    }
    // The borrowed latest frame (7) reads its own.
    let borrowed = frames::borrow_latest(&region).unwrap().unwrap();
    assert_eq!(borrowed.camera_time_ns(), Ok(camera_time_for(7)));
    // Frames still in the ring keep theirs; a frame that left it is gone, not "no camera time".
    assert_eq!(frames::camera_time(&region, 6), Ok(None));
    assert_eq!(frames::camera_time(&region, 5), Ok(camera_time_for(5)));
    for seq in [0, 1, 4, 8, 1 << 63] {
        assert_eq!(frames::camera_time(&region, seq), Err(FrameGone { seq }));
    }
}

#[test]
fn a_file_without_the_camera_time_bit_has_no_camera_times() {
    // An older writer's file: its header lacks COMPAT_CAMERA_TIME.
    let ring = HeapRing::with_header(2, 64, |h| h.compat_features &= !COMPAT_CAMERA_TIME);
    let mut publisher = ring.publisher();
    let region = ring.region();
    publisher
        .publish(&frame_for(1, 64), &info_with_camera_time(1))
        .unwrap();
    // The writer that took it over writes none into it...
    let slot = region.slot(1);
    assert_eq!(slot.flags.load(Ordering::Relaxed), 0);
    assert_eq!(slot.ts_camera_ns.load(Ordering::Relaxed), 0);
    assert_eq!(frames::camera_time(&region, 1), Ok(None));
    // ...and whatever the slot holds, a reader finds none.
    slot.flags.store(SLOT_FLAG_CAMERA_TIME, Ordering::Relaxed);
    slot.ts_camera_ns.store(123, Ordering::Relaxed);
    assert_eq!(frames::camera_time(&region, 1), Ok(None));
}

#[test]
fn oversize_frame_is_counted_not_truncated_and_the_previous_frame_stays() {
    let ring = HeapRing::new(2, 64);
    let mut publisher = ring.publisher();
    let region = ring.region();
    publisher
        .publish(&[7u8; 64], &FrameInfo::default())
        .unwrap();
    match publisher.publish(&[9u8; 65], &FrameInfo::default()) {
        Err(ErrorKind::Oversize {
            len: 65,
            capacity: 64,
        }) => {}
        other => panic!("expected oversize, got {other:?}"),
    }
    let mut out = Vec::new();
    let meta = frames::copy_latest(&region, &mut out).unwrap().unwrap();
    assert_eq!((meta.seq, out.as_slice()), (1, &[7u8; 64][..]));
    assert_eq!(status::try_load(region.status()).unwrap().oversize, 1);
}

#[test]
fn buffer_too_small_is_an_error_not_a_partial_copy() {
    let ring = HeapRing::new(2, 64);
    let mut publisher = ring.publisher();
    publisher
        .publish(&[1u8; 40], &FrameInfo::default())
        .unwrap();
    let mut small = [0u8; 39];
    match frames::copy_latest(&ring.region(), &mut &mut small[..]) {
        Err(ErrorKind::BufferTooSmall {
            needed: 40,
            available: 39,
        }) => {}
        other => panic!("expected BufferTooSmall, got {other:?}"),
    }
}

#[test]
fn borrow_reports_an_overwrite() {
    let ring = HeapRing::new(2, 64);
    let mut publisher = ring.publisher();
    let region = ring.region();
    publisher
        .publish(&frame_for(1, 64), &FrameInfo::default())
        .unwrap();
    let borrowed = frames::borrow_latest(&region).unwrap().unwrap();
    // SAFETY: the writer is this thread and does not run while the slice is used.
    assert!(is_frame_for(1, unsafe { borrowed.bytes() }, 64));
    assert!(borrowed.is_intact());
    // One more frame goes to the other slot: still intact.
    publisher
        .publish(&frame_for(2, 64), &FrameInfo::default())
        .unwrap();
    assert!(borrowed.is_intact());
    // The next one reuses the borrowed slot.
    publisher
        .publish(&frame_for(3, 64), &FrameInfo::default())
        .unwrap();
    assert_eq!(borrowed.finish().unwrap_err().seq, 1);
}

#[test]
fn a_slot_length_beyond_capacity_is_an_error_naming_the_slot() {
    let ring = HeapRing::new(2, 64);
    let mut publisher = ring.publisher();
    let region = ring.region();
    publisher
        .publish(&[1u8; 10], &FrameInfo::default())
        .unwrap();
    region.slot(1).len.store(65, Ordering::Relaxed); // what a corrupt or hostile file holds
    match frames::copy_latest(&region, &mut Vec::new()) {
        Err(ErrorKind::Format(e)) => {
            assert_eq!(e.field, "slot[1].len");
            assert!(
                e.problem.contains("beyond the slot capacity of 64"),
                "{}",
                e.problem
            );
        }
        other => panic!("expected a format error, got {other:?}"),
    }
}

#[test]
fn status_round_trips_and_keeps_writer_fields() {
    let ring = HeapRing::new(2, 64);
    let mut publisher = ring.publisher();
    publisher.update_status(|s| {
        s.state = State::Retrying;
        s.retry_count = 3;
        s.max_retry_attempts = 5;
        s.next_retry_mono_ns = 123;
        s.last_error = "Could not connect: ünïcode and a very long tail ".repeat(10);
        s.decoder = "avdec_h264".into();
        s.writer_pid = 1; // the writer's own field: ignored
    });
    let got = status::try_load(ring.region().status()).unwrap();
    assert_eq!(got.state, State::Retrying);
    assert_eq!(
        (
            got.retry_count,
            got.max_retry_attempts,
            got.next_retry_mono_ns
        ),
        (3, 5, 123)
    );
    assert_eq!((got.writer_pid, got.generation), (42, 1));
    assert_eq!(got.decoder, "avdec_h264");
    assert!(
        got.last_error.len() <= 255 && got.last_error.starts_with("Could not connect: ünïcode")
    );
    assert_ne!(got.state_since_realtime_ns, 0);
}

#[test]
fn stopped_reports_no_frame_rate() {
    let ring = HeapRing::new(2, 64);
    let mut publisher = ring.publisher();
    publisher.update_status(|s| {
        s.state = State::Ok;
        s.fps_milli = 15_000;
    });
    assert_eq!(
        status::try_load(ring.region().status()).unwrap().fps_milli,
        15_000
    );
    publisher.update_status(|s| s.state = State::Stopped);
    let got = status::try_load(ring.region().status()).unwrap();
    assert_eq!((got.state, got.fps_milli), (State::Stopped, 0));
}

/// Starts a writer thread that publishes frames 1 to `count` as fast as it can, each with the
/// bytes `frame_for(seq, slot capacity)` and the metadata `info(seq)`; the flag turns true once
/// it is done.
fn spawn_publisher(
    ring: &Arc<HeapRing>,
    count: u64,
    info: fn(u64) -> FrameInfo,
) -> (JoinHandle<()>, Arc<AtomicBool>) {
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (ring, done) = (ring.clone(), done.clone());
        std::thread::spawn(move || {
            let mut publisher = ring.publisher();
            let max = publisher.region.slot_capacity() as usize;
            for seq in 1..=count {
                publisher.publish(&frame_for(seq, max), &info(seq)).unwrap();
            }
            done.store(true, Ordering::Release);
        })
    };
    (writer, done)
}

/// A writer thread publishes as fast as it can while readers copy: no copy may be torn.
/// Small under miri (which checks the orderings), larger natively.
#[test]
fn concurrent_copies_are_never_torn() {
    let frames_to_write: u64 = if cfg!(miri) { 60 } else { 20_000 };
    let ring = HeapRing::new(2, 96);
    let (writer, done) = spawn_publisher(&ring, frames_to_write, |_| FrameInfo::default());
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (ring, done) = (ring.clone(), done.clone());
            std::thread::spawn(move || {
                let region = ring.region();
                let (mut good, mut out) = (0u64, Vec::new());
                // One more read after the writer finished, so every reader reads at least once
                // whatever the scheduler (miri's may run the writer to completion first).
                let mut finished = false;
                while !finished {
                    finished = done.load(Ordering::Acquire);
                    match frames::copy_latest(&region, &mut out) {
                        Ok(Some(meta)) => {
                            assert!(is_frame_for(meta.seq, &out, 96), "torn frame {}", meta.seq);
                            good += 1;
                        }
                        Ok(None) | Err(ErrorKind::Contended { .. }) => {}
                        Err(e) => panic!("{e:?}"),
                    }
                }
                good
            })
        })
        .collect();
    writer.join().unwrap();
    let good: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert!(good > 0);
}

/// A writer thread publishes frames with and without a camera time while a reader takes the
/// latest frame's metadata and then its camera time: the time is that frame's, or the frame is
/// reported gone, never another frame's time.
#[test]
fn concurrent_camera_times_belong_to_their_frame() {
    let frames_to_write: u64 = if cfg!(miri) { 40 } else { 20_000 };
    let ring = HeapRing::new(2, 64);
    let (writer, done) = spawn_publisher(&ring, frames_to_write, info_with_camera_time);
    let region = ring.region();
    let (mut read, mut finished) = (0u64, false);
    while !finished {
        finished = done.load(Ordering::Acquire);
        let Ok(Some(meta)) = frames::latest(&region) else {
            continue;
        };
        match frames::camera_time(&region, meta.seq) {
            Ok(time) => {
                assert_eq!(time, camera_time_for(meta.seq), "frame {}", meta.seq);
                read += 1;
            }
            Err(gone) => assert_eq!(gone.seq, meta.seq),
        }
    }
    writer.join().unwrap();
    assert!(
        read > 0,
        "the read after the writer finished finds its frame"
    );
}

/// The status seqlock: every snapshot a reader gets has all fields from the same update.
#[test]
fn concurrent_status_snapshots_are_consistent() {
    let updates: u32 = if cfg!(miri) { 30 } else { 20_000 };
    let ring = HeapRing::new(2, 64);
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (ring, done) = (ring.clone(), done.clone());
        std::thread::spawn(move || {
            let mut publisher = ring.publisher();
            for n in 1..=updates {
                publisher.update_status(|s| {
                    s.retry_count = n;
                    s.max_retry_attempts = n;
                    s.reconnects = u64::from(n);
                    s.last_error = format!("error {n}");
                });
            }
            done.store(true, Ordering::Release);
        })
    };
    let region = ring.region();
    let (mut seen, mut finished, mut last) = (0, false, 0);
    while !finished {
        finished = done.load(Ordering::Acquire);
        if let Some(s) = status::try_load(region.status()) {
            last = s.retry_count;
            assert_eq!(s.max_retry_attempts, s.retry_count);
            assert_eq!(s.reconnects, u64::from(s.retry_count));
            if s.retry_count > 0 {
                assert_eq!(s.last_error, format!("error {}", s.retry_count));
            }
            seen += 1;
        }
    }
    writer.join().unwrap();
    assert!(seen > 0);
    assert_eq!(
        last, updates,
        "the read after the writer finished sees its last update"
    );
}

#[test]
fn wait_next_returns_a_frame_published_by_another_thread() {
    let ring = HeapRing::new(4, 64);
    let region = ring.region();
    let writer = {
        let ring = ring.clone();
        std::thread::spawn(move || {
            let mut publisher = ring.publisher();
            std::thread::sleep(Duration::from_millis(20));
            publisher
                .publish(&frame_for(1, 64), &FrameInfo::default())
                .unwrap();
        })
    };
    let meta = frames::wait_next(&region, 0, Duration::from_secs(10))
        .unwrap()
        .unwrap();
    assert_eq!(meta.seq, 1);
    writer.join().unwrap();
    // Nothing newer comes: a short wait times out.
    assert_eq!(
        frames::wait_next(&region, 1, Duration::from_millis(5)).unwrap(),
        None
    );
}
