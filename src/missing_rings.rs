//! The configured cameras that have no ring, and why: `<ring dir>/missing-rings.toml`, written
//! by the supervisor whenever the set changes (temporary name, then rename; mode 0640, the ring
//! group), read by `camd status` so that a camera whose ring could not be made (no space, a
//! directory in its place ...) is listed with its reason instead of vanishing. One line per
//! camera: `"name" = "reason"`. Rings are the truth for every camera that has one.

use crate::config::camera_keys::quote;
use crate::error::{Error, Kind, Result};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

const FILE: &str = "missing-rings.toml";
/// A bound on what `read` takes in: far more than any number of cameras needs.
const MAX_LEN: u64 = 1 << 20;

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// Writes `missing` (camera -> reason) for `camd status`; an empty map removes the file.
pub fn write(dir: &Path, group: Option<u32>, missing: &BTreeMap<String, String>) -> Result<()> {
    let path = path(dir);
    let fail = |what: &str, e: std::io::Error| {
        Error::new(Kind::Io, format!("{}: cannot {what}: {e}", path.display()))
    };
    if missing.is_empty() {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(fail("remove", e)),
            _ => Ok(()),
        };
    }
    let mut text = String::from(
        "# camd's supervisor: configured cameras that have no ring, and why (camd status shows them)\n",
    );
    for (camera, reason) in missing {
        text += &format!("{} = {}\n", quote(camera), quote(reason));
    }
    let tmp = dir.join(format!(".{FILE}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc_flags())
            .open(&tmp)
            .map_err(|e| fail("create", e))?;
        if let Some(gid) = group {
            nix::unistd::fchown(
                std::os::fd::AsRawFd::as_raw_fd(&file),
                None,
                Some(nix::unistd::Gid::from_raw(gid)),
            )
            .map_err(|e| fail("set the group", e.into()))?;
        }
        file.set_permissions(std::fs::Permissions::from_mode(0o640))
            .map_err(|e| fail("set the mode", e))?;
        file.write_all(text.as_bytes())
            .map_err(|e| fail("write", e))?;
        std::fs::rename(&tmp, &path).map_err(|e| fail("rename into place", e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The cameras `write` listed, camera -> reason; none if there is no such file. A file that is
/// not a regular file, too large, or not of this form is an error (never a hang).
pub fn read(dir: &Path) -> Result<BTreeMap<String, String>> {
    let path = path(dir);
    let fail = |text: String| Error::new(Kind::Io, format!("{}: {text}", path.display()));
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc_flags())
        .open(&path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(fail(format!("cannot open: {e}"))),
    };
    let meta = file
        .metadata()
        .map_err(|e| fail(format!("cannot stat: {e}")))?;
    if !meta.is_file() {
        return Err(fail("is not a regular file".into()));
    }
    let mut text = String::new();
    file.take(MAX_LEN)
        .read_to_string(&mut text)
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    let doc = toml_edit::ImDocument::parse(text).map_err(|e| {
        fail(format!(
            "is not camd's list of missing rings: {}",
            e.message()
        ))
    })?;
    Ok(doc
        .iter()
        .filter_map(|(camera, item)| Some((camera.to_owned(), item.as_str()?.to_owned())))
        .collect())
}

/// Never follow a link, never block on a FIFO.
fn libc_flags() -> i32 {
    nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_is_read_back_and_an_empty_list_removes_the_file() {
        let dir = std::env::temp_dir().join(format!("camd-missing-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(read(&dir).unwrap().is_empty(), "no file: no missing ring");
        let missing = BTreeMap::from([
            (
                "big".to_owned(),
                "no space: needs 9 bytes\nand \"more\"".to_owned(),
            ),
            ("we\"ird".to_owned(), "is a directory".to_owned()),
        ]);
        write(&dir, None, &missing).unwrap();
        assert_eq!(read(&dir).unwrap(), missing);
        let mode = std::fs::metadata(path(&dir)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        write(&dir, None, &BTreeMap::new()).unwrap();
        assert!(!path(&dir).exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
