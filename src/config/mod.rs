//! The configuration file (TOML, default `/etc/camd/camd.toml`): a `[daemon]` table and a list
//! of `[[camera]]` tables. Parsing checks everything and reports every problem at once, each
//! with its key path and line (`camd check-config`); a config that loads is one the supervisor
//! can run. `systemd/camd.toml` documents every key; docs/configuration.md is the reference.

use crate::error::{Error, Kind, Result};
pub mod camera_keys;
mod names;
mod problems;

pub use names::check_camera_name;
pub use problems::{Problem, Problems, Warnings};

use crate::camera_config::{CameraConfig, Decode, Transport};
use crate::source::Source;
use problems::Collector;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml_edit::{ImDocument, Item, TableLike};

pub const DEFAULT_PATH: &str = "/etc/camd/camd.toml";
pub const DEFAULT_RUNTIME_DIR: &str = "/run/camd";
/// The largest `password_file` camd reads, in bytes (a password and its newline; anything
/// larger is not a password file).
pub const MAX_PASSWORD_FILE_LEN: usize = 4096;

/// The `[daemon]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct DaemonConfig {
    /// Where the rings live (created if missing).
    pub runtime_dir: PathBuf,
    /// Group that owns the rings (the inference program's); `None`: the daemon's own group.
    pub ring_group: Option<RingGroup>,
    /// Cameras without a `worker` key are packed into workers of at most this many.
    pub cameras_per_worker: u32,
    /// How long a stop (SIGTERM) waits for workers before SIGKILL.
    pub stop_timeout: Duration,
    /// A worker whose rings show no sign of life for this long is hung and replaced.
    pub hang_timeout: Duration,
    /// `log_level`; the command line's `--log-level` wins.
    pub log_level: Option<log::LevelFilter>,
}

/// `daemon.ring_group`, by name or number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RingGroup {
    Name(String),
    Gid(u32),
}

impl Default for DaemonConfig {
    fn default() -> Self {
        Self {
            runtime_dir: PathBuf::from(DEFAULT_RUNTIME_DIR),
            ring_group: None,
            cameras_per_worker: 4,
            stop_timeout: Duration::from_secs(5),
            hang_timeout: Duration::from_secs(10),
            log_level: None,
        }
    }
}

/// One `[[camera]]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct CameraEntry {
    pub camera: CameraConfig,
    /// `worker`: cameras naming the same worker share one process.
    pub worker: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub daemon: DaemonConfig,
    pub cameras: Vec<CameraEntry>,
}

/// Where relative `password_file` paths are looked up: systemd's credentials directory.
#[derive(Clone, Debug, Default)]
pub struct SecretSource {
    pub credentials_directory: Option<PathBuf>,
}

impl SecretSource {
    pub fn from_env() -> Self {
        Self {
            credentials_directory: std::env::var_os("CREDENTIALS_DIRECTORY")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from),
        }
    }

    /// The password in `file`, and a warning if others can read it.
    fn read(&self, file: &str) -> Result<(String, Option<String>)> {
        let path = if Path::new(file).is_absolute() {
            PathBuf::from(file)
        } else {
            match &self.credentials_directory {
                Some(dir) => dir.join(file),
                None => {
                    return Err(Error::new(
                        Kind::Config,
                        format!(
                            "{file:?} is relative, which means a systemd credential, but \
                         CREDENTIALS_DIRECTORY is not set (LoadCredential= in the unit)"
                        ),
                    ))
                }
            }
        };
        let (text, mode) = read_password_file(&path)?;
        let password = text.trim_end_matches(['\n', '\r']);
        if password.is_empty() {
            return Err(Error::new(
                Kind::Config,
                format!("{} is empty", path.display()),
            ));
        }
        let warning = (mode & 0o004 != 0).then(|| {
            format!(
                "{0} is readable by every user (mode {1:04o}): chmod o-r {0}",
                path.display(),
                mode & 0o7777
            )
        });
        Ok((password.to_owned(), warning))
    }
}

