//! The ring directory (`daemon.runtime_dir`) as a trust boundary: whoever can write it could
//! replace, link or plant files where camd and its readers look. camd makes it (and any missing
//! parent) with fixed modes whatever the umask: parents 0755, the directory 0750 owned by camd's
//! user and the ring group. An existing one is used only if camd's user owns it and neither its
//! group nor others can write it; it is given the ring group, so a changed `ring_group` applies.

use crate::error::{Error, Kind, Result};
use nix::sys::stat::{fchmodat, FchmodatFlags, Mode};
use nix::unistd::{fchown, Gid};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Mode of a ring directory camd makes: readers in the ring group may list and open, no one but
/// camd's user may add, remove or rename.
pub const DIR_MODE: u32 = 0o750;
/// Mode of a missing parent camd makes on the way.
const PARENT_MODE: u32 = 0o755;

fn problem(dir: &Path, text: impl std::fmt::Display) -> Error {
    Error::new(
        Kind::System,
        format!("daemon.runtime_dir: {}: {text}", dir.display()),
    )
}

/// Makes `dir` ready to hold rings, or says why it cannot be trusted with them. `group` is the
/// ring group (`None`: camd's own).
pub fn prepare(dir: &Path, group: Option<u32>) -> Result<()> {
    make(dir)?;
    let meta = std::fs::metadata(dir).map_err(|e| problem(dir, e))?;
    if !meta.is_dir() {
        return Err(problem(dir, "is not a directory"));
    }
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != me {
        return Err(problem(
            dir,
            format!(
                "is owned by uid {}, not by camd's user (uid {me}): another user could replace \
                 the rings in it; give it to camd's user (chown) or choose another directory",
                meta.uid()
            ),
        ));
    }
    let writable = meta.mode() & 0o022;
    if writable != 0 {
        let who = if writable & 0o002 != 0 {
            "every user"
        } else {
            "its group"
        };
        return Err(problem(
            dir,
            format!(
                "is writable by {who} (mode {:04o}): they could replace the rings in it; \
                 `chmod go-w` it (camd makes it {DIR_MODE:04o})",
                meta.mode() & 0o7777
            ),
        ));
    }
    let gid = group.unwrap_or_else(|| nix::unistd::getegid().as_raw());
    if meta.gid() != gid {
        // fchown on the open directory: camd's unit allows that call (a member of the ring
        // group may give it its files), not chown(2).
        let open =
            std::fs::File::open(dir).map_err(|e| problem(dir, format!("cannot open: {e}")))?;
        fchown(open.as_raw_fd(), None, Some(Gid::from_raw(gid)))
            .map_err(|e| problem(dir, format!("cannot give it the ring group {gid}: {e}")))?;
    }
    Ok(())
}

/// Creates `dir` and its missing parents with fixed modes (mkdir's mode is cut by the umask;
/// the chmod after it is not).
fn make(dir: &Path) -> Result<()> {
    let missing: Vec<&Path> = dir.ancestors().take_while(|p| !p.exists()).collect();
    for (i, path) in missing.iter().rev().enumerate() {
        let leaf = i + 1 == missing.len();
        match std::fs::create_dir(path) {
            Ok(()) => {}
            // Made meanwhile by someone else: the checks on the leaf still apply.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(problem(
                    dir,
                    format!("cannot create {}: {e}", path.display()),
                ))
            }
        }
        let mode = if leaf { DIR_MODE } else { PARENT_MODE };
        fchmodat(
            None,
            *path,
            Mode::from_bits_truncate(mode),
            FchmodatFlags::FollowSymlink,
        )
        .map_err(|e| {
            problem(
                dir,
                format!("cannot set the mode of {}: {e}", path.display()),
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode_of(dir: &Path) -> std::io::Result<u32> {
        Ok(std::fs::metadata(dir)?.permissions().mode() & 0o7777)
    }

    fn temp(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("camd-ring-dir-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// Under umask 000 the directory and its parents used to be made 0777.
    #[test]
    fn made_with_fixed_modes_whatever_the_umask() {
        let base = temp("umask");
        let dir = base.join("a/b/rings");
        let old = nix::sys::stat::umask(Mode::empty());
        let result = prepare(&dir, None);
        nix::sys::stat::umask(old);
        result.unwrap();
        assert_eq!(mode_of(&dir).unwrap(), DIR_MODE);
        assert_eq!(mode_of(&base.join("a/b")).unwrap(), PARENT_MODE);
        assert_eq!(mode_of(&base.join("a")).unwrap(), PARENT_MODE);
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn a_directory_others_can_write_is_refused() {
        let dir = temp("writable");
        std::fs::create_dir_all(&dir).unwrap();
        for (mode, who) in [(0o777, "every user"), (0o770, "its group")] {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
            let error = prepare(&dir, None).unwrap_err().to_string();
            assert!(error.contains(&format!("is writable by {who}")), "{error}");
            assert!(error.contains("daemon.runtime_dir"), "{error}");
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        prepare(&dir, None).expect("0755 owned by camd's user is fine");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Needs root to make a directory owned by someone else (CI runs as root).
    #[test]
    fn a_directory_another_user_owns_is_refused() {
        assert!(
            nix::unistd::geteuid().is_root(),
            "this test chowns a directory to another user: run it as root (CI does)"
        );
        let dir = temp("foreign");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        nix::unistd::chown(&dir, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
        let error = prepare(&dir, None).unwrap_err().to_string();
        assert!(error.contains("is owned by uid 65534"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Needs root to give a directory a group that is not its creator's (CI runs as root).
    #[test]
    fn the_ring_group_is_applied_to_an_existing_directory() {
        assert!(
            nix::unistd::geteuid().is_root(),
            "this test gives a directory another group: run it as root (CI does)"
        );
        let dir = temp("group");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
        let gid = 4242;
        assert_ne!(std::fs::metadata(&dir).unwrap().gid(), gid);
        prepare(&dir, Some(gid)).unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().gid(), gid);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
