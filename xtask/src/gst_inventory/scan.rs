//! The inventory held against the code: every Rust source of the workspace is read, its string
//! literals are found (a small lexer that knows comments, escapes and raw strings), and each
//! GStreamer element they name must be in the inventory, with the use its file implies; each
//! inventory entry that camd's code names must be named somewhere.
//!
//! A literal names elements when it is
//! - a pipeline description (gst-launch syntax, `a ! b prop=v ! caps ! c`), alone or as a run of
//!   literals separated by commas that holds a lone `"!"` (`gst-launch-1.0` arguments): the first
//!   word of each `!` segment that is not caps (`/`), a property (`=`), a pad (`name.`) or a
//!   format placeholder (`{`);
//! - the argument of `make(`, `ElementFactory::make(` or `ElementFactory::find(`;
//! - one lower-case word ending as GStreamer element names end (`...dec`, `...enc`, `...depay`,
//!   `...parse`, `...src`, `...sink`, ...): the candidate lists and match arms that feed `make`.
//!
//! Typed builders name their element by type: `AppSink::` is `appsink`.

use super::{find, Use, INVENTORY};
use crate::process::root;
use std::path::{Path, PathBuf};

/// A string literal: its text (escapes resolved enough to read names), the code between it and
/// the literal before it, and its line.
#[derive(Debug)]
struct Literal {
    text: String,
    before: String,
    line: usize,
}

/// The string literals of a Rust source, outside comments, and the code outside them.
fn literals(source: &str) -> (Vec<Literal>, String) {
    let bytes = source.as_bytes();
    let (mut out, mut code, mut gap) = (Vec::new(), String::new(), String::new());
    let (mut i, mut line) = (0, 1);
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        if c == b'/' && next == Some(b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && next == Some(b'*') {
            i += 2;
            while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                line += usize::from(bytes[i] == b'\n');
                i += 1;
            }
            i += 2;
        } else if c == b'\'' {
            // A char literal ('"', '\'', 'x') or a lifetime ('a): skip the char literal whole.
            let len = match (next, bytes.get(i + 2), bytes.get(i + 3)) {
                (Some(b'\\'), _, _) => bytes[i + 3..]
                    .iter()
                    .position(|&b| b == b'\'')
                    .map(|p| p + 4),
                (Some(_), Some(b'\''), _) => Some(3),
                _ => None,
            };
            let len = len.unwrap_or(1);
            code.push_str(&source[i..i + len]);
            gap.push_str(&source[i..i + len]);
            i += len;
        } else if c == b'"' || (c == b'r' && matches!(next, Some(b'"' | b'#')) && is_raw(bytes, i))
        {
            let start_line = line;
            let (text, end) = if c == b'"' {
                quoted(source, i + 1)
            } else {
                raw(source, i + 1)
            };
            line += source[i..end].matches('\n').count();
            out.push(Literal {
                text,
                before: std::mem::take(&mut gap),
                line: start_line,
            });
            code.push_str("\"\"");
            i = end;
        } else {
            let ch = source[i..].chars().next().unwrap();
            line += usize::from(ch == '\n');
            code.push(ch);
            gap.push(ch);
            i += ch.len_utf8();
        }
    }
    (out, code)
}

/// `r"` or `r#"` starting a raw string, not the end of an identifier (`for"`, `br"` excepted).
fn is_raw(bytes: &[u8], i: usize) -> bool {
    let after_ident = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
    let hashes = bytes[i + 1..].iter().take_while(|&&b| b == b'#').count();
    !after_ident && bytes.get(i + 1 + hashes) == Some(&b'"')
}

/// A `"..."` literal's text from after its opening quote; returns the text and the index after
/// the closing quote. `\` + newline + indentation folds to nothing, as in Rust.
fn quoted(source: &str, mut i: usize) -> (String, usize) {
    let bytes = source.as_bytes();
    let mut text = String::new();
    while i < bytes.len() && bytes[i] != b'"' {
        if bytes[i] == b'\\' {
            match bytes.get(i + 1) {
                Some(b'\n') => {
                    i += 2;
                    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    continue;
                }
                Some(b'n') => text.push('\n'),
                Some(&b) => text.push(b as char),
                None => {}
            }
            i += 2;
        } else {
            let ch = source[i..].chars().next().unwrap();
            text.push(ch);
            i += ch.len_utf8();
        }
    }
    (text, i + 1)
}

