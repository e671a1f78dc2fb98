//! Building a camera's GStreamer pipeline. The head depends on the source (rtspsrc, whose codec
//! is only known when its pad appears; videotestsrc; a file through decodebin); the tail is
//! parse → decoder → [rate] → [scale] → convert → JPEG encoder → appsink (`tail_steps`: the
//! rate limit drops frames before the scaler and the converter see them), or, for MJPEG that
//! needs no scaling, jpegparse → [rate] → appsink (passthrough: no decode, no encode). With
//! `decode = "keyframes"` an H.264/H.265 camera's other frames are dropped before the decoder
//! (`clean_frames`). The appsink keeps
//! only the newest buffer (max-buffers=1, drop) and its callback copies the JPEG into the ring:
//! the one copy between the encoder and the inference program.
//!
//! Everything that happens to the pipeline is sent to the camera's driver as an `Event`, tagged
//! with the pipeline's generation so that events of a torn-down pipeline are ignored.

use super::capture_time::{Arrivals, CaptureTime};
use super::clean_frames;
use super::elements::{self, Codec};
use super::rtsp_security::{self, TlsRefusal};
use camd::camera_config::{CameraConfig, Decode, Resize};
use camd::clock::Clock;
use camd::error::{Error, Kind, Result};
use camd::source::Source;
use camd_ring::{Codec as RingCodec, ErrorKind, FrameInfo, Writer};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

/// What the driver hears from a pipeline.
#[derive(Debug)]
pub enum Event {
    /// A frame reached the ring (sent only while the driver asked to be told).
    Frame { generation: u64, at: u64 },
    /// The pipeline failed or ended.
    Failed { generation: u64, error: Error },
    /// A file source reached its end: the driver seeks back to the start (files loop).
    EndOfFile { generation: u64 },
    /// The clock jumped (a simulated clock moved by a test): look at the deadlines again.
    ClockMoved,
    /// The worker is shutting down.
    Stop,
}

/// Shared between a camera's driver and its pipeline's streaming threads.
pub struct FrameTarget {
    pub camera: String,
    pub writer: Arc<Mutex<Writer>>,
    pub events: Mutex<Sender<Event>>,
    /// CLOCK_MONOTONIC of the last frame published by the current pipeline (0: none yet).
    pub last_frame: AtomicU64,
    /// Set by the driver when it wants an `Event::Frame` for the next frame.
    pub notify_next_frame: AtomicBool,
    oversize_logged: AtomicBool,
    /// The driver's clock: frame times compare with the state machine's deadlines.
    clock: Arc<dyn Clock>,
    /// Why rtspsrc refused the camera's certificate, if it did (rtsp_security).
    pub tls_refusal: Arc<TlsRefusal>,
}

impl FrameTarget {
    pub fn new(
        camera: &str,
        writer: Arc<Mutex<Writer>>,
        events: Sender<Event>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            camera: camera.to_owned(),
            writer,
            events: Mutex::new(events),
            last_frame: AtomicU64::new(0),
            notify_next_frame: AtomicBool::new(true),
            oversize_logged: AtomicBool::new(false),
            clock,
            tls_refusal: Arc::default(),
        }
    }

    fn send(&self, event: Event) {
        if let Ok(events) = self.events.lock() {
            let _ = events.send(event);
        }
    }

    fn fail(&self, generation: u64, error: Error) {
        self.send(Event::Failed { generation, error });
    }

    /// The appsink callback: one copy of the JPEG into the ring.
    fn publish(&self, generation: u64, jpeg: &[u8], width: u32, height: u32, at: CaptureTime) {
        // The ring's timestamps are the frame's capture time in the real clocks (readers
        // compare them with theirs); the driver's notion of "last frame" is its own clock's.
        let info = FrameInfo {
            width,
            height,
            ts_mono_ns: at.mono_ns,
            ts_realtime_ns: at.realtime_ns,
            ts_camera_ns: at.camera_ns,
        };
        let now = self.clock.now();
        let result = match self.writer.lock() {
            Ok(mut writer) => writer.publish(jpeg, &info),
            Err(_) => return,
        };
        match result {
            Ok(_) => {
                self.last_frame.store(now, Ordering::Release);
                if self.notify_next_frame.swap(false, Ordering::AcqRel) {
                    self.send(Event::Frame {
                        generation,
                        at: now,
                    });
                }
            }
            Err(e) => {
                // An oversize JPEG, or a raw frame not in the ring's layout (a converter that
                // pads its rows): what to do about it.
                let fix = match e.kind {
                    ErrorKind::Oversize { .. } => "raise slot_capacity",
                    ErrorKind::Invalid(_) => {
                        "the converter's frames are not in GStreamer's default layout: set converter = \"videoconvertscale\""
                    }
                    _ => {
                        log::warn!("camera {}: {e}", self.camera);
                        return;
                    }
                };
                if !self.oversize_logged.swap(true, Ordering::Relaxed) {
                    log::warn!(
                        "camera {}: {e}; {fix} (logged once; see the oversize counter)",
                        self.camera
                    );
                }
                // Waiting for a first frame: this attempt cannot succeed, say why. Once frames
                // flow, an occasional oversize frame is only counted.
                if self.notify_next_frame.load(Ordering::Acquire) {
                    let reason = format!("{}: {fix}", e.kind);
                    self.fail(generation, Error::new(Kind::Ring, reason));
                }
            }
        }
    }
}

