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
    use trustline_worker::serve::connections::RegisterRequest;
    use trustline_worker::serve::tenants::{CreateSession, CreateTenant};
    use trustline_worker::serve::verify::{KeysRequest, RoleRequest};
    let r = match schema {
        "CreateTenant" => serde_json::from_value::<CreateTenant>(body.clone()).map(|_| ()),
        "CreateSession" => serde_json::from_value::<CreateSession>(body.clone()).map(|_| ()),
        "VerifyRoleRequest" => serde_json::from_value::<RoleRequest>(body.clone()).map(|_| ()),
        "VerifyKeysRequest" => serde_json::from_value::<KeysRequest>(body.clone()).map(|_| ()),
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
