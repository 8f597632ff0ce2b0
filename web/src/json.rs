//! JSON-shaped values without a JSON library in the first module. What crosses the JS boundary
//! there (the host's options, the hand-over to the second module, the helpers' results) is read
//! and built as JS values directly: serde and serde_json were an eighth of that module (issue
//! 5's size budget). Natively the same code runs on `serde_json::Value`, which is how the
//! native tests check it, including that what it writes is what serde reads on the other side.

/// A JSON value: a JS value in the first module, `serde_json::Value` elsewhere.
#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub type Value = wasm_bindgen::JsValue;
/// A JSON value: a JS value in the first module, `serde_json::Value` elsewhere.
#[cfg(not(all(target_arch = "wasm32", feature = "ui")))]
pub type Value = serde_json::Value;

/// Reading and building [`Value`]s.
pub trait Json: Sized {
    /// An object's field; None when it is missing or null (or this is not an object).
    fn field(&self, key: &str) -> Option<Self>;
    /// The string, if this is one.
    fn string(&self) -> Option<String>;
    /// An array's items.
    fn items(&self) -> Option<Vec<Self>>;
    /// An object's keys (not an array's).
    fn keys(&self) -> Option<Vec<String>>;
    /// `null`.
    fn null() -> Self;
    /// A string.
    fn text(s: &str) -> Self;
    /// A boolean.
    fn flag(b: bool) -> Self;
    /// An array.
    fn list(items: Vec<Self>) -> Self;
    /// An object with these fields, in this order.
    fn object(fields: Vec<(&str, Self)>) -> Self;
}

/// A string or `null`.
pub fn opt_text(s: Option<&str>) -> Value {
    s.map_or_else(Value::null, Value::text)
}

/// An array of strings.
pub fn texts<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Value {
    Value::list(items.into_iter().map(|s| Value::text(s.as_ref())).collect())
}

/// Field `key`, a string, or what is wrong with it.
pub fn string(v: &Value, key: &str) -> Result<String, String> {
    opt_string(v, key)?.ok_or_else(|| format!("`{key}` is missing"))
}

/// Optional field `key`, a string, or what is wrong with it.
pub fn opt_string(v: &Value, key: &str) -> Result<Option<String>, String> {
    v.field(key).map(|s| s.string().ok_or_else(|| format!("`{key}` must be a string"))).transpose()
}

/// Optional field `key`, an array of strings, or what is wrong with it.
pub fn opt_strings(v: &Value, key: &str) -> Result<Option<Vec<String>>, String> {
    let Some(list) = v.field(key) else { return Ok(None) };
    let wrong = || format!("`{key}` must be a list of strings");
    list.items()
        .ok_or_else(wrong)?
        .iter()
        .map(|s| s.string().ok_or_else(wrong))
        .collect::<Result<_, _>>()
        .map(Some)
}

#[cfg(not(all(target_arch = "wasm32", feature = "ui")))]
impl Json for serde_json::Value {
    fn field(&self, key: &str) -> Option<Self> {
        self.as_object()?.get(key).filter(|v| !v.is_null()).cloned()
    }
    fn string(&self) -> Option<String> {
        self.as_str().map(str::to_owned)
    }
    fn items(&self) -> Option<Vec<Self>> {
        self.as_array().cloned()
    }
    fn keys(&self) -> Option<Vec<String>> {
        Some(self.as_object()?.keys().cloned().collect())
    }
    fn null() -> Self {
        serde_json::Value::Null
    }
    fn text(s: &str) -> Self {
        s.into()
    }
    fn flag(b: bool) -> Self {
        b.into()
    }
    fn list(items: Vec<Self>) -> Self {
        items.into()
    }
    fn object(fields: Vec<(&str, Self)>) -> Self {
        fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<serde_json::Map<_, _>>().into()
    }
}

#[cfg(all(target_arch = "wasm32", feature = "ui"))]
impl Json for wasm_bindgen::JsValue {
    fn field(&self, key: &str) -> Option<Self> {
        if !self.is_object() {
            return None;
        }
        js_sys::Reflect::get(self, &key.into()).ok().filter(|v| !v.is_undefined() && !v.is_null())
    }
    fn string(&self) -> Option<String> {
        self.as_string()
    }
    fn items(&self) -> Option<Vec<Self>> {
        use wasm_bindgen::JsCast;
        js_sys::Array::is_array(self).then(|| self.unchecked_ref::<js_sys::Array>().iter().collect())
    }
    fn keys(&self) -> Option<Vec<String>> {
        use wasm_bindgen::JsCast;
        if !self.is_object() || js_sys::Array::is_array(self) {
            return None;
        }
        Some(
            js_sys::Object::keys(self.unchecked_ref::<js_sys::Object>())
                .iter()
                .filter_map(|k| k.as_string())
                .collect(),
        )
    }
    fn null() -> Self {
        Self::NULL
    }
    fn text(s: &str) -> Self {
        s.into()
    }
    fn flag(b: bool) -> Self {
        b.into()
    }
    fn list(items: Vec<Self>) -> Self {
        items.into_iter().collect::<js_sys::Array>().into()
    }
    fn object(fields: Vec<(&str, Self)>) -> Self {
        let object = js_sys::Object::new();
        for (key, value) in fields {
            let _ = js_sys::Reflect::set(&object, &key.into(), &value);
        }
        object.into()
    }
}
