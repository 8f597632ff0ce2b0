//! The generated organization: account numbering, deterministic hashing into names and IDs, and
//! opaque pagination tokens. Nothing is stored per account: every list item is a function of
//! (seed, account, region, index), so 1,000 accounts cost no memory until they are asked about.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Expected, SimConfig};

/// The management account's ID; member `i` (0-based) is this plus `i + 1`.
pub(crate) const BASE_ACCOUNT: u64 = 100_000_000_000;
/// The vendor's own account, which holds the vendor's user and a role to chain through.
pub(crate) const VENDOR_ACCOUNT: &str = "210987654321";
/// The vendor user's static access key.
pub(crate) const VENDOR_KEY_ID: &str = "AKIASIMVENDOR0000001";
pub(crate) const VENDOR_SECRET: &str = "sim-vendor-secret-key/not-checked";
pub(crate) const VENDOR_USER: &str = "trustline-vendor";
/// A role in the vendor account the vendor user may assume (then chain from).
pub(crate) const VENDOR_ROLE: &str = "TrustlineVendorRole";

/// Who an access key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Owner {
    /// The vendor's account.
    Vendor,
    /// An account of the organization: 0 is the management account, `i + 1` member `i`.
    Org(u32),
    /// An account holding explicitly configured users and roles (see `explicit`).
    Other(u64),
}

impl Owner {
    /// A number no other owner has (the token buckets' key).
    pub(crate) fn number(self) -> u64 {
        match self {
            Owner::Vendor => 0,
            Owner::Org(i) => u64::from(i) + 1,
            // Above every organization index, below nothing else: 12 digits fit in 40 bits.
            Owner::Other(account) => (1 << 40) | account,
        }
    }
}

/// The generated world: the configuration and what is derived from it once.
#[derive(Debug)]
pub(crate) struct Model {
    pub(crate) cfg: SimConfig,
    /// When the simulator started, in whole seconds since the epoch (the events end here).
    pub(crate) t0: i64,
    pub(crate) org_id: String,
    pub(crate) root_id: String,
}

impl Model {
    pub(crate) fn new(cfg: SimConfig) -> Model {
        let t0 = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs() as i64;
        let org_id = format!("o-{}", lower_alnum(hash(&[cfg.seed, 0x0e6]), 10));
        let root_id = format!("r-{}", lower_alnum(hash(&[cfg.seed, 0x7007]), 4));
        Model { cfg, t0, org_id, root_id }
    }

    /// Organization accounts, the management account included.
    pub(crate) fn org_accounts(&self) -> u32 {
        self.cfg.accounts + 1
    }

    pub(crate) fn account_id(&self, index: u32) -> String {
        (BASE_ACCOUNT + u64::from(index)).to_string()
    }

    /// The index of an organization account ID, if it is one.
    pub(crate) fn account_index(&self, id: &str) -> Option<u32> {
        if id.len() != 12 {
            return None;
        }
        let n: u64 = id.parse().ok()?;
        let index = n.checked_sub(BASE_ACCOUNT)?;
        (index < u64::from(self.org_accounts())).then_some(index as u32)
    }

    pub(crate) fn owner_account(&self, owner: Owner) -> String {
        match owner {
            Owner::Vendor => VENDOR_ACCOUNT.to_owned(),
            Owner::Org(i) => self.account_id(i),
            Owner::Other(account) => format!("{account:012}"),
        }
    }

    /// `owner`'s account as given in an ARN or key.
    pub(crate) fn owner_of(&self, account: &str) -> Option<Owner> {
        if account == VENDOR_ACCOUNT {
            Some(Owner::Vendor)
        } else {
            self.account_index(account).map(Owner::Org)
        }
    }

    pub(crate) fn org_role_name(&self) -> String {
        format!("{}-org-discovery", self.cfg.role_name)
    }

    /// The index of `region` among the enabled ones, from 1 (0 is "global").
    pub(crate) fn region_index(&self, region: &str) -> Option<u16> {
        self.cfg.regions.iter().position(|r| r == region).map(|i| i as u16 + 1)
    }

    pub(crate) fn region_name(&self, index: u16) -> &str {
        self.cfg.regions.get(usize::from(index).wrapping_sub(1)).map_or("us-east-1", String::as_str)
    }

    /// A hash of the seed and `parts`.
    pub(crate) fn h(&self, parts: &[u64]) -> u64 {
        let mut all = [0u64; 8];
        all[0] = self.cfg.seed;
        let n = parts.len().min(7);
        all[1..=n].copy_from_slice(&parts[..n]);
        hash(&all[..=n])
    }

