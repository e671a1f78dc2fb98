//! read_latest: the smallest useful Rust reader of a camd ring.
//!
//!     cargo run -p camd-ring --example read_latest -- RING [--wait N [--timeout-ms T]]
//!
//! Prints the ring's info, status and latest frame (with the camera's capture time, when the
//! camera gives it), or waits for N new frames. Its output matches the C and Python examples
//! line for line (the cross-language test compares them).

use camd_ring::{FrameMeta, Reader, RingError};
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
        "info name={} slots={} capacity={} width={} height={}",
        g.name, g.slot_count, g.slot_capacity, g.width, g.height
    );
    let status = ring.status()?;
    println!(
        "status state={} generation={} latest_seq={}",
        status.status.state, status.status.generation, status.latest_seq
    );

    let mut buf = Vec::with_capacity(g.slot_capacity as usize);
    if wait == 0 {
        match copy_latest(&ring, &mut buf)? {
            Some((meta, camera_ns)) => println!("{}", frame_line(&meta, camera_ns, fnv1a(&buf))),
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
            // SAFETY: camd's writer is another process, and the hash reads each byte once and
            // trusts none of them: a frame rewritten meanwhile only gives a wrong hash, which
            // `finish` then tells us to discard.
            let hash = fnv1a(unsafe { frame.bytes() });
            let camera_ns = frame.camera_time_ns();
            if let (Ok(meta), Ok(camera_ns)) = (frame.finish(), camera_ns) {
                println!("{}", frame_line(&meta, camera_ns, hash));
                after = meta.seq;
                continue;
            }
        }
        let (meta, camera_ns) = copy_latest(&ring, &mut buf)?.expect("a frame was published");
        println!("{}", frame_line(&meta, camera_ns, fnv1a(&buf)));
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
