//! The AWS Organization rollout: a service-managed StackSet, created from the management account
//! or a delegated administrator, that deploys the role to every account in the chosen OUs (or
//! the whole organization) and to accounts that join later.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Template, role};
use crate::error::{Error, Result};
use crate::ids::DeploymentTarget;
use crate::policy::permissions::DataSet;
use crate::spec::RoleSpec;

/// Who creates the StackSet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallAs {
    /// The organization's management account.
    ManagementAccount,
    /// A member account registered as delegated administrator for CloudFormation StackSets.
    DelegatedAdmin,
}

/// Options for the Organization rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgRollout {
    /// The member-account role.
    pub role: RoleSpec,
    /// The root (`r-…`, every account) or the OUs to deploy to.
    pub targets: Vec<DeploymentTarget>,
    /// Who creates the StackSet.
    pub call_as: CallAs,
    /// Also create, in the account that runs the stack, the role the vendor uses to list the
    /// organization's accounts. StackSets never deploy to the management account itself.
    #[serde(default = "yes")]
    pub include_discovery_role: bool,
}

fn yes() -> bool {
    true
}

/// The deployment targets [`template`] accepts: the root alone, or one or more OUs. Cheap, for
/// forms that check targets as they are typed.
pub fn check_targets(targets: &[DeploymentTarget]) -> Result<()> {
    if targets.is_empty() {
        return Err(Error::invalid(
            "organizational_unit_ids",
            "choose where to deploy: the root ID (r-…) for the whole organization, or one or more OU IDs",
        ));
    }
    if targets.len() > 1 && targets.iter().any(DeploymentTarget::is_root) {
        return Err(Error::invalid(
            "organizational_unit_ids",
            "the root already covers every OU; deploy to the root alone",
        ));
    }
    Ok(())
}

/// The Organization template.
pub fn template(rollout: &OrgRollout) -> Result<Template> {
    let spec = &rollout.role;
    spec.validate()?;
    check_targets(&rollout.targets)?;
    // The member role never reads Organizations; only the discovery role does.
    let mut member_permissions = spec.permissions.clone();
    member_permissions.data_sets.remove(&DataSet::Organizations);
    let member =
        role::template(&RoleSpec { permissions: member_permissions, external_id: None, ..spec.clone() })?;

    let mut parameters = role::parameters(spec);
    let targets: Vec<String> = rollout.targets.iter().map(ToString::to_string).collect();
    parameters.insert(
        "OrganizationalUnitIds".into(),
        json!({
            "Type": "CommaDelimitedList",
            "Description": "Root ID (r-…) for every account, or comma-separated OU IDs (ou-…)",
            "Default": targets.join(","),
        }),
    );

    let call_as = match rollout.call_as {
        CallAs::ManagementAccount => "SELF",
        CallAs::DelegatedAdmin => "DELEGATED_ADMIN",
    };
    let pass = |name: &str| json!({ "ParameterKey": name, "ParameterValue": { "Ref": name } });
    let mut resources = serde_json::Map::new();
    resources.insert(
        "MemberRoles".into(),
        json!({
            "Type": "AWS::CloudFormation::StackSet",
            "Properties": {
                "StackSetName": { "Fn::Sub": "${RoleName}-rollout" },
                "Description": format!("Deploys the {} read-only role to every account in the chosen OUs", spec.vendor_name),
                "PermissionModel": "SERVICE_MANAGED",
                "CallAs": call_as,
                "AutoDeployment": { "Enabled": true, "RetainStacksOnAccountRemoval": false },
                "Capabilities": ["CAPABILITY_NAMED_IAM"],
                "ManagedExecution": { "Active": true },
                "OperationPreferences": {
                    "FailureTolerancePercentage": 10,
                    "MaxConcurrentPercentage": 25,
                    "RegionConcurrencyType": "PARALLEL",
                },
                "Parameters": [pass("ExternalId"), pass("VendorPrincipal"), pass("RoleName")],
                "StackInstancesGroup": [{
                    "DeploymentTargets": { "OrganizationalUnitIds": { "Ref": "OrganizationalUnitIds" } },
                    // IAM is global: one region per account is enough.
                    "Regions": [{ "Ref": "AWS::Region" }],
                }],
                "TemplateBody": member.to_json_compact(),
            }
        }),
    );
    if rollout.include_discovery_role {
        let (permissions, name) = match rollout.call_as {
            // The management account gets the full role plus the Organizations reads.
            CallAs::ManagementAccount => {
                let mut p = spec.permissions.clone();
                p.data_sets.insert(DataSet::Organizations);
                (p, json!({ "Ref": "RoleName" }))
            }
            // A delegated admin is usually inside the target OUs and gets the member role from the
            // StackSet; its discovery role needs another name and only the Organizations reads.
            CallAs::DelegatedAdmin => {
                crate::arn::validate_role_name(&format!("{}-org-discovery", spec.role_name))?;
                let p = crate::policy::permissions::PermissionOptions {
                    data_sets: [DataSet::Organizations].into_iter().collect(),
                    ..spec.permissions.clone()
                };
                (p, json!({ "Fn::Sub": "${RoleName}-org-discovery" }))
            }
        };
        resources.extend(role::resources(spec, &permissions, "Discovery", name)?);
    }
    let mut outputs = json!({
        "StackSetId": { "Description": "The StackSet that deploys the member role", "Value": { "Ref": "MemberRoles" } },
        "ExternalId": { "Description": "The ExternalId every role requires", "Value": { "Ref": "ExternalId" } },
    });
    if rollout.include_discovery_role {
        outputs["DiscoveryRoleArn"] = json!({
            "Description": format!("Paste this into {}'s onboarding page", spec.vendor_name),
            "Value": { "Fn::GetAtt": ["DiscoveryRole", "Arn"] },
        });
    }
    let template = Template(json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("Rolls out the {} read-only role to an AWS Organization (generated by Trustline)", spec.vendor_name),
        "Metadata": role::interface(spec, &["OrganizationalUnitIds"]),
        "Parameters": Value::Object(parameters),
        "Resources": Value::Object(resources),
        "Outputs": outputs,
    }));
    template.check_inline_size()?;
    Ok(template)
}
