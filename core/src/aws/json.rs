//! Helpers for the JSON 1.1 services (CloudTrail, Organizations): responses are deserialized
//! into serde-derived wire types; unknown fields are ignored, timestamps arrive as epoch seconds
//! (fractional allowed), and a body that is not the expected object is an invalid response.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;

use super::error::AwsError;

/// Deserializes a response body into its wire type.
pub(crate) fn from_body<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T, AwsError> {
    // serde would also fill a struct from a JSON array; AWS's answers are always objects.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(AwsError::invalid_response(status, "the response body is not a JSON object"));
    }
    serde_json::from_slice(body).map_err(|e| {
        let what = if e.is_syntax() || e.is_eof() {
            "is not valid JSON"
        } else {
            "does not have the expected shape"
        };
        AwsError::invalid_response(status, format!("the response body {what} ({e})"))
    })
}

/// A `NextToken`, where AWS (and some stand-ins) may send an empty string for the last page.
pub(crate) fn next_token(token: Option<String>) -> Option<String> {
    token.filter(|t| !t.is_empty())
}

/// A timestamp in epoch seconds (`1.4251824E9`, `1425182400`); ISO 8601 text is accepted too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Wire {
    Seconds(f64),
    Text(String),
}

/// `deserialize_with` for an optional epoch-seconds timestamp.
pub(crate) fn epoch<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
    use serde::de::Error;
    match Option::<Wire>::deserialize(d)? {
        None => Ok(None),
        Some(Wire::Seconds(secs)) => {
            if !secs.is_finite() || !(-1e11..1e11).contains(&secs) {
                return Err(D::Error::custom(format!("not a timestamp: {secs}")));
            }
            // AWS sends at most millisecond precision; rounding there avoids float noise.
            let nanos = (secs * 1e3).round() as i128 * 1_000_000;
            OffsetDateTime::from_unix_timestamp_nanos(nanos)
                .map(Some)
                .map_err(|_| D::Error::custom(format!("timestamp out of range: {secs}")))
        }
        Some(Wire::Text(text)) => {
            super::xml::parse_timestamp(&text).map(Some).map_err(|e| D::Error::custom(e.to_string()))
        }
    }
}
