//! What is wrong with a config file: every problem found, each with the key path that holds it
//! and its line, so one `camd check-config` run lists them all.

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
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", self.file.display())?;
            if p.line > 0 {
                write!(f, ":{}", p.line)?;
            }
            if !p.key.is_empty() {
                write!(f, ": {}", p.key)?;
            }
            write!(f, ": {}", p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Collects problems while the file is walked, turning byte spans into line numbers.
pub(crate) struct Collector<'a> {
    text: &'a str,
    pub(crate) problems: Vec<Problem>,
}

impl<'a> Collector<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            problems: Vec::new(),
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

    pub(crate) fn finish(mut self, file: &Path) -> Result<(), Problems> {
        if self.problems.is_empty() {
            return Ok(());
        }
        self.problems.sort_by_key(|p| p.line);
        Err(Problems {
            file: file.to_owned(),
            problems: self.problems,
        })
    }
}
