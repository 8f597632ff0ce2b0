//! Pure helpers for hosts that build their own UI: the same core builders the wizard uses.
//! Each throws an `Error` whose message names the field and the fix. Their input and output
//! types are declared in `bindings` (`trustline-web.d.ts`).

use serde::{Deserialize, Serialize};
use trustline_core::cfn::role;
use trustline_core::policy::permissions::{self, AccountScope, PermissionOptions};
use trustline_core::policy::trust::{self, TrustHardening, VendorPrincipal};
use trustline_core::spec::RoleSpec;
use trustline_core::{AccountId, ExternalId, Partition, Region, RoleArn, Secret};
use wasm_bindgen::prelude::*;

use crate::bindings::{
    JsPermissionsPolicyInput, JsQuickCreateInput, JsRoleArnParts, JsRoleTemplateInput, JsSignInput,
    JsSignedRequest, JsTrustPolicyInput,
};
use crate::documents::build;
use crate::js::{from_js, to_js};

/// A helper's input; errors start with `what` and name the field.
fn input<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsError> {
    from_js(value, what).map_err(|e| JsError::new(&e))
}

fn core_err(e: trustline_core::Error) -> JsError {
    JsError::new(&e.to_string())
}

/// A new ExternalId (160 random bits from the browser's CSPRNG), with an optional prefix.
#[wasm_bindgen(js_name = generateExternalId)]
pub fn generate_external_id(prefix: Option<String>) -> Result<String, JsError> {
    ExternalId::generate(&mut getrandom::SysRng, prefix.as_deref()).map(|id| id.to_string()).map_err(core_err)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RoleArnParts<'a> {
    partition: &'a str,
    account_id: String,
    path: &'a str,
    name: &'a str,
}

