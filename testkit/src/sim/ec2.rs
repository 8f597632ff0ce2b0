//! EC2, generated per account and region: instances (five to a reservation), VPCs, subnets,
//! security groups and network interfaces, each `Describe*` paged by item with `NextToken`
//! (`MaxResults` 5–1000; pages are `min(MaxResults, page_cap)`, or `page_cap` without it).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::model::{Model, created, hex17, iso, page};
use super::wire::{Api, Family, Params, Reply};

const TYPES: [&str; 6] = ["t3.micro", "t3.medium", "m6i.large", "c6g.xlarge", "r6i.2xlarge", "t4g.small"];

/// One account-region's EC2, computed on demand.
pub(crate) struct Region<'a> {
    m: &'a Model,
    index: u32,
    region: u16,
    account: String,
}

impl<'a> Region<'a> {
    pub(crate) fn new(m: &'a Model, index: u32, region: u16) -> Region<'a> {
        Region { m, index, region, account: m.account_id(index) }
    }

    fn h(&self, api: Api, i: u32) -> u64 {
        self.m.h(&[u64::from(self.index), u64::from(self.region), api.index() as u64, u64::from(i)])
    }

    fn id(&self, prefix: &str, api: Api, i: u32) -> String {
        format!("{prefix}-{}", hex17(self.h(api, i)))
    }

    fn name(&self) -> &str {
        self.m.region_name(self.region)
    }

    /// Items in a list.
    pub(crate) fn count(&self, api: Api) -> u32 {
        let c = &self.m.cfg;
        match api {
            Api::DescribeInstances => c.instances,
            Api::DescribeVpcs => c.vpcs,
            Api::DescribeSubnets => c.subnets,
            Api::DescribeSecurityGroups => c.security_groups,
            Api::DescribeNetworkInterfaces => c.interfaces,
            _ => 0,
        }
    }

    fn pick(&self, api: Api, i: u32) -> Option<String> {
        let n = self.count(api);
        let prefix = match api {
            Api::DescribeVpcs => "vpc",
            Api::DescribeSubnets => "subnet",
            Api::DescribeSecurityGroups => "sg",
            Api::DescribeInstances => "i",
            _ => "eni",
        };
        (n > 0).then(|| self.id(prefix, api, i % n))
    }

    fn zone(&self, i: u32) -> String {
        format!("{}{}", self.name(), ['a', 'b', 'c'][(i % 3) as usize])
    }

    fn opt(out: &mut String, tag: &str, value: Option<String>) {
        if let Some(v) = value {
            let _ = write!(out, "<{tag}>{v}</{tag}>");
        }
    }

    fn instance(&self, out: &mut String, i: u32) {
        let h = self.h(Api::DescribeInstances, i);
        let running = !h.is_multiple_of(5);
        let (code, state) = if running { (16, "running") } else { (80, "stopped") };
        let ip = format!("10.{}.{}.{}", self.region, (i / 250) % 256, i % 250 + 4);
        let _ = write!(
            out,
            "<item><instanceId>{}</instanceId><imageId>ami-{}</imageId><instanceState><code>{code}</code><name>{state}</name></instanceState><privateDnsName>ip-{}.ec2.internal</privateDnsName><instanceType>{}</instanceType><launchTime>{}</launchTime><placement><availabilityZone>{}</availabilityZone><tenancy>default</tenancy></placement>",
            self.id("i", Api::DescribeInstances, i),
            hex17(h >> 3),
            ip.replace('.', "-"),
            TYPES[(h % TYPES.len() as u64) as usize],
            iso(created(h)),
            self.zone(i)
        );
        Self::opt(out, "subnetId", self.pick(Api::DescribeSubnets, i));
        Self::opt(out, "vpcId", self.pick(Api::DescribeVpcs, i));
        let _ = write!(out, "<privateIpAddress>{ip}</privateIpAddress>");
        if running && h.is_multiple_of(3) {
            let _ = write!(out, "<ipAddress>203.0.{}.{}</ipAddress>", (h >> 8) % 256, (h >> 16) % 250 + 1);
        }
        out.push_str("<groupSet>");
        if let Some(sg) = self.pick(Api::DescribeSecurityGroups, i) {
            let _ = write!(
                out,
                "<item><groupId>{sg}</groupId><groupName>sg-name-{}</groupName></item>",
                i % self.count(Api::DescribeSecurityGroups)
            );
        }
        out.push_str("</groupSet>");
        if h.is_multiple_of(2) {
            let _ = write!(
                out,
                "<iamInstanceProfile><arn>arn:aws:iam::{}:instance-profile/app-profile</arn><id>AIPA{}</id></iamInstanceProfile>",
                self.account,
                super::model::upper_alnum(h, 17)
            );
        }
        let _ = write!(
            out,
            "<tagSet><item><key>Name</key><value>web-{i}</value></item><item><key>env</key><value>{}</value></item></tagSet></item>",
            ["prod", "staging", "dev"][(h % 3) as usize]
        );
    }

    fn instances(&self, start: u32, end: u32) -> String {
        let mut out = String::from("<reservationSet>");
        let mut i = start;
        while i < end {
            let reservation = i / 5;
            let last = ((reservation + 1) * 5).min(end);
            let _ = write!(
                out,
                "<item><reservationId>{}</reservationId><ownerId>{}</ownerId><groupSet/><instancesSet>",
                self.id("r", Api::DescribeRegions, reservation),
                self.account
            );
            for j in i..last {
                self.instance(&mut out, j);
            }
            out.push_str("</instancesSet></item>");
            i = last;
        }
        out.push_str("</reservationSet>");
        out
    }

    fn vpc(&self, out: &mut String, v: u32) {
        let _ = write!(
            out,
            "<item><vpcId>{}</vpcId><ownerId>{}</ownerId><state>available</state><cidrBlock>10.{}.0.0/16</cidrBlock><dhcpOptionsId>dopt-{}</dhcpOptionsId><instanceTenancy>default</instanceTenancy><isDefault>{}</isDefault><tagSet><item><key>Name</key><value>vpc-{v}</value></item></tagSet></item>",
            self.id("vpc", Api::DescribeVpcs, v),
            self.account,
            v % 256,
            hex17(self.h(Api::DescribeVpcs, v) >> 5),
            v == 0
        );
    }

    fn subnet(&self, out: &mut String, s: u32) {
        let id = self.id("subnet", Api::DescribeSubnets, s);
        let _ = write!(
            out,
            "<item><subnetId>{id}</subnetId><subnetArn>arn:aws:ec2:{}:{}:subnet/{id}</subnetArn><state>available</state><ownerId>{}</ownerId>",
            self.name(),
            self.account,
            self.account
        );
        Self::opt(out, "vpcId", self.pick(Api::DescribeVpcs, s));
        let _ = write!(
            out,
            "<cidrBlock>10.{}.{}.0/24</cidrBlock><availableIpAddressCount>251</availableIpAddressCount><availabilityZone>{}</availabilityZone><defaultForAz>false</defaultForAz><mapPublicIpOnLaunch>{}</mapPublicIpOnLaunch><tagSet/></item>",
            s % 256,
            (s / 256) % 256,
            self.zone(s),
            s.is_multiple_of(4)
        );
    }

    fn security_group(&self, out: &mut String, g: u32) {
        let name = if g == 0 { "default".to_owned() } else { format!("sg-name-{g}") };
        let _ = write!(
            out,
            "<item><ownerId>{}</ownerId><groupId>{}</groupId><groupName>{name}</groupName><groupDescription>security group {g}</groupDescription>",
            self.account,
            self.id("sg", Api::DescribeSecurityGroups, g)
        );
        Self::opt(out, "vpcId", self.pick(Api::DescribeVpcs, g));
        let port = [22, 80, 443, 5432][(g % 4) as usize];
        let _ = write!(
            out,
            "<ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>{port}</fromPort><toPort>{port}</toPort><groups/><ipRanges><item><cidrIp>{}</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item></ipPermissions><ipPermissionsEgress><item><ipProtocol>-1</ipProtocol><groups/><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item></ipPermissionsEgress><tagSet/></item>",
            if g.is_multiple_of(3) { "0.0.0.0/0" } else { "10.0.0.0/8" }
        );
    }

    fn interface(&self, out: &mut String, n: u32) {
        let id = self.id("eni", Api::DescribeNetworkInterfaces, n);
        let h = self.h(Api::DescribeNetworkInterfaces, n);
        let _ = write!(out, "<item><networkInterfaceId>{id}</networkInterfaceId>");
        Self::opt(out, "subnetId", self.pick(Api::DescribeSubnets, n));
        Self::opt(out, "vpcId", self.pick(Api::DescribeVpcs, n));
        let attached = n < self.count(Api::DescribeInstances);
        let _ = write!(
            out,
            "<availabilityZone>{}</availabilityZone><description/><ownerId>{}</ownerId><requesterManaged>false</requesterManaged><status>{}</status><macAddress>02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}</macAddress><privateIpAddress>10.{}.{}.{}</privateIpAddress><sourceDestCheck>true</sourceDestCheck><groupSet>",
            self.zone(n),
            self.account,
            if attached { "in-use" } else { "available" },
            h & 0xff,
            (h >> 8) & 0xff,
            (h >> 16) & 0xff,
            (h >> 24) & 0xff,
            (h >> 32) & 0xff,
            self.region,
            (n / 250) % 256,
            n % 250 + 4
        );
        if let Some(sg) = self.pick(Api::DescribeSecurityGroups, n) {
            let _ = write!(out, "<item><groupId>{sg}</groupId><groupName>sg</groupName></item>");
        }
        out.push_str("</groupSet>");
        if attached {
            let _ = write!(
                out,
                "<attachment><attachmentId>eni-attach-{}</attachmentId><instanceId>{}</instanceId><instanceOwnerId>{}</instanceOwnerId><deviceIndex>0</deviceIndex><status>attached</status></attachment>",
                hex17(h >> 7),
                self.id("i", Api::DescribeInstances, n),
                self.account
            );
        }
        let _ = write!(out, "<interfaceType>interface</interfaceType><tagSet/></item>");
    }

    pub(crate) fn handle(&self, api: Api, p: &Params, rid: &str) -> Reply {
        if api == Api::DescribeRegions {
            let mut set = String::from("<regionInfo>");
            for r in &self.m.cfg.regions {
                let _ = write!(
                    set,
                    "<item><regionName>{r}</regionName><regionEndpoint>ec2.{r}.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>"
                );
            }
            set.push_str("</regionInfo>");
            return Reply::ec2("DescribeRegions", &set, rid);
        }
        let cap = u64::from(self.m.cfg.page_cap.max(1));
        let size = match p.number("MaxResults") {
            Ok(None) => cap,
            Ok(Some(n)) if (5.0..=1000.0).contains(&n) => (n as u64).min(cap),
            _ => {
                return Reply::invalid(
                    Family::Ec2,
                    "InvalidParameterValue",
                    "Value for parameter MaxResults is invalid. Expecting a value greater than 5 and less than 1000.",
                    rid,
                );
            }
        };
        let scope = [u64::from(self.index), api.index() as u64, u64::from(self.region)];
        let offset = match p.str("NextToken").filter(|t| !t.is_empty()) {
            None => 0,
            Some(t) => match self.m.untoken(&scope, t) {
                Some(o) => o,
                None => return Reply::bad_token(Family::Ec2, rid),
            },
        };
        let (start, end, next) = page(offset, u64::from(self.count(api)), size);
        let (start, end) = (start as u32, end as u32);
        let mut inner = match api {
            Api::DescribeInstances => self.instances(start, end),
            _ => {
                let tag = set_tag(api);
                let mut out = format!("<{tag}>");
                for i in start..end {
                    match api {
                        Api::DescribeVpcs => self.vpc(&mut out, i),
                        Api::DescribeSubnets => self.subnet(&mut out, i),
                        Api::DescribeSecurityGroups => self.security_group(&mut out, i),
                        _ => self.interface(&mut out, i),
                    }
                }
                let _ = write!(out, "</{tag}>");
                out
            }
        };
        if let Some(n) = next {
            let _ = write!(inner, "<nextToken>{}</nextToken>", self.m.token(&scope, n));
        }
        Reply::ec2(api.name(), &inner, rid)
    }
}

/// The element a `Describe*` answer holds its items in.
fn set_tag(api: Api) -> &'static str {
    match api {
        Api::DescribeInstances => "reservationSet",
        Api::DescribeVpcs => "vpcSet",
        Api::DescribeSubnets => "subnetSet",
        Api::DescribeSecurityGroups => "securityGroupInfo",
        _ => "networkInterfaceSet",
    }
}

/// A `Describe*` answer with nothing in it.
pub(crate) fn empty(api: Api, rid: &str) -> Reply {
    Reply::ec2(api.name(), &format!("<{}/>", set_tag(api)), rid)
}

/// The five lists a region's EC2 sync reads, and the kinds they are stored as.
pub(crate) const LISTS: [(Api, &str, &str); 5] = [
    (Api::DescribeInstances, "ec2-instance", "i"),
    (Api::DescribeVpcs, "ec2-vpc", "vpc"),
    (Api::DescribeSubnets, "ec2-subnet", "subnet"),
    (Api::DescribeSecurityGroups, "ec2-security-group", "sg"),
    (Api::DescribeNetworkInterfaces, "ec2-network-interface", "eni"),
];

/// What a complete EC2 sync stores for account `index` in `region`.
pub(crate) fn expected(m: &Model, index: u32, region: u16, out: &mut BTreeSet<(String, String, String)>) {
    let r = Region::new(m, index, region);
    for (api, kind, prefix) in LISTS {
        for i in 0..r.count(api) {
            out.insert((r.name().to_owned(), kind.to_owned(), r.id(prefix, api, i)));
        }
    }
}
