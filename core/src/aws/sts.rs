//! AWS STS: who am I (`GetCallerIdentity`) and becoming a customer's role (`AssumeRole`,
//! `AssumeRoleWithWebIdentity` for IRSA and other OIDC federation).

use roxmltree::Node;
use time::OffsetDateTime;

use super::{AwsError, Call, Form, HttpResponse, Operation, parse_query, xml};
use crate::arn::{AccountId, Arn, RoleArn};
use crate::endpoint::Service;
use crate::error::{Error, Result, quote};
use crate::external_id::ExternalId;
use crate::secret::{Credentials, Secret};

const VERSION: &str = "2011-06-15";

/// `GetCallerIdentity`: the account and principal behind a set of credentials. Needs no permission.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetCallerIdentity;

/// Who the credentials belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The account of the principal.
    pub account: AccountId,
    /// The principal's ARN (a user, an assumed-role session, a federated user, root).
    pub arn: Arn,
    /// The unique ID of the principal (`AIDA…`, `AROA…:session`).
    pub user_id: String,
}

impl Operation for GetCallerIdentity {
    type Output = CallerIdentity;

    fn call(&self) -> Result<Call> {
        Ok(Call::form(Service::Sts, Form::new("GetCallerIdentity", VERSION)))
    }

    fn parse(response: &HttpResponse) -> Result<CallerIdentity, AwsError> {
        parse_query(Service::Sts, "GetCallerIdentity", response, |node| {
            let account = xml::required(node, "Account")?;
            let arn = xml::required(node, "Arn")?;
            Ok(CallerIdentity {
                account: account
                    .parse()
                    .map_err(|e: Error| AwsError::invalid_response(200, e.to_string()))?,
                arn: arn.parse().map_err(|e: Error| AwsError::invalid_response(200, e.to_string()))?,
                user_id: xml::required(node, "UserId")?,
            })
        })
    }
}

/// `AssumeRole`: temporary credentials for a role, usually a customer's, with their ExternalId.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRole {
    role_arn: RoleArn,
    session_name: String,
    external_id: Option<ExternalId>,
    duration_seconds: Option<u32>,
    source_identity: Option<String>,
    tags: Vec<(String, String)>,
    policy: Option<String>,
}

impl AssumeRole {
    /// Assumes `role_arn` under `session_name` (2–64 of `A-Za-z0-9_+=,.@-`; it shows in the
    /// customer's CloudTrail, so make it say who you are).
    pub fn new(role_arn: RoleArn, session_name: &str) -> Result<Self> {
        check_session_name("role_session_name", session_name)?;
        Ok(Self {
            role_arn,
            session_name: session_name.to_owned(),
            external_id: None,
            duration_seconds: None,
            source_identity: None,
            tags: Vec::new(),
            policy: None,
        })
    }

    /// The ExternalId the customer's trust policy requires.
    #[must_use]
    pub fn external_id(mut self, external_id: ExternalId) -> Self {
        self.external_id = Some(external_id);
        self
    }

    /// How long the credentials last: 900 to 43,200 seconds, and at most the role's
    /// `MaxSessionDuration` (AWS checks that one). AWS's default is 3,600.
    pub fn duration_seconds(mut self, seconds: u32) -> Result<Self> {
        self.duration_seconds = Some(Self::check_duration(seconds)?);
        Ok(self)
    }

    /// A source identity that stays with the session through role chaining (2–64 characters).
    pub fn source_identity(mut self, identity: &str) -> Result<Self> {
        check_session_name("source_identity", identity)?;
        if identity.to_ascii_lowercase().starts_with("aws:") {
            return Err(Error::invalid("source_identity", "must not start with 'aws:' (reserved by AWS)"));
        }
        self.source_identity = Some(identity.to_owned());
        Ok(self)
    }

    /// A session tag (at most 50; keys 1–128 characters, values up to 256).
    pub fn tag(mut self, key: &str, value: &str) -> Result<Self> {
        if self.tags.len() == 50 {
            return Err(Error::invalid("tags", "at most 50 session tags are allowed"));
        }
        if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
            return Err(Error::invalid(
                "tags",
                format!("tag keys need 1–128 characters and values at most 256, got key {}", quote(key)),
            ));
        }
        self.tags.push((key.to_owned(), value.to_owned()));
        Ok(self)
    }

    /// An inline session policy (JSON) that narrows the role's permissions for this session.
    pub fn policy(mut self, policy_json: &str) -> Result<Self> {
        if policy_json.trim().is_empty() {
            return Err(Error::invalid("policy", "the session policy is empty"));
        }
        self.policy = Some(policy_json.to_owned());
        Ok(self)
    }
}

