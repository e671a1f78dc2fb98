//! Fake RTSP cameras for tests and for `examples/fake_cameras.rs`.
//!
//! A gstreamer-rtsp-server on 127.0.0.1 serving `videotestsrc` streams (H.264, H.265 or MJPEG),
//! one shared media factory per mount. The server runs its own glib main loop on a thread of
//! the calling process; [`Server::stop`] (or dropping the [`Server`]) closes every client
//! connection, removes every session, detaches the listening socket and ends that thread.
//!
//! Used by the integration tests, the benches and the examples (`fake_cameras`, `demo`).
//!
//! Content: `pattern` is a `videotestsrc` pattern; `textured` is the moving zone plate of
//! FIELD-NOTES ("Fake cameras"), the one to use for any CPU figure. A `timeoverlay` makes every
//! frame differ even for static patterns.
//!
//! Keyframes: H.264 and H.265 send a keyframe every `2 * fps` frames (2 s), or as
//! `with_keyframe_interval` (`:gop=N` in the CLI form) says. A client joining a
//! shared mount that is already streaming (a second consumer, or a reconnect over UDP while the
//! old session still lingers) may wait up to 2 s for its first decodable frame, like a real camera.
//!
//! Packet loss: `with_packet_loss(per_mille)` drops that share of the mount's RTP packets as
//! they leave the payloader, chosen by a fixed-seed generator (the same packets every run). The
//! client sees gaps in the sequence numbers, as after loss on the network (these machines have
//! no `tc netem`).
//!
//! Credentials on the wire (issue 16): [`serve_with`] adds what [`ServeOptions`] asks to every
//! mount: TLS (`rtsps://`, a certificate such as [`crate::test_certs`] makes), one user checked
//! by Basic, Digest or both, RTP over TCP only. TLS needs gst-rtsp-server's `RTSPAuth` even
//! without users; then a default token lets anyone in. [`serve`] sets no `RTSPAuth` at all.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use gstreamer as gst;
use gstreamer_rtsp_server as rtsp;

use gst::glib;
use rtsp::prelude::*;
use rtsp::{gio, gst_rtsp};

/// Parameters of the `textured` pattern (FIELD-NOTES: 720p JPEG ~140 kB, H.264 ~1.8 Mbit/s).
const TEXTURED: &str = "zone-plate kx2=6 ky2=6 kt=1 horizontal-speed=4";

/// Video codec a mount sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    H264,
    H265,
    Mjpeg,
}

impl Codec {
    /// Parses `h264` / `h265` (alias `hevc`) / `mjpeg` (alias `jpeg`), case-insensitively.
    pub fn parse(s: &str) -> Result<Codec, String> {
        match s.to_ascii_lowercase().as_str() {
            "h264" | "avc" => Ok(Codec::H264),
            "h265" | "hevc" => Ok(Codec::H265),
            "mjpeg" | "jpeg" => Ok(Codec::Mjpeg),
            _ => Err(format!(
                "unknown codec {:?} (expected h264, h265 or mjpeg)",
                s
            )),
        }
    }

