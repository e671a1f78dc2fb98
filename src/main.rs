//! `camd`: the camera-capture daemon's command line.

fn main() {
    eprintln!("camd: capture is not built yet");
    std::process::exit(2);
}