impl Operation for AssumeRole {
    type Output = AssumedRole;

    fn call(&self) -> Result<Call> {
        let mut form = Form::new("AssumeRole", VERSION);
        form.push("RoleArn", &self.role_arn.to_string());
        form.push("RoleSessionName", &self.session_name);
        form.push_opt("ExternalId", self.external_id.as_ref().map(ExternalId::as_str));
        form.push_opt("DurationSeconds", self.duration_seconds.map(|d| d.to_string()).as_deref());
        form.push_opt("SourceIdentity", self.source_identity.as_deref());
        form.push_opt("Policy", self.policy.as_deref());
        for (i, (key, value)) in self.tags.iter().enumerate() {
            form.push(&format!("Tags.member.{}.Key", i + 1), key);
            form.push(&format!("Tags.member.{}.Value", i + 1), value);
        }
        Ok(Call::form(Service::Sts, form))
    }

    fn parse(response: &HttpResponse) -> Result<AssumedRole, AwsError> {
        parse_query(Service::Sts, "AssumeRole", response, read_assumed_role)
    }
}

/// `AssumeRoleWithWebIdentity`: a role's credentials for an OIDC token (EKS IRSA, GitHub
/// Actions…). AWS takes this call unsigned: the token is the credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRoleWithWebIdentity {
    role_arn: RoleArn,
    session_name: String,
    token: Secret,
    duration_seconds: Option<u32>,
}

impl AssumeRoleWithWebIdentity {
    /// Assumes `role_arn` with the OIDC `token` (e.g. the file named by `AWS_WEB_IDENTITY_TOKEN_FILE`).
    pub fn new(role_arn: RoleArn, session_name: &str, token: Secret) -> Result<Self> {
        check_session_name("role_session_name", session_name)?;
        if token.expose().len() < 4 {
            return Err(Error::invalid("web_identity_token", "the web identity token is empty or too short"));
        }
        Ok(Self { role_arn, session_name: session_name.to_owned(), token, duration_seconds: None })
    }

    /// How long the credentials last (900 to 43,200 seconds).
    pub fn duration_seconds(mut self, seconds: u32) -> Result<Self> {
        self.duration_seconds = Some(AssumeRole::check_duration(seconds)?);
        Ok(self)
    }
}

impl AssumeRole {
    fn check_duration(seconds: u32) -> Result<u32> {
        if !(900..=43_200).contains(&seconds) {
            return Err(Error::invalid(
                "duration_seconds",
                format!("must be between 900 (15 minutes) and 43200 (12 hours), got {seconds}"),
            ));
        }
        Ok(seconds)
    }
}

/// What `AssumeRoleWithWebIdentity` returns beyond the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebIdentityRole {
    /// The credentials and session.
    pub role: AssumedRole,
    /// The token's `sub` claim.
    pub subject: Option<String>,
    /// The token's audience (`aud`).
    pub audience: Option<String>,
    /// The issuer (`iss`) that AWS trusted.
    pub provider: Option<String>,
}

impl Operation for AssumeRoleWithWebIdentity {
    type Output = WebIdentityRole;

    fn call(&self) -> Result<Call> {
        let mut form = Form::new("AssumeRoleWithWebIdentity", VERSION);
        form.push("RoleArn", &self.role_arn.to_string());
        form.push("RoleSessionName", &self.session_name);
        form.push("WebIdentityToken", self.token.expose());
        form.push_opt("DurationSeconds", self.duration_seconds.map(|d| d.to_string()).as_deref());
        Ok(Call::form(Service::Sts, form).unsigned())
    }

    fn parse(response: &HttpResponse) -> Result<WebIdentityRole, AwsError> {
        parse_query(Service::Sts, "AssumeRoleWithWebIdentity", response, |node| {
            Ok(WebIdentityRole {
                role: read_assumed_role(node)?,
                subject: xml::text(node, "SubjectFromWebIdentityToken"),
                audience: xml::text(node, "Audience"),
                provider: xml::text(node, "Provider"),
            })
        })
    }
}

