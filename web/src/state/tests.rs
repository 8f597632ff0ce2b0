//! Every transition of the reducer, natively.

use std::rc::Rc;

use trustline_core::IntegrationKind::{AccessKey, CrossAccountRole, SameAccountRole, Sts};
use trustline_core::Secret;
use trustline_core::policy::permissions::DataSet;

use super::*;
use crate::config::tests::{ISSUED, config, helper_config, options};
use crate::config::{Config, ExternalIdSource, Options, VerifyTarget};

const ARN: &str = "arn:aws:iam::123456789012:role/VendorReadOnly";
const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn wizard() -> Wizard {
    Wizard::new(Rc::new(config()))
}

fn run(w: Wizard, actions: impl IntoIterator<Item = Action>) -> Wizard {
    actions.into_iter().fold(w, Wizard::reduce)
}

fn verified(account: &str) -> Result<VerifyReport, String> {
    Ok(VerifyReport {
        verdict: Verdict::Verified,
        account_id: Some(account.parse().unwrap()),
        checks: Vec::new(),
    })
}

fn identity(arn: &str) -> Result<KeyIdentity, String> {
    Ok(KeyIdentity { account_id: "123456789012".into(), arn: arn.into(), user_id: "AIDAEXAMPLE".into() })
}

#[test]
fn the_recommended_path_from_landing_to_done() {
    let w = run(wizard(), [Action::ChooseKind(CrossAccountRole)]);
    assert_eq!((w.step, w.kind), (Step::Scope, Some(CrossAccountRole)));
    let w = run(w, [Action::Next]);
    assert_eq!(w.step, Step::Access);
    let w = run(w, [Action::Launched]);
    assert_eq!(w.step, Step::Connect);
    let w = run(w, [Action::SetRoleArn(ARN.into())]);
    assert!(w.can_verify() && !w.can_finish());
    let (target, body) = w.verify_request().unwrap();
    let body = serde_json::to_value(&body).unwrap();
    assert_eq!(target, VerifyTarget::Role);
    assert_eq!(body["external_id"], ISSUED);
    assert_eq!(body["data_sets"], serde_json::json!(["iam", "ec2-network", "cloudtrail"]));
    let w = run(w, [Action::VerifyStarted]);
    assert_eq!(w.verify, Remote::Running);
    assert!(!w.can_verify(), "no second call while one runs");
    let generation = w.generation;
    let w = run(w, [Action::VerifyFinished { generation, result: verified("123456789012") }, Action::Next]);
    assert_eq!(w.step, Step::Done);
    let done = w.completion().unwrap();
    assert_eq!(done.kind, "cross-account-role");
    assert_eq!(done.role_arn.as_deref(), Some(ARN));
    assert!(done.verified && !done.external_id_generated);
    assert_eq!(done.external_id, ISSUED);
    assert_eq!(
        (done.external_id_source, done.tenant.as_deref()),
        (ExternalIdSource::Session, Some("acme corp/1"))
    );
    let json = serde_json::to_string(&done).unwrap();
    assert!(!json.contains("tl_session_"), "the session's token never leaves in the result: {json}");
    assert_eq!(done.account_id.as_deref(), Some("123456789012"));
    // Done is final: Back and Next do nothing.
    assert_eq!(run(w, [Action::Back, Action::Next]).step, Step::Done);
}

#[test]
fn back_and_forward_keep_every_input() {
    let w = run(
        wizard(),
        [
            Action::ChooseKind(CrossAccountRole),
            Action::SetScopeText(ScopeField::Regions, "eu-west-1".into()),
            Action::ToggleDataSet(DataSet::CloudTrail),
            Action::Next,
            Action::Next,
            Action::SetRoleArn(ARN.into()),
            Action::Back,
            Action::Back,
            Action::Back,
        ],
    );
    assert_eq!(w.step, Step::Kind);
    let w = run(w, [Action::Next, Action::Next, Action::Next]);
    assert_eq!(w.step, Step::Connect);
    assert_eq!(w.scope.regions, "eu-west-1");
    assert!(!w.scope.data_sets.contains(&DataSet::CloudTrail));
    assert_eq!(w.connect.role_arn, ARN);
    // Choosing the same kind again keeps the verify state; another kind resets it.
    let generation = w.generation;
    let w = run(w, [Action::ChooseKind(CrossAccountRole)]);
    assert_eq!(w.generation, generation);
    let w = run(w, [Action::ChooseKind(SameAccountRole)]);
    assert_ne!(w.generation, generation);
    assert_eq!(w.connect.role_arn, ARN);
}

