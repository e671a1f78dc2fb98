//! The top of both executables' command lines (`camd` and `camd-worker`): the first argument
//! names a command, `help` (or `--help`, `-h`) prints the usage, `COMMAND --help` prints that
//! command's part of it, and an error is printed as `PROGRAM: message` with exit status 2.

use crate::error::{Error, Kind, Result};
use std::ffi::OsString;
use std::process::ExitCode;

/// What a program's command table says of one command name: `None` when it has no such command.
pub type Outcome = Option<Result<ExitCode>>;

/// Runs the command named by the first of `std::env::args()`, with the arguments after it.
/// `usage` lists every command as `PROGRAM COMMAND ...`, continued on indented lines.
pub fn dispatch(
    program: &str,
    usage: &str,
    table: impl FnOnce(&str, &[OsString]) -> Outcome,
) -> ExitCode {
    let args = super::args::from_env();
    let rest = args.get(1..).unwrap_or_default();
    // A command name is one of the usage's words: an argument that is not UTF-8 is none of them.
    let name = args.first().map(|a| a.to_str().unwrap_or("\u{fffd}"));
    let result = match name {
        Some("help" | "--help" | "-h") => {
            println!("{usage}");
            Ok(ExitCode::SUCCESS)
        }
        Some(name) if wants_help(rest) => match command_usage(program, usage, name) {
            Some(text) => {
                println!("{text}");
                Ok(ExitCode::SUCCESS)
            }
            None => Err(Error::new(
                Kind::Usage,
                format!("unknown command {name:?}\n{usage}"),
            )),
        },
        Some(name) => table(name, rest).unwrap_or_else(|| {
            Err(Error::new(
                Kind::Usage,
                format!("unknown command {name:?}\n{usage}"),
            ))
        }),
        None => Err(Error::new(
            Kind::Usage,
            format!("no command given\n{usage}"),
        )),
    };
    result.unwrap_or_else(|message| {
        eprintln!("{program}: {message}");
        ExitCode::from(2)
    })
}

/// `--help` or `-h` among a command's arguments, before a `--`.
fn wants_help(args: &[OsString]) -> bool {
    args.iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "--help" || a == "-h")
}

/// A usage line's text without its indent and the overview's `usage:`.
fn bare(line: &str) -> &str {
    line.trim_start().trim_start_matches("usage:").trim_start()
}

/// The lines of `usage` that describe `command`: the one naming `PROGRAM COMMAND` and the
/// indented lines that continue it.
fn command_usage(program: &str, usage: &str, command: &str) -> Option<String> {
    let start = format!("{program} {command}");
    let names_it = |line: &str| line == start || line.starts_with(&format!("{start} "));
    let mut lines = usage.lines().skip_while(|line| !names_it(bare(line)));
    let first = lines.next()?;
    let mut text = format!("usage: {}", bare(first));
    // Indented continuations, and further lines of the same command (`camd probe rtsps://...`).
    for line in lines.take_while(|l| {
        let l = l.trim_start();
        !l.starts_with(&format!("{program} ")) || names_it(l)
    }) {
        text.push('\n');
        text.push_str(line);
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const USAGE: &str = "\
usage: camd run [--config FILE]
                         run the daemon
       camd check-config [FILE]    report every problem
       camd probe [--format F]
       camd probe rtsps://HOST     a certificate
       camd --version";

    #[test]
    fn a_commands_usage_is_its_lines() {
        assert_eq!(
            command_usage("camd", USAGE, "run").unwrap(),
            "usage: camd run [--config FILE]\n                         run the daemon"
        );
        assert_eq!(
            command_usage("camd", USAGE, "check-config").unwrap(),
            "usage: camd check-config [FILE]    report every problem"
        );
        assert_eq!(
            command_usage("camd", USAGE, "probe").unwrap(),
            "usage: camd probe [--format F]\n       camd probe rtsps://HOST     a certificate"
        );
        assert_eq!(command_usage("camd", USAGE, "check"), None);
    }

    #[test]
    fn help_is_wanted_before_a_double_dash_only() {
        let args = |l: &[&str]| l.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(wants_help(&args(&["--config", "x", "--help"])));
        assert!(wants_help(&args(&["-h"])));
        assert!(!wants_help(&args(&["--", "--help"])));
        assert!(!wants_help(&args(&["door"])));
    }
}
