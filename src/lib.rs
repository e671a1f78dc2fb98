//! camd, the camera-capture daemon's GStreamer-free half: the supervisor and the command line,
//! and what the supervisor and the worker (the `camd-worker` crate, which adds GStreamer) both
//! need: the config, the camera state machine, the worker protocol, the ring files' paths,
//! logging, sd_notify and the clock (see docs/ARCHITECTURE.md).
// No printing from library code: output goes through `log`, or through the command-line
// modules that exist to print (they say so with an `allow` and why).
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod camera_config;
pub mod camera_state;
pub mod cli;
pub mod clock;
pub mod config;
pub mod cut_text;
pub mod error;
pub mod logging;
pub mod missing_rings;
pub mod parent_death;
pub mod ring_dir;
pub mod ring_files;
pub mod source;
pub mod supervisor;
pub mod systemd_notify;
pub mod worker_protocol;
