//! A tiny command-line flag parser for the subcommands (no dependency): each command states which
//! flags take a value, which take none, and which take an optional number, and gets back its
//! positionals and the flags in order. `--flag=value` and `--flag value` both work; `--` ends
//! the flags; a lone `-` is a positional (or a value: `-o -`). Unknown flags and missing values
//! are errors that name the flag.

/// The flags a command accepts, by their full spelling (`--dir`, `-o`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Spec<'a> {
    /// Flags that need a value: `--dir DIR` or `--dir=DIR`.
    pub values: &'a [&'a str],
    /// Flags that take no value: `--help`.
    pub switches: &'a [&'a str],
    /// Flags whose value is optional and numeric: `--watch`, `--watch 2`, `--watch=0.5`. The next
    /// argument is taken as the value only if it is a number, so `--watch door` keeps `door` a
    /// positional.
    pub optional_numbers: &'a [&'a str],
}

/// The parsed command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub positionals: Vec<String>,
    /// Every flag given, in order, with its value if it has one.
    pub flags: Vec<(String, Option<String>)>,
}

impl Parsed {
    /// The value of the last occurrence of `flag` (a later flag overrides an earlier one).
    pub fn value(&self, flag: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(name, _)| name == flag)
            .and_then(|(_, value)| value.as_deref())
    }

    /// True if `flag` was given at all (with or without a value).
    pub fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|(name, _)| name == flag)
    }
}

/// The program's arguments after its name. An argument that is not UTF-8 is an error that shows
/// it (escaped), where `std::env::args()` would panic.
pub fn from_env() -> Result<Vec<String>, String> {
    std::env::args_os()
        .skip(1)
        .map(|arg| {
            arg.into_string()
                .map_err(|arg| format!("argument {arg:?} is not UTF-8"))
        })
        .collect()
}

/// Splits `args` (the arguments after the subcommand) into positionals and flags.
pub fn parse(args: &[String], spec: &Spec<'_>) -> Result<Parsed, String> {
    let mut parsed = Parsed::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            parsed.positionals.extend(rest.cloned());
            break;
        }
        if !arg.starts_with('-') || arg == "-" {
            parsed.positionals.push(arg.clone());
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        let value = if spec.values.contains(&name) {
            match inline {
                Some(value) => Some(value),
                None => match rest.as_slice().first() {
                    Some(next) if !looks_like_flag(next) => rest.next().cloned(),
                    _ => return Err(format!("option {name} needs a value")),
                },
            }
        } else if spec.switches.contains(&name) {
            if inline.is_some() {
                return Err(format!("option {name} takes no value"));
            }
            None
        } else if spec.optional_numbers.contains(&name) {
            match inline {
                Some(value) => Some(value),
                None => match rest.as_slice().first() {
                    Some(next) if next.parse::<f64>().is_ok() => rest.next().cloned(),
                    _ => None,
                },
            }
        } else {
            return Err(format!("unknown option {name}"));
        };
        parsed.flags.push((name.to_owned(), value));
    }
    Ok(parsed)
}

/// A following argument that is itself a flag is not taken as a value (`--dir --format json`
/// means the value was forgotten); `-` is a value (stdout).
fn looks_like_flag(arg: &str) -> bool {
    arg.starts_with('-') && arg != "-"
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec<'static> = Spec {
        values: &["--dir", "-o", "--format"],
        switches: &["--help"],
        optional_numbers: &["--watch"],
    };

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn parse_ok(list: &[&str]) -> Parsed {
        parse(&args(list), &SPEC).unwrap()
    }

    #[test]
    fn values_with_space_or_equals() {
        let p = parse_ok(&["--dir", "/a", "door", "--format=json", "yard"]);
        assert_eq!(p.positionals, ["door", "yard"]);
        assert_eq!(p.value("--dir"), Some("/a"));
        assert_eq!(p.value("--format"), Some("json"));
        assert_eq!(p.value("-o"), None);
        assert!(!p.has("--help"));
    }

    #[test]
    fn the_last_occurrence_wins_and_values_may_contain_equals() {
        let p = parse_ok(&["--dir=/a", "--dir", "/b=c"]);
        assert_eq!(p.value("--dir"), Some("/b=c"));
        assert_eq!(p.flags.len(), 2);
    }

    #[test]
    fn dash_is_a_value_and_a_positional() {
        let p = parse_ok(&["cam", "-o", "-"]);
        assert_eq!(p.value("-o"), Some("-"));
        assert_eq!(p.positionals, ["cam"]);
        assert_eq!(parse_ok(&["-"]).positionals, ["-"]);
    }

    #[test]
    fn double_dash_ends_the_flags() {
        let p = parse_ok(&["--help", "--", "--dir", "-x"]);
        assert!(p.has("--help"));
        assert_eq!(p.positionals, ["--dir", "-x"]);
        assert_eq!(p.value("--dir"), None);
    }

    #[test]
    fn optional_number_takes_only_a_number() {
        let p = parse_ok(&["--watch", "door"]);
        assert!(p.has("--watch"));
        assert_eq!(p.value("--watch"), None);
        assert_eq!(p.positionals, ["door"]);
        let p = parse_ok(&["--watch", "0.5", "door"]);
        assert_eq!(p.value("--watch"), Some("0.5"));
        assert_eq!(p.positionals, ["door"]);
        assert_eq!(parse_ok(&["--watch=x"]).value("--watch"), Some("x"));
        assert_eq!(parse_ok(&["--watch"]).value("--watch"), None);
    }

    #[test]
    fn errors_name_the_flag() {
        let err = |list: &[&str]| parse(&args(list), &SPEC).unwrap_err();
        assert_eq!(err(&["--bogus"]), "unknown option --bogus");
        assert_eq!(err(&["--bogus=1"]), "unknown option --bogus");
        assert_eq!(err(&["-x"]), "unknown option -x");
        assert_eq!(err(&["--dir"]), "option --dir needs a value");
        assert_eq!(
            err(&["--dir", "--format", "json"]),
            "option --dir needs a value"
        );
        assert_eq!(err(&["--help=yes"]), "option --help takes no value");
    }

    #[test]
    fn an_empty_inline_value_is_a_value() {
        assert_eq!(parse_ok(&["--dir="]).value("--dir"), Some(""));
    }
}
