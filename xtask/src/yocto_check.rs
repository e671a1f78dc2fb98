//! `cargo xtask yocto-check`: what yocto/meta-camd promises that can be checked without bitbake,
//! one step of `cargo xtask test`. Every part runs; the command fails when any of them does,
//! naming each problem:
//!
//! 1. the crate list: `camd-crates.inc` against the Cargo.lock files (`yocto::crates`);
//! 2. every `${S}/...` file the recipe's `do_install` names is one git checks out (tracked in
//!    this repository: the recipe builds a git checkout of it, with `S` its top directory);
//! 3. no network at parse time: with `SRCREV` defaulting to `${AUTOREV}`, bitbake asks every
//!    version-control entry of `SRC_URI` for its head while parsing, so each must be
//!    `protocol=file`; no `${@...}` and no anonymous python in the layer may fetch, open a
//!    socket or run a program;
//! 4. oelint-adv for each release and the `LIC_FILES_CHKSUM` md5s (`oelint::run_lint`).

use crate::bitbake::{self, Uri};
use crate::oelint::LAYER;
use crate::process::root;
use std::path::Path;
use std::process::Command;

const RECIPE: &str = "yocto/meta-camd/recipes-multimedia/camd/camd_git.bb";
/// The recipe's name, `${BPN}` and `${PN}` in what it `require`s.
const BPN: &str = "camd";
/// Fetchers that ask the repository for its head when the revision is `${AUTOREV}`.
const VERSION_CONTROL: [&str; 7] = ["git", "gitsm", "hg", "svn", "bzr", "p4", "repo"];
/// Words in python that run at parse time and could reach the network.
const FETCHING: [&str; 9] = [
    "bb.fetch",
    "urllib",
    "urlopen",
    "requests",
    "socket",
    "subprocess",
    "os.system",
    "os.popen",
    "http",
];

/// One part of the check: its name and what runs it.
type Step<'a> = (&'static str, &'a dyn Fn() -> Result<(), String>);

pub fn run() -> Result<(), String> {
    let root = root();
    let steps: [Step; 4] = [
        ("crate list", &|| crate::yocto::crates(true)),
        ("do_install files", &|| install_files(&root)),
        ("no network at parse time", &|| parse_time_network(&root)),
        ("oelint and licence checksums", &crate::oelint::run_lint),
    ];
    let mut failed = Vec::new();
    for (name, step) in steps {
        match step() {
            Ok(()) => eprintln!("yocto-check: {name}: ok"),
            Err(e) => {
                eprintln!("yocto-check: {name}: FAILED");
                failed.push(format!("{name}: {e}"));
            }
        }
    }
    if failed.is_empty() {
        println!("{LAYER}: yocto-check passed (4 checks)");
        Ok(())
    } else {
        Err(format!(
            "yocto-check: {} of 4 failed:\n{}",
            failed.len(),
            failed.join("\n")
        ))
    }
}

fn read(root: &Path, relative: &str) -> Result<String, String> {
    std::fs::read_to_string(root.join(relative)).map_err(|e| format!("cannot read {relative}: {e}"))
}

/// Step 2: the recipe as the tree has it, against the files git tracks.
fn install_files(root: &Path) -> Result<(), String> {
    let recipe = bitbake::parse(&read(root, RECIPE)?);
    let tracked = tracked_files(root)?;
    let problems = missing_install_files(&recipe, &tracked);
    if problems.is_empty() {
        eprintln!(
            "{RECIPE}: do_install's {} ${{S}} paths are in the checkout",
            install_paths(&recipe).len()
        );
        Ok(())
    } else {
        Err(problems.join("\n  "))
    }
}

