//! docs/openapi.yaml describes exactly the routes in the server's own table
//! (`trustline_worker::serve::ROUTES`), each with the access the table gives it, and its request
//! schemas have exactly the fields, required fields and nullable fields of the server's types.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use serde_json::{Value, json};
use trustline_worker::serve::{Access, ROUTES};

fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml")).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

fn access_name(access: Access) -> &'static str {
    match access {
        Access::Public => "public",
        Access::Operator => "operator",
        Access::Tenant => "tenant",
    }
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

#[test]
fn every_route_is_described_with_its_access_and_nothing_else() {
    let spec = spec();
    let mut described = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in
            item.as_object().unwrap().iter().filter(|(k, _)| METHODS.contains(&k.as_str()))
        {
            let access = operation["x-trustline-access"].as_str().unwrap_or("(none)").to_owned();
            described.insert((method.to_uppercase(), path.clone()), access);
        }
    }
    let routed: BTreeMap<(String, String), String> = ROUTES
        .iter()
        .map(|r| ((r.method.to_owned(), r.path.to_owned()), access_name(r.access).to_owned()))
        .collect();
    assert_eq!(described, routed, "docs/openapi.yaml's operations (method, path) → x-trustline-access");
}

#[test]
fn public_operations_need_no_token_and_others_do() {
    let spec = spec();
    for route in ROUTES {
        let operation = &spec["paths"][route.path][route.method.to_lowercase()];
        let security = operation.get("security").unwrap_or(&spec["security"]);
        let schemes: BTreeSet<&str> = security
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|requirement| requirement.as_object().unwrap().keys().map(String::as_str))
            .collect();
        let expected: BTreeSet<&str> = match route.access {
            Access::Public => BTreeSet::new(),
            Access::Operator => ["operator"].into(),
            Access::Tenant => ["operator", "session"].into(),
        };
        assert_eq!(schemes, expected, "{} {}: security schemes", route.method, route.path);
    }
}

/// Deserializes `body` into the server's request type for `schema`.
fn accepts(schema: &str, body: &Value) -> Result<(), String> {
    use trustline_core::api::{
        CreateSession, CreateTenant, RegisterRequest, VerifyKeysRequest, VerifyRoleRequest,
    };
    let r = match schema {
        "CreateTenant" => serde_json::from_value::<CreateTenant>(body.clone()).map(|_| ()),
        "CreateSession" => serde_json::from_value::<CreateSession>(body.clone()).map(|_| ()),
        "VerifyRoleRequest" => serde_json::from_value::<VerifyRoleRequest>(body.clone()).map(|_| ()),
        "VerifyKeysRequest" => serde_json::from_value::<VerifyKeysRequest>(body.clone()).map(|_| ()),
        "RegisterRequest" => serde_json::from_value::<RegisterRequest>(body.clone()).map(|_| ()),
        other => panic!("no server type for {other}"),
    };
    r.map_err(|e| e.to_string())
}

/// Whether a property's schema allows `null` (`type: [..., "null"]` or a `oneOf` with a null).
fn nullable(property: &Value) -> bool {
    let type_has_null = |t: &Value| match t {
        Value::String(s) => s == "null",
        Value::Array(a) => a.iter().any(|v| v == "null"),
        _ => false,
    };
    type_has_null(&property["type"])
        || property["oneOf"]
            .as_array()
            .is_some_and(|alternatives| alternatives.iter().any(|a| type_has_null(&a["type"])))
        || property["enum"].as_array().is_some_and(|values| values.contains(&Value::Null))
}

