//! Parse + store on one core (target: at least 50,000 resources per second on one core).
//!
//! AWS's answers for ACCOUNTS accounts (default 10) of the organization simulator are fetched
//! once, untimed: each account's GetAccountAuthorizationDetails pages (~300 principals and
//! policies), ListAccessKeys of each of its 150 users, and in each of 4 regions the five EC2 and
//! network lists (~120 objects) and 2,000 CloudTrail events (40 LookupEvents pages). Then, timed on
//! this one thread, every answer is parsed by core's parsers, turned into inventory by the sync's
//! own conversions, and written to a fresh store through the sync's writer, with the writes
//! batched as a sync batches them. Prints items per second against the target, and the same for
//! resources and events alone.
//!
//!     cargo bench -p trustline-worker --bench ingest
//!     ACCOUNTS=20 cargo bench -p trustline-worker --bench ingest

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

use trustline_core::aws::cloudtrail::LookupEvents;
use trustline_core::aws::ec2::{
    DescribeInstances, DescribeNetworkInterfaces, DescribeSecurityGroups, DescribeSubnets, DescribeVpcs,
    Query,
};
use trustline_core::aws::iam::{GetAccountAuthorizationDetails, ListAccessKeys, Paging};
use trustline_core::aws::{HttpResponse, Operation, Page, prepare, sts};
use trustline_core::exec::Executor;
use trustline_core::{Credentials, Endpoints, ExternalId, Region, RoleArn, Signer};
use trustline_testkit::sim::{Rate, Rates, Sim, SimConfig};
use trustline_worker::resource::{EventPage, ResourceKind, Snapshot};
use trustline_worker::store::{Store, Write};
use trustline_worker::sync::convert;

const REGIONS: [&str; 4] = ["us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2"];

/// One account's answers, as AWS sent them.
#[derive(Default)]
struct Answers {
    details: Vec<HttpResponse>,
    keys: Vec<(String, HttpResponse)>,
    /// Per region: the five EC2 lists' pages, then the LookupEvents pages.
    regions: Vec<(String, [Vec<HttpResponse>; 5], Vec<HttpResponse>)>,
}

struct Fetcher {
    exec: Executor,
    credentials: Credentials,
    endpoint: String,
}

impl Fetcher {
    async fn send<O: Operation>(&self, op: &O, region: &str) -> (HttpResponse, O::Output) {
        let endpoints = Endpoints::new(region.parse::<Region>().expect("region"))
            .with_override_all(&self.endpoint)
            .expect("endpoint");
        let request =
            prepare(op, &endpoints, &Signer::new(&self.credentials), SystemTime::now()).expect("request");
        let response = self.exec.send(&request).await.expect("the simulator answers");
        let parsed = O::parse(&response).unwrap_or_else(|e| panic!("{e}"));
        (response, parsed)
    }

    async fn pages<O: Operation<Output = Page<T>>, T>(
        &self,
        region: &str,
        op: impl Fn(Option<String>) -> O,
    ) -> Vec<HttpResponse> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let (response, page) = self.send(&op(token), region).await;
            out.push(response);
            token = page.next_token;
            if token.is_none() {
                return out;
            }
        }
    }
}

async fn fetch(sim: &Sim, account: &str) -> Answers {
    let (key, secret) = sim.vendor_access_key();
    let endpoint = sim.endpoint();
    let vendor = Fetcher {
        exec: Executor::new(),
        credentials: Credentials::new(key, secret, None),
        endpoint: endpoint.clone(),
    };
    let role: RoleArn = sim.role_arn(account).parse().expect("role ARN");
    let external: ExternalId = sim.external_id().parse().expect("external id");
    let op = sts::AssumeRole::new(role, "ingest-bench").expect("op").external_id(external);
    let (_, assumed) = vendor.send(&op, "us-east-1").await;
    let me = Fetcher { exec: Executor::new(), credentials: assumed.credentials, endpoint };

    let mut answers = Answers::default();
    let mut marker = None;
    loop {
        let (response, page) = me.send(&convert::iam_details_request(marker), "us-east-1").await;
        answers.details.push(response);
        for user in &page.users {
            let op = ListAccessKeys { user_name: Some(user.user_name.clone()), paging: Paging::after(None) };
            let (response, _) = me.send(&op, "us-east-1").await;
            answers.keys.push((user.user_name.clone(), response));
        }
        marker = page.next_token;
        if marker.is_none() {
            break;
        }
    }
    for region in REGIONS {
        let q = |t| Query::after(t).max_results(1000).expect("query");
        let ec2 = [
            me.pages(region, |t| DescribeInstances { query: q(t) }).await,
            me.pages(region, |t| DescribeVpcs { query: q(t) }).await,
            me.pages(region, |t| DescribeSubnets { query: q(t) }).await,
            me.pages(region, |t| DescribeSecurityGroups { query: q(t) }).await,
            me.pages(region, |t| DescribeNetworkInterfaces { query: q(t) }).await,
        ];
        let end = time::OffsetDateTime::now_utc();
        let start = end - time::Duration::days(7);
        let events = me
            .pages(region, |t| {
                LookupEvents::new(Some(start), Some(end))
                    .and_then(|o| o.max_results(50))
                    .map(|o| o.after(t))
                    .expect("op")
            })
            .await;
        answers.regions.push((region.to_owned(), ec2, events));
    }
    answers
}

fn parse<O: Operation>(response: &HttpResponse) -> O::Output {
    O::parse(response).unwrap_or_else(|e| panic!("{e}"))
}

