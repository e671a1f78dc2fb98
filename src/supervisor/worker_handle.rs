//! One worker process as the supervisor sees it: started as `camd-worker worker KEY` (the
//! executable beside `camd` that links GStreamer) with its orders on a private stdin pipe, dying with the supervisor
//! (parent-death signal), without the systemd notification variables.

use super::plan::WorkerKey;
use crate::systemd_notify::CHILD_ENV_REMOVE;
use crate::worker_protocol::{Message, Setup};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};

/// Room for the worker's process title (see process_title): the argument area is this long.
const TITLE_ROOM: usize = 1024;

pub struct WorkerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    /// CLOCK_MONOTONIC ns at the start.
    pub started: u64,
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
            .stdin(Stdio::piped());
        for name in CHILD_ENV_REMOVE {
            command.env_remove(name);
        }
        crate::parent_death::die_with_parent(&mut command);
        let mut child = command.spawn()?;
        let stdin = child.stdin.take();
        let mut process = Self {
            child,
            stdin,
            started: now,
        };
        process.send(&Message::Setup(setup.clone()))?;
        Ok(process)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends one order. A worker that cannot take it (gone, or not reading) gets an error back.
    pub fn send(&mut self, message: &Message) -> std::io::Result<()> {
        match &mut self.stdin {
            Some(stdin) => stdin.write_all(message.encode().as_bytes()),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        }
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
