//! `cargo xtask yocto-crates [--check]`: the Yocto recipe's crate list, `camd-crates.inc`.
//!
//! It is what `bitbake -c update_crates camd` writes (oe-core's
//! `cargo-update-recipe-crates.bbclass`, the same text in scarthgap and wrynose): for every
//! `Cargo.lock` in the source tree the recipe checks out, a `# from PATH` line, one
//! `crate://crates.io/NAME/VERSION` SRC_URI entry per crates.io package in the lock's order, then
//! one `SRC_URI[NAME-VERSION.sha256sum]` per package with a checksum. The recipe builds
//! `--frozen` and offline, so a crate missing here fails the Yocto build; `--check` fails, naming
//! the crate, when the committed file differs from the lock files.
//!
//! Which lock files: the class walks `S`, a git checkout, so only files git would check out
//! count (`git ls-files`, untracked but not ignored files included; outside a git checkout, a
//! walk that skips build output and the anchored entries of .gitignore). `ring/fuzz/Cargo.lock`
//! is ignored on purpose (libfuzzer-sys has no place in the recipe), so it is not in the list.

use crate::process::root;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The file the recipe `require`s, relative to the workspace root.
pub const CRATES_INC: &str = "yocto/meta-camd/recipes-multimedia/camd/camd-crates.inc";
/// The recipe's name (`${PN}` in the class's first line).
const RECIPE: &str = "camd";

/// One `[[package]]` of a Cargo.lock; only the keys the class reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPackage {
    pub name: String,
    pub version: String,
    pub source: Option<String>,
    pub checksum: Option<String>,
}

pub fn crates(check: bool) -> Result<(), String> {
    let root = root();
    let locks = lock_files(&root)?;
    let mut parsed = Vec::new();
    for relative in &locks {
        let path = root.join(relative);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let packages = parse_lock(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        parsed.push((relative.clone(), packages));
    }
    let expected = render(RECIPE, &parsed);
    let inc = root.join(CRATES_INC);
    if check {
        let current = std::fs::read_to_string(&inc).map_err(|e| {
            format!(
                "cannot read {}: {e} (write it with `cargo xtask yocto-crates`)",
                inc.display()
            )
        })?;
        compare(&current, &expected).map_err(|problems| {
            format!(
                "{CRATES_INC} is out of date with {}:\n  {}\nrun `cargo xtask yocto-crates` and commit the result",
                locks.join(", "),
                problems.join("\n  ")
            )
        })?;
        let count = parsed.iter().map(|(_, p)| p.len()).sum::<usize>();
        eprintln!(
            "{CRATES_INC}: up to date ({count} packages in {})",
            locks.join(", ")
        );
    } else {
        std::fs::write(&inc, expected)
            .map_err(|e| format!("cannot write {}: {e}", inc.display()))?;
        eprintln!("wrote {CRATES_INC} from {}", locks.join(", "));
    }
    Ok(())
}

/// The Cargo.lock files of the tree, relative to `root` with `/` separators, in the order of
/// the class's top-down `os.walk` (a directory's files before its subdirectories).
fn lock_files(root: &Path) -> Result<Vec<String>, String> {
    let mut files = match git_lock_files(root) {
        Some(files) => files,
        None => {
            eprintln!("{}: not a git checkout; walking it instead", root.display());
            let ignored = ignored_paths(root);
            let mut files = Vec::new();
            walk(root, "", &ignored, &mut files)?;
            files
        }
    };
    files.sort_by_key(|p| walk_order_key(p));
    files.dedup();
    if files.is_empty() {
        return Err(format!("no Cargo.lock under {}", root.display()));
    }
    Ok(files)
}

/// What `git ls-files` lists (tracked, or untracked but not ignored); None without git.
fn git_lock_files(root: &Path) -> Option<Vec<String>> {
    let out = Command::new("git")
        .current_dir(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
        ])
        .arg(":(glob)**/Cargo.lock")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let listed = String::from_utf8_lossy(&out.stdout);
    Some(
        listed
            .split('\0')
            .filter(|p| !p.is_empty() && root.join(p).is_file())
            .map(str::to_owned)
            .collect(),
    )
}

