//! The worker's TOML configuration (see `trustline.example.toml`). Every setting can also be
//! given as a flag, which wins. Errors name the key and the line.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;
use trustline_core::Region;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[store]`.
    pub store: StoreConfig,
    /// `[aws]`.
    pub aws: AwsConfig,
    /// `[sync]`.
    pub sync: SyncConfig,
    /// `[limits.<service>]`: request rates per (account, region, service) instead of the defaults.
    pub limits: LimitsConfig,
    /// `[tenants]`: how customers' ExternalIds and sessions are issued, and their limits.
    pub tenants: TenantsConfig,
    /// `[webhooks]`: how webhook deliveries are timed.
    pub webhooks: WebhooksConfig,
}

/// `[webhooks]`: the delivery loop's timing (see [`crate::webhooks`]). Durations are text such
/// as `500ms`, `5s`, `1h`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// The longest wait before the first retry; each later one doubles it, up to
    /// `max_retry_delay`, and the actual wait is random below that (full jitter).
    #[serde(deserialize_with = "duration")]
    pub first_retry_delay: std::time::Duration,
    /// The longest wait between two attempts.
    #[serde(deserialize_with = "duration")]
    pub max_retry_delay: std::time::Duration,
    /// How long a delivery is retried after its first failure before it is marked failed; an
    /// endpoint whose every attempt failed for this long is disabled.
    #[serde(deserialize_with = "duration")]
    pub retry_window: std::time::Duration,
    /// How long one request may take.
    #[serde(deserialize_with = "duration")]
    pub request_timeout: std::time::Duration,
    /// How often the delivery loop looks for due deliveries.
    #[serde(deserialize_with = "duration")]
    pub poll_interval: std::time::Duration,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        use std::time::Duration;
        // Standard Webhooks recommends retrying over days with exponential backoff and jitter,
        // and a request timeout between 15 and 30 s (spec/standard-webhooks.md, "Deliverability
        // and reliability", "Request timeouts"); its example schedule starts with 5 seconds.
        WebhooksConfig {
            first_retry_delay: Duration::from_secs(5),
            max_retry_delay: Duration::from_secs(3_600),
            retry_window: Duration::from_secs(24 * 3_600),
            request_timeout: Duration::from_secs(15),
            poll_interval: Duration::from_secs(1),
        }
    }
}

impl WebhooksConfig {
    /// The retry timing.
    pub fn backoff(&self) -> crate::webhooks::Backoff {
        crate::webhooks::Backoff { first: self.first_retry_delay, max: self.max_retry_delay }
    }

    fn validate(&self) -> Result<()> {
        for (name, d) in [
            ("first_retry_delay", self.first_retry_delay),
            ("max_retry_delay", self.max_retry_delay),
            ("retry_window", self.retry_window),
            ("request_timeout", self.request_timeout),
            ("poll_interval", self.poll_interval),
        ] {
            if d.is_zero() {
                anyhow::bail!("webhooks.{name}: must be longer than zero");
            }
        }
        if self.max_retry_delay < self.first_retry_delay {
            anyhow::bail!("webhooks.max_retry_delay: must be at least webhooks.first_retry_delay");
        }
        Ok(())
    }
}

fn duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<std::time::Duration, D::Error> {
    let text = String::deserialize(d)?;
    crate::schedule::parse_duration(&text).map_err(serde::de::Error::custom)
}

/// `[tenants]`: what the worker issues to the vendor's customers.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantsConfig {
    /// The vendor's prefix on every issued ExternalId (e.g. `acme:`), so a customer can tell
    /// whose it is; the rest is 160 random bits.
    pub external_id_prefix: String,
    /// Days an issued ExternalId stays valid while no connection uses it.
    pub unused_external_id_days: u32,
    /// Connections a new tenant may register (`tenants add --max-connections` overrides).
    pub max_connections: u32,
    /// Lifetime of a browser session, in seconds (at most 3600).
    pub session_seconds: u32,
}

impl Default for TenantsConfig {
    fn default() -> Self {
        // Datadog expires an unused ExternalId after 48 hours; a week leaves a customer's
        // change-approval process room without keeping unused values about for long.
        TenantsConfig {
            external_id_prefix: String::new(),
            unused_external_id_days: 7,
            max_connections: 100,
            session_seconds: 900,
        }
    }
}

impl TenantsConfig {
    /// Issues an ExternalId: the OS CSPRNG through core's generator, with the vendor's prefix.
    pub fn issue_external_id(&self) -> Result<trustline_core::ExternalId> {
        let prefix = (!self.external_id_prefix.is_empty()).then_some(self.external_id_prefix.as_str());
        trustline_core::ExternalId::generate(&mut getrandom::SysRng, prefix)
            .context("tenants.external_id_prefix")
    }

    /// How long an unused ExternalId stays valid.
    pub fn unused_ttl(&self) -> time::Duration {
        time::Duration::days(i64::from(self.unused_external_id_days))
    }

    fn validate(&self) -> Result<()> {
        if self.unused_external_id_days == 0 {
            anyhow::bail!("tenants.unused_external_id_days: must be at least 1");
        }
        if !(60..=3600).contains(&self.session_seconds) {
            anyhow::bail!(
                "tenants.session_seconds: must be between 60 and 3600 (a browser session lasts at most an hour), got {}",
                self.session_seconds
            );
        }
        self.issue_external_id().map(|_| ())
    }
}

/// `[limits]`: one table per service (`sts`, `iam`, `ec2`, `cloudtrail`, `organizations`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// STS.
    pub sts: Option<RateConfig>,
    /// IAM.
    pub iam: Option<RateConfig>,
    /// EC2 Describe calls.
    pub ec2: Option<RateConfig>,
    /// CloudTrail LookupEvents.
    pub cloudtrail: Option<RateConfig>,
    /// Organizations.
    pub organizations: Option<RateConfig>,
}

/// One service's rate.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateConfig {
    /// Sustained requests per second.
    pub per_second: u32,
    /// Requests that may go at once after a quiet spell.
    pub burst: u32,
}

impl LimitsConfig {
    /// The overrides for [`crate::limiter::Limiter::new`].
    pub fn overrides(&self) -> std::collections::HashMap<trustline_core::Service, crate::limiter::Rate> {
        use trustline_core::Service;
        [
            (Service::Sts, self.sts),
            (Service::Iam, self.iam),
            (Service::Ec2, self.ec2),
            (Service::CloudTrail, self.cloudtrail),
            (Service::Organizations, self.organizations),
        ]
        .into_iter()
        .filter_map(|(service, rate)| {
            rate.map(|r| (service, crate::limiter::Rate { per_second: r.per_second, burst: r.burst }))
        })
        .collect()
    }

    /// A limiter with these rates.
    pub fn limiter(&self) -> crate::limiter::Limiter {
        crate::limiter::Limiter::new(self.overrides())
    }
}

/// `[store]`: where the store lives: an embedded SQLite file (the default), or a PostgreSQL
/// database that several workers share.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// SQLite file, used unless `url` is set.
    pub path: PathBuf,
    /// A PostgreSQL URL (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`); prefer setting it as
    /// TRUSTLINE_STORE, so the password stays out of the file.
    pub url: Option<String>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { path: PathBuf::from("trustline.db"), url: None }
    }
}

