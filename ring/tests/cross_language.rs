//! Frames written by Rust, read by the reader examples in C, Python (over libcamd_ring) and Rust,
//! and by `spec_reader.py` (pure Python written from docs/ring-format.md alone): every reader
//! must print the same bytes' hashes and the same metadata, line for line. Also runs the
//! Python binding's own unittests.

use camd_ring_test_support as common;

use camd_ring::{FrameInfo, State, Writer, WriterOptions};
use common::*;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CAPACITY: usize = 64 * 1024;

const BUILD_FIRST: &str =
    "run `cargo build -p camd-ring --lib --examples` first (`cargo xtask test` does)";

/// The C example, compiled against the header and the cdylib.
fn c_reader(dir: &TempDir) -> PathBuf {
    let exe = dir.join("read_latest_c");
    let root = repo_root();
    let out = target_cc()
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(root.join("ring/include"))
        .arg(root.join("ring/examples/c/read_latest.c"))
        .arg("-L")
        .arg(lib_path().parent().unwrap())
        .arg(format!(
            "-Wl,-rpath,{}",
            lib_path().parent().unwrap().display()
        ))
        .args(["-lcamd_ring", "-o"])
        .arg(&exe)
        .output()
        .expect("run cc");
    assert!(
        out.status.success(),
        "cc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// Every reader as a command line taking `RING [--wait N]`.
fn readers(dir: &TempDir) -> Vec<(&'static str, Command)> {
    let root = repo_root();
    let python = |script: PathBuf| {
        let mut cmd = target_python();
        cmd.arg(script).env("CAMD_RING_LIB", lib_path());
        cmd
    };
    let rust = target_dir().join("examples/read_latest");
    assert!(rust.exists(), "{} missing: {BUILD_FIRST}", rust.display());
    vec![
        ("c", target_command(c_reader(dir))),
        (
            "python",
            python(root.join("ring/python/examples/read_latest.py")),
        ),
        ("rust", target_command(rust)),
        ("spec", python(root.join("ring/tests/spec_reader.py"))),
    ]
}

/// The line every reader prints for a frame; `camera_ns` is the camera time it reads (`None`:
/// the frame has none).
fn frame_line(seq: u64, bytes: &[u8], info: &FrameInfo, camera_ns: Option<u64>) -> String {
    let camera = camera_ns.map_or_else(|| "none".to_owned(), |ns| ns.to_string());
    format!(
        "frame seq={seq} len={} width={} height={} ts_mono_ns={} ts_camera_ns={camera} fnv1a={:016x}",
        bytes.len(),
        info.width,
        info.height,
        info.ts_mono_ns,
        fnv1a(bytes)
    )
}

/// Odd frames have a camera time (a little behind the host's clock), even ones none.
fn info_for(seq: u64) -> FrameInfo {
    let ts_realtime_ns = 1_700_000_000_000_000_000 + seq;
    FrameInfo {
        width: 1280,
        height: 720,
        ts_mono_ns: 1_000_000 + seq,
        ts_realtime_ns,
        ts_camera_ns: (seq % 2 == 1).then(|| ts_realtime_ns - 250_000_000 - seq),
    }
}

/// The line for frame `seq` as published with `info_for(seq)`, in a file that announces camera
/// times.
fn published_line(seq: u64) -> String {
    let info = info_for(seq);
    frame_line(seq, &frame_for(seq, CAPACITY), &info, info.ts_camera_ns)
}

fn new_ring(dir: &TempDir) -> (PathBuf, Writer) {
    let path = dir.join("front-door.ring");
    let options = WriterOptions {
        width: 1280,
        height: 720,
        ..WriterOptions::new("front-door", 4, CAPACITY as u32)
    };
    let writer = Writer::create(&path, &options).unwrap();
    (path, writer)
}

fn run(name: &str, mut cmd: Command, ring: &Path) -> String {
    let out = cmd
        .arg(ring)
        .output()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(
        out.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The first line every reader prints for `new_ring`'s file.
const INFO_LINE: &str = "info name=front-door slots=4 capacity=65536 width=1280 height=720\n";

/// Runs every reader on `ring` and checks that each prints `expected`.
fn assert_every_reader_prints(dir: &TempDir, ring: &Path, expected: &str, case: &str) {
    for (name, cmd) in readers(dir) {
        assert_eq!(run(name, cmd, ring), expected, "{name}, {case}");
    }
}

#[test]
fn every_language_reads_the_same_latest_frame() {
    let dir = TempDir::new("xlang");
    let (ring, mut writer) = new_ring(&dir);

    let expected =
        format!("{INFO_LINE}status state=starting generation=1 latest_seq=0\nno frame\n");
    assert_every_reader_prints(&dir, &ring, &expected, "empty ring");

    writer.update_status(|s| s.state = State::Ok);
    for seq in 1..=5 {
        writer
            .publish(&frame_for(seq, CAPACITY), &info_for(seq))
            .unwrap();
        if seq < 4 {
            continue;
        }
        // Frame 4 has no camera time, frame 5 has one.
        let expected = format!(
            "{INFO_LINE}status state=ok generation=1 latest_seq={seq}\n{}\n",
            published_line(seq)
        );
        assert_every_reader_prints(&dir, &ring, &expected, &format!("{seq} frames"));
    }
}

/// A file whose header lacks the camera-time bit (an older writer's): every reader finds no
/// camera time, even in a slot that holds one.
#[test]
fn every_language_ignores_camera_times_in_a_file_without_the_bit() {
    let dir = TempDir::new("xlang");
    let (ring, mut writer) = new_ring(&dir);
    writer.update_status(|s| s.state = State::Ok);
    let info = info_for(1);
    let bytes = frame_for(1, CAPACITY);
    writer.publish(&bytes, &info).unwrap();
    patch(
        &ring,
        "header.compat_features",
        &camd_ring::layout::COMPAT_WAKE_EVERY_PUBLISH.to_le_bytes(),
    );
    let expected = format!(
        "{INFO_LINE}status state=ok generation=1 latest_seq=1\n{}\n",
        frame_line(1, &bytes, &info, None)
    );
    assert_every_reader_prints(&dir, &ring, &expected, "no compat bit 1");
}

#[test]
fn every_language_waits_for_and_reads_new_frames() {
    let dir = TempDir::new("xlang");
    let (ring, mut writer) = new_ring(&dir);
    writer.update_status(|s| s.state = State::Ok);
    writer
        .publish(&frame_for(1, CAPACITY), &info_for(1))
        .unwrap();

    let mut children: Vec<(&str, Child)> = readers(&dir)
        .into_iter()
        .map(|(name, mut cmd)| {
            let child = cmd
                .arg(&ring)
                .args(["--wait", "3", "--timeout-ms", "10000"])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            (name, child)
        })
        .collect();
    // Each reader says "ready" once it has taken latest_seq and is about to wait.
    let mut outputs: Vec<(&str, BufReader<std::process::ChildStdout>)> = Vec::new();
    for (name, child) in &mut children {
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        for _ in 0..3 {
            line.clear();
            stdout.read_line(&mut line).unwrap();
        }
        assert_eq!(line, "ready\n", "{name}");
        outputs.push((name, stdout));
    }
    // Lockstep: every reader prints frame N before N+1 is published, so a slow reader (one
    // under an emulator, say) still sees each frame, and each wait really blocks.
    for seq in 2..=4 {
        std::thread::sleep(Duration::from_millis(50));
        writer
            .publish(&frame_for(seq, CAPACITY), &info_for(seq))
            .unwrap();
        let expected = format!("{}\n", published_line(seq));
        for (name, stdout) in &mut outputs {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            assert_eq!(line, expected, "{name}");
        }
    }
    for ((name, mut stdout), (_, mut child)) in outputs.into_iter().zip(children) {
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        assert!(child.wait().unwrap().success(), "{name}");
        assert_eq!(rest, "", "{name}");
    }
}

#[test]
fn python_binding_unittests() {
    let out = target_python()
        .args(["-m", "unittest", "discover", "-s"])
        .arg(repo_root().join("ring/python/tests"))
        .env("CAMD_RING_LIB", lib_path())
        .output()
        .expect("python3");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.contains("\nOK"), "{stderr}");
    eprintln!(
        "{}",
        stderr
            .lines()
            .filter(|l| l.starts_with("Ran "))
            .collect::<String>()
    );
}

/// Installs the header, the libraries and the rendered pkg-config template into a temporary
/// prefix, then builds and runs the C example with only `pkg-config --cflags --libs` (shared)
/// and `--static` (libcamd_ring.a alone in its libdir).
#[test]
fn pkg_config_template_builds_the_c_example_shared_and_static() {
    let dir = TempDir::new("pkgconfig");
    let (ring, mut writer) = new_ring(&dir);
    writer
        .publish(&frame_for(1, CAPACITY), &info_for(1))
        .unwrap();
    for (kind, lib) in [("shared", "libcamd_ring.so"), ("static", "libcamd_ring.a")] {
        let prefix = dir.join(kind);
        let (libdir, includedir, pcdir) = (
            prefix.join("lib"),
            prefix.join("include"),
            prefix.join("lib/pkgconfig"),
        );
        for d in [&libdir, &includedir, &pcdir] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::copy(lib_path().with_file_name(lib), libdir.join(lib)).unwrap();
        std::fs::copy(
            repo_root().join("ring/include/camd_ring.h"),
            includedir.join("camd_ring.h"),
        )
        .unwrap();
        let pc = pkg_config_file(&prefix, env!("CARGO_PKG_VERSION"));
        std::fs::write(pcdir.join("camd-ring.pc"), pc).unwrap();

        let mut args = vec!["--cflags", "--libs"];
        if kind == "static" {
            args.push("--static");
        }
        let flags = Command::new("pkg-config")
            .args(&args)
            .arg("camd-ring")
            .env("PKG_CONFIG_PATH", &pcdir)
            .output()
            .expect("pkg-config");
        assert!(
            flags.status.success(),
            "pkg-config: {}",
            String::from_utf8_lossy(&flags.stderr)
        );
        let flags = String::from_utf8(flags.stdout).unwrap();
        let exe = dir.join(&format!("read_latest_{kind}"));
        let mut cc = target_cc();
        cc.arg(repo_root().join("ring/examples/c/read_latest.c"))
            .arg("-o")
            .arg(&exe)
            .args(flags.split_whitespace());
        if kind == "shared" {
            cc.arg(format!("-Wl,-rpath,{}", libdir.display()));
        }
        let out = cc.output().unwrap();
        assert!(
            out.status.success(),
            "{kind} link with `{flags}`: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let output = run(kind, target_command(&exe), &ring);
        assert!(
            output.ends_with(&format!("{}\n", published_line(1))),
            "{kind}: {output}"
        );
        if kind == "static" {
            // The dynamic section's NEEDED entries: readelf reads any architecture's ELF
            // (ldd would run the loader, which a cross-built executable has not here).
            let dynamic = Command::new("readelf")
                .arg("-d")
                .arg(&exe)
                .output()
                .unwrap();
            let dynamic = String::from_utf8_lossy(&dynamic.stdout);
            assert!(dynamic.contains("(NEEDED)"), "readelf -d: {dynamic}");
            assert!(
                !dynamic.contains("camd_ring"),
                "static build still links the .so"
            );
        }
    }
}
