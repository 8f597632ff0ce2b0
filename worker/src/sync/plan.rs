//! What a run does with each connection, decided before any account is read: which accounts are
//! read — with which home region, regions and CloudTrail cursors — and which are skipped, and
//! why. Pure: the store's answers go in and the plan comes out, so every rule is unit-tested.

use std::collections::HashMap;

use time::OffsetDateTime;
use trustline_core::Region;
use trustline_core::policy::permissions::DataSet;

use super::SyncOptions;
use crate::store::{Connection, ConnectionStatus};

/// A connection's CloudTrail cursors: region → read up to.
pub(crate) type Cursors = HashMap<String, OffsetDateTime>;

/// Which regions an account's EC2 and CloudTrail lists are read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Regions {
    /// None: the connection reads neither EC2 nor CloudTrail.
    None,
    /// These (the connection's own, or the run's default).
    Listed(Vec<Region>),
    /// Every region enabled in the account (DescribeRegions, once the session is up).
    Enabled,
}

/// One account to read.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    /// The connection.
    pub(crate) connection: Connection,
    /// Where its STS and IAM calls go: the run's home region, or its role's partition's.
    pub(crate) home: Region,
    /// Where its regional lists are read.
    pub(crate) regions: Regions,
    /// How far its CloudTrail events were read, per region.
    pub(crate) cursors: Cursors,
}

/// An account not read this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skip {
    /// The connection.
    pub(crate) connection: String,
    /// The code recorded for it.
    pub(crate) code: &'static str,
    /// Why, as recorded and shown.
    pub(crate) message: &'static str,
}

/// The run's plan.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Accounts to read.
    pub(crate) read: Vec<Account>,
    /// Accounts skipped: suspended, or no longer in their Organization.
    pub(crate) skipped: Vec<Skip>,
    /// A delegated admin's discovery roles: they read only Organizations (already done), and
    /// their own account is read as a member, through the member role.
    pub(crate) discovery_only: Vec<String>,
}

/// The region IAM and STS calls use for a connection: the configured home region, unless the
/// connection's role lives in another partition (aws-cn, aws-us-gov), whose own region it uses.
pub(crate) fn home_for(c: &Connection, home: &Region) -> Region {
    match c.access.role_arn() {
        Some(role) if role.partition() != home.partition() => role.partition().global_region(),
        _ => home.clone(),
    }
}

/// Plans a run over `connections` (the store's, after Organization discovery). `only` limits it
/// to one connection and, for an Organization, its members.
pub(crate) fn plan(
    connections: Vec<Connection>,
    only: Option<&str>,
    mut cursors: HashMap<String, Cursors>,
    options: &SyncOptions,
) -> Plan {
    let mut plan = Plan::default();
    for c in connections {
        if only.is_some_and(|id| c.id != id && c.parent.as_deref() != Some(id)) {
            continue;
        }
        let skipped = match c.status {
            ConnectionStatus::Active => None,
            ConnectionStatus::Removed => Some((
                "AccountRemoved",
                "the account is no longer in its organization (or its OU filter); its inventory is kept as stale",
            )),
            ConnectionStatus::Suspended => {
                Some(("AccountSuspended", "the account is suspended; its inventory is kept as stale"))
            }
        };
        if let Some((code, message)) = skipped {
            plan.skipped.push(Skip { connection: c.id, code, message });
            continue;
        }
        if !c.syncs_own_account() {
            plan.discovery_only.push(c.id);
            continue;
        }
        let regional =
            c.data_sets.contains(&DataSet::Ec2Network) || c.data_sets.contains(&DataSet::CloudTrail);
        let regions = if !regional {
            Regions::None
        } else if !c.regions.is_empty() {
            Regions::Listed(c.regions.clone())
        } else if !options.regions.is_empty() {
            Regions::Listed(options.regions.clone())
        } else {
            Regions::Enabled
        };
        plan.read.push(Account {
            home: home_for(&c, &options.home_region),
            cursors: cursors.remove(&c.id).unwrap_or_default(),
            regions,
            connection: c,
        });
    }
    plan
}

#[cfg(test)]
mod tests {

    use trustline_core::RoleArn;

    use super::*;
    use crate::store::{Access, OrgSettings, TrustedRole};

    fn options(regions: &[&str]) -> SyncOptions {
        SyncOptions {
            concurrency: 4,
            regions: regions.iter().map(|r| r.parse().unwrap()).collect(),
            home_region: "us-east-1".parse().unwrap(),
            region_concurrency: 4,
            cloudtrail: super::super::CloudTrailWindow {
                lookback: time::Duration::days(7),
                overlap: time::Duration::minutes(15),
            },
            read_unsafe: true,
        }
    }

