//! RTSP passwords appear nowhere: not in the log (debug level, with connection failures), not
//! in `camd status` in any format, not in a ring file, not in any process's command line or
//! environment. One password comes in the url, one from a systemd credential file.

use camd_test_support as support;

use std::time::Duration;
use support::daemon::{children_of, cmdline, Daemon};

const CAMD: &str = env!("CARGO_BIN_EXE_camd");
use support::FakeCameraProcess;

const INLINE: &str = "Inl1nePassw0rd";
const FROM_FILE: &str = "Cr3dentialPassw0rd";

#[test]
fn passwords_appear_nowhere() {
    let server = FakeCameraProcess::start(0, &["cam=h264:320x240@15"]);
    let credentials = support::TempDir::new("credentials");
    std::fs::write(
        credentials.path().join("down.pass"),
        format!("{FROM_FILE}\n"),
    )
    .unwrap();
    let url = server
        .url("cam")
        .replace("rtsp://", &format!("rtsp://admin:{INLINE}@"));
    let cameras = format!(
        "[[camera]]\nname = \"up\"\nurl = \"{url}\"\ntransport = \"tcp\"\n\
         [[camera]]\nname = \"down\"\nurl = \"rtsp://admin@127.0.0.1:1/x\"\npassword_file = \"down.pass\"\n\
         max_retry_attempts = 2\nretry_initial_s = 0.1\n"
    );
    let dir = credentials.path().to_str().unwrap().to_owned();
    let daemon = Daemon::start("", &cameras, &[("CREDENTIALS_DIRECTORY", &dir)]);
    daemon.until_ok("up", 0, Duration::from_secs(15));
    support::wait_for(Duration::from_secs(10), || {
        (daemon.ring("down").status().unwrap().status.state == camd_ring::State::ConnectionFailed)
            .then_some(())
    })
    .expect("the unreachable camera reaches connection_failed");

    let mut places: Vec<(String, Vec<u8>)> = Vec::new();
    places.push(("log".into(), daemon.log_text().into_bytes()));
    for format in ["table", "json", "prometheus"] {
        let out = std::process::Command::new(CAMD)
            .args(["status", "--format", format, "--dir"])
            .arg(&daemon.run_dir)
            .output()
            .unwrap();
        assert!(out.status.success());
        places.push((format!("status --format {format}"), out.stdout));
    }
    for name in ["up", "down"] {
        let ring = std::fs::read(daemon.run_dir.join(format!("{name}.ring"))).unwrap();
        places.push((format!("{name}.ring"), ring));
    }
    let mut pids = vec![daemon.pid() as u32];
    pids.extend(
        children_of(daemon.pid() as u32)
            .into_iter()
            .map(|(pid, _)| pid),
    );
    assert_eq!(pids.len(), 2, "the supervisor and one worker");
    for pid in pids {
        places.push((format!("/proc/{pid}/cmdline"), cmdline(pid).into_bytes()));
        places.push((
            format!("/proc/{pid}/environ"),
            std::fs::read(format!("/proc/{pid}/environ")).unwrap(),
        ));
    }
    let log = daemon.log_text();
    assert!(
        log.contains("admin:***@"),
        "the log shows no masked url:\n{log}"
    );
    for (place, bytes) in &places {
        let text = String::from_utf8_lossy(bytes);
        for secret in [INLINE, FROM_FILE] {
            assert!(!text.contains(secret), "{secret} found in {place}");
        }
    }
    println!("checked {} places", places.len());
}
