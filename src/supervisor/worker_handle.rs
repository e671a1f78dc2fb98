//! One worker process as the supervisor sees it: started as `camd-worker worker KEY` (the
//! executable beside `camd` that links GStreamer) with its orders on a private stdin pipe and
//! its reports on a private stdout pipe (both non-blocking on this side), dying with the
//! supervisor (parent-death signal), without the systemd notification variables.

use super::plan::WorkerKey;
use crate::systemd_notify::CHILD_ENV_REMOVE;
use crate::worker_protocol::{Message, Report, Setup};
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};

/// Set in every worker's environment. GStreamer's V4L2 elements (plugins-good: v4l2src, the
/// stateful v4l2 decoders) "orphan" their buffer pool when they stop, and in GStreamer 1.22 an
/// orphaned pool was never freed: it kept its duplicate of the device's fd. Measured in the
/// vm-test guest (docs/vm-test.md): after a webcam was unplugged, or only stopped by a reload,
/// the worker still held `/dev/video0`, so the replugged device came back as `/dev/video2` and
/// its driver could not be unloaded. Any value of this variable makes the element drain the
/// pool instead (the guest then showed no fd and no V4L2 object left).
const WORKER_ENV: &[(&str, &str)] = &[("GST_V4L2_FORCE_DRAIN", "1")];

/// Room for the worker's process title (see process_title): the argument area is this long.
const TITLE_ROOM: usize = 1024;
/// A report line longer than this is not one (a worker's stray output): it is dropped.
const MAX_REPORT: usize = 64 * 1024;

pub struct WorkerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Option<ChildStdout>,
    /// Bytes of reports read but not yet a whole line.
    partial: Vec<u8>,
    /// CLOCK_MONOTONIC ns at the start.
    pub started: u64,
    /// True once one of its rings showed it publishing frames (`ok` under its pid): its death is
    /// then not a crash loop, and it restarts at the first delay.
    pub produced: bool,
    /// When it reported GStreamer initialised (`Report::Ready`); until then its cameras'
    /// silence is its start, bounded by `restart::STARTUP_TIMEOUT`, not a hang.
    pub ready: Option<u64>,
}

fn set_nonblocking(fd: &impl AsRawFd) -> std::io::Result<()> {
    let flags = OFlag::from_bits_truncate(fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL)?);
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

impl WorkerProcess {
    pub fn spawn(
        executable: &Path,
        key: &WorkerKey,
        setup: &Setup,
        now: u64,
    ) -> std::io::Result<Self> {
        let mut command = Command::new(executable);
        command
            .arg0("camd-worker")
            .arg("worker")
            .arg(format!("{key}{}", " ".repeat(TITLE_ROOM)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        for name in CHILD_ENV_REMOVE {
            command.env_remove(name);
        }
        command.envs(WORKER_ENV.iter().copied());
        crate::parent_death::die_with_parent(&mut command);
        let mut child = command.spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        if let Some(pipe) = &stdin {
            set_nonblocking(pipe)?;
        }
        if let Some(pipe) = &stdout {
            set_nonblocking(pipe)?;
        }
        let mut process = Self {
            child,
            stdin,
            stdout,
            partial: Vec::new(),
            started: now,
            produced: false,
            ready: None,
        };
        process.send(&Message::Setup(setup.clone()))?;
        Ok(process)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes one order to the worker's stdin without ever blocking the supervisor's loop (the
    /// pipe is non-blocking). A full pipe means the worker stopped reading its orders (64 KiB
    /// of them, where a reload sends a few lines): it is killed, and restarted like a crashed
    /// one with all its cameras; the truncated line dies with it.
    pub fn send(&mut self, message: &Message) -> std::io::Result<()> {
        let result = match &mut self.stdin {
            Some(stdin) => stdin.write_all(message.encode().as_bytes()),
            None => return Err(std::io::ErrorKind::BrokenPipe.into()),
        };
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                self.kill();
                Err(std::io::Error::new(
                    std::io::ErrorKind::WouldBlock,
                    "it does not read its orders (its pipe is full): killed, to be restarted",
                ))
            }
            other => other,
        }
    }

    /// The reports the worker has written since the last call, without waiting for more. A
    /// line that is not a report (something a library printed) is logged at debug and dropped.
    pub fn reports(&mut self) -> Vec<Report> {
        let Some(stdout) = &mut self.stdout else {
            return Vec::new();
        };
        let mut buf = [0u8; 4096];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) => {
                    self.stdout = None;
                    break;
                }
                Ok(n) => self.partial.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        let mut reports = Vec::new();
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line);
            match Report::decode(text.trim_end()) {
                Ok(report) => reports.push(report),
                Err(e) => log::debug!(
                    "worker pid {}: not a report ({e}): {:?}",
                    self.pid(),
                    text.trim_end()
                ),
            }
        }
        if self.partial.len() > MAX_REPORT {
            self.partial.clear();
        }
        reports
    }

    /// Asks the worker to stop its cameras and exit (SIGTERM, and end of its orders).
    pub fn terminate(&mut self) {
        self.stdin = None;
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM);
    }

    pub fn kill(&mut self) {
        self.stdin = None;
        let _ = self.child.kill();
    }

    /// `terminate` or `kill` was called: the worker has been told to go (its orders pipe is
    /// closed), whether or not it has exited yet. For the tests: the supervisor itself tracks
    /// a worker's end by its exit.
    #[cfg(test)]
    pub fn told_to_go(&self) -> bool {
        self.stdin.is_none()
    }

    /// The exit status, if the worker has ended (reaps it).
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub fn wait(&mut self) -> Option<ExitStatus> {
        self.child.wait().ok()
    }
}

/// "exited with status 1", "was killed by SIGKILL".
pub fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => match Signal::try_from(signal) {
            Ok(s) => format!("was killed by {s}"),
            Err(_) => format!("was killed by signal {signal}"),
        },
        _ => format!("ended ({status})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::Target;
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::ExitStatusExt;
    use std::time::Duration;

    /// A real child that never reads its stdin (a worker wedged before its order loop): the
    /// supervisor's writes must fail at once when the pipe fills, and the child must die.
    #[test]
    fn a_worker_that_stops_reading_is_killed_not_waited_for() {
        let dir = std::env::temp_dir().join(format!("camd-deaf-worker-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let exe = dir.join("deaf-worker");
        std::fs::write(&exe, "#!/bin/sh\nexec sleep 600\n").unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let setup = Setup {
            worker: "#0".into(),
            runtime_dir: dir.clone(),
            ring_gid: None,
            settings: crate::worker_protocol::Settings {
                stop_timeout: Duration::from_secs(1),
                log_level: log::LevelFilter::Info,
            },
            log_to: Target::Stderr,
        };
        let mut process = WorkerProcess::spawn(&exe, &WorkerKey::Auto(0), &setup, 0).unwrap();
        let order = Message::Stop("a-camera-name".into());
        let mut sent = 0usize;
        let error = loop {
            match process.send(&order) {
                Ok(()) => sent += order.encode().len(),
                Err(e) => break e,
            }
            assert!(sent < 1 << 20, "1 MiB of orders and the write never failed");
        };
        assert_eq!(error.kind(), std::io::ErrorKind::WouldBlock, "{error}");
        assert!(sent >= 4096, "failed after only {sent} bytes");
        let status = process.wait().unwrap();
        assert_eq!(status.signal(), Some(nix::libc::SIGKILL), "{status:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
