//! `cargo xtask systemd-check`: the unit file and its example drop-ins.
//!
//! 1. `systemd-analyze verify` prints nothing (it exits 0 even on unknown keys, so any output
//!    fails the check). It wants every Exec binary and the units they pull in to exist, so it
//!    runs with `--root` on a stub tree under the target directory: the host's
//!    /usr/lib/systemd/system, stub /usr/bin/camd and /bin/kill, the unit with the credentials
//!    drop-in, and a stub inference service with the rings drop-in.
//! 2. `systemd-analyze security --offline=true` scores the unit at most [`MAX_EXPOSURE`].

use crate::process::{root, target_dir};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The highest exposure score accepted (systemd's scale: 0 safe to 10 unsafe).
pub const MAX_EXPOSURE: f64 = 2.0;

const UNIT: &str = "systemd/camd.service";
const CREDENTIALS_DROP_IN: &str = "systemd/examples/camd-credentials.conf";
const READER_DROP_IN: &str = "systemd/examples/inference-camd-rings.conf";

pub fn check() -> Result<(), String> {
    let root = root();
    let stub = stub_root(&root)?;
    let etc = stub.join("etc/systemd/system");
    let units = [etc.join("camd.service"), etc.join("inference.service")];
    verify(&stub, &units)?;
    let score = exposure(&root.join(UNIT))?;
    println!("{UNIT}: systemd-analyze verify: no output; security exposure {score:.1} (at most {MAX_EXPOSURE:.1})");
    if score > MAX_EXPOSURE {
        return Err(format!(
            "{UNIT}: systemd-analyze security scores it {score:.1}, above {MAX_EXPOSURE:.1}"
        ));
    }
    Ok(())
}

/// Builds the stub tree afresh; returns its path.
fn stub_root(root: &Path) -> Result<PathBuf, String> {
    let stub = target_dir().join("systemd-check/root");
    let io = |what: &str, path: &Path, e: std::io::Error| format!("{what} {}: {e}", path.display());
    if stub.exists() {
        std::fs::remove_dir_all(&stub).map_err(|e| io("cannot remove", &stub, e))?;
    }
    let system_units = Path::new("/usr/lib/systemd/system");
    if !system_units.join("multi-user.target").exists() {
        return Err(format!(
            "{} has no multi-user.target: install systemd (apt-get install systemd), which \
             systemd-analyze verify needs",
            system_units.display()
        ));
    }
    let lib = stub.join("usr/lib/systemd");
    std::fs::create_dir_all(&lib).map_err(|e| io("cannot create", &lib, e))?;
    crate::process::run(Command::new("cp").arg("-r").arg(system_units).arg(&lib))?;
    for exe in ["usr/bin/camd", "bin/kill", "usr/bin/inference"] {
        let path = stub.join(exe);
        std::fs::create_dir_all(path.parent().expect("has a parent"))
            .map_err(|e| io("cannot create", &path, e))?;
        std::fs::write(&path, "#!/bin/sh\n").map_err(|e| io("cannot write", &path, e))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| io("cannot chmod", &path, e))?;
    }
    let etc = stub.join("etc/systemd/system");
    let copies = [
        (root.join(UNIT), etc.join("camd.service")),
        (
            root.join(CREDENTIALS_DROP_IN),
            etc.join("camd.service.d/credentials.conf"),
        ),
        (
            root.join(READER_DROP_IN),
            etc.join("inference.service.d/camd-rings.conf"),
        ),
    ];
    for (from, to) in copies {
        std::fs::create_dir_all(to.parent().expect("has a parent"))
            .map_err(|e| io("cannot create", &to, e))?;
        std::fs::copy(&from, &to).map_err(|e| io("cannot copy", &from, e))?;
    }
    let inference = etc.join("inference.service");
    std::fs::write(
        &inference,
        "[Unit]\nDescription=stub inference program reading camd's rings\n\n\
         [Service]\nExecStart=/usr/bin/inference\nDynamicUser=yes\nProtectSystem=strict\n",
    )
    .map_err(|e| io("cannot write", &inference, e))?;
    Ok(stub)
}

/// `systemd-analyze verify`: fails on any output, naming what it said.
fn verify(stub: &Path, units: &[PathBuf]) -> Result<(), String> {
    let mut cmd = Command::new("systemd-analyze");
    cmd.arg("verify").arg(format!("--root={}", stub.display()));
    cmd.args(units);
    eprintln!("$ systemd-analyze verify --root={} ...", stub.display());
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run systemd-analyze (apt-get install systemd): {e}"))?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Name the repository's files, not their copies in the stub tree.
    let etc = stub.join("etc/systemd/system");
    let said = said
        .replace(
            &format!("{}/camd.service.d/credentials.conf", etc.display()),
            CREDENTIALS_DROP_IN,
        )
        .replace(
            &format!("{}/inference.service.d/camd-rings.conf", etc.display()),
            READER_DROP_IN,
        )
        .replace(&format!("{}/camd.service", etc.display()), UNIT);
    if !out.status.success() || !said.trim().is_empty() {
        return Err(format!(
            "systemd-analyze verify of {UNIT} (with {CREDENTIALS_DROP_IN}) and {READER_DROP_IN} \
             must print nothing; it said ({}):\n{}",
            out.status,
            said.trim_end()
        ));
    }
    Ok(())
}

/// The overall exposure `systemd-analyze security --offline=true` gives `unit`.
fn exposure(unit: &Path) -> Result<f64, String> {
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(unit)
        .output()
        .map_err(|e| format!("cannot run systemd-analyze security: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_exposure(&text).ok_or_else(|| {
        format!(
            "systemd-analyze security {} printed no overall exposure ({}):\n{}{}",
            unit.display(),
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `→ Overall exposure level for camd.service: 1.6 OK 🙂` -> 1.6
fn parse_exposure(text: &str) -> Option<f64> {
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))?;
    let (_, rest) = line.split_once(": ")?;
    rest.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_overall_exposure() {
        let text = "  NAME  DESCRIPTION  EXPOSURE\n✗ PrivateNetwork= ... 0.5\n\n\
                    → Overall exposure level for camd.service: 1.6 OK 🙂\n";
        assert_eq!(super::parse_exposure(text), Some(1.6));
        assert_eq!(super::parse_exposure("nothing"), None);
    }
}