#[test]
fn required_fields_match_the_server() {
    let spec = spec();
    let examples = [
        ("CreateTenant", json!({"id": "acme", "name": "Acme", "max_connections": 5})),
        ("CreateSession", json!({"ttl_seconds": 600})),
        (
            "VerifyRoleRequest",
            json!({"role_arn": "arn:aws:iam::123456789012:role/R", "external_id": "abc123",
            "expected_account_id": "123456789012", "data_sets": ["iam"], "regions": ["eu-west-1"]}),
        ),
        (
            "VerifyKeysRequest",
            json!({"kind": "sts", "access_key_id": "AKIAEXAMPLE", "secret_access_key": "s",
            "session_token": "t", "role_arn": "arn:aws:iam::123456789012:role/R", "external_id": "abc123"}),
        ),
        (
            "RegisterRequest",
            json!({"kind": "sts", "name": "Acme",
            "role_arn": "arn:aws:iam::123456789012:role/R", "external_id": "abc123", "access_key_id": "AKIAEXAMPLE",
            "secret_access_key": "s", "data_sets": ["iam"], "regions": ["eu-west-1"]}),
        ),
    ];
    let described: BTreeSet<&str> = examples.iter().map(|(schema, _)| *schema).collect();
    let in_bodies: BTreeSet<String> = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|operation| {
            operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
        })
        .map(|r| r.trim_start_matches("#/components/schemas/").to_owned())
        .collect();
    assert_eq!(
        in_bodies.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        described,
        "request schemas checked here"
    );
    for (schema, example) in examples {
        let described = &spec["components"]["schemas"][schema];
        assert_eq!(described["additionalProperties"], false, "{schema}: the server refuses unknown fields");
        let required: BTreeSet<&str> =
            described["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let properties = described["properties"].as_object().unwrap();
        let names: BTreeSet<&str> = properties.keys().map(String::as_str).collect();
        let example_fields: BTreeSet<&str> =
            example.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(names, example_fields, "{schema}: the spec's properties and the example differ");
        accepts(schema, &example).unwrap_or_else(|e| panic!("{schema}: the full example is refused: {e}"));
        for (field, property) in properties {
            let mut body = example.clone();
            body.as_object_mut().unwrap().remove(field);
            let result = accepts(schema, &body);
            if required.contains(field.as_str()) {
                let err = result
                    .expect_err(&format!("{schema}: the server accepts a body without required {field}"));
                assert!(err.contains(&format!("missing field `{field}`")), "{schema}.{field}: {err}");
            } else {
                result.unwrap_or_else(|e| {
                    panic!("{schema}: {field} is optional in the spec but the server requires it: {e}")
                });
            }
            // `null` is allowed where the spec says so, and only there.
            let mut body = example.clone();
            body[field] = Value::Null;
            match (nullable(property), accepts(schema, &body)) {
                (true, Err(e)) => {
                    panic!("{schema}.{field}: the spec allows null but the server refuses it: {e}")
                }
                (false, Ok(())) => {
                    panic!("{schema}.{field}: the server accepts null but the spec does not say so")
                }
                _ => {}
            }
        }
        // The spec says additionalProperties: false, and so does the server.
        let mut extra = example.clone();
        extra["unexpected"] = json!(1);
        assert!(accepts(schema, &extra).unwrap_err().contains("unknown field"), "{schema}");
    }
}

