//! The config parser's unit tests: every key, every default, every problem with its line.

use super::*;
use crate::camera_config::{Decode, Transport};

fn parse(text: &str) -> Result<Config, Problems> {
    Config::parse(text, Path::new("camd.toml"), &SecretSource::default())
}

fn problems(text: &str) -> Vec<String> {
    parse(text)
        .unwrap_err()
        .problems
        .iter()
        .map(|p| format!("{}: {}: {}", p.line, p.key, p.message))
        .collect()
}

#[test]
fn defaults_apply_and_cameras_override_them() {
    let config = parse(
        r#"
[daemon]
runtime_dir = "/run/x"
cameras_per_worker = 2
stop_timeout_s = 2.5

[daemon.defaults]
jpeg_quality = 70
max_fps = 10

[[camera]]
name = "door"
url = "rtsp://admin:pw@10.0.0.2/s1"
max_fps = 5
transport = "tcp"

[[camera]]
name = "desk"
url = 0
worker = "usb"
"#,
    )
    .unwrap();
    assert_eq!(config.daemon.runtime_dir, Path::new("/run/x"));
    assert_eq!(config.daemon.cameras_per_worker, 2);
    assert_eq!(config.daemon.stop_timeout, Duration::from_millis(2500));
    let door = &config.cameras[0].camera;
    assert_eq!((door.jpeg_quality, door.max_fps), (70, Some(5)));
    assert_eq!(door.transport, Transport::Tcp);
    let desk = &config.cameras[1];
    assert_eq!(desk.camera.max_fps, Some(10));
    assert_eq!(desk.camera.source, Source::parse("/dev/video0").unwrap());
    assert_eq!(desk.worker.as_deref(), Some("usb"));
}

#[test]
fn every_problem_is_reported_with_its_key_and_line() {
    let found = problems(
        r#"[daemon]
cameras_per_worker = 0
colour = "blue"

[[camera]]
name = "a/b"
url = "http://x/y"
width = 10

[[camera]]
url = 3
jpeg_quality = "high"
"#,
    );
    assert_eq!(
        found,
        [
            "2: daemon.cameras_per_worker: 0 is out of range 1..=64",
            "3: daemon.colour: unknown key (expected one of runtime_dir, ring_group, cameras_per_worker, stop_timeout_s, hang_timeout_s, log_level, defaults)",
            "6: camera[0].name: \"a/b\" contains '/': names become file names",
            "7: camera[0].url: unsupported scheme \"http\" (use rtsp://, rtsps://, file://, test:, /dev/videoN or an index)",
            "8: camera[0].width: 10 is out of range 16..=8192",
            "10: camera[1].name: missing: every camera needs a name",
            "12: camera[1].jpeg_quality: must be an integer, not a string",
        ]
    );
}

#[test]
fn duplicate_names_point_at_the_first() {
    let found = problems(
        "[[camera]]\nname = \"x\"\nurl = \"test:\"\n[[camera]]\nname = \"x\"\nurl = \"test:ball\"\n",
    );
    assert_eq!(
        found,
        ["5: camera[1].name: duplicate camera name \"x\" (first on line 1)"]
    );
}

#[test]
fn syntax_errors_name_the_line() {
    let found = problems("[daemon]\nruntime_dir = \n");
    assert_eq!(found.len(), 1);
    assert!(found[0].starts_with("2: : not valid TOML"), "{found:?}");
}

