//! CloudFormation templates as YAML: a block-style emitter for JSON values that writes what
//! serde_yaml_ng (libyaml's emitter, unlimited width, unicode on) writes, so the documents stay
//! byte-identical while the browser's wasm module carries no YAML library. A property test holds
//! it to serde_yaml_ng's output for arbitrary strings; the snapshots pin whole templates.
//!
//! The scalar rules are libyaml's (`yaml_emitter_analyze_scalar` and
//! `yaml_emitter_select_scalar_style` in emitter.c): a string is written plain when YAML would
//! read it back as the same string, else single-quoted, else double-quoted with escapes;
//! serde_yaml_ng quotes strings that would read as null, booleans or numbers, and writes
//! strings with a line break as literal blocks.

use serde_json::Value;

/// The value as a YAML document (no `---`), ending in a line break.
pub(crate) fn to_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => mapping(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => sequence(&mut out, items, 0),
        other => {
            scalar(&mut out, other, 0);
            end_line(&mut out);
        }
    }
    out
}

/// Ends the line a scalar is on, unless the scalar (a literal block ending in a line break)
/// already did.
fn end_line(out: &mut String) {
    if !out.ends_with(is_break) {
        out.push('\n');
    }
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A block mapping at `level`; the first key goes where `out` is (after a `- ` or at a line start).
fn mapping(out: &mut String, map: &serde_json::Map<String, Value>, level: usize) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            indent(out, level);
        }
        if simple_key(key) {
            string(out, key, level + 2, true);
        } else {
            // libyaml's complex key: `? key`, then `:` on a line of its own.
            out.push_str("? ");
            string(out, key, level + 2, false);
            end_line(out);
            indent(out, level);
        }
        out.push(':');
        match value {
            Value::Object(m) if !m.is_empty() => {
                out.push('\n');
                indent(out, level + 2);
                mapping(out, m, level + 2);
            }
            // libyaml writes a sequence in a mapping at the key's indentation.
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                indent(out, level);
                sequence(out, items, level);
            }
            other => {
                out.push(' ');
                scalar(out, other, level + 2);
                end_line(out);
            }
        }
    }
}

/// A block sequence at `level`; the first `- ` goes where `out` is.
fn sequence(out: &mut String, items: &[Value], level: usize) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            indent(out, level);
        }
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => mapping(out, m, level + 2),
            Value::Array(inner) if !inner.is_empty() => sequence(out, inner, level + 2),
            other => {
                scalar(out, other, level + 2);
                end_line(out);
            }
        }
    }
}

/// A scalar (or an empty collection) in a block context at `level` (the indentation of a
/// literal block's lines).
fn scalar(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => number(out, n),
        Value::String(s) => string(out, s, level, false),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

fn number(out: &mut String, n: &serde_json::Number) {
    if n.is_f64() {
        let f = n.as_f64().unwrap_or_default();
        // serde_yaml_ng formats floats with ryu, as serde_json does.
        out.push_str(&serde_json::Number::from_f64(f).map_or_else(|| ".nan".to_owned(), |n| n.to_string()));
    } else {
        out.push_str(&n.to_string());
    }
}

/// libyaml's `yaml_emitter_check_simple_key` for a scalar: at most 128 bytes, on one line. A
/// template's keys always are (CloudFormation names, IAM condition keys); the complex-key form
/// below is written as libyaml writes it for a scalar value only.
fn simple_key(key: &str) -> bool {
    key.len() <= 128 && !key.contains(is_break)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

fn string(out: &mut String, s: &str, level: usize, simple_key: bool) {
    let wanted = if s.contains('\n') {
        Style::Literal
    } else if resolves_to_non_string(s) {
        Style::Single
    } else {
        Style::Plain
    };
    let a = analyze(s);
    let mut style = wanted;
    if simple_key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain && (!a.block_plain_allowed || (s.is_empty() && simple_key)) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single_quoted_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block_allowed || simple_key) {
        style = Style::Double;
    }
    match style {
        Style::Plain => out.push_str(s),
        Style::Single => single_quoted(out, s, level),
        Style::Double => double_quoted(out, s),
        Style::Literal => literal(out, s, level),
    }
}

/// What serde_yaml_ng's deserializer would read a plain scalar as, when not a string: null
/// (`~`, `null`, empty), a boolean (`true`/`false` in three casings), or a number (YAML 1.2 core
/// schema integers and floats, `0x`/`0o`/`0b` and signs included); digit strings with a leading
/// zero (`0123`) are quoted too, as serde_yaml_ng does.
fn resolves_to_non_string(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
        || matches!(s, "true" | "True" | "TRUE" | "false" | "False" | "FALSE")
        || is_int(s)
        || digits_but_not_number(s)
        || is_float(s)
}

fn is_int(s: &str) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let radix = |prefix: &str, ok: fn(&u8) -> bool| {
        unsigned.strip_prefix(prefix).is_some_and(|d| !d.is_empty() && d.bytes().all(|b| ok(&b)))
    };
    radix("0x", u8::is_ascii_hexdigit)
        || radix("0o", |b| (b'0'..=b'7').contains(b))
        || radix("0b", |b| *b == b'0' || *b == b'1')
        || (!unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) && !digits_but_not_number(s))
}

