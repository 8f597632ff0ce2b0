//! The single-account role stack: a role that trusts the vendor only with the ExternalId, with
//! Trustline's least-privilege policy attached as an `AWS::IAM::ManagedPolicy`.

use serde_json::{Map, Value, json};

use super::{Template, templatize};
use crate::error::Result;
use crate::external_id::ExternalId;
use crate::policy::permissions::{self, AccountScope, PermissionOptions};
use crate::policy::trust;
use crate::spec::RoleSpec;

/// Placeholder the trust policy is built with; it becomes `{"Ref": "ExternalId"}`.
const EXTERNAL_ID_PLACEHOLDER: &str = "TRUSTLINE-EXTERNAL-ID-PARAMETER";
/// Placeholder for the vendor principal; it becomes `{"Ref": "VendorPrincipal"}`.
const VENDOR_PLACEHOLDER: &str = "arn:aws:iam::000000000000:root";

/// `AllowedPattern`s that make CloudFormation reject bad parameters before creating anything.
const EXTERNAL_ID_PATTERN: &str = r"^[\w+=,.@:/-]+$";
const VENDOR_PATTERN: &str = r"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(root|(role|user)/[\w+=,.@/-]+)$";
const ROLE_NAME_PATTERN: &str = r"^[\w+=,.@-]{1,64}$";

/// The template's parameters: ExternalId, VendorPrincipal and RoleName.
pub(crate) fn parameters(spec: &RoleSpec) -> Map<String, Value> {
    let mut external_id = json!({
        "Type": "String",
        "Description": format!("The ExternalId {} issued to you. Keep it exactly as given.", spec.vendor_name),
        "MinLength": 2,
        "MaxLength": 1224,
        "AllowedPattern": EXTERNAL_ID_PATTERN,
        "ConstraintDescription": "letters, digits and + = , . @ : / _ - only",
    });
    if let Some(id) = &spec.external_id {
        external_id["Default"] = json!(id.as_str());
    }
    let mut params = Map::new();
    params.insert("ExternalId".into(), external_id);
    params.insert(
        "VendorPrincipal".into(),
        json!({
            "Type": "String",
            "Description": format!("The {} AWS principal allowed to assume the role.", spec.vendor_name),
            "Default": spec.vendor.to_string(),
            "AllowedPattern": VENDOR_PATTERN,
        }),
    );
    params.insert(
        "RoleName".into(),
        json!({
            "Type": "String",
            "Description": "Name of the role to create.",
            "Default": spec.role_name,
            "AllowedPattern": ROLE_NAME_PATTERN,
        }),
    );
    params
}

/// The console's parameter grouping, so the quick-create page reads well.
pub(crate) fn interface(spec: &RoleSpec, extra: &[&str]) -> Value {
    let mut params = vec!["ExternalId", "VendorPrincipal", "RoleName"];
    params.extend_from_slice(extra);
    json!({
        "AWS::CloudFormation::Interface": {
            "ParameterGroups": [{ "Label": { "default": format!("Access for {}", spec.vendor_name) }, "Parameters": params }],
            "ParameterLabels": {
                "ExternalId": { "default": "ExternalId (pre-filled, do not change)" },
                "VendorPrincipal": { "default": "Vendor principal" },
                "RoleName": { "default": "Role name" },
            }
        }
    })
}

/// The role and its policy as template resources, named `{prefix}Role` and `{prefix}ReadPolicy`.
pub(crate) fn resources(
    spec: &RoleSpec,
    permissions: &PermissionOptions,
    prefix: &str,
    role_name: Value,
) -> Result<Map<String, Value>> {
    let placeholder_id: ExternalId = EXTERNAL_ID_PLACEHOLDER.parse()?;
    let placeholder_vendor = VENDOR_PLACEHOLDER.parse()?;
    let trust = trust::third_party(&placeholder_vendor, &placeholder_id, &spec.hardening)?;
    let refs = [(EXTERNAL_ID_PLACEHOLDER, "ExternalId"), (VENDOR_PLACEHOLDER, "VendorPrincipal")];
    let read = permissions::read_only(&AccountScope::CloudFormation, permissions)?;

    let mut role = json!({
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": role_name,
            "Path": spec.role_path,
            "Description": format!("Read-only access for {}, assumable only with your ExternalId", spec.vendor_name),
            "MaxSessionDuration": spec.max_session_seconds,
            "AssumeRolePolicyDocument": templatize(trust.to_value(), &refs),
            "Tags": [{ "Key": "trustline:purpose", "Value": "vendor-read-only-access" }],
        }
    });
    if !spec.aws_managed_policies.is_empty() {
        let arns: Vec<Value> = spec
            .aws_managed_policies
            .iter()
            .map(|p| json!({ "Fn::Sub": p.arn("${AWS::Partition}") }))
            .collect();
        role["Properties"]["ManagedPolicyArns"] = Value::Array(arns);
    }
    let policy = json!({
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {
            "Description": format!("Least-privilege read access for {}", spec.vendor_name),
            "PolicyDocument": templatize(read.to_value(), &[]),
            "Roles": [{ "Ref": format!("{prefix}Role") }],
        }
    });
    let mut out = Map::new();
    out.insert(format!("{prefix}Role"), role);
    out.insert(format!("{prefix}ReadPolicy"), policy);
    Ok(out)
}

/// The single-account role stack.
pub fn template(spec: &RoleSpec) -> Result<Template> {
    spec.validate()?;
    let resources = resources(spec, &spec.permissions, "Vendor", json!({ "Ref": "RoleName" }))?;
    let template = Template(json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("Read-only IAM role for {}, protected by an ExternalId (generated by Trustline)", spec.vendor_name),
        "Metadata": interface(spec, &[]),
        "Parameters": parameters(spec),
        "Resources": resources,
        "Outputs": {
            "RoleArn": {
                "Description": format!("Paste this into {}'s onboarding page", spec.vendor_name),
                "Value": { "Fn::GetAtt": ["VendorRole", "Arn"] },
            },
            "ExternalId": { "Description": "The ExternalId the role requires", "Value": { "Ref": "ExternalId" } },
        }
    }));
    template.check_inline_size()?;
    Ok(template)
}
