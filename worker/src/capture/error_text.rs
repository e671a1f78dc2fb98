//! What a camera's `last_error` says: one sentence a person understands, with the likely fix,
//! made from GStreamer's error and its debug text. GStreamer's own texts name source files
//! ("../gst/rtsp/gstrtspsrc.c(7894): gst_rtspsrc_...: /GstPipeline:...") and run past the
//! ring's 255-byte field, which cut them mid-word; the known failures of an RTSP camera are
//! named here with what to set, and anything else keeps GStreamer's message without the source
//! location. Pure text: tested without GStreamer.

/// The ring's `status.last_error` holds this many bytes of text.
pub const MAX_LEN: usize = camd_ring::layout::ERROR_LEN - 1;

/// A camera that nothing answers for (also camd's own question before a password goes out).
pub const UNREACHABLE: &str = "nothing answers at the camera's address and port (connection \
                               refused or unreachable): check the url, the camera's power and \
                               the network";

/// A camera whose host name does not resolve.
pub const UNRESOLVED: &str =
    "the camera's host name does not resolve: check the url, or use its IP address";

/// One explanation for a known failure: every `needles` must appear in the error or its debug
/// text (case-insensitive).
struct Known {
    needles: &'static [&'static str],
    says: &'static str,
}

/// The RTSP failures people meet, most specific first.
const KNOWN: &[Known] = &[
    Known {
        needles: &["unauthorized"],
        says: "the camera refused the user name or password (RTSP 401 Unauthorized): check the \
               url's user and the camera's password_file",
    },
    Known {
        needles: &["not found"],
        says: "the camera has no stream at that path (RTSP 404 Not Found): check the url's path \
               in the camera's manual",
    },
    Known {
        needles: &["bad request"],
        says: "the camera refused camd's RTSP request (400 Bad Request), which cameras that \
               cannot send RTSP over TCP do: set transport = \"udp\" (or \"auto\") for this camera",
    },
    Known {
        needles: &["unsupported transport"],
        says: "the camera refused the transport camd asked for (RTSP 461 Unsupported Transport): \
               set transport = \"auto\" for this camera",
    },
    Known {
        needles: &["no supported stream was found"],
        says: "the camera offered no stream over the transports camd may use: set transport = \
               \"auto\" for this camera (or \"tcp\" behind a firewall that drops UDP)",
    },
    Known {
        needles: &["could not receive any udp packets"],
        says: "no video arrived over UDP (a firewall or NAT drops it): set transport = \"tcp\" \
               for this camera",
    },
    Known {
        needles: &["could not open resource for reading and writing"],
        says: UNREACHABLE,
    },
    Known {
        needles: &["could not resolve"],
        says: UNRESOLVED,
    },
    // v4l2src when the device goes away under it (a webcam unplugged, vivid's `disconnect`
    // control, a driver that failed): measured in the vm-test guest (docs/vm-test.md).
    Known {
        needles: &["could not read from resource", "poll error"],
        says: WEBCAM_GONE,
    },
];

/// A V4L2 device that stopped delivering frames under camd.
pub const WEBCAM_GONE: &str = "the webcam stopped delivering frames (unplugged, or its driver \
                               failed): camd opens it again when it is back";

/// `last_error` for a pipeline error `message` with GStreamer's `debug` text, if any.
pub fn explain(message: &str, debug: Option<&str>) -> String {
    let human = debug.map(human_lines).unwrap_or_default();
    let haystack = format!("{message} {human}").to_lowercase();
    if let Some(known) = KNOWN
        .iter()
        .find(|k| k.needles.iter().all(|n| haystack.contains(n)))
    {
        return fit(known.says);
    }
    let message = message.trim().trim_end_matches('.');
    if human.is_empty() || message.contains(human.as_str()) {
        fit(message)
    } else {
        fit(&format!("{message} ({human})"))
    }
}

/// The lines of GStreamer's debug text that are for people: not the source location
/// (`file.c(123): function (): /GstPipeline:...`), joined by spaces.
fn human_lines(debug: &str) -> String {
    debug
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !is_location(l))
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_location(line: &str) -> bool {
    line.contains(".c(") || line.contains("/GstPipeline:") || line.contains("/GstBin:")
}

/// `text` in at most `MAX_LEN` bytes, cut after a whole word with "…" when it is longer.
pub fn fit(text: &str) -> String {
    camd::cut_text::cut_at_word(text, MAX_LEN, camd::cut_text::Units::Bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// rtspsrc's message when no transport works, as seen from a server without RTSP over TCP.
    #[test]
    fn gstreamer_texts_become_a_sentence_with_the_fix() {
        let text = explain(
            "No supported stream was found. You might need to allow more transport protocols or \
             may otherwise be missing the right GStreamer RTSP extension plugin.",
            Some(
                "../gst/rtsp/gstrtspsrc.c(7894): gst_rtspsrc_setup_streams_start (): \
                 /GstPipeline:pipeline0/GstRTSPSrc:source",
            ),
        );
        assert!(text.contains("transport = \"auto\""), "{text}");
        assert!(!text.contains(".c("), "{text}");
        let text = explain(
            "Could not write to resource.",
            Some("../gst/rtsp/gstrtspsrc.c(6601): gst_rtsp_src_receive_response (): /GstPipeline:p/GstRTSPSrc:s:\nError (400): Bad Request"),
        );
        assert!(text.contains("transport = \"udp\""), "{text}");
        for (message, debug, expect) in [
            ("Unauthorized", "Unauthorized (401)", "password"),
            ("Not Found", "Not Found (404)", "path"),
            (
                "Could not open resource for reading and writing.",
                "Failed to connect. (Generic error)",
                "nothing answers",
            ),
        ] {
            let text = explain(message, Some(debug));
            assert!(text.contains(expect), "{message}: {text}");
        }
    }

    /// v4l2src's texts when vivid's `disconnect` control unplugs the device (vm-test guest).
    #[test]
    fn an_unplugged_webcam_says_so() {
        let text = explain(
            "Could not read from resource.",
            Some(
                "../sys/v4l2/gstv4l2bufferpool.c(1239): gst_v4l2_buffer_pool_poll (): \
                 /GstPipeline:pipeline0/GstV4l2Src:v4l2src0:\npoll error 1: Invalid argument (22)",
            ),
        );
        assert_eq!(text, WEBCAM_GONE);
    }

    #[test]
    fn an_unknown_error_keeps_the_message_without_the_source_location() {
        let text = explain(
            "Internal data stream error.",
            Some("../libs/gst/base/gstbasesrc.c(3132): gst_base_src_loop (): /GstPipeline:pipeline0/GstRTSPSrc:src:\nstreaming stopped, reason not-linked (-1)"),
        );
        assert_eq!(
            text,
            "Internal data stream error (streaming stopped, reason not-linked (-1))"
        );
    }

    #[test]
    fn long_texts_are_cut_after_a_whole_word() {
        let long = "word ".repeat(100);
        let text = fit(&long);
        assert!(text.len() <= MAX_LEN, "{}", text.len());
        assert!(text.ends_with("word…"), "{text}");
        let text = fit(&"é".repeat(300));
        assert!(text.len() <= MAX_LEN && text.ends_with('…'));
        assert_eq!(fit("short"), "short");
    }
}
