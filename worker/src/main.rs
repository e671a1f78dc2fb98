//! `camd-worker`: the half of camd that links GStreamer. The supervisor (`camd run`) starts one
//! per group of cameras (`camd-worker worker KEY`, orders on stdin: see worker_process), and
//! `camd probe` runs `camd-worker probe` to read the GStreamer registry. Keeping GStreamer out of
//! the `camd` executable keeps the supervisor, which runs for months, small: it maps neither
//! GLib nor GStreamer (docs/benchmarks.md, `supervisor_rss_mib`).

use std::process::ExitCode;

const USAGE: &str = "\
usage: camd-worker worker KEY      run a group of cameras (started by `camd run`, orders on stdin)
       camd-worker probe [--format table|json]
                                   V4L2 devices, decoders and encoders here (what `camd probe` runs)
       camd-worker still nv12|rgb|bgr WIDTH HEIGHT png|jpeg
                                   a raw frame on stdin as a picture on stdout (`camd snapshot`)";

fn main() -> ExitCode {
    // `camd probe` execs this as `camd` (argv[0]): its errors then read `camd: probe: ...`,
    // the command the user typed.
    let as_camd = std::env::args_os()
        .next()
        .is_some_and(|arg0| std::path::Path::new(&arg0).file_name() == Some("camd".as_ref()));
    let program = if as_camd { "camd" } else { "camd-worker" };
    camd::cli::command::dispatch(program, USAGE, |command, rest| {
        Some(match command {
            "worker" => Ok(camd_worker::worker_process::main()),
            "probe" => camd_worker::probe::main(rest),
            "still" => camd_worker::still::main(rest),
            "--version" => {
                println!("camd-worker {}", env!("CARGO_PKG_VERSION"));
                Ok(ExitCode::SUCCESS)
            }
            _ => return None,
        })
    })
}
