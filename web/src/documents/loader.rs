//! The wizard's side of the documents module: loads `trustline-web-documents.js` (with a
//! dynamic `import()`, so nothing is fetched before the customer leaves the first step or a host
//! calls `loadDocuments()`) and calls its exports, JSON in and out.

use std::cell::RefCell;

use js_sys::{Function, Promise, Reflect};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::{AccessKit, Request, ScopeProblem};
use crate::keys::KeyIdentity;

#[wasm_bindgen]
extern "C" {
    /// `import(url)`. wasm-bindgen writes the call into `trustline-web.js`, so a relative URL
    /// resolves next to that file, wherever the host serves it.
    #[wasm_bindgen(js_name = import)]
    fn dynamic_import(url: &str) -> Promise;
}

/// Next to `trustline-web.js`; its `_bg.wasm` is next to it too (wasm-bindgen's default).
const MODULE_URL: &str = "./trustline-web-documents.js";

enum Load {
    Idle,
    Loading(Promise),
    Ready(JsValue),
    Failed(String),
}

thread_local! {
    static LOAD: RefCell<Load> = const { RefCell::new(Load::Idle) };
}

/// Loads the module once; every caller waits for the same load. After a failure (the network)
/// the next call tries again.
pub(crate) async fn load() -> Result<(), String> {
    let promise = LOAD.with_borrow_mut(|load| match load {
        Load::Ready(_) => None,
        Load::Loading(promise) => Some(promise.clone()),
        Load::Idle | Load::Failed(_) => {
            let promise = wasm_bindgen_futures::future_to_promise(instantiate());
            *load = Load::Loading(promise.clone());
            Some(promise)
        }
    });
    let Some(promise) = promise else { return Ok(()) };
    let loaded = JsFuture::from(promise).await;
    LOAD.with_borrow_mut(|load| {
        if matches!(load, Load::Loading(_)) {
            *load = match &loaded {
                Ok(module) => Load::Ready(module.clone()),
                Err(e) => Load::Failed(crate::js::message(e)),
            };
        }
        match load {
            Load::Failed(message) => Err(format!("could not load the documents module: {message}")),
            _ => Ok(()),
        }
    })
}

/// Imports the module and runs its initialisation (which fetches and compiles the wasm).
async fn instantiate() -> Result<JsValue, JsValue> {
    let module = JsFuture::from(dynamic_import(MODULE_URL)).await?;
    let init: Function = Reflect::get(&module, &"default".into())?.dyn_into()?;
    JsFuture::from(init.call0(&JsValue::NULL)?.dyn_into::<Promise>()?).await?;
    Ok(module)
}

/// An export of the loaded module (None before it has loaded).
fn export(name: &str) -> Option<Function> {
    LOAD.with_borrow(|load| match load {
        Load::Ready(module) => Reflect::get(module, &name.into()).ok()?.dyn_into().ok(),
        _ => None,
    })
}

/// Calls export `name`, which answers with the JSON of a `Result`.
fn call_json<T: DeserializeOwned, E: DeserializeOwned>(
    name: &str,
    args: &[JsValue],
) -> Option<Result<Result<T, E>, String>> {
    let f = export(name)?;
    let answer = match args {
        [a] => f.call1(&JsValue::NULL, a),
        [a, b] => f.call2(&JsValue::NULL, a, b),
        _ => f.call0(&JsValue::NULL),
    };
    Some(match answer {
        Ok(text) => serde_json::from_str(&text.as_string().unwrap_or_default())
            .map_err(|e| format!("{name}: unexpected answer: {e}")),
        Err(e) => Err(format!("{name}: {}", crate::js::message(&e))),
    })
}

fn request_json(request: &Request) -> JsValue {
    serde_json::to_string(request).unwrap_or_default().into()
}

/// The access step's kit; None until the module has loaded.
pub(crate) fn access_kit(request: &Request) -> Option<Result<AccessKit, String>> {
    call_json::<AccessKit, String>("wizardAccessKit", &[request_json(request)]).map(|r| r.and_then(|kit| kit))
}

/// The scope's whole-document checks; they pass until the module has loaded.
pub(crate) fn check_scope(request: &Request) -> Result<(), ScopeProblem> {
    match call_json::<(), ScopeProblem>("wizardCheckScope", &[request_json(request)]) {
        Some(Ok(checked)) => checked,
        // A broken answer is not the customer's fault: the access step shows what the builders say.
        Some(Err(_)) | None => Ok(()),
    }
}

/// Who a key belongs to, from STS's answer (the module must have loaded).
pub(crate) fn caller_identity(status: u16, body: &[u8]) -> Result<KeyIdentity, String> {
    let body = js_sys::Uint8Array::from(body);
    call_json::<KeyIdentity, String>("wizardCallerIdentity", &[status.into(), body.into()])
        .unwrap_or_else(|| Err("the documents module is not loaded".into()))
        .and_then(|identity| identity)
}

/// Calls a host helper (`trustPolicy`, …) of the loaded module; its exceptions pass through.
pub(crate) fn helper(name: &str, input: &JsValue) -> Result<JsValue, JsValue> {
    let Some(f) = export(name) else {
        return Err(JsError::new(&format!(
            "Trustline: {name} is in the documents module: `await loadDocuments()` once before calling it"
        ))
        .into());
    };
    f.call1(&JsValue::NULL, input)
}