    /// The CLI name: `h264`, `h265` or `mjpeg`.
    pub fn name(self) -> &'static str {
        match self {
            Codec::H264 => "h264",
            Codec::H265 => "h265",
            Codec::Mjpeg => "mjpeg",
        }
    }

    /// A receiving chain for this codec, to put after `rtspsrc` in a launch line
    /// (`rtspsrc location=... ! <depay_parse> ! ...`).
    pub fn depay_parse(self) -> &'static str {
        match self {
            Codec::H264 => "rtph264depay ! h264parse",
            Codec::H265 => "rtph265depay ! h265parse",
            Codec::Mjpeg => "rtpjpegdepay ! jpegparse",
        }
    }

    /// A software decoder available on Debian 12 for this codec.
    pub fn software_decoder(self) -> &'static str {
        match self {
            Codec::H264 => "avdec_h264",
            Codec::H265 => "avdec_h265",
            Codec::Mjpeg => "jpegdec",
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One mount of the fake camera server: `rtsp://127.0.0.1:PORT/PATH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountSpec {
    /// Mount path without the leading `/`, e.g. `cam0`.
    pub path: String,
    pub codec: Codec,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// A `videotestsrc` pattern name (`smpte`, `ball`, `snow`, ...) or `textured`.
    pub pattern: String,
    /// H.264/H.265: frames from one keyframe to the next (`None`: `2 * fps`, 2 s).
    pub keyframe_interval: Option<u32>,
    /// RTP packets dropped before they are sent, per thousand (0: none).
    pub packet_loss_per_mille: u32,
    /// Pixels the picture scrolls left each frame (0: still). A decoder that conceals a lost
    /// packet from the previous frame then shows the slice displaced.
    pub scroll: u32,
    /// The camera's own clock, seconds ahead of the host's CLOCK_REALTIME (`None`: the host's
    /// clock, with RTCP sender reports every 5 s as gst-rtsp-server sends them).
    pub camera_clock_offset_s: Option<i64>,
}

impl MountSpec {
    /// A mount with the default pattern (`smpte`).
    pub fn new(path: &str, codec: Codec, width: u32, height: u32, fps: u32) -> MountSpec {
        MountSpec {
            path: path.trim_start_matches('/').to_string(),
            codec,
            width,
            height,
            fps,
            pattern: "smpte".to_string(),
            keyframe_interval: None,
            packet_loss_per_mille: 0,
            scroll: 0,
            camera_clock_offset_s: None,
        }
    }

    /// The same mount with a camera clock `offset_s` seconds ahead of the host's wall clock:
    /// its RTCP sender reports (every 0.5 s, the first within ~0.2 s) map each frame's RTP
    /// time to that clock's time of its capture, as a camera synced by NTP does.
    pub fn with_camera_clock(mut self, offset_s: i64) -> MountSpec {
        self.camera_clock_offset_s = Some(offset_s);
        self
    }

    /// The same mount scrolling `pixels` to the left each frame.
    pub fn with_scroll(mut self, pixels: u32) -> MountSpec {
        self.scroll = pixels;
        self
    }

    /// The same mount losing `per_mille` of its RTP packets (10: about 1 %).
    pub fn with_packet_loss(mut self, per_mille: u32) -> MountSpec {
        self.packet_loss_per_mille = per_mille;
        self
    }

    /// The same mount with a keyframe every `frames` frames (x264's default is 250).
    pub fn with_keyframe_interval(mut self, frames: u32) -> MountSpec {
        self.keyframe_interval = Some(frames);
        self
    }

    /// The same mount with another pattern (`textured` for CPU measurements).
    pub fn with_pattern(mut self, pattern: &str) -> MountSpec {
        self.pattern = pattern.to_string();
        self
    }

    /// Parses the CLI form `PATH=CODEC:WxH@FPS[:PATTERN][:gop=N]`, e.g.
    /// `cam0=h264:1280x720@15:textured` or `cam0=h264:1280x720@15:textured:gop=30` (H.264 and
    /// H.265: a keyframe every N frames, `with_keyframe_interval`).
    pub fn parse(s: &str) -> Result<MountSpec, String> {
        let err = |what: String| format!("bad mount {:?}: {}", s, what);
        let (path, rest) = match s.split_once('=') {
            Some(x) => x,
            None => {
                return Err(err(
                    "missing '=' (expected PATH=CODEC:WxH@FPS[:PATTERN][:gop=N], \
                     e.g. cam0=h264:1280x720@15:textured)"
                        .to_string(),
                ))
            }
        };
        let path = path.trim_start_matches('/');
        validate_path(path).map_err(&err)?;

        let mut parts = rest.split(':');
        let codec = parts.next().unwrap_or("");
        let codec = Codec::parse(codec).map_err(&err)?;
        let geometry = match parts.next() {
            Some(g) => g,
            None => {
                return Err(err(
                    "missing ':WxH@FPS' after the codec (e.g. h264:1280x720@15)".to_string(),
                ))
            }
        };
        let mut tail: Vec<&str> = parts.collect();
        let keyframe_interval = match tail.last().and_then(|p| p.strip_prefix("gop=")) {
            Some(n) => {
                if codec == Codec::Mjpeg {
                    return Err(err(
                        "gop= is for h264 and h265 (every JPEG is a keyframe)".to_string()
                    ));
                }
                tail.pop();
                Some(parse_number("gop", n, 1, 1000).map_err(&err)?)
            }
            None => None,
        };
        let pattern = tail.first().copied();
        if let Some(extra) = tail.get(1) {
            return Err(err(format!(
                "unexpected {:?} after the pattern (expected PATH=CODEC:WxH@FPS[:PATTERN][:gop=N])",
                extra
            )));
        }

        let (size, fps) = match geometry.split_once('@') {
            Some(x) => x,
            None => {
                return Err(err(format!(
                    "size {:?} has no '@FPS' (expected WxH@FPS, e.g. 1280x720@15)",
                    geometry
                )))
            }
        };
        let (w, h) = match size.split_once(['x', 'X']) {
            Some(x) => x,
            None => return Err(err(format!("size {:?} is not WxH (e.g. 1280x720)", size))),
        };
        let width = parse_number("width", w, 16, 4096).map_err(&err)?;
        let height = parse_number("height", h, 16, 4096).map_err(&err)?;
        let fps = parse_number("fps", fps, 1, 120).map_err(&err)?;

        let mut spec = MountSpec {
            path: path.to_string(),
            codec,
            width,
            height,
            fps,
            pattern: "smpte".to_string(),
            keyframe_interval,
            packet_loss_per_mille: 0,
            scroll: 0,
            camera_clock_offset_s: None,
        };
        if let Some(p) = pattern {
            validate_pattern(p).map_err(&err)?;
            spec.pattern = p.to_string();
        }
        spec.validate().map_err(&err)?;
        Ok(spec)
    }

    /// Checks what `parse` checks, for specs built in code.
    pub fn validate(&self) -> Result<(), String> {
        validate_path(&self.path)?;
        validate_pattern(&self.pattern)?;
        for (name, v, lo, hi) in [
            ("width", self.width, 16, 4096),
            ("height", self.height, 16, 4096),
            ("fps", self.fps, 1, 120),
        ] {
            if v < lo || v > hi {
                return Err(format!("{} {} out of range {}..={}", name, v, lo, hi));
            }
        }
        // 4:2:0 chroma subsampling (and x264/x265) need even sizes.
        if self.width % 2 != 0 || self.height % 2 != 0 {
            return Err(format!(
                "size {}x{} must have an even width and height",
                self.width, self.height
            ));
        }
        if self.codec == Codec::Mjpeg && (self.width > 2040 || self.height > 2040) {
            // The RTP/JPEG header (RFC 2435) stores width/8 and height/8 in one byte each.
            return Err(format!(
                "size {}x{} too large for RTP/JPEG (at most 2040x2040)",
                self.width, self.height
            ));
        }
        Ok(())
    }

    /// The `videotestsrc` properties for `pattern`.
    fn source_properties(&self) -> String {
        if self.pattern.eq_ignore_ascii_case("textured") {
            format!("pattern={}", TEXTURED)
        } else if self.scroll > 0 {
            format!("pattern={} horizontal-speed={}", self.pattern, self.scroll)
        } else {
            format!("pattern={}", self.pattern)
        }
    }

    /// The launch line given to the media factory (without the enclosing parentheses).
    pub fn launch_line(&self) -> String {
        let raw = format!(
            "videotestsrc is-live=true {} \
             ! video/x-raw,format=I420,width={},height={},framerate={}/1 \
             ! timeoverlay \
             ! video/x-raw,format=I420",
            self.source_properties(),
            self.width,
            self.height,
            self.fps
        );
        let gop = self.keyframe_interval.unwrap_or(self.fps * 2);
        match self.codec {
            Codec::H264 => format!(
                "{} ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={} \
                 ! rtph264pay name=pay0 pt=96 config-interval=1",
                raw, gop
            ),
            Codec::H265 => format!(
                "{} ! x265enc tune=zerolatency speed-preset=ultrafast key-int-max={} \
                 ! rtph265pay name=pay0 pt=96 config-interval=1",
                raw, gop
            ),
            // format=I420 right before jpegenc: else rtpjpegpay sends nothing (FIELD-NOTES).
            Codec::Mjpeg => format!("{} ! jpegenc quality=85 ! rtpjpegpay name=pay0 pt=26", raw),
        }
    }
}

impl fmt::Display for MountSpec {
    /// The CLI form, `PATH=CODEC:WxH@FPS:PATTERN[:gop=N]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={}:{}x{}@{}:{}",
            self.path, self.codec, self.width, self.height, self.fps, self.pattern
        )?;
        match self.keyframe_interval {
            Some(gop) => write!(f, ":gop={gop}"),
            None => Ok(()),
        }
    }
}

