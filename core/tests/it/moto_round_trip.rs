//! One real round trip through moto: create the single-account role stack in CloudFormation,
//! read its RoleArn output, and assume the role with the ExternalId.
//!
//! moto evaluates trust policies only with signature checking on and for a caller that is a real
//! IAM principal allowed `sts:AssumeRole`, and only `StringEquals sts:ExternalId` for same-account
//! roles. So the seeding calls run in moto's unauthenticated window, the vendor is a user in
//! moto's own account, and a wrong ExternalId must be refused. (moto lets a *missing* ExternalId
//! through: that gap is covered by Trustline's own stand-in, not here.)

use std::time::SystemTime;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use trustline_core::aws::{AwsErrorKind, HttpRequest, HttpResponse, Operation, prepare, sts};
use trustline_core::cfn::role;
use trustline_core::{Credentials, Endpoints, ExternalId, RoleArn, Service, Signer};
use trustline_testkit::Moto;
use trustline_testkit::http::exchange;
use trustline_testkit::moto::MotoOptions;

/// moto's default account.
const MOTO_ACCOUNT: &str = "123456789012";

fn send(request: &HttpRequest) -> HttpResponse {
    let r =
        exchange(request.method(), request.url(), request.headers(), request.body()).expect("moto answers");
    HttpResponse::new(r.status, r.headers, r.body)
}

/// A signed query-protocol call for the seeding and CloudFormation steps (Trustline's wire layer
/// covers the read calls it makes in production; these writes are only needed by this test).
fn query(moto: &Moto, signer: &Signer, service: &str, params: &[(&str, &str)]) -> String {
    let version = if service == "iam" { "2010-05-08" } else { "2010-05-15" };
    let mut body = format!("Version={version}");
    for (k, v) in params {
        body.push_str(&format!("&{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)));
    }
    let mut request = HttpRequest::post_form(moto.endpoint() + "/", body.into_bytes());
    signer.sign(&mut request, service, "us-east-1", SystemTime::now()).unwrap();
    let response = send(&request);
    let text = String::from_utf8_lossy(response.body()).into_owned();
    assert!(response.is_success(), "{service} {params:?} failed: {text}");
    text
}

fn text_of(xml: &str, tag: &str) -> String {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants().find(|n| n.has_tag_name(tag)).and_then(|n| n.text()).unwrap().to_owned()
}

fn output(describe_xml: &str, key: &str) -> String {
    let doc = roxmltree::Document::parse(describe_xml).unwrap();
    let member = doc
        .descendants()
        .filter(|n| n.has_tag_name("member"))
        .find(|m| m.children().any(|c| c.has_tag_name("OutputKey") && c.text() == Some(key)))
        .unwrap_or_else(|| panic!("no output {key} in {describe_xml}"));
    member.children().find(|c| c.has_tag_name("OutputValue")).and_then(|c| c.text()).unwrap().to_owned()
}

fn assume(
    moto: &Moto,
    signer: &Signer,
    role: &RoleArn,
    external_id: &str,
) -> Result<sts::AssumedRole, AwsErrorKind> {
    let endpoints =
        Endpoints::new("us-east-1".parse().unwrap()).with_override(Service::Sts, &moto.endpoint()).unwrap();
    let op = sts::AssumeRole::new(role.clone(), "trustline-verify")
        .unwrap()
        .external_id(external_id.parse().unwrap());
    let request = prepare(&op, &endpoints, signer, SystemTime::now()).unwrap();
    sts::AssumeRole::parse(&send(&request)).map_err(|e| e.kind())
}

/// Calls moto makes without checking signatures: the seeding below, counted exactly.
const SEEDING_CALLS: u32 = 5;

#[test]
fn role_stack_creates_a_role_that_requires_the_external_id() {
    let moto =
        Moto::start_with(&MotoOptions { verify_signatures_after: Some(SEEDING_CALLS), ..Default::default() });
    let seeder = Signer::new(&Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        None,
    ));
    // The vendor: an IAM user allowed to call sts:AssumeRole (1–3 of the seeding calls).
    query(&moto, &seeder, "iam", &[("Action", "CreateUser"), ("UserName", "vendor")]);
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
    query(
        &moto,
        &seeder,
        "iam",
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", "vendor"),
            ("PolicyName", "assume"),
            ("PolicyDocument", policy),
        ],
    );
    let key = query(&moto, &seeder, "iam", &[("Action", "CreateAccessKey"), ("UserName", "vendor")]);
    let vendor =
        Signer::new(&Credentials::new(text_of(&key, "AccessKeyId"), text_of(&key, "SecretAccessKey"), None));
    let external_id: ExternalId = "acme:tenant-42:0123456789abcdefghijklmnopqrstuv".parse().unwrap();

    // moto compares trust principals as exact strings, so the vendor principal is the user itself.
    let vendor_arn = format!("arn:aws:iam::{MOTO_ACCOUNT}:user/vendor");
    let mut spec = crate::acme_role();
    spec.aws_managed_policies = vec!["SecurityAudit".parse().unwrap()];
    let template = role::template(&spec).unwrap().to_yaml();

    // The customer's stack (4 and 5 of the seeding calls).
    query(
        &moto,
        &seeder,
        "cloudformation",
        &[
            ("Action", "CreateStack"),
            ("StackName", "acme-read-only"),
            ("TemplateBody", &template),
            ("Capabilities.member.1", "CAPABILITY_NAMED_IAM"),
            ("Parameters.member.1.ParameterKey", "ExternalId"),
            ("Parameters.member.1.ParameterValue", external_id.as_str()),
            ("Parameters.member.2.ParameterKey", "VendorPrincipal"),
            ("Parameters.member.2.ParameterValue", &vendor_arn),
        ],
    );
    let described = query(
        &moto,
        &seeder,
        "cloudformation",
        &[("Action", "DescribeStacks"), ("StackName", "acme-read-only")],
    );
    assert!(described.contains("CREATE_COMPLETE"), "{described}");
    let role: RoleArn = output(&described, "RoleArn").parse().expect("the RoleArn output is a role ARN");
    assert_eq!((role.account_id().as_str(), role.name()), (MOTO_ACCOUNT, "AcmeReadOnly"));
    assert_eq!(output(&described, "ExternalId"), external_id.as_str());

    // From here on moto checks signatures, identity policies and the role's trust policy.
    let session =
        assume(&moto, &vendor, &role, external_id.as_str()).expect("AssumeRole with the ExternalId");
    assert!(session.assumed_role_arn.ends_with(":assumed-role/AcmeReadOnly/trustline-verify"));
    assert!(session.credentials.access_key_id().starts_with("ASIA"));

    let wrong = assume(&moto, &vendor, &role, "acme:tenant-42:somebody-else");
    assert_eq!(wrong.err(), Some(AwsErrorKind::AccessDenied));
}

