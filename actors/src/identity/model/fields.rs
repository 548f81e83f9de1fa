//! Parsing of the identity fields a client sends: parse, don't validate.
//! Each function returns the normalised value or a reason for the client.

pub use crate::shared::contact::{Address, address, display_name, email, is_country_code, phone};

pub const USERNAME_LEN: std::ops::RangeInclusive<usize> = 3..=32;
pub const PASSWORD_LEN: std::ops::RangeInclusive<usize> = 12..=128;

/// Usernames are case-insensitive: stored and compared in lower case.
pub fn username(raw: &str) -> Result<String, String> {
    let name = raw.trim().to_lowercase();
    if !USERNAME_LEN.contains(&name.chars().count()) {
        return Err("must be 3 to 32 characters".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'))
    {
        return Err("may contain only letters a-z, digits, '_', '.' and '-'".into());
    }
    Ok(name)
}

/// E-mail addresses are unique regardless of case.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Checks a new password against the policy; `username` is already parsed.
pub fn password(raw: &str, username: &str) -> Result<(), String> {
    let length = raw.chars().count();
    if length < *PASSWORD_LEN.start() {
        return Err("must be at least 12 characters".into());
    }
    if length > *PASSWORD_LEN.end() {
        return Err("must be at most 128 characters".into());
    }
    let lower = raw.to_lowercase();
    if !username.is_empty() && lower.contains(username) {
        return Err("must not contain the username".into());
    }
    if is_common_password(&lower) {
        return Err("is too common; choose a less predictable password".into());
    }
    Ok(())
}

const COMMON_WORDS: &str = include_str!("common_passwords.txt");

/// A password is common if it is on the list, or is a listed word followed
/// only by digits and punctuation (`password2024!`), or repeats one short
/// pattern (`abcabcabcabc`).
fn is_common_password(lower: &str) -> bool {
    let stem = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    let listed = |candidate: &str| {
        COMMON_WORDS
            .lines()
            .map(str::trim)
            .any(|line| !line.is_empty() && !line.starts_with('#') && line == candidate)
    };
    if listed(lower) || (!stem.is_empty() && listed(stem)) || stem.is_empty() {
        return true;
    }
    let chars: Vec<char> = lower.chars().collect();
    (1..=4).any(|period| chars.iter().enumerate().all(|(i, c)| *c == chars[i % period]))
}
