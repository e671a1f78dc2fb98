//! Camera status as the ring carries it: the states (the Python design's `ok`, `retrying`,
//! `connection_failed`, `no_signal`, plus `starting` and `stopped`), the fields a writer sets,
//! and the status block's sequence lock (one writer, any number of readers, no torn snapshot).

use crate::layout::{load_text, store_text, StatusBlock};
use core::sync::atomic::{fence, Ordering};
use std::fmt;

/// The state of a camera, as stored in `status.state`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum State {
    /// The writer exists but has no frame yet (pipeline building, first connection).
    #[default]
    Starting,
    /// Frames are arriving.
    Ok,
    /// A connection failed or was lost; the next try is `next_retry_in` away (`retry_count`
    /// consecutive failures so far).
    Retrying,
    /// `max_retry_attempts` consecutive failures: the camera needs a person (or a reload).
    ConnectionFailed,
    /// Connected, but no frame for the stall timeout; recovers by itself.
    NoSignal,
    /// The writer shut down cleanly.
    Stopped,
    /// A value this library does not know (written by a newer camd).
    Unknown(u32),
}

impl State {
    pub fn from_raw(raw: u32) -> Self {
        match raw {
            0 => Self::Starting,
            1 => Self::Ok,
            2 => Self::Retrying,
            3 => Self::ConnectionFailed,
            4 => Self::NoSignal,
            5 => Self::Stopped,
            other => Self::Unknown(other),
        }
    }

    pub fn to_raw(self) -> u32 {
        match self {
            Self::Starting => 0,
            Self::Ok => 1,
            Self::Retrying => 2,
            Self::ConnectionFailed => 3,
            Self::NoSignal => 4,
            Self::Stopped => 5,
            Self::Unknown(raw) => raw,
        }
    }

    /// Every state the format defines, in the order of their raw values (0 to 5).
    pub const ALL: [State; 6] = [
        Self::Starting,
        Self::Ok,
        Self::Retrying,
        Self::ConnectionFailed,
        Self::NoSignal,
        Self::Stopped,
    ];

    /// The one table of state names: the status string of the Python design (and of `camd
    /// status`), NUL-terminated so that the C ABI (`camd_ring_state_name`, which the Python
    /// binding calls) hands out these very bytes.
    pub(crate) fn name_with_nul(self) -> &'static [u8] {
        match self {
            Self::Starting => b"starting\0",
            Self::Ok => b"ok\0",
            Self::Retrying => b"retrying\0",
            Self::ConnectionFailed => b"connection_failed\0",
            Self::NoSignal => b"no_signal\0",
            Self::Stopped => b"stopped\0",
            Self::Unknown(_) => b"unknown\0",
        }
    }

    /// The status string of the Python design (and of `camd status`).
    pub fn as_str(self) -> &'static str {
        let name = self.name_with_nul();
        core::str::from_utf8(&name[..name.len() - 1]).expect("state names are ASCII")
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The contents of the status block. A writer changes it with `Writer::update_status`; a reader
/// gets it, consistent, inside a `StatusSnapshot`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub state: State,
    /// Consecutive failed connection attempts (0 once frames flow).
    pub retry_count: u32,
    /// The configured limit after which the state becomes `connection_failed`.
    pub max_retry_attempts: u32,
    /// CLOCK_MONOTONIC time of the next connection attempt; 0 if none is pending.
    pub next_retry_mono_ns: u64,
    /// CLOCK_REALTIME time the state last changed.
    pub state_since_realtime_ns: u64,
    /// Process id of the writer (set by the writer).
    pub writer_pid: u32,
    /// Changes every time a writer (re)attaches to the file (set by the writer).
    pub generation: u64,
    /// Frames per second over the last second or so, times 1000 (set by the writer).
    pub fps_milli: u32,
    /// What the camera sends: `h264`, `h265`, `mjpeg`, `raw`, ... (empty until known).
    pub input_codec: String,
    /// The GStreamer decoder element in use (empty for MJPEG passthrough).
    pub decoder: String,
    /// The GStreamer JPEG encoder element in use (empty for MJPEG passthrough).
    pub encoder: String,
    pub source_width: u32,
    pub source_height: u32,
    /// Frames the capture side dropped before they reached the ring.
    pub drops: u64,
    /// Frames larger than the slot capacity (set by the writer; never truncated).
    pub oversize: u64,
    /// Connections re-established after a loss.
    pub reconnects: u64,
    /// The last error, credentials already removed; empty if none.
    pub last_error: String,
    pub last_error_realtime_ns: u64,
}

