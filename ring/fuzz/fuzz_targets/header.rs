//! Arbitrary bytes as a ring file: header validation, then every read a reader makes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    camd_ring::read_file_image(data);
});
