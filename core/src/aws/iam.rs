//! AWS IAM inventory: users, groups, roles, managed policies and access keys, one page at a time.
//!
//! IAM pages with `Marker`/`IsTruncated`. AWS may return fewer than `MaxItems` (even none) while
//! `IsTruncated` is true, so `IsTruncated` alone decides whether another page follows.
//! `GetAccountAuthorizationDetails` and the credential report live in `iam/`.

use roxmltree::Node;
use time::OffsetDateTime;

use super::{AwsError, Call, Form, HttpResponse, Operation, Page, parse_query, xml};
use crate::endpoint::Service;
use crate::error::{Error, Result};

mod authorization_details;
mod credential_report;

pub use authorization_details::{
    AttachedPolicy, AuthorizationDetails, DetailFilter, GetAccountAuthorizationDetails, GroupDetail,
    InlinePolicy, ManagedPolicyDetail, PolicyVersion, RoleDetail, Tag, UserDetail,
};
pub use credential_report::{
    AccessKeyUsage, CredentialReport, CredentialReportRow, GenerateCredentialReport, GetCredentialReport,
    ReportState,
};

pub(crate) const VERSION: &str = "2010-05-08";

/// `Marker` and `MaxItems`, shared by every IAM list call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paging {
    marker: Option<String>,
    max_items: Option<u32>,
}

impl Paging {
    /// Continues after `marker`, the `next_token` of the previous [`Page`].
    pub fn after(marker: Option<String>) -> Self {
        Self { marker, max_items: None }
    }

    /// The same paging (page size), after `marker`.
    pub(crate) fn continued(&self, marker: &str) -> Self {
        Self { marker: Some(marker.to_owned()), max_items: self.max_items }
    }

    /// Asks for at most `max_items` (1–1000; AWS's default is 100).
    pub fn max_items(mut self, max_items: u32) -> Result<Self> {
        if !(1..=1000).contains(&max_items) {
            return Err(Error::invalid("max_items", format!("must be between 1 and 1000, got {max_items}")));
        }
        self.max_items = Some(max_items);
        Ok(self)
    }

    pub(crate) fn push(&self, form: &mut Form) {
        form.push_opt("Marker", self.marker.as_deref());
        form.push_opt("MaxItems", self.max_items.map(|m| m.to_string()).as_deref());
    }
}

/// Reads `IsTruncated`/`Marker` and the `<member>`s of `list` in `node` with `read`.
pub(crate) fn page<T>(
    node: Node<'_, '_>,
    list: &str,
    read: impl Fn(Node<'_, '_>) -> Result<T, AwsError>,
) -> Result<Page<T>, AwsError> {
    let items = xml::items(node, list).map(read).collect::<Result<Vec<_>, _>>()?;
    Ok(Page { items, next_token: marker(node)? })
}

pub(crate) fn marker(node: Node<'_, '_>) -> Result<Option<String>, AwsError> {
    if !xml::flag(node, "IsTruncated") {
        return Ok(None);
    }
    match xml::text(node, "Marker").filter(|m| !m.is_empty()) {
        Some(marker) => Ok(Some(marker)),
        None => Err(AwsError::invalid_response(200, "IsTruncated is true but the response has no <Marker>")),
    }
}

pub(crate) fn required_time(node: Node<'_, '_>, name: &str) -> Result<OffsetDateTime, AwsError> {
    xml::timestamp(node, name)?.ok_or_else(|| AwsError::invalid_response(200, format!("no <{name}> element")))
}

/// `ListUsers`: the account's IAM users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListUsers {
    /// Which page.
    pub paging: Paging,
}

/// An IAM user as `ListUsers` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user's name.
    pub user_name: String,
    /// The stable unique ID (`AIDA…`).
    pub user_id: String,
    /// The user's ARN.
    pub arn: String,
    /// The path (`/` by default).
    pub path: String,
    /// When the user was created.
    pub create_date: OffsetDateTime,
    /// When the console password was last used, if ever (and if tracked).
    pub password_last_used: Option<OffsetDateTime>,
}

impl Operation for ListUsers {
    type Output = Page<User>;

    fn call(&self) -> Result<Call> {
        let mut form = Form::new("ListUsers", VERSION);
        self.paging.push(&mut form);
        Ok(Call::form(Service::Iam, form))
    }

    fn parse(response: &HttpResponse) -> Result<Page<User>, AwsError> {
        parse_query(Service::Iam, "ListUsers", response, |node| {
            page(node, "Users", |m| {
                Ok(User {
                    user_name: xml::required(m, "UserName")?,
                    user_id: xml::required(m, "UserId")?,
                    arn: xml::required(m, "Arn")?,
                    path: xml::text(m, "Path").unwrap_or_else(|| "/".to_owned()),
                    create_date: required_time(m, "CreateDate")?,
                    password_last_used: xml::timestamp(m, "PasswordLastUsed")?,
                })
            })
        })
    }
}

