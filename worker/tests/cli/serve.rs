//! `trustline serve` as a vendor's backend and its customers' pages use it, and as an attacker
//! from another customer would: tenants, issued ExternalIds, sessions, the authorization matrix
//! built from the router's own table, CORS, Host names, limits and bad bodies; role verification
//! against Trustline's stand-in (trust enforcement, loosened conditions) and moto (permission
//! probes through identity policies).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use trustline_testkit::http::{RawResponse, exchange};
use trustline_testkit::moto::{Moto, MotoOptions};
use trustline_testkit::standin::{Role, StandIn, TrailEvent};

/// The operator's token: the vendor's backend only.
const TOKEN: &str = "op-Zq7Lr2Xw9Kc4Vb8Nm1Pt6Hy3Jd5Fg0SaQeWuRiTo";
const ORIGIN: &str = "https://dashboard.example.com";
/// The vendor's key in the stand-in (which identifies callers by key; moto checks signatures).
const VENDOR: (&str, &str) = ("AKIAVENDOR0000000001", "vendor-secret");

struct Server {
    child: Child,
    url: String,
    dir: std::path::PathBuf,
}

fn store_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("trustline-serve-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Server {
    fn start(endpoint: &str, vendor: (&str, &str), name: &str, extra: &[&str]) -> Server {
        Server::start_in(store_dir(name), endpoint, vendor, extra, &[])
    }

    fn start_in(
        dir: std::path::PathBuf,
        endpoint: &str,
        vendor: (&str, &str),
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_trustline"))
            .args(["serve", "--listen", "127.0.0.1:0", "--allow-origin", ORIGIN, "--endpoint-url", endpoint])
            .arg("--store")
            .arg(crate::store_arg(&dir.join("trustline.db")))
            .args(crate::lease_ttl_args())
            .args(extra)
            .env("TRUSTLINE_API_TOKEN", TOKEN)
            .env("AWS_ACCESS_KEY_ID", vendor.0)
            .env("AWS_SECRET_ACCESS_KEY", vendor.1)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("TRUSTLINE_SEAL_KEY")
            .env_remove("TRUSTLINE_SEAL_KEY_FILE")
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("serve printed its address").unwrap();
            if let Some(url) = line.strip_prefix("listening on ") {
                break url.to_owned();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, url, dir }
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        extra: &[(&str, &str)],
    ) -> RawResponse {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(a) = &auth {
            headers.push(("Authorization", a));
        }
        headers.extend_from_slice(extra);
        exchange(method, &format!("{}{path}", self.url), headers, body.unwrap_or("").as_bytes()).unwrap()
    }

    fn call(&self, token: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
        let body = if body.is_null() { String::new() } else { body.to_string() };
        let r = self.request(method, path, Some(token), Some(&body), &[]);
        (r.status, serde_json::from_slice(&r.body).unwrap_or(Value::Null))
    }

    /// As the operator (the vendor's backend).
    fn json(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        self.call(TOKEN, method, path, body)
    }

    /// Adds a tenant and returns a browser session's token for it.
    fn tenant(&self, id: &str) -> Session {
        let (status, body) =
            self.json("POST", "/v1/tenants", json!({ "id": id, "name": format!("Customer {id}") }));
        assert_eq!(status, 201, "{body}");
        let (status, s) =
            self.json("POST", &format!("/v1/tenants/{id}/sessions"), json!({ "ttl_seconds": 600 }));
        assert_eq!(status, 201, "{s}");
        Session {
            tenant: id.to_owned(),
            token: s["token"].as_str().unwrap().to_owned(),
            external_id: s["external_id"].as_str().unwrap().to_owned(),
        }
    }

    /// The connection's sync state once its sync has finished (or after 20 s).
    fn last_sync(&self, tenant: &str, id: &str) -> Value {
        let mut state = Value::Null;
        for _ in 0..200 {
            state = self.json("GET", &format!("/v1/tenants/{tenant}/connections/{id}/sync"), Value::Null).1;
            if state["running"] == false && !state["last"].is_null() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        state
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

struct Session {
    tenant: String,
    token: String,
    external_id: String,
}

impl Session {
    fn path(&self, rest: &str) -> String {
        format!("/v1/tenants/{}{rest}", self.tenant)
    }
}

fn header<'a>(r: &'a RawResponse, name: &str) -> Option<&'a str> {
    r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn status_of<'a>(report: &'a Value, id: &str) -> &'a str {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {report}"))["status"]
        .as_str()
        .unwrap()
}

fn trust_with(condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111111111111:root"}},"Action":"sts:AssumeRole"{condition}}}]}}"#
    )
}