/// The elements chosen for a pipeline, for the status block and the log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chosen {
    pub input_codec: String,
    pub decoder: String,
    /// The JPEG encoder, or for raw output the converter (the status's `encoder` field).
    pub encoder: String,
    pub raw_output: bool,
}

fn make(name: &str) -> Result<gst::Element> {
    gst::ElementFactory::make(name)
        .build()
        .map_err(unmade(name))
}

/// The error of an element that could not be made: not installed, or a property it refused.
fn unmade(name: &str) -> impl FnOnce(gst::glib::BoolError) -> Error + '_ {
    move |e| {
        Error::new(Kind::Element, "is not installed (or refused a property)")
            .element(name)
            .because(e)
    }
}

/// The factory name of an element, for errors.
fn name_of(element: &gst::Element) -> String {
    element
        .factory()
        .map(|f| f.name().to_string())
        .unwrap_or_else(|| element.name().to_string())
}

fn names(chain: &[&gst::Element]) -> String {
    chain
        .iter()
        .map(|e| name_of(e))
        .collect::<Vec<_>>()
        .join(" ! ")
}

fn add(pipeline: &gst::Pipeline, elements: &[&gst::Element]) -> Result<()> {
    pipeline.add_many(elements).map_err(|e| {
        Error::new(
            Kind::Pipeline,
            format!("cannot add {} to the pipeline", names(elements)),
        )
        .because(e)
    })
}

fn link(from: &gst::Element, to: &gst::Element) -> Result<()> {
    from.link(to).map_err(|e| {
        Error::new(Kind::Element, format!("cannot link {}", names(&[from, to]))).because(e)
    })
}

fn start(element: &gst::Element) -> Result<()> {
    element.sync_state_with_parent().map_err(|e| {
        Error::new(Kind::Pipeline, "cannot start")
            .element(&name_of(element))
            .because(e)
    })
}

fn caps_filter(caps: gst::Caps) -> Result<gst::Element> {
    gst::ElementFactory::make("capsfilter")
        .property("caps", &caps)
        .build()
        .map_err(unmade("capsfilter"))
}

