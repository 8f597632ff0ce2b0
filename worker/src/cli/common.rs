//! What every worker command shares: the merged configuration, logging, and table output.

use anyhow::{Context, Result};
use clap::ValueEnum;
use trustline_worker::config::Config;

use super::{GlobalArgs, LogFormat};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum OutputFormat {
    Table,
    Json,
}

pub(super) fn config(global: &GlobalArgs) -> Result<Config> {
    let mut config = Config::load_with(global.config.as_deref(), &global.set)?;
    if let Some(store) = &global.store {
        let location =
            trustline_worker::store::Location::parse(store).map_err(|e| anyhow::anyhow!("--store: {e}"))?;
        config.store.set_location(&location);
    }
    config.store.location()?;
    if let Some(url) = &global.endpoint_url {
        trustline_worker::config::AwsConfig::check_endpoint_url(url)
            .map_err(|e| anyhow::anyhow!("--endpoint-url: {e}"))?;
        config.aws.endpoint_url = Some(url.clone());
    }
    if let Some(region) = &global.home_region {
        config.aws.region = region.parse().context("--home-region")?;
        if !config.sync.allow_unknown_regions {
            trustline_worker::text::check_region(&config.aws.region)
                .map_err(|e| anyhow::anyhow!("--home-region: {e}"))?;
        }
    }
    Ok(config)
}

/// Logs on stderr: JSON lines with `--log-format json`; otherwise text lines, under progress
/// bars (the run's accounts, and a spinner per account in flight) when stderr is a terminal.
pub(super) fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    // The PostgreSQL client logs each server NOTICE, and the migration crate each check, at info.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,postgres=warn,tokio_postgres=warn,refinery_core=warn".into());
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Json => {
            registry.with(tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr)).try_init()
        }
        LogFormat::Text if std::io::stderr().is_terminal() => {
            let bars = tracing_indicatif::IndicatifLayer::new();
            let text = tracing_subscriber::fmt::layer().with_writer(bars.get_stderr_writer());
            // Bars only for the sync's own spans (see trustline_worker::sync).
            let only_sync =
                tracing_subscriber::filter::filter_fn(|m| m.target().starts_with("trustline_worker::sync"));
            registry.with(text).with(bars.with_filter(only_sync)).try_init()
        }
        LogFormat::Text => {
            registry.with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr)).try_init()
        }
    };
}

pub(super) fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    let mut out = line(headers.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        out.push_str(&line(row));
    }
    out
}
