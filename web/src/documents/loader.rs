//! The first module's side of the second: loads `trustline-web-documents.js` (with a dynamic
//! `import()`, once the first step has painted or a host calls `loadDocuments()`), hands the
//! wizard over to it, and forwards the host's document helpers to it.

use std::cell::RefCell;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use trustline_core::IntegrationKind;
use web_sys::Element;

use crate::config::Config;
use crate::host::Host;
use crate::json::{Json, Value};

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

/// Mounts the rest of the wizard (the second module's `mountWizard`) into `element`, for `host`,
/// at the step after the choice of `kind`: its handle (with `destroy()`).
pub(crate) fn mount_rest(
    element: &Element,
    host: &Host,
    config: &Config,
    kind: IntegrationKind,
) -> Result<JsValue, String> {
    let mount = export("mountWizard").ok_or("the rest of the wizard is not loaded")?;
    let args = Value::object(vec![
        ("element", element.clone().into()),
        ("host", host.to_js()),
        ("options", config.to_options().to_json()),
        ("kind", Value::text(kind.id())),
        ("externalIdSource", Value::text(config.external_id_source.id())),
    ]);
    mount.call1(&JsValue::NULL, &args).map_err(|e| crate::js::message(&e))
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