/// `ListGroups`: the account's IAM groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListGroups {
    /// Which page.
    pub paging: Paging,
}

/// An IAM group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The group's name.
    pub group_name: String,
    /// The stable unique ID (`AGPA…`).
    pub group_id: String,
    /// The group's ARN.
    pub arn: String,
    /// The path.
    pub path: String,
    /// When the group was created.
    pub create_date: OffsetDateTime,
}

impl Operation for ListGroups {
    type Output = Page<Group>;

    fn call(&self) -> Result<Call> {
        let mut form = Form::new("ListGroups", VERSION);
        self.paging.push(&mut form);
        Ok(Call::form(Service::Iam, form))
    }

    fn parse(response: &HttpResponse) -> Result<Page<Group>, AwsError> {
        parse_query(Service::Iam, "ListGroups", response, |node| {
            page(node, "Groups", |m| {
                Ok(Group {
                    group_name: xml::required(m, "GroupName")?,
                    group_id: xml::required(m, "GroupId")?,
                    arn: xml::required(m, "Arn")?,
                    path: xml::text(m, "Path").unwrap_or_else(|| "/".to_owned()),
                    create_date: required_time(m, "CreateDate")?,
                })
            })
        })
    }
}

/// `ListRoles`: the account's IAM roles with their trust policies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListRoles {
    /// Which page.
    pub paging: Paging,
}

/// An IAM role as `ListRoles` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// The role's name.
    pub role_name: String,
    /// The stable unique ID (`AROA…`).
    pub role_id: String,
    /// The role's ARN.
    pub arn: String,
    /// The path.
    pub path: String,
    /// When the role was created.
    pub create_date: OffsetDateTime,
    /// The trust policy, URL-decoded JSON.
    pub assume_role_policy_document: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// The longest session `AssumeRole` may ask for, in seconds.
    pub max_session_duration: Option<u32>,
}

impl Operation for ListRoles {
    type Output = Page<Role>;

    fn call(&self) -> Result<Call> {
        let mut form = Form::new("ListRoles", VERSION);
        self.paging.push(&mut form);
        Ok(Call::form(Service::Iam, form))
    }

    fn parse(response: &HttpResponse) -> Result<Page<Role>, AwsError> {
        parse_query(Service::Iam, "ListRoles", response, |node| page(node, "Roles", read_role))
    }
}

/// `GetRole`: one role, with its trust policy (IAM API Reference, "GetRole"). A role's own
/// session may read itself when its permissions allow `iam:GetRole` on its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRole {
    /// The role's name (not its ARN, and without its path).
    pub role_name: String,
}

impl GetRole {
    /// The role named `role_name` (1–64 characters of IAM's role-name alphabet).
    pub fn new(role_name: &str) -> Result<Self> {
        crate::arn::validate_role_name(role_name).map_err(|e| e.for_field("role_name"))?;
        Ok(GetRole { role_name: role_name.to_owned() })
    }
}

impl Operation for GetRole {
    type Output = Role;

    fn call(&self) -> Result<Call> {
        let mut form = Form::new("GetRole", VERSION);
        form.push("RoleName", &self.role_name);
        Ok(Call::form(Service::Iam, form))
    }

    fn parse(response: &HttpResponse) -> Result<Role, AwsError> {
        parse_query(Service::Iam, "GetRole", response, |node| {
            let role = xml::child(node, "Role")
                .ok_or_else(|| AwsError::invalid_response(200, "the response has no <Role> element"))?;
            read_role(role)
        })
    }
}

fn read_role(m: Node<'_, '_>) -> Result<Role, AwsError> {
    Ok(Role {
        role_name: xml::required(m, "RoleName")?,
        role_id: xml::required(m, "RoleId")?,
        arn: xml::required(m, "Arn")?,
        path: xml::text(m, "Path").unwrap_or_else(|| "/".to_owned()),
        create_date: required_time(m, "CreateDate")?,
        assume_role_policy_document: xml::text(m, "AssumeRolePolicyDocument")
            .map(|d| xml::policy_document(&d)),
        description: xml::text(m, "Description"),
        max_session_duration: xml::number(m, "MaxSessionDuration"),
    })
}

/// Which managed policies `ListPolicies` returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PolicyScope {
    /// Both the account's own and AWS-managed policies.
    #[default]
    All,
    /// Only policies the account created.
    Local,
    /// Only AWS-managed policies (over 1,000 of them).
    Aws,
}