/// A raw literal from after its `r`: `#`s, `"`, text, `"`, the same `#`s.
fn raw(source: &str, i: usize) -> (String, usize) {
    let hashes = source[i..].bytes().take_while(|&b| b == b'#').count();
    let start = i + hashes + 1;
    let close = format!("\"{}", "#".repeat(hashes));
    let end = source[start..]
        .find(&close)
        .map_or(source.len(), |p| start + p);
    (source[start..end].to_owned(), end + close.len())
}

/// The element names of a pipeline description.
fn description_elements(text: &str) -> Vec<String> {
    text.split('!')
        .filter_map(|segment| {
            // The first word that is not a gst-launch flag (`-q`).
            let word = segment.split_whitespace().find(|w| !w.starts_with('-'))?;
            let skip = word.contains(['/', '=', '{', '(', ')']) || word.ends_with('.');
            (!skip && is_name(word)).then(|| word.to_owned())
        })
        .collect()
}

fn is_name(word: &str) -> bool {
    !word.is_empty()
        && word.starts_with(|c: char| c.is_ascii_lowercase())
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn is_description(text: &str) -> bool {
    text.contains(" ! ") || text.starts_with("! ") || text.ends_with(" !")
}

/// One lower-case word that ends as element names end (and is more than the ending), or one
/// of libav's wrappers, which are named by codec (`avdec_h264`).
fn looks_like_element(text: &str) -> bool {
    const ENDINGS: &[&str] = &[
        "dec", "enc", "decoder", "depay", "pay", "parse", "src", "sink", "convert", "scale",
        "rate", "overlay", "bin", "mux", "demux", "filter", "conv", "proc",
    ];
    const STARTS: &[&str] = &["avdec_", "avenc_"];
    if !is_name(text) {
        return false;
    }
    let element_word = |word: &str| {
        !word.contains(['-', '_'])
            // The word "codec" ends as decoders do.
            && !word.ends_with("codec")
            && ENDINGS
                .iter()
                .any(|end| word.len() > end.len() + 1 && word.ends_with(end))
    };
    // A vendor's variant: an element word and a suffix (`imxvideoconvert_g2d`).
    let variant = text
        .split_once('_')
        .is_some_and(|(word, suffix)| element_word(word) && is_name(suffix));
    element_word(text) || variant || STARTS.iter().any(|start| text.starts_with(start))
}

/// Calls whose first argument is a caps field or a property, never an element.
/// (`>(` ends `get::<&str>(`.)
const NOT_ELEMENT_CALLS: &[&str] = &["field(", "property(", "property_from_str(", ">("];

/// Types whose builders make an element: the type's path and the element.
const TYPED: &[(&str, &str)] = &[("AppSink::", "appsink")];

/// An element named in a source file.
#[derive(Debug)]
struct Named {
    element: String,
    file: PathBuf,
    line: usize,
}

fn elements_in(file: &Path, source: &str) -> Vec<Named> {
    let (literals, code) = literals(source);
    let named = |element: &str, line: usize| Named {
        element: element.to_owned(),
        file: file.to_owned(),
        line,
    };
    let mut found = Vec::new();
    // Runs of literals separated by commas only: joined, they are one description when one of
    // them is a lone "!".
    let mut run: Vec<&Literal> = Vec::new();
    let flush = |run: &mut Vec<&Literal>, found: &mut Vec<Named>| {
        if run.iter().any(|l| l.text == "!") {
            let joined: Vec<&str> = run.iter().map(|l| l.text.as_str()).collect();
            for element in description_elements(&joined.join(" ")) {
                found.push(named(&element, run[0].line));
            }
        }
        run.clear();
    };
    for literal in &literals {
        if !literal
            .before
            .chars()
            .all(|c| c == ',' || c.is_whitespace())
        {
            flush(&mut run, &mut found);
        }
        run.push(literal);
        let before = literal.before.trim_end();
        if is_description(&literal.text) {
            for element in description_elements(&literal.text) {
                found.push(named(&element, literal.line));
            }
        } else {
            let call = before.ends_with("make(") || before.ends_with("ElementFactory::find(");
            let word = looks_like_element(&literal.text)
                && !NOT_ELEMENT_CALLS.iter().any(|c| before.ends_with(c));
            if (call || word) && is_name(&literal.text) {
                found.push(named(&literal.text, literal.line));
            }
        }
    }
    flush(&mut run, &mut found);
    for (path, element) in TYPED {
        for (n, text) in code.lines().enumerate() {
            if text.contains(path) {
                found.push(named(element, n + 1));
            }
        }
    }
    // One place per element and file is enough to report.
    let mut seen = std::collections::BTreeSet::new();
    found.retain(|n| seen.insert(n.element.clone()));
    found
}

/// The uses a file's elements must have, by where the file is.
fn uses_for(file: &Path) -> &'static [Use] {
    let f = file.to_string_lossy();
    if f.starts_with("tests/support/fake_cameras") {
        &[Use::FakeCameras]
    } else if f.starts_with("src/") || f.starts_with("worker/src/") {
        // Capture code, and its unit tests.
        &[Use::Capture, Use::Tests]
    } else if f.starts_with("benches/") {
        &[Use::Bench]
    } else if f.starts_with("examples/") {
        &[Use::Capture, Use::FakeCameras, Use::Demo]
    } else {
        &[Use::Tests]
    }
}