fn validate_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty mount path (expected e.g. cam0)".to_string());
    }
    if let Some(c) = path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')))
    {
        return Err(format!(
            "mount path {:?} contains {:?} (allowed: letters, digits, - _ . /)",
            path, c
        ));
    }
    Ok(())
}

fn validate_pattern(pattern: &str) -> Result<(), String> {
    if pattern.is_empty() {
        return Err("empty pattern (expected a videotestsrc pattern or \"textured\")".to_string());
    }
    if let Some(c) = pattern
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(format!(
            "pattern {:?} contains {:?} (expected a videotestsrc pattern name such as smpte, \
             ball, snow, or \"textured\")",
            pattern, c
        ));
    }
    Ok(())
}

fn parse_number(what: &str, s: &str, lo: u32, hi: u32) -> Result<u32, String> {
    let v: u32 = s
        .parse()
        .map_err(|_| format!("{} {:?} is not a number", what, s))?;
    if v < lo || v > hi {
        return Err(format!("{} {} out of range {}..={}", what, v, lo, hi));
    }
    Ok(v)
}

/// `rtsp://127.0.0.1:{port}/{path}`.
pub fn url(port: u16, path: &str) -> String {
    format!("rtsp://127.0.0.1:{}/{}", port, path.trim_start_matches('/'))
}

