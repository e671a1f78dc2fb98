//! The first-hour demo that `cargo xtask demo` runs (after building camd in release): fake RTSP
//! cameras on 127.0.0.1, `camd run` on a config made for them, and `camd status --watch` live.
//!
//! ```text
//! demo [--dir DIR] [--up SECONDS] [--down SECONDS] [--small] [--pictures OUT]
//! ```
//!
//! `--pictures OUT`: instead of the live display, waits until the four cameras are ok, writes
//! `OUT/status.txt` (`camd status` as it reads in 100 columns), each camera's latest frame
//! (`camd snapshot --all -o OUT/frames`) and `OUT/contact-sheet.jpg` (the four, labelled, 2x2),
//! then stops. docs/first-screen.md shows them.
//!
//! Cameras: `door` (H.264 1280x720, 15 fps, a moving textured scene), `yard` (MJPEG 1280x720,
//! 15 fps, passed through without re-encoding), `gate` (H.264 640x360 on a second server that
//! goes away for `--down` seconds (10) after every `--up` seconds (20) of service, so it drops
//! out and comes back every half minute), and `pattern` (camd's own test pattern, no network).
//! `--small` makes every RTSP camera 320x240 (the test suite uses it).
//!
//! Everything lives in DIR (default `$XDG_RUNTIME_DIR/camd-demo-rtsp`, else
//! `/tmp/camd-demo-rtsp-UID`): `camd.toml`, `camd.log` (camd's log, so that it does not scroll
//! the status display away) and `rings/`. The demo prints the ring directory and a one-line
//! Python reader first, then the status display takes the terminal.
//!
//! Ctrl-C (SIGINT to the whole foreground process group) or SIGTERM stops camd (every ring ends
//! `stopped`), the status display and the fake cameras, and exits 0: no process is left behind.
//! camd and the display are also started with a parent-death signal, so even a SIGKILL of the
//! demo does not leave them running.

use camd_test_support::fake_cameras;

use fake_cameras::{Codec, MountSpec, Server};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: demo [--dir DIR] [--up SECONDS] [--down SECONDS] [--small] [--pictures OUT]
  --dir DIR       where the config, camd's log and the rings go
                  (default $XDG_RUNTIME_DIR/camd-demo-rtsp, else /tmp/camd-demo-rtsp-UID)
  --up SECONDS    how long the `gate` camera serves between outages (default 20)
  --down SECONDS  how long each outage of `gate` lasts (default 10)
  --small         320x240 RTSP cameras instead of 1280x720 and 640x360
  --pictures OUT  write the status, each camera's frame and a contact sheet into OUT, then stop";

