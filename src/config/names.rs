//! Which names are safe: a camera name becomes a file name (`<name>.ring` in the runtime dir),
//! a process title word, a log prefix and a Prometheus label, so it must be harmless in all.

use crate::error::{Error, Kind, Result};
/// Longest camera name: what the ring header's NUL-terminated name field holds.
pub const MAX_NAME_LEN: usize = camd_ring::layout::NAME_LEN - 1;

/// `Ok` if `name` is safe as a camera (or worker) name; else why not.
pub fn check_camera_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::new(Kind::Config, "is empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(Error::new(
            Kind::Config,
            format!(
                "{name:?} is too long ({} bytes; at most {MAX_NAME_LEN})",
                name.len()
            ),
        ));
    }
    if name.contains('/') {
        return Err(Error::new(
            Kind::Config,
            format!("{name:?} contains '/': names become file names"),
        ));
    }
    if name.starts_with('.') {
        return Err(Error::new(
            Kind::Config,
            format!("{name:?} starts with '.' ('..' and hidden files are not camera names)"),
        ));
    }
    if name.starts_with('-') {
        return Err(Error::new(
            Kind::Config,
            format!("{name:?} starts with '-' (it would read as an option)"),
        ));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(Error::new(
            Kind::Config,
            format!("{name:?} contains the control character {:?}", c),
        ));
    }
    if name.chars().any(char::is_whitespace) || name.contains(',') {
        return Err(Error::new(
            Kind::Config,
            format!("{name:?} contains a space or a comma (use letters, digits, '-', '_' or '.')"),
        ));
    }
    Ok(())
}

/// A POSIX-ish group name (`ring_group`).
pub fn is_group_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'$'))
}