fn trust(external_id: Option<&str>) -> String {
    trust_with(
        &external_id
            .map(|id| format!(r#","Condition":{{"StringEquals":{{"sts:ExternalId":"{id}"}}}}"#))
            .unwrap_or_default(),
    )
}

fn role(s: &StandIn, account: &str, name: &str, trust_policy: String, denied: &[&str]) -> String {
    let arn = format!("arn:aws:iam::{account}:role/{name}");
    s.add_role(Role {
        arn: arn.clone(),
        trust_policy,
        denied_actions: denied.iter().map(|d| (*d).to_owned()).collect(),
        max_session_seconds: 3600,
    });
    arn
}

fn standin() -> StandIn {
    let s = StandIn::start();
    s.add_user("111111111111", "trustline-vendor", "AKIAVENDOR0000000001");
    s
}

fn role_body(arn: &str) -> Value {
    json!({ "kind": "cross-account-role", "role_arn": arn, "data_sets": ["iam"] })
}

#[test]
fn verify_proves_the_issued_external_id_is_enforced_and_refuses_unsafe_roles() {
    let aws = standin();
    let server = Server::start(&aws.endpoint(), VENDOR, "standin", &[]);
    let acme = server.tenant("acme");
    let safe = role(&aws, "222222222222", "Safe", trust(Some(&acme.external_id)), &[]);
    let open = role(&aws, "222222222222", "Open", trust(None), &[]);
    let no_list =
        role(&aws, "222222222222", "NoListUsers", trust(Some(&acme.external_id)), &["iam:ListUsers"]);

    let mut body = json!({ "role_arn": safe, "expected_account_id": "222222222222", "data_sets": ["iam"] });
    let (status, report) = acme_call(&server, &acme, "POST", "/verify/role", body.clone());
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["verdict"], "verified", "{report}");
    assert_eq!(report["account_id"], "222222222222");
    for id in [
        "assume_role",
        "external_id_required_missing",
        "external_id_required_wrong",
        "external_id_required_same_prefix",
        "external_id_required_longer",
        "external_id_required_shorter",
        "external_id_required_case",
        "caller_identity",
        "expected_account",
        "permission:iam:ListUsers",
        "session_duration",
    ] {
        assert_eq!(status_of(&report, id), "pass", "{id}: {report}");
    }

    // A cross-account role that needs no ExternalId: unsafe, and never registered.
    body["role_arn"] = json!(open);
    let (_, report) = acme_call(&server, &acme, "POST", "/verify/role", body.clone());
    assert_eq!(report["verdict"], "unsafe", "{report}");
    assert_eq!(status_of(&report, "external_id_required_missing"), "fail");
    let (status, err) = acme_call(&server, &acme, "POST", "/connections", role_body(&open));
    assert_eq!((status, err["error"]["field"].as_str()), (422, Some("role_arn")), "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("without your ExternalId"));

    // A missing permission is named with the fix.
    body["role_arn"] = json!(no_list);
    let (_, report) = acme_call(&server, &acme, "POST", "/verify/role", body.clone());
    assert_eq!(report["verdict"], "failed");
    let denied =
        report["checks"].as_array().unwrap().iter().find(|c| c["id"] == "permission:iam:ListUsers").unwrap();
    assert_eq!(denied["aws_error_code"], "AccessDenied");
    assert!(denied["message"].as_str().unwrap().contains("must allow iam:ListUsers"));

    // The wrong account is caught.
    body["role_arn"] = json!(safe);
    body["expected_account_id"] = json!("333333333333");
    let (_, report) = acme_call(&server, &acme, "POST", "/verify/role", body);
    assert_eq!(status_of(&report, "expected_account"), "fail");

    // Nothing was half-registered; the safe role registers under a server-chosen id, with the
    // issued ExternalId, and its first sync starts by itself.
    let (_, list) = acme_call(&server, &acme, "GET", "/connections", Value::Null);
    assert_eq!(list["connections"], json!([]));
    let (status, created) = acme_call(&server, &acme, "POST", "/connections", role_body(&safe));
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("c-") && id.len() == 18 && !id.contains("222222222222"), "{id}");
    assert_eq!(created["external_id"], acme.external_id.as_str());
    assert_eq!(created["first_sync"], "started");
    let last = server.last_sync("acme", id);
    assert_eq!(last["last"]["status"], "ok", "{last}");
    // The same role again: refused, naming the tenant's own connection.
    let (status, err) = acme_call(&server, &acme, "POST", "/connections", role_body(&safe));
    assert_eq!(status, 409, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains(id), "{err}");
}

fn acme_call(server: &Server, s: &Session, method: &str, rest: &str, body: Value) -> (u16, Value) {
    server.call(&s.token, method, &s.path(rest), body)
}

/// Each attack reproduced against the stand-in before tenants existed is refused now.
#[test]
fn another_customer_cannot_use_what_is_not_theirs() {
    let aws = standin();
    let server =
        Server::start(&aws.endpoint(), VENDOR, "attacks", &["--set", "tenants.external_id_prefix=acme:"]);
    let a = server.tenant("customer-a");
    let b = server.tenant("customer-b");
    assert!(a.external_id.starts_with("acme:") && a.external_id != b.external_id);
    let a_role = role(&aws, "222222222222", "AReader", trust(Some(&a.external_id)), &[]);
    let (status, created) = acme_call(&server, &a, "POST", "/connections", role_body(&a_role));
    assert_eq!(status, 201, "{created}");
    let a_id = created["id"].as_str().unwrap().to_owned();

    // B names A's role with A's ExternalId: refused before any AWS call, naming the field.
    let mut body = role_body(&a_role);
    body["external_id"] = json!(a.external_id);
    for rest in ["/connections", "/verify/role"] {
        let mut body = body.clone();
        if rest == "/verify/role" {
            body.as_object_mut().unwrap().remove("kind");
        }
        let (status, err) = acme_call(&server, &b, "POST", rest, body);
        assert_eq!((status, err["error"]["field"].as_str()), (422, Some("external_id")), "{rest}: {err}");
    }
    // With B's own ExternalId, A's role refuses Trustline: nothing is registered, and the
    // answer says nothing about A (the same as for a role nobody connected).
    let (status, err) = acme_call(&server, &b, "POST", "/connections", role_body(&a_role));
    assert_eq!((status, err["error"]["field"].as_str()), (422, Some("role_arn")), "{err}");
    assert!(!err.to_string().contains("customer-a") && !err.to_string().contains(&a_id), "{err}");
    // A made-up ExternalId is refused the same way.
    body["external_id"] = json!("acme:anything-i-like");
    let (status, err) = acme_call(&server, &b, "POST", "/connections", body);
    assert_eq!((status, err["error"]["field"].as_str()), (422, Some("external_id")), "{err}");
    // B cannot see, sync or delete A's connection, by A's path or its own.
    for (method, path) in [
        ("GET", format!("/v1/tenants/customer-a/connections/{a_id}")),
        ("GET", "/v1/tenants/customer-a/connections".to_owned()),
        ("GET", "/v1/tenants/customer-a/external-id".to_owned()),
        ("DELETE", format!("/v1/tenants/customer-a/connections/{a_id}")),
    ] {
        let (status, _) = server.call(&b.token, method, &path, Value::Null);
        assert_eq!(status, 403, "{method} {path}");
    }
    let (status, _) = acme_call(&server, &b, "GET", &format!("/connections/{a_id}"), Value::Null);
    assert_eq!(status, 404);
    let (_, list) = acme_call(&server, &b, "GET", "/connections", Value::Null);
    assert_eq!(list["connections"], json!([]));

    // A role that trusts B as well and whose account is A's: the account is A's alone.
    let shared = role(&aws, "222222222222", "AlsoB", trust(Some(&b.external_id)), &[]);
    let (status, err) = acme_call(&server, &b, "POST", "/connections", role_body(&shared));
    assert_eq!(status, 409, "{err}");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("already connected") && !message.contains("customer-a"), "{err}");

    // A trust policy that accepts any ExternalId with the vendor's prefix is unsafe.
    let loose = role(
        &aws,
        "444444444444",
        "Wildcard",
        trust_with(r#","Condition":{"StringLike":{"sts:ExternalId":"acme:*"}}"#),
        &[],
    );
    let (status, report) =
        acme_call(&server, &b, "POST", "/verify/role", json!({"role_arn": loose, "data_sets": ["iam"]}));
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["verdict"], "unsafe", "{report}");
    assert_eq!(status_of(&report, "external_id_required_same_prefix"), "fail", "{report}");
    assert_eq!(status_of(&report, "external_id_required_missing"), "pass", "{report}");

    // 5,000 copies of a region: refused before anything is stored or called.
    let mut body = role_body(&a_role);
    body["regions"] = json!(
        vec!["us-east-1"; 5000]
            .into_iter()
            .enumerate()
            .map(|(i, r)| if i % 2 == 0 { r.to_owned() } else { format!("us-west-{}", i % 41 + 1) })
            .collect::<Vec<_>>()
    );
    let (status, err) = acme_call(&server, &b, "POST", "/connections", body);
    assert_eq!((status, err["error"]["field"].as_str()), (422, Some("regions")), "{err}");
    let mut body = role_body(&a_role);
    body["regions"] = json!(vec!["us-east-1"; 5000]);
    let (status, err) = acme_call(&server, &a, "POST", "/connections", body);
    assert_eq!(status, 409, "duplicates collapse to one region; then the same role is refused: {err}");

    // A name that would drive a terminal is refused.
    let mut body = role_body(&shared);
    body["name"] = json!("prod\u{1b}[31m");
    let (status, err) = acme_call(&server, &a, "POST", "/connections", body);
    assert_eq!((status, err["error"]["field"].as_str()), (422, Some("name")), "{err}");
}

