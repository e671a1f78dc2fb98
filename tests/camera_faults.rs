//! Camera faults with the fake cameras in a separate process: killed (TCP and UDP), frozen
//! (SIGSTOP), back again, and one flapping camera next to a healthy one in the same worker.

use camd_test_support as support;

use camd::camera_config::Transport;
use camd::clock::{Clock, ManualClock};
use camd_ring::State;
use camd_worker::worker::Worker;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

#[test]
fn a_killed_server_is_noticed_over_tcp_and_udp() {
    let mut server = FakeCameraProcess::start(0, &["cam=h264:320x240@15"]);
    let dir = TempDir::new("faults");
    let cameras = vec![
        camera_over("tcp", &server.url("cam"), Transport::Tcp),
        camera_over("udp", &server.url("cam"), Transport::Udp),
    ];
    let worker = Worker::start(cameras, dir.path(), None).unwrap();
    let (tcp, udp) = (open(&dir, "tcp"), open(&dir, "udp"));
    until_state(&tcp, State::Ok, Duration::from_secs(5));
    until_state(&udp, State::Ok, Duration::from_secs(5));
    server.kill();
    let tcp_after = until_state(&tcp, State::Retrying, Duration::from_secs(5));
    let udp_after = until_state(&udp, State::Retrying, Duration::from_secs(5));
    assert!(
        tcp_after < Duration::from_secs(2) && udp_after < Duration::from_secs(3),
        "tcp {tcp_after:?}, udp {udp_after:?}"
    );
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

/// A frozen camera sends nothing and closes nothing (rtspsrc alone takes ~26 s): camd's own
/// watchdog makes it no_signal within stall_timeout + 1 s; thawed, it is ok again.
#[test]
fn a_frozen_server_is_no_signal_within_the_stall_timeout() {
    let server = FakeCameraProcess::start(0, &["cam=h264:320x240@15"]);
    let dir = TempDir::new("faults");
    let mut cam = camera_over("frozen", &server.url("cam"), Transport::Tcp);
    cam.retry.stall_timeout = Duration::from_secs(2);
    cam.retry.connect_timeout = Duration::from_secs(3);
    let worker = Worker::start(vec![cam], dir.path(), None).unwrap();
    let reader = open(&dir, "frozen");
    until_state(&reader, State::Ok, Duration::from_secs(5));
    server.freeze();
    let waited = until_state(&reader, State::NoSignal, Duration::from_secs(4));
    assert!(
        waited <= Duration::from_secs(3),
        "no_signal after {waited:?} (stall_timeout 2 s)"
    );
    server.thaw();
    until_state(&reader, State::Ok, Duration::from_secs(15));
    assert!(reader.status().unwrap().status.reconnects >= 1);
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

/// The server dies and comes back. On a simulated clock: once the server is back, the test moves
/// time to the pending retry instead of waiting for it; the camera must be ok within 1 s of it.
#[test]
fn a_server_that_comes_back_is_ok_within_the_pending_backoff() {
    let mut server = FakeCameraProcess::start(0, &["cam=h264:320x240@15"]);
    let dir = TempDir::new("faults");
    let clock = ManualClock::starting_at(1_000_000_000);
    let cam = camera_over("back", &server.url("cam"), Transport::Tcp);
    let worker =
        Worker::start_with_clock(vec![cam], dir.path(), None, Arc::new(clock.clone())).unwrap();
    let reader = open(&dir, "back");
    until_state(&reader, State::Ok, Duration::from_secs(5));
    server.kill();
    until_state(&reader, State::Retrying, Duration::from_secs(5));
    server.restart();
    let pending = reader.status().unwrap().status.next_retry_mono_ns;
    assert!(pending > clock.now(), "a retry is pending");
    clock.set(pending);
    let waited = until_state(&reader, State::Ok, Duration::from_secs(3));
    assert!(
        waited <= Duration::from_secs(1),
        "ok {waited:?} after the pending retry was due"
    );
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

/// One worker, two cameras on two servers; one server is killed and restarted over and over.
/// The healthy camera keeps its frame rate.
#[test]
fn a_flapping_camera_does_not_disturb_the_others() {
    let healthy_server = FakeCameraProcess::start(0, &["cam=h264:320x240@15"]);
    let mut flapping_server = FakeCameraProcess::start(0, &["cam=h264:320x240@15"]);
    let dir = TempDir::new("faults");
    let mut flapping = camera_over("flapping", &flapping_server.url("cam"), Transport::Tcp);
    flapping.retry.initial_delay = Duration::from_millis(200);
    flapping.retry.max_retry_attempts = 1000;
    let cameras = vec![
        camera_over("healthy", &healthy_server.url("cam"), Transport::Tcp),
        flapping,
    ];
    let worker = Worker::start(cameras, dir.path(), None).unwrap();
    let (healthy, flapper) = (open(&dir, "healthy"), open(&dir, "flapping"));
    until_state(&healthy, State::Ok, Duration::from_secs(5));
    until_state(&flapper, State::Ok, Duration::from_secs(5));
    let start_seq = healthy.latest_seq();
    let start = Instant::now();
    for _ in 0..4 {
        flapping_server.kill();
        std::thread::sleep(Duration::from_millis(500));
        flapping_server.restart();
        std::thread::sleep(Duration::from_millis(500));
    }
    let fps = (healthy.latest_seq() - start_seq) as f64 / start.elapsed().as_secs_f64();
    // Disturbed would be fewer frames. More than 15 fps over the window happens on a loaded
    // machine (the whole suite in parallel: 17.2 fps seen twice) when frames the pipeline held
    // at the window's start arrive in a burst inside it; a duplicate-publishing bug would be
    // far above the upper bound.
    assert!(
        (13.5..=15.0 * 1.25).contains(&fps),
        "healthy camera at {fps} fps while the other flapped"
    );
    assert_eq!(state(&healthy), State::Ok);
    assert!(flapper.status().unwrap().status.reconnects >= 1 || state(&flapper) != State::Ok);
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

/// Child half of `a_network_cut_is_noticed_and_recovered`: runs inside its own network
/// namespace (made by `unshare -n`), where the fake camera and the worker share a loopback that
/// the test can take down (a cut cable) and bring back.
#[test]
#[ignore = "child process of a_network_cut_is_noticed_and_recovered; not a test by itself"]
fn child_network_cut() {
    if std::env::var_os("CAMD_NETCUT_CHILD").is_none() {
        return;
    }
    let ip = |state: &str| {
        let ok = std::process::Command::new("ip")
            .args(["link", "set", "lo", state])
            .status()
            .unwrap()
            .success();
        assert!(ok, "ip link set lo {state}");
    };
    ip("up");
    let server = FakeCameraProcess::start(0, &["cam=h264:320x240@15"]);
    let dir = TempDir::new("netcut");
    let mut cam = camera_over("cut", &server.url("cam"), Transport::Tcp);
    cam.retry.stall_timeout = Duration::from_secs(2);
    cam.retry.initial_delay = Duration::from_millis(200);
    cam.retry.max_retry_attempts = 100;
    let worker = Worker::start(vec![cam], dir.path(), None).unwrap();
    let reader = open(&dir, "cut");
    until_state(&reader, State::Ok, Duration::from_secs(5));

    ip("down");
    let cut = Instant::now();
    let mut seen = vec![State::Ok];
    wait_for(Duration::from_secs(4), || {
        let s = state(&reader);
        if seen.last() != Some(&s) {
            seen.push(s);
        }
        (s != State::Ok).then_some(())
    })
    .unwrap_or_else(|| panic!("still ok 4 s after the cut"));
    let noticed = cut.elapsed();
    assert_eq!(
        seen[1],
        State::NoSignal,
        "a cut looks like silence first: {seen:?}"
    );
    assert!(
        noticed <= Duration::from_secs(3),
        "noticed after {noticed:?} (stall_timeout 2 s)"
    );

    ip("up");
    let back = until_state(&reader, State::Ok, Duration::from_secs(15));
    println!(
        "netcut: left ok {noticed:?} after the cut, ok again {back:?} after the link came back"
    );
    assert!(worker.stop(Duration::from_secs(5)).is_empty());
}

#[test]
fn a_network_cut_is_noticed_and_recovered() {
    let out = std::process::Command::new("unshare")
        .arg("-n")
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_network_cut",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CAMD_NETCUT_CHILD", "1")
        .output()
        .expect("unshare (util-linux) is needed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("netcut: left ok"),
        "needs root for `unshare -n`.\n{stdout}\n{stderr}"
    );
    println!(
        "{}",
        stdout.lines().find(|l| l.contains("netcut:")).unwrap_or("")
    );
}
