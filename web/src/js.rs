//! Values across the JS boundary: in the documents module serde types to JS values through
//! JSON, which it carries anyway (the wizard's module builds them with [`crate::json`]); and
//! exceptions' messages.

use wasm_bindgen::JsValue;

/// A JS value from anything serializable.
#[cfg(feature = "documents")]
pub(crate) fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, wasm_bindgen::JsError> {
    use wasm_bindgen::JsError;
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
