//! The writer's life with real files: creation (complete, mode, group, no leftovers), the
//! single-writer lock, a restarted writer in another process (generation, sequence), and a file
//! replaced under a reader that still maps the old one.

use camd_ring_test_support as common;

use camd_ring::{lock_path, ErrorKind, FrameInfo, Reader, State, Writer, WriterOptions};
use common::*;
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

#[test]
fn create_makes_a_complete_file_with_mode_0640_and_the_group() {
    let dir = TempDir::new("life");
    let path = dir.join("cam.ring");
    // A group that is not the creator's, so the check sees the writer apply it: needs root.
    assert!(
        common::is_root(),
        "this test gives a ring another group: run it as root (CI does)"
    );
    let gid = 4242;
    let options = WriterOptions {
        group: Some(gid),
        width: 1280,
        height: 720,
        ..WriterOptions::new("cam", 3, 4000)
    };
    let writer = Writer::create(&path, &options).unwrap();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o640);
    assert_eq!(meta.gid(), gid);
    assert_eq!(meta.len(), 4096 + 3 * (64 + 4032));
    // Fully allocated: no hole that a full filesystem could turn into a SIGBUS.
    assert!(
        meta.blocks() * 512 >= meta.len(),
        "{} blocks",
        meta.blocks()
    );
    let lock = std::fs::metadata(lock_path(&path)).unwrap();
    assert_eq!(
        lock.mode() & 0o777,
        0o600,
        "only the writer's user can lock"
    );
    // Only the ring and the writer's lock: no temporary file, no file a reader may write.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, [".cam.ring.lock", "cam.ring"]);

    let reader = Reader::open(&path).unwrap();
    let g = reader.geometry();
    assert_eq!(
        (
            g.name.as_str(),
            g.slot_count,
            g.slot_capacity,
            g.width,
            g.height
        ),
        ("cam", 3, 4000, 1280, 720)
    );
    let status = reader.status().unwrap();
    assert_eq!(status.status.state, State::Starting);
    assert_eq!(status.status.generation, 1);
    assert_eq!(status.status.writer_pid, std::process::id());
    assert!(reader.writer_alive(Duration::from_secs(3)));
    drop(writer);
}

#[test]
fn bad_writer_options_are_refused_with_the_option_named() {
    let dir = TempDir::new("life");
    let path = dir.join("cam.ring");
    for (options, needle) in [
        (WriterOptions::new("", 4, 100), "camera name"),
        (WriterOptions::new("x".repeat(64), 4, 100), "camera name"),
        (WriterOptions::new("cam", 1, 100), "slot_count 1"),
        (WriterOptions::new("cam", 4, 0), "slot_capacity 0"),
        (
            WriterOptions {
                mode: 0o4640,
                ..WriterOptions::new("cam", 4, 100)
            },
            "mode",
        ),
    ] {
        let message = Writer::create(&path, &options)
            .err()
            .expect("refused")
            .to_string();
        assert!(
            message.contains(needle) && message.contains("cam.ring"),
            "{message}"
        );
    }
    assert!(!path.exists());
}

#[test]
fn one_writer_at_a_time() {
    let dir = TempDir::new("life");
    let path = dir.join("cam.ring");
    let writer = Writer::create(&path, &WriterOptions::new("cam", 4, 100)).unwrap();
    for result in [
        Writer::attach(&path).map(drop),
        Writer::create(&path, &WriterOptions::new("cam", 4, 100)).map(drop),
    ] {
        let error = result.expect_err("second writer");
        assert!(matches!(error.kind, ErrorKind::WriterBusy), "{error}");
        assert!(error.to_string().contains("writer lock"), "{error}");
    }
    drop(writer);
    Writer::attach(&path).expect("lock released with the writer");
}

/// Child mode of `a_restarted_writer_in_another_process_bumps_the_generation`: attach, publish
/// three frames, exit without any cleanup.
#[test]
#[ignore = "child process of a_restarted_writer_in_another_process_bumps_the_generation; not a test by itself"]
fn child_writer() {
    let Ok(path) = std::env::var("CAMD_RING_TEST_CHILD_WRITER") else {
        return;
    };
    let mut writer = Writer::attach(&path).unwrap();
    writer.update_status(|s| s.state = State::Ok);
    for _ in 0..3 {
        let seq = writer.latest_seq() + 1;
        writer
            .publish(&frame_for(seq, 100), &FrameInfo::default())
            .unwrap();
    }
    std::process::exit(0);
}

