//! A Debian sysroot for a cross target: the target's C library, kernel headers, GStreamer (for
//! linking camd-worker and for running it under qemu) and Python (for the ring's Python tests
//! under qemu), extracted from Debian's packages for that architecture by `mmdebstrap
//! --variant=extract` with its own private apt state. Nothing is installed into the host: no
//! `dpkg --add-architecture`, no foreign packages in the host's dpkg database.
//!
//! Cached in `<target dir>/cross/sysroot-<arch>`, re-used while its key (architecture, suite,
//! package list, apt sources) is unchanged; built under a temporary name and renamed, so an
//! interrupted build is never taken for a complete one.

use crate::cross::Target;
use crate::process::{run, succeeds, target_dir};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's release whose packages fill the sysroot: GStreamer 1.22, as on Yocto scarthgap.
pub const SUITE: &str = "bookworm";

/// The packages (their dependencies come along). libc6-dev brings linux-libc-dev, the kernel
/// headers bindgen needs for the V4L2 bindings.
pub const PACKAGES: &[&str] = &[
    "libc6-dev",
    "libgstreamer1.0-dev",
    "libgstreamer-plugins-base1.0-dev",
    // videotestsrc, videoconvert, videoscale, videorate, appsink; jpegenc: the smoke test.
    "gstreamer1.0-plugins-base",
    "gstreamer1.0-plugins-good",
    // The ring's Python binding tests (ctypes is in the stdlib package; numpy for raw pixels as
    // arrays: ring/python/tests, ring/tests/numpy_view.py).
    "python3-minimal",
    "libpython3.11-stdlib",
    "python3-numpy",
];

/// Links that packages make in their maintainer scripts with `update-alternatives`, which an
/// extracting mmdebstrap does not run, made here in `usr/lib/<multiarch>/`: numpy's extension
/// modules need `libblas.so.3` and `liblapack.so.3` (libblas3's and liblapack3's postinst point
/// them at the reference implementations, as on an installed system).
const ALTERNATIVES: &[(&str, &str)] = &[
    ("libblas.so.3", "blas/libblas.so.3"),
    ("liblapack.so.3", "lapack/liblapack.so.3"),
];

