//! `camd`: the camera-capture daemon's command line.

use camd::cli::args::{self, Flag};
use camd::config::{Config, SecretSource, DEFAULT_PATH};
use camd::error::{Error, Kind, Result};
use camd::supervisor::{self, RunOptions};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

const RUN_USAGE: &str = "\
usage: camd run [--config FILE] [--demo] [--log-level LEVEL] [--log-to auto|journal|syslog|stderr]
                                                      run the daemon (default config /etc/camd/camd.toml)
       camd check-config [FILE]                       report every problem in a config file";

/// Every command's usage: `status` and `snapshot` keep theirs beside their code, so `camd
/// COMMAND --help` and the command's own errors print the same lines.
fn usage() -> String {
    let part = |usage: &str| usage.replacen("usage: ", "       ", 1);
    format!(
        "{RUN_USAGE}\n{}\n{}\n{}\n       camd --version",
        part(camd::cli::status::USAGE),
        part(camd::cli::snapshot::USAGE),
        part(camd::cli::PROBE_USAGE)
    )
}

fn main() -> ExitCode {
    let usage = usage();
    camd::cli::command::dispatch("camd", &usage, |command, rest| {
        Some(match command {
            "--version" => {
                println!(
                    "camd {} (ring format {})",
                    env!("CARGO_PKG_VERSION"),
                    camd_ring::layout::FORMAT_VERSION
                );
                Ok(ExitCode::SUCCESS)
            }
            "run" => run(rest),
            "check-config" => check_config(rest),
            "status" => camd::cli::status::main(rest),
            "snapshot" => camd::cli::snapshot::main(rest),
            "probe" => probe(rest),
            _ => return None,
        })
    })
}

fn run(args: &[OsString]) -> Result<ExitCode> {
    const CONFIG: Flag = Flag::value("--config");
    const LOG_LEVEL: Flag = Flag::value("--log-level");
    const LOG_TO: Flag = Flag::value("--log-to");
    const DEMO: Flag = Flag::switch("--demo");
    let parsed = args::parse(args, &[CONFIG, LOG_LEVEL, LOG_TO, DEMO])
        .map_err(|e| Error::new(Kind::Usage, format!("run: {e}\n{RUN_USAGE}")))?;
    if let Some(extra) = parsed.positionals.first() {
        return Err(Error::new(
            Kind::Usage,
            format!("run: unexpected argument {extra:?}\n{RUN_USAGE}"),
        ));
    }
    let options = RunOptions {
        config_path: parsed.path(CONFIG).unwrap_or_else(|| DEFAULT_PATH.into()),
        log_level: parsed
            .text(LOG_LEVEL)?
            .map(camd::logging::parse_level)
            .transpose()?,
        log_to: match parsed.text(LOG_TO)? {
            Some(target) => camd::logging::parse_target(target)?,
            None => None,
        },
    };
    if parsed.has(DEMO) {
        return run_demo(options);
    }
    Ok(supervisor::run(options))
}

/// `camd run --demo`: the embedded demo config (test-pattern cameras and one that is
/// unreachable) with rings in a directory of this user, and `camd status --watch` beside it.
fn run_demo(mut options: RunOptions) -> Result<ExitCode> {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .map(|d| PathBuf::from(d).join("camd-demo"))
        .unwrap_or_else(|| PathBuf::from(format!("/tmp/camd-demo-{}", nix::unistd::getuid())));
    let rings = base.join("rings");
    std::fs::create_dir_all(&base)
        .map_err(|e| Error::new(Kind::Usage, format!("{}: {e}", base.display())))?;
    let config =
        include_str!("../systemd/camd-demo.toml").replace("RUNTIME_DIR", &rings.to_string_lossy());
    options.config_path = base.join("camd-demo.toml");
    std::fs::write(&options.config_path, config).map_err(|e| {
        Error::new(
            Kind::Usage,
            format!("{}: {e}", options.config_path.display()),
        )
    })?;
    eprintln!(
        "camd demo: rings in {0}\n\
         In another terminal (from the camd checkout, after `cargo build --release -p camd-ring`):\n  \
         PYTHONPATH=ring/python CAMD_RING_LIB=target/release/libcamd_ring.so python3 -c \
         'import camd_ring; r = camd_ring.Reader(\"{0}/ball.ring\"); m, jpeg = r.copy_latest(); \
         print(r.status().state, m.seq, m.width, m.height, len(jpeg))'\n\
         Ctrl-C stops everything.",
        rings.display()
    );
    let mut watch = std::process::Command::new("/proc/self/exe")
        .args(["status", "--watch", "1", "--dir"])
        .arg(&rings)
        .spawn()
        .map_err(|e| Error::new(Kind::Usage, format!("cannot start the status display: {e}")))?;
    let code = supervisor::run(options);
    let _ = watch.kill();
    let _ = watch.wait();
    Ok(code)
}

fn check_config(args: &[OsString]) -> Result<ExitCode> {
    let path = match args {
        [] => PathBuf::from(DEFAULT_PATH),
        [file] => PathBuf::from(file),
        _ => {
            return Err(Error::new(
                Kind::Usage,
                format!("check-config takes one file\n{RUN_USAGE}"),
            ))
        }
    };
    match Config::load_with_warnings(&path, &SecretSource::from_env()) {
        Ok((config, warnings)) => {
            let mut n = warnings.warnings.len();
            if n > 0 {
                eprintln!("{warnings}");
            }
            let cameras: Vec<_> = config.cameras.iter().map(|e| &e.camera).collect();
            if let Some(warning) =
                camd::ring_files::space_warning(&config.daemon.runtime_dir, &cameras)
            {
                eprintln!("{}: warning: {warning}", path.display());
                n += 1;
            }
            let warned = match n {
                0 => String::new(),
                1 => ", 1 warning".to_owned(),
                n => format!(", {n} warnings"),
            };
            println!(
                "{}: ok ({} cameras{warned})",
                path.display(),
                config.cameras.len()
            );
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

/// `camd probe` reads the GStreamer registry, which only `camd-worker` links: run it there.
fn probe(args: &[OsString]) -> Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    let worker = camd::supervisor::worker_executable()?;
    let e = std::process::Command::new(&worker)
        .arg0("camd")
        .arg("probe")
        .args(args)
        .exec();
    Err(Error::new(
        Kind::Usage,
        format!("cannot run {}: {e}", worker.display()),
    ))
}
