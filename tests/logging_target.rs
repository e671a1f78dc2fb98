//! The logger's choice of target, for real: this test binary re-runs itself as a child process
//! (the ignored test `child_logs`, selected with `--exact`) whose stderr is a file, with
//! `JOURNAL_STREAM` naming that file, naming another file, or unset; the child installs
//! `camd::logging` and logs one record per level, and the parent reads the file.
//!
//! A child per case because the logger is process-wide (installed once) and because the
//! environment is the input: the parent never changes its own environment.

use camd_test_support as support;

use camd::logging::{choose, Target};
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};
use support::TempDir;

/// Set in the child's environment to the log level it should use.
const CHILD_LEVEL_ENV: &str = "CAMD_LOGGING_TEST_CHILD_LEVEL";
/// Set in the child's environment to log to stderr whatever it would choose (`--log-to stderr`).
const CHILD_FORCE_STDERR_ENV: &str = "CAMD_LOGGING_TEST_CHILD_STDERR";

/// In the child only (the parent runs it with `CHILD_LEVEL_ENV` set): installs the logger,
/// prints the chosen target on stdout, and logs one record per level, one of them two lines.
#[test]
#[ignore = "child process of the other tests in this file; does nothing when run alone"]
fn child_logs() {
    let Ok(level) = std::env::var(CHILD_LEVEL_ENV) else {
        return;
    };
    let level = camd::logging::parse_level(&level).unwrap();
    let target = if std::env::var_os(CHILD_FORCE_STDERR_ENV).is_some() {
        camd::logging::init_to(level, Some(Target::Stderr)).unwrap()
    } else {
        camd::logging::init(level).unwrap()
    };
    // On a line of its own: libtest has just printed "test child_logs ... " without a newline.
    println!("\nTARGET={target}");
    log::error!("an error");
    log::warn!("camera down: front\nreason: connection refused");
    log::info!("info line");
    log::debug!("debug line");
    log::trace!("trace line");
}

enum JournalStream {
    Unset,
    /// The dev:ino of the file the child's stderr is.
    NamingStderr,
    Value(String),
}

struct ChildRun {
    target: String,
    stderr: String,
}

fn dev_ino(path: &std::path::Path) -> (u64, u64) {
    let meta = std::fs::metadata(path).unwrap();
    (meta.dev(), meta.ino())
}

fn run_child(dir: &TempDir, journal_stream: JournalStream, level: &str) -> ChildRun {
    run_child_with(dir, journal_stream, level, &[])
}

