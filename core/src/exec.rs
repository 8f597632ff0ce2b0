//! A thin executor over reqwest (feature `executor`): sends a request built and signed by
//! [`crate::aws::prepare`] and returns the status, headers and body for the operation's parser.
//!
//! Natively reqwest uses hyper and rustls; on wasm32 it uses the browser's `fetch`. Retries,
//! pacing and timeouts are the caller's policy, not this module's.

use std::fmt;

use crate::aws::{HttpRequest, HttpResponse};

/// Sends requests with one reqwest client (connection pool).
#[derive(Debug, Clone, Default)]
pub struct Executor {
    client: reqwest::Client,
}

/// A request that got no HTTP response at all (DNS, TCP, TLS, CORS in the browser), or could
/// not even be sent (a header value HTTP cannot carry).
#[derive(Debug)]
pub struct TransportError {
    message: String,
    /// The request itself is unsendable: trying again cannot help.
    unsendable: bool,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the request got no response: {}", self.message)
    }
}

impl std::error::Error for TransportError {}

impl TransportError {
    fn new(err: &reqwest::Error) -> Self {
        // reqwest's message includes the URL (no secrets: those are in headers and bodies).
        Self { message: err.to_string(), unsendable: err.is_builder() }
    }

    /// Whether the request could never be sent as built (a retry would fail the same way).
    pub fn is_unsendable(&self) -> bool {
        self.unsendable
    }
}

impl Executor {
    /// An executor with its own client.
    pub fn new() -> Self {
        Self::default()
    }

    /// An executor over an existing client (proxies, timeouts, TLS roots set by the caller).
    pub fn with_client(client: reqwest::Client) -> Self {
        Self { client }
    }

    /// Sends `request` and reads the whole response.
    pub async fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let method = reqwest::Method::from_bytes(request.method().as_bytes()).map_err(|_| {
            TransportError { message: format!("bad method {}", request.method()), unsendable: true }
        })?;
        let mut builder = self.client.request(method, request.url());
        for (name, value) in request.headers() {
            builder = builder.header(name, value);
        }
        let response =
            builder.body(request.body().to_vec()).send().await.map_err(|e| TransportError::new(&e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = response.bytes().await.map_err(|e| TransportError::new(&e))?.to_vec();
        Ok(HttpResponse::new(status, headers, body))
    }
}
