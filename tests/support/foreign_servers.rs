//! RTSP servers camd did not write, not built on gst-rtsp-server, for the interop tests
//! (`tests/foreign_servers.rs`), each as a process a test can kill and start again:
//! - [`Relay`]: RTSP::Server (Debian `rtsp-server-perl`), a relay that [`Publisher`]s (ffmpeg)
//!   push to and clients pull from, over UDP only (its SETUP without client ports is a 400).
//!   It sends no Content-Base, so clients ask for `.../MOUNT/streamid=0`. ffmpeg's MJPEG is
//!   payload type 26 with no `a=rtpmap`, as RFC 3551 allows.
//! - [`TcpOnlyServer`]: aio-rtsp-toolkit (PyPI, asyncio), serving an H.264 file over RTSP over
//!   TCP (interleaved) only (a UDP SETUP is a 461), looped; installed into a venv under the
//!   target directory at the versions of `foreign/requirements.txt`.
//!
//! The scripts that run them are in `foreign/`. A missing program is a failure that names the
//! package to install (xtask/src/packages.rs lists them; `.ci/run` installs them).

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// The directory of this file's scripts.
fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("foreign")
}

/// Fails the test with what to install when `program` is not there.
pub fn require(program: &str, package: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        found,
        "{program} is missing: install the Debian package {package} (`cargo xtask test` asks to)"
    );
}

/// A free TCP port on 127.0.0.1 (free when asked; the servers bind it just after).
pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A free UDP port on 127.0.0.1, as the first of the relay's RTP ports.
fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed (and reaped) when dropped.
struct Process {
    child: Child,
    what: String,
}

impl Process {
    /// Starts `command` and waits until a line of its stdout starts with `ready` (then keeps
    /// draining it so it never blocks on a full pipe).
    fn start(mut command: Command, what: &str, ready: &str) -> Process {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        // Its stdout, line by line, through a thread that keeps draining it so that it never
        // blocks on a full pipe; a server that says nothing for 30 s fails the test.
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut said = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) if line.starts_with(ready) => break,
                Ok(line) => said.push(line),
                Err(e) => {
                    let _ = child.kill();
                    let status = child.wait();
                    panic!("{what} not ready ({e:?}, {status:?}): {said:?}");
                }
            }
        }
        Process {
            child,
            what: what.to_string(),
        }
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid, which is not reaped before Drop.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }

    /// SIGTERM, then SIGKILL if it has not ended within `grace`.
    fn stop(&mut self, grace: Duration) {
        self.signal(libc::SIGTERM);
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("{} did not end on SIGTERM: killing it", self.what);
        self.kill();
    }

    fn kill(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A server process that can be killed and started again the same way.
struct Restartable {
    process: Option<Process>,
    launch: Box<dyn Fn() -> Process>,
}

impl Restartable {
    fn start(launch: impl Fn() -> Process + 'static) -> Restartable {
        Restartable {
            process: Some(launch()),
            launch: Box::new(launch),
        }
    }

    /// kill -9, as a server that loses power.
    fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }

    /// A new process started as the first (the camera comes back).
    fn restart(&mut self) {
        self.kill();
        self.process = Some((self.launch)());
    }
}

/// RTSP::Server relaying what ffmpeg publishes, on 127.0.0.1.
pub struct Relay {
    server: Restartable,
    pub client_port: u16,
    pub source_port: u16,
}

impl Relay {
    pub fn start() -> Relay {
        require("perl", "perl");
        assert!(
            Path::new("/usr/share/perl5/RTSP/Server.pm").exists(),
            "RTSP::Server is missing: install the Debian package rtsp-server-perl"
        );
        let (client_port, source_port, rtp_port) =
            (free_tcp_port(), free_tcp_port(), free_udp_port());
        let launch = move || {
            let mut command = Command::new("perl");
            command
                .arg(scripts().join("rtsp-relay.pl"))
                .args(["--clientport", &client_port.to_string()])
                .args(["--serverport", &source_port.to_string()])
                .args(["--client_listen_address", "127.0.0.1"])
                .args(["--source_listen_address", "127.0.0.1"])
                .args(["--rtp_start_port", &rtp_port.to_string()])
                .args(["--loglevel", "1"]);
            Process::start(command, "RTSP::Server", "listening")
        };
        Relay {
            server: Restartable::start(launch),
            client_port,
            source_port,
        }
    }

    /// The URL a client pulls `mount` from (the relay sends no Content-Base: the stream's own).
    pub fn url(&self, mount: &str) -> String {
        format!("rtsp://127.0.0.1:{}/{mount}/streamid=0", self.client_port)
    }

    /// ffmpeg publishing a 320x240 15 fps test pattern to `mount`.
    pub fn publish(&self, mount: &str, feed: Feed) -> Publisher {
        Publisher::start(
            &format!("rtsp://127.0.0.1:{}/{mount}", self.source_port),
            feed,
        )
    }

    /// kill -9 (its publishers lose their connection and end).
    pub fn kill(&mut self) {
        self.server.kill();
    }

    /// A new relay on the same ports (the camera comes back), with nothing published yet.
    pub fn restart(&mut self) {
        self.server.restart();
    }
}

