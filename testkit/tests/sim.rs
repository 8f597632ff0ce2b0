//! The organization simulator seen through core's signed requests and parsers: every answer
//! parses, paging yields exactly what `expected()` says, buckets throttle, faults are retry-safe,
//! sessions expire, trust is enforced, revocations deny.

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

use trustline_core::aws::cloudtrail::LookupEvents;
use trustline_core::aws::ec2::{
    DescribeInstances, DescribeNetworkInterfaces, DescribeRegions, DescribeSecurityGroups, DescribeSubnets,
    DescribeVpcs, Query,
};
use trustline_core::aws::iam::{
    DetailFilter, GenerateCredentialReport, GetAccountAuthorizationDetails, GetCredentialReport,
    ListAccessKeys, Paging,
};
use trustline_core::aws::organizations::{self as orgs, ListAccounts};
use trustline_core::aws::sts::{AssumeRole, GetCallerIdentity};
use trustline_core::aws::{AwsError, AwsErrorKind, HttpResponse, Operation, Page, prepare};
use trustline_core::exec::Executor;
use trustline_core::{Credentials, Endpoints, Secret, Signer};
use trustline_testkit::sim::{ClientShape, Fault, FaultKind, FaultPlan, Rate, Rates, Sim, SimConfig};

type Resources = BTreeSet<(String, String, String)>;

/// Rates no test reaches unless it means to.
fn unthrottled() -> Rates {
    let fast = Rate { per_second: 100_000.0, burst: 100_000 };
    Rates { cloudtrail: fast, ec2: fast, iam: fast, organizations: fast, sts: fast }
}

fn config() -> SimConfig {
    SimConfig { page_cap: 3, rates: unthrottled(), ..SimConfig::default() }
}

/// Sends core's operations to the simulator, signed at `clock_offset` from now.
struct Client {
    exec: Executor,
    endpoint: String,
    clock_offset: i64,
}

impl Client {
    fn new(sim: &Sim) -> Client {
        Client { exec: Executor::new(), endpoint: sim.endpoint(), clock_offset: 0 }
    }

    fn time(&self) -> SystemTime {
        let d = Duration::from_secs(self.clock_offset.unsigned_abs());
        if self.clock_offset >= 0 { SystemTime::now() + d } else { SystemTime::now() - d }
    }

    async fn send<O: Operation>(&self, op: &O, creds: &Credentials, region: &str) -> Option<HttpResponse> {
        let endpoints = Endpoints::new(region.parse().unwrap()).with_override_all(&self.endpoint).unwrap();
        let request = prepare(op, &endpoints, &Signer::new(creds), self.time()).unwrap();
        self.exec.send(&request).await.ok()
    }

    async fn call<O: Operation>(
        &self,
        op: &O,
        creds: &Credentials,
        region: &str,
    ) -> Result<O::Output, AwsError> {
        let response = self.send(op, creds, region).await.expect("a whole response");
        O::parse(&response)
    }

    async fn ok<O: Operation>(&self, op: &O, creds: &Credentials, region: &str) -> O::Output {
        self.call(op, creds, region).await.unwrap_or_else(|e| panic!("{e}"))
    }

    async fn assume(&self, sim: &Sim, base: &Credentials, role_arn: &str) -> Result<Credentials, AwsError> {
        let op = AssumeRole::new(role_arn.parse().unwrap(), "trustline-test")
            .unwrap()
            .external_id(sim.external_id().parse().unwrap());
        self.call(&op, base, "us-east-1").await.map(|r| r.credentials)
    }
}

fn vendor(sim: &Sim) -> Credentials {
    let (key, secret) = sim.vendor_access_key();
    Credentials::new(key, Secret::new(secret), None)
}

async fn member(client: &Client, sim: &Sim, account: &str) -> Credentials {
    client.assume(sim, &vendor(sim), &sim.role_arn(account)).await.unwrap()
}

/// Every page of an EC2 list, checking each page's size against the cap.
async fn ec2_all<O, T>(
    client: &Client,
    creds: &Credentials,
    region: &str,
    make: impl Fn(Query) -> O,
) -> Vec<T>
where
    O: Operation<Output = Page<T>>,
{
    let (mut items, mut token) = (Vec::new(), None);
    loop {
        let page = client.ok(&make(Query::after(token).max_results(5).unwrap()), creds, region).await;
        assert!(page.items.len() <= 3, "pages hold min(MaxResults, page_cap)");
        items.extend(page.items);
        token = page.next_token;
        if token.is_none() {
            return items;
        }
    }
}

