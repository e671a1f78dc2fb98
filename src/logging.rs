//! Where camd's log records go, chosen once at start-up by [`init`]:
//!
//! 1. **The journal**, when `JOURNAL_STREAM` (set by systemd for `StandardError=journal`) is
//!    `DEV:INO` and names the file that fd 2 actually is (a child whose stderr was redirected
//!    inherits the variable but not the stream, hence the comparison). Records go to stderr as
//!    `<N>message`, `N` being the sd-daemon(3) priority prefix the journal turns into the
//!    entry's `PRIORITY=` (error 3, warn 4, info 6, debug and trace 7). No timestamp: the
//!    journal adds one.
//! 2. **Syslog**, when `/dev/log` exists: RFC 3164 datagrams through the `syslog` crate,
//!    facility `daemon`, process name `camd`, our pid. If connecting fails, or the socket breaks
//!    later and one reconnect does not mend it, records fall back to 3.
//! 3. **Plain stderr**: `2024-05-01T12:34:56.789Z WARN  message`, the time in UTC.
//!
//! Multi-line messages: on the journal and on plain stderr every line of the message is written
//! with the record's prefix (`<N>`, or the time and level), all lines of a record in a single
//! write so records from different threads do not interleave. The journal's stream protocol is
//! line-based: an unprefixed second line would become its own entry at the unit's default
//! priority; prefixing each line keeps the whole text at the record's priority. Syslog
//! messages are sent as one datagram each, newlines included (the syslog daemon decides how
//! to show them; rsyslog escapes them as `#012`).
//!
//! Cost of filtered records: [`init`] sets `log::max_level`, which the `log` macros check before
//! formatting anything, so a disabled `debug!` in a busy GStreamer callback costs one relaxed
//! atomic load.
//!
//! The pid in syslog records is read in [`init`]: call it in each process (worker processes
//! are spawned, not forked from a process that already initialised logging).

use crate::error::{Error, Kind, Result};
use std::fmt;
use std::io::Write;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use log::{Level, LevelFilter, Log, Metadata, Record};

/// The syslog socket that [`init`] looks for.
const DEV_LOG: &str = "/dev/log";

/// Where the logger installed by [`init`] sends records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// stderr is connected to the journal: `<N>` priority prefixes, no timestamp.
    Journal,
    /// The local syslog through `/dev/log`.
    Syslog,
    /// Plain stderr with a UTC timestamp and the level.
    Stderr,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Target::Journal => "journal",
            Target::Syslog => "syslog",
            Target::Stderr => "stderr",
        })
    }
}

/// Picks the target from what the environment says, without looking at it (see [`init`] for
/// the looking): the journal when `journal_stream` parses as `DEV:INO` (decimal, as systemd
/// writes it) and equals stderr's device and inode; else syslog when `/dev/log` exists; else
/// plain stderr.
pub fn choose(
    journal_stream: Option<&str>,
    stderr_dev_ino: Option<(u64, u64)>,
    dev_log_exists: bool,
) -> Target {
    let journal = match (journal_stream.and_then(parse_dev_ino), stderr_dev_ino) {
        (Some(expected), Some(actual)) => expected == actual,
        _ => false,
    };
    if journal {
        Target::Journal
    } else if dev_log_exists {
        Target::Syslog
    } else {
        Target::Stderr
    }
}

