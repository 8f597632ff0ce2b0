//! `trustline serve`: the API for the vendor's backend and its customers' onboarding pages.

use anyhow::{Context, Result, bail};
use clap::Args;
use tokio_util::sync::CancellationToken;
use trustline_worker::client::{AwsClient, RetryPolicy};
use trustline_worker::credentials::vendor_chain;

use super::GlobalArgs;
use super::common::*;
use super::sync::spawn_stop_on_signal;

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (loopback unless you put it behind your own proxy).
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: std::net::SocketAddr,
    /// File holding the API bearer token (or set TRUSTLINE_API_TOKEN).
    #[arg(long)]
    token_file: Option<std::path::PathBuf>,
    /// Dashboard origin allowed by CORS (repeatable), e.g. https://app.example.com.
    #[arg(long = "allow-origin")]
    allowed_origins: Vec<String>,
    /// Verify calls per minute per customer (and per client address behind --trusted-proxy).
    #[arg(long, default_value_t = 10)]
    verify_per_minute: u32,
    /// A host name (optionally with :PORT) this server answers for, as browsers address it
    /// (repeatable). Requests naming another host are refused (DNS rebinding). Default on
    /// loopback: 127.0.0.1, localhost and [::1] with the listening port; required otherwise.
    #[arg(long = "public-host", value_name = "NAME[:PORT]")]
    public_hosts: Vec<String>,
    /// The address of a reverse proxy in front of this server (repeatable): its X-Forwarded-For
    /// is believed, and verification is also limited per client address.
    #[arg(long = "trusted-proxy", value_name = "IP")]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Longest a request may take (e.g. 60s, 2m).
    #[arg(long, default_value = "60s", value_parser = trustline_worker::schedule::parse_duration)]
    request_timeout: std::time::Duration,
    /// The vendor's principal that customers' roles trust (arn:aws:iam::ACCOUNT:root or a
    /// role), handed to onboarding sessions for the quick-create link.
    #[arg(long, env = "TRUSTLINE_VENDOR_PRINCIPAL")]
    vendor_principal: Option<String>,
    /// Also serve this folder (the built onboarding page, `dist/`) at `/`.
    #[arg(long)]
    static_dir: Option<std::path::PathBuf>,
}

pub(crate) fn serve(global: &GlobalArgs, args: ServeArgs) -> Result<String> {
    init_logging(global.log_format);
    let config = config(global)?;
    let token = match (&args.token_file, std::env::var("TRUSTLINE_API_TOKEN").ok().filter(|t| !t.is_empty()))
    {
        (Some(path), _) => std::fs::read_to_string(path)
            .with_context(|| format!("--token-file {}", path.display()))?
            .trim()
            .to_owned(),
        (None, Some(token)) => token,
        (None, None) => {
            bail!("the API needs a bearer token: set TRUSTLINE_API_TOKEN or pass --token-file FILE")
        }
    };
    trustline_worker::serve::auth::check_operator_token(&token)?;
    let request_timeout = args.request_timeout;
    if let Some(principal) = &args.vendor_principal {
        principal.parse::<trustline_core::Arn>().map_err(|e| anyhow::anyhow!("--vendor-principal: {e}"))?;
    }
    for host in &args.public_hosts {
        if host.is_empty() || host.contains(['/', '@', ' ']) {
            bail!(
                "--public-host: expected a host name with an optional :PORT, such as trustline.example.com, got '{host}'"
            );
        }
    }
    for origin in &args.allowed_origins {
        if !(origin.starts_with("https://") || origin.starts_with("http://")) || origin.ends_with('/') {
            bail!(
                "--allow-origin: expected an origin such as https://app.example.com (scheme and host, no path), got '{origin}'"
            );
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let client = AwsClient::new(config.aws.endpoint_url.clone(), config.limits.limiter(), RetryPolicy::default())?;
        let vendor = match vendor_chain(&config.aws.region).await {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!("no vendor credentials ({e:#}); role verification will answer 503 until they are configured");
                None
            }
        };
        let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr()?;
        let mut public_hosts = args.public_hosts.clone();
        if public_hosts.is_empty() {
            public_hosts = trustline_worker::serve::auth::default_hosts(addr);
            if public_hosts.is_empty() {
                bail!("--public-host: the server listens on {addr}, beyond loopback: name the host names browsers use to reach it (e.g. --public-host trustline.example.com)");
            }
        }
        let serve_config = trustline_worker::serve::ServeConfig {
            token: trustline_core::Secret::new(token),
            allowed_origins: args.allowed_origins.clone(),
            public_hosts,
            trusted_proxies: args.trusted_proxies.clone(),
            request_timeout,
            tenants: config.tenants.clone(),
            allow_unknown_regions: config.sync.allow_unknown_regions,
            vendor_principal: args.vendor_principal.clone(),
            verify_per_minute: args.verify_per_minute,
            store: config.store.location()?,
            home_region: config.aws.region.clone(),
            sync: config.sync.options(&config.aws.region),
            static_dir: args.static_dir.clone(),
            seal: trustline_worker::seal::SealKey::from_env()?,
            webhooks: config.webhooks.clone(),
        };
        if serve_config.seal.is_none() {
            tracing::info!(
                "no {} set: key-based connections cannot be registered through the API (roles can)",
                trustline_worker::seal::KEY_ENV
            );
        }
        let shutdown = trustline_worker::serve::Shutdown {
            token: CancellationToken::new(),
            tasks: tokio_util::task::TaskTracker::new(),
        };
        let router = trustline_worker::serve::router(serve_config, client, vendor, &shutdown)?;
        tracing::info!(%addr, "serving the verify API");
        // Scripts and tests read the bound address (with port 0 the OS picks one). This is the
        // CLI's own output, not a log line, so it goes to stderr whatever the log format.
        #[allow(clippy::print_stderr)]
        {
            eprintln!("listening on http://{addr}");
        }
        spawn_stop_on_signal(shutdown.token.clone());
        trustline_worker::serve::serve(listener, router, shutdown).await?;
        Ok(String::new())
    })
}
