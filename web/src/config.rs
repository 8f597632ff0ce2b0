//! The host's options for `mount()` and the page's `<script id="trustline-config">`, validated
//! once into a [`Config`]. A bad option is an error that names the option and says how to fix
//! it, so a host sees it in the console instead of a blank page.

mod json;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use trustline_core::policy::trust::VendorPrincipal;
use trustline_core::{ExternalId, IntegrationKind, Region};

/// Every option `mount()` accepts, in the spelling hosts use (camelCase).
pub const KNOWN_OPTIONS: [&str; 16] = [
    "vendorPrincipal",
    "vendorName",
    "templateUrl",
    "orgTemplateUrl",
    "externalId",
    "externalIdPrefix",
    "verify",
    "allowedKinds",
    "defaultRegions",
    "region",
    "roleName",
    "title",
    "intro",
    "stsEndpoint",
    "onComplete",
    "onCancel",
];

/// The options as the host wrote them (callbacks are taken out by the JS layer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    /// The vendor's AWS principal the customer's role trusts (`arn:aws:iam::ACCOUNT:root`, a role or a user).
    pub vendor_principal: Option<String>,
    /// The vendor's product name, shown in headings and AWS descriptions.
    pub vendor_name: Option<String>,
    /// HTTPS S3 URL of the vendor's role template, for the one-click "Launch stack" link.
    pub template_url: Option<String>,
    /// HTTPS S3 URL of the vendor's Organization (StackSet) template.
    pub org_template_url: Option<String>,
    /// The ExternalId the host's backend issued; without it the page generates one.
    pub external_id: Option<String>,
    /// Prefix for a generated ExternalId (e.g. `acme:tenant-42:`).
    pub external_id_prefix: Option<String>,
    /// Where the verify API lives and which headers to send it.
    pub verify: Option<VerifyOptions>,
    /// The integration kinds to offer (ids such as `cross-account-role`); default all.
    pub allowed_kinds: Option<Vec<String>>,
    /// Regions preselected in the scope step; empty means every region.
    pub default_regions: Option<Vec<String>>,
    /// Console region for the quick-create link and STS region for key checks.
    pub region: Option<String>,
    /// The name of the role the customer creates.
    pub role_name: Option<String>,
    /// The wizard's heading.
    pub title: Option<String>,
    /// One line under the heading.
    pub intro: Option<String>,
    /// Another STS endpoint for the key check (tests, proxies); default the regional AWS one.
    pub sts_endpoint: Option<String>,
}

/// `verify: { url, headers }`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Base URL of the verify API; the page POSTs to `{url}/v1/verify/role` and `/v1/verify/keys`.
    pub url: String,
    /// Extra headers, e.g. `Authorization` when the host does not proxy.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// An option the wizard cannot work with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    /// The option's name as the host wrote it.
    pub option: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl OptionError {
    fn new(option: &str, message: impl Into<String>) -> Self {
        Self { option: option.to_owned(), message: message.into() }
    }
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Trustline: option `{}`: {}", self.option, self.message)
    }
}

impl std::error::Error for OptionError {}

/// The validated configuration every step reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Who the customer's role trusts.
    pub vendor: VendorPrincipal,
    /// The vendor's product name.
    pub vendor_name: String,
    /// Role template in S3, for the quick-create link.
    pub template_url: Option<String>,
    /// Organization template in S3.
    pub org_template_url: Option<String>,
    /// This customer's ExternalId.
    pub external_id: ExternalId,
    /// Whether the page generated the ExternalId (the host must store it from the result).
    pub external_id_generated: bool,
    /// The verify API, when the host has one.
    pub verify: Option<VerifyOptions>,
    /// The kinds offered, safest first.
    pub allowed_kinds: Vec<IntegrationKind>,
    /// Regions preselected in the scope step.
    pub default_regions: Vec<Region>,
    /// Console and STS region.
    pub region: Region,
    /// The customer's role name.
    pub role_name: String,
    /// Heading.
    pub title: String,
    /// Line under the heading.
    pub intro: Option<String>,
    /// STS endpoint override.
    pub sts_endpoint: Option<String>,
}

/// Fails on option names the wizard does not know (a typo would otherwise be ignored silently).
pub fn check_option_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<(), OptionError> {
    for name in names {
        if !KNOWN_OPTIONS.contains(&name) {
            return Err(OptionError::new(
                name,
                format!("unknown option; the options are {}", KNOWN_OPTIONS.join(", ")),
            ));
        }
    }
    Ok(())
}

