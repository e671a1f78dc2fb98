//! `camd status [--dir DIR] [--format table|json|prometheus] [--wide] [--watch [SECONDS]] [CAMERA...]`:
//! every camera's state, read from the rings alone.
//!
//! It opens each `*.ring` file of DIR (default `/run/camd`; dotfiles, which are rings being
//! created and the writers' locks, are skipped) read-only with `camd_ring::Reader`,
//! sorted by name, and shows per camera: the state, fps, the latest frame's age and size (else
//! the source's size), the input codec, decoder and encoder, the retry count and the time to the
//! next attempt (while retrying), the writer's pid and whether it is alive (a heartbeat within
//! `DEFAULT_ALIVE_TIMEOUT`), the generation, the frame, drop, oversize and reconnect counters and
//! the last error, and, for cameras that send RTCP sender reports, how far the camera's clock
//! is from this machine's (the latest frame's capture time by each). It never talks to a daemon: read permission on the ring files is all it needs,
//! so it works as any user in the rings' group. A ring that cannot be opened or read is listed
//! with the status `unreadable` and the reason; the other cameras are still listed. So is a
//! configured camera whose ring the supervisor could not make (no space, something else at its
//! path): `missing-rings.toml` in DIR, written by the supervisor, gives its name and reason.
//!
//! Formats: `table` (aligned columns for people: by default what fits 100 columns, the cause
//! cut at a word boundary, the status in colour on a terminal unless `NO_COLOR` is set;
//! `--wide` every column above, whole); `json` (one line: `{"cameras":[{...}]}`, the
//! same snake_case keys in every object, `null` where a value is unknown, numbers as numbers,
//! durations in milliseconds); `prometheus` (text exposition for node_exporter's textfile
//! collector: `camd_camera_up`, `camd_camera_state` one-hot over every state including
//! `unreadable`, `camd_camera_fps`, `camd_camera_frame_age_seconds`,
//! `camd_camera_clock_offset_seconds`, `camd_camera_retry_count`,
//! `camd_camera_frames_total`, `camd_camera_drops_total`, `camd_camera_oversize_total`,
//! `camd_camera_reconnects_total`, `camd_camera_writer_alive`, `camd_camera_info`).
//!
//! CAMERA names restrict the listing to those cameras. `--watch` lists again every SECONDS
//! (default 1) until interrupted (Ctrl-C), redrawing in place when stdout is a terminal.
//!
//! Exit status: 0 whenever the listing worked, whatever state the cameras are in (a camera that
//! is down is data, not a failure of the command: use the `status` field or `camd_camera_up`).
//! 2 (an `Err` the caller prints) for a bad command line, a DIR that is missing or cannot be
//! listed, or a CAMERA that has no ring in DIR.

use crate::error::{Error, Kind, Result};
pub mod json;

use super::args::{self, Flag};
use crate::config::DEFAULT_RUNTIME_DIR;
use crate::ring_files::ring_path;
use camd_ring::{FrameMeta, Reader, State, StatusSnapshot, DEFAULT_ALIVE_TIMEOUT};
use json::Value;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// This command's usage; `camd`'s own usage (src/main.rs) is made of the commands' ones.
pub const USAGE: &str = "\
usage: camd status [--dir DIR] [--format table|json|prometheus] [--wide] [--watch [SECONDS]] [CAMERA...]
                                                      every camera's state, read from the rings";

const DIR: Flag = Flag::value("--dir");
const FORMAT: Flag = Flag::value("--format");
const WATCH: Flag = Flag::optional_number("--watch");
const WIDE: Flag = Flag::switch("--wide");

/// The default table's width: it fits a 100-column terminal (`--wide` shows every column).
pub const NARROW_WIDTH: usize = 100;

/// The status of a camera whose ring could not be read.
const UNREADABLE: &str = "unreadable";

/// Every value of the `status` field, for Prometheus' one-hot state metric: the ring's states,
/// `unknown` (a value this camd does not know) and `unreadable`.
fn all_states() -> impl Iterator<Item = &'static str> {
    State::ALL
        .into_iter()
        .chain([State::Unknown(u32::MAX)])
        .map(State::as_str)
        .chain([UNREADABLE])
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Table(Look),
    Json,
    Prometheus,
}

