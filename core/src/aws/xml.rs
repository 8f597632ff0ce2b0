//! Small helpers over `roxmltree` for the query protocols' XML: elements are matched by local
//! name (namespaces vary and moto omits EC2's trailing `/`), unknown elements are ignored and
//! missing optional ones are `None`.

use roxmltree::{Document, Node};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::AwsError;

/// Parses a response body as XML; anything else (HTML, truncation, bad UTF-8) is an error.
pub(crate) fn parse(status: u16, body: &[u8]) -> Result<Document<'_>, AwsError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| AwsError::invalid_response(status, "the response body is not UTF-8"))?;
    Document::parse(text).map_err(|e| {
        AwsError::invalid_response(status, format!("the response body is not well-formed XML ({e})"))
    })
}

/// The first child element named `name`.
pub(crate) fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|n| n.is_element() && n.tag_name().name() == name)
}

/// The first descendant element (depth-first, including `node`) named `name`.
pub(crate) fn find<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.descendants().find(|n| n.is_element() && n.tag_name().name() == name)
}

/// The text of child `name`, if present (an empty element is `Some("")`).
pub(crate) fn text(node: Node<'_, '_>, name: &str) -> Option<String> {
    child(node, name).map(|n| n.text().unwrap_or_default().to_owned())
}

/// The text of child `name`, which AWS always sends.
pub(crate) fn required(node: Node<'_, '_>, name: &str) -> Result<String, AwsError> {
    text(node, name)
        .ok_or_else(|| AwsError::invalid_response(200, format!("the response has no <{name}> element")))
}

/// The list items (`<member>` for IAM/STS, `<item>` for EC2) under child `name`; none when absent.
pub(crate) fn items<'a, 'i>(node: Node<'a, 'i>, name: &str) -> impl Iterator<Item = Node<'a, 'i>> {
    child(node, name)
        .into_iter()
        .flat_map(|list| list.children())
        .filter(|n| n.is_element() && matches!(n.tag_name().name(), "member" | "item"))
}

/// A boolean child (`true`/`false`); absent means `false`.
pub(crate) fn flag(node: Node<'_, '_>, name: &str) -> bool {
    text(node, name).is_some_and(|t| t.trim().eq_ignore_ascii_case("true"))
}

/// A numeric child, if present and numeric.
pub(crate) fn number<T: std::str::FromStr>(node: Node<'_, '_>, name: &str) -> Option<T> {
    text(node, name).and_then(|t| t.trim().parse().ok())
}

/// An ISO 8601 timestamp child, if present.
pub(crate) fn timestamp(node: Node<'_, '_>, name: &str) -> Result<Option<OffsetDateTime>, AwsError> {
    text(node, name).map(|t| parse_timestamp(&t)).transpose()
}

/// Parses `2015-03-09T12:00:00Z`, with or without fractional seconds (moto sends microseconds),
/// with an offset, or with none at all (taken as UTC).
pub(crate) fn parse_timestamp(text: &str) -> Result<OffsetDateTime, AwsError> {
    let text = text.trim();
    OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&format!("{text}Z"), &Rfc3339))
        .map_err(|_| AwsError::invalid_response(200, format!("'{text}' is not an ISO 8601 timestamp")))
}

/// The element holding the operation's result: `<{Action}Result>` for IAM/STS, the root for EC2.
pub(crate) fn result<'a, 'i>(doc: &'a Document<'i>, action: &str) -> Result<Node<'a, 'i>, AwsError> {
    let root = doc.root_element();
    let name = format!("{action}Result");
    if root.tag_name().name() == format!("{action}Response") {
        return child(root, &name).ok_or_else(|| {
            AwsError::invalid_response(200, format!("the {action} response has no <{name}> element"))
        });
    }
    Err(AwsError::invalid_response(
        200,
        format!("expected a <{action}Response> document, got <{}>", root.tag_name().name()),
    ))
}

/// Decodes a URL-encoded policy document (IAM sends them that way; moto sometimes does not).
pub(crate) fn policy_document(raw: &str) -> String {
    let trimmed = raw.trim_start();
    if trimmed.starts_with('{') {
        return raw.to_owned();
    }
    percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_with_and_without_fractions() {
        for t in [
            "2015-03-09T12:00:00Z",
            "2015-03-09T12:00:00.000Z",
            "2015-03-09T12:00:00.123456+00:00",
            "2015-03-09T12:00:00",
        ] {
            assert_eq!(parse_timestamp(t).unwrap().unix_timestamp(), 1_425_902_400, "{t}");
        }
        assert!(parse_timestamp("yesterday").is_err());
    }

    #[test]
    fn policy_documents_are_decoded_once() {
        assert_eq!(policy_document("%7B%22Version%22%3A%222012-10-17%22%7D"), r#"{"Version":"2012-10-17"}"#);
        assert_eq!(policy_document(r#"{"a":"%41"}"#), r#"{"a":"%41"}"#);
    }
}
