//! `cargo xtask vm-test [--only webcams,replug,decoder,systemd]`: camd against real kernel drivers, in
//! a Debian guest under qemu (docs/vm-test.md). These machines have no camera and no hardware
//! decoder, but Debian's kernel has vivid (virtual webcams), and visl (a virtual stateless
//! decoder, the kernel API of Rockchip, Allwinner, i.MX8M and Hantro decoders) builds out of
//! tree against it.
//!
//! 1. The guest image, cached outside the checkout by its key (`~/.cache/camd-xtask/vm`, at
//!    most 7 days, built under a temporary name): `mmdebstrap` of bookworm with systemd, the
//!    6.12 kernel of bookworm-security, camd's runtime GStreamer packages and v4l-utils; visl
//!    and the V4L2 helpers it needs built in it from its own linux-source against its own
//!    headers (`xtask/vm/build-visl.sh`); the unit that runs the checks (`xtask/vm/guest/`);
//!    an ext4 image of it, its kernel and initramfs.
//! 2. The payload, made fresh: the dist tarball of this checkout (`cargo xtask dist`), the fake
//!    RTSP cameras, `xtask/vm/checks.py`, as a second disk. Their release build happens in a
//!    target directory beside the image (`~/.cache/camd-xtask/vm-build`), so a fresh clone
//!    compiles only camd's own crates.
//! 3. qemu (TCG: the KVM here cannot boot Linux; `CAMD_VM_ACCEL=kvm` where it can), the root
//!    disk a snapshot, the serial console read line by line: each `camd-vm: ok|FAIL` line is
//!    a check, `camd-vm: done` the end. A failed check, a missing end, or a guest that runs
//!    past `GUEST_TIMEOUT` fails the step; the whole console is kept in target/vm/console.log.
//!
//! Needs root (mmdebstrap's root mode and chroot, as CI runs), qemu-system-x86 and e2fsprogs;
//! without them the step fails and says what to install, it does not skip.