/// `ListPolicies`: managed policies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPolicies {
    /// Which page.
    pub paging: Paging,
    /// Local, AWS-managed or all.
    pub scope: PolicyScope,
    /// Only policies attached to a user, group or role.
    pub only_attached: bool,
}

/// A managed policy, without its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The policy's name.
    pub policy_name: String,
    /// The stable unique ID (`ANPA…`; moto leaves it out of authorization details).
    pub policy_id: Option<String>,
    /// The policy's ARN.
    pub arn: String,
    /// The path.
    pub path: String,
    /// The version in force (`v1`…).
    pub default_version_id: Option<String>,
    /// How many principals it is attached to.
    pub attachment_count: u32,
    /// Whether it can be attached.
    pub is_attachable: bool,
    /// How many principals it is the permissions boundary of.
    pub permissions_boundary_usage_count: u32,
    /// The description (the IAM API reference's `Policy` type: GetPolicy and GetAccountAuthorizationDetails
    /// send it, ListPolicies does not).
    pub description: Option<String>,
    /// When it was created.
    pub create_date: OffsetDateTime,
    /// When its default version last changed.
    pub update_date: Option<OffsetDateTime>,
}

impl Operation for ListPolicies {
    type Output = Page<Policy>;

    fn call(&self) -> Result<Call> {
        let mut form = Form::new("ListPolicies", VERSION);
        match self.scope {
            PolicyScope::All => {}
            PolicyScope::Local => form.push("Scope", "Local"),
            PolicyScope::Aws => form.push("Scope", "AWS"),
        }
        if self.only_attached {
            form.push("OnlyAttached", "true");
        }
        self.paging.push(&mut form);
        Ok(Call::form(Service::Iam, form))
    }

    fn parse(response: &HttpResponse) -> Result<Page<Policy>, AwsError> {
        parse_query(Service::Iam, "ListPolicies", response, |node| page(node, "Policies", read_policy))
    }
}

pub(crate) fn read_policy(m: Node<'_, '_>) -> Result<Policy, AwsError> {
    let arn = xml::required(m, "Arn")?;
    // moto omits PolicyName in GetAccountAuthorizationDetails; the ARN ends with it.
    let policy_name = match xml::text(m, "PolicyName") {
        Some(name) => name,
        None => arn.rsplit('/').next().unwrap_or_default().to_owned(),
    };
    Ok(Policy {
        policy_name,
        policy_id: xml::text(m, "PolicyId"),
        arn,
        path: xml::text(m, "Path").unwrap_or_else(|| "/".to_owned()),
        default_version_id: xml::text(m, "DefaultVersionId"),
        attachment_count: xml::number(m, "AttachmentCount").unwrap_or(0),
        is_attachable: xml::flag(m, "IsAttachable"),
        permissions_boundary_usage_count: xml::number(m, "PermissionsBoundaryUsageCount").unwrap_or(0),
        description: xml::text(m, "Description"),
        create_date: required_time(m, "CreateDate")?,
        update_date: xml::timestamp(m, "UpdateDate")?,
    })
}

/// `ListAccessKeys`: a user's access keys (the caller's own without a user name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListAccessKeys {
    /// Whose keys; `None` for the calling user.
    pub user_name: Option<String>,
    /// Which page.
    pub paging: Paging,
}

/// An access key's metadata (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// The owner.
    pub user_name: Option<String>,
    /// The key ID (`AKIA…`).
    pub access_key_id: String,
    /// Whether the key works.
    pub active: bool,
    /// `Active`, `Inactive` or `Expired`, as AWS sends it.
    pub status: Option<String>,
    /// When the key was created.
    pub create_date: OffsetDateTime,
}

impl Operation for ListAccessKeys {
    type Output = Page<AccessKey>;

    fn call(&self) -> Result<Call> {
        let mut form = Form::new("ListAccessKeys", VERSION);
        form.push_opt("UserName", self.user_name.as_deref());
        self.paging.push(&mut form);
        Ok(Call::form(Service::Iam, form))
    }

    fn parse(response: &HttpResponse) -> Result<Page<AccessKey>, AwsError> {
        parse_query(Service::Iam, "ListAccessKeys", response, |node| {
            page(node, "AccessKeyMetadata", |m| {
                Ok(AccessKey {
                    user_name: xml::text(m, "UserName"),
                    access_key_id: xml::required(m, "AccessKeyId")?,
                    active: xml::text(m, "Status").as_deref() == Some("Active"),
                    status: xml::text(m, "Status"),
                    create_date: required_time(m, "CreateDate")?,
                })
            })
        })
    }
}

super::paginated_by_field!(paging: ListUsers, ListGroups, ListRoles, ListPolicies, ListAccessKeys, GetAccountAuthorizationDetails);
