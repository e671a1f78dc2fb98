//! `cargo xtask`: camd's developer chores, one command each. No dependencies on purpose (every
//! crate here would land in Cargo.lock and so in the Yocto recipe's crate list).
//!
//!   cargo xtask test [--quick] [--yes] everything CI checks (see test.rs)
//!   cargo xtask bench ring         ring benchmarks: table + target/bench/ring.json
//!   cargo xtask bench capture      capture benchmarks: table + target/bench/capture.json
//!   cargo xtask bench vs-python    camd vs the Python design: table + target/bench/vs_python.json
//!   cargo xtask fuzz [SECONDS]     fuzz the ring header parser (default 60 s)
//!   cargo xtask miri               the ring protocol tests under miri
//!   cargo xtask msrv               build the workspace with Rust 1.75
//!   cargo xtask fake-cameras [ARGS] fake RTSP cameras on 127.0.0.1 (examples/fake_cameras.rs)
//!   cargo xtask demo [--yes] [ARGS] install what is missing, build, run the demo (examples/demo.rs)

mod bench;
mod checks;
mod demo;
mod packages;
mod process;
mod test;
mod toolchain;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["test", rest @ ..] => test::run(rest.contains(&"--quick"), rest.contains(&"--yes")),
        ["bench", "ring", rest @ ..] => bench::ring(rest.contains(&"--quick")),
        ["bench", "capture", rest @ ..] => bench::capture(rest.contains(&"--quick")),
        ["bench", "daemon", rest @ ..] => bench::daemon(rest.contains(&"--quick")),
        ["bench", "vs-python", rest @ ..] => bench::vs_python(rest.contains(&"--quick")),
        ["fuzz"] => checks::fuzz(60),
        ["fuzz", seconds] => match seconds.parse() {
            Ok(s) => checks::fuzz(s),
            Err(_) => Err(format!("fuzz: {seconds:?} is not a number of seconds")),
        },
        ["miri"] => checks::miri(),
        ["msrv"] => checks::msrv(),
        ["demo", rest @ ..] => demo::run_demo(rest),
        ["fake-cameras", rest @ ..] => process::run(
            process::cargo()
                .args(["run", "--release", "--example", "fake_cameras", "--"])
                .args(rest),
        ),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>

  test [--quick] [--yes]   fmt, clippy, all tests, Rust 1.75 build, miri, fuzz
  bench ring|capture|daemon|vs-python [--quick]
  fuzz [SECONDS]
  miri
  msrv
  fake-cameras [--port N] [PATH=CODEC:WxH@FPS[:PATTERN]...]
  demo [--yes] [--dir DIR] [--up S] [--down S] [--small]"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