/// The anchored, wildcard-free entries of the top .gitignore (`/ring/fuzz/Cargo.lock`): what
/// a git checkout would not contain, for trees that are not one.
fn ignored_paths(root: &Path) -> Vec<String> {
    std::fs::read_to_string(root.join(".gitignore"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().strip_prefix('/'))
        .filter(|l| !l.contains(['*', '?', '[', '!']))
        .map(|l| l.trim_end_matches('/').to_owned())
        .collect()
}

/// The class's walk: every Cargo.lock, skipping .git and .pc, and (not being in a checkout)
/// ignored paths and build output.
fn walk(root: &Path, dir: &str, ignored: &[String], found: &mut Vec<String>) -> Result<(), String> {
    let path = root.join(dir);
    let entries =
        std::fs::read_dir(&path).map_err(|e| format!("cannot list {}: {e}", path.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", path.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = if dir.is_empty() {
            name.clone()
        } else {
            format!("{dir}/{name}")
        };
        if matches!(name.as_str(), ".git" | ".pc" | "target") || ignored.contains(&relative) {
            continue;
        }
        if entry.path().is_dir() {
            walk(root, &relative, ignored, found)?;
        } else if name == "Cargo.lock" {
            found.push(relative);
        }
    }
    Ok(())
}

/// `a/b/Cargo.lock` -> ["a", "b"]: comparing these visits files of a directory first, then its
/// subdirectories in name order, as a sorted top-down walk does.
fn walk_order_key(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = path.split('/').map(str::to_owned).collect();
    parts.pop();
    parts
}

/// Parses the `[[package]]` tables of a Cargo.lock (formats 1 to 4): `name`, `version`,
/// `source`, `checksum`. Other keys, arrays and tables are skipped.
pub fn parse_lock(text: &str) -> Result<Vec<LockedPackage>, String> {
    let mut packages = Vec::new();
    let mut current: Option<BTreeMap<String, String>> = None;
    let mut in_array = false;
    let finish = |table: Option<BTreeMap<String, String>>,
                  line: usize,
                  packages: &mut Vec<LockedPackage>|
     -> Result<(), String> {
        if let Some(mut keys) = table {
            let mut take = |key: &str| keys.remove(key);
            let name =
                take("name").ok_or(format!("the [[package]] ending at line {line} has no name"))?;
            let version = take("version").ok_or(format!(
                "package {name:?} (before line {line}) has no version"
            ))?;
            packages.push(LockedPackage {
                name,
                version,
                source: take("source"),
                checksum: take("checksum"),
            });
        }
        Ok(())
    };
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if in_array {
            in_array = !line.ends_with(']');
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            finish(current.take(), number, &mut packages)?;
            if line == "[[package]]" {
                current = Some(BTreeMap::new());
            }
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {number}: expected `key = value`: {line}"));
        };
        let (key, value) = (key.trim(), value.trim());
        if value.starts_with('[') {
            in_array = !value.ends_with(']');
            continue;
        }
        if let Some(table) = current.as_mut() {
            let text = unquote(value).ok_or(format!(
                "line {number}: {key}: expected a quoted string, found {value}"
            ))?;
            table.insert(key.to_owned(), text);
        }
    }
    finish(current, text.lines().count(), &mut packages)?;
    Ok(packages)
}

