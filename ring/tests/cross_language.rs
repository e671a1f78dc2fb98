//! Frames written by Rust, read by the reader examples in C, Python (over libcamd_ring, with
//! numpy and with its import blocked) and Rust, and by `spec_reader.py` (pure Python written
//! from docs/ring-format.md alone): every reader must print the same bytes' hashes and the same
//! metadata, line for line, and for raw rings (RGB, BGR, NV12) the same layout and pixels, read
//! through the layout's offsets and strides (in place while waiting). The Python binding's numpy
//! view against the live writer (`numpy_view.py`: the array is the slot, and an overwritten frame
//! is refused). Also runs the Python binding's own unittests.

use camd_ring_test_support as common;

use camd_ring::{Codec, FrameInfo, PixelLayout, State, Writer, WriterOptions};
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
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

/// Runs a Python script (then its arguments) with numpy's import blocked, as on a machine
/// without numpy: `python3 -c BLOCK_NUMPY SCRIPT ARGS...`.
const BLOCK_NUMPY: &str = "import runpy, sys; sys.modules['numpy'] = None; \
     sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')";

/// Every reader as a command line taking `RING [--wait N]`.
fn readers(dir: &TempDir) -> Vec<(&'static str, Command)> {
    let root = repo_root();
    let python = |script: PathBuf| {
        let mut cmd = target_python();
        cmd.arg(script).env("CAMD_RING_LIB", lib_path());
        cmd
    };
    let example = root.join("ring/python/examples/read_latest.py");
    let mut without_numpy = target_python();
    without_numpy
        .args(["-c", BLOCK_NUMPY])
        .arg(&example)
        .env("CAMD_RING_LIB", lib_path());
    let rust = target_dir().join("examples/read_latest");
    assert!(rust.exists(), "{} missing: {BUILD_FIRST}", rust.display());
    vec![
        ("c", target_command(c_reader(dir))),
        ("python", python(example)),
        ("python without numpy", without_numpy),
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
const INFO_LINE: &str =
    "info name=front-door slots=4 capacity=65536 codec=jpeg width=1280 height=720\n";

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
    wait_in_lockstep(
        &dir,
        &ring,
        &mut |seq| {
            writer
                .publish(&frame_for(seq, CAPACITY), &info_for(seq))
                .unwrap();
        },
        &|seq| format!("{}\n", published_line(seq)),
    );
}

/// Publishes frame 1, starts every reader with `--wait 3`, then publishes frames 2 to 4, each
/// once every reader has printed the one before (`expected(seq)`, one or more lines).
fn wait_in_lockstep(
    dir: &TempDir,
    ring: &Path,
    publish: &mut dyn FnMut(u64),
    expected: &dyn Fn(u64) -> String,
) {
    publish(1);
    let mut children: Vec<(&str, Child)> = readers(dir)
        .into_iter()
        .map(|(name, mut cmd)| {
            let child = cmd
                .arg(ring)
                .args(["--wait", "3", "--timeout-ms", "10000"])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            (name, child)
        })
        .collect();
    // Each reader says "ready" once it has taken latest_seq and is about to wait, after the
    // info, layout (raw rings) and status lines.
    let mut outputs: Vec<(&str, BufReader<std::process::ChildStdout>)> = Vec::new();
    for (name, child) in &mut children {
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        for _ in 0..4 {
            line.clear();
            stdout.read_line(&mut line).unwrap();
            if line == "ready\n" || line.is_empty() {
                break;
            }
        }
        assert_eq!(line, "ready\n", "{name}");
        outputs.push((name, stdout));
    }
    // Lockstep: every reader prints frame N before N+1 is published, so a slow reader (one
    // under an emulator, say) still sees each frame, and each wait really blocks.
    for seq in 2..=4 {
        std::thread::sleep(Duration::from_millis(50));
        publish(seq);
        let expected = expected(seq);
        for (name, stdout) in &mut outputs {
            let mut lines = String::new();
            for _ in 0..expected.lines().count() {
                stdout.read_line(&mut lines).unwrap();
            }
            assert_eq!(lines, expected, "{name}");
        }
    }
    for ((name, mut stdout), (_, mut child)) in outputs.into_iter().zip(children) {
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        assert!(child.wait().unwrap().success(), "{name}");
        assert_eq!(rest, "", "{name}");
    }
}

/// The raw rings the tests read, and the layout line every reader prints for each: rows padded
/// to a multiple of 4 bytes in each (RGB 62 x 3 = 186 bytes of pixels in rows 188 apart, BGR 90
/// in 92, NV12 66 in 68), worked out from docs/ring-format.md's "Raw frames".
const RAW: [(Codec, u32, u32, &str); 3] = [
    (
        Codec::Rgb,
        62,
        48,
        "frame_size=9024 plane_offsets=0,0 plane_strides=188,0",
    ),
    (
        Codec::Bgr,
        30,
        20,
        "frame_size=1840 plane_offsets=0,0 plane_strides=92,0",
    ),
    (
        Codec::Nv12,
        66,
        50,
        "frame_size=5100 plane_offsets=0,3400 plane_strides=68,68",
    ),
];

/// A ring of raw `codec` frames of `width` x `height`, 4 slots, and its layout.
fn new_raw_ring(
    dir: &TempDir,
    codec: Codec,
    width: u32,
    height: u32,
) -> (PathBuf, Writer, PixelLayout) {
    let path = dir.join(&format!("door-{}.ring", codec.name()));
    let options = WriterOptions {
        width,
        height,
        codec,
        ..WriterOptions::new("door", 4, CAPACITY as u32)
    };
    let writer = Writer::create(&path, &options).unwrap();
    let layout = writer.geometry().layout.expect("a raw ring has a layout");
    (path, writer, layout)
}

/// Byte `col` of row `row` of plane `plane` in raw frame `seq`, the test pattern (numpy_view.py
/// computes the same).
fn raw_byte(seq: u64, plane: usize, row: usize, col: usize) -> u8 {
    ((seq as usize * 31 + plane * 17 + row * 7 + col * 3) % 256) as u8
}

/// What a raw frame's row padding holds (anything: a reader must skip it).
const PADDING: u8 = 0xa5;

/// Raw frame `seq`: the pattern in every plane's rows, laid out as `layout` says.
fn raw_frame(layout: &PixelLayout, seq: u64) -> Vec<u8> {
    let mut frame = vec![PADDING; layout.frame_size as usize];
    for plane in 0..layout.codec.plane_count() {
        let (row, rows) = layout.plane_shape(plane);
        for r in 0..rows {
            let start =
                layout.plane_offsets[plane] as usize + r * layout.plane_strides[plane] as usize;
            for c in 0..row {
                frame[start + c] = raw_byte(seq, plane, r, c);
            }
        }
    }
    frame
}

fn raw_info(layout: &PixelLayout, seq: u64) -> FrameInfo {
    FrameInfo {
        width: layout.width,
        height: layout.height,
        ..info_for(seq)
    }
}

fn publish_raw(writer: &mut Writer, layout: &PixelLayout, seq: u64) {
    writer
        .publish(&raw_frame(layout, seq), &raw_info(layout, seq))
        .unwrap();
}

/// The lines every reader prints for raw frame `seq`: its frame line, then its first and last
/// pixels as R,G,B (RGB; BGR's bytes turned round) or Y,U,V (NV12: the U,V pair of the pixel's
/// 2x2 block), from the pattern.
fn raw_lines(layout: &PixelLayout, seq: u64) -> String {
    let info = raw_info(layout, seq);
    let mut out = format!(
        "{}\n",
        frame_line(seq, &raw_frame(layout, seq), &info, info.ts_camera_ns)
    );
    let (w, h) = (layout.width as usize, layout.height as usize);
    for (x, y) in [(0, 0), (w - 1, h - 1)] {
        let rgb = |k: usize| raw_byte(seq, 0, y, 3 * x + k);
        let values = match layout.codec {
            Codec::Rgb => format!("rgb={},{},{}", rgb(0), rgb(1), rgb(2)),
            Codec::Bgr => format!("rgb={},{},{}", rgb(2), rgb(1), rgb(0)),
            Codec::Nv12 => format!(
                "yuv={},{},{}",
                raw_byte(seq, 0, y, x),
                raw_byte(seq, 1, y / 2, x / 2 * 2),
                raw_byte(seq, 1, y / 2, x / 2 * 2 + 1)
            ),
            Codec::Jpeg => unreachable!("a raw ring"),
        };
        out += &format!("pixel x={x} y={y} {values}\n");
    }
    out
}

#[test]
fn every_language_reads_the_same_raw_pixels() {
    for (i, (codec, width, height, layout_line)) in RAW.into_iter().enumerate() {
        let dir = TempDir::new("xlang-raw");
        let (ring, mut writer, layout) = new_raw_ring(&dir, codec, width, height);
        let head = format!(
            "info name=door slots=4 capacity={CAPACITY} codec={} width={width} height={height}\n\
             layout {layout_line}\n",
            codec.name()
        );
        if i == 0 {
            // Before the first frame (once: under qemu every reader's start is slow).
            let expected =
                format!("{head}status state=starting generation=1 latest_seq=0\nno frame\n");
            assert_every_reader_prints(&dir, &ring, &expected, &format!("empty {codec:?} ring"));
        }

        writer.update_status(|s| s.state = State::Ok);
        for seq in 1..=5 {
            publish_raw(&mut writer, &layout, seq);
        }
        let expected = format!(
            "{head}status state=ok generation=1 latest_seq=5\n{}",
            raw_lines(&layout, 5)
        );
        assert_every_reader_prints(&dir, &ring, &expected, &format!("{codec:?}"));
    }
}

/// While waiting, the C, Rust and Python readers read each raw frame's pixels in place from the
/// borrowed slot (Python: `BorrowedFrame.pixels()`, a numpy array, or the bytes without numpy).
#[test]
fn every_language_waits_for_and_reads_raw_pixels_in_place() {
    for (codec, width, height, _) in RAW {
        let dir = TempDir::new("xlang-raw");
        let (ring, mut writer, layout) = new_raw_ring(&dir, codec, width, height);
        writer.update_status(|s| s.state = State::Ok);
        wait_in_lockstep(
            &dir,
            &ring,
            &mut |seq| publish_raw(&mut writer, &layout, seq),
            &|seq| raw_lines(&layout, seq),
        );
    }
}

/// The Python numpy view of a borrowed raw frame against this writer (`numpy_view.py` checks
/// each step and prints its line): the arrays are the slot in the mapping, read-only, with the
/// pattern; unchanged while slot_count - 1 newer frames are published; then, with no new borrow,
/// they show the frame that reused the slot, and pixels() and planes() refuse the overwritten
/// frame (FrameGone), as a borrow does; release() and close() work while they live.
#[test]
fn python_numpy_view_is_the_slot_and_refuses_an_overwritten_frame() {
    for (codec, width, height, _) in [RAW[0], RAW[2]] {
        let dir = TempDir::new("numpy");
        let (ring, mut writer, layout) = new_raw_ring(&dir, codec, width, height);
        publish_raw(&mut writer, &layout, 1);
        let mut child = target_python()
            .arg(repo_root().join("ring/tests/numpy_view.py"))
            .arg(&ring)
            .env("CAMD_RING_LIB", lib_path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut lines = String::new();
        stdout.read_line(&mut lines).unwrap();
        for seq in 2..=4 {
            publish_raw(&mut writer, &layout, seq);
        }
        // Errors ignored: a script that failed has gone, and says why on stderr.
        let _ = writeln!(stdin, "published 2 to 4");
        stdout.read_line(&mut lines).unwrap();
        publish_raw(&mut writer, &layout, 5);
        let _ = writeln!(stdin, "published 5");
        stdout.read_to_string(&mut lines).unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        let name = codec.name();
        let expected = format!(
            "borrowed frame 1: its {name} arrays are the slot, read-only, the pattern\n\
             frame 1 after 3 newer frames: unchanged, intact\n\
             frame 5 in its slot: the arrays show it; pixels() and planes() raise FrameGone\n\
             released and closed: the arrays kept the mapping, which went with them\n"
        );
        assert!(
            out.status.success() && lines == expected,
            "numpy_view.py, {name} ({}):\n{lines}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
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
    // The Python tests fail rather than skip: a skip here is a test that ran nothing.
    assert!(!stderr.contains("skipped="), "{stderr}");
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