#[test]
fn the_authorization_matrix_covers_every_route() {
    use trustline_worker::serve::ROUTES;
    // Who may call what, written out independently of the server's table: a route with no rule
    // here fails the test.
    let rules: &[(&str, &str, &str)] = &[
        ("GET", "/v1/health", "public"),
        ("POST", "/v1/tenants", "operator"),
        ("GET", "/v1/tenants", "operator"),
        ("GET", "/v1/tenants/{tenant}", "operator"),
        ("DELETE", "/v1/tenants/{tenant}", "operator"),
        ("POST", "/v1/tenants/{tenant}/sessions", "operator"),
        ("GET", "/v1/tenants/{tenant}/external-id", "tenant"),
        ("POST", "/v1/tenants/{tenant}/verify/role", "tenant"),
        ("POST", "/v1/tenants/{tenant}/verify/keys", "tenant"),
        ("POST", "/v1/tenants/{tenant}/connections", "tenant"),
        ("GET", "/v1/tenants/{tenant}/connections", "tenant"),
        ("GET", "/v1/tenants/{tenant}/connections/{id}", "tenant"),
        ("DELETE", "/v1/tenants/{tenant}/connections/{id}", "operator"),
        ("GET", "/v1/tenants/{tenant}/connections/{id}/sync", "tenant"),
        ("GET", "/v1/tenants/{tenant}/connections/{id}/posture", "tenant"),
        ("POST", "/v1/tenants/{tenant}/connections/{id}/sync", "operator"),
        ("POST", "/v1/tenants/{tenant}/connections/{id}/external-id/rotate", "operator"),
        ("POST", "/v1/tenants/{tenant}/connections/{id}/external-id/complete", "operator"),
        ("GET", "/v1/tenants/{tenant}/inventory", "tenant"),
        ("GET", "/v1/tenants/{tenant}/resource", "tenant"),
        ("GET", "/v1/tenants/{tenant}/changes", "tenant"),
        ("GET", "/v1/tenants/{tenant}/events", "tenant"),
        ("GET", "/v1/tenants/{tenant}/runs", "tenant"),
    ];
    for r in ROUTES {
        assert!(
            rules.iter().any(|(m, p, _)| *m == r.method && *p == r.path),
            "{} {} has no rule in the authorization matrix",
            r.method,
            r.path
        );
    }
    assert_eq!(rules.len(), ROUTES.len(), "a rule names a route the server does not have");

    let aws = standin();
    let dir = store_dir("matrix");
    let server = Server::start_in(dir.clone(), &aws.endpoint(), VENDOR, &[], &[]);
    let a = server.tenant("tenant-a");
    let b = server.tenant("tenant-b");
    let (_, expired) = server.json("POST", "/v1/tenants/tenant-a/sessions", json!({ "ttl_seconds": 60 }));
    let expired = expired["token"].as_str().unwrap().to_owned();
    // Make that session an hour old (its token stays what the client holds).
    crate::store_execute(
        &dir.join("trustline.db"),
        &format!(
            "UPDATE sessions SET expires_at = '2000-01-01T00:00:00Z' WHERE token_hash = '{}'",
            sha256_hex(&expired)
        ),
    );

    let mut checked = 0;
    for (method, template, rule) in rules {
        for (who, token, tenant) in [
            ("nobody", None, "tenant-a"),
            // A tenant that does not exist, so the operator's DELETE removes nothing the other
            // callers need: 404 shows the call got past authorization.
            ("operator", Some(TOKEN), "tenant-z"),
            ("A's session", Some(a.token.as_str()), "tenant-a"),
            ("B's session on A", Some(b.token.as_str()), "tenant-a"),
            ("expired session", Some(expired.as_str()), "tenant-a"),
            ("A's session naming B", Some(a.token.as_str()), "tenant-b"),
        ] {
            let path = template.replace("{tenant}", tenant).replace("{id}", "c-nosuchconnection");
            // Bodies that cannot succeed: authorization is decided before a body is read.
            let r = server.request(method, &path, token, Some("{\"x\":1}"), &[]);
            let expected: &[u16] = match (*rule, who) {
                ("public", _) => &[200],
                (_, "nobody" | "expired session") => &[401],
                (_, "operator") => &[200, 201, 204, 404, 409, 422],
                ("operator", _) => &[403],
                ("tenant", "A's session") => &[200, 201, 404, 422],
                ("tenant", _) => &[403],
                _ => unreachable!(),
            };
            assert!(
                expected.contains(&r.status),
                "{method} {path} as {who}: {} (expected one of {expected:?}): {}",
                r.status,
                r.text()
            );
            assert!(!r.text().contains(TOKEN), "the operator's token is never echoed");
            checked += 1;
        }
    }
    assert_eq!(checked, ROUTES.len() * 6);
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(text.as_bytes()))
}