impl StoreConfig {
    /// Where the store is.
    pub fn location(&self) -> Result<crate::store::Location> {
        match &self.url {
            Some(url) => crate::store::Location::parse(url).map_err(|e| anyhow::anyhow!("store.url: {e}")),
            None => Ok(crate::store::Location::Sqlite(self.path.clone())),
        }
    }

    /// Points the store at `location`.
    pub fn set_location(&mut self, location: &crate::store::Location) {
        match location {
            crate::store::Location::Sqlite(path) => {
                self.path.clone_from(path);
                self.url = None;
            }
            crate::store::Location::Postgres(url) => self.url = Some(url.secret_text().to_owned()),
        }
    }
}

/// `[aws]`: how to reach AWS.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AwsConfig {
    /// Home region for STS and IAM calls.
    pub region: Region,
    /// Send every call to this URL instead (a VPC endpoint proxy, moto, Trustline's stand-in).
    pub endpoint_url: Option<String>,
}

impl AwsConfig {
    /// Checks an endpoint URL as the client will use it (scheme and host, optional port), so a
    /// setting that cannot work is refused before any account is read.
    pub fn check_endpoint_url(url: &str) -> std::result::Result<(), String> {
        trustline_core::Endpoints::new(AwsConfig::default().region)
            .with_override_all(url)
            .map(|_| ())
            .map_err(|e| e.message().to_owned())
    }
}

impl Default for AwsConfig {
    fn default() -> Self {
        AwsConfig {
            region: "us-east-1".parse().unwrap_or_else(|_| unreachable!("a valid region literal")),
            endpoint_url: None,
        }
    }
}

