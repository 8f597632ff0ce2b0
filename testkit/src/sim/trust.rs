//! Trust policies evaluated the way IAM does for `AssumeRole`: an Allow statement must match the
//! action, the principal and every condition, and no Deny may (IAM User Guide, "Policy
//! evaluation logic"). Only `sts:ExternalId` has a value in the request context; any other
//! condition key is absent, which only the `…IfExists` operators accept.

use serde_json::Value;

/// Who asks to assume a role, as its trust policy sees them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Principal<'a> {
    /// A user's ARN, or a session's `assumed-role` ARN.
    pub(crate) arn: &'a str,
    pub(crate) account: &'a str,
    /// For a role session, the role's ARN (a trust policy may name the role).
    pub(crate) role_arn: Option<&'a str>,
}

/// Whether `policy` (JSON) lets `caller` assume the role with `external_id`. A policy that is not
/// JSON allows nothing.
pub(crate) fn allows(policy: &str, caller: &Principal<'_>, external_id: Option<&str>) -> bool {
    let Ok(policy) = serde_json::from_str::<Value>(policy) else { return false };
    let statements = match &policy["Statement"] {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let applies = |s: &Value| {
        action_matches(&s["Action"])
            && principal_matches(&s["Principal"], caller)
            && conditions_hold(&s["Condition"], external_id)
    };
    let denied = statements.iter().any(|s| s["Effect"] == "Deny" && applies(s));
    let allowed = statements.iter().any(|s| s["Effect"] == "Allow" && applies(s));
    allowed && !denied
}

fn as_list(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn principal_matches(principal: &Value, caller: &Principal<'_>) -> bool {
    if principal.as_str() == Some("*") {
        return true;
    }
    let root = format!("arn:aws:iam::{}:root", caller.account);
    as_list(principal.get("AWS").unwrap_or(&Value::Null)).into_iter().any(|p| {
        p == "*" || p == caller.arn || p == caller.account || p == root || Some(p) == caller.role_arn
    })
}

fn action_matches(action: &Value) -> bool {
    as_list(action)
        .into_iter()
        .any(|a| matches!(a.to_ascii_lowercase().as_str(), "*" | "sts:*" | "sts:assumerole"))
}

/// `StringLike`: `*` matches any run of characters, `?` any one.
fn like(pattern: &[u8], value: &[u8]) -> bool {
    match pattern.split_first() {
        None => value.is_empty(),
        Some((b'*', rest)) => (0..=value.len()).any(|i| like(rest, &value[i..])),
        Some((b'?', rest)) => !value.is_empty() && like(rest, &value[1..]),
        Some((c, rest)) => value.first() == Some(c) && like(rest, &value[1..]),
    }
}

/// One condition block: every operator and key must hold.
fn conditions_hold(condition: &Value, external_id: Option<&str>) -> bool {
    let Some(ops) = condition.as_object() else { return true };
    ops.iter().all(|(op, keys)| {
        keys.as_object().is_none_or(|keys| {
            keys.iter().all(|(key, wanted)| {
                let actual = if key.eq_ignore_ascii_case("sts:ExternalId") { external_id } else { None };
                let wanted = as_list(wanted);
                let (base, if_exists) =
                    op.strip_suffix("IfExists").map_or((op.as_str(), false), |b| (b, true));
                match actual {
                    None => if_exists || base.starts_with("ForAllValues:"),
                    Some(v) => {
                        match base.trim_start_matches("ForAnyValue:").trim_start_matches("ForAllValues:") {
                            "StringEquals" => wanted.contains(&v),
                            "StringNotEquals" => !wanted.contains(&v),
                            "StringLike" => wanted.iter().any(|w| like(w.as_bytes(), v.as_bytes())),
                            "StringNotLike" => !wanted.iter().any(|w| like(w.as_bytes(), v.as_bytes())),
                            _ => false,
                        }
                    }
                }
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VENDOR: Principal<'static> =
        Principal { arn: "arn:aws:iam::111111111111:user/vendor", account: "111111111111", role_arn: None };

    fn trust(principal: &str, condition: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"{condition}}}]}}"#
        )
    }

    fn root(condition: &str) -> String {
        trust("arn:aws:iam::111111111111:root", condition)
    }

    #[test]
    fn external_id_is_enforced_as_iam_does() {
        let exact = root(r#","Condition":{"StringEquals":{"sts:ExternalId":"abc"}}"#);
        assert!(allows(&exact, &VENDOR, Some("abc")));
        assert!(!allows(&exact, &VENDOR, Some("abd")));
        assert!(
            !allows(&exact, &VENDOR, None),
            "a missing ExternalId must be refused (moto lets it through)"
        );
        let if_exists = root(r#","Condition":{"StringEqualsIfExists":{"sts:ExternalId":"abc"}}"#);
        assert!(allows(&if_exists, &VENDOR, None));
        let none = root("");
        assert!(allows(&none, &VENDOR, None) && allows(&none, &VENDOR, Some("anything")));
        let other_account =
            Principal { arn: "arn:aws:iam::999999999999:user/x", account: "999999999999", role_arn: None };
        assert!(!allows(&exact, &other_account, Some("abc")));
        let both = root(r#","Condition":{"StringEquals":{"sts:ExternalId":["old","new"]}}"#);
        assert!(allows(&both, &VENDOR, Some("old")) && allows(&both, &VENDOR, Some("new")));
        let loose = root(r#","Condition":{"StringLike":{"sts:ExternalId":"acme:*"}}"#);
        assert!(allows(&loose, &VENDOR, Some("acme:anything")) && !allows(&loose, &VENDOR, Some("acm")));
        assert!(!allows(&loose, &VENDOR, None));
        assert!(!allows("not json", &VENDOR, None));
    }

    #[test]
    fn principals_name_accounts_users_and_roles() {
        assert!(allows(&trust("111111111111", ""), &VENDOR, None), "a bare account ID is its root");
        assert!(allows(&trust("arn:aws:iam::111111111111:user/vendor", ""), &VENDOR, None));
        assert!(!allows(&trust("arn:aws:iam::111111111111:user/other", ""), &VENDOR, None));
        let session = Principal {
            arn: "arn:aws:sts::111111111111:assumed-role/Hop/s1",
            account: "111111111111",
            role_arn: Some("arn:aws:iam::111111111111:role/Hop"),
        };
        assert!(allows(&trust("arn:aws:iam::111111111111:role/Hop", ""), &session, None));
        assert!(!allows(&trust("arn:aws:iam::111111111111:role/Other", ""), &session, None));
        let deny = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":{"AWS":"111111111111"},"Action":"sts:*"}]}"#;
        assert!(!allows(deny, &VENDOR, None), "a matching Deny wins");
    }

    #[test]
    fn string_like_wildcards() {
        assert!(like(b"a*c", b"abbbc") && like(b"a*c", b"ac") && like(b"a?c", b"abc"));
        assert!(!like(b"a?c", b"ac") && !like(b"a*c", b"ab") && like(b"*", b""));
        assert!(like(b"*:x:*", b"p:x:q") && !like(b"*:x:*", b"p:y:q"));
    }
}
