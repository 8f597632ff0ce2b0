//! Helpers for the JSON 1.1 services (CloudTrail, Organizations): bodies must be JSON objects,
//! unknown fields are ignored, timestamps arrive as epoch seconds (fractional allowed).

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::error::AwsError;

/// Parses a response body as a JSON object.
pub(crate) fn parse(status: u16, body: &[u8]) -> Result<Map<String, Value>, AwsError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(AwsError::invalid_response(status, "the response body is JSON but not an object")),
        Err(e) => {
            Err(AwsError::invalid_response(status, format!("the response body is not valid JSON ({e})")))
        }
    }
}

/// A string field.
pub(crate) fn string(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// A string field AWS always sends.
pub(crate) fn required(map: &Map<String, Value>, key: &str) -> Result<String, AwsError> {
    string(map, key)
        .ok_or_else(|| AwsError::invalid_response(200, format!("the response has no \"{key}\" string")))
}

/// The objects in array field `key`; an absent field is an empty list, a wrong type an error.
pub(crate) fn objects<'a>(
    map: &'a Map<String, Value>,
    key: &str,
) -> Result<Vec<&'a Map<String, Value>>, AwsError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_object()
                    .ok_or_else(|| AwsError::invalid_response(200, format!("\"{key}\" holds a non-object")))
            })
            .collect(),
        Some(_) => Err(AwsError::invalid_response(200, format!("\"{key}\" is not an array"))),
    }
}

/// An epoch-seconds timestamp field (`1.4251824E9`, `1425182400`); ISO strings are accepted too.
pub(crate) fn timestamp(map: &Map<String, Value>, key: &str) -> Result<Option<OffsetDateTime>, AwsError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            let secs = n.as_f64().unwrap_or(f64::NAN);
            if !secs.is_finite() || !(-1e11..1e11).contains(&secs) {
                return Err(AwsError::invalid_response(200, format!("\"{key}\" is not a timestamp: {n}")));
            }
            // AWS sends at most millisecond precision; rounding there avoids float noise.
            let nanos = (secs * 1e3).round() as i128 * 1_000_000;
            OffsetDateTime::from_unix_timestamp_nanos(nanos)
                .map(Some)
                .map_err(|_| AwsError::invalid_response(200, format!("\"{key}\" is out of range: {n}")))
        }
        Some(Value::String(s)) => super::xml::parse_timestamp(s).map(Some),
        Some(_) => Err(AwsError::invalid_response(200, format!("\"{key}\" is not a timestamp"))),
    }
}
