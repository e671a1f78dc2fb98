//! The `camd` subcommands that never touch the daemon: `status` and `snapshot` read the rings,
//! `probe` asks the V4L2 devices and the GStreamer registry what this board offers; `command`
//! is the top of both executables' command lines.

pub mod args;
pub mod command;
pub mod probe;
pub mod snapshot;
pub mod status;