/// `git ls-files`: the files a checkout of this repository has (staged ones included).
fn tracked_files(root: &Path) -> Result<Vec<String>, String> {
    let out = Command::new("git")
        .current_dir(root)
        .args(["ls-files", "-z", "--cached"])
        .output()
        .map_err(|e| format!("cannot run git ls-files: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git ls-files failed in {}: {}",
            root.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Every `${S}/PATH` of the recipe's `do_install` (and its `:append`, `:prepend`), with its
/// line: the word after `${S}/`, up to a blank, a quote or a shell operator.
pub fn install_paths(recipe: &bitbake::File) -> Vec<(usize, String)> {
    let mut paths = Vec::new();
    for function in &recipe.functions {
        if function.python || function.name.split(':').next() != Some("do_install") {
            continue;
        }
        for (line, text) in &function.body {
            if text.trim_start().starts_with('#') {
                continue;
            }
            let mut rest = text.as_str();
            while let Some(at) = rest.find("${S}/") {
                let word = &rest[at + 5..];
                let end = word
                    .find(|c: char| c.is_whitespace() || "\"';|&<>()\\".contains(c))
                    .unwrap_or(word.len());
                paths.push((*line, word[..end].to_owned()));
                rest = &word[end..];
            }
        }
    }
    paths
}

/// The problems of step 2: a path no tracked file matches (`*` and `?` within one path part).
pub fn missing_install_files(recipe: &bitbake::File, tracked: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    let paths = install_paths(recipe);
    if paths.is_empty() {
        problems.push(format!(
            "{RECIPE}: no ${{S}}/ path found in do_install (did its layout change?)"
        ));
    }
    if let Some(s) = recipe.assignments.iter().find(|a| a.name == "S") {
        problems.push(format!(
            "{RECIPE}:{}: S is set; this check takes S to be the checkout's top directory",
            s.line
        ));
    }
    for (line, path) in paths {
        if path.contains("${") {
            problems.push(format!(
                "{RECIPE}:{line}: ${{S}}/{path}: a variable in the path, cannot check it"
            ));
        } else if !tracked.iter().any(|file| glob_match(&path, file)) {
            problems.push(format!(
                "{RECIPE}:{line}: do_install names ${{S}}/{path}, which git does not check out"
            ));
        }
    }
    problems
}

/// Shell-style match of one path: `*` and `?` do not cross `/`.
fn glob_match(pattern: &str, path: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), path.chars().collect());
    fn go(p: &[char], t: &[char]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some('*'), _) => {
                go(&p[1..], t) || (t.first().is_some_and(|c| *c != '/') && go(p, &t[1..]))
            }
            (Some('?'), Some(c)) if *c != '/' => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(&p, &t)
}

/// Step 3 over the layer's files.
fn parse_time_network(root: &Path) -> Result<(), String> {
    let recipe_text = read(root, RECIPE)?;
    let recipe = bitbake::parse(&recipe_text);
    let dir = Path::new(RECIPE).parent().expect("a directory");
    let mut files = vec![(RECIPE.to_owned(), recipe.clone())];
    for required in &recipe.requires {
        let name = required.replace("${BPN}", BPN).replace("${PN}", BPN);
        let relative = dir.join(&name).to_string_lossy().into_owned();
        files.push((relative.clone(), bitbake::parse(&read(root, &relative)?)));
    }
    let mut problems = network_problems(&files);
    let layer_files = bitbake::layer_files(
        &root.join(LAYER),
        &["bb", "bbappend", "inc", "conf", "bbclass"],
    )?;
    for path in layer_files {
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        problems.extend(fetching_python(
            &relative,
            &bitbake::parse(&read(root, &relative)?),
        ));
    }
    if problems.is_empty() {
        eprintln!("{LAYER}: nothing at parse time needs the network");
        Ok(())
    } else {
        Err(problems.join("\n  "))
    }
}

/// With a `${AUTOREV}` default, every version-control entry of the expanded `SRC_URI` must be
/// `protocol=file`. `files`: the recipe first, then what it requires.
pub fn network_problems(files: &[(String, bitbake::File)]) -> Vec<String> {
    let vars = bitbake::values(files.iter().map(|(_, f)| f));
    let autorev: Vec<String> = files
        .iter()
        .flat_map(|(name, f)| f.assignments.iter().map(move |a| (name, a)))
        .filter(|(_, a)| a.name.starts_with("SRCREV") && a.value.contains("AUTOREV"))
        .map(|(name, a)| format!("{name}:{}", a.line))
        .collect();
    let Some(src_uri) = vars.get("SRC_URI") else {
        return vec![format!("{}: no SRC_URI", files[0].0)];
    };
    if autorev.is_empty() {
        return Vec::new();
    }
    let mut problems = Vec::new();
    for entry in bitbake::words(&bitbake::expand(src_uri, &vars)) {
        let Some(uri) = Uri::parse(&entry) else {
            continue;
        };
        if !VERSION_CONTROL.contains(&uri.scheme.as_str()) {
            continue;
        }
        match uri.param("protocol") {
            Some("file") if uri.scheme.starts_with("git") => {}
            protocol => problems.push(format!(
                "SRCREV is ${{AUTOREV}} ({}) over {entry}: bitbake asks {} for its head while \
                 parsing (protocol={}); default to a local repository (protocol=file) or pin SRCREV",
                autorev.join(", "),
                uri.scheme,
                protocol.unwrap_or("(none: git's default, the network)")
            )),
        }
    }
    problems
}

/// The `${@...}` expressions and anonymous python of `file` that name a fetching word.
pub fn fetching_python(name: &str, file: &bitbake::File) -> Vec<String> {
    let mut problems = Vec::new();
    let mut judge = |line: usize, what: &str, code: &str| {
        if let Some(word) = FETCHING.iter().find(|w| code.contains(**w)) {
            problems.push(format!(
                "{name}:{line}: {what} uses `{word}`, which runs while bitbake parses: {}",
                code.trim()
            ));
        }
    };
    for a in &file.assignments {
        for code in bitbake::inline_python(&a.value) {
            judge(a.line, &format!("{} = ${{@...}}", a.name), &code);
        }
    }
    for f in &file.functions {
        let anonymous = f.python && (f.name.is_empty() || f.name == "__anonymous");
        for (line, text) in &f.body {
            if anonymous {
                judge(*line, "anonymous python", text);
            }
            for code in bitbake::inline_python(text) {
                judge(*line, &format!("{} ${{@...}}", f.name), &code);
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECIPE_TEXT: &str = r#"CAMD_SRC_DIR ?= "${@os.path.join(d.getVar('FILE_DIRNAME'), '../..')}"
CAMD_GIT_URI ?= "git://${CAMD_SRC_DIR};protocol=file;branch=main"
SRC_URI = "${CAMD_GIT_URI};destsuffix=${BP}"
SRCREV ?= "${AUTOREV}"
require ${BPN}-crates.inc

do_install() {
    install -d ${D}${bindir}
    # not this: ${S}/commented/out
    sed -e 's,x,y,' \
        ${S}/systemd/camd.service > ${D}${systemd_system_unitdir}/camd.service
    install -m 0644 ${S}/ring/python/camd_ring/*.py ${D}${PYTHON_SITEPACKAGES_DIR}/camd_ring/
    install -m 0644 "${S}/ring/include/camd_ring.h" ${D}${includedir}/
}
"#;

    const CRATES_INC: &str = "SRC_URI += \" \\\n    crate://crates.io/libc/0.2.1 \\\n\"\n";

    fn files(recipe: &str) -> Vec<(String, bitbake::File)> {
        vec![
            ("camd_git.bb".into(), bitbake::parse(recipe)),
            ("camd-crates.inc".into(), bitbake::parse(CRATES_INC)),
        ]
    }

    #[test]
    fn finds_the_install_paths() {
        let paths = install_paths(&bitbake::parse(RECIPE_TEXT));
        assert_eq!(
            paths,
            [
                (11, "systemd/camd.service".to_owned()),
                (12, "ring/python/camd_ring/*.py".to_owned()),
                (13, "ring/include/camd_ring.h".to_owned()),
            ]
        );
    }

    #[test]
    fn names_an_install_file_git_does_not_have() {
        let recipe = bitbake::parse(RECIPE_TEXT);
        let mut tracked: Vec<String> = [
            "systemd/camd.service",
            "ring/python/camd_ring/__init__.py",
            "ring/include/camd_ring.h",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            missing_install_files(&recipe, &tracked),
            Vec::<String>::new()
        );
        tracked.remove(1);
        tracked.push("ring/python/camd_ring/sub/deeper.py".into());
        assert_eq!(
            missing_install_files(&recipe, &tracked),
            [format!(
                "{RECIPE}:12: do_install names ${{S}}/ring/python/camd_ring/*.py, which git does not check out"
            )]
        );
        let none = bitbake::parse("do_install() {\n    true\n}\nS = \"${WORKDIR}/x\"\n");
        let problems = missing_install_files(&none, &tracked);
        assert!(problems[0].contains("no ${S}/ path"), "{problems:?}");
        assert!(problems[1].contains("S is set"), "{problems:?}");
    }

    #[test]
    fn globs_stay_within_a_path_part() {
        assert!(glob_match("a/*.py", "a/b.py"));
        assert!(glob_match("a/?.py", "a/b.py"));
        assert!(!glob_match("a/*.py", "a/b/c.py"));
        assert!(!glob_match("a/*.py", "a/b.pyc"));
        assert!(glob_match("a/b", "a/b"));
    }

    #[test]
    fn autorev_over_a_local_repository_needs_no_network() {
        assert_eq!(network_problems(&files(RECIPE_TEXT)), Vec::<String>::new());
    }

    #[test]
    fn autorev_over_a_remote_repository_is_named() {
        let remote = RECIPE_TEXT.replace(
            "git://${CAMD_SRC_DIR};protocol=file",
            "git://git.example.com/camd.git;protocol=https",
        );
        let problems = network_problems(&files(&remote));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("SRCREV is ${AUTOREV} (camd_git.bb:4) over git://git.example.com/camd.git;protocol=https;branch=main;destsuffix=${BP}"),
            "{problems:?}"
        );
        let no_protocol = RECIPE_TEXT.replace(";protocol=file", "");
        let problems = network_problems(&files(&no_protocol));
        assert!(problems[0].contains("protocol=(none"), "{problems:?}");
        let pinned = remote.replace("${AUTOREV}", "0123456789abcdef0123456789abcdef01234567");
        assert_eq!(network_problems(&files(&pinned)), Vec::<String>::new());
    }

    #[test]
    fn python_that_fetches_at_parse_time_is_named() {
        assert_eq!(
            fetching_python("camd_git.bb", &bitbake::parse(RECIPE_TEXT)),
            Vec::<String>::new()
        );
        let fetching =
            "PV = \"${@bb.fetch2.get_srcrev(d)}\"\npython () {\n    import urllib.request\n}\n";
        let problems = fetching_python("x.bb", &bitbake::parse(fetching));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("x.bb:1: PV = ${@...} uses `bb.fetch`"),
            "{problems:?}"
        );
        assert!(
            problems[1].starts_with("x.bb:3: anonymous python uses `urllib`"),
            "{problems:?}"
        );
    }
}
