//! The fast path for the requests Trustline itself builds: a POST to `/` with a content type and
//! maybe an `X-Amz-Target`. For these the SigV4 canonical request is a fixed template, so it is
//! written directly, and the derived signing key is cached per day, region and service.
//!
//! The cryptography is `aws-sigv4`'s (`generate_signing_key`, `calculate_signature`) and
//! `sha2`'s; only the canonical request's text is built here, because `aws-sigv4` keeps its
//! canonical request private and re-derives the key on every call (about 75% of its cost).
//! Anything outside the template falls back to `aws-sigv4`'s `sign`; tests check both paths
//! against each other and against botocore.

use std::sync::Mutex;
use std::time::SystemTime;

use aws_sigv4::sign::v4;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::aws::HttpRequest;

/// At most this many derived keys are kept (regions × services in use on one day).
const MAX_KEYS: usize = 64;

/// Signing keys derived from one secret, by day, region and service.
#[derive(Default)]
pub(super) struct KeyCache {
    keys: Mutex<Vec<CachedKey>>,
}

struct CachedKey {
    date: String,
    region: String,
    service: String,
    key: Zeroizing<[u8; 32]>,
}

impl KeyCache {
    fn key(
        &self,
        secret: &str,
        time: SystemTime,
        date: &str,
        region: &str,
        service: &str,
    ) -> Zeroizing<[u8; 32]> {
        let mut keys = self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(hit) = keys.iter().find(|k| k.date == date && k.region == region && k.service == service)
        {
            return hit.key.clone();
        }
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(v4::generate_signing_key(secret, time, region, service).as_ref());
        if keys.len() >= MAX_KEYS {
            keys.clear();
        }
        keys.push(CachedKey {
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            key: key.clone(),
        });
        key
    }
}

/// What a signature adds to the request.
pub(super) struct Signature {
    pub(super) date_time: String,
    pub(super) authorization: String,
}

/// The identity and scope to sign with.
pub(super) struct Scope<'a> {
    pub(super) access_key_id: &'a str,
    pub(super) secret: &'a str,
    pub(super) session_token: Option<&'a str>,
    /// Whether the session token passed [`simple_value`] (checked once per signer: tokens are
    /// about a kilobyte).
    pub(super) session_token_simple: bool,
    pub(super) service: &'a str,
    pub(super) region: &'a str,
    pub(super) time: SystemTime,
}

/// Signs `request` if it fits the template; `None` sends the caller to `aws-sigv4`'s `sign`.
pub(super) fn sign(request: &HttpRequest, scope: &Scope<'_>, cache: &KeyCache) -> Option<Signature> {
    if request.method() != "POST" || !plain(scope.region) || !plain(scope.service) {
        return None;
    }
    let host = host(request.url())?;
    let date_time = timestamp(scope.time)?;
    let date = &date_time[..8];

    let mut headers: Vec<(&str, &str)> = Vec::with_capacity(5);
    for (name, value) in request.headers() {
        if !matches!(name, "content-type" | "x-amz-target") || !simple_value(value) {
            return None;
        }
        headers.push((name, value));
    }
    headers.push(("host", host));
    headers.push(("x-amz-date", &date_time));
    if let Some(token) = scope.session_token {
        if !scope.session_token_simple {
            return None;
        }
        headers.push(("x-amz-security-token", token));
    }
    headers.sort_unstable_by(|a, b| a.0.cmp(b.0));
    if headers.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }

    let mut signed_headers = String::with_capacity(64);
    let mut canonical = String::with_capacity(256 + request.body().len() / 8);
    canonical.push_str("POST\n/\n\n");
    for (name, value) in &headers {
        canonical.push_str(name);
        canonical.push(':');
        canonical.push_str(value);
        canonical.push('\n');
        if !signed_headers.is_empty() {
            signed_headers.push(';');
        }
        signed_headers.push_str(name);
    }
    canonical.push('\n');
    canonical.push_str(&signed_headers);
    canonical.push('\n');
    hex_into(&mut canonical, &Sha256::digest(request.body()));

    let mut credential_scope = String::with_capacity(64);
    for part in [date, "/", scope.region, "/", scope.service, "/aws4_request"] {
        credential_scope.push_str(part);
    }
    let mut string_to_sign = String::with_capacity(160);
    for part in ["AWS4-HMAC-SHA256\n", &date_time, "\n", &credential_scope, "\n"] {
        string_to_sign.push_str(part);
    }
    hex_into(&mut string_to_sign, &Sha256::digest(canonical.as_bytes()));

    let key = cache.key(scope.secret, scope.time, date, scope.region, scope.service);
    let signature = v4::calculate_signature(&key[..], string_to_sign.as_bytes());
    let mut authorization = String::with_capacity(200);
    for part in [
        "AWS4-HMAC-SHA256 Credential=",
        scope.access_key_id,
        "/",
        &credential_scope,
        ", SignedHeaders=",
        &signed_headers,
        ", Signature=",
        &signature,
    ] {
        authorization.push_str(part);
    }
    Some(Signature { date_time, authorization })
}

/// The host (with a non-default port) of a URL whose path is exactly `/`.
fn host(url: &str) -> Option<&str> {
    let (rest, default_port) = match url.strip_prefix("https://") {
        Some(rest) => (rest, ":443"),
        None => (url.strip_prefix("http://")?, ":80"),
    };
    let authority = rest.strip_suffix('/')?;
    let fits = !authority.is_empty()
        && !authority.ends_with(default_port)
        && authority.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b".-:".contains(&b));
    fits.then_some(authority)
}

/// `YYYYMMDDTHHMMSSZ`, for years SigV4 can express; the date is its first eight characters.
fn timestamp(time: SystemTime) -> Option<String> {
    let t = OffsetDateTime::from(time);
    let year = u16::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let mut out = String::with_capacity(16);
    let mut digits = |n: u16, width: u32| {
        for i in (0..width).rev() {
            out.push(char::from(b'0' + (n / 10u16.pow(i) % 10) as u8));
        }
    };
    digits(year, 4);
    digits(u8::from(t.month()).into(), 2);
    digits(t.day().into(), 2);
    out.push('T');
    let mut digits = |n: u8| {
        out.push(char::from(b'0' + n / 10));
        out.push(char::from(b'0' + n % 10));
    };
    digits(t.hour());
    digits(t.minute());
    digits(t.second());
    out.push('Z');
    Some(out)
}

/// Region and service names: what goes into the scope without escaping.
fn plain(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Header values that SigV4's trimming leaves as they are: visible ASCII, no leading, trailing
/// or doubled spaces.
pub(super) fn simple_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes[0] != b' '
        && bytes[bytes.len() - 1] != b' '
        && bytes.iter().all(|&b| (0x20..0x7f).contains(&b))
        && !bytes.windows(2).any(|w| w == b"  ")
}

fn hex_into(out: &mut String, digest: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 64];
    for (pair, b) in buf.chunks_exact_mut(2).zip(digest) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 0xf)];
    }
    out.push_str(std::str::from_utf8(&buf[..digest.len() * 2]).unwrap_or_default());
}
