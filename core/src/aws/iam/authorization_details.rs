//! `GetAccountAuthorizationDetails`: every user, group, role and managed policy with their
//! policy documents, in few calls. IAM sends the documents URL-encoded; they are decoded here.

use roxmltree::Node;
use time::OffsetDateTime;

use super::{Paging, VERSION, marker, required_time};
use crate::aws::{AwsError, Call, Form, HttpResponse, Operation, parse_query, xml};
use crate::endpoint::Service;
use crate::error::Result;

/// An entity type to include (all of them when none is given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailFilter {
    /// IAM users.
    User,
    /// IAM roles.
    Role,
    /// IAM groups.
    Group,
    /// Managed policies the account created.
    LocalManagedPolicy,
    /// AWS-managed policies.
    AwsManagedPolicy,
}

impl DetailFilter {
    fn as_str(self) -> &'static str {
        match self {
            DetailFilter::User => "User",
            DetailFilter::Role => "Role",
            DetailFilter::Group => "Group",
            DetailFilter::LocalManagedPolicy => "LocalManagedPolicy",
            DetailFilter::AwsManagedPolicy => "AWSManagedPolicy",
        }
    }
}

/// `GetAccountAuthorizationDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetAccountAuthorizationDetails {
    /// Which entity types; empty for all.
    pub filter: Vec<DetailFilter>,
    /// Which page.
    pub paging: Paging,
}

/// One page of authorization details.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizationDetails {
    /// Users on this page.
    pub users: Vec<UserDetail>,
    /// Groups on this page.
    pub groups: Vec<GroupDetail>,
    /// Roles on this page.
    pub roles: Vec<RoleDetail>,
    /// Managed policies on this page.
    pub policies: Vec<ManagedPolicyDetail>,
    /// The marker of the next page; `None` on the last.
    pub next_token: Option<String>,
}

/// A policy embedded in a user, group or role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlinePolicy {
    /// The policy's name.
    pub name: String,
    /// The decoded JSON document.
    pub document: String,
}

/// A managed policy attached to a principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicy {
    /// The policy's name.
    pub name: String,
    /// The policy's ARN.
    pub arn: String,
}

/// A resource tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// A user with its groups and policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDetail {
    /// The user's name.
    pub user_name: String,
    /// The unique ID.
    pub user_id: String,
    /// The ARN.
    pub arn: String,
    /// The path.
    pub path: String,
    /// When the user was created.
    pub create_date: OffsetDateTime,
    /// Names of the groups the user is in.
    pub groups: Vec<String>,
    /// Inline policies.
    pub inline_policies: Vec<InlinePolicy>,
    /// Attached managed policies.
    pub attached_policies: Vec<AttachedPolicy>,
    /// The permissions boundary's ARN.
    pub permissions_boundary_arn: Option<String>,
    /// Tags.
    pub tags: Vec<Tag>,
}

/// A group with its policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDetail {
    /// The group's name.
    pub group_name: String,
    /// The unique ID.
    pub group_id: String,
    /// The ARN.
    pub arn: String,
    /// The path.
    pub path: String,
    /// When the group was created.
    pub create_date: OffsetDateTime,
    /// Inline policies.
    pub inline_policies: Vec<InlinePolicy>,
    /// Attached managed policies.
    pub attached_policies: Vec<AttachedPolicy>,
}

/// A role with its trust policy and permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDetail {
    /// The role's name.
    pub role_name: String,
    /// The unique ID.
    pub role_id: String,
    /// The ARN.
    pub arn: String,
    /// The path.
    pub path: String,
    /// When the role was created.
    pub create_date: OffsetDateTime,
    /// The decoded trust policy.
    pub assume_role_policy_document: Option<String>,
    /// Inline policies.
    pub inline_policies: Vec<InlinePolicy>,
    /// Attached managed policies.
    pub attached_policies: Vec<AttachedPolicy>,
    /// ARNs of the instance profiles holding the role.
    pub instance_profile_arns: Vec<String>,
    /// The permissions boundary's ARN.
    pub permissions_boundary_arn: Option<String>,
    /// Tags.
    pub tags: Vec<Tag>,
    /// When the role was last used, as far as IAM tracks it.
    pub last_used: Option<OffsetDateTime>,
    /// The region it was last used in (`RoleLastUsed/Region`).
    pub last_used_region: Option<String>,
}

/// A version of a managed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    /// `v1`, `v2`…
    pub version_id: String,
    /// Whether this version is in force.
    pub is_default: bool,
    /// The decoded JSON document.
    pub document: Option<String>,
    /// When the version was created.
    pub create_date: Option<OffsetDateTime>,
}

/// A managed policy with its versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPolicyDetail {
    /// The policy itself.
    pub policy: super::Policy,
    /// Its versions (with documents).
    pub versions: Vec<PolicyVersion>,
}

impl crate::aws::Continues for AuthorizationDetails {
    fn next_token(&self) -> Option<&str> {
        self.next_token.as_deref()
    }
}

impl Operation for GetAccountAuthorizationDetails {
    type Output = AuthorizationDetails;

