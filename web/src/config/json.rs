//! The options object as JSON-shaped values ([`crate::json`]): `mount()` reads the host's JS
//! object with it, and the first module writes the normalised options for the second, which
//! reads them with serde (a test keeps the two shapes identical).

use super::{OptionError, Options, SessionOptions, check_option_names};
use crate::json::{self, Json, Value, opt_text, texts};

/// The options' examples, for type errors: (name, what it must be).
const SHAPES: [(&str, &str); 3] = [
    ("allowedKinds", "a list of kind ids, e.g. [\"cross-account-role\"]"),
    ("defaultRegions", "a list of regions, e.g. [\"eu-west-1\"]"),
    ("session", "an object such as { url, tenant, token, externalId } from your backend"),
];

fn wrong_type(option: &str) -> OptionError {
    let shape = SHAPES.iter().find(|(name, _)| *name == option).map_or("a string", |(_, shape)| shape);
    OptionError::new(option, format!("wrong type: must be {shape}"))
}

impl Options {
    /// Reads the host's options object: unknown names and values of the wrong type are errors
    /// naming the option (`onComplete` and `onCancel` are the JS layer's).
    pub fn from_json(v: &Value) -> Result<Options, OptionError> {
        let names = v.keys().ok_or_else(|| {
            OptionError::new(
                "options",
                "mount(element, options) needs an object such as { vendorPrincipal, vendorName }",
            )
        })?;
        check_option_names(names.iter().map(String::as_str))?;
        let text = |name: &str| json::opt_string(v, name).map_err(|_| wrong_type(name));
        let list = |name: &str| json::opt_strings(v, name).map_err(|_| wrong_type(name));
        let session = match v.field("session") {
            None => None,
            Some(session) => Some(SessionOptions::from_json(&session)?),
        };
        Ok(Options {
            vendor_principal: text("vendorPrincipal")?,
            vendor_name: text("vendorName")?,
            template_url: text("templateUrl")?,
            org_template_url: text("orgTemplateUrl")?,
            external_id: text("externalId")?,
            external_id_prefix: text("externalIdPrefix")?,
            session,
            allowed_kinds: list("allowedKinds")?,
            default_regions: list("defaultRegions")?,
            region: text("region")?,
            role_name: text("roleName")?,
            title: text("title")?,
            intro: text("intro")?,
            sts_endpoint: text("stsEndpoint")?,
        })
    }

    /// The options as serde writes them (camelCase, every field, null when absent).
    pub fn to_json(&self) -> Value {
        let text = |o: &Option<String>| opt_text(o.as_deref());
        let list = |l: &Option<Vec<String>>| l.as_ref().map_or_else(Value::null, texts);
        Value::object(vec![
            ("vendorPrincipal", text(&self.vendor_principal)),
            ("vendorName", text(&self.vendor_name)),
            ("templateUrl", text(&self.template_url)),
            ("orgTemplateUrl", text(&self.org_template_url)),
            ("externalId", text(&self.external_id)),
            ("externalIdPrefix", text(&self.external_id_prefix)),
            ("session", self.session.as_ref().map_or_else(Value::null, SessionOptions::to_json)),
            ("allowedKinds", list(&self.allowed_kinds)),
            ("defaultRegions", list(&self.default_regions)),
            ("region", text(&self.region)),
            ("roleName", text(&self.role_name)),
            ("title", text(&self.title)),
            ("intro", text(&self.intro)),
            ("stsEndpoint", text(&self.sts_endpoint)),
        ])
    }
}

/// The session's fields, in the spelling hosts use.
const SESSION_FIELDS: [&str; 5] = ["url", "tenant", "token", "externalId", "expiresAt"];

