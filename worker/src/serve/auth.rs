//! Who is calling, and may they: the operator's token or a tenant's session, checked against
//! the route's [`Access`](super::Access); the `Host` header; verification rate limits.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, MatchedPath, RawPathParams, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::{Access, ApiError, AppState, ROUTES};
use crate::store::SESSION_PREFIX;

/// The caller of a request that passed [`authorize`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The operator's token: the vendor's backend.
    Operator,
    /// A browser session of this tenant.
    Session {
        /// Its tenant.
        tenant: String,
    },
}

/// Entropy an operator token must carry at least (NIST SP 800-63B's minimum for a secret
/// authenticator is 112 bits; 128 leaves room for an optimistic estimate).
pub const MIN_TOKEN_BITS: f64 = 128.0;

/// Estimates a token's entropy from its length and the character classes it uses, and refuses
/// repetitive text (`aaaa…`) whatever its length.
pub fn check_operator_token(token: &str) -> anyhow::Result<()> {
    let advice = "create one with `trustline api-token` (256 random bits)";
    if token.starts_with(SESSION_PREFIX) {
        anyhow::bail!("the API token looks like a browser session's token; {advice}");
    }
    let mut alphabet: f64 = 0.0;
    for (present, size) in [
        (token.bytes().any(|b| b.is_ascii_digit()), 10.0),
        (token.bytes().any(|b| b.is_ascii_lowercase()), 26.0),
        (token.bytes().any(|b| b.is_ascii_uppercase()), 26.0),
    ] {
        if present {
            alphabet += size;
        }
    }
    if token.bytes().any(|b| !b.is_ascii_alphanumeric()) {
        alphabet += 32.0;
    }
    // Hex (digits and a–f only) draws from 16 symbols, not 36.
    if token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || (b'A'..=b'F').contains(&b)) {
        alphabet = alphabet.min(16.0);
    }
    let distinct = token.bytes().collect::<std::collections::BTreeSet<_>>().len();
    let bits = token.len() as f64 * alphabet.max(1.0).log2();
    if bits < MIN_TOKEN_BITS || distinct < 8 {
        anyhow::bail!(
            "the API token is too weak (about {bits:.0} bits from {} characters, {distinct} distinct; at least {MIN_TOKEN_BITS} bits are needed); {advice}",
            token.len()
        );
    }
    Ok(())
}

fn bearer(request: &Request) -> Option<&str> {
    request.headers().get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")
}

fn refuse(status: StatusCode, message: &str) -> Response {
    ApiError::new(status, None, message).into_response()
}