/// Where apt finds Debian's packages: `CAMD_SYSROOT_SOURCES` (a `.sources` or `.list` file),
/// else the host's own Debian sources.
pub fn sources() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("CAMD_SYSROOT_SOURCES") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "CAMD_SYSROOT_SOURCES={} is not a file (it names an apt sources file with {SUITE})",
                path.display()
            ))
        };
    }
    let candidates = apt_source_files(Path::new("/etc/apt"));
    candidates
        .iter()
        .find(|p| std::fs::read_to_string(p).is_ok_and(|text| text.contains(SUITE)))
        .cloned()
        .ok_or_else(|| {
            format!(
                "no apt sources for Debian {SUITE} on this host (looked at {}): set \
                 CAMD_SYSROOT_SOURCES to a sources file naming Debian {SUITE} (main)",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// The sysroot for `target`, prepared if missing or stale.
pub fn prepare(target: &Target) -> Result<PathBuf, String> {
    let arch = target.debian_arch;
    let sources = sources()?;
    let sources_text = std::fs::read_to_string(&sources)
        .map_err(|e| format!("cannot read {}: {e}", sources.display()))?;
    let alternatives: Vec<String> = ALTERNATIVES
        .iter()
        .map(|(link, to)| format!("{link}->{to}"))
        .collect();
    let key = format!(
        "arch={arch}\nsuite={SUITE}\npackages={}\nalternatives={}\nsources:\n{sources_text}",
        PACKAGES.join(","),
        alternatives.join(",")
    );
    let cross = target_dir().join("cross");
    let dir = cross.join(format!("sysroot-{arch}"));
    let stamp = dir.join(".camd-sysroot");
    if std::fs::read_to_string(&stamp).is_ok_and(|k| k == key) {
        eprintln!("sysroot: {} (cached; same packages)", dir.display());
        return Ok(dir);
    }
    if !succeeds(Command::new("mmdebstrap").arg("--version")) {
        return Err(format!(
            "mmdebstrap is needed to prepare the {arch} sysroot: `apt-get install mmdebstrap` \
             (.ci/run installs it)"
        ));
    }
    let partial = cross.join(format!("sysroot-{arch}.partial"));
    for d in [&dir, &partial] {
        if d.exists() {
            std::fs::remove_dir_all(d)
                .map_err(|e| format!("cannot remove {}: {e}", d.display()))?;
        }
    }
    let log = cross.join(format!("sysroot-{arch}.log"));
    eprintln!(
        "sysroot: extracting Debian {SUITE} {arch} packages into {} (log: {})",
        dir.display(),
        log.display()
    );
    let extract = ["--variant=extract", "--architectures", arch];
    if let Err(e) = mmdebstrap(&extract, PACKAGES, &partial, &sources, &log) {
        return Err(format!(
            "the {arch} sysroot could not be prepared from {}: {e}. When one of the package \
             indexes fails to download (a mirror caught mid-sync; armhf's bookworm-security \
             index has been seen so), try again later, or set CAMD_SYSROOT_SOURCES to a \
             sources file without that suite.",
            sources.display(),
        ));
    }
    relativize_symlinks(&partial, &partial)?;
    link_alternatives(&partial, target.gnu)?;
    std::fs::write(partial.join(".camd-sysroot"), &key).map_err(|e| e.to_string())?;
    std::fs::rename(&partial, &dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// apt's source files, in the order apt reads them: `sources.list`, then `sources.list.d/*.list`
/// and `*.sources` by name (a cloud image has `debian.sources`, mmdebstrap writes
/// `0000debian.sources`, an installer `sources.list`).
fn apt_source_files(etc_apt: &Path) -> Vec<PathBuf> {
    let mut files = vec![etc_apt.join("sources.list")];
    let mut parts: Vec<PathBuf> = std::fs::read_dir(etc_apt.join("sources.list.d"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "list" || e == "sources"))
        .collect();
    parts.sort();
    files.extend(parts);
    files
}

/// `mmdebstrap OPTIONS --include PACKAGES SUITE TARGET SOURCES`, its output in `log`; on failure
/// the error has the log's error lines and names the log.
pub fn mmdebstrap(
    options: &[&str],
    packages: &[&str],
    target: &Path,
    sources: &Path,
    log: &Path,
) -> Result<(), String> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let log_file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let result = run(Command::new("mmdebstrap")
        .args(options)
        .arg("--include")
        .arg(packages.join(","))
        .arg(SUITE)
        .arg(target)
        .arg(sources)
        .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
        .stderr(log_file));
    result.map_err(|e| {
        let errors: String = std::fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .filter(|l| {
                l.starts_with("E:")
                    || l.starts_with("Err:")
                    || l.contains("unexpected size")
                    || l.contains("Unable to locate package")
            })
            .map(|l| format!("\n  {l}"))
            .collect();
        format!("{e}{errors}\n(full log: {})", log.display())
    })
}

/// Debian's packages hold absolute symlinks (`libz.so -> /lib/<triple>/libz.so.1...`): inside a
/// sysroot they would point into the host. Rewritten relative, they stay inside.
fn relativize_symlinks(root: &Path, dir: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| e.to_string())?;
        if kind.is_dir() {
            relativize_symlinks(root, &path)?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&path).map_err(|e| e.to_string())?;
            let Ok(inside) = target.strip_prefix("/") else {
                continue;
            };
            let depth = path
                .parent()
                .and_then(|p| p.strip_prefix(root).ok())
                .map_or(0, |p| p.components().count());
            let relative = "../".repeat(depth) + &inside.to_string_lossy();
            std::fs::remove_file(&path).map_err(|e| e.to_string())?;
            std::os::unix::fs::symlink(&relative, &path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// `ALTERNATIVES`' links in `root`'s `usr/lib/<gnu>/`, each to a file that must be there.
fn link_alternatives(root: &Path, gnu: &str) -> Result<(), String> {
    let libdir = root.join("usr/lib").join(gnu);
    for (link, to) in ALTERNATIVES {
        let path = libdir.join(link);
        if !libdir.join(to).is_file() {
            return Err(format!(
                "{}: the sysroot has no {to} for the link {link}",
                libdir.display()
            ));
        }
        if path.symlink_metadata().is_ok() {
            std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        std::os::unix::fs::symlink(to, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_alternatives_links_lead_to_the_libraries() {
        let root = std::env::temp_dir().join(format!("camd-alternatives-{}", std::process::id()));
        let libdir = root.join("usr/lib/aarch64-linux-gnu");
        for (_, to) in super::ALTERNATIVES {
            let file = libdir.join(to);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, to).unwrap();
        }
        super::link_alternatives(&root, "aarch64-linux-gnu").unwrap();
        for (link, to) in super::ALTERNATIVES {
            assert_eq!(std::fs::read_to_string(libdir.join(link)).unwrap(), *to);
        }
        std::fs::remove_file(libdir.join("blas/libblas.so.3")).unwrap();
        let error = super::link_alternatives(&root, "aarch64-linux-gnu").unwrap_err();
        assert!(error.contains("no blas/libblas.so.3"), "{error}");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn every_apt_source_file_is_a_candidate() {
        let dir = std::env::temp_dir().join(format!("camd-apt-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sources.list.d")).unwrap();
        for name in ["0000debian.sources", "extra.list", "notes.txt"] {
            std::fs::write(dir.join("sources.list.d").join(name), "").unwrap();
        }
        let files = super::apt_source_files(&dir);
        let names: Vec<String> = files
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "sources.list",
                "sources.list.d/0000debian.sources",
                "sources.list.d/extra.list"
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
