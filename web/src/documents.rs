//! What the "Create access" step offers for a kind and scope: the Launch-stack link, templates
//! to download, policies to copy, the AWS CLI and Terraform alternatives and key warnings.
//!
//! Every document comes from `trustline-core`'s builders (`build`). In the browser they live in
//! a second wasm module, `trustline-web-documents` (`exports`), which the wizard loads once the
//! customer leaves the first step (`loader`): the first screen then needs none of the YAML,
//! Terraform, SigV4 or XML code (issue 5's size budget). Natively both halves are one crate, so
//! the reducer's tests run the builders directly.

#[cfg(not(all(target_arch = "wasm32", feature = "ui")))]
mod build;
#[cfg(all(target_arch = "wasm32", feature = "documents"))]
pub mod exports;
#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub(crate) mod loader;

use serde::{Deserialize, Serialize};
use trustline_core::IntegrationKind;

use crate::config::{Config, OptionError, Options};
use crate::json::{self, Json, Value};
use crate::state::{Scope, ScopeField, ScopeInput};

/// One document the customer can copy or download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Stable id, used in DOM ids and tests (`trust-policy`, `template-yaml`, …).
    pub id: String,
    /// Heading.
    pub title: String,
    /// File name for downloads.
    pub file_name: String,
    /// MIME type for downloads.
    pub mime: String,
    /// The document.
    pub body: String,
}

/// Everything the "Create access" step shows.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AccessKit {
    /// The one-click CloudFormation link, with the ExternalId filled in.
    pub launch_link: Option<String>,
    /// Why there is no link, or what to know about it.
    pub launch_note: Option<String>,
    /// What to do, in order.
    pub steps: Vec<String>,
    /// Templates to download.
    pub templates: Vec<Document>,
    /// Policies to copy.
    pub policies: Vec<Document>,
    /// AWS CLI and Terraform.
    pub alternatives: Vec<Document>,
    /// Loud warnings (key kinds).
    pub warnings: Vec<String>,
    /// Key rotation advice (key kinds).
    pub rotation: Option<Rotation>,
    /// Documents that could not be built, with core's reason.
    pub errors: Vec<String>,
}

/// How often to rotate a long-lived key, and how (core's `RotationGuidance`, as shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    /// Rotate at least this often.
    pub max_age_days: u32,
    /// The steps, in order.
    pub steps: Vec<String>,
}

/// What a whole-document check refused (conflicting conditions, a policy over its size limit),
/// reported against the field the customer can change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeProblem {
    /// The field to fix.
    pub field: ScopeField,
    /// Core's message.
    pub message: String,
}

/// What the wizard asks the documents module for: the options (with the ExternalId in use), the
/// kind and the scope as typed. The module parses them with the same code the wizard runs, so
/// both sides agree on every value without a second wire format for core's types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The host's options, normalised ([`Config::to_options`]).
    pub options: Options,
    /// The chosen kind.
    pub kind: IntegrationKind,
    /// The scope step's fields.
    pub scope: ScopeInput,
}

impl Request {
    /// The request for `kind` and `scope` under `config`.
    pub fn new(config: &Config, kind: IntegrationKind, scope: &ScopeInput) -> Self {
        Request { options: config.to_options(), kind, scope: scope.clone() }
    }

    /// The request as serde writes it, for the documents module (which reads it with serde).
    pub fn to_json(&self) -> Value {
        Value::object(vec![
            ("options", self.options.to_json()),
            ("kind", Value::text(self.kind.id())),
            ("scope", self.scope.to_json()),
        ])
    }

    /// The configuration and the parsed scope, as the wizard has them.
    pub fn parse(&self) -> Result<(Config, Scope), String> {
        let config = Config::from_options(self.options.clone(), |_| {
            Err(trustline_core::Error::invalid("externalId", "the wizard always passes its ExternalId"))
        })
        .map_err(|e: OptionError| e.to_string())?;
        let scope = self.scope.parse_fields(self.kind).map_err(|errors| {
            let fields: Vec<&str> = errors.keys().map(|f| f.id()).collect();
            format!("the scope is incomplete ({}); go back one step", fields.join(", "))
        })?;
        Ok((config, scope))
    }
}

impl AccessKit {
    /// Reads the kit the documents module built (serde's shape; a test keeps them identical).
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let rotation = match v.field("rotation") {
            None => None,
            Some(r) => Some(Rotation {
                max_age_days: r
                    .field("max_age_days")
                    .and_then(|n| n.number())
                    .ok_or("`max_age_days` is missing")? as u32,
                steps: json::strings(&r, "steps")?,
            }),
        };
        Ok(AccessKit {
            launch_link: json::opt_string(v, "launch_link")?,
            launch_note: json::opt_string(v, "launch_note")?,
            steps: json::strings(v, "steps")?,
            templates: json::objects(v, "templates", Document::from_json)?,
            policies: json::objects(v, "policies", Document::from_json)?,
            alternatives: json::objects(v, "alternatives", Document::from_json)?,
            warnings: json::strings(v, "warnings")?,
            rotation,
            errors: json::strings(v, "errors")?,
        })
    }
}

