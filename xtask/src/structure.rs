//! The invariants the crate graph carries, checked by unit tests (rust-analyzer's tidy is the
//! model): the `camd` package, the supervisor that runs for months, has no GStreamer or GLib
//! crate anywhere in its normal dependency tree; only `camd-worker` has them.

#[cfg(test)]
mod tests {
    use crate::process::cargo;

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