/// What a file that is not a regular file is; `None` for a regular file.
fn not_regular(file_type: std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        None
    } else if file_type.is_symlink() {
        Some("a symbolic link (camd does not follow links to password files: name the file itself)")
    } else {
        Some(camd_ring::describe_file_type(file_type))
    }
}

/// The contents and mode of a password file: a regular file (not a link, a FIFO, a device or a
/// directory) of at most `MAX_PASSWORD_FILE_LEN` bytes of UTF-8. Nothing here can block or
/// read without end: the file is looked at before it is opened (opening a device can do
/// something: a watchdog starts, a tty becomes the controlling terminal), opened without
/// following a link and without blocking (a FIFO with no writer), looked at again through the
/// descriptor (the path may have changed in between), and read up to one byte past the bound.
fn read_password_file(path: &Path) -> Result<(String, u32)> {
    use nix::libc::{O_CLOEXEC, O_NOCTTY, O_NOFOLLOW, O_NONBLOCK};
    use std::io::Read;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let fail = |message: String| Error::new(Kind::Config, message);
    let cannot_read = |e: std::io::Error| fail(format!("cannot read {}: {e}", path.display()));
    let regular = |file_type: std::fs::FileType| match not_regular(file_type) {
        None => Ok(()),
        Some(what) => Err(fail(format!(
            "{} is {what}, not a regular file",
            path.display()
        ))),
    };
    regular(path.symlink_metadata().map_err(cannot_read)?.file_type())?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)
        .open(path)
        .map_err(cannot_read)?;
    let meta = file.metadata().map_err(cannot_read)?;
    regular(meta.file_type())?;
    let mut bytes = Vec::new();
    file.take(MAX_PASSWORD_FILE_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot_read)?;
    if bytes.len() > MAX_PASSWORD_FILE_LEN {
        return Err(fail(format!(
            "{} is larger than {MAX_PASSWORD_FILE_LEN} bytes: not a password file",
            path.display()
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| fail(format!("{} is not UTF-8 text", path.display())))?;
    Ok((text, meta.permissions().mode()))
}

/// Every `[daemon]` key.
pub const DAEMON_KEYS: &[&str] = &[
    "runtime_dir",
    "ring_group",
    "cameras_per_worker",
    "stop_timeout_s",
    "hang_timeout_s",
    "log_level",
    "defaults",
];
/// The `[[camera]]` keys that are not settings.
pub const CAMERA_OWN_KEYS: &[&str] = &["name", "url", "password_file", "worker"];

impl Config {
    /// Reads and checks `path`; its warnings go to the log.
    pub fn load(path: &Path, secrets: &SecretSource) -> Result<Self, Problems> {
        let (config, warnings) = Self::load_with_warnings(path, secrets)?;
        if !warnings.is_empty() {
            log::warn!("{warnings}");
        }
        Ok(config)
    }

    /// Reads and checks `path`: the config and its warnings (`camd check-config` prints them).
    pub fn load_with_warnings(
        path: &Path,
        secrets: &SecretSource,
    ) -> Result<(Self, Warnings), Problems> {
        let text = std::fs::read_to_string(path).map_err(|e| Problems {
            file: path.to_owned(),
            problems: vec![Problem {
                line: 0,
                key: String::new(),
                message: format!("cannot read: {e}"),
            }],
        })?;
        Self::parse_with_warnings(&text, path, secrets)
    }

    /// Checks `text` (the contents of `file`, named in the problems); its warnings go to the log.
    pub fn parse(text: &str, file: &Path, secrets: &SecretSource) -> Result<Self, Problems> {
        let (config, warnings) = Self::parse_with_warnings(text, file, secrets)?;
        if !warnings.is_empty() {
            log::warn!("{warnings}");
        }
        Ok(config)
    }

    /// Checks `text` (the contents of `file`, named in the problems and the warnings).
    pub fn parse_with_warnings(
        text: &str,
        file: &Path,
        secrets: &SecretSource,
    ) -> Result<(Self, Warnings), Problems> {
        let mut c = Collector::new(text);
        let doc = match ImDocument::parse(text) {
            Ok(doc) => doc,
            Err(e) => {
                let message = e.message().trim().to_owned();
                c.add(e.span(), "", format!("not valid TOML: {message}"));
                return Err(c.finish(file).unwrap_err());
            }
        };
        let root = doc.as_table();
        for (key, item) in root.iter() {
            if key != "daemon" && key != "camera" {
                c.add(
                    span_of(root, key, item),
                    key,
                    "unknown key (expected daemon or camera)",
                );
            }
        }
        let (daemon, defaults) = match root.get("daemon") {
            None => (DaemonConfig::default(), Vec::new()),
            Some(item) => match item.as_table_like() {
                Some(table) => parse_daemon(table, &mut c),
                None => {
                    c.add(item.span(), "daemon", "must be a table ([daemon])");
                    (DaemonConfig::default(), Vec::new())
                }
            },
        };
        let mut cameras: Vec<CameraEntry> = Vec::new();
        let mut first_line = std::collections::HashMap::new();
        match root.get("camera") {
            None => {}
            Some(Item::ArrayOfTables(list)) => {
                for (i, table) in list.iter().enumerate() {
                    let at = c.line_of(table.span());
                    let path = format!("camera[{i}]");
                    let (name, entry) = parse_camera(table, &path, at, &defaults, secrets, &mut c);
                    // A duplicate is reported even when either entry has other problems.
                    let Some(name) = name else {
                        continue;
                    };
                    if let Some(line) = first_line.get(&name) {
                        c.add(
                            table.get("name").and_then(Item::span),
                            format!("{path}.name"),
                            format!("duplicate camera name {name:?} (first on line {line})"),
                        );
                        continue;
                    }
                    first_line.insert(name, at);
                    cameras.extend(entry);
                }
            }
            Some(item) => c.add(
                item.span(),
                "camera",
                "must be an array of tables ([[camera]])",
            ),
        }
        let warnings = c.finish(file)?;
        Ok((Self { daemon, cameras }, warnings))
    }
}

/// A key's line: where the key is written, else where its value is.
fn span_of(table: &dyn TableLike, key: &str, item: &Item) -> Option<std::ops::Range<usize>> {
    table
        .get_key_value(key)
        .and_then(|(k, _)| k.span())
        .or_else(|| item.span())
}

fn parse_daemon<'d>(
    table: &'d dyn TableLike,
    c: &mut Collector,
) -> (DaemonConfig, Vec<(&'d str, &'d Item)>) {
    let mut daemon = DaemonConfig::default();
    let mut defaults = Vec::new();
    for (key, item) in table.iter() {
        let span = span_of(table, key, item);
        let path = format!("daemon.{key}");
        let result = match key {
            "runtime_dir" => camera_keys::string(item).and_then(|dir| {
                if Path::new(dir).is_absolute() {
                    daemon.runtime_dir = PathBuf::from(dir);
                    Ok(())
                } else {
                    Err(Error::new(
                        Kind::Config,
                        format!("{dir:?} must be an absolute path"),
                    ))
                }
            }),
            "ring_group" => match item.as_integer() {
                Some(gid) => camera_keys::integer(item, 0..=i64::from(u32::MAX - 1))
                    .map(|_| daemon.ring_group = Some(RingGroup::Gid(gid as u32))),
                None => camera_keys::string(item).and_then(|name| {
                    if names::is_group_name(name) {
                        daemon.ring_group = Some(RingGroup::Name(name.to_owned()));
                        Ok(())
                    } else {
                        Err(Error::new(
                            Kind::Config,
                            format!("{name:?} is not a group name"),
                        ))
                    }
                }),
            },
            "cameras_per_worker" => {
                camera_keys::integer(item, 1..=64).map(|n| daemon.cameras_per_worker = n as u32)
            }
            "stop_timeout_s" => {
                camera_keys::seconds(item, 0.1..=60.0).map(|d| daemon.stop_timeout = d)
            }
            "hang_timeout_s" => {
                camera_keys::seconds(item, 2.0..=3600.0).map(|d| daemon.hang_timeout = d)
            }
            "log_level" => camera_keys::string(item).and_then(|level| {
                crate::logging::parse_level(level).map(|l| daemon.log_level = Some(l))
            }),
            "defaults" => match item.as_table_like() {
                Some(defaults_table) => {
                    defaults = parse_defaults(defaults_table, c);
                    Ok(())
                }
                None => Err(Error::new(
                    Kind::Config,
                    "must be a table ([daemon.defaults])",
                )),
            },
            _ => Err(Error::new(
                Kind::Config,
                format!("unknown key (expected one of {})", DAEMON_KEYS.join(", ")),
            )),
        };
        if let Err(message) = result {
            c.add(span, path, message);
        }
    }
    (daemon, defaults)
}

/// The valid `[daemon.defaults]` settings, checked once here (a bad default is reported once,
/// not once per camera).
fn parse_defaults<'d>(table: &'d dyn TableLike, c: &mut Collector) -> Vec<(&'d str, &'d Item)> {
    let mut valid = Vec::new();
    let mut probe = CameraConfig::new(
        "defaults",
        Source::TestPattern {
            pattern: "smpte".into(),
        },
    );
    for (key, item) in table.iter() {
        let path = format!("daemon.defaults.{key}");
        match camera_keys::apply(&mut probe, key, item) {
            Ok(true) => valid.push((key, item)),
            Ok(false) => c.add(
                span_of(table, key, item),
                path,
                format!(
                    "unknown key (expected one of {})",
                    camera_keys::SETTING_KEYS.join(", ")
                ),
            ),
            Err(message) => c.add(span_of(table, key, item), path, message),
        }
    }
    valid
}