/// Time spent in the store's writer.
static WRITING: std::sync::Mutex<Duration> = std::sync::Mutex::new(Duration::ZERO);

fn write(writer: &mut trustline_worker::store::Writer, batch: Vec<Write>) {
    let t = Instant::now();
    writer.apply(batch).expect("write");
    *WRITING.lock().unwrap_or_else(|e| e.into_inner()) += t.elapsed();
}

/// Parses, converts and writes one account's answers; returns (resources, events) written.
fn ingest(writer: &mut trustline_worker::store::Writer, connection: &str, a: &Answers) -> (u64, u64) {
    let part = |snapshot: Snapshot| Write::Part {
        connection: connection.to_owned(),
        scope: snapshot.complete.clone(),
        snapshot,
    };
    let (mut resources, mut events) = (0, 0);
    let mut details = trustline_core::aws::iam::AuthorizationDetails::default();
    for r in &a.details {
        let page = parse::<GetAccountAuthorizationDetails>(r);
        details.users.extend(page.users);
        details.groups.extend(page.groups);
        details.roles.extend(page.roles);
        details.policies.extend(page.policies);
    }
    let iam = convert::iam_details(&details);
    let mut keys = Vec::new();
    for (user, r) in &a.keys {
        keys.extend(parse::<ListAccessKeys>(r).items.iter().map(|k| convert::iam_access_key(user, k)));
    }
    let mut key_part = Snapshot::default();
    key_part.add_complete("global", ResourceKind::IamAccessKey, keys);
    resources += (iam.resources.len() + key_part.resources.len()) as u64;
    write(writer, vec![part(iam), part(key_part)]);
    for (region, ec2, trail) in &a.regions {
        let lists = convert::Ec2Lists {
            instances: ec2[0].iter().flat_map(|r| parse::<DescribeInstances>(r).items).collect(),
            vpcs: ec2[1].iter().flat_map(|r| parse::<DescribeVpcs>(r).items).collect(),
            subnets: ec2[2].iter().flat_map(|r| parse::<DescribeSubnets>(r).items).collect(),
            groups: ec2[3].iter().flat_map(|r| parse::<DescribeSecurityGroups>(r).items).collect(),
            interfaces: ec2[4].iter().flat_map(|r| parse::<DescribeNetworkInterfaces>(r).items).collect(),
        };
        let snapshot = convert::ec2_region(region, &lists);
        resources += snapshot.resources.len() as u64;
        let mut batch = vec![part(snapshot)];
        for r in trail {
            let page = convert::events(region, parse::<LookupEvents>(r).items);
            events += page.len() as u64;
            batch.push(Write::Events {
                connection: connection.to_owned(),
                page: EventPage::pack(page).expect("pack"),
            });
        }
        // The sync's writer takes up to 512 queued writes per transaction; a region's pages
        // arrive over seconds, so a batch of one region is conservative.
        write(writer, batch);
    }
    (resources, events)
}

#[allow(clippy::print_stdout)]
fn main() {
    let accounts: u32 = std::env::var("ACCOUNTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let fast = Rate { per_second: 1e6, burst: 1_000_000 };
    let sim = Sim::start(SimConfig {
        accounts,
        regions: REGIONS.iter().map(|r| (*r).to_owned()).collect(),
        users: 150,
        roles: 100,
        groups: 20,
        local_policies: 25,
        aws_managed_policies: 5,
        instances: 40,
        vpcs: 4,
        subnets: 16,
        security_groups: 20,
        interfaces: 40,
        events: 2000,
        event_window: Duration::from_secs(6 * 86_400),
        rates: Rates { cloudtrail: fast, ec2: fast, iam: fast, organizations: fast, sts: fast },
        ..SimConfig::default()
    });
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let members = sim.member_accounts();
    let answers: Vec<Answers> = runtime.block_on(async {
        let mut all = Vec::new();
        for account in &members {
            all.push(fetch(&sim, account).await);
        }
        all
    });
    drop(sim);
    let bytes: usize = answers
        .iter()
        .map(|a| {
            a.details.iter().chain(a.keys.iter().map(|(_, r)| r)).map(|r| r.body().len()).sum::<usize>()
                + a.regions
                    .iter()
                    .map(|(_, ec2, t)| ec2.iter().flatten().chain(t).map(|r| r.body().len()).sum::<usize>())
                    .sum::<usize>()
        })
        .sum();

    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path().join("ingest.db")).expect("store");
    let run_id = store.begin_run().expect("run");
    let mut writer = store.writer(run_id).expect("writer");
    let connections: BTreeSet<String> = members.iter().map(|m| format!("org-{m}")).collect();
    let started = Instant::now();
    let (mut resources, mut events) = (0, 0);
    for (connection, a) in connections.iter().zip(&answers) {
        let (r, e) = ingest(&mut writer, connection, a);
        resources += r;
        events += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let items = resources + events;
    let rate = items as f64 / elapsed;
    println!(
        "parse + store on one thread: {accounts} accounts, {resources} resources + {events} events from {:.1} MB of AWS answers",
        bytes as f64 / 1e6
    );
    let writing = WRITING.lock().unwrap_or_else(|e| e.into_inner()).as_secs_f64();
    println!(
        "  {:.2} s: {:.0} items/s ({}; target >= 50,000/s)",
        elapsed,
        rate,
        if rate >= 50_000.0 { "ok" } else { "MISS" }
    );
    println!(
        "  of which parsing and converting {:.2} s ({:.0} items/s), storing {:.2} s ({:.0} items/s)",
        elapsed - writing,
        items as f64 / (elapsed - writing),
        writing,
        items as f64 / writing
    );
}