#[test]
fn auth_cors_hosts_limits_and_bad_bodies() {
    let aws = standin();
    let server = Server::start(&aws.endpoint(), VENDOR, "guards", &["--verify-per-minute", "3"]);
    let acme = server.tenant("acme");
    let safe = role(&aws, "222222222222", "Safe", trust(Some(&acme.external_id)), &[]);

    assert_eq!(server.request("GET", "/v1/health", None, None, &[]).status, 200);
    assert_eq!(server.request("GET", "/v1/tenants", None, None, &[]).status, 401);
    let wrong = server.request("GET", "/v1/tenants", Some("not-the-token-at-all"), None, &[]);
    assert_eq!(wrong.status, 401);
    assert!(wrong.text().contains("bearer token"));

    // DNS rebinding: a page whose name now points at loopback gets nothing, not even the page.
    let port = server.url.rsplit(':').next().unwrap().to_owned();
    for host in [
        format!("evil.example:{port}"),
        format!("localhost.evil.example:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
    ] {
        let r = server.request("GET", "/v1/tenants", Some(TOKEN), None, &[("Host", &host)]);
        assert_eq!(r.status, 421, "{host}: {}", r.text());
    }
    let r =
        server.request("GET", "/v1/tenants", Some(TOKEN), None, &[("Host", &format!("localhost:{port}"))]);
    assert_eq!(r.status, 200);

    // CORS: the configured origin is answered, others are not.
    let preflight = |origin: &str| {
        let headers = [
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "authorization,content-type"),
        ];
        exchange("OPTIONS", &format!("{}/v1/tenants/acme/verify/role", server.url), headers, b"").unwrap()
    };
    assert_eq!(header(&preflight(ORIGIN), "access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(header(&preflight("https://evil.example.com"), "access-control-allow-origin"), None);

    // Bad bodies name the field; nothing reaches AWS.
    let cases = [
        (json!({"data_sets": ["iam"]}), "role_arn", "role_arn is required"),
        (json!({"role_arn": safe, "data_sets": ["iam"], "id": "mine"}), "id", "unknown field"),
        (
            json!({"role_arn": "TrustlineReader", "data_sets": ["iam"]}),
            "role_arn",
            "is a role name, not a role ARN",
        ),
        (
            json!({"role_arn": safe, "external_id": "a b", "data_sets": ["iam"]}),
            "external_id",
            "contains ' '",
        ),
        (json!({"role_arn": safe, "data_sets": "iam"}), "data_sets", "invalid type"),
        (json!({"role_arn": safe, "data_sets": ["s3"]}), "data_sets[0]", "unknown data set"),
        (json!({"role_arn": safe, "data_sets": ["iam"], "secret": "x"}), "secret", "unknown field"),
        (json!({"role_arn": safe, "data_sets": ["iam"], "name": "x".repeat(129)}), "name", "characters"),
    ];
    for (body, field, message) in cases {
        let mut b = body.clone();
        b["kind"] = json!("cross-account-role");
        let (status, err) = acme_call(&server, &acme, "POST", "/connections", b);
        assert_eq!(status, 422, "{body} → {err}");
        assert_eq!(err["error"]["field"], field, "{err}");
        assert!(err["error"]["message"].as_str().unwrap().contains(message), "{err}");
    }
    let huge = json!({ "role_arn": "x".repeat(70_000) }).to_string();
    let r = server.request("POST", "/v1/tenants/acme/verify/role", Some(&acme.token), Some(&huge), &[]);
    assert_eq!(r.status, 413, "{}", r.text());
    // Tenants' own ids and names are checked too.
    let (status, err) = server.json("POST", "/v1/tenants", json!({"id": "../etc"}));
    assert_eq!((status, err["error"]["field"].as_str()), (422, Some("id")), "{err}");
    let (status, _) = server.json("POST", "/v1/tenants", json!({"id": "acme"}));
    assert_eq!(status, 409);
    let (status, err) = server.json("POST", "/v1/tenants/acme/sessions", json!({"ttl_seconds": 86400}));
    assert_eq!((status, err["error"]["field"].as_str()), (422, Some("ttl_seconds")), "{err}");

    // Keys are never echoed back.
    let keys = json!({"kind": "access-key", "access_key_id": "AKIAUNKNOWN000000001", "secret_access_key": "very-secret-value"});
    let r = server.request(
        "POST",
        "/v1/tenants/acme/verify/keys",
        Some(&acme.token),
        Some(&keys.to_string()),
        &[],
    );
    assert_eq!(r.status, 200);
    assert!(!r.text().contains("very-secret-value"));
    let report: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(status_of(&report, "caller_identity"), "fail");

    // The fourth verify within a minute (limit 3 per customer, the keys check counted) is
    // refused, for this customer only.
    let body = json!({ "role_arn": safe, "data_sets": ["iam"] });
    acme_call(&server, &acme, "POST", "/verify/role", body.clone());
    acme_call(&server, &acme, "POST", "/verify/role", body.clone());
    let (status, err) = acme_call(&server, &acme, "POST", "/verify/role", body.clone());
    assert_eq!(status, 429, "{err}");
    let other = server.tenant("other");
    let (status, _) = acme_call(&server, &other, "POST", "/verify/role", body);
    assert_eq!(status, 200, "another customer has its own allowance");
}

#[test]
fn registration_and_removal_never_wait_for_a_running_sync() {
    let aws = standin();
    let server = Server::start(&aws.endpoint(), VENDOR, "busy", &[]);
    let a = server.tenant("busy-a");
    let b = server.tenant("busy-b");
    let slow = role(&aws, "222222222222", "Slow", trust(Some(&a.external_id)), &[]);
    // 1,000 events in one region: 20 pages at CloudTrail's 2 calls per second keep the first
    // sync busy for about ten seconds.
    let events = (0..1000)
        .map(|i| TrailEvent {
            id: format!("ev-{i:05}"),
            name: "DescribeInstances".into(),
            time: time::OffsetDateTime::now_utc().unix_timestamp() - 60 * i,
        })
        .collect();
    aws.add_events("222222222222", "eu-west-1", events);
    let body = json!({ "kind": "cross-account-role", "role_arn": slow, "data_sets": ["cloudtrail"], "regions": ["eu-west-1"] });
    let (status, created) = acme_call(&server, &a, "POST", "/connections", body);
    assert_eq!(status, 201, "{created}");
    let slow_id = created["id"].as_str().unwrap().to_owned();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        server.json("GET", &a.path(&format!("/connections/{slow_id}/sync")), Value::Null).1["running"],
        true
    );

    let quick = role(&aws, "333333333333", "Quick", trust(Some(&b.external_id)), &[]);
    let started = std::time::Instant::now();
    let (status, created) = acme_call(&server, &b, "POST", "/connections", role_body(&quick));
    let took = started.elapsed();
    assert_eq!(status, 201, "{created}");
    assert!(took < std::time::Duration::from_secs(1), "registration took {took:?} during a sync");
    let started = std::time::Instant::now();
    let (status, _) = server.json(
        "DELETE",
        &b.path(&format!("/connections/{}", created["id"].as_str().unwrap())),
        Value::Null,
    );
    assert!(matches!(status, 204 | 409), "{status}");
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "removal took {:?}", started.elapsed());
    let last = server.last_sync("busy-a", &slow_id);
    assert_eq!(last["last"]["status"], "ok", "{last}");
}

