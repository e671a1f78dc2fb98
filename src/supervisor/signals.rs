//! Signals for a single-threaded loop: each handled signal sets its flag and writes a byte to a
//! pipe, so the loop sleeps in `poll` on the pipe with a timeout and never misses a signal that
//! comes between a check and the sleep.

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM};
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub struct Signals {
    wake: UnixStream,
    /// The pipe's other end, for wake-ups that are not signals (a simulated clock's jump).
    wake_tx: Arc<UnixStream>,
    pub terminate: Arc<AtomicBool>,
    pub reload: Arc<AtomicBool>,
    pub child: Arc<AtomicBool>,
}

impl Signals {
    /// Handles SIGTERM and SIGINT (stop), SIGHUP (reload) and SIGCHLD (a worker ended).
    pub fn install() -> std::io::Result<Self> {
        let (wake, wake_tx) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        wake_tx.set_nonblocking(true)?;
        let terminate = Arc::new(AtomicBool::new(false));
        let reload = Arc::new(AtomicBool::new(false));
        let child = Arc::new(AtomicBool::new(false));
        for (signal, flag) in [
            (SIGTERM, &terminate),
            (SIGINT, &terminate),
            (SIGHUP, &reload),
            (SIGCHLD, &child),
        ] {
            signal_hook::flag::register(signal, flag.clone())?;
            signal_hook::low_level::pipe::register(signal, wake_tx.try_clone()?)?;
        }
        Ok(Self {
            wake,
            wake_tx: Arc::new(wake_tx),
            terminate,
            reload,
            child,
        })
    }

    /// A function that wakes `wait` as a signal would, from any thread.
    pub fn waker(&self) -> Box<dyn Fn() + Send + Sync> {
        let tx = self.wake_tx.clone();
        Box::new(move || {
            let _ = (&*tx).write(&[0]);
        })
    }

    /// Sleeps until a signal comes, `waker()` is called, or `timeout` passes.
    pub fn wait(&self, timeout: Duration) {
        let ms = timeout.as_millis().min(60_000) as i32;
        let mut fds = [PollFd::new(self.wake.as_fd(), PollFlags::POLLIN)];
        let _ = poll(
            &mut fds,
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
        );
        let mut sink = [0u8; 64];
        while matches!((&self.wake).read(&mut sink), Ok(n) if n > 0) {}
    }

    /// Takes a flag: true once per delivery (or burst of deliveries).
    pub fn take(flag: &AtomicBool) -> bool {
        flag.swap(false, Ordering::SeqCst)
    }
}
