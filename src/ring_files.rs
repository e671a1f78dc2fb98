//! Where each camera's ring file lives in the ring directory, and how a camera's ring is
//! opened for writing. The worker opens its cameras' rings; the supervisor opens them too, to
//! create them before READY and to mark `stopped` the rings a killed worker left behind.

use crate::camera_config::CameraConfig;
use crate::error::{Error, Result};
use camd_ring::layout::WRITER_COMPAT_FEATURES;
use camd_ring::{Reader, Writer, WriterOptions};
use std::path::{Path, PathBuf};

/// A ring file's name is the camera's name and this.
const SUFFIX: &str = ".ring";

/// Where camera `name`'s ring lives in `dir`.
pub fn ring_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}{SUFFIX}"))
}

/// The camera whose ring a file of the ring directory is (`door.ring` is `door`'s), if it is
/// named as a ring. Hidden files (`.door.ring`, a temporary name) are nobody's.
pub fn camera_of(file_name: &str) -> Option<&str> {
    file_name
        .strip_suffix(SUFFIX)
        .filter(|name| !name.starts_with('.'))
}

/// The cameras that have a ring in `dir`, sorted by name.
pub fn cameras_in(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        if let Some(name) = camera_of(&entry?.file_name().to_string_lossy()) {
            names.push(name.to_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// Opens the camera's ring for writing: takes over an existing one of the right shape (a
/// restarted worker), or creates it. Either way the file ends with mode 0640 and `group` (or,
/// without one, camd's own group): a changed `ring_group` applies to existing rings. The error
/// says which camera and why; its `ring_kind()` says what to do (`WriterBusy`: the camera's
/// previous writer has not let go yet; `NoSpace`, `NotRegular`: the operator must act).
pub fn open_ring(dir: &Path, config: &CameraConfig, group: Option<u32>) -> Result<Writer> {
    let path = ring_path(dir, &config.name);
    let group = Some(group.unwrap_or_else(|| nix::unistd::getegid().as_raw()));
    let options = WriterOptions {
        group,
        ..writer_options(config)
    };
    // A file of an older camd is replaced, so that its readers get what this version's bits
    // promise: camd 0.1 (no COMPAT_WAKE_EVERY_PUBLISH) left them polling instead of sleeping on
    // the futex; camd 0.2 before COMPAT_CAMERA_TIME gave them no camera times.
    let fits = Reader::open(&path).map(|r| {
        let g = r.geometry();
        (g.slot_count, g.slot_capacity, g.width, g.height, g.codec)
            == (
                options.slot_count,
                options.slot_capacity,
                options.width,
                options.height,
                options.codec.value(),
            )
            && g.compat_features & WRITER_COMPAT_FEATURES == WRITER_COMPAT_FEATURES
    });
    let writer = if fits.unwrap_or(false) {
        Writer::attach(&path).and_then(|w| w.set_owner_and_mode(group, options.mode).map(|()| w))
    } else {
        Writer::create(&path, &options)
    };
    writer.map_err(|e| Error::from(e).camera(&config.name))
}

/// The shape of the camera's ring.
fn writer_options(config: &CameraConfig) -> WriterOptions {
    WriterOptions {
        width: config.width.unwrap_or(0),
        height: config.height.unwrap_or(0),
        codec: config.format,
        ..WriterOptions::new(
            config.name.clone(),
            config.slot_count,
            config.slot_capacity(),
        )
    }
}

/// If the rings of `cameras` do not fit the free space of `dir` (counting as reusable the rings
/// of those cameras already there), a warning that says by how much: each ring is allocated
/// whole when it is made, so a camera whose ring does not fit will not run. `None` when they
/// fit, or when the space cannot be known (`dir` and its parents missing).
pub fn space_warning(dir: &Path, cameras: &[&CameraConfig]) -> Option<String> {
    let needed: u64 = cameras.iter().map(|c| writer_options(c).file_size()).sum();
    let existing = dir.ancestors().find(|d| d.is_dir())?;
    let free = camd_ring::free_bytes(existing).ok()?;
    let reusable: u64 = cameras
        .iter()
        .filter_map(|c| std::fs::symlink_metadata(ring_path(dir, &c.name)).ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    (needed > free.saturating_add(reusable)).then(|| {
        format!(
            "daemon.runtime_dir: the rings of the {} cameras need {needed} bytes; {} has {free}              bytes free{}: the cameras whose ring does not fit will not run (fewer slots, a              smaller slot_capacity, or more room)",
            cameras.len(),
            existing.display(),
            if reusable > 0 {
                format!(" and {reusable} in their rings already there")
            } else {
                String::new()
            }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_file_is_named_after_its_camera() {
        let path = ring_path(Path::new("/run/camd"), "door");
        assert_eq!(path, Path::new("/run/camd/door.ring"));
        let file = path.file_name().unwrap().to_str().unwrap();
        assert_eq!(camera_of(file), Some("door"));
        assert_eq!(camera_of("door.ring.tmp"), None);
        assert_eq!(camera_of(".door.ring"), None);
        assert_eq!(camera_of("door.waiters"), None);
    }

    /// A ring an older camd made without a compat bit this version sets is made anew (its
    /// readers would miss what the bit promises); one with every bit is taken over.
    #[test]
    fn a_ring_of_an_older_camd_is_replaced() {
        use camd_ring::layout::{field_offsets, COMPAT_CAMERA_TIME};
        use std::os::unix::fs::FileExt;
        let dir = std::env::temp_dir().join(format!("camd-ring-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = CameraConfig::new("old", crate::source::Source::parse("test:smpte").unwrap());
        let created = |w: &Writer| w.status().generation;
        let first = open_ring(&dir, &config, None).unwrap();
        let generation = created(&first);
        drop(first);
        // Taken over: the same file, its generation carried on.
        let again = open_ring(&dir, &config, None).unwrap();
        assert!(created(&again) > generation);
        let kept = Reader::open(ring_path(&dir, "old"))
            .unwrap()
            .geometry()
            .created_realtime_ns;
        drop(again);
        // As camd 0.2.0 wrote it: COMPAT_WAKE_EVERY_PUBLISH alone.
        let offset = field_offsets()
            .into_iter()
            .find(|(name, _)| *name == "header.compat_features")
            .unwrap()
            .1;
        let old = WRITER_COMPAT_FEATURES & !COMPAT_CAMERA_TIME;
        std::fs::OpenOptions::new()
            .write(true)
            .open(ring_path(&dir, "old"))
            .unwrap()
            .write_all_at(&old.to_le_bytes(), offset as u64)
            .unwrap();
        let replaced = open_ring(&dir, &config, None).unwrap();
        let reader = Reader::open(ring_path(&dir, "old")).unwrap();
        assert_eq!(reader.geometry().compat_features, WRITER_COMPAT_FEATURES);
        assert_ne!(reader.geometry().created_realtime_ns, kept, "a new file");
        drop(replaced);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
