//! (being written)

/// `log_level` / `--log-level`: error, warn, info, debug, trace or off. (Placeholder until the
/// logging module lands.)
pub fn parse_level(s: &str) -> Result<log::LevelFilter, String> {
    s.parse()
        .map_err(|_| format!("{s:?} is not a log level (error, warn, info, debug, trace, off)"))
}
