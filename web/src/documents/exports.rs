//! The documents module's exports (`trustline-web-documents.js`): what the wizard calls once it
//! has loaded the module (`wizard…`, JS values in and out), and the pure helpers hosts call through
//! `trustline-web.js` (`api::helpers` forwards them here). None is part of a typed API of its
//! own: `trustline-web.d.ts` declares the helpers.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use trustline_core::aws::HttpResponse;
use trustline_core::cfn::role;
use trustline_core::policy::permissions::{self, AccountScope, PermissionOptions};
use trustline_core::policy::trust::{self, TrustHardening, VendorPrincipal};
use trustline_core::spec::RoleSpec;
use trustline_core::{AccountId, ExternalId, Partition, Region, Secret};
use wasm_bindgen::prelude::*;

use super::{Request, build};
use crate::js::to_js;
use crate::keys;

/// The access step's kit for a [`Request`] (as `Request::to_json` writes it); an exception
/// says what the customer should do.
#[wasm_bindgen(js_name = wizardAccessKit, skip_typescript)]
pub fn wizard_access_kit(request: JsValue) -> Result<JsValue, JsError> {
    let (config, scope) = parse_request(request).map_err(|e| JsError::new(&e))?;
    to_js(&build::access_kit(&config, &scope))
}

/// The scope step's whole-document checks for a [`Request`]: null, or the [`ScopeProblem`]
/// (serde's shape). A request the module cannot read passes: the field checks ran in the
/// wizard already, and the access step reports the rest.
///
/// [`ScopeProblem`]: super::ScopeProblem
#[wasm_bindgen(js_name = wizardCheckScope, skip_typescript)]
pub fn wizard_check_scope(request: JsValue) -> Result<JsValue, JsError> {
    match parse_request(request).map(|(config, scope)| build::check(&config, &scope)) {
        Ok(Err(problem)) => to_js(&problem),
        Ok(Ok(())) | Err(_) => Ok(JsValue::NULL),
    }
}

/// Who a key belongs to from STS's GetCallerIdentity answer (a `KeyIdentity`, serde's shape);
/// an exception says what the customer should do.
#[wasm_bindgen(js_name = wizardCallerIdentity, skip_typescript)]
pub fn wizard_caller_identity(status: u16, body: Vec<u8>) -> Result<JsValue, JsError> {
    let identity = keys::caller_identity(&HttpResponse::new(status, Vec::new(), body));
    to_js(&identity.map_err(|e| JsError::new(&e))?)
}

fn parse_request(request: JsValue) -> Result<(crate::config::Config, crate::state::Scope), String> {
    read::<Request>(&request, "documents request")?.parse()
}

/// A helper's input, through JSON; errors start with `what`.
fn input<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsError> {
    read(&value, what).map_err(|e| JsError::new(&e))
}

/// A JS value read with serde, through JSON; errors start with `what`.
fn read<T: DeserializeOwned>(value: &JsValue, what: &str) -> Result<T, String> {
    let text = js_sys::JSON::stringify(value).map(String::from).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    serde_json::from_value(json).map_err(|e| format!("{what}: {e}"))
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
    let mut endpoints = trustline_core::Endpoints::new(i.region);
    if let Some(url) = &i.endpoint {
        endpoints = endpoints.with_override(trustline_core::Service::Sts, url).map_err(core_err)?;
    }
    let secret = Secret::new(i.secret_access_key);
    // `SystemTime::now()` panics on wasm32: the clock is the browser's.
    let time = std::time::UNIX_EPOCH
        + std::time::Duration::from_millis(i.time_ms.unwrap_or_else(js_sys::Date::now) as u64);
    let creds = trustline_core::Credentials::new(&i.access_key_id, secret, i.session_token.map(Secret::new));
    let signer = trustline_core::Signer::new(&creds);
    let request =
        trustline_core::aws::prepare(&trustline_core::aws::sts::GetCallerIdentity, &endpoints, &signer, time)
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
