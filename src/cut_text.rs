//! Cutting a text to a size after a whole word, with "…": the ring's 255-byte `last_error`
//! (`camd-worker`'s error texts) and the status table's cells (`camd status`) cut the same way.

/// What a size is counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Units {
    /// UTF-8 bytes (a fixed-size field).
    Bytes,
    /// Characters (terminal columns, for the texts camd shows).
    Chars,
}

impl Units {
    fn len(self, text: &str) -> usize {
        match self {
            Self::Bytes => text.len(),
            Self::Chars => text.chars().count(),
        }
    }
}

/// `text`, trimmed, in at most `max` `units`: whole when it fits, else cut after the last
/// whole word in its second half (or mid-word when there is none), a trailing `,;:(` and
/// spaces removed, and "…" appended.
pub fn cut_at_word(text: &str, max: usize, units: Units) -> String {
    let text = text.trim();
    if units.len(text) <= max {
        return text.to_owned();
    }
    let room = max.saturating_sub(units.len("…"));
    // The longest head (ending on a character boundary) that fits the room.
    let (mut end, mut used) = (0, 0);
    for c in text.chars() {
        let size = match units {
            Units::Bytes => c.len_utf8(),
            Units::Chars => 1,
        };
        if used + size > room {
            break;
        }
        used += size;
        end += c.len_utf8();
    }
    let head = &text[..end];
    let cut = head
        .rfind(char::is_whitespace)
        .filter(|&space| units.len(&head[..space]) > room / 2)
        .unwrap_or(end);
    format!(
        "{}…",
        text[..cut].trim_end_matches([' ', ',', ';', ':', '('])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_when_it_fits_else_after_a_word() {
        assert_eq!(cut_at_word(" short ", 10, Units::Chars), "short");
        assert_eq!(
            cut_at_word("nothing answers at the camera's address", 24, Units::Chars),
            "nothing answers at the…"
        );
        // Bytes: "é" is two, "…" three.
        let cut = cut_at_word("été été été été", 12, Units::Bytes);
        assert!(cut.len() <= 12 && cut.ends_with('…'), "{cut:?}");
        assert_eq!(cut, "été…");
        // No space in the second half: cut mid-word.
        assert_eq!(cut_at_word("abcdefghij", 5, Units::Chars), "abcd…");
    }
}
