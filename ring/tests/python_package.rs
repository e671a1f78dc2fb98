//! The Python package as a Python user gets it: `pip install` of `ring/python` into a fresh venv
//! (offline: the venv's own setuptools, and wheel from Debian's python3-wheel-whl), then
//! `import camd_ring` there finding libcamd_ring.so through pkg-config, with no CAMD_RING_LIB,
//! and reading a ring; and the order in which the binding looks for the library
//! (CAMD_RING_LIB, beside the package, the system library path, pkg-config's libdir), with an
//! ImportError that names every place when none has it. (The dist tarball's layout is
//! xtask/src/dist.rs's test.)

use camd_ring_test_support as common;

use camd_ring::{FrameInfo, Writer, WriterOptions};
use common::*;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian keeps the wheels a venv is made from (python3-pip-whl, python3-setuptools-whl,
/// which python3-venv brings) and python3-wheel-whl's.
const DEBIAN_WHEELS: &str = "/usr/share/python-wheels";

/// A small slot: the frame's bytes travel back as hex.
const CAPACITY: usize = 4096;

/// Runs `cmd`, which must succeed; its stdout.
fn output(what: &str, cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A copy of the package (`camd_ring/*.py`) under `dir`, with `pyproject.toml` beside it when
/// `with_project`: setuptools writes `build/` and `*.egg-info` into the directory it builds,
/// which is not to be the repository.
fn copy_package(dir: &Path, with_project: bool) -> PathBuf {
    let source = repo_root().join("ring/python");
    let package = dir.join("camd_ring");
    std::fs::create_dir_all(&package).unwrap();
    for entry in std::fs::read_dir(source.join("camd_ring")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "py") {
            std::fs::copy(&path, package.join(path.file_name().unwrap())).unwrap();
        }
    }
    if with_project {
        std::fs::copy(source.join("pyproject.toml"), dir.join("pyproject.toml")).unwrap();
    }
    package
}

/// `prefix/lib/libcamd_ring.so` and `prefix/lib/pkgconfig/camd-ring.pc`, as an install puts
/// them; returns the .pc file's directory.
fn install_library(prefix: &Path) -> PathBuf {
    let pc_dir = prefix.join("lib/pkgconfig");
    std::fs::create_dir_all(&pc_dir).unwrap();
    std::fs::copy(lib_path(), prefix.join("lib/libcamd_ring.so")).unwrap();
    let pc = pkg_config_file(prefix, env!("CARGO_PKG_VERSION"));
    std::fs::write(pc_dir.join("camd-ring.pc"), pc).unwrap();
    pc_dir
}

/// Clears what would let a Python find the library other than the way a test means: the
/// variables the binding and the dynamic loader read, and pkg-config's default search path (a
/// camd-ring.pc this machine may have); runs in `dir`, outside the repository.
fn hermetic(cmd: &mut Command, dir: &Path, no_pc: &Path) {
    cmd.current_dir(dir)
        .env_remove("CAMD_RING_LIB")
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("PYTHONPATH")
        .env_remove("PKG_CONFIG_PATH")
        .env_remove("PKG_CONFIG_SYSROOT_DIR")
        .env("PKG_CONFIG_LIBDIR", no_pc);
}

/// pip installs the package into a new venv (no network: `--no-index`), whose Python then
/// reads a ring with the library found through PKG_CONFIG_PATH alone. A cross-built test
/// (CAMD_TEST_PYTHON set) installs with the host's Python (the package is pure Python) and
/// imports it with the target's, from the venv's site-packages.
#[test]
fn pip_installs_the_package_into_a_venv_that_finds_the_library_through_pkg_config() {
    let dir = TempDir::new("pyvenv");
    let source = dir.join("source");
    copy_package(&source, true);
    let pc_dir = install_library(&dir.join("prefix"));
    let no_pc = dir.join("no-pc");
    std::fs::create_dir_all(&no_pc).unwrap();

    let venv = dir.join("venv");
    output(
        "python3 -m venv (Debian: python3-venv)",
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
    );
    let pip = |args: &[&str]| {
        let mut cmd = Command::new(venv.join("bin/python"));
        cmd.args([
            "-m",
            "pip",
            "--disable-pip-version-check",
            "install",
            "--no-index",
        ])
        .args(args);
        cmd
    };
    output(
        "pip install wheel (the venv's setuptools needs it to build a wheel; Debian: \
         python3-wheel-whl)",
        &mut pip(&["--find-links", DEBIAN_WHEELS, "wheel"]),
    );
    output(
        "pip install of ring/python",
        pip(&["--no-build-isolation"]).arg(&source),
    );

    let ring = dir.join("front-door.ring");
    let options = WriterOptions {
        width: 640,
        height: 360,
        ..WriterOptions::new("front-door", 4, CAPACITY as u32)
    };
    let mut writer = Writer::create(&ring, &options).unwrap();
    let frame = frame_for(1, CAPACITY);
    let info = FrameInfo {
        width: 640,
        height: 360,
        ts_mono_ns: 1,
        ts_realtime_ns: 2,
        ts_camera_ns: None,
    };
    writer.publish(&frame, &info).unwrap();

    let script = "import importlib.metadata, sys, camd_ring\n\
                  print(camd_ring.library_path)\n\
                  print(camd_ring.__file__)\n\
                  print(importlib.metadata.version('camd-ring'))\n\
                  with camd_ring.Reader(sys.argv[1]) as ring:\n\
                  \x20   meta, data = ring.copy_latest()\n\
                  \x20   print(ring.info.name, meta.seq, meta.width, meta.height, data.hex())\n";
    let cross = std::env::var_os("CAMD_TEST_PYTHON").is_some();
    let mut python = if cross {
        target_python()
    } else {
        Command::new(venv.join("bin/python"))
    };
    hermetic(&mut python, dir.path(), &no_pc);
    if cross {
        let site = output(
            "the venv's site-packages",
            Command::new(venv.join("bin/python")).args([
                "-c",
                "import sysconfig; print(sysconfig.get_path('purelib'))",
            ]),
        );
        python.env("PYTHONPATH", site.trim());
    }
    python
        .env("PKG_CONFIG_PATH", &pc_dir)
        .args(["-c", script])
        .arg(&ring);
    let printed = output("the venv's python reading the ring", &mut python);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(
        lines.first().copied(),
        dir.join("prefix/lib/libcamd_ring.so").to_str(),
        "library_path: {printed}"
    );
    assert!(
        lines
            .get(1)
            .is_some_and(|file| file.starts_with(venv.to_str().unwrap())),
        "imported from outside the venv: {printed}"
    );
    assert_eq!(
        lines.get(2).copied(),
        Some(env!("CARGO_PKG_VERSION")),
        "the installed package's version is not the ring crate's: ring/python/pyproject.toml \
         and ring/Cargo.toml must say the same"
    );
    let hex: String = frame.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        lines.get(3).copied(),
        Some(format!("front-door 1 640 360 {hex}").as_str()),
        "the frame read"
    );
}

