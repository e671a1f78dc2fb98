//! Capture: from a camera's source to JPEG frames in its ring. `elements` picks decoders and
//! encoders (hardware first); `pipeline` builds the GStreamer pipeline whose appsink publishes
//! each frame into the ring with one copy, stamped with its capture time (`capture_time`); only
//! clean frames get there (`clean_frames`); RTSP credentials and certificates are guarded on
//! the wire (`rtsp_security`); `v4l2` asks a V4L2 device what it can deliver.
//! Where frames come from (`camd::source`) is parsed in the camd crate, with the config.

pub mod capture_time;
pub mod clean_frames;
pub mod elements;
pub mod error_text;
pub mod pipeline;
pub mod rtsp_security;
pub mod v4l2;
