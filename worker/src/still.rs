//! `camd-worker still FORMAT WIDTH HEIGHT png|jpeg`: one raw frame (a ring's layout: nv12, rgb,
//! bgr, `camd_ring::PixelLayout::packed`) on stdin, the same picture as a PNG or a JPEG on
//! stdout. `camd snapshot` of a raw camera runs it, since only camd-worker links GStreamer: the
//! colour conversion is GStreamer's (videoconvert), the one camd's capture uses.

use camd::error::{Error, Kind, Result};
use camd_ring::{Codec, PixelLayout};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::process::ExitCode;

const USAGE: &str = "usage: camd-worker still nv12|rgb|bgr WIDTH HEIGHT png|jpeg  (raw frame on stdin, picture on stdout)";

pub fn main(args: &[OsString]) -> Result<ExitCode> {
    let usage = |why: &str| Error::new(Kind::Usage, format!("still: {why}\n{USAGE}"));
    let args: Vec<&str> = args
        .iter()
        .map(|a| a.to_str().ok_or_else(|| usage("arguments are not text")))
        .collect::<Result<_>>()?;
    let [format, width, height, to] = args.as_slice() else {
        return Err(usage("four arguments"));
    };
    let codec = Codec::from_name(format)
        .filter(|c| c.is_raw())
        .ok_or_else(|| usage(&format!("{format:?} is not a raw format")))?;
    let size = |s: &str| {
        s.parse::<u32>()
            .map_err(|_| usage(&format!("{s:?} is not a size")))
    };
    let layout =
        PixelLayout::packed(codec, size(width)?, size(height)?).map_err(|why| usage(&why))?;
    let encoder = match *to {
        "png" => "pngenc",
        "jpeg" => "jpegenc",
        other => return Err(usage(&format!("{other:?}: png or jpeg"))),
    };
    let mut frame = Vec::new();
    std::io::stdin()
        .read_to_end(&mut frame)
        .map_err(|e| Error::new(Kind::Io, format!("still: cannot read stdin: {e}")))?;
    if frame.len() != layout.frame_size as usize {
        return Err(usage(&format!(
            "stdin holds {} bytes; a {format} frame of {width}x{height} is {}",
            frame.len(),
            layout.frame_size
        )));
    }
    let picture = encode(&layout, frame, encoder)?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&picture)
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::new(Kind::Io, format!("still: cannot write stdout: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

/// appsrc (the frame) ! videoconvert ! ENCODER ! appsink: the encoded picture.
fn encode(layout: &PixelLayout, frame: Vec<u8>, encoder: &str) -> Result<Vec<u8>> {
    let fail = |what: String| Error::new(Kind::Pipeline, format!("still: {what}"));
    gst::init().map_err(|e| fail(format!("GStreamer: {e}")))?;
    let format = match layout.codec {
        Codec::Nv12 => "NV12",
        Codec::Rgb => "RGB",
        Codec::Bgr => "BGR",
        Codec::Jpeg => unreachable!("raw formats only"),
    };
    let caps = gst::Caps::builder("video/x-raw")
        .field("format", format)
        .field("width", layout.width as i32)
        .field("height", layout.height as i32)
        .field("framerate", gst::Fraction::new(0, 1))
        .build();
    let src = gst_app::AppSrc::builder().caps(&caps).build();
    let sink = gst_app::AppSink::builder().sync(false).build();
    let pipeline = gst::Pipeline::new();
    let convert = make("videoconvert")?;
    let encode = make(encoder)?;
    let elements = [src.upcast_ref(), &convert, &encode, sink.upcast_ref()];
    pipeline
        .add_many(elements)
        .map_err(|e| fail(format!("cannot build the pipeline: {e}")))?;
    gst::Element::link_many(elements).map_err(|e| fail(format!("cannot link: {e}")))?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|e| fail(format!("cannot start: {e}")))?;
    let result = (|| {
        src.push_buffer(gst::Buffer::from_mut_slice(frame))
            .map_err(|e| fail(format!("cannot push the frame: {e}")))?;
        src.end_of_stream()
            .map_err(|e| fail(format!("cannot end the stream: {e}")))?;
        let sample = sink
            .try_pull_sample(gst::ClockTime::from_seconds(10))
            .ok_or_else(|| fail(format!("{encoder} gave no picture")))?;
        let buffer = sample
            .buffer()
            .ok_or_else(|| fail("an empty sample".into()))?;
        let map = buffer
            .map_readable()
            .map_err(|e| fail(format!("cannot read the picture: {e}")))?;
        Ok(map.as_slice().to_vec())
    })();
    let _ = pipeline.set_state(gst::State::Null);
    result
}

fn make(name: &str) -> Result<gst::Element> {
    gst::ElementFactory::make(name).build().map_err(|e| {
        Error::new(
            Kind::Element,
            format!("still: cannot make {name}: {e} (is its GStreamer plugin installed?)"),
        )
    })
}