/// How the table is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Look {
    /// Every column, whole (`--wide`); else the narrow table of `NARROW_COLUMNS`.
    wide: bool,
    /// Status in colour: stdout is a terminal and `NO_COLOR` is not set (no-color.org).
    colour: bool,
}

/// Runs `camd status` with the arguments after `status`.
pub fn main(args: &[OsString]) -> Result<ExitCode> {
    let parsed = args::parse(args, &[DIR, FORMAT, WATCH, WIDE])
        .map_err(|e| Error::new(Kind::Usage, format!("status: {e}\n{USAGE}")))?;
    let dir = parsed
        .path(DIR)
        .unwrap_or_else(|| DEFAULT_RUNTIME_DIR.into());
    let format = match parsed
        .text(FORMAT)
        .map_err(|e| Error::new(Kind::Usage, format!("status: {e}")))?
        .unwrap_or("table")
    {
        "table" => Format::Table(Look {
            wide: parsed.has(WIDE),
            colour: std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").map_or(true, |v| v.is_empty()),
        }),
        "json" => Format::Json,
        "prometheus" => Format::Prometheus,
        other => {
            return Err(Error::new(
                Kind::Usage,
                format!("status: unknown format {other:?} (table, json or prometheus)"),
            ))
        }
    };
    let watch = if parsed.has(WATCH) {
        Some(parse_interval(parsed.text(WATCH).map_err(|e| {
            Error::new(Kind::Usage, format!("status: {e}"))
        })?)?)
    } else {
        None
    };
    let filter: Vec<String> = parsed
        .text_positionals()
        .map_err(|e| Error::new(Kind::Usage, format!("status: {e}")))?
        .into_iter()
        .map(str::to_owned)
        .collect();
    let filter = &filter;
    let result = match watch {
        None => {
            let cameras = list(&dir, filter)?;
            emit(&render(format, &dir, &cameras), false)
        }
        Some(interval) => watch_loop(&dir, filter, format, interval)?,
    };
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // `camd status | head`: the reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(Error::new(
            Kind::Usage,
            format!("status: cannot write the output: {e}"),
        )),
    }
}

/// `--watch` with no value is every second; a value is seconds, fractions allowed.
fn parse_interval(value: Option<&str>) -> Result<Duration> {
    let Some(text) = value else {
        return Ok(Duration::from_secs(1));
    };
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= 86_400.0 => {
            Ok(Duration::from_secs_f64(secs))
        }
        _ => Err(Error::new(Kind::Usage, format!(
            "status: --watch takes seconds between listings (more than 0, at most 86400), not {text:?}"
        ))),
    }
}

/// Lists every `interval` until the process is interrupted. A failure of the first listing is
/// the command's error; later ones (the directory vanished during a restart) are shown in place
/// of the listing and the watch goes on.
fn watch_loop(
    dir: &Path,
    filter: &[String],
    format: Format,
    interval: Duration,
) -> Result<std::io::Result<()>> {
    let tty = std::io::stdout().is_terminal();
    let mut first = true;
    loop {
        let text = match list(dir, filter) {
            Ok(cameras) => render(format, dir, &cameras),
            Err(e) if first => return Err(e),
            Err(e) => format!("camd: {e}\n"),
        };
        let text = if tty {
            format!(
                "every {}, Ctrl-C to stop\n\n{text}",
                human_duration(interval)
            )
        } else if !first && matches!(format, Format::Table(_)) {
            format!("\n{text}")
        } else {
            text
        };
        if let Err(e) = emit(&text, tty) {
            return Ok(Err(e));
        }
        first = false;
        std::thread::sleep(interval);
    }
}

