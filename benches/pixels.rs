//! `cargo xtask bench pixels`: what an inference program's pixels cost, camd and consumer
//! together, as a table and as JSON (target/bench/pixels.json).
//!
//! The fake cameras run in their own process: one shared textured, moving 1280x720@15 H.264
//! mount with a keyframe every 30 frames, set explicitly (`:gop=30`, x264enc `key-int-max=30`,
//! which is also the fake cameras' default of 2 x fps); their CPU is counted nowhere. Every run
//! has 8 cameras on that mount (RTSP over TCP) and is measured alone, in windows of equal length
//! after its start and a warm-up; rounds alternate the order of the runs. The runs:
//!
//! - `jpeg`: `camd run` as shipped (JPEG of the camera's 1280x720, quality 85) and 8 consumer
//!   processes, one a camera, that need RGB at 640x360: `bench/pixels/consumer.py jpeg`
//!   (wait_next, copy_latest, `cv2.imdecode`, `cv2.resize`, `cv2.cvtColor` BGR->RGB);
//! - `raw`: `format = "rgb"`, 640x360; the consumers (`consumer.py raw`) wait_next,
//!   borrow_latest and view the slot in place with NumPy (rows of the ring's stride), check
//!   `intact()`. Both kinds of consumer end with the same RGB 640x360 uint8 array and do the same
//!   cheap reduction over it (the sum of its middle column: every row read);
//! - `full_decode_max_fps_1` and `keyframes`: RGB 640x360 with `max_fps = 1` (every frame
//!   decoded, one a second kept) and with `decode = "keyframes"` (only keyframes decoded: 0.5
//!   fps from this camera), raw consumers;
//! - `max_fps_3_after`: JPEG at 640x360 with `max_fps = 3`, camd as it is now (decode, rate,
//!   scale, convert, encode); `max_fps_3_before_bare` and `max_fps_3_after_bare`: the same
//!   work as 8 bare GStreamer pipelines in a child process of this binary (`--bare`), in the
//!   order camd had before `max_fps` moved (decode, scale, rate, convert, encode) and in the new
//!   one. camd keeps no switch for the old order: the bare pipeline stands in for it;
//! - `full_decode_max_fps_1_bare` and `keyframes_bare`: those two runs' work as bare pipelines
//!   (`identity drop-buffer-flags=delta-unit` after the parser stands in for camd's probe), so
//!   `keyframes_cpu_ratio_bare` is the ratio GStreamer itself reaches on this stream in the same
//!   run: the ceiling for camd's;
//! - where the CPU goes, no target: `raw_bare` (camd's first raw tail as a bare pipeline:
//!   decode, `videoconvertscale` to RGB 640x360 in one pass), `raw_two_step_bare` (camd's raw
//!   tail now: decode, `videoscale` to 640x360 in the decoder's I420, then `videoconvert` to
//!   RGB) and `receive_bare` (RTSP,
//!   depayloader and parser only: what every frame costs even when none is decoded).
//!
//! Per run: CPU (utime + stime from /proc of every process: the supervisor, the workers, the
//! consumers, or the bare process, over the window), frames published per camera (ring
//! sequence numbers over the window; the bare pipelines count buffers at their sink) and
//! delivered per consumer (frames it held whose sequence numbers were published inside the
//! window), latency (CLOCK_MONOTONIC when the consumer has its array minus the frame's
//! `ts_mono_ns`, camd's capture time: decode, conversion or encode, the ring and the consumer's
//! own work are inside it).
//!
//! Figures: `total_cpu_jpeg` and `total_cpu_raw` (camd's workers plus the consumers, ms of CPU
//! per delivered frame) and their ratio `pixels_cpu_ratio`; `keyframes_cpu_ratio` (the workers'
//! CPU, full decode at max_fps 1 over keyframes only; `..._bare`: the same over the bare
//! pipelines); `max_fps_before_scale_ratio` (the old
//! order's bare pipelines over camd's workers now; `..._bare`: over the new order's bare
//! pipelines, the order alone).
//!
//! Usage: pixels [--json PATH] [--quick]
//! Child mode: pixels --bare URL N VARIANT
//! Environment: CAMD_BENCH_PYTHON, an interpreter with OpenCV and NumPy (default python3).

use camd_test_support as support;