    /// The opaque token continuing at `offset` in the list `scope` names.
    pub(crate) fn token(&self, scope: &[u64], offset: u64) -> String {
        let s = self.h(scope);
        let mac = mix(s ^ offset.rotate_left(29)) as u32;
        format!("{:016x}{:08x}", offset ^ mix(s), mac)
    }

    /// The offset in a token from [`Model::token`] for the same scope; `None` for anything else.
    pub(crate) fn untoken(&self, scope: &[u64], token: &str) -> Option<u64> {
        if token.len() != 24 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let s = self.h(scope);
        let offset = u64::from_str_radix(&token[..16], 16).ok()? ^ mix(s);
        let mac = u32::from_str_radix(&token[16..], 16).ok()?;
        (mac == mix(s ^ offset.rotate_left(29)) as u32).then_some(offset)
    }

    /// What a complete sync stores for organization account `index`.
    pub(crate) fn expected(&self, index: u32) -> Expected {
        let mut resources = BTreeSet::new();
        super::iam::expected(self, index, &mut resources);
        for region in 1..=self.cfg.regions.len() as u16 {
            super::ec2::expected(self, index, region, &mut resources);
        }
        let mut event_ids = BTreeSet::new();
        for region in 1..=self.cfg.regions.len() as u16 {
            super::cloudtrail::event_ids(self, index, region, &mut event_ids);
        }
        Expected { resources, event_ids }
    }

    /// `expected(index)`'s sizes (resources, events), without listing them.
    pub(crate) fn expected_counts(&self, index: u32) -> (u64, u64) {
        let per_region: u64 = super::ec2::LISTS
            .iter()
            .map(|(api, _, _)| u64::from(super::ec2::Region::new(self, index, 1).count(*api)))
            .sum();
        let regions = self.cfg.regions.len() as u64;
        (super::iam::count(self, index) + regions * per_region, regions * u64::from(self.cfg.events))
    }
}

/// splitmix64's finaliser.
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn hash(parts: &[u64]) -> u64 {
    parts.iter().fold(0x5851_F42D_4C95_7F2D, |acc, p| mix(acc ^ mix(*p)))
}

/// A number in [0, 1) from a hash.
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// `n` characters of AWS's upper-case unique-ID alphabet (`AIDA…`, `AKIA…`).
pub(crate) fn upper_alnum(h: u64, n: usize) -> String {
    text(|out| push_upper(out, h, n))
}

/// A `String` from a `push_*` writer (which writes ASCII only).
fn text(write: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::with_capacity(40);
    write(&mut out);
    String::from_utf8(out).unwrap_or_default()
}

// The `push_*` writers below append ASCII to bytes without `core::fmt`: LookupEvents pages
// (50 events of ~900 bytes) are most of what the simulator writes, and formatting machinery
// was most of its CPU.

/// Appends `n` characters of AWS's upper-case unique-ID alphabet drawn from `h`.
pub(crate) fn push_upper(out: &mut Vec<u8>, h: u64, n: usize) {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = (u128::from(h) << 64) | u128::from(mix(h));
    for _ in 0..n.min(25) {
        out.push(ALPHABET[(bits & 31) as usize]);
        bits >>= 5;
    }
}

/// Appends `v`'s lowest `digits` hex digits.
fn push_hex(out: &mut Vec<u8>, v: u64, digits: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..digits.min(16)).rev() {
        out.push(HEX[((v >> (4 * i)) & 15) as usize]);
    }
}

/// Appends `v` in decimal, zero-padded to `width`.
pub(crate) fn push_dec(out: &mut Vec<u8>, mut v: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i.min(buf.len().saturating_sub(width))..]);
}

/// Appends a UUID-shaped string drawn from `h`.
pub(crate) fn push_uuid(out: &mut Vec<u8>, h: u64) {
    let b = mix(h);
    push_hex(out, h >> 32, 8);
    out.push(b'-');
    push_hex(out, h >> 16, 4);
    out.extend_from_slice(b"-4");
    push_hex(out, h, 3);
    out.push(b'-');
    push_hex(out, 0x8000 | (b >> 48) & 0x3fff, 4);
    out.push(b'-');
    push_hex(out, b, 12);
}

