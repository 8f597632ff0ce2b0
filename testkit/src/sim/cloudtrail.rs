//! CloudTrail `LookupEvents`, generated per account and region: `events` management events
//! spread evenly over `event_window` up to the simulator's start, newest first. A time range is
//! found by binary search over the event index, so a page costs the same at any depth.

use std::collections::BTreeSet;

use serde_json::Value;

use super::model::{Model, push_dec, push_iso, push_upper, push_uuid, uuid};
use super::wire::{Api, Family, Params, Reply};

/// (source, name, read-only) of the events generated.
const EVENTS: [(&str, &str, bool); 10] = [
    ("iam.amazonaws.com", "CreateUser", false),
    ("iam.amazonaws.com", "AttachRolePolicy", false),
    ("ec2.amazonaws.com", "RunInstances", false),
    ("ec2.amazonaws.com", "DescribeInstances", true),
    ("signin.amazonaws.com", "ConsoleLogin", false),
    ("sts.amazonaws.com", "AssumeRole", true),
    ("s3.amazonaws.com", "CreateBucket", false),
    ("kms.amazonaws.com", "Decrypt", true),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", false),
    ("cloudtrail.amazonaws.com", "LookupEvents", true),
];

/// One account-region's trail.
pub(crate) struct Trail<'a> {
    m: &'a Model,
    index: u32,
    region: u16,
}

/// The fields of one event; its strings are written where they are needed.
struct Event {
    time: i64,
    source: &'static str,
    name: &'static str,
    read_only: bool,
    /// The user's index, or `None` for the root user.
    user: Option<u32>,
    h: u64,
}

impl Event {
    fn push_user(&self, out: &mut Vec<u8>) {
        match self.user {
            Some(i) => {
                out.extend_from_slice(b"user-");
                push_dec(out, u64::from(i), 5);
            }
            None => out.extend_from_slice(b"root"),
        }
    }

