//! What the supervisor tells a worker, over the worker's stdin, and what the worker reports
//! back, over its stdout: one TOML line per message. The pipes are private to the two
//! processes, so cameras travel with their passwords here and never through argv or the
//! environment. The worker acts on each line as it arrives; end of input (the supervisor is
//! gone) means stop. Reports tell the supervisor which cameras a worker has taken over and
//! which it could not run, so that one camera's failure stays that camera's.

use crate::config::camera_keys::{self, quote};
use crate::config::{self, CameraEntry};
use crate::error::{Error, Kind, Result};
use std::path::PathBuf;
use std::time::Duration;
use toml_edit::{ImDocument, Item};

#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// First line: where the rings are, and how the worker behaves.
    Setup(Setup),
    /// Start a camera (its ring exists or is created).
    Start(Box<CameraEntry>),
    /// Stop a camera; its ring ends `stopped`.
    Stop(String),
    /// The daemon settings a reload changes in a running worker.
    Settings(Settings),
}

/// What `[daemon]` says of how a worker behaves: part of its `Setup`, and sent again to a
/// worker that is already running when a reload changes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    pub stop_timeout: Duration,
    pub log_level: log::LevelFilter,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Setup {
    /// Shown in the process title and log lines.
    pub worker: String,
    pub runtime_dir: PathBuf,
    pub ring_gid: Option<u32>,
    pub settings: Settings,
    /// Where the supervisor logs; the worker logs there too.
    pub log_to: crate::logging::Target,
}

impl Message {
    /// One line, newline included.
    pub fn encode(&self) -> String {
        match self {
            Self::Setup(s) => {
                let gid = s
                    .ring_gid
                    .map(|g| format!(", ring_gid = {g}"))
                    .unwrap_or_default();
                format!(
                    "setup = {{ worker = {}, runtime_dir = {}, {}, log_to = {}{gid} }}\n",
                    quote(&s.worker),
                    quote(&s.runtime_dir.to_string_lossy()),
                    s.settings.fields(),
                    quote(&s.log_to.to_string()),
                )
            }
            Self::Start(entry) => format!(
                "start = {}\n",
                camera_keys::to_inline_table(&entry.camera, entry.worker.as_deref())
            ),
            Self::Stop(name) => format!("stop = {}\n", quote(name)),
            Self::Settings(s) => format!("settings = {{ {} }}\n", s.fields()),
        }
    }

    pub fn decode(line: &str) -> Result<Self> {
        if let Some(table) = line.strip_prefix("start = ") {
            return config::parse_worker_camera(table.trim_end()).map(|e| Self::Start(Box::new(e)));
        }
        let doc = ImDocument::parse(line)
            .map_err(|e| Error::new(Kind::Protocol, format!("bad message: {}", e.message())))?;
        if let Some(name) = doc.get("stop").and_then(Item::as_str) {
            return Ok(Self::Stop(name.to_owned()));
        }
        if let Some(settings) = doc.get("settings").and_then(Item::as_table_like) {
            return Settings::from_fields(settings, "settings").map(Self::Settings);
        }
        let setup = doc
            .get("setup")
            .and_then(Item::as_table_like)
            .ok_or_else(|| Error::new(Kind::Protocol, "unknown message"))?;
        let text = |key: &str| {
            setup
                .get(key)
                .and_then(Item::as_str)
                .ok_or_else(|| Error::new(Kind::Protocol, format!("setup without {key}")))
        };
        Ok(Self::Setup(Setup {
            worker: text("worker")?.to_owned(),
            runtime_dir: PathBuf::from(text("runtime_dir")?),
            ring_gid: setup
                .get("ring_gid")
                .and_then(Item::as_integer)
                .map(|g| g as u32),
            settings: Settings::from_fields(setup, "setup")?,
            log_to: crate::logging::parse_target(text("log_to")?)?
                .unwrap_or(crate::logging::Target::Stderr),
        }))
    }
}

impl Settings {
    /// `stop_timeout_ms = N, log_level = "L"`, as a `setup` or `settings` message holds them.
    fn fields(&self) -> String {
        format!(
            "stop_timeout_ms = {}, log_level = {}",
            self.stop_timeout.as_millis(),
            quote(&self.log_level.to_string().to_ascii_lowercase())
        )
    }

