//! Pure helpers for hosts that build their own UI: the same core builders the wizard uses.
//! Each throws an `Error` whose message names the field and the fix.
//!
//! The document helpers run in the documents module, which is not fetched with this one (issue
//! 5's size budget): a host awaits `loadDocuments()` once, then calls them as before. Their
//! types are declared here, so `trustline-web.d.ts` stays the one typed API.

use trustline_core::{ExternalId, RoleArn};
use wasm_bindgen::prelude::*;

use crate::bindings::{
    JsPermissionsPolicyInput, JsQuickCreateInput, JsRoleArnParts, JsRoleTemplateInput, JsSignInput,
    JsSignedRequest, JsTrustPolicyInput,
};
use crate::documents::loader;
use crate::json::Json;

fn core_err(e: trustline_core::Error) -> JsError {
    JsError::new(&e.to_string())
}

/// Loads the documents module (templates, policies, the AWS CLI, Terraform, SigV4), which the
/// document helpers below need. The wizard loads it by itself after its first step; calling
/// this again is free.
#[wasm_bindgen(js_name = loadDocuments)]
pub async fn load_documents() -> Result<(), JsError> {
    loader::load().await.map_err(|e| JsError::new(&format!("Trustline: {e}")))
}

/// A new ExternalId (160 random bits from the browser's CSPRNG), with an optional prefix.
#[wasm_bindgen(js_name = generateExternalId)]
pub fn generate_external_id(prefix: Option<String>) -> Result<String, JsError> {
    ExternalId::generate(&mut getrandom::SysRng, prefix.as_deref()).map(|id| id.to_string()).map_err(core_err)
}

/// Parses a role ARN, with core's explanation when it is something else (a role name, a user
/// ARN, an assumed-role session…).
#[wasm_bindgen(js_name = parseRoleArn)]
pub fn parse_role_arn(arn: &str) -> Result<JsRoleArnParts, JsError> {
    let role: RoleArn = arn.parse().map_err(core_err)?;
    let parts = JsValue::object(vec![
        ("partition", JsValue::text(role.partition().as_str())),
        ("accountId", JsValue::text(&role.account_id().to_string())),
        ("path", JsValue::text(role.path())),
        ("name", JsValue::text(role.name())),
    ]);
    Ok(parts.unchecked_into())
}

fn text(answer: JsValue) -> String {
    answer.as_string().unwrap_or_default()
}

/// The third-party trust policy (JSON): the vendor may assume the role only with the ExternalId.
/// Needs `loadDocuments()`.
#[wasm_bindgen(js_name = trustPolicy)]
pub fn trust_policy(input_: JsTrustPolicyInput) -> Result<String, JsValue> {
    loader::helper("trustPolicy", &input_).map(text)
}

/// The least-privilege read-only permission policy (JSON) for an account. Needs `loadDocuments()`.
#[wasm_bindgen(js_name = permissionsPolicy)]
pub fn permissions_policy(input_: JsPermissionsPolicyInput) -> Result<String, JsValue> {
    loader::helper("permissionsPolicy", &input_).map(text)
}

/// The role's CloudFormation template, YAML (default) or JSON. Needs `loadDocuments()`.
#[wasm_bindgen(js_name = roleTemplate)]
pub fn role_template(input_: JsRoleTemplateInput) -> Result<String, JsValue> {
    loader::helper("roleTemplate", &input_).map(text)
}

/// The CloudFormation quick-create link with the ExternalId pre-filled. Needs `loadDocuments()`.
#[wasm_bindgen(js_name = quickCreateLink)]
pub fn quick_create_link(input_: JsQuickCreateInput) -> Result<String, JsValue> {
    loader::helper("quickCreateLink", &input_).map(text)
}

/// An STS GetCallerIdentity request signed with SigV4 (the clock is the browser's unless
/// `timeMs` is given). It is returned, not sent. Needs `loadDocuments()`.
#[wasm_bindgen(js_name = signGetCallerIdentity)]
pub fn sign_get_caller_identity(input_: JsSignInput) -> Result<JsSignedRequest, JsValue> {
    loader::helper("signGetCallerIdentity", &input_).map(JsCast::unchecked_into)
}
