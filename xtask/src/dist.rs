//! `cargo xtask dist [--target T]`: a tarball under `<target dir>/dist/` laid out as an install
//! prefix (`tar -C / -xf` installs it): the stripped release executables, the reader library
//! (shared and static) with its header, pkg-config file and Python binding (with a link to the
//! library beside it, which it loads first), the systemd unit and the default config. T is the
//! host's triple (the default) or a cross target (cross.rs). It prints every file's size and
//! the tarball's.

use crate::cross::{self, Cross};
use crate::process::{cargo, root, run, target_dir};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where a file of the tarball comes from.
enum From {
    /// A release output of the target (`target/<triple>/release/NAME`).
    Built(&'static str),
    /// A file of the repository.
    Repo(&'static str),
    /// The `.py` files of a directory of the repository.
    RepoPython(&'static str),
    /// `ring/camd-ring.pc.in` rendered for the /usr prefix.
    PkgConfig,
    /// A symbolic link, relative, to another file of the tarball (its path there).
    Link(&'static str),
    /// The Python package's install metadata (`NAME-VERSION.dist-info`), written into the
    /// directory `to` by `ring/python/dist_info.py` from pyproject.toml, as the Yocto recipe
    /// does: after the package's entries, whose files its RECORD lists.
    DistInfo,
}

#[derive(Clone, Copy, PartialEq)]
enum Strip {
    No,
    /// Executables: symbols and debug info.
    All,
    /// The shared library: what dynamic linking does not need (its exported symbols stay).
    Unneeded,
    /// The static library: debug info only (its symbols are what a link needs).
    Debug,
}

struct Entry {
    from: From,
    /// Path in the tarball (a file, or for `RepoPython` a directory).
    to: &'static str,
    mode: u32,
    strip: Strip,
}

/// Everything the tarball holds: the one list to change.
#[rustfmt::skip]
const FILES: &[Entry] = &[
    Entry { from: From::Built("camd"), to: "usr/bin/camd", mode: 0o755, strip: Strip::All },
    // Beside camd: the supervisor starts `<dir of camd>/camd-worker`.
    Entry { from: From::Built("camd-worker"), to: "usr/bin/camd-worker", mode: 0o755, strip: Strip::All },
    Entry { from: From::Built("libcamd_ring.so"), to: "usr/lib/libcamd_ring.so", mode: 0o644, strip: Strip::Unneeded },
    Entry { from: From::Built("libcamd_ring.a"), to: "usr/lib/libcamd_ring.a", mode: 0o644, strip: Strip::Debug },
    Entry { from: From::Repo("ring/include/camd_ring.h"), to: "usr/include/camd_ring.h", mode: 0o644, strip: Strip::No },
    Entry { from: From::PkgConfig, to: "usr/lib/pkgconfig/camd-ring.pc", mode: 0o644, strip: Strip::No },
    Entry { from: From::RepoPython("ring/python/camd_ring"), to: "usr/lib/python3/dist-packages/camd_ring", mode: 0o644, strip: Strip::No },
    // The binding loads the libcamd_ring.so beside it first (as the Yocto package has it): the
    // unpacked tree needs no ldconfig, and works wherever it is unpacked.
    Entry { from: From::Link("usr/lib/libcamd_ring.so"), to: "usr/lib/python3/dist-packages/camd_ring/libcamd_ring.so", mode: 0o777, strip: Strip::No },
    // So importlib.metadata, `pip show` and `pip list` know camd-ring as pip would have it.
    // (Its mode is dist_info.py's, 0644: `mode` here is not used.)
    Entry { from: From::DistInfo, to: "usr/lib/python3/dist-packages", mode: 0o644, strip: Strip::No },
    Entry { from: From::Repo("systemd/camd.service"), to: "usr/lib/systemd/system/camd.service", mode: 0o644, strip: Strip::No },
    Entry { from: From::Repo("systemd/camd.toml"), to: "etc/camd/camd.toml", mode: 0o644, strip: Strip::No },
    // The camd user and the camd-readers group the unit runs with (systemd-sysusers).
    Entry { from: From::Repo("systemd/camd.sysusers"), to: "usr/lib/sysusers.d/camd.conf", mode: 0o644, strip: Strip::No },
    Entry { from: From::Repo("LICENSE-MIT"), to: "usr/share/doc/camd/LICENSE-MIT", mode: 0o644, strip: Strip::No },
    Entry { from: From::Repo("LICENSE-APACHE"), to: "usr/share/doc/camd/LICENSE-APACHE", mode: 0o644, strip: Strip::No },
];

/// `cargo xtask dist [--target T]`; None: the host.
pub fn main(target: Option<&str>) -> Result<(), String> {
    build(target).map(|_| ())
}

/// Builds the tarball for `target` (the host when `None`) and returns its path.
pub fn build(target: Option<&str>) -> Result<PathBuf, String> {
    let host = host_triple()?;
    let (triple, out, strip) = match target.filter(|t| *t != host) {
        None => {
            run(cargo()
                .args(["build", "--release", "--locked"])
                .args(crate::process::product_package_args()))?;
            (host, target_dir().join("release"), "strip".to_owned())
        }
        Some(name) => {
            let cross = Cross::prepare(cross::find(name)?, false)?;
            let out = cross.build_release()?;
            (
                cross.target.triple.to_owned(),
                out,
                cross.target.tool("strip"),
            )
        }
    };
    let version = package_version(&root().join("Cargo.toml"))?;
    let name = format!("camd-{version}-{triple}");
    let dist = target_dir().join("dist");
    let stage = dist.join(&name);
    if stage.exists() {
        std::fs::remove_dir_all(&stage).map_err(|e| format!("{}: {e}", stage.display()))?;
    }
    let files = stage_files(FILES.iter(), &out, &stage, &strip, &triple)?;
    let tarball = dist.join(format!("{name}.tar.gz"));
    pack(&stage, &tarball)?;

    println!("\n{name}:");
    for file in &files {
        let rel = file.strip_prefix(&stage).expect("staged");
        match std::fs::read_link(file) {
            Ok(target) => println!(
                "  {:>23}  {} -> {}",
                "link",
                rel.display(),
                target.display()
            ),
            Err(_) => println!("  {}  {}", size_text(file)?, rel.display()),
        }
    }
    println!("  {}  {}", size_text(&tarball)?, tarball.display());
    Ok(tarball)
}

/// Lays `entries` out under `stage`, the built ones from `out`, stripped with `strip`; returns
/// the paths made.
fn stage_files<'a>(
    entries: impl Iterator<Item = &'a Entry>,
    out: &Path,
    stage: &Path,
    strip: &str,
    triple: &str,
) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let source = match entry.from {
            From::Built(file) => out.join(file),
            From::Repo(file) | From::RepoPython(file) => root().join(file),
            From::PkgConfig => root().join("ring/camd-ring.pc.in"),
            From::Link(target) => {
                if !FILES.iter().any(|e| e.to == target) {
                    return Err(format!(
                        "dist: {} links to {target}, which is not in FILES",
                        entry.to
                    ));
                }
                let dest = stage.join(entry.to);
                link(&relative_link(entry.to, target), &dest)?;
                files.push(dest);
                continue;
            }
            From::DistInfo => {
                let out = Command::new("python3")
                    .arg(root().join("ring/python/dist_info.py"))
                    .arg(stage.join(entry.to))
                    .output()
                    .map_err(|e| format!("dist: python3 (for dist_info.py): {e}"))?;
                if !out.status.success() {
                    return Err(format!(
                        "dist: ring/python/dist_info.py failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
                files.extend(
                    String::from_utf8_lossy(&out.stdout)
                        .lines()
                        .map(PathBuf::from),
                );
                continue;
            }
        };
        if !source.exists() {
            return Err(format!(
                "dist: {} is missing (it belongs at {} in the tarball)",
                source.display(),
                entry.to
            ));
        }
        let dest = stage.join(entry.to);
        match entry.from {
            From::RepoPython(_) => {
                for py in python_files(&source)? {
                    let to = dest.join(py.file_name().expect("a file"));
                    install(&py, &to, entry.mode)?;
                    files.push(to);
                }
            }
            From::PkgConfig => {
                let text = std::fs::read_to_string(&source).map_err(|e| e.to_string())?;
                let ring_version = package_version(&root().join("ring/Cargo.toml"))?;
                let text = text
                    .replace("@PREFIX@", "/usr")
                    .replace("@LIBDIR@", "${prefix}/lib")
                    .replace("@INCLUDEDIR@", "${prefix}/include")
                    .replace("@VERSION@", &ring_version);
                write(&dest, text.as_bytes(), entry.mode)?;
                files.push(dest);
            }
            From::Built(_) | From::Repo(_) => {
                install(&source, &dest, entry.mode)?;
                let flag = match entry.strip {
                    Strip::No => None,
                    Strip::All => Some("--strip-all"),
                    Strip::Unneeded => Some("--strip-unneeded"),
                    Strip::Debug => Some("--strip-debug"),
                };
                if let Some(flag) = flag {
                    run(Command::new(strip).arg(flag).arg(&dest)).map_err(|e| {
                        format!("{e} (the strip of binutils for {triple} is needed)")
                    })?;
                }
                files.push(dest);
            }
            From::Link(_) | From::DistInfo => unreachable!("made above"),
        }
    }
    Ok(files)
}

/// The relative link at `from` (a path in the tarball) to `to` (another one):
/// `usr/lib/a/b/x`, `usr/lib/y` -> `../../y`.
fn relative_link(from: &str, to: &str) -> PathBuf {
    let dir: Vec<&str> = from
        .rsplit_once('/')
        .map_or_else(Vec::new, |(dir, _)| dir.split('/').collect());
    let target: Vec<&str> = to.split('/').collect();
    let common = dir.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut link = PathBuf::new();
    for _ in common..dir.len() {
        link.push("..");
    }
    link.extend(&target[common..]);
    link
}

fn link(target: &Path, at: &Path) -> Result<(), String> {
    if let Some(dir) = at.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::os::unix::fs::symlink(target, at).map_err(|e| format!("{}: {e}", at.display()))
}

/// The tarball: sorted, owned by root, dated by the last commit (SOURCE_DATE_EPOCH when set),
/// gzip without a timestamp, so the same tree gives the same bytes.
fn pack(stage: &Path, tarball: &Path) -> Result<(), String> {
    let epoch = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(epoch) => epoch,
        Err(_) => Command::new("git")
            .args(["log", "-1", "--format=%ct"])
            .current_dir(root())
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "0".into()),
    };
    let top: Vec<String> = std::fs::read_dir(stage)
        .map_err(|e| format!("{}: {e}", stage.display()))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    let tar = tarball.with_extension("");
    run(Command::new("tar")
        .args(["--sort=name", "--owner=0", "--group=0", "--numeric-owner"])
        .arg(format!("--mtime=@{epoch}"))
        .arg("-cf")
        .arg(&tar)
        .arg("-C")
        .arg(stage)
        .args(&top))?;
    run(Command::new("gzip").args(["-n", "-9", "-f"]).arg(&tar))
}

fn install(from: &Path, to: &Path, mode: u32) -> Result<(), String> {
    let bytes = std::fs::read(from).map_err(|e| format!("{}: {e}", from.display()))?;
    write(to, &bytes, mode)
}

fn write(to: &Path, bytes: &[u8], mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(to, bytes).map_err(|e| format!("{}: {e}", to.display()))?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("{}: {e}", to.display()))
}

fn python_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .collect();
    files.sort();
    Ok(files)
}

