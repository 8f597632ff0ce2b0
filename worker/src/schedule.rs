//! When `trustline run` syncs: every fixed interval (`6h`) or on a cron expression
//! (`0 */6 * * *`, UTC), plus a random delay up to a jitter so that many workers, or many
//! vendors' workers, do not all call AWS at the same second.

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Result, bail};
use chrono::{DateTime, Utc};

/// A sync schedule.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// Every fixed interval, measured from the end of the previous run.
    Every(Duration),
    /// At the times a cron expression names (five fields, UTC).
    Cron(Box<croner::Cron>),
}

/// Parses `250ms`, `30s`, `15m`, `6h`, `1d` (one number and one unit).
pub fn parse_duration(text: &str) -> Result<Duration> {
    let split = text.trim_end_matches(|c: char| c.is_ascii_alphabetic()).len();
    let (number, unit) = text.split_at(split);
    let Ok(n) = number.parse::<u64>() else {
        bail!("expected a duration such as 30m, 6h or 1d, got '{text}'");
    };
    let seconds = match unit {
        "ms" => return Ok(Duration::from_millis(n)),
        "s" => n,
        "m" => n * 60,
        "h" => n * 3_600,
        "d" => n * 86_400,
        _ => bail!("unknown unit '{unit}' in '{text}': use ms, s, m, h or d"),
    };
    Ok(Duration::from_secs(seconds))
}

impl FromStr for Schedule {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        if s.split_whitespace().count() >= 5 {
            let cron = croner::Cron::from_str(s)
                .map_err(|e| anyhow::anyhow!("'{s}' is not a valid cron expression: {e}"))?;
            return Ok(Schedule::Cron(Box::new(cron)));
        }
        let every = parse_duration(s)
            .map_err(|e| anyhow::anyhow!("{e}, or a cron expression such as '0 */6 * * *'"))?;
        if every < Duration::from_secs(60) {
            bail!("syncing more often than once a minute only burns AWS rate limits; use at least 1m");
        }
        Ok(Schedule::Every(every))
    }
}

impl Schedule {
    /// How long to wait, from `now`, before the next run.
    pub fn wait(&self, now: DateTime<Utc>) -> Result<Duration> {
        match self {
            Schedule::Every(d) => Ok(*d),
            Schedule::Cron(cron) => {
                let next = cron
                    .find_next_occurrence(&now, false)
                    .map_err(|e| anyhow::anyhow!("no next time for the cron expression: {e}"))?;
                Ok((next - now).to_std().unwrap_or_default())
            }
        }
    }
}

/// A random delay in `[0, max]`.
pub fn jitter(max: Duration) -> Duration {
    let fraction = getrandom::u64().unwrap_or(0) as f64 / u64::MAX as f64;
    max.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn intervals_and_cron_expressions() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 17, 0).unwrap();
        assert_eq!("6h".parse::<Schedule>().unwrap().wait(now).unwrap(), Duration::from_secs(6 * 3600));
        let cron: Schedule = "0 */6 * * *".parse().unwrap();
        // 10:17 → 12:00.
        assert_eq!(cron.wait(now).unwrap(), Duration::from_secs(103 * 60));
        assert!("10s".parse::<Schedule>().unwrap_err().to_string().contains("at least 1m"));
        assert!("6 hours".parse::<Schedule>().unwrap_err().to_string().contains("cron expression"));
        assert!("61 * * * *".parse::<Schedule>().unwrap_err().to_string().contains("not a valid cron"));
        let j = jitter(Duration::from_secs(10));
        assert!(j <= Duration::from_secs(10));
    }
}
