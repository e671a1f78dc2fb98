//! A real, small tmpfs that only one thread sees: the thread leaves the process's mount
//! namespace (`unshare(CLONE_NEWNS)` affects the calling thread alone), makes its mounts
//! private so nothing propagates to the machine, and mounts a tmpfs of the given size. For
//! tests of what happens when a ring directory is full. Needs root (CAP_SYS_ADMIN), as CI has;
//! without it the test fails and says so, it does not skip.

use std::ffi::CString;
use std::path::Path;

/// Runs `f` on a new thread that sees a fresh tmpfs of `size` bytes at a temporary directory
/// (its path is passed to `f`), and returns what `f` returned. The mount goes away with the
/// thread's namespace.
pub fn with_private_tmpfs<T: Send + 'static>(
    size: u64,
    f: impl FnOnce(&Path) -> T + Send + 'static,
) -> T {
    let dir = crate::TempDir::new("tmpfs");
    let path = dir.path().to_owned();
    let result = std::thread::spawn(move || {
        mount_private_tmpfs(&path, size);
        f(&path)
    })
    .join();
    drop(dir);
    match result {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn mount_private_tmpfs(path: &Path, size: u64) {
    // SAFETY: unshare and mount take C strings that live through the calls; they change only
    // this thread's view of the mounts.
    unsafe {
        assert_eq!(
            libc::unshare(libc::CLONE_NEWNS),
            0,
            "a small private tmpfs needs root (unshare(CLONE_NEWNS)): {}",
            std::io::Error::last_os_error()
        );
        let root = CString::new("/").unwrap();
        assert_eq!(
            libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null()
            ),
            0,
            "make mounts private: {}",
            std::io::Error::last_os_error()
        );
        let target = CString::new(path.as_os_str().to_str().unwrap()).unwrap();
        let fstype = CString::new("tmpfs").unwrap();
        let options = CString::new(format!("size={size},mode=0755")).unwrap();
        assert_eq!(
            libc::mount(
                fstype.as_ptr(),
                target.as_ptr(),
                fstype.as_ptr(),
                0,
                options.as_ptr().cast()
            ),
            0,
            "mount a {size}-byte tmpfs at {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        );
    }
}