/// `rtsps://127.0.0.1:{port}/{path}`: RTSP over TLS, for a server with [`ServeOptions::tls`]
/// (or a [`crate::wire_tap::WireTap`] in front of one).
pub fn tls_url(port: u16, path: &str) -> String {
    format!(
        "rtsps://127.0.0.1:{}/{}",
        port,
        path.trim_start_matches('/')
    )
}

/// What [`serve_with`] adds to every mount. The default adds nothing: [`serve`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServeOptions {
    /// TLS on every connection (`rtsps://` only): the server's certificate and private key,
    /// PEM files (e.g. [`crate::test_certs::TestCerts::server_tls`]).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The one user allowed in (anyone when `None`). Without credentials a DESCRIBE is a 401.
    pub auth: Option<Auth>,
    /// RTP over the RTSP connection only (interleaved TCP): a SETUP for UDP is refused (461).
    pub tcp_only: bool,
}

/// A user of the fake cameras, and how the server lets it prove who it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Auth {
    pub user: String,
    pub password: String,
    pub methods: AuthMethods,
}

impl Auth {
    pub fn new(user: &str, password: &str, methods: AuthMethods) -> Auth {
        Auth {
            user: user.to_string(),
            password: password.to_string(),
            methods,
        }
    }
}

/// The schemes the server's 401 offers (one `WWW-Authenticate` header each) and accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethods {
    /// `Basic`: the password crosses the connection in base64.
    Basic,
    /// `Digest` (RFC 2069, MD5, no qop): only a hash of the password crosses it.
    Digest,
    /// Both offered, Basic first: the client chooses (rtspsrc takes the strongest, Digest).
    Both,
}

impl AuthMethods {
    fn basic(self) -> bool {
        matches!(self, AuthMethods::Basic | AuthMethods::Both)
    }

    fn digest(self) -> bool {
        matches!(self, AuthMethods::Digest | AuthMethods::Both)
    }
}