    /// The fields of `fields` from the table of a `message` (`setup` or `settings`).
    fn from_fields(table: &dyn toml_edit::TableLike, message: &str) -> Result<Self> {
        let missing = |key: &str| Error::new(Kind::Protocol, format!("{message} without {key}"));
        Ok(Self {
            stop_timeout: table
                .get("stop_timeout_ms")
                .and_then(Item::as_integer)
                .and_then(|ms| u64::try_from(ms).ok())
                .map(Duration::from_millis)
                .ok_or_else(|| missing("stop_timeout_ms"))?,
            log_level: crate::logging::parse_level(
                table
                    .get("log_level")
                    .and_then(Item::as_str)
                    .ok_or_else(|| missing("log_level"))?,
            )?,
        })
    }
}

/// What a worker tells the supervisor about a camera it was handed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Report {
    /// GStreamer is initialised (its plugin registry read, or scanned on a first start): from
    /// now on the worker's silence for a camera counts as a hang.
    Ready,
    /// The camera's ring is open and its thread runs: from now on its ring beats.
    Running(String),
    /// The camera cannot run (its ring cannot be made, its thread died): why, credential-free.
    /// It stays down until a reload or a restart of its worker.
    Failed { camera: String, reason: String },
}

impl Report {
    /// One line, newline included.
    pub fn encode(&self) -> String {
        match self {
            Self::Ready => "ready = true\n".into(),
            Self::Running(name) => format!("running = {}\n", quote(name)),
            Self::Failed { camera, reason } => format!(
                "failed = {{ camera = {}, reason = {} }}\n",
                quote(camera),
                quote(reason)
            ),
        }
    }

    pub fn decode(line: &str) -> Result<Self> {
        let doc = ImDocument::parse(line)
            .map_err(|e| Error::new(Kind::Protocol, format!("bad report: {}", e.message())))?;
        if doc.get("ready").and_then(Item::as_bool) == Some(true) {
            return Ok(Self::Ready);
        }
        if let Some(name) = doc.get("running").and_then(Item::as_str) {
            return Ok(Self::Running(name.to_owned()));
        }
        let failed = doc
            .get("failed")
            .and_then(Item::as_table_like)
            .ok_or_else(|| Error::new(Kind::Protocol, "unknown report"))?;
        let text = |key: &str| {
            failed
                .get(key)
                .and_then(Item::as_str)
                .map(str::to_owned)
                .ok_or_else(|| Error::new(Kind::Protocol, format!("failed report without {key}")))
        };
        Ok(Self::Failed {
            camera: text("camera")?,
            reason: text("reason")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera_config::CameraConfig;
    use crate::source::Source;

    #[test]
    fn messages_round_trip() {
        let mut camera =
            CameraConfig::new("door", Source::parse("rtsp://u:p%22w@10.0.0.1/s").unwrap());
        camera.width = Some(640);
        camera.height = Some(480);
        let messages = [
            Message::Setup(Setup {
                worker: "#3".into(),
                runtime_dir: "/run/camd \"x\"".into(),
                ring_gid: Some(44),
                settings: Settings {
                    stop_timeout: Duration::from_millis(2500),
                    log_level: log::LevelFilter::Debug,
                },
                log_to: crate::logging::Target::Syslog,
            }),
            Message::Start(Box::new(CameraEntry {
                camera,
                worker: Some("w".into()),
            })),
            Message::Stop("door".into()),
            Message::Settings(Settings {
                stop_timeout: Duration::from_millis(800),
                log_level: log::LevelFilter::Trace,
            }),
        ];
        for m in messages {
            let line = m.encode();
            assert!(
                line.ends_with('\n') && line.matches('\n').count() == 1,
                "{line}"
            );
            assert_eq!(Message::decode(&line).unwrap(), m, "{line}");
        }
    }

    #[test]
    fn reports_round_trip_on_one_line() {
        for r in [
            Report::Ready,
            Report::Running("door".into()),
            Report::Failed {
                camera: "we\"ird".into(),
                reason: "ring file /run/camd/x.ring: no space\nsecond line".into(),
            },
        ] {
            let line = r.encode();
            assert!(
                line.ends_with('\n') && line.matches('\n').count() == 1,
                "{line}"
            );
            assert_eq!(Report::decode(&line).unwrap(), r, "{line}");
        }
        assert!(Report::decode("GStreamer-WARNING: something").is_err());
    }
}