/// What the worker's sync stores for one account, read the way it reads it.
async fn sync_account(client: &Client, sim: &Sim, creds: &Credentials) -> (Resources, BTreeSet<String>) {
    let mut out = Resources::new();
    let mut add = |region: &str, kind: &str, id: &str| out.insert((region.into(), kind.into(), id.into()));
    let (mut users, mut marker) = (Vec::new(), None);
    loop {
        let op = GetAccountAuthorizationDetails {
            filter: vec![
                DetailFilter::User,
                DetailFilter::Group,
                DetailFilter::Role,
                DetailFilter::LocalManagedPolicy,
                DetailFilter::AwsManagedPolicy,
            ],
            paging: Paging::after(marker).max_items(4).unwrap(),
        };
        let page = client.ok(&op, creds, "us-east-1").await;
        let n = page.users.len() + page.groups.len() + page.roles.len() + page.policies.len();
        assert!(n <= 3, "a GAAD page of {n}");
        for u in &page.users {
            add("global", "iam-user", &u.user_name);
            users.push(u.user_name.clone());
        }
        page.groups.iter().for_each(|g| _ = add("global", "iam-group", &g.group_name));
        for r in &page.roles {
            add("global", "iam-role", &r.role_name);
            let trust = r.assume_role_policy_document.as_deref().unwrap();
            assert!(trust.starts_with("{\"Version\""), "trust policies arrive URL-encoded: {trust}");
        }
        for p in &page.policies {
            match (p.policy.arn.contains(":iam::aws:policy/"), p.policy.attachment_count) {
                (true, 0) => {}
                (true, _) => _ = add("global", "iam-aws-managed-policy", &p.policy.arn),
                (false, _) => _ = add("global", "iam-policy", &p.policy.arn),
            }
        }
        marker = page.next_token;
        if marker.is_none() {
            break;
        }
    }
    let mut created = Vec::new();
    for user in &users {
        let page = client
            .ok(
                &ListAccessKeys { user_name: Some(user.clone()), paging: Paging::default() },
                creds,
                "us-east-1",
            )
            .await;
        for k in page.items {
            created.push((user.clone(), k.create_date));
            add("global", "iam-access-key", &k.access_key_id);
        }
    }
    assert!(client.ok(&GenerateCredentialReport, creds, "us-east-1").await.is_complete());
    let report = client.ok(&GetCredentialReport, creds, "us-east-1").await;
    assert_eq!(report.rows[0].user, "<root_account>");
    assert_eq!(report.rows.len(), users.len() + 1);
    for (user, made) in created {
        let row = report.rows.iter().find(|r| r.user == user).unwrap();
        assert!(row.access_keys.iter().any(|k| k.last_rotated == Some(made)), "report slots match keys");
    }
    let regions = client.ok(&DescribeRegions::default(), creds, "us-east-1").await;
    assert_eq!(regions.iter().map(|r| r.region_name.clone()).collect::<Vec<_>>(), sim.config().regions);
    let mut events = BTreeSet::new();
    for region in &sim.config().regions {
        let r = region.as_str();
        for i in ec2_all(client, creds, r, |query| DescribeInstances { query }).await {
            add(r, "ec2-instance", &i.instance_id);
        }
        for v in ec2_all(client, creds, r, |query| DescribeVpcs { query }).await {
            add(r, "ec2-vpc", &v.vpc_id);
        }
        for s in ec2_all(client, creds, r, |query| DescribeSubnets { query }).await {
            add(r, "ec2-subnet", &s.subnet_id);
        }
        for g in ec2_all(client, creds, r, |query| DescribeSecurityGroups { query }).await {
            add(r, "ec2-security-group", &g.group_id);
        }
        for n in ec2_all(client, creds, r, |query| DescribeNetworkInterfaces { query }).await {
            add(r, "ec2-network-interface", &n.network_interface_id);
        }
        let end = time::OffsetDateTime::now_utc();
        let start = end - sim.config().event_window - time::Duration::hours(1);
        let (mut token, mut last) = (None, i64::MAX);
        loop {
            let op = LookupEvents::new(Some(start), Some(end)).unwrap().max_results(50).unwrap().after(token);
            let page = client.ok(&op, creds, r).await;
            for e in &page.items {
                let t = e.event_time.unwrap().unix_timestamp();
                assert!(t <= last, "newest first");
                last = t;
                let raw = e.cloudtrail_event.as_deref().unwrap();
                assert!((300..=500).contains(&raw.len()) && raw.contains(&e.event_id));
                assert!(events.insert(e.event_id.clone()), "no event twice");
            }
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
    }
    (out, events)
}

#[tokio::test]
async fn a_complete_sync_reads_exactly_what_expected_says() {
    let sim = Sim::start(config());
    let client = Client::new(&sim);
    for account in [sim.member_accounts()[1].clone(), sim.management_account()] {
        let creds = member(&client, &sim, &account).await;
        let me = client.ok(&GetCallerIdentity, &creds, "us-east-1").await;
        assert_eq!(me.account.to_string(), account);
        assert!(
            me.arn.to_string().ends_with(&format!(":assumed-role/{}/trustline-test", sim.config().role_name))
        );
        let (resources, events) = sync_account(&client, &sim, &creds).await;
        let expected = sim.expected(&account);
        assert_eq!(resources, expected.resources);
        assert_eq!(events, expected.event_ids);
        assert_eq!(events.len(), 120 * 2);
        let kinds: BTreeSet<&str> = resources.iter().map(|(_, k, _)| k.as_str()).collect();
        assert_eq!(kinds.len(), 11, "every kind present: {kinds:?}");
    }
    assert_ne!(sim.expected(&sim.member_accounts()[0]), sim.expected(&sim.member_accounts()[1]));
    let every: Vec<String> = std::iter::once(sim.management_account()).chain(sim.member_accounts()).collect();
    let sizes = every
        .iter()
        .map(|a| sim.expected(a))
        .fold((0, 0), |(r, e), x| (r + x.resources.len() as u64, e + x.event_ids.len() as u64));
    assert_eq!(sim.expected_totals(), sizes);
}

#[tokio::test]
async fn organizations_lists_accounts_ous_and_departures() {
    let sim = Sim::start(SimConfig { accounts: 9, suspended: vec![2], pending_closure: vec![4], ..config() });
    let client = Client::new(&sim);
    let org = client.assume(&sim, &vendor(&sim), &sim.org_role_arn()).await.unwrap();
    let list = |creds: Credentials| {
        let client = &client;
        async move {
            let (mut all, mut token) = (Vec::new(), None);
            loop {
                let page = client
                    .ok(&ListAccounts { paging: orgs::Paging::after(token) }, &creds, "us-east-1")
                    .await;
                assert!(page.items.len() <= 3);
                all.extend(page.items);
                token = page.next_token;
                if token.is_none() {
                    return all;
                }
            }
        }
    };
    let accounts = list(org.clone()).await;
    assert_eq!(accounts.len(), 10, "the management account is listed too");
    let status =
        |i: usize| accounts.iter().find(|a| a.id == sim.member_accounts()[i]).unwrap().status.clone();
    assert_eq!(status(2).as_deref(), Some("SUSPENDED"));
    assert_eq!(status(4).as_deref(), Some("PENDING_CLOSURE"));
    assert_eq!(status(0).as_deref(), Some("ACTIVE"));
    // The OU tree holds every account exactly once.
    let mut seen = BTreeSet::new();
    let mut queue = vec![sim.root_id()];
    while let Some(parent) = queue.pop() {
        let op = orgs::ListAccountsForParent::new(&parent).unwrap();
        for a in client.ok(&op, &org, "us-east-1").await.items {
            assert_eq!(sim.parent_of(&a.id).as_deref(), Some(parent.as_str()));
            assert!(seen.insert(a.id));
        }
        let op = orgs::ListOrganizationalUnitsForParent::new(&parent).unwrap();
        queue.extend(client.ok(&op, &org, "us-east-1").await.items.into_iter().map(|o| o.id));
    }
    assert_eq!(seen.len(), 10);
    assert_eq!(sim.organizational_units().len(), 4);
    // ListRoots has no parser in core: read its JSON as is.
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={}/20240101/us-east-1/organizations/aws4_request, SignedHeaders=host, Signature=0",
        org.access_key_id()
    );
    let roots = trustline_testkit::http::exchange(
        "POST",
        &format!("{}/", sim.endpoint()),
        [
            ("authorization", auth.as_str()),
            ("x-amz-target", "AWSOrganizationsV20161128.ListRoots"),
            ("content-type", "application/x-amz-json-1.1"),
        ],
        b"{}",
    )
    .unwrap();
    let roots: serde_json::Value = serde_json::from_slice(&roots.body).unwrap();
    assert_eq!(roots["Roots"][0]["Id"].as_str(), Some(sim.root_id().as_str()));
    // Suspended accounts cannot be entered; one that leaves disappears and loses its role.
    let denied =
        client.assume(&sim, &vendor(&sim), &sim.role_arn(&sim.member_accounts()[2])).await.unwrap_err();
    assert_eq!(denied.kind(), AwsErrorKind::AccessDenied);
    let leaving = sim.member_accounts()[5].clone();
    let creds = member(&client, &sim, &leaving).await;
    sim.remove_account(&leaving);
    assert!(!list(org.clone()).await.iter().any(|a| a.id == leaving));
    assert!(client.assume(&sim, &vendor(&sim), &sim.role_arn(&leaving)).await.is_err());
    assert!(client.call(&GetCallerIdentity, &creds, "us-east-1").await.is_ok(), "sessions outlive it");
    // Only the management account's roles read Organizations.
    let err = client.call(&ListAccounts::default(), &creds, "us-east-1").await.unwrap_err();
    assert_eq!((err.kind(), err.code()), (AwsErrorKind::AccessDenied, Some("AccessDeniedException")));
    let err = client.call(&DescribeVpcs::default(), &org, "us-east-1").await.unwrap_err();
    assert_eq!(err.code(), Some("UnauthorizedOperation"), "the discovery role reads Organizations only");
}