impl Config {
    /// Validates `options`. `generate` makes an ExternalId (with the given prefix) when the host
    /// supplied none; it is a parameter so that this stays pure and testable.
    pub fn from_options(
        options: Options,
        generate: impl FnOnce(Option<&str>) -> trustline_core::error::Result<ExternalId>,
    ) -> Result<Self, OptionError> {
        let vendor =
            required(&options.vendor_principal, "vendorPrincipal", "arn:aws:iam::111122223333:root")?
                .parse::<VendorPrincipal>()
                .map_err(|e| OptionError::new("vendorPrincipal", e.message()))?;
        let vendor_name = required(&options.vendor_name, "vendorName", "Acme")?.to_owned();
        let region = match &options.region {
            Some(r) => r.parse::<Region>().map_err(|e| OptionError::new("region", e.message()))?,
            None => match options.default_regions.as_deref().and_then(<[String]>::first) {
                Some(r) => r
                    .parse()
                    .map_err(|e: trustline_core::Error| OptionError::new("defaultRegions", e.message()))?,
                None => "us-east-1"
                    .parse()
                    .map_err(|e: trustline_core::Error| OptionError::new("region", e.message()))?,
            },
        };
        for (name, url) in
            [("templateUrl", &options.template_url), ("orgTemplateUrl", &options.org_template_url)]
        {
            if let Some(url) = url {
                check_template_url(url, &region).map_err(|e| OptionError::new(name, e.message()))?;
            }
        }
        let (external_id, external_id_generated) = match &options.external_id {
            Some(id) => (
                id.parse().map_err(|e: trustline_core::Error| OptionError::new("externalId", e.message()))?,
                false,
            ),
            None => (
                generate(options.external_id_prefix.as_deref())
                    .map_err(|e| OptionError::new("externalIdPrefix", e.message()))?,
                true,
            ),
        };
        let verify = match options.verify {
            Some(v) => Some(check_verify(v)?),
            None => None,
        };
        let allowed_kinds = match &options.allowed_kinds {
            None => IntegrationKind::ALL.to_vec(),
            Some(ids) => {
                let mut kinds = Vec::new();
                for id in ids {
                    let kind: IntegrationKind = id
                        .parse()
                        .map_err(|e: trustline_core::Error| OptionError::new("allowedKinds", e.message()))?;
                    kinds.push(kind);
                }
                if kinds.is_empty() {
                    return Err(OptionError::new(
                        "allowedKinds",
                        "offer at least one kind, e.g. [\"cross-account-role\"]",
                    ));
                }
                // Always safest first, whatever order the host listed them in.
                IntegrationKind::ALL.into_iter().filter(|k| kinds.contains(k)).collect()
            }
        };
        let default_regions = options
            .default_regions
            .unwrap_or_default()
            .iter()
            .map(|r| r.parse::<Region>().map_err(|e| OptionError::new("defaultRegions", e.message())))
            .collect::<Result<Vec<_>, _>>()?;
        let role_name = options.role_name.unwrap_or_else(|| "VendorReadOnly".to_owned());
        trustline_core::arn::validate_role_name(&role_name)
            .map_err(|e| OptionError::new("roleName", e.message()))?;
        if let Some(url) = &options.sts_endpoint {
            trustline_core::Endpoints::new(region.clone())
                .with_override(trustline_core::Service::Sts, url)
                .map_err(|e| OptionError::new("stsEndpoint", e.message()))?;
        }
        let title = options.title.unwrap_or_else(|| format!("Connect your AWS account to {vendor_name}"));
        // Checked last so the spec's own validation names the field the host wrote.
        trustline_core::spec::RoleSpec::new(vendor.clone(), &vendor_name, &role_name)
            .validate()
            .map_err(|e| OptionError::new("vendorName", e.message()))?;
        Ok(Config {
            vendor,
            vendor_name,
            template_url: options.template_url,
            org_template_url: options.org_template_url,
            external_id,
            external_id_generated,
            verify,
            allowed_kinds,
            default_regions,
            region,
            role_name,
            title,
            intro: options.intro,
            sts_endpoint: options.sts_endpoint,
        })
    }
}

impl Config {
    /// Options that validate back into this configuration, with the ExternalId in use (so a
    /// generated one is kept): what the first module hands over to the second with.
    pub fn to_options(&self) -> Options {
        Options {
            vendor_principal: Some(self.vendor.to_string()),
            vendor_name: Some(self.vendor_name.clone()),
            template_url: self.template_url.clone(),
            org_template_url: self.org_template_url.clone(),
            external_id: Some(self.external_id.to_string()),
            external_id_prefix: None,
            verify: self.verify.clone(),
            allowed_kinds: Some(self.allowed_kinds.iter().map(|k| k.id().to_owned()).collect()),
            default_regions: Some(self.default_regions.iter().map(ToString::to_string).collect()),
            region: Some(self.region.to_string()),
            role_name: Some(self.role_name.clone()),
            title: Some(self.title.clone()),
            intro: self.intro.clone(),
            sts_endpoint: self.sts_endpoint.clone(),
        }
    }
}

/// Core's template URL checks. In the browser the URL is parsed by the browser's `URL`, which
/// implements the same WHATWG standard as the `url` crate: neither wasm module then carries a
/// second URL parser (about 23 KiB gzip in the wizard's, 12 in the documents', issue 5).
pub(crate) fn check_template_url(raw: &str, region: &Region) -> trustline_core::error::Result<()> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        trustline_core::cfn::quick_create::validate_template_url(raw, region)
    }
    #[cfg(target_arch = "wasm32")]
    {
        use trustline_core::cfn::quick_create::{UrlParts, validate_template_url_parts};
        let Ok(url) = web_sys::Url::new(raw) else { return validate_template_url_parts(raw, None, region) };
        let (protocol, host, path) = (url.protocol(), url.hostname(), url.pathname());
        let scheme = protocol.strip_suffix(':').unwrap_or(&protocol);
        validate_template_url_parts(raw, Some(UrlParts { scheme, host: &host, path: &path }), region)
    }
}

