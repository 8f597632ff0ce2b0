//! The wizard's side of the documents module: loads `trustline-web-documents.js` (with a
//! dynamic `import()`, so nothing is fetched before the customer leaves the first step or a host
//! calls `loadDocuments()`) and calls its exports with JS values.

use std::cell::RefCell;

use js_sys::{Function, Promise, Reflect};
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

/// Calls export `name` (None before the module has loaded); an exception is its message.
fn call(name: &str, args: &[JsValue]) -> Option<Result<JsValue, String>> {
    let f = export(name)?;
    let answer = match args {
        [a] => f.call1(&JsValue::NULL, a),
        [a, b] => f.call2(&JsValue::NULL, a, b),
        _ => f.call0(&JsValue::NULL),
    };
    Some(answer.map_err(|e| crate::js::message(&e)))
}

/// The access step's kit; None until the module has loaded.
pub(crate) fn access_kit(request: &Request) -> Option<Result<AccessKit, String>> {
    call("wizardAccessKit", &[request.to_json()]).map(|answer| {
        answer.and_then(|kit| {
            AccessKit::from_json(&kit).map_err(|e| format!("wizardAccessKit: unexpected answer: {e}"))
        })
    })
}

/// The scope's whole-document checks; they pass until the module has loaded.
pub(crate) fn check_scope(request: &Request) -> Result<(), ScopeProblem> {
    match call("wizardCheckScope", &[request.to_json()]) {
        Some(Ok(problem)) if !problem.is_null() => ScopeProblem::from_json(&problem).map_or(Ok(()), Err),
        // A broken answer is not the customer's fault: the access step shows what the builders say.
        _ => Ok(()),
    }
}

/// Who a key belongs to, from STS's answer (the module must have loaded).
pub(crate) fn caller_identity(status: u16, body: &[u8]) -> Result<KeyIdentity, String> {
    let body = js_sys::Uint8Array::from(body);
    call("wizardCallerIdentity", &[status.into(), body.into()])
        .unwrap_or_else(|| Err("the documents module is not loaded".into()))
        .and_then(|identity| {
            KeyIdentity::from_json(&identity)
                .map_err(|e| format!("wizardCallerIdentity: unexpected answer: {e}"))
        })
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