/// Builds the pipeline for `config` (not yet playing). Failures that happen later (a pad with
/// an unsupported codec, a missing decoder) arrive as `Event::Failed`.
pub fn build(
    config: &CameraConfig,
    target: Arc<FrameTarget>,
    generation: u64,
) -> Result<gst::Pipeline> {
    let pipeline = gst::Pipeline::with_name(&format!("camera-{}", config.name));
    target.tls_refusal.take(); // a refusal noted for an earlier connection
    forward_bus(&pipeline, &target, generation, config.source.clone());
    match &config.source {
        Source::TestPattern { pattern } => {
            let src = gst::ElementFactory::make("videotestsrc")
                .property("is-live", true)
                .property_from_str("pattern", pattern)
                .build()
                .map_err(unmade("videotestsrc"))?;
            let caps = gst::Caps::builder("video/x-raw")
                .field("width", config.width.unwrap_or(640) as i32)
                .field("height", config.height.unwrap_or(480) as i32)
                .field(
                    "framerate",
                    gst::Fraction::new(config.max_fps.unwrap_or(15) as i32, 1),
                )
                .build();
            let chosen = link_fixed_head(
                &pipeline,
                &src,
                caps,
                config,
                Codec::Raw,
                &target,
                generation,
            )?;
            record_chosen(&target, &chosen);
        }
        Source::Rtsp {
            url,
            user,
            password,
        } => {
            rtsp_security::refuse_cleartext_basic(&config.source, config.allow_basic_auth)?;
            let mut src = gst::ElementFactory::make("rtspsrc")
                .property("location", url)
                .property("latency", config.latency_ms)
                .property("drop-on-latency", true)
                // Fail a connection that accepts and never answers in 5 s, not rtspsrc's 20 s.
                .property("tcp-timeout", 5_000_000u64)
                // The camera's own capture time, once it sends an RTCP sender report.
                .property("add-reference-timestamp-meta", true)
                .property_from_str(
                    "protocols",
                    rtsp_security::protocols(&config.source, config.transport),
                );
            if let Some(user) = user {
                src = src.property("user-id", user);
            }
            if let Some(password) = password {
                src = src.property("user-pw", password);
            }
            let src = src.build().map_err(unmade("rtspsrc"))?;
            rtsp_security::check_certificates(&src, config, &target)?;
            add(&pipeline, &[&src])?;
            let pipeline_weak = pipeline.downgrade();
            let config = config.clone();
            let linked = Arc::new(AtomicBool::new(false));
            src.connect_pad_added(move |_, pad| {
                let Some(pipeline) = pipeline_weak.upgrade() else {
                    return;
                };
                if let Err(error) =
                    link_rtsp_pad(&pipeline, pad, &config, &target, generation, &linked)
                {
                    target.fail(generation, error);
                }
            });
        }
        Source::File { path } => {
            let src = gst::ElementFactory::make("filesrc")
                .property("location", path.to_string_lossy().as_ref())
                .build()
                .map_err(unmade("filesrc"))?;
            let decode = make("decodebin")?;
            add(&pipeline, &[&src, &decode])?;
            link(&src, &decode)?;
            let pipeline_weak = pipeline.downgrade();
            let config = config.clone();
            decode.connect_pad_added(move |_, pad| {
                let Some(pipeline) = pipeline_weak.upgrade() else {
                    return;
                };
                let is_video = pad
                    .current_caps()
                    .and_then(|c| c.structure(0).map(|s| s.name().starts_with("video/")))
                    .unwrap_or(false);
                if !is_video {
                    return;
                }
                let result = build_tail(
                    &pipeline,
                    &config,
                    Codec::Raw,
                    None,
                    None,
                    &target,
                    generation,
                )
                .and_then(|(sink, chosen)| {
                    let sink_pad = sink
                        .static_pad("sink")
                        .ok_or_else(|| Error::new(Kind::Element, "no sink pad"))?;
                    pad.link(&sink_pad).map_err(|e| {
                        Error::new(
                            Kind::Element,
                            format!("cannot link the decoded video: {e:?}"),
                        )
                    })?;
                    record_chosen(&target, &chosen);
                    Ok(())
                });
                if let Err(error) = result {
                    target.fail(generation, error);
                }
            });
        }
        Source::V4l2 { device } => {
            let device_caps = super::v4l2::probe(device)?;
            let wanted = config.width.zip(config.height);
            let choice = super::v4l2::choose_format(
                device,
                &device_caps,
                wanted,
                super::v4l2::fourcc_of(config.format),
            )?;
            log::info!(
                "camera {}: {} ({}, {}): {}",
                config.name,
                device.display(),
                device_caps.driver,
                device_caps.card,
                choice.reason(wanted)
            );
            let src = gst::ElementFactory::make("v4l2src")
                .property("device", device.to_string_lossy().as_ref())
                .build()
                .map_err(unmade("v4l2src"))?;
            let caps = if choice.is_mjpeg() {
                gst::Caps::builder("image/jpeg")
            } else {
                gst::Caps::builder("video/x-raw").field("format", choice.gst_raw_format())
            }
            .field("width", choice.width as i32)
            .field("height", choice.height as i32)
            .build();
            let codec = if choice.is_mjpeg() {
                Codec::Mjpeg
            } else {
                Codec::Raw
            };
            // A device that delivers the requested size needs no scaler (its MJPEG passes
            // through); one that does not offer it is scaled to it. Raw output always names
            // the size: the ring's frames are exactly that.
            let exact = wanted == Some((choice.width, choice.height));
            let tail_config = if exact && !config.format.is_raw() {
                CameraConfig {
                    width: None,
                    height: None,
                    ..config.clone()
                }
            } else {
                config.clone()
            };
            let mut chosen = link_fixed_head(
                &pipeline,
                &src,
                caps,
                &tail_config,
                codec,
                &target,
                generation,
            )?;
            chosen.input_codec = choice.input_name();
            record_chosen(&target, &chosen);
        }
    }
    Ok(pipeline)
}