fn required<'a>(value: &'a Option<String>, option: &str, example: &str) -> Result<&'a str, OptionError> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(OptionError::new(option, format!("is required, e.g. {option}: \"{example}\""))),
    }
}

fn check_verify(v: VerifyOptions) -> Result<VerifyOptions, OptionError> {
    let url = v.url.trim_end_matches('/');
    let scheme_ok = url.starts_with("https://")
        || url.starts_with("http://127.0.0.1")
        || url.starts_with("http://localhost")
        || url.starts_with('/');
    if !scheme_ok {
        return Err(OptionError::new(
            "verify.url",
            format!(
                "must be https:// (or http://127.0.0.1 / http://localhost for development, or a same-origin path such as /api), got '{}'",
                v.url
            ),
        ));
    }
    for name in v.headers.keys() {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(OptionError::new("verify.headers", format!("'{name}' is not a valid header name")));
        }
    }
    Ok(VerifyOptions { url: url.to_owned(), headers: v.headers })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Options every test starts from.
    pub(crate) fn options() -> Options {
        Options {
            vendor_principal: Some("arn:aws:iam::111122223333:root".into()),
            vendor_name: Some("Acme".into()),
            template_url: Some("https://acme-onboarding.s3.us-east-1.amazonaws.com/role.yaml".into()),
            verify: Some(VerifyOptions {
                url: "https://acme.example/trustline/".into(),
                headers: BTreeMap::new(),
            }),
            ..Options::default()
        }
    }

    fn fixed(prefix: Option<&str>) -> trustline_core::error::Result<ExternalId> {
        format!("{}generated0000", prefix.unwrap_or("")).parse()
    }

    /// The configuration every reducer test uses.
    pub(crate) fn config() -> Config {
        Config::from_options(options(), fixed).unwrap()
    }

    #[test]
    fn defaults_are_filled_in() {
        let c = config();
        assert_eq!(c.external_id.as_str(), "generated0000");
        assert!(c.external_id_generated);
        assert_eq!(c.allowed_kinds, IntegrationKind::ALL);
        assert_eq!(c.region.as_str(), "us-east-1");
        assert_eq!(c.verify.unwrap().url, "https://acme.example/trustline");
        assert_eq!(c.title, "Connect your AWS account to Acme");
    }

    #[test]
    fn host_external_id_and_kinds_are_kept_in_safety_order() {
        let c = Config::from_options(
            Options {
                external_id: Some("acme:tenant-42:abc".into()),
                allowed_kinds: Some(vec!["access-key".into(), "cross-account-role".into()]),
                default_regions: Some(vec!["eu-west-1".into()]),
                ..options()
            },
            |_| panic!("must not generate when the host supplied one"),
        )
        .unwrap();
        assert!(!c.external_id_generated);
        assert_eq!(c.allowed_kinds, [IntegrationKind::CrossAccountRole, IntegrationKind::AccessKey]);
        assert_eq!(c.region.as_str(), "eu-west-1");
    }

    #[test]
    fn bad_options_name_the_option() {
        let cases: [(Options, &str, &str); 8] = [
            (Options { vendor_principal: None, ..options() }, "vendorPrincipal", "required"),
            (Options { vendor_principal: Some("123".into()), ..options() }, "vendorPrincipal", "12 digits"),
            (Options { vendor_name: Some(" ".into()), ..options() }, "vendorName", "required"),
            (Options { template_url: Some("http://x".into()), ..options() }, "templateUrl", "https"),
            (Options { external_id: Some("a b".into()), ..options() }, "externalId", "STS allows"),
            (Options { allowed_kinds: Some(vec!["role".into()]), ..options() }, "allowedKinds", "unknown"),
            (
                Options { default_regions: Some(vec!["eu-west-1a".into()]), ..options() },
                "defaultRegions",
                "zone",
            ),
            (
                Options {
                    verify: Some(VerifyOptions { url: "ftp://x".into(), ..Default::default() }),
                    ..options()
                },
                "verify.url",
                "https",
            ),
        ];
        for (opts, option, needle) in cases {
            let err = Config::from_options(opts, fixed).unwrap_err();
            assert_eq!(err.option, option, "{err}");
            assert!(err.message.contains(needle), "{err}");
            assert!(err.to_string().starts_with(&format!("Trustline: option `{option}`")));
        }
        let err = check_option_names(["vendorName", "vendorPrinciple"]).unwrap_err();
        assert_eq!(err.option, "vendorPrinciple");
        assert!(check_option_names(KNOWN_OPTIONS).is_ok());
    }
}
