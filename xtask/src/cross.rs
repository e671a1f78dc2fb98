//! `cargo xtask cross --target T [--test]`: the workspace cross-built in release for an ARM
//! board, against a Debian sysroot (sysroot.rs), with the Rust standard library from rustup;
//! with `--test`, the ring's tests and a capture smoke test run under qemu-user (qemu.rs).
//!
//! Host tools (Debian packages; .ci/run installs them): gcc-aarch64-linux-gnu or
//! gcc-arm-linux-gnueabihf (linker, C compiler for the C tests, strip), mmdebstrap (sysroot),
//! qemu-user-static (tests), libclang-dev (bindgen, for the V4L2 bindings).

use crate::process::{cargo, run, succeeds, target_dir};
use crate::{qemu, sysroot};
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Target {
    pub triple: &'static str,
    /// What `--target` also accepts.
    pub short: &'static str,
    /// Debian's name of the architecture.
    pub debian_arch: &'static str,
    /// The GNU triple: cross tools' prefix and the multiarch directory.
    pub gnu: &'static str,
    /// Debian's cross compiler package.
    pub gcc_package: &'static str,
    pub qemu: &'static str,
}

pub const TARGETS: [Target; 2] = [
    Target {
        triple: "aarch64-unknown-linux-gnu",
        short: "aarch64",
        debian_arch: "arm64",
        gnu: "aarch64-linux-gnu",
        gcc_package: "gcc-aarch64-linux-gnu",
        qemu: "qemu-aarch64-static",
    },
    Target {
        triple: "armv7-unknown-linux-gnueabihf",
        short: "armv7",
        debian_arch: "armhf",
        gnu: "arm-linux-gnueabihf",
        gcc_package: "gcc-arm-linux-gnueabihf",
        qemu: "qemu-arm-static",
    },
];

pub fn find(name: &str) -> Result<&'static Target, String> {
    TARGETS
        .iter()
        .find(|t| t.triple == name || t.short == name)
        .ok_or_else(|| {
            let known: Vec<String> = TARGETS
                .iter()
                .map(|t| format!("{} ({})", t.triple, t.short))
                .collect();
            format!(
                "no cross target {name:?}: the known ones are {}",
                known.join(", ")
            )
        })
}

impl Target {
    /// `aarch64-linux-gnu-gcc`, `...-strip`.
    pub fn tool(&self, name: &str) -> String {
        format!("{}-{name}", self.gnu)
    }
    /// The triple as environment variable names spell it: `aarch64_unknown_linux_gnu`.
    fn env_suffix(&self) -> String {
        self.triple.replace('-', "_")
    }
    /// Where cargo puts this target's `profile` outputs.
    pub fn out_dir(&self, profile: &str) -> PathBuf {
        target_dir().join(self.triple).join(profile)
    }
}

/// A prepared cross build: the target, its sysroot, host tools checked.
pub struct Cross {
    pub target: &'static Target,
    pub sysroot: PathBuf,
}

impl Cross {
    /// Checks the host tools and the Rust standard library, prepares the sysroot.
    pub fn prepare(target: &'static Target, need_qemu: bool) -> Result<Self, String> {
        let gcc = target.tool("gcc");
        if !succeeds(Command::new(&gcc).arg("--version")) {
            return Err(format!(
                "{gcc} is needed to link for {}: `apt-get install {}` (.ci/run installs it)",
                target.triple, target.gcc_package
            ));
        }
        if need_qemu && !succeeds(Command::new(target.qemu).arg("--version")) {
            return Err(format!(
                "{} is needed to run the {} tests: `apt-get install qemu-user-static` (.ci/run \
                 installs it)",
                target.qemu, target.triple
            ));
        }
        ensure_std(target)?;
        let sysroot = sysroot::prepare(target)?;
        Ok(Self { target, sysroot })
    }

    /// `cargo` with the environment of a cross build: linker and C compiler pointed at the
    /// sysroot, pkg-config reading the sysroot's .pc files, bindgen the sysroot's headers, and
    /// qemu-user as the runner (no binfmt_misc needed) with the sysroot as its library prefix.
    pub fn cargo(&self) -> Command {
        let t = self.target;
        let sysroot = self.sysroot.display().to_string();
        let upper = t.env_suffix().to_uppercase();
        let lower = t.env_suffix();
        let mut cmd = cargo();
        cmd.env(format!("CARGO_TARGET_{upper}_LINKER"), t.tool("gcc"))
            .env(
                format!("CARGO_TARGET_{upper}_RUSTFLAGS"),
                format!("-C link-arg=--sysroot={sysroot}"),
            )
            .env(format!("CARGO_TARGET_{upper}_RUNNER"), t.qemu)
            .env("QEMU_LD_PREFIX", &self.sysroot)
            .env(format!("CC_{lower}"), t.tool("gcc"))
            .env(format!("CFLAGS_{lower}"), format!("--sysroot={sysroot}"))
            .env(
                format!("BINDGEN_EXTRA_CLANG_ARGS_{lower}"),
                format!("--sysroot={sysroot}"),
            )
            .env("PKG_CONFIG_ALLOW_CROSS", "1")
            .env(format!("PKG_CONFIG_SYSROOT_DIR_{lower}"), &self.sysroot)
            .env(format!("PKG_CONFIG_PATH_{lower}"), "")
            .env(
                format!("PKG_CONFIG_LIBDIR_{lower}"),
                format!(
                    "{sysroot}/usr/lib/{gnu}/pkgconfig:{sysroot}/usr/share/pkgconfig",
                    gnu = t.gnu
                ),
            );
        cmd
    }

    /// The product, release: camd, camd-worker, libcamd_ring.{so,a}.
    pub fn build_release(&self) -> Result<PathBuf, String> {
        run(self
            .cargo()
            .args(["build", "--release", "--locked"])
            .args(crate::process::product_package_args())
            .args(["--target", self.target.triple]))?;
        Ok(self.target.out_dir("release"))
    }

    /// A command that runs a target executable under qemu-user with the sysroot's libraries.
    pub fn qemu(&self, program: &Path) -> Command {
        let mut cmd = Command::new(self.target.qemu);
        cmd.env("QEMU_LD_PREFIX", &self.sysroot).arg(program);
        cmd
    }
}

/// The standard library for the target, from rustup. Where rustup cannot add it, say what to do.
fn ensure_std(target: &Target) -> Result<(), String> {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot.join("lib/rustlib").join(target.triple).is_dir() {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", target.triple])).map_err(|e| {
        format!(
            "the Rust standard library for {t} is missing and rustup could not add it ({e}). \
             Without rustup: Debian's rustc-web with libstd-rust-web-dev for {arch} (see \
             docs/cross-builds.md); with rustup: `rustup target add {t}`",
            t = target.triple,
            arch = target.debian_arch
        )
    })
}

/// `cargo xtask cross --target T [--test]`.
pub fn main(target: &str, test: bool) -> Result<(), String> {
    let cross = Cross::prepare(find(target)?, test)?;
    let out = cross.build_release()?;
    eprintln!("cross: {} built in {}", cross.target.triple, out.display());
    if test {
        qemu::ring_tests(&cross)?;
        qemu::smoke(&cross, &out)?;
    }
    Ok(())
}
