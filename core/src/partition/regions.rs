//! The regions each partition has, as of this build, and the nearest one to a mistyped name.
//!
//! AWS adds regions a few times a year, so this list is advice, never a gate: [`Region`]'s
//! `FromStr` accepts any well-formed name (a region newer than the build must keep working),
//! and only [`Region::parse_known`] refuses names missing here.

use super::{Partition, Region};
use crate::error::{Error, Result, quote};

// From botocore's `botocore/data/partitions.json` (github.com/boto/botocore, commit c870f2c),
// the `regions` of the aws, aws-cn and aws-us-gov partitions without the `*-global` pseudo
// regions; read 2026-12-05. The European Sovereign Cloud (`eusc-de-east-1`) is its own partition
// (aws-eusc), which Trustline does not model yet.
const AWS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];
const AWS_CN: &[&str] = &["cn-north-1", "cn-northwest-1"];
const AWS_US_GOV: &[&str] = &["us-gov-east-1", "us-gov-west-1"];

/// A suggestion further than this many edits away is more likely another name than a typo.
const MAX_SUGGESTION_DISTANCE: usize = 2;

impl Partition {
    /// The region codes this build knows in the partition (newer regions may exist).
    pub fn known_regions(self) -> &'static [&'static str] {
        match self {
            Partition::Aws => AWS,
            Partition::AwsCn => AWS_CN,
            Partition::AwsUsGov => AWS_US_GOV,
        }
    }
}

impl Region {
    /// Whether the region is in its partition's [`Partition::known_regions`].
    pub fn is_known(&self) -> bool {
        self.partition.known_regions().contains(&self.name.as_str())
    }

    /// Parses a region and requires it to be one this build knows; the error for an unknown
    /// one suggests the nearest known name. Use `FromStr` to accept regions newer than the build.
    pub fn parse_known(s: &str) -> Result<Region> {
        let region: Region = s.parse()?;
        if region.is_known() {
            return Ok(region);
        }
        let message = match suggest_region(s) {
            Some(near) => format!("unknown region {} — did you mean {near}?", quote(s)),
            None => format!(
                "unknown region {}; see AWS's list of regions, or upgrade trustline if the region is newer than this build",
                quote(s)
            ),
        };
        Err(Error::invalid("region", message))
    }
}

/// The known region nearest to `input` (ignoring case), if it is at most two edits away
/// (inserting, deleting or replacing a character, or swapping two neighbours): `eu-wset-1` →
/// `eu-west-1`. A known region suggests itself. On a tie the first in partition order wins.
pub fn suggest_region(input: &str) -> Option<&'static str> {
    let input = input.trim().to_ascii_lowercase();
    Partition::ALL
        .iter()
        .flat_map(|p| p.known_regions().iter().copied())
        .map(|known| (edit_distance(&input, known), known))
        .filter(|&(d, _)| d <= MAX_SUGGESTION_DISTANCE)
        .min_by_key(|&(d, _)| d)
        .map(|(_, known)| known)
}

/// Optimal string alignment distance: Levenshtein plus the transposition of two adjacent
/// characters as one edit (the commonest typing slip, `wset` for `west`).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // Three rows: two back (for transpositions), one back, and the current one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1).min(current[j - 1] + 1).min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_regions_are_well_formed_and_in_their_partition() {
        for partition in Partition::ALL {
            for name in partition.known_regions() {
                let region: Region = name.parse().unwrap();
                assert_eq!(region.partition(), partition, "{name}");
                assert!(region.is_known(), "{name}");
            }
            assert!(partition.known_regions().contains(&partition.global_region().as_str()));
        }
        assert_eq!(Partition::Aws.known_regions().len(), 34);
        for newer in ["ap-southeast-7", "mx-central-1", "ap-east-2", "ap-southeast-6"] {
            assert!(Region::parse_known(newer).is_ok(), "{newer}");
        }
    }

    #[test]
    fn unknown_regions_still_parse_but_are_not_known() {
        let region: Region = "xx-future-9".parse().unwrap();
        assert!(!region.is_known());
        assert!(!"eu-wset-1".parse::<Region>().unwrap().is_known());
    }

    #[test]
    fn typos_get_the_nearest_region() {
        for (typo, meant) in [
            ("eu-wset-1", "eu-west-1"),
            ("eu-west1", "eu-west-1"),
            ("us-esat-2", "us-east-2"),
            ("EU-CENTRAL-1", "eu-central-1"),
            ("cn-nrothwest-1", "cn-northwest-1"),
            ("us-gov-wst-1", "us-gov-west-1"),
            ("ap-southeast-1", "ap-southeast-1"),
        ] {
            assert_eq!(suggest_region(typo), Some(meant), "{typo}");
        }
        for far in ["mars-north-1", "", "europe"] {
            assert_eq!(suggest_region(far), None, "{far}");
        }
    }

    #[test]
    fn parse_known_explains_the_fix() {
        assert_eq!(Region::parse_known("eu-west-1").unwrap().as_str(), "eu-west-1");
        let err = Region::parse_known("eu-wset-1").unwrap_err();
        assert_eq!(err.field(), "region");
        assert_eq!(err.to_string(), "region: unknown region 'eu-wset-1' — did you mean eu-west-1?");
        let err = Region::parse_known("xx-future-9").unwrap_err().to_string();
        assert!(err.contains("unknown region 'xx-future-9'") && err.contains("newer"), "{err}");
        let err = Region::parse_known("eu-west-1a").unwrap_err().to_string();
        assert!(err.contains("availability zone"), "malformed names keep FromStr's message: {err}");
    }

    #[test]
    fn edit_distance_counts_swaps_as_one() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("wset", "west"), 1);
        assert_eq!(edit_distance("eu-west-1", "eu-west-1"), 0);
    }
}
