//! Typed IAM policy documents: trust policies, permission policies and permissions boundaries.
//!
//! Documents are built only through the functions in the submodules, which take validated types,
//! so a third-party trust policy cannot be produced without an ExternalId. [`trust::check_trust`]
//! applies the same rule to documents from elsewhere (a customer's edited role, GetRole output).

pub mod permissions;
pub mod trust;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// The only policy language version AWS documents policy variables and conditions for.
pub const POLICY_VERSION: &str = "2012-10-17";

/// Default quota for a role's trust policy ("Role trust policy length", adjustable to 4,096).
pub const TRUST_POLICY_DEFAULT_LIMIT: usize = 2_048;
/// The highest the trust-policy quota can be raised to.
pub const TRUST_POLICY_MAX_LIMIT: usize = 4_096;
/// Managed policy size limit; IAM does not count white space.
pub const MANAGED_POLICY_LIMIT: usize = 6_144;

/// An IAM policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    /// Always `2012-10-17` for documents Trustline builds.
    pub version: String,
    /// The statements, in a stable order.
    #[serde(deserialize_with = "one_or_many_statements")]
    pub statement: Vec<Statement>,
}

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    /// Grants the actions.
    Allow,
    /// Refuses the actions, whatever else allows them.
    Deny,
}

/// One statement of a policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    /// A statement identifier (alphanumeric), which makes documents easier to review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Allow or Deny.
    pub effect: Effect,
    /// Who the statement applies to (trust and resource policies only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    /// The actions, e.g. `sts:AssumeRole`.
    #[serde(default)]
    pub action: OneOrMany,
    /// The resources (identity policies only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<OneOrMany>,
    /// Condition operator → condition key → values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub condition: BTreeMap<String, BTreeMap<String, OneOrMany>>,
}

/// A statement's principal: `"*"` or a map such as `{"AWS": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Principal {
    /// `"Principal": "*"`: anyone, in any account.
    Anyone(Wildcard),
    /// `"Principal": {"AWS": …, "Service": …, "Federated": …}`.
    Map(BTreeMap<String, OneOrMany>),
}

/// The literal `"*"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wildcard;

impl Serialize for Wildcard {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str("*")
    }
}

impl<'de> Deserialize<'de> for Wildcard {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "*" { Ok(Wildcard) } else { Err(serde::de::Error::custom("expected \"*\"")) }
    }
}

/// A string or a list of strings, as IAM accepts in most positions. A single value is written
/// as a plain string, which is how AWS's own examples and the console write it.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct OneOrMany(pub Vec<String>);

impl OneOrMany {
    /// The values.
    pub fn values(&self) -> &[String] {
        &self.0
    }
}

impl<S: Into<String>> FromIterator<S> for OneOrMany {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        OneOrMany(iter.into_iter().map(Into::into).collect())
    }
}

impl From<&str> for OneOrMany {
    fn from(s: &str) -> Self {
        OneOrMany(vec![s.to_owned()])
    }
}

impl From<String> for OneOrMany {
    fn from(s: String) -> Self {
        OneOrMany(vec![s])
    }
}

impl Serialize for OneOrMany {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => s.serialize_str(one),
            many => many.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
            // IAM accepts booleans and numbers in conditions (e.g. aws:SecureTransport false).
            Bool(bool),
            Number(serde_json::Number),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::One(s) => OneOrMany(vec![s]),
            Raw::Many(v) => OneOrMany(v),
            Raw::Bool(b) => OneOrMany(vec![b.to_string()]),
            Raw::Number(n) => OneOrMany(vec![n.to_string()]),
        })
    }
}

fn one_or_many_statements<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<Statement>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        One(Box<Statement>),
        Many(Vec<Statement>),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::One(s) => vec![*s],
        Raw::Many(v) => v,
    })
}

impl PolicyDocument {
    /// A document with the given statements.
    pub fn new(statement: Vec<Statement>) -> Self {
        PolicyDocument { version: POLICY_VERSION.to_owned(), statement }
    }

    /// Parses a policy document as IAM returns or a customer pastes it. Documents from
    /// `GetRole` and `GetAccountAuthorizationDetails` arrive URL-encoded; decode them first.
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json)
            .map_err(|e| Error::invalid("policy", format!("not a valid IAM policy document: {e}")))
    }

    /// Pretty JSON with two-space indentation, as the console shows it.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Compact JSON, the form whose length IAM checks against its quotas.
    pub fn to_json_compact(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The document as a JSON value, for embedding in CloudFormation or Terraform.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The length IAM counts against its quotas: characters of the document without white space.
    pub fn quota_length(&self) -> usize {
        self.to_json_compact().chars().filter(|c| !c.is_whitespace()).count()
    }

    /// Fails with a clear message when the document exceeds `limit` characters.
    pub fn check_size(&self, field: &'static str, limit: usize, what: &str) -> Result<()> {
        let len = self.quota_length();
        if len > limit {
            return Err(Error::too_large(
                field,
                format!(
                    "the {what} would be {len} characters, over IAM's limit of {limit} (white space not counted); remove conditions or values, or ask AWS to raise the quota"
                ),
            ));
        }
        Ok(())
    }

    /// Every action named in Allow and Deny statements, for checks against IAM's action list.
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.statement.iter().flat_map(|s| s.action.values().iter().map(String::as_str))
    }

    /// Every condition key used, for checks against IAM's condition-key list.
    pub fn condition_keys(&self) -> impl Iterator<Item = &str> {
        self.statement.iter().flat_map(|s| s.condition.values().flat_map(|m| m.keys().map(String::as_str)))
    }
}

impl fmt::Display for PolicyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json_pretty())
    }
}

/// Adds `key: values` under `operator` in a statement's condition block.
pub(crate) fn add_condition(
    condition: &mut BTreeMap<String, BTreeMap<String, OneOrMany>>,
    operator: &str,
    key: &str,
    values: OneOrMany,
) {
    condition.entry(operator.to_owned()).or_default().insert(key.to_owned(), values);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_documents_in_every_shape_iam_accepts() {
        let doc = PolicyDocument::from_json(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":["sts:AssumeRole"],
                "Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"sts:DurationSeconds":3600}}}}"#,
        )
        .unwrap();
        assert_eq!(doc.statement.len(), 1);
        assert_eq!(doc.statement[0].principal, Some(Principal::Anyone(Wildcard)));
        assert_eq!(doc.statement[0].condition["Bool"]["aws:SecureTransport"].values(), ["true"]);
        // A single action is written back as a string, as the console does.
        assert!(doc.to_json_compact().contains(r#""Action":"sts:AssumeRole""#));
        assert!(
            PolicyDocument::from_json("{")
                .unwrap_err()
                .to_string()
                .starts_with("policy: not a valid IAM policy")
        );
    }

    #[test]
    fn size_is_counted_without_white_space() {
        let doc = PolicyDocument::new(vec![Statement {
            sid: None,
            effect: Effect::Allow,
            principal: None,
            action: "s3:GetObject".into(),
            resource: Some("arn:aws:s3:::a bucket/*".into()),
            condition: BTreeMap::new(),
        }]);
        let compact = doc.to_json_compact().len();
        assert_eq!(doc.quota_length(), compact - 1);
        assert!(doc.check_size("policy", compact - 1, "policy").is_ok());
        assert!(doc.check_size("policy", compact - 2, "policy").is_err());
        let err = doc.check_size("policy", 10, "permissions policy").unwrap_err();
        assert!(err.to_string().contains("over IAM's limit of 10"), "{err}");
    }
}
