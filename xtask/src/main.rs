//! `cargo xtask`: camd's developer chores, one command each. No dependencies on purpose (every
//! crate here would land in Cargo.lock and so in the Yocto recipe's crate list).
//!
//! `COMMANDS` is the usage: `cargo xtask --help` prints it whole, `cargo xtask COMMAND --help`
//! that command's line. Each command names the flags it takes; any other flag is an error.

mod args;
mod bench;
mod bitbake;
mod checks;
mod cross;
mod demo;
mod dist;
mod gst_inventory;
mod oelint;
mod packages;
mod pristine;
mod process;
mod qemu;
mod structure;
mod sysroot;
mod systemd;
mod test;
mod toolchain;
mod vm;
mod yocto;
mod yocto_check;

use args::{Command, Parsed};
use std::process::ExitCode;

/// Every command: its name, its arguments as usage shows them, what it does.
const COMMANDS: &[Command] = &[
    Command::new(
        "test",
        "[--quick] [--yes]",
        "everything CI checks (test.rs lists the steps)",
    ),
    Command::new(
        "bench",
        "ring|capture|daemon|torture|vs-python|pixels [--quick]",
        "a benchmark: table + target/bench/NAME.json",
    ),
    Command::new(
        "fuzz",
        "[SECONDS]",
        "fuzz the ring header parser (default 60 s)",
    ),
    Command::new("miri", "", "the ring protocol tests under miri"),
    Command::new("msrv", "", "build the workspace with Rust 1.75"),
    Command::new(
        "fake-cameras",
        "[--port N] [PATH=CODEC:WxH@FPS[:PATTERN][:gop=N]...]",
        "fake RTSP cameras on 127.0.0.1 (examples/fake_cameras.rs)",
    ),
    Command::new(
        "demo",
        "[--yes] [--dir DIR] [--up S] [--down S] [--small] [--pictures OUT]",
        "install what is missing, build, run the demo (examples/demo.rs)",
    ),
    Command::new(
        "pristine",
        "",
        "a Debian root with only the listed packages has every GStreamer element and tool",
    ),
    Command::new(
        "yocto-crates",
        "[--check]",
        "write (or check) the Yocto recipe's camd-crates.inc",
    ),
    Command::new(
        "yocto-check",
        "",
        "the Yocto layer without bitbake: crates, do_install files, offline parse, oelint",
    ),
    Command::new(
        "oelint",
        "",
        "lint yocto/meta-camd (oelint-adv in a venv, license md5s)",
    ),
    Command::new(
        "systemd-check",
        "",
        "systemd-analyze verify (silent) and security (<= 2.0)",
    ),
    Command::new(
        "cross",
        "--target aarch64|armv7|TRIPLE [--test]",
        "cross-build (sysroot from Debian); --test: ring tests + smoke test under qemu",
    ),
    Command::new(
        "vm-test",
        "[--only webcams,replug,decoder,systemd]",
        "camd against real drivers (vivid, visl) and systemd in a qemu guest (needs root)",
    ),
    Command::new(
        "dist",
        "[--target aarch64|armv7|TRIPLE]",
        "target/dist/camd-VERSION-TRIPLE.tar.gz (install prefix layout)",
    ),
];

fn main() -> ExitCode {
    match args::parse(COMMANDS) {
        Ok(args::Outcome::Run(parsed)) => match run(&parsed) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("xtask: {message}");
                ExitCode::FAILURE
            }
        },
        Ok(args::Outcome::Help(text)) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(a: &Parsed) -> Result<(), String> {
    let quick = a.has("--quick");
    match (a.command, a.positionals.as_slice()) {
        ("test", []) => test::run(quick, a.has("--yes")),
        ("bench", [which]) => match which.as_str() {
            "ring" => bench::ring(quick),
            "capture" => bench::capture(quick),
            "daemon" => bench::daemon(quick),
            "torture" => bench::torture(quick),
            "vs-python" => bench::vs_python(quick),
            "pixels" => bench::pixels(quick),
            other => Err(a.usage_error(&format!("no benchmark {other:?}"))),
        },
        ("fuzz", []) => checks::fuzz(60),
        ("fuzz", [seconds]) => match seconds.parse() {
            Ok(s) => checks::fuzz(s),
            Err(_) => Err(a.usage_error(&format!("{seconds:?} is not a number of seconds"))),
        },
        ("cross", []) => match a.value("--target") {
            Some(target) => cross::main(target, a.has("--test")),
            None => Err(a.usage_error("--target is required")),
        },
        ("dist", []) => dist::main(a.value("--target")),
        ("vm-test", []) => vm::run_vm_test(a.value("--only")),
        ("miri", []) => checks::miri(),
        ("msrv", []) => checks::msrv(),
        ("pristine", []) => pristine::main(),
        ("demo", _) => demo::run_demo(a.has("--yes"), &a.passed_on),
        ("yocto-crates", []) => yocto::crates(a.has("--check")),
        ("yocto-check", []) => yocto_check::run(),
        ("oelint", []) => oelint::run_lint(),
        ("systemd-check", []) => systemd::check(),
        ("fake-cameras", _) => process::run(
            process::cargo()
                .args(["run", "--release", "--example", "fake_cameras", "--"])
                .args(&a.passed_on),
        ),
        (_, [extra, ..]) => Err(a.usage_error(&format!("unexpected argument {extra:?}"))),
        (_, []) => Err(a.usage_error("missing argument")),
    }
}
