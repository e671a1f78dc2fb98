//! `camd check-config` over a corpus of bad configs (tests/configs/bad): each file lists, in
//! `# expect:` comments, the start of every problem line the check must print, in order, and
//! nothing more. The shipped example config must pass.

use std::path::Path;
use std::process::Command;

const CAMD: &str = env!("CARGO_BIN_EXE_camd");

#[test]
fn every_bad_config_gets_exactly_its_expected_problems() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs/bad");
    let mut files: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| f.ends_with(".toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 9, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(corpus.join(&file)).unwrap();
        let expected: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .collect();
        assert!(!expected.is_empty(), "{file} has no expectations");
        let out = Command::new(CAMD)
            .args(["check-config", &file])
            .current_dir(&corpus)
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{file}:\n{stderr}");
        let problems: Vec<&str> = stderr.lines().filter(|l| l.starts_with(&file)).collect();
        assert_eq!(
            problems.len(),
            expected.len(),
            "{file}: expected {expected:#?}\ngot:\n{stderr}"
        );
        for (got, want) in problems.iter().zip(&expected) {
            assert!(
                got.starts_with(want),
                "{file}: expected a line starting\n  {want}\ngot\n  {got}"
            );
        }
        let summary = format!("{} problem", expected.len());
        assert!(
            stderr.contains(&summary),
            "{file}: no summary line:\n{stderr}"
        );
        assert!(
            !stderr.contains("hunter2"),
            "{file}: a password in a message"
        );
    }
}

#[test]
fn the_example_config_passes() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/camd.toml");
    let out = Command::new(CAMD)
        .arg("check-config")
        .arg(&example)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(": ok ("));
}

#[test]
fn every_key_is_documented_in_the_reference_and_the_example() {
    use camd::config::{camera_keys::SETTING_KEYS, CAMERA_OWN_KEYS, DAEMON_KEYS};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reference = std::fs::read_to_string(root.join("docs/configuration.md")).unwrap();
    let example = std::fs::read_to_string(root.join("systemd/camd.toml")).unwrap();
    for key in DAEMON_KEYS
        .iter()
        .chain(CAMERA_OWN_KEYS)
        .chain(SETTING_KEYS)
    {
        assert!(
            reference.contains(&format!("`{key}`")),
            "docs/configuration.md lacks {key}"
        );
        // Set or shown commented out, at the start of a line: `key = ...` or `#key = ...`.
        let shown = example.lines().any(|l| {
            l.trim_start_matches('#').starts_with(&format!("{key} = "))
                || (*key == "defaults" && l == "[daemon.defaults]")
        });
        assert!(shown, "systemd/camd.toml does not show {key}");
    }
}