/// `"text"` -> `text`, with the escapes a Cargo.lock can hold (`\"`, `\\`).
fn unquote(value: &str) -> Option<String> {
    let inner = value.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(chars.next()?);
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// The text the class writes: `get_crates` for each lock file, after the header line.
pub fn render(recipe: &str, locks: &[(String, Vec<LockedPackage>)]) -> String {
    let mut out = format!("# Autogenerated with 'bitbake -c update_crates {recipe}'\n\n");
    for (path, packages) in locks {
        let from_crates_io: Vec<&LockedPackage> = packages
            .iter()
            .filter(|p| p.source.as_deref().unwrap_or("").contains("crates.io"))
            .collect();
        if from_crates_io.is_empty() {
            // The class prints a warning and skips the file.
            continue;
        }
        out.push_str(&format!("# from {path}\nSRC_URI += \" \\"));
        let mut checksums = String::new();
        for p in &from_crates_io {
            out.push_str(&format!(
                "\n    crate://crates.io/{}/{} \\",
                p.name, p.version
            ));
            if let Some(sum) = &p.checksum {
                checksums.push_str(&format!(
                    "\nSRC_URI[{}-{}.sha256sum] = \"{sum}\"",
                    p.name, p.version
                ));
            }
        }
        out.push_str("\n\"\n");
        out.push_str(&checksums);
        out.push('\n');
    }
    out
}

/// What a crates .inc lists: crate name -> version -> checksum (None: no SRC_URI[] line).
type Listed = BTreeMap<String, BTreeMap<String, Option<String>>>;

/// Reads back the crate entries and checksums of a crates .inc.
fn listed(text: &str) -> Listed {
    let mut crates: Listed = BTreeMap::new();
    let mut sums = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("crate://crates.io/") {
            let rest = rest.trim_end_matches('\\').trim();
            if let Some((name, version)) = rest.split_once('/') {
                crates
                    .entry(name.to_owned())
                    .or_default()
                    .insert(version.to_owned(), None);
            }
        } else if let Some(rest) = line.strip_prefix("SRC_URI[") {
            if let Some((key, value)) = rest.split_once(".sha256sum] = ") {
                sums.insert(key.to_owned(), value.trim_matches('"').to_owned());
            }
        }
    }
    for (name, versions) in crates.iter_mut() {
        for (version, sum) in versions.iter_mut() {
            *sum = sums.remove(&format!("{name}-{version}"));
        }
    }
    crates
}

/// Ok when `current` is exactly `expected`; else every difference, naming the crate.
pub fn compare(current: &str, expected: &str) -> Result<(), Vec<String>> {
    if current == expected {
        return Ok(());
    }
    let (have, want) = (listed(current), listed(expected));
    let mut problems = Vec::new();
    let names: std::collections::BTreeSet<&String> = have.keys().chain(want.keys()).collect();
    for name in names {
        let (h, w) = (have.get(name), want.get(name));
        match (h, w) {
            (None, Some(w)) => problems.push(format!(
                "crate {name} {} is in Cargo.lock but missing",
                versions(w)
            )),
            (Some(h), None) => problems.push(format!(
                "crate {name} {} is listed but no Cargo.lock has it",
                versions(h)
            )),
            (Some(h), Some(w)) if h.keys().ne(w.keys()) => problems.push(format!(
                "crate {name}: version {} listed, Cargo.lock has {}",
                versions(h),
                versions(w)
            )),
            (Some(h), Some(w)) => {
                for (version, sum) in w {
                    let listed_sum = &h[version];
                    if listed_sum != sum {
                        problems.push(format!(
                            "crate {name} {version}: sha256sum {} listed, Cargo.lock has {}",
                            listed_sum.as_deref().unwrap_or("(none)"),
                            sum.as_deref().unwrap_or("(none)")
                        ));
                    }
                }
            }
            (None, None) => {}
        }
    }
    if problems.is_empty() {
        problems.push("the crates match but the text differs (order, comments or layout)".into());
    }
    Err(problems)
}

