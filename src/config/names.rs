//! Which names are safe: a camera name becomes a file name (`<name>.ring` in the runtime dir),
//! a process title word, a log prefix and a Prometheus label, so it must be harmless in all,
//! and look like itself (no bidirectional controls, no zero-width characters). No string value
//! of the config may hold a control character (`check_no_control`).

use crate::error::{Error, Kind, Result};
/// Longest camera name: what the ring header's NUL-terminated name field holds.
pub const MAX_NAME_LEN: usize = camd_ring::layout::NAME_LEN - 1;

/// Characters that reorder the text around them when shown (Unicode's bidirectional embedding,
/// override and isolate controls, and the three marks): a name holding one can be displayed as
/// another name.
const BIDI_CONTROLS: &[char] = &[
    '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}',
    '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
];

/// Characters that show as nothing: a name holding one looks like the name without it.
const ZERO_WIDTH: &[char] = &['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];

/// A character as people look it up: `U+000A`.
pub(crate) fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// `Ok` if `text` has no control character (`char::is_control`: C0, DEL, C1); else which one and
/// where. Every string value of the config passes this (`camera_keys::string`); it never quotes
/// the value, which may be a url holding a password.
pub(crate) fn check_no_control(text: &str) -> Result<()> {
    match text.chars().enumerate().find(|(_, c)| c.is_control()) {
        None => Ok(()),
        Some((i, c)) => Err(Error::new(
            Kind::Config,
            format!(
                "contains the control character {} (character {} of the string): control \
                 characters are not allowed in config values",
                code_point(c),
                i + 1
            ),
        )),
    }
}

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
            format!("{name:?} contains the control character {}", code_point(c)),
        ));
    }
    if let Some(c) = name.chars().find(|c| BIDI_CONTROLS.contains(c)) {
        return Err(Error::new(
            Kind::Config,
            format!(
                "{name:?} contains the bidirectional control {} (it reorders how the name is shown)",
                code_point(c)
            ),
        ));
    }
    if let Some(c) = name.chars().find(|c| ZERO_WIDTH.contains(c)) {
        return Err(Error::new(
            Kind::Config,
            format!(
                "{name:?} contains the zero-width character {} (two names would look the same)",
                code_point(c)
            ),
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
