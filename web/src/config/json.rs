//! The options object as JSON-shaped values ([`crate::json`]): `mount()` reads the host's JS
//! object with it, and the first module writes the normalised options for the second, which
//! reads them with serde (a test keeps the two shapes identical).

use super::{OptionError, Options, VerifyOptions, check_option_names};
use crate::json::{self, Json, Value, opt_text, texts};

/// The options' examples, for type errors: (name, what it must be).
const SHAPES: [(&str, &str); 3] = [
    ("allowedKinds", "a list of kind ids, e.g. [\"cross-account-role\"]"),
    ("defaultRegions", "a list of regions, e.g. [\"eu-west-1\"]"),
    ("verify", "an object such as { url: \"/api/trustline\", headers: {} }"),
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
        let verify = match v.field("verify") {
            None => None,
            Some(verify) => Some(VerifyOptions::from_json(&verify)?),
        };
        Ok(Options {
            vendor_principal: text("vendorPrincipal")?,
            vendor_name: text("vendorName")?,
            template_url: text("templateUrl")?,
            org_template_url: text("orgTemplateUrl")?,
            external_id: text("externalId")?,
            external_id_prefix: text("externalIdPrefix")?,
            verify,
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
            ("verify", self.verify.as_ref().map_or_else(Value::null, VerifyOptions::to_json)),
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

impl VerifyOptions {
    fn from_json(v: &Value) -> Result<VerifyOptions, OptionError> {
        let url = match json::string(v, "url") {
            Ok(url) => url,
            Err(_) if v.keys().is_some() => {
                return Err(OptionError::new(
                    "verify.url",
                    "is required and must be a string, e.g. \"/api/trustline\"",
                ));
            }
            Err(_) => return Err(wrong_type("verify")),
        };
        let mut headers = std::collections::BTreeMap::new();
        if let Some(h) = v.field("headers") {
            let wrong = || {
                OptionError::new(
                    "verify.headers",
                    "must be an object of strings, e.g. { Authorization: \"Bearer …\" }",
                )
            };
            for name in h.keys().ok_or_else(wrong)? {
                let value = h.field(&name).and_then(|value| value.string()).ok_or_else(wrong)?;
                headers.insert(name, value);
            }
        }
        Ok(VerifyOptions { url, headers })
    }

    fn to_json(&self) -> Value {
        let headers = self.headers.iter().map(|(k, v)| (k.as_str(), Value::text(v))).collect();
        Value::object(vec![("url", Value::text(&self.url)), ("headers", Value::object(headers))])
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::Config;
    use crate::config::tests::{config, options};

    #[test]
    fn the_host_object_is_read_with_every_option() {
        let host = json!({
            "vendorPrincipal": "arn:aws:iam::111122223333:root", "vendorName": "Acme",
            "allowedKinds": ["sts"], "defaultRegions": ["eu-west-1"], "intro": null,
            "verify": { "url": "/api", "headers": { "Authorization": "Bearer x" } },
        });
        let read = Options::from_json(&host).unwrap();
        assert_eq!(read, serde_json::from_value::<Options>(host).unwrap());
        assert_eq!(read.verify.unwrap().headers["Authorization"], "Bearer x");
    }

    #[test]
    fn wrong_types_and_names_are_errors_naming_the_option() {
        let cases = [
            (json!({ "vendorName": 5 }), "vendorName", "must be a string"),
            (json!({ "allowedKinds": "sts" }), "allowedKinds", "list of kind ids"),
            (json!({ "defaultRegions": [1] }), "defaultRegions", "list of regions"),
            (json!({ "verify": "/api" }), "verify", "an object"),
            (json!({ "verify": {} }), "verify.url", "is required"),
            (json!({ "verify": { "url": "/api", "headers": { "a": 1 } } }), "verify.headers", "strings"),
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
        all.verify.as_mut().unwrap().headers.insert("Authorization".into(), "Bearer x".into());
        for o in [all, Options::default()] {
            assert_eq!(o.to_json(), serde_json::to_value(&o).unwrap());
            assert_eq!(Options::from_json(&o.to_json()).unwrap(), o);
        }
    }

    #[test]
    fn the_second_module_gets_options_that_validate_into_the_same_config() {
        let config = config();
        // As the second module reads them: with serde.
        let read: Options = serde_json::from_value(config.to_options().to_json()).unwrap();
        let again = Config::from_options(read, |_| panic!("the ExternalId in use travels")).unwrap();
        assert_eq!(Config { external_id_generated: true, ..again }, config);
    }
}
