//! The booking domain: entities, their state machines and the rules, with no AWS types.
//!
//! - `lock.rs`: a seat lock (hold) and **the lock-expiry rule**.
//! - `booking.rs`: a booking and its payment window.
//! - `hold.rs`: a lock and the booking made from it, stored together; what each refused
//!   transition means for the caller.
//! - `event.rs`: events and the seat inventory invariant.
//! - `category.rs`: ticket categories (tiers), their prices and seats.
//! - `user.rs`: users, roles and registration rules.
//! - `ids.rs`: identifier formats.
//! - [`has_control_characters`]: the rule for text people type (names, descriptions, keys, references).
pub mod booking;
pub mod category;
pub mod event;
pub mod hold;
pub mod ids;
pub mod lock;
pub mod user;

/// Whether `text` holds control characters, which names and descriptions refuse: they corrupt
/// the logs, terminals and pages that show the text (a NUL, an escape sequence, a backspace).
/// A description (`lines`) may keep its line breaks and tabs.
pub fn has_control_characters(text: &str, lines: bool) -> bool {
    text.chars().any(|c| c.is_control() && !(lines && matches!(c, '\n' | '\r' | '\t')))
}

#[cfg(test)]
mod tests {
    use super::has_control_characters;

    #[test]
    fn control_characters_are_found_and_line_breaks_allowed_where_asked() {
        for bad in ["a\u{0}b", "\u{1b}[31mred", "back\u{8}space", "del\u{7f}", "c1\u{85}"] {
            assert!(has_control_characters(bad, false), "{bad:?}");
            assert!(has_control_characters(bad, true), "{bad:?}");
        }
        assert!(has_control_characters("two\nlines", false));
        assert!(!has_control_characters("two\r\nlines\tand a tab", true));
        assert!(!has_control_characters("Zoë's café, 東京 🎫", false));
    }
}