    fn push_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"ASIA");
        push_upper(out, self.h >> 3, 16);
    }

    fn text(&self, write: impl Fn(&Self, &mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        write(self, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The constant stretches of a record (between the per-event values), with the page's account
/// and region filled in: as JSON, or escaped for a JSON string (computed once per page, so the
/// records need no escaping pass).
struct Template {
    pieces: [Vec<u8>; 10],
}

impl Template {
    fn new(account: &str, region: &str, escaped: bool) -> Template {
        let plain = [
            format!(
                r#"{{"eventVersion":"1.09","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::{account}:user/"#
            ),
            format!(r#"","accountId":"{account}","accessKeyId":""#),
            r#"","userName":""#.to_owned(),
            r#""},"eventTime":""#.to_owned(),
            r#"","eventSource":""#.to_owned(),
            r#"","eventName":""#.to_owned(),
            format!(r#"","awsRegion":"{region}","sourceIPAddress":"198.51.100."#),
            r#"","eventID":""#.to_owned(),
            r#"","readOnly":"#.to_owned(),
            format!(r#","eventType":"AwsApiCall","recipientAccountId":"{account}"}}"#),
        ];
        Template { pieces: plain.map(|p| if escaped { p.replace('"', "\\\"") } else { p }.into_bytes()) }
    }

    /// The full record, as CloudTrail keeps it (about 400 bytes of JSON).
    fn write(&self, out: &mut Vec<u8>, ev: &Event) {
        let [a, b, c, d, e, f, g, h, i, j] = &self.pieces;
        out.extend_from_slice(a);
        ev.push_user(out);
        out.extend_from_slice(b);
        ev.push_key(out);
        out.extend_from_slice(c);
        ev.push_user(out);
        out.extend_from_slice(d);
        push_iso(out, ev.time);
        out.extend_from_slice(e);
        out.extend_from_slice(ev.source.as_bytes());
        out.extend_from_slice(f);
        out.extend_from_slice(ev.name.as_bytes());
        out.extend_from_slice(g);
        push_dec(out, ev.h % 250 + 1, 1);
        out.extend_from_slice(h);
        push_uuid(out, ev.h);
        out.extend_from_slice(i);
        out.extend_from_slice(if ev.read_only { b"true" } else { b"false" });
        out.extend_from_slice(j);
    }

    /// One entry of a LookupEvents page (this template escaped), the record inside.
    fn write_entry(&self, out: &mut Vec<u8>, ev: &Event) {
        out.extend_from_slice(br#"{"EventId":""#);
        push_uuid(out, ev.h);
        out.extend_from_slice(br#"","EventName":""#);
        out.extend_from_slice(ev.name.as_bytes());
        out.extend_from_slice(br#"","ReadOnly":""#);
        out.extend_from_slice(if ev.read_only { b"true" } else { b"false" });
        out.extend_from_slice(br#"","AccessKeyId":""#);
        ev.push_key(out);
        out.extend_from_slice(br#"","EventTime":"#);
        push_dec(out, ev.time.unsigned_abs(), 1);
        out.extend_from_slice(br#","EventSource":""#);
        out.extend_from_slice(ev.source.as_bytes());
        out.extend_from_slice(br#"","Username":""#);
        ev.push_user(out);
        out.extend_from_slice(br#"","Resources":[],"CloudTrailEvent":""#);
        self.write(out, ev);
        out.extend_from_slice(br#""}"#);
    }
}

impl<'a> Trail<'a> {
    pub(crate) fn new(m: &'a Model, index: u32, region: u16) -> Trail<'a> {
        Trail { m, index, region }
    }

    fn n(&self) -> u64 {
        u64::from(self.m.cfg.events)
    }

    /// Event `e`'s time: `e` steps of `window / n` before the last second before the start.
    fn time(&self, e: u64) -> i64 {
        let window = u128::from(self.m.cfg.event_window.as_secs().max(1));
        self.m.t0 - 1 - (u128::from(e) * window / u128::from(self.n().max(1))) as i64
    }

    /// The events with `start <= time <= end`: indices `[lo, hi)` (times fall as `e` grows).
    fn range(&self, start: i64, end: i64) -> (u64, u64) {
        let first = |pred: &dyn Fn(u64) -> bool| {
            let (mut lo, mut hi) = (0, self.n());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if pred(mid) { hi = mid } else { lo = mid + 1 }
            }
            lo
        };
        (first(&|e| self.time(e) <= end), first(&|e| self.time(e) < start))
    }

    fn event(&self, e: u64) -> Event {
        let h =
            self.m.h(&[u64::from(self.index), u64::from(self.region), Api::LookupEvents.index() as u64, e]);
        let (source, name, read_only) = EVENTS[(h % EVENTS.len() as u64) as usize];
        let users = self.m.cfg.users;
        let user = (users > 0 && !h.is_multiple_of(17)).then(|| ((h >> 8) % u64::from(users)) as u32);
        Event { time: self.time(e), source, name, read_only, user, h }
    }

    fn template(&self, escaped: bool) -> Template {
        Template::new(&self.m.account_id(self.index), self.m.region_name(self.region), escaped)
    }

    fn matches(ev: &Event, attribute: Option<&(String, String)>) -> bool {
        let Some((key, value)) = attribute else { return true };
        match key.as_str() {
            "EventName" => ev.name == value,
            "EventSource" => ev.source == value,
            "ReadOnly" => ev.read_only.to_string() == *value,
            "Username" => ev.text(Event::push_user) == *value,
            "AccessKeyId" => ev.text(Event::push_key) == *value,
            "EventId" => uuid(ev.h) == *value,
            _ => false,
        }
    }

    pub(crate) fn handle(&self, p: &Params, rid: &str) -> Reply {
        let invalid = |code: &str, message: &str| Reply::invalid(Family::CloudTrail, code, message, rid);
        let max = match p.number("MaxResults") {
            Ok(None) => 50,
            Ok(Some(n)) if (1.0..=50.0).contains(&n) => n as u64,
            _ => return invalid("InvalidMaxResultsException", "MaxResults must be between 1 and 50."),
        };
        let time = |name: &str, default: i64| match p.number(name) {
            Ok(t) => Ok(t.map_or(default, |t| t.floor() as i64)),
            Err(()) => Err(invalid("InvalidTimeRangeException", &format!("{name} is not a timestamp."))),
        };
        let (start, end) = match (time("StartTime", i64::MIN), time("EndTime", i64::MAX)) {
            (Ok(s), Ok(e)) if s <= e => (s, e),
            (Err(r), _) | (_, Err(r)) => return r,
            _ => return invalid("InvalidTimeRangeException", "Start time must be before end time."),
        };
        let attribute = match p {
            Params::Json(j) => match j.get("LookupAttributes") {
                None | Some(Value::Null) => None,
                Some(Value::Array(a)) if a.len() == 1 => {
                    let get = |k: &str| a[0].get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
                    Some((get("AttributeKey"), get("AttributeValue")))
                }
                Some(_) => {
                    return invalid(
                        "InvalidLookupAttributesException",
                        "Only one lookup attribute is allowed.",
                    );
                }
            },
            Params::Form(_) => None,
        };
        let filter_hash = attribute.as_ref().map_or(0, |(k, v)| {
            super::model::hash(&k.bytes().chain(v.bytes()).map(u64::from).collect::<Vec<_>>())
        });
        let scope = [
            u64::from(self.index),
            Api::LookupEvents.index() as u64,
            u64::from(self.region),
            start as u64,
            end as u64,
            filter_hash,
        ];
        let (lo, hi) = self.range(start, end);
        let from = match p.str("NextToken") {
            None | Some("") => lo,
            Some(t) => match self.m.untoken(&scope, t) {
                Some(o) => o.max(lo),
                None => return Reply::bad_token(Family::CloudTrail, rid),
            },
        };
        let size = max.min(u64::from(self.m.cfg.page_cap.max(1)));
        let mut out = Vec::with_capacity(64 + size as usize * 950);
        out.extend_from_slice(br#"{"Events":["#);
        let template = self.template(true);
        let (mut e, mut taken) = (from, 0);
        while e < hi && taken < size {
            let ev = self.event(e);
            e += 1;
            if !Self::matches(&ev, attribute.as_ref()) {
                continue;
            }
            if taken > 0 {
                out.push(b',');
            }
            taken += 1;
            template.write_entry(&mut out, &ev);
        }
        out.push(b']');
        if e < hi {
            out.extend_from_slice(br#","NextToken":""#);
            out.extend_from_slice(self.m.token(&scope, e).as_bytes());
            out.push(b'"');
        }
        out.push(b'}');
        Reply::json(out)
    }

    /// Pages a complete read of the window takes at `page` events a page.
    pub(crate) fn pages(&self, page: u32) -> u64 {
        let size = u64::from(page.clamp(1, 50).min(self.m.cfg.page_cap.max(1)));
        self.n().div_ceil(size).max(1)
    }
}

/// Every event ID of account `index` in `region`.
pub(crate) fn event_ids(m: &Model, index: u32, region: u16, out: &mut BTreeSet<String>) {
    let t = Trail::new(m, index, region);
    out.extend((0..t.n()).map(|e| uuid(t.event(e).h)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimConfig;

    #[test]
    fn ranges_and_records() {
        let m = Model::new(SimConfig { events: 100, ..SimConfig::default() });
        let t = Trail::new(&m, 1, 1);
        assert!((1..100).all(|e| t.time(e) <= t.time(e - 1)), "newest first");
        assert_eq!(t.range(i64::MIN, i64::MAX), (0, 100));
        let (lo, hi) = t.range(t.time(60), t.time(10));
        assert!(lo <= 10 && hi >= 61 && t.time(lo) <= t.time(10) && t.time(hi - 1) >= t.time(60));
        assert_eq!(t.range(t.t0_plus(10), t.t0_plus(20)), (0, 0), "the future holds nothing");
        let mut record = Vec::new();
        t.template(false).write(&mut record, &t.event(3));
        let record = String::from_utf8(record).unwrap();
        assert!((300..=500).contains(&record.len()), "a record of {} bytes", record.len());
        assert!(serde_json::from_str::<Value>(&record).is_ok());
        let mut entry = Vec::new();
        t.template(true).write_entry(&mut entry, &t.event(3));
        let entry: Value = serde_json::from_slice(&entry).unwrap();
        assert_eq!(entry["CloudTrailEvent"].as_str(), Some(record.as_str()), "escaped once, read back whole");
    }

    impl Trail<'_> {
        fn t0_plus(&self, s: i64) -> i64 {
            self.m.t0 + s
        }
    }
}
