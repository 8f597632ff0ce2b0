//! The worker's TOML configuration on arbitrary text: no panics; whatever is accepted is usable
//! (concurrency at least 1, a lookback CloudTrail keeps, rates at least 1).
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustline_worker::config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(config) = Config::parse(text) {
        assert!(config.sync.concurrency >= 1 && config.sync.region_concurrency >= 1);
        assert!((1..=90).contains(&config.sync.cloudtrail_lookback_days));
        for rate in config.limits.overrides().values() {
            assert!(rate.per_second >= 1 && rate.burst >= 1);
        }
    }
});
