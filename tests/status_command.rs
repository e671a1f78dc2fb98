//! `camd status`, `camd snapshot` and `camd probe` as the real binary: rings are made here with
//! `camd_ring::Writer` in every situation a listing must show (retrying with no frame, ok with
//! frames and counters, a garbage file, a dead writer, a ring another user may only read), and
//! the commands' output is checked for content, not just success. JSON is parsed by Python's
//! `json` module; Prometheus output is checked line by line against the exposition format.

use camd_test_support as support;

use camd_ring::{FrameInfo, State, Writer, WriterOptions};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use support::jpeg::jpeg_size;
use support::TempDir;

const CAMD: &str = env!("CARGO_BIN_EXE_camd");

fn camd(args: &[&str]) -> Output {
    Command::new(CAMD).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Runs `camd ARGS`, which must succeed, and returns its stdout.
fn camd_ok(args: &[&str]) -> String {
    let out = camd(args);
    assert!(
        out.status.success(),
        "camd {args:?}: {}\n{}",
        out.status,
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs `camd ARGS`, which must fail with exit status 2, and returns its stderr.
fn camd_fails(args: &[&str]) -> String {
    let out = camd(args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "camd {args:?}: {}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stderr)
}

/// A JPEG-shaped frame (SOI, a baseline SOF of `width`x`height`, a payload with every byte
/// value, EOI): the ring does not look inside frames; `jpeg_size` reads the size back.
fn jpeg_frame(width: u16, height: u16, seed: u8) -> Vec<u8> {
    let mut frame = vec![0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08];
    frame.extend(height.to_be_bytes());
    frame.extend(width.to_be_bytes());
    frame.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    frame.extend((0..5000u32).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    frame.extend([0xff, 0xd9]);
    frame
}

fn create_ring(dir: &Path, name: &str, mode: u32) -> Writer {
    let mut options = WriterOptions::new(name, 4, 64 * 1024);
    options.width = 320;
    options.height = 240;
    options.mode = mode;
    Writer::create(dir.join(format!("{name}.ring")), &options).unwrap()
}

fn publish(writer: &mut Writer, frame: &[u8]) -> u64 {
    let (width, height) = jpeg_size(frame).unwrap();
    let info = FrameInfo {
        width,
        height,
        ..FrameInfo::default()
    };
    writer.publish(frame, &info).unwrap()
}

/// Sets the measured fps. The writer recomputes fps once a second on its heartbeat: beat first,
/// so that the window restarts and our value stays for the next second.
fn set_fps(writer: &mut Writer, fps_milli: u32) {
    writer.heartbeat();
    writer.update_status(|s| s.fps_milli = fps_milli);
}

/// A ring directory with a camera in each situation:
/// - `door`: retrying (2 of 5), no frame, h264 decoded by avdec_h264, source 1920x1080;
/// - `yard`: ok, one 320x240 frame, 12.5 fps, MJPEG passed through, drops 3, oversize 1,
///   reconnects 2;
/// - `we"ird`: just created (starting), a name that needs escaping in every format;
/// - `broken.ring`: garbage bytes;
/// - and files that are not cameras: a dotfile ring (being created), `notes.txt`, the writers'
///   lock files (`.*.ring.lock`) and a doorbell camd 0.1 left (`*.ring.waiters`).
struct Site {
    dir: TempDir,
    door: Writer,
    yard: Writer,
    weird: Writer,
    yard_frame: Vec<u8>,
}

fn site(tag: &str) -> Site {
    let dir = TempDir::new(tag);
    let mut door = create_ring(dir.path(), "door", 0o640);
    door.update_status(|s| {
        s.state = State::Retrying;
        s.retry_count = 2;
        s.max_retry_attempts = 5;
        s.next_retry_mono_ns = camd_ring::monotonic_ns() + 30_000_000_000;
        s.input_codec = "h264".into();
        s.decoder = "avdec_h264".into();
        s.encoder = "jpegenc".into();
        s.source_width = 1920;
        s.source_height = 1080;
        s.last_error = "rtsp://door.local/stream: connection refused".into();
        s.last_error_realtime_ns = camd_ring::realtime_ns();
    });
    let mut yard = create_ring(dir.path(), "yard", 0o640);
    let yard_frame = jpeg_frame(320, 240, 7);
    assert_eq!(publish(&mut yard, &yard_frame), 1);
    yard.update_status(|s| {
        s.state = State::Ok;
        s.max_retry_attempts = 5;
        s.input_codec = "mjpeg".into();
        s.drops = 3;
        s.oversize = 1;
        s.reconnects = 2;
    });
    set_fps(&mut yard, 12_500);
    let weird = create_ring(dir.path(), "we\"ird", 0o640);
    std::fs::write(dir.join("broken.ring"), vec![0x5a; 300]).unwrap();
    std::fs::write(dir.join(".hidden.ring"), vec![0x5a; 300]).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a ring").unwrap();
    std::fs::write(dir.join("door.ring.waiters"), [0u8; 64]).unwrap();
    assert!(dir.join(".door.ring.lock").exists());
    Site {
        dir,
        door,
        yard,
        weird,
        yard_frame,
    }
}

impl Site {
    fn dir(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }
}

/// Parses `json` with Python and returns every camera's fields as `camera.key -> JSON text`,
/// plus `names -> [...]`. Python also checks that every camera object has the same keys.
fn cameras_json(json: &str) -> BTreeMap<String, String> {
    let script = r#"
import json, sys
doc = json.load(sys.stdin)
assert list(doc) == ["cameras"], list(doc)
cams = doc["cameras"]
assert len({tuple(c) for c in cams}) <= 1, [list(c) for c in cams]
print("names=" + json.dumps([c["name"] for c in cams]))
for c in cams:
    for key, value in c.items():
        print(c["name"] + "." + key + "=" + json.dumps(value))
"#;
    python(json, script)
        .lines()
        .map(|line| {
            let (key, value) = line.split_once('=').unwrap();
            (key.to_owned(), value.to_owned())
        })
        .collect()
}

/// Runs a Python script over `input` on stdin; it must succeed.
fn python(input: &str, script: &str) -> String {
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python rejected:\n{input}\n{}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn number(fields: &BTreeMap<String, String>, key: &str) -> f64 {
    let value = &fields[key];
    value
        .parse()
        .unwrap_or_else(|_| panic!("{key} is {value}, not a number"))
}

#[test]
fn json_lists_every_camera_with_its_status() {
    let site = site("status-json");
    let json = camd_ok(&["status", "--dir", site.dir(), "--format", "json"]);
    assert_eq!(json.lines().count(), 1, "one line: {json}");
    let f = cameras_json(&json);
    assert_eq!(f["names"], r#"["broken", "door", "we\"ird", "yard"]"#);

    assert_eq!(f["door.status"], r#""retrying""#);
    assert_eq!(f["door.up"], "false");
    // One field for the camera's error: `last_error` (there is no separate `error`).
    assert!(!f.contains_key("door.error"), "{json}");
    assert_eq!(f["door.retry_count"], "2");
    assert_eq!(f["door.max_retry_attempts"], "5");
    let next = number(&f, "door.next_retry_in_ms");
    assert!((20_000.0..=30_000.0).contains(&next), "{next}");
    assert_eq!(f["door.frame_age_ms"], "null", "no frame yet");
    assert_eq!(f["door.frames"], "0");
    assert_eq!((&*f["door.width"], &*f["door.height"]), ("1920", "1080"));
    assert_eq!(f["door.input_codec"], r#""h264""#);
    assert_eq!(f["door.decoder"], r#""avdec_h264""#);
    assert_eq!(f["door.encoder"], r#""jpegenc""#);
    assert_eq!(
        f["door.last_error"],
        r#""rtsp://door.local/stream: connection refused""#
    );
    assert!(number(&f, "door.last_error_age_ms") < 60_000.0);
    assert_eq!(f["door.writer_alive"], "true");
    assert_eq!(f["door.writer_pid"], std::process::id().to_string());
    assert_eq!(f["door.generation"], "1");

    assert_eq!(f["yard.status"], r#""ok""#);
    assert_eq!(f["yard.up"], "true");
    assert_eq!(f["yard.fps"], "12.5");
    assert!(number(&f, "yard.frame_age_ms") < 60_000.0);
    assert_eq!((&*f["yard.width"], &*f["yard.height"]), ("320", "240"));
    assert_eq!(f["yard.input_codec"], r#""mjpeg""#);
    assert_eq!(f["yard.format"], r#""jpeg""#, "the ring's frames");
    assert_eq!(f["yard.decoder"], "null", "MJPEG passthrough");
    assert_eq!(f["yard.retry_count"], "0");
    assert_eq!(f["yard.next_retry_in_ms"], "null");
    assert_eq!(f["yard.frames"], "1");
    assert_eq!(f["yard.drops"], "3");
    assert_eq!(f["yard.oversize"], "1");
    assert_eq!(f["yard.reconnects"], "2");
    assert_eq!(f["yard.last_error"], "null");
    assert_eq!(f["yard.writer_alive"], "true");

    assert_eq!(f["we\"ird.status"], r#""starting""#);
    assert_eq!(f["we\"ird.width"], "null");

    assert_eq!(f["broken.status"], r#""unreadable""#);
    assert!(
        f["broken.last_error"].contains("header.magic"),
        "{}",
        f["broken.last_error"]
    );
    assert_eq!(f["broken.up"], "false");
    assert_eq!(f["broken.fps"], "null");
    assert_eq!(f["broken.writer_alive"], "null");
    drop(site.weird);
}

#[test]
fn camera_names_filter_the_listing_and_an_unknown_one_is_an_error() {
    let site = site("status-filter");
    let json = camd_ok(&[
        "status",
        "--dir",
        site.dir(),
        "--format=json",
        "yard",
        "door",
    ]);
    assert_eq!(cameras_json(&json)["names"], r#"["door", "yard"]"#);

    let err = camd_fails(&["status", "--dir", site.dir(), "yard", "garage"]);
    assert!(err.contains("\"garage\""), "{err}");
    assert!(
        err.contains("door, we\"ird, yard") || err.contains("broken, door"),
        "{err}"
    );

    let missing = site.dir.join("nowhere");
    let err = camd_fails(&["status", "--dir", missing.to_str().unwrap()]);
    assert!(err.contains(missing.to_str().unwrap()), "{err}");

    let err = camd_fails(&["status", "--dir", site.dir(), "--format", "xml"]);
    assert!(err.contains("\"xml\""), "{err}");
    let err = camd_fails(&["status", "--bogus"]);
    assert!(err.contains("--bogus"), "{err}");
    let err = camd_fails(&["status", "--dir"]);
    assert!(err.contains("--dir needs a value"), "{err}");
}

#[test]
fn the_wide_table_is_aligned_and_says_everything() {
    let site = site("status-table");
    let table = camd_ok(&["status", "--dir", site.dir(), "--wide"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5, "{table}");
    let header = lines[0];
    assert!(header.starts_with("CAMERA "), "{table}");
    let columns = [
        "STATUS",
        "FPS",
        "AGE",
        "SIZE",
        "INPUT",
        "DECODER",
        "ENCODER",
        "RETRY",
        "NEXT",
        "PID",
        "ALIVE",
        "GEN",
        "FRAMES",
        "DROP/OVERSIZE/RECONN",
        "LAST ERROR",
    ];
    let starts: Vec<usize> = columns
        .iter()
        .map(|c| header.find(&format!(" {c}")).unwrap() + 1)
        .collect();
    let cell = |line: &str, i: usize| -> String {
        let end = starts.get(i + 1).map_or(line.len(), |&e| e.min(line.len()));
        line[starts[i]..end].trim_end().to_owned()
    };
    let row = |name: &str| -> Vec<String> {
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} row:\n{table}"));
        // Aligned: every cell starts at its column, after a space, with no space.
        for (i, &start) in starts.iter().enumerate() {
            let bytes = line.as_bytes();
            if start < line.len() {
                assert_eq!(
                    bytes[start - 1],
                    b' ',
                    "{name}: column {}\n{table}",
                    columns[i]
                );
                assert_ne!(bytes[start], b' ', "{name}: column {}\n{table}", columns[i]);
            }
        }
        (0..columns.len()).map(|i| cell(line, i)).collect()
    };
    let door = row("door");
    assert_eq!(door[0], "retrying");
    assert_eq!(door[2], "-", "no frame, no age");
    assert_eq!(door[3], "1920x1080");
    assert_eq!(door[4..7], ["h264", "avdec_h264", "jpegenc"]);
    assert_eq!(door[7], "2/5");
    assert!(door[8].ends_with('s'), "next retry in {}", door[8]);
    assert_eq!(door[9], std::process::id().to_string());
    assert_eq!(door[10], "yes");
    assert_eq!(door[12], "0");
    assert!(
        door[14].starts_with("rtsp://door.local/stream: connection refused ("),
        "{}",
        door[14]
    );
    let yard = row("yard");
    assert_eq!(yard[0], "ok");
    assert_eq!(yard[1], "12.5");
    assert!(
        yard[2].ends_with("ms") || yard[2].ends_with('s'),
        "{}",
        yard[2]
    );
    assert_eq!(yard[3], "320x240");
    assert_eq!(yard[4..7], ["mjpeg", "-", "-"]);
    assert_eq!(yard[7..9], ["-", "-"]);
    assert_eq!(yard[12], "1");
    assert_eq!(yard[13], "3/1/2");
    assert_eq!(yard[14], "-");
    let broken = row("broken");
    assert_eq!(broken[0], "unreadable");
    assert!(broken[14].contains("header.magic"), "{}", broken[14]);
    row("we\"ird");
    assert!(!table.contains('\x1b'), "no terminal codes into a pipe");
}

/// The default table fits 100 columns (issue 19): the cause is cut at a word boundary, the
/// whole text stays in --wide and json; the decoder column says passthrough for a camera whose
/// JPEG is passed through.
#[test]
fn the_default_table_fits_100_columns_and_says_what_matters() {
    let site = site("status-narrow");
    let table = camd_ok(&["status", "--dir", site.dir()]);
    for line in table.lines() {
        assert!(
            line.chars().count() <= 100,
            "{} columns: {line}\n{table}",
            line.chars().count()
        );
    }
    let header = table.lines().next().unwrap();
    let words: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        words,
        ["CAMERA", "STATUS", "FPS", "AGE", "SIZE", "DECODER", "RETRY", "CAUSE"]
    );
    let cause_at = header.find("CAUSE").unwrap();
    let row = |name: &str| -> String {
        table
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} row:\n{table}"))
            .to_owned()
    };
    let door = row("door");
    assert!(door.contains(" retrying "), "{door}");
    assert!(door.contains(" avdec_h264 "), "{door}");
    assert!(door.contains(" 2/5 in "), "{door}");
    let cause = door[cause_at..].to_owned();
    let wide = camd_ok(&["status", "--dir", site.dir(), "--wide"]);
    let whole = wide
        .lines()
        .find(|l| l.starts_with("door "))
        .and_then(|l| l.find("rtsp://door.local").map(|i| l[i..].to_owned()))
        .unwrap();
    assert!(
        whole.chars().count() > cause.chars().count(),
        "{whole} / {cause}"
    );
    let kept = cause
        .strip_suffix('…')
        .unwrap_or_else(|| panic!("not cut: {cause:?}"));
    assert!(
        whole.starts_with(kept),
        "{kept:?} is not the start of {whole:?}"
    );
    assert!(
        whole[kept.len()..].starts_with(' ') || whole[kept.len()..].starts_with([',', ':', '(']),
        "cut mid-word: {kept:?} | {whole:?}"
    );
    let yard = row("yard");
    assert!(yard.contains(" ok "), "{yard}");
    assert!(yard.contains(" passthrough "), "{yard}");
    assert!(
        yard.trim_end().ends_with(" -"),
        "an ok camera shows no cause: {yard}"
    );
    assert!(row("broken").contains(" unreadable "), "{table}");
    assert!(!table.contains('\x1b'), "no colour into a pipe");
}

/// Checks Prometheus' text exposition format: every sample line is
/// `camd_NAME{label="value",...} NUMBER`, label values escaped; every metric has one HELP and
/// one TYPE line, before its first sample. Returns the samples as `name{labels} -> value`
/// (labels as printed) and, per sample, its decoded camera label.
fn check_exposition(text: &str) -> (BTreeMap<String, String>, Vec<String>) {
    let mut help = BTreeMap::<String, usize>::new();
    let mut kind = BTreeMap::<String, usize>::new();
    let mut sampled = Vec::<String>::new();
    let mut samples = BTreeMap::new();
    let mut cameras = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help_text) = rest.split_once(' ').unwrap();
            assert!(!help_text.is_empty(), "{line}");
            *help.entry(name.to_owned()).or_default() += 1;
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, t) = rest.split_once(' ').unwrap();
            assert!(["gauge", "counter"].contains(&t), "{line}");
            assert!(
                !sampled.iter().any(|n| n == name),
                "TYPE after samples: {line}"
            );
            *kind.entry(name.to_owned()).or_default() += 1;
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "stray line {line:?}"
        );
        let name_end = line
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or_else(|| panic!("no value: {line}"));
        let name = &line[..name_end];
        assert!(name.starts_with("camd_") && name.len() > 5, "{line}");
        assert_eq!(help.get(name), Some(&1), "one HELP before {line}");
        assert_eq!(kind.get(name), Some(&1), "one TYPE before {line}");
        sampled.push(name.to_owned());
        let mut rest = &line[name_end..];
        if let Some(after) = rest.strip_prefix('{') {
            let (labels, after) = parse_labels(line, after);
            rest = after;
            let camera = labels.iter().find(|(k, _)| k == "camera");
            cameras.push(camera.expect("a camera label").1.clone());
        }
        let value = rest
            .strip_prefix(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        assert!(
            !value.is_empty()
                && value
                    .chars()
                    .all(|c| c.is_ascii_digit() || ".eE+-".contains(c)),
            "value {value:?} in {line}"
        );
        value.parse::<f64>().unwrap();
        let key = &line[..line.len() - value.len() - 1];
        assert!(
            samples.insert(key.to_owned(), value.to_owned()).is_none(),
            "duplicate {key}"
        );
    }
    for name in help.keys().chain(kind.keys()) {
        assert_eq!(help.get(name), Some(&1), "HELP of {name}");
        assert_eq!(kind.get(name), Some(&1), "TYPE of {name}");
    }
    (samples, cameras)
}

/// `key="value",...}` (after the `{`): the decoded labels and the text after the `}`.
fn parse_labels<'a>(line: &str, mut rest: &'a str) -> (Vec<(String, String)>, &'a str) {
    let mut labels = Vec::new();
    loop {
        let eq = rest.find('=').unwrap_or_else(|| panic!("no = in {line}"));
        let key = &rest[..eq];
        assert!(
            !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "label name {key:?} in {line}"
        );
        rest = rest[eq + 1..]
            .strip_prefix('"')
            .unwrap_or_else(|| panic!("unquoted value in {line}"));
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, c @ ('\\' | '"'))) => value.push(c),
                    Some((_, 'n')) => value.push('\n'),
                    other => panic!("bad escape {other:?} in {line}"),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => panic!("unterminated label value in {line}"),
            }
        };
        labels.push((key.to_owned(), value));
        rest = &rest[end + 1..];
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if let Some(after) = rest.strip_prefix('}') {
            return (labels, after);
        } else {
            panic!("expected , or }} after a label in {line}");
        }
    }
}

#[test]
fn prometheus_output_follows_the_exposition_format() {
    let site = site("status-prom");
    let text = camd_ok(&["status", "--dir", site.dir(), "--format", "prometheus"]);
    let (samples, cameras) = check_exposition(&text);
    let value = |key: &str| -> &str {
        samples
            .get(key)
            .unwrap_or_else(|| panic!("no {key} in\n{text}"))
    };
    assert_eq!(value(r#"camd_camera_up{camera="yard"}"#), "1");
    assert_eq!(value(r#"camd_camera_up{camera="door"}"#), "0");
    assert_eq!(value(r#"camd_camera_up{camera="broken"}"#), "0");
    assert_eq!(
        value(r#"camd_camera_state{camera="door",state="retrying"}"#),
        "1"
    );
    assert_eq!(value(r#"camd_camera_state{camera="door",state="ok"}"#), "0");
    assert_eq!(
        value(r#"camd_camera_state{camera="broken",state="unreadable"}"#),
        "1"
    );
    assert_eq!(
        value(r#"camd_camera_state{camera="we\"ird",state="starting"}"#),
        "1"
    );
    for camera in ["door", "yard", "broken", "we\\\"ird"] {
        let states: Vec<&str> = samples
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("camd_camera_state{{camera=\"{camera}\",")))
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(states.len(), 8, "every state for {camera}");
        assert_eq!(
            states.iter().filter(|v| **v == "1").count(),
            1,
            "one-hot: {camera}"
        );
    }
    assert!(
        cameras.iter().any(|c| c == "we\"ird"),
        "escaped label decodes back"
    );
    assert_eq!(value(r#"camd_camera_fps{camera="yard"}"#), "12.5");
    assert_eq!(value(r#"camd_camera_retry_count{camera="door"}"#), "2");
    assert_eq!(value(r#"camd_camera_frames_total{camera="yard"}"#), "1");
    assert_eq!(value(r#"camd_camera_drops_total{camera="yard"}"#), "3");
    assert_eq!(value(r#"camd_camera_oversize_total{camera="yard"}"#), "1");
    assert_eq!(value(r#"camd_camera_reconnects_total{camera="yard"}"#), "2");
    assert_eq!(value(r#"camd_camera_writer_alive{camera="door"}"#), "1");
    let age: f64 = value(r#"camd_camera_frame_age_seconds{camera="yard"}"#)
        .parse()
        .unwrap();
    assert!((0.0..60.0).contains(&age), "{age}");
    assert!(
        !samples.contains_key(r#"camd_camera_frame_age_seconds{camera="door"}"#),
        "no frame, no age"
    );
    assert!(
        !samples.keys().any(|k| k.contains("camera=\"broken\"")
            && !k.starts_with("camd_camera_up")
            && !k.starts_with("camd_camera_state")),
        "an unreadable ring has only up and state"
    );
    assert_eq!(
        value(
            r#"camd_camera_info{camera="door",input_codec="h264",decoder="avdec_h264",encoder="jpegenc"}"#
        ),
        "1"
    );
}

/// Overwrites the ring's last heartbeat (`liveness.heartbeat_mono_ns`, the first field of the
/// liveness block) with a time `age` ago: the ring of a writer that died that long ago.
fn age_heartbeat(ring: &Path, age: Duration) {
    use std::io::{Seek, SeekFrom};
    let long_ago = camd_ring::monotonic_ns()
        .saturating_sub(age.as_nanos() as u64)
        .max(1);
    let mut file = std::fs::OpenOptions::new().write(true).open(ring).unwrap();
    file.seek(SeekFrom::Start(camd_ring::layout::LIVENESS_OFFSET as u64))
        .unwrap();
    file.write_all(&long_ago.to_le_bytes()).unwrap();
}

#[test]
fn a_dead_writer_is_not_alive() {
    let dir = TempDir::new("status-dead");
    let d = dir.path().to_str().unwrap();
    let mut writer = create_ring(dir.path(), "porch", 0o640);
    publish(&mut writer, &jpeg_frame(64, 48, 1));
    writer.update_status(|s| s.state = State::Ok);
    let alive = |args: &[&str]| cameras_json(&camd_ok(args))["porch.writer_alive"].clone();
    let args = ["status", "--dir", d, "--format", "json"];
    assert_eq!(alive(&args), "true", "the writer lives");

    drop(writer);
    // `writer_alive` is the heartbeat rule of docs/ring-format.md (a sign of life within 3 s),
    // not the writer's lock: just after the writer went away it still counts as alive.
    assert_eq!(alive(&args), "true", "heartbeat younger than 3 s");
    // Instead of waiting 3 s: the ring as a writer that died 10 s ago leaves it.
    age_heartbeat(&dir.join("porch.ring"), Duration::from_secs(10));
    let f = cameras_json(&camd_ok(&args));
    assert_eq!(f["porch.writer_alive"], "false");
    assert!(number(&f, "porch.heartbeat_age_ms") >= 10_000.0);
    assert_eq!(
        f["porch.status"], r#""ok""#,
        "the state is the last one written"
    );
    let table = camd_ok(&["status", "--dir", d, "--wide"]);
    let header = table.lines().next().unwrap();
    let alive_column = header.find(" ALIVE").unwrap() + 1;
    let row = table.lines().nth(1).unwrap();
    assert_eq!(&row[alive_column..alive_column + 3], "no ", "{table}");
    let prom = camd_ok(&["status", "--dir", d, "--format", "prometheus"]);
    assert!(
        prom.contains("camd_camera_writer_alive{camera=\"porch\"} 0\n"),
        "{prom}"
    );
    // Its last state says ok, but nothing writes it: down.
    assert!(
        prom.contains("camd_camera_up{camera=\"porch\"} 0\n"),
        "{prom}"
    );
    assert_eq!(f["porch.up"], "false");
}

#[test]
fn watch_lists_again_with_fresh_values() {
    let mut site = site("status-watch");
    let mut child = Command::new(CAMD)
        .args([
            "status",
            "--dir",
            site.dir(),
            "--format",
            "json",
            "--watch",
            "0.1",
            "yard",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert_eq!(cameras_json(&first)["yard.frames"], "1");
    assert!(!first.contains('\x1b'), "no screen codes into a pipe");
    publish(&mut site.yard, &jpeg_frame(320, 240, 9));
    // Each listing is a line; within 50 of them (5 s) one must show the new frame.
    let seen = lines
        .take(50)
        .map(|line| cameras_json(&line.unwrap())["yard.frames"].clone())
        .any(|frames| frames == "2");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(seen, "the watch never showed frame 2");
}

/// On a terminal (a pseudo-terminal from util-linux's `script`), `--watch` redraws in place:
/// every listing starts at the cursor's home and clears what is left below it, each is the same
/// number of lines, none wider than 100 columns, so the screen never scrolls. Colour is on.
#[test]
fn watch_on_a_terminal_redraws_one_screen_in_place() {
    let site = site("status-tty");
    let command = format!("{CAMD} status --watch 0.2 --dir {}", site.dir());
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("util-linux's script (a pseudo-terminal)");
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    child.wait().unwrap();
    let screens: Vec<&str> = out
        .split("\x1b[H")
        .skip(1)
        .filter_map(|s| s.split("\x1b[J").next())
        .collect();
    assert!(
        screens.len() >= 4,
        "{} listings in 1.5 s: {out:?}",
        screens.len()
    );
    let strip = |line: &str| -> String {
        let mut plain = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else if c != '\r' {
                plain.push(c);
            }
        }
        plain
    };
    let heights: Vec<usize> = screens.iter().map(|s| s.lines().count()).collect();
    assert!(heights.windows(2).all(|w| w[0] == w[1]), "{heights:?}");
    for screen in &screens {
        for line in screen.lines() {
            assert!(strip(line).chars().count() <= 100, "{:?}", strip(line));
        }
    }
    assert!(
        screens[1].contains("every 200ms, Ctrl-C to stop"),
        "{:?}",
        screens[1]
    );
    assert!(
        out.contains("\x1b[32mok\x1b[0m"),
        "no colour for ok: {out:?}"
    );

    // NO_COLOR (no-color.org): the same screen, without colour.
    let once = format!("{CAMD} status --dir {}", site.dir());
    let plain = Command::new("script")
        .args(["-q", "-e", "-c", &once, "/dev/null"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let plain = String::from_utf8_lossy(&plain.stdout);
    assert!(
        plain.contains("yard ") && !plain.contains("\x1b[3"),
        "{plain:?}"
    );
}

#[test]
fn snapshot_all_writes_every_camera_that_has_a_frame() {
    let site = site("snapshot-all");
    let out_dir = TempDir::new("snapshot-all-out");
    let into = out_dir.join("sheet");
    let out = camd(&[
        "snapshot",
        "--all",
        "-o",
        into.to_str().unwrap(),
        "--dir",
        site.dir(),
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert_eq!(
        std::fs::read(into.join("yard.jpg")).unwrap(),
        site.yard_frame
    );
    assert!(stdout.starts_with("yard: frame 1, 320x240, "), "{stdout}");
    // door has no frame: said, not fatal; no file for it.
    assert!(
        stderr.contains("camera door has no frame yet (status retrying"),
        "{stderr}"
    );
    assert!(!into.join("door.jpg").exists());
    let err = camd_fails(&["snapshot", "--all", "--dir", site.dir()]);
    assert!(err.contains("--all needs a directory"), "{err}");
    let err = camd_fails(&["snapshot", "--all", "yard", "-o", "x", "--dir", site.dir()]);
    assert!(err.contains("--all or camera names"), "{err}");
}

#[test]
fn snapshot_writes_exactly_the_latest_frame() {
    let mut site = site("snapshot");
    let out_dir = TempDir::new("snapshot-out");
    let out = out_dir.join("yard.jpg");
    let out_s = out.to_str().unwrap();
    let said = camd_ok(&["snapshot", "yard", "-o", out_s, "--dir", site.dir()]);
    assert_eq!(std::fs::read(&out).unwrap(), site.yard_frame);
    let prefix = format!(
        "yard: frame 1, 320x240, {} bytes, age ",
        site.yard_frame.len()
    );
    let age = said
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix(&format!(" ms -> {out_s}\n")))
        .unwrap_or_else(|| panic!("{said:?}"));
    assert!(age.parse::<u64>().unwrap() < 60_000, "{age}");

    // A newer frame replaces the file (renamed over it), and no temporary file is left.
    let newer = jpeg_frame(320, 240, 99);
    assert_eq!(publish(&mut site.yard, &newer), 2);
    let said = camd_ok(&["snapshot", "--dir", site.dir(), "yard", "-o", out_s]);
    assert!(said.starts_with("yard: frame 2, 320x240"), "{said}");
    assert_eq!(std::fs::read(&out).unwrap(), newer);
    let names: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["yard.jpg"]);

    // A JPEG camera's frame is written as it is: a .png name would hold a JPEG, so it is refused.
    let png = out_dir.join("yard.png");
    let err = camd_fails(&[
        "snapshot",
        "yard",
        "-o",
        png.to_str().unwrap(),
        "--dir",
        site.dir(),
    ]);
    assert!(
        err.contains("camera \"yard\" publishes JPEG") && err.contains("yard.png"),
        "{err}"
    );
    assert!(!png.exists());

    // To stdout: the bytes alone on stdout, the summary on stderr.
    let piped = camd(&["snapshot", "yard", "-o", "-", "--dir", site.dir()]);
    assert!(piped.status.success(), "{}", text(&piped.stderr));
    assert_eq!(piped.stdout, newer);
    assert!(
        text(&piped.stderr).starts_with("yard: frame 2, 320x240"),
        "{}",
        text(&piped.stderr)
    );
}

#[test]
fn snapshot_without_a_frame_says_why() {
    let site = site("snapshot-none");
    let out = site.dir.join("door.jpg");
    let err = camd_fails(&[
        "snapshot",
        "door",
        "-o",
        out.to_str().unwrap(),
        "--dir",
        site.dir(),
    ]);
    assert!(
        err.contains("camera door has no frame yet (status retrying, retry 2/5, last error: rtsp://door.local/stream: connection refused)"),
        "{err}"
    );
    assert!(!out.exists());
    let err = camd_fails(&["snapshot", "garage", "-o", "x.jpg", "--dir", site.dir()]);
    assert!(err.contains("\"garage\""), "{err}");
    let err = camd_fails(&["snapshot", "yard", "--dir", site.dir()]);
    assert!(err.contains("-o"), "{err}");
    let err = camd_fails(&["snapshot", "broken", "-o", "x.jpg", "--dir", site.dir()]);
    assert!(err.contains("header.magic"), "{err}");
    drop(site.door);
}

#[test]
fn another_user_with_read_access_sees_the_status() {
    assert!(
        support::is_root(),
        "this test runs camd as a second user: run it as root (CI does)"
    );
    support::foreign_servers::require("setpriv", "util-linux");
    let dir = TempDir::new("status-other-user");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // The build directory may be closed to other users: run a copy of the binary.
    let camd_copy = dir.join("camd");
    std::fs::copy(CAMD, &camd_copy).unwrap();
    std::fs::set_permissions(&camd_copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut lobby = create_ring(dir.path(), "lobby", 0o644);
    let frame = jpeg_frame(160, 120, 3);
    publish(&mut lobby, &frame);
    lobby.update_status(|s| s.state = State::Ok);
    let _private = create_ring(dir.path(), "private", 0o600);
    let as_nobody = |args: &[&str]| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&camd_copy)
            .args(args)
            .output()
            .unwrap()
    };
    let d = dir.path().to_str().unwrap();
    let out = as_nobody(&["status", "--dir", d, "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let f = cameras_json(&text(&out.stdout));
    assert_eq!(f["lobby.status"], r#""ok""#);
    assert_eq!(f["lobby.writer_alive"], "true");
    assert_eq!(f["lobby.frames"], "1");
    assert_eq!(f["private.status"], r#""unreadable""#);
    assert!(
        f["private.last_error"].contains("ermission denied"),
        "{}",
        f["private.last_error"]
    );
    let out = as_nobody(&["snapshot", "lobby", "-o", "-", "--dir", d]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(out.stdout, frame);
}

#[test]
fn probe_lists_devices_and_the_decoders_camd_would_pick() {
    let table = camd_ok(&["probe"]);
    let has_video_nodes = std::fs::read_dir("/dev").unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with("video"))
    });
    if has_video_nodes {
        assert!(table.contains("/dev/video"), "{table}");
    } else {
        assert!(table.contains("no V4L2 devices"), "{table}");
    }
    assert!(table.contains("\nGStreamer 1."), "{table}");
    let h264 = table.split("\n  h264\n").nth(1).expect("an h264 section");
    let avdec = h264
        .lines()
        .find(|l| l.trim_start().starts_with("avdec_h264 "))
        .unwrap_or_else(|| panic!("{table}"));
    let words: Vec<&str> = avdec.split_whitespace().collect();
    assert_eq!(
        words,
        [
            "avdec_h264",
            "software",
            "present",
            "<-",
            "camd",
            "uses",
            "this"
        ]
    );
    let v4l2h264dec = h264
        .lines()
        .find(|l| l.trim_start().starts_with("v4l2h264dec "))
        .unwrap();
    assert!(v4l2h264dec.contains(" hardware "), "{v4l2h264dec}");

    let json = camd_ok(&["probe", "--format", "json"]);
    let script = r#"
import json, sys
doc = json.load(sys.stdin)
h264 = doc["gstreamer"]["decoders"]["h264"]
avdec = [c for c in h264["candidates"] if c["name"] == "avdec_h264"][0]
print(h264["picked"], avdec["present"], avdec["hardware"])
print(len(doc["v4l2"]["devices"]), doc["gstreamer"]["jpeg_encoders"]["picked"] is not None)
"#;
    let facts = python(&json, script);
    let mut lines = facts.lines();
    assert_eq!(lines.next(), Some("avdec_h264 True False"));
    let devices = lines.next().unwrap();
    if !has_video_nodes {
        assert_eq!(devices, "0 True");
    }
}