#[test]
fn password_files_absolute_or_systemd_credentials() {
    let dir = std::env::temp_dir().join(format!("camd-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("door"), "s3cret\n").unwrap();
    let secrets = SecretSource {
        credentials_directory: Some(dir.clone()),
    };
    let text = format!(
        "[[camera]]\nname = \"a\"\nurl = \"rtsp://admin@h/s\"\npassword_file = \"door\"\n\
         [[camera]]\nname = \"b\"\nurl = \"rtsp://admin@h/s\"\npassword_file = \"{}\"\n",
        dir.join("door").display()
    );
    let config = Config::parse(&text, Path::new("c.toml"), &secrets).unwrap();
    for entry in &config.cameras {
        match &entry.camera.source {
            Source::Rtsp { password, .. } => assert_eq!(password.as_deref(), Some("s3cret")),
            other => panic!("{other:?}"),
        }
    }
    let no_dir = Config::parse(&text, Path::new("c.toml"), &SecretSource::default())
        .unwrap_err()
        .to_string();
    assert!(
        no_dir.contains("c.toml:4: camera[0].password_file: \"door\" is relative")
            && no_dir.contains("CREDENTIALS_DIRECTORY is not set"),
        "{no_dir}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_worker_gets_back_exactly_the_camera_it_was_handed() {
    let config = parse(
        r#"
[[camera]]
name = "door"
url = "rtsp://ad:min:p@ss\"w\\ord@10.0.0.2:8554/s1"
width = 1280
height = 720
max_fps = 12
jpeg_quality = 77
transport = "udp"
latency_ms = 0
decoder = "avdec_h264"
encoder = "jpegenc"
slot_count = 3
slot_capacity = 100000
max_retry_attempts = 9
retry_initial_s = 0.3
retry_max_s = 7
retry_jitter = 0.1
stall_timeout_s = 1.25
connect_timeout_s = 4
probe_interval_s = 60
worker = "w"

[[camera]]
name = "plain"
url = "test:ball"

[[camera]]
name = "never-probed"
url = "test:ball"
probe_interval_s = 0
"#,
    )
    .unwrap();
    assert_eq!(config.cameras[2].camera.retry.probe_interval, None);
    assert_eq!(
        config.cameras[1].camera.retry.probe_interval,
        Some(crate::camera_state::DEFAULT_PROBE_INTERVAL),
        "probing is on by default"
    );
    for entry in &config.cameras {
        let line = camera_keys::to_inline_table(&entry.camera, entry.worker.as_deref());
        assert!(!line.contains('\n'));
        assert_eq!(&parse_worker_camera(&line).unwrap(), entry, "{line}");
    }
}

/// A CA file for the tests: only its PEM marker is checked when the config is read.
fn ca_file(name: &str) -> std::path::PathBuf {
    let path =
        std::env::temp_dir().join(format!("camd-config-ca-{}-{name}.pem", std::process::id()));
    std::fs::write(
        &path,
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    path
}

const PIN: &str = "sha256:00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F";

#[test]
fn every_setting_key_is_handed_on() {
    // A key accepted but not written by to_inline_table would be lost on the way to the worker.
    let ca = ca_file("handed-on");
    let config = parse(&format!(
        "[[camera]]\nname = \"c\"\nurl = \"rtsps://h/s\"\nwidth = 64\nheight = 64\nmax_fps = 1\n\
         decode = \"keyframes\"\ndecoder = \"d\"\nencoder = \"e\"\nconverter = \"v\"\nslot_capacity = 5000\nprobe_interval_s = 5\n\
         tls_ca_file = \"{}\"\ntls_fingerprint = \"{PIN}\"\nallow_basic_auth = true\n",
        ca.display()
    ))
    .unwrap();
    let entry = &config.cameras[0];
    let line = camera_keys::to_inline_table(&entry.camera, None);
    for key in camera_keys::SETTING_KEYS {
        assert!(
            line.contains(&format!(" {key} = ")),
            "{key} missing from {line}"
        );
    }
    assert_eq!(
        &parse_worker_camera(&line).unwrap().camera,
        &entry.camera,
        "{line}"
    );
    assert!(entry.camera.allow_basic_auth);
    assert_eq!(entry.camera.decode, Decode::Keyframes);
    assert_eq!(entry.camera.tls.ca_file.as_deref(), Some(ca.as_path()));
    std::fs::remove_file(ca).unwrap();
}

#[test]
fn tls_keys_are_checked_where_they_are_written() {
    let ca = ca_file("checked");
    let not_pem = std::env::temp_dir().join(format!("camd-config-notpem-{}", std::process::id()));
    std::fs::write(&not_pem, "hello\n").unwrap();
    let camera =
        |url: &str, keys: &str| format!("[[camera]]\nname = \"c\"\nurl = \"{url}\"\n{keys}\n");
    let found = |url: &str, keys: &str| problems(&camera(url, keys)).join("\n");
    assert!(parse(&camera(
        "rtsps://h/s",
        &format!("tls_ca_file = \"{}\"", ca.display())
    ))
    .is_ok());
    assert!(parse(&camera(
        "rtsps://h/s",
        &format!("tls_fingerprint = \"{PIN}\"")
    ))
    .is_ok());
    assert!(parse(&camera("rtsps://h/s", "tls_verify = false")).is_ok());
    for (url, keys, expected) in [
        (
            "rtsps://h/s",
            "tls_ca_file = \"/nonexistent/ca.pem\"",
            "4: camera[0].tls_ca_file: /nonexistent/ca.pem: cannot read",
        ),
        (
            "rtsps://h/s",
            "tls_ca_file = \"ca.pem\"",
            "4: camera[0].tls_ca_file: ca.pem: is relative",
        ),
        (
            "rtsps://h/s",
            "tls_ca_file = \"/tmp\"",
            "camera[0].tls_ca_file: /tmp: is not a regular file",
        ),
        (
            "rtsps://h/s",
            "tls_fingerprint = \"sha256:12:34\"",
            "4: camera[0].tls_fingerprint: \"sha256:12:34\" is not a SHA-256 fingerprint",
        ),
        (
            "rtsps://h/s",
            "tls_verify = \"no\"",
            "4: camera[0].tls_verify: must be true or false, not a string",
        ),
        (
            "rtsp://h/s",
            &format!("tls_fingerprint = \"{PIN}\""),
            "camera[0].tls_fingerprint: only rtsps:// cameras have a certificate to check",
        ),
        (
            "rtsps://h/s",
            &format!("tls_verify = false\ntls_fingerprint = \"{PIN}\""),
            "camera[0].tls_verify: false accepts any certificate",
        ),
        (
            "rtsp://h/s",
            "allow_basic_auth = 1",
            "4: camera[0].allow_basic_auth: must be true or false, not an integer",
        ),
    ] {
        let said = found(url, keys);
        assert!(
            said.contains(expected),
            "{keys}: expected {expected:?} in {said}"
        );
    }
    let said = found(
        "rtsps://h/s",
        &format!("tls_ca_file = \"{}\"", not_pem.display()),
    );
    assert!(said.contains("holds no PEM certificate"), "{said}");
    std::fs::remove_file(ca).unwrap();
    std::fs::remove_file(not_pem).unwrap();
}

#[test]
fn unsafe_names() {
    for bad in [
        "",
        "..",
        ".hidden",
        "a/b",
        "-x",
        "tab\there",
        "a b",
        &"n".repeat(64),
    ] {
        assert!(check_camera_name(bad).is_err(), "{bad:?}");
    }
    for good in ["door", "cam_1", "Tür-2", "a.b", "カメラ", &"n".repeat(63)] {
        assert!(check_camera_name(good).is_ok(), "{good:?}");
    }
}

#[test]
fn unknown_test_patterns_are_refused_where_they_are_written() {
    let found = problems(
        "[[camera]]\nname = \"a\"\nurl = \"test:nosuchpattern\"\n\
         [[camera]]\nname = \"b\"\nurl = \"test:ball\"\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(
            "3: camera[0].url: unknown test pattern \"nosuchpattern\" (videotestsrc has smpte, snow,"
        ),
        "{found:?}"
    );
    // A pattern's number is its nick, as the worker is handed it.
    let config = parse("[[camera]]\nname = \"b\"\nurl = \"test:18\"\n").unwrap();
    assert_eq!(config.cameras[0].camera.source.display(), "test:ball");
}

/// The control characters of the tests: newline, tab, NUL, ESC, DEL and a C1 one (NEL), each
/// as a TOML escape and as itself.
const CONTROLS: &[(&str, char)] = &[
    ("\\n", '\n'),
    ("\\t", '\t'),
    ("\\u0000", '\0'),
    ("\\u001b", '\u{1b}'),
    ("\\u007f", '\u{7f}'),
    ("\\u0085", '\u{85}'),
];

fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

#[test]
fn control_characters_are_refused_in_every_string_value() {
    // (the file with C where the control character goes, the key, its line)
    let places = [
        ("[daemon]\nruntime_dir = \"/run/cC\"\n", "daemon.runtime_dir", 2),
        ("[daemon]\nring_group = \"camC\"\n", "daemon.ring_group", 2),
        ("[daemon]\nlog_level = \"infoC\"\n", "daemon.log_level", 2),
        (
            "[daemon.defaults]\ntransport = \"tcpC\"\n",
            "daemon.defaults.transport",
            2,
        ),
        (
            "[daemon.defaults]\ndecoder = \"avdec_h264C\"\n",
            "daemon.defaults.decoder",
            2,
        ),
        (
            "[[camera]]\nname = \"c\"\nurl = \"rtsp://admin:hunter2@h/sC\"\n",
            "camera[0].url",
            3,
        ),
        (
            "[[camera]]\nname = \"c\"\nurl = \"test:ballC\"\n",
            "camera[0].url",
            3,
        ),
        (
            "[[camera]]\nname = \"c\"\nurl = \"rtsp://admin@h/s\"\npassword_file = \"/etc/camd/cC\"\n",
            "camera[0].password_file",
            4,
        ),
        (
            "[[camera]]\nname = \"c\"\nurl = \"test:\"\nencoder = \"jpegencC\"\n",
            "camera[0].encoder",
            4,
        ),
        (
            "[[camera]]\nname = \"c\"\nurl = \"test:\"\ntransport = \"C\"\n",
            "camera[0].transport",
            4,
        ),
    ];
    for (template, key, line) in places {
        for (escape, c) in CONTROLS {
            let found = problems(&template.replace('C', escape));
            let want = format!(
                "{line}: {key}: contains the control character {} (",
                code_point(*c)
            );
            assert!(
                found.len() == 1 && found[0].starts_with(&want),
                "{template:?} with {escape}: expected {want}...\ngot {found:#?}"
            );
            assert!(!found[0].contains("hunter2"), "{found:?}");
        }
    }
    // A newline written as one, in a multi-line string.
    let found = problems("[daemon]\nruntime_dir = '''/run/a\n/b'''\n");
    assert_eq!(
        found,
        [
            "2: daemon.runtime_dir: contains the control character U+000A (character 7 of the \
          string): control characters are not allowed in config values"
        ]
    );
}

#[test]
fn names_with_control_bidi_or_zero_width_characters_are_refused() {
    for (escape, c) in CONTROLS {
        let name = problems(&format!(
            "[[camera]]\nname = \"door{escape}\"\nurl = \"test:\"\n"
        ));
        let worker = problems(&format!(
            "[[camera]]\nname = \"c\"\nurl = \"test:\"\nworker = \"door{escape}\"\n"
        ));
        let quoted = format!("{:?}", format!("door{c}"));
        let cp = code_point(*c);
        assert_eq!(
            (name, worker),
            (
                vec![format!(
                    "2: camera[0].name: {quoted} contains the control character {cp}"
                )],
                vec![format!(
                    "4: camera[0].worker: {quoted} contains the control character {cp}"
                )]
            )
        );
    }
    for (c, what) in [
        ('\u{202E}', "the bidirectional control"),
        ('\u{202A}', "the bidirectional control"),
        ('\u{2066}', "the bidirectional control"),
        ('\u{2069}', "the bidirectional control"),
        ('\u{200E}', "the bidirectional control"),
        ('\u{200F}', "the bidirectional control"),
        ('\u{061C}', "the bidirectional control"),
        ('\u{200B}', "the zero-width character"),
        ('\u{200D}', "the zero-width character"),
        ('\u{2060}', "the zero-width character"),
        ('\u{FEFF}', "the zero-width character"),
    ] {
        let cp = code_point(c);
        let escape = format!("\\u{:04X}", u32::from(c));
        let found = problems(&format!(
            "[[camera]]\nname = \"door{escape}\"\nurl = \"test:\"\nworker = \"w{escape}\"\n"
        ));
        assert_eq!(found.len(), 2, "{found:?}");
        for (problem, key) in found
            .iter()
            .zip(["2: camera[0].name: ", "4: camera[0].worker: "])
        {
            assert!(
                problem.starts_with(key) && problem.contains(&format!(" contains {what} {cp} (")),
                "{cp}: {problem}"
            );
        }
        assert!(check_camera_name(&format!("a{c}b")).is_err(), "{cp}");
    }
}

#[test]
fn a_duplicate_name_is_reported_beside_the_other_problems() {
    let found = problems(
        "[[camera]]\nname = \"dup\"\nurl = \"http://x/y\"\n\
         [[camera]]\nname = \"dup\"\nurl = \"test:ball\"\n\
         [[camera]]\nname = \"dup\"\nurl = \"test:ball\"\nwidth = 1\n",
    );
    assert_eq!(
        found,
        [
            "3: camera[0].url: unsupported scheme \"http\" (use rtsp://, rtsps://, file://, test:, /dev/videoN or an index)",
            "5: camera[1].name: duplicate camera name \"dup\" (first on line 1)",
            "8: camera[2].name: duplicate camera name \"dup\" (first on line 1)",
            "10: camera[2].width: 1 is out of range 16..=8192",
        ]
    );
    // An invalid name is reported as such, not as a duplicate.
    let found = problems(
        "[[camera]]\nname = \"a/b\"\nurl = \"test:\"\n[[camera]]\nname = \"a/b\"\nurl = \"test:\"\n",
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found.iter().all(|p| p.contains("contains '/'")),
        "{found:?}"
    );
}

/// A directory for one test's files, removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("camd-config-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// A file of `contents` with `mode`.
    fn file(&self, name: &str, contents: &[u8], mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One camera whose password is in `file`, parsed on a thread that must finish within 5 s: a
/// password file that blocks or never ends fails the test instead of hanging it.
fn with_password_file(file: &str, secrets: &SecretSource) -> Result<(Config, Warnings), String> {
    let text = format!(
        "[[camera]]\nname = \"c\"\nurl = \"rtsp://admin@h/s\"\npassword_file = {}\n",
        camera_keys::quote(file)
    );
    let secrets = secrets.clone();
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(Config::parse_with_warnings(
            &text,
            Path::new("camd.toml"),
            &secrets,
        ));
    });
    receive
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|_| panic!("reading the password file {file:?} did not end within 5 s"))
        .map_err(|problems| problems.to_string())
}

fn password_of(config: &Config) -> &str {
    match &config.cameras[0].camera.source {
        Source::Rtsp {
            password: Some(p), ..
        } => p,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_fifo_is_no_password_file_and_is_refused_without_waiting() {
    let dir = Scratch::new("fifo");
    let fifo = dir.0.join("door.pass");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let absolute = with_password_file(fifo.to_str().unwrap(), &SecretSource::default());
    assert_eq!(
        absolute.unwrap_err(),
        format!(
            "camd.toml:4: camera[0].password_file: {} is a FIFO, not a regular file",
            fifo.display()
        )
    );
    // The same as a systemd credential.
    let credential = with_password_file(
        "door.pass",
        &SecretSource {
            credentials_directory: Some(dir.0.clone()),
        },
    );
    let refused = credential.unwrap_err();
    assert!(
        refused.ends_with("/door.pass is a FIFO, not a regular file"),
        "{refused}"
    );
}

#[test]
fn a_device_is_no_password_file() {
    let zero = with_password_file("/dev/zero", &SecretSource::default());
    assert_eq!(
        zero.unwrap_err(),
        "camd.toml:4: camera[0].password_file: /dev/zero is a character device, not a regular file"
    );
}

#[test]
fn password_files_are_small_regular_files_named_directly() {
    let dir = Scratch::new("password-files");
    let none = SecretSource::default();
    let at_most = dir.file("at_most", &[b'x'; MAX_PASSWORD_FILE_LEN], 0o600);
    let (config, _) = with_password_file(at_most.to_str().unwrap(), &none).unwrap();
    assert_eq!(password_of(&config).len(), MAX_PASSWORD_FILE_LEN);

    let larger = dir.file("larger", &[b'x'; MAX_PASSWORD_FILE_LEN + 1], 0o600);
    assert_eq!(
        with_password_file(larger.to_str().unwrap(), &none).unwrap_err(),
        format!(
            "camd.toml:4: camera[0].password_file: {} is larger than 4096 bytes: not a password file",
            larger.display()
        )
    );

    let link = dir.0.join("link");
    std::os::unix::fs::symlink(&at_most, &link).unwrap();
    let refused = with_password_file(link.to_str().unwrap(), &none).unwrap_err();
    assert!(
        refused.starts_with(&format!(
            "camd.toml:4: camera[0].password_file: {} is a symbolic link (",
            link.display()
        )),
        "{refused}"
    );

    let refused = with_password_file(dir.0.to_str().unwrap(), &none).unwrap_err();
    assert!(
        refused.ends_with(" is a directory, not a regular file"),
        "{refused}"
    );

    let binary = dir.file("binary", b"\xff\xfe\n", 0o600);
    assert_eq!(
        with_password_file(binary.to_str().unwrap(), &none).unwrap_err(),
        format!(
            "camd.toml:4: camera[0].password_file: {} is not UTF-8 text",
            binary.display()
        )
    );

    let missing = dir.0.join("missing");
    let refused = with_password_file(missing.to_str().unwrap(), &none).unwrap_err();
    assert!(
        refused.starts_with(&format!(
            "camd.toml:4: camera[0].password_file: cannot read {}: ",
            missing.display()
        )),
        "{refused}"
    );
}

#[test]
fn a_password_file_others_can_read_is_a_warning() {
    let dir = Scratch::new("password-modes");
    let none = SecretSource::default();
    let private = dir.file("private", b"s3cret\n", 0o640);
    let (config, warnings) = with_password_file(private.to_str().unwrap(), &none).unwrap();
    assert_eq!(password_of(&config), "s3cret");
    assert!(warnings.is_empty(), "{warnings}");

    let open = dir.file("open", b"s3cret\n", 0o644);
    let (config, warnings) = with_password_file(open.to_str().unwrap(), &none).unwrap();
    assert_eq!(password_of(&config), "s3cret");
    assert_eq!(
        warnings.to_string(),
        format!(
            "camd.toml:4: camera[0].password_file: warning: {0} is readable by every user \
             (mode 0644): chmod o-r {0}",
            open.display()
        )
    );
}

/// A quoted key may hold an escape sequence: the problem line shows it escaped, so that
/// `check-config` or the log cannot be made to print terminal controls or forged lines.
#[test]
fn control_characters_in_keys_are_shown_escaped() {
    let text = "[daemon]\n\"\\u001b[31mred\\nline\" = 1\n";
    let problems = Config::parse(text, Path::new("t.toml"), &SecretSource::default()).unwrap_err();
    let shown = problems.to_string();
    assert!(
        !shown.contains('\u{1b}') && !shown.contains("red\nline"),
        "{shown:?}"
    );
    assert!(shown.contains("\\u{001b}[31mred\\u{000a}line"), "{shown}");
}

#[test]
fn probe_interval_is_0_or_at_least_a_second() {
    let text =
        |v: &str| format!("[[camera]]\nname = \"c\"\nurl = \"test:\"\nprobe_interval_s = {v}\n");
    assert!(parse(&text("0")).is_ok());
    assert!(parse(&text("1")).is_ok());
    let error = parse(&text("0.5")).unwrap_err().to_string();
    assert!(
        error.contains("must be 0 (no probing) or from 1 to 86400 seconds"),
        "{error}"
    );
}

#[test]
fn udp_over_rtsps_is_a_warning() {
    let text = "[[camera]]\nname = \"c\"\nurl = \"rtsps://h/s\"\ntransport = \"udp\"\n";
    let (_, warnings) =
        Config::parse_with_warnings(text, Path::new("camd.toml"), &SecretSource::default())
            .unwrap();
    let said = warnings.to_string();
    assert!(
        said.contains("camd.toml:4: camera[0].transport: warning: \"udp\" over rtsps:// sends the video unencrypted"),
        "{said}"
    );
    let plain = text.replace("rtsps", "rtsp");
    let (_, warnings) =
        Config::parse_with_warnings(&plain, Path::new("camd.toml"), &SecretSource::default())
            .unwrap();
    assert!(warnings.is_empty(), "{warnings}");
}

#[test]
fn decode_is_all_or_keyframes_and_keyframes_warns_where_it_changes_nothing() {
    let camera =
        |url: &str, keys: &str| format!("[[camera]]\nname = \"c\"\nurl = \"{url}\"\n{keys}\n");
    let config = parse(&camera("rtsp://h/s", "")).unwrap();
    assert_eq!(config.cameras[0].camera.decode, Decode::All, "the default");
    let (config, warnings) = with_warnings(&camera("rtsp://h/s", "decode = \"keyframes\""));
    assert_eq!(config.cameras[0].camera.decode, Decode::Keyframes);
    assert!(warnings.is_empty(), "{warnings}");
    let defaults = "[daemon.defaults]\ndecode = \"keyframes\"\n";
    let (config, _) = with_warnings(&format!("{defaults}{}", camera("rtsps://h/s", "")));
    assert_eq!(config.cameras[0].camera.decode, Decode::Keyframes);
    for (keys, expected) in [
        (
            "decode = \"some\"",
            "4: camera[0].decode: \"some\" is not one of \"all\", \"keyframes\"",
        ),
        (
            "decode = true",
            "4: camera[0].decode: must be a string, not a boolean",
        ),
    ] {
        let found = problems(&camera("rtsp://h/s", keys)).join("\n");
        assert!(found.contains(expected), "{keys}: {found}");
    }
    let found = problems(&format!(
        "[daemon.defaults]\ndecode = \"I\"\n{}",
        camera("rtsp://h/s", "")
    ))
    .join("\n");
    assert!(
        found.contains("2: daemon.defaults.decode: \"I\" is not one of"),
        "{found}"
    );
    for url in ["test:ball", "/dev/video0", "file:///clip.mkv"] {
        let (_, warnings) = with_warnings(&camera(url, "decode = \"keyframes\""));
        let said = warnings.to_string();
        assert!(
            said.contains(
                "camd.toml:4: camera[0].decode: warning: \"keyframes\" changes nothing here"
            ),
            "{url}: {said}"
        );
        let (_, warnings) = with_warnings(&camera(url, "decode = \"all\""));
        assert!(warnings.is_empty(), "{url}: {warnings}");
    }
}

#[test]
fn raw_formats_need_a_size_that_fits_them() {
    let camera = |keys: &str| format!("[[camera]]\nname = \"c\"\nurl = \"test:ball\"\n{keys}\n");
    let config = parse(&camera(
        "width = 640\nheight = 360\nformat = \"bgr\"\nresize = \"letterbox\"\nconverter = \"videoconvertscale\"",
    ))
    .unwrap();
    let c = &config.cameras[0].camera;
    assert_eq!(
        (c.format, c.resize),
        (
            camd_ring::Codec::Bgr,
            crate::camera_config::Resize::Letterbox
        )
    );
    assert_eq!(c.converter.as_deref(), Some("videoconvertscale"));
    assert_eq!(
        c.slot_capacity(),
        640 * 3 * 360,
        "a raw slot holds exactly one frame"
    );
    for (keys, expected) in [
        ("format = \"rgb\"", "4: camera[0].format: \"rgb\" needs width and height: the size the model takes"),
        ("width = 33\nheight = 20\nformat = \"nv12\"", "4: camera[0].width: nv12 needs an even width and height (got 33x20)"),
        ("format = \"yuv\"", "4: camera[0].format: \"yuv\" is not one of \"jpeg\", \"nv12\", \"rgb\", \"bgr\""),
        ("resize = \"fill\"", "4: camera[0].resize: \"fill\" is not one of \"stretch\", \"letterbox\", \"crop\""),
        ("width = 64\nheight = 64\nformat = \"rgb\"\nslot_capacity = 9000", "7: camera[0].slot_capacity: raw frames are always their size (rgb frames of width x height): remove slot_capacity"),
    ] {
        assert_eq!(problems(&camera(keys)), [expected], "{keys}");
    }
}

#[test]
fn jpeg_settings_of_a_raw_camera_are_warned_about() {
    let text = "[[camera]]\nname = \"c\"\nurl = \"test:ball\"\nwidth = 64\nheight = 64\nformat = \"rgb\"\njpeg_quality = 90\nencoder = \"jpegenc\"\n";
    let (_, warnings) = with_warnings(text);
    let said = warnings.to_string();
    for key in ["7: camera[0].jpeg_quality", "8: camera[0].encoder"] {
        assert!(
            said.contains(&format!(
                "camd.toml:{key}: warning: does nothing: format = \"rgb\""
            )),
            "{said}"
        );
    }
    let (_, warnings) = with_warnings(&text.replace("format = \"rgb\"", "format = \"jpeg\""));
    assert!(warnings.is_empty(), "{warnings}");
}

/// A valid config's cameras and the warnings `camd check-config` would print for it.
fn with_warnings(text: &str) -> (Config, Warnings) {
    Config::parse_with_warnings(text, Path::new("camd.toml"), &SecretSource::default()).unwrap()
}