    fn call(&self) -> Result<Call> {
        let mut form = Form::new("GetAccountAuthorizationDetails", VERSION);
        for (i, filter) in self.filter.iter().enumerate() {
            form.push(&format!("Filter.member.{}", i + 1), filter.as_str());
        }
        self.paging.push(&mut form);
        Ok(Call::form(Service::Iam, form))
    }

    fn parse(response: &HttpResponse) -> Result<AuthorizationDetails, AwsError> {
        parse_query(Service::Iam, "GetAccountAuthorizationDetails", response, |node| {
            Ok(AuthorizationDetails {
                users: xml::items(node, "UserDetailList").map(read_user).collect::<Result<_, _>>()?,
                groups: xml::items(node, "GroupDetailList").map(read_group).collect::<Result<_, _>>()?,
                roles: xml::items(node, "RoleDetailList").map(read_role).collect::<Result<_, _>>()?,
                policies: xml::items(node, "Policies").map(read_managed).collect::<Result<_, _>>()?,
                next_token: marker(node)?,
            })
        })
    }
}

fn inline(node: Node<'_, '_>, list: &str) -> Result<Vec<InlinePolicy>, AwsError> {
    xml::items(node, list)
        .map(|m| {
            Ok(InlinePolicy {
                name: xml::required(m, "PolicyName")?,
                document: xml::policy_document(&xml::required(m, "PolicyDocument")?),
            })
        })
        .collect()
}

fn attached(node: Node<'_, '_>) -> Result<Vec<AttachedPolicy>, AwsError> {
    xml::items(node, "AttachedManagedPolicies")
        .map(|m| {
            Ok(AttachedPolicy { name: xml::required(m, "PolicyName")?, arn: xml::required(m, "PolicyArn")? })
        })
        .collect()
}

fn tags(node: Node<'_, '_>) -> Result<Vec<Tag>, AwsError> {
    xml::items(node, "Tags")
        .map(|m| Ok(Tag { key: xml::required(m, "Key")?, value: xml::text(m, "Value").unwrap_or_default() }))
        .collect()
}

fn boundary(node: Node<'_, '_>) -> Option<String> {
    xml::child(node, "PermissionsBoundary").and_then(|b| xml::text(b, "PermissionsBoundaryArn"))
}

fn path(node: Node<'_, '_>) -> String {
    xml::text(node, "Path").unwrap_or_else(|| "/".to_owned())
}

fn read_user(m: Node<'_, '_>) -> Result<UserDetail, AwsError> {
    Ok(UserDetail {
        user_name: xml::required(m, "UserName")?,
        user_id: xml::required(m, "UserId")?,
        arn: xml::required(m, "Arn")?,
        path: path(m),
        create_date: required_time(m, "CreateDate")?,
        groups: xml::items(m, "GroupList").map(|g| g.text().unwrap_or_default().to_owned()).collect(),
        inline_policies: inline(m, "UserPolicyList")?,
        attached_policies: attached(m)?,
        permissions_boundary_arn: boundary(m),
        tags: tags(m)?,
    })
}

fn read_group(m: Node<'_, '_>) -> Result<GroupDetail, AwsError> {
    Ok(GroupDetail {
        group_name: xml::required(m, "GroupName")?,
        group_id: xml::required(m, "GroupId")?,
        arn: xml::required(m, "Arn")?,
        path: path(m),
        create_date: required_time(m, "CreateDate")?,
        inline_policies: inline(m, "GroupPolicyList")?,
        attached_policies: attached(m)?,
    })
}

fn read_role(m: Node<'_, '_>) -> Result<RoleDetail, AwsError> {
    Ok(RoleDetail {
        role_name: xml::required(m, "RoleName")?,
        role_id: xml::required(m, "RoleId")?,
        arn: xml::required(m, "Arn")?,
        path: path(m),
        create_date: required_time(m, "CreateDate")?,
        assume_role_policy_document: xml::text(m, "AssumeRolePolicyDocument")
            .map(|d| xml::policy_document(&d)),
        inline_policies: inline(m, "RolePolicyList")?,
        attached_policies: attached(m)?,
        instance_profile_arns: xml::items(m, "InstanceProfileList")
            .filter_map(|p| xml::text(p, "Arn"))
            .collect(),
        permissions_boundary_arn: boundary(m),
        tags: tags(m)?,
        last_used: match xml::child(m, "RoleLastUsed") {
            Some(used) => xml::timestamp(used, "LastUsedDate")?,
            None => None,
        },
        last_used_region: xml::child(m, "RoleLastUsed").and_then(|used| xml::text(used, "Region")),
    })
}

fn read_managed(m: Node<'_, '_>) -> Result<ManagedPolicyDetail, AwsError> {
    Ok(ManagedPolicyDetail {
        policy: super::read_policy(m)?,
        versions: xml::items(m, "PolicyVersionList")
            .map(|v| {
                Ok(PolicyVersion {
                    version_id: xml::required(v, "VersionId")?,
                    is_default: xml::flag(v, "IsDefaultVersion"),
                    document: xml::text(v, "Document").map(|d| xml::policy_document(&d)),
                    create_date: xml::timestamp(v, "CreateDate")?,
                })
            })
            .collect::<Result<_, _>>()?,
    })
}
