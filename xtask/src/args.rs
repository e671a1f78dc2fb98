//! `cargo xtask`'s command line, read against the command table: the usage text of a command is
//! also the list of flags it takes (`[--quick]` takes no value, `[--dir DIR]` and `--target T`
//! take one), so the help and the parser cannot disagree. An unknown or misspelt flag, or a
//! value flag without its value, is an error that names it; `--help` or `-h` anywhere prints the
//! command's usage.

pub struct Command {
    pub name: &'static str,
    /// The arguments as usage shows them.
    pub args: &'static str,
    pub about: &'static str,
}

impl Command {
    pub const fn new(name: &'static str, args: &'static str, about: &'static str) -> Self {
        Self { name, args, about }
    }

    fn usage(&self) -> String {
        let line = format!("usage: cargo xtask {} {}", self.name, self.args);
        format!("{}\n  {}", line.trim_end(), self.about)
    }

    /// The flags the usage names, each with whether it takes a value.
    fn flags(&self) -> Vec<(&'static str, bool)> {
        let words: Vec<&str> = self.args.split_whitespace().collect();
        words
            .iter()
            .enumerate()
            .filter_map(|(i, word)| {
                let flag = word.trim_start_matches('[');
                let name = flag.trim_end_matches(']');
                if !name.starts_with("--") {
                    return None;
                }
                let takes_value = !flag.ends_with(']')
                    && words
                        .get(i + 1)
                        .is_some_and(|next| !next.starts_with('[') && !next.starts_with("--"));
                Some((name, takes_value))
            })
            .collect()
    }
}

/// A command line read against its command.
pub struct Parsed {
    pub command: &'static str,
    usage: String,
    pub positionals: Vec<String>,
    flags: Vec<(String, Option<String>)>,
    /// Every argument but xtask's own `--yes`, for the commands that hand them to an example.
    pub passed_on: Vec<String>,
}

impl Parsed {
    pub fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|(name, _)| name == flag)
    }

    pub fn value(&self, flag: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(name, _)| name == flag)
            .and_then(|(_, value)| value.as_deref())
    }

    pub fn usage_error(&self, message: &str) -> String {
        format!("{}: {message}\n{}", self.command, self.usage)
    }
}

pub enum Outcome {
    Run(Parsed),
    Help(String),
}

fn overview(commands: &[Command]) -> String {
    let mut text = String::from("usage: cargo xtask <command> [--help]\n");
    for c in commands {
        text.push_str(&format!("\n  {} {}\n      {}", c.name, c.args, c.about));
    }
    text
}

/// Reads `std::env::args()`.
pub fn parse(commands: &[Command]) -> Result<Outcome, String> {
    let args = std::env::args_os()
        .skip(1)
        .map(|a| {
            a.into_string()
                .map_err(|a| format!("argument {a:?} is not UTF-8"))
        })
        .collect::<Result<Vec<String>, String>>()?;
    parse_from(commands, &args)
}

pub fn parse_from(commands: &[Command], args: &[String]) -> Result<Outcome, String> {
    let Some((name, rest)) = args.split_first() else {
        return Err(format!("no command given\n{}", overview(commands)));
    };
    if matches!(name.as_str(), "help" | "--help" | "-h") {
        return Ok(Outcome::Help(overview(commands)));
    }
    let command = commands
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| format!("unknown command {name:?}\n{}", overview(commands)))?;
    let known = command.flags();
    let mut parsed = Parsed {
        command: command.name,
        usage: command.usage(),
        positionals: Vec::new(),
        flags: Vec::new(),
        passed_on: Vec::new(),
    };
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            parsed.positionals.extend(rest.by_ref().cloned());
            break;
        }
        if arg == "--help" || arg == "-h" {
            return Ok(Outcome::Help(command.usage()));
        }
        if arg != "--yes" {
            parsed.passed_on.push(arg.clone());
        }
        if !arg.starts_with('-') {
            parsed.positionals.push(arg.clone());
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        let Some(&(_, takes_value)) = known.iter().find(|(f, _)| *f == flag) else {
            return Err(parsed.usage_error(&format!("unknown option {flag}")));
        };
        let value = match (takes_value, inline) {
            (false, None) => None,
            (false, Some(_)) => return Err(parsed.usage_error(&format!("{flag} takes no value"))),
            (true, Some(value)) => Some(value),
            (true, None) => match rest.next() {
                Some(value) if !value.starts_with("--") => {
                    parsed.passed_on.push(value.clone());
                    Some(value.clone())
                }
                _ => return Err(parsed.usage_error(&format!("{flag} needs a value"))),
            },
        };
        parsed.flags.push((flag.to_owned(), value));
    }
    Ok(Outcome::Run(parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMANDS: &[Command] = &[
        Command::new("test", "[--quick] [--yes]", "all"),
        Command::new("cross", "--target aarch64|armv7 [--test]", "cross"),
        Command::new("demo", "[--yes] [--dir DIR] [--small]", "demo"),
    ];

    fn parse(list: &[&str]) -> Result<Outcome, String> {
        let args: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        parse_from(COMMANDS, &args)
    }

    fn run(list: &[&str]) -> Parsed {
        match parse(list) {
            Ok(Outcome::Run(p)) => p,
            Ok(Outcome::Help(h)) => panic!("help: {h}"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn flags_come_from_the_usage() {
        assert_eq!(COMMANDS[1].flags(), [("--target", true), ("--test", false)]);
        assert_eq!(
            COMMANDS[2].flags(),
            [("--yes", false), ("--dir", true), ("--small", false)]
        );
        let p = run(&["cross", "--target", "aarch64", "--test"]);
        assert_eq!(p.value("--target"), Some("aarch64"));
        assert!(p.has("--test"));
        assert_eq!(
            run(&["cross", "--target=armv7"]).value("--target"),
            Some("armv7")
        );
    }

    #[test]
    fn a_misspelt_or_incomplete_flag_is_an_error() {
        let e = parse(&["test", "--quik"]).err().unwrap();
        assert!(
            e.starts_with("test: unknown option --quik\nusage: cargo xtask test"),
            "{e}"
        );
        let e = parse(&["cross", "--target"]).err().unwrap();
        assert!(e.contains("--target needs a value"), "{e}");
        let e = parse(&["test", "--quick=1"]).err().unwrap();
        assert!(e.contains("--quick takes no value"), "{e}");
        let e = parse(&["tset"]).err().unwrap();
        assert!(e.starts_with("unknown command \"tset\""), "{e}");
    }

    #[test]
    fn help_anywhere_prints_the_commands_usage() {
        for line in [
            &["cross", "--help"][..],
            &["test", "--quick", "-h"],
            &["demo", "--dir", "x", "--help"],
        ] {
            match parse(line) {
                Ok(Outcome::Help(text)) => {
                    assert!(
                        text.starts_with(&format!("usage: cargo xtask {}", line[0])),
                        "{text}"
                    )
                }
                _ => panic!("{line:?}: no help"),
            }
        }
        match parse(&["--help"]) {
            Ok(Outcome::Help(text)) => assert!(text.contains("\n  cross --target"), "{text}"),
            _ => panic!("no overview"),
        }
    }

    #[test]
    fn the_demos_own_flags_are_passed_on_without_yes() {
        let p = run(&["demo", "--yes", "--dir", "/tmp/d", "--small"]);
        assert!(p.has("--yes"));
        assert_eq!(p.passed_on, ["--dir", "/tmp/d", "--small"]);
    }
}
