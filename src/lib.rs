//! camd, the camera-capture daemon: capture (GStreamer pipelines into camd-ring rings), the
//! camera state machine, and the worker that runs a group of cameras. The supervisor and the
//! command line build on these (see docs/ARCHITECTURE.md).

pub mod camera_config;
pub mod camera_runner;
pub mod camera_state;
pub mod capture;
pub mod cli;
pub mod clock;
pub mod config;
pub mod logging;
pub mod parent_death;
pub mod process_title;
pub mod supervisor;
pub mod systemd_notify;
pub mod worker;
pub mod worker_process;
pub mod worker_protocol;