impl SessionOptions {
    fn from_json(v: &Value) -> Result<SessionOptions, OptionError> {
        let names = v.keys().ok_or_else(|| wrong_type("session"))?;
        if let Some(name) = names.iter().find(|n| !SESSION_FIELDS.contains(&n.as_str())) {
            let hint = if name == "headers" {
                "the session's token is the only credential the page sends (as Authorization: Bearer); remove `headers`".to_owned()
            } else {
                format!("unknown field; a session has {}", SESSION_FIELDS.join(", "))
            };
            return Err(OptionError::new(&format!("session.{name}"), hint));
        }
        let field = |name: &str, example: &str| {
            json::string(v, name).map_err(|_| {
                OptionError::new(
                    &format!("session.{name}"),
                    format!("is required and must be a string, e.g. {example} (as your backend got it from the worker)"),
                )
            })
        };
        Ok(SessionOptions {
            url: field("url", "\"/api/trustline\"")?,
            tenant: field("tenant", "\"acme-corp\"")?,
            token: field("token", "\"tl_session_…\"")?,
            external_id: field("externalId", "the session's external_id")?,
            expires_at: json::opt_string(v, "expiresAt")
                .map_err(|_| OptionError::new("session.expiresAt", "must be a string (RFC 3339)"))?,
        })
    }

    fn to_json(&self) -> Value {
        Value::object(vec![
            ("url", Value::text(&self.url)),
            ("tenant", Value::text(&self.tenant)),
            ("token", Value::text(&self.token)),
            ("externalId", Value::text(&self.external_id)),
            ("expiresAt", opt_text(self.expires_at.as_deref())),
        ])
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::Config;
    use crate::config::tests::{config, helper_config, options};

    #[test]
    fn the_host_object_is_read_with_every_option() {
        let host = json!({
            "vendorPrincipal": "arn:aws:iam::111122223333:root", "vendorName": "Acme",
            "allowedKinds": ["sts"], "defaultRegions": ["eu-west-1"], "intro": null,
            "session": { "url": "/api", "tenant": "acme", "token": "tl_session_x", "externalId": "abc123" },
        });
        let read = Options::from_json(&host).unwrap();
        assert_eq!(read, serde_json::from_value::<Options>(host).unwrap());
        assert_eq!(read.session.unwrap().token, "tl_session_x");
    }

    #[test]
    fn wrong_types_and_names_are_errors_naming_the_option() {
        let cases = [
            (json!({ "vendorName": 5 }), "vendorName", "must be a string"),
            (json!({ "allowedKinds": "sts" }), "allowedKinds", "list of kind ids"),
            (json!({ "defaultRegions": [1] }), "defaultRegions", "list of regions"),
            (json!({ "session": "tl_session_x" }), "session", "an object"),
            (json!({ "session": {} }), "session.url", "is required"),
            (
                json!({ "session": { "url": "/api", "tenant": "a", "externalId": "abc" } }),
                "session.token",
                "is required",
            ),
            (json!({ "session": { "url": "/api", "headers": {} } }), "session.headers", "remove `headers`"),
            (json!({ "session": { "url": "/api", "tnant": "a" } }), "session.tnant", "unknown field"),
            (json!({ "verify": { "url": "/api" } }), "verify", "replaced by `session"),
            (json!({ "vendorPrinciple": "x" }), "vendorPrinciple", "unknown option"),
            (json!(["vendorName"]), "options", "needs an object"),
        ];
        for (host, option, needle) in cases {
            let err = Options::from_json(&host).unwrap_err();
            assert_eq!(err.option, option, "{err}");
            assert!(err.message.contains(needle), "{err}");
        }
    }

    #[test]
    fn written_options_are_what_serde_writes_and_read_back() {
        let mut all = options();
        all.allowed_kinds = Some(vec!["sts".into()]);
        let mut no_expiry = options();
        no_expiry.session.as_mut().unwrap().expires_at = None;
        for o in [all, no_expiry, Options::default()] {
            assert_eq!(o.to_json(), serde_json::to_value(&o).unwrap());
            assert_eq!(Options::from_json(&o.to_json()).unwrap(), o);
        }
    }

    #[test]
    fn the_second_module_gets_options_that_validate_into_the_same_config() {
        for config in [config(), helper_config()] {
            // As the second module reads them: with serde.
            let read: Options = serde_json::from_value(config.to_options().to_json()).unwrap();
            let again = Config::from_options(read, |_| panic!("the ExternalId in use travels")).unwrap();
            // The hand-over says where a browser-generated ExternalId came from.
            assert_eq!(Config { external_id_source: config.external_id_source, ..again }, config);
        }
    }
}
