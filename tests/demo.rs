//! The first-hour demo (`examples/demo.rs`, what `cargo xtask demo` runs), run for real in its
//! own process group the way a terminal runs it: every camera comes up, `gate` drops out and
//! comes back (a short cycle here: 3 s up, 2 s down), and a Ctrl-C (SIGINT to the group) stops
//! everything with every ring `stopped` and no process left behind.

use camd_test_support as support;

use camd_ring::{Reader, State};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::daemon::live_processes;
use support::rings::until_state;
use support::{wait_for, TempDir};

fn demo_executable() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples/demo")
}

/// Every live process whose process group is `pgid`.
fn group_members(pgid: u32) -> Vec<u32> {
    live_processes()
        .into_iter()
        .filter(|&(_, _, pgrp)| pgrp == pgid)
        .map(|(pid, _, _)| pid)
        .collect()
}

fn ring(dir: &Path, name: &str) -> Reader {
    let path = dir.join(format!("rings/{name}.ring"));
    wait_for(Duration::from_secs(20), || Reader::open(&path).ok())
        .unwrap_or_else(|| panic!("no ring {}", path.display()))
}

fn until_frames_flow(reader: &Reader, name: &str) {
    let start = reader.latest_seq();
    wait_for(Duration::from_secs(3), || {
        (reader.latest_seq() > start + 3).then_some(())
    })
    .unwrap_or_else(|| panic!("{name}: frames stopped: {:?}", reader.status().unwrap()));
}

#[test]
fn cameras_come_up_gate_drops_out_and_returns_ctrl_c_leaves_nothing() {
    let exe = demo_executable();
    assert!(
        exe.exists(),
        "{} missing (cargo test builds examples)",
        exe.display()
    );
    let dir = TempDir::new("camd-demo");
    let out = std::fs::File::create(dir.path().join("demo.out")).unwrap();
    let mut demo = Command::new(&exe)
        .args(["--up", "3", "--down", "2", "--small", "--dir"])
        .arg(dir.path())
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let group = demo.id();
    let started = Instant::now();

    let readers: Vec<(&str, Reader)> = ["door", "yard", "gate", "pattern"]
        .into_iter()
        .map(|name| (name, ring(dir.path(), name)))
        .collect();
    for (name, reader) in &readers {
        let left = Duration::from_secs(20).saturating_sub(started.elapsed());
        until_state(reader, State::Ok, left);
        until_frames_flow(reader, name);
    }
    let gate = &readers[2].1;
    // The gate's server stops 3 s after the demo started it, for 2 s; camd retries each second.
    until_state(gate, State::Retrying, Duration::from_secs(6));
    let dropped = Instant::now();
    until_state(gate, State::Ok, Duration::from_secs(8));
    until_frames_flow(gate, "gate");
    let back_after = dropped.elapsed();
    // The others never noticed.
    for (name, reader) in &readers[..2] {
        assert_eq!(reader.status().unwrap().status.state, State::Ok, "{name}");
        until_frames_flow(reader, name);
    }
    let text = std::fs::read_to_string(dir.path().join("demo.out")).unwrap();
    assert!(text.contains("python3 -c"), "{text}");
    assert!(text.contains(" snapshot --all -o "), "{text}");
    assert!(
        text.contains(&format!("rings: {}", dir.path().join("rings").display())),
        "{text}"
    );
    let log = std::fs::read_to_string(dir.path().join("camd.log")).unwrap();
    assert!(
        !log.contains("not-shown"),
        "a password in camd's log:\n{log}"
    );

    // Ctrl-C: the terminal sends SIGINT to the whole foreground group.
    assert!(
        group_members(group).len() >= 4,
        "demo, camd, workers, display"
    );
    // SAFETY: kill(2) on the process group this test created.
    unsafe { libc::kill(-(group as i32), libc::SIGINT) };
    let status = wait_for(Duration::from_secs(10), || demo.try_wait().unwrap())
        .expect("the demo stops within 10 s of Ctrl-C");
    assert!(status.success(), "demo exit: {status}");
    let left = wait_for(Duration::from_secs(2), || {
        group_members(group).is_empty().then_some(())
    });
    assert!(left.is_some(), "left behind: {:?}", group_members(group));
    for (name, reader) in &readers {
        assert_eq!(
            reader.status().unwrap().status.state,
            State::Stopped,
            "{name}"
        );
    }
    eprintln!("gate back {back_after:?} after it was seen retrying");
}

/// `--pictures OUT` (what docs/first-screen.md was made with): once the four cameras are ok,
/// the status as it reads (at most 100 columns, every camera ok), each camera's frame, and a
/// contact sheet of the four, a JPEG twice a frame's size each way; then it stops by itself.
#[test]
fn pictures_mode_writes_the_status_the_frames_and_a_contact_sheet() {
    let dir = TempDir::new("camd-demo-pictures");
    let out = dir.path().join("out");
    let status = Command::new(demo_executable())
        .args(["--small", "--dir"])
        .arg(dir.path())
        .arg("--pictures")
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "demo --pictures: {status}");
    let table = std::fs::read_to_string(out.join("status.txt")).unwrap();
    assert!(table.starts_with("CAMERA "), "{table}");
    for camera in ["door", "yard", "gate", "pattern"] {
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("{camera} ")))
            .unwrap_or_else(|| panic!("no {camera} in\n{table}"));
        assert!(row.contains(" ok "), "{row}");
        let frame = std::fs::read(out.join(format!("frames/{camera}.jpg"))).unwrap();
        assert_eq!(&frame[..2], [0xff, 0xd8], "{camera}.jpg is not a JPEG");
    }
    assert!(table.lines().all(|l| l.chars().count() <= 100), "{table}");
    let sheet = std::fs::read(out.join("contact-sheet.jpg")).unwrap();
    assert_eq!(&sheet[..2], [0xff, 0xd8], "the contact sheet is not a JPEG");
    // The SOF0 marker's size: 2x2 tiles of 640x360.
    let sof = sheet
        .windows(2)
        .position(|w| w == [0xff, 0xc0])
        .expect("a SOF0 marker");
    let h = u16::from_be_bytes([sheet[sof + 5], sheet[sof + 6]]);
    let w = u16::from_be_bytes([sheet[sof + 7], sheet[sof + 8]]);
    assert_eq!((w, h), (1280, 720));
}
