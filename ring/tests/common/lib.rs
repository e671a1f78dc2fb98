//! Shared by the ring's integration tests (the `camd-ring-test-support` package): temporary
//! directories (real files, removed on drop), a small tmpfs private to one thread, deterministic
//! frame contents, and raw patching of ring files by field name. camd's own test support re-uses `TempDir`.

use std::ffi::OsStr;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;

mod private_tmpfs;
mod temp_dir;
pub use private_tmpfs::with_private_tmpfs;
pub use temp_dir::TempDir;

/// Frame `seq`'s bytes: the length and every 8-byte word derive from `seq`, so a reader can
/// detect a torn frame (bytes of two frames) or a mismatched one.
pub fn frame_for(seq: u64, max: usize) -> Vec<u8> {
    let words = 1 + (seq as usize).wrapping_mul(7919) % (max / 8);
    let mut out = Vec::with_capacity(words * 8);
    for i in 0..words as u64 {
        out.extend_from_slice(&(seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ i).to_le_bytes());
    }
    out
}

pub fn is_frame_for(seq: u64, bytes: &[u8], max: usize) -> bool {
    let words = 1 + (seq as usize).wrapping_mul(7919) % (max / 8);
    bytes.len() == words * 8
        && bytes.chunks_exact(8).enumerate().all(|(i, w)| {
            u64::from_le_bytes(w.try_into().unwrap())
                == seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ i as u64
        })
}

pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// True when the tests run as root (CI does): the tests that start a second user's processes
/// or mount a tmpfs need it, and fail saying so otherwise.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Offset of a field by its documented name (`header.slot_count`, `slot.len`, ...).
pub fn offset_of(field: &str) -> u64 {
    camd_ring::layout::field_offsets()
        .into_iter()
        .find(|(name, _)| *name == field)
        .unwrap_or_else(|| panic!("no field {field}"))
        .1 as u64
}

/// Overwrites bytes of a ring file at a field's offset, as corruption or a hostile writer would.
pub fn patch(path: &Path, field: &str, bytes: &[u8]) {
    patch_at(path, offset_of(field), bytes);
}

pub fn patch_at(path: &Path, offset: u64, bytes: &[u8]) {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open to patch");
    file.write_all_at(bytes, offset).expect("patch");
}

/// A directory of build outputs (target/debug) for the test binary that is running.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>")
        .to_owned()
}

/// This build's libcamd_ring.so (in `target_dir()`, or its `deps/` after a test-only build).
pub fn lib_path() -> PathBuf {
    [
        target_dir().join("libcamd_ring.so"),
        target_dir().join("deps/libcamd_ring.so"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap_or_else(|| {
        panic!(
            "libcamd_ring.so not found in {}: run `cargo build -p camd-ring --lib --examples` \
             first (`cargo xtask test` does)",
            target_dir().display()
        )
    })
}

/// `ring/camd-ring.pc.in` rendered for an install under `prefix` (`prefix/lib`,
/// `prefix/include`) of the ring crate's `version`.
pub fn pkg_config_file(prefix: &Path, version: &str) -> String {
    let template = std::fs::read_to_string(repo_root().join("ring/camd-ring.pc.in")).unwrap();
    template
        .replace("@PREFIX@", prefix.to_str().unwrap())
        .replace("@LIBDIR@", prefix.join("lib").to_str().unwrap())
        .replace("@INCLUDEDIR@", prefix.join("include").to_str().unwrap())
        .replace("@VERSION@", version)
}

/// The workspace root: this package is `ring/tests/common` in it.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(3)
        .expect("workspace root")
        .to_owned()
}

/// A command that runs `program`, an executable built for the target of this test. A
/// cross-built test runs under an emulator and there may be no binfmt_misc to start the
/// target's executables by themselves, so `CAMD_TEST_RUNNER` (`cargo xtask cross --test` sets it
/// to `qemu-aarch64-static`, say) comes first when it is set.
pub fn target_command(program: impl AsRef<OsStr>) -> Command {
    match tool_from_env("CAMD_TEST_RUNNER") {
        Some(mut runner) => {
            runner.arg(program);
            runner
        }
        None => Command::new(program),
    }
}

/// The C compiler for the target: `CAMD_TEST_CC` (words split on spaces), else `cc`.
pub fn target_cc() -> Command {
    tool_from_env("CAMD_TEST_CC").unwrap_or_else(|| Command::new("cc"))
}

/// A Python that can load the target's libcamd_ring.so: `CAMD_TEST_PYTHON` (words split on
/// spaces: the emulator and the target's python3), else the system's `/usr/bin/python3`, the one
/// the Debian packages the tests need (python3-numpy) are installed for, else `python3` from
/// PATH (a pyenv or venv Python on PATH has none of them).
pub fn target_python() -> Command {
    tool_from_env("CAMD_TEST_PYTHON").unwrap_or_else(|| {
        let system = Path::new("/usr/bin/python3");
        Command::new(if system.exists() {
            system
        } else {
            Path::new("python3")
        })
    })
}

fn tool_from_env(var: &str) -> Option<Command> {
    let value = std::env::var(var).ok()?;
    let mut words = value.split_whitespace();
    let mut cmd = Command::new(words.next()?);
    cmd.args(words);
    Some(cmd)
}
