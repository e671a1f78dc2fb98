//! `cargo xtask pristine`: proof that the package list is complete, on a system that has
//! nothing else. A minimal Debian root (`mmdebstrap --variant=apt`: Essential and apt, no
//! Recommends) holding exactly the packages of `packages.rs` (the ones `.ci/run` installs),
//! and inside it (chroot):
//! - `gst-inspect-1.0` finds every software element of the GStreamer inventory, and `dpkg -S`
//!   says the package the inventory names is the one that ships it;
//! - every tool and library the suite runs or builds against is there.
//!
//! A package missing from the list fails the step with the element (or tool) and the package
//! named. The root (2.3 GiB) is cached outside the checkout (`~/.cache/camd-xtask/pristine`)
//! by its key (suite, the package list, the apt sources) for at most 7 days, and built under a
//! temporary name, so an interrupted build is never taken for a complete one. Needs root
//! (chroot), as CI runs. Cost: docs/packages.md.

use crate::gst_inventory::{self, INVENTORY};
use crate::packages;
use crate::process::succeeds;
use crate::sysroot::{self, SUITE};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// What the suite needs besides GStreamer's elements, as a shell test run in the root, and the
/// package that provides it.
const TOOLS: &[(&str, &str)] = &[
    ("command -v cc && command -v c++", "build-essential"),
    (
        "pkg-config --exists gstreamer-1.0 gstreamer-app-1.0",
        "libgstreamer-plugins-base1.0-dev",
    ),
    (
        "pkg-config --exists gstreamer-rtsp-server-1.0",
        "libgstrtspserver-1.0-dev",
    ),
    ("ls /usr/lib/llvm-*/lib/libclang.so", "libclang-dev"),
    ("command -v gst-launch-1.0", "gstreamer1.0-tools"),
    ("/usr/bin/python3 -m venv --help", "python3-venv"),
    ("ls /usr/share/python-wheels/wheel-*.whl", "python3-wheel-whl"),
    ("/usr/bin/python3 -c 'import numpy'", "python3-numpy"),
    // ring/python/dist_info.py (the tarball's install metadata) reads pyproject.toml with it:
    // Python 3.11 or later.
    ("python3 -c 'import tomllib'", "python3"),
    // status_command's second-user test runs camd through it.
    ("command -v setpriv", "util-linux"),
    ("command -v ip", "iproute2"),
    ("command -v systemd-analyze", "systemd"),
    ("command -v git", "git"),
    ("command -v aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
    (
        "command -v arm-linux-gnueabihf-gcc",
        "gcc-arm-linux-gnueabihf",
    ),
    ("command -v qemu-aarch64-static", "qemu-user-static"),
    ("command -v mmdebstrap", "mmdebstrap"),
    ("command -v qemu-system-x86_64", "qemu-system-x86"),
    ("command -v mkfs.ext4", "e2fsprogs"),
    ("command -v openssl", "openssl"),
    ("perl -MRTSP::Server -e 1", "rtsp-server-perl"),
    (
        "ffmpeg -hide_banner -h encoder=libx264 | grep -q libx264 && ffmpeg -hide_banner -h encoder=mjpeg | grep -q mjpeg",
        "ffmpeg",
    ),
];

pub fn main() -> Result<(), String> {
    if !packages::is_root() {
        return Err(
            "the pristine root is made and entered with chroot, which needs root (CI runs as \
             root): run `sudo -E cargo xtask pristine`"
                .into(),
        );
    }
    let root = prepare()?;
    let found = inspect(&root)?;
    let owners = owners(&root, found.values())?;
    let listed = packages::all();
    let mut problems = Vec::new();
    let mut checked = 0;
    for e in gst_inventory::software(false) {
        let package = e.package().expect("software");
        let listed_note = if listed.contains(&package) {
            "in the list"
        } else {
            "NOT in the list"
        };
        match found.get(e.name) {
            None => problems.push(format!(
                "GStreamer element {} is not in a root holding only the listed packages; the \
                 inventory says Debian package {package} ships it ({listed_note})",
                e.name
            )),
            Some(file) => match owners.get(file) {
                Some(owner) if owner == package => checked += 1,
                Some(owner) => problems.push(format!(
                    "GStreamer element {} comes from {owner} ({file}), but the inventory says \
                     {package}",
                    e.name
                )),
                None => problems.push(format!(
                    "GStreamer element {}: no package owns {file}",
                    e.name
                )),
            },
        }
    }
    for (test, package) in TOOLS {
        if !chroot_sh(&root, &format!("{test} >/dev/null 2>&1")) {
            problems.push(format!(
                "`{test}` fails in a root holding only the listed packages (it needs {package}, \
                 which is {} the list)",
                if listed.contains(package) {
                    "in"
                } else {
                    "NOT in"
                }
            ));
        }
    }
    if !problems.is_empty() {
        return Err(format!(
            "the package list (xtask/src/packages.rs, .ci/run) is not enough on a pristine \
             Debian {SUITE}:\n  {}",
            problems.join("\n  ")
        ));
    }
    let hardware = INVENTORY.len() - gst_inventory::software(false).count();
    eprintln!(
        "pristine: {} packages; all {checked} software GStreamer elements found and shipped by \
         the packages the inventory names ({hardware} hardware elements not looked for); all \
         {} tools there",
        listed.len(),
        TOOLS.len()
    );
    Ok(())
}

/// How long a cached root is trusted: Debian's archive moves (point releases, packages split
/// or renamed), and a root that old no longer says what a new machine would get.
const MAX_AGE: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

fn cache_dir() -> std::path::PathBuf {
    crate::process::cache_dir("pristine")
}

/// The root, made if missing or stale.
fn prepare() -> Result<std::path::PathBuf, String> {
    let sources = sysroot::sources()?;
    let sources_text = std::fs::read_to_string(&sources)
        .map_err(|e| format!("cannot read {}: {e}", sources.display()))?;
    let listed = packages::all();
    let key = format!(
        "suite={SUITE}\nvariant=apt\npackages={}\nsources:\n{sources_text}",
        listed.join(",")
    );
    let dir = cache_dir();
    let root = dir.join("root");
    let stamp = dir.join("root.key");
    if let Some(age) = crate::process::fresh_cache(&stamp, &key, MAX_AGE).filter(|_| root.is_dir())
    {
        eprintln!(
            "pristine: {} (cached {} h ago; same packages and sources)",
            root.display(),
            age.as_secs() / 3600
        );
        return Ok(root);
    }
    if !succeeds(Command::new("mmdebstrap").arg("--version")) {
        return Err(
            "mmdebstrap is needed to make the pristine root: `apt-get install mmdebstrap` \
             (.ci/run installs it)"
                .into(),
        );
    }
    let partial = dir.join("root.partial");
    for d in [&root, &partial] {
        if d.exists() {
            std::fs::remove_dir_all(d)
                .map_err(|e| format!("cannot remove {}: {e}", d.display()))?;
        }
    }
    let _ = std::fs::remove_file(&stamp);
    let log = dir.join("root.log");
    eprintln!(
        "pristine: Debian {SUITE} with only the {} listed packages into {} (log: {})",
        listed.len(),
        root.display(),
        log.display()
    );
    sysroot::mmdebstrap(
        &["--variant=apt", "--mode=root"],
        &listed,
        &partial,
        &sources,
        &log,
    )
    .map_err(|e| format!("the pristine root could not be made: {e}"))?;
    std::fs::rename(&partial, &root).map_err(|e| format!("{}: {e}", root.display()))?;
    std::fs::write(&stamp, &key).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(root)
}

/// Inside the root: each software element's plugin file, for those gst-inspect-1.0 finds.
fn inspect(root: &Path) -> Result<BTreeMap<&'static str, String>, String> {
    let names: Vec<&str> = gst_inventory::software(false).map(|e| e.name).collect();
    let script =
        "export HOME=/tmp GST_REGISTRY=/tmp/camd-pristine-registry.bin GST_REGISTRY_FORK=no
        for e in \"$@\"; do
            f=$(gst-inspect-1.0 \"$e\" 2>/dev/null | sed -n 's/^ *Filename *//p' | head -n 1)
            echo \"$e ${f:--}\"
        done";
    let out = Command::new("chroot")
        .arg(root)
        .args(["/bin/sh", "-c", script, "sh"])
        .args(&names)
        .output()
        .map_err(|e| format!("cannot chroot into {}: {e}", root.display()))?;
    if !out.status.success() {
        return Err(format!(
            "gst-inspect-1.0 in {} failed ({}): {}",
            root.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut files = BTreeMap::new();
    for line in text.lines() {
        let Some((name, file)) = line.split_once(' ') else {
            continue;
        };
        if let Some(name) = names.iter().find(|n| **n == name) {
            if file != "-" {
                files.insert(*name, file.to_owned());
            }
        }
    }
    Ok(files)
}

/// `dpkg -S` in the root: which package owns each file.
fn owners<'a>(
    root: &Path,
    files: impl Iterator<Item = &'a String>,
) -> Result<BTreeMap<String, String>, String> {
    let mut files: Vec<&String> = files.collect();
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Ok(BTreeMap::new());
    }
    // Merged /usr: GStreamer may find a plugin through the /lib symlink while dpkg knows the
    // file by its /usr path; ask for both, and file each answer under the name asked about.
    let usr = |file: &str| match file.strip_prefix("/lib/") {
        Some(rest) => format!("/usr/lib/{rest}"),
        None => file.to_owned(),
    };
    let out = Command::new("chroot")
        .arg(root)
        .args(["dpkg", "-S"])
        .args(&files)
        .args(files.iter().map(|f| usr(f)))
        .output()
        .map_err(|e| format!("cannot chroot into {}: {e}", root.display()))?;
    // `gstreamer1.0-x:amd64: /usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstpango.so`
    let by_path: BTreeMap<String, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (package, file) = line.split_once(": ")?;
            let package = package.split(':').next()?;
            Some((file.trim().to_owned(), package.to_owned()))
        })
        .collect();
    Ok(files
        .iter()
        .filter_map(|f| {
            let owner = by_path.get(f.as_str()).or_else(|| by_path.get(&usr(f)))?;
            Some(((*f).clone(), owner.clone()))
        })
        .collect())
}

fn chroot_sh(root: &Path, script: &str) -> bool {
    succeeds(
        Command::new("chroot")
            .arg(root)
            .args(["/bin/sh", "-c", script]),
    )
}
