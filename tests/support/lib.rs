//! What camd's integration tests, benches and examples share (the `camd-test-support`
//! package): `camd run` as a real process (`daemon`), the fake RTSP cameras (`fake_cameras`),
//! RTSP servers camd did not write (`foreign_servers`), JPEG and ring helpers, a small tmpfs for full-disk tests, temporary directories and polling,
//! the benchmarks' CPU of process trees from /proc (`processes`).
//! For credentials on the wire: throwaway TLS certificates (`test_certs`) and a recording TCP
//! proxy (`wire_tap`).

pub mod daemon;
pub mod fake_cameras;
pub mod foreign_servers;
pub mod jpeg;
pub mod processes;
pub mod rings;
pub mod small_tmpfs;
pub mod test_certs;
pub mod wire_tap;

#[cfg(test)]
mod credentials_tests;

pub use rings::*;

use std::time::{Duration, Instant};

pub use camd_ring_test_support::{is_root, with_private_tmpfs, TempDir};

/// Polls `check` every 10 ms until it returns Some or `timeout` passes. For waiting on real
/// pipelines (real time, by nature), never for a backoff: those are tested on a simulated clock.
pub fn wait_for<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The sum of a `Field:   N kB` line of a /proc file (`/proc/PID/status`, `smaps_rollup`), in
/// KiB; 0 if the file is gone (the process ended).
pub fn proc_kib(file: &str, field: &str) -> u64 {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix(field))
        .map(|v| v.split_whitespace().next().unwrap().parse::<u64>().unwrap())
        .sum()
}

/// The fake cameras (`examples/fake_cameras.rs`) as a separate process, so that tests can kill,
/// freeze (SIGSTOP), thaw and restart them like a real camera that crashes or hangs.
pub struct FakeCameraProcess {
    child: std::process::Child,
    pub port: u16,
    mounts: Vec<String>,
}

impl FakeCameraProcess {
    /// Starts `fake_cameras --port PORT MOUNT...` (port 0: any) and waits for `ready`.
    pub fn start(port: u16, mounts: &[&str]) -> Self {
        use std::io::{BufRead, BufReader};
        let exe = std::env::current_exe()
            .unwrap()
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("examples/fake_cameras");
        assert!(
            exe.exists(),
            "{} missing: run `cargo build --examples` first (`cargo xtask test` does)",
            exe.display()
        );
        let mut child = std::process::Command::new(&exe)
            .arg("--port")
            .arg(port.to_string())
            .args(mounts)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut port = port;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if line == "ready" {
                break;
            }
            if let Some(rest) = line.strip_prefix("rtsp://127.0.0.1:") {
                port = rest.split('/').next().unwrap().parse().unwrap();
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            port,
            mounts: mounts.iter().map(|m| m.to_string()).collect(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("rtsp://127.0.0.1:{}/{path}", self.port)
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.pid(), signal) };
    }

    /// kill -9, as a camera that loses power.
    pub fn kill(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.wait();
    }

    /// SIGSTOP: the camera hangs with its connections open.
    pub fn freeze(&self) {
        self.signal(libc::SIGSTOP);
    }

    pub fn thaw(&self) {
        self.signal(libc::SIGCONT);
    }

    /// A new server on the same port (the camera comes back).
    pub fn restart(&mut self) {
        self.kill();
        let mounts: Vec<&str> = self.mounts.iter().map(String::as_str).collect();
        *self = Self::start(self.port, &mounts);
    }
}

impl Drop for FakeCameraProcess {
    fn drop(&mut self) {
        self.signal(libc::SIGCONT);
        self.signal(libc::SIGKILL);
        let _ = self.child.wait();
    }
}

/// Runs `program` with `args` and no input; it must exit 0. Returns its standard output.
pub fn stdout_of(program: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
