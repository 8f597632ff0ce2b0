//! Values across the JS boundary: in the second module serde types to and from JS values
//! through JSON, which it carries anyway (the first module reads and builds them with
//! [`crate::json`]); and exceptions' messages.

use wasm_bindgen::JsValue;

/// A JS value from anything serializable.
#[cfg(feature = "documents")]
pub(crate) fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, wasm_bindgen::JsError> {
    use wasm_bindgen::JsError;
    let text = serde_json::to_string(value).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&text).map_err(|_| JsError::new("could not convert a result to JSON"))
}

/// A JS value read with serde, through JSON; errors start with `what`.
#[cfg(feature = "documents")]
pub(crate) fn from_js<T: serde::de::DeserializeOwned>(value: &JsValue, what: &str) -> Result<T, String> {
    let text = js_sys::JSON::stringify(value).map(String::from).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    serde_json::from_value(json).map_err(|e| format!("{what}: {e}"))
}

/// A JS exception's message.
pub(crate) fn message(value: &JsValue) -> String {
    use wasm_bindgen::JsCast;
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "unknown error".into())
}