/// Temporary credentials and the session they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumedRole {
    /// The credentials (`ASIA…` key, secret, session token).
    pub credentials: Credentials,
    /// When the credentials stop working.
    pub expiration: OffsetDateTime,
    /// The session's ARN (`arn:aws:sts::123456789012:assumed-role/Role/session`).
    pub assumed_role_arn: String,
    /// The session's ID (`AROA…:session`).
    pub assumed_role_id: String,
    /// How much of the packed-policy limit the session tags and policies used, in percent.
    pub packed_policy_size: Option<u32>,
    /// The source identity, when one was set.
    pub source_identity: Option<String>,
}

fn read_assumed_role(node: Node<'_, '_>) -> Result<AssumedRole, AwsError> {
    let creds = xml::child(node, "Credentials")
        .ok_or_else(|| AwsError::invalid_response(200, "the response has no <Credentials>"))?;
    let user = xml::child(node, "AssumedRoleUser")
        .ok_or_else(|| AwsError::invalid_response(200, "the response has no <AssumedRoleUser>"))?;
    Ok(AssumedRole {
        credentials: Credentials::new(
            xml::required(creds, "AccessKeyId")?,
            Secret::new(xml::required(creds, "SecretAccessKey")?),
            Some(Secret::new(xml::required(creds, "SessionToken")?)),
        ),
        expiration: xml::timestamp(creds, "Expiration")?
            .ok_or_else(|| AwsError::invalid_response(200, "the credentials have no <Expiration>"))?,
        assumed_role_arn: xml::required(user, "Arn")?,
        assumed_role_id: xml::required(user, "AssumedRoleId")?,
        packed_policy_size: xml::number(node, "PackedPolicySize"),
        source_identity: xml::text(node, "SourceIdentity"),
    })
}

/// Session names and source identities: 2–64 characters of `\w+=,.@-`.
fn check_session_name(field: &'static str, name: &str) -> Result<()> {
    let ok_chars = name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
    if !(2..=64).contains(&name.len()) || !ok_chars {
        return Err(Error::invalid(
            field,
            format!(
                "must be 2–64 characters of letters, digits and _+=,.@- (no spaces), got {}",
                quote(name)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role() -> RoleArn {
        "arn:aws:iam::123456789012:role/Trustline".parse().unwrap()
    }

    #[test]
    fn assume_role_validates_inputs() {
        assert!(AssumeRole::new(role(), "a").is_err());
        assert!(AssumeRole::new(role(), "has space").is_err());
        assert!(AssumeRole::new(role(), &"x".repeat(65)).is_err());
        let op = AssumeRole::new(role(), "trustline@vendor.example").unwrap();
        assert_eq!(op.clone().duration_seconds(899).unwrap_err().field(), "duration_seconds");
        assert!(op.clone().duration_seconds(43_200).is_ok());
        assert!(op.clone().source_identity("aws:me").is_err());
    }

    #[test]
    fn assume_role_body_carries_every_parameter() {
        let op = AssumeRole::new(role(), "s1")
            .unwrap()
            .external_id("trustline-abc".parse().unwrap())
            .duration_seconds(900)
            .unwrap()
            .source_identity("alice")
            .unwrap()
            .tag("team", "a b")
            .unwrap()
            .policy("{}")
            .unwrap();
        let body = String::from_utf8(op.call().unwrap().body().to_vec()).unwrap();
        assert_eq!(
            body,
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FTrustline\
             &RoleSessionName=s1&ExternalId=trustline-abc&DurationSeconds=900&SourceIdentity=alice\
             &Policy=%7B%7D&Tags.member.1.Key=team&Tags.member.1.Value=a%20b"
        );
    }

    #[test]
    fn web_identity_is_unsigned_and_hides_the_token() {
        let op = AssumeRoleWithWebIdentity::new(role(), "irsa", Secret::new("eyJhbGciOi")).unwrap();
        let call = op.call().unwrap();
        assert!(call.is_anonymous());
        assert!(!format!("{op:?}{call:?}").contains("eyJ"));
    }
}