/// A source whose output is known when the pipeline is built (test pattern, V4L2): source ->
/// capsfilter -> tail. Returns what the tail chose, for the caller to record.
fn link_fixed_head(
    pipeline: &gst::Pipeline,
    src: &gst::Element,
    caps: gst::Caps,
    config: &CameraConfig,
    codec: Codec,
    target: &Arc<FrameTarget>,
    generation: u64,
) -> Result<Chosen> {
    // A raw head's pixel format is what a raw output's converter must take in.
    let input_format = caps
        .structure(0)
        .filter(|s| s.name() == "video/x-raw")
        .and_then(|s| s.get::<String>("format").ok());
    let filter = caps_filter(caps)?;
    add(pipeline, &[src, &filter])?;
    link(src, &filter)?;
    let (sink, chosen) = build_tail(
        pipeline,
        config,
        codec,
        input_format.as_deref(),
        None,
        target,
        generation,
    )?;
    link(&filter, &sink)?;
    Ok(chosen)
}

/// rtspsrc made a pad: pick depayloader, parser, decoder for its codec and link the tail.
fn link_rtsp_pad(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    config: &CameraConfig,
    target: &Arc<FrameTarget>,
    generation: u64,
    linked: &AtomicBool,
) -> Result<()> {
    let caps = pad
        .current_caps()
        .or_else(|| Some(pad.query_caps(None)))
        .ok_or_else(|| Error::new(Kind::Element, "pad without caps"))?;
    let s = caps
        .structure(0)
        .ok_or_else(|| Error::new(Kind::Element, "pad without caps"))?;
    if s.get::<&str>("media").ok() != Some("video") {
        return Ok(()); // audio or metadata: not ours
    }
    if linked.swap(true, Ordering::SeqCst) {
        return Ok(()); // a second video stream: the first one wins
    }
    let codec = Codec::from_rtp(
        s.get::<&str>("encoding-name").ok(),
        s.get::<i32>("payload").ok(),
    )
    .map_err(|sends| {
        Error::new(
            Kind::Pipeline,
            format!("the camera sends {sends}, which camd does not decode (H264, H265, JPEG)"),
        )
    })?;
    let depay = make(match codec {
        Codec::H264 => "rtph264depay",
        Codec::H265 => "rtph265depay",
        _ => "rtpjpegdepay",
    })?;
    if matches!(codec, Codec::H264 | Codec::H265) {
        clean_frames::configure_depayloader(&depay);
    }
    add(pipeline, &[&depay])?;
    let (sink, chosen) = build_tail(
        pipeline,
        config,
        codec,
        None,
        Some(&depay),
        target,
        generation,
    )?;
    link(&depay, &sink)?;
    start(&depay)?;
    let depay_sink = depay
        .static_pad("sink")
        .ok_or_else(|| Error::new(Kind::Element, "depayloader without sink pad"))?;
    pad.link(&depay_sink)
        .map_err(|e| Error::new(Kind::Element, format!("cannot link the RTP stream: {e:?}")))?;
    record_chosen(target, &chosen);
    Ok(())
}

fn record_chosen(target: &FrameTarget, chosen: &Chosen) {
    log::info!(
        "camera {}: input {}, decoder {}, {} {}",
        target.camera,
        chosen.input_codec,
        if chosen.decoder.is_empty() {
            "none (passthrough)"
        } else {
            &chosen.decoder
        },
        if chosen.raw_output {
            "converter"
        } else {
            "encoder"
        },
        if chosen.encoder.is_empty() {
            "none (passthrough)"
        } else {
            &chosen.encoder
        },
    );
    if let Ok(mut writer) = target.writer.lock() {
        writer.update_status(|s| {
            s.input_codec = chosen.input_codec.clone();
            s.decoder = chosen.decoder.clone();
            s.encoder = chosen.encoder.clone();
        });
    }
}

