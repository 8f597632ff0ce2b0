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
    /// Every fixed interval: measured from the end of the previous run by a worker alone on its
    /// store; at multiples of it since the Unix epoch (UTC) for replicas sharing one (see
    /// [`Schedule::slot`]).
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

impl Schedule {
    /// The slot `now` falls in, as replicas sharing a store agree on it: the latest scheduled
    /// time at or before `now` (for an interval, the latest multiple of it since the Unix epoch).
    /// Each account is synced once per slot.
    pub fn slot(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
        match self {
            Schedule::Every(d) => {
                let every = i64::try_from(d.as_secs().max(1)).unwrap_or(i64::MAX);
                let start = now.timestamp().div_euclid(every) * every;
                DateTime::from_timestamp(start, 0).ok_or_else(|| anyhow::anyhow!("no slot for {now}"))
            }
            Schedule::Cron(cron) => cron
                .find_previous_occurrence(&now, true)
                .map_err(|e| anyhow::anyhow!("no previous time for the cron expression: {e}")),
        }
    }

    /// How long, from `now`, until the slot after the one `now` falls in.
    pub fn until_next_slot(&self, now: DateTime<Utc>) -> Result<Duration> {
        let next = match self {
            Schedule::Every(d) => {
                self.slot(now)? + chrono::Duration::from_std(*d).map_err(|e| anyhow::anyhow!("{e}"))?
            }
            Schedule::Cron(cron) => cron
                .find_next_occurrence(&now, false)
                .map_err(|e| anyhow::anyhow!("no next time for the cron expression: {e}"))?,
        };
        Ok((next - now).to_std().unwrap_or_default())
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
        // Slots: replicas agree on them whenever each looks.
        let every: Schedule = "6h".parse().unwrap();
        assert_eq!(every.slot(now).unwrap(), Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap());
        assert_eq!(every.until_next_slot(now).unwrap(), Duration::from_secs(103 * 60));
        assert_eq!(cron.slot(now).unwrap(), Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap());
        let at_slot = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        assert_eq!(cron.slot(at_slot).unwrap(), at_slot);
        assert_eq!(cron.until_next_slot(at_slot).unwrap(), Duration::from_secs(6 * 3600));
        let j = jitter(Duration::from_secs(10));
        assert!(j <= Duration::from_secs(10));
    }
}
