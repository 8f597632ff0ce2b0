//! IAM, generated per account: users (with groups, policies, tags and 0–2 access keys), groups,
//! roles (the vendor's, with its ExternalId trust policy), local policies and attached
//! AWS-managed policies; `GetAccountAuthorizationDetails`, `ListAccessKeys` and the credential
//! report over them, paged with opaque markers.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

mod report;

use super::model::{Model, count_mod, created, iso, page, upper_alnum};
use super::wire::{Api, Family, Params, Reply};

const USER: u64 = 1;
const GROUP: u64 = 2;
const ROLE: u64 = 3;
const LOCAL: u64 = 4;
const AWS: u64 = 5;
const KEY: u64 = 6;

/// Real AWS-managed policies (path, name); more than these get generated names.
const AWS_POLICIES: [(&str, &str); 16] = [
    ("/", "SecurityAudit"),
    ("/", "ReadOnlyAccess"),
    ("/", "AdministratorAccess"),
    ("/job-function/", "ViewOnlyAccess"),
    ("/", "AmazonS3ReadOnlyAccess"),
    ("/", "AmazonEC2ReadOnlyAccess"),
    ("/", "IAMReadOnlyAccess"),
    ("/", "AWSCloudTrail_ReadOnlyAccess"),
    ("/", "AmazonVPCReadOnlyAccess"),
    ("/", "PowerUserAccess"),
    ("/service-role/", "AWSLambdaBasicExecutionRole"),
    ("/", "AmazonSSMManagedInstanceCore"),
    ("/", "CloudWatchReadOnlyAccess"),
    ("/", "AmazonRDSReadOnlyAccess"),
    ("/", "AmazonDynamoDBReadOnlyAccess"),
    ("/", "AWSBillingReadOnlyAccess"),
];
/// AWS-managed policies GetAccountAuthorizationDetails lists although nothing uses them.
const UNATTACHED: [&str; 2] = ["AWSCloudShellFullAccess", "AmazonGlacierReadOnlyAccess"];

/// One account's IAM, computed on demand.
pub(crate) struct Account<'a> {
    m: &'a Model,
    index: u32,
    id: String,
}