/// One step of a pipeline's tail, in the order `tail_steps` gives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// h264parse / h265parse / jpegparse.
    Parse,
    /// The decoder (hardware first), guarded by `clean_frames`.
    Decode,
    /// `max_fps`: videorate (drop-only) and a framerate caps filter.
    Rate(u32),
    /// `resize = "crop"`: aspectratiocrop cuts the picture to the output's aspect ratio.
    Crop { width: u32, height: u32 },
    /// `width`/`height`: videoscale and a size caps filter (borders for `letterbox`).
    Scale {
        width: Option<u32>,
        height: Option<u32>,
    },
    /// videoconvert, for the encoder.
    Convert,
    /// The JPEG encoder (hardware first).
    Encode,
    /// Raw output (`format`): the converter (hardware first) scales and converts in one
    /// element, to the format and size of the ring's frames.
    Raw(RingCodec),
}

/// The tail for `codec` (before the appsink). A frame is dropped as early as it can be:
/// `max_fps` drops decoded frames before the scaler and the converter, so those never see
/// them; MJPEG that needs no scaling passes through undecoded, rate-limited if asked (videorate
/// takes `image/jpeg`: every JPEG stands alone); `decode = "keyframes"` drops before the
/// decoder (`clean_frames::guard_decoder`).
fn tail_steps(codec: Codec, config: &CameraConfig) -> Vec<Step> {
    let scale = (config.width.is_some() || config.height.is_some()).then_some(Step::Scale {
        width: config.width,
        height: config.height,
    });
    let crop = match (config.resize, config.width, config.height) {
        (Resize::Crop, Some(width), Some(height)) => Some(Step::Crop { width, height }),
        _ => None,
    };
    let rate = config.max_fps.map(Step::Rate);
    let raw = config.format.is_raw();
    let passthrough = codec == Codec::Mjpeg && scale.is_none() && config.decoder.is_none() && !raw;
    let mut steps = Vec::new();
    if codec != Codec::Raw {
        steps.push(Step::Parse);
    }
    if passthrough {
        steps.extend(rate);
        return steps;
    }
    if codec != Codec::Raw {
        steps.push(Step::Decode);
    }
    steps.extend(rate);
    steps.extend(crop);
    if raw {
        steps.push(Step::Raw(config.format));
    } else {
        steps.extend(scale);
        steps.extend([Step::Convert, Step::Encode]);
    }
    steps
}