#[test]
fn a_restarted_writer_in_another_process_bumps_the_generation() {
    let dir = TempDir::new("life");
    let path = dir.join("cam.ring");
    drop(Writer::create(&path, &WriterOptions::new("cam", 8, 100)).unwrap());
    let reader = Reader::open(&path).unwrap();
    let mut generations = vec![reader.status().unwrap().status.generation];
    for round in 1..=2u64 {
        let status = target_command(std::env::current_exe().unwrap())
            .args(["--exact", "child_writer", "--ignored", "--nocapture"])
            .env("CAMD_RING_TEST_CHILD_WRITER", &path)
            .status()
            .unwrap();
        assert!(status.success());
        let snap = reader.status().unwrap();
        generations.push(snap.status.generation);
        assert_ne!(snap.status.writer_pid, std::process::id());
        // Sequence numbers continue across writers, and frames keep their bytes.
        assert_eq!(snap.latest_seq, 3 * round);
        let mut out = Vec::new();
        let meta = reader.copy_latest(&mut out).unwrap().unwrap();
        assert!(is_frame_for(meta.seq, &out, 100));
    }
    assert_eq!(generations, [1, 2, 3]);
}

#[test]
fn a_file_replaced_under_a_reader_is_noticed() {
    let dir = TempDir::new("life");
    let path = dir.join("cam.ring");
    let mut old_writer = Writer::create(&path, &WriterOptions::new("cam", 4, 100)).unwrap();
    old_writer
        .publish(&frame_for(1, 100), &FrameInfo::default())
        .unwrap();
    let old_reader = Reader::open(&path).unwrap();
    assert!(!old_reader.is_retired() && !old_reader.is_replaced().unwrap());
    drop(old_writer);

    // A blocked reader of the old file is woken by the replacement.
    let waiter = {
        let path = path.clone();
        std::thread::spawn(move || {
            let reader = Reader::open(&path).unwrap();
            let start = std::time::Instant::now();
            let got = reader.wait_next(1, Duration::from_secs(10)).unwrap();
            (got, start.elapsed(), reader.is_retired())
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    let mut new_writer = Writer::create(&path, &WriterOptions::new("cam", 6, 200)).unwrap();
    new_writer
        .publish(&frame_for(1, 200), &FrameInfo::default())
        .unwrap();

    assert!(
        old_reader.is_retired(),
        "the replacing writer marks the old file"
    );
    assert!(old_reader.is_replaced().unwrap());
    // The old mapping stays valid: its frame is still readable, nothing crashes.
    let mut out = Vec::new();
    assert_eq!(old_reader.copy_latest(&mut out).unwrap().unwrap().seq, 1);
    assert!(is_frame_for(1, &out, 100));
    let (got, waited, retired) = waiter.join().unwrap();
    assert_eq!(got, None);
    assert!(
        retired && waited < Duration::from_secs(5),
        "woken after {waited:?}"
    );

    let reopened = Reader::open(&path).unwrap();
    assert_eq!(reopened.geometry().slot_count, 6);
    assert_eq!(
        reopened.status().unwrap().status.generation,
        2,
        "generation carried over the replacement"
    );
    assert!(!reopened.is_replaced().unwrap());

    std::fs::remove_file(&path).unwrap();
    assert!(
        reopened.is_replaced().unwrap(),
        "a removed path counts as replaced"
    );
}

#[test]
fn readers_never_see_a_half_created_file() {
    let dir = TempDir::new("life");
    let path = dir.join("cam.ring");
    drop(Writer::create(&path, &WriterOptions::new("cam", 4, 100)).unwrap());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let opener = {
        let (path, stop) = (path.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut opened = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let reader =
                    Reader::open(&path).unwrap_or_else(|e| panic!("half-made file seen: {e}"));
                let _ = reader.status().unwrap();
                opened += 1;
            }
            opened
        })
    };
    for i in 0..200u32 {
        drop(Writer::create(&path, &WriterOptions::new("cam", 2 + i % 5, 100 + i)).unwrap());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(opener.join().unwrap() > 0);
}

#[test]
fn writer_status_drops_and_heartbeat_reach_readers() {
    let dir = TempDir::new("life");
    let path = dir.join("cam.ring");
    let mut writer = Writer::create(&path, &WriterOptions::new("cam", 4, 100)).unwrap();
    let reader = Reader::open(&path).unwrap();
    let before = reader.status().unwrap().heartbeat_mono_ns;
    std::thread::sleep(Duration::from_millis(5));
    writer.heartbeat();
    assert!(
        reader.status().unwrap().heartbeat_mono_ns > before,
        "heartbeat moves without frames"
    );
    writer.count_drops(3);
    writer.update_status(|s| {
        s.state = State::Retrying;
        s.retry_count = 2;
        s.next_retry_mono_ns = camd_ring::monotonic_ns() + 4_000_000_000;
    });
    let snap = reader.status().unwrap();
    assert_eq!(
        (
            snap.status.state,
            snap.status.retry_count,
            snap.status.drops
        ),
        (State::Retrying, 2, 3)
    );
    let next = snap.next_retry_in().unwrap();
    assert!(
        next > Duration::from_secs(3) && next <= Duration::from_secs(4),
        "{next:?}"
    );
}

/// A writer killed in the middle of a status update leaves the status lock word odd. The next
/// writer (which holds the flock, so no one else writes) must recover it, not fail forever.
#[test]
fn a_writer_that_died_mid_status_update_does_not_brick_the_ring() {
    let dir = TempDir::new("life");
    let path = dir.join("cam.ring");
    let mut writer = Writer::create(&path, &WriterOptions::new("cam", 4, 100)).unwrap();
    writer.update_status(|s| s.state = State::Ok);
    drop(writer);
    let seq_offset = offset_of("status.seq");
    let seq = u64::from_le_bytes(
        std::fs::read(&path).unwrap()[seq_offset as usize..][..8]
            .try_into()
            .unwrap(),
    );
    patch(&path, "status.seq", &(seq + 1).to_le_bytes()); // odd: "update in progress" forever

    let reader = Reader::open(&path).unwrap();
    let error = reader
        .status()
        .expect_err("a reader cannot get a consistent status");
    assert!(matches!(error.kind, ErrorKind::Contended { .. }), "{error}");

    let mut writer = Writer::attach(&path).expect("the next writer recovers");
    writer.update_status(|s| s.state = State::Retrying);
    let snap = reader.status().unwrap();
    assert_eq!(
        (snap.status.state, snap.status.generation),
        (State::Retrying, 2)
    );
    drop(writer);
    // Replacing such a file works as well.
    patch(&path, "status.seq", &(seq + 3).to_le_bytes());
    drop(Writer::create(&path, &WriterOptions::new("cam", 4, 100)).expect("replaced"));
}

#[test]
fn an_empty_frame_is_refused() {
    let dir = TempDir::new("life");
    let mut writer =
        Writer::create(dir.join("cam.ring"), &WriterOptions::new("cam", 4, 100)).unwrap();
    let error = writer.publish(&[], &FrameInfo::default()).unwrap_err();
    assert!(error.to_string().contains("empty frame"), "{error}");
    assert_eq!(writer.latest_seq(), 0);
}

#[test]
fn a_blocked_reader_is_woken_with_no_registration() {
    let dir = TempDir::new("life");
    let path = dir.join("cam.ring");
    let mut writer = Writer::create(&path, &WriterOptions::new("cam", 4, 100)).unwrap();
    let reader = Reader::open(&path).unwrap();
    assert!(reader.can_be_woken(), "the writer wakes every publish");
    let waiter = std::thread::spawn(move || reader.wait_next(0, Duration::from_secs(10)).unwrap());
    std::thread::sleep(Duration::from_millis(50));
    writer
        .publish(&frame_for(1, 100), &FrameInfo::default())
        .unwrap();
    assert_eq!(waiter.join().unwrap().unwrap().seq, 1);
}

#[test]
fn a_raw_ring_carries_its_layout_and_takes_only_whole_frames() {
    use camd_ring::{Codec, PixelLayout};
    let dir = TempDir::new("life");
    let path = dir.join("rgb.ring");
    let layout = PixelLayout::packed(Codec::Rgb, 5, 3).unwrap();
    assert_eq!((layout.plane_strides[0], layout.frame_size), (16, 48));
    let options = WriterOptions {
        width: 5,
        height: 3,
        codec: Codec::Rgb,
        ..WriterOptions::new("rgb", 3, layout.frame_size)
    };
    let mut writer = Writer::create(&path, &options).unwrap();
    let frame: Vec<u8> = (0..48).collect();
    let info = FrameInfo {
        width: 5,
        height: 3,
        ..FrameInfo::default()
    };
    writer.publish(&frame, &info).unwrap();
    let short = writer.publish(&frame[..47], &info).unwrap_err();
    assert!(matches!(short.kind, ErrorKind::Invalid(_)), "{short}");
    assert!(short.to_string().contains("is 48 bytes, not 47"), "{short}");

    let reader = Reader::open(&path).unwrap();
    assert_eq!(reader.geometry().codec, 3);
    assert_eq!(reader.geometry().layout, Some(layout));
    let mut out = Vec::new();
    let meta = reader.copy_latest(&mut out).unwrap().unwrap();
    assert_eq!((meta.seq, out.as_slice()), (1, frame.as_slice()));
    let [pixels, none] = layout.planes(&out).unwrap();
    // Row 1, pixel 2 (R, G, B) is at 16 + 6: bytes 22, 23, 24.
    assert_eq!(&pixels[16 + 6..16 + 9], &[22, 23, 24]);
    assert!(none.is_empty());
}

#[test]
fn raw_options_without_a_size_or_room_are_refused() {
    use camd_ring::Codec;
    let dir = TempDir::new("life");
    for (width, height, capacity, words) in [
        (0, 0, 1000, "need a width and a height"),
        (3, 2, 1000, "nv12 needs an even width"),
        (4, 2, 11, "smaller than one nv12 frame of 4x2 (12 bytes)"),
    ] {
        let options = WriterOptions {
            width,
            height,
            codec: Codec::Nv12,
            ..WriterOptions::new("raw", 2, capacity)
        };
        let error = Writer::create(dir.join("raw.ring"), &options)
            .err()
            .expect("refused");
        assert!(error.to_string().contains(words), "{error}");
    }
}
