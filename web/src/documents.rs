//! What the "Create access" step offers for a kind and scope: the Launch-stack link, templates
//! to download, policies to copy, the AWS CLI and Terraform alternatives and key warnings.
//!
//! Every document comes from `trustline-core`'s builders (`build`); this module picks and
//! labels them. The JS API's document helpers (`api::helpers`) use the same builders.

pub(crate) mod build;

use crate::config::Config;
use crate::state::{Scope, ScopeField};

/// One document the customer can copy or download.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// Rotate at least this often.
    pub max_age_days: u32,
    /// The steps, in order.
    pub steps: Vec<String>,
}

/// What a whole-document check refused (conflicting conditions, a policy over its size limit),
/// reported against the field the customer can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeProblem {
    /// The field to fix.
    pub field: ScopeField,
    /// Core's message.
    pub message: String,
}

/// The access step's kit for `scope`.
pub fn access_kit(config: &Config, scope: &Scope) -> AccessKit {
    build::access_kit(config, scope)
}

/// The whole-document checks of a parsed scope, which core's builders make (conflicting
/// conditions, size limits).
pub(crate) fn check_scope(config: &Config, scope: &Scope) -> Result<(), ScopeProblem> {
    build::check(config, scope)
}
