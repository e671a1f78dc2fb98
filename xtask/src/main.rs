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
//!   cargo xtask yocto-crates [--check]  write (or check) the Yocto recipe's camd-crates.inc
//!   cargo xtask oelint             lint yocto/meta-camd (oelint-adv in a venv, license md5s)
//!   cargo xtask systemd-check      systemd-analyze verify (silent) and security (<= 2.0)
//!   cargo xtask cross --target T [--test]  cross-build for aarch64/armv7, tests under qemu
//!   cargo xtask dist [--target T]  tarball of an install prefix under target/dist/

mod bench;
mod checks;
mod cross;
mod demo;
mod dist;
mod oelint;
mod packages;
mod process;
mod qemu;
mod sysroot;
mod systemd;
mod test;
mod toolchain;
mod yocto;

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
        ["cross", "--target", target, rest @ ..] => cross::main(target, rest.contains(&"--test")),
        ["dist"] => dist::main(None),
        ["dist", "--target", target] => dist::main(Some(target)),
        ["miri"] => checks::miri(),
        ["msrv"] => checks::msrv(),
        ["demo", rest @ ..] => demo::run_demo(rest),
        ["yocto-crates"] => yocto::crates(false),
        ["yocto-crates", "--check"] => yocto::crates(true),
        ["oelint"] => oelint::run_lint(),
        ["systemd-check"] => systemd::check(),
        ["fake-cameras", rest @ ..] => process::run(
            process::cargo()
                .args(["run", "--release", "--example", "fake_cameras", "--"])
                .args(rest),
        ),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  test [--quick] [--yes]   fmt, clippy, device checks, all tests, Rust 1.75 build, miri, fuzz, aarch64 cross + qemu tests\n  bench ring|capture|daemon|vs-python [--quick]\n  fuzz [SECONDS]\n  miri\n  msrv\n  fake-cameras [--port N] [PATH=CODEC:WxH@FPS[:PATTERN]...]\n  demo [--yes] [--dir DIR] [--up S] [--down S] [--small]\n  yocto-crates [--check]\n  oelint\n  systemd-check\n  cross --target aarch64|armv7|TRIPLE [--test]   cross-build (sysroot from Debian); --test: ring tests + smoke test under qemu\n  dist [--target TRIPLE|aarch64|armv7]   target/dist/camd-VERSION-TRIPLE.tar.gz (install prefix layout)"
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