/// The role of every token the server hands out (to the user, or to anyone when TLS has no
/// user); every media factory lets it see and start its media.
const ROLE: &str = "camera-viewer";

/// The server's `RTSPAuth` for `options`; `None` without TLS and users (anyone may play).
fn server_auth(options: &ServeOptions) -> Result<Option<rtsp::RTSPAuth>, String> {
    if options.tls.is_none() && options.auth.is_none() {
        return Ok(None);
    }
    let auth = rtsp::RTSPAuth::new();
    if let Some((cert, key)) = &options.tls {
        let certificate = gio::TlsCertificate::from_files(cert, key).map_err(|e| {
            format!(
                "cannot load the TLS certificate {} with the key {}: {}",
                cert.display(),
                key.display(),
                e
            )
        })?;
        auth.set_tls_certificate(Some(&certificate));
    }
    let mut token = rtsp::RTSPToken::builder()
        .field(rtsp::RTSP_TOKEN_MEDIA_FACTORY_ROLE, ROLE)
        .build();
    match &options.auth {
        Some(user) => add_user(&auth, user, &token),
        None => auth.set_default_token(Some(&mut token)),
    }
    Ok(Some(auth))
}

/// Lets `user` in with `token` by its methods, and offers only those in a 401.
fn add_user(auth: &rtsp::RTSPAuth, user: &Auth, token: &rtsp::RTSPToken) {
    if user.methods.basic() {
        let basic = rtsp::RTSPAuth::make_basic(&user.user, &user.password);
        auth.add_basic(&basic, token);
    }
    if user.methods.digest() {
        auth.add_digest(&user.user, &user.password, token);
    }
    match user.methods {
        AuthMethods::Basic => auth.set_supported_methods(gst_rtsp::RTSPAuthMethod::Basic),
        AuthMethods::Digest => auth.set_supported_methods(gst_rtsp::RTSPAuthMethod::Digest),
        // A set of flags in C, an enum in the bindings: Basic|Digest has no Rust value.
        AuthMethods::Both => {
            use glib::translate::ToGlibPtr;
            // SAFETY: a live RTSPAuth, borrowed for the call; the value is a valid
            // GstRTSPAuthMethod mask (gst_rtsp_auth_set_supported_methods takes any).
            unsafe {
                rtsp::ffi::gst_rtsp_auth_set_supported_methods(
                    auth.to_glib_none().0,
                    gst_rtsp::ffi::GST_RTSP_AUTH_BASIC | gst_rtsp::ffi::GST_RTSP_AUTH_DIGEST,
                )
            }
        }
    }
}

/// Applies `options` to one mount's factory: TCP only, and the role its media need.
fn restrict(factory: &rtsp::RTSPMediaFactory, options: &ServeOptions) {
    if options.tcp_only {
        factory.set_protocols(gst_rtsp::RTSPLowerTrans::TCP);
    }
    if options.tls.is_some() || options.auth.is_some() {
        let role = gst::Structure::builder(ROLE)
            .field(rtsp::RTSP_PERM_MEDIA_FACTORY_ACCESS, true)
            .field(rtsp::RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, true)
            .build();
        factory.add_role_from_structure(&role);
    }
}

/// A running fake camera server. Stops (like a camera that went away: connections closed) on
/// [`Server::stop`] or drop.
pub struct Server {
    port: u16,
    mounts: Vec<MountSpec>,
    server: rtsp::RTSPServer,
    context: glib::MainContext,
    main_loop: glib::MainLoop,
    source: Option<glib::SourceId>,
    thread: Option<JoinHandle<()>>,
    /// Per mount with a camera clock: each frame's capture time by that clock.
    capture_times: Vec<(String, CaptureTimes)>,
}

/// Capture times by a mount's camera clock, ns since the Unix epoch, in the order captured.
type CaptureTimes = Arc<Mutex<Vec<u64>>>;

