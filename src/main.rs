//! `camd`: the camera-capture daemon's command line.

use camd::config::{Config, SecretSource, DEFAULT_PATH};
use camd::supervisor::{self, RunOptions};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: camd run [--config FILE] [--log-level LEVEL] [--log-to auto|journal|syslog|stderr]
                                                      run the daemon (default config /etc/camd/camd.toml)
       camd check-config [FILE]                       report every problem in a config file
       camd status [--dir DIR] [--format table|json|prometheus] [--watch [SECONDS]] [CAMERA...]
       camd snapshot CAMERA -o FILE.jpg [--dir DIR]   write a camera's latest frame
       camd probe [--format table|json]               V4L2 devices, decoders and encoders here
       camd --version";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    let result = match args.first().map(String::as_str) {
        Some("--version") => {
            println!(
                "camd {} (ring format {})",
                env!("CARGO_PKG_VERSION"),
                camd_ring::layout::FORMAT_VERSION
            );
            Ok(ExitCode::SUCCESS)
        }
        Some("run") => run(rest),
        Some("check-config") => check_config(rest),
        Some("worker") => Ok(camd::worker_process::main()),
        Some("status") => camd::cli::status::main(rest),
        Some("snapshot") => camd::cli::snapshot::main(rest),
        Some("probe") => camd::cli::probe::main(rest),
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some(other) => Err(format!("unknown command {other:?}\n{USAGE}")),
        None => Err(format!("no command given\n{USAGE}")),
    };
    result.unwrap_or_else(|message| {
        eprintln!("camd: {message}");
        ExitCode::from(2)
    })
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let mut options = RunOptions {
        config_path: PathBuf::from(DEFAULT_PATH),
        log_level: None,
        log_to: None,
    };
    let mut i = 0;
    while i < args.len() {
        let value = || {
            args.get(i + 1)
                .ok_or_else(|| format!("{} needs a value", args[i]))
        };
        match args[i].as_str() {
            "--config" => options.config_path = PathBuf::from(value()?),
            "--log-level" => options.log_level = Some(camd::logging::parse_level(value()?)?),
            "--log-to" => options.log_to = camd::logging::parse_target(value()?)?,
            other => return Err(format!("run: unknown argument {other:?}\n{USAGE}")),
        }
        i += 2;
    }
    Ok(supervisor::run(options))
}

fn check_config(args: &[String]) -> Result<ExitCode, String> {
    let path = match args {
        [] => PathBuf::from(DEFAULT_PATH),
        [file] => PathBuf::from(file),
        _ => return Err(format!("check-config takes one file\n{USAGE}")),
    };
    match Config::load(&path, &SecretSource::from_env()) {
        Ok(config) => {
            println!("{}: ok ({} cameras)", path.display(), config.cameras.len());
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            eprintln!("{problems}");
            let n = problems.problems.len();
            eprintln!("{n} problem{}", if n == 1 { "" } else { "s" });
            Ok(ExitCode::from(1))
        }
    }
}