/// What one `import camd_ring` of the package copied under `root` loaded (`library_path`), or
/// its ImportError's text. `env` adds variables to the hermetic ones; `no_pkg_config` runs the
/// import with a PATH that has no pkg-config.
fn import(
    root: &Path,
    no_pc: &Path,
    env: &[(&str, OsString)],
    no_pkg_config: bool,
) -> Result<String, String> {
    let mut python = target_python();
    hermetic(&mut python, root, no_pc);
    python.env("PYTHONPATH", root);
    for (name, value) in env {
        python.env(name, value);
    }
    let script = format!(
        "import os, sys\n\
         {}\
         try:\n\
         \x20   import camd_ring\n\
         except ImportError as e:\n\
         \x20   print(e)\n\
         \x20   sys.exit(3)\n\
         print(camd_ring.library_path)\n",
        if no_pkg_config {
            "os.environ['PATH'] = ''\n"
        } else {
            ""
        }
    );
    let out = python.args(["-c", &script]).output().expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    match out.status.code() {
        Some(0) => Ok(stdout),
        Some(3) => Err(stdout),
        _ => panic!(
            "python: {}\n{stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// Four copies of the library, one in each place the binding looks; taken away one at a time,
/// the next place's is loaded (`library_path` names it), and with none the ImportError names
/// every place.
#[test]
fn the_binding_looks_for_the_library_in_order_and_names_every_place() {
    let dir = TempDir::new("pyfind");
    let root = dir.join("site");
    let package = copy_package(&root, false);
    let no_pc = dir.join("no-pc");
    std::fs::create_dir_all(&no_pc).unwrap();

    let env_lib = dir.join("env/libcamd_ring.so");
    let beside = package.join("libcamd_ring.so");
    let system_dir = dir.join("system");
    let pc_prefix = dir.join("prefix");
    for copy in [&env_lib, &beside, &system_dir.join("libcamd_ring.so")] {
        std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
        std::fs::copy(lib_path(), copy).unwrap();
    }
    let pc_dir = install_library(&pc_prefix);
    let pc_lib = pc_prefix.join("lib/libcamd_ring.so");

    let mut env: Vec<(&str, OsString)> = vec![
        ("CAMD_RING_LIB", env_lib.clone().into()),
        ("LD_LIBRARY_PATH", system_dir.clone().into()),
        ("PKG_CONFIG_PATH", pc_dir.clone().into()),
    ];
    let loaded = |env: &[(&str, OsString)]| {
        import(&root, &no_pc, env, false).unwrap_or_else(|e| panic!("ImportError: {e}"))
    };
    assert_eq!(
        loaded(&env),
        env_lib.to_str().unwrap(),
        "CAMD_RING_LIB first"
    );
    env.remove(0);
    assert_eq!(
        loaded(&env),
        beside.to_str().unwrap(),
        "then beside the package"
    );
    std::fs::remove_file(&beside).unwrap();
    assert_eq!(
        loaded(&env),
        system_dir.join("libcamd_ring.so").to_str().unwrap(),
        "then the system library path (LD_LIBRARY_PATH here; dladdr names the file)"
    );
    env.remove(0);
    assert_eq!(
        loaded(&env),
        pc_lib.to_str().unwrap(),
        "then pkg-config's libdir (is a libcamd_ring.so installed on this machine's system \
         library path? it comes first)"
    );

    // None anywhere: the error names each place, and why each failed.
    std::fs::remove_file(&pc_lib).unwrap();
    let error = import(&root, &no_pc, &env, false).expect_err("no library anywhere");
    for place in [
        "$CAMD_RING_LIB (not set)".to_owned(),
        beside.display().to_string(),
        "the system library path (the ld.so cache, the default directories such as /usr/lib: "
            .to_owned(),
        format!(
            "{}, the libdir of `pkg-config --variable=libdir camd-ring` with PKG_CONFIG_PATH={}",
            pc_lib.display(),
            pc_dir.display()
        ),
        "set CAMD_RING_LIB to the full path of libcamd_ring.so".to_owned(),
    ] {
        assert!(error.contains(&place), "{place:?} not in: {error}");
    }
    let error = import(&root, &no_pc, &[], false).expect_err("no camd-ring.pc");
    assert!(
        error.contains("`pkg-config --variable=libdir camd-ring` (no camd-ring.pc)"),
        "{error}"
    );
    let error = import(&root, &no_pc, &[], true).expect_err("no pkg-config");
    assert!(
        error.contains("pkg-config's libdir (no pkg-config on PATH)"),
        "{error}"
    );
}
