//! CloudFormation templates (YAML and JSON) for every kind that creates IAM resources, the
//! service-managed StackSet for Organizations, and console quick-create links.

pub mod quick_create;
pub mod role;
pub mod stackset;
pub mod user;
mod yaml;

use serde_json::{Value, json};

use crate::error::{Error, Result};

/// A generated CloudFormation template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template(Value);

/// CloudFormation's limit on a template passed inline (`TemplateBody`), in bytes.
pub const TEMPLATE_BODY_LIMIT: usize = 51_200;

impl Template {
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.0).unwrap_or_default()
    }

    /// Compact JSON, as embedded in a StackSet's `TemplateBody`.
    pub fn to_json_compact(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_default()
    }

    /// YAML with long-form intrinsic functions (`Fn::Sub:`), which every YAML parser reads.
    pub fn to_yaml(&self) -> String {
        let yaml = yaml::to_string(&self.0);
        // The emitter follows YAML 1.2, where 2010-09-09 is a string; YAML 1.1 parsers read it
        // as a timestamp, so dates (the format and policy versions) are quoted.
        yaml.lines().map(quote_date_value).collect::<Vec<_>>().join("\n") + "\n"
    }

    /// The template as a JSON value.
    pub fn as_value(&self) -> &Value {
        &self.0
    }

    fn check_inline_size(&self) -> Result<()> {
        let len = self.to_json_compact().len();
        if len > TEMPLATE_BODY_LIMIT {
            return Err(Error::too_large(
                "template",
                format!(
                    "the template is {len} bytes, over CloudFormation's inline limit of {TEMPLATE_BODY_LIMIT}; use fewer options"
                ),
            ));
        }
        Ok(())
    }
}

fn quote_date_value(line: &str) -> String {
    if let Some((key, value)) = line.rsplit_once(": ") {
        let b = value.as_bytes();
        let is_date = b.len() == 10
            && b.iter()
                .enumerate()
                .all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
        if is_date {
            return format!("{key}: '{value}'");
        }
    }
    line.to_owned()
}

/// Turns a built document into template form: strings that mention `${…}` (pseudo parameters
/// such as `${AWS::AccountId}`, or attributes such as `${VendorRole.Arn}`) become `Fn::Sub`, and
/// placeholder strings become `Ref`s to parameters. Validated inputs never contain `${`.
pub(crate) fn templatize(value: Value, refs: &[(&str, &str)]) -> Value {
    match value {
        Value::String(s) => {
            if let Some((_, param)) = refs.iter().find(|(placeholder, _)| *placeholder == s) {
                json!({ "Ref": param })
            } else if s.contains("${") {
                json!({ "Fn::Sub": s })
            } else {
                Value::String(s)
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(|v| templatize(v, refs)).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, templatize(v, refs))).collect()),
        other => other,
    }
}