#[tokio::test]
async fn trust_requires_the_vendor_and_its_external_id_and_allows_chaining() {
    let sim = Sim::start(config());
    let client = Client::new(&sim);
    let target = sim.role_arn(&sim.member_accounts()[0]);
    let op = |external: Option<&str>| {
        let op = AssumeRole::new(target.parse().unwrap(), "s1").unwrap();
        match external {
            Some(e) => op.external_id(e.parse().unwrap()),
            None => op,
        }
    };
    for wrong in [None, Some("not-the-one")] {
        let err = client.call(&op(wrong), &vendor(&sim), "us-east-1").await.unwrap_err();
        assert_eq!((err.status(), err.code()), (403, Some("AccessDenied")), "{wrong:?}");
        assert!(err.message().unwrap().contains(&target));
    }
    let unknown = Credentials::new("AKIAUNKNOWN000000000", Secret::new("x"), None);
    let err = client.call(&op(Some(&sim.external_id())), &unknown, "us-east-1").await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidClientTokenId"));
    // Chaining: the vendor's own role first, then the customer's.
    let vendor_role = client
        .ok(
            &AssumeRole::new(sim.vendor_role_arn().parse().unwrap(), "hop").unwrap(),
            &vendor(&sim),
            "us-east-1",
        )
        .await;
    let chained = client.ok(&op(Some(&sim.external_id())), &vendor_role.credentials, "us-east-1").await;
    assert!(chained.credentials.access_key_id().starts_with(&format!("ASIA{}", sim.member_accounts()[0])));
    let long = op(Some(&sim.external_id())).duration_seconds(7200).unwrap();
    let err = client.call(&long, &vendor_role.credentials, "us-east-1").await.unwrap_err();
    assert!(err.message().unwrap().contains("role chaining"), "{err}");
    // A customer's session cannot hop into another customer's role.
    let err =
        client.call(&op(Some(&sim.external_id())), &chained.credentials, "us-east-1").await.unwrap_err();
    assert_eq!(err.kind(), AwsErrorKind::AccessDenied);
    // Nor use IAM as the vendor.
    let err = client.call(&ListAccessKeys::default(), &vendor(&sim), "us-east-1").await.unwrap_err();
    assert_eq!(err.kind(), AwsErrorKind::AccessDenied);
}

