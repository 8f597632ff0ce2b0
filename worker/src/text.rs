//! Names people type: checked before they are stored.

/// Longest display name accepted.
pub const MAX_NAME: usize = 128;

/// Checks a display name: 1–128 characters, no control characters.
pub fn check_name(field: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() || value.chars().count() > MAX_NAME {
        return Err(format!("{field}: use 1–{MAX_NAME} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{field}: remove control characters (such as terminal escapes)"));
    }
    Ok(())
}
