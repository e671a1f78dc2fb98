//! Fake RTSP cameras on 127.0.0.1, for manual tests and for tests that need the cameras in a
//! separate process (kill -9, SIGSTOP / SIGCONT).
//!
//! ```text
//! cargo run --example fake_cameras -- [--port N] [MOUNT...]
//! MOUNT = PATH=CODEC:WxH@FPS[:PATTERN][:gop=N]   e.g. cam0=h264:1280x720@15:textured:gop=30
//! ```
//!
//! Prints one line per mount, `rtsp://127.0.0.1:PORT/PATH CODEC WxH@FPS`, then `ready`, and
//! serves until SIGINT or SIGTERM (exit 0). `--port 0` picks a free port (printed).
//! Usage errors exit 2, server start failures exit 1.

use camd_test_support::fake_cameras;

use std::io::Write;
use std::process::ExitCode;

use fake_cameras::{Codec, MountSpec};
use gstreamer::glib;

const DEFAULT_PORT: u16 = 8554;
// Linux signal numbers (the same on every Linux architecture).
const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

const USAGE: &str = "\
usage: fake_cameras [--port N] [MOUNT...]
  MOUNT    PATH=CODEC:WxH@FPS[:PATTERN][:gop=N], CODEC h264|h265|mjpeg, PATTERN a
           videotestsrc pattern (default smpte) or 'textured' (moving zone plate, for CPU
           figures), gop=N a keyframe every N frames (h264, h265; default 2 x FPS)
  --port N TCP port on 127.0.0.1 (default 8554; 0 = any free port, printed)
without MOUNT: cam0=h264:1280x720@15:textured cam1=mjpeg:1280x720@15:textured
               cam2=h265:640x480@15:smpte
prints 'rtsp://127.0.0.1:PORT/PATH CODEC WxH@FPS' per mount, then 'ready'; stops on SIGINT/SIGTERM";

fn default_mounts() -> Vec<MountSpec> {
    vec![
        MountSpec::new("cam0", Codec::H264, 1280, 720, 15).with_pattern("textured"),
        MountSpec::new("cam1", Codec::Mjpeg, 1280, 720, 15).with_pattern("textured"),
        MountSpec::new("cam2", Codec::H265, 640, 480, 15),
    ]
}

enum Args {
    Help,
    Run { port: u16, mounts: Vec<MountSpec> },
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut port = DEFAULT_PORT;
    let mut mounts = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let port_value = if a == "--port" || a == "-p" {
            i += 1;
            match args.get(i) {
                Some(v) => Some(v.as_str()),
                None => return Err(format!("{} needs a value", a)),
            }
        } else {
            a.strip_prefix("--port=")
        };
        if let Some(v) = port_value {
            port = v
                .parse()
                .map_err(|_| format!("bad port {:?} (expected 0..=65535)", v))?;
        } else if a == "-h" || a == "--help" {
            return Ok(Args::Help);
        } else if a.starts_with('-') {
            return Err(format!("unknown option {:?}", a));
        } else {
            mounts.push(MountSpec::parse(a)?);
        }
        i += 1;
    }
    if mounts.is_empty() {
        mounts = default_mounts();
    }
    Ok(Args::Run { port, mounts })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (port, mounts) = match parse_args(&args) {
        Ok(Args::Help) => {
            println!("{}", USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Args::Run { port, mounts }) => (port, mounts),
        Err(e) => {
            eprintln!("fake_cameras: {}\n{}", e, USAGE);
            return ExitCode::from(2);
        }
    };

    // Signal handlers first, so that a SIGTERM right after `ready` is never fatal.
    let main_loop = glib::MainLoop::new(None, false);
    for signum in [SIGINT, SIGTERM] {
        let main_loop = main_loop.clone();
        glib::unix_signal_add(signum, move || {
            main_loop.quit();
            glib::ControlFlow::Continue
        });
    }

    let mut server = match fake_cameras::serve(port, &mounts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fake_cameras: {}", e);
            return ExitCode::from(1);
        }
    };

    {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        for m in &mounts {
            let _ = writeln!(
                out,
                "{} {} {}x{}@{}",
                server.url(&m.path),
                m.codec,
                m.width,
                m.height,
                m.fps
            );
        }
        let _ = writeln!(out, "ready");
        let _ = out.flush();
    }

    main_loop.run();
    server.stop();
    ExitCode::SUCCESS
}