/// Appends an ISO 8601 time with seconds (`2024-05-06T07:08:09Z`), by Howard Hinnant's
/// days-to-civil algorithm.
pub(crate) fn push_iso(out: &mut Vec<u8>, epoch_seconds: i64) {
    let (days, secs) = (epoch_seconds.div_euclid(86_400), epoch_seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let parts = [
        (year, 4, b'-'),
        (month, 2, b'-'),
        (day, 2, b'T'),
        (secs / 3600, 2, b':'),
        (secs / 60 % 60, 2, b':'),
    ];
    for (v, width, sep) in parts {
        push_dec(out, v.unsigned_abs(), width);
        out.push(sep);
    }
    push_dec(out, (secs % 60).unsigned_abs(), 2);
    out.push(b'Z');
}

/// `n` lower-case letters and digits (Organizations IDs).
pub(crate) fn lower_alnum(h: u64, n: usize) -> String {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = (u128::from(h) << 64) | u128::from(mix(h));
    (0..n)
        .map(|_| {
            let c = ALPHABET[(x % 36) as usize] as char;
            x /= 36;
            c
        })
        .collect()
}

/// 17 hex digits, as EC2's resource IDs have.
pub(crate) fn hex17(h: u64) -> String {
    format!("{:x}{:016x}", mix(h) & 0xf, h)
}

/// A UUID-shaped string.
pub(crate) fn uuid(h: u64) -> String {
    text(|out| push_uuid(out, h))
}

/// ISO 8601 with seconds, as the query protocols send timestamps.
pub(crate) fn iso(epoch_seconds: i64) -> String {
    text(|out| push_iso(out, epoch_seconds))
}

/// A creation time in 2023–2024 drawn from `h`.
pub(crate) fn created(h: u64) -> i64 {
    1_672_531_200 + (h % (2 * 365 * 86_400)) as i64
}

/// How many of `0..n` are `≡ j (mod m)`.
pub(crate) fn count_mod(n: u32, m: u32, j: u32) -> u32 {
    n.checked_div(m).map_or(0, |q| q + u32::from(j < n % m))
}

/// Escapes text for XML element content.
pub(crate) fn xml_escape(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(['&', '<', '>']) {
        return text.into();
    }
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").into()
}

/// The page `[offset, end)` of a list of `total` items, `size` at a time; the next offset, if any.
pub(crate) fn page(offset: u64, total: u64, size: u64) -> (u64, u64, Option<u64>) {
    let start = offset.min(total);
    let end = start.saturating_add(size.max(1)).min(total);
    (start, end, (end < total).then_some(end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_anything_else() {
        let model = Model::new(SimConfig::default());
        let token = model.token(&[1, 2], 150);
        assert_eq!(model.untoken(&[1, 2], &token), Some(150));
        assert_eq!(model.untoken(&[1, 3], &token), None, "another list's token");
        assert_eq!(model.untoken(&[1, 2], "150"), None);
        assert_eq!(model.untoken(&[1, 2], &token.replace(&token[20..], "0000")), None);
        assert!(token.parse::<u64>().is_err() || token.len() == 24);
    }

    #[test]
    fn timestamps_match_a_date_library() {
        use time::format_description::well_known::Rfc3339;
        for t in [0, 951_782_400, 1_672_531_200, 1_709_164_799, 1_735_689_599, 4_102_444_800, -86_401] {
            let reference = time::OffsetDateTime::from_unix_timestamp(t).unwrap().format(&Rfc3339).unwrap();
            assert_eq!(iso(t), reference);
        }
    }

    #[test]
    fn ids_have_aws_shapes() {
        assert_eq!(upper_alnum(7, 16).len(), 16);
        assert_eq!(hex17(7).len(), 17);
        let mut n = Vec::new();
        push_dec(&mut n, 7, 5);
        push_dec(&mut n, 123_456, 2);
        assert_eq!(n, b"00007123456");
        assert_eq!(uuid(0x0123_4567_89ab_cdef)[..19], *"01234567-89ab-4def-");
        let u = uuid(42);
        assert_eq!(u.len(), 36);
        assert_eq!(u.split('-').map(str::len).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
        assert_eq!(count_mod(10, 3, 0), 4);
        assert_eq!(count_mod(10, 3, 2), 3);
        assert_eq!(page(0, 10, 4), (0, 4, Some(4)));
        assert_eq!(page(8, 10, 4), (8, 10, None));
        let model = Model::new(SimConfig::default());
        assert_eq!(model.account_index("100000000003"), Some(3));
        assert_eq!(model.account_index("100000000004"), None, "3 members: indices 0..=3");
    }
}
