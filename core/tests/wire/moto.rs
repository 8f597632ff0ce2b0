//! Trustline-signed requests against moto with signature checking on: accepted when right,
//! `SignatureDoesNotMatch` (bad credentials) when the secret is wrong.
//!
//! With `TRUSTLINE_RECORD=1` the responses are written to `tests/fixtures/moto/` for the
//! parser tests (moto's shapes differ from AWS's in places: timestamps in microseconds, raw policy JSON in ListRoles, no EC2 pagination).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime};

use trustline_core::aws::{
    AwsErrorKind, HttpRequest, HttpResponse, Operation, cloudtrail, ec2, iam, organizations, prepare, sts,
};
use trustline_core::{Credentials, Endpoints, Service, Signer};
use trustline_testkit::moto::{Moto, MotoOptions};

/// Sends `request` to moto over plain HTTP/1.1 and reads the whole response.
pub(crate) fn send(request: &HttpRequest) -> HttpResponse {
    let rest = request.url().strip_prefix("http://").expect("moto is plain http");
    let (authority, path) =
        rest.split_once('/').map(|(a, p)| (a, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = TcpStream::connect(authority).expect("connect to moto");
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head =
        format!("{} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n", request.method());
    for (name, value) in request.headers() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", request.body().len()));
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(request.body()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
        .collect();
    if headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked")) {
        body = dechunk(&body);
    }
    HttpResponse::new(status, headers, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else { return out };
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 4 + size..];
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).unwrap_or_else(|| panic!("no {open} in {text}")) + open.len();
    &text[start..start + text[start..].find(close).unwrap()]
}

struct Account {
    moto: Moto,
    endpoints: Endpoints,
    admin: Credentials,
}

impl Account {
    /// moto verifying signatures after three unsigned seeding calls that create an admin user.
    fn start() -> Self {
        let moto = Moto::start_with(&MotoOptions { verify_signatures_after: Some(3), ..Default::default() });
        let endpoints =
            Endpoints::new("eu-west-1".parse().unwrap()).with_override_all(&moto.endpoint()).unwrap();
        let seed = Signer::new(&Credentials::new("AKIASEEDSEEDSEEDSEED", "seed", None));
        let iam_form = |body: &str| {
            let mut request =
                HttpRequest::post_form(format!("{}/", moto.endpoint()), body.as_bytes().to_vec());
            seed.sign(&mut request, "iam", "us-east-1", SystemTime::now()).unwrap();
            let response = send(&request);
            assert_eq!(response.status(), 200, "{}", String::from_utf8_lossy(response.body()));
            String::from_utf8(response.body().to_vec()).unwrap()
        };
        iam_form("Action=CreateUser&Version=2010-05-08&UserName=trustline-admin");
        let key = iam_form("Action=CreateAccessKey&Version=2010-05-08&UserName=trustline-admin");
        let policy = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        iam_form(&format!(
            "Action=PutUserPolicy&Version=2010-05-08&UserName=trustline-admin&PolicyName=all&PolicyDocument={policy}"
        ));
        let admin = Credentials::new(
            between(&key, "<AccessKeyId>", "</AccessKeyId>"),
            between(&key, "<SecretAccessKey>", "</SecretAccessKey>"),
            None,
        );
        Self { moto, endpoints, admin }
    }

    fn call<O: Operation>(&self, op: &O, creds: &Credentials) -> HttpResponse {
        let request = prepare(op, &self.endpoints, &Signer::new(creds), SystemTime::now()).unwrap();
        send(&request)
    }

    /// A signed raw call for seeding data (operations Trustline itself never makes).
    fn raw(&self, service: Service, body: &str) -> HttpResponse {
        let endpoint = self.endpoints.resolve(service).unwrap();
        let mut request = HttpRequest::post_form(format!("{}/", endpoint.url()), body.as_bytes().to_vec());
        Signer::new(&self.admin)
            .sign(&mut request, service.signing_name(), endpoint.signing_region(), SystemTime::now())
            .unwrap();
        let response = send(&request);
        assert!(response.is_success(), "{body}: {}", String::from_utf8_lossy(response.body()));
        response
    }
}

/// Writes a recorded response as a fixture when `TRUSTLINE_RECORD` is set.
fn record(name: &str, response: &HttpResponse) {
    if crate::corpus::recording() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/moto");
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(format!("{dir}/{name}"), response.body()).unwrap();
    }
}

