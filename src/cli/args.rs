//! A tiny command-line flag parser for the subcommands (no dependency). Each command declares its
//! flags as `Flag` constants and looks them up by those constants, never by a string, so a
//! misspelt flag is a compile error in camd and an "unknown option" error for the user.
//! Arguments stay `OsString`: a path that is not UTF-8 (`--config`, `--dir`, `-o`) is a path
//! like any other; a value that must be text (`--format`) or a camera name says so when it is
//! not UTF-8. `--flag=value` and `--flag value` both work; `--` ends the flags; a lone `-` is a
//! positional (or a value: `-o -`). Unknown flags and missing values are errors that name the
//! flag.

use crate::error::{Error, Kind, Result};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// What a flag takes after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Takes {
    /// A value: `--dir DIR` or `--dir=DIR`.
    Value,
    /// Nothing: `--demo`.
    Nothing,
    /// An optional number: `--watch`, `--watch 2`, `--watch=0.5`. The next argument is taken
    /// as the value only if it is a number, so `--watch door` keeps `door` a positional.
    OptionalNumber,
}

/// A flag a command accepts, by its full spelling (`--dir`, `-o`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag {
    pub name: &'static str,
    pub takes: Takes,
}

impl Flag {
    pub const fn value(name: &'static str) -> Self {
        Self {
            name,
            takes: Takes::Value,
        }
    }

    pub const fn switch(name: &'static str) -> Self {
        Self {
            name,
            takes: Takes::Nothing,
        }
    }

    pub const fn optional_number(name: &'static str) -> Self {
        Self {
            name,
            takes: Takes::OptionalNumber,
        }
    }
}

/// The parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub positionals: Vec<OsString>,
    /// Every flag given, in order, with its value if it has one.
    pub flags: Vec<(Flag, Option<OsString>)>,
    spec: Vec<Flag>,
}

impl Parsed {
    /// A lookup of a flag the command did not declare is camd's bug, not the user's.
    fn declared(&self, flag: Flag) {
        assert!(
            self.spec.contains(&flag),
            "flag {} is not in this command's spec",
            flag.name
        );
    }

    /// True if `flag` was given at all (with or without a value).
    pub fn has(&self, flag: Flag) -> bool {
        self.declared(flag);
        self.flags.iter().any(|(f, _)| *f == flag)
    }

    /// The value of the last occurrence of `flag` (a later flag overrides an earlier one).
    pub fn value(&self, flag: Flag) -> Option<&OsStr> {
        self.declared(flag);
        self.flags
            .iter()
            .rev()
            .find(|(f, _)| *f == flag)
            .and_then(|(_, value)| value.as_deref())
    }

    /// The value as a path: any bytes.
    pub fn path(&self, flag: Flag) -> Option<PathBuf> {
        self.value(flag).map(PathBuf::from)
    }

    /// The value as text: an error names the flag when it is not UTF-8.
    pub fn text(&self, flag: Flag) -> Result<Option<&str>> {
        self.value(flag)
            .map(|v| {
                v.to_str().ok_or_else(|| {
                    Error::new(
                        Kind::Usage,
                        format!("option {}: {v:?} is not UTF-8", flag.name),
                    )
                })
            })
            .transpose()
    }

    /// The positionals as text (camera names): an error shows the one that is not UTF-8.
    pub fn text_positionals(&self) -> Result<Vec<&str>> {
        self.positionals
            .iter()
            .map(|p| {
                p.to_str()
                    .ok_or_else(|| Error::new(Kind::Usage, format!("argument {p:?} is not UTF-8")))
            })
            .collect()
    }
}

/// The program's arguments after its name, as the kernel gave them.
pub fn from_env() -> Vec<OsString> {
    std::env::args_os().skip(1).collect()
}

/// Splits `args` (the arguments after the subcommand) into positionals and `spec`'s flags.
pub fn parse(args: &[OsString], spec: &[Flag]) -> Result<Parsed> {
    let mut parsed = Parsed {
        positionals: Vec::new(),
        flags: Vec::new(),
        spec: spec.to_vec(),
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let bytes = arg.as_bytes();
        if bytes == b"--" {
            parsed.positionals.extend(rest.cloned());
            break;
        }
        if !looks_like_flag(arg) {
            parsed.positionals.push(arg.clone());
            continue;
        }
        let (name, inline) = match bytes.iter().position(|&b| b == b'=') {
            Some(i) => (
                &bytes[..i],
                Some(OsStr::from_bytes(&bytes[i + 1..]).to_owned()),
            ),
            None => (bytes, None),
        };
        let shown = String::from_utf8_lossy(name);
        let flag = spec
            .iter()
            .find(|f| f.name.as_bytes() == name)
            .copied()
            .ok_or_else(|| Error::new(Kind::Usage, format!("unknown option {shown}")))?;
        let value = match (flag.takes, inline) {
            (Takes::Nothing, Some(_)) => {
                return Err(Error::new(
                    Kind::Usage,
                    format!("option {shown} takes no value"),
                ))
            }
            (Takes::Nothing, None) => None,
            (_, Some(value)) => Some(value),
            (Takes::Value, None) => match rest.as_slice().first() {
                Some(next) if !looks_like_flag(next) => rest.next().cloned(),
                _ => {
                    return Err(Error::new(
                        Kind::Usage,
                        format!("option {shown} needs a value"),
                    ))
                }
            },
            (Takes::OptionalNumber, None) => match rest.as_slice().first() {
                Some(next) if next.to_str().is_some_and(|n| n.parse::<f64>().is_ok()) => {
                    rest.next().cloned()
                }
                _ => None,
            },
        };
        parsed.flags.push((flag, value));
    }
    Ok(parsed)
}

