//! camd's frame ring: the shared-memory file through which camd hands each camera's latest frames
//! (JPEG, or raw pixels: `Codec`, `PixelLayout`) and status to inference programs, with no copy,
//! no lock and no syscall on the reading side. This crate is the format (`docs/ring-format.md`),
//! the one writer, the reader, and the C ABI (`include/camd_ring.h`) that the C, C++ and Python
//! bindings use; it has no GStreamer.
//!
//! Modules, from the bytes up: `layout` (structs and offsets of format version 1), `validate`
//! (the header parser, fuzzed), `pixels` (raw frames' codecs and layouts), `region` (typed access to a validated mapping), `shared_bytes`
//! (racy-by-design byte copies), `publish` and `frames` (the two halves of the seqlock
//! protocol), `status`, `files` (opening, locking, allocating and removing the files of the ring
//! directory, a trust boundary), `writer` and `reader` (mappings), `capi` (the C ABI).
// No printing from library code: output goes through `log`, or through the command-line
// modules that exist to print (they say so with an `allow` and why).
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod capi;
mod clock;
mod error;
mod files;
mod frames;
mod futex;
mod fuzz_entry;
pub mod layout;
mod pixels;
#[cfg(test)]
mod protocol_tests;
mod publish;
mod reader;
mod region;
mod shared_bytes;
mod status;
mod validate;
mod writer;

pub use clock::{monotonic_ns, realtime_ns};
pub use error::{ErrorKind, FormatError, Result, RingError};
pub use files::{describe as describe_file_type, free_bytes, lock_path, remove_ring};
pub use frames::{BorrowedFrame, FrameGone, FrameMeta};
#[doc(hidden)]
pub use fuzz_entry::read_file_image;
pub use pixels::{Codec, PixelLayout};
pub use publish::FrameInfo;
pub use reader::{Reader, StatusSnapshot, DEFAULT_ALIVE_TIMEOUT};
pub use status::{State, Status};
pub use validate::{validate_header, Geometry};
pub use writer::{Writer, WriterOptions};
