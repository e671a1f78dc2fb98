//! Every command and subcommand of `camd` answers `--help` (and `-h`) with its usage on stdout
//! and exit status 0, without doing anything else: `camd run --help` starts no daemon. A path
//! that is not UTF-8 is a path; text that is not UTF-8 is an error; neither is a panic.
//! (`camd-worker`'s commands: worker/tests/help.rs; `cargo xtask`'s: xtask's own unit tests,
//! from its table.)

use camd_test_support::stdout_of as help;
use std::os::unix::ffi::OsStrExt;
use std::process::Command;

const CAMD: &str = env!("CARGO_BIN_EXE_camd");

#[test]
fn every_camd_command_answers_help() {
    for command in ["run", "check-config", "status", "snapshot", "probe"] {
        for flag in ["--help", "-h"] {
            let text = help(CAMD, &[command, flag]);
            assert!(
                text.starts_with(&format!("usage: camd {command}")),
                "camd {command} {flag}: {text}"
            );
        }
    }
    let text = help(CAMD, &["run", "--config", "/nonexistent.toml", "--help"]);
    assert!(text.starts_with("usage: camd run"), "{text}");
    for overview in [&["--help"][..], &["-h"], &["help"]] {
        let text = help(CAMD, overview);
        for command in ["run", "check-config", "status", "snapshot", "probe"] {
            assert!(text.contains(&format!("camd {command}")), "{text}");
        }
    }
}

/// `camd COMMAND --help` shows every option the command takes, and is what the command's own
/// usage errors print: one text, so neither can fall behind the other.
#[test]
fn a_commands_help_names_all_its_options_and_matches_its_usage_errors() {
    for (command, options) in [
        ("status", &["--dir", "--format", "--wide", "--watch"][..]),
        ("snapshot", &["-o", "--all", "--dir", ".png"]),
        ("probe", &["--format", "rtsps://"]),
        ("run", &["--config", "--demo", "--log-level", "--log-to"]),
    ] {
        let text = help(CAMD, &[command, "--help"]);
        for option in options {
            assert!(
                text.contains(option),
                "camd {command} --help lacks {option}:\n{text}"
            );
        }
        let out = Command::new(CAMD)
            .args([command, "--bogus"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        // `camd probe` runs in camd-worker, but the error names the command the user typed.
        assert!(
            stderr.starts_with(&format!("camd: {command}: unknown option --bogus")),
            "{stderr}"
        );
        assert!(
            stderr.contains(text.trim_end()),
            "camd {command} --bogus does not print its --help:\n{stderr}\n--help:\n{text}"
        );
    }
}

#[test]
fn unknown_commands_are_errors_and_paths_may_be_any_bytes() {
    let out = Command::new(CAMD).args(["rnu", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown command \"rnu\""));
    // A path is any bytes: one that is not UTF-8 is read like any other (here: it does not
    // exist, and the problem names it), never a panic.
    let bad = std::ffi::OsStr::from_bytes(b"/tmp/camd-no-such-\xff.toml");
    let out = Command::new(CAMD)
        .arg("check-config")
        .arg(bad)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("/tmp/camd-no-such-\u{fffd}.toml"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Text must be text: a --format that is not UTF-8 is an error that names the flag.
    let out = Command::new(CAMD)
        .args(["status", "--format"])
        .arg(std::ffi::OsStr::from_bytes(b"js\xffon"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("option --format") && stderr.contains("is not UTF-8"),
        "{stderr}"
    );
}
