//! Names that people type and terminals print: checked on the way in ([`check_name`]) and
//! escaped on the way out ([`for_terminal`]).
//!
//! A connection's name is shown in tables and logs. A control character there (ESC starts an
//! ANSI sequence that can move the cursor, recolour or retitle the terminal) or a bidirectional
//! override (which reorders what is displayed, as in CVE-2021-42574, "Trojan Source") would let
//! whoever chose the name change what the operator sees.

use std::borrow::Cow;

/// The longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 128;

/// Unicode's explicit directional embeddings and overrides (U+202A–U+202E) and isolates
/// (U+2066–U+2069), from Unicode Standard Annex #9, "Unicode Bidirectional Algorithm", table 1.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Checks a display name the user gave for `field`: 1–128 characters, not only whitespace, no
/// control characters (tabs, newlines, ESC…) and no bidirectional overrides. The error names the
/// field and says what to change.
pub fn check_name(field: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{field}: must not be empty; give a name people will recognise"));
    }
    let chars = value.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(format!("{field}: at most {MAX_NAME_CHARS} characters, got {chars}; shorten the name"));
    }
    if let Some((at, c)) = value.chars().enumerate().find(|&(_, c)| is_unsafe(c)) {
        let kind = if c.is_control() { "control character" } else { "bidirectional text control" };
        return Err(format!(
            "{field}: {kind} U+{:04X} at character {} is not allowed; remove it (names are shown in terminals)",
            u32::from(c),
            at + 1
        ));
    }
    Ok(())
}

/// `s` with every control character and bidirectional control replaced by a visible escape
/// (`\x1b`, `\n`, `\u{202e}`), so a name stored before [`check_name`] existed cannot drive the
/// terminal it is printed on. Borrowed when nothing needed escaping; a backslash is left as is.
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) && u32::from(c) <= 0xff => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:04x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Checks that a region is one AWS has (as of this build), naming the nearest one for a typo.
/// `sync.allow_unknown_regions` lets a region newer than the build through.
pub fn check_region(region: &trustline_core::Region) -> Result<(), String> {
    if region.is_known() {
        return Ok(());
    }
    let hint = trustline_core::suggest_region(region.as_str())
        .map(|r| format!("did you mean {r}? "))
        .unwrap_or_default();
    Err(format!(
        "unknown region '{region}': {hint}(a region newer than this build of Trustline is accepted with sync.allow_unknown_regions = true)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_names_pass() {
        for name in ["Acme production", "ACME – Produktion (eu)", "日本の本番", "a", &"x".repeat(128)]
        {
            assert_eq!(check_name("name", name), Ok(()), "{name}");
        }
    }

    #[test]
    fn bad_names_say_what_to_fix() {
        let err = check_name("name", "").unwrap_err();
        assert!(err.starts_with("name: must not be empty"), "{err}");
        assert!(check_name("name", " \u{3000}\t").unwrap_err().contains("must not be empty"));
        let err = check_name("name", &"é".repeat(129)).unwrap_err();
        assert!(err.contains("at most 128 characters, got 129"), "{err}");
        let err = check_name("name", "acme\u{1b}[2Jprod").unwrap_err();
        assert_eq!(
            err,
            "name: control character U+001B at character 5 is not allowed; remove it (names are shown in terminals)"
        );
        assert!(check_name("tenant", "a\nb").unwrap_err().starts_with("tenant: control character U+000A"));
        assert!(check_name("name", "a\u{85}b").unwrap_err().contains("U+0085"), "C1 controls too");
        for c in ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}'] {
            let err = check_name("name", &format!("invoice{c}fdp.exe")).unwrap_err();
            assert!(err.contains("bidirectional text control") && err.contains("character 8"), "{err}");
        }
    }

    #[test]
    fn terminal_text_is_escaped_visibly() {
        assert!(matches!(for_terminal("plain – name"), Cow::Borrowed("plain – name")));
        assert_eq!(for_terminal("a\u{1b}[31mred"), "a\\x1b[31mred");
        assert_eq!(for_terminal("x\ny\tz\r\u{7f}\u{85}"), "x\\ny\\tz\\r\\x7f\\x85");
        assert_eq!(for_terminal("abc\u{202e}fed\u{2069}"), "abc\\u{202e}fed\\u{2069}");
        assert_eq!(for_terminal("back\\slash\u{0}"), "back\\slash\\x00");
        let escaped = for_terminal("\u{1b}]0;pwned\u{7}");
        assert!(!escaped.chars().any(is_unsafe), "{escaped}");
    }
}
