//! A command run with a small real tmpfs mounted where it looks, in a mount namespace of its
//! own (`unshare --mount --propagation private`, util-linux), so nothing is mounted on the
//! machine. Its files are seen from outside through `/proc/PID/root` (the namespace's view). For
//! the full-disk tests of `camd run` and `camd check-config`; needs root (CI runs as root).

use std::path::{Path, PathBuf};
use std::process::Command;

/// `inner` (its program and arguments; set its stdio and environment on the result) run with a
/// `size`-byte tmpfs at `dir` (created if missing).
pub fn command_on_small_tmpfs(size: u64, dir: &Path, inner: &Command) -> Command {
    assert!(
        crate::is_root(),
        "a small tmpfs in a private mount namespace needs root: run this test as root (CI does)"
    );
    std::fs::create_dir_all(dir).unwrap();
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg("mount -t tmpfs -o size=\"$1\",mode=0755 tmpfs \"$2\" && shift 2 && exec \"$@\"")
        .arg("sh")
        .arg(size.to_string())
        .arg(dir)
        .arg(inner.get_program())
        .args(inner.get_args());
    for (key, value) in inner.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    cmd
}

/// Where `path` (inside the namespace of process `pid`) is seen from outside it.
pub fn seen_from_outside(pid: u32, path: &Path) -> PathBuf {
    Path::new(&format!("/proc/{pid}/root")).join(path.strip_prefix("/").unwrap_or(path))
}
