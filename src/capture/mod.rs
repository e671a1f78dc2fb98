//! Capture: from a camera's source to JPEG frames in its ring. `source` parses where frames come
//! from; `elements` picks decoders and encoders (hardware first); `pipeline` builds the
//! GStreamer pipeline whose appsink publishes each frame into the ring with one copy.

pub mod elements;
pub mod pipeline;
pub mod source;
pub mod v4l2;