/// serde_yaml_ng's `digits_but_not_number`: a leading zero followed by more digits, signed or not.
fn digits_but_not_number(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
}

/// serde_yaml_ng's `parse_f64`: `.inf`/`.nan` spellings, or what Rust's float parser reads
/// (after a leading `+`), but not `inf`/`nan`/`infinity` spelled without the dot.
fn is_float(s: &str) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let rest = s.strip_prefix('+').unwrap_or(s);
    if rest.starts_with(['+', '-']) && s.starts_with('+') {
        return false;
    }
    rest.parse::<f64>().is_ok_and(f64::is_finite)
}

struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// libyaml's `IS_PRINTABLE` (unsafe-libyaml, emitter side): line feed, printable ASCII and
/// everything from U+00A0 but surrogates, U+FEFF and U+FFFE/U+FFFF. NEL (U+0085) is not, so a
/// string with one is written double-quoted and escaped.
fn printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// `yaml_emitter_analyze_scalar`, for the block context.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut previous_space, mut previous_break) =
        (false, false, false, false);
    let (mut line_breaks, mut special) = (false, false);
    let chars: Vec<char> = s.chars().collect();
    let mut preceded_by_whitespace = true;
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let followed_by_whitespace = next.is_none_or(|n| is_blank(n) || is_break(n));
        let (first, last) = (i == 0, i + 1 == chars.len());
        if first {
            if "#,[]{}&*!|>'\"%@`".contains(c) {
                block_indicators = true;
            }
            if (c == '?' || c == ':' || c == '-') && followed_by_whitespace {
                block_indicators = true;
            }
        } else {
            if c == ':' && followed_by_whitespace {
                block_indicators = true;
            }
            if c == '#' && preceded_by_whitespace {
                block_indicators = true;
            }
        }
        if !printable(c) {
            special = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        if c == ' ' {
            leading_space |= first;
            trailing_space |= last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            leading_break |= first;
            trailing_break |= last;
            space_break |= previous_space;
            previous_break = true;
            previous_space = false;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blank(c) || is_break(c);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks {
        a.block_plain_allowed = false;
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// `yaml_emitter_write_single_quoted_scalar` without line folding (unlimited width): `'`
/// doubled; a line break other than `\n` (only U+2028 and U+2029 reach here) is written as is
/// and the next character is indented to `level`.
fn single_quoted(out: &mut String, s: &str, level: usize) {
    out.push('\'');
    let mut breaks = false;
    // Characters written since the last line break, once there has been one.
    let mut column: Option<usize> = None;
    for c in s.chars() {
        if c == ' ' {
            out.push(' ');
            column = column.map(|n| n + 1);
        } else if is_break(c) {
            if !breaks && c == '\n' {
                out.push('\n');
            }
            out.push(c);
            column = Some(0);
            breaks = true;
        } else {
            if breaks {
                let mut at = column.unwrap_or_default();
                if at > level {
                    out.push('\n');
                    at = 0;
                }
                indent(out, level.saturating_sub(at));
                column = Some(at.max(level));
            }
            if c == '\'' {
                out.push('\'');
            }
            out.push(c);
            column = column.map(|n| n + 1);
            breaks = false;
        }
    }
    if breaks {
        let at = column.unwrap_or_default();
        if at > level {
            out.push('\n');
            indent(out, level);
        } else {
            indent(out, level - at);
        }
    }
    out.push('\'');
}

/// `yaml_emitter_write_double_quoted_scalar` without line folding (unlimited width).
fn double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if printable(c) && c != '\u{feff}' && !is_break(c) && c != '"' && c != '\\' {
            out.push(c);
            continue;
        }
        match c {
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if u32::from(c) <= 0xff => out.push_str(&format!("\\x{:02X}", u32::from(c))),
            c if u32::from(c) <= 0xffff => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push_str(&format!("\\U{:08X}", u32::from(c))),
        }
    }
    out.push('"');
}

/// `yaml_emitter_write_literal_scalar`: `|`, an indentation indicator when the text starts with
/// a space or a break, the chomping indicator, then the text with each line indented to `level`
/// (line breaks other than `\n` written as they are).
fn literal(out: &mut String, s: &str, level: usize) {
    out.push('|');
    if s.starts_with(' ') || s.starts_with(is_break) {
        out.push('2');
    }
    let mut tail = s.chars().rev();
    match (tail.next(), tail.next()) {
        (Some(last), _) if !is_break(last) => out.push('-'),
        (Some(_), None) => out.push('+'),
        (Some(_), Some(before)) if is_break(before) => out.push('+'),
        _ => {}
    }
    out.push('\n');
    let mut breaks = true;
    for c in s.chars() {
        if is_break(c) {
            out.push(c);
            breaks = true;
        } else {
            if breaks {
                indent(out, level);
            }
            out.push(c);
            breaks = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn same(value: &Value) {
        let ours = to_string(value);
        let theirs = serde_yaml_ng::to_string(value).unwrap();
        assert_eq!(ours, theirs, "{value}");
    }

    #[test]
    fn shapes_and_scalars_are_written_as_serde_yaml_ng_writes_them() {
        for s in [
            "",
            "~",
            "null",
            "Null",
            "true",
            "FALSE",
            "yes",
            "no",
            "on",
            "y",
            "0",
            "-1",
            "+1",
            "007",
            "-007",
            "1.5",
            "1e3",
            "-.inf",
            ".NaN",
            "inf",
            "nan",
            "0x1F",
            "0o17",
            "0b101",
            "0x",
            "1_000",
            "2010-09-09",
            "*",
            "&a",
            "!x",
            "|",
            ">",
            "%",
            "@",
            "`",
            "'",
            "\"",
            "#",
            "a #b",
            "a#b",
            "a: b",
            "a:b",
            "a:",
            "- a",
            "-a",
            "-",
            "? a",
            "?a",
            ":a",
            ": a",
            "---",
            "--- a",
            "...",
            "a,b",
            "[a]",
            "{a}",
            " a",
            "a ",
            "a  b",
            "a\tb",
            "\tb",
            "é✓",
            "a\u{85}b",
            "\u{feff}",
            "a\nb",
            "a\n",
            "a\n\n",
            "\na",
            " a\nb",
            "a \nb",
            "a\n b",
            "\n",
            "'quoted'",
            "it's",
            "a\\b",
            "\u{1}",
            "\u{7f}",
            "^[\\w+=,.@:/-]+$",
            "letters, digits and + = , . @ : / _ - only",
        ] {
            same(&json!({ "k": s, "l": [s, [s]], "m": { "n": s, "o": [] , "p": {} } }));
            same(&json!({ s: 1 }));
        }
        same(&json!({ "a": [1, -2, 1.5, true, null, { "b": [{ "c": "d" }, []] }, [[1, 2], 3]] }));
        same(&json!([{ "a": 1 }, "x"]));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn any_string_is_written_as_serde_yaml_ng_writes_it(
            s in "[a-zA-Z0-9 :#\\-?,\\[\\]{}&*!|>'\"%@`~.+_\\\\/\t\n\r\u{85}\u{a0}é✓😀\u{2028}\u{1}\u{feff}]{0,12}",
            // Keys on one line (a template's keys are CloudFormation names and IAM condition keys).
            k in "[a-zA-Z0-9 :#\\-?,\\[\\]{}&*!|>'\"%@`~.+_\\\\/\t\u{a0}é✓😀\u{1}\u{feff}]{0,12}",
        ) {
            same(&json!({ "k": s.clone(), "l": [s.clone()], "m": { "n": s.clone() } }));
            same(&json!({ "k": { k.clone(): [s.clone()] }, k.clone(): { "a": s }, "z": { k: 1 } }));
        }
    }
}
