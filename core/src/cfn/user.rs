//! IAM-user stacks for the key-based kinds. The access key itself is never created by the
//! template: a key in stack outputs would be readable by anyone who can describe the stack.
//!
//! - access key: a user with the read-only policy, capped by a permissions boundary;
//! - STS: a user that may only assume one read-only role in the same account.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Template, templatize};
use crate::arn::{is_iam_name_char, validate_role_path};
use crate::error::{Error, Result, quote};
use crate::policy::permissions::{self, AccountScope, PermissionOptions};
use crate::policy::trust;
use crate::spec::validate_display_name;

/// Which key-based kind the user is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyKind {
    /// The vendor calls AWS with the user's long-lived key directly.
    AccessKey,
    /// The vendor uses the user's key only to assume the read-only role.
    Sts,
}

/// The IAM user (and, for STS, the role) to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    /// Which kind.
    pub kind: KeyKind,
    /// The vendor's product name, for descriptions.
    pub vendor_name: String,
    /// The user's name (1–64 of `[\w+=,.@-]`).
    pub user_name: String,
    /// The user's path.
    #[serde(default = "slash")]
    pub path: String,
    /// What may be read, and the optional region and source-IP conditions.
    #[serde(default)]
    pub permissions: PermissionOptions,
}

fn slash() -> String {
    "/".into()
}

impl UserSpec {
    fn validate(&self) -> Result<()> {
        validate_display_name(&self.vendor_name)?;
        validate_role_path(&self.path).map_err(|e| e.for_field("user_path"))?;
        let ok = !self.user_name.is_empty()
            && self.user_name.len() <= 64
            && self.user_name.chars().all(is_iam_name_char);
        if !ok {
            return Err(Error::invalid(
                "user_name",
                format!(
                    "user name must be 1–64 letters, digits or + = , . @ _ -, got {}",
                    quote(&self.user_name)
                ),
            ));
        }
        Ok(())
    }
}

const NEXT_STEP: &str = "In the IAM console open this user, Security credentials, Create access key (\"Third-party service\"), and paste the key into the vendor's onboarding page. Rotate it at least every 90 days.";

/// The template for either key-based kind.
pub fn template(spec: &UserSpec) -> Result<Template> {
    spec.validate()?;
    let scope = AccountScope::CloudFormation;
    let vendor = &spec.vendor_name;
    let mut resources = serde_json::Map::new();
    let user_props = json!({
        "UserName": { "Ref": "UserName" },
        "Path": spec.path,
        "PermissionsBoundary": { "Ref": "Boundary" },
        "Tags": [{ "Key": "trustline:purpose", "Value": "vendor-read-only-access" }],
    });
    resources.insert("User".into(), json!({ "Type": "AWS::IAM::User", "Properties": user_props }));
    let mut outputs = json!({
        "UserName": { "Description": "The IAM user to create an access key for", "Value": { "Ref": "User" } },
        "UserArn": { "Description": "The user's ARN", "Value": { "Fn::GetAtt": ["User", "Arn"] } },
        "NextStep": { "Description": "What to do next", "Value": NEXT_STEP },
    });
    match spec.kind {
        KeyKind::AccessKey => {
            let boundary = permissions::access_key_boundary(&scope, &spec.permissions)?;
            let read = permissions::read_only(&scope, &spec.permissions)?;
            resources.insert(
                "Boundary".into(),
                managed_policy(
                    &format!("Permissions boundary: the most {vendor}'s key can ever do"),
                    &boundary.to_value(),
                    None,
                ),
            );
            resources.insert(
                "ReadPolicy".into(),
                managed_policy(
                    &format!("Least-privilege read access for {vendor}"),
                    &read.to_value(),
                    Some(("Users", "User")),
                ),
            );
        }
        KeyKind::Sts => {
            // The user may only assume the role; the boundary says the same, so nothing attached
            // to the user later can widen it. The role's ARN is built from its name parameter,
            // not `${ReadRole.Arn}`: the role trusts the user, so that would be a cycle.
            let assume = permissions::sts_user(
                "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${RoleName}",
                &spec.permissions.source_ips,
            );
            let read = permissions::read_only(&scope, &spec.permissions)?;
            let trust = trust::same_account_user("${User.Arn}");
            resources.insert(
                "Boundary".into(),
                managed_policy(
                    &format!("Permissions boundary: {vendor}'s key may only assume the read-only role"),
                    &assume.to_value(),
                    None,
                ),
            );
            resources.insert(
                "AssumePolicy".into(),
                managed_policy(
                    "Lets the user assume the read-only role",
                    &assume.to_value(),
                    Some(("Users", "User")),
                ),
            );
            resources.insert(
                "ReadRole".into(),
                json!({
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "RoleName": { "Ref": "RoleName" },
                        "Description": format!("Read-only access for {vendor}, assumed with the user's key"),
                        "AssumeRolePolicyDocument": templatize(trust.to_value(), &[]),
                        "MaxSessionDuration": 3600,
                        "Tags": [{ "Key": "trustline:purpose", "Value": "vendor-read-only-access" }],
                    }
                }),
            );
            resources.insert(
                "ReadPolicy".into(),
                managed_policy(
                    &format!("Least-privilege read access for {vendor}"),
                    &read.to_value(),
                    Some(("Roles", "ReadRole")),
                ),
            );
            outputs["RoleArn"] = json!({
                "Description": "Give this role ARN to the vendor together with the access key",
                "Value": { "Fn::GetAtt": ["ReadRole", "Arn"] },
            });
        }
    }
    let what = match spec.kind {
        KeyKind::AccessKey => "an IAM user with a read-only policy and a permissions boundary",
        KeyKind::Sts => "an IAM user that may only assume a read-only role",
    };
    let mut parameters = json!({
        "UserName": {
            "Type": "String",
            "Description": "Name of the IAM user to create",
            "Default": spec.user_name,
            "AllowedPattern": r"^[\w+=,.@-]{1,64}$",
        }
    });
    if spec.kind == KeyKind::Sts {
        parameters["RoleName"] = json!({
            "Type": "String",
            "Description": "Name of the read-only role the user may assume",
            "Default": format!("{}-role", spec.user_name.chars().take(59).collect::<String>()),
            "AllowedPattern": r"^[\w+=,.@-]{1,64}$",
        });
    }
    let template = Template(json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("Creates {what} for {vendor} (generated by Trustline). Create the access key yourself afterwards."),
        "Parameters": parameters,
        "Resources": resources,
        "Outputs": outputs,
    }));
    template.check_inline_size()?;
    Ok(template)
}

fn managed_policy(description: &str, document: &Value, attach: Option<(&str, &str)>) -> Value {
    let mut policy = json!({
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": { "Description": description, "PolicyDocument": templatize(document.clone(), &[]) }
    });
    if let Some((kind, resource)) = attach {
        policy["Properties"][kind] = json!([{ "Ref": resource }]);
    }
    policy
}
