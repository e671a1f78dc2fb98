//! Sets what `ps` and /proc/PID/cmdline show for this process: a worker names its cameras
//! there, and renames itself when a reload changes them. Linux reads the command line from the
//! process's original argument area (`arg_start`..`arg_end` in /proc/self/stat); the title is
//! written into that area in place, so it can be at most as long as the arguments the process
//! was started with (the supervisor starts workers with room to spare).

use std::io;

/// Replaces the process title; truncated (with "...") to the room there is. Call it after the
/// arguments have been read: `std::env::args()` reads the same memory.
pub fn set(title: &str) -> io::Result<()> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let (start, end) = arg_area(&stat).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "no argument area in /proc/self/stat",
        )
    })?;
    let room = end.saturating_sub(start);
    if room < 2 {
        return Err(io::Error::other("no room for a title"));
    }
    let bytes = fit(title, room - 1);
    let mut area = vec![0u8; room];
    area[..bytes.len()].copy_from_slice(bytes.as_bytes());
    // SAFETY: [start, end) is this process's argument area, as the kernel reports it: memory
    // at the top of the main thread's stack, mapped read-write for the life of the process.
    // Nothing in this program holds a Rust reference into it: std keeps only raw pointers to
    // argv and copies the strings when `env::args()` is called (documented above: call this
    // after reading the arguments). The write stays inside the area and leaves it
    // NUL-terminated.
    unsafe {
        std::ptr::copy_nonoverlapping(area.as_ptr(), start as *mut u8, room);
    }
    Ok(())
}

/// `arg_start` and `arg_end`: fields 48 and 49 of /proc/PID/stat (after the command name,
/// which may hold spaces and parentheses, hence the search from the last ')').
fn arg_area(stat: &str) -> Option<(usize, usize)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state).
    let start = fields.get(48 - 3)?.parse().ok()?;
    let end = fields.get(49 - 3)?.parse().ok()?;
    (start != 0 && end > start).then_some((start, end))
}

/// `title` cut at a character boundary to at most `room` bytes, ending in "..." when cut.
fn fit(title: &str, room: usize) -> String {
    if title.len() <= room {
        return title.to_owned();
    }
    let mut cut = room.saturating_sub(3);
    while !title.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...", &title[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_argument_area_behind_an_odd_command_name() {
        let mut stat = String::from("42 (a) b (c)) S");
        for field in 4..=52 {
            stat += &format!(" {field}");
        }
        assert_eq!(arg_area(&stat), Some((48, 49)));
        assert_eq!(arg_area("1 (x) S 0"), None);
    }

    #[test]
    fn long_titles_are_cut_on_a_character() {
        assert_eq!(fit("camd worker", 20), "camd worker");
        assert_eq!(fit("camd worker #0: a b c", 12), "camd work...");
        assert_eq!(fit("ééééé", 6), "é...");
    }
}