impl Server {
    /// The capture time of every frame the mount `path` (made `with_camera_clock`) has sent, by
    /// its camera clock (what its sender reports map RTP time to), ns since the Unix epoch.
    pub fn camera_capture_times(&self, path: &str) -> Vec<u64> {
        self.capture_times
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, times)| times.lock().unwrap().clone())
            .unwrap_or_default()
    }

    /// The TCP port the server listens on (the real one when `serve` was given port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `rtsp://127.0.0.1:{port}/{path}` (also for a TLS server, for tests of that mistake).
    pub fn url(&self, path: &str) -> String {
        url(self.port, path)
    }

    /// `rtsps://127.0.0.1:{port}/{path}`, the URL of a mount served with [`ServeOptions::tls`].
    pub fn tls_url(&self, path: &str) -> String {
        tls_url(self.port, path)
    }

    pub fn mounts(&self) -> &[MountSpec] {
        &self.mounts
    }

    /// Closes every client connection, removes every session (which stops the media
    /// pipelines), removes the listening socket and ends the main loop thread. Idempotent.
    /// Afterwards connecting to the port fails ("Failed to connect"), and a new `serve` on the
    /// same port succeeds.
    pub fn stop(&mut self) {
        let thread = match self.thread.take() {
            Some(t) => t,
            None => return,
        };
        let server = self.server.clone();
        let context = self.context.clone();
        let main_loop = self.main_loop.clone();
        let source = self.source.take();
        // Run the teardown on the server's own thread, between two dispatches.
        self.context.invoke(move || {
            if let Some(id) = source {
                // Not `SourceId::remove`: that looks in the global default context.
                if let Some(src) = context.find_source_by_id(&id) {
                    src.destroy();
                }
            }
            server.client_filter(Some(&mut |_, _| rtsp::RTSPFilterResult::Remove));
            if let Some(pool) = server.session_pool() {
                pool.filter(Some(&mut |_, _| rtsp::RTSPFilterResult::Remove));
            }
            main_loop.quit();
        });
        let _ = thread.join();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Drops `per_mille` of the RTP packets leaving each media's payloader `pay0`, chosen by a
/// xorshift generator with a fixed seed.
fn lose_packets(factory: &rtsp::RTSPMediaFactory, per_mille: u32) {
    factory.connect_media_configure(move |_, media| {
        let element = media.element();
        let Some(pay) = element
            .downcast_ref::<gst::Bin>()
            .and_then(|bin| bin.by_name("pay0"))
        else {
            return;
        };
        let Some(pad) = pay.static_pad("src") else {
            return;
        };
        let state = AtomicU32::new(0x9e37_79b9);
        pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            let mut x = state.load(Ordering::Relaxed);
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            state.store(x, Ordering::Relaxed);
            if x % 1000 < per_mille {
                gst::PadProbeReturn::Drop
            } else {
                gst::PadProbeReturn::Ok
            }
        });
    });
}

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_TO_UNIX_S: i64 = 2_208_988_800;