/// Writes `text` to stdout. `redraw` overwrites the terminal's screen in place (cursor home,
/// each line cleared to its end, the rest of the screen cleared), which does not flicker.
fn emit(text: &str, redraw: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if redraw {
        out.write_all(b"\x1b[H")?;
        for line in text.lines() {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\x1b[K\n")?;
        }
        out.write_all(b"\x1b[J")?;
    } else {
        out.write_all(text.as_bytes())?;
    }
    out.flush()
}

/// One camera of the listing.
struct Camera {
    /// The ring's file name without `.ring` (the camera's name).
    name: String,
    reading: Result<Reading>,
}

/// What a readable ring says.
struct Reading {
    snapshot: StatusSnapshot,
    latest: Option<FrameMeta>,
    frame_age: Option<Duration>,
    /// The latest frame's capture time by the camera's clock minus its arrival by this
    /// machine's wall clock (cameras that send RTCP sender reports), ns.
    camera_clock_offset_ns: Option<i64>,
    writer_alive: bool,
    /// Time since the last error was set, by the wall clock.
    last_error_age: Option<Duration>,
    /// What the ring's frames are (`header.codec`): jpeg, nv12, rgb, bgr.
    format: &'static str,
}

/// The rings of `dir`, sorted by name, restricted to `filter` if it names any.
fn list(dir: &Path, filter: &[String]) -> Result<Vec<Camera>> {
    let cannot = |e: std::io::Error| {
        Error::new(
            Kind::Io,
            format!("status: cannot list {}: {e}", dir.display()),
        )
    };
    let mut names = crate::ring_files::cameras_in(dir).map_err(cannot)?;
    // Cameras whose ring could not be made, as the supervisor recorded them, with the reason.
    // A list this user may not read adds nothing: the rings themselves are still listed.
    let missing = crate::missing_rings::read(dir).unwrap_or_default();
    for name in missing.keys() {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names.sort();
    if let Some(unknown) = filter.iter().find(|wanted| !names.contains(wanted)) {
        return Err(Error::new(
            Kind::Usage,
            format!(
                "status: no camera {unknown:?} in {} (no {}.ring there; cameras: {})",
                dir.display(),
                unknown,
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ),
        ));
    }
    Ok(names
        .into_iter()
        .filter(|name| filter.is_empty() || filter.contains(name))
        .map(|name| {
            let path = ring_path(dir, &name);
            let reading = match missing.get(&name) {
                // Not there (the supervisor could not make it): its reason, not "not found".
                Some(reason) if !path.exists() => {
                    Err(Error::new(Kind::Ring, format!("no ring: {reason}")))
                }
                _ => read(&path),
            };
            Camera { name, reading }
        })
        .collect())
}

fn read(path: &Path) -> Result<Reading> {
    let reader = Reader::open(path)?;
    let snapshot = reader.status()?;
    let latest = reader.latest()?;
    let last_error_at = snapshot.status.last_error_realtime_ns;
    let camera_clock_offset_ns = latest.as_ref().and_then(|meta| {
        let camera = reader.camera_time_ns(meta).ok().flatten()?;
        i64::try_from(i128::from(camera) - i128::from(meta.ts_realtime_ns)).ok()
    });
    Ok(Reading {
        format: camd_ring::Codec::from_value(reader.geometry().codec).map_or("?", |c| c.name()),
        frame_age: latest.as_ref().map(FrameMeta::age),
        camera_clock_offset_ns,
        writer_alive: reader.writer_alive(DEFAULT_ALIVE_TIMEOUT),
        last_error_age: (last_error_at != 0)
            .then(|| Duration::from_nanos(camd_ring::realtime_ns().saturating_sub(last_error_at))),
        latest,
        snapshot,
    })
}

impl Reading {
    fn state(&self) -> State {
        self.snapshot.status.state
    }

    /// The latest frame's size, else the camera's own.
    fn resolution(&self) -> Option<(u32, u32)> {
        let status = &self.snapshot.status;
        self.latest
            .map(|m| (m.width, m.height))
            .filter(|&(w, h)| w != 0 && h != 0)
            .or_else(|| {
                (status.source_width != 0 && status.source_height != 0)
                    .then_some((status.source_width, status.source_height))
            })
    }

    /// Failed attempts / the limit, while the camera is failing.
    fn retry(&self) -> Option<(u32, u32)> {
        let status = &self.snapshot.status;
        (matches!(self.state(), State::Retrying | State::ConnectionFailed)
            || status.retry_count != 0)
            .then_some((status.retry_count, status.max_retry_attempts))
    }

    /// Time to the next connection attempt, while retrying.
    fn next_retry_in(&self) -> Option<Duration> {
        (self.state() == State::Retrying)
            .then(|| self.snapshot.next_retry_in())
            .flatten()
    }
}

/// An empty status text is "not known" (or, for a decoder, "none").
fn text(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn render(format: Format, dir: &Path, cameras: &[Camera]) -> String {
    match format {
        Format::Table(_) if cameras.is_empty() => {
            format!("no camera rings in {}\n", dir.display())
        }
        Format::Table(look) if look.wide => {
            let rows: Vec<Vec<String>> = cameras.iter().map(table_row).collect();
            aligned(COLUMNS, &rows, None, false)
        }
        // At most NARROW_WIDTH columns: the cause (the last error, while the camera is not ok)
        // cut at a word boundary to what is left; whole in `--wide` and `--format json`.
        Format::Table(look) => {
            let rows: Vec<Vec<String>> = cameras.iter().map(narrow_row).collect();
            aligned(NARROW_COLUMNS, &rows, Some(NARROW_WIDTH), look.colour)
        }
        Format::Json => {
            let cameras = cameras.iter().map(camera_json).collect();
            let mut text = Value::Object(vec![("cameras", Value::Array(cameras))]).to_json();
            text.push('\n');
            text
        }
        Format::Prometheus => prometheus(cameras),
    }
}

// ---- table ----

const COLUMNS: &[&str] = &[
    "CAMERA",
    "STATUS",
    "FPS",
    "AGE",
    "SIZE",
    "INPUT",
    "DECODER",
    "ENCODER",
    "RETRY",
    "NEXT",
    "PID",
    "ALIVE",
    "GEN",
    "FRAMES",
    "DROP/OVERSIZE/RECONN",
    "LAST ERROR",
];

/// Aligned columns, two spaces apart, the last one unpadded. With `fit`, no line is wider
/// than `fit` columns: the last cell is cut after a whole word to what the others leave.
/// `colour`: the status (the second cell) painted, on every row but the header.
fn aligned(columns: &[&str], rows: &[Vec<String>], fit: Option<usize>, colour: bool) -> String {
    let last = columns.len() - 1;
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(&row[..last]) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let used: usize = widths[..last].iter().map(|w| w + 2).sum();
    let last_width = fit.map(|fit| fit.saturating_sub(used).max(columns[last].len()));
    let header: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    let mut out = String::new();
    for (n, row) in std::iter::once(&header).chain(rows).enumerate() {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i == last {
                match last_width {
                    Some(width) => line.push_str(&cut(cell, width)),
                    None => line.push_str(cell),
                }
                continue;
            }
            let pad = widths[i] - cell.chars().count();
            let shown = match (colour, i, n) {
                (true, 1, 1..) => paint(cell),
                _ => cell.clone(),
            };
            let _ = write!(line, "{shown}{}  ", " ".repeat(pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn table_row(camera: &Camera) -> Vec<String> {
    let dash = || "-".to_owned();
    let name = one_line(&camera.name);
    let r = match &camera.reading {
        Ok(r) => r,
        Err(e) => return unreadable_row(name, COLUMNS.len(), e),
    };
    let s = &r.snapshot.status;
    let last_error = match (text(&s.last_error), r.last_error_age) {
        (None, _) => dash(),
        (Some(e), Some(age)) => format!("{} ({} ago)", one_line(e), human_duration(age)),
        (Some(e), None) => one_line(e),
    };
    let mut row = leading_cells(name, r);
    row.extend([
        text(&s.input_codec).map_or_else(dash, one_line),
        text(&s.decoder).map_or_else(dash, one_line),
        text(&s.encoder).map_or_else(dash, one_line),
        r.retry().map_or_else(dash, |(n, max)| format!("{n}/{max}")),
        r.next_retry_in().map_or_else(dash, human_duration),
        s.writer_pid.to_string(),
        if r.writer_alive { "yes" } else { "no" }.to_owned(),
        s.generation.to_string(),
        r.snapshot.latest_seq.to_string(),
        format!("{}/{}/{}", s.drops, s.oversize, s.reconnects),
        last_error,
    ]);
    row
}

/// The cells both tables start with: name, status, fps, frame age, size.
fn leading_cells(name: String, r: &Reading) -> Vec<String> {
    let dash = || "-".to_owned();
    vec![
        name,
        r.state().as_str().to_owned(),
        format!("{:.1}", r.snapshot.fps()),
        r.frame_age.map_or_else(dash, human_duration),
        // A raw ring's size says its pixel format: what a model's input is described by.
        r.resolution().map_or_else(dash, |(w, h)| match r.format {
            "jpeg" => format!("{w}x{h}"),
            raw => format!("{w}x{h} {raw}"),
        }),
    ]
}

/// The narrow table's columns: what a person looks at first. `--wide` has the rest.
const NARROW_COLUMNS: &[&str] = &[
    "CAMERA", "STATUS", "FPS", "AGE", "SIZE", "DECODER", "RETRY", "CAUSE",
];

/// Widest a camera name is shown in the narrow table (cut with "…"; `--wide` shows it whole).
const NAME_WIDTH: usize = 16;

fn narrow_row(camera: &Camera) -> Vec<String> {
    let dash = || "-".to_owned();
    let name = cut(&one_line(&camera.name), NAME_WIDTH);
    let r = match &camera.reading {
        Ok(r) => r,
        Err(e) => return unreadable_row(name, NARROW_COLUMNS.len(), e),
    };
    let s = &r.snapshot.status;
    // What turns the camera's stream into JPEG: its decoder, else its raw input encoded, else
    // the camera's own JPEG passed through.
    let decoder = match (text(&s.decoder), text(&s.encoder), text(&s.input_codec)) {
        (Some(d), _, _) => one_line(d),
        (None, Some(_), Some(input)) => one_line(input),
        (None, None, Some(_)) => "passthrough".to_owned(),
        _ => dash(),
    };
    let retry = match (r.retry(), r.next_retry_in()) {
        (Some((n, max)), Some(next)) => format!("{n}/{max} in {}", human_duration(next)),
        (Some((n, max)), None) => format!("{n}/{max}"),
        _ => dash(),
    };
    let cause = match text(&s.last_error) {
        Some(e) if r.state() != State::Ok => one_line(e),
        _ => dash(),
    };
    let mut row = leading_cells(name, r);
    row.extend([decoder, retry, cause]);
    row
}

/// The row of a ring that cannot be read: its name, `unreadable`, dashes, and why last.
fn unreadable_row(name: String, columns: usize, error: &Error) -> Vec<String> {
    let mut row = vec![name, UNREADABLE.to_owned()];
    row.resize(columns - 1, "-".to_owned());
    row.push(one_line(&error.to_string()));
    row
}

/// A status in its colour: ok green, retrying and starting yellow, the rest red.
fn paint(status: &str) -> String {
    let code = match status {
        "ok" => "32",
        "retrying" | "starting" => "33",
        "stopped" => "2",
        _ => "31",
    };
    format!("\x1b[{code}m{status}\x1b[0m")
}

/// `text` in at most `width` columns, cut after a whole word with "…".
fn cut(text: &str, width: usize) -> String {
    crate::cut_text::cut_at_word(text, width, crate::cut_text::Units::Chars)
}

/// A text for one table cell: control characters (a newline in an error) become spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `850ms`, `2.5s`, `4m05s`, `3h20m`, `2d04h`.
fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else if secs < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else if secs < 86_400 {
        format!("{}h{:02}m", secs / 3600, secs % 3600 / 60)
    } else {
        format!("{}d{:02}h", secs / 86_400, secs % 86_400 / 3600)
    }
}

// ---- json ----

/// Keys of a camera's JSON object, in order. Every object has all of them. The camera's error,
/// whatever it is, is in one field, `last_error`: the ring's last error, or why the ring could
/// not be read (`status` is then `unreadable`).
fn camera_json(camera: &Camera) -> Value {
    let r = match &camera.reading {
        Ok(r) => r,
        Err(e) => {
            let mut fields = vec![
                ("name", Value::from(camera.name.as_str())),
                ("status", UNREADABLE.into()),
                ("up", false.into()),
            ];
            let reason = e.to_string();
            fields.extend(READING_KEYS.iter().map(|key| {
                let value = if *key == "last_error" {
                    reason.as_str().into()
                } else {
                    Value::Null
                };
                (*key, value)
            }));
            return Value::Object(fields);
        }
    };
    let s = &r.snapshot.status;
    let (width, height) = r.resolution().unzip();
    let mut fields = vec![
        ("name", Value::from(camera.name.as_str())),
        ("status", r.state().as_str().into()),
        ("up", (r.state() == State::Ok && r.writer_alive).into()),
    ];
    let reading = [
        r.snapshot.fps().into(),
        r.frame_age.map(millis).into(),
        r.camera_clock_offset_ns.map(|ns| ns / 1_000_000).into(),
        width.into(),
        height.into(),
        r.format.into(),
        text(&s.input_codec).into(),
        text(&s.decoder).into(),
        text(&s.encoder).into(),
        s.retry_count.into(),
        s.max_retry_attempts.into(),
        r.next_retry_in().map(millis).into(),
        s.writer_pid.into(),
        r.writer_alive.into(),
        millis(r.snapshot.heartbeat_age()).into(),
        s.generation.into(),
        r.snapshot.latest_seq.into(),
        s.drops.into(),
        s.oversize.into(),
        s.reconnects.into(),
        text(&s.last_error).into(),
        r.last_error_age.map(millis).into(),
    ];
    fields.extend(READING_KEYS.iter().copied().zip(reading));
    Value::Object(fields)
}

/// The keys after `name`, `status`, `up`: `null` for an unreadable ring, but for `last_error`.
const READING_KEYS: [&str; 22] = [
    "fps",
    "frame_age_ms",
    "camera_clock_offset_ms",
    "width",
    "height",
    "format",
    "input_codec",
    "decoder",
    "encoder",
    "retry_count",
    "max_retry_attempts",
    "next_retry_in_ms",
    "writer_pid",
    "writer_alive",
    "heartbeat_age_ms",
    "generation",
    "frames",
    "drops",
    "oversize",
    "reconnects",
    "last_error",
    "last_error_age_ms",
];

// ---- prometheus ----

fn prometheus(cameras: &[Camera]) -> String {
    let mut out = String::new();
    let readable: Vec<(&str, &Reading)> = cameras
        .iter()
        .filter_map(|c| c.reading.as_ref().ok().map(|r| (c.name.as_str(), r)))
        .collect();
    let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, String)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    };
    let camera = |name: &str| format!("camera=\"{}\"", label_value(name));
    let per_camera = |value: &dyn Fn(&Reading) -> Option<String>| -> Vec<(String, String)> {
        readable
            .iter()
            .filter_map(|(name, r)| value(r).map(|v| (camera(name), v)))
            .collect()
    };
    family(
        "camd_camera_up",
        "gauge",
        "1 if the camera delivers frames (status ok, writer alive), else 0.",
        cameras
            .iter()
            .map(|c| {
                // A killed worker leaves its last state behind: ok from a dead writer is down.
                let up = matches!(&c.reading, Ok(r) if r.state() == State::Ok && r.writer_alive);
                (camera(&c.name), u8::from(up).to_string())
            })
            .collect(),
    );
    family(
        "camd_camera_state",
        "gauge",
        "The camera's status: 1 for the current one, 0 for the others.",
        cameras
            .iter()
            .flat_map(|c| {
                let current = c
                    .reading
                    .as_ref()
                    .map_or(UNREADABLE, |r| r.state().as_str());
                all_states().map(move |state| {
                    (
                        format!("{},state=\"{state}\"", camera(&c.name)),
                        u8::from(state == current).to_string(),
                    )
                })
            })
            .collect(),
    );
    family(
        "camd_camera_info",
        "gauge",
        "What the camera sends and the GStreamer elements decoding and encoding it (value 1).",
        readable
            .iter()
            .map(|(name, r)| {
                let s = &r.snapshot.status;
                let labels = format!(
                    "{},input_codec=\"{}\",decoder=\"{}\",encoder=\"{}\"",
                    camera(name),
                    label_value(&s.input_codec),
                    label_value(&s.decoder),
                    label_value(&s.encoder)
                );
                (labels, "1".to_owned())
            })
            .collect(),
    );
    family(
        "camd_camera_fps",
        "gauge",
        "Frames per second over about the last second.",
        per_camera(&|r| Some(r.snapshot.fps().to_string())),
    );
    family(
        "camd_camera_frame_age_seconds",
        "gauge",
        "Seconds since the latest frame was captured (absent before the first frame).",
        per_camera(&|r| r.frame_age.map(|d| d.as_secs_f64().to_string())),
    );
    family(
        "camd_camera_clock_offset_seconds",
        "gauge",
        "The camera's clock minus this machine's, by the latest frame's capture time in the \
         camera's RTCP sender reports (absent for cameras that send none).",
        per_camera(&|r| {
            r.camera_clock_offset_ns
                .map(|ns| (ns as f64 / 1e9).to_string())
        }),
    );
    family(
        "camd_camera_retry_count",
        "gauge",
        "Consecutive failed connection attempts (0 while frames flow).",
        per_camera(&|r| Some(r.snapshot.status.retry_count.to_string())),
    );
    family(
        "camd_camera_frames_total",
        "counter",
        "Frames published into the ring since it was created.",
        per_camera(&|r| Some(r.snapshot.latest_seq.to_string())),
    );
    family(
        "camd_camera_drops_total",
        "counter",
        "Frames the capture side dropped before they reached the ring.",
        per_camera(&|r| Some(r.snapshot.status.drops.to_string())),
    );
    family(
        "camd_camera_oversize_total",
        "counter",
        "Frames refused because they exceeded the ring's slot capacity.",
        per_camera(&|r| Some(r.snapshot.status.oversize.to_string())),
    );
    family(
        "camd_camera_reconnects_total",
        "counter",
        "Connections re-established after a loss.",
        per_camera(&|r| Some(r.snapshot.status.reconnects.to_string())),
    );
    family(
        "camd_camera_writer_alive",
        "gauge",
        "1 if the camera's worker gave a sign of life within the last 3 seconds, else 0.",
        per_camera(&|r| Some(u8::from(r.writer_alive).to_string())),
    );
    out
}

/// A label value escaped per the text exposition format: backslash, double quote, line feed.
fn label_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label_value("plain"), "plain");
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn durations_for_people() {
        let ms = Duration::from_millis;
        assert_eq!(human_duration(ms(0)), "0ms");
        assert_eq!(human_duration(ms(850)), "850ms");
        assert_eq!(human_duration(ms(2_500)), "2.5s");
        assert_eq!(human_duration(ms(245_000)), "4m05s");
        assert_eq!(human_duration(ms(12_000_000)), "3h20m");
        assert_eq!(human_duration(ms(187_200_000)), "2d04h");
    }

    #[test]
    fn watch_intervals() {
        assert_eq!(parse_interval(None).unwrap(), Duration::from_secs(1));
        assert_eq!(
            parse_interval(Some("0.25")).unwrap(),
            Duration::from_millis(250)
        );
        for bad in ["0", "-1", "x", "inf", "NaN", "100000"] {
            let err = parse_interval(Some(bad)).unwrap_err().to_string();
            assert!(err.contains("--watch"), "{err}");
        }
    }

    #[test]
    fn an_unreadable_camera_has_every_key() {
        let readable_keys = |v: &Value| match v {
            Value::Object(fields) => fields.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            _ => panic!("not an object"),
        };
        let broken = Camera {
            name: "x".into(),
            reading: Err(Error::new(Kind::Usage, "bad")),
        };
        let keys = readable_keys(&camera_json(&broken));
        assert_eq!(&keys[..3], ["name", "status", "up"]);
        assert_eq!(&keys[3..], READING_KEYS);
    }

    #[test]
    fn table_cells_are_single_lines() {
        assert_eq!(one_line("a\nb\tc"), "a b c");
    }
}
