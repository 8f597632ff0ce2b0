//! AWS Organizations: the member accounts of a customer's organization, whole or below one
//! organizational unit, for connecting many accounts at once. Called in the management (or a
//! delegated administrator) account.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::{AwsError, Call, HttpResponse, Operation, Page, json, parse_with};
use crate::endpoint::Service;
use crate::error::{Error, Result, quote};

/// `NextToken` and `MaxResults` (1–20) shared by the list calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paging {
    next_token: Option<String>,
    max_results: Option<u32>,
}

impl Paging {
    /// Continues with the previous page's `next_token`.
    pub fn after(next_token: Option<String>) -> Self {
        Self { next_token, max_results: None }
    }

    /// The same paging (page size), after `next_token`.
    pub(crate) fn continued(&self, next_token: &str) -> Self {
        Self { next_token: Some(next_token.to_owned()), max_results: self.max_results }
    }

    /// At most `max_results` per page (1–20).
    pub fn max_results(mut self, max_results: u32) -> Result<Self> {
        if !(1..=20).contains(&max_results) {
            return Err(Error::invalid(
                "max_results",
                format!("must be between 1 and 20, got {max_results}"),
            ));
        }
        self.max_results = Some(max_results);
        Ok(self)
    }

    fn body(&self, mut body: Map<String, Value>) -> Value {
        if let Some(token) = &self.next_token {
            body.insert("NextToken".into(), json!(token));
        }
        if let Some(max) = self.max_results {
            body.insert("MaxResults".into(), json!(max));
        }
        Value::Object(body)
    }
}

/// A member account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Account {
    /// The 12-digit ID.
    pub id: String,
    /// The account's ARN within the organization.
    #[serde(default)]
    pub arn: Option<String>,
    /// The account's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The root user's email.
    #[serde(default)]
    pub email: Option<String>,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`.
    #[serde(default)]
    pub status: Option<String>,
    /// When it joined the organization.
    #[serde(rename = "JoinedTimestamp", default, deserialize_with = "json::epoch")]
    pub joined: Option<OffsetDateTime>,
}

/// `ListAccounts`' and `ListAccountsForParent`'s answer as AWS sends it.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AccountsPage {
    #[serde(default)]
    accounts: Vec<Account>,
    #[serde(default)]
    next_token: Option<String>,
}

fn accounts(body: &[u8]) -> Result<Page<Account>, AwsError> {
    let page: AccountsPage = json::from_body(200, body)?;
    Ok(Page { items: page.accounts, next_token: json::next_token(page.next_token) })
}

/// `ListAccounts`: every account in the organization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListAccounts {
    /// Which page.
    pub paging: Paging,
}

impl Operation for ListAccounts {
    type Output = Page<Account>;

    fn call(&self) -> Result<Call> {
        Ok(Call::json(
            Service::Organizations,
            "AWSOrganizationsV20161128.ListAccounts",
            &self.paging.body(Map::new()),
        ))
    }

    fn parse(response: &HttpResponse) -> Result<Page<Account>, AwsError> {
        parse_with(Service::Organizations, response, accounts)
    }
}

/// Checks a root (`r-…`) or OU (`ou-…-…`) ID.
fn check_parent(parent_id: &str) -> Result<String> {
    let ok = (parent_id.starts_with("r-") || parent_id.starts_with("ou-"))
        && parent_id.len() <= 100
        && parent_id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        return Err(Error::invalid(
            "parent_id",
            format!("expected a root ID (r-…) or an OU ID (ou-…), got {}", quote(parent_id)),
        ));
    }
    Ok(parent_id.to_owned())
}

/// `ListAccountsForParent`: the accounts directly in a root or OU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListAccountsForParent {
    parent_id: String,
    /// Which page.
    pub paging: Paging,
}

impl ListAccountsForParent {
    /// Accounts directly under `parent_id` (`r-…` or `ou-…`).
    pub fn new(parent_id: &str) -> Result<Self> {
        Ok(Self { parent_id: check_parent(parent_id)?, paging: Paging::default() })
    }
}

impl Operation for ListAccountsForParent {
    type Output = Page<Account>;

    fn call(&self) -> Result<Call> {
        let mut body = Map::new();
        body.insert("ParentId".into(), json!(self.parent_id));
        Ok(Call::json(
            Service::Organizations,
            "AWSOrganizationsV20161128.ListAccountsForParent",
            &self.paging.body(body),
        ))
    }

    fn parse(response: &HttpResponse) -> Result<Page<Account>, AwsError> {
        parse_with(Service::Organizations, response, accounts)
    }
}

/// `ListOrganizationalUnitsForParent`: the OUs directly below a root or OU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOrganizationalUnitsForParent {
    parent_id: String,
    /// Which page.
    pub paging: Paging,
}

impl ListOrganizationalUnitsForParent {
    /// OUs directly under `parent_id` (`r-…` or `ou-…`).
    pub fn new(parent_id: &str) -> Result<Self> {
        Ok(Self { parent_id: check_parent(parent_id)?, paging: Paging::default() })
    }
}

/// An organizational unit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrganizationalUnit {
    /// `ou-…`.
    pub id: String,
    /// The OU's ARN.
    #[serde(default)]
    pub arn: Option<String>,
    /// The OU's name.
    #[serde(default)]
    pub name: Option<String>,
}

/// `ListOrganizationalUnitsForParent`'s answer as AWS sends it.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UnitsPage {
    #[serde(default)]
    organizational_units: Vec<OrganizationalUnit>,
    #[serde(default)]
    next_token: Option<String>,
}

impl Operation for ListOrganizationalUnitsForParent {
    type Output = Page<OrganizationalUnit>;

    fn call(&self) -> Result<Call> {
        let mut body = Map::new();
        body.insert("ParentId".into(), json!(self.parent_id));
        let target = "AWSOrganizationsV20161128.ListOrganizationalUnitsForParent";
        Ok(Call::json(Service::Organizations, target, &self.paging.body(body)))
    }

    fn parse(response: &HttpResponse) -> Result<Page<OrganizationalUnit>, AwsError> {
        parse_with(Service::Organizations, response, |body| {
            let page: UnitsPage = json::from_body(200, body)?;
            Ok(Page { items: page.organizational_units, next_token: json::next_token(page.next_token) })
        })
    }
}

super::paginated_by_field!(paging: ListAccounts, ListAccountsForParent, ListOrganizationalUnitsForParent);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_carry_the_prefix() {
        let call = ListAccounts::default().call().unwrap();
        assert!(call.target().unwrap().starts_with("AWSOrganizationsV20161128."));
        assert!(ListAccountsForParent::new("123").is_err());
        assert!(ListOrganizationalUnitsForParent::new("ou-ab12-cd34ef56").is_ok());
    }
}