/// The AWS CLI alternative, run for real: the script creates the role in moto, and IAM then
/// holds exactly the trust and permission documents core builds.
#[test]
fn aws_cli_script_creates_the_documented_role() {
    let moto = Moto::start_with(&MotoOptions { load_managed_policies: true, ..Default::default() });
    let account: trustline_core::AccountId = MOTO_ACCOUNT.parse().unwrap();
    let mut spec = crate::acme_role();
    spec.external_id = Some("acme:tenant-42:0123456789abcdefghijklmnopqrstuv".parse().unwrap());
    spec.aws_managed_policies = vec!["SecurityAudit".parse().unwrap()];
    spec.max_session_seconds = 7_200;
    let script =
        trustline_core::alternatives::aws_cli(&spec, trustline_core::Partition::Aws, &account).unwrap();

    let dir = std::env::temp_dir().join(format!("trustline-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("role.sh");
    std::fs::write(&path, &script).unwrap();
    let venv_bin = trustline_testkit::tools::venv_bin("aws");
    let path_var =
        format!("{}:{}", venv_bin.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    let out = std::process::Command::new("sh")
        .arg(&path)
        .env("PATH", path_var)
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(out.status.success(), "script failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("Role ARN: arn:aws:iam::123456789012:role/AcmeReadOnly")
    );

    let signer = Signer::new(&Credentials::new("testing", "testing", None));
    let role = query(&moto, &signer, "iam", &[("Action", "GetRole"), ("RoleName", "AcmeReadOnly")]);
    // GetRole returns the trust policy URL-encoded, as AWS does.
    let encoded = text_of(&role, "AssumeRolePolicyDocument");
    let decoded = percent_encoding::percent_decode_str(&encoded).decode_utf8().unwrap();
    let stored = trustline_core::policy::PolicyDocument::from_json(&decoded).unwrap();
    let built = trustline_core::policy::trust::third_party(
        &spec.vendor,
        spec.external_id.as_ref().unwrap(),
        &spec.hardening,
    )
    .unwrap();
    assert_eq!(stored, built);
    assert_eq!(text_of(&role, "MaxSessionDuration"), "7200");

    let attached =
        query(&moto, &signer, "iam", &[("Action", "ListAttachedRolePolicies"), ("RoleName", "AcmeReadOnly")]);
    assert!(attached.contains("arn:aws:iam::123456789012:policy/AcmeReadOnly-read"), "{attached}");
    assert!(attached.contains("arn:aws:iam::aws:policy/SecurityAudit"), "{attached}");
}
