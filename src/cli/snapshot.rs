//! `camd snapshot CAMERA -o FILE [--dir DIR]`: saves a camera's latest JPEG frame, read from its
//! ring (`DIR/CAMERA.ring`, DIR defaults to `/run/camd`) like any reader, with no daemon involved.
//! A raw camera's frame (`format = "rgb"`...) is written as a JPEG, or a PNG when FILE ends in
//! `.png`, encoded by `camd-worker still`.
//! `camd snapshot --all -o OUTDIR` saves every camera's, as `OUTDIR/CAMERA.jpg` (OUTDIR is made
//! if missing); a camera without a frame is said on stderr and the others are still saved.
//!
//! The file is written under a temporary name in FILE's directory and renamed over FILE, so a
//! program watching FILE never sees half a JPEG. `-o -` writes the JPEG to stdout. The summary
//! line (`CAMERA: frame SEQ, WxH, N bytes, age X ms -> FILE`) goes to stdout, or to stderr when
//! stdout carries the frame. A camera with no frame yet is an error that says its status.
//!
//! Exit status: 0 when the frame was written (with `--all`: every camera that has a frame); 2
//! (an `Err` the caller prints) otherwise.

use crate::error::{Error, Kind, Result, Subject};

/// The subject of the errors this command passes on from the ring library.
const SNAPSHOT: Subject = Subject::Command("snapshot");
use super::args::{self, Flag};
use crate::config::DEFAULT_RUNTIME_DIR;
use crate::ring_files::ring_path;
use camd_ring::{FrameMeta, PixelLayout, Reader, State};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// This command's usage; `camd`'s own usage (src/main.rs) is made of the commands' ones.
pub const USAGE: &str = "\
usage: camd snapshot CAMERA -o FILE.jpg|FILE.png|- [--dir DIR]
                                                      a camera's latest frame (.png: raw cameras)
       camd snapshot --all -o DIR [--dir DIR]         every camera's, as DIR/CAMERA.jpg";

const DIR: Flag = Flag::value("--dir");
const OUTPUT: Flag = Flag::value("-o");
const OUTPUT_LONG: Flag = Flag::value("--output");
const ALL: Flag = Flag::switch("--all");