/// One `[[camera]]` table: its name if the name is valid (for the duplicate check, whatever
/// else is wrong), and the entry if nothing is.
fn parse_camera(
    table: &dyn TableLike,
    path: &str,
    at: usize,
    defaults: &[(&str, &Item)],
    secrets: &SecretSource,
    c: &mut Collector,
) -> (Option<String>, Option<CameraEntry>) {
    let before = c.problems.len();
    let name = match table.get("name") {
        None => {
            c.problems.push(Problem {
                line: at,
                key: format!("{path}.name"),
                message: "missing: every camera needs a name".into(),
            });
            None
        }
        Some(item) => {
            match camera_keys::any_string(item).and_then(|n| check_camera_name(n).map(|_| n)) {
                Ok(name) => Some(name.to_owned()),
                Err(message) => {
                    c.add(
                        span_of(table, "name", item),
                        format!("{path}.name"),
                        message,
                    );
                    None
                }
            }
        }
    };
    let mut source = match table.get("url") {
        None => {
            c.problems.push(Problem {
                line: at,
                key: format!("{path}.url"),
                message: "missing: every camera needs a url (rtsp://..., a /dev/video path or a webcam index)".into(),
            });
            None
        }
        Some(item) => {
            let parsed = match item.as_integer() {
                Some(index) => camera_keys::integer(item, 0..=255)
                    .and_then(|_| Source::parse(&index.to_string())),
                None => camera_keys::string(item).and_then(Source::parse),
            };
            match parsed {
                Ok(source) => Some(source),
                Err(message) => {
                    c.add(span_of(table, "url", item), format!("{path}.url"), message);
                    None
                }
            }
        }
    };
    if let (Some(item), Some(source)) = (table.get("password_file"), source.as_mut()) {
        let key = format!("{path}.password_file");
        let span = span_of(table, "password_file", item);
        let result = camera_keys::string(item).and_then(|file| match source {
            Source::Rtsp { user: None, .. } => Err(Error::new(
                Kind::Config,
                "the url has no user name (rtsp://USER@host/...) to go with the password",
            )),
            Source::Rtsp {
                password: Some(_), ..
            } => Err(Error::new(
                Kind::Config,
                "the url already holds a password: use one or the other",
            )),
            Source::Rtsp { password, .. } => secrets.read(file).map(|(p, warning)| {
                *password = Some(p);
                if let Some(warning) = warning {
                    c.warn(span.clone(), key.clone(), warning);
                }
            }),
            _ => Err(Error::new(
                Kind::Config,
                "only rtsp:// and rtsps:// cameras take a password",
            )),
        });
        if let Err(message) = result {
            c.add(span, key, message);
        }
    }
    let mut worker = None;
    if let Some(item) = table.get("worker") {
        match camera_keys::any_string(item).and_then(|w| check_camera_name(w).map(|_| w)) {
            Ok(w) => worker = Some(w.to_owned()),
            Err(message) => c.add(
                span_of(table, "worker", item),
                format!("{path}.worker"),
                message,
            ),
        }
    }
    let mut camera = CameraConfig::new(
        name.clone().unwrap_or_default(),
        source.clone().unwrap_or(Source::TestPattern {
            pattern: String::new(),
        }),
    );
    for (key, item) in defaults {
        // Checked when the defaults were read.
        let _ = camera_keys::apply(&mut camera, key, item);
    }
    for (key, item) in table.iter() {
        if CAMERA_OWN_KEYS.contains(&key) {
            continue;
        }
        let key_path = format!("{path}.{key}");
        match camera_keys::apply(&mut camera, key, item) {
            Ok(true) => {}
            Ok(false) => c.add(
                span_of(table, key, item),
                key_path,
                format!(
                    "unknown key (expected one of {}, {})",
                    CAMERA_OWN_KEYS.join(", "),
                    camera_keys::SETTING_KEYS.join(", ")
                ),
            ),
            Err(message) => c.add(span_of(table, key, item), key_path, message),
        }
    }
    for (key, message) in camera_keys::check(&camera) {
        let span = table.get_key_value(key).and_then(|(k, _)| k.span());
        let line = if span.is_some() { c.line_of(span) } else { at };
        c.problems.push(Problem {
            line,
            key: format!("{path}.{key}"),
            message,
        });
    }
    if camera.source.is_tls() && camera.transport == Transport::Udp {
        let span = table.get_key_value("transport").and_then(|(k, _)| k.span());
        c.warn(
            span,
            format!("{path}.transport"),
            "\"udp\" over rtsps:// sends the video unencrypted beside the TLS connection (only \
             the RTSP requests are encrypted): \"auto\" or \"tcp\" keeps it inside",
        );
    }
    if camera.decode == Decode::Keyframes && !matches!(camera.source, Source::Rtsp { .. }) {
        // Only an RTSP camera's H.264/H.265 reaches camd's parser; which codec it sends is known
        // at connect (the worker logs it for an MJPEG one).
        let span = table.get_key_value("decode").and_then(|(k, _)| k.span());
        c.warn(
            span,
            format!("{path}.decode"),
            "\"keyframes\" changes nothing here: only rtsp:// and rtsps:// cameras sending H.264 \
             or H.265 have frames that are not keyframes to skip (webcams and test patterns \
             deliver whole pictures; a file is decoded whole by decodebin)",
        );
    }
    if camera.format.is_raw() {
        // Set in this camera's own table (a default for every camera is not this camera's).
        for key in ["jpeg_quality", "encoder"] {
            if let Some((k, _)) = table.get_key_value(key) {
                c.warn(
                    k.span(),
                    format!("{path}.{key}"),
                    format!(
                        "does nothing: format = {:?} publishes raw frames, no JPEG is encoded",
                        camera.format.name()
                    ),
                );
            }
        }
    }
    let entry = (c.problems.len() == before && name.is_some() && source.is_some())
        .then_some(CameraEntry { camera, worker });
    (name, entry)
}

/// Parses one camera handed to a worker (`camera_keys::to_inline_table`): the same checks as
/// the file, secrets already in the url.
pub fn parse_worker_camera(line: &str) -> Result<CameraEntry> {
    let text = format!("camera = {line}\n");
    let doc =
        ImDocument::parse(text.as_str()).map_err(|e| Error::new(Kind::Config, e.message()))?;
    let table = doc
        .get("camera")
        .and_then(Item::as_table_like)
        .ok_or_else(|| Error::new(Kind::Config, "not a table"))?;
    let mut c = Collector::new(&text);
    let (_, entry) = parse_camera(table, "camera", 1, &[], &SecretSource::default(), &mut c);
    entry.ok_or_else(|| {
        let problems: Vec<String> = c
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.key, p.message))
            .collect();
        Error::new(Kind::Config, problems.join("; "))
    })
}

#[cfg(test)]
mod tests;
