//! Where each camera's ring file lives in the ring directory, and how a camera's ring is
//! opened for writing. The worker opens its cameras' rings; the supervisor opens them too, to
//! create them before READY and to mark `stopped` the rings a killed worker left behind.

use crate::camera_config::CameraConfig;
use crate::error::{Error, Result};
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

/// Opens the camera's ring for writing: takes over an existing one of the right shape (a
/// restarted worker), or creates it. The error says which camera and why; its `ring_kind()`
/// says what to do (`WriterBusy`: the camera's previous writer has not let go yet).
pub fn open_ring(dir: &Path, config: &CameraConfig, group: Option<u32>) -> Result<Writer> {
    let path = ring_path(dir, &config.name);
    let options = WriterOptions {
        width: config.width.unwrap_or(0),
        height: config.height.unwrap_or(0),
        group,
        ..WriterOptions::new(
            config.name.clone(),
            config.slot_count,
            config.slot_capacity(),
        )
    };
    let fits = Reader::open(&path).map(|r| {
        let g = r.geometry();
        (g.slot_count, g.slot_capacity, g.width, g.height)
            == (
                options.slot_count,
                options.slot_capacity,
                options.width,
                options.height,
            )
    });
    let writer = if fits.unwrap_or(false) {
        Writer::attach(&path)
    } else {
        Writer::create(&path, &options)
    };
    writer.map_err(|e| Error::from(e).camera(&config.name))
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
}
