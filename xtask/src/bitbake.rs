//! Reading BitBake files without bitbake, as far as `yocto-check` needs it: assignments
//! (`NAME OP "value"`, continued with `\`), shell and python functions (their body lines),
//! `${NAME}` expansion over the file's own assignments (unknown names stay as they are), the
//! `${@...}` inline python expressions, and `SRC_URI` entries (`scheme://path;key=value`); and
//! which files a layer has.
//!
//! Not a BitBake parser: no overrides are applied (`RDEPENDS:${PN}` is just another name), no
//! conditionals, no classes. `:append`, `:prepend` and `:remove` on a name are applied in file
//! order, which is enough for one recipe and the files it `require`s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The files under `layer` whose extension is one of `extensions`, sorted.
pub fn layer_files(layer: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    let mut dirs = vec![layer.to_owned()];
    while let Some(dir) = dirs.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// `NAME OP "value"` (line: where it starts, 1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub line: usize,
    pub name: String,
    pub op: String,
    pub value: String,
}

/// `[python ]NAME() {` ... `}`: the lines between, with their numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub line: usize,
    pub name: String,
    pub python: bool,
    pub body: Vec<(usize, String)>,
}

/// What a BitBake file holds, as far as this module reads it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct File {
    pub assignments: Vec<Assignment>,
    pub functions: Vec<Function>,
    /// `require X` and `include X`, unexpanded.
    pub requires: Vec<String>,
}

const OPS: [&str; 8] = ["??=", "?=", ":=", "+=", "=+", ".=", "=.", "="];

pub fn parse(text: &str) -> File {
    let mut file = File::default();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let start = i + 1;
        let line = lines[i];
        i += 1;
        if let Some((name, python)) = function_head(line) {
            let mut body = Vec::new();
            while i < lines.len() && lines[i].trim_end() != "}" {
                body.push((i + 1, lines[i].to_owned()));
                i += 1;
            }
            i += 1;
            file.functions.push(Function {
                line: start,
                name,
                python,
                body,
            });
            continue;
        }
        // A logical line: continued while it ends with a backslash.
        let mut logical = line.to_owned();
        while logical.ends_with('\\') && i < lines.len() {
            logical.pop();
            logical.push_str(lines[i]);
            i += 1;
        }
        let trimmed = logical.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(rest) = trimmed
            .strip_prefix("require ")
            .or_else(|| trimmed.strip_prefix("include "))
        {
            file.requires.push(rest.trim().to_owned());
        } else if let Some((name, op, value)) = assignment(trimmed) {
            file.assignments.push(Assignment {
                line: start,
                name,
                op,
                value,
            });
        }
    }
    file
}

/// `do_install() {`, `python camd_note () {`, `python () {` -> (name, python).
fn function_head(line: &str) -> Option<(String, bool)> {
    let head = line.trim_end().strip_suffix('{')?.trim_end();
    let head = head.strip_suffix("()")?.trim_end();
    let (head, python) = match head.strip_prefix("python") {
        Some(rest) if rest.is_empty() || rest.starts_with(' ') => (rest.trim(), true),
        _ => (head, false),
    };
    let valid = head
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-:.${}".contains(c));
    (valid && (python || !head.is_empty())).then(|| (head.to_owned(), python))
}

/// `export NAME[flag] OP "value"` -> (NAME[flag], OP, value); None for anything else.
fn assignment(line: &str) -> Option<(String, String, String)> {
    let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
    let mut depth = 0usize;
    let mut end = None;
    for (at, c) in line.char_indices() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            ' ' | '\t' | '=' | '?' | '+' => {
                end = Some(at);
                break;
            }
            ':' | '.' if line[at + 1..].starts_with('=') => {
                end = Some(at);
                break;
            }
            _ => {}
        }
    }
    let end = end?;
    let name = &line[..end];
    let rest = line[end..].trim_start();
    let op = OPS.iter().find(|op| rest.starts_with(**op))?;
    let value = rest[op.len()..].trim();
    let quote = value.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let inner = value.strip_prefix(quote)?.strip_suffix(quote)?;
    (!name.is_empty()).then(|| (name.to_owned(), (*op).to_owned(), inner.to_owned()))
}