/// Every item of a feed (`rest`: changes or events, with a query) stored after `cursor`, and the
/// cursor to poll with next.
fn read_feed(server: &Server, token: &str, rest: &str, mut cursor: String) -> (Vec<Value>, String) {
    let mut items = Vec::new();
    loop {
        let path = if cursor.is_empty() { rest.to_owned() } else { format!("{rest}&cursor={cursor}") };
        let (status, feed) = server.call(token, "GET", &path, Value::Null);
        assert_eq!(status, 200, "{path}: {feed}");
        items.extend(feed["items"].as_array().unwrap().iter().cloned());
        cursor = feed["cursor"].as_str().unwrap().to_owned();
        if feed["more"] == false {
            return (items, cursor);
        }
    }
}

/// Every page of `rest` (a read route with its query) as `token`, following `next_cursor`.
fn all_pages(server: &Server, token: &str, rest: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if rest.contains('?') { '&' } else { '?' };
        let path = match &cursor {
            Some(c) => format!("{rest}{sep}cursor={c}"),
            None => rest.to_owned(),
        };
        let (status, page) = server.call(token, "GET", &path, Value::Null);
        assert_eq!(status, 200, "{path}: {page}");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

fn key_of(r: &Value) -> (String, String, String, String) {
    let s = |k: &str| r[k].as_str().unwrap().to_owned();
    (s("connection"), s("region"), s("kind"), s("id"))
}

/// The read API: a tenant pages through its own inventory, changes, events and runs and never
/// sees another tenant's; pages read during a sync cover every stored item exactly once.
#[test]
fn a_tenant_reads_its_own_inventory_a_page_at_a_time() {
    let aws = standin();
    let dir = store_dir("read");
    let server = Server::start_in(dir.clone(), &aws.endpoint(), VENDOR, &[], &[]);
    let a = server.tenant("reader-a");
    let b = server.tenant("reader-b");
    for i in 0..7 {
        aws.add_user("222222222222", &format!("user-{i}"), &format!("AKIAREADERA00000000{i}"));
    }
    aws.add_user("333333333333", "b-only", "AKIAREADERB000000000");
    let events: Vec<TrailEvent> = (0..300)
        .map(|i| TrailEvent {
            id: format!("ev-{i:05}"),
            name: "ListUsers".into(),
            time: time::OffsetDateTime::now_utc().unix_timestamp() - 30 * i,
        })
        .collect();
    aws.add_events("222222222222", "eu-west-1", events);
    let a_role = role(&aws, "222222222222", "ReaderA", trust(Some(&a.external_id)), &[]);
    let b_role = role(&aws, "333333333333", "ReaderB", trust(Some(&b.external_id)), &[]);
    let body = json!({ "kind": "cross-account-role", "role_arn": a_role, "data_sets": ["iam", "cloudtrail"], "regions": ["eu-west-1"] });
    let (status, created) = acme_call(&server, &a, "POST", "/connections", body);
    assert_eq!(status, 201, "{created}");
    let a_id = created["id"].as_str().unwrap().to_owned();
    let (status, created) = acme_call(&server, &b, "POST", "/connections", role_body(&b_role));
    assert_eq!(status, 201, "{created}");
    let b_id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(server.last_sync("reader-a", &a_id)["last"]["status"], "ok");
    assert_eq!(server.last_sync("reader-b", &b_id)["last"]["status"], "ok");

    // Each connection was re-verified by its sync: healthy, one entry of history.
    let (status, posture) =
        acme_call(&server, &a, "GET", &format!("/connections/{a_id}/posture"), Value::Null);
    assert_eq!(status, 200, "{posture}");
    assert_eq!(posture["current"]["posture"], "healthy", "{posture}");
    assert_eq!(posture["history"].as_array().unwrap().len(), 1, "{posture}");
    let (_, list) = acme_call(&server, &a, "GET", "/connections", Value::Null);
    assert_eq!(list["connections"][0]["posture"], "healthy", "{list}");
    let (status, _) = acme_call(&server, &a, "GET", &format!("/connections/{b_id}/posture"), Value::Null);
    assert_eq!(status, 404, "another tenant's connection is not found");

    // A's inventory, two at a time, in key order, is exactly the store's rows for A.
    let paged = all_pages(&server, &a.token, &a.path("/inventory?limit=2"));
    let keys: Vec<_> = paged.iter().map(key_of).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "pages are in key order with nothing twice");
    let store = dir.join("trustline.db");
    let stored = |connection: &str| -> Vec<(String, String, String, String)> {
        assert!(connection.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{connection}");
        crate::store_query(
            &store,
            &format!(
                "SELECT connection_id || '|' || region || '|' || kind || '|' || id FROM resources
                 WHERE connection_id = '{connection}' ORDER BY connection_id, region, kind, id"
            ),
        )
        .into_iter()
        .map(|row| {
            let f: Vec<&str> = row.splitn(4, '|').collect();
            (f[0].to_owned(), f[1].to_owned(), f[2].to_owned(), f[3].to_owned())
        })
        .collect()
    };
    assert_eq!(keys, stored(&a_id));
    assert!(keys.len() >= 8, "7 users and the role: {keys:?}");
    assert!(paged.iter().all(|r| r["connection"] == a_id.as_str()), "only A's");

    // Filters; another tenant's connection is unknown; bad parameters name themselves.
    let users = all_pages(&server, &a.token, &a.path("/inventory?kind=iam-user&limit=1000"));
    assert_eq!(users.len(), 7);
    let (status, err) = acme_call(&server, &a, "GET", &format!("/inventory?connection={b_id}"), Value::Null);
    assert_eq!((status, err["error"]["field"].as_str()), (404, Some("connection")), "{err}");
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("kind=iam-usr", "kind"),
        ("knd=iam-user", "knd"),
        ("tag==x", "tag"),
        ("limit=1&limit=2", "limit"),
    ] {
        let (status, err) = acme_call(&server, &a, "GET", &format!("/inventory?{query}"), Value::Null);
        assert_eq!((status, err["error"]["field"].as_str()), (422, Some(field)), "{query}: {err}");
    }
    let (status, _) = server.call(&b.token, "GET", &a.path("/inventory"), Value::Null);
    assert_eq!(status, 403, "B's session cannot read A's inventory");

    // One resource with its history.
    let user = &users[0];
    let (status, one) = acme_call(
        &server,
        &a,
        "GET",
        &format!(
            "/resource?connection={a_id}&region=global&kind=iam-user&id={}",
            user["id"].as_str().unwrap()
        ),
        Value::Null,
    );
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["resource"], *user);
    assert_eq!(one["changes"][0]["change"], "added");
    let (status, _) = acme_call(
        &server,
        &a,
        "GET",
        &format!("/resource?connection={a_id}&region=global&kind=iam-user&id=nobody"),
        Value::Null,
    );
    assert_eq!(status, 404);

    // Changes: every addition once, A's only; a cursor from the last page reads nothing new.
    let (changes, cursor) = read_feed(&server, &a.token, &a.path("/changes?limit=3"), String::new());
    let (none, same) = read_feed(&server, &a.token, &a.path("/changes?limit=3"), cursor.clone());
    assert_eq!((none.len(), same), (0, cursor), "nothing new: the same cursor");
    assert_eq!(changes.len(), keys.len());
    assert!(changes.iter().all(|c| c["connection"] == a_id.as_str() && c["change"] == "added"));
    let seqs: Vec<i64> = changes.iter().map(|c| c["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    // Runs: A sees its own account in each, never B's.
    let runs = all_pages(&server, &a.token, &a.path("/runs?limit=1"));
    assert!(!runs.is_empty());
    for run in &runs {
        let accounts = run["accounts"].as_array().unwrap();
        assert!(accounts.iter().all(|x| x["connection"] == a_id.as_str()), "{run}");
    }

    // Events, paged while a second sync stores more of them: each stored event exactly once.
    let (status, _) = server.json("POST", &a.path(&format!("/connections/{a_id}/sync")), Value::Null);
    assert_eq!(status, 202);
    aws.add_events(
        "222222222222",
        "eu-west-1",
        (0..100)
            .map(|i| TrailEvent {
                id: format!("late-{i:05}"),
                name: "GetUser".into(),
                time: time::OffsetDateTime::now_utc().unix_timestamp() - i,
            })
            .collect(),
    );
    let mut seen = Vec::new();
    let mut cursor = String::new();
    let mut inventory_during_sync = Vec::new();
    loop {
        let running = server.json("GET", &a.path(&format!("/connections/{a_id}/sync")), Value::Null).1["running"]
            == true;
        let (items, next) = read_feed(&server, &a.token, &a.path("/events?limit=7"), cursor);
        cursor = next;
        seen.extend(items.iter().map(|e| e["event_id"].as_str().unwrap().to_owned()));
        if inventory_during_sync.is_empty() && running {
            inventory_during_sync = all_pages(&server, &a.token, &a.path("/inventory?limit=1"));
        }
        if !running {
            break;
        }
    }
    assert!(!inventory_during_sync.is_empty(), "the inventory was paged while the sync ran");
    let stored_events = crate::store_query(
        &store,
        &format!("SELECT event_id FROM events WHERE connection_id = '{a_id}' ORDER BY rowid"),
    );
    assert!(stored_events.len() >= 400, "{}", stored_events.len());
    assert_eq!(seen, stored_events, "every stored event once, in the order stored");
    let during: Vec<_> = inventory_during_sync.iter().map(key_of).collect();
    assert_eq!(during, stored(&a_id), "the inventory paged during a sync is the stored one, once each");
    let (_, b_events) = server.call(&b.token, "GET", &b.path("/events"), Value::Null);
    assert_eq!(b_events["items"], json!([]), "B has no events of A's");
}

#[test]
fn a_rotated_out_external_id_is_proven_refused() {
    let aws = standin();
    let server = Server::start(&aws.endpoint(), VENDOR, "rotate", &[]);
    let acme = server.tenant("acme");
    let old = acme.external_id.clone();
    let arn = role(&aws, "222222222222", "Rotating", trust(Some(&old)), &[]);
    let (status, created) = acme_call(&server, &acme, "POST", "/connections", role_body(&arn));
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(server.last_sync("acme", &id)["last"]["status"], "ok");
    let rotate = acme.path(&format!("/connections/{id}/external-id/rotate"));
    let complete = acme.path(&format!("/connections/{id}/external-id/complete"));
    // A browser session cannot rotate.
    assert_eq!(server.call(&acme.token, "POST", &rotate, Value::Null).0, 403);

    let (status, rotated) = server.json("POST", &rotate, Value::Null);
    assert_eq!(status, 201, "{rotated}");
    let new = rotated["external_id"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    // The customer has not changed the role yet: nothing to complete.
    let (status, err) = server.json("POST", &complete, Value::Null);
    assert_eq!(status, 409, "{err}");
    assert!(
        err["error"]["message"].as_str().unwrap().contains("does not accept the new ExternalId"),
        "{err}"
    );
    // During the grace period the role accepts both, and syncs go on.
    let both =
        trust_with(&format!(r#","Condition":{{"StringEquals":{{"sts:ExternalId":["{old}","{new}"]}}}}"#));
    role(&aws, "222222222222", "Rotating", both, &[]);
    let (status, err) = server.json("POST", &complete, Value::Null);
    assert_eq!(status, 409, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("still accepts the old"), "{err}");
    // Only the new one: the sync falls over to it, and the rotation completes with its proof.
    role(&aws, "222222222222", "Rotating", trust(Some(&new)), &[]);
    assert_eq!(server.json("POST", &acme.path(&format!("/connections/{id}/sync")), Value::Null).0, 202);
    assert_eq!(server.last_sync("acme", &id)["last"]["status"], "ok");
    let (status, done) = server.json("POST", &complete, Value::Null);
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        (done["external_id"].as_str(), done["retired"].as_str()),
        (Some(new.as_str()), Some(old.as_str()))
    );
    let (_, shown) = acme_call(&server, &acme, "GET", &format!("/connections/{id}"), Value::Null);
    assert_eq!(
        (shown["external_id"].as_str(), &shown["next_external_id"]),
        (Some(new.as_str()), &Value::Null)
    );
    // The retired one is no longer this customer's to name.
    let mut body = json!({ "role_arn": arn, "data_sets": ["iam"], "external_id": old });
    let (status, err) = acme_call(&server, &acme, "POST", "/verify/role", body.clone());
    assert_eq!((status, err["error"]["field"].as_str()), (422, Some("external_id")), "{err}");
    body["external_id"] = json!(new);
    let (status, report) = acme_call(&server, &acme, "POST", "/verify/role", body);
    assert_eq!((status, report["verdict"].as_str()), (200, Some("verified")), "{report}");
}

#[test]
fn key_connections_register_with_their_secret_sealed() {
    let aws = standin();
    aws.add_user("222222222222", "vendor-reader", "AKIACUSTOMER00000001");
    let body = json!({"kind": "access-key", "access_key_id": "AKIACUSTOMER00000001",
        "secret_access_key": "customer-secret-value-42", "data_sets": ["iam"], "regions": ["eu-west-1"]});

    // Without the operator's sealing key, nothing is stored.
    let plain = Server::start(&aws.endpoint(), VENDOR, "nokey", &[]);
    let s = plain.tenant("keys");
    let (status, err) = acme_call(&plain, &s, "POST", "/connections", body.clone());
    assert_eq!(status, 503, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("TRUSTLINE_SEAL_KEY"), "{err}");
    assert_eq!(acme_call(&plain, &s, "GET", "/connections", Value::Null).1["connections"], json!([]));
    drop(plain);

    let key = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    let server =
        Server::start_in(store_dir("sealed"), &aws.endpoint(), VENDOR, &[], &[("TRUSTLINE_SEAL_KEY", key)]);
    let s = server.tenant("keys");
    // Missing pieces are named before any AWS call.
    let mut no_secret = body.clone();
    no_secret.as_object_mut().unwrap().remove("secret_access_key");
    let (status, err) = acme_call(&server, &s, "POST", "/connections", no_secret);
    assert_eq!((status, err["error"]["field"].as_str()), (422, Some("secret_access_key")), "{err}");
    let mut sts = body.clone();
    sts["kind"] = json!("sts");
    let (status, err) = acme_call(&server, &s, "POST", "/connections", sts);
    assert_eq!((status, err["error"]["field"].as_str()), (422, Some("role_arn")), "{err}");
    // A key AWS does not know is not registered.
    let mut unknown = body.clone();
    unknown["access_key_id"] = json!("AKIAUNKNOWN000000001");
    let (status, err) = acme_call(&server, &s, "POST", "/connections", unknown);
    assert_eq!((status, err["error"]["field"].as_str()), (422, Some("access_key_id")), "{err}");

    let r = server.request("POST", &s.path("/connections"), Some(&s.token), Some(&body.to_string()), &[]);
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(!r.text().contains("customer-secret-value-42"), "the secret is never echoed");
    let created: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(created["account_id"], "222222222222");
    assert_eq!(created["secret"], "sealed");
    // At rest: neither the database nor its WAL holds the secret.
    for file in ["trustline.db", "trustline.db-wal"] {
        let bytes = std::fs::read(server.dir.join(file)).unwrap_or_default();
        let needle = b"customer-secret-value-42";
        assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{file} holds the secret in plaintext");
    }
    // The worker opens the sealed secret for the first sync.
    let last = server.last_sync("keys", created["id"].as_str().unwrap());
    assert_eq!(last["last"]["status"], "ok", "{last}");
}

#[test]
fn same_account_role_against_moto_with_permission_probes() {
    // moto evaluates trust (exact principal, StringEquals ExternalId) and identity policies once
    // signature checking is on; seeding happens in its unauthenticated window. The ExternalId is
    // the one Trustline issues to the tenant, so the tenant is made first, on the CLI.
    let dir = store_dir("moto");
    let store = dir.join("trustline.db");
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_trustline"))
            .args(args)
            .arg("--store")
            .arg(crate::store_arg(&store))
            .args(crate::lease_ttl_args())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    cli(&["tenants", "add", "moto"]);
    let external_id = cli(&["tenants", "external-id", "moto"]).trim().to_owned();
    let moto = Moto::start_with(&MotoOptions { verify_signatures_after: Some(5), ..Default::default() });
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/moto_verify_seed.py");
    let out = Command::new(trustline_testkit::tools::venv_bin("python"))
        .arg(script)
        .arg(moto.endpoint())
        .arg(&external_id)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seeded: Value = serde_json::from_slice(&out.stdout).unwrap();
    let vendor = (seeded["vendor_key"].as_str().unwrap(), seeded["vendor_secret"].as_str().unwrap());
    let server = Server::start_in(dir, &moto.endpoint(), vendor, &[], &[]);

    let body = json!({ "role_arn": seeded["role_arn"], "data_sets": ["iam", "ec2-network"], "regions": ["us-east-1"] });
    let (status, report) = server.json("POST", "/v1/tenants/moto/verify/role", body);
    assert_eq!(status, 200, "{report}");
    assert_eq!(status_of(&report, "assume_role"), "pass", "{report}");
    assert_eq!(status_of(&report, "external_id_required_wrong"), "pass", "{report}");
    // (moto lets a *missing* ExternalId through, so that check is proven against the stand-in
    // above, not here.)
    assert_eq!(report["account_id"], "123456789012");
    // The role's policy allows the IAM reads and not EC2: the probes must say exactly that.
    for action in ["iam:ListUsers", "iam:ListRoles", "iam:ListGroups", "iam:ListPolicies"] {
        assert_eq!(status_of(&report, &format!("permission:{action}")), "pass", "{action}: {report}");
    }
    for action in ["ec2:DescribeInstances", "ec2:DescribeVpcs"] {
        assert_eq!(status_of(&report, &format!("permission:{action}")), "fail", "{action}: {report}");
    }
}

/// A connection registered after verifying is announced by a signed `connection.verified`
/// webhook (written with the connection, in one transaction), which the server itself delivers,
/// followed by its first sync's events. The ExternalId is not in it.
#[test]
fn a_verified_registration_is_announced_by_a_signed_webhook() {
    let aws = standin();
    let receiver = crate::webhooks::Receiver::start();
    let dir = store_dir("webhooks");
    let key = crate::stdout(&crate::trustline(&["seal-key"])).trim().to_owned();
    let added = Command::new(env!("CARGO_BIN_EXE_trustline"))
        .args(["webhooks", "add", "--url", &receiver.url("/hook")])
        .arg("--store")
        .arg(crate::store_arg(&dir.join("trustline.db")))
        .args(crate::lease_ttl_args())
        .env("TRUSTLINE_SEAL_KEY", &key)
        .output()
        .unwrap();
    let added = crate::stdout(&added);
    let secret = added.lines().find(|l| l.starts_with("whsec_")).unwrap().to_owned();
    let server = Server::start_in(
        dir,
        &aws.endpoint(),
        VENDOR,
        &["--set", "webhooks.poll_interval=50ms"],
        &[("TRUSTLINE_SEAL_KEY", &key)],
    );
    let acme = server.tenant("acme");
    let safe = role(&aws, "222222222222", "Safe", trust(Some(&acme.external_id)), &[]);
    let (status, created) = acme_call(&server, &acme, "POST", "/connections", role_body(&safe));
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    receiver.wait_for("the registration's and its first sync's events", |got| got.len() >= 3);
    let delivered = receiver.delivered("/hook");
    let mut types: Vec<String> =
        delivered.iter().map(|r| r.json()["type"].as_str().unwrap().to_owned()).collect();
    types.sort();
    assert_eq!(types, ["connection.verified", "inventory.changed", "sync.completed"]);
    let verified = delivered.iter().map(|r| r.json()).find(|e| e["type"] == "connection.verified").unwrap();
    assert_eq!(verified["tenant"], "acme");
    let data = &verified["data"];
    assert_eq!((&data["connection_id"], &data["tenant"]), (&json!(id), &json!("acme")));
    assert_eq!(
        (&data["kind"], &data["role_arn"], &data["account_id"]),
        (&json!("cross-account-role"), &json!(safe), &json!("222222222222"))
    );
    assert!(delivered.iter().all(|r| !r.body.contains(&acme.external_id)), "no ExternalId in events");
    crate::webhooks::verify_with_reference_library(&delivered, &secret, &key);
}