/// A following argument that is itself a flag is not taken as a value (`--dir --format json`
/// means the value was forgotten); `-` is a value (stdout).
fn looks_like_flag(arg: &OsStr) -> bool {
    arg.as_bytes().starts_with(b"-") && arg.as_bytes() != b"-"
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: Flag = Flag::value("--dir");
    const OUT: Flag = Flag::value("-o");
    const FORMAT: Flag = Flag::value("--format");
    const HELP: Flag = Flag::switch("--help");
    const WATCH: Flag = Flag::optional_number("--watch");
    const SPEC: &[Flag] = &[DIR, OUT, FORMAT, HELP, WATCH];

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn parse_ok(list: &[&str]) -> Parsed {
        parse(&args(list), SPEC).unwrap()
    }

    /// A flag's value as text, for comparing with literals.
    fn value(p: &Parsed, flag: Flag) -> Option<&str> {
        p.text(flag).unwrap()
    }

    #[test]
    fn values_with_space_or_equals() {
        let p = parse_ok(&["--dir", "/a", "door", "--format=json", "yard"]);
        assert_eq!(p.positionals, ["door", "yard"]);
        assert_eq!(value(&p, DIR), Some("/a"));
        assert_eq!(value(&p, FORMAT), Some("json"));
        assert_eq!(value(&p, OUT), None);
        assert!(!p.has(HELP));
    }

    #[test]
    fn the_last_occurrence_wins_and_values_may_contain_equals() {
        let p = parse_ok(&["--dir=/a", "--dir", "/b=c"]);
        assert_eq!(value(&p, DIR), Some("/b=c"));
        assert_eq!(p.flags.len(), 2);
    }

    #[test]
    fn dash_is_a_value_and_a_positional() {
        let p = parse_ok(&["cam", "-o", "-"]);
        assert_eq!(value(&p, OUT), Some("-"));
        assert_eq!(p.positionals, ["cam"]);
        assert_eq!(parse_ok(&["-"]).positionals, ["-"]);
    }

    #[test]
    fn double_dash_ends_the_flags() {
        let p = parse_ok(&["--help", "--", "--dir", "-x"]);
        assert!(p.has(HELP));
        assert_eq!(p.positionals, ["--dir", "-x"]);
        assert_eq!(value(&p, DIR), None);
    }

    #[test]
    fn optional_number_takes_only_a_number() {
        let p = parse_ok(&["--watch", "door"]);
        assert!(p.has(WATCH));
        assert_eq!(value(&p, WATCH), None);
        assert_eq!(p.positionals, ["door"]);
        let p = parse_ok(&["--watch", "0.5", "door"]);
        assert_eq!(value(&p, WATCH), Some("0.5"));
        assert_eq!(p.positionals, ["door"]);
        assert_eq!(value(&parse_ok(&["--watch=x"]), WATCH), Some("x"));
        assert_eq!(value(&parse_ok(&["--watch"]), WATCH), None);
    }

    #[test]
    fn errors_name_the_flag() {
        let err = |list: &[&str]| parse(&args(list), SPEC).unwrap_err().to_string();
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
        assert_eq!(value(&parse_ok(&["--dir="]), DIR), Some(""));
    }

    #[test]
    fn a_path_may_be_any_bytes_and_text_must_be_utf8() {
        let raw = OsStr::from_bytes(b"/tmp/\xff").to_owned();
        let p = parse(&[OsString::from("--dir"), raw.clone()], SPEC).unwrap();
        assert_eq!(p.path(DIR), Some(PathBuf::from(&raw)));
        let p = parse(&[OsString::from("--format"), raw.clone()], SPEC).unwrap();
        assert_eq!(
            p.text(FORMAT).unwrap_err().to_string(),
            "option --format: \"/tmp/\\xFF\" is not UTF-8"
        );
        let p = parse(&[raw], SPEC).unwrap();
        assert!(p
            .text_positionals()
            .unwrap_err()
            .to_string()
            .contains("is not UTF-8"));
    }

    #[test]
    #[should_panic(expected = "flag --output is not in this command's spec")]
    fn looking_up_an_undeclared_flag_is_a_bug() {
        parse_ok(&[]).has(Flag::value("--output"));
    }
}
