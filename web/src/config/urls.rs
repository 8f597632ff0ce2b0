//! Where the page may send the session's token and a customer's key: `session.url` and
//! `stsEndpoint` are parsed as URLs (WHATWG: the browser's `URL`, natively the `url` crate, which
//! implements the same standard) and their scheme and host compared exactly. A prefix test
//! would pass `http://localhost.attacker.example`, `http://127.0.0.1.nip.io` (a public DNS name
//! that resolves to any address written in it) or `http://127.0.0.1@evil.example` (userinfo:
//! the host is `evil.example`).

use trustline_core::{Partition, Region};

/// The parts of an absolute URL the checks compare, as the WHATWG URL parser gives them: the
/// scheme and host lower-cased, an IPv4 host in dotted decimal, an IPv6 host in brackets and
/// compressed (`[::1]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlParts {
    /// `https`, `http`, …
    pub(crate) scheme: String,
    /// The host, empty when there is none.
    pub(crate) host: String,
    /// Whether the URL carries a user name or password before the host.
    pub(crate) userinfo: bool,
}

/// Parses an absolute URL (None when it is not one).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn parse(raw: &str) -> Option<UrlParts> {
    let url = url::Url::parse(raw).ok()?;
    Some(UrlParts {
        scheme: url.scheme().to_owned(),
        host: url.host_str().unwrap_or_default().to_owned(),
        userinfo: !url.username().is_empty() || url.password().is_some(),
    })
}

/// Parses an absolute URL (None when it is not one).
#[cfg(target_arch = "wasm32")]
pub(crate) fn parse(raw: &str) -> Option<UrlParts> {
    let url = web_sys::Url::new(raw).ok()?;
    let protocol = url.protocol();
    Some(UrlParts {
        scheme: protocol.strip_suffix(':').unwrap_or(&protocol).to_owned(),
        host: url.hostname(),
        userinfo: !url.username().is_empty() || !url.password().is_empty(),
    })
}

/// The loopback hosts plain `http` is allowed to (development, stand-ins), exactly: no
/// subdomain of them and no trailing dot.
const LOOPBACK: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

fn loopback_http(url: &UrlParts) -> bool {
    url.scheme == "http" && LOOPBACK.contains(&url.host.as_str())
}

/// Checks `session.url`: https to any host, http to an exact loopback host, or a path on this
/// page's origin (`/trustline`; not `//host`, which is another origin). Never userinfo.
pub fn check_session_url(raw: &str) -> Result<(), String> {
    // The URL parser treats `\\` as `/` and drops tabs and newlines anywhere, so `/\\host` and
    // `/<tab>/host` would be `//host`, another origin: a path has neither, nor spaces.
    let same_origin_path = raw.starts_with('/')
        && !raw[1..].starts_with('/')
        && !raw.bytes().any(|b| b == b'\\' || b.is_ascii_control() || b == b' ');
    if same_origin_path {
        return Ok(());
    }
    let why = match parse(raw) {
        None => "is neither an absolute URL nor a path on this page's origin",
        Some(url) if url.userinfo => "must not carry a user name or password",
        Some(url) if url.scheme == "https" && !url.host.is_empty() => return Ok(()),
        Some(url) if loopback_http(&url) => return Ok(()),
        Some(_) => "is not https, and plain http is allowed only to 127.0.0.1, localhost or [::1]",
    };
    Err(format!(
        "must be https:// (or http://127.0.0.1, http://localhost or http://[::1] for development, or a same-origin path such as /api): '{raw}' {why}"
    ))
}

/// Whether `host` is an AWS STS endpoint: the global one, a regional one in its partition's
/// domain, a FIPS one (`sts-fips.REGION.amazonaws.com`), or an interface VPC endpoint
/// (`vpce-ID.sts.REGION.vpce.amazonaws.com`). See the AWS General Reference, "AWS Security
/// Token Service endpoints and quotas", and the PrivateLink guide's endpoint DNS names.
pub fn is_sts_host(host: &str) -> bool {
    let in_partition = |region: &str, cn: bool| {
        region.parse::<Region>().is_ok_and(|r| (r.partition() == Partition::AwsCn) == cn)
    };
    if host == "sts.amazonaws.com" {
        return true;
    }
    if let Some(region) = host.strip_prefix("sts.").and_then(|h| h.strip_suffix(".amazonaws.com.cn")) {
        return in_partition(region, true);
    }
    if let Some(region) = host.strip_prefix("sts.").and_then(|h| h.strip_suffix(".amazonaws.com")) {
        return in_partition(region, false);
    }
    if let Some(region) = host.strip_prefix("sts-fips.").and_then(|h| h.strip_suffix(".amazonaws.com")) {
        return in_partition(region, false);
    }
    if let Some((id, rest)) = host.split_once(".sts.")
        && let Some(id) = id.strip_prefix("vpce-")
        && !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return match rest.strip_suffix(".vpce.amazonaws.com.cn") {
            Some(region) => in_partition(region, true),
            None => rest.strip_suffix(".vpce.amazonaws.com").is_some_and(|r| in_partition(r, false)),
        };
    }
    false
}