/// `"DEV:INO"` as two decimal numbers; anything else (empty, signs, spaces, extra fields) is
/// not a journal stream.
fn parse_dev_ino(s: &str) -> Option<(u64, u64)> {
    let (dev, ino) = s.split_once(':')?;
    let number = |t: &str| -> Option<u64> {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    Some((number(dev)?, number(ino)?))
}

/// Device and inode of fd 2, or None when fd 2 is closed.
fn stderr_dev_ino() -> Option<(u64, u64)> {
    let st = nix::sys::stat::fstat(2).ok()?;
    // dev_t and ino_t are u64 on x86_64 glibc but may be narrower on 32-bit targets.
    #[allow(clippy::useless_conversion)]
    Some((u64::from(st.st_dev), u64::from(st.st_ino)))
}

/// `--log-to`: `journal`, `syslog` or `stderr`; `auto` (None) chooses.
pub fn parse_target(s: &str) -> Result<Option<Target>> {
    match s {
        "auto" => Ok(None),
        "journal" => Ok(Some(Target::Journal)),
        "syslog" => Ok(Some(Target::Syslog)),
        "stderr" => Ok(Some(Target::Stderr)),
        _ => Err(Error::new(
            Kind::Config,
            format!("unknown log target {s:?}: expected auto, journal, syslog or stderr"),
        )),
    }
}

/// Parses a log level as given on the command line or in the config: `error`, `warn`, `info`,
/// `debug`, `trace` or `off` (ASCII case-insensitive).
pub fn parse_level(s: &str) -> Result<LevelFilter> {
    const CHOICES: [(&str, LevelFilter); 6] = [
        ("error", LevelFilter::Error),
        ("warn", LevelFilter::Warn),
        ("info", LevelFilter::Info),
        ("debug", LevelFilter::Debug),
        ("trace", LevelFilter::Trace),
        ("off", LevelFilter::Off),
    ];
    CHOICES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .map(|&(_, level)| level)
        .ok_or_else(|| {
            Error::new(
                Kind::Config,
                format!(
                    "unknown log level {s:?}: expected one of error, warn, info, debug, trace, off"
                ),
            )
        })
}

/// Installs camd's logger (once per process) with `level` as the maximum level, and returns
/// where it writes, for the daemon to log. The choice is made here, once: see the module
/// documentation and [`choose`]. Fails only when a logger is already installed.
pub fn init(level: LevelFilter) -> Result<Target, log::SetLoggerError> {
    init_to(level, None)
}

/// `init` with the target forced (`camd run --log-to`, and workers, which log where their
/// supervisor does). Unforced, a terminal on stderr means stderr: a person is watching it.
pub fn init_to(level: LevelFilter, forced: Option<Target>) -> Result<Target, log::SetLoggerError> {
    use std::io::IsTerminal;
    let chosen = forced.unwrap_or_else(|| {
        let journal_stream = std::env::var("JOURNAL_STREAM").ok();
        let dev_log_exists = std::path::Path::new(DEV_LOG).exists();
        match choose(journal_stream.as_deref(), stderr_dev_ino(), dev_log_exists) {
            Target::Syslog if std::io::stderr().is_terminal() => Target::Stderr,
            other => other,
        }
    });
    let (logger, target): (Box<dyn Log>, Target) = match chosen {
        Target::Journal => (Box::new(JournalLogger), Target::Journal),
        Target::Syslog => match SyslogLogger::connect(DEV_LOG.into()) {
            Ok(logger) => (Box::new(logger), Target::Syslog),
            Err(_) => (Box::new(StderrLogger), Target::Stderr),
        },
        Target::Stderr => (Box::new(StderrLogger), Target::Stderr),
    };
    log::set_logger(Box::leak(logger))?;
    log::set_max_level(level);
    Ok(target)
}

/// Sets this process's level from `old` to `new` (a reload) and says so at info, before
/// lowering it and after raising it, so the line gets through either way while info is on.
/// `who` begins the line (`"worker #0: "`, or `""`).
pub fn change_level(old: LevelFilter, new: LevelFilter, who: &str) {
    if new == old {
        return;
    }
    let say = || log::info!("{who}log level {new} (was {old})");
    if new < old {
        say();
        log::set_max_level(new);
    } else {
        log::set_max_level(new);
        say();
    }
}

/// The sd-daemon(3) priority of a level: `<3>` error, `<4>` warning, `<6>` info, `<7>` debug.
fn sd_priority(level: Level) -> u8 {
    match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    }
}

/// Writes `text` with `prefix` before each of its lines into `out`, each line ending in '\n'.
/// A trailing newline of the message does not make an empty extra line; an empty message makes
/// one line holding just the prefix.
fn push_prefixed_lines(out: &mut String, prefix: &str, text: &str) {
    let mut any = false;
    for line in text.lines() {
        out.push_str(prefix);
        out.push_str(line);
        out.push('\n');
        any = true;
    }
    if !any {
        out.push_str(prefix);
        out.push('\n');
    }
}

/// One write for the whole record, so that concurrent records do not interleave line by line.
/// Errors (stderr closed, a full disk) are dropped: there is nowhere left to report them.
fn write_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

fn enabled(metadata: &Metadata) -> bool {
    metadata.level() <= log::max_level()
}

