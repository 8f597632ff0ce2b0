//! Values across the JS boundary: serde types to JS values through JSON, which both wasm
//! modules carry anyway (no serde-wasm-bindgen in the bundle), and exceptions' messages.

use serde::Serialize;
use wasm_bindgen::{JsError, JsValue};

/// A JS value from anything serializable.
pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    let text = serde_json::to_string(value).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&text).map_err(|_| JsError::new("could not convert a result to JSON"))
}

/// A JS exception's message.
#[cfg(feature = "ui")]
pub(crate) fn message(value: &JsValue) -> String {
    use wasm_bindgen::JsCast;
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "unknown error".into())
}