/// The values the assignments give, in file order (see the module doc for what is applied).
pub fn values<'a>(files: impl IntoIterator<Item = &'a File>) -> BTreeMap<String, String> {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    for file in files {
        for a in &file.assignments {
            let (name, suffix) = match a.name.rsplit_once(':') {
                Some((n, s @ ("append" | "prepend" | "remove"))) => (n, Some(s)),
                _ => (a.name.as_str(), None),
            };
            let old = vars.get(name).cloned();
            let new = match (suffix, a.op.as_str()) {
                (Some("append"), _) => old.unwrap_or_default() + &a.value,
                (Some("prepend"), _) => a.value.clone() + &old.unwrap_or_default(),
                (Some(_), _) => {
                    let gone: Vec<&str> = a.value.split_whitespace().collect();
                    let old = old.unwrap_or_default();
                    let kept: Vec<&str> = old
                        .split_whitespace()
                        .filter(|w| !gone.contains(w))
                        .collect();
                    kept.join(" ")
                }
                (None, "?=" | "??=") if old.is_some() => continue,
                (None, "+=") => format!("{} {}", old.unwrap_or_default(), a.value),
                (None, "=+") => format!("{} {}", a.value, old.unwrap_or_default()),
                (None, ".=") => old.unwrap_or_default() + &a.value,
                (None, "=.") => a.value.clone() + &old.unwrap_or_default(),
                (None, _) => a.value.clone(),
            };
            vars.insert(name.to_owned(), new);
        }
    }
    vars
}

/// `${NAME}` replaced by `vars[NAME]`, again in what it brings, up to a depth of 10; unknown
/// names and `${@...}` stay as written.
pub fn expand(value: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = value.to_owned();
    for _ in 0..10 {
        let mut next = String::with_capacity(out.len());
        let mut rest = out.as_str();
        let mut changed = false;
        while let Some(at) = rest.find("${") {
            next.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            match after.find('}') {
                Some(close) if !after.starts_with('@') => {
                    let name = &after[..close];
                    match vars.get(name) {
                        Some(v) => {
                            next.push_str(v);
                            changed = true;
                        }
                        None => next.push_str(&rest[at..at + 2 + close + 1]),
                    }
                    rest = &after[close + 1..];
                }
                _ => {
                    next.push_str("${");
                    rest = after;
                }
            }
        }
        next.push_str(rest);
        out = next;
        if !changed {
            break;
        }
    }
    out
}

/// The `${@...}` expressions of `text` (the python between `${@` and its closing brace).
pub fn inline_python(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("${@") {
        let body = &rest[at + 3..];
        let mut depth = 1usize;
        let mut end = body.len();
        for (i, c) in body.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        found.push(body[..end].to_owned());
        rest = &body[end.min(body.len())..];
    }
    found
}

