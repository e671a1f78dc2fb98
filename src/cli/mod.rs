//! The `camd` subcommands that never touch the daemon: `status` and `snapshot` read the rings,
//! `probe` asks the V4L2 devices and the GStreamer registry what this board offers.

pub mod args;
pub mod probe;
pub mod snapshot;
pub mod status;
