//! Throwaway TLS certificates for the `rtsps://` tests (issue 16, credentials on the wire),
//! made with the `openssl` command line in a directory the test owns, so that tests running in
//! parallel never share a file: a CA, a server certificate it signed for `127.0.0.1` and
//! `localhost` (what [`crate::fake_cameras::serve_with`] presents), a second CA that signed
//! nothing (the "wrong CA"), and the SHA-256 of the server certificate's DER (the pin camd's
//! `tls_fingerprint` names).
//!
//! The keys are ECDSA P-256: ten times quicker to make than RSA 2048 (10 ms, not 100 ms or
//! more), and what a pin or a CA check sees does not depend on the key's type. The
//! certificates are valid from now for 30 days.

use std::path::{Path, PathBuf};

use gstreamer::glib;

/// The files [`TestCerts::make`] wrote, as absolute paths (GLib's `GTlsFileDatabase` wants one:
/// with a relative path it only warns, then every certificate fails as UNKNOWN_CA), and the
/// server certificate's pin.
#[derive(Clone, Debug)]
pub struct TestCerts {
    /// The CA's certificate (`ca.pem`): a client trusting it accepts the server.
    pub ca: PathBuf,
    /// The CA's private key (`ca.key`), to sign more certificates.
    pub ca_key: PathBuf,
    /// The server's certificate (`server.pem`), signed by the CA, SAN `IP:127.0.0.1` and
    /// `DNS:localhost`.
    pub server_cert: PathBuf,
    /// The server's private key (`server.key`, PKCS#8 PEM).
    pub server_key: PathBuf,
    /// A second CA (`other-ca.pem`, self-signed) that signed nothing here: a client trusting
    /// only it rejects the server (UNKNOWN_CA).
    pub other_ca: PathBuf,
    /// SHA-256 of the server certificate's DER encoding.
    pub server_sha256: [u8; 32],
}

impl TestCerts {
    /// Makes the certificates in `dir` (created if missing; give each test its own, e.g. a
    /// [`crate::TempDir`]). Panics naming the Debian package when `openssl` is missing, and
    /// with openssl's output when a command fails.
    pub fn make(dir: &Path) -> TestCerts {
        crate::foreign_servers::require("openssl", "openssl");
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let dir = dir
            .canonicalize()
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let file = |name: &str| dir.join(name);

        self_signed_ca(&file("ca.pem"), &file("ca.key"), "camd test CA");
        self_signed_ca(
            &file("other-ca.pem"),
            &file("other-ca.key"),
            "camd other CA",
        );
        server_certificate(&dir, &file("ca.pem"), &file("ca.key"));
        let der = file("server.der");
        openssl(&[
            "x509",
            "-in",
            path_arg(&file("server.pem")),
            "-outform",
            "DER",
            "-out",
            path_arg(&der),
        ]);
        TestCerts {
            ca: file("ca.pem"),
            ca_key: file("ca.key"),
            server_cert: file("server.pem"),
            server_key: file("server.key"),
            other_ca: file("other-ca.pem"),
            server_sha256: sha256_of_file(&der),
        }
    }

    /// The server certificate and key, as [`crate::fake_cameras::ServeOptions::tls`] takes them.
    pub fn server_tls(&self) -> Option<(PathBuf, PathBuf)> {
        Some((self.server_cert.clone(), self.server_key.clone()))
    }
}

/// The arguments that make a P-256 key (`-newkey` of `openssl req`).
const NEW_KEY: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

/// A self-signed CA certificate `cert` with its new key `key`, named `common_name`.
fn self_signed_ca(cert: &Path, key: &Path, common_name: &str) {
    let subject = format!("/CN={common_name}");
    let mut args = vec!["req", "-x509", "-nodes", "-days", "30"];
    args.extend(NEW_KEY);
    args.extend([
        "-keyout",
        path_arg(key),
        "-out",
        path_arg(cert),
        "-subj",
        &subject,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(&args);
}

/// `server.pem` and `server.key` in `dir`, for 127.0.0.1 and localhost, signed by the CA.
fn server_certificate(dir: &Path, ca: &Path, ca_key: &Path) {
    let (csr, ext) = (dir.join("server.csr"), dir.join("server.ext"));
    let mut args = vec!["req", "-nodes", "-subj", "/CN=localhost"];
    args.extend(NEW_KEY);
    let key = dir.join("server.key");
    args.extend(["-keyout", path_arg(&key), "-out", path_arg(&csr)]);
    openssl(&args);
    std::fs::write(
        &ext,
        "basicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n\
         subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap_or_else(|e| panic!("cannot write {}: {e}", ext.display()));
    let serial = dir.join("ca.srl");
    openssl(&[
        "x509",
        "-req",
        "-days",
        "30",
        "-in",
        path_arg(&csr),
        "-CA",
        path_arg(ca),
        "-CAkey",
        path_arg(ca_key),
        "-CAserial",
        path_arg(&serial),
        "-CAcreateserial",
        "-extfile",
        path_arg(&ext),
        "-out",
        path_arg(&dir.join("server.pem")),
    ]);
}

/// `path` as a command-line argument (the test directories are UTF-8).
fn path_arg(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("{} is not UTF-8", path.display()))
}

/// Runs `openssl ARGS` without input; panics with its output unless it exits 0.
fn openssl(args: &[&str]) {
    crate::stdout_of("openssl", args);
}

/// The SHA-256 of a file's bytes (GLib's, as `gstreamer` brings it: no crate of its own).
fn sha256_of_file(path: &Path) -> [u8; 32] {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut checksum =
        glib::Checksum::new(glib::ChecksumType::Sha256).expect("GLib computes SHA-256");
    checksum.update(&bytes);
    checksum
        .digest()
        .try_into()
        .expect("a SHA-256 digest is 32 bytes")
}
