//! What Trustline stored, read by one tenant: its inventory (filtered, a page at a time), one
//! resource with its history, the changes and CloudTrail events stored after a cursor, and its
//! runs. Every query is limited to the tenant named in the path in SQL, so another tenant's
//! connection id filters to nothing and is refused as unknown.
//!
//! Pages come in a stable order with an opaque `next_cursor` (keyset pagination: the cursor is
//! where the last page ended, not an offset). Changes and events are feeds: their cursor is
//! never null, so a reader keeps the last one and polls with it for what was stored since. Each page is one SQL statement, hence one read
//! transaction over the store; a sync commits each list it reads in one transaction, so a page
//! never holds half of one sync's list and half of another's. A resource that exists while a
//! reader pages through the inventory appears exactly once.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use trustline_core::api::{Change, Event, Feed, Page, Resource, ResourceHistory, RunSummary, encode_cursor};

use super::tenants::{existing, internal};
use super::{ApiError, AppState};
use crate::store::{InventoryFilter, Store};

type Shared = State<Arc<AppState>>;

/// Items per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: usize = 100;
/// The most items a page holds.
pub const MAX_LIMIT: usize = 1_000;

/// A query string's parameters, refusing any the route does not take: a misspelt filter would
/// otherwise silently return everything.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(raw: Option<String>, allowed: &[&str]) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        for (name, _) in &pairs {
            if !allowed.contains(&name.as_str()) {
                return Err(ApiError::invalid(
                    name,
                    format!("unknown query parameter '{name}'; this route takes {}", allowed.join(", ")),
                ));
            }
        }
        Ok(Params(pairs))
    }

    /// The parameter's value, if given once; an error if given twice.
    fn one(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::invalid(name, format!("give {name} once")));
        }
        if first == Some("") {
            return Err(ApiError::invalid(name, format!("{name} is empty; leave it out instead")));
        }
        Ok(first)
    }

    fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.one(name)?.ok_or_else(|| ApiError::invalid(name, format!("{name} is required")))
    }

    /// `limit`: 1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`].
    fn limit(&self) -> Result<usize, ApiError> {
        let Some(text) = self.one("limit")? else { return Ok(DEFAULT_LIMIT) };
        match text.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid(
                "limit",
                format!("limit is a number from 1 to {MAX_LIMIT}, got '{text}'"),
            )),
        }
    }

    /// `cursor`, decoded into what the page before it ended with.
    fn cursor<T: DeserializeOwned>(&self) -> Result<Option<T>, ApiError> {
        let Some(text) = self.one("cursor")? else { return Ok(None) };
        trustline_core::api::decode_cursor(text).map(Some).ok_or_else(|| {
                ApiError::invalid(
                    "cursor",
                    "this is not a cursor this API gave out; pass a page's next_cursor unchanged, or leave it out to start from the beginning",
                )
            })
    }

    /// `kind`, one Trustline reads.
    fn kind(&self) -> Result<Option<String>, ApiError> {
        let Some(kind) = self.one("kind")? else { return Ok(None) };
        kind.parse::<crate::resource::ResourceKind>()
            .map_err(|e| ApiError::invalid("kind", e.to_string()))?;
        Ok(Some(kind.to_owned()))
    }

    /// `tag`: KEY=VALUE, or KEY for any value.
    fn tag(&self) -> Result<Vec<(String, Option<String>)>, ApiError> {
        let Some(tag) = self.one("tag")? else { return Ok(Vec::new()) };
        let (key, value) = match tag.split_once('=') {
            Some((k, v)) => (k, Some(v.to_owned())),
            None => (tag, None),
        };
        if key.is_empty() {
            return Err(ApiError::invalid("tag", format!("expected KEY=VALUE or KEY, got '{tag}'")));
        }
        Ok(vec![(key.to_owned(), value)])
    }
}

/// A page of `limit` items, read as `limit + 1` so that the last page says so.
fn page<T, K: Serialize>(
    mut items: Vec<T>,
    limit: usize,
    key: impl Fn(&T) -> K,
) -> Result<Page<T>, ApiError> {
    let more = items.len() > limit;
    items.truncate(limit);
    let next_cursor = match items.last() {
        Some(last) if more => Some(encode_cursor(&key(last))),
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

/// A feed's next read after `after`, from `limit + 1` items read.
fn feed<T>(mut items: Vec<(i64, T)>, limit: usize, after: i64) -> Result<Feed<T>, ApiError> {
    let more = items.len() > limit;
    items.truncate(limit);
    let last = items.last().map_or(after, |(position, _)| *position);
    Ok(Feed { items: items.into_iter().map(|(_, item)| item).collect(), cursor: encode_cursor(&last), more })
}

/// `connection`, which must be one of the tenant's.
fn tenant_connection(store: &Store, tenant: &str, id: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(id) = id else { return Ok(None) };
    if store.tenant_connection(tenant, id).map_err(internal)?.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            Some("connection"),
            format!("no connection '{id}'"),
        ));
    }
    Ok(Some(id.to_owned()))
}

