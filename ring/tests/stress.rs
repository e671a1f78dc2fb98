//! Stress: one writer publishes as fast as it can into a small ring (4 slots, so slots are reused
//! constantly) while 4 reader threads and 2 reader processes read. Every frame's bytes derive
//! from its sequence number, so a torn frame (bytes of two frames) is detected. The test fails
//! on any torn frame returned by `copy_latest`, or any borrowed frame that was torn yet reported
//! intact. Duration: CAMD_STRESS_SECS (default 10; `cargo xtask test` uses less in CI).

use camd_ring_test_support as common;

use camd_ring::{FrameInfo, Reader, Writer, WriterOptions};
use common::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CAPACITY: usize = 16 * 1024;

fn duration() -> Duration {
    let secs = std::env::var("CAMD_STRESS_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(10.0);
    Duration::from_secs_f64(secs)
}

#[derive(Default, Debug)]
struct Counts {
    copies: u64,
    borrows_intact: u64,
    borrows_overwritten: u64,
    waits: u64,
    torn: u64,
}

/// Reads until `stop`: copies, borrows (in another process only: see BorrowedFrame) and waits.
fn read_loop(path: &std::path::Path, borrow: bool, stop: impl Fn() -> bool) -> Counts {
    let reader = Reader::open(path).unwrap();
    let mut counts = Counts::default();
    let mut out = Vec::with_capacity(CAPACITY);
    let mut after = 0;
    let mut round = 0u64;
    while !stop() {
        round += 1;
        if let Some(meta) = reader.copy_latest(&mut out).unwrap() {
            counts.copies += 1;
            if !is_frame_for(meta.seq, &out, CAPACITY) {
                counts.torn += 1;
                eprintln!("torn copy of frame {}", meta.seq);
            }
        }
        if borrow {
            if let Some(frame) = reader.borrow_latest().unwrap() {
                // SAFETY: the writer is another process; each byte is compared once and none is
                // trusted (a rewritten frame fails the comparison or `finish`).
                let good = is_frame_for(frame.meta().seq, unsafe { frame.bytes() }, CAPACITY);
                match frame.finish() {
                    Ok(meta) => {
                        counts.borrows_intact += 1;
                        if !good {
                            counts.torn += 1;
                            eprintln!("borrowed frame {} torn but reported intact", meta.seq);
                        }
                    }
                    Err(_) => counts.borrows_overwritten += 1,
                }
            }
        }
        if round % 64 == 0 {
            if let Some(meta) = reader.wait_next(after, Duration::from_millis(100)).unwrap() {
                counts.waits += 1;
                after = meta.seq;
            }
        }
    }
    counts
}

/// Child mode: a reader process. Prints its counts as one line.
#[test]
#[ignore = "child process of stress_one_writer_four_threads_two_processes; not a test by itself"]
fn stress_child_reader() {
    let Ok(path) = std::env::var("CAMD_STRESS_RING") else {
        return;
    };
    let deadline = Instant::now() + duration();
    let counts = read_loop(path.as_ref(), true, || Instant::now() >= deadline);
    println!(
        "counts copies={} borrows_intact={} borrows_overwritten={} waits={} torn={}",
        counts.copies, counts.borrows_intact, counts.borrows_overwritten, counts.waits, counts.torn
    );
}

#[test]
fn stress_one_writer_four_threads_two_processes() {
    let dir = TempDir::new("stress");
    let path = dir.join("stress.ring");
    let mut writer =
        Writer::create(&path, &WriterOptions::new("stress", 4, CAPACITY as u32)).unwrap();
    let run_for = duration();

    let children: Vec<_> = (0..2)
        .map(|_| {
            target_command(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "stress_child_reader",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("CAMD_STRESS_RING", &path)
                .env("CAMD_STRESS_SECS", run_for.as_secs_f64().to_string())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (path, stop) = (path.clone(), stop.clone());
            std::thread::spawn(move || read_loop(&path, false, || stop.load(Ordering::Relaxed)))
        })
        .collect();

    let start = Instant::now();
    let mut published = 0u64;
    while start.elapsed() < run_for + Duration::from_millis(200) {
        let seq = writer.latest_seq() + 1;
        writer
            .publish(&frame_for(seq, CAPACITY), &FrameInfo::default())
            .unwrap();
        published += 1;
    }
    stop.store(true, Ordering::Relaxed);

    let mut total = Counts::default();
    for (i, t) in threads.into_iter().enumerate() {
        let c = t.join().unwrap();
        println!("thread {i}: {c:?}");
        total.copies += c.copies;
        total.waits += c.waits;
        total.torn += c.torn;
    }
    for (i, mut child) in children.into_iter().enumerate() {
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let lines: Vec<String> = stdout.lines().map(Result::unwrap).collect();
        let line = lines
            .iter()
            .find_map(|l| l.find("counts ").map(|at| &l[at..]))
            .unwrap_or_else(|| panic!("no counts from reader process {i}: {lines:?}"));
        assert!(child.wait().unwrap().success(), "reader process {i} failed");
        println!("process {i}: {line}");
        let field = |name: &str| -> u64 {
            line.split(' ')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .unwrap()
                .parse()
                .unwrap()
        };
        total.copies += field("copies");
        total.borrows_intact += field("borrows_intact");
        total.borrows_overwritten += field("borrows_overwritten");
        total.waits += field("waits");
        total.torn += field("torn");
    }
    println!(
        "published {published} frames in {:?}; readers: {total:?}",
        start.elapsed()
    );
    assert_eq!(total.torn, 0, "torn frames returned");
    assert!(
        published > 1000 && total.copies > 100 && total.borrows_intact > 10 && total.waits > 10,
        "{total:?}"
    );
}
