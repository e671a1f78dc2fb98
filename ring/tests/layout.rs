//! The layout three ways: Rust's structs (`layout::field_offsets`), what a C compiler makes of
//! `include/camd_ring.h`, and the field tables of `docs/ring-format.md`. All must agree on the
//! offset of every field and the value of every feature and flag bit, so a reader written from
//! the header or from the document works.

use camd_ring_test_support as common;

use common::*;
use std::collections::BTreeMap;
use std::process::Command;

fn rust_offsets() -> BTreeMap<String, u64> {
    camd_ring::layout::field_offsets()
        .into_iter()
        .map(|(name, off)| (name.to_owned(), off as u64))
        .collect()
}

#[test]
fn c_header_offsets_match_rust() {
    let dir = TempDir::new("layout");
    let mut program =
        String::from("#include <camd_ring.h>\n#include <stdio.h>\nint main(void) {\n");
    for name in rust_offsets().keys() {
        let (part, field) = name.split_once('.').unwrap();
        let (ty, base) = match part {
            "header" => ("camd_ring_file_header", 0),
            "index" => ("camd_ring_file_index", 256),
            "liveness" => ("camd_ring_file_liveness", 320),
            "status" => ("camd_ring_file_status", 384),
            "slot" => ("camd_ring_file_slot", 0),
            other => panic!("unknown part {other}"),
        };
        program +=
            &format!("  printf(\"{name} %zu\\n\", (size_t){base} + offsetof({ty}, {field}));\n");
    }
    // The feature and flag bits too: one value in the header and in the Rust layout.
    for (name, _) in rust_bits() {
        program += &format!("  printf(\"const.{name} %u\\n\", CAMD_RING_{name});\n");
    }
    program += "  return 0;\n}\n";
    let source = dir.join("offsets.c");
    std::fs::write(&source, program).unwrap();
    let exe = dir.join("offsets");
    let include = repo_root().join("ring/include");
    let out = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Werror", "-I"])
        .arg(&include)
        .arg(&source)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("run cc");
    assert!(
        out.status.success(),
        "cc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    let c: BTreeMap<String, u64> = String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (name, off) = l.split_once(' ').unwrap();
            (name.to_owned(), off.parse().unwrap())
        })
        .collect();
    let mut expected = rust_offsets();
    for (name, value) in rust_bits() {
        expected.insert(format!("const.{name}"), u64::from(value));
    }
    assert_eq!(c, expected);
}

/// The feature and flag bits and the codecs by their names in `camd_ring.h` (without
/// `CAMD_RING_`).
fn rust_bits() -> Vec<(String, u32)> {
    use camd_ring::layout::*;
    let mut all: Vec<(String, u32)> = [
        ("COMPAT_WAKE_EVERY_PUBLISH", COMPAT_WAKE_EVERY_PUBLISH),
        ("COMPAT_CAMERA_TIME", COMPAT_CAMERA_TIME),
        ("SLOT_FLAG_CAMERA_TIME", SLOT_FLAG_CAMERA_TIME),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v))
    .collect();
    for codec in camd_ring::Codec::ALL {
        all.push((
            format!("CODEC_{}", codec.name().to_uppercase()),
            codec.value(),
        ));
    }
    all
}

#[test]
fn the_header_compiles_as_cplusplus() {
    let include = repo_root().join("ring/include");
    let out = Command::new("c++")
        .args([
            "-x",
            "c++",
            "-std=c++11",
            "-Wall",
            "-Werror",
            "-fsyntax-only",
            "-include",
            "camd_ring.h",
            "-I",
        ])
        .arg(&include)
        .arg("/dev/null")
        .output()
        .expect("run c++");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn format_doc() -> String {
    std::fs::read_to_string(repo_root().join("docs/ring-format.md")).expect("docs/ring-format.md")
}

/// The cells of the document's table rows with at least five columns.
fn table_rows(doc: &str) -> impl Iterator<Item = Vec<&str>> {
    doc.lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| l.split('|').map(str::trim).collect::<Vec<_>>())
        .filter(|cells| cells.len() >= 6)
}

/// Rows of the document's field tables: `| offset | size | type | `part.field` | meaning |`.
fn documented_offsets() -> BTreeMap<String, u64> {
    let doc = format_doc();
    let mut fields = BTreeMap::new();
    for cells in table_rows(&doc) {
        let (Ok(offset), Some(name)) = (
            cells[1].parse::<u64>(),
            cells[4].strip_prefix('`').and_then(|c| c.strip_suffix('`')),
        ) else {
            continue;
        };
        if ["header.", "index.", "liveness.", "status.", "slot."]
            .iter()
            .any(|p| name.starts_with(p))
        {
            assert!(
                fields.insert(name.to_owned(), offset).is_none(),
                "{name} documented twice"
            );
        }
    }
    fields
}

#[test]
fn documented_offsets_match_rust() {
    assert_eq!(
        documented_offsets(),
        rust_offsets(),
        "docs/ring-format.md field tables differ from ring/src/layout.rs"
    );
}

/// The bits a field's row defines, as its meaning says them: "bit N (`V`) = *name*", by name.
fn documented_bits(field: &str) -> BTreeMap<String, u32> {
    let doc = format_doc();
    let cell = format!("`{field}`");
    let meaning = table_rows(&doc)
        .find(|cells| cells[4] == cell)
        .unwrap_or_else(|| panic!("no row for {field}"))[5]
        .to_owned();
    let mut bits = BTreeMap::new();
    for definition in meaning.split("bit ").skip(1) {
        let Some((number, rest)) = definition.split_once(" (`") else {
            continue;
        };
        let (Ok(number), Some((value, rest))) = (number.parse::<u32>(), rest.split_once("`) = *"))
        else {
            continue;
        };
        let name = rest.split('*').next().unwrap();
        assert_eq!(value, (1u32 << number).to_string(), "{field}: bit {number}");
        bits.insert(name.to_owned(), 1 << number);
    }
    bits
}

#[test]
fn documented_bits_match_rust() {
    use camd_ring::layout::*;
    let expected = |bits: &[(&str, u32)]| -> BTreeMap<String, u32> {
        bits.iter().map(|&(n, v)| (n.to_owned(), v)).collect()
    };
    assert_eq!(
        documented_bits("header.compat_features"),
        expected(&[
            ("wake every publish", COMPAT_WAKE_EVERY_PUBLISH),
            ("camera time", COMPAT_CAMERA_TIME),
        ])
    );
    assert_eq!(
        documented_bits("slot.flags"),
        expected(&[("camera time", SLOT_FLAG_CAMERA_TIME)])
    );
}

#[test]
fn documented_codecs_match_rust() {
    let doc = format_doc();
    let meaning = table_rows(&doc)
        .find(|cells| cells[4] == "`header.codec`")
        .expect("a row for header.codec")[5]
        .to_owned();
    // "1 = JPEG (baseline, full frames), 2 = NV12, ...": every value and its name.
    let documented: BTreeMap<u32, String> = meaning
        .split(", ")
        .filter_map(|part| {
            let (value, name) = part.split_once(" = ")?;
            let value = value.rsplit(' ').next()?.parse().ok()?;
            Some((value, name.split(' ').next()?.to_lowercase()))
        })
        .collect();
    let expected: BTreeMap<u32, String> = camd_ring::Codec::ALL
        .iter()
        .map(|c| (c.value(), c.name().to_owned()))
        .collect();
    assert_eq!(documented, expected, "header.codec's row: {meaning}");
}
