//! The top of both executables' command lines (`camd` and `camd-worker`): the first argument
//! names a command, `help` prints the usage, and an error is printed as `PROGRAM: message` with
//! exit status 2.

use std::process::ExitCode;

/// What a program's command table says of one command name: `None` when it has no such command.
pub type Outcome = Option<Result<ExitCode, String>>;

/// Runs the command named by the first of `std::env::args()`, with the arguments after it.
pub fn dispatch(
    program: &str,
    usage: &str,
    table: impl FnOnce(&str, &[String]) -> Outcome,
) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    let result = match args.first().map(String::as_str) {
        Some("help" | "--help" | "-h") => {
            println!("{usage}");
            Ok(ExitCode::SUCCESS)
        }
        Some(name) => {
            table(name, rest).unwrap_or_else(|| Err(format!("unknown command {name:?}\n{usage}")))
        }
        None => Err(format!("no command given\n{usage}")),
    };
    result.unwrap_or_else(|message| {
        eprintln!("{program}: {message}");
        ExitCode::from(2)
    })
}