fn versions(v: &BTreeMap<String, Option<String>>) -> String {
    v.keys().cloned().collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 3

[[package]]
name = "aho-corasick"
version = "1.1.5"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "c982642fa9e8606056828ee9a8505737230110bb1099153c79efe865c59d12ba"
dependencies = [
 "memchr",
]

[[package]]
name = "camd"
version = "0.1.0"
dependencies = ["aho-corasick", "memchr"]

[[package]]
name = "memchr"
version = "2.7.4"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "78ca9ab1a0babb1e7d5695e3530886289c18cf2f87ec19a2d0a6e5c6c2d4d5bb"

[[package]]
name = "patched"
version = "0.1.0"
source = "git+https://example.com/patched.git#0123456789"
"#;

    fn sample() -> Vec<(String, Vec<LockedPackage>)> {
        vec![("Cargo.lock".into(), parse_lock(LOCK).unwrap())]
    }

    #[test]
    fn parses_packages_and_skips_arrays() {
        let packages = parse_lock(LOCK).unwrap();
        let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["aho-corasick", "camd", "memchr", "patched"]);
        assert_eq!(packages[0].version, "1.1.5");
        assert!(packages[0]
            .checksum
            .as_deref()
            .unwrap()
            .starts_with("c98264"));
        assert_eq!(packages[1].source, None);
        assert_eq!(packages[1].checksum, None);
    }

    #[test]
    fn a_package_without_a_version_is_an_error() {
        let err = parse_lock("[[package]]\nname = \"x\"\n").unwrap_err();
        assert!(err.contains("\"x\"") && err.contains("no version"), "{err}");
        let err = parse_lock("[[package]]\nname = x\n").unwrap_err();
        assert!(err.contains("line 2") && err.contains("name"), "{err}");
    }

    #[test]
    fn renders_what_the_class_writes() {
        let text = render("camd", &sample());
        assert_eq!(
            text,
            "# Autogenerated with 'bitbake -c update_crates camd'\n\n\
             # from Cargo.lock\n\
             SRC_URI += \" \\\n    crate://crates.io/aho-corasick/1.1.5 \\\n    crate://crates.io/memchr/2.7.4 \\\n\"\n\n\
             SRC_URI[aho-corasick-1.1.5.sha256sum] = \"c982642fa9e8606056828ee9a8505737230110bb1099153c79efe865c59d12ba\"\n\
             SRC_URI[memchr-2.7.4.sha256sum] = \"78ca9ab1a0babb1e7d5695e3530886289c18cf2f87ec19a2d0a6e5c6c2d4d5bb\"\n"
        );
    }

    #[test]
    fn walk_order_puts_a_directorys_files_before_its_subdirectories() {
        let mut files = vec![
            "z/Cargo.lock",
            "a/b/Cargo.lock",
            "Cargo.lock",
            "a/Cargo.lock",
        ];
        files.sort_by_key(|p| walk_order_key(p));
        assert_eq!(
            files,
            [
                "Cargo.lock",
                "a/Cargo.lock",
                "a/b/Cargo.lock",
                "z/Cargo.lock"
            ]
        );
    }

    #[test]
    fn check_passes_on_the_same_text() {
        let text = render("camd", &sample());
        assert_eq!(compare(&text, &text), Ok(()));
    }

    #[test]
    fn check_names_a_changed_checksum() {
        let good = render("camd", &sample());
        let bad = good.replace("78ca9ab1", "00000000");
        let problems = compare(&bad, &good).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("crate memchr 2.7.4: sha256sum 00000000"),
            "{problems:?}"
        );
    }

    #[test]
    fn check_names_a_changed_version() {
        let good = render("camd", &sample());
        let mut locks = sample();
        locks[0].1[2].version = "2.7.5".into();
        let newer = render("camd", &locks);
        let problems = compare(&good, &newer).unwrap_err();
        assert_eq!(
            problems,
            ["crate memchr: version 2.7.4 listed, Cargo.lock has 2.7.5"]
        );
    }

    #[test]
    fn check_names_a_missing_and_an_extra_crate() {
        let good = render("camd", &sample());
        let mut locks = sample();
        locks[0].1.remove(0);
        let fewer = render("camd", &locks);
        let problems = compare(&fewer, &good).unwrap_err();
        assert_eq!(
            problems,
            ["crate aho-corasick 1.1.5 is in Cargo.lock but missing"]
        );
        let problems = compare(&good, &fewer).unwrap_err();
        assert_eq!(
            problems,
            ["crate aho-corasick 1.1.5 is listed but no Cargo.lock has it"]
        );
    }

    #[test]
    fn check_catches_a_missing_checksum_line_and_layout_changes() {
        let good = render("camd", &sample());
        let no_sum: String = good
            .lines()
            .filter(|l| !l.starts_with("SRC_URI[memchr"))
            .map(|l| format!("{l}\n"))
            .collect();
        let problems = compare(&no_sum, &good).unwrap_err();
        assert!(
            problems[0].contains("memchr 2.7.4: sha256sum (none) listed"),
            "{problems:?}"
        );
        let problems = compare(&good.replace("    crate", "  crate"), &good).unwrap_err();
        assert!(problems[0].contains("text differs"), "{problems:?}");
    }
}
