//! The `camd` subcommands that never touch the daemon: `status` and `snapshot` read the rings
//! (`probe`, which asks the GStreamer registry, is camd-worker's); `command` and `args` are the
//! top of both executables' command lines.

pub mod args;
pub mod command;
pub mod snapshot;
pub mod status;