#[test]
fn moto_accepts_trustline_signatures_and_rejects_a_wrong_secret() {
    let account = Account::start();
    let admin = account.admin.clone();

    let response = account.call(&sts::GetCallerIdentity, &admin);
    record("sts_get_caller_identity.xml", &response);
    let me = sts::GetCallerIdentity::parse(&response).unwrap();
    assert!(me.arn.to_string().ends_with(":user/trustline-admin"), "{}", me.arn);

    // Seed a little of everything, then read it back through Trustline's parsers.
    let trust = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A999999999999%3Aroot%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
    for i in 1..=3 {
        account.raw(
            Service::Iam,
            &format!(
                "Action=CreateRole&Version=2010-05-08&RoleName=role-{i}&AssumeRolePolicyDocument={trust}"
            ),
        );
        account.raw(Service::Iam, &format!("Action=CreateUser&Version=2010-05-08&UserName=user-{i}"));
        account.raw(Service::Iam, &format!("Action=CreateAccessKey&Version=2010-05-08&UserName=user-{i}"));
    }
    account.raw(Service::Iam, "Action=CreateGroup&Version=2010-05-08&GroupName=ops");
    account.raw(Service::Iam, "Action=AddUserToGroup&Version=2010-05-08&GroupName=ops&UserName=user-1");
    let doc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22ec2%3ADescribe%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
    account.raw(
        Service::Iam,
        &format!("Action=CreatePolicy&Version=2010-05-08&PolicyName=describe&PolicyDocument={doc}"),
    );
    account.raw(
        Service::Iam,
        &format!(
            "Action=PutRolePolicy&Version=2010-05-08&RoleName=role-1&PolicyName=inline&PolicyDocument={doc}"
        ),
    );
    account.raw(Service::Ec2, "Action=RunInstances&Version=2016-11-15&ImageId=ami-12c6146b&MinCount=2&MaxCount=2&InstanceType=t3.micro");

    let response =
        account.call(&iam::ListRoles { paging: iam::Paging::default().max_items(2).unwrap() }, &admin);
    record("iam_list_roles_page1.xml", &response);
    let page = iam::ListRoles::parse(&response).unwrap();
    assert_eq!(page.items.len(), 2);
    let marker = page.next_token.clone().expect("moto truncates ListRoles");
    assert!(page.items[0].assume_role_policy_document.as_deref().unwrap().contains("999999999999"));
    let page2 = iam::ListRoles::parse(
        &account.call(&iam::ListRoles { paging: iam::Paging::after(Some(marker)) }, &admin),
    )
    .unwrap();
    assert_eq!((page2.items.len(), page2.next_token), (1, None));

    let response = account.call(&iam::ListUsers::default(), &admin);
    record("iam_list_users.xml", &response);
    assert_eq!(iam::ListUsers::parse(&response).unwrap().items.len(), 4);
    let response = account.call(&iam::ListGroups::default(), &admin);
    record("iam_list_groups.xml", &response);
    assert_eq!(iam::ListGroups::parse(&response).unwrap().items[0].group_name, "ops");
    let response =
        account.call(&iam::ListAccessKeys { user_name: Some("user-2".into()), ..Default::default() }, &admin);
    record("iam_list_access_keys.xml", &response);
    assert!(iam::ListAccessKeys::parse(&response).unwrap().items[0].active);
    let response =
        account.call(&iam::ListPolicies { scope: iam::PolicyScope::Local, ..Default::default() }, &admin);
    record("iam_list_policies_local.xml", &response);
    assert_eq!(iam::ListPolicies::parse(&response).unwrap().items[0].policy_name, "describe");
    let response = account.call(&iam::GetAccountAuthorizationDetails::default(), &admin);
    record("iam_get_account_authorization_details.xml", &response);
    let details = iam::GetAccountAuthorizationDetails::parse(&response).unwrap();
    let role1 = details.roles.iter().find(|r| r.role_name == "role-1").unwrap();
    assert!(role1.inline_policies[0].document.contains("ec2:Describe*"));
    assert!(details.users.iter().any(|u| u.groups == ["ops"]));
    let state =
        iam::GenerateCredentialReport::parse(&account.call(&iam::GenerateCredentialReport, &admin)).unwrap();
    assert!(!state.state.is_empty());
    let response = account.call(&iam::GetCredentialReport, &admin);
    record("iam_get_credential_report.xml", &response);
    let report = iam::GetCredentialReport::parse(&response).unwrap();
    assert!(report.rows.iter().any(|r| r.user == "user-3" && r.access_keys[0].active));

    let response = account.call(&ec2::DescribeRegions::default(), &admin);
    record("ec2_describe_regions.xml", &response);
    assert!(ec2::DescribeRegions::parse(&response).unwrap().iter().any(|r| r.region_name == "eu-west-1"));
    let response = account.call(&ec2::DescribeInstances::default(), &admin);
    record("ec2_describe_instances.xml", &response);
    let instances = ec2::DescribeInstances::parse(&response).unwrap();
    assert_eq!(instances.items.len(), 2);
    assert_eq!(instances.items[0].state.as_deref(), Some("running"));
    for (name, response) in [
        ("ec2_describe_vpcs.xml", account.call(&ec2::DescribeVpcs::default(), &admin)),
        ("ec2_describe_subnets.xml", account.call(&ec2::DescribeSubnets::default(), &admin)),
        ("ec2_describe_security_groups.xml", account.call(&ec2::DescribeSecurityGroups::default(), &admin)),
        (
            "ec2_describe_network_interfaces.xml",
            account.call(&ec2::DescribeNetworkInterfaces::default(), &admin),
        ),
    ] {
        record(name, &response);
        assert!(response.is_success(), "{name}: {}", String::from_utf8_lossy(response.body()));
    }
    assert!(
        ec2::DescribeVpcs::parse(&account.call(&ec2::DescribeVpcs::default(), &admin)).unwrap().items[0]
            .is_default
    );
    assert!(
        !ec2::DescribeSubnets::parse(&account.call(&ec2::DescribeSubnets::default(), &admin))
            .unwrap()
            .items
            .is_empty()
    );
    let groups =
        ec2::DescribeSecurityGroups::parse(&account.call(&ec2::DescribeSecurityGroups::default(), &admin))
            .unwrap();
    assert!(groups.items.iter().any(|g| g.group_name.as_deref() == Some("default")));
    let enis = ec2::DescribeNetworkInterfaces::parse(
        &account.call(&ec2::DescribeNetworkInterfaces::default(), &admin),
    )
    .unwrap();
    assert_eq!(enis.items.len(), 2);

    // Organizations: the signature is accepted, before and after creating the organization.
    let response = account.call(&organizations::ListAccounts::default(), &admin);
    // moto answers an empty list where AWS says AWSOrganizationsNotInUseException.
    record("organizations_list_accounts_empty.json", &response);
    match organizations::ListAccounts::parse(&response) {
        Ok(page) => assert!(page.items.is_empty()),
        Err(err) => assert_ne!(err.kind(), AwsErrorKind::BadCredentials, "{err}"),
    }
    let endpoint = account.endpoints.resolve(Service::Organizations).unwrap();
    let mut create = HttpRequest::post_json(
        format!("{}/", endpoint.url()),
        "AWSOrganizationsV20161128.CreateOrganization",
        br#"{"FeatureSet":"ALL"}"#.to_vec(),
    );
    Signer::new(&admin)
        .sign(&mut create, "organizations", endpoint.signing_region(), SystemTime::now())
        .unwrap();
    assert!(send(&create).is_success());
    let response = account.call(&organizations::ListAccounts::default(), &admin);
    record("organizations_list_accounts.json", &response);
    assert_eq!(organizations::ListAccounts::parse(&response).unwrap().items.len(), 1);
    // moto does not implement LookupEvents: its HTML 500 page must be an error, not a panic.
    let start = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let lookup = cloudtrail::LookupEvents::new(Some(start), None).unwrap();
    let err = cloudtrail::LookupEvents::parse(&account.call(&lookup, &admin)).unwrap_err();
    assert_ne!(err.kind(), AwsErrorKind::BadCredentials, "{err}");

    // Temporary credentials: AssumeRole, then sign with the session token.
    // role-1 trusts only account 999999999999, and moto enforces same-account trust policies.
    let role: trustline_core::RoleArn = "arn:aws:iam::123456789012:role/role-1".parse().unwrap();
    let response = account.call(&sts::AssumeRole::new(role, "trustline-test").unwrap(), &admin);
    record("sts_error_access_denied.xml", &response);
    let err = sts::AssumeRole::parse(&response).unwrap_err();
    assert_eq!((err.kind(), err.status()), (AwsErrorKind::AccessDenied, 403), "{err}");
    let role: trustline_core::RoleArn = "arn:aws:iam::111111111111:role/role-1".parse().unwrap();
    let op =
        sts::AssumeRole::new(role, "trustline-test").unwrap().external_id("trustline-x1".parse().unwrap());
    let response = account.call(&op, &admin);
    record("sts_assume_role.xml", &response);
    let assumed = sts::AssumeRole::parse(&response).unwrap();
    assert!(assumed.credentials.session_token().is_some());
    let me =
        sts::GetCallerIdentity::parse(&account.call(&sts::GetCallerIdentity, &assumed.credentials)).unwrap();
    assert!(me.arn.to_string().contains(":assumed-role/role-1/trustline-test"), "{}", me.arn);

    // A wrong secret: SignatureDoesNotMatch from STS and IAM, AuthFailure from EC2.
    let wrong = Credentials::new(admin.access_key_id(), "not-the-secret", None);
    let response = account.call(&sts::GetCallerIdentity, &wrong);
    record("sts_error_signature_does_not_match.xml", &response);
    let err = sts::GetCallerIdentity::parse(&response).unwrap_err();
    assert_eq!(
        (err.kind(), err.code()),
        (AwsErrorKind::BadCredentials, Some("SignatureDoesNotMatch")),
        "{err}"
    );
    let err = iam::ListUsers::parse(&account.call(&iam::ListUsers::default(), &wrong)).unwrap_err();
    assert_eq!(err.kind(), AwsErrorKind::BadCredentials, "{err}");
    let response = account.call(&ec2::DescribeInstances::default(), &wrong);
    record("ec2_error_auth_failure.xml", &response);
    let err = ec2::DescribeInstances::parse(&response).unwrap_err();
    assert_eq!(err.kind(), AwsErrorKind::BadCredentials, "{err}");
    // An unknown access key.
    let unknown = Credentials::new("AKIAUNKNOWNUNKNOWN00", "x", None);
    let response = account.call(&iam::ListRoles::default(), &unknown);
    record("iam_error_invalid_client_token_id.xml", &response);
    let err = iam::ListRoles::parse(&response).unwrap_err();
    assert_eq!(
        (err.kind(), err.code()),
        (AwsErrorKind::BadCredentials, Some("InvalidClientTokenId")),
        "{err}"
    );
    drop(account.moto);
}