/// Every Rust source of the workspace but the inventory itself (which names every element).
fn sources() -> Vec<PathBuf> {
    let mut out = crate::process::rust_sources();
    out.retain(|p| !p.to_string_lossy().starts_with("xtask/src/gst_inventory"));
    out
}

fn all_named() -> Vec<Named> {
    let root = root();
    let files = sources();
    assert!(
        files.len() > 50 && files.iter().any(|f| f.ends_with("capture/pipeline.rs")),
        "the scan found too few sources: {files:?}"
    );
    files
        .iter()
        .flat_map(|f| elements_in(f, &std::fs::read_to_string(root.join(f)).unwrap()))
        .collect()
}

#[test]
fn every_element_the_code_names_is_in_the_inventory_with_its_use() {
    let mut problems = Vec::new();
    for n in all_named() {
        let place = format!("{}:{}", n.file.display(), n.line);
        match find(&n.element) {
            None => problems.push(format!(
                "{place}: GStreamer element {:?} is not in the inventory \
                 (xtask/src/gst_inventory.rs: add it with its Debian package)",
                n.element
            )),
            Some(e) => {
                let wanted = uses_for(&n.file);
                if !wanted.iter().any(|u| e.uses.contains(u)) {
                    problems.push(format!(
                        "{place}: {} is used here, but its inventory entry lacks {wanted:?}",
                        n.element
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn every_inventory_entry_is_named_by_the_code() {
    let named = all_named();
    for e in INVENTORY {
        let direct = e.uses.iter().any(|u| !matches!(u, Use::Inside(_)));
        if direct {
            assert!(
                named.iter().any(|n| n.element == e.name),
                "{} is in the inventory, but no source names it: remove it, or mark what \
                 creates it (Use::Inside)",
                e.name
            );
        }
    }
}

#[test]
fn the_scan_reads_every_form() {
    let source = r###"
        // rtspsrc ! commentsink (a comment names nothing)
        let a = make("h264parse")?;
        let b = gst::ElementFactory::make("videorate").build();
        let c = format!("{} ! x264enc tune=zerolatency \
                         ! rtph264pay name=pay0 ! video/x-raw,width=2 ! fakesink", raw);
        let d = ["v4l2h264dec", "avdec_h264", "not an element", "decoder"];
        let e = Command::new("gst-launch-1.0").args(["-q", "videotestsrc", "num-buffers=1", "!",
            "matroskamux", "!", "filesink"]);
        let f = r#"queue ! tee"#;
        let g = '"'; let h = "identity";
        let i = AppSink::builder().build();
    "###;
    let found: Vec<String> = elements_in(Path::new("x.rs"), source)
        .into_iter()
        .map(|n| n.element)
        .collect();
    assert_eq!(
        found,
        [
            "h264parse",
            "videorate",
            "x264enc",
            "rtph264pay",
            "fakesink",
            "v4l2h264dec",
            "avdec_h264",
            "videotestsrc",
            "matroskamux",
            "filesink",
            "queue",
            "tee",
            "appsink",
        ]
    );
}