#[test]
fn next_needs_a_kind_and_a_valid_scope() {
    let w = run(wizard(), [Action::Next]);
    assert_eq!(w.step, Step::Kind);
    let w = run(
        w,
        [
            Action::ChooseKind(CrossAccountRole),
            Action::SetScopeText(ScopeField::Regions, "eu-west-1a".into()),
        ],
    );
    let errors = w.scope_errors();
    assert!(errors[&ScopeField::Regions].contains("availability zone"), "{errors:?}");
    let w = run(w, [Action::Next]);
    assert_eq!(w.step, Step::Scope);
    let w = run(w, [Action::SetScopeText(ScopeField::Regions, "eu-west-1, us-east-1".into()), Action::Next]);
    assert_eq!(w.step, Step::Access);
}

#[test]
fn scope_fields_show_core_errors_at_the_field() {
    let cases = [
        (ScopeField::AccountId, "12345678901", "12 digits"),
        (ScopeField::SourceIps, "10.0.0.0/8", "private range"),
        (ScopeField::SourceIps, "203.0.113.7/24", "host bits"),
        (ScopeField::SourceVpce, "vpce-xyz", "VPC endpoint"),
        (ScopeField::OrgId, "o-1", "organization ID"),
    ];
    for (field, text, needle) in cases {
        let w =
            run(wizard(), [Action::ChooseKind(CrossAccountRole), Action::SetScopeText(field, text.into())]);
        let errors = w.scope_errors();
        assert!(errors.get(&field).is_some_and(|e| e.contains(needle)), "{field:?} {text}: {errors:?}");
    }
    // Conflicting conditions are reported by core's trust-policy builder.
    let w = run(
        wizard(),
        [
            Action::ChooseKind(CrossAccountRole),
            Action::SetScopeText(ScopeField::SourceIps, "203.0.113.0/24".into()),
            Action::SetScopeText(ScopeField::SourceVpce, "vpce-0a1b2c3d4e5f67890".into()),
        ],
    );
    assert!(w.scope_errors()[&ScopeField::SourceIps].contains("not both"));
    // No data set at all.
    let w = run(
        wizard(),
        [
            Action::ChooseKind(AccessKey),
            Action::ToggleDataSet(DataSet::Iam),
            Action::ToggleDataSet(DataSet::Ec2Network),
            Action::ToggleDataSet(DataSet::CloudTrail),
        ],
    );
    assert!(w.scope_errors()[&ScopeField::DataSets].contains("at least one"));
}

#[test]
fn the_organization_path_needs_targets() {
    let w = run(wizard(), [Action::ChooseKind(CrossAccountRole), Action::SetOrganization(true)]);
    assert!(w.scope_errors().is_empty(), "missing targets are shown only after a try");
    let w = run(w, [Action::Next]);
    assert_eq!(w.step, Step::Scope);
    assert!(w.scope_errors()[&ScopeField::Targets].contains("root ID"));
    let w = run(w, [Action::SetScopeText(ScopeField::Targets, "o-abcdefghij".into())]);
    assert!(w.scope_errors()[&ScopeField::Targets].contains("organization ID"));
    let w = run(
        w,
        [
            Action::SetScopeText(ScopeField::Targets, "r-ab12".into()),
            Action::ToggleDataSet(DataSet::Organizations),
            Action::Next,
        ],
    );
    assert_eq!(w.step, Step::Access);
    let scope = w.parsed_scope().unwrap().unwrap();
    assert!(scope.organization && scope.permissions.data_sets.contains(&DataSet::Organizations));
    // The Organization switch only applies to the cross-account role.
    let w = run(w, [Action::ChooseKind(AccessKey)]);
    assert!(!w.parsed_scope().unwrap().unwrap().organization);
}