/// Checks `stsEndpoint`: https to an AWS STS host ([`is_sts_host`]), or http to an exact loopback
/// host (a local stand-in). The browser sends a customer's signed key check there.
pub fn check_sts_endpoint(raw: &str) -> Result<(), String> {
    let why = match parse(raw) {
        None => "is not an absolute URL".to_owned(),
        Some(url) if url.userinfo => "must not carry a user name or password".to_owned(),
        Some(url) if url.scheme == "https" && is_sts_host(&url.host) => return Ok(()),
        Some(url) if loopback_http(&url) => return Ok(()),
        Some(url) if url.scheme == "https" => format!("'{}' is not an AWS STS host", url.host),
        Some(_) => "is not https, and plain http is allowed only to 127.0.0.1, localhost or [::1]".to_owned(),
    };
    Err(format!(
        "must be an AWS STS endpoint such as https://sts.eu-west-1.amazonaws.com (or http://127.0.0.1:PORT for a local stand-in): '{raw}' {why}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_urls() {
        let cases = [
            ("https://acme.example/trustline", true),
            ("HTTPS://Acme.Example/trustline", true),
            ("/trustline", true),
            ("/", true),
            ("http://127.0.0.1:8787", true),
            ("http://localhost:8787/api", true),
            ("HTTP://LocalHost:8787", true),
            ("http://[::1]:8787", true),
            ("http://[0:0:0:0:0:0:0:1]:8787", true),
            // WHATWG reads 127.1 as 127.0.0.1: still the loopback address.
            ("http://127.1:8787", true),
            ("http://localhost.attacker.example", false),
            ("http://127.0.0.1.nip.io", false),
            ("http://127.0.0.1@evil.example", false),
            ("https://user:pass@acme.example", false),
            ("http://localhost.:8787", false),
            // WHATWG's IPv4 parser drops one trailing dot: this is the address 127.0.0.1.
            ("http://127.0.0.1.", true),
            ("http://[::1].evil.example", false),
            ("http://localhost%2eevil.example", false),
            ("//evil.example", false),
            ("/\\evil.example", false),
            ("/\t/evil.example", false),
            ("/\n/evil.example", false),
            ("/api/\u{7f}", false),
            ("\\\\evil.example", false),
            ("http://evil.example", false),
            ("ftp://127.0.0.1", false),
            ("javascript:alert(1)", false),
            ("https://", false),
            ("", false),
            ("trustline", false),
        ];
        for (url, ok) in cases {
            assert_eq!(check_session_url(url).is_ok(), ok, "{url}: {:?}", check_session_url(url));
        }
    }

    #[test]
    fn sts_endpoints() {
        let cases = [
            ("https://sts.amazonaws.com", true),
            ("https://sts.eu-west-1.amazonaws.com", true),
            ("https://STS.EU-WEST-1.AMAZONAWS.COM", true),
            ("https://sts.cn-north-1.amazonaws.com.cn", true),
            ("https://sts.us-gov-west-1.amazonaws.com", true),
            ("https://sts-fips.us-east-1.amazonaws.com", true),
            ("https://sts-fips.us-gov-west-1.amazonaws.com", true),
            ("https://vpce-0abc123-xyz.sts.us-east-1.vpce.amazonaws.com", true),
            ("http://127.0.0.1:5000", true),
            ("http://localhost:5000", true),
            ("http://[::1]:5000", true),
            ("http://sts.amazonaws.com", false),
            ("https://sts.amazonaws.com.", false),
            ("https://sts.amazonaws.com.evil.example", false),
            ("https://sts.eu-west-1.amazonaws.com.cn", false),
            ("https://sts.cn-north-1.amazonaws.com", false),
            ("https://sts.nowhere.amazonaws.com", false),
            ("https://evil.example/sts.amazonaws.com", false),
            ("https://sts.amazonaws.com@evil.example", false),
            ("https://vpce-.sts.us-east-1.vpce.amazonaws.com", false),
            ("https://vpce-x.sts.us-east-1.vpce.evil.example", false),
            ("http://localhost.attacker.example", false),
            ("http://127.0.0.1.nip.io:5000", false),
            ("http://127.0.0.1@evil.example", false),
            ("//sts.amazonaws.com", false),
            ("/sts", false),
            ("https://evil.example", false),
        ];
        for (url, ok) in cases {
            assert_eq!(check_sts_endpoint(url).is_ok(), ok, "{url}: {:?}", check_sts_endpoint(url));
        }
    }
}
