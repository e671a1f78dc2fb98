//! How the ring's files are opened, locked, allocated and removed. The ring directory is a
//! trust boundary: readers are other programs, and nothing they can do there may harm the
//! writer or other readers. So every path is opened without following a symbolic link and
//! without blocking (a FIFO at a ring path never stalls an open), and anything that is not a
//! regular file is refused with an error that says what it is; the writer's lock lives in a file
//! only the writer's user can open (`.<ring>.lock`, mode 0600), not on the ring itself, which any
//! reader could `flock`; and a ring file is fully allocated when it is made, so no store into
//! its mapping can fault on a full filesystem.

use crate::error::{ErrorKind, Result, RingError};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// Mode of a writer's lock file: only its owner can open it, so only its owner can lock it.
const LOCK_MODE: u32 = 0o600;
/// How many times (1 ms apart) a held writer lock is tried again before `WriterBusy`.
const LOCK_RETRIES: u32 = 50;

/// What a directory entry is, for errors: "a directory", "a FIFO" ... (camd's config says the
/// same of password files).
pub fn describe(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_file() {
        "a regular file"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else {
        "of an unknown type"
    }
}

/// Opens `path` (read-only, or read-write) if it is a regular file: a symbolic link is not
/// followed, a FIFO or device does not block the open, and either is refused.
pub(crate) fn open_regular(path: &Path, write: bool) -> Result<File> {
    let action = if write { "open for writing" } else { "open" };
    open_file(path, OpenOptions::new().read(true).write(write), action).map(|(file, _)| file)
}

/// `options` with O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, then `fstat`: the file and its metadata
/// if it is a regular file, `NotRegular` (naming what it is) if not.
fn open_file(
    path: &Path,
    options: &mut OpenOptions,
    action: &'static str,
) -> Result<(File, std::fs::Metadata)> {
    let file = options
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                RingError::with_kind(path, ErrorKind::NotRegular("a symbolic link"))
            } else {
                RingError::io(path, action, e)
            }
        })?;
    let meta = file
        .metadata()
        .map_err(|e| RingError::io(path, "stat", e))?;
    if !meta.is_file() {
        return Err(RingError::with_kind(
            path,
            ErrorKind::NotRegular(describe(meta.file_type())),
        ));
    }
    Ok((file, meta))
}

/// What is at `path` without following it: `None` if nothing.
pub(crate) fn entry_type(path: &Path) -> Result<Option<std::fs::FileType>> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => Ok(Some(meta.file_type())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(RingError::io(path, "stat", e)),
    }
}

/// `.<ring file name>.lock`, beside the ring.
pub fn lock_path(ring_path: &Path) -> PathBuf {
    let name = ring_path.file_name().unwrap_or_default().to_string_lossy();
    ring_path.with_file_name(format!(".{name}.lock"))
}

/// `<ring path>.waiters`: the doorbell file of camd 0.1 (see docs/ring-format.md, "Waiting"),
/// which readers could write and the writer mapped. No longer made; removed where found.
pub(crate) fn legacy_doorbell_path(ring_path: &Path) -> PathBuf {
    let mut path = ring_path.as_os_str().to_owned();
    path.push(".waiters");
    PathBuf::from(path)
}

/// Takes the writer lock of the ring at `ring_path`, waiting at most about 50 ms: `WriterBusy`
/// if another writer holds it. The lock file is created 0600 if missing; one that is not a regular file
/// owned by this user is refused (only this user and root can put one in the ring directory).
pub(crate) fn lock_writer(ring_path: &Path) -> Result<File> {
    let path = lock_path(ring_path);
    let (file, meta) = open_file(
        &path,
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .mode(LOCK_MODE),
        "open the writer lock",
    )?;
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(RingError::invalid(
            &path,
            format!(
                "the writer lock is owned by uid {}, not by this process's uid {me}: the ring \
                 directory is not camd's alone",
                meta.uid()
            ),
        ));
    }
    if meta.mode() & 0o077 != 0 {
        // SAFETY: fchmod on an fd we own.
        if unsafe { libc::fchmod(file.as_raw_fd(), LOCK_MODE as libc::mode_t) } != 0 {
            return Err(RingError::io(
                &path,
                "make the writer lock private",
                std::io::Error::last_os_error(),
            ));
        }
    }
    // A lock that was just released can still look held for a moment: a thread of this process
    // that forks (to spawn a program) gives the child a copy of every descriptor until it execs,
    // and a flock lives as long as any copy of its descriptor. So a held lock is tried again
    // for up to LOCK_RETRIES ms before it counts as another writer's.
    let try_lock = || {
        // SAFETY: flock on an fd we own; LOCK_NB: never waits.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EWOULDBLOCK) => Ok(false),
            _ => Err(RingError::io(&path, "lock", e)),
        }
    };
    for _ in 0..LOCK_RETRIES {
        if try_lock()? {
            return Ok(file);
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    if try_lock()? {
        return Ok(file);
    }
    Err(RingError::with_kind(ring_path, ErrorKind::WriterBusy))
}

/// Gives `file` (at `path`) all of its `len` bytes on disk now, so that no store into its
/// mapping can fault for want of space later (a sparse file on a full tmpfs kills its writer
/// and readers with SIGBUS). No space is `ErrorKind::NoSpace` with the numbers.
pub(crate) fn allocate(file: &File, path: &Path, len: u64) -> Result<()> {
    let Ok(off_len) = libc::off_t::try_from(len) else {
        return Err(RingError::invalid(
            path,
            format!("{len} bytes is too large a file"),
        ));
    };
    // SAFETY: posix_fallocate on an fd we own; it returns the error instead of setting errno.
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, off_len) };
    match rc {
        0 => Ok(()),
        libc::ENOSPC | libc::EDQUOT => Err(RingError::with_kind(
            path,
            ErrorKind::NoSpace {
                needed: len,
                free: free_bytes(path.parent().unwrap_or(Path::new("."))).unwrap_or(0),
            },
        )),
        errno => Err(RingError::io(
            path,
            "allocate the file",
            std::io::Error::from_raw_os_error(errno),
        )),
    }
}

/// Bytes an unprivileged process can still allocate in the filesystem holding `dir`.
pub fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a NUL-terminated path; statvfs fills the whole struct on success, and it
    // is read only then.
    let stat = unsafe {
        if libc::statvfs(c.as_ptr(), stat.as_mut_ptr()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        stat.assume_init()
    };
    #[allow(clippy::unnecessary_cast)] // the field types differ between targets
    Ok((stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64))
}

/// Removes the ring at `path` with its writer lock and any doorbell camd 0.1 left. Readers that
/// still map the ring keep their mapping and see its last status.
pub fn remove_ring(path: &Path) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(lock_path(path));
    let _ = std::fs::remove_file(legacy_doorbell_path(path));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_is_hidden_beside_the_ring() {
        assert_eq!(
            lock_path(Path::new("/run/camd/door.ring")),
            Path::new("/run/camd/.door.ring.lock")
        );
        assert_eq!(
            legacy_doorbell_path(Path::new("/run/camd/door.ring")),
            Path::new("/run/camd/door.ring.waiters")
        );
    }
}
