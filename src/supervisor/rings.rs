//! The supervisor's side of the rings: it creates them before any worker runs (so readers can
//! open them from the moment systemd hears READY), removes those of cameras gone from the
//! config, reads their heartbeats to spot a hung worker, and marks them `stopped` when a
//! worker could not.

use super::restart::RingLife;
use crate::config::CameraEntry;
use crate::error::Result;
use crate::ring_files::{camera_of, open_ring, ring_path};
use camd_ring::{Reader, State, Writer};
use std::collections::BTreeMap;
use std::path::Path;

/// Creates (or takes over) the camera's ring and leaves it `starting` for its worker.
pub fn prepare(dir: &Path, entry: &CameraEntry, gid: Option<u32>) -> Result<()> {
    let mut writer = open_ring(dir, &entry.camera, gid)?;
    writer.update_status(|s| {
        s.state = State::Starting;
        s.next_retry_mono_ns = 0;
    });
    Ok(())
}

/// Removes a ring and its writer lock. Readers that still map it keep their mapping and see
/// the last status the worker wrote (`stopped`).
pub fn remove(dir: &Path, name: &str) {
    camd_ring::remove_ring(&ring_path(dir, name));
}

/// Removes rings in `dir` of cameras not in `keep`: only files that are valid camd rings.
pub fn remove_stale(dir: &Path, keep: &BTreeMap<String, CameraEntry>) -> Vec<String> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(name) = file.to_str().and_then(camera_of) else {
            continue;
        };
        if keep.contains_key(name) || Reader::open(entry.path()).is_err() {
            continue;
        }
        remove(dir, name);
        removed.push(name.to_owned());
    }
    removed
}

/// Marks `starting` the ring of a camera whose worker just died, with `what` happened as its
/// last error, so that readers see at once that frames stopped and why (the heartbeat would
/// tell them only after it aged). Never waits: a ring whose lock is held is left alone.
pub fn mark_worker_gone(dir: &Path, name: &str, what: &str) -> Result<()> {
    let mut writer = Writer::attach(ring_path(dir, name))?;
    writer.update_status(|s| {
        s.state = State::Starting;
        s.next_retry_mono_ns = 0;
        s.fps_milli = 0;
        s.last_error = what.to_owned();
        s.last_error_realtime_ns = camd_ring::realtime_ns();
    });
    Ok(())
}

/// Marks `stopped` a ring whose writer is gone without doing so (a worker killed at stop).
pub fn mark_stopped(dir: &Path, name: &str) -> Result<()> {
    let path = ring_path(dir, name);
    let reader = Reader::open(&path)?;
    if reader.status().ok().map(|s| s.status.state) == Some(State::Stopped) {
        return Ok(());
    }
    let mut writer = Writer::attach(&path)?;
    writer.update_status(|s| {
        s.state = State::Stopped;
        s.next_retry_mono_ns = 0;
    });
    Ok(())
}

/// Open readers of every camera's ring, reopened when a ring is replaced.
#[derive(Default)]
pub struct RingWatch {
    readers: BTreeMap<String, Reader>,
}

impl RingWatch {
    fn reader(&mut self, dir: &Path, name: &str) -> Option<&Reader> {
        let stale = self
            .readers
            .get(name)
            .map_or(true, |r| r.is_replaced().unwrap_or(true));
        if stale {
            self.readers.remove(name);
            if let Ok(reader) = Reader::open(ring_path(dir, name)) {
                self.readers.insert(name.to_owned(), reader);
            }
        }
        self.readers.get(name)
    }

    pub fn forget(&mut self, name: &str) {
        self.readers.remove(name);
    }

    /// The state, writer pid and last heartbeat of the camera's ring; a missing or unreadable
    /// ring reads as never written.
    pub fn look(&mut self, dir: &Path, name: &str) -> (Option<State>, RingLife) {
        match self.reader(dir, name).and_then(|r| r.status().ok()) {
            Some(s) => (
                Some(s.status.state),
                RingLife {
                    writer_pid: s.status.writer_pid,
                    heartbeat: s.heartbeat_mono_ns,
                },
            ),
            None => (None, RingLife::NEVER_WRITTEN),
        }
    }
}
