//! `cargo xtask bench ring`: the ring's costs on this machine, as a table and as JSON.
//!
//! - publish_vs_memcpy_{64k,256k,1m}: `Writer::publish` of a frame over a plain memcpy of the
//!   same bytes into equivalent memory (a mapped file on the same filesystem, the same number of
//!   rotating destinations). Batches of each alternate, so both see the same machine load; the
//!   ratio is of the two medians.
//! - latest_lookup_ns: `Reader::latest` (sequence + slot metadata under the seqlock).
//! - copy_read_256k_ns: `Reader::copy_latest` of a 256 KiB frame into a reused buffer.
//! - wake_p50_us / wake_p99_us: a reader process blocked in `wait_next`; the writer publishes
//!   a 1 KiB frame; latency from the publish's timestamp to the reader running with the frame.
//!
//! Usage: ring [--json PATH] [--quick]        (child mode: ring --wake-child RING COUNT)

use camd_ring::{monotonic_ns, FrameInfo, Reader, Writer, WriterOptions};
use memmap2::MmapMut;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SLOTS: u32 = 8;

/// Frame-like bytes: incompressible, like JPEG data.
fn frame_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[values.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Time per call of `f`, in ns, over a batch of `n` calls.
fn per_call(n: u32, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

fn bench_dir() -> PathBuf {
    // tmpfs, like /run/camd on a board.
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("camd-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct PublishResult {
    publish_ns: f64,
    memcpy_ns: f64,
}

fn publish_vs_memcpy(dir: &Path, size: usize, rounds: u32) -> PublishResult {
    let ring = dir.join(format!("publish-{size}.ring"));
    let mut writer =
        Writer::create(&ring, &WriterOptions::new("bench", SLOTS, size as u32)).unwrap();
    // The memcpy baseline: the same number of destinations of the same size, in a shared mapping
    // of a file on the same filesystem.
    let baseline = dir.join(format!("memcpy-{size}"));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&baseline)
        .unwrap();
    file.set_len((size * SLOTS as usize) as u64).unwrap();
    // SAFETY: a private benchmark file nobody else maps.
    let mut dest = unsafe { MmapMut::map_mut(&file) }.unwrap();
    let frames: Vec<Vec<u8>> = (0..4).map(|i| frame_bytes(size, i + 1)).collect();
    let batch = (64 * 1024 * 1024 / size).max(8) as u32 / 4; // ~16 MiB per batch
    let info = FrameInfo {
        width: 1280,
        height: 720,
        ..FrameInfo::default()
    };

    let (mut publish, mut memcpy) = (Vec::new(), Vec::new());
    let mut k = 0usize;
    for _ in 0..rounds {
        publish.push(per_call(batch, || {
            k += 1;
            black_box(writer.publish(&frames[k % 4], &info).unwrap());
        }));
        memcpy.push(per_call(batch, || {
            k += 1;
            let slot = k % SLOTS as usize;
            dest[slot * size..(slot + 1) * size].copy_from_slice(&frames[k % 4]);
            black_box(&dest[slot * size]);
        }));
    }
    let _ = std::fs::remove_file(&baseline);
    PublishResult {
        publish_ns: median(publish),
        memcpy_ns: median(memcpy),
    }
}

fn lookup_and_copy(dir: &Path, rounds: u32) -> (f64, f64) {
    let ring = dir.join("read.ring");
    let mut writer =
        Writer::create(&ring, &WriterOptions::new("bench", SLOTS, 256 * 1024)).unwrap();
    writer
        .publish(&frame_bytes(256 * 1024, 7), &FrameInfo::default())
        .unwrap();
    let reader = Reader::open(&ring).unwrap();
    let lookup = median(
        (0..rounds)
            .map(|_| {
                per_call(100_000, || {
                    black_box(reader.latest().unwrap());
                })
            })
            .collect(),
    );
    let mut buf = Vec::with_capacity(256 * 1024);
    let copy = median(
        (0..rounds)
            .map(|_| {
                per_call(200, || {
                    black_box(reader.copy_latest(&mut buf).unwrap());
                })
            })
            .collect(),
    );
    (lookup, copy)
}

/// Child: block in wait_next COUNT times, print each wake-up latency in ns.
fn wake_child(ring: &str, count: u32) {
    let reader = Reader::open(ring).unwrap();
    assert!(
        reader.can_be_woken(),
        "doorbell not writable: the reader would poll"
    );
    let mut after = reader.latest_seq();
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    for _ in 0..count {
        let Some(meta) = reader.wait_next(after, Duration::from_secs(5)).unwrap() else {
            break;
        };
        let latency = monotonic_ns().saturating_sub(meta.ts_mono_ns);
        after = meta.seq;
        writeln!(out, "{latency}").unwrap();
    }
}

fn wake_latency(dir: &Path, count: u32) -> (f64, f64) {
    let ring = dir.join("wake.ring");
    let mut writer = Writer::create(&ring, &WriterOptions::new("bench", SLOTS, 4096)).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--wake-child", ring.to_str().unwrap(), &count.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    let frame = frame_bytes(1024, 3);
    let collector = std::thread::spawn(move || {
        lines
            .map(|l| l.unwrap().parse::<f64>().unwrap() / 1000.0)
            .collect::<Vec<_>>()
    });
    for _ in 0..count {
        // Let the reader get back to sleep: each sample is a wake-up from a blocked futex wait.
        std::thread::sleep(Duration::from_millis(2));
        writer.publish(&frame, &FrameInfo::default()).unwrap();
    }
    let mut samples = collector.join().unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(samples.len(), count as usize, "the reader missed wake-ups");
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (percentile(&samples, 50.0), percentile(&samples, 99.0))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--wake-child") {
        wake_child(&args[1], args[2].parse().unwrap());
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let json_path = args
        .iter()
        .position(|a| a == "--json")
        .map(|i| PathBuf::from(&args[i + 1]));
    let rounds = if quick { 5 } else { 21 };
    let dir = bench_dir();

    let sizes = [
        (64 * 1024, "64k"),
        (256 * 1024, "256k"),
        (1024 * 1024, "1m"),
    ];
    let publish: Vec<(&str, PublishResult)> = sizes
        .iter()
        .map(|&(size, tag)| (tag, publish_vs_memcpy(&dir, size, rounds)))
        .collect();
    let (lookup_ns, copy_ns) = lookup_and_copy(&dir, rounds);
    let (wake_p50, wake_p99) = wake_latency(&dir, if quick { 200 } else { 2000 });
    let _ = std::fs::remove_dir_all(&dir);

    let mut rows: Vec<(String, f64, String, bool)> = Vec::new();
    for (tag, r) in &publish {
        let ratio = r.publish_ns / r.memcpy_ns;
        rows.push((
            format!("publish_vs_memcpy_{tag}"),
            ratio,
            format!(
                "<= 1.3 (publish {:.0} ns, memcpy {:.0} ns)",
                r.publish_ns, r.memcpy_ns
            ),
            ratio <= 1.3,
        ));
    }
    rows.push((
        "latest_lookup_ns".into(),
        lookup_ns,
        "<= 100".into(),
        lookup_ns <= 100.0,
    ));
    rows.push((
        "copy_read_256k_ns".into(),
        copy_ns,
        "(no target)".into(),
        true,
    ));
    rows.push((
        "wake_p50_us".into(),
        wake_p50,
        "<= 50".into(),
        wake_p50 <= 50.0,
    ));
    rows.push((
        "wake_p99_us".into(),
        wake_p99,
        "<= 1000".into(),
        wake_p99 <= 1000.0,
    ));

    println!("{:<26} {:>12}  {:<45}", "metric", "value", "target");
    for (name, value, target, ok) in &rows {
        println!(
            "{name:<26} {value:>12.3}  {target:<45} {}",
            if *ok { "ok" } else { "MISSED" }
        );
    }
    let all_ok = rows.iter().all(|r| r.3);

    let mut json = String::from("{\n");
    for (name, value, _, _) in &rows {
        json += &format!("  \"{name}\": {value:.4},\n");
    }
    for (tag, r) in &publish {
        json += &format!(
            "  \"publish_{tag}_ns\": {:.1},\n  \"memcpy_{tag}_ns\": {:.1},\n",
            r.publish_ns, r.memcpy_ns
        );
    }
    json += &format!("  \"rounds\": {rounds},\n  \"meets_targets\": {all_ok}\n}}\n");
    if let Some(path) = json_path {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, json).unwrap();
        println!("wrote {}", path.display());
    }
}