/// `[sync]`: how a run proceeds.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncConfig {
    /// Accounts listed at once.
    pub concurrency: usize,
    /// Regions of one account listed at once.
    pub region_concurrency: usize,
    /// Regions to read when a connection names none; empty means each account's enabled regions.
    pub regions: Vec<Region>,
    /// How far back the first CloudTrail read of an account-region goes (1–90 days).
    pub cloudtrail_lookback_days: u32,
    /// How far before the last cursor later reads start again, for late-delivered events.
    pub cloudtrail_overlap_minutes: u32,
    /// Accept region names this build does not know (a region AWS opened after it was built);
    /// otherwise a typo such as `eu-wset-1` is refused with the nearest real name.
    pub allow_unknown_regions: bool,
    /// Read the inventory of a connection whose re-verification found it `unsafe` (it is
    /// flagged everywhere); `false` skips the read and records why.
    pub read_unsafe: bool,
    /// How long an account's lease lasts without its replica's heartbeat: on a PostgreSQL store,
    /// how soon another replica takes over the accounts of one that stopped.
    #[serde(deserialize_with = "duration")]
    pub lease_ttl: std::time::Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            // In effect every account at once: each account and region has its own AWS rate
            // limits, so more in flight costs no throttling, and memory and connections are
            // bounded by the run's list and page slots (sync.rs), not by this.
            concurrency: 10_000,
            region_concurrency: 32,
            regions: Vec::new(),
            cloudtrail_lookback_days: 7,
            cloudtrail_overlap_minutes: 15,
            allow_unknown_regions: false,
            read_unsafe: true,
            lease_ttl: crate::store::DEFAULT_LEASE_TTL,
        }
    }
}

impl SyncConfig {
    /// The sync's options from this section and the home region.
    pub fn options(&self, home_region: &Region) -> crate::sync::SyncOptions {
        crate::sync::SyncOptions {
            concurrency: self.concurrency,
            regions: self.regions.clone(),
            home_region: home_region.clone(),
            region_concurrency: self.region_concurrency,
            cloudtrail: crate::sync::CloudTrailWindow {
                lookback: time::Duration::days(self.cloudtrail_lookback_days.into()),
                overlap: time::Duration::minutes(self.cloudtrail_overlap_minutes.into()),
            },
            read_unsafe: self.read_unsafe,
        }
    }
}

impl Config {
    /// Reads `path`, then applies `overrides` (`KEY=VALUE`, as `--set` gives them: a dotted key
    /// such as `sync.regions` or `limits.iam.per_second`, and a TOML value, or plain text for a
    /// string). Errors in the file name its line; errors in an override name the override.
    pub fn load_with(path: Option<&Path>, overrides: &[String]) -> Result<Config> {
        let config = Config::load(path)?;
        if overrides.is_empty() {
            return Ok(config);
        }
        let text = match path {
            Some(p) => std::fs::read_to_string(p).unwrap_or_default(),
            None => std::fs::read_to_string("trustline.toml").unwrap_or_default(),
        };
        let mut table: toml::Table = toml::from_str(&text).unwrap_or_default();
        for o in overrides {
            set(&mut table, o).with_context(|| format!("--set {o}"))?;
        }
        let text = toml::to_string(&table).map_err(|e| anyhow::anyhow!("{e}"))?;
        Config::parse(&text).with_context(|| format!("--set {}", overrides.join(" --set ")))
    }

    /// Reads `path`; a missing default file is an empty config, a missing named file an error.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let (path, required) = match path {
            Some(p) => (p.to_owned(), true),
            None => (PathBuf::from("trustline.toml"), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => return Err(e).with_context(|| format!("reading the config file {}", path.display())),
        };
        Config::parse(&text).with_context(|| format!("in the config file {}", path.display()))
    }

    /// Parses config text; toml's messages carry the line, column and key.
    pub fn parse(text: &str) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        if config.sync.concurrency == 0 || config.sync.region_concurrency == 0 {
            anyhow::bail!("sync.concurrency and sync.region_concurrency must be at least 1");
        }
        for (name, rate) in [
            ("sts", config.limits.sts),
            ("iam", config.limits.iam),
            ("ec2", config.limits.ec2),
            ("cloudtrail", config.limits.cloudtrail),
            ("organizations", config.limits.organizations),
        ] {
            if let Some(r) = rate
                && (r.per_second == 0 || r.burst == 0)
            {
                anyhow::bail!("limits.{name}: per_second and burst must be at least 1");
            }
        }
        if !(1..=90).contains(&config.sync.cloudtrail_lookback_days) {
            anyhow::bail!(
                "sync.cloudtrail_lookback_days must be 1 to 90 (CloudTrail keeps 90 days of events)"
            );
        }
        config.tenants.validate()?;
        config.webhooks.validate()?;
        if let Some(url) = &config.aws.endpoint_url {
            AwsConfig::check_endpoint_url(url).map_err(|e| anyhow::anyhow!("aws.endpoint_url: {e}"))?;
        }
        if !config.sync.allow_unknown_regions {
            for region in &config.sync.regions {
                crate::text::check_region(region).map_err(|e| anyhow::anyhow!("sync.regions: {e}"))?;
            }
            crate::text::check_region(&config.aws.region).map_err(|e| anyhow::anyhow!("aws.region: {e}"))?;
        }
        Ok(config)
    }
}