fn size_text(path: &Path) -> Result<String, String> {
    let bytes = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    let human = if bytes >= 1 << 20 {
        format!("{:.2} MiB", bytes as f64 / (1 << 20) as f64)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    };
    Ok(format!("{bytes:>10} B {human:>10}"))
}

/// The `version = "..."` of a manifest's [package] table.
fn package_version(manifest: &Path) -> Result<String, String> {
    let text =
        std::fs::read_to_string(manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    text.lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .map(str::to_owned)
        .ok_or_else(|| format!("{}: no version line", manifest.display()))
}

fn host_triple() -> Result<String, String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "rustc -vV printed no host triple".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_relative_to_their_directory() {
        let link = relative_link(
            "usr/lib/python3/dist-packages/camd_ring/libcamd_ring.so",
            "usr/lib/libcamd_ring.so",
        );
        assert_eq!(link, Path::new("../../../libcamd_ring.so"));
        assert_eq!(relative_link("a", "b/c"), Path::new("b/c"));
    }

    /// A directory under the system's temporary one, removed on drop.
    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// `camd_ring.library_path`, the file it resolves to, and `RECORD ok` or what is wrong with
    /// the install metadata's file list, from `python3` importing the package under `root` with
    /// `env`, without CAMD_RING_LIB or LD_LIBRARY_PATH and from a directory outside the
    /// repository; the ImportError's text when it fails.
    fn imported(root: &Path, env: &[(&str, &Path)]) -> Result<(String, PathBuf, String), String> {
        let mut python = Command::new("python3");
        python
            .args([
                "-c",
                "import camd_ring, importlib.metadata, hashlib, base64, os\n\
                 print(camd_ring.library_path); print(camd_ring.__file__)\n\
                 print(camd_ring.format_version() == camd_ring.FORMAT_VERSION)\n\
                 print(importlib.metadata.version('camd-ring'))\n\
                 bad = []\n\
                 for f in importlib.metadata.files('camd-ring'):\n\
                 \x20   p = f.locate()\n\
                 \x20   if not os.path.lexists(p): bad.append(f'{f}: missing'); continue\n\
                 \x20   if f.hash is None: continue\n\
                 \x20   d = base64.urlsafe_b64encode(hashlib.new(f.hash.mode, \
                 open(p, 'rb').read()).digest()).rstrip(b'=').decode()\n\
                 \x20   if d != f.hash.value: bad.append(f'{f}: hash')\n\
                 print('RECORD ' + (', '.join(bad) or 'ok'))",
            ])
            .current_dir(root)
            .env("PYTHONPATH", root.join("usr/lib/python3/dist-packages"))
            .env_remove("CAMD_RING_LIB")
            .env_remove("LD_LIBRARY_PATH")
            .env_remove("PKG_CONFIG_PATH")
            .env_remove("PKG_CONFIG_SYSROOT_DIR");
        for (name, value) in env {
            python.env(name, value);
        }
        let out = python.output().map_err(|e| format!("python3: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)));
        }
        let lines: Vec<&str> = stdout.lines().collect();
        let package = root.join("usr/lib/python3/dist-packages/camd_ring/__init__.py");
        assert_eq!(
            lines.get(1).copied(),
            package.to_str(),
            "imported from elsewhere: {stdout}"
        );
        assert_eq!(
            lines.get(2).copied(),
            Some("True"),
            "format version: {stdout}"
        );
        // The install metadata (dist_info.py) names the package's version, the ring crate's.
        let version = package_version(&crate::process::root().join("ring/Cargo.toml"))?;
        assert_eq!(
            lines.get(3).copied(),
            Some(version.as_str()),
            "importlib.metadata: {stdout}"
        );
        let record = lines.get(4).copied().unwrap_or("no RECORD line").to_owned();
        let loaded = lines[0].to_owned();
        let file = std::fs::canonicalize(&loaded).map_err(|e| format!("{loaded}: {e}"))?;
        Ok((loaded, file, record))
    }

    /// The tarball's library, pkg-config and Python entries, staged as `build` stages them
    /// (from this workspace's debug build, stripped), packed, and unpacked into a root that is
    /// not `/`: `import camd_ring` loads the tarball's libcamd_ring.so through the link beside
    /// the package, with no CAMD_RING_LIB, LD_LIBRARY_PATH or ldconfig; without the link,
    /// through the tarball's camd-ring.pc (with PKG_CONFIG_SYSROOT_DIR at the root, as a
    /// packager's image is read).
    #[test]
    fn the_unpacked_tarball_imports_camd_ring_without_camd_ring_lib() {
        let out = target_dir().join("debug");
        assert!(
            out.join("libcamd_ring.so").exists() && out.join("libcamd_ring.a").exists(),
            "{} has no libcamd_ring.so and .a: run `cargo build -p camd-ring` first (`cargo \
             xtask test` builds the workspace before its tests)",
            out.display()
        );
        let scratch =
            Scratch(std::env::temp_dir().join(format!("camd-dist-test-{}", std::process::id())));
        let (stage, root) = (scratch.0.join("stage"), scratch.0.join("root"));
        let _ = std::fs::remove_dir_all(&scratch.0);
        std::fs::create_dir_all(&root).unwrap();
        // All but the daemon's executables, which only a whole workspace build has.
        let entries = FILES
            .iter()
            .filter(|e| !matches!(e.from, From::Built(file) if !file.starts_with("libcamd_ring")));
        stage_files(entries, &out, &stage, "strip", "the host").unwrap();
        let tarball = scratch.0.join("camd.tar.gz");
        pack(&stage, &tarball).unwrap();
        run(Command::new("tar")
            .arg("-C")
            .arg(&root)
            .arg("-xzf")
            .arg(&tarball))
        .unwrap();

        let library = std::fs::canonicalize(root.join("usr/lib/libcamd_ring.so")).unwrap();
        let beside = root.join("usr/lib/python3/dist-packages/camd_ring/libcamd_ring.so");
        let (loaded, file, record) = imported(&root, &[]).unwrap_or_else(|e| panic!("beside: {e}"));
        assert_eq!(Path::new(&loaded), beside, "beside");
        // Every file the install metadata lists is there, with its hash.
        assert_eq!(record, "RECORD ok");
        assert_eq!(file, library, "the link beside the package");

        std::fs::remove_file(&beside).unwrap();
        let pc_dir = root.join("usr/lib/pkgconfig");
        let env = [
            ("PKG_CONFIG_SYSROOT_DIR", root.as_path()),
            ("PKG_CONFIG_PATH", pc_dir.as_path()),
            ("PKG_CONFIG_LIBDIR", pc_dir.as_path()),
        ];
        let (loaded, file, _) = imported(&root, &env).unwrap_or_else(|e| {
            panic!(
                "through the tarball's camd-ring.pc (is a libcamd_ring.so on this machine's \
                 system library path? it comes first): {e}"
            )
        });
        assert_eq!(
            Path::new(&loaded),
            root.join("usr/lib/libcamd_ring.so"),
            "pkg-config"
        );
        assert_eq!(file, library, "through pkg-config");
    }
}
