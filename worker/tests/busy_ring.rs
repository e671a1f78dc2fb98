//! A worker waits for a camera's ring whose previous writer has not let go yet (a camera moved
//! between workers by a reload) on its own clock: driven here on simulated time, the wait gives
//! up after `RING_BUSY_WAIT` of that clock, or takes the ring once it is released, and no test
//! sleeps for the 5 s.

use camd::camera_config::CameraConfig;
use camd::clock::{Clock, ManualClock};
use camd::ring_files::open_ring;
use camd::source::Source;
use camd_ring::ErrorKind;
use camd_worker::worker::{Worker, RING_BUSY_WAIT};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("camd-busy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn door() -> CameraConfig {
    CameraConfig::new("door", Source::parse("test:smpte").unwrap())
}

/// Moves the clock 100 ms at a time, only while `adding` sleeps on it (so time never moves
/// under what it does in real time, such as trying the lock), until it is done (at most 60 s of
/// simulated time, 30 s of real time).
fn drive<T>(clock: &ManualClock, adding: &JoinHandle<T>) {
    let give_up = std::time::Instant::now() + Duration::from_secs(30);
    let mut moves = 0;
    while moves < 600 && std::time::Instant::now() < give_up {
        if adding.is_finished() {
            return;
        }
        if clock.sleepers() > 0 {
            clock.advance(Duration::from_millis(100));
            moves += 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("add() did not return within 60 s of simulated time");
}

#[test]
fn a_ring_still_held_gives_up_after_the_busy_wait_of_the_workers_clock() {
    let dir = scratch("held");
    let _holder = open_ring(&dir, &door(), None).unwrap();
    let t0 = 1_000_000_000_000;
    let clock = ManualClock::starting_at(t0);
    let mut worker = Worker::new(&dir, None, Arc::new(clock.clone())).unwrap();
    let adding = std::thread::spawn(move || worker.add(door()).err());
    drive(&clock, &adding);
    let error = adding
        .join()
        .unwrap()
        .expect("the ring is held: add must fail");
    assert!(
        matches!(error.ring_kind(), Some(ErrorKind::WriterBusy)),
        "{error}"
    );
    let waited = Duration::from_nanos(clock.now() - t0);
    assert!(
        waited >= RING_BUSY_WAIT && waited <= RING_BUSY_WAIT + Duration::from_millis(200),
        "gave up after {waited:?} of the clock"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_ring_released_during_the_wait_is_taken() {
    let dir = scratch("released");
    let holder = open_ring(&dir, &door(), None).unwrap();
    let clock = ManualClock::starting_at(1_000_000_000_000);
    let mut worker = Worker::new(&dir, None, Arc::new(clock.clone())).unwrap();
    let adding = std::thread::spawn(move || worker.add(door()).map(|()| worker));
    clock.advance(Duration::from_secs(1));
    assert!(
        !adding.is_finished(),
        "add() returned while the ring was held"
    );
    drop(holder);
    drive(&clock, &adding);
    let worker = adding.join().unwrap().expect("the released ring is taken");
    assert_eq!(worker.camera_names().collect::<Vec<_>>(), ["door"]);
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
