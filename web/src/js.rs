//! Values across the JS boundary: serde types to and from JS values with serde-wasm-bindgen
//! (inputs through `serde_json::Value`, so that unknown fields are seen), and exceptions'
//! messages.

use wasm_bindgen::JsValue;

/// A JS value from anything serializable, as JSON would have it (`None` is `null`, maps are
/// plain objects).
pub(crate) fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, wasm_bindgen::JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| wasm_bindgen::JsError::new(&e.to_string()))
}

/// A JS value as JSON: serde-wasm-bindgen reads every key of every object (its typed
/// deserializer reads only a struct's own fields, so `deny_unknown_fields` would see nothing).
pub(crate) fn to_json(value: JsValue) -> Result<serde_json::Value, String> {
    serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
}

/// A JS value read with serde through [`to_json`]; errors start with `what` (serde's messages
/// name an unknown or missing field).
pub(crate) fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, String> {
    to_json(value)
        .and_then(|json| serde_json::from_value(json).map_err(|e| e.to_string()))
        .map_err(|e| format!("{what}: {e}"))
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
