//! `camd`: the camera-capture daemon's command line. Capture, the supervisor and the status
//! commands are not built yet; until they are, this says so instead of pretending.

use std::process::ExitCode;

const USAGE: &str = "usage: camd run | camd status | camd snapshot | camd probe | camd --version";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--version") => {
            println!(
                "camd {} (ring format {})",
                env!("CARGO_PKG_VERSION"),
                camd_ring::layout::FORMAT_VERSION
            );
            ExitCode::SUCCESS
        }
        Some("run") | None => {
            eprintln!(
                "camd: capture is not built yet. The ring library is: see README.md, \"Reading frames\"."
            );
            ExitCode::from(2)
        }
        Some(command @ ("status" | "snapshot" | "probe")) => {
            let run = match command {
                "status" => camd::cli::status::main,
                "snapshot" => camd::cli::snapshot::main,
                _ => camd::cli::probe::main,
            };
            run(&args[1..]).unwrap_or_else(|message| {
                eprintln!("camd: {message}");
                ExitCode::from(2)
            })
        }
        Some(other) => {
            eprintln!("camd: unknown command {other:?}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