#[tokio::test]
async fn sessions_expire_when_they_say_and_answer_in_each_services_shape() {
    let sim = Sim::start(SimConfig { session_lifetime: Duration::from_secs(1), ..config() });
    let client = Client::new(&sim);
    let account = sim.member_accounts()[0].clone();
    let op = AssumeRole::new(sim.role_arn(&account).parse().unwrap(), "short")
        .unwrap()
        .external_id(sim.external_id().parse().unwrap());
    let before = time::OffsetDateTime::now_utc();
    let session = client.ok(&op, &vendor(&sim), "us-east-1").await;
    let announced = session.expiration - before;
    assert!(
        announced <= time::Duration::milliseconds(1100) && announced > time::Duration::ZERO,
        "{announced}"
    );
    let creds = session.credentials;
    client.ok(&DescribeVpcs::default(), &creds, "eu-west-1").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let iam = client.call(&ListAccessKeys::default(), &creds, "us-east-1").await.unwrap_err();
    let ec2 = client.call(&DescribeVpcs::default(), &creds, "eu-west-1").await.unwrap_err();
    let trail = client.call(&LookupEvents::new(None, None).unwrap(), &creds, "eu-west-1").await.unwrap_err();
    assert_eq!(iam.code(), Some("ExpiredToken"));
    assert_eq!(ec2.code(), Some("RequestExpired"));
    assert_eq!(trail.code(), Some("ExpiredTokenException"));
    assert!([iam, ec2, trail].iter().all(|e| e.kind() == AwsErrorKind::ExpiredCredentials));
    let stats = sim.stats();
    assert_eq!((stats.sessions_issued, stats.expired_token_answers), (1, 3));
}

#[tokio::test]
async fn buckets_throttle_bursts_in_aws_shapes_and_let_paced_calls_through() {
    // Slow refills, so that a loaded machine's slower calls still come as a burst.
    let rates = Rates {
        cloudtrail: Rate { per_second: 2.0, burst: 2 },
        ec2: Rate { per_second: 1.0, burst: 4 },
        iam: Rate { per_second: 1.0, burst: 3 },
        organizations: Rate { per_second: 1.0, burst: 2 },
        sts: Rate { per_second: 600.0, burst: 600 },
    };
    let sim = Sim::start(SimConfig { rates, ..config() });
    let client = Client::new(&sim);
    let creds = member(&client, &sim, &sim.management_account()).await;
    let burst = |n: usize, op| {
        let (client, creds) = (&client, &creds);
        async move {
            let mut errors = Vec::new();
            for _ in 0..n {
                if let Err(e) = client.call(&op, creds, "us-east-1").await {
                    errors.push(e);
                }
            }
            errors
        }
    };
    let trail = burst(3, LookupEvents::new(None, None).unwrap()).await;
    assert_eq!(trail.len(), 1);
    assert_eq!((trail[0].status(), trail[0].code()), (400, Some("ThrottlingException")));
    let ec2 = {
        let mut errors = Vec::new();
        for _ in 0..5 {
            errors.extend(client.call(&DescribeVpcs::default(), &creds, "us-east-1").await.err());
        }
        errors
    };
    assert_eq!(ec2.len(), 1);
    assert_eq!((ec2[0].status(), ec2[0].code()), (503, Some("RequestLimitExceeded")));
    let mut iam = Vec::new();
    for _ in 0..4 {
        iam.extend(client.call(&GenerateCredentialReport, &creds, "us-east-1").await.err());
    }
    assert_eq!(iam.len(), 1);
    assert_eq!((iam[0].status(), iam[0].code()), (400, Some("Throttling")));
    let mut org = Vec::new();
    for _ in 0..3 {
        org.extend(client.call(&ListAccounts::default(), &creds, "us-east-1").await.err());
    }
    assert_eq!(org[0].code(), Some("TooManyRequestsException"));
    assert!([&trail[0], &ec2[0], &iam[0], &org[0]].iter().all(|e| e.kind() == AwsErrorKind::Throttled));
    // Other regions have buckets of their own; paced calls never hit the limit.
    assert!(client.call(&LookupEvents::new(None, None).unwrap(), &creds, "eu-west-1").await.is_ok());
    tokio::time::sleep(Duration::from_millis(1000)).await;
    for _ in 0..4 {
        client.ok(&LookupEvents::new(None, None).unwrap(), &creds, "us-east-1").await;
        tokio::time::sleep(Duration::from_millis(550)).await;
    }
    let stats = sim.stats();
    assert_eq!(stats.throttled_by_bucket_total(), 4);
    assert_eq!(stats.throttled_by_bucket.get("LookupEvents"), Some(&1));
    assert_eq!(stats.throttled_by_fault, 0);
}