/// Runs `camd snapshot` with the arguments after `snapshot`.
pub fn main(args: &[OsString]) -> Result<ExitCode> {
    let parsed = args::parse(args, &[DIR, OUTPUT, OUTPUT_LONG, ALL])
        .map_err(|e| Error::new(Kind::Usage, format!("snapshot: {e}\n{USAGE}")))?;
    let cameras = parsed
        .text_positionals()
        .map_err(|e| Error::new(Kind::Usage, format!("snapshot: {e}")))?;
    if parsed.has(ALL) {
        if !cameras.is_empty() {
            return Err(Error::new(
                Kind::Usage,
                format!("snapshot: --all or camera names, not both\n{USAGE}"),
            ));
        }
        let dir = parsed
            .path(DIR)
            .unwrap_or_else(|| DEFAULT_RUNTIME_DIR.into());
        let out = parsed.path(OUTPUT).or(parsed.path(OUTPUT_LONG));
        return all(&dir, out.as_deref());
    }
    let camera = match cameras.as_slice() {
        [camera] => *camera,
        [] => {
            return Err(Error::new(
                Kind::Usage,
                format!("snapshot: which camera?\n{USAGE}"),
            ))
        }
        more => {
            return Err(Error::new(
                Kind::Usage,
                format!(
                    "snapshot: one camera at a time, not {}\n{USAGE}",
                    more.join(" ")
                ),
            ))
        }
    };
    if camera.is_empty() || camera.starts_with('.') || camera.contains('/') {
        return Err(Error::new(
            Kind::Usage,
            format!("snapshot: {camera:?} is not a camera name"),
        ));
    }
    let output = parsed
        .path(OUTPUT)
        .or(parsed.path(OUTPUT_LONG))
        .ok_or_else(|| {
            Error::new(
                Kind::Usage,
                format!("snapshot: where to? (-o FILE.jpg, or -o - for stdout)\n{USAGE}"),
            )
        })?;
    if output.as_os_str().is_empty() {
        return Err(Error::new(Kind::Usage, "snapshot: -o needs a file name"));
    }
    let dir = parsed
        .path(DIR)
        .unwrap_or_else(|| DEFAULT_RUNTIME_DIR.into());
    let dir = dir.as_path();
    let path = ring_path(dir, camera);
    if !path.exists() && dir.is_dir() {
        return Err(Error::new(
            Kind::Usage,
            format!(
                "snapshot: no camera {camera:?} in {} (no {camera}.ring there)",
                dir.display()
            ),
        ));
    }
    let (meta, frame) = latest(&path, camera, &output)?;
    let summary = |to: &str| summary(camera, &meta, to);
    if output.as_os_str() == "-" {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(&frame)
            .and_then(|()| stdout.flush())
            .map_err(|e| {
                Error::new(
                    Kind::Usage,
                    format!("snapshot: cannot write to stdout: {e}"),
                )
            })?;
        eprintln!("{}", summary("stdout"));
    } else {
        write_atomically(&output, &frame)?;
        println!("{}", summary(&output.display().to_string()));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--all -o OUTDIR`: every camera's latest frame as `OUTDIR/CAMERA.jpg`.
fn all(dir: &Path, out: Option<&Path>) -> Result<ExitCode> {
    let out = out
        .filter(|o| !o.as_os_str().is_empty() && o.as_os_str() != "-")
        .ok_or_else(|| {
            Error::new(
                Kind::Usage,
                format!("snapshot: --all needs a directory to write into (-o DIR)\n{USAGE}"),
            )
        })?;
    let cameras = crate::ring_files::cameras_in(dir).map_err(|e| {
        Error::new(
            Kind::Usage,
            format!("snapshot: cannot list {}: {e}", dir.display()),
        )
    })?;
    if cameras.is_empty() {
        return Err(Error::new(
            Kind::Usage,
            format!("snapshot: no camera rings in {}", dir.display()),
        ));
    }
    std::fs::create_dir_all(out).map_err(|e| {
        Error::new(
            Kind::Usage,
            format!("snapshot: cannot make {}: {e}", out.display()),
        )
    })?;
    let mut written = 0;
    for camera in &cameras {
        let to = out.join(format!("{camera}.jpg"));
        let saved = latest(&ring_path(dir, camera), camera, &to).and_then(|(meta, frame)| {
            write_atomically(&to, &frame)?;
            Ok(meta)
        });
        match saved {
            Ok(meta) => {
                written += 1;
                println!("{}", summary(camera, &meta, &to.display().to_string()));
            }
            Err(e) => eprintln!("{e}"),
        }
    }
    if written == 0 {
        return Err(Error::new(
            Kind::Usage,
            format!("snapshot: no camera of {} has a frame", dir.display()),
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// The camera's latest frame (a copy, never torn) as a picture for `to` (PNG when its name ends
/// in `.png`, else JPEG), or why there is none. A JPEG ring's frame is written as it is (so a
/// `.png` name is refused); a raw ring's is encoded by `camd-worker still` (GStreamer lives
/// there).
fn latest(ring: &Path, camera: &str, to: &Path) -> Result<(FrameMeta, Vec<u8>)> {
    let reader = Reader::open(ring).map_err(|e| Error::from(e).about(SNAPSHOT))?;
    let mut frame = Vec::new();
    let meta = reader
        .copy_latest(&mut frame)
        .map_err(|e| Error::from(e).about(SNAPSHOT))?
        .ok_or_else(|| Error::new(Kind::Usage, no_frame(camera, &reader)))?;
    let png = to
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    match reader.geometry().layout {
        // The camera's own JPEG, byte for byte: a .png name would hold a JPEG.
        None if png => Err(Error::new(
            Kind::Usage,
            format!(
                "snapshot: camera {camera:?} publishes JPEG, written as it is: name the file \
                 .jpg, not {} (PNG is for raw cameras, format = \"rgb\"...)",
                to.display()
            ),
        )),
        None => Ok((meta, frame)),
        Some(layout) => Ok((meta, still(camera, &layout, &frame, png)?)),
    }
}

/// A raw frame as a PNG or JPEG, made by `camd-worker still` beside this executable.
fn still(camera: &str, layout: &PixelLayout, frame: &[u8], png: bool) -> Result<Vec<u8>> {
    use std::process::{Command, Stdio};
    let worker = crate::supervisor::worker_executable()?;
    let mut child = Command::new(&worker)
        .arg("still")
        .arg(layout.codec.name())
        .arg(layout.width.to_string())
        .arg(layout.height.to_string())
        .arg(if png { "png" } else { "jpeg" })
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::new(
                Kind::Usage,
                format!("snapshot: cannot run {}: {e}", worker.display()),
            )
        })?;
    let mut stdin = child.stdin.take().expect("piped");
    let frame = frame.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&frame));
    let out = child.wait_with_output().map_err(|e| {
        Error::new(
            Kind::Usage,
            format!("snapshot: {} failed: {e}", worker.display()),
        )
    })?;
    let _ = feeder.join();
    if !out.status.success() || out.stdout.is_empty() {
        return Err(Error::new(
            Kind::Usage,
            format!(
                "snapshot: camera {camera}: cannot encode its {} frame: {}",
                layout.codec.name(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(out.stdout)
}

fn summary(camera: &str, meta: &FrameMeta, to: &str) -> String {
    format!(
        "{camera}: frame {}, {}x{}, {} bytes, age {} ms -> {to}",
        meta.seq,
        meta.width,
        meta.height,
        meta.len,
        meta.age().as_millis()
    )
}

/// "camera door has no frame yet (status retrying, retry 2/5, last error: ...)".
fn no_frame(camera: &str, reader: &Reader) -> String {
    let status = match reader.status() {
        Ok(snapshot) => {
            let s = snapshot.status;
            let mut text = format!("status {}", s.state);
            if matches!(s.state, State::Retrying | State::ConnectionFailed) || s.retry_count != 0 {
                text += &format!(", retry {}/{}", s.retry_count, s.max_retry_attempts);
            }
            if !s.last_error.is_empty() {
                text += &format!(", last error: {}", s.last_error);
            }
            text
        }
        Err(e) => format!("status unreadable: {e}"),
    };
    format!("snapshot: camera {camera} has no frame yet ({status})")
}

/// Writes `bytes` to a temporary file beside `path`, flushes it to disk, and renames it over
/// `path`. The temporary file is removed if anything fails.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path.file_name().ok_or_else(|| {
        Error::new(
            Kind::Usage,
            format!("snapshot: {} is not a file name", path.display()),
        )
    })?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let tmp: PathBuf = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mut created = false;
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        created = true;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        if created {
            let _ = std::fs::remove_file(&tmp);
        }
        Error::new(
            Kind::Io,
            format!("snapshot: cannot write {}: {e}", path.display()),
        )
    })
}