/// A value of every response type the server writes, named by its schema in the spec.
fn response_samples() -> Vec<(&'static str, Value)> {
    use trustline_core::api::*;
    use trustline_worker::serve::connections::SyncStatus;
    use trustline_worker::store::{AccountRun, AccountStatus};
    let external_id: trustline_core::ExternalId = "tl-0123456789abcdef".parse().unwrap();
    let tenant = Tenant {
        id: "acme".into(),
        name: "Acme".into(),
        max_connections: 5,
        connections: 1,
        created_at: "2026-12-05T00:00:00Z".into(),
    };
    let check = Check::new("assume_role", "Assume", CheckStatus::Fail, Some("AccessDenied"), "fix it");
    let connection = Connection {
        id: "c-1".into(),
        tenant: "acme".into(),
        name: "Acme".into(),
        kind: trustline_core::IntegrationKind::Sts,
        account_id: Some("123456789012".parse().unwrap()),
        role_arn: Some("arn:aws:iam::123456789012:role/R".parse().unwrap()),
        external_id: Some(external_id.clone()),
        next_external_id: None,
        access_key_id: Some("AKIAEXAMPLE".into()),
        secret: Some(SecretStorage::Sealed),
        data_sets: vec![trustline_core::policy::permissions::DataSet::Iam],
        regions: vec!["eu-west-1".parse().unwrap()],
        status: ConnectionStatus::Active,
        parent: None,
        posture: Some(Posture::Healthy),
        first_sync: None,
    };
    let run = AccountRun {
        run_id: 1,
        status: AccountStatus::Ok,
        error_code: None,
        error: None,
        resources: 3,
        added: 3,
        changed: 0,
        removed: 0,
        calls: 9,
        duration_ms: 120,
        finished_at: None,
    };
    let finding = Finding {
        id: "external_id_required_missing".into(),
        severity: Severity::Critical,
        evidence: "AWS let Trustline assume the role without an ExternalId".into(),
        fix: "Require the ExternalId with StringEquals".into(),
    };
    let posture_row = PostureRow {
        connection: "c-1".into(),
        posture: Posture::Unsafe,
        findings: vec![finding.clone()],
        changed_at: "2026-12-05T00:00:00Z".into(),
        last_checked_at: "2026-12-05T01:00:00Z".into(),
        run_id: Some(2),
    };
    let posture_history = PostureHistory {
        previous: Some(Posture::Healthy),
        posture: Posture::Unsafe,
        findings: vec![finding.clone()],
        at: "2026-12-05T00:00:00Z".into(),
        run_id: Some(2),
    };
    let resource = Resource {
        connection: "c-1".into(),
        region: "global".into(),
        kind: "iam-user".into(),
        id: "AIDAEXAMPLE".into(),
        name: Some("alice".into()),
        arn: None,
        tags: [("team".to_owned(), "web".to_owned())].into(),
        attributes: json!({ "Path": "/" }),
        first_seen: "2026-12-05T00:00:00Z".into(),
        last_seen: "2026-12-05T00:00:00Z".into(),
        stale: false,
    };
    let change = Change {
        seq: 1,
        run_id: 1,
        at: "2026-12-05T00:00:00Z".into(),
        connection: "c-1".into(),
        region: "global".into(),
        kind: "iam-user".into(),
        id: "AIDAEXAMPLE".into(),
        change: "added".into(),
        fields: Vec::new(),
    };
    let event = Event {
        event_id: "e-1".into(),
        connection: "c-1".into(),
        region: "eu-west-1".into(),
        event_time: "2026-12-05T00:00:00Z".into(),
        event_name: "ListUsers".into(),
        event_source: Some("iam.amazonaws.com".into()),
        username: None,
    };
    let run_summary = RunSummary {
        id: 1,
        status: "ok".into(),
        started_at: "2026-12-05T00:00:00Z".into(),
        finished_at: None,
        accounts: vec![RunAccount {
            connection: "c-1".into(),
            status: "ok".into(),
            resources: 1,
            added: 1,
            changed: 0,
            removed: 0,
            error: None,
        }],
    };
    fn json<T: serde::Serialize>(value: &T) -> Value {
        serde_json::to_value(value).unwrap()
    }
    vec![
        ("ErrorResponse", json(&ErrorResponse::new(Some("role_arn"), "not a role"))),
        ("Tenant", json(&tenant)),
        ("TenantList", json(&TenantList { tenants: vec![tenant.clone()] })),
        (
            "SessionCreated",
            json(&SessionCreated {
                token: trustline_core::Secret::new("tl_session_x"),
                tenant: "acme".into(),
                expires_at: "2026-12-05T00:15:00Z".into(),
                external_id: external_id.clone(),
                external_id_expires_at: None,
                vendor_principal: None,
            }),
        ),
        (
            "IssuedExternalId",
            json(&IssuedExternalId {
                external_id: external_id.clone(),
                issued_at: "2026-12-05T00:00:00Z".into(),
                expires_at: None,
            }),
        ),
        ("Check", json(&check)),
        (
            "VerifyReport",
            json(&VerifyReport { verdict: Verdict::Failed, account_id: None, checks: vec![check.clone()] }),
        ),
        ("Connection", json(&connection)),
        ("ConnectionList", json(&ConnectionList { connections: vec![connection.clone()] })),
        ("SyncStarted", json(&SyncStarted { status: SyncState::Started })),
        ("AccountRun", json(&run)),
        ("SyncStatus", json(&SyncStatus { running: false, last: Some(run.clone()) })),
        (
            "RotationStarted",
            json(&RotationStarted {
                external_id: external_id.clone(),
                previous: None,
                next_step: "x".into(),
            }),
        ),
        ("Finding", json(&finding)),
        ("PostureRow", json(&posture_row)),
        ("PostureHistory", json(&posture_history)),
        (
            "PostureReport",
            json(&PostureReport {
                current: Some(posture_row.clone()),
                history: vec![posture_history.clone()],
            }),
        ),
        ("Resource", json(&resource)),
        ("ResourcePage", json(&Page { items: vec![resource.clone()], next_cursor: Some("x".into()) })),
        (
            "ResourceHistory",
            json(&ResourceHistory { resource: Some(resource), changes: vec![change.clone()] }),
        ),
        ("Change", json(&change)),
        ("ChangeFeed", json(&Feed { items: vec![change], cursor: "x".into(), more: false })),
        ("Event", json(&event)),
        ("EventFeed", json(&Feed { items: vec![event], cursor: "x".into(), more: true })),
        ("RunAccount", json(&run_summary.accounts[0])),
        ("RunSummary", json(&run_summary)),
        ("RunPage", json(&Page { items: vec![run_summary.clone()], next_cursor: None })),
        (
            "RotationCompleted",
            json(&RotationCompleted {
                external_id: external_id.clone(),
                retired: external_id,
                proof: "x".into(),
            }),
        ),
    ]
}

