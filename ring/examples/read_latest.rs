//! read_latest: the smallest useful Rust reader of a camd ring.
//!
//!     cargo run -p camd-ring --example read_latest -- RING [--wait N [--timeout-ms T]]
//!
//! Prints the ring's info (with its codec), status and latest frame (with the camera's capture
//! time, when the camera gives it), or waits for N new frames; for a raw ring also its layout and
//! each frame's first and last pixels, read through the layout's offsets and strides
//! (`PixelLayout::row`), in place from a borrowed frame while waiting. Its output matches the C
//! and Python examples line for line (the cross-language test compares them).

use camd_ring::{Codec, FrameMeta, PixelLayout, Reader, RingError};
use std::process::ExitCode;
use std::time::Duration;

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn frame_line(m: &FrameMeta, camera_ns: Option<u64>, hash: u64) -> String {
    let camera = camera_ns.map_or_else(|| "none".to_owned(), |ns| ns.to_string());
    format!(
        "frame seq={} len={} width={} height={} ts_mono_ns={} ts_camera_ns={camera} fnv1a={hash:016x}",
        m.seq, m.len, m.width, m.height, m.ts_mono_ns
    )
}

/// Pixel (x, y) of a raw frame: `rgb=R,G,B` (RGB and BGR) or `yuv=Y,U,V` (NV12, the U,V pair of
/// its 2x2 block). `None` if the frame is not the layout's size (a reader never gets one).
fn pixel(layout: &PixelLayout, frame: &[u8], x: usize, y: usize) -> Option<String> {
    let [a, b, c] = match layout.codec {
        Codec::Rgb | Codec::Bgr => {
            let rgb = layout.row(frame, 0, y)?.get(3 * x..3 * x + 3)?;
            let rgb = [rgb[0], rgb[1], rgb[2]];
            if layout.codec == Codec::Bgr {
                [rgb[2], rgb[1], rgb[0]]
            } else {
                rgb
            }
        }
        Codec::Nv12 => {
            let uv = layout.row(frame, 1, y / 2)?.get(x / 2 * 2..x / 2 * 2 + 2)?;
            [*layout.row(frame, 0, y)?.get(x)?, uv[0], uv[1]]
        }
        Codec::Jpeg => return None,
    };
    let name = if layout.codec == Codec::Nv12 {
        "yuv"
    } else {
        "rgb"
    };
    Some(format!("pixel x={x} y={y} {name}={a},{b},{c}"))
}

/// Prints a raw frame's first and last pixels.
fn print_pixels(layout: &PixelLayout, frame: &[u8]) {
    let last = (layout.width as usize - 1, layout.height as usize - 1);
    for (x, y) in [(0, 0), last] {
        println!(
            "{}",
            pixel(layout, frame, x, y).expect("a frame of the layout's size")
        );
    }
}

/// Copies the newest frame and reads its camera time; copies again if the frame left the ring
/// in between (the writer reused its slot), so the time is always the copied frame's.
fn copy_latest(
    ring: &Reader,
    buf: &mut Vec<u8>,
) -> Result<Option<(FrameMeta, Option<u64>)>, RingError> {
    loop {
        let Some(meta) = ring.copy_latest(buf)? else {
            return Ok(None);
        };
        if let Ok(camera_ns) = ring.camera_time_ns(&meta) {
            return Ok(Some((meta, camera_ns)));
        }
    }
}

fn run(path: &str, wait: u32, timeout: Duration) -> Result<ExitCode, RingError> {
    let ring = Reader::open(path)?;
    let g = ring.geometry();
    println!(
        "info name={} slots={} capacity={} codec={} width={} height={}",
        g.name,
        g.slot_count,
        g.slot_capacity,
        ring.codec().name(),
        g.width,
        g.height
    );
    // Raw pixels: where they are (`None` for JPEG).
    let layout = g.layout;
    if let Some(l) = &layout {
        println!(
            "layout frame_size={} plane_offsets={},{} plane_strides={},{}",
            l.frame_size,
            l.plane_offsets[0],
            l.plane_offsets[1],
            l.plane_strides[0],
            l.plane_strides[1]
        );
    }
    let status = ring.status()?;
    println!(
        "status state={} generation={} latest_seq={}",
        status.status.state, status.status.generation, status.latest_seq
    );

    let mut buf = Vec::with_capacity(g.slot_capacity as usize);
    if wait == 0 {
        match copy_latest(&ring, &mut buf)? {
            Some((meta, camera_ns)) => {
                println!("{}", frame_line(&meta, camera_ns, fnv1a(&buf)));
                if let Some(l) = &layout {
                    print_pixels(l, &buf);
                }
            }
            None => println!("no frame"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut after = ring.latest_seq();
    println!("ready");
    for _ in 0..wait {
        let Some(meta) = ring.wait_next(after, timeout)? else {
            println!("timeout");
            return Ok(ExitCode::from(3));
        };
        // Work on the newest frame in place; keep the result only if it was not overwritten.
        if let Some(frame) = ring.borrow_latest()?.filter(|f| f.meta().seq == meta.seq) {
            // SAFETY: camd's writer is another process, and the hash and the pixels read each
            // byte once and trust none of them: a frame rewritten meanwhile only gives wrong
            // values, which `finish` then tells us to discard. (The slice's length is the
            // layout's, checked by the reader, so `row` finds every row inside it.)
            let bytes = unsafe { frame.bytes() };
            let hash = fnv1a(bytes);
            let pixels = layout.map(|l| {
                let last = (l.width as usize - 1, l.height as usize - 1);
                [(0, 0), last].map(|(x, y)| pixel(&l, bytes, x, y))
            });
            let camera_ns = frame.camera_time_ns();
            if let (Ok(meta), Ok(camera_ns)) = (frame.finish(), camera_ns) {
                println!("{}", frame_line(&meta, camera_ns, hash));
                for line in pixels.into_iter().flatten() {
                    println!("{}", line.expect("a frame of the layout's size"));
                }
                after = meta.seq;
                continue;
            }
        }
        let (meta, camera_ns) = copy_latest(&ring, &mut buf)?.expect("a frame was published");
        println!("{}", frame_line(&meta, camera_ns, fnv1a(&buf)));
        if let Some(l) = &layout {
            print_pixels(l, &buf);
        }
        after = meta.seq;
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, wait, timeout_ms) = match args.as_slice() {
        [path] => (path, 0, 5000),
        [path, flag, n] if flag == "--wait" => (path, n.parse().unwrap_or(0), 5000),
        [path, flag, n, t, ms] if flag == "--wait" && t == "--timeout-ms" => {
            (path, n.parse().unwrap_or(0), ms.parse().unwrap_or(5000))
        }
        _ => {
            eprintln!("usage: read_latest RING [--wait N [--timeout-ms T]]");
            return ExitCode::from(2);
        }
    };
    match run(path, wait, Duration::from_millis(timeout_ms)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("read_latest: {e}");
            ExitCode::from(1)
        }
    }
}