/// Applies one `KEY=VALUE` override to the config's TOML table.
fn set(table: &mut toml::Table, assignment: &str) -> Result<()> {
    let (key, value) = assignment
        .split_once('=')
        .with_context(|| "expected KEY=VALUE, e.g. sync.concurrency=16 or limits.iam.per_second=20")?;
    let path: Vec<&str> = key.trim().split('.').collect();
    if path.iter().any(|p| p.is_empty()) {
        anyhow::bail!("'{key}' is not a dotted key such as sync.concurrency");
    }
    // A TOML value (16, true, ["eu-west-1"]) or, failing that, the text itself as a string.
    let value = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_owned()));
    let (last, parents) = path.split_last().unwrap_or((&"", &[]));
    let mut here = table;
    for part in parents {
        here = here
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .with_context(|| format!("'{part}' is a value, not a section"))?;
    }
    here.insert(last.to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses() {
        let text = include_str!("../../trustline.example.toml");
        let config = Config::parse(text).unwrap();
        assert_eq!(config.sync.concurrency, SyncConfig::default().concurrency);
    }

    #[test]
    fn every_setting_can_be_overridden() {
        let dir = std::env::temp_dir().join(format!("trustline-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("trustline.toml");
        std::fs::write(&file, "[sync]\nconcurrency = 4\n").unwrap();
        let sets = [
            "sync.regions=[\"eu-west-1\"]",
            "limits.iam.per_second=20",
            "limits.iam.burst=40",
            "aws.endpoint_url=http://127.0.0.1:5000",
            "sync.cloudtrail_lookback_days=30",
            "webhooks.first_retry_delay=50ms",
        ]
        .map(str::to_owned);
        let config = Config::load_with(Some(&file), &sets).unwrap();
        assert_eq!(config.sync.concurrency, 4, "the file's settings stay");
        assert_eq!(config.sync.regions.len(), 1);
        assert_eq!(config.limits.iam.map(|r| (r.per_second, r.burst)), Some((20, 40)));
        assert_eq!(config.aws.endpoint_url.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(config.sync.cloudtrail_lookback_days, 30);
        assert_eq!(config.webhooks.first_retry_delay, std::time::Duration::from_millis(50));
        assert_eq!(config.webhooks.retry_window, std::time::Duration::from_secs(86_400));
        let err = format!(
            "{:#}",
            Config::load_with(Some(&file), &["webhooks.retry_window=soon".to_owned()]).unwrap_err()
        );
        assert!(err.contains("webhooks") && err.contains("expected a duration"), "{err}");
        let err =
            format!("{:#}", Config::load_with(Some(&file), &["sync.concurency=3".to_owned()]).unwrap_err());
        assert!(
            err.contains("--set sync.concurency=3") && err.contains("unknown field `concurency`"),
            "{err}"
        );
        let err = format!("{:#}", Config::load_with(Some(&file), &["sync".to_owned()]).unwrap_err());
        assert!(err.contains("expected KEY=VALUE"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn errors_name_the_key_and_line() {
        let err = format!(
            "{:#}",
            Config::parse("[sync]\nconcurrency = 4\nregions = [\"eu-west-1a\"]\n").unwrap_err()
        );
        assert!(err.contains("line 3") && err.contains("availability zone"), "{err}");
        let err = format!("{:#}", Config::parse("[limits.iam]\nper_second = 0\nburst = 5\n").unwrap_err());
        assert!(err.contains("limits.iam"), "{err}");
        let err = format!("{:#}", Config::parse("[limits.s3]\nper_second = 1\nburst = 1\n").unwrap_err());
        assert!(err.contains("line 1") && err.contains("unknown field `s3`"), "{err}");
        let err = format!("{:#}", Config::parse("[store]\npaht = \"x\"\n").unwrap_err());
        assert!(err.contains("line 2") && err.contains("unknown field `paht`"), "{err}");
    }
}