/// Fields a type leaves out when empty: the spec must not require them.
const OMITTED_WHEN_EMPTY: [(&str, &str); 1] = [("Check", "aws_error_code")];

#[test]
fn response_schemas_have_the_fields_the_server_types_write() {
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let samples = response_samples();
    // Every object schema a response uses is sampled (Health is a literal; RegisteredConnection
    // is Connection with `first_sync`, checked below).
    let in_responses: BTreeSet<String> = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|operation| operation["responses"].as_object())
        .flat_map(|responses| responses.values())
        .filter_map(|response| response["content"]["application/json"]["schema"]["$ref"].as_str())
        .map(|r| r.trim_start_matches("#/components/schemas/").to_owned())
        .filter(|name| !["Health", "RegisteredConnection"].contains(&name.as_str()))
        .collect();
    let sampled: BTreeSet<String> = samples.iter().map(|(name, _)| (*name).to_owned()).collect();
    assert!(
        in_responses.is_subset(&sampled),
        "responses without a sample: {:?}",
        in_responses.difference(&sampled)
    );
    for (name, sample) in &samples {
        let schema = &schemas[*name];
        let properties: BTreeSet<&str> = schema["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{name}: no properties"))
            .keys()
            .map(String::as_str)
            .collect();
        let written: BTreeSet<&str> = sample.as_object().unwrap().keys().map(String::as_str).collect();
        let omitted: BTreeSet<&str> =
            OMITTED_WHEN_EMPTY.iter().filter(|(schema, _)| schema == name).map(|(_, field)| *field).collect();
        assert_eq!(
            properties,
            &written | &omitted,
            "{name}: the spec's properties and the fields the server writes"
        );
        let required: BTreeSet<&str> =
            schema["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(required, &written - &omitted, "{name}: required fields are those always written");
    }
    // A registration's answer is a connection with `first_sync: started`.
    let mut registered = samples.iter().find(|(n, _)| *n == "Connection").unwrap().1.clone();
    let connection: trustline_core::api::Connection = serde_json::from_value(registered.clone()).unwrap();
    let extra = &schemas["RegisteredConnection"]["allOf"][1];
    assert_eq!(extra["required"], json!(["first_sync"]));
    registered["first_sync"] = extra["properties"]["first_sync"]["const"].clone();
    let read: trustline_core::api::Connection = serde_json::from_value(registered).unwrap();
    assert_eq!(read.first_sync, Some(trustline_core::api::SyncState::Started));
    assert_eq!(connection.first_sync, None);
}
