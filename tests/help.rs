//! Every command and subcommand of `camd` answers `--help` (and `-h`) with its usage on stdout
//! and exit status 0, without doing anything else: `camd run --help` starts no daemon. A
//! non-UTF-8 argument is an error, not a panic. (`camd-worker`'s commands: worker/tests/help.rs;
//! `cargo xtask`'s: xtask's own unit tests, from its table.)

use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};

const CAMD: &str = env!("CARGO_BIN_EXE_camd");

fn help(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

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

#[test]
fn unknown_commands_and_non_utf8_arguments_are_errors() {
    let out = Command::new(CAMD).args(["rnu", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown command \"rnu\""));
    let bad = std::ffi::OsStr::from_bytes(b"/tmp/\xff.toml");
    let out = Command::new(CAMD)
        .arg("check-config")
        .arg(bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not UTF-8"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