#[test]
fn role_arn_errors_come_from_core_as_you_type() {
    let w = run(wizard(), [Action::ChooseKind(CrossAccountRole), Action::Next, Action::Next]);
    assert_eq!(w.connect_error(ConnectField::RoleArn), None, "empty and untouched");
    let cases = [
        ("VendorReadOnly", "role name, not a role ARN"),
        ("arn:aws:iam::123456789012:user/bob", "IAM user ARN"),
        ("arn:aws:sts::123456789012:assumed-role/VendorReadOnly/s", "temporary session ARN"),
        ("arn:aws:iam::12345678901:role/X", "12 digits"),
    ];
    for (text, needle) in cases {
        let w = run(w.clone(), [Action::SetRoleArn(text.into())]);
        let err = w.connect_error(ConnectField::RoleArn).unwrap();
        assert!(err.contains(needle), "{text}: {err}");
        assert!(!w.can_verify());
    }
    let w = run(w, [Action::Next]);
    assert_eq!(w.step, Step::Connect);
    assert!(w.connect_error(ConnectField::RoleArn).unwrap().contains("empty"));
}

#[test]
fn stale_and_failed_verifications_do_not_finish() {
    let w = run(
        wizard(),
        [Action::ChooseKind(CrossAccountRole), Action::Next, Action::Next, Action::SetRoleArn(ARN.into())],
    );
    let old = w.generation;
    let w = run(w, [Action::VerifyStarted, Action::SetRoleArn(format!("{ARN}2"))]);
    assert_eq!(w.verify, Remote::Idle, "an edit cancels the running call");
    let w = run(w, [Action::VerifyFinished { generation: old, result: verified("123456789012") }]);
    assert_eq!(w.verify, Remote::Idle, "the stale answer is dropped");
    let generation = w.generation;
    let unsafe_ = VerifyReport { verdict: Verdict::Unsafe, account_id: None, checks: Vec::new() };
    let w = run(
        w,
        [Action::VerifyStarted, Action::VerifyFinished { generation, result: Ok(unsafe_) }, Action::Next],
    );
    assert_eq!(w.step, Step::Connect);
    assert!(w.connect.submitted);
    let w = run(
        w,
        [Action::VerifyStarted, Action::VerifyFinished { generation, result: Err("HTTP 502".into()) }],
    );
    assert_eq!(w.verify, Remote::Failed("HTTP 502".into()));
    assert!(!w.can_finish());
}

#[test]
fn keys_are_checked_then_verified_and_root_keys_refused() {
    let w = run(wizard(), [Action::ChooseKind(AccessKey), Action::Next, Action::Next]);
    assert!(!w.needs_role_arn() && w.needs_keys());
    let w = run(w, [Action::KeyCheckStarted]);
    assert_eq!(w.key_check, Remote::Idle, "nothing to check yet");
    assert!(w.connect_error(ConnectField::AccessKeyId).unwrap().contains("empty"));
    let w = run(w, [Action::SetAccessKeyId("AKIA123".into()), Action::SetSecret(Secret::new("short"))]);
    assert!(w.connect_error(ConnectField::AccessKeyId).unwrap().contains("20"));
    assert!(w.connect_error(ConnectField::Secret).unwrap().contains("40 characters"));
    let w = run(
        w,
        [
            Action::SetAccessKeyId(KEY_ID.into()),
            Action::SetSecret(Secret::new(SECRET)),
            Action::KeyCheckStarted,
        ],
    );
    assert_eq!(w.key_check, Remote::Running);
    let g = w.generation;
    let root = run(
        w.clone(),
        [Action::KeyCheckFinished { generation: g, result: identity("arn:aws:iam::123456789012:root") }],
    );
    assert!(root.key_check.done().unwrap().is_root());
    assert!(!root.can_verify() && !root.can_finish());
    let w = run(
        w,
        [Action::KeyCheckFinished { generation: g, result: identity("arn:aws:iam::123456789012:user/r") }],
    );
    assert!(w.can_verify());
    let (target, body) = w.verify_request().unwrap();
    let body = serde_json::to_value(&body).unwrap();
    assert_eq!(target, VerifyTarget::Keys);
    assert_eq!(
        (body["kind"].as_str(), body["secret_access_key"].as_str()),
        (Some("access-key"), Some(SECRET))
    );
    assert!(body["role_arn"].is_null());
    let w = run(
        w,
        [
            Action::VerifyStarted,
            Action::VerifyFinished { generation: g, result: verified("123456789012") },
            Action::Next,
        ],
    );
    assert_eq!(w.step, Step::Done);
    let done = w.completion().unwrap();
    assert_eq!(done.access_key_id.as_deref(), Some(KEY_ID));
    assert!(!format!("{done:?}{w:?}").contains(SECRET), "the secret is never printed");
    let w = run(w, [Action::ClearSecrets]);
    assert!(w.connect.secret.is_empty() && w.connect.access_key_id.is_empty());
}

