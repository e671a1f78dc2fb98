//! The structure, checked by unit tests (rust-analyzer's tidy is the model):
//! - the crate graph: the `camd` package, the supervisor that runs for months, has no GStreamer
//!   or GLib crate anywhere in its normal dependency tree; only `camd-worker` has them;
//! - every Rust source says what it is for in a `//!` module doc before any code;
//! - every module of the product's crates, the chores and the test support has a row in the
//!   table of its crate's section of `docs/ARCHITECTURE.md`, so the code map cannot drift.

#[cfg(test)]
mod tests {
    use crate::process::{cargo, root, rust_sources};
    use std::path::Path;

    /// Each documented directory and the heading of its section in ARCHITECTURE.md (the
    /// heading names the directory in backticks).
    const SECTIONS: &[&str] = &[
        "src/",
        "worker/src/",
        "ring/src/",
        "xtask/src/",
        "tests/support/",
        "ring/tests/common/",
    ];

    /// Files that are a crate's root or a module's tests: they need a `//!`, not a row.
    fn needs_row(file: &Path) -> bool {
        let stem = file.file_stem().unwrap().to_string_lossy();
        !matches!(stem.as_ref(), "main" | "lib" | "mod" | "tests") && !stem.ends_with("_tests")
    }

    /// The table rows of each section: the lines starting with `|` under a heading that names
    /// the section's directory, up to the next heading of the same or a higher level.
    fn section_rows(doc: &str, dir: &str) -> Vec<String> {
        let marker = format!("`{}`", dir.trim_end_matches('/'));
        let marker_slash = format!("`{dir}`");
        let mut rows = Vec::new();
        let mut level = None;
        for line in doc.lines() {
            if line.starts_with('#') {
                let this = line.chars().take_while(|c| *c == '#').count();
                if line.contains(&marker) || line.contains(&marker_slash) {
                    level = Some(this);
                    continue;
                }
                if level.is_some_and(|l| this <= l) {
                    level = None;
                }
            } else if level.is_some() && line.starts_with('|') {
                rows.push(line.to_owned());
            }
        }
        rows
    }

    /// The problems of `files` against `doc`: a source without `//!` first, a module without a
    /// row in its section.
    fn architecture_problems(doc: &str, files: &[(String, String)]) -> Vec<String> {
        let mut problems = Vec::new();
        for (file, text) in files {
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            if !first.starts_with("//!") {
                problems.push(format!("{file}: no `//!` module doc before the code"));
            }
            let Some(dir) = SECTIONS
                .iter()
                .filter(|d| file.starts_with(*d))
                .max_by_key(|d| d.len())
            else {
                continue;
            };
            let path = Path::new(file);
            if !needs_row(path) {
                continue;
            }
            let inner = path.strip_prefix(dir).unwrap().with_extension("");
            let parts: Vec<String> = inner
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let stem = parts.last().unwrap();
            let mut names = vec![format!("`{stem}`"), format!("`{}`", parts.join("::"))];
            if parts.len() > 1 {
                names.push(format!("`{}::{stem}`", parts[parts.len() - 2]));
            }
            let rows = section_rows(doc, dir);
            if !rows
                .iter()
                .any(|r| names.iter().any(|n| r.contains(n.as_str())))
            {
                problems.push(format!(
                    "{file}: module {} has no row in the `{dir}` section of docs/ARCHITECTURE.md",
                    names[1]
                ));
            }
        }
        problems
    }

    #[test]
    fn every_source_has_a_module_doc_and_every_module_a_row() {
        let root = root();
        let doc = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap();
        let files: Vec<(String, String)> = rust_sources()
            .into_iter()
            .map(|f| {
                let text = std::fs::read_to_string(root.join(&f)).unwrap();
                (f.to_string_lossy().into_owned(), text)
            })
            .collect();
        assert!(files.len() > 80, "too few sources: {}", files.len());
        let problems = architecture_problems(&doc, &files);
        assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    }

    #[test]
    fn a_module_without_a_row_or_a_doc_is_named() {
        let doc = "## The daemon (`src/`)\n\n| module | owns |\n|---|---|\n\
                   | `clock` | time |\n| `supervisor` | `plan` (pure) |\n\n## Chores (`xtask/src`)\n\
                   | `test` | steps |\n";
        let file = |name: &str, text: &str| (name.to_owned(), text.to_owned());
        let files = [
            file("src/clock.rs", "//! Time.\n"),
            file("src/supervisor/plan.rs", "//! Plans.\n"),
            file("src/fresh.rs", "//! New.\n"),
            file("src/config/tests.rs", "use super::*;\n"),
            file("xtask/src/test.rs", "//! Steps.\n"),
            file("xtask/src/clock.rs", "//! Not the daemon's.\n"),
        ];
        assert_eq!(
            architecture_problems(doc, &files),
            [
                "src/fresh.rs: module `fresh` has no row in the `src/` section of docs/ARCHITECTURE.md",
                "src/config/tests.rs: no `//!` module doc before the code",
                "xtask/src/clock.rs: module `clock` has no row in the `xtask/src/` section of docs/ARCHITECTURE.md",
            ]
        );
    }

    /// The crates of `package`'s normal dependency tree, one name per line.
    fn normal_tree(package: &str) -> Vec<String> {
        let out = cargo()
            .args([
                "tree",
                "--locked",
                "--offline",
                "-e",
                "normal",
                "--prefix",
                "none",
                "-p",
            ])
            .arg(package)
            .output()
            .expect("cargo tree");
        assert!(
            out.status.success(),
            "cargo tree -p {package}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .collect()
    }

    fn gstreamer_crates(tree: &[String]) -> Vec<&String> {
        tree.iter()
            .filter(|c| {
                c.starts_with("gstreamer") || c.starts_with("glib") || c.starts_with("gobject")
            })
            .collect()
    }

    #[test]
    fn camd_has_no_gstreamer_in_its_dependency_tree() {
        let camd = normal_tree("camd");
        assert!(camd.iter().any(|c| c == "camd-ring"), "{camd:?}");
        assert_eq!(
            gstreamer_crates(&camd),
            Vec::<&String>::new(),
            "cargo tree -p camd -e normal"
        );
        let worker = normal_tree("camd-worker");
        assert!(
            !gstreamer_crates(&worker).is_empty() && worker.iter().any(|c| c == "camd"),
            "camd-worker links GStreamer and the camd crate: {worker:?}"
        );
    }
}