/// Parses a role ARN, with core's explanation when it is something else (a role name, a user
/// ARN, an assumed-role session…).
#[wasm_bindgen(js_name = parseRoleArn)]
pub fn parse_role_arn(arn: &str) -> Result<JsRoleArnParts, JsError> {
    let role: RoleArn = arn.parse().map_err(core_err)?;
    let parts = RoleArnParts {
        partition: role.partition().as_str(),
        account_id: role.account_id().to_string(),
        path: role.path(),
        name: role.name(),
    };
    Ok(to_js(&parts)?.unchecked_into())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TrustInput {
    vendor_principal: VendorPrincipal,
    external_id: ExternalId,
    #[serde(default)]
    source_ips: Vec<trustline_core::ids::SourceCidr>,
    #[serde(default)]
    source_vpces: Vec<trustline_core::ids::VpcEndpointId>,
    #[serde(default)]
    principal_org_id: Option<trustline_core::ids::OrganizationId>,
}

/// The third-party trust policy (JSON): the vendor may assume the role only with the ExternalId.
#[wasm_bindgen(js_name = trustPolicy)]
pub fn trust_policy(input_: JsTrustPolicyInput) -> Result<String, JsError> {
    let i: TrustInput = input(input_.into(), "trustPolicy")?;
    let hardening = TrustHardening {
        source_ips: i.source_ips,
        source_vpces: i.source_vpces,
        principal_org_id: i.principal_org_id,
        ..TrustHardening::default()
    };
    trust::third_party(&i.vendor_principal, &i.external_id, &hardening)
        .map(|p| p.to_json_pretty())
        .map_err(core_err)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PermissionsInput {
    account_id: AccountId,
    #[serde(default)]
    partition: Option<Partition>,
    #[serde(default)]
    data_sets: Option<std::collections::BTreeSet<permissions::DataSet>>,
    #[serde(default)]
    regions: Vec<Region>,
}

/// The least-privilege read-only permission policy (JSON) for an account.
#[wasm_bindgen(js_name = permissionsPolicy)]
pub fn permissions_policy(input_: JsPermissionsPolicyInput) -> Result<String, JsError> {
    let i: PermissionsInput = input(input_.into(), "permissionsPolicy")?;
    let options = PermissionOptions {
        data_sets: i.data_sets.unwrap_or_else(|| PermissionOptions::default().data_sets),
        regions: i.regions,
        source_ips: Vec::new(),
    };
    let scope = AccountScope::Account(i.partition.unwrap_or(Partition::Aws), i.account_id);
    permissions::read_only(&scope, &options).map(|p| p.to_json_pretty()).map_err(core_err)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TemplateInput {
    vendor_principal: VendorPrincipal,
    vendor_name: String,
    #[serde(default)]
    external_id: Option<ExternalId>,
    #[serde(default)]
    role_name: Option<String>,
    #[serde(default)]
    data_sets: Option<std::collections::BTreeSet<permissions::DataSet>>,
    #[serde(default)]
    regions: Vec<Region>,
    #[serde(default)]
    format: Option<String>,
}

/// The role's CloudFormation template, YAML (default) or JSON.
#[wasm_bindgen(js_name = roleTemplate)]
pub fn role_template(input_: JsRoleTemplateInput) -> Result<String, JsError> {
    let i: TemplateInput = input(input_.into(), "roleTemplate")?;
    let mut spec =
        RoleSpec::new(i.vendor_principal, &i.vendor_name, i.role_name.as_deref().unwrap_or("VendorReadOnly"));
    spec.external_id = i.external_id;
    if let Some(sets) = i.data_sets {
        spec.permissions.data_sets = sets;
    }
    spec.permissions.regions = i.regions;
    let template = role::template(&spec).map_err(core_err)?;
    match i.format.as_deref() {
        None | Some("yaml") => Ok(template.to_yaml()),
        Some("json") => Ok(template.to_json()),
        Some(other) => Err(JsError::new(&format!("format: expected \"yaml\" or \"json\", got \"{other}\""))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct QuickCreateInput {
    template_url: String,
    region: Region,
    external_id: ExternalId,
    vendor_principal: VendorPrincipal,
    #[serde(default)]
    role_name: Option<String>,
    #[serde(default)]
    stack_name: Option<String>,
}

/// The CloudFormation quick-create link with the ExternalId pre-filled.
#[wasm_bindgen(js_name = quickCreateLink)]
pub fn quick_create_link(input_: JsQuickCreateInput) -> Result<String, JsError> {
    let i: QuickCreateInput = input(input_.into(), "quickCreateLink")?;
    let vendor = i.vendor_principal.to_string();
    let role_name = i.role_name.unwrap_or_else(|| "VendorReadOnly".into());
    let params = [
        ("ExternalId", i.external_id.as_str()),
        ("VendorPrincipal", vendor.as_str()),
        ("RoleName", role_name.as_str()),
    ];
    let stack_name = i.stack_name.unwrap_or_else(|| "vendor-read-only-access".into());
    build::quick_create_link(&trustline_core::cfn::quick_create::QuickCreate {
        region: &i.region,
        template_url: &i.template_url,
        stack_name: &stack_name,
        parameters: &params,
    })
    .map_err(core_err)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SignInput {
    access_key_id: String,
    secret_access_key: String,
    #[serde(default)]
    session_token: Option<String>,
    region: Region,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    time_ms: Option<f64>,
}

#[derive(Serialize)]
struct SignedRequest<'a> {
    method: &'a str,
    url: &'a str,
    headers: std::collections::BTreeMap<&'a str, &'a str>,
    body: String,
}

/// An STS GetCallerIdentity request signed with SigV4 (the clock is the browser's unless
/// `timeMs` is given). It is returned, not sent.
#[wasm_bindgen(js_name = signGetCallerIdentity)]
pub fn sign_get_caller_identity(input_: JsSignInput) -> Result<JsSignedRequest, JsError> {
    let i: SignInput = input(input_.into(), "signGetCallerIdentity")?;
    let secret = Secret::new(i.secret_access_key);
    let session_token = i.session_token.map(Secret::new);
    let time_ms = i.time_ms.unwrap_or_else(js_sys::Date::now);
    let request = crate::remote::get_caller_identity(
        &i.access_key_id,
        secret,
        session_token,
        i.region,
        i.endpoint.as_deref(),
        time_ms,
    )
    .map_err(core_err)?;
    let signed = SignedRequest {
        method: request.method(),
        url: request.url(),
        headers: request.headers().collect(),
        body: String::from_utf8_lossy(request.body()).into_owned(),
    };
    Ok(to_js(&signed)?.unchecked_into())
}