fn run_child_with(
    dir: &TempDir,
    journal_stream: JournalStream,
    level: &str,
    env: &[(&str, &str)],
) -> ChildRun {
    let stderr_path = dir.join("stderr");
    let stderr_file = std::fs::File::create(&stderr_path).unwrap();
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "child_logs",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_LEVEL_ENV, level)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr_file);
    match journal_stream {
        JournalStream::Unset => {
            command.env_remove("JOURNAL_STREAM");
        }
        JournalStream::NamingStderr => {
            let (dev, ino) = dev_ino(&stderr_path);
            command.env("JOURNAL_STREAM", format!("{dev}:{ino}"));
        }
        JournalStream::Value(value) => {
            command.env("JOURNAL_STREAM", value);
        }
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    assert!(
        output.status.success(),
        "child failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    let target = stdout
        .lines()
        .find_map(|line| line.strip_prefix("TARGET="))
        .unwrap_or_else(|| panic!("the child ran no test (no TARGET= line):\n{stdout}"))
        .to_string();
    ChildRun { target, stderr }
}

#[test]
fn journal_stream_naming_stderr_gives_priority_prefixed_lines() {
    let dir = TempDir::new("log-journal");
    let run = run_child(&dir, JournalStream::NamingStderr, "debug");
    assert_eq!(run.target, "journal");
    assert_eq!(
        run.stderr,
        "<3>an error\n\
         <4>camera down: front\n\
         <4>reason: connection refused\n\
         <6>info line\n\
         <7>debug line\n"
    );
}

#[test]
fn the_level_filters_records_out() {
    let dir = TempDir::new("log-level");
    let run = run_child(&dir, JournalStream::NamingStderr, "warn");
    assert_eq!(run.target, "journal");
    assert_eq!(
        run.stderr,
        "<3>an error\n<4>camera down: front\n<4>reason: connection refused\n"
    );
    let run = run_child(&dir, JournalStream::NamingStderr, "off");
    assert_eq!(run.stderr, "");
}

/// Not the journal: on a machine without `/dev/log` the child must write timestamped lines to
/// stderr. Where `/dev/log` exists the child picks syslog (or stderr if syslog refuses it), and
/// the file only shows that no `<N>` lines were written; the choice itself is then checked on
/// the pure function with the same inputs, and the stderr format by
/// `the_stderr_target_writes_timestamped_lines`, which forces it on every machine.
fn assert_not_journal(run: &ChildRun, journal_stream: Option<&str>, stderr: (u64, u64)) {
    assert_ne!(run.target, "journal", "stderr:\n{}", run.stderr);
    assert!(
        !run.stderr.lines().any(|line| line.starts_with('<')),
        "{}",
        run.stderr
    );
    if std::path::Path::new("/dev/log").exists() {
        eprintln!(
            "/dev/log exists here: the child's choice is syslog, checked as the pure function's"
        );
        assert_eq!(choose(journal_stream, Some(stderr), true), Target::Syslog);
        assert!(run.target == "syslog" || run.target == "stderr");
        return;
    }
    assert_eq!(run.target, "stderr");
    assert_stderr_lines(&run.stderr);
}

/// `--log-to stderr`, on any machine (with or without `/dev/log`, whatever `JOURNAL_STREAM`
/// says): timestamped lines, one per line of each record, the level filter applied.
#[test]
fn the_stderr_target_writes_timestamped_lines() {
    let dir = TempDir::new("log-stderr");
    let run = run_child_with(
        &dir,
        JournalStream::NamingStderr,
        "debug",
        &[(CHILD_FORCE_STDERR_ENV, "1")],
    );
    assert_eq!(run.target, "stderr");
    assert_stderr_lines(&run.stderr);
}

/// The child's records as the stderr target writes them.
fn assert_stderr_lines(stderr: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    let expected = [
        ("ERROR", "an error"),
        ("WARN ", "camera down: front"),
        ("WARN ", "reason: connection refused"),
        ("INFO ", "info line"),
        ("DEBUG", "debug line"),
    ];
    assert_eq!(lines.len(), expected.len(), "{stderr}");
    for (line, (level, message)) in lines.iter().zip(expected) {
        let (time, rest) = line.split_once(' ').unwrap();
        assert_eq!(rest, format!("{level} {message}"), "{line}");
        // 2024-05-01T12:34:56.789Z
        let shape: String = time
            .chars()
            .map(|c| if c.is_ascii_digit() { '9' } else { c })
            .collect();
        assert_eq!(shape, "9999-99-99T99:99:99.999Z", "{line}");
        let year: u32 = time[..4].parse().unwrap();
        assert!((2024..3000).contains(&year), "{line}");
    }
}

#[test]
fn journal_stream_naming_another_file_is_not_the_journal() {
    let dir = TempDir::new("log-other");
    // What a child of a journal-logging process sees after its stderr was redirected: the
    // variable names the parent's stream, a real file, just not this one.
    let other = dir.join("other");
    std::fs::write(&other, "").unwrap();
    let (dev, ino) = dev_ino(&other);
    let value = format!("{dev}:{ino}");
    let run = run_child(&dir, JournalStream::Value(value.clone()), "debug");
    assert_not_journal(&run, Some(&value), dev_ino(&dir.join("stderr")));
}

#[test]
fn garbage_journal_stream_is_not_the_journal() {
    let dir = TempDir::new("log-garbage");
    let run = run_child(&dir, JournalStream::Value("journal".into()), "debug");
    assert_not_journal(&run, Some("journal"), dev_ino(&dir.join("stderr")));
}

#[test]
fn no_journal_stream_is_not_the_journal() {
    let dir = TempDir::new("log-unset");
    let run = run_child(&dir, JournalStream::Unset, "debug");
    assert_not_journal(&run, None, dev_ino(&dir.join("stderr")));
}