/// Decides who the caller is and whether the route lets them in; puts the [`Principal`] into
/// the request's extensions for the handlers.
pub(super) async fn authorize(
    State(state): State<Arc<AppState>>,
    matched: Option<MatchedPath>,
    params: RawPathParams,
    mut request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let access = matched
        .as_ref()
        .and_then(|m| ROUTES.iter().find(|r| r.path == m.as_str() && r.method == method))
        .map(|r| r.access);
    // A route missing from the table cannot be reached: it has no rule. A path the table has,
    // asked with another method, is told which methods it takes.
    let Some(access) = access else {
        let allowed: Vec<&str> = matched
            .as_ref()
            .map(|m| ROUTES.iter().filter(|r| r.path == m.as_str()).map(|r| r.method).collect())
            .unwrap_or_default();
        if allowed.is_empty() {
            return refuse(StatusCode::NOT_FOUND, "no such endpoint; see docs/openapi.yaml");
        }
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("this path takes {}; see docs/openapi.yaml", allowed.join(", ")),
        );
        if let Ok(value) = axum::http::HeaderValue::from_str(&allowed.join(", ")) {
            response.headers_mut().insert(header::ALLOW, value);
        }
        return response;
    };
    if access == Access::Public {
        return next.run(request).await;
    }
    let Some(token) = bearer(&request).map(str::to_owned) else {
        return refuse(StatusCode::UNAUTHORIZED, "missing bearer token (Authorization: Bearer <token>)");
    };
    let principal = if token.starts_with(SESSION_PREFIX) {
        let lookup = token.clone();
        let found =
            state.with_store(move |_, store| store.session(&lookup).map_err(super::tenants::internal)).await;
        match found {
            Ok(Some(session)) if session.expires_at > time::OffsetDateTime::now_utc() => {
                Principal::Session { tenant: session.tenant }
            }
            Ok(Some(_)) => {
                return refuse(
                    StatusCode::UNAUTHORIZED,
                    "this session has expired; reload the page to get a new one from the vendor",
                );
            }
            Ok(None) => return refuse(StatusCode::UNAUTHORIZED, "unknown or wrong bearer token"),
            Err(e) => return e.into_response(),
        }
    } else if bool::from(token.as_bytes().ct_eq(state.config.token.expose().as_bytes())) {
        Principal::Operator
    } else {
        return refuse(StatusCode::UNAUTHORIZED, "unknown or wrong bearer token");
    };
    match (&principal, access) {
        (Principal::Operator, _) => {}
        (Principal::Session { .. }, Access::Operator) => {
            return refuse(
                StatusCode::FORBIDDEN,
                "a browser session cannot do this; the vendor's backend can",
            );
        }
        (Principal::Session { tenant }, _) => {
            let named = params.iter().find(|(k, _)| *k == "tenant").map(|(_, v)| v);
            if named != Some(tenant.as_str()) {
                return refuse(StatusCode::FORBIDDEN, "this session belongs to another customer");
            }
        }
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// Answers only for the configured host names, so a page whose name was rebound to this
/// server's address (DNS rebinding) gets nothing from it. The health check answers any name,
/// for load balancers and Kubernetes probes that address the pod by IP.
pub(super) async fn check_host(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    if request.uri().path() == "/v1/health" {
        return next.run(request).await;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    if !host_allowed(&state.config.public_hosts, host) {
        return refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "this server does not answer for that host name (start it with --public-host NAME)",
        );
    }
    next.run(request).await
}

/// Whether `host` (a `Host` header: name or `name:port`) is one of `allowed`; an allowed entry
/// without a port matches any port. Case and a trailing dot do not matter.
pub fn host_allowed(allowed: &[String], host: &str) -> bool {
    let normalize = |h: &str| -> (String, Option<String>) {
        let h = h.trim().to_ascii_lowercase();
        let (name, port) = match h.rsplit_once(':') {
            // `[::1]:8787`, `name:8787`; a bare IPv6 literal is always bracketed in Host.
            Some((name, port))
                if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !name.ends_with(':') =>
            {
                (name.to_owned(), Some(port.to_owned()))
            }
            _ => (h.clone(), None),
        };
        (name.trim_end_matches('.').to_owned(), port)
    };
    let (name, port) = normalize(host);
    if name.is_empty() {
        return false;
    }
    allowed.iter().any(|a| {
        let (a_name, a_port) = normalize(a);
        a_name == name && (a_port.is_none() || a_port == port)
    })
}

/// The names a server listening on `addr` answers for by default: on loopback, the loopback
/// names with its port; elsewhere none (the operator must say, with `--public-host`).
pub fn default_hosts(addr: SocketAddr) -> Vec<String> {
    if addr.ip().is_loopback() {
        let port = addr.port();
        vec![format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")]
    } else {
        Vec::new()
    }
}

/// The client's address as far as it can be known: the peer, or behind a trusted proxy the
/// last address that proxy saw in `X-Forwarded-For`.
fn client_address(
    state: &AppState,
    peer: Option<&ConnectInfo<SocketAddr>>,
    headers: &axum::http::HeaderMap,
) -> Option<IpAddr> {
    let peer = peer?.0.ip();
    if !state.config.trusted_proxies.contains(&peer) {
        return None;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .rfind(|a| !state.config.trusted_proxies.contains(a))
}

/// Refuses a tenant (and, behind a trusted proxy, a client address) that verifies too often:
/// each verification costs several STS calls on the vendor's account.
pub(super) fn check_verify_rate(
    state: &AppState,
    tenant: &str,
    peer: Option<&ConnectInfo<SocketAddr>>,
    headers: &axum::http::HeaderMap,
) -> Result<(), ApiError> {
    let limit = state.config.verify_per_minute;
    let refused = |who: &str| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            None,
            format!(
                "too many verification attempts {who} (limit {limit} per minute); wait a minute and try again"
            ),
        )
    };
    state.verify_limiter.check_key(&format!("tenant:{tenant}")).map_err(|_| refused("for this customer"))?;
    if let Some(ip) = client_address(state, peer, headers) {
        state.verify_limiter.check_key(&format!("ip:{ip}")).map_err(|_| refused("from this address"))?;
    }
    Ok(())
}

/// Forgets rate-limit entries that have refilled, once a minute, so the limiter's memory follows
/// the callers of the last minute rather than every caller ever seen.
pub(super) fn spawn_limiter_eviction(state: &Arc<AppState>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    let weak = Arc::downgrade(state);
    let shutdown = state.shutdown.clone();
    runtime.spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let Some(state) = weak.upgrade() else { return };
            state.verify_limiter.retain_recent();
            state.verify_limiter.shrink_to_fit();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_tokens_are_refused() {
        for weak in [
            "a".repeat(16),
            "a".repeat(200),
            "0123456789abcdef0123456789abcde".to_owned(),
            "tl_session_abcdefghijklmnopqrstuvwxyz234567abcdefgh".to_owned(),
        ] {
            assert!(check_operator_token(&weak).is_err(), "{weak}");
        }
        for strong in [
            "3f9c0a7e1b2d4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8", // 48 hex: 192 bits
            "Zq7Lr2Xw9Kc4Vb8Nm1Pt6Hy3Jd5Fg0SaQeWuRiTo",         // 40 alphanumerics: 238 bits
        ] {
            assert!(check_operator_token(strong).is_ok(), "{strong}");
        }
    }

    #[test]
    fn host_names_are_compared_not_prefix_matched() {
        let allowed = default_hosts("127.0.0.1:8787".parse().unwrap());
        assert!(host_allowed(&allowed, "127.0.0.1:8787"));
        assert!(host_allowed(&allowed, "LOCALHOST:8787"));
        assert!(host_allowed(&allowed, "[::1]:8787"));
        for bad in [
            "evil.example:8787",
            "127.0.0.1:9999",
            "localhost.evil.example:8787",
            "127.0.0.1.nip.io:8787",
            "",
            "localhost",
        ] {
            assert!(!host_allowed(&allowed, bad), "{bad}");
        }
        let public = vec!["trustline.example.com".to_owned()];
        assert!(host_allowed(&public, "trustline.example.com"));
        assert!(host_allowed(&public, "trustline.example.com.:443"));
        assert!(!host_allowed(&public, "example.com"));
        assert!(default_hosts("0.0.0.0:8787".parse().unwrap()).is_empty());
    }
}