impl<'a> Account<'a> {
    pub(crate) fn new(m: &'a Model, index: u32) -> Account<'a> {
        Account { m, index, id: m.account_id(index) }
    }

    fn h(&self, kind: u64, i: u64, extra: u64) -> u64 {
        self.m.h(&[u64::from(self.index), kind, i, extra])
    }

    fn users(&self) -> u32 {
        self.m.cfg.users
    }
    fn groups(&self) -> u32 {
        self.m.cfg.groups
    }
    /// The vendor's role(s) first: the member role, and in the management account the
    /// Organizations discovery role.
    fn vendor_roles(&self) -> u32 {
        if self.index == 0 { 2 } else { 1 }
    }
    fn roles(&self) -> u32 {
        self.vendor_roles() + self.m.cfg.roles
    }
    fn locals(&self) -> u32 {
        self.m.cfg.local_policies
    }
    fn attached_aws(&self) -> u32 {
        self.m.cfg.aws_managed_policies
    }
    fn aws_listed(&self) -> u32 {
        let m = self.attached_aws();
        if m == 0 { 0 } else { m + UNATTACHED.len() as u32 }
    }

    pub(crate) fn user_name(i: u32) -> String {
        format!("user-{i:05}")
    }
    fn user_index(&self, name: &str) -> Option<u32> {
        let i: u32 = name.strip_prefix("user-")?.parse().ok()?;
        (i < self.users() && Self::user_name(i) == name).then_some(i)
    }
    fn group_name(g: u32) -> String {
        format!("group-{g:03}")
    }
    fn role_name(&self, r: u32) -> String {
        match r {
            0 => self.m.cfg.role_name.clone(),
            1 if self.index == 0 => self.m.org_role_name(),
            _ => format!("app-role-{:04}", r - self.vendor_roles()),
        }
    }
    fn local_arn(&self, p: u32) -> String {
        format!("arn:aws:iam::{}:policy/policy-{p:04}", self.id)
    }
    /// (path, name) of AWS-managed policy `j` (`j >= attached_aws()`: an unattached one).
    fn aws_policy(&self, j: u32) -> (&'static str, String) {
        let m = self.attached_aws();
        if j >= m {
            return ("/", UNATTACHED[(j - m) as usize].to_owned());
        }
        match AWS_POLICIES.get(j as usize) {
            Some((path, name)) => (path, (*name).to_owned()),
            None => ("/", format!("SimManagedPolicy{j:04}")),
        }
    }
    fn aws_arn(&self, j: u32) -> String {
        let (path, name) = self.aws_policy(j);
        format!("arn:aws:iam::aws:policy{path}{name}")
    }
    /// How many users, groups and roles use AWS-managed policy `j`: user `i` uses `i mod M`,
    /// group `g` uses `g mod M`, and role `r` every `j ≡ r (mod roles)` (so each is used).
    fn aws_attachments(&self, j: u32) -> u32 {
        let m = self.attached_aws();
        if j >= m {
            return 0;
        }
        count_mod(self.users(), m, j) + count_mod(self.groups(), m, j) + 1
    }
    /// User `i` and group `g` use local policy `i mod P`; app role `k` uses `k mod P`.
    fn local_attachments(&self, p: u32) -> u32 {
        let n = self.locals();
        count_mod(self.users(), n, p) + count_mod(self.groups(), n, p) + count_mod(self.m.cfg.roles, n, p)
    }

    /// How many access keys user `i` has (0–2).
    fn key_count(&self, i: u32) -> u64 {
        self.h(KEY, u64::from(i), 0) % 3
    }

    /// Access keys of user `i`: (key ID, active, created).
    pub(crate) fn keys(&self, i: u32) -> Vec<(String, bool, i64)> {
        (0..self.key_count(i))
            .map(|slot| {
                let h = self.h(KEY, u64::from(i), slot + 1);
                (format!("AKIA{}", upper_alnum(h, 16)), slot == 0 || !h.is_multiple_of(4), created(h))
            })
            .collect()
    }

    fn attached_xml(&self, out: &mut String, aws: impl IntoIterator<Item = u32>, local: Option<u32>) {
        out.push_str("<AttachedManagedPolicies>");
        for j in aws {
            let (_, name) = self.aws_policy(j);
            let _ = write!(
                out,
                "<member><PolicyName>{name}</PolicyName><PolicyArn>{}</PolicyArn></member>",
                self.aws_arn(j)
            );
        }
        if let Some(p) = local {
            let _ = write!(
                out,
                "<member><PolicyName>policy-{p:04}</PolicyName><PolicyArn>{}</PolicyArn></member>",
                self.local_arn(p)
            );
        }
        out.push_str("</AttachedManagedPolicies>");
    }

    fn user_xml(&self, out: &mut String, i: u32) {
        let name = Self::user_name(i);
        let h = self.h(USER, u64::from(i), 0);
        let _ = write!(
            out,
            "<member><Path>/</Path><UserName>{name}</UserName><UserId>AIDA{}</UserId><Arn>arn:aws:iam::{}:user/{name}</Arn><CreateDate>{}</CreateDate>",
            upper_alnum(h, 17),
            self.id,
            iso(created(h))
        );
        if i.is_multiple_of(3) {
            let doc = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket-{i}/*"}}]}}"#
            );
            let _ = write!(
                out,
                "<UserPolicyList><member><PolicyName>inline-{i}</PolicyName><PolicyDocument>{}</PolicyDocument></member></UserPolicyList>",
                utf8_percent_encode(&doc, NON_ALPHANUMERIC)
            );
        } else {
            out.push_str("<UserPolicyList/>");
        }
        out.push_str("<GroupList>");
        if self.groups() > 0 {
            let _ = write!(out, "<member>{}</member>", Self::group_name(i % self.groups()));
        }
        out.push_str("</GroupList>");
        let aws = (self.attached_aws() > 0).then(|| i % self.attached_aws());
        self.attached_xml(out, aws, (self.locals() > 0).then(|| i % self.locals()));
        let _ = write!(
            out,
            "<Tags><member><Key>team</Key><Value>team-{}</Value></member><member><Key>cost-center</Key><Value>cc-{}</Value></member></Tags></member>",
            h % 7,
            h % 100
        );
    }

    fn group_xml(&self, out: &mut String, g: u32) {
        let name = Self::group_name(g);
        let h = self.h(GROUP, u64::from(g), 0);
        let _ = write!(
            out,
            "<member><Path>/</Path><GroupName>{name}</GroupName><GroupId>AGPA{}</GroupId><Arn>arn:aws:iam::{}:group/{name}</Arn><CreateDate>{}</CreateDate><GroupPolicyList/>",
            upper_alnum(h, 17),
            self.id,
            iso(created(h))
        );
        let aws = (self.attached_aws() > 0).then(|| g % self.attached_aws());
        self.attached_xml(out, aws, (self.locals() > 0).then(|| g % self.locals()));
        out.push_str("</member>");
    }

    fn role_xml(&self, out: &mut String, r: u32) {
        let name = self.role_name(r);
        let h = self.h(ROLE, u64::from(r), 0);
        let trust = if r < self.vendor_roles() {
            member_trust_policy(self.m)
        } else {
            let service = if r.is_multiple_of(2) { "ec2.amazonaws.com" } else { "lambda.amazonaws.com" };
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
            )
        };
        let _ = write!(
            out,
            "<member><Path>/</Path><RoleName>{name}</RoleName><RoleId>AROA{}</RoleId><Arn>arn:aws:iam::{}:role/{name}</Arn><CreateDate>{}</CreateDate><AssumeRolePolicyDocument>{}</AssumeRolePolicyDocument><InstanceProfileList/><RolePolicyList/>",
            upper_alnum(h, 17),
            self.id,
            iso(created(h)),
            utf8_percent_encode(&trust, NON_ALPHANUMERIC)
        );
        let roles = self.roles();
        let aws = (r..self.attached_aws()).step_by(roles as usize);
        let local = (r >= self.vendor_roles() && self.locals() > 0)
            .then(|| (r - self.vendor_roles()) % self.locals());
        self.attached_xml(out, aws, local);
        let _ = write!(
            out,
            "<Tags/><RoleLastUsed><LastUsedDate>{}</LastUsedDate><Region>{}</Region></RoleLastUsed></member>",
            iso(self.m.t0 - (h % 86_400) as i64),
            self.m.region_name(1)
        );
    }

    /// A managed policy: `names` is (name, ARN, path).
    fn policy_xml(&self, out: &mut String, names: (&str, &str, &str), count: u32, h: u64, doc: &str) {
        let (name, arn, path) = names;
        let date = iso(created(h));
        let _ = write!(
            out,
            "<member><PolicyName>{name}</PolicyName><PolicyId>ANPA{}</PolicyId><Arn>{arn}</Arn><Path>{path}</Path><DefaultVersionId>v1</DefaultVersionId><AttachmentCount>{count}</AttachmentCount><PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount><IsAttachable>true</IsAttachable><CreateDate>{date}</CreateDate><UpdateDate>{date}</UpdateDate><PolicyVersionList><member><Document>{}</Document><VersionId>v1</VersionId><IsDefaultVersion>true</IsDefaultVersion><CreateDate>{date}</CreateDate></member></PolicyVersionList></member>",
            upper_alnum(h, 17),
            utf8_percent_encode(doc, NON_ALPHANUMERIC)
        );
    }

    fn local_xml(&self, out: &mut String, p: u32) {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:Describe*","s3:List*"],"Resource":"*"}]}"#;
        let h = self.h(LOCAL, u64::from(p), 0);
        let name = format!("policy-{p:04}");
        self.policy_xml(out, (&name, &self.local_arn(p), "/"), self.local_attachments(p), h, doc);
    }

    fn aws_xml(&self, out: &mut String, j: u32) {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["*:Get*","*:List*","*:Describe*"],"Resource":"*"}]}"#;
        let (path, name) = self.aws_policy(j);
        let h = self.m.h(&[AWS, u64::from(j)]);
        self.policy_xml(out, (&name, &self.aws_arn(j), path), self.aws_attachments(j), h, doc);
    }

    /// GetAccountAuthorizationDetails: the filtered entity types one after another, paged by
    /// position in that sequence.
    fn authorization_details(&self, p: &Params, rid: &str) -> Reply {
        let filter = p.members("Filter.member");
        let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| f == name);
        let segments: [(u64, u32, bool); 5] = [
            (USER, self.users(), wanted("User")),
            (GROUP, self.groups(), wanted("Group")),
            (ROLE, self.roles(), wanted("Role")),
            (LOCAL, self.locals(), wanted("LocalManagedPolicy")),
            (AWS, self.aws_listed(), wanted("AWSManagedPolicy")),
        ];
        let mask = segments.iter().fold(0u64, |m, s| (m << 1) | u64::from(s.2));
        let total: u64 = segments.iter().filter(|s| s.2).map(|s| u64::from(s.1)).sum();
        let scope = [u64::from(self.index), Api::GetAccountAuthorizationDetails.index() as u64, mask];
        let (offset, size) = match self.paging(p, &scope, rid) {
            Ok(x) => x,
            Err(reply) => return reply,
        };
        let (start, end, next) = page(offset, total, size);
        let mut lists: [String; 5] = Default::default();
        let mut base = 0u64;
        for (n, (kind, count, on)) in segments.into_iter().enumerate() {
            if !on {
                continue;
            }
            let (lo, hi) = (start.max(base), end.min(base + u64::from(count)));
            for i in lo..hi {
                let i = (i - base) as u32;
                let out = &mut lists[n];
                match kind {
                    USER => self.user_xml(out, i),
                    GROUP => self.group_xml(out, i),
                    ROLE => self.role_xml(out, i),
                    LOCAL => self.local_xml(out, i),
                    _ => self.aws_xml(out, i),
                }
            }
            base += u64::from(count);
        }
        let [users, groups, roles, local, aws] = lists;
        let result = format!(
            "{}<UserDetailList>{users}</UserDetailList><GroupDetailList>{groups}</GroupDetailList><RoleDetailList>{roles}</RoleDetailList><Policies>{local}{aws}</Policies>",
            self.truncation(&scope, next)
        );
        Reply::query(Family::Iam, "GetAccountAuthorizationDetails", &result, rid)
    }

    /// The marker's offset and the page size (`min(MaxItems, page_cap)`; MaxItems 1–1000,
    /// default 100).
    fn paging(&self, p: &Params, scope: &[u64], rid: &str) -> Result<(u64, u64), Reply> {
        let max = match p.number("MaxItems") {
            Ok(None) => 100.0,
            Ok(Some(n)) if (1.0..=1000.0).contains(&n) => n,
            _ => {
                return Err(Reply::invalid(
                    Family::Iam,
                    "ValidationError",
                    "1 validation error detected: Value at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000",
                    rid,
                ));
            }
        };
        let offset = match p.str("Marker") {
            None => 0,
            Some(marker) => {
                self.m.untoken(scope, marker).ok_or_else(|| Reply::bad_token(Family::Iam, rid))?
            }
        };
        Ok((offset, (max as u64).min(u64::from(self.m.cfg.page_cap.max(1)))))
    }

    fn truncation(&self, scope: &[u64], next: Option<u64>) -> String {
        match next {
            Some(n) => format!("<IsTruncated>true</IsTruncated><Marker>{}</Marker>", self.m.token(scope, n)),
            None => "<IsTruncated>false</IsTruncated>".to_owned(),
        }
    }

    fn access_keys(&self, p: &Params, rid: &str) -> Reply {
        let Some(user) = p.str("UserName") else {
            return Reply::invalid(
                Family::Iam,
                "ValidationError",
                "Must specify userName when calling with non-User credentials",
                rid,
            );
        };
        let Some(i) = self.user_index(user) else {
            return Reply::error(
                Family::Iam,
                404,
                "NoSuchEntity",
                &format!("The user with name {user} cannot be found."),
                rid,
            );
        };
        let scope = [u64::from(self.index), Api::ListAccessKeys.index() as u64, u64::from(i)];
        let (offset, size) = match self.paging(p, &scope, rid) {
            Ok(x) => x,
            Err(reply) => return reply,
        };
        let keys = self.keys(i);
        let (start, end, next) = page(offset, keys.len() as u64, size);
        let mut members = String::new();
        for (id, active, created) in &keys[start as usize..end as usize] {
            let status = if *active { "Active" } else { "Inactive" };
            let _ = write!(
                members,
                "<member><UserName>{user}</UserName><AccessKeyId>{id}</AccessKeyId><Status>{status}</Status><CreateDate>{}</CreateDate></member>",
                iso(*created)
            );
        }
        let result =
            format!("<AccessKeyMetadata>{members}</AccessKeyMetadata>{}", self.truncation(&scope, next));
        Reply::query(Family::Iam, "ListAccessKeys", &result, rid)
    }

    /// GetRole for the vendor's roles (the member role, and the management account's discovery
    /// role), with their trust policy URL-encoded as IAM sends it; other names do not exist.
    fn get_role(&self, p: &Params, rid: &str) -> Reply {
        let name = p.str("RoleName").unwrap_or_default();
        let ours = name == self.m.cfg.role_name || (self.index == 0 && name == self.m.org_role_name());
        if !ours {
            let message = format!("The role with name {name} cannot be found.");
            return Reply::error(Family::Iam, 404, "NoSuchEntity", &message, rid);
        }
        let arn = format!("arn:aws:iam::{}:role/{name}", self.id);
        let result = super::explicit::role_xml(&arn, &member_trust_policy(self.m), 3600, false);
        Reply::query(Family::Iam, "GetRole", &format!("<Role>{}</Role>", strip_member(&result)), rid)
    }

    pub(crate) fn handle(&self, api: Api, p: &Params, rid: &str) -> Reply {
        match api {
            Api::GetAccountAuthorizationDetails => self.authorization_details(p, rid),
            Api::ListAccessKeys => self.access_keys(p, rid),
            Api::GenerateCredentialReport => Reply::query(
                Family::Iam,
                "GenerateCredentialReport",
                "<State>COMPLETE</State><Description>No report exists. Starting a new report generation task</Description>",
                rid,
            ),
            Api::GetCredentialReport => {
                let content = data_encoding::BASE64.encode(self.credential_report().as_bytes());
                let result = format!(
                    "<Content>{content}</Content><ReportFormat>text/csv</ReportFormat><GeneratedTime>{}</GeneratedTime>",
                    iso(self.m.t0)
                );
                Reply::query(Family::Iam, "GetCredentialReport", &result, rid)
            }
            Api::GetRole => self.get_role(p, rid),
            // The List* calls are answered for explicit accounts only (see `explicit`).
            _ => Reply::invalid(
                Family::Iam,
                "InvalidAction",
                &format!("The simulator does not implement {} for generated accounts.", api.name()),
                rid,
            ),
        }
    }
}

/// A `<member>…</member>` element's inside.
fn strip_member(xml: &str) -> &str {
    xml.strip_prefix("<member>").and_then(|x| x.strip_suffix("</member>")).unwrap_or(xml)
}

/// The trust policy of the vendor's roles in the organization's accounts: the vendor's account,
/// with the configured ExternalId (StringEquals, so a missing one is refused too).
pub(crate) fn member_trust_policy(m: &Model) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"{}"}}}}}}]}}"#,
        super::model::VENDOR_ACCOUNT,
        m.cfg.external_id
    )
}

/// What a complete IAM sync stores for account `index`.
pub(crate) fn expected(m: &Model, index: u32, out: &mut BTreeSet<(String, String, String)>) {
    let a = Account::new(m, index);
    let mut add = |kind: &str, id: String| {
        out.insert(("global".to_owned(), kind.to_owned(), id));
    };
    for i in 0..a.users() {
        add("iam-user", Account::user_name(i));
        for (key, _, _) in a.keys(i) {
            add("iam-access-key", key);
        }
    }
    for g in 0..a.groups() {
        add("iam-group", Account::group_name(g));
    }
    for r in 0..a.roles() {
        add("iam-role", a.role_name(r));
    }
    for p in 0..a.locals() {
        add("iam-policy", a.local_arn(p));
    }
    for j in 0..a.aws_listed() {
        if a.aws_attachments(j) > 0 {
            add("iam-aws-managed-policy", a.aws_arn(j));
        }
    }
}

/// Calls a complete IAM sync of one account makes: GAAD pages at `max_items`, then
/// ListAccessKeys pages per user (`MaxItems` absent, so 100 before the cap).
pub(crate) fn calls(m: &Model, index: u32, max_items: u32) -> (u64, u64) {
    let a = Account::new(m, index);
    let cap = u64::from(m.cfg.page_cap.max(1));
    let items = u64::from(a.users() + a.groups() + a.roles() + a.locals() + a.aws_listed());
    let gaad = items.div_ceil(u64::from(max_items.max(1)).min(cap)).max(1);
    let keys = (0..a.users()).map(|i| a.key_count(i).div_ceil(100.min(cap)).max(1)).sum();
    (gaad, keys)
}

/// How many resources [`expected`] holds for account `index`, without listing them.
pub(crate) fn count(m: &Model, index: u32) -> u64 {
    let a = Account::new(m, index);
    let keys: u64 = (0..a.users()).map(|i| a.key_count(i)).sum();
    let attached = (0..a.aws_listed()).filter(|&j| a.aws_attachments(j) > 0).count() as u64;
    keys + u64::from(a.users() + a.groups() + a.roles() + a.locals()) + attached
}
