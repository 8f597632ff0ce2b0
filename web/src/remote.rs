//! The two calls the page makes: STS GetCallerIdentity, SigV4-signed with core's signer and the
//! JS clock in the documents module, and the host's verify API. Both go through `fetch`;
//! neither logs or stores what it sends.

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

use crate::config::Config;
use crate::documents::loader;
use crate::js;
use crate::json::{Json, Value};
use crate::keys::KeyIdentity;
use crate::state::{VerifyResponse, parse_verify_response};

/// Asks STS who the key belongs to.
pub(crate) async fn check_key(
    config: &Config,
    access_key_id: &str,
    secret: &trustline_core::Secret,
) -> Result<KeyIdentity, String> {
    loader::load().await?;
    // A JS object rather than JSON text: the secret is not copied into another Rust string.
    let input = Object::new();
    let set = |name: &str, value: &str| Reflect::set(&input, &name.into(), &value.into()).map(drop);
    set("accessKeyId", access_key_id)
        .and_then(|()| set("secretAccessKey", secret.expose()))
        .and_then(|()| set("region", config.region.as_str()))
        .and_then(|()| config.sts_endpoint.as_deref().map_or(Ok(()), |url| set("endpoint", url)))
        .map_err(|e| js::message(&e))?;
    let signed = loader::helper("signGetCallerIdentity", &input).map_err(|e| js::message(&e))?;
    let field = |name: &str| Reflect::get(&signed, &name.into()).ok().and_then(|v| v.as_string());
    let headers = Headers::new().map_err(|e| js::message(&e))?;
    let signed_headers = Reflect::get(&signed, &"headers".into()).map_err(|e| js::message(&e))?;
    for name in Object::keys(signed_headers.unchecked_ref::<Object>()).iter().filter_map(|k| k.as_string()) {
        let value = Reflect::get(&signed_headers, &name.as_str().into()).ok().and_then(|v| v.as_string());
        headers.set(&name, &value.unwrap_or_default()).map_err(|e| js::message(&e))?;
    }
    let (status, body) = fetch(
        &field("method").unwrap_or_default(),
        &field("url").unwrap_or_default(),
        &headers,
        field("body").unwrap_or_default().into_bytes(),
    )
    .await
    .map_err(|e| {
        format!("could not reach AWS STS ({e}); check your connection, or whether a firewall blocks sts.amazonaws.com")
    })?;
    loader::caller_identity(status, &body)
}

/// Calls the host's verify API.
pub(crate) async fn verify(config: &Config, path: &str, body: &Value) -> Result<VerifyResponse, String> {
    let Some(api) = &config.verify else { return Err("this page has no verify service configured".into()) };
    let headers = Headers::new().map_err(|e| js::message(&e))?;
    for (name, value) in &api.headers {
        headers.set(name, value).map_err(|e| js::message(&e))?;
    }
    headers.set("content-type", "application/json").map_err(|e| js::message(&e))?;
    let (status, response) =
        fetch("POST", &format!("{}{path}", api.url), &headers, body.to_text().into_bytes())
            .await
            .map_err(|e| format!("could not reach the verify service ({e}); try again in a minute"))?;
    parse_verify_response(status, &String::from_utf8_lossy(&response))
}

/// `fetch` without the host page's cookies or HTTP auth: the status and the body.
async fn fetch(method: &str, url: &str, headers: &Headers, body: Vec<u8>) -> Result<(u16, Vec<u8>), String> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_headers(headers);
    let body = js_sys::Uint8Array::from(body.as_slice());
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
