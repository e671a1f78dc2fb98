//! The ring directory as a trust boundary, tried the way a buggy or hostile reader would: a
//! second user in the ring's group locks the ring, things that are not ring files sit at ring
//! paths (a FIFO, a symbolic link to another camera's ring, a directory), a camd 0.1 doorbell
//! is truncated, and the filesystem is full (a real small tmpfs). Each may cost the reader its
//! own reads; none may stop, block, redirect or crash the writer.

use camd_ring_test_support as common;

use camd_ring::{lock_path, ErrorKind, FrameInfo, Reader, State, Writer, WriterOptions};
use common::*;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// `nobody`: a second user for the tests that need one (they run as root, as CI does).
const OTHER_UID: u32 = 65534;

/// Runs `f` on a thread and fails the test if it has not returned within 5 s (an open that
/// blocks must fail the test, not hang it).
fn within_5s<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|_| panic!("{what} blocked for 5 s"))
}

fn readable_dir(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// A member of the ring's group (a second user, with only read permission on the ring) takes
/// `flock -x` on the ring with a read-only fd. Before camd 0.2 that was the writer's own lock,
/// and every restart of the camera's writer failed. Now the writer locks a file that user
/// cannot even open.
#[test]
fn a_reader_in_the_ring_group_cannot_take_the_writer_lock() {
    assert!(
        is_root(),
        "this test starts a second user's process: run it as root (CI does)"
    );
    let dir = readable_dir("trust");
    let path = dir.join("cam.ring");
    let mut writer = Writer::create(&path, &WriterOptions::new("cam", 4, 100)).unwrap();
    writer
        .publish(&frame_for(1, 100), &FrameInfo::default())
        .unwrap();
    drop(writer);
    let ring_gid = std::fs::metadata(&path).unwrap().gid();
    let mut holder = Command::new("flock")
        .args(["--exclusive", "--nonblock"])
        .arg(&path)
        .args(["-c", "echo locked; exec sleep 30"])
        .uid(OTHER_UID)
        .gid(ring_gid)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("flock (util-linux) runs");
    // It says so once it holds the ring's flock (slow under an emulator: up to 20 s).
    let stdout = holder.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
        let _ = tx.send(line);
    });
    let said = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
    if said.trim() != "locked" {
        let _ = holder.kill();
        let out = holder.wait_with_output().unwrap();
        panic!(
            "the second user did not get the ring's flock: {:?} {}",
            said,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut writer = Writer::attach(&path).expect("the reader's flock does not stop the writer");
    writer
        .publish(&frame_for(2, 100), &FrameInfo::default())
        .unwrap();
    assert_eq!(writer.latest_seq(), 2);
    // The writer's own lock is beyond that user's reach.
    let out = Command::new("flock")
        .args(["--exclusive", "--nonblock"])
        .arg(lock_path(&path))
        .arg("true")
        .uid(OTHER_UID)
        .gid(ring_gid)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the second user locked the writer lock"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = holder.kill();
    let _ = holder.wait();
}

/// camd 0.1 made `<ring>.waiters`, a doorbell readers wrote and the writer mapped: a reader
/// that truncated it killed the writer (SIGBUS). A writer now removes one it finds and never
/// opens it; a file a reader puts back there is never mapped, so truncating it harms nothing.
#[test]
fn a_doorbell_left_by_camd_0_1_is_removed_and_never_mapped() {
    let dir = TempDir::new("trust");
    let path = dir.join("cam.ring");
    let bell = dir.join("cam.ring.waiters");
    let mut legacy = vec![0u8; 64];
    legacy[..8].copy_from_slice(b"CAMDWAIT");
    legacy[8] = 1;
    std::fs::write(&bell, &legacy).unwrap();
    let mut writer = Writer::create(&path, &WriterOptions::new("cam", 4, 100)).unwrap();
    assert!(!bell.exists(), "the camd 0.1 doorbell is removed");
    drop(writer);
    std::fs::write(&bell, &legacy).unwrap();
    writer = Writer::attach(&path).unwrap();
    assert!(!bell.exists(), "removed at attach too");
    // Put back and truncated while a reader waits and the writer publishes.
    std::fs::write(&bell, &legacy).unwrap();
    let reader = Reader::open(&path).unwrap();
    let waiter = std::thread::spawn(move || {
        let mut seen = 0;
        while seen < 50 {
            match reader.wait_next(seen, Duration::from_secs(5)).unwrap() {
                Some(meta) => seen = meta.seq,
                None => panic!("the reader was not woken"),
            }
        }
        seen
    });
    for seq in 1..=50 {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&bell)
            .unwrap()
            .set_len(seq % 2)
            .unwrap();
        writer
            .publish(&frame_for(seq, 100), &FrameInfo::default())
            .unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(waiter.join().unwrap(), 50);
}

#[test]
fn a_fifo_at_a_ring_path_is_refused_without_blocking() {
    let dir = TempDir::new("trust");
    let path = dir.join("cam.ring");
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let p = path.clone();
    let error = within_5s("Reader::open of a FIFO", move || Reader::open(&p).err());
    let error = error.expect("a FIFO is not a ring");
    assert!(
        matches!(error.kind, ErrorKind::NotRegular("a FIFO")),
        "{error}"
    );
    assert!(error.to_string().contains("cam.ring: is a FIFO"), "{error}");
    let p = path.clone();
    let error = within_5s("Writer::create over a FIFO", move || {
        Writer::create(&p, &WriterOptions::new("cam", 4, 100)).err()
    })
    .expect("refused");
    assert!(
        matches!(error.kind, ErrorKind::NotRegular("a FIFO")),
        "{error}"
    );
    let p = path.clone();
    let error =
        within_5s("Writer::attach to a FIFO", move || Writer::attach(&p).err()).expect("refused");
    assert!(
        matches!(error.kind, ErrorKind::NotRegular("a FIFO")),
        "{error}"
    );
    assert!(std::fs::symlink_metadata(&path)
        .unwrap()
        .file_type()
        .is_fifo());
}

/// A symbolic link at camera x's ring path pointing to camera y's ring: before, x's writer
/// followed it and wrote into y's ring. Now nothing follows it.
#[test]
fn a_symlink_at_a_ring_path_is_never_followed() {
    let dir = TempDir::new("trust");
    let other = dir.join("other.ring");
    let mut writer = Writer::create(&other, &WriterOptions::new("other", 4, 100)).unwrap();
    writer.update_status(|s| s.state = State::Ok);
    let path = dir.join("cam.ring");
    std::os::unix::fs::symlink(&other, &path).unwrap();
    for (what, error) in [
        ("open", Reader::open(&path).err()),
        ("attach", Writer::attach(&path).err()),
        (
            "create",
            Writer::create(&path, &WriterOptions::new("cam", 4, 100)).err(),
        ),
    ] {
        let error = error.unwrap_or_else(|| panic!("{what} followed the link"));
        assert!(
            matches!(error.kind, ErrorKind::NotRegular("a symbolic link")),
            "{what}: {error}"
        );
    }
    // The other camera's ring is untouched: same writer, same generation.
    let status = Reader::open(&other).unwrap().status().unwrap().status;
    assert_eq!((status.state, status.generation), (State::Ok, 1));
    assert_eq!(status.writer_pid, std::process::id());
    // A link planted as the writer's lock is not followed either.
    std::fs::remove_file(&path).unwrap();
    std::fs::remove_file(lock_path(&path)).unwrap();
    std::os::unix::fs::symlink(dir.join("elsewhere"), lock_path(&path)).unwrap();
    let error = Writer::create(&path, &WriterOptions::new("cam", 4, 100))
        .err()
        .expect("refused");
    assert!(
        matches!(error.kind, ErrorKind::NotRegular("a symbolic link")),
        "{error}"
    );
    assert!(!dir.join("elsewhere").exists());
}

#[test]
fn a_directory_at_a_ring_path_is_refused_with_its_name() {
    let dir = TempDir::new("trust");
    let path = dir.join("cam.ring");
    std::fs::create_dir(&path).unwrap();
    let error = Writer::create(&path, &WriterOptions::new("cam", 4, 100))
        .err()
        .expect("refused");
    assert!(
        matches!(error.kind, ErrorKind::NotRegular("a directory")),
        "{error}"
    );
    assert!(
        error.to_string().contains("cam.ring: is a directory"),
        "{error}"
    );
    assert!(path.is_dir());
}

/// A ring directory too small for every ring: before, files were sparse, creation succeeded,
/// and the first store past the free space killed the writer (and its readers) with SIGBUS.
/// Now each ring is allocated whole when made: the one that does not fit fails at once with
/// the bytes it needs, and the one that fits works.
#[test]
fn no_space_is_an_error_with_the_bytes_not_a_sigbus() {
    assert!(
        is_root(),
        "this test mounts a small tmpfs: run it as root (CI does)"
    );
    with_private_tmpfs(1 << 20, |dir: &Path| {
        let small = WriterOptions::new("small", 4, 100 * 1024);
        let mut writer = Writer::create(dir.join("small.ring"), &small).unwrap();
        let big = WriterOptions::new("big", 8, 256 * 1024);
        let error = Writer::create(dir.join("big.ring"), &big)
            .err()
            .expect("does not fit");
        let ErrorKind::NoSpace { needed, free } = error.kind else {
            panic!("{error}");
        };
        assert_eq!(needed, 4096 + 8 * (64 + 256 * 1024));
        assert!(free < needed, "free {free}");
        assert!(
            error.to_string().contains(&format!("needs {needed} bytes")),
            "{error}"
        );
        // Nothing half-made is left, and the ring that fits takes every frame.
        let names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.contains("big") && !n.ends_with(".lock"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
        for seq in 1..=20 {
            writer
                .publish(&vec![seq as u8; 100 * 1024], &FrameInfo::default())
                .unwrap();
        }
        assert_eq!(
            Reader::open(dir.join("small.ring")).unwrap().latest_seq(),
            20
        );
    });
}