    fn role(id: &str, arn: &str, sets: &[DataSet], regions: &[&str]) -> Connection {
        Connection {
            id: id.into(),
            tenant: "t".into(),
            name: id.into(),
            access: Access::CrossAccountRole(TrustedRole {
                role: arn.parse().unwrap(),
                external_id: "ext-1".parse().unwrap(),
                next_external_id: None,
            }),
            account_id: None,
            data_sets: sets.iter().copied().collect(),
            regions: regions.iter().map(|r| r.parse().unwrap()).collect(),
            status: ConnectionStatus::Active,
            parent: None,
        }
    }

    const ALL: [DataSet; 3] = [DataSet::Iam, DataSet::Ec2Network, DataSet::CloudTrail];

    #[test]
    fn regions_come_from_the_connection_then_the_run_then_the_account() {
        let own = role("own", "arn:aws:iam::111111111111:role/R", &ALL, &["eu-west-1"]);
        let default = role("default", "arn:aws:iam::222222222222:role/R", &ALL, &[]);
        let iam_only = role("iam", "arn:aws:iam::333333333333:role/R", &[DataSet::Iam], &["eu-west-1"]);
        let p = plan(
            vec![own.clone(), default.clone(), iam_only],
            None,
            HashMap::new(),
            &options(&["us-west-2"]),
        );
        let regions: Vec<_> = p.read.iter().map(|a| (a.connection.id.as_str(), a.regions.clone())).collect();
        assert_eq!(
            regions,
            [
                ("own", Regions::Listed(vec!["eu-west-1".parse().unwrap()])),
                ("default", Regions::Listed(vec!["us-west-2".parse().unwrap()])),
                ("iam", Regions::None),
            ]
        );
        let p = plan(vec![default], None, HashMap::new(), &options(&[]));
        assert_eq!(p.read[0].regions, Regions::Enabled);
    }

    #[test]
    fn other_partitions_use_their_own_home_region() {
        let cn = role("cn", "arn:aws-cn:iam::111111111111:role/R", &ALL, &[]);
        let gov = role("gov", "arn:aws-us-gov:iam::222222222222:role/R", &ALL, &[]);
        let aws = role("aws", "arn:aws:iam::333333333333:role/R", &ALL, &[]);
        let p = plan(vec![cn, gov, aws], None, HashMap::new(), &options(&[]));
        let homes: Vec<_> = p.read.iter().map(|a| a.home.to_string()).collect();
        assert_eq!(homes, ["cn-north-1", "us-gov-west-1", "us-east-1"]);
    }

    #[test]
    fn suspended_removed_and_other_connections_are_not_read() {
        let mut org = role("org", "arn:aws:iam::111111111111:role/R-org-discovery", &ALL, &[]);
        if let Access::CrossAccountRole(t) = org.access.clone() {
            org.access = Access::Organization(
                t,
                OrgSettings { member_role: "R".into(), include_ous: vec![], exclude_ous: vec![] },
            );
        }
        let mut member = role("org-222222222222", "arn:aws:iam::222222222222:role/R", &ALL, &[]);
        member.parent = Some("org".into());
        let mut suspended = member.clone();
        suspended.id = "org-333333333333".into();
        suspended.status = ConnectionStatus::Suspended;
        let mut removed = member.clone();
        removed.id = "org-444444444444".into();
        removed.status = ConnectionStatus::Removed;
        let other = role("other", "arn:aws:iam::555555555555:role/R", &ALL, &[]);
        let mut cursors = HashMap::new();
        let t = OffsetDateTime::UNIX_EPOCH;
        cursors.insert("org-222222222222".to_owned(), HashMap::from([("eu-west-1".to_owned(), t)]));
        let all = vec![org, member, suspended, removed, other];

        // Only the Organization: it and its members; the discovery role reads nothing itself.
        let p = plan(all.clone(), Some("org"), cursors.clone(), &options(&[]));
        assert_eq!(p.discovery_only, ["org"]);
        assert_eq!(p.read.iter().map(|a| a.connection.id.as_str()).collect::<Vec<_>>(), ["org-222222222222"]);
        assert_eq!(p.read[0].cursors.get("eu-west-1"), Some(&t));
        assert_eq!(
            p.skipped.iter().map(|s| (s.connection.as_str(), s.code)).collect::<Vec<_>>(),
            [("org-333333333333", "AccountSuspended"), ("org-444444444444", "AccountRemoved")]
        );
        // The whole run.
        let p = plan(all, None, cursors, &options(&[]));
        let read: Vec<_> = p.read.iter().map(|a| a.connection.id.as_str()).collect();
        assert_eq!(read, ["org-222222222222", "other"]);
        assert!(
            p.read.iter().all(|a| a.connection.access.role_arn().is_some_and(|r: &RoleArn| r.name() == "R"))
        );
    }
}
