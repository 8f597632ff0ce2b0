//! docs/openapi.yaml describes exactly the routes `trustline serve` has, and its request schemas
//! require exactly the fields the server requires.

use std::collections::BTreeSet;

use serde_json::Value;

fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml")).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

/// The routes in worker/src/serve.rs (method, path); a route added there must be added here and
/// in the spec, which this test then checks.
const ROUTES: [(&str, &str); 10] = [
    ("get", "/v1/health"),
    ("post", "/v1/verify/role"),
    ("post", "/v1/verify/keys"),
    ("post", "/v1/connections"),
    ("get", "/v1/connections"),
    ("get", "/v1/connections/{id}"),
    ("delete", "/v1/connections/{id}"),
    ("post", "/v1/connections/{id}/sync"),
    ("get", "/v1/connections/{id}/sync"),
    ("options", "*"),
];

#[test]
fn every_route_is_described_and_nothing_else() {
    let spec = spec();
    let mut described = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys().filter(|k| *k != "parameters") {
            described.insert((method.clone(), path.clone()));
        }
    }
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .filter(|(m, _)| *m != "options")
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(described, routed);
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/serve.rs")).unwrap();
    for (_, path) in ROUTES.iter().filter(|(m, _)| *m != "options") {
        assert!(source.contains(&format!("\"{path}\"")), "{path} is not routed in serve.rs");
    }
}

/// Deserializes `body` into the server's request type for `schema`.
fn accepts(schema: &str, body: &Value) -> Result<(), String> {
    use trustline_worker::serve::{connections::RegisterRequest, verify::KeysRequest, verify::RoleRequest};
    let r = match schema {
        "VerifyRoleRequest" => serde_json::from_value::<RoleRequest>(body.clone()).map(|_| ()),
        "VerifyKeysRequest" => serde_json::from_value::<KeysRequest>(body.clone()).map(|_| ()),
        "RegisterRequest" => serde_json::from_value::<RegisterRequest>(body.clone()).map(|_| ()),
        other => panic!("no server type for {other}"),
    };
    r.map_err(|e| e.to_string())
}

#[test]
fn required_fields_match_the_server() {
    let spec = spec();
    let examples = [
        (
            "VerifyRoleRequest",
            serde_json::json!({"role_arn": "arn:aws:iam::123456789012:role/R", "external_id": "abc123",
            "expected_account_id": "123456789012", "data_sets": ["iam"], "regions": ["eu-west-1"]}),
        ),
        (
            "VerifyKeysRequest",
            serde_json::json!({"kind": "sts", "access_key_id": "AKIAEXAMPLE", "secret_access_key": "s",
            "session_token": "t", "role_arn": "arn:aws:iam::123456789012:role/R", "external_id": "abc123"}),
        ),
        (
            "RegisterRequest",
            serde_json::json!({"kind": "sts", "id": "acme", "name": "Acme",
            "role_arn": "arn:aws:iam::123456789012:role/R", "external_id": "abc123", "access_key_id": "AKIAEXAMPLE",
            "secret_access_key": "s", "data_sets": ["iam"], "regions": ["eu-west-1"]}),
        ),
    ];
    for (schema, example) in examples {
        let described = &spec["components"]["schemas"][schema];
        let required: BTreeSet<&str> =
            described["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let properties: BTreeSet<&str> =
            described["properties"].as_object().unwrap().keys().map(String::as_str).collect();
        let example_fields: BTreeSet<&str> =
            example.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(properties, example_fields, "{schema}: the spec's properties and the example differ");
        accepts(schema, &example).unwrap_or_else(|e| panic!("{schema}: the full example is refused: {e}"));
        for field in properties {
            let mut body = example.clone();
            body.as_object_mut().unwrap().remove(field);
            let result = accepts(schema, &body);
            if required.contains(field) {
                let err = result
                    .expect_err(&format!("{schema}: the server accepts a body without required {field}"));
                assert!(err.contains(&format!("missing field `{field}`")), "{schema}.{field}: {err}");
            } else {
                result.unwrap_or_else(|e| {
                    panic!("{schema}: {field} is optional in the spec but the server requires it: {e}")
                });
            }
        }
        // The spec says additionalProperties: false, and so does the server.
        let mut extra = example.clone();
        extra["unexpected"] = serde_json::json!(1);
        assert!(accepts(schema, &extra).unwrap_err().contains("unknown field"), "{schema}");
    }
}
