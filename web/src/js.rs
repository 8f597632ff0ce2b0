//! Values across the JS boundary: serde types to and from JS values with serde-wasm-bindgen,
//! and exceptions' messages.

use wasm_bindgen::{JsCast, JsValue};

/// A JS value from anything serializable, as JSON would have it (`None` is `null`, maps are
/// plain objects).
pub(crate) fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, wasm_bindgen::JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| wasm_bindgen::JsError::new(&e.to_string()))
}

/// A JS value read with serde-wasm-bindgen; errors start with `what`. That deserializer reads
/// only the fields a struct names, so a key the struct does not have is refused here, as
/// `deny_unknown_fields` would.
pub(crate) fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, String> {
    let fields = struct_fields::<T>();
    if value.is_object() && !fields.is_empty() {
        let keys = js_sys::Object::keys(value.unchecked_ref::<js_sys::Object>());
        if let Some(unknown) =
            keys.iter().filter_map(|k| k.as_string()).find(|k| !fields.contains(&k.as_str()))
        {
            return Err(format!(
                "{what}: unknown field `{unknown}`, expected one of `{}`",
                fields.join("`, `")
            ));
        }
    }
    serde_wasm_bindgen::from_value(value).map_err(|e| format!("{what}: {e}"))
}

/// The field names of a struct that derives `Deserialize` (empty for anything else): a
/// deserializer that records what `deserialize_struct` is asked for, and stops.
fn struct_fields<'de, T: serde::Deserialize<'de>>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};
    struct Probe(&'static [&'static str]);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("stop")
        }
    }
    impl std::error::Error for Stop {}
    impl de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    impl<'de> de::Deserializer<'de> for &mut Probe {
        type Error = Stop;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = fields;
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
            unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut probe = Probe(&[]);
    let _ = T::deserialize(&mut probe);
    probe.0
}

/// A JS exception's message.
pub(crate) fn message(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "unknown error".into())
}
