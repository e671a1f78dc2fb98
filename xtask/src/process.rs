//! Running commands from the workspace root, echoing them first, with errors that say which
//! command failed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

/// What a board gets (the Yocto recipe builds the same): the daemon's two executables and the
/// reader library. Not the chores, nor the test support crates, whose fake cameras need the
/// RTSP server library that no target sysroot has.
pub const PRODUCT_PACKAGES: &[&str] = &["camd", "camd-worker", "camd-ring"];

/// `-p NAME` for each product package.
pub fn product_package_args() -> Vec<&'static str> {
    PRODUCT_PACKAGES.iter().flat_map(|p| ["-p", *p]).collect()
}

/// `camd` and `camd-worker` in release, with the example `example` (the fake cameras, the
/// demo) that starts them: `camd run` finds `camd-worker` beside itself, and it is another
/// package's executable, which building or benching the `camd` package alone does not build.
pub fn build_daemon_release(example: &str) -> Result<(), String> {
    run(cargo().args([
        "build",
        "--release",
        "--locked",
        "-p",
        "camd",
        "-p",
        "camd-worker",
        "--bins",
        "--example",
        example,
    ]))
}

pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    if let Some(dir) = target_dir_override() {
        cmd.env("CARGO_TARGET_DIR", dir);
    }
    cmd
}

/// Set by [`with_target_dir`]: where `cargo()` builds and `target_dir()` points meanwhile.
static TARGET_DIR: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);

fn target_dir_override() -> Option<PathBuf> {
    TARGET_DIR.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Runs `f` with cargo's output in `dir` instead of the checkout's target directory: every
/// `cargo()` it starts builds there and `target_dir()` names it (vm-test's release build,
/// kept outside the clone so the next clone reuses its compiled dependencies).
pub fn with_target_dir<T>(dir: &Path, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<PathBuf>);
    impl Drop for Restore {
        fn drop(&mut self) {
            *TARGET_DIR.lock().unwrap_or_else(|e| e.into_inner()) = self.0.take();
        }
    }
    let previous = TARGET_DIR
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .replace(dir.to_owned());
    let _restore = Restore(previous);
    f()
}

/// `cargo` for a rustup toolchain (`+1.75`, `+nightly`). Clears the variables cargo sets for
/// the running xtask, so the inner cargo picks its own toolchain's rustc.
pub fn cargo_with(toolchain: &str) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.arg(format!("+{toolchain}")).current_dir(root());
    for var in [
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "RUSTUP_TOOLCHAIN",
        "RUSTC_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Runs `cmd` with inherited output; Err names the command.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let text = describe(cmd);
    eprintln!("$ {text}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run `{text}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{text}` failed ({status})"))
    }
}

/// Runs `cmd`, passing its stdout through line by line to `each_line` (which prints it).
pub fn run_lines(cmd: &mut Command, mut each_line: impl FnMut(&str)) -> Result<(), String> {
    use std::io::{BufRead, BufReader};
    let text = describe(cmd);
    eprintln!("$ {text}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `{text}`: {e}"))?;
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let line = line.map_err(|e| format!("reading `{text}`: {e}"))?;
        println!("{line}");
        each_line(&line);
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for `{text}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{text}` failed ({status})"))
    }
}

/// True if `cmd` runs and exits 0 (output discarded).
pub fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Cargo's target directory: $CARGO_TARGET_DIR, else `target/` in the workspace.
/// A cache outside the checkout, so that CI's fresh clones share it: `$XDG_CACHE_HOME/
/// camd-xtask/NAME`, else `~/.cache/camd-xtask/NAME`, else `NAME` in the target directory.
pub fn cache_dir(name: &str) -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    match base {
        Some(base) => base.join("camd-xtask").join(name),
        None => target_dir().join(name),
    }
}

/// How old the cache entry whose key is stored in `stamp` is, if that key is `key` and it is
/// younger than `max_age`: `None` means build it again.
pub fn fresh_cache(stamp: &Path, key: &str, max_age: Duration) -> Option<Duration> {
    let age = std::fs::metadata(stamp)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())?;
    (age < max_age && std::fs::read_to_string(stamp).is_ok_and(|k| k == key)).then_some(age)
}

pub fn target_dir() -> PathBuf {
    if let Some(dir) = target_dir_override() {
        return dir;
    }
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root().join(dir),
        _ => root().join("target"),
    }
}

#[cfg(test)]
/// Every `.rs` file below the workspace root, relative to it and sorted, except build output
/// (`target`) and the fuzzer's data (`corpus`, `artifacts`).
pub fn rust_sources() -> Vec<PathBuf> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if matches!(
                name.to_str(),
                Some("target" | ".git" | "corpus" | "artifacts")
            ) {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path.strip_prefix(root).unwrap().to_owned());
            }
        }
    }
    let root = root();
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}