#[test]
fn sts_needs_a_role_arn_and_a_key() {
    let w = run(
        wizard(),
        [
            Action::ChooseKind(Sts),
            Action::Next,
            Action::Next,
            Action::SetAccessKeyId(KEY_ID.into()),
            Action::SetSecret(Secret::new(SECRET)),
        ],
    );
    let w = run(w, [Action::KeyCheckStarted]);
    let g = w.generation;
    let w = run(
        w,
        [Action::KeyCheckFinished { generation: g, result: identity("arn:aws:iam::123456789012:user/u") }],
    );
    assert!(!w.can_verify(), "the role ARN is missing");
    let w = run(w, [Action::SetRoleArn(ARN.into())]);
    assert!(w.can_verify(), "editing the ARN keeps the key check");
    assert_eq!(serde_json::to_value(w.verify_request().unwrap().1).unwrap()["role_arn"], ARN);
    let w = run(w, [Action::SetSecret(Secret::new(SECRET))]);
    assert_eq!(w.key_check, Remote::Idle, "editing the key drops its check");
    let g = w.generation;
    let w =
        run(w, [Action::KeyCheckFinished { generation: g - 1, result: identity("arn:aws:iam::1:user/u") }]);
    assert_eq!(w.key_check, Remote::Idle);
}

#[test]
fn same_account_role_and_hosts_without_a_session_finish_without_verifying() {
    let w = run(
        wizard(),
        [Action::ChooseKind(SameAccountRole), Action::Next, Action::Next, Action::SetRoleArn(ARN.into())],
    );
    assert!(!w.verifies_remotely() && w.can_finish() && w.verify_request().is_none());
    let w = run(w, [Action::Next]);
    assert_eq!(w.completion().unwrap().verdict, None);
    let w = Wizard::new(Rc::new(helper_config()));
    let w = run(
        w,
        [
            Action::ChooseKind(CrossAccountRole),
            Action::Next,
            Action::Next,
            Action::SetRoleArn(ARN.into()),
            Action::Next,
        ],
    );
    assert_eq!(w.step, Step::Done);
    // A pure helper's result says the ExternalId was made up in the browser: no tenant has it.
    let done = w.completion().unwrap();
    assert_eq!((done.external_id_source, done.external_id_generated), (ExternalIdSource::Browser, true));
    assert_eq!((done.tenant, done.verdict), (None, None));
}

#[test]
fn allowed_kinds_limit_the_choice_and_a_single_kind_skips_it() {
    let only = Config::from_options(Options { allowed_kinds: Some(vec!["sts".into()]), ..options() }, |_| {
        "x0".parse()
    })
    .unwrap();
    let w = Wizard::new(Rc::new(only));
    assert_eq!((w.step, w.kind), (Step::Scope, Some(Sts)));
    let w = run(w, [Action::ChooseKind(CrossAccountRole)]);
    assert_eq!(w.kind, Some(Sts), "a kind the host did not offer cannot be chosen");
    assert_eq!(run(w, [Action::Back]).step, Step::Kind);
}

#[test]
fn missing_organization_targets_are_a_field_error_of_their_own() {
    let mut input = ScopeInput::new(&[]);
    input.organization = true;
    let errors = input.parse_fields(CrossAccountRole).unwrap_err();
    assert!(errors[&ScopeField::Targets].contains("root ID"), "{errors:?}");
    input.targets = "r-ab12, ou-ab12-cdef3456".into();
    let errors = input.parse_fields(CrossAccountRole).unwrap_err();
    assert!(errors[&ScopeField::Targets].contains("root alone"), "{errors:?}");
}