/// Reads every VPC page, retrying what fails (with a new session when the old one expired);
/// returns the VPC IDs and what each failed attempt saw.
async fn vpcs_with_retries(
    client: &Client,
    creds: &mut Credentials,
    sim: &Sim,
    max_errors: usize,
) -> (Vec<String>, Vec<String>) {
    let (mut ids, mut failures, mut token) = (Vec::new(), Vec::new(), None);
    loop {
        let op = DescribeVpcs { query: Query::after(token.clone()).max_results(5).unwrap() };
        let outcome = match client.send(&op, creds, "us-east-1").await {
            None => Err(("no response".to_owned(), false)),
            Some(r) => DescribeVpcs::parse(&r).map_err(|e| {
                (
                    format!("{:?}/{}", e.kind(), e.code().unwrap_or("-")),
                    e.kind() == AwsErrorKind::ExpiredCredentials,
                )
            }),
        };
        match outcome {
            Ok(page) => {
                ids.extend(page.items.into_iter().map(|v| v.vpc_id));
                token = page.next_token;
                if token.is_none() {
                    return (ids, failures);
                }
            }
            Err((seen, expired)) => {
                if expired {
                    *creds = member(client, sim, &sim.member_accounts()[0]).await;
                }
                failures.push(seen);
                assert!(failures.len() <= max_errors, "{failures:?}");
            }
        }
    }
}

/// Which of 30 calls a 30 % `http503` plan lets through, for `seed`.
async fn draws(seed: u64) -> Vec<bool> {
    let sim = Sim::start(SimConfig { seed, ..config() });
    sim.set_faults(FaultPlan {
        faults: vec![Fault { kind: FaultKind::Http503, probability: 0.3, every_nth: 0, apis: vec![] }],
        ..FaultPlan::default()
    });
    let client = Client::new(&sim);
    let mut pattern = Vec::new();
    for _ in 0..30 {
        pattern.push(client.call(&GetCallerIdentity, &vendor(&sim), "us-east-1").await.is_ok());
    }
    pattern
}

#[tokio::test]
async fn every_fault_is_injected_and_retries_get_the_same_pages() {
    let sim = Sim::start(SimConfig { vpcs: 11, ..config() });
    let client = Client::new(&sim);
    let account = sim.member_accounts()[0].clone();
    let mut creds = member(&client, &sim, &account).await;
    let (clean, none) = vpcs_with_retries(&client, &mut creds, &sim, 0).await;
    assert!(none.is_empty() && clean.len() == 11);
    let cases = [
        (FaultKind::Throttle, "Throttled/RequestLimitExceeded"),
        (FaultKind::Http500, "ServerError/InternalError"),
        (FaultKind::Http503, "ServerError/Unavailable"),
        (FaultKind::Drop, "no response"),
        (FaultKind::Truncate, "no response"),
        (FaultKind::ExpiredToken, "ExpiredCredentials/RequestExpired"),
    ];
    for (kind, seen) in cases {
        sim.set_faults(FaultPlan::every(kind, 2, &["DescribeVpcs"]));
        let (ids, failures) = vpcs_with_retries(&client, &mut creds, &sim, 8).await;
        assert_eq!(ids, clean, "{kind:?}: the same pages in the same order");
        assert!(!failures.is_empty() && failures.iter().all(|f| f == seen), "{kind:?}: {failures:?}");
        assert!(sim.stats().faults_of(kind.as_str()) > 0);
    }
    sim.set_faults(FaultPlan {
        slow_delay: Duration::from_millis(300),
        ..FaultPlan::every(FaultKind::Slow, 1, &["ec2"])
    });
    let t = Instant::now();
    client.ok(&DescribeVpcs::default(), &creds, "us-east-1").await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    // Faults limited to one API leave the others alone.
    sim.set_faults(FaultPlan::every(FaultKind::Http500, 1, &["LookupEvents"]));
    client.ok(&DescribeVpcs::default(), &creds, "us-east-1").await;
    assert!(client.call(&LookupEvents::new(None, None).unwrap(), &creds, "us-east-1").await.is_err());
    // A probability draws the same requests for the same seed.
    let a = draws(5).await;
    assert_eq!(a, draws(5).await);
    assert!(a.iter().any(|ok| *ok) && a.iter().any(|ok| !*ok));
}

#[tokio::test]
async fn a_skewed_clock_is_refused_in_each_services_shape_with_its_date() {
    let sim = Sim::start(SimConfig { clock_skew_seconds: 600, ..config() });
    let mut client = Client::new(&sim);
    // STS itself checks the clock: the vendor's first call says how far off it is.
    let err = client.call(&GetCallerIdentity, &vendor(&sim), "us-east-1").await.unwrap_err();
    assert_eq!((err.status(), err.code()), (403, Some("SignatureDoesNotMatch")));
    assert!(err.message().unwrap().starts_with("Signature expired: "));
    assert_eq!(err.kind(), AwsErrorKind::ClockSkew);
    let skew = err.clock_skew(SystemTime::now()).unwrap().whole_seconds();
    assert!((598..=601).contains(&skew), "{skew}");
    client.clock_offset = skew;
    let creds = member(&client, &sim, &sim.member_accounts()[0]).await;
    client.clock_offset = 0;
    let err = client.call(&LookupEvents::new(None, None).unwrap(), &creds, "us-east-1").await.unwrap_err();
    assert_eq!((err.code(), err.kind()), (Some("InvalidSignatureException"), AwsErrorKind::ClockSkew));
    // EC2 allows 15 minutes and then says RequestExpired (its documented code for this).
    assert!(
        client.call(&DescribeVpcs::default(), &creds, "us-east-1").await.is_ok(),
        "600 s is within EC2's 15 min"
    );
    sim.set_faults(FaultPlan { clock_skew_seconds: Some(1200), ..FaultPlan::default() });
    let err = client.call(&DescribeVpcs::default(), &creds, "us-east-1").await.unwrap_err();
    assert_eq!(err.code(), Some("RequestExpired"));
    // A clock running behind: the request is "not yet current".
    sim.set_faults(FaultPlan { clock_skew_seconds: Some(-600), ..FaultPlan::default() });
    let err = client.call(&GetCallerIdentity, &vendor(&sim), "us-east-1").await.unwrap_err();
    assert!(err.message().unwrap().starts_with("Signature not yet current: "), "{err}");
    sim.set_faults(FaultPlan { clock_skew_seconds: Some(0), ..FaultPlan::default() });
    client.ok(&GetCallerIdentity, &vendor(&sim), "us-east-1").await;
    assert_eq!(sim.stats().faults_of("clock_skew"), 4);
}

