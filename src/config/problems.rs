//! What is wrong with a config file: every problem found, each with the key path that holds it
//! and its line, so one `camd check-config` run lists them all; and the warnings of a file that
//! loads (something camd runs with but should not have to, as a password file others can read).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem: `FILE:LINE: KEY: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based; 0 when the problem has no place in the file (a missing key).
    pub line: usize,
    /// `camera[2].width`, `daemon.runtime_dir`; empty for the file as a whole.
    pub key: String,
    pub message: String,
}

/// Every problem of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problems {
    pub file: PathBuf,
    pub problems: Vec<Problem>,
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_lines(f, &self.file, &self.problems, "")
    }
}

impl std::error::Error for Problems {}

/// The warnings of a file that loads, each a `Problem` (line, key, message) that refuses
/// nothing: `FILE:LINE: KEY: warning: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warnings {
    pub file: PathBuf,
    pub warnings: Vec<Problem>,
}

impl Warnings {
    pub fn is_empty(&self) -> bool {
        self.warnings.is_empty()
    }
}

impl fmt::Display for Warnings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_lines(f, &self.file, &self.warnings, "warning: ")
    }
}

/// One line per problem: `FILE:LINE: KEY: LABELmessage` (no line when 0, no key when empty).
fn write_lines(
    f: &mut fmt::Formatter<'_>,
    file: &Path,
    problems: &[Problem],
    label: &str,
) -> fmt::Result {
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            writeln!(f)?;
        }
        write!(f, "{}", file.display())?;
        if p.line > 0 {
            write!(f, ":{}", p.line)?;
        }
        if !p.key.is_empty() {
            // A key is the file's text (a quoted TOML key may hold any character): its control
            // characters are shown escaped, never written to a terminal or a log line as is.
            f.write_str(": ")?;
            for c in p.key.chars() {
                if c.is_control() {
                    write!(f, "\\u{{{:04x}}}", c as u32)?;
                } else {
                    write!(f, "{c}")?;
                }
            }
        }
        write!(f, ": {label}{}", p.message)?;
    }
    Ok(())
}

/// Collects problems and warnings while the file is walked, turning byte spans into line
/// numbers.
pub(crate) struct Collector<'a> {
    text: &'a str,
    pub(crate) problems: Vec<Problem>,
    pub(crate) warnings: Vec<Problem>,
}

impl<'a> Collector<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            problems: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub(crate) fn line_of(&self, span: Option<Range<usize>>) -> usize {
        span.map_or(0, |s| {
            let end = s.start.min(self.text.len());
            self.text.as_bytes()[..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1
        })
    }

    pub(crate) fn add(
        &mut self,
        span: Option<Range<usize>>,
        key: impl Into<String>,
        message: impl ToString,
    ) {
        let line = self.line_of(span);
        self.problems.push(Problem {
            line,
            key: key.into(),
            message: message.to_string(),
        });
    }

    pub(crate) fn warn(
        &mut self,
        span: Option<Range<usize>>,
        key: impl Into<String>,
        message: impl ToString,
    ) {
        let line = self.line_of(span);
        self.warnings.push(Problem {
            line,
            key: key.into(),
            message: message.to_string(),
        });
    }

    /// The warnings if there is no problem, else the problems; each list in line order.
    pub(crate) fn finish(mut self, file: &Path) -> Result<Warnings, Problems> {
        if self.problems.is_empty() {
            self.warnings.sort_by_key(|p| p.line);
            return Ok(Warnings {
                file: file.to_owned(),
                warnings: self.warnings,
            });
        }
        self.problems.sort_by_key(|p| p.line);
        Err(Problems {
            file: file.to_owned(),
            problems: self.problems,
        })
    }
}