/// The media's clock: the host's CLOCK_REALTIME plus `offset_s`, on the NTP epoch. Its RTCP
/// sender reports carry that clock's time of each frame's capture (`ntp-time-source=clock-time`,
/// not the send time: `rtcp-sync-send-time=false`), every 0.5 s; packets leave as soon as they
/// are made (no `multiudpsink` sync, which would delay all but the first frame by the
/// pipeline's latency). Each frame's capture time by that clock (its PTS on the media's
/// timeline, as the sender reports map it) is pushed to `times`.
fn camera_clock(factory: &rtsp::RTSPMediaFactory, offset_s: i64, times: CaptureTimes) {
    let clock = glib::Object::new::<gst::SystemClock>();
    clock.set_property("clock-type", gst::ClockType::Realtime);
    let internal = clock.internal_time();
    let ahead_ns = (NTP_TO_UNIX_S + offset_s) * 1_000_000_000;
    let external = gst::ClockTime::from_nseconds(
        (internal.nseconds() as i64 + ahead_ns)
            .try_into()
            .expect("a camera clock after 1900"),
    );
    clock.set_calibration(internal, external, 1, 1);
    factory.set_clock(Some(&clock));
    factory.connect_media_configure(move |_, media| {
        let Some(pipeline) = media.element().parent().and_downcast::<gst::Bin>() else {
            return;
        };
        let pay = media
            .element()
            .downcast_ref::<gst::Bin>()
            .and_then(|bin| bin.by_name("pay0"));
        if let Some(pad) = pay.and_then(|pay| pay.static_pad("sink")) {
            let (times, weak) = (times.clone(), pipeline.downgrade());
            pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
                // Running time, as the sender reports map it (x264enc shifts its segment).
                let running = info.buffer().and_then(|b| b.pts()).and_then(|pts| {
                    pad.sticky_event::<gst::event::Segment>(0)?
                        .segment()
                        .downcast_ref::<gst::ClockTime>()?
                        .to_running_time(pts)
                });
                let capture = running.zip(weak.upgrade().and_then(|p| p.base_time()));
                if let Some((pts, base)) = capture {
                    let unix = (base + pts).nseconds() as i64 - NTP_TO_UNIX_S * 1_000_000_000;
                    times.lock().unwrap().push(unix as u64);
                }
                gst::PadProbeReturn::Ok
            });
        }
        pipeline.connect_element_added(|_, element| {
            match element.factory().map(|f| f.name()).as_deref() {
                Some("multiudpsink") => element.set_property("sync", false),
                Some("rtpbin") => {
                    element.set_property_from_str("ntp-time-source", "clock-time");
                    element.set_property("rtcp-sync-send-time", false);
                    let Some(rtpbin) = element.downcast_ref::<gst::Bin>() else {
                        return;
                    };
                    rtpbin.connect_element_added(|_, session| {
                        if session.factory().is_some_and(|f| f.name() == "rtpsession") {
                            session
                                .property::<glib::Object>("internal-session")
                                .set_property("rtcp-min-interval", 500_000_000u64);
                        }
                    });
                }
                _ => {}
            }
        });
    });
}

/// Starts a fake camera server on 127.0.0.1:`port` (0 = any free port; see [`Server::port`])
/// with one shared media factory per mount. UDP and TCP transports are both offered.
///
/// Fails, with a message, on an invalid or duplicate mount, a missing GStreamer element, or a
/// port that cannot be bound. The port accepts connections when this returns.
pub fn serve(port: u16, mounts: &[MountSpec]) -> Result<Server, String> {
    serve_with(port, mounts, &ServeOptions::default())
}