fn journal_text(record: &Record) -> String {
    let message = record.args().to_string();
    let prefix = format!("<{}>", sd_priority(record.level()));
    let mut out = String::with_capacity(message.len() + prefix.len() + 1);
    push_prefixed_lines(&mut out, &prefix, &message);
    out
}

fn stderr_text(record: &Record, now: SystemTime) -> String {
    let message = record.args().to_string();
    let prefix = format!("{} {:<5} ", format_utc(now), record.level());
    let mut out = String::with_capacity(message.len() + prefix.len() + 1);
    push_prefixed_lines(&mut out, &prefix, &message);
    out
}

/// `2024-05-01T12:34:56.789Z`: RFC 3339 in UTC, milliseconds. Times before 1970 print as the
/// epoch (the clock is not expected to be there; the line is still written).
fn format_utc(t: SystemTime) -> String {
    let since_epoch = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs();
    let millis = since_epoch.subsec_millis();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar (Howard
/// Hinnant's `civil_from_days`, for non-negative day counts).
fn civil_from_days(days: u64) -> (u64, u32, u32) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let doe = z % 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], from March 1st
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// stderr connected to the journal.
struct JournalLogger;

impl Log for JournalLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        enabled(metadata)
    }
    fn log(&self, record: &Record) {
        if enabled(record.metadata()) {
            write_stderr(&journal_text(record));
        }
    }
    fn flush(&self) {}
}

/// stderr that is not the journal: a terminal, a file, a pipe.
struct StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        enabled(metadata)
    }
    fn log(&self, record: &Record) {
        if enabled(record.metadata()) {
            write_stderr(&stderr_text(record, SystemTime::now()));
        }
    }
    fn flush(&self) {}
}

type SyslogConnection = syslog::Logger<syslog::LoggerBackend, syslog::Formatter3164>;

/// The local syslog at `/dev/log` (another path in tests). A datagram socket stays connected to the socket that was
/// bound when we connected: when the syslog daemon restarts, sends fail until we reconnect, so
/// a failed send reconnects once and retries; a record that still cannot be sent goes to
/// stderr.
struct SyslogLogger {
    path: std::path::PathBuf,
    formatter: syslog::Formatter3164,
    connection: Mutex<Option<SyslogConnection>>,
}

impl SyslogLogger {
    fn connect(path: std::path::PathBuf) -> syslog::Result<Self> {
        let formatter = syslog::Formatter3164 {
            facility: syslog::Facility::LOG_DAEMON,
            hostname: None,
            process: "camd".to_string(),
            pid: std::process::id(),
        };
        let connection = syslog::unix_custom(formatter.clone(), &path)?;
        Ok(Self {
            path,
            formatter,
            connection: Mutex::new(Some(connection)),
        })
    }

    fn send(connection: &mut SyslogConnection, level: Level, message: &str) -> syslog::Result<()> {
        match level {
            Level::Error => connection.err(message),
            Level::Warn => connection.warning(message),
            Level::Info => connection.info(message),
            Level::Debug | Level::Trace => connection.debug(message),
        }
    }
}

