//! The `camd` subcommands that never touch the daemon: `status` and `snapshot` read the rings
//! (`probe`, which asks the GStreamer registry, is camd-worker's); `command` and `args` are the
//! top of both executables' command lines.
// Printing the command line's output is what these modules are for.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod args;
pub mod command;
pub mod snapshot;
pub mod status;

/// `camd probe`'s usage: the command runs in camd-worker (`camd` execs it), and both executables
/// print this one text.
pub const PROBE_USAGE: &str = "\
usage: camd probe [--format table|json]               V4L2 devices, decoders and encoders here
       camd probe rtsps://HOST[:PORT]...              a camera's certificate, to pin it";
