//! The Debian/Ubuntu packages camd's chores need, checked with dpkg-query and installed with
//! apt-get (through sudo when not root) after asking, or at once when the command was given its
//! yes flag. On other systems the list is printed and the chore goes on.

use crate::process::{run, succeeds};
use std::io::{BufRead, IsTerminal, Write};
use std::process::Command;

/// Building camd and running it with its fake cameras (`cargo xtask demo`).
pub const DEMO: &[(&str, &str)] = &[
    ("build-essential", "the C compiler and linker cargo uses"),
    ("pkg-config", "finds GStreamer for the build"),
    ("libgstreamer1.0-dev", "GStreamer"),
    (
        "libgstreamer1.0-0",
        "GStreamer's core elements (capsfilter, filesrc, queue, fakesink)",
    ),
    (
        "gstreamer1.0-tools",
        "gst-inspect-1.0, which checks the elements are there; gst-launch-1.0",
    ),
    (
        "libgstreamer-plugins-base1.0-dev",
        "GStreamer's app library (appsink)",
    ),
    ("libgstrtspserver-1.0-dev", "the fake cameras' RTSP server"),
    ("libclang-dev", "bindgen, for the V4L2 bindings"),
    (
        "gstreamer1.0-plugins-base",
        "videotestsrc, videoconvert, videoscale",
    ),
    (
        "gstreamer1.0-plugins-good",
        "rtspsrc, jpegenc, depayloaders",
    ),
    ("gstreamer1.0-plugins-bad", "the H.264/H.265 parsers"),
    (
        "gstreamer1.0-plugins-ugly",
        "x264enc, the fake cameras' H.264 encoder",
    ),
    (
        "gstreamer1.0-libav",
        "avdec_h264, the software H.264 decoder",
    ),
    (
        "gstreamer1.0-x",
        "timeoverlay (GStreamer's pango plugin), on the fake cameras' picture",
    ),
    ("python3", "the one-line frame reader"),
];

/// The whole test suite (`cargo xtask test`), beyond `DEMO`. `.ci/run` installs exactly
/// `DEMO` + `TEST` (a test holds it to that), and `cargo xtask pristine` proves on a root that
/// has nothing else that they are enough for every element of the GStreamer inventory.
pub const TEST: &[(&str, &str)] = &[
    ("iproute2", "`ip`, for the network-cut test"),
    ("ca-certificates", "rustup and cargo downloads"),
    (
        "systemd",
        "systemd-analyze, for the unit's verify and security checks",
    ),
    (
        "python3-venv",
        "the venvs oelint-adv, the TCP-only RTSP server (aio-rtsp-toolkit) and the camd_ring \
         package (pip install ring/python) are installed into",
    ),
    (
        "python3-wheel-whl",
        "wheel for the venv's setuptools, which builds ring/python's wheel offline",
    ),
    (
        "python3-numpy",
        "the camd_ring binding's raw pixels as numpy arrays over the ring (ring/python/tests, \
         ring/tests/numpy_view.py)",
    ),
    (
        "rtsp-server-perl",
        "RTSP::Server, the UDP-only RTSP relay of the interop tests",
    ),
    (
        "ffmpeg",
        "publishes to that relay, and makes the TCP-only server's H.264 file",
    ),
    (
        "git",
        "the Yocto crate list is made from the files git tracks",
    ),
    (
        "gcc-aarch64-linux-gnu",
        "the aarch64 cross build's C compiler and linker",
    ),
    (
        "gcc-arm-linux-gnueabihf",
        "the armv7 cross build's C compiler and linker",
    ),
    ("qemu-user-static", "runs the aarch64 tests"),
    (
        "mmdebstrap",
        "extracts the cross build's Debian sysroot; makes the pristine and vm-test roots",
    ),
    (
        "qemu-system-x86",
        "boots the vm-test guest (real V4L2 drivers, systemd)",
    ),
    ("e2fsprogs", "mkfs.ext4, the vm-test guest's disks"),
    (
        "openssl",
        "the throwaway CA and camera certificates of the RTSPS tests (tests/support/test_certs.rs)",
    ),
];

/// Installs the packages of `needed` that are missing, after asking (or at once with `yes`);
/// `yes_flag` says how to answer yes on the command line, for when nobody can be asked.
pub fn install_missing(
    needed: &[(&str, &str)],
    what: &str,
    yes_flag: &str,
    yes: bool,
) -> Result<(), String> {
    if !succeeds(Command::new("dpkg-query").arg("--version")) {
        eprintln!(
            "{what}: not a Debian or Ubuntu system (no dpkg-query): make sure these are installed \
             (Debian names): {}",
            names(needed)
        );
        return Ok(());
    }
    let missing: Vec<(&str, &str)> = needed
        .iter()
        .copied()
        .filter(|(name, _)| !installed(name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("{what} needs these packages, which are not installed:");
    for (name, why) in &missing {
        eprintln!("  {name:<34} {why}");
    }
    let sudo = if is_root() { "" } else { "sudo " };
    let apt_get = |args: &[&str]| {
        let mut command = if sudo.is_empty() {
            Command::new("apt-get")
        } else {
            let mut command = Command::new("sudo");
            command.arg("apt-get");
            command
        };
        command.args(args);
        command
    };
    if !yes
        && !confirm(
            &format!("Install them now with {sudo}apt-get? [y/N] "),
            yes_flag,
        )?
    {
        return Err(format!(
            "not installed; run `{sudo}apt-get install {}`, or {yes_flag}",
            names(&missing)
        ));
    }
    // A fresh machine may never have fetched the package lists.
    run(&mut apt_get(&["update"]))?;
    let mut install = apt_get(&["install", "-y", "--no-install-recommends"]);
    install.args(missing.iter().map(|(name, _)| *name));
    run(&mut install)
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Status}", package])
        .output()
        .map(|out| out.status.success() && out.stdout == b"installed")
        .unwrap_or(false)
}

pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Uid:"))?;
            Some(line.split_whitespace().nth(1)? == "0")
        })
        .unwrap_or(false)
}

fn confirm(question: &str, yes_flag: &str) -> Result<bool, String> {
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "packages are missing and there is no terminal to ask: {yes_flag} to install them"
        ));
    }
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn names(packages: &[(&str, &str)]) -> String {
    packages
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every package `cargo xtask test` needs: `DEMO` + `TEST`, sorted.
pub fn all() -> Vec<&'static str> {
    let mut all: Vec<&str> = DEMO.iter().chain(TEST).map(|(name, _)| *name).collect();
    all.sort_unstable();
    all
}

#[cfg(test)]
mod tests {
    /// `.ci/run` installs with apt-get before any cargo runs (cargo needs a linker), so it
    /// writes the list out: it must be this module's list, no more and no less.
    #[test]
    fn ci_run_installs_exactly_the_list() {
        let script = std::fs::read_to_string(crate::process::root().join(".ci/run")).unwrap();
        let mut installed: Vec<&str> = Vec::new();
        let mut in_install = false;
        for line in script.lines() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            in_install |= line.starts_with("apt_get install");
            if in_install {
                installed.extend(
                    line.split_whitespace()
                        .filter(|w| !w.starts_with('-') && !w.starts_with('>'))
                        .filter(|w| !matches!(*w, "apt_get" | "install" | "\\")),
                );
                in_install = line.ends_with('\\');
            }
        }
        installed.sort_unstable();
        assert_eq!(installed, super::all(), ".ci/run's apt-get install lines");
    }
}