/// Writes `status` into the block under its sequence lock. Only the ring's single writer calls
/// this, so the lock word is never contended between writers.
pub(crate) fn store(block: &StatusBlock, status: &Status) {
    let seq = block.seq.load(Ordering::Relaxed);
    debug_assert_eq!(seq % 2, 0, "status seqlock left odd");
    block.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
    fence(Ordering::Release);
    block.state.store(status.state.to_raw(), Ordering::Relaxed);
    block
        .retry_count
        .store(status.retry_count, Ordering::Relaxed);
    block
        .max_retry_attempts
        .store(status.max_retry_attempts, Ordering::Relaxed);
    block.writer_pid.store(status.writer_pid, Ordering::Relaxed);
    block.generation.store(status.generation, Ordering::Relaxed);
    block
        .next_retry_mono_ns
        .store(status.next_retry_mono_ns, Ordering::Relaxed);
    block
        .state_since_realtime_ns
        .store(status.state_since_realtime_ns, Ordering::Relaxed);
    block.fps_milli.store(status.fps_milli, Ordering::Relaxed);
    block
        .source_width
        .store(status.source_width, Ordering::Relaxed);
    block
        .source_height
        .store(status.source_height, Ordering::Relaxed);
    block.drops.store(status.drops, Ordering::Relaxed);
    block.oversize.store(status.oversize, Ordering::Relaxed);
    block.reconnects.store(status.reconnects, Ordering::Relaxed);
    block
        .last_error_realtime_ns
        .store(status.last_error_realtime_ns, Ordering::Relaxed);
    store_text(&status.input_codec, &block.input_codec);
    store_text(&status.decoder, &block.decoder);
    store_text(&status.encoder, &block.encoder);
    store_text(&status.last_error, &block.last_error);
    block.seq.store(seq.wrapping_add(2), Ordering::Release);
}

/// Called by a writer that has just taken the lock: if the previous writer died in the middle of
/// an update (lock word odd), make the word even again so the block can be read and rewritten.
/// The fields may mix two updates; the new writer rewrites them all.
pub(crate) fn recover(block: &StatusBlock) {
    let seq = block.seq.load(Ordering::Relaxed);
    if seq % 2 == 1 {
        block.seq.store(seq.wrapping_add(1), Ordering::Release);
    }
}

/// Reads the block once; `None` if the writer was updating it meanwhile (try again).
pub(crate) fn try_load(block: &StatusBlock) -> Option<Status> {
    let before = block.seq.load(Ordering::Acquire);
    if before % 2 == 1 {
        return None;
    }
    let status = Status {
        state: State::from_raw(block.state.load(Ordering::Relaxed)),
        retry_count: block.retry_count.load(Ordering::Relaxed),
        max_retry_attempts: block.max_retry_attempts.load(Ordering::Relaxed),
        next_retry_mono_ns: block.next_retry_mono_ns.load(Ordering::Relaxed),
        state_since_realtime_ns: block.state_since_realtime_ns.load(Ordering::Relaxed),
        writer_pid: block.writer_pid.load(Ordering::Relaxed),
        generation: block.generation.load(Ordering::Relaxed),
        fps_milli: block.fps_milli.load(Ordering::Relaxed),
        input_codec: load_text(&block.input_codec),
        decoder: load_text(&block.decoder),
        encoder: load_text(&block.encoder),
        source_width: block.source_width.load(Ordering::Relaxed),
        source_height: block.source_height.load(Ordering::Relaxed),
        drops: block.drops.load(Ordering::Relaxed),
        oversize: block.oversize.load(Ordering::Relaxed),
        reconnects: block.reconnects.load(Ordering::Relaxed),
        last_error: load_text(&block.last_error),
        last_error_realtime_ns: block.last_error_realtime_ns.load(Ordering::Relaxed),
    };
    fence(Ordering::Acquire);
    (block.seq.load(Ordering::Relaxed) == before).then_some(status)
}
