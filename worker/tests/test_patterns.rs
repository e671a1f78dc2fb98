//! camd's list of `test:PATTERN` patterns (`camd::source::TEST_PATTERNS`, written out because
//! camd links no GStreamer) is the real `videotestsrc` element's `pattern` enum: the same nicks
//! with the same numbers, so the list cannot drift from the GStreamer the worker runs, and every
//! pattern the config accepts builds the element the way the pipeline builds it.

use camd::source::{Source, TEST_PATTERNS};
use gstreamer as gst;
use gstreamer::glib;
use gstreamer::prelude::*;

#[test]
fn camd_test_patterns_are_the_videotestsrc_pattern_enum() {
    gst::init().unwrap();
    let src = gst::ElementFactory::make("videotestsrc").build().unwrap();
    let property = src
        .find_property("pattern")
        .expect("videotestsrc has a pattern property");
    let patterns = property
        .downcast_ref::<glib::ParamSpecEnum>()
        .expect("videotestsrc's pattern is an enum");
    let class = patterns.enum_class();
    let real: Vec<(i32, String)> = class
        .values()
        .iter()
        .map(|v| (v.value(), v.nick().to_owned()))
        .collect();
    let camd: Vec<(i32, String)> = TEST_PATTERNS
        .iter()
        .enumerate()
        .map(|(n, nick)| (n as i32, (*nick).to_owned()))
        .collect();
    assert_eq!(
        camd, real,
        "camd::source::TEST_PATTERNS is not videotestsrc's"
    );
    // `test:` alone is the element's default.
    assert_eq!(
        Source::parse("test:").unwrap(),
        Source::TestPattern {
            pattern: real[patterns.default_value_as_i32() as usize].1.clone()
        }
    );
}

#[test]
fn every_accepted_pattern_builds_a_videotestsrc() {
    gst::init().unwrap();
    for n in 0..TEST_PATTERNS.len() {
        let Source::TestPattern { pattern } = Source::parse(&format!("test:{n}")).unwrap() else {
            panic!("test:{n} is not a test pattern");
        };
        // As capture::pipeline sets it.
        let src = gst::ElementFactory::make("videotestsrc")
            .property_from_str("pattern", &pattern)
            .build()
            .unwrap();
        let set = src.property_value("pattern");
        let set = glib::EnumValue::from_value(&set).unwrap().1;
        assert_eq!((set.value(), set.nick()), (n as i32, pattern.as_str()));
    }
}
