//! The two calls the page makes: STS GetCallerIdentity, SigV4-signed with core's signer and the
//! JS clock, and the worker's verify API for the session's tenant (the session's token as a
//! bearer token). Both go through `fetch`; neither logs or stores what it sends.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

use crate::config::{Config, VerifyTarget};
use crate::js;
use crate::keys::{self, KeyIdentity, StsAnswer};
use crate::state::{VerifyBody, VerifyReport, parse_verify_response};

/// Asks STS who the key belongs to.
pub(crate) async fn check_key(
    config: &Config,
    access_key_id: &str,
    secret: &trustline_core::Secret,
) -> Result<KeyIdentity, String> {
    let endpoint = config.sts_endpoint.as_deref();
    let request = get_caller_identity(
        access_key_id,
        secret.clone(),
        None,
        config.region.clone(),
        endpoint,
        js_sys::Date::now(),
    )
    .map_err(|e| e.to_string())?;
    let headers = Headers::new().map_err(|e| js::message(&e))?;
    for (name, value) in request.headers() {
        headers.set(name, value).map_err(|e| js::message(&e))?;
    }
    let (status, body) = fetch(request.method(), request.url(), &headers, request.body())
        .await
        .map_err(|e| {
            format!("could not reach AWS STS ({e}); check your connection, or whether a firewall blocks sts.amazonaws.com")
        })?;
    keys::caller_identity(read_sts_answer(status, &String::from_utf8_lossy(&body)))
}

/// Reads STS's GetCallerIdentity answer with the browser's XML parser (see [`StsAnswer`]). The
/// account and ARN are checked with core's types, as core's parser does.
fn read_sts_answer(status: u16, body: &str) -> StsAnswer {
    let Some(doc) = web_sys::DomParser::new()
        .ok()
        .and_then(|p| p.parse_from_string(body, web_sys::SupportedType::TextXml).ok())
    else {
        return StsAnswer::Unreadable("the browser could not read it".into());
    };
    let text = |name: &str| {
        doc.get_elements_by_tag_name(name).item(0).and_then(|e| e.text_content()).map(|t| t.trim().to_owned())
    };
    if (200..300).contains(&status) {
        let (Some(account), Some(arn), Some(user_id)) = (text("Account"), text("Arn"), text("UserId")) else {
            return StsAnswer::Unreadable(format!("HTTP {status} without Account, Arn and UserId"));
        };
        return match (account.parse::<trustline_core::AccountId>(), arn.parse::<trustline_core::Arn>()) {
            (Ok(account), Ok(arn)) => StsAnswer::Identity(KeyIdentity {
                account_id: account.to_string(),
                arn: arn.to_string(),
                user_id,
            }),
            (Err(e), _) | (_, Err(e)) => StsAnswer::Unreadable(e.to_string()),
        };
    }
    match text("Code") {
        Some(code) => StsAnswer::Refused { code, message: text("Message") },
        None => StsAnswer::Unreadable(format!("HTTP {status}")),
    }
}

/// Calls the worker's verify API for the session's tenant.
pub(crate) async fn verify(
    config: &Config,
    target: VerifyTarget,
    body: &VerifyBody,
) -> Result<VerifyReport, String> {
    let Some(session) = &config.session else {
        return Err("this page has no verify service configured".into());
    };
    let headers = Headers::new().map_err(|e| js::message(&e))?;
    headers
        .set("authorization", &format!("Bearer {}", session.token.expose()))
        .map_err(|_| "the session's token is not a valid header value".to_owned())?;
    headers.set("content-type", "application/json").map_err(|e| js::message(&e))?;
    // The body may hold a secret: it lives in this buffer until the call is made, then is zeroed.
    let body = zeroize::Zeroizing::new(serde_json::to_vec(body).map_err(|e| e.to_string())?);
    let (status, response) = fetch("POST", &session.verify_url(target), &headers, &body)
        .await
        .map_err(|e| format!("could not reach the verify service ({e}); try again in a minute"))?;
    parse_verify_response(status, &String::from_utf8_lossy(&response))
}

/// `fetch` without the host page's cookies or HTTP auth: the status and the body.
async fn fetch(method: &str, url: &str, headers: &Headers, body: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_headers(headers);
    let body = js_sys::Uint8Array::from(body);
    init.set_body(&body);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    let window = web_sys::window().ok_or("no window")?;
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .and_then(JsValue::dyn_into)
        .map_err(|e| js::message(&e))?;
    let buffer = JsFuture::from(response.array_buffer().map_err(|e| js::message(&e))?)
        .await
        .map_err(|e| js::message(&e))?;
    Ok((response.status(), js_sys::Uint8Array::new(&buffer).to_vec()))
}

/// STS GetCallerIdentity for an access key, signed at `time_ms` (the browser's clock:
/// `SystemTime::now()` panics on wasm32); the wizard's key check and `signGetCallerIdentity`.
pub(crate) fn get_caller_identity(
    access_key_id: &str,
    secret: trustline_core::Secret,
    session_token: Option<trustline_core::Secret>,
    region: trustline_core::Region,
    endpoint: Option<&str>,
    time_ms: f64,
) -> trustline_core::error::Result<trustline_core::aws::HttpRequest> {
    let mut endpoints = trustline_core::Endpoints::new(region);
    if let Some(url) = endpoint {
        endpoints = endpoints.with_override(trustline_core::Service::Sts, url)?;
    }
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(time_ms as u64);
    let creds = trustline_core::Credentials::new(access_key_id, secret, session_token);
    let signer = trustline_core::Signer::new(&creds);
    trustline_core::aws::prepare(&trustline_core::aws::sts::GetCallerIdentity, &endpoints, &signer, time)
}
