//! One camera's settings, as the worker uses them (the TOML configuration maps onto this).

use crate::camera_state::RetryPolicy;
use crate::source::Source;

/// RTSP lower transport.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transport {
    /// UDP first, TCP if UDP fails (rtspsrc's default).
    #[default]
    Auto,
    Tcp,
    Udp,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CameraConfig {
    /// Ring file name and display name.
    pub name: String,
    pub source: Source,
    /// Output size; `None` keeps the camera's (MJPEG then passes through untouched).
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Frame-rate limit; `None` keeps the camera's rate.
    pub max_fps: Option<u32>,
    /// JPEG quality of re-encoded frames (1-100).
    pub jpeg_quality: u32,
    pub transport: Transport,
    /// rtspsrc jitter-buffer latency, ms.
    pub latency_ms: u32,
    /// Element overrides (otherwise hardware first, see capture::elements).
    pub decoder: Option<String>,
    pub encoder: Option<String>,
    pub slot_count: u32,
    /// Largest JPEG a slot holds; `None`: sized for the output resolution.
    pub slot_capacity: Option<u32>,
    pub retry: RetryPolicy,
}

impl CameraConfig {
    pub fn new(name: impl Into<String>, source: Source) -> Self {
        Self {
            name: name.into(),
            source,
            width: None,
            height: None,
            max_fps: None,
            jpeg_quality: 85,
            transport: Transport::Auto,
            latency_ms: 200,
            decoder: None,
            encoder: None,
            slot_count: 4,
            slot_capacity: None,
            retry: RetryPolicy::default(),
        }
    }

    /// The slot capacity: configured, or 3/4 byte per output pixel (a textured 720p frame at
    /// quality 85 is ~140 kB; this gives 675 kB), at least 256 KiB; 4 MiB when the output size
    /// is unknown (passthrough). Untouched slot bytes cost no memory on tmpfs.
    pub fn slot_capacity(&self) -> u32 {
        if let Some(capacity) = self.slot_capacity {
            return capacity;
        }
        match (self.width, self.height) {
            (Some(w), Some(h)) => {
                (u64::from(w) * u64::from(h) * 3 / 4).clamp(256 << 10, 64 << 20) as u32
            }
            _ => 4 << 20,
        }
    }
}