use crate::packages;
use crate::process::{self, root, run, succeeds, target_dir};
use crate::sysroot::{self, SUITE};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The guest's packages. The kernel is bookworm-security's 6.12 series (visl needs 6.2 or
/// later, bookworm's own 6.1 has no visl); its headers, source, make and xz build visl in the
/// image. GStreamer: what camd runs on (base, good: v4l2src, rtspsrc, jpegenc; bad: h264parse,
/// v4l2codecs; libav: the software decoder) and the fake cameras' x264enc (ugly), timeoverlay
/// (x) and RTSP server library; tools for gst-inspect-1.0. python3 runs the checks.
const GUEST_PACKAGES: &[&str] = &[
    "systemd",
    "systemd-sysv",
    "udev",
    "kmod",
    "procps",
    "linux-image-6.12-amd64",
    "linux-headers-6.12-amd64",
    "linux-source-6.12",
    "make",
    "xz-utils",
    "v4l-utils",
    "python3",
    "gstreamer1.0-plugins-base",
    "gstreamer1.0-plugins-good",
    "gstreamer1.0-plugins-bad",
    "gstreamer1.0-plugins-ugly",
    "gstreamer1.0-libav",
    "gstreamer1.0-x",
    "gstreamer1.0-tools",
    "libgstrtspserver-1.0-0",
];

/// Before the kernel is installed: an initramfs with only what finds the root disk (virtio
/// and ext4), not `MODULES=most` (3 minutes of mkinitramfs, a 40 MB image).
const INITRAMFS_HOOK: &str = "mkdir -p \"$1/etc/initramfs-tools/conf.d\" \
    \"$1/usr/share/initramfs-tools/modules.d\" && echo MODULES=list > \
    \"$1/etc/initramfs-tools/conf.d/camd-vm.conf\" && printf 'virtio_pci\\nvirtio_blk\\next4\\n' \
    > \"$1/usr/share/initramfs-tools/modules.d/camd-vm\"";

/// Files of the repository installed into the image: (repository path, guest path, mode).
const GUEST_FILES: &[(&str, &str, u32)] = &[
    (
        "xtask/vm/guest/camd-vm-checks.service",
        "etc/systemd/system/camd-vm-checks.service",
        0o644,
    ),
    (
        "xtask/vm/guest/camd-vm-checks",
        "usr/local/sbin/camd-vm-checks",
        0o755,
    ),
];

const BUILD_VISL: &str = "xtask/vm/build-visl.sh";
const CHECKS: &str = "xtask/vm/checks.py";

/// Units that would only slow the boot or write to the console (under TCG each costs about a
/// second of the guest's two CPUs: without these the userspace boot took 7.5 s, not 10.2 s).
const MASKED: &[&str] = &[
    "serial-getty@ttyS0.service",
    "getty@tty1.service",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "e2scrub_all.timer",
    "fstrim.timer",
    "systemd-timesyncd.service",
    "systemd-random-seed.service",
    "systemd-binfmt.service",
    "proc-sys-fs-binfmt_misc.automount",
    "modprobe@drm.service",
    "modprobe@efi_pstore.service",
    "modprobe@fuse.service",
    "modprobe@loop.service",
    "modprobe@dm_mod.service",
    "modprobe@configfs.service",
    "sys-kernel-debug.mount",
    "sys-kernel-tracing.mount",
    "sys-kernel-config.mount",
    "sys-fs-fuse-connections.mount",
    "dev-hugepages.mount",
];

/// Run in the finished root: root's GStreamer plugin registry, scanned at native speed (1 s)
/// rather than in every boot under TCG (12-23 s), for the checks that run camd as root. The
/// `camd` user's registry (the unit's `/var/cache/camd`) is not made here: the systemd part
/// starts the unit as a board's first boot does, scan included.
const PRESCAN: &[&str] = &[
    "env",
    "-i",
    "HOME=/root",
    "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
    "gst-inspect-1.0",
    "--version",
];

/// The parts of checks.py, in its order.
const PARTS: &[&str] = &["webcams", "replug", "decoder", "systemd"];

const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// From qemu's start to the guest's `done` line (measured: docs/vm-test.md).
const GUEST_TIMEOUT: Duration = Duration::from_secs(12 * 60);

pub fn run_vm_test(only: Option<&str>) -> Result<(), String> {
    let parts = match only {
        None => PARTS.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        Some(list) => {
            let parts: Vec<String> = list.split(',').map(str::to_owned).collect();
            if let Some(bad) = parts.iter().find(|p| !PARTS.contains(&p.as_str())) {
                return Err(format!(
                    "vm-test: no part {bad:?} (parts: {})",
                    PARTS.join(", ")
                ));
            }
            parts
        }
    };
    preflight()?;
    let start = Instant::now();
    let image = prepare_image()?;
    let image_s = start.elapsed().as_secs_f64();
    let build = Instant::now();
    let (tarball, fake) = process::with_target_dir(&build_dir()?, || {
        process::build_daemon_release("fake_cameras")?;
        let tarball = crate::dist::build(None)?;
        Ok::<_, String>((tarball, target_dir().join("release/examples/fake_cameras")))
    })?;
    let payload = payload(&tarball, &fake, &parts)?;
    let build_s = build.elapsed().as_secs_f64();
    let guest = Instant::now();
    let mut outcome = boot(&image, &payload)?;
    if outcome.kernel_panic && !outcome.started {
        // Seen once (2026-12-02, 1 of that day's 6 boots): an int3 Oops in the kernel's text
        // patching at 2.4 s under multi-threaded TCG, before any userspace. Not camd's, and
        // nothing of camd ran: one more boot, said out loud, the first console kept.
        let kept = work_dir().join("console-panic.log");
        let _ = std::fs::copy(console_log(), &kept);
        eprintln!(
            "vm-test: the guest kernel panicked before the checks began (an emulator fault; \
             console kept in {}): booting once more",
            kept.display()
        );
        outcome = boot(&image, &payload)?;
    }
    eprintln!(
        "vm-test: image {image_s:.0} s, build {build_s:.0} s, guest {:.0} s; {} checks ok, {} \
         failed (console: {})",
        guest.elapsed().as_secs_f64(),
        outcome.ok,
        outcome.failed.len(),
        console_log().display()
    );
    if !outcome.failed.is_empty() {
        return Err(format!(
            "vm-test: {} check(s) failed in the guest:\n  {}",
            outcome.failed.len(),
            outcome.failed.join("\n  ")
        ));
    }
    if !outcome.done {
        return Err(format!(
            "vm-test: the guest ended before its checks did (see {})",
            console_log().display()
        ));
    }
    if outcome.ok == 0 {
        return Err("vm-test: the guest ran no check".into());
    }
    Ok(())
}

fn preflight() -> Result<(), String> {
    if !packages::is_root() {
        return Err(
            "vm-test makes the guest's root with mmdebstrap and chroot, which need root (CI \
             runs as root): run `sudo -E cargo xtask vm-test`"
                .into(),
        );
    }
    for (tool, package) in [
        ("qemu-system-x86_64", "qemu-system-x86"),
        ("mkfs.ext4", "e2fsprogs"),
        ("mmdebstrap", "mmdebstrap"),
    ] {
        if !succeeds(Command::new("sh").args(["-c", &format!("command -v {tool}")])) {
            return Err(format!(
                "vm-test needs {tool}: `apt-get install {package}` (.ci/run installs it)"
            ));
        }
    }
    Ok(())
}

/// The guest's files: kernel, initramfs, root disk.
struct Image {
    kernel: PathBuf,
    initrd: PathBuf,
    disk: PathBuf,
}

fn cache_dir() -> PathBuf {
    process::cache_dir("vm")
}

/// Where the release build for the guest happens: outside the checkout, beside the image, so
/// a fresh clone compiles only camd's own crates (measured: docs/vm-test.md). Cargo keeps it
/// correct (the workspace crates' artefacts are named by their path inside the workspace, so
/// every clone reuses the same files); it is emptied when the compiler or Cargo.lock change,
/// so it does not grow with every dependency update.
fn build_dir() -> Result<PathBuf, String> {
    let dir = process::cache_dir("vm-build");
    let stamp = process::cache_dir("vm-build.key");
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-vV")
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let key = format!(
        "{}\n--- Cargo.lock\n{lock}",
        String::from_utf8_lossy(&rustc.stdout)
    );
    if std::fs::read_to_string(&stamp).is_ok_and(|k| k == key) && dir.is_dir() {
        eprintln!(
            "vm-test: release build in {} (same compiler and Cargo.lock)",
            dir.display()
        );
        return Ok(dir);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(&stamp, key).map_err(|e| format!("{}: {e}", stamp.display()))?;
    eprintln!(
        "vm-test: release build in {} (new: compiled from nothing)",
        dir.display()
    );
    Ok(dir)
}

fn prepare_image() -> Result<Image, String> {
    let sources = sysroot::sources()?;
    let sources_text = std::fs::read_to_string(&sources)
        .map_err(|e| format!("cannot read {}: {e}", sources.display()))?;
    let mut key = format!(
        "suite={SUITE}\npackages={}\ninitramfs={INITRAMFS_HOOK}\nmasked={}\nprescan={}\nsources:\n{sources_text}",
        GUEST_PACKAGES.join(","),
        MASKED.join(","),
        PRESCAN.join(" ")
    );
    for file in GUEST_FILES
        .iter()
        .map(|(from, _, _)| *from)
        .chain([BUILD_VISL])
    {
        let text = std::fs::read_to_string(root().join(file))
            .map_err(|e| format!("cannot read {file}: {e}"))?;
        key.push_str(&format!("\n--- {file}\n{text}"));
    }
    let dir = cache_dir();
    let done = dir.join("image");
    let stamp = dir.join("image.key");
    let image = Image {
        kernel: done.join("vmlinuz"),
        initrd: done.join("initrd.img"),
        disk: done.join("root.img"),
    };
    let complete = [&image.kernel, &image.initrd, &image.disk]
        .iter()
        .all(|p| p.is_file());
    if let Some(age) = process::fresh_cache(&stamp, &key, MAX_AGE).filter(|_| complete) {
        eprintln!(
            "vm-test: guest image {} (cached {} h ago; same packages, sources and files)",
            done.display(),
            age.as_secs() / 3600
        );
        return Ok(image);
    }
    let root_dir = dir.join("root.partial");
    let partial = dir.join("image.partial");
    for d in [&root_dir, &partial, &done] {
        if d.exists() {
            std::fs::remove_dir_all(d)
                .map_err(|e| format!("cannot remove {}: {e}", d.display()))?;
        }
    }
    let _ = std::fs::remove_file(&stamp);
    let log = dir.join("image.log");
    eprintln!(
        "vm-test: making the guest image in {} (Debian {SUITE}, {} packages; log: {})",
        dir.display(),
        GUEST_PACKAGES.len(),
        log.display()
    );
    let hook = format!("--essential-hook={INITRAMFS_HOOK}");
    sysroot::mmdebstrap(
        &["--variant=apt", "--mode=root", &hook],
        GUEST_PACKAGES,
        &root_dir,
        &sources,
        &log,
    )
    .map_err(|e| {
        format!(
            "the guest root could not be made: {e}\n(the kernel comes from bookworm-security: the \
             apt sources ({}) must name it)",
            sources.display()
        )
    })?;
    customize(&root_dir, &log)?;
    std::fs::create_dir_all(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
    let boot = root_dir.join("boot");
    for (prefix, to) in [("vmlinuz-", "vmlinuz"), ("initrd.img-", "initrd.img")] {
        let from = only_file(&boot, prefix)?;
        std::fs::copy(&from, partial.join(to))
            .map_err(|e| format!("{} -> {to}: {e}", from.display()))?;
    }
    let disk = partial.join("root.img");
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-L", "camd-vm", "-d"])
        .arg(&root_dir)
        .arg(&disk)
        .arg("3G"))?;
    std::fs::remove_dir_all(&root_dir)
        .map_err(|e| format!("cannot remove {}: {e}", root_dir.display()))?;
    std::fs::rename(&partial, &done).map_err(|e| format!("{}: {e}", done.display()))?;
    std::fs::write(&stamp, &key).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(image)
}

/// visl built in the root, the check unit installed and enabled, what slows the boot masked.
fn customize(root_dir: &Path, log: &Path) -> Result<(), String> {
    let chroot = |args: &[&str]| -> Result<String, String> {
        let out = Command::new("chroot")
            .arg(root_dir)
            .args(args)
            .output()
            .map_err(|e| format!("cannot chroot into {}: {e}", root_dir.display()))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let _ = writeln!(
            file,
            "$ chroot {} {}\n{text}",
            root_dir.display(),
            args.join(" ")
        );
        if out.status.success() {
            Ok(text)
        } else {
            Err(format!(
                "`{}` in the guest root failed: {text}",
                args.join(" ")
            ))
        }
    };
    let script = root_dir.join("tmp/build-visl.sh");
    std::fs::copy(root().join(BUILD_VISL), &script).map_err(|e| format!("{BUILD_VISL}: {e}"))?;
    let built = chroot(&["/bin/sh", "/tmp/build-visl.sh"])?;
    eprintln!("vm-test: {}", built.lines().last().unwrap_or("visl built"));
    for (from, to, mode) in GUEST_FILES {
        let dest = root_dir.join(to);
        std::fs::copy(root().join(from), &dest).map_err(|e| format!("{from}: {e}"))?;
        std::fs::set_permissions(&dest, std::os::unix::fs::PermissionsExt::from_mode(*mode))
            .map_err(|e| format!("{}: {e}", dest.display()))?;
    }
    chroot(&["systemctl", "enable", "camd-vm-checks.service"])?;
    let mut mask = vec!["systemctl", "mask"];
    mask.extend(MASKED);
    chroot(&mask)?;
    std::fs::write(root_dir.join("etc/hostname"), "camd-vm\n").map_err(|e| e.to_string())?;
    chroot(PRESCAN)?;
    // The source tarball (150 MB) was only for visl.
    for tarball in std::fs::read_dir(root_dir.join("usr/src"))
        .map_err(|e| e.to_string())?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tar.xz"))
    {
        std::fs::remove_file(tarball.path()).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The one file in `dir` whose name starts with `prefix`.
fn only_file(dir: &Path, prefix: &str) -> Result<PathBuf, String> {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!(
            "{}: expected one {prefix}* file, found {}",
            dir.display(),
            found.len()
        )),
    }
}

fn work_dir() -> PathBuf {
    target_dir().join("vm")
}

fn console_log() -> PathBuf {
    work_dir().join("console.log")
}

/// The second disk: the tarball, the fake cameras, the checks and the parts to run.
fn payload(tarball: &Path, fake: &Path, parts: &[String]) -> Result<PathBuf, String> {
    let dir = work_dir().join("payload");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for from in [tarball, fake, &root().join(CHECKS)] {
        let name = from.file_name().expect("a file name");
        std::fs::copy(from, dir.join(name)).map_err(|e| format!("{}: {e}", from.display()))?;
    }
    std::fs::write(dir.join("only"), parts.join(",")).map_err(|e| e.to_string())?;
    let disk = work_dir().join("payload.img");
    let _ = std::fs::remove_file(&disk);
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-L", "payload", "-d"])
        .arg(&dir)
        .arg(&disk)
        .arg("64M"))?;
    Ok(disk)
}

#[derive(Debug, Default, PartialEq)]
struct Outcome {
    ok: usize,
    failed: Vec<String>,
    done: bool,
    /// The checks' script said anything (`camd-vm: start: ...`): the guest's userspace ran.
    started: bool,
    /// The guest kernel panicked (`Kernel panic - not syncing`).
    kernel_panic: bool,
}

impl Outcome {
    /// Takes one console line into account.
    fn read(&mut self, line: &str) {
        if line.contains("Kernel panic - not syncing") {
            self.kernel_panic = true;
        }
        let Some(rest) = line.strip_prefix("camd-vm: ") else {
            return;
        };
        self.started = true;
        if rest.starts_with("ok ") {
            self.ok += 1;
        } else if let Some(failed) = rest.strip_prefix("FAIL ") {
            self.failed.push(failed.to_owned());
        } else if rest.starts_with("done ") {
            self.done = true;
        }
    }
}

fn boot(image: &Image, payload: &Path) -> Result<Outcome, String> {
    let accel = std::env::var("CAMD_VM_ACCEL").unwrap_or_else(|_| "tcg,thread=multi".into());
    let log_path = console_log();
    let mut console =
        std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut child = Command::new("qemu-system-x86_64")
        .args(["-accel", &accel, "-m", "1536", "-smp", "2"])
        .args(["-display", "none", "-serial", "stdio", "-monitor", "none"])
        .arg("-no-reboot")
        .arg("-kernel")
        .arg(&image.kernel)
        .arg("-initrd")
        .arg(&image.initrd)
        .arg("-drive")
        .arg(format!(
            "file={},format=raw,if=virtio,snapshot=on",
            image.disk.display()
        ))
        .arg("-drive")
        .arg(format!(
            "file={},format=raw,if=virtio,readonly=on",
            payload.display()
        ))
        .args([
            "-append",
            "root=/dev/vda rw console=ttyS0 quiet loglevel=3 systemd.show_status=false panic=-1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start qemu-system-x86_64: {e}"))?;
    eprintln!(
        "vm-test: guest booting (qemu -accel {accel}; console: {})",
        log_path.display()
    );
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let (tx, lines) = std::sync::mpsc::channel::<String>();
    let err_tx = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = err_tx.send(format!("qemu: {line}"));
        }
    });
    let booted = Instant::now();
    let deadline = booted + GUEST_TIMEOUT;
    let mut outcome = Outcome::default();
    let mut timed_out = false;
    loop {
        match lines.recv_timeout(Duration::from_millis(500)) {
            Ok(line) => {
                // Seconds since qemu started, so the log says where the guest's time goes.
                let at = booted.elapsed().as_secs_f64();
                let _ = writeln!(console, "{at:6.1} {line}");
                if line.starts_with("camd-vm: ")
                    || line.starts_with("  ")
                    || line.starts_with("qemu: ")
                {
                    eprintln!("{at:6.1} {line}");
                }
                outcome.read(&line);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        if Instant::now() > deadline {
            timed_out = true;
            let _ = child.kill();
            break;
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if timed_out {
        return Err(format!(
            "vm-test: the guest was still running after {GUEST_TIMEOUT:?}: killed (console: {})",
            log_path.display()
        ));
    }
    if !status.success() {
        return Err(format!(
            "vm-test: qemu exited with {status} (console: {})",
            log_path.display()
        ));
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_lines_make_the_outcome() {
        let mut o = Outcome::default();
        for line in [
            "[    1.0] kernel says something",
            "camd-vm: start: 6.12.117+deb12-amd64, 2 cpus",
            "camd-vm: ok webcam by index is ok (14.7 s): fine",
            "  camd: camd-vm: ok a log line that quotes a check is not one",
            "camd-vm: FAIL replug brings it back: /dev/video0 back: not within 20 s",
            "camd-vm: ok camd probe lists the webcams (1.3 s): vivid",
        ] {
            o.read(line);
        }
        assert_eq!(o.ok, 2);
        assert_eq!(
            o.failed,
            ["replug brings it back: /dev/video0 back: not within 20 s"]
        );
        assert!(!o.done);
        o.read("camd-vm: done 2 ok, 1 failed");
        assert!(o.done);
        assert!(o.started && !o.kernel_panic);

        // A kernel that panics before the script starts (the only case booted again).
        let mut early = Outcome::default();
        for line in [
            "[    2.43] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI",
            "[    2.44] Kernel panic - not syncing: Fatal exception in interrupt",
        ] {
            early.read(line);
        }
        assert!(early.kernel_panic && !early.started && early.ok == 0);
    }

    #[test]
    fn every_part_is_one_of_checks_py() {
        let text = std::fs::read_to_string(root().join(CHECKS)).unwrap();
        for part in PARTS {
            assert!(
                text.contains(&format!("(\"{part}\", ")),
                "{part} not in {CHECKS}"
            );
        }
    }
}
