//! Errors of the ring library. Every error that comes from a file names the file; every
//! format error names the header field (as `docs/ring-format.md` spells it) and what is wrong.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A field of a ring file whose value a reader cannot accept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    /// The field, e.g. `header.slot_count` or `slot[3].len`.
    pub field: String,
    /// What is wrong with it, with the value found.
    pub problem: String,
}

impl FormatError {
    pub(crate) fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// What went wrong, without the file name.
#[derive(Debug)]
pub enum ErrorKind {
    /// The file could not be opened, sized, mapped, locked or renamed.
    Io {
        action: &'static str,
        source: io::Error,
    },
    /// The file is not a ring this reader understands, or a value in it is out of range.
    Format(FormatError),
    /// Another process holds the writer lock of this ring.
    WriterBusy,
    /// The path names something other than a regular file (what it is: "a FIFO", "a
    /// directory", "a symbolic link" ...). Ring paths are never followed or opened otherwise.
    NotRegular(&'static str),
    /// The filesystem has no room for the file: it needs `needed` bytes, `free` are left.
    NoSpace { needed: u64, free: u64 },
    /// A frame larger than the slot capacity: counted as oversize, never truncated.
    Oversize { len: usize, capacity: u32 },
    /// A caller's argument is out of range (a writer option, a buffer too small, ...).
    Invalid(String),
    /// The caller's buffer cannot hold the frame.
    BufferTooSmall { needed: usize, available: usize },
    /// The writer overwrote the slot faster than the reader could read it, every try.
    Contended { tries: u32 },
}

/// An error of the ring library: what went wrong and with which file.
#[derive(Debug)]
pub struct RingError {
    pub path: PathBuf,
    pub kind: ErrorKind,
}

impl RingError {
    pub(crate) fn io(path: &Path, action: &'static str, source: io::Error) -> Self {
        Self {
            path: path.to_owned(),
            kind: ErrorKind::Io { action, source },
        }
    }
    pub(crate) fn format(path: &Path, error: FormatError) -> Self {
        Self {
            path: path.to_owned(),
            kind: ErrorKind::Format(error),
        }
    }
    pub(crate) fn invalid(path: &Path, message: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            kind: ErrorKind::Invalid(message.into()),
        }
    }
    pub(crate) fn with_kind(path: &Path, kind: ErrorKind) -> Self {
        Self {
            path: path.to_owned(),
            kind,
        }
    }

    /// The format error, when the file itself is at fault.
    pub fn format_error(&self) -> Option<&FormatError> {
        match &self.kind {
            ErrorKind::Format(e) => Some(e),
            _ => None,
        }
    }
}

/// What went wrong, without the file: what a caller that already names the file shows.
impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { action, source } => write!(f, "cannot {action}: {source}"),
            Self::Format(e) => write!(f, "{e}"),
            Self::WriterBusy => f.write_str(
                "another process holds the writer lock (is a second camd writing this camera?)",
            ),
            Self::NotRegular(what) => write!(
                f,
                "is {what}, not a regular file: camd never follows or opens it; remove it"
            ),
            Self::NoSpace { needed, free } => write!(
                f,
                "no space: the ring needs {needed} bytes and its filesystem has {free} free"
            ),
            Self::Oversize { len, capacity } => write!(
                f,
                "frame of {len} bytes does not fit the slot capacity of {capacity} bytes (counted as oversize, not written)"
            ),
            Self::Invalid(message) => f.write_str(message),
            Self::BufferTooSmall { needed, available } => {
                write!(f, "frame of {needed} bytes does not fit the {available}-byte buffer")
            }
            Self::Contended { tries } => write!(
                f,
                "the writer overwrote the frame during each of {tries} read attempts (too few slots for this reader?)"
            ),
        }
    }
}

impl fmt::Display for RingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ring file {}: {}", self.path.display(), self.kind)
    }
}

impl std::error::Error for RingError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

pub type Result<T, E = RingError> = std::result::Result<T, E>;
