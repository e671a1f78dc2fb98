//! camd-worker, the half of camd that links GStreamer: capture (GStreamer pipelines into
//! camd-ring rings), the thread that runs one camera through its state machine, the worker that
//! runs a group of cameras, the `camd-worker` process around it, and `probe` (the registry and
//! the V4L2 devices; `tls_probe`, an rtsps:// camera's certificate). The config, the camera state machine, the worker protocol and the ring
//! paths come from the `camd` crate, which has no GStreamer in its dependency tree
//! (docs/ARCHITECTURE.md).
// No printing from library code: output goes through `log`, or through the command-line
// modules that exist to print (they say so with an `allow` and why).
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod camera_runner;
pub mod capture;
pub mod probe;
pub mod process_title;
pub mod still;
pub mod tls_probe;
pub mod worker;
pub mod worker_process;