impl Document {
    fn from_json(v: &Value) -> Result<Self, String> {
        Ok(Document {
            id: json::string(v, "id")?,
            title: json::string(v, "title")?,
            file_name: json::string(v, "file_name")?,
            mime: json::string(v, "mime")?,
            body: json::string(v, "body")?,
        })
    }
}

impl ScopeProblem {
    /// Reads a problem the documents module found (serde's shape).
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let field = json::string(v, "field")?;
        Ok(ScopeProblem {
            field: ScopeField::from_id(&field).ok_or_else(|| format!("unknown field '{field}'"))?,
            message: json::string(v, "message")?,
        })
    }
}

/// The access step's kit for `scope` (parsed from `input` for `kind`). In the wizard's module
/// the documents module builds it: None until that has loaded.
pub fn access_kit(
    config: &Config,
    kind: IntegrationKind,
    input: &ScopeInput,
    scope: &Scope,
) -> Option<Result<AccessKit, String>> {
    #[cfg(not(all(target_arch = "wasm32", feature = "ui")))]
    {
        let _ = (kind, input);
        Some(Ok(build::access_kit(config, scope)))
    }
    #[cfg(all(target_arch = "wasm32", feature = "ui"))]
    {
        let _ = scope;
        loader::access_kit(&Request::new(config, kind, input))
    }
}

/// The whole-document checks of a parsed scope, which core's builders make (conflicting
/// conditions, size limits). In the wizard's module they run in the documents module; until it
/// has loaded they pass, and the access step reports whatever the builders then refuse.
pub(crate) fn check_scope(
    config: &Config,
    kind: IntegrationKind,
    input: &ScopeInput,
    scope: &Scope,
) -> Result<(), ScopeProblem> {
    #[cfg(not(all(target_arch = "wasm32", feature = "ui")))]
    {
        let _ = (kind, input);
        build::check(config, scope)
    }
    #[cfg(all(target_arch = "wasm32", feature = "ui"))]
    {
        let _ = scope;
        loader::check_scope(&Request::new(config, kind, input))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::config;

    #[test]
    fn a_request_parses_back_to_the_same_config_and_scope() {
        let config = config();
        let mut input = ScopeInput::new(&[]);
        input.account_id = "123456789012".into();
        input.source_ips = "203.0.113.0/24".into();
        let request = Request::new(&config, IntegrationKind::CrossAccountRole, &input);
        let wire: Request = serde_json::from_str(&serde_json::to_string(&request).unwrap()).unwrap();
        let (parsed, scope) = wire.parse().unwrap();
        assert_eq!(parsed.external_id, config.external_id, "the generated ExternalId travels");
        assert_eq!(Config { external_id_generated: true, verify: config.verify.clone(), ..parsed }, config);
        assert_eq!(scope, input.parse_fields(IntegrationKind::CrossAccountRole).unwrap());
    }

    #[test]
    fn what_crosses_to_and_from_the_documents_module_is_what_serde_writes() {
        let mut input = ScopeInput::new(&[]);
        input.organization = true;
        input.call_as = trustline_core::cfn::stackset::CallAs::DelegatedAdmin;
        input.compute = trustline_core::policy::trust::ComputeService::EcsTasks;
        let request = Request::new(&config(), IntegrationKind::Sts, &input);
        assert_eq!(request.to_json(), serde_json::to_value(&request).unwrap());
        let kit = AccessKit {
            launch_link: Some("https://console".into()),
            steps: vec!["one".into()],
            templates: vec![Document {
                id: "t".into(),
                title: "T".into(),
                file_name: "t.yaml".into(),
                mime: "application/yaml".into(),
                body: "x".into(),
            }],
            rotation: Some(Rotation { max_age_days: 90, steps: vec!["rotate".into()] }),
            errors: vec!["e".into()],
            ..AccessKit::default()
        };
        assert_eq!(AccessKit::from_json(&serde_json::to_value(&kit).unwrap()), Ok(kit));
        for field in ScopeField::ALL {
            let problem = ScopeProblem { field, message: "m".into() };
            assert_eq!(ScopeProblem::from_json(&serde_json::to_value(&problem).unwrap()), Ok(problem));
        }
    }

    #[test]
    fn an_incomplete_scope_is_refused_with_its_fields() {
        let mut input = ScopeInput::new(&[]);
        input.account_id = "1".into();
        let err = Request::new(&config(), IntegrationKind::CrossAccountRole, &input).parse().unwrap_err();
        assert!(err.contains("account-id"), "{err}");
    }
}