/// Adds the tail for `codec` to the pipeline (elements synced to its state) and returns its
/// first element, to link the head to. `entry` is the element before it where frames enter
/// (the depayloader), for counting the frames held back.
fn build_tail(
    pipeline: &gst::Pipeline,
    config: &CameraConfig,
    codec: Codec,
    input_format: Option<&str>,
    entry: Option<&gst::Element>,
    target: &Arc<FrameTarget>,
    generation: u64,
) -> Result<(gst::Element, Chosen)> {
    let mut chain: Vec<gst::Element> = Vec::new();
    let mut chosen = Chosen {
        input_codec: codec.name().into(),
        ..Chosen::default()
    };
    let steps = tail_steps(codec, config);
    let decoded = steps.contains(&Step::Decode);
    // `decode = "keyframes"` skips frames only where there are frames that are not keyframes.
    let skip_deltas =
        config.decode == Decode::Keyframes && matches!(codec, Codec::H264 | Codec::H265);
    if config.decode == Decode::Keyframes && codec == Codec::Mjpeg {
        log::info!(
            "camera {}: decode = \"keyframes\" changes nothing for MJPEG: every frame is a \
             keyframe",
            config.name
        );
    }
    for step in steps {
        match step {
            Step::Parse => {
                let parser = make(match codec {
                    Codec::H264 => "h264parse",
                    Codec::H265 => "h265parse",
                    _ => "jpegparse",
                })?;
                if skip_deltas {
                    clean_frames::keyframes_only(&parser);
                } else if codec != Codec::Mjpeg {
                    clean_frames::hold_until_keyframe(&parser, entry.is_some(), target);
                }
                chain.push(parser);
            }
            Step::Decode => {
                let decoder = elements::choose(
                    "decoder",
                    config.decoder.as_deref(),
                    elements::decoder_candidates(codec),
                    elements::registry_has,
                )?;
                let element = make(&decoder)?;
                clean_frames::guard_decoder(&element, entry, target, skip_deltas);
                chain.push(element);
                chosen.decoder = decoder;
            }
            Step::Rate(fps) => {
                chain.push(
                    gst::ElementFactory::make("videorate")
                        .property("drop-only", true)
                        .build()
                        .map_err(unmade("videorate"))?,
                );
                // Before a decoder (MJPEG passed through) the frames are still JPEG.
                let media = if decoded || codec == Codec::Raw {
                    "video/x-raw"
                } else {
                    "image/jpeg"
                };
                chain.push(caps_filter(
                    gst::Caps::builder(media)
                        .field("framerate", gst::Fraction::new(fps as i32, 1))
                        .build(),
                )?);
            }
            Step::Crop { width, height } => {
                chain.push(
                    gst::ElementFactory::make("aspectratiocrop")
                        .property(
                            "aspect-ratio",
                            gst::Fraction::new(width as i32, height as i32),
                        )
                        .build()
                        .map_err(unmade("aspectratiocrop"))?,
                );
            }
            Step::Scale { width, height } => {
                let scaler = make("videoscale")?;
                chain.push(resized(scaler, config));
                chain.push(caps_filter(output_caps(width, height, None))?);
            }
            Step::Raw(format) => {
                // Decoded frames' format is the decoder's choice: only a raw head's is known.
                let input = input_format.filter(|_| !decoded);
                let converter = raw_converter(config, format, input)?;
                if converter == elements::SOFTWARE_CONVERTER {
                    // In two steps: scaled in the decoder's YUV first, then converted at the
                    // output's size (one videoconvertscale pass cost 1.6 times as much:
                    // `cargo xtask bench pixels`, raw_bare against raw_two_step_bare).
                    chain.push(resized(make("videoscale")?, config));
                    chain.push(caps_filter(output_caps(config.width, config.height, None))?);
                    chain.push(make("videoconvert")?);
                    chosen.encoder = "videoscale+videoconvert".into();
                } else {
                    chain.push(resized(make(&converter)?, config));
                    chosen.encoder = converter;
                }
                chain.push(caps_filter(output_caps(
                    config.width,
                    config.height,
                    Some(format),
                ))?);
                chosen.raw_output = true;
            }
            Step::Convert => chain.push(make("videoconvert")?),
            Step::Encode => {
                let encoder = elements::choose(
                    "JPEG encoder",
                    config.encoder.as_deref(),
                    elements::ENCODER_CANDIDATES,
                    elements::registry_has,
                )?;
                let enc = make(&encoder)?;
                if enc.find_property("quality").is_some() {
                    enc.set_property("quality", config.jpeg_quality.clamp(1, 100) as i32);
                }
                chain.push(enc);
                chosen.encoder = encoder;
            }
        }
    }
    let sink_caps = if config.format.is_raw() {
        output_caps(config.width, config.height, Some(config.format))
    } else {
        gst::Caps::builder("image/jpeg").build()
    };
    let appsink = gst_app::AppSink::builder()
        .caps(&sink_caps)
        .max_buffers(1)
        .drop(true)
        // Live sources pace themselves; a file is played at its own rate, not as fast as it
        // decodes.
        .sync(matches!(config.source, Source::File { .. }))
        .build();
    let target = target.clone();
    let arrivals = entry.map(Arrivals::watch);
    appsink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Flushing)?;
                let Some(buffer) = sample.buffer() else {
                    return Ok(gst::FlowSuccess::Ok);
                };
                let (width, height) = sample
                    .caps()
                    .and_then(|c| c.structure(0))
                    .map(|s| {
                        (
                            s.get::<i32>("width").unwrap_or(0) as u32,
                            s.get::<i32>("height").unwrap_or(0) as u32,
                        )
                    })
                    .unwrap_or((0, 0));
                let at = CaptureTime::of(sink, &sample, arrivals.as_deref());
                let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
                target.publish(generation, map.as_slice(), width, height, at);
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    chain.push(appsink.upcast());
    let chain: Vec<&gst::Element> = chain.iter().collect();
    add(pipeline, &chain)?;
    gst::Element::link_many(chain.iter().copied()).map_err(|e| {
        Error::new(Kind::Element, format!("cannot link {}", names(&chain))).because(e)
    })?;
    for element in &chain {
        start(element)?;
    }
    Ok((chain[0].clone(), chosen))
}

