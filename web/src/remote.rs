//! The two calls the page makes: STS GetCallerIdentity, built and SigV4-signed here with core's
//! signer and the JS clock, and the host's verify API. Both go through `fetch`; neither logs or
//! stores what it sends.

use std::time::{Duration, UNIX_EPOCH};

use trustline_core::aws::sts::GetCallerIdentity;
use trustline_core::aws::{HttpRequest, HttpResponse, Operation, prepare};
use trustline_core::{Credentials, Endpoints, Secret, Service, Signer};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

use crate::config::Config;
use crate::keys::KeyIdentity;
use crate::state::{VerifyResponse, parse_verify_response};

/// The time for SigV4 from the browser's clock (`SystemTime::now()` panics on wasm32).
pub(crate) fn now() -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_millis(js_sys::Date::now() as u64)
}

/// Where STS calls go for this configuration.
pub(crate) fn endpoints(config: &Config) -> Result<Endpoints, String> {
    let endpoints = Endpoints::new(config.region.clone());
    match &config.sts_endpoint {
        Some(url) => endpoints.with_override(Service::Sts, url).map_err(|e| e.to_string()),
        None => Ok(endpoints),
    }
}

/// Signs GetCallerIdentity for a key (the request is returned, not sent).
pub(crate) fn signed_get_caller_identity(
    endpoints: &Endpoints,
    access_key_id: &str,
    secret: &Secret,
    session_token: Option<Secret>,
) -> Result<HttpRequest, String> {
    let credentials = Credentials::new(access_key_id, secret.clone(), session_token);
    prepare(&GetCallerIdentity, endpoints, &Signer::new(&credentials), now()).map_err(|e| e.to_string())
}

/// Asks STS who the key belongs to.
pub(crate) async fn check_key(
    config: &Config,
    access_key_id: &str,
    secret: &Secret,
) -> Result<KeyIdentity, String> {
    let request = signed_get_caller_identity(&endpoints(config)?, access_key_id, secret, None)?;
    let response = send(&request).await.map_err(|e| {
        format!("could not reach AWS STS ({e}); check your connection, or whether a firewall blocks sts.amazonaws.com")
    })?;
    GetCallerIdentity::parse(&response).map(KeyIdentity::from).map_err(|e| match e.code() {
        Some("InvalidClientTokenId") => {
            "AWS does not know this access key ID: check that you copied all of it and that the key is active".into()
        }
        Some("SignatureDoesNotMatch") => {
            "the secret access key does not belong to this access key ID: copy the secret again (it is shown only once; create a new key if you lost it)".into()
        }
        Some("ExpiredToken") => "the key has expired; create a new access key".into(),
        Some(code) => format!("AWS refused the key ({code}): {}", e.message().unwrap_or("no details")),
        None => format!("unexpected answer from AWS STS: {e}"),
    })
}

/// Calls the host's verify API.
pub(crate) async fn verify(
    config: &Config,
    path: &str,
    body: &serde_json::Value,
) -> Result<VerifyResponse, String> {
    let Some(api) = &config.verify else { return Err("this page has no verify service configured".into()) };
    let headers = Headers::new().map_err(js_message)?;
    for (name, value) in &api.headers {
        headers.set(name, value).map_err(js_message)?;
    }
    headers.set("content-type", "application/json").map_err(js_message)?;
    let response = fetch("POST", &format!("{}{path}", api.url), &headers, body.to_string().into_bytes())
        .await
        .map_err(|e| format!("could not reach the verify service ({e}); try again in a minute"))?;
    parse_verify_response(response.status(), &String::from_utf8_lossy(response.body()))
}

/// Sends a prepared AWS request with `fetch`.
pub(crate) async fn send(request: &HttpRequest) -> Result<HttpResponse, String> {
    let headers = Headers::new().map_err(js_message)?;
    for (name, value) in request.headers() {
        headers.set(name, value).map_err(js_message)?;
    }
    fetch(request.method(), request.url(), &headers, request.body().to_vec()).await
}

async fn fetch(method: &str, url: &str, headers: &Headers, body: Vec<u8>) -> Result<HttpResponse, String> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_headers(headers);
    let body = js_sys::Uint8Array::from(body.as_slice());
    init.set_body(&body);
    // No cookies or HTTP auth of the host page travel with these calls.
    init.set_credentials(web_sys::RequestCredentials::Omit);
    let window = web_sys::window().ok_or("no window")?;
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(js_message)?
        .dyn_into()
        .map_err(js_message)?;
    let status = response.status();
    let buffer = JsFuture::from(response.array_buffer().map_err(js_message)?).await.map_err(js_message)?;
    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
    Ok(HttpResponse::new(status, Vec::new(), bytes))
}

/// A JS exception's message.
pub(crate) fn js_message(value: JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "unknown error".into())
}