struct Options {
    dir: PathBuf,
    up: Duration,
    down: Duration,
    small: bool,
    pictures: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_args(&args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("demo: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(args: &[String]) -> Result<Option<Options>, String> {
    let mut options = Options {
        dir: default_dir(),
        up: Duration::from_secs(20),
        down: Duration::from_secs(10),
        small: false,
        pictures: None,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value"))
                .cloned()
        };
        let seconds = |name: &str, text: String| -> Result<Duration, String> {
            match text.parse::<f64>() {
                Ok(s) if (0.5..=3600.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
                _ => Err(format!(
                    "{name} takes seconds from 0.5 to 3600, not {text:?}"
                )),
            }
        };
        match arg.as_str() {
            "--dir" => options.dir = PathBuf::from(value("--dir")?),
            "--up" => options.up = seconds("--up", value("--up")?)?,
            "--down" => options.down = seconds("--down", value("--down")?)?,
            "--small" => options.small = true,
            "--pictures" => options.pictures = Some(PathBuf::from(value("--pictures")?)),
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(options))
}

fn default_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("camd-demo-rtsp"),
        None => PathBuf::from(format!("/tmp/camd-demo-rtsp-{}", nix::unistd::getuid())),
    }
}

/// The fake camera that drops out: its own server, stopped and started again on the same port.
struct Flaky {
    mount: MountSpec,
    port: u16,
    server: Option<Server>,
    /// When the server next stops or starts.
    next_change: Instant,
}

impl Flaky {
    fn tick(&mut self, options: &Options) -> Result<(), String> {
        if Instant::now() < self.next_change {
            return Ok(());
        }
        match self.server.take() {
            Some(mut server) => {
                server.stop();
                self.next_change = Instant::now() + options.down;
            }
            None => {
                self.server = Some(
                    fake_cameras::serve(self.port, std::slice::from_ref(&self.mount))
                        .map_err(|e| format!("the gate camera cannot come back: {e}"))?,
                );
                self.next_change = Instant::now() + options.up;
            }
        }
        Ok(())
    }
}

fn run(options: &Options) -> Result<(), String> {
    let camd = camd_executable()?;
    let (big, medium) = if options.small {
        ((320, 240), (320, 240))
    } else {
        ((1280, 720), (640, 360))
    };
    let steady = fake_cameras::serve(
        0,
        &[
            MountSpec::new("door", Codec::H264, big.0, big.1, 15).with_pattern("textured"),
            MountSpec::new("yard", Codec::Mjpeg, big.0, big.1, 15).with_pattern("textured"),
        ],
    )
    .map_err(|e| format!("cannot start the fake cameras: {e}"))?;
    let gate = MountSpec::new("gate", Codec::H264, medium.0, medium.1, 15).with_pattern("ball");
    let first = fake_cameras::serve(0, std::slice::from_ref(&gate))
        .map_err(|e| format!("cannot start the fake cameras: {e}"))?;
    let mut flaky = Flaky {
        mount: gate,
        port: first.port(),
        server: Some(first),
        next_change: Instant::now() + options.up,
    };

    let rings = options.dir.join("rings");
    std::fs::create_dir_all(&options.dir)
        .map_err(|e| format!("cannot create {}: {e}", options.dir.display()))?;
    let config_path = options.dir.join("camd.toml");
    std::fs::write(
        &config_path,
        config(&rings, &steady.url("door"), &steady.url("yard"), flaky.port),
    )
    .map_err(|e| format!("cannot write {}: {e}", config_path.display()))?;
    let log_path = options.dir.join("camd.log");
    let log = std::fs::File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;

    // Signals first: a Ctrl-C from here on stops everything in order.
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])
    .map_err(|e| format!("cannot handle signals: {e}"))?;

    let mut daemon = child(
        Command::new(&camd)
            .args(["run", "--log-to", "stderr", "--config"])
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log),
    )
    .map_err(|e| format!("cannot start {}: {e}", camd.display()))?;
    println!(
        "camd demo: cameras door (H.264 {}x{}), yard (MJPEG {}x{}), gate (H.264 {}x{}, away for \
         {:.0} s after every {:.0} s) and pattern (camd's test pattern)\n\
         rings: {}\ncamd's log: {}\n\
         Read a frame in another terminal:\n  \
         PYTHONPATH={} CAMD_RING_LIB={} python3 -c \
         'import camd_ring; r = camd_ring.Reader(\"{}/door.ring\"); m, jpeg = r.copy_latest(); \
         print(r.status().state, m.seq, m.width, m.height, len(jpeg))'\n\
         See the pictures (every camera's latest frame as DIR/CAMERA.jpg):\n  \
         {} snapshot --all -o /tmp/camd-demo-pictures --dir {}\n\
         Ctrl-C stops everything.\n",
        big.0,
        big.1,
        big.0,
        big.1,
        medium.0,
        medium.1,
        options.down.as_secs_f64(),
        options.up.as_secs_f64(),
        rings.display(),
        log_path.display(),
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("ring/python")
            .display(),
        camd.with_file_name("libcamd_ring.so").display(),
        rings.display(),
        camd.display(),
        rings.display(),
    );
    if let Some(out) = &options.pictures {
        let taken = pictures(&camd, &rings, out, &mut flaky, options);
        let _ = kill(Pid::from_raw(daemon.id() as i32), Signal::SIGTERM);
        let _ = daemon.wait();
        drop(steady);
        drop(flaky.server.take());
        return taken;
    }
    // Time to read the lines above before the display takes the screen.
    std::thread::sleep(Duration::from_secs(2));
    let mut display = child(
        Command::new(&camd)
            .args(["status", "--watch", "1", "--dir"])
            .arg(&rings),
    )
    .map_err(|e| format!("cannot start the status display: {e}"))?;

    let outcome = loop {
        if let Some(signal) = signals.pending().next() {
            break Ok(signal);
        }
        if let Ok(Some(status)) = daemon.try_wait() {
            break Err(format!(
                "camd stopped by itself ({status}); its log: {}",
                log_path.display()
            ));
        }
        if let Err(e) = flaky.tick(options) {
            break Err(e);
        }
        std::thread::sleep(Duration::from_millis(100));
    };

    // camd first, so that every ring ends `stopped`; then the display and the cameras.
    let _ = kill(Pid::from_raw(daemon.id() as i32), Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(8);
    while daemon.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = daemon.kill();
    let _ = daemon.wait();
    let _ = display.kill();
    let _ = display.wait();
    drop(steady);
    drop(flaky.server.take());
    let signal = outcome?;
    println!(
        "\ncamd demo: stopped (signal {signal}); camd's log is in {}",
        log_path.display()
    );
    Ok(())
}

/// The demo's cameras, in the contact sheet's order (left to right, top to bottom).
const CAMERAS: [&str; 4] = ["door", "yard", "gate", "pattern"];