/// The converter of a raw camera: the configured one (which must exist, and letterbox if
/// asked to), else the first candidate that can give `format` (by its source pad template),
/// take `input` when the head's format is known (a raw webcam's; vim2m takes no YUYV), and,
/// for `letterbox`, add borders.
fn raw_converter(config: &CameraConfig, format: RingCodec, input: Option<&str>) -> Result<String> {
    let letterbox = config.resize == Resize::Letterbox;
    let gst_format = video_format(format).unwrap_or_default();
    if let Some(wanted) = config.converter.as_deref() {
        let name = elements::choose("converter", Some(wanted), &[], elements::registry_has)?;
        if letterbox && !elements::adds_borders(&name) {
            return Err(Error::new(
                Kind::Element,
                format!(
                    "converter {name:?} cannot letterbox (no add-borders property): use \
                     resize = \"stretch\" or \"crop\", or converter = \"videoconvertscale\""
                ),
            ));
        }
        return Ok(name);
    }
    elements::choose(
        &format!("converter to {gst_format}"),
        None,
        elements::CONVERTER_CANDIDATES,
        |name| {
            elements::registry_has(name)
                && elements::can_output(name, gst_format)
                && input.map_or(true, |input| elements::can_input(name, input))
                && (!letterbox || elements::adds_borders(name))
        },
    )
}

/// GStreamer's name of a raw ring format (`video/x-raw`'s `format`).
fn video_format(codec: RingCodec) -> Option<&'static str> {
    match codec {
        RingCodec::Nv12 => Some("NV12"),
        RingCodec::Rgb => Some("RGB"),
        RingCodec::Bgr => Some("BGR"),
        RingCodec::Jpeg => None,
    }
}

/// `video/x-raw` at the output size (square pixels once both sides are given, so the size is
/// the picture's), in `format` when it is a raw one.
fn output_caps(width: Option<u32>, height: Option<u32>, format: Option<RingCodec>) -> gst::Caps {
    let mut caps = gst::Caps::builder("video/x-raw");
    if let Some(w) = width {
        caps = caps.field("width", w as i32);
    }
    if let Some(h) = height {
        caps = caps.field("height", h as i32);
    }
    if width.is_some() && height.is_some() {
        caps = caps.field("pixel-aspect-ratio", gst::Fraction::new(1, 1));
    }
    if let Some(name) = format.and_then(video_format) {
        caps = caps.field("format", name);
    }
    caps.build()
}

/// A scaler set for `resize`: borders kept for `letterbox`, none otherwise (`stretch` fills
/// the size; `crop` was cut to its aspect before). Elements without the property (hardware
/// converters) only stretch: `elements::adds_borders` keeps them from letterbox cameras.
fn resized(scaler: gst::Element, config: &CameraConfig) -> gst::Element {
    if scaler.find_property("add-borders").is_some() {
        scaler.set_property("add-borders", config.resize == Resize::Letterbox);
    }
    scaler
}

/// Sends the pipeline's errors and end of stream to the driver (from whatever thread posts
/// them), with credentials removed from the text.
fn forward_bus(
    pipeline: &gst::Pipeline,
    target: &Arc<FrameTarget>,
    generation: u64,
    source: Source,
) {
    let Some(bus) = pipeline.bus() else { return };
    let target = target.clone();
    bus.set_sync_handler(move |_, message| {
        use gst::MessageView;
        match message.view() {
            MessageView::Error(e) => {
                // Redacted before it is shortened: a cut could split the password.
                let debug = e.debug().map(|d| source.redact(&d));
                let error = source.redact(&e.error().to_string());
                // rtspsrc says "Failed to connect" for a refused certificate too: say which.
                let text = target.tls_refusal.take().map_or_else(
                    || super::error_text::explain(&error, debug.as_deref()),
                    |why| super::error_text::fit(&source.redact(&why)),
                );
                target.fail(generation, Error::new(Kind::Pipeline, text));
            }
            MessageView::Eos(_) if matches!(source, Source::File { .. }) => {
                target.send(Event::EndOfFile { generation })
            }
            MessageView::Eos(_) => {
                let why = if matches!(source, Source::Rtsp { .. }) {
                    // rtspsrc over TCP ends so when the server goes away (FIELD-NOTES).
                    "the camera closed the stream (it restarted, or its RTSP server stopped or \
                     ended the session)"
                } else {
                    "the source ended its stream"
                };
                target.fail(generation, Error::new(Kind::Pipeline, why))
            }
            MessageView::Element(e)
                if e.structure()
                    .is_some_and(|s| s.name() == "GstRTSPSrcTimeout") =>
            {
                target.fail(
                    generation,
                    Error::new(Kind::Pipeline, "the camera stopped sending (RTSP timeout)"),
                );
            }
            MessageView::Warning(w) => log::debug!(
                "camera {}: {}",
                target.camera,
                source.redact(&w.error().to_string())
            ),
            _ => {}
        }
        gst::BusSyncReply::Drop
    });
}

