//! `cargo xtask oelint`: lints yocto/meta-camd.
//!
//! 1. oelint-adv, at the versions pinned in yocto/oelint-requirements.txt, installed into a venv
//!    under the target directory (Debian needs python3-venv), with the layer's
//!    `.oelint.cfg`, for each release the layer supports; any finding fails, except two about
//!    the layout of the generated camd-crates.inc (see `generated_layout`).
//! 2. Every `LIC_FILES_CHKSUM` md5 of the recipes against the source tree, as bitbake's
//!    license check computes it: an edit of Cargo.toml's first lines would otherwise fail
//!    only in a Yocto build.

use crate::process::{root, run, target_dir};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The layer, from the repository root.
pub const LAYER: &str = "yocto/meta-camd";
const REQUIREMENTS: &str = "yocto/oelint-requirements.txt";
/// LAYERSERIES_COMPAT of conf/layer.conf.
const RELEASES: [&str; 2] = ["scarthgap", "wrynose"];

pub fn run_lint() -> Result<(), String> {
    let root = root();
    let layer = root.join(LAYER);
    let oelint = ensure_oelint(&root)?;
    let mut files = vec![layer.join("conf/layer.conf")];
    files.extend(recipes(&layer)?);
    for release in RELEASES {
        let mut cmd = Command::new(&oelint);
        cmd.args(["--quiet", "--relpaths", "--exit-zero", "--release", release])
            .args(&files)
            .current_dir(&root)
            .env("OELINT_CONFIG", layer.join(".oelint.cfg"));
        eprintln!("$ oelint-adv --release {release} {LAYER} (config {LAYER}/.oelint.cfg)");
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run {}: {e}", oelint.display()))?;
        if !out.status.success() {
            return Err(format!(
                "oelint-adv failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let findings: Vec<&str> = said
            .lines()
            .filter(|l| !l.trim().is_empty() && !generated_layout(l))
            .collect();
        if !findings.is_empty() {
            return Err(format!(
                "oelint-adv --release {release}: {} finding(s) in {LAYER}:\n{}",
                findings.len(),
                findings.join("\n")
            ));
        }
    }
    for recipe in recipes(&layer)? {
        check_license_checksums(&root, &recipe)?;
    }
    println!(
        "{LAYER}: oelint-adv clean for {}; LIC_FILES_CHKSUM matches",
        RELEASES.join(" and ")
    );
    Ok(())
}

/// Findings about the layout oe-core's class gives camd-crates.inc (`SRC_URI += " \`): the file
/// must stay exactly what `bitbake -c update_crates` writes, so these two are not ours to fix.
fn generated_layout(finding: &str) -> bool {
    finding.contains("camd-crates.inc:")
        && (finding.contains(":oelint.vars.inconspaces:")
            || finding.contains(":oelint.vars.notneededspace:"))
}

/// The recipes and appends of the layer, sorted.
fn recipes(layer: &Path) -> Result<Vec<PathBuf>, String> {
    crate::bitbake::layer_files(layer, &["bb", "bbappend"])
}

/// The venv's oelint-adv, installed from the pinned requirements when they changed.
fn ensure_oelint(root: &Path) -> Result<PathBuf, String> {
    let venv = target_dir().join("oelint-venv");
    let bin = venv.join("bin/oelint-adv");
    let requirements = root.join(REQUIREMENTS);
    let wanted = std::fs::read_to_string(&requirements)
        .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    let stamp = venv.join("installed-requirements.txt");
    if bin.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&wanted) {
        return Ok(bin);
    }
    let python = std::env::var("PYTHON3").unwrap_or_else(|_| "python3".into());
    run(Command::new(&python)
        .args(["-m", "venv", "--clear"])
        .arg(&venv))
    .map_err(|e| {
        format!(
            "{e}: cannot make a Python venv for oelint-adv (Debian: apt-get install python3-venv)"
        )
    })?;
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements))
    .map_err(|e| format!("{e}: cannot install oelint-adv from {REQUIREMENTS}"))?;
    std::fs::write(&stamp, wanted).map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    Ok(bin)
}

