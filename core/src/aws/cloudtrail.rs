//! AWS CloudTrail `LookupEvents`: the last 90 days of management events in one region.
//!
//! JSON 1.1; at most 50 events per page and one lookup attribute per request; AWS allows two
//! requests per second per account and region, so callers must pace themselves.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::{AwsError, Call, HttpResponse, Operation, Page, json, parse_with};
use crate::endpoint::Service;
use crate::error::{Error, Result};

const TARGET: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents";

/// What to look events up by (CloudTrail accepts one attribute per request).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lookup {
    /// Read-only (`true`) or mutating (`false`) events.
    ReadOnly(bool),
    /// Events of one API action, e.g. `ConsoleLogin`, `CreateAccessKey`.
    EventName(String),
    /// Events from one service, e.g. `iam.amazonaws.com`.
    EventSource(String),
    /// Events made with one access key.
    AccessKeyId(String),
    /// Events by one user name.
    Username(String),
}

impl Lookup {
    fn pair(&self) -> (&'static str, String) {
        match self {
            Lookup::ReadOnly(read_only) => ("ReadOnly", read_only.to_string()),
            Lookup::EventName(v) => ("EventName", v.clone()),
            Lookup::EventSource(v) => ("EventSource", v.clone()),
            Lookup::AccessKeyId(v) => ("AccessKeyId", v.clone()),
            Lookup::Username(v) => ("Username", v.clone()),
        }
    }
}

/// `LookupEvents` over a time window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupEvents {
    start_time: Option<OffsetDateTime>,
    end_time: Option<OffsetDateTime>,
    lookup: Option<Lookup>,
    max_results: Option<u32>,
    next_token: Option<String>,
}

impl LookupEvents {
    /// Events between `start` and `end` (either may be open).
    pub fn new(start: Option<OffsetDateTime>, end: Option<OffsetDateTime>) -> Result<Self> {
        if let (Some(start), Some(end)) = (start, end)
            && start > end
        {
            return Err(Error::invalid("start_time", "the start of the window is after its end"));
        }
        Ok(Self { start_time: start, end_time: end, lookup: None, max_results: None, next_token: None })
    }

    /// Only events matching `lookup`.
    #[must_use]
    pub fn lookup(mut self, lookup: Lookup) -> Self {
        self.lookup = Some(lookup);
        self
    }

    /// At most `max_results` per page (1–50).
    pub fn max_results(mut self, max_results: u32) -> Result<Self> {
        if !(1..=50).contains(&max_results) {
            return Err(Error::invalid(
                "max_results",
                format!("must be between 1 and 50, got {max_results}"),
            ));
        }
        self.max_results = Some(max_results);
        Ok(self)
    }

    /// Continues with the previous page's `next_token`.
    #[must_use]
    pub fn after(mut self, next_token: Option<String>) -> Self {
        self.next_token = next_token;
        self
    }
}

impl super::Paginated for LookupEvents {
    fn continued(&self, token: &str) -> Self {
        self.clone().after(Some(token.to_owned()))
    }
}

/// A CloudTrail event summary with the full record as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event's ID.
    pub event_id: String,
    /// The API action.
    pub event_name: Option<String>,
    /// The service (`iam.amazonaws.com`).
    pub event_source: Option<String>,
    /// When it happened.
    pub event_time: Option<OffsetDateTime>,
    /// Whether it only read.
    pub read_only: Option<bool>,
    /// The access key used.
    pub access_key_id: Option<String>,
    /// The user or role session name.
    pub username: Option<String>,
    /// Resources involved, as (type, name).
    pub resources: Vec<(Option<String>, Option<String>)>,
    /// The complete CloudTrail record (a JSON document).
    pub cloudtrail_event: Option<String>,
}

impl Operation for LookupEvents {
    type Output = Page<Event>;

    fn call(&self) -> Result<Call> {
        let mut body = Map::new();
        if let Some(lookup) = &self.lookup {
            let (key, value) = lookup.pair();
            body.insert("LookupAttributes".into(), json!([{ "AttributeKey": key, "AttributeValue": value }]));
        }
        if let Some(start) = self.start_time {
            body.insert("StartTime".into(), json!(start.unix_timestamp()));
        }
        if let Some(end) = self.end_time {
            body.insert("EndTime".into(), json!(end.unix_timestamp()));
        }
        if let Some(max) = self.max_results {
            body.insert("MaxResults".into(), json!(max));
        }
        if let Some(token) = &self.next_token {
            body.insert("NextToken".into(), json!(token));
        }
        Ok(Call::json(Service::CloudTrail, TARGET, &Value::Object(body)))
    }

    fn parse(response: &HttpResponse) -> Result<Page<Event>, AwsError> {
        parse_with(Service::CloudTrail, response, |body| {
            let page: WirePage = json::from_body(200, body)?;
            Ok(Page {
                items: page.events.into_iter().map(Event::from).collect(),
                next_token: json::next_token(page.next_token),
            })
        })
    }
}

/// `LookupEvents`' answer as AWS sends it.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WirePage {
    #[serde(default)]
    events: Vec<WireEvent>,
    #[serde(default)]
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireEvent {
    event_id: String,
    #[serde(default)]
    event_name: Option<String>,
    #[serde(default)]
    event_source: Option<String>,
    #[serde(default, deserialize_with = "json::epoch")]
    event_time: Option<OffsetDateTime>,
    /// `"true"` or `"false"`, as text.
    #[serde(default)]
    read_only: Option<String>,
    #[serde(default)]
    access_key_id: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    resources: Vec<WireResource>,
    #[serde(default)]
    cloud_trail_event: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireResource {
    #[serde(default)]
    resource_type: Option<String>,
    #[serde(default)]
    resource_name: Option<String>,
}

impl From<WireEvent> for Event {
    fn from(e: WireEvent) -> Event {
        Event {
            event_id: e.event_id,
            event_name: e.event_name,
            event_source: e.event_source,
            event_time: e.event_time,
            read_only: e.read_only.map(|r| r == "true"),
            access_key_id: e.access_key_id,
            username: e.username,
            resources: e.resources.into_iter().map(|r| (r.resource_type, r.resource_name)).collect(),
            cloudtrail_event: e.cloud_trail_event,
        }
    }
}