#[cfg(test)]
mod tests {
    // Not `super::*`: `Step::Decode` would clash with the config's `Decode`.
    use super::{tail_steps, CameraConfig, Codec, Source, Step};

    fn camera(width: Option<u32>, max_fps: Option<u32>) -> CameraConfig {
        let mut config = CameraConfig::new("c", Source::parse("rtsp://cam/s").unwrap());
        (config.width, config.height, config.max_fps) = (width, width.map(|w| w / 2), max_fps);
        config
    }

    #[test]
    fn the_rate_limit_drops_frames_before_the_scaler_and_the_converter() {
        let scale = Step::Scale {
            width: Some(640),
            height: Some(320),
        };
        use Step::*;
        let resized_and_limited = camera(Some(640), Some(3));
        let decoded: &[Step] = &[Parse, Decode];
        for (codec, head) in [
            (Codec::H264, decoded),
            (Codec::H265, decoded),
            (Codec::Mjpeg, decoded),
            (Codec::Raw, &[][..]),
        ] {
            let steps = tail_steps(codec, &resized_and_limited);
            let tail = [Rate(3), scale, Convert, Encode];
            assert_eq!(steps, [head, &tail[..]].concat(), "{codec:?}");
        }
        assert_eq!(
            tail_steps(Codec::H264, &camera(None, Some(3))),
            [Parse, Decode, Rate(3), Convert, Encode]
        );
        assert_eq!(
            tail_steps(Codec::H264, &camera(Some(640), None)),
            [Parse, Decode, scale, Convert, Encode]
        );
    }

    #[test]
    fn raw_output_ends_in_one_converter_after_the_rate_limit_and_the_crop() {
        use super::{Resize, RingCodec};
        use Step::*;
        let mut config = camera(Some(640), Some(3));
        (config.format, config.resize) = (RingCodec::Rgb, Resize::Crop);
        let crop = Crop {
            width: 640,
            height: 320,
        };
        assert_eq!(
            tail_steps(Codec::H264, &config),
            [Parse, Decode, Rate(3), crop, Raw(RingCodec::Rgb)]
        );
        config.resize = Resize::Letterbox;
        assert_eq!(
            tail_steps(Codec::Mjpeg, &config),
            [Parse, Decode, Rate(3), Raw(RingCodec::Rgb)],
            "MJPEG is decoded for raw output, never passed through"
        );
        assert_eq!(
            tail_steps(Codec::Raw, &config),
            [Rate(3), Raw(RingCodec::Rgb)]
        );
        config.format = RingCodec::Jpeg;
        config.resize = Resize::Crop;
        let scale = Scale {
            width: Some(640),
            height: Some(320),
        };
        assert_eq!(
            tail_steps(Codec::H264, &config),
            [Parse, Decode, Rate(3), crop, scale, Convert, Encode],
            "JPEG output is cropped too"
        );
    }

    #[test]
    fn mjpeg_without_a_new_size_passes_through_rate_limited_or_not() {
        use Step::*;
        assert_eq!(tail_steps(Codec::Mjpeg, &camera(None, None)), [Parse]);
        assert_eq!(
            tail_steps(Codec::Mjpeg, &camera(None, Some(5))),
            [Parse, Rate(5)],
            "no decode, no encode: videorate takes image/jpeg"
        );
        let mut decoded = camera(None, Some(5));
        decoded.decoder = Some("jpegdec".into());
        assert_eq!(
            tail_steps(Codec::Mjpeg, &decoded),
            [Parse, Decode, Rate(5), Convert, Encode],
            "a decoder override decodes"
        );
    }
}