/// What a [`Publisher`] sends.
#[derive(Clone, Copy, Debug)]
pub enum Feed {
    /// x264, a keyframe every 30 frames, no B-frames.
    H264,
    /// ffmpeg's MJPEG over RTP: payload type 26, no `a=rtpmap`.
    Mjpeg,
}

/// ffmpeg publishing a test pattern to the relay. Dropping it stops it with SIGTERM, so that
/// it tears its session down and the relay frees the mount (a killed publisher's mount stays,
/// and a new publish to it gets 403).
pub struct Publisher {
    process: Process,
}

impl Publisher {
    fn start(url: &str, feed: Feed) -> Publisher {
        require("ffmpeg", "ffmpeg");
        let mut command = Command::new("ffmpeg");
        command
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-re"])
            .args(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15"]);
        match feed {
            Feed::H264 => command.args([
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-tune",
                "zerolatency",
                "-pix_fmt",
                "yuv420p",
                "-g",
                "30",
                "-bf",
                "0",
            ]),
            // Without the standard Huffman tables ffmpeg's RTP/JPEG packetizer sends nothing.
            Feed::Mjpeg => command.args([
                "-c:v", "mjpeg", "-huffman", "default", "-pix_fmt", "yuvj420p", "-q:v", "5",
            ]),
        };
        command.args(["-f", "rtsp", "-rtsp_transport", "udp", url]);
        // ffmpeg prints nothing when it publishes: "ready" at once, and the test waits for the
        // camera instead.
        let mut shell = Command::new("sh");
        shell
            .arg("-c")
            .arg("echo ready; exec \"$0\" \"$@\"")
            .arg(command.get_program())
            .args(command.get_args());
        Publisher {
            process: Process::start(shell, "ffmpeg", "ready"),
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.process.stop(Duration::from_secs(2));
    }
}

/// aio-rtsp-toolkit serving a looped 320x240 15 fps H.264 file over TCP only.
pub struct TcpOnlyServer {
    server: Restartable,
    pub port: u16,
}

impl TcpOnlyServer {
    /// `work`: a directory kept between runs (the venv and the media file are made once).
    pub fn start(work: &Path) -> TcpOnlyServer {
        let port = free_tcp_port();
        let (python, media) = (venv_python(work), media_dir(work));
        let launch = move || {
            let mut command = Command::new(&python);
            command
                .arg(scripts().join("aio_rtsp_server.py"))
                .arg(&media)
                .arg(port.to_string());
            let process = Process::start(command, "aio-rtsp-toolkit", "listening");
            // "listening" comes once the socket is bound; make sure it accepts.
            for _ in 0..100 {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return process;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            panic!("aio-rtsp-toolkit does not accept on port {port}");
        };
        TcpOnlyServer {
            server: Restartable::start(launch),
            port,
        }
    }

    /// The looped file's URL.
    pub fn url(&self) -> String {
        format!("rtsp://127.0.0.1:{}/pattern.mp4?play_count=0", self.port)
    }

    /// kill -9.
    pub fn kill(&mut self) {
        self.server.kill();
    }

    /// A new server on the same port.
    pub fn restart(&mut self) {
        self.server.restart();
    }
}

/// The venv's python with aio-rtsp-toolkit, made once per `work` directory and process.
fn venv_python(work: &Path) -> PathBuf {
    static MADE: OnceLock<PathBuf> = OnceLock::new();
    MADE.get_or_init(|| {
        let venv = work.join("aio-rtsp-venv");
        let python = venv.join("bin/python");
        let requirements = scripts().join("requirements.txt");
        let stamp = venv.join("requirements.txt");
        let wanted = std::fs::read_to_string(&requirements).unwrap();
        if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
            return python;
        }
        require("python3", "python3-venv");
        let _ = std::fs::remove_dir_all(&venv);
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
        run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements));
        std::fs::write(&stamp, wanted).unwrap();
        python
    })
    .clone()
}

/// A directory with `pattern.mp4`: 20 s of 320x240 15 fps H.264, a keyframe every 30 frames,
/// no B-frames (the server schedules packets by PTS).
fn media_dir(work: &Path) -> PathBuf {
    static MADE: OnceLock<PathBuf> = OnceLock::new();
    MADE.get_or_init(|| make_media(work)).clone()
}

fn make_media(work: &Path) -> PathBuf {
    let dir = work.join("aio-rtsp-media");
    let file = dir.join("pattern.mp4");
    if !file.exists() {
        require("ffmpeg", "ffmpeg");
        std::fs::create_dir_all(&dir).unwrap();
        let partial = dir.join("pattern.partial.mp4");
        run(Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
            .args([
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=320x240:rate=15:duration=20",
            ])
            .args([
                "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            ])
            .args([
                "-g",
                "30",
                "-keyint_min",
                "30",
                "-sc_threshold",
                "0",
                "-bf",
                "0",
            ])
            .args(["-movflags", "+faststart"])
            .arg(&partial));
        std::fs::rename(&partial, &file).unwrap();
    }
    dir
}

fn run(command: &mut Command) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