/// `--pictures OUT`: once every camera is ok, the status table, each frame, a contact sheet.
fn pictures(
    camd: &Path,
    rings: &Path,
    out: &Path,
    flaky: &mut Flaky,
    options: &Options,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        flaky.tick(options)?;
        let json = Command::new(camd)
            .args(["status", "--format", "json", "--dir"])
            .arg(rings)
            .output()
            .map_err(|e| format!("cannot run camd status: {e}"))?;
        let json = String::from_utf8_lossy(&json.stdout);
        let ok = |name: &str| json.contains(&format!("\"name\":\"{name}\",\"status\":\"ok\""));
        if CAMERAS.iter().all(|c| ok(c)) {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("the cameras were not all ok within 60 s: {json}"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // A few seconds of frames, so that the counters and ages read as they do in use.
    std::thread::sleep(Duration::from_secs(3));
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let status = Command::new(camd)
        .args(["status", "--dir"])
        .arg(rings)
        .output()
        .map_err(|e| format!("cannot run camd status: {e}"))?;
    std::fs::write(out.join("status.txt"), &status.stdout).map_err(|e| e.to_string())?;
    let frames = out.join("frames");
    let snapshot = Command::new(camd)
        .args(["snapshot", "--all", "-o"])
        .arg(&frames)
        .arg("--dir")
        .arg(rings)
        .status()
        .map_err(|e| format!("cannot run camd snapshot: {e}"))?;
    if !snapshot.success() {
        return Err(format!("camd snapshot --all failed ({snapshot})"));
    }
    contact_sheet(&frames, &out.join("contact-sheet.jpg"))?;
    println!(
        "camd demo: pictures in {} (status.txt, frames/, contact-sheet.jpg)",
        out.display()
    );
    Ok(())
}

/// The four frames, each scaled to 640x360 and labelled with its camera, tiled 2x2 into one
/// JPEG: GStreamer's compositor, fed by one held frame (imagefreeze) per camera.
fn contact_sheet(frames: &Path, to: &Path) -> Result<(), String> {
    gstreamer::init().map_err(|e| e.to_string())?;
    let (w, h) = (640, 360);
    let (mut positions, mut branches) = (String::new(), String::new());
    for (i, camera) in CAMERAS.iter().enumerate() {
        let (x, y) = ((i % 2) * w, (i / 2) * h);
        positions.push_str(&format!(" sink_{i}::xpos={x} sink_{i}::ypos={y}"));
        branches.push_str(&format!(
            " filesrc location=\"{}\" ! jpegdec ! videoconvert ! videoscale ! \
             video/x-raw,width={w},height={h},pixel-aspect-ratio=1/1 ! imagefreeze num-buffers=1 ! \
             textoverlay text=\"{camera}\" valignment=bottom halignment=left font-desc=\"Sans 20\" ! \
             videoconvert ! sheet.sink_{i}",
            frames.join(format!("{camera}.jpg")).display()
        ));
    }
    let description = format!(
        "compositor name=sheet{positions} background=black ! videoconvert ! jpegenc quality=90 ! \
         filesink location=\"{}\"{branches}",
        to.display()
    );
    let pipeline = gstreamer::parse::launch(&description)
        .map_err(|e| format!("contact sheet pipeline: {e}"))?;
    use gstreamer::prelude::*;
    pipeline
        .set_state(gstreamer::State::Playing)
        .map_err(|e| format!("contact sheet: {e}"))?;
    let bus = pipeline.bus().expect("a pipeline has a bus");
    let result = match bus.timed_pop_filtered(
        gstreamer::ClockTime::from_seconds(20),
        &[gstreamer::MessageType::Eos, gstreamer::MessageType::Error],
    ) {
        Some(m) => match m.view() {
            gstreamer::MessageView::Eos(_) => Ok(()),
            gstreamer::MessageView::Error(e) => Err(format!("contact sheet: {}", e.error())),
            _ => Ok(()),
        },
        None => Err("contact sheet: no end within 20 s".into()),
    };
    let _ = pipeline.set_state(gstreamer::State::Null);
    result
}

/// Starts `command` so that it dies with the demo.
fn child(command: &mut Command) -> std::io::Result<Child> {
    camd::parent_death::die_with_parent(command).spawn()
}

/// `camd`, beside this example's directory (`target/release/examples/demo` ->
/// `target/release/camd`), with its `camd-worker`.
fn camd_executable() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find my own path: {e}"))?;
    let dir = me
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| format!("{} is not in a cargo target directory", me.display()))?;
    for name in ["camd", "camd-worker"] {
        if !dir.join(name).is_file() {
            return Err(format!(
                "{} is missing: build camd first (`cargo xtask demo` does: cargo build --release --bins)",
                dir.join(name).display()
            ));
        }
    }
    Ok(dir.join("camd"))
}

fn config(rings: &Path, door: &str, yard: &str, gate_port: u16) -> String {
    format!(
        r#"# Written by the camd demo (examples/demo.rs); see systemd/camd.toml for every key.
[daemon]
runtime_dir = "{rings}"
cameras_per_worker = 2
log_level = "info"

[[camera]]
name = "door"
url = "{door}"

[[camera]]
name = "yard"
url = "{yard}"

# Drops out and comes back: retrying while it is away (its credentials are never shown).
[[camera]]
name = "gate"
url = "rtsp://demo:not-shown@127.0.0.1:{gate_port}/gate"
retry_initial_s = 1
retry_max_s = 4
max_retry_attempts = 1000

[[camera]]
name = "pattern"
url = "test:ball"
width = 640
height = 480
max_fps = 10
"#,
        rings = rings.display()
    )
}
