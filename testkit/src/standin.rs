//! Trustline's AWS stand-in: the simulator ([`crate::sim`]) with no organization to speak of,
//! holding the users, roles and CloudTrail events a test adds. It enforces trust policies as
//! IAM does (moto does not, and lets a *missing* ExternalId through), speaks STS, IAM's list
//! calls, EC2's Describe calls (empty) and CloudTrail's LookupEvents in AWS's shapes, behind
//! AWS's token buckets, on loopback, on a free port.

use std::ops::Deref;

pub use crate::sim::{Role, TrailEvent};
use crate::sim::{Sim, SimConfig};

/// A running stand-in; stops when dropped. Everything else it does is the simulator's
/// ([`Sim::add_user`], [`Sim::add_role`], [`Sim::add_events`], [`Sim::set_session_lifetime`]…).
#[derive(Debug)]
pub struct StandIn(Sim);

impl StandIn {
    /// The simulator's configuration for the stand-in: the default regions and rates, and no
    /// member accounts.
    pub fn config() -> SimConfig {
        SimConfig { accounts: 0, ..SimConfig::default() }
    }

    /// Starts the stand-in on a free loopback port.
    pub fn start() -> StandIn {
        StandIn::start_on(0)
    }

    /// Starts the stand-in on a given loopback port (0: any free one).
    ///
    /// # Panics
    /// When the port cannot be bound.
    pub fn start_on(port: u16) -> StandIn {
        let sim = Sim::start_on(StandIn::config(), port)
            .unwrap_or_else(|e| panic!("the stand-in cannot serve on 127.0.0.1:{port}: {e}"));
        StandIn(sim)
    }

    /// Role sessions issued so far, and requests refused with ExpiredToken.
    pub fn session_counts(&self) -> (u64, u64) {
        let stats = self.0.stats();
        (stats.sessions_issued, stats.expired_token_answers)
    }

    /// LookupEvents calls received so far, and how many of them were throttled.
    pub fn lookup_counts(&self) -> (u64, u64) {
        let stats = self.0.stats();
        let throttled = stats.throttled_by_bucket.get("LookupEvents").copied().unwrap_or(0);
        (stats.requests_for("LookupEvents"), throttled)
    }
}

impl Deref for StandIn {
    type Target = Sim;

    fn deref(&self) -> &Sim {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::http::{RawResponse, exchange};

    const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-1"}}}]}"#;

    /// A query-protocol call as `key` (signatures are not checked; the scope names the region).
    fn query(s: &StandIn, key: &str, form: &str) -> RawResponse {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={key}/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0"
        );
        let headers =
            [("Authorization", auth.as_str()), ("Content-Type", "application/x-www-form-urlencoded")];
        exchange("POST", &s.endpoint(), headers, form.as_bytes()).unwrap()
    }

    fn lookup(s: &StandIn, key: &str, body: &str) -> RawResponse {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={key}/20260101/eu-west-1/cloudtrail/aws4_request, SignedHeaders=host, Signature=0"
        );
        let headers = [
            ("Authorization", auth.as_str()),
            ("X-Amz-Target", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"),
            ("Content-Type", "application/x-amz-json-1.1"),
        ];
        exchange("POST", &s.endpoint(), headers, body.as_bytes()).unwrap()
    }

    fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
        text.split(open).nth(1).and_then(|t| t.split(close).next()).unwrap_or_default()
    }

    fn assume(s: &StandIn, external_id: Option<&str>) -> RawResponse {
        let id = external_id.map(|e| format!("&ExternalId={e}")).unwrap_or_default();
        let form = format!(
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2FReader&RoleSessionName=t1{id}"
        );
        query(s, "AKIAVENDOR0000000001", &form)
    }

    #[test]
    fn trust_permissions_listings_and_sessions_as_aws_answers() {
        let s = StandIn::start();
        s.add_user("111111111111", "vendor", "AKIAVENDOR0000000001");
        s.add_user("222222222222", "alice", "AKIAALICE00000000001");
        let reader = |denied: &[&str]| Role {
            arn: "arn:aws:iam::222222222222:role/Reader".into(),
            trust_policy: TRUST.into(),
            denied_actions: denied.iter().map(|d| (*d).to_owned()).collect(),
            max_session_seconds: 3600,
        };
        s.add_role(reader(&["iam:ListUsers"]));

        let me = query(&s, "AKIAVENDOR0000000001", "Action=GetCallerIdentity&Version=2011-06-15");
        assert_eq!(between(&me.text(), "<Arn>", "</Arn>"), "arn:aws:iam::111111111111:user/vendor");
        let unknown = query(&s, "AKIANOBODY0000000001", "Action=GetCallerIdentity&Version=2011-06-15");
        assert_eq!(
            (unknown.status, between(&unknown.text(), "<Code>", "</Code>")),
            (403, "InvalidClientTokenId")
        );
        for id in [None, Some("ext-2")] {
            let r = assume(&s, id);
            assert_eq!((r.status, between(&r.text(), "<Code>", "</Code>")), (403, "AccessDenied"), "{id:?}");
            assert!(r.text().contains("is not authorized to perform: sts:AssumeRole on resource"));
        }
        let r = assume(&s, Some("ext-1"));
        assert_eq!(r.status, 200, "{}", r.text());
        let session = between(&r.text(), "<AccessKeyId>", "</AccessKeyId>").to_owned();
        let me = query(&s, &session, "Action=GetCallerIdentity&Version=2011-06-15");
        assert_eq!(
            between(&me.text(), "<Arn>", "</Arn>"),
            "arn:aws:sts::222222222222:assumed-role/Reader/t1"
        );

        let denied = query(&s, &session, "Action=ListUsers&Version=2010-05-08");
        assert_eq!((denied.status, between(&denied.text(), "<Code>", "</Code>")), (403, "AccessDenied"));
        let gaad = query(&s, &session, "Action=GetAccountAuthorizationDetails&Version=2010-05-08").text();
        assert_eq!(between(&gaad, "<UserName>", "</UserName>"), "alice");
        assert_eq!(between(&gaad, "<RoleName>", "</RoleName>"), "Reader");
        assert!(gaad.contains("%22sts%3AExternalId%22"), "trust policies URL-encoded: {gaad}");
        let keys = query(&s, &session, "Action=ListAccessKeys&Version=2010-05-08&UserName=alice").text();
        assert_eq!(between(&keys, "<AccessKeyId>", "</AccessKeyId>"), "AKIAALICE00000000001");
        let vpcs = query(&s, &session, "Action=DescribeVpcs&Version=2016-11-15");
        assert!(vpcs.status == 200 && vpcs.text().contains("<vpcSet/>"), "{}", vpcs.text());

        // A replaced role: its trust and permissions change for new calls.
        s.add_role(Role { trust_policy: TRUST.replace("ext-1", "ext-2"), ..reader(&[]) });
        assert_eq!(assume(&s, Some("ext-1")).status, 403);
        assert_eq!(query(&s, &session, "Action=ListUsers&Version=2010-05-08").status, 200);

        // Sessions that go bad before their announced Expiration.
        s.set_session_lifetime(Duration::from_millis(200), Duration::from_secs(3600));
        let r = assume(&s, Some("ext-2"));
        let short = between(&r.text(), "<AccessKeyId>", "</AccessKeyId>").to_owned();
        std::thread::sleep(Duration::from_millis(300));
        let expired = query(&s, &short, "Action=GetCallerIdentity&Version=2011-06-15");
        assert_eq!((expired.status, between(&expired.text(), "<Code>", "</Code>")), (400, "ExpiredToken"));
        assert_eq!(s.session_counts(), (2, 1));
    }

    #[test]
    fn roles_change_over_loopback_and_read_themselves() {
        let s = StandIn::start();
        s.add_user("111111111111", "vendor", "AKIAVENDOR0000000001");
        s.add_user("222222222222", "alice", "AKIAALICE00000000001");
        let role = |trust: &str, denied: &[&str]| {
            serde_json::json!({
                "arn": "arn:aws:iam::222222222222:role/Reader",
                "trust_policy": trust,
                "denied_actions": denied,
            })
            .to_string()
        };
        let put = |body: &str| {
            let url = format!("{}/_sim/roles", s.endpoint());
            exchange("PUT", &url, [("Content-Type", "application/json")], body.as_bytes()).unwrap()
        };
        assert_eq!(put(&role(TRUST, &[])).status, 200);
        let r = assume(&s, Some("ext-1"));
        let session = between(&r.text(), "<AccessKeyId>", "</AccessKeyId>").to_owned();
        let got = query(&s, &session, "Action=GetRole&Version=2010-05-08&RoleName=Reader").text();
        assert!(got.contains("<GetRoleResult><Role>") && got.contains("%22sts%3AExternalId%22"), "{got}");
        let missing = query(&s, &session, "Action=GetRole&Version=2010-05-08&RoleName=Other");
        assert_eq!((missing.status, between(&missing.text(), "<Code>", "</Code>")), (404, "NoSuchEntity"));

        // The ExternalId condition dropped and GetRole denied, over the admin route.
        let open = TRUST.replace(r#","Condition":{"StringEquals":{"sts:ExternalId":"ext-1"}}"#, "");
        assert_eq!(put(&role(&open, &["iam:GetRole"])).status, 200);
        assert_eq!(assume(&s, None).status, 200, "no ExternalId needed any more");
        assert_eq!(query(&s, &session, "Action=GetRole&Version=2010-05-08&RoleName=Reader").status, 403);
        let bad = put(r#"{"arn":"arn:aws:iam::22:role/R","trust_policy":"{}"}"#);
        assert!(bad.status == 400 && bad.text().contains("12 digits"), "{}", bad.text());
        let stats: serde_json::Value = serde_json::from_slice(
            &exchange("GET", &format!("{}/_sim/stats", s.endpoint()), [], b"").unwrap().body,
        )
        .unwrap();
        assert_eq!(stats["requests_per_api"]["GetRole"], 3, "{stats}");

        // A user's own keys, without a UserName.
        let keys = query(&s, "AKIAALICE00000000001", "Action=ListAccessKeys&Version=2010-05-08").text();
        assert_eq!(between(&keys, "<AccessKeyId>", "</AccessKeyId>"), "AKIAALICE00000000001", "{keys}");
    }

    #[test]
    fn lookup_events_pages_and_throttles_per_account_region() {
        let s = StandIn::start();
        s.add_user("222222222222", "alice", "AKIAALICE00000000001");
        let events =
            (0..70).map(|i| TrailEvent { id: format!("e-{i:03}"), time: 1_000_000 - i, name: "X".into() });
        s.add_events("222222222222", "eu-west-1", events.collect());
        let first: serde_json::Value =
            serde_json::from_slice(&lookup(&s, "AKIAALICE00000000001", "{}").body).unwrap();
        assert_eq!(first["Events"].as_array().unwrap().len(), 50);
        assert_eq!(first["Events"][0]["EventId"], "e-000", "newest first");
        let token = first["NextToken"].as_str().unwrap();
        assert!(token.parse::<u64>().is_err() && !token.contains("50"), "opaque: {token}");
        let body = serde_json::json!({ "NextToken": token }).to_string();
        let second: serde_json::Value =
            serde_json::from_slice(&lookup(&s, "AKIAALICE00000000001", &body).body).unwrap();
        assert_eq!(
            (second["Events"].as_array().unwrap().len(), &second["NextToken"]),
            (20, &serde_json::Value::Null)
        );
        // Two calls spent the bucket of 2; the third within the second is throttled.
        let third = lookup(&s, "AKIAALICE00000000001", "{}");
        assert_eq!(third.status, 400);
        assert!(third.text().contains("ThrottlingException"), "{}", third.text());
        assert_eq!(s.lookup_counts(), (3, 1));
    }
}
