//! CloudFormation console quick-create links: one click opens the stack review page with the
//! template and every parameter (the ExternalId included) filled in.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::arn::Region;
use crate::error::{Error, Result, quote};

/// Characters left as they are in query values; everything else is percent-encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Longest link Trustline emits. The fragment never reaches AWS's servers, but a signed-out
/// customer is sent through the sign-in page with the whole link as a query parameter, and
/// request lines over 8 KiB are refused by common proxies and servers on that path.
pub const MAX_LINK_LEN: usize = 8_192;

/// Everything a quick-create link carries.
#[derive(Debug, Clone)]
pub struct QuickCreate<'a> {
    /// Where the console opens (its partition decides the console host).
    pub region: &'a Region,
    /// The template's HTTPS S3 URL.
    pub template_url: &'a str,
    /// The suggested stack name.
    pub stack_name: &'a str,
    /// Template parameters, e.g. `("ExternalId", "…")`.
    pub parameters: &'a [(&'a str, &'a str)],
}

/// Builds the link after checking the stack name, the template URL and the length.
pub fn link(q: &QuickCreate<'_>) -> Result<String> {
    validate_stack_name(q.stack_name)?;
    validate_template_url(q.template_url, q.region)?;
    build_link(q)
}

/// [`link`] for a caller that has run [`validate_template_url_parts`] on the template URL with
/// its own URL parser (the browser): everything else is checked here.
pub fn link_with_checked_url(q: &QuickCreate<'_>) -> Result<String> {
    validate_stack_name(q.stack_name)?;
    build_link(q)
}

fn build_link(q: &QuickCreate<'_>) -> Result<String> {
    let host = q.region.partition().console_host(q.region);
    let mut url = format!(
        "https://{host}/cloudformation/home?region={region}#/stacks/create/review?templateURL={template}&stackName={name}",
        region = q.region,
        template = utf8_percent_encode(q.template_url, QUERY_VALUE),
        name = q.stack_name,
    );
    for (name, value) in q.parameters {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::invalid(
                "parameters",
                format!("template parameter names are alphanumeric, got {}", quote(name)),
            ));
        }
        url.push_str(&format!("&param_{name}={}", utf8_percent_encode(value, QUERY_VALUE)));
    }
    if url.len() > MAX_LINK_LEN {
        return Err(Error::too_large(
            "template_url",
            format!(
                "the link would be {} characters, over {MAX_LINK_LEN}; shorten the template URL or parameter values",
                url.len()
            ),
        ));
    }
    Ok(url)
}

/// Stack names: letters, digits and hyphens, starting with a letter, at most 128 characters.
pub fn validate_stack_name(name: &str) -> Result<()> {
    let ok = name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "stack_name",
            format!(
                "stack names start with a letter and contain only letters, digits and hyphens (at most 128), got {}",
                quote(name)
            ),
        ))
    }
}

/// Template URLs must be HTTPS objects in S3 in the console's partition.
pub fn validate_template_url(raw: &str, region: &Region) -> Result<()> {
    let url = url::Url::parse(raw).ok();
    let parts = url.as_ref().map(|u| UrlParts {
        scheme: u.scheme(),
        host: u.host_str().unwrap_or_default(),
        path: u.path(),
    });
    validate_template_url_parts(raw, parts, region)
}

/// A URL as a WHATWG URL parser splits it: the `url` crate, or a browser's `URL` (whose
/// `protocol` ends in `:`, which the caller removes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// `https`.
    pub scheme: &'a str,
    /// The host, without a port.
    pub host: &'a str,
    /// The path, starting with `/`.
    pub path: &'a str,
}

/// [`validate_template_url`]'s checks on a URL the caller has parsed (None: `raw` is not a URL).
/// For callers that have a URL parser already, such as the browser, and need no second one.
pub fn validate_template_url_parts(raw: &str, parts: Option<UrlParts<'_>>, region: &Region) -> Result<()> {
    const FIELD: &str = "template_url";
    let url = parts
        .ok_or_else(|| Error::invalid(FIELD, format!("{} is not a URL; expected e.g. https://my-bucket.s3.us-east-1.amazonaws.com/trustline/role.yaml", quote(raw))))?;
    if url.scheme != "https" {
        return Err(Error::invalid(FIELD, format!("the template URL must use https, got {}", quote(raw))));
    }
    let host = url.host;
    let suffix = format!(".{}", region.partition().dns_suffix());
    let Some(prefix) = host.strip_suffix(&suffix) else {
        return Err(Error::invalid(
            FIELD,
            format!(
                "CloudFormation only reads templates from Amazon S3 in the {} partition (…{suffix}); {host} is not an S3 host",
                region.partition()
            ),
        ));
    };
    // s3, s3.REGION, s3-REGION (legacy), BUCKET.s3, BUCKET.s3.REGION, BUCKET.s3-REGION.
    let labels: Vec<&str> = prefix.split('.').collect();
    let s3 = labels.iter().position(|l| *l == "s3" || l.starts_with("s3-"));
    let is_s3 = match s3 {
        Some(i) => labels.len() - i <= 2 && (i + 1 == labels.len() || labels[i] == "s3"),
        None => false,
    };
    if !is_s3 {
        return Err(Error::invalid(
            FIELD,
            format!("{host} is not an Amazon S3 host; upload the template to S3 and use the object's URL"),
        ));
    }
    let path_style = s3 == Some(0);
    let segments = url.path.trim_start_matches('/');
    if segments.is_empty() || (path_style && !segments.contains('/')) {
        return Err(Error::invalid(FIELD, format!("{} does not name an object in a bucket", quote(raw))));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a browser's `URL` gives for these URLs (protocol without its `:`, hostname, pathname)
    /// is checked exactly as the `url` crate's parse.
    #[test]
    fn parts_from_another_parser_are_checked_the_same_way() {
        let region: Region = "us-east-1".parse().unwrap();
        let cases = [
            ("https://b.s3.amazonaws.com/t.yaml", Some(("https", "b.s3.amazonaws.com", "/t.yaml"))),
            ("http://b.s3.amazonaws.com/t.yaml", Some(("http", "b.s3.amazonaws.com", "/t.yaml"))),
            ("https://example.com/t.yaml", Some(("https", "example.com", "/t.yaml"))),
            ("https://s3.amazonaws.com/bucket-only", Some(("https", "s3.amazonaws.com", "/bucket-only"))),
            ("not a url", None),
        ];
        for (raw, parts) in cases {
            let parts = parts.map(|(scheme, host, path)| UrlParts { scheme, host, path });
            assert_eq!(
                validate_template_url_parts(raw, parts, &region),
                validate_template_url(raw, &region),
                "{raw}"
            );
        }
    }

    #[test]
    fn a_link_for_a_checked_url_is_the_same_link() {
        let region: Region = "eu-west-1".parse().unwrap();
        let q = QuickCreate {
            region: &region,
            template_url: "https://b.s3.eu-west-1.amazonaws.com/role.yaml",
            stack_name: "acme-read-only",
            parameters: &[("ExternalId", "acme:tenant-42:abc")],
        };
        assert_eq!(link_with_checked_url(&q), link(&q));
        let bad_name = QuickCreate { stack_name: "1bad", ..q.clone() };
        assert_eq!(link_with_checked_url(&bad_name), link(&bad_name));
    }
}