/// Checks each `file://NAME;beginline=A;endline=B;md5=M` of `recipe`'s LIC_FILES_CHKSUM.
fn check_license_checksums(root: &Path, recipe: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(recipe)
        .map_err(|e| format!("cannot read {}: {e}", recipe.display()))?;
    let shown = recipe.strip_prefix(root).unwrap_or(recipe).display();
    for entry in license_entries(&text) {
        let file = root.join(&entry.file);
        let bytes = std::fs::read(&file)
            .map_err(|e| format!("{shown}: LIC_FILES_CHKSUM: {}: {e}", entry.file))?;
        let selected = select_lines(&bytes, entry.begin, entry.end);
        let actual = md5(&selected)?;
        if actual != entry.md5 {
            return Err(format!(
                "{shown}: LIC_FILES_CHKSUM: md5 of {} lines {}-{} is {actual}, the recipe says {} \
                 (did the license line move? update beginline/endline or the md5)",
                entry.file,
                entry.begin.map_or("1".into(), |b| b.to_string()),
                entry.end.map_or("end".into(), |e| e.to_string()),
                entry.md5
            ));
        }
    }
    Ok(())
}

#[derive(Debug, PartialEq)]
struct LicenseEntry {
    file: String,
    begin: Option<usize>,
    end: Option<usize>,
    md5: String,
}

/// The `file://` entries of LIC_FILES_CHKSUM (one assignment, possibly continued with `\`).
fn license_entries(recipe: &str) -> Vec<LicenseEntry> {
    let Some(start) = recipe.find("LIC_FILES_CHKSUM") else {
        return Vec::new();
    };
    let rest = &recipe[start..];
    let Some(open) = rest.find('"') else {
        return Vec::new();
    };
    let value = &rest[open + 1..];
    let value = &value[..value.find('"').unwrap_or(value.len())];
    value
        .split_whitespace()
        .filter_map(|item| item.strip_prefix("file://"))
        .map(|item| {
            let mut parts = item.split(';');
            let file = parts.next().unwrap_or_default().to_owned();
            let mut entry = LicenseEntry {
                file,
                begin: None,
                end: None,
                md5: String::new(),
            };
            for part in parts {
                match part.split_once('=') {
                    Some(("beginline", n)) => entry.begin = n.parse().ok(),
                    Some(("endline", n)) => entry.end = n.parse().ok(),
                    Some(("md5", m)) => entry.md5 = m.to_owned(),
                    _ => {}
                }
            }
            entry
        })
        .collect()
}

/// Lines `begin..=end` (1-based, with their line ends) as bitbake's license check reads them.
fn select_lines(bytes: &[u8], begin: Option<usize>, end: Option<usize>) -> Vec<u8> {
    if begin.is_none() && end.is_none() {
        return bytes.to_vec();
    }
    let (begin, end) = (begin.unwrap_or(0), end.unwrap_or(usize::MAX));
    bytes
        .split_inclusive(|&b| b == b'\n')
        .enumerate()
        .filter(|(i, _)| (begin..=end).contains(&(i + 1)))
        .flat_map(|(_, line)| line.iter().copied())
        .collect()
}

/// md5 through coreutils' md5sum (xtask has no dependencies).
fn md5(bytes: &[u8]) -> Result<String, String> {
    use std::io::Write;
    let mut child = Command::new("md5sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run md5sum: {e}"))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(bytes)
        .map_err(|e| format!("md5sum: {e}"))?;
    let out = child
        .wait_with_output()
        .map_err(|e| format!("md5sum: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .next()
        .map(str::to_owned)
        .ok_or_else(|| "md5sum printed nothing".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_license_entries() {
        let recipe = "LICENSE = \"MIT\"\nLIC_FILES_CHKSUM = \"file://Cargo.toml;beginline=7;endline=7;md5=abc \\\n    file://COPYING;md5=def\"\n";
        assert_eq!(
            license_entries(recipe),
            [
                LicenseEntry {
                    file: "Cargo.toml".into(),
                    begin: Some(7),
                    end: Some(7),
                    md5: "abc".into()
                },
                LicenseEntry {
                    file: "COPYING".into(),
                    begin: None,
                    end: None,
                    md5: "def".into()
                },
            ]
        );
    }

    #[test]
    fn selects_lines_like_bitbake() {
        let text = b"one\ntwo\nthree\n";
        assert_eq!(select_lines(text, Some(2), Some(2)), b"two\n");
        assert_eq!(select_lines(text, Some(2), None), b"two\nthree\n");
        assert_eq!(select_lines(text, None, None), text);
        assert_eq!(
            md5(b"license = \"MIT OR Apache-2.0\"\n").unwrap(),
            "86b31c7756a1a7962f28b62856ed4f05"
        );
    }
}