use support::processes::{
    self, python, read_lines, reap, start_camd, stdout_lines, stop_camd, tail, until_ready,
    CpuWindow, Options, Timing,
};

use gstreamer as gst;
use gstreamer::prelude::*;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const CAMERAS: usize = 8;
const CAMERA_FPS: u32 = 15;
/// Frames from one keyframe to the next at the fake camera.
const GOP: u32 = 30;
/// What the model takes.
const WIDTH: u32 = 640;
const HEIGHT: u32 = 360;
/// After the window, before stopping: frames published in the window still on their way.
const DRAIN: Duration = Duration::from_millis(500);

const PIXELS_TARGET: f64 = 3.0;
const KEYFRAMES_TARGET: f64 = 8.0;
const DELIVERED_TARGET: f64 = 0.99;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Consumer {
    Jpeg,
    Raw,
}

impl Consumer {
    fn mode(self) -> &'static str {
        match self {
            Consumer::Jpeg => "jpeg",
            Consumer::Raw => "raw",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Run {
    /// `camd run` with these lines in `[daemon.defaults]`, a consumer a camera.
    Camd {
        settings: &'static str,
        consumer: Consumer,
    },
    /// Bare pipelines in a child process: `rtspsrc ! rtph264depay ! h264parse [! TAIL] !
    /// fakesink`, one a camera.
    Bare { tail: &'static str },
}

struct Variant {
    key: &'static str,
    what: &'static str,
    run: Run,
}

/// camd's software raw tail as a bare pipeline: scale in the decoder's I420, then convert to
/// the model's RGB 640x360 (a macro, so the variants' tails stay `&'static str`).
macro_rules! to_model_rgb {
    () => {
        "videoscale add-borders=false ! video/x-raw,width=640,height=360,pixel-aspect-ratio=1/1 \
         ! videoconvert ! video/x-raw,format=RGB"
    };
}

const VARIANTS: &[Variant] = &[
    Variant {
        key: "jpeg",
        what: "JPEG 1280x720; consumer: imdecode, resize, cvtColor",
        run: Run::Camd {
            settings: "",
            consumer: Consumer::Jpeg,
        },
    },
    Variant {
        key: "raw",
        what: "format = \"rgb\" 640x360; consumer: NumPy view in place",
        run: Run::Camd {
            settings: "format = \"rgb\"\nwidth = 640\nheight = 360\n",
            consumer: Consumer::Raw,
        },
    },
    Variant {
        key: "full_decode_max_fps_1",
        what: "rgb 640x360, max_fps = 1 (every frame decoded)",
        run: Run::Camd {
            settings: "format = \"rgb\"\nwidth = 640\nheight = 360\nmax_fps = 1\n",
            consumer: Consumer::Raw,
        },
    },
    Variant {
        key: "keyframes",
        what: "rgb 640x360, decode = \"keyframes\"",
        run: Run::Camd {
            settings: "format = \"rgb\"\nwidth = 640\nheight = 360\ndecode = \"keyframes\"\n",
            consumer: Consumer::Raw,
        },
    },
    Variant {
        key: "max_fps_3_after",
        what: "JPEG 640x360, max_fps = 3: camd now (rate, then scale)",
        run: Run::Camd {
            settings: "width = 640\nheight = 360\nmax_fps = 3\n",
            consumer: Consumer::Jpeg,
        },
    },
    Variant {
        key: "max_fps_3_before_bare",
        what: "bare: decode, scale, rate, convert, encode (camd's old order)",
        run: Run::Bare {
            tail: "avdec_h264 ! videoscale add-borders=false \
                   ! video/x-raw,width=640,height=360,pixel-aspect-ratio=1/1 \
                   ! videorate drop-only=true ! video/x-raw,framerate=3/1 \
                   ! videoconvert ! jpegenc quality=85",
        },
    },
    Variant {
        key: "max_fps_3_after_bare",
        what: "bare: decode, rate, scale, convert, encode (the new order)",
        run: Run::Bare {
            tail: "avdec_h264 ! videorate drop-only=true ! video/x-raw,framerate=3/1 \
                   ! videoscale add-borders=false \
                   ! video/x-raw,width=640,height=360,pixel-aspect-ratio=1/1 \
                   ! videoconvert ! jpegenc quality=85",
        },
    },
    // Where the CPU goes (no target): camd's first raw tail (one pass) bare, its raw tail now (two
    // steps) bare, and what receiving alone costs.
    Variant {
        key: "raw_bare",
        what: "bare: decode, videoconvertscale to RGB 640x360 in one pass (camd's first raw tail)",
        run: Run::Bare {
            tail: "avdec_h264 ! videoconvertscale add-borders=false \
                   ! video/x-raw,format=RGB,width=640,height=360,pixel-aspect-ratio=1/1",
        },
    },
    Variant {
        key: "raw_two_step_bare",
        what: "bare: decode, videoscale to 640x360, then videoconvert to RGB (camd's raw tail)",
        run: Run::Bare {
            tail: concat!("avdec_h264 ! ", to_model_rgb!()),
        },
    },
    // The ceiling of `keyframes_cpu_ratio` for anything built on GStreamer: the same two runs as
    // bare pipelines (identity drops what h264parse marks DELTA_UNIT, as camd's probe does).
    Variant {
        key: "full_decode_max_fps_1_bare",
        what: "bare: decode, rate 1 fps, videoscale, videoconvert to RGB 640x360",
        run: Run::Bare {
            tail: concat!(
                "avdec_h264 ! videorate drop-only=true ! video/x-raw,framerate=1/1 ! ",
                to_model_rgb!()
            ),
        },
    },
    Variant {
        key: "keyframes_bare",
        what: "bare: keyframes only (identity drops DELTA_UNIT), decode, scale, convert",
        run: Run::Bare {
            tail: concat!(
                "identity drop-buffer-flags=delta-unit ! avdec_h264 ! ",
                to_model_rgb!()
            ),
        },
    },
    Variant {
        key: "receive_bare",
        what: "bare: RTSP, depayload and parse only (no decode)",
        run: Run::Bare { tail: "" },
    },
];

/// One variant's figures, summed over rounds.
#[derive(Default)]
struct Measured {
    rounds: usize,
    window_s: f64,
    /// CPU seconds by role: supervisor, worker, consumer, bare.
    by_role: BTreeMap<String, f64>,
    /// Per camera: frames published inside the windows (bare: buffers at the sinks, summed).
    published: Vec<u64>,
    /// Per camera: frames its consumer held of those.
    delivered: Vec<u64>,
    latencies_ms: Vec<f64>,
    /// Capture times from one frame to the next published one (consecutive sequence numbers
    /// a consumer held), ms.
    intervals_ms: Vec<f64>,
}

impl Measured {
    fn add(&mut self, other: Measured) {
        self.rounds += other.rounds;
        self.window_s += other.window_s;
        for (role, cpu) in other.by_role {
            *self.by_role.entry(role).or_default() += cpu;
        }
        for (mine, theirs) in [
            (&mut self.published, other.published),
            (&mut self.delivered, other.delivered),
        ] {
            mine.resize(theirs.len().max(mine.len()), 0);
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m += t;
            }
        }
        self.latencies_ms.extend(other.latencies_ms);
        self.intervals_ms.extend(other.intervals_ms);
    }

    fn cpu_s(&self, role: &str) -> f64 {
        self.by_role.get(role).copied().unwrap_or(0.0)
    }

    /// A role's CPU, % of a core.
    fn percent(&self, role: &str) -> f64 {
        self.cpu_s(role) / self.window_s * 100.0
    }

    /// What does the capture: camd's workers, or the bare pipelines.
    fn capture_percent(&self) -> f64 {
        self.percent("worker") + self.percent("bare")
    }

    fn delivered_total(&self) -> u64 {
        self.delivered.iter().sum()
    }

    /// camd's workers plus the consumers, ms of CPU per delivered frame.
    fn total_ms_per_frame(&self) -> f64 {
        (self.cpu_s("worker") + self.cpu_s("consumer")) * 1000.0
            / self.delivered_total().max(1) as f64
    }

    /// Frames out per camera per second.
    fn fps_per_camera(&self) -> f64 {
        self.published.iter().sum::<u64>() as f64
            / self.published.len().max(1) as f64
            / self.window_s
    }

    /// The worst consumer's delivered / published.
    fn min_delivered_fraction(&self) -> f64 {
        self.published
            .iter()
            .zip(&self.delivered)
            .map(|(p, d)| *d as f64 / (*p).max(1) as f64)
            .fold(f64::INFINITY, f64::min)
    }

    fn percentile(&self, p: f64) -> f64 {
        processes::percentile(&self.latencies_ms, p)
    }
}

fn names() -> Vec<String> {
    (0..CAMERAS).map(|i| format!("cam{i}")).collect()
}

fn work_dir(key: &str) -> PathBuf {
    let dir = PathBuf::from(format!(
        "/dev/shm/camd-bench-pixels-{}-{key}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// This build's libcamd_ring.so, for the Python binding (`cargo xtask bench pixels` builds it).
fn ring_library() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let lib = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("libcamd_ring.so");
    assert!(
        lib.exists(),
        "{} missing: run `cargo build --release -p camd-ring --lib` first (`cargo xtask bench \
         pixels` does)",
        lib.display()
    );
    lib
}

// ---- the bare pipelines (a child process of this binary) ----

/// `pixels --bare URL N KEY`: N bare pipelines of the variant KEY; prints `ready` once they
/// play, then for each line on stdin the buffers their sinks have had so far; exits at the end
/// of stdin.
fn child_bare(url: &str, n: usize, key: &str) {
    let Some(Run::Bare { tail }) = VARIANTS.iter().find(|v| v.key == key).map(|v| v.run) else {
        panic!("no bare variant {key:?}");
    };
    gst::init().unwrap();
    let tail = if tail.is_empty() {
        String::new()
    } else {
        format!("{tail} ! ")
    };
    let line = format!(
        "rtspsrc location={url} protocols=tcp latency=200 ! rtph264depay ! h264parse ! \
         {tail}fakesink name=out sync=false"
    );
    let count = Arc::new(AtomicU64::new(0));
    let pipelines: Vec<gst::Element> = (0..n)
        .map(|_| {
            let pipeline = gst::parse::launch(&line).unwrap();
            let sink = pipeline
                .downcast_ref::<gst::Bin>()
                .unwrap()
                .by_name("out")
                .unwrap();
            let count = count.clone();
            sink.static_pad("sink")
                .unwrap()
                .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                    count.fetch_add(1, Ordering::Relaxed);
                    gst::PadProbeReturn::Ok
                });
            pipeline.set_state(gst::State::Playing).unwrap();
            pipeline
        })
        .collect();
    println!("ready");
    for _ in std::io::stdin().lock().lines() {
        println!("{}", count.load(Ordering::Relaxed));
    }
    for p in pipelines {
        let _ = p.set_state(gst::State::Null);
    }
}

fn run_bare(key: &str, url: &str, timing: &Timing) -> Result<Measured, String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--bare", url, &CAMERAS.to_string(), key])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stdout_lines(&mut child);
    until_ready(&lines, Duration::from_secs(30), |_| {}).map_err(|e| format!("{key}: {e}"))?;
    let mut stdin = child.stdin.take().unwrap();
    let mut counts = Vec::new();
    let w = CpuWindow::measure(
        "pixels",
        &[child.id()],
        timing.warmup,
        timing.window,
        || {
            writeln!(stdin, "count").unwrap();
            let line = lines.recv_timeout(Duration::from_secs(5)).unwrap();
            counts.push(line.parse::<u64>().unwrap());
        },
    );
    drop(stdin);
    let pid = child.id() as i32;
    reap(&mut child, Duration::from_secs(10), pid);
    let frames = counts[1] - counts[0];
    Ok(Measured {
        rounds: 1,
        window_s: w.seconds(),
        by_role: w.by_role(|_| "bare".to_owned()),
        // The sinks' buffers, shared out: the pipelines are alike.
        published: vec![frames / CAMERAS as u64; CAMERAS],
        delivered: Vec::new(),
        latencies_ms: Vec::new(),
        intervals_ms: Vec::new(),
    })
}

// ---- camd and its consumers ----

fn start_consumer(
    kind: Consumer,
    ring: &Path,
    out: &Path,
    stride: u32,
    log: &Path,
) -> Result<Child, String> {
    Command::new(python())
        .arg(Path::new(ROOT).join("bench/pixels/consumer.py"))
        .arg(kind.mode())
        .arg(ring)
        .arg(out)
        .args([
            "--width",
            &WIDTH.to_string(),
            "--height",
            &HEIGHT.to_string(),
        ])
        .args(["--stride", &stride.to_string()])
        .env("CAMD_RING_LIB", ring_library())
        .env("PYTHONPATH", Path::new(ROOT).join("ring/python"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .map_err(|e| format!("{}: {e}", python()))
}

fn run_camd(
    key: &str,
    settings: &str,
    kind: Consumer,
    url: &str,
    timing: &Timing,
) -> Result<Measured, String> {
    let dir = work_dir(key);
    let run_dir = dir.join("run");
    let log = dir.join("camd.log");
    let mut camd = start_camd(
        &dir,
        "",
        &format!("transport = \"tcp\"\n{settings}"),
        &names(),
        url,
    )?;

    // The supervisor makes the rings before it starts the workers.
    let paths: Vec<PathBuf> = names()
        .iter()
        .map(|n| run_dir.join(format!("{n}.ring")))
        .collect();
    let readers: Option<Vec<camd_ring::Reader>> = paths
        .iter()
        .map(|p| support::wait_for(Duration::from_secs(30), || camd_ring::Reader::open(p).ok()))
        .collect();
    let Some(readers) = readers else {
        stop_camd(&mut camd);
        return Err(format!("no rings within 30 s; camd log:\n{}", tail(&log)));
    };
    let stride = readers[0]
        .geometry()
        .layout
        .map_or(0, |layout| layout.plane_strides[0]);

    let mut consumers = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        let out = dir.join(format!("records-{i}.txt"));
        let clog = dir.join(format!("consumer-{i}.log"));
        consumers.push(start_consumer(kind, path, &out, stride, &clog)?);
    }
    let mut ready = Ok(());
    for (i, consumer) in consumers.iter_mut().enumerate() {
        let lines = stdout_lines(consumer);
        ready = ready.and_then(|()| {
            until_ready(&lines, Duration::from_secs(60), |_| {}).map_err(|e| {
                format!(
                    "consumer {i}: {e}\n{}",
                    tail(&dir.join(format!("consumer-{i}.log")))
                )
            })
        });
    }
    let stop_consumers = |consumers: &mut Vec<Child>| {
        for consumer in consumers.iter_mut() {
            drop(consumer.stdin.take()); // end of input: it writes its records and exits
        }
        for consumer in consumers.iter_mut() {
            let pid = consumer.id() as i32;
            reap(consumer, Duration::from_secs(10), pid);
        }
    };
    if let Err(e) = ready {
        stop_consumers(&mut consumers);
        stop_camd(&mut camd);
        return Err(format!("{key}: {e}\ncamd log:\n{}", tail(&log)));
    }

    let supervisor = camd.id();
    let consumer_pids: Vec<u32> = consumers.iter().map(Child::id).collect();
    let mut roots = vec![supervisor];
    roots.extend(&consumer_pids);
    let mut seqs: Vec<Vec<u64>> = Vec::new();
    let w = CpuWindow::measure("pixels", &roots, timing.warmup, timing.window, || {
        seqs.push(readers.iter().map(camd_ring::Reader::latest_seq).collect())
    });
    std::thread::sleep(DRAIN);
    stop_consumers(&mut consumers);
    stop_camd(&mut camd);

    let by_role = w.by_role(|pid| {
        if pid == supervisor {
            "supervisor".to_owned()
        } else if consumer_pids.contains(&pid) {
            "consumer".to_owned()
        } else {
            "worker".to_owned()
        }
    });
    let (seq0, seq1) = (&seqs[0], &seqs[1]);
    let mut measured = Measured {
        rounds: 1,
        window_s: w.seconds(),
        by_role,
        published: seq0.iter().zip(seq1).map(|(a, b)| b - a).collect(),
        ..Measured::default()
    };
    for i in 0..CAMERAS {
        let inside: Vec<(u64, u64, u64)> = read_lines(&dir.join(format!("records-{i}.txt")))
            .into_iter()
            .map(|f| {
                (
                    f[0].parse().unwrap(),
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                )
            })
            .filter(|(seq, _, _)| *seq > seq0[i] && *seq <= seq1[i])
            .collect();
        measured.delivered.push(inside.len() as u64);
        measured.latencies_ms.extend(
            inside
                .iter()
                .filter(|(_, captured, _)| *captured != 0)
                .map(|(_, captured, held)| held.saturating_sub(*captured) as f64 / 1e6),
        );
        measured.intervals_ms.extend(
            inside
                .windows(2)
                .filter(|pair| pair[1].0 == pair[0].0 + 1 && pair[0].1 != 0)
                .map(|pair| pair[1].1.saturating_sub(pair[0].1) as f64 / 1e6),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(measured)
}

// ---- report ----

struct Results<'a> {
    by_key: BTreeMap<&'static str, Measured>,
    timing: &'a Timing,
    rounds: usize,
}

impl Results<'_> {
    fn get(&self, key: &str) -> &Measured {
        &self.by_key[key]
    }

    fn pixels_cpu_ratio(&self) -> f64 {
        self.get("jpeg").total_ms_per_frame() / self.get("raw").total_ms_per_frame()
    }

    fn keyframes_cpu_ratio(&self) -> f64 {
        self.get("full_decode_max_fps_1").percent("worker")
            / self.get("keyframes").percent("worker")
    }

    /// The same ratio between bare pipelines: what GStreamer itself gives on this stream.
    fn keyframes_cpu_ratio_bare(&self) -> f64 {
        self.get("full_decode_max_fps_1_bare").percent("bare")
            / self.get("keyframes_bare").percent("bare")
    }

    /// The old order (bare) over camd now.
    fn max_fps_before_scale_ratio(&self) -> f64 {
        self.get("max_fps_3_before_bare").percent("bare")
            / self.get("max_fps_3_after").percent("worker")
    }

    /// The old order over the new, both bare: the order alone.
    fn max_fps_before_scale_ratio_bare(&self) -> f64 {
        self.get("max_fps_3_before_bare").percent("bare")
            / self.get("max_fps_3_after_bare").percent("bare")
    }

    /// The camera's keyframe interval in frames, as `keyframes` saw it: the median time from
    /// one published keyframe to the next, in frame periods.
    fn measured_gop(&self) -> f64 {
        processes::percentile(&self.get("keyframes").intervals_ms, 0.5) * CAMERA_FPS as f64 / 1000.0
    }

    fn camd_variants(&self) -> impl Iterator<Item = (&'static str, &Measured)> {
        VARIANTS
            .iter()
            .filter(|v| matches!(v.run, Run::Camd { .. }))
            .map(|v| (v.key, self.get(v.key)))
    }

    /// (name, met, text) of each target.
    fn targets(&self) -> Vec<(String, Option<bool>, String)> {
        let (jpeg, raw) = (self.get("jpeg"), self.get("raw"));
        let mut targets = vec![
            (
                format!("pixels_cpu_ratio >= {PIXELS_TARGET}"),
                Some(self.pixels_cpu_ratio() >= PIXELS_TARGET),
                format!(
                    "{:.2} ({:.2} vs {:.2} ms per frame)",
                    self.pixels_cpu_ratio(),
                    jpeg.total_ms_per_frame(),
                    raw.total_ms_per_frame()
                ),
            ),
            (
                format!("keyframes_cpu_ratio >= {KEYFRAMES_TARGET}"),
                Some(self.keyframes_cpu_ratio() >= KEYFRAMES_TARGET),
                format!(
                    "{:.2} ({:.1} % vs {:.1} % of a core)",
                    self.keyframes_cpu_ratio(),
                    self.get("full_decode_max_fps_1").percent("worker"),
                    self.get("keyframes").percent("worker")
                ),
            ),
            (
                "keyframes_cpu_ratio_bare (no target: the ceiling)".to_owned(),
                None,
                format!(
                    "{:.2} ({:.1} % vs {:.1} % of a core, bare pipelines)",
                    self.keyframes_cpu_ratio_bare(),
                    self.get("full_decode_max_fps_1_bare").percent("bare"),
                    self.get("keyframes_bare").percent("bare")
                ),
            ),
            (
                "max_fps_before_scale_ratio (no target)".to_owned(),
                None,
                format!(
                    "{:.3} (bare old order {:.1} % vs camd {:.1} %; bare vs bare {:.3})",
                    self.max_fps_before_scale_ratio(),
                    self.get("max_fps_3_before_bare").percent("bare"),
                    self.get("max_fps_3_after").percent("worker"),
                    self.max_fps_before_scale_ratio_bare()
                ),
            ),
        ];
        for (key, m) in self.camd_variants() {
            targets.push((
                format!("{key}: each consumer >= 99 % delivered"),
                Some(m.min_delivered_fraction() >= DELIVERED_TARGET),
                format!(
                    "worst {:.1} % ({} of {} in all)",
                    m.min_delivered_fraction() * 100.0,
                    m.delivered_total(),
                    m.published.iter().sum::<u64>()
                ),
            ));
        }
        targets
    }

    fn print(&self) {
        println!(
            "\n{CAMERAS} cameras 1280x720@{CAMERA_FPS} textured H.264, keyframe every {GOP} \
             frames (measured {:.1}); consumers need RGB {WIDTH}x{HEIGHT}; {} round(s) of {:?} \
             windows after {:?} warm-up",
            self.measured_gop(),
            self.rounds,
            self.timing.window,
            self.timing.warmup
        );
        println!(
            "{:<26} {:>8} {:>9} {:>7} {:>8} {:>11} {:>10} {:>8} {:>8}",
            "run",
            "capture%",
            "consumer%",
            "super%",
            "fps/cam",
            "delivered",
            "ms/frame",
            "p50_ms",
            "p99_ms"
        );
        for v in VARIANTS {
            let m = self.get(v.key);
            let camd = matches!(v.run, Run::Camd { .. });
            let or_dash = |value: String| if camd { value } else { "-".to_owned() };
            println!(
                "{:<26} {:>8.1} {:>9} {:>7} {:>8.2} {:>11} {:>10} {:>8} {:>8}",
                v.key,
                m.capture_percent(),
                or_dash(format!("{:.1}", m.percent("consumer"))),
                or_dash(format!("{:.1}", m.percent("supervisor"))),
                m.fps_per_camera(),
                or_dash(format!("{:.1} %", m.min_delivered_fraction() * 100.0)),
                or_dash(format!("{:.2}", m.total_ms_per_frame())),
                or_dash(format!("{:.1}", m.percentile(0.5))),
                or_dash(format!("{:.1}", m.percentile(0.99))),
            );
        }
        println!("(capture%: camd's workers or the bare pipelines, % of a core; delivered: the worst consumer; ms/frame: workers + consumers per delivered frame)");
        for v in VARIANTS {
            println!("  {:<26} {}", v.key, v.what);
        }
        println!();
        for (name, met, text) in self.targets() {
            let verdict = match met {
                Some(true) => "ok",
                Some(false) => "MISSED",
                None => "",
            };
            println!("{name:<56} {text:<70} {verdict}");
        }
        let bare = |key: &str| self.get(key).percent("bare");
        println!(
            "\nwhere the CPU goes, % of a core for 8 cameras: raw tail camd {:.1}, one pass bare \
             {:.1}, two steps (scale in I420, then convert) bare {:.1}; receiving only (no decode) \
             {:.1}, against decode = \"keyframes\" camd {:.1}, bare {:.1}",
            self.get("raw").percent("worker"),
            bare("raw_bare"),
            bare("raw_two_step_bare"),
            bare("receive_bare"),
            self.get("keyframes").percent("worker"),
            bare("keyframes_bare")
        );
    }

    fn json(&self) -> String {
        let mut variants = Vec::new();
        for v in VARIANTS {
            let m = self.get(v.key);
            let roles: Vec<String> = m
                .by_role
                .iter()
                .map(|(role, cpu)| format!("\"{role}\": {:.2}", cpu / m.window_s * 100.0))
                .collect();
            let list = |values: &[u64]| {
                values
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut fields = vec![
                format!("\"what\": \"{}\"", v.what.replace('"', "\\\"")),
                format!("\"cpu_percent_of_a_core\": {{{}}}", roles.join(", ")),
                format!("\"fps_per_camera\": {:.3}", m.fps_per_camera()),
            ];
            if matches!(v.run, Run::Camd { .. }) {
                fields.extend([
                    format!("\"published\": [{}]", list(&m.published)),
                    format!("\"delivered\": [{}]", list(&m.delivered)),
                    format!(
                        "\"min_delivered_fraction\": {:.4}",
                        m.min_delivered_fraction()
                    ),
                    format!(
                        "\"cpu_ms_per_delivered_frame\": {:.3}",
                        m.total_ms_per_frame()
                    ),
                    format!("\"latency_p50_ms\": {:.2}", m.percentile(0.5)),
                    format!("\"latency_p99_ms\": {:.2}", m.percentile(0.99)),
                    format!(
                        "\"frame_interval_ms\": {{\"min\": {:.1}, \"p50\": {:.1}, \"max\": {:.1}}}",
                        processes::percentile(&m.intervals_ms, 0.0),
                        processes::percentile(&m.intervals_ms, 0.5),
                        processes::percentile(&m.intervals_ms, 1.0)
                    ),
                ]);
            }
            variants.push(format!(
                "    \"{}\": {{\n      {}\n    }}",
                v.key,
                fields.join(",\n      ")
            ));
        }
        let all_met = self.targets().iter().all(|(_, met, _)| met.unwrap_or(true));
        format!(
            "{{\n  \"cameras\": {CAMERAS},\n  \"camera\": \"h264 1280x720@{CAMERA_FPS} textured, \
             gop {GOP}\",\n  \"measured_gop_frames\": {:.2},\n  \"model_input\": \"rgb \
             {WIDTH}x{HEIGHT}\",\n  \"total_cpu_unit\": \"ms of CPU (camd's workers + the \
             consumers) per delivered frame\",\n  \"total_cpu_jpeg\": {:.3},\n  \
             \"total_cpu_raw\": {:.3},\n  \"pixels_cpu_ratio\": {:.3},\n  \
             \"keyframes_cpu_ratio\": {:.3},\n  \"keyframes_cpu_ratio_bare\": {:.3},\n  \
             \"max_fps_before_scale_ratio\": {:.3},\n  \
             \"max_fps_before_scale_ratio_bare\": {:.3},\n  \"max_fps_before_scale_method\": \
             \"before: bare pipelines in camd's old order (decode, videoscale, videorate, \
             videoconvert, jpegenc); after: camd's workers; _bare: the new order as bare \
             pipelines\",\n  \"runs\": {{\n{}\n  }},\n  \"window_s\": {},\n  \"warmup_s\": {},\n  \
             \"rounds\": {},\n  \"meets_targets\": {all_met}\n}}\n",
            self.measured_gop(),
            self.get("jpeg").total_ms_per_frame(),
            self.get("raw").total_ms_per_frame(),
            self.pixels_cpu_ratio(),
            self.keyframes_cpu_ratio(),
            self.keyframes_cpu_ratio_bare(),
            self.max_fps_before_scale_ratio(),
            self.max_fps_before_scale_ratio_bare(),
            variants.join(",\n"),
            self.timing.window.as_secs(),
            self.timing.warmup.as_secs(),
            self.rounds
        )
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--bare") {
        return child_bare(&args[1], args[2].parse().unwrap(), &args[3]);
    }
    let options = Options::parse(&args);
    let (timing, rounds) = (&options.timing, options.rounds);

    let mount = format!("h264=h264:1280x720@{CAMERA_FPS}:textured:gop={GOP}");
    let server = support::FakeCameraProcess::start(0, &[&mount]);
    let url = server.url("h264");
    let mut by_key: BTreeMap<&'static str, Measured> = BTreeMap::new();
    for round in 0..rounds {
        let order: Vec<&Variant> = if round % 2 == 0 {
            VARIANTS.iter().collect()
        } else {
            VARIANTS.iter().rev().collect()
        };
        for v in order {
            let run = match v.run {
                Run::Camd { settings, consumer } => {
                    run_camd(v.key, settings, consumer, &url, timing)
                }
                Run::Bare { .. } => run_bare(v.key, &url, timing),
            }
            .unwrap_or_else(|e| panic!("{e}"));
            println!(
                "  round {} {:<26}: capture {:5.1} %, consumers {:5.1} % of a core, {:.2} fps a camera",
                round + 1,
                v.key,
                run.capture_percent(),
                run.percent("consumer"),
                run.fps_per_camera()
            );
            by_key.entry(v.key).or_default().add(run);
        }
    }
    drop(server);

    let results = Results {
        by_key,
        timing,
        rounds,
    };
    results.print();
    options.write_json(&results.json());
}
