//! Every command of `camd-worker` answers `--help` with its usage on stdout and exit status 0,
//! without doing anything else: `camd-worker worker --help` reads no orders. (This test also
//! makes `cargo test --workspace` build the `camd-worker` executable, which the daemon tests
//! find beside `camd`.)

const WORKER: &str = env!("CARGO_BIN_EXE_camd-worker");

fn help(args: &[&str]) -> String {
    camd_test_support::stdout_of(WORKER, args)
}

#[test]
fn every_camd_worker_command_answers_help() {
    for command in ["worker", "probe"] {
        for flag in ["--help", "-h"] {
            let text = help(&[command, flag]);
            assert!(
                text.starts_with(&format!("usage: camd-worker {command}")),
                "{text}"
            );
        }
    }
    let text = help(&["--help"]);
    assert!(text.contains("camd-worker worker") && text.contains("camd-worker probe"));
}