#[tokio::test]
async fn revoked_actions_are_denied_in_each_services_shape() {
    let sim = Sim::start(config());
    let client = Client::new(&sim);
    let (a, b) = (sim.member_accounts()[0].clone(), sim.member_accounts()[1].clone());
    let creds = member(&client, &sim, &a).await;
    sim.revoke(&a, "cloudtrail:LookupEvents");
    sim.revoke(&a, "ec2:DescribeInstances");
    sim.revoke(&a, "iam:GetAccountAuthorizationDetails");
    let trail = client.call(&LookupEvents::new(None, None).unwrap(), &creds, "us-east-1").await.unwrap_err();
    let ec2 = client.call(&DescribeInstances::default(), &creds, "us-east-1").await.unwrap_err();
    let iam = client.call(&GetAccountAuthorizationDetails::default(), &creds, "us-east-1").await.unwrap_err();
    assert_eq!(trail.code(), Some("AccessDeniedException"));
    assert_eq!((ec2.status(), ec2.code()), (403, Some("UnauthorizedOperation")));
    assert_eq!((iam.status(), iam.code()), (403, Some("AccessDenied")));
    assert!([trail, ec2, iam].iter().all(|e| e.kind() == AwsErrorKind::AccessDenied));
    client.ok(&DescribeVpcs::default(), &creds, "us-east-1").await;
    let other = member(&client, &sim, &b).await;
    client.ok(&DescribeInstances::default(), &other, "us-east-1").await;
    sim.revoke(&b, "sts:AssumeRole");
    assert!(client.assume(&sim, &vendor(&sim), &sim.role_arn(&b)).await.is_err());
    assert_eq!(sim.stats().access_denied, 4);
}

#[tokio::test]
async fn garbage_tokens_and_parameters_are_refused() {
    let sim = Sim::start(config());
    let client = Client::new(&sim);
    let creds = member(&client, &sim, &sim.member_accounts()[0]).await;
    for token in ["garbage", "3", "00000000000000000000000a"] {
        let op = LookupEvents::new(None, None).unwrap().after(Some(token.into()));
        let err = client.call(&op, &creds, "us-east-1").await.unwrap_err();
        assert_eq!((err.code(), err.kind()), (Some("InvalidNextTokenException"), AwsErrorKind::InvalidInput));
        let err = client
            .call(&DescribeVpcs { query: Query::after(Some(token.into())) }, &creds, "us-east-1")
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("InvalidPaginationToken"));
        let op = GetAccountAuthorizationDetails { filter: vec![], paging: Paging::after(Some(token.into())) };
        assert_eq!(client.call(&op, &creds, "us-east-1").await.unwrap_err().code(), Some("ValidationError"));
    }
    // A token belongs to its query: another window refuses it.
    let first =
        client.ok(&LookupEvents::new(None, None).unwrap().max_results(5).unwrap(), &creds, "us-east-1").await;
    let moved =
        LookupEvents::new(Some(time::OffsetDateTime::UNIX_EPOCH), None).unwrap().after(first.next_token);
    assert!(client.call(&moved, &creds, "us-east-1").await.is_err());
    let err = client.call(&DescribeVpcs::default(), &creds, "ap-south-2").await.unwrap_err();
    assert_eq!(err.code(), Some("AuthFailure"), "regions outside the configured ones are not enabled");
    let listed = client.ok(&DescribeRegions::default(), &creds, "ap-south-2").await;
    assert_eq!(listed.len(), 2, "any region's endpoint lists the enabled ones");
}