/// The blank-separated words of a value, a `${...}` (with blanks inside) staying one word.
pub fn words(value: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut depth = 0usize;
    let mut previous = ' ';
    for c in value.chars() {
        match c {
            '{' if previous == '$' || depth > 0 => depth += 1,
            '}' if depth > 0 => depth -= 1,
            _ => {}
        }
        if c.is_whitespace() && depth == 0 {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
        } else {
            word.push(c);
        }
        previous = c;
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// One `SRC_URI` entry: `git://host/path;protocol=https;branch=main`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri {
    pub scheme: String,
    pub path: String,
    pub params: Vec<(String, String)>,
}

impl Uri {
    pub fn parse(entry: &str) -> Option<Uri> {
        let (scheme, rest) = entry.split_once("://")?;
        let mut parts = rest.split(';');
        let path = parts.next().unwrap_or_default().to_owned();
        let params = parts
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Some(Uri {
            scheme: scheme.to_owned(),
            path,
            params,
        })
    }

    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECIPE: &str = r#"SUMMARY = "x"
# a comment
CAMD_DIR ?= "${@os.path.join(d.getVar('A'), '{b}')}"
CAMD_URI ?= "git://${CAMD_DIR};protocol=file"
SRC_URI = "${CAMD_URI};destsuffix=${BP} \
           file://extra.patch"
SRC_URI:append = " file://late.cfg"
SRC_URI[sha.sha256sum] = "abc"
export LIBCLANG_PATH = '${STAGING_LIBDIR_NATIVE}'
require ${BPN}-crates.inc

do_install() {
    install -d ${D}${bindir}
}

python () {
    d.setVar('X', '1')
}
"#;

    #[test]
    fn reads_assignments_with_continuations_flags_and_exports() {
        let file = parse(RECIPE);
        let names: Vec<(&str, &str)> = file
            .assignments
            .iter()
            .map(|a| (a.name.as_str(), a.op.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("SUMMARY", "="),
                ("CAMD_DIR", "?="),
                ("CAMD_URI", "?="),
                ("SRC_URI", "="),
                ("SRC_URI:append", "="),
                ("SRC_URI[sha.sha256sum]", "="),
                ("LIBCLANG_PATH", "="),
            ]
        );
        assert_eq!(file.assignments[3].line, 5);
        assert_eq!(
            file.assignments[3].value,
            "${CAMD_URI};destsuffix=${BP}            file://extra.patch"
        );
        assert_eq!(file.requires, ["${BPN}-crates.inc"]);
    }

    #[test]
    fn reads_shell_and_python_functions() {
        let file = parse(RECIPE);
        assert_eq!(file.functions.len(), 2);
        assert_eq!(file.functions[0].name, "do_install");
        assert!(!file.functions[0].python);
        assert_eq!(
            file.functions[0].body,
            [(13, "    install -d ${D}${bindir}".to_owned())]
        );
        assert_eq!(file.functions[1].name, "");
        assert!(file.functions[1].python);
        assert_eq!(
            function_head("do_install:append () {"),
            Some(("do_install:append".into(), false))
        );
        assert_eq!(function_head("if [ -z x ]; then {"), None);
    }

    #[test]
    fn expands_known_names_and_keeps_the_rest() {
        let file = parse(RECIPE);
        let vars = values([&file]);
        assert_eq!(
            expand(&vars["SRC_URI"], &vars),
            "git://${@os.path.join(d.getVar('A'), '{b}')};protocol=file;destsuffix=${BP}            file://extra.patch file://late.cfg"
        );
        let mut more = vars.clone();
        more.insert("A".into(), "${A}".into());
        assert_eq!(expand("${A}", &more), "${A}", "a loop ends");
    }

    #[test]
    fn weak_defaults_and_removes() {
        let file = parse("A = \"1\"\nA ?= \"2\"\nB ??= \"x y z\"\nB:remove = \"y\"\nB += \"w\"\n");
        let vars = values([&file]);
        assert_eq!(vars["A"], "1");
        assert_eq!(vars["B"], "x z w");
    }

    #[test]
    fn finds_inline_python_with_braces_inside() {
        let file = parse(RECIPE);
        assert_eq!(
            inline_python(&file.assignments[1].value),
            ["os.path.join(d.getVar('A'), '{b}')"]
        );
        assert_eq!(inline_python("${@a} and ${@b}"), ["a", "b"]);
        assert_eq!(inline_python("${@unclosed"), ["unclosed"]);
    }

    #[test]
    fn splits_words_but_not_inline_python() {
        assert_eq!(
            words(" git://${@f(a, 'b c')};protocol=file  crate://x/1 \t${A} "),
            ["git://${@f(a, 'b c')};protocol=file", "crate://x/1", "${A}"]
        );
    }

    #[test]
    fn parses_uris() {
        let uri = Uri::parse("git://host/x.git;protocol=https;branch=main").unwrap();
        assert_eq!(uri.scheme, "git");
        assert_eq!(uri.path, "host/x.git");
        assert_eq!(uri.param("protocol"), Some("https"));
        assert_eq!(uri.param("nobranch"), None);
        assert_eq!(Uri::parse("not-a-uri"), None);
    }
}
