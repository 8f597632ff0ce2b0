//! The second module's document helpers (`trustline-web-documents.js`), which hosts call
//! through `trustline-web.js` (`api::helpers` forwards them here once `loadDocuments()` has
//! loaded this module). None is part of a typed API of its own: `trustline-web.d.ts` declares
//! them.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use trustline_core::cfn::role;
use trustline_core::policy::permissions::{self, AccountScope, PermissionOptions};
use trustline_core::policy::trust::{self, TrustHardening, VendorPrincipal};
use trustline_core::spec::RoleSpec;
use trustline_core::{AccountId, ExternalId, Partition, Region, Secret};
use wasm_bindgen::prelude::*;

use super::build;
use crate::js::{from_js, to_js};

/// A helper's input, through JSON; errors start with `what`.
fn input<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsError> {
    from_js(&value, what).map_err(|e| JsError::new(&e))
}

fn core_err(e: trustline_core::Error) -> JsError {
    JsError::new(&e.to_string())
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
#[wasm_bindgen(js_name = trustPolicy, skip_typescript)]
pub fn trust_policy(input_: JsValue) -> Result<String, JsError> {
    let i: TrustInput = input(input_, "trustPolicy")?;
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
#[wasm_bindgen(js_name = permissionsPolicy, skip_typescript)]
pub fn permissions_policy(input_: JsValue) -> Result<String, JsError> {
    let i: PermissionsInput = input(input_, "permissionsPolicy")?;
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
#[wasm_bindgen(js_name = roleTemplate, skip_typescript)]
pub fn role_template(input_: JsValue) -> Result<String, JsError> {
    let i: TemplateInput = input(input_, "roleTemplate")?;
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
#[wasm_bindgen(js_name = quickCreateLink, skip_typescript)]
pub fn quick_create_link(input_: JsValue) -> Result<String, JsError> {
    let i: QuickCreateInput = input(input_, "quickCreateLink")?;
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

/// An STS GetCallerIdentity request signed with SigV4 (the clock is the browser's unless
/// `timeMs` is given). It is returned, not sent.
#[wasm_bindgen(js_name = signGetCallerIdentity, skip_typescript)]
pub fn sign_get_caller_identity(input_: JsValue) -> Result<JsValue, JsError> {
    let i: SignInput = input(input_, "signGetCallerIdentity")?;
    let secret = Secret::new(i.secret_access_key);
    let session_token = i.session_token.map(Secret::new);
    let time_ms = i.time_ms.unwrap_or_else(js_sys::Date::now);
    let request = get_caller_identity(
        &i.access_key_id,
        secret,
        session_token,
        i.region,
        i.endpoint.as_deref(),
        time_ms,
    )
    .map_err(core_err)?;
    let headers: serde_json::Map<String, serde_json::Value> =
        request.headers().map(|(k, v)| (k.to_owned(), v.into())).collect();
    let signed = serde_json::json!({
        "method": request.method(),
        "url": request.url(),
        "headers": headers,
        "body": String::from_utf8_lossy(request.body()),
    });
    to_js(&signed)
}

/// STS GetCallerIdentity for an access key, signed at `time_ms` (the browser's clock:
/// `SystemTime::now()` panics on wasm32); also the wizard's key check.
pub(crate) fn get_caller_identity(
    access_key_id: &str,
    secret: Secret,
    session_token: Option<Secret>,
    region: Region,
    endpoint: Option<&str>,
    time_ms: f64,
) -> trustline_core::error::Result<trustline_core::aws::HttpRequest> {
    let mut endpoints = trustline_core::Endpoints::new(region);
    if let Some(url) = endpoint {
        endpoints = endpoints.with_override(trustline_core::Service::Sts, url)?;
    }
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(time_ms as u64);
    let creds = trustline_core::Credentials::new(access_key_id, secret, session_token);
    let signer = trustline_core::Signer::new(&creds);
    trustline_core::aws::prepare(&trustline_core::aws::sts::GetCallerIdentity, &endpoints, &signer, time)
}