#[tokio::test]
async fn a_paced_reader_finishes_near_the_throttle_bound() {
    let cfg = SimConfig {
        accounts: 1,
        regions: vec!["us-east-1".into()],
        events: 600,
        latency: Duration::from_millis(10),
        rates: Rates { cloudtrail: Rate { per_second: 20.0, burst: 2 }, ..unthrottled() },
        ..config()
    };
    let sim = Sim::start(SimConfig { page_cap: 100, ..cfg });
    let client = Client::new(&sim);
    let creds = member(&client, &sim, &sim.member_accounts()[0]).await;
    // 12 pages of 50 through 20/s after a burst of 2: (12 - 2) / 20 + 0.01 = 0.51 s.
    let t = Instant::now();
    let (mut token, mut pages) = (None, 0);
    loop {
        let op = LookupEvents::new(None, None).unwrap().max_results(50).unwrap().after(token.clone());
        match client.call(&op, &creds, "us-east-1").await {
            Ok(page) => {
                pages += 1;
                token = page.next_token;
                if token.is_none() {
                    break;
                }
            }
            Err(e) if e.kind() == AwsErrorKind::Throttled => {
                tokio::time::sleep(Duration::from_millis(5)).await
            }
            Err(e) => panic!("{e}"),
        }
    }
    let elapsed = t.elapsed().as_secs_f64();
    assert_eq!(pages, 12);
    let one_account = ClientShape { organization: false, credential_report: false, ..ClientShape::default() };
    let bound = sim.throttle_bound(&one_account).as_secs_f64();
    // The bound holds the AssumeRole and GetCallerIdentity latencies and the IAM pipeline too.
    assert!(bound > 0.529 && bound < 0.531, "{bound}");
    assert!((0.50..0.51 + 0.4).contains(&elapsed), "{elapsed} s for a 0.51 s pipeline");
}

/// Starts `aws-sim` (as `command`) with `config`; returns it, its stdout and its start line.
fn start_binary(
    mut command: std::process::Command,
    config: &std::path::Path,
) -> (std::process::Child, std::io::BufReader<std::process::ChildStdout>, serde_json::Value) {
    use std::io::BufRead;
    let mut child = command
        .arg("--config")
        .arg(config)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let started = serde_json::from_str(&line).unwrap();
    (child, out, started)
}

#[test]
fn the_binary_prints_its_endpoint_and_final_stats() {
    use std::io::{BufRead, Write};
    let dir = std::env::temp_dir().join(format!("aws-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("sim.toml");
    std::fs::write(&config, "accounts = 4\nlatency = \"5ms\"\n[rates.iam]\nper_second = 50\nburst = 5\n")
        .unwrap();
    let (mut child, mut out, started) =
        start_binary(std::process::Command::new(env!("CARGO_BIN_EXE_aws-sim")), &config);
    let mut line = String::new();
    assert_eq!(started["member_accounts"].as_array().unwrap().len(), 4);
    assert!(started["throttle_bound_seconds"].as_f64().unwrap() > 0.0);
    let endpoint = started["endpoint"].as_str().unwrap();
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={}/20240101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0",
        started["vendor_access_key_id"].as_str().unwrap()
    );
    let response = trustline_testkit::http::exchange(
        "POST",
        &format!("{endpoint}/"),
        [("authorization", auth.as_str()), ("content-type", "application/x-www-form-urlencoded")],
        b"Action=GetCallerIdentity&Version=2011-06-15",
    )
    .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(response.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("date")));
    child.stdin.take().unwrap().write_all(b"").unwrap();
    line.clear();
    out.read_line(&mut line).unwrap();
    let stats: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(stats["stats"]["requests_per_api"]["GetCallerIdentity"], 1);
    assert!(child.wait().unwrap().success());
    std::fs::remove_dir_all(dir).ok();
}