/// `GET /v1/tenants/{tenant}/inventory`: `kind`, `region`, `tag`, `connection`, `limit`, `cursor`.
pub(super) async fn inventory(
    State(state): Shared,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Page<Resource>>, ApiError> {
    let params = Params::parse(query, &["kind", "region", "tag", "connection", "limit", "cursor"])?;
    let (limit, after) = (params.limit()?, params.cursor::<(String, String, String, String)>()?);
    let mut filter = InventoryFilter {
        kind: params.kind()?,
        connection: None,
        region: params.one("region")?.map(str::to_owned),
        tag: params.tag()?,
        tenant: Some(tenant.clone()),
    };
    let connection = params.one("connection")?.map(str::to_owned);
    let items = state
        .with_reader(move |_, store| {
            existing(store, &tenant)?;
            filter.connection = tenant_connection(store, &tenant, connection.as_deref())?;
            store.inventory_page(&filter, after.as_ref(), limit + 1).map_err(internal)
        })
        .await?;
    Ok(Json(page(items, limit, |r| (r.connection.clone(), r.region.clone(), r.kind.clone(), r.id.clone()))?))
}

/// `GET /v1/tenants/{tenant}/resource`: `connection`, `region`, `kind` and `id` name it.
pub(super) async fn resource(
    State(state): Shared,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<ResourceHistory>, ApiError> {
    let params = Params::parse(query, &["connection", "region", "kind", "id"])?;
    let connection = params.required("connection")?.to_owned();
    let region = params.required("region")?.to_owned();
    let kind = params.kind()?.ok_or_else(|| ApiError::invalid("kind", "kind is required"))?;
    let id = params.required("id")?.to_owned();
    let found = state
        .with_reader(move |_, store| {
            existing(store, &tenant)?;
            tenant_connection(store, &tenant, Some(&connection))?;
            let resource = store.resource(&connection, &region, &kind, &id).map_err(internal)?;
            let changes = store.resource_changes(&connection, &region, &kind, &id).map_err(internal)?;
            Ok(ResourceHistory { resource, changes })
        })
        .await?;
    if found.resource.is_none() && found.changes.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            Some("id"),
            "no such resource in this connection's inventory",
        ));
    }
    Ok(Json(found))
}

/// `GET /v1/tenants/{tenant}/changes`: what syncs added, changed and removed after `cursor`,
/// oldest first; `connection`, `limit`.
pub(super) async fn changes(
    State(state): Shared,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Feed<Change>>, ApiError> {
    let params = Params::parse(query, &["connection", "limit", "cursor"])?;
    let (limit, after) = (params.limit()?, params.cursor::<i64>()?.unwrap_or(0));
    let connection = params.one("connection")?.map(str::to_owned);
    let items = state
        .with_reader(move |_, store| {
            existing(store, &tenant)?;
            let connection = tenant_connection(store, &tenant, connection.as_deref())?;
            store.changes_page(Some(&tenant), connection.as_deref(), after, limit + 1).map_err(internal)
        })
        .await?;
    Ok(Json(feed(items.into_iter().map(|c| (c.seq, c)).collect(), limit, after)?))
}

/// `GET /v1/tenants/{tenant}/events`: CloudTrail events stored after `cursor`, in the order they
/// were stored; `connection`, `limit`.
pub(super) async fn events(
    State(state): Shared,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Feed<Event>>, ApiError> {
    let params = Params::parse(query, &["connection", "limit", "cursor"])?;
    let (limit, after) = (params.limit()?, params.cursor::<i64>()?.unwrap_or(0));
    let connection = params.one("connection")?.map(str::to_owned);
    let rows = state
        .with_reader(move |_, store| {
            existing(store, &tenant)?;
            let connection = tenant_connection(store, &tenant, connection.as_deref())?;
            store.events_page(Some(&tenant), connection.as_deref(), after, limit + 1).map_err(internal)
        })
        .await?;
    Ok(Json(feed(rows, limit, after)?))
}

/// `GET /v1/tenants/{tenant}/runs`: the runs that synced the tenant's connections, newest first,
/// each with the tenant's accounts only; `limit`, `cursor`.
pub(super) async fn runs(
    State(state): Shared,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Page<RunSummary>>, ApiError> {
    let params = Params::parse(query, &["limit", "cursor"])?;
    let (limit, before) = (params.limit()?, params.cursor::<i64>()?);
    let items = state
        .with_reader(move |_, store| {
            existing(store, &tenant)?;
            store.tenant_runs(&tenant, before, limit + 1).map_err(internal)
        })
        .await?;
    Ok(Json(page(items, limit, |r| r.id)?))
}
