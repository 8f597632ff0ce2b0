//! CloudTrail management events, incremental per (account, region).
//!
//! Each run asks LookupEvents for `[cursor − overlap, now]`: CloudTrail can make an event
//! visible minutes after it happened, so the window reaches back over the previous run's end,
//! and events already stored are dropped by their EventId. The first run reaches back
//! `lookback` (CloudTrail keeps 90 days). The cursor only moves when a region's window was read
//! to the end, so an interrupted read is simply read again. Pages are stored as they arrive, so
//! a busy region's events never pile up in memory.

use futures::TryStreamExt;
use time::OffsetDateTime;
use trustline_core::Region;
use trustline_core::aws::cloudtrail::{Event, LookupEvents};

use super::{Ctx, Sink};
use crate::client::CallError;
use crate::resource::{EventPage, EventRecord};

/// LookupEvents' largest page.
const PAGE_SIZE: u32 = 50;

/// How far back and how much overlap.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// First run: how far back (at most 90 days).
    pub lookback: time::Duration,
    /// Later runs: how far before the last cursor to start again.
    pub overlap: time::Duration,
}

impl Default for Window {
    fn default() -> Self {
        // CloudTrail documents delivery "within 15 minutes" of an API call on average.
        Window { lookback: time::Duration::days(7), overlap: time::Duration::minutes(15) }
    }
}

/// Reads one region's events since `cursor`, handing each page to `sink` as it arrives and the
/// new cursor once the window was read to the end.
pub(super) async fn sync_region(
    ctx: &Ctx<'_>,
    sink: &Sink,
    pages: &tokio::sync::Semaphore,
    region: &Region,
    cursor: Option<OffsetDateTime>,
    window: Window,
) -> Result<(), CallError> {
    let end = OffsetDateTime::now_utc();
    let oldest = end - window.lookback.min(time::Duration::days(90));
    let start = cursor.map_or(oldest, |c| (c - window.overlap).max(oldest));
    let first = LookupEvents::new(Some(start), Some(end))
        .and_then(|o| o.max_results(PAGE_SIZE))
        .map_err(CallError::Build)?;
    let answers = super::paginate::paginate(first, |op| async move {
        // The bucket's turn first, then a page slot, held from the request until the page is
        // queued for the store: pipelines waiting for their turn hold no slot.
        ctx.pace(trustline_core::Service::CloudTrail, region).await;
        let slot = pages.acquire().await;
        // Boxed: a call in flight is several KB of state, allocated only under a page slot
        // rather than in every account-region's pipeline for the whole run.
        Box::pin(ctx.call_paced(&op, region)).await.map(|page| (page, slot))
    });
    futures::pin_mut!(answers);
    while let Some((page, _slot)) = answers.try_next().await? {
        let events = records(region.as_str(), page.items);
        if !events.is_empty() {
            let page = EventPage::pack(events)
                .map_err(|e| CallError::Keep(format!("compressing a page of events failed: {e}")))?;
            sink.events(page).await;
        }
    }
    sink.cursor(region, end).await;
    Ok(())
}

/// A page's events as stored (events without a time, which AWS never sends, are skipped).
pub fn records(region: &str, items: Vec<Event>) -> Vec<EventRecord> {
    items
        .into_iter()
        .filter_map(|e| {
            Some(EventRecord {
                region: region.to_owned(),
                event_time: e.event_time?,
                event_name: e.event_name.unwrap_or_default(),
                event_source: e.event_source,
                username: e.username,
                raw: e.cloudtrail_event.unwrap_or_else(|| "{}".into()),
                event_id: e.event_id,
            })
        })
        .collect()
}