/// The simulator's capacity, measured: runs `aws-sim` (pinned to CPU `SIM_CPU`, default 0, when
/// `taskset` exists) with one runtime thread and the benchmark's per-account sizes, replays one
/// account's sync mix (GAAD pages, 150 ListAccessKeys, the report, 5 EC2 lists × 4 regions,
/// 40 LookupEvents pages × 4 regions) from `CONCURRENCY` connections for `SECONDS`, and prints
/// requests per second and per CPU-second of the simulator. `LATENCY_MS` sets the simulator's
/// latency, `SIM_WORKERS` its threads, `DECK=keys` replays small answers only.
///
///     taskset -c 1 cargo test --release -p trustline-testkit --test sim -- --ignored --nocapture capacity
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
#[ignore = "a measurement, not a test: run it with --ignored"]
#[allow(clippy::print_stdout)]
async fn capacity() {
    use std::io::{BufRead, Write};
    let env =
        |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (seconds, concurrency) = (env("SECONDS", 10), env("CONCURRENCY", 64) as usize);
    let regions = ["us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2"];
    let fast = Rate { per_second: 1e9, burst: 1_000_000_000 };
    let config = serde_json::json!({
        "accounts": 10, "regions": regions, "users": 150, "roles": 100, "groups": 20, "local_policies": 25,
        "aws_managed_policies": 5, "instances": 40, "vpcs": 4, "subnets": 16, "security_groups": 20,
        "interfaces": 40, "events": 2000, "event_window": "6d", "workers": env("SIM_WORKERS", 1),
        "latency": format!("{}ms", env("LATENCY_MS", 0)),
        "rates": { "cloudtrail": fast, "ec2": fast, "iam": fast, "organizations": fast, "sts": fast },
    });
    let dir = std::env::temp_dir().join(format!("aws-sim-capacity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("sim.json"), config.to_string()).unwrap();
    let bin = env!("CARGO_BIN_EXE_aws-sim");
    let pinned = std::process::Command::new("taskset").arg("-V").output().is_ok();
    let command = if pinned {
        let mut c = std::process::Command::new("taskset");
        c.args(["-c", &env("SIM_CPU", 0).to_string(), bin]);
        c
    } else {
        std::process::Command::new(bin)
    };
    let (mut child, mut out, started) = start_binary(command, &dir.join("sim.json"));
    let mut line = String::new();
    let client = Client {
        exec: Executor::new(),
        endpoint: started["endpoint"].as_str().unwrap().into(),
        clock_offset: 0,
    };
    let vendor = Credentials::new(
        started["vendor_access_key_id"].as_str().unwrap(),
        Secret::new(started["vendor_secret_access_key"].as_str().unwrap()),
        None,
    );
    let account = started["member_accounts"][0].as_str().unwrap();
    let op = AssumeRole::new(
        format!("arn:aws:iam::{account}:role/TrustlineReadOnly").parse().unwrap(),
        "capacity",
    )
    .unwrap()
    .external_id(started["external_id"].as_str().unwrap().parse().unwrap());
    let creds = client.ok(&op, &vendor, "us-east-1").await.credentials;

    // One account's sync, as signed requests to replay.
    let sign = |op: &dyn Fn(&Endpoints, &Signer) -> trustline_core::aws::HttpRequest, region: &str| {
        let endpoints = Endpoints::new(region.parse().unwrap()).with_override_all(&client.endpoint).unwrap();
        op(&endpoints, &Signer::new(&creds))
    };
    let now = SystemTime::now();
    let mut deck = Vec::new();
    let mut marker = None;
    loop {
        let op = GetAccountAuthorizationDetails { filter: vec![], paging: Paging::after(marker) };
        deck.push(sign(&|e, s| prepare(&op, e, s, now).unwrap(), "us-east-1"));
        marker = client.ok(&op, &creds, "us-east-1").await.next_token;
        if marker.is_none() {
            break;
        }
    }
    for i in 0..150 {
        let op = ListAccessKeys { user_name: Some(format!("user-{i:05}")), paging: Paging::default() };
        deck.push(sign(&|e, s| prepare(&op, e, s, now).unwrap(), "us-east-1"));
    }
    deck.push(sign(&|e, s| prepare(&GenerateCredentialReport, e, s, now).unwrap(), "us-east-1"));
    deck.push(sign(&|e, s| prepare(&GetCredentialReport, e, s, now).unwrap(), "us-east-1"));
    deck.push(sign(&|e, s| prepare(&GetCallerIdentity, e, s, now).unwrap(), "us-east-1"));
    for region in regions {
        let q = || Query::after(None).max_results(1000).unwrap();
        deck.push(sign(&|e, s| prepare(&DescribeInstances { query: q() }, e, s, now).unwrap(), region));
        deck.push(sign(&|e, s| prepare(&DescribeVpcs { query: q() }, e, s, now).unwrap(), region));
        deck.push(sign(&|e, s| prepare(&DescribeSubnets { query: q() }, e, s, now).unwrap(), region));
        deck.push(sign(&|e, s| prepare(&DescribeSecurityGroups { query: q() }, e, s, now).unwrap(), region));
        deck.push(sign(
            &|e, s| prepare(&DescribeNetworkInterfaces { query: q() }, e, s, now).unwrap(),
            region,
        ));
        let end = time::OffsetDateTime::now_utc();
        let start = end - time::Duration::days(7);
        let mut token = None;
        loop {
            let op = LookupEvents::new(Some(start), Some(end)).unwrap().max_results(50).unwrap().after(token);
            deck.push(sign(&|e, s| prepare(&op, e, s, now).unwrap(), region));
            token = client.ok(&op, &creds, region).await.next_token;
            if token.is_none() {
                break;
            }
        }
    }
    // DECK=keys replays only ListAccessKeys (small answers: the per-request overhead).
    if std::env::var("DECK").as_deref() == Ok("keys") {
        deck.retain(|r| String::from_utf8_lossy(r.body()).contains("Action=ListAccessKeys"));
    }
    let deck = std::sync::Arc::new(deck);
    let pid = child.id();
    let cpu = || {
        // utime and stime, the 14th and 15th fields (the 12th and 13th after the command name).
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
        (fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()) as f64 / 100.0
    };
    let cpu_before = cpu();
    let stop = Instant::now() + Duration::from_secs(seconds);
    let t = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|k| {
            let (deck, exec) = (deck.clone(), client.exec.clone());
            tokio::spawn(async move {
                let (mut n, mut bytes, mut errors) = (0u64, 0u64, 0u64);
                let mut i = k * 7;
                while Instant::now() < stop {
                    match exec.send(&deck[i % deck.len()]).await {
                        Ok(r) if r.is_success() => bytes += r.body().len() as u64,
                        _ => errors += 1,
                    }
                    n += 1;
                    i += 1;
                }
                (n, bytes, errors)
            })
        })
        .collect();
    let (mut n, mut bytes, mut errors) = (0, 0, 0);
    for task in tasks {
        let (a, b, c) = task.await.unwrap();
        (n, bytes, errors) = (n + a, bytes + b, errors + c);
    }
    let (elapsed, sim_cpu) = (t.elapsed().as_secs_f64(), cpu() - cpu_before);
    child.stdin.take().unwrap().write_all(b"").unwrap();
    line.clear();
    out.read_line(&mut line).unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(dir).ok();
    println!(
        "aws-sim capacity{}: {n} requests ({} per account sync) in {elapsed:.1} s from {concurrency} connections = {:.0}/s; \
         simulator CPU {sim_cpu:.1} s = {:.0} requests per CPU-second; {:.0} MB/s of answers; {errors} errors",
        if pinned { " (pinned to one CPU)" } else { "" },
        deck.len(),
        n as f64 / elapsed,
        n as f64 / sim_cpu,
        bytes as f64 / elapsed / 1e6
    );
    assert_eq!(errors, 0);
}