/// [`serve`] with TLS, a user or TCP only, as `options` says, on every mount. Also fails on a
/// certificate or key that cannot be loaded.
pub fn serve_with(
    port: u16,
    mounts: &[MountSpec],
    options: &ServeOptions,
) -> Result<Server, String> {
    gst::init().map_err(|e| format!("gst::init failed: {}", e))?;

    let server = rtsp::RTSPServer::new();
    server.set_address("127.0.0.1");
    server.set_service(&port.to_string());
    if let Some(auth) = server_auth(options)? {
        server.set_auth(Some(&auth));
    }
    let mount_points = server
        .mount_points()
        .ok_or_else(|| "RTSP server has no mount points".to_string())?;

    let mut seen: Vec<&str> = Vec::new();
    let mut capture_times = Vec::new();
    for m in mounts {
        m.validate()
            .map_err(|e| format!("bad mount {:?}: {}", m.to_string(), e))?;
        let path = m.path.trim_start_matches('/');
        if seen.contains(&path) {
            return Err(format!("duplicate mount path {:?}", path));
        }
        seen.push(path);

        let launch = m.launch_line();
        // Build it once here so that a missing element fails now, not at the first DESCRIBE.
        match gst::parse::launch(&launch) {
            Ok(pipeline) => drop(pipeline),
            Err(e) => {
                return Err(format!(
                    "mount {:?}: cannot build pipeline `{}`: {}",
                    path, launch, e
                ))
            }
        }
        let factory = rtsp::RTSPMediaFactory::new();
        factory.set_launch(&format!("( {} )", launch));
        factory.set_shared(true);
        restrict(&factory, options);
        if m.packet_loss_per_mille > 0 {
            lose_packets(&factory, m.packet_loss_per_mille);
        }
        if let Some(offset_s) = m.camera_clock_offset_s {
            let times = CaptureTimes::default();
            camera_clock(&factory, offset_s, times.clone());
            capture_times.push((path.to_string(), times));
        }
        mount_points.add_factory(&format!("/{}", path), factory);
    }

    let context = glib::MainContext::new();
    let source = server
        .attach(Some(&context))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{} (port in use?): {}", port, e))?;
    let bound = server.bound_port();
    if bound <= 0 || bound > i32::from(u16::MAX) {
        if let Some(src) = context.find_source_by_id(&source) {
            src.destroy();
        }
        return Err(format!(
            "RTSP server on 127.0.0.1:{} reports bound port {}",
            port, bound
        ));
    }

    let main_loop = glib::MainLoop::new(Some(&context), false);
    let thread = {
        let context = context.clone();
        let main_loop = main_loop.clone();
        std::thread::Builder::new()
            .name(format!("fake-rtsp-{}", bound))
            .spawn(move || {
                context
                    .with_thread_default(|| main_loop.run())
                    .expect("fake camera main context owned by another thread");
            })
            .map_err(|e| format!("cannot spawn the RTSP server thread: {}", e))?
    };

    Ok(Server {
        port: bound as u16,
        mounts: mounts.to_vec(),
        server,
        context,
        main_loop,
        source: Some(source),
        thread: Some(thread),
        capture_times,
    })
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn parses_full_and_short_forms() {
        let m = MountSpec::parse("cam0=h264:1280x720@15:textured").unwrap();
        assert_eq!(
            m,
            MountSpec::new("cam0", Codec::H264, 1280, 720, 15).with_pattern("textured")
        );
        let m = MountSpec::parse("cam1=MJPEG:640x480@5").unwrap();
        assert_eq!(m.codec, Codec::Mjpeg);
        assert_eq!(m.pattern, "smpte");
        assert_eq!(m.to_string(), "cam1=mjpeg:640x480@5:smpte");
        let m = MountSpec::parse("cam2=h264:1280x720@15:textured:gop=30").unwrap();
        assert_eq!(
            m,
            MountSpec::new("cam2", Codec::H264, 1280, 720, 15)
                .with_pattern("textured")
                .with_keyframe_interval(30)
        );
        assert_eq!(m.to_string(), "cam2=h264:1280x720@15:textured:gop=30");
        assert!(
            m.launch_line().contains("key-int-max=30"),
            "{}",
            m.launch_line()
        );
        let m = MountSpec::parse("cam3=h265:640x480@10:gop=5").unwrap();
        assert_eq!(
            (m.pattern.as_str(), m.keyframe_interval),
            ("smpte", Some(5))
        );
    }

    #[test]
    fn errors_name_the_bad_part() {
        for (s, part) in [
            ("cam0", "missing '='"),
            ("=h264:640x480@15", "empty mount path"),
            ("cam0=vp8:640x480@15", "unknown codec \"vp8\""),
            ("cam0=h264", "missing ':WxH@FPS'"),
            ("cam0=h264:640x480", "no '@FPS'"),
            ("cam0=h264:640@15", "is not WxH"),
            ("cam0=h264:axb@15", "width \"a\""),
            ("cam0=h264:640x480@0", "fps 0 out of range"),
            ("cam0=h264:641x480@15", "even width"),
            ("cam0=h264:640x480@15:a b", "pattern \"a b\""),
            ("cam0=h264:640x480@15:ball:x", "unexpected \"x\""),
            (
                "cam0=h264:640x480@15:ball:gop=30:x",
                "unexpected \"gop=30\"",
            ),
            ("cam0=h264:640x480@15:gop=0", "gop 0 out of range"),
            ("cam0=h264:640x480@15:gop=x", "gop \"x\" is not a number"),
            ("cam0=mjpeg:640x480@15:gop=30", "gop= is for h264 and h265"),
        ] {
            let e = MountSpec::parse(s).unwrap_err();
            assert!(e.contains(part), "{:?}: {:?} lacks {:?}", s, e, part);
        }
    }
}