impl Log for SyslogLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        enabled(metadata)
    }

    fn log(&self, record: &Record) {
        if !enabled(record.metadata()) {
            return;
        }
        let message = record.args().to_string();
        let mut guard = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(connection) = guard.as_mut() {
            if Self::send(connection, record.level(), &message).is_ok() {
                return;
            }
        }
        *guard = syslog::unix_custom(self.formatter.clone(), &self.path).ok();
        if let Some(connection) = guard.as_mut() {
            if Self::send(connection, record.level(), &message).is_ok() {
                return;
            }
        }
        drop(guard);
        write_stderr(&stderr_text(record, SystemTime::now()));
    }

    fn flush(&self) {
        if let Some(connection) = self
            .connection
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            let _ = connection.backend.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn journal_when_journal_stream_names_stderr() {
        assert_eq!(
            choose(Some("64769:1234"), Some((64769, 1234)), true),
            Target::Journal
        );
        assert_eq!(
            choose(Some("64769:1234"), Some((64769, 1234)), false),
            Target::Journal
        );
    }

    #[test]
    fn not_journal_when_stderr_is_another_file() {
        // Same device, other inode; other device, same inode.
        assert_eq!(
            choose(Some("64769:1234"), Some((64769, 1235)), true),
            Target::Syslog
        );
        assert_eq!(
            choose(Some("64769:1234"), Some((64770, 1234)), false),
            Target::Stderr
        );
        // fd 2 closed.
        assert_eq!(choose(Some("64769:1234"), None, false), Target::Stderr);
    }

    #[test]
    fn not_journal_without_or_with_garbage_journal_stream() {
        let stderr = Some((8, 9));
        for stream in [
            None,
            Some(""),
            Some("8"),
            Some("8:"),
            Some(":9"),
            Some("8:9:0"),
            Some(" 8:9"),
            Some("+8:9"),
            Some("8:-9"),
            Some("0x8:9"),
            Some("18446744073709551616:9"),
        ] {
            assert_eq!(choose(stream, stderr, true), Target::Syslog, "{stream:?}");
            assert_eq!(choose(stream, stderr, false), Target::Stderr, "{stream:?}");
        }
        // Full-width numbers parse.
        assert_eq!(
            choose(
                Some("18446744073709551615:18446744073709551615"),
                Some((u64::MAX, u64::MAX)),
                false
            ),
            Target::Journal
        );
    }

    #[test]
    fn target_display() {
        assert_eq!(Target::Journal.to_string(), "journal");
        assert_eq!(Target::Syslog.to_string(), "syslog");
        assert_eq!(Target::Stderr.to_string(), "stderr");
    }

    #[test]
    fn parse_level_accepts_the_six_names() {
        assert_eq!(parse_level("error"), Ok(LevelFilter::Error));
        assert_eq!(parse_level("warn"), Ok(LevelFilter::Warn));
        assert_eq!(parse_level("info"), Ok(LevelFilter::Info));
        assert_eq!(parse_level("debug"), Ok(LevelFilter::Debug));
        assert_eq!(parse_level("trace"), Ok(LevelFilter::Trace));
        assert_eq!(parse_level("off"), Ok(LevelFilter::Off));
        assert_eq!(parse_level("WARN"), Ok(LevelFilter::Warn));
    }

    #[test]
    fn parse_level_error_lists_the_choices() {
        for bad in ["warning", "", "4", "info "] {
            let err = parse_level(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
            assert!(
                err.contains("error, warn, info, debug, trace, off"),
                "{err}"
            );
        }
    }

    #[test]
    fn sd_priorities() {
        assert_eq!(sd_priority(Level::Error), 3);
        assert_eq!(sd_priority(Level::Warn), 4);
        assert_eq!(sd_priority(Level::Info), 6);
        assert_eq!(sd_priority(Level::Debug), 7);
        assert_eq!(sd_priority(Level::Trace), 7);
    }

    #[test]
    fn journal_lines_each_carry_the_priority() {
        let text = journal_text(
            &Record::builder()
                .level(Level::Warn)
                .args(format_args!("camera down: a\nreason: b\n"))
                .build(),
        );
        assert_eq!(text, "<4>camera down: a\n<4>reason: b\n");
        let text = journal_text(
            &Record::builder()
                .level(Level::Error)
                .args(format_args!(""))
                .build(),
        );
        assert_eq!(text, "<3>\n");
        let text = journal_text(
            &Record::builder()
                .level(Level::Trace)
                .args(format_args!("a\r\nb"))
                .build(),
        );
        assert_eq!(text, "<7>a\n<7>b\n");
    }

    #[test]
    fn stderr_lines_carry_time_and_level() {
        let t = UNIX_EPOCH + Duration::from_millis(1_714_566_896_789);
        let text = stderr_text(
            &Record::builder()
                .level(Level::Info)
                .args(format_args!("one\ntwo"))
                .build(),
            t,
        );
        assert_eq!(
            text,
            "2024-05-01T12:34:56.789Z INFO  one\n2024-05-01T12:34:56.789Z INFO  two\n"
        );
    }

    /// A syslog daemon's socket in a fresh temporary directory, removed on drop. A stand-in:
    /// the machine's own /dev/log (journald or rsyslog, if any) cannot be read back from a test,
    /// and what the daemon would do with the datagram is not camd's; the bytes camd sends are.
    struct FakeSyslog {
        dir: std::path::PathBuf,
        socket: std::os::unix::net::UnixDatagram,
    }

    impl FakeSyslog {
        fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("camd-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let socket = Self::bind(&dir);
            Self { dir, socket }
        }
        fn path(dir: &std::path::Path) -> std::path::PathBuf {
            dir.join("log")
        }
        fn bind(dir: &std::path::Path) -> std::os::unix::net::UnixDatagram {
            let socket = std::os::unix::net::UnixDatagram::bind(Self::path(dir)).unwrap();
            socket
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            socket
        }
        /// What a restarted syslog daemon does: a new socket bound at the same path.
        fn restart(&mut self) {
            std::fs::remove_file(Self::path(&self.dir)).unwrap();
            self.socket = Self::bind(&self.dir);
        }
        fn recv(&self) -> String {
            let mut buf = [0u8; 4096];
            let n = self.socket.recv(&mut buf).unwrap();
            String::from_utf8(buf[..n].to_vec()).unwrap()
        }
    }

    impl Drop for FakeSyslog {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// `<PRI>Mmm dd hh:mm:ss camd[PID]: message` with PRI = facility daemon (3) * 8 + severity;
    /// returns (PRI, what follows the timestamp).
    fn split_3164(datagram: &str) -> (u8, &str) {
        let rest = datagram.strip_prefix('<').unwrap();
        let (pri, rest) = rest.split_once('>').unwrap();
        // "May 01 12:34:56 " is 16 characters.
        (pri.parse().unwrap(), &rest[16..])
    }

    #[test]
    fn syslog_records_are_daemon_facility_camd_and_our_pid() {
        // log() looks at log::max_level(), which is Off until someone raises it; raising it
        // in this test binary touches no other test (none installs a logger here).
        log::set_max_level(LevelFilter::Trace);
        let fake = FakeSyslog::new("syslog-unit");
        let logger = SyslogLogger::connect(FakeSyslog::path(&fake.dir)).unwrap();
        let pid = std::process::id();
        for (level, severity) in [
            (Level::Error, 3),
            (Level::Warn, 4),
            (Level::Info, 6),
            (Level::Debug, 7),
            (Level::Trace, 7),
        ] {
            logger.log(
                &Record::builder()
                    .level(level)
                    .args(format_args!("two\nlines"))
                    .build(),
            );
            let datagram = fake.recv();
            let (pri, rest) = split_3164(&datagram);
            assert_eq!(pri, 3 * 8 + severity, "{datagram:?}");
            assert_eq!(rest, format!("camd[{pid}]: two\nlines"), "{datagram:?}");
        }
    }

    #[test]
    fn syslog_reconnects_after_the_daemon_restarts() {
        log::set_max_level(LevelFilter::Trace);
        let mut fake = FakeSyslog::new("syslog-restart");
        let logger = SyslogLogger::connect(FakeSyslog::path(&fake.dir)).unwrap();
        let record = |text| {
            logger.log(
                &Record::builder()
                    .level(Level::Warn)
                    .args(format_args!("{text}"))
                    .build(),
            )
        };
        record("before");
        assert!(fake.recv().ends_with("]: before"));
        fake.restart();
        record("after");
        assert!(fake.recv().ends_with("]: after"));
    }

    #[test]
    fn utc_formatting() {
        let at = |secs: u64, millis: u64| {
            format_utc(UNIX_EPOCH + Duration::from_millis(secs * 1000 + millis))
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(86_399, 999), "1970-01-01T23:59:59.999Z");
        assert_eq!(at(951_782_400, 0), "2000-02-29T00:00:00.000Z");
        assert_eq!(at(951_868_800, 0), "2000-03-01T00:00:00.000Z");
        assert_eq!(at(1_709_164_800, 1), "2024-02-29T00:00:00.001Z");
        assert_eq!(at(1_735_689_599, 0), "2024-12-31T23:59:59.000Z");
        assert_eq!(at(4_107_542_400, 0), "2100-03-01T00:00:00.000Z"); // 2100: no Feb 29
        assert_eq!(at(2_147_483_648, 0), "2038-01-19T03:14:08.000Z");
        assert_eq!(at(253_402_300_799, 0), "9999-12-31T23:59:59.000Z");
        assert_eq!(
            format_utc(UNIX_EPOCH - Duration::from_secs(1)),
            "1970-01-01T00:00:00.000Z"
        );
    }
}
