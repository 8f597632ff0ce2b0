//! The host's options for `mount()` and the page's `<script id="trustline-config">`, validated
//! once into a [`Config`]. A bad option is an error that names the option and says how to fix
//! it, so a host sees it in the console instead of a blank page.

mod urls;

pub use self::urls::{check_session_url, check_sts_endpoint, is_sts_host};

use std::fmt;

use serde::{Deserialize, Serialize};
use trustline_core::policy::trust::VendorPrincipal;
use trustline_core::{ExternalId, IntegrationKind, Region, Secret};

/// Every option `mount()` accepts, in the spelling hosts use (camelCase).
pub const KNOWN_OPTIONS: [&str; 16] = [
    "vendorPrincipal",
    "vendorName",
    "templateUrl",
    "orgTemplateUrl",
    "externalId",
    "externalIdPrefix",
    "session",
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

/// The options as the host wrote them: the one type `mount()` and the standalone page's
/// generator read ([`Options::from_json`]). `onComplete` and `onCancel` are the
/// JS layer's; the TypeScript declarations (`bindings`) are checked against these fields.
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
    /// The ExternalId the host's backend issued; without it (and without a session) the page
    /// generates one. With a session it may only repeat the session's.
    pub external_id: Option<String>,
    /// Prefix for a generated ExternalId (e.g. `acme:tenant-42:`).
    pub external_id_prefix: Option<String>,
    /// The tenant's browser session from the vendor's backend: the worker's verify API.
    pub session: Option<SessionOptions>,
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

/// `session: { url, tenant, token, externalId, expiresAt? }`: what the vendor's backend got from
/// the worker's `POST /v1/tenants/{tenant}/sessions`, and where the worker (or the backend's
/// proxy of it) is.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionOptions {
    /// Base URL of the worker's API; the page POSTs to `{url}/v1/tenants/{tenant}/verify/role|keys`.
    pub url: String,
    /// The tenant (the vendor's customer) the session is for.
    pub tenant: String,
    /// The session's bearer token (`tl_session_…`): short-lived, this tenant's only.
    pub token: String,
    /// The ExternalId the worker issued to the tenant.
    pub external_id: String,
    /// When the session expires (RFC 3339), as the worker said.
    #[serde(default)]
    pub expires_at: Option<String>,
}

impl fmt::Debug for SessionOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionOptions")
            .field("url", &self.url)
            .field("tenant", &self.tenant)
            .field("token", &"** redacted **")
            .field("external_id", &self.external_id)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A validated session. The token is a [`Secret`]: redacted when printed, zeroized when dropped,
/// and held in memory only (never in storage, the URL, the DOM or an event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Base URL of the worker's API, without a trailing slash.
    pub url: String,
    /// The tenant.
    pub tenant: String,
    /// The bearer token.
    pub token: Secret,
    /// When the session expires, as the worker said.
    pub expires_at: Option<String>,
}

/// What the wizard asks the worker to verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyTarget {
    /// `POST …/verify/role`.
    Role,
    /// `POST …/verify/keys`.
    Keys,
}

impl Session {
    /// `{url}/v1/tenants/{tenant}/verify/role` (or `keys`), the tenant percent-encoded as
    /// `encodeURIComponent` does.
    pub fn verify_url(&self, target: VerifyTarget) -> String {
        let what = match target {
            VerifyTarget::Role => "role",
            VerifyTarget::Keys => "keys",
        };
        format!("{}/v1/tenants/{}/verify/{what}", self.url, encode_uri_component(&self.tenant))
    }
}

/// Where the ExternalId in use came from; only a session's can be registered with the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExternalIdSource {
    /// Issued by the worker to the session's tenant.
    Session,
    /// The host's `externalId` option, without a session.
    Option,
    /// Generated in this browser: no Trustline tenant has it.
    Browser,
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
    /// Where it came from.
    pub external_id_source: ExternalIdSource,
    /// The tenant's session with the worker, when the host has one (then the page verifies).
    pub session: Option<Session>,
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
        if name == "verify" {
            return Err(OptionError::new(
                name,
                "was replaced by `session: { url, tenant, token, externalId }`: a browser session your backend gets from the worker (POST /v1/tenants/{tenant}/sessions)",
            ));
        }
        if !KNOWN_OPTIONS.contains(&name) {
            return Err(OptionError::new(
                name,
                format!("unknown option; the options are {}", KNOWN_OPTIONS.join(", ")),
            ));
        }
    }
    Ok(())
}

/// The options' shapes, for type errors: (name, what it must be).
const SHAPES: [(&str, &str); 3] = [
    ("allowedKinds", "a list of kind ids, e.g. [\"cross-account-role\"]"),
    ("defaultRegions", "a list of regions, e.g. [\"eu-west-1\"]"),
    ("session", "an object such as { url, tenant, token, externalId } from your backend"),
];

impl Options {
    /// Reads the host's options object: `names` are its keys (None when it is not an object),
    /// `session_names` the keys of its `session` when that is an object, and `options` its
    /// deserializer (serde-wasm-bindgen in the browser, which reads only the fields a struct
    /// names: hence the names). Unknown names, missing session fields and values of the wrong
    /// type are errors naming the option.
    pub fn read<'de, D: serde::Deserializer<'de>>(
        names: Option<Vec<String>>,
        session_names: Option<Vec<String>>,
        options: D,
    ) -> Result<Options, OptionError> {
        let names = names.ok_or_else(|| {
            OptionError::new(
                "options",
                "mount(element, options) needs an object such as { vendorPrincipal, vendorName }",
            )
        })?;
        check_option_names(names.iter().map(String::as_str))?;
        if let Some(unknown) = session_names.iter().flatten().find(|n| !SESSION_FIELDS.contains(&n.as_str()))
        {
            return Err(option_error("session", &format!("unknown field `{unknown}`")));
        }
        serde_path_to_error::deserialize(options).map_err(|e| {
            // `session.url`, or `defaultRegions` for `defaultRegions[0]`.
            let path = e.path().to_string();
            let option = path.split('[').next().unwrap_or_default().to_owned();
            option_error(&option, &e.into_inner().to_string())
        })
    }

    /// [`Options::read`] for options as JSON (the page generator, the tests).
    pub fn from_json(options: serde_json::Value) -> Result<Options, OptionError> {
        let keys = |v: &serde_json::Value| v.as_object().map(|o| o.keys().cloned().collect());
        let (names, session_names) = (keys(&options), options.get("session").and_then(keys));
        Options::read(names, session_names, options)
    }
}

/// A serde error at `option` as the host reads it.
fn option_error(option: &str, serde: &str) -> OptionError {
    let quoted =
        |prefix: &str| serde.strip_prefix(prefix).and_then(|rest| rest.split('`').next()).map(str::to_owned);
    if let Some(field) = quoted("unknown field `") {
        // The path ends with the unknown key already.
        let option = if option.ends_with(&format!(".{field}")) {
            option.to_owned()
        } else {
            format!("{option}.{field}")
        };
        return OptionError::new(
            &option,
            if field == "headers" {
                "the session's token is the only credential the page sends (as Authorization: Bearer); remove `headers`".to_owned()
            } else {
                format!("unknown field; a session has {}", SESSION_FIELDS.join(", "))
            },
        );
    }
    let (option, missing) = match quoted("missing field `") {
        Some(field) if option == "." => (field, true),
        Some(field) => (format!("{option}.{field}"), true),
        None => (option.to_owned(), false),
    };
    if let Some(field) = option.strip_prefix("session.") {
        let message = if field == "expiresAt" {
            "must be a string (RFC 3339)".to_owned()
        } else {
            let example = match field {
                "url" => "\"/api/trustline\"",
                "tenant" => "\"acme-corp\"",
                "token" => "\"tl_session_…\"",
                _ => "the session's external_id",
            };
            format!(
                "is required and must be a string, e.g. {example} (as your backend got it from the worker)"
            )
        };
        return OptionError::new(&option, message);
    }
    if missing || option == "." {
        return OptionError::new(&option, serde.to_owned());
    }
    let shape = SHAPES.iter().find(|(name, _)| *name == option).map_or("a string", |(_, shape)| shape);
    OptionError::new(&option, format!("wrong type: must be {shape}"))
}

/// The session's fields, in the spelling hosts use.
const SESSION_FIELDS: [&str; 5] = ["url", "tenant", "token", "externalId", "expiresAt"];

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
        let host_external_id = match &options.external_id {
            Some(id) => Some(
                id.parse::<ExternalId>()
                    .map_err(|e: trustline_core::Error| OptionError::new("externalId", e.message()))?,
            ),
            None => None,
        };
        let (external_id, external_id_source, session) = match options.session {
            // The worker issued the tenant's ExternalId: the page never makes one up, and a
            // different one from the host would end in a role the worker refuses to use.
            Some(s) => {
                let (session, issued) = check_session(s)?;
                if let Some(id) = host_external_id.filter(|id| *id != issued) {
                    return Err(OptionError::new(
                        "externalId",
                        format!(
                            "'{id}' differs from session.externalId '{issued}', the one the worker issued to tenant '{}'; omit externalId",
                            session.tenant
                        ),
                    ));
                }
                if options.external_id_prefix.is_some() {
                    return Err(OptionError::new(
                        "externalIdPrefix",
                        "has no use with a session (the worker issued the ExternalId); omit it",
                    ));
                }
                (issued, ExternalIdSource::Session, Some(session))
            }
            None => match host_external_id {
                Some(id) => (id, ExternalIdSource::Option, None),
                None => (
                    generate(options.external_id_prefix.as_deref())
                        .map_err(|e| OptionError::new("externalIdPrefix", e.message()))?,
                    ExternalIdSource::Browser,
                    None,
                ),
            },
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
            check_sts_endpoint(url).map_err(|e| OptionError::new("stsEndpoint", e))?;
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
            external_id_source,
            session,
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
    /// Whether the page generated the ExternalId (no tenant has it: it cannot be registered).
    pub fn external_id_generated(&self) -> bool {
        self.external_id_source == ExternalIdSource::Browser
    }
}

/// Core's template URL checks. In the browser the URL is parsed by the browser's `URL`, which
/// implements the same WHATWG standard as the `url` crate: neither wasm module then carries a
/// second URL parser (about 23 KiB gzip in the wizard's, 12 in the documents', against the size budget).
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

/// The prefix of the worker's browser-session tokens. Anything else (the operator's token above
/// all, which may do everything for every tenant) must not reach a page.
const SESSION_TOKEN_PREFIX: &str = "tl_session_";

fn check_session(s: SessionOptions) -> Result<(Session, ExternalId), OptionError> {
    check_session_url(&s.url).map_err(|e| OptionError::new("session.url", e))?;
    let url = s.url.trim_end_matches('/');
    if s.tenant.trim().is_empty() {
        return Err(OptionError::new(
            "session.tenant",
            "is required: the tenant the session was created for, e.g. \"acme-corp\"",
        ));
    }
    // The token's value is never part of an error: errors reach the console and the page.
    if !s.token.starts_with(SESSION_TOKEN_PREFIX) {
        return Err(OptionError::new(
            "session.token",
            format!(
                "must be a browser session token ({SESSION_TOKEN_PREFIX}…) from POST /v1/tenants/{{tenant}}/sessions on your backend; never give a page the worker's operator token"
            ),
        ));
    }
    if !s.token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(OptionError::new("session.token", "must be the token as the worker sent it (no spaces)"));
    }
    let issued: ExternalId = s
        .external_id
        .parse()
        .map_err(|e: trustline_core::Error| OptionError::new("session.externalId", e.message()))?;
    let session = Session {
        url: url.to_owned(),
        tenant: s.tenant,
        token: Secret::new(s.token),
        expires_at: s.expires_at,
    };
    Ok((session, issued))
}

/// JavaScript's `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` as UTF-8
/// `%XX`, so that a tenant id is one path segment whatever it holds.
fn encode_uri_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The ExternalId the worker issued to the test tenant.
    pub(crate) const ISSUED: &str = "tl-acme-corp-4k2m9x7q";

    /// The session every test starts from.
    pub(crate) fn session() -> SessionOptions {
        SessionOptions {
            url: "https://acme.example/trustline/".into(),
            tenant: "acme corp/1".into(),
            token: "tl_session_Zm9vYmFy".into(),
            external_id: ISSUED.into(),
            expires_at: Some("2026-12-05T01:00:00Z".into()),
        }
    }

    /// Options every test starts from.
    pub(crate) fn options() -> Options {
        Options {
            vendor_principal: Some("arn:aws:iam::111122223333:root".into()),
            vendor_name: Some("Acme".into()),
            template_url: Some("https://acme-onboarding.s3.us-east-1.amazonaws.com/role.yaml".into()),
            session: Some(session()),
            ..Options::default()
        }
    }

    fn fixed(prefix: Option<&str>) -> trustline_core::error::Result<ExternalId> {
        format!("{}generated0000", prefix.unwrap_or("")).parse()
    }

    /// The configuration every reducer test uses (with a session).
    pub(crate) fn config() -> Config {
        Config::from_options(options(), |_| panic!("a session's ExternalId is never generated")).unwrap()
    }

    /// A configuration without a session: the wizard as a pure helper.
    pub(crate) fn helper_config() -> Config {
        Config::from_options(Options { session: None, ..options() }, fixed).unwrap()
    }

    #[test]
    fn defaults_are_filled_in() {
        let c = config();
        assert_eq!(c.external_id.as_str(), ISSUED);
        assert_eq!(c.external_id_source, ExternalIdSource::Session);
        assert!(!c.external_id_generated());
        assert_eq!(c.allowed_kinds, IntegrationKind::ALL);
        assert_eq!(c.region.as_str(), "us-east-1");
        let session = c.session.unwrap();
        assert_eq!(session.url, "https://acme.example/trustline");
        assert_eq!(
            session.verify_url(VerifyTarget::Role),
            "https://acme.example/trustline/v1/tenants/acme%20corp%2F1/verify/role"
        );
        assert_eq!(c.title, "Connect your AWS account to Acme");
    }

    #[test]
    fn without_a_session_the_external_id_is_the_hosts_or_generated_in_the_browser() {
        let c = helper_config();
        assert_eq!(c.external_id.as_str(), "generated0000");
        assert_eq!((c.external_id_source, c.external_id_generated()), (ExternalIdSource::Browser, true));
        assert!(c.session.is_none());
        let c = Config::from_options(
            Options { session: None, external_id: Some("acme:tenant-42:abc".into()), ..options() },
            |_| panic!("must not generate when the host supplied one"),
        )
        .unwrap();
        assert_eq!(
            (c.external_id.as_str(), c.external_id_source),
            ("acme:tenant-42:abc", ExternalIdSource::Option)
        );
    }

    #[test]
    fn a_session_url_is_joined_with_the_tenant_as_one_segment() {
        for (url, tenant, expected) in [
            ("/", "demo", "/v1/tenants/demo/verify/keys"),
            ("/api/", "a.b_c-d~e", "/api/v1/tenants/a.b_c-d~e/verify/keys"),
            ("http://127.0.0.1:8787", "ü?#", "http://127.0.0.1:8787/v1/tenants/%C3%BC%3F%23/verify/keys"),
        ] {
            let options = Options {
                session: Some(SessionOptions { url: url.into(), tenant: tenant.into(), ..session() }),
                ..options()
            };
            let c = Config::from_options(options, fixed).unwrap();
            assert_eq!(c.session.unwrap().verify_url(VerifyTarget::Keys), expected);
        }
    }

    #[test]
    fn the_token_is_never_printed() {
        let c = config();
        for text in [format!("{c:?}"), format!("{:?}", options())] {
            assert!(!text.contains("Zm9vYmFy"), "{text}");
            assert!(text.contains("redacted"), "{text}");
        }
    }

    #[test]
    fn host_external_id_and_kinds_are_kept_in_safety_order() {
        let c = Config::from_options(
            Options {
                external_id: Some(ISSUED.into()),
                allowed_kinds: Some(vec!["access-key".into(), "cross-account-role".into()]),
                default_regions: Some(vec!["eu-west-1".into()]),
                ..options()
            },
            |_| panic!("must not generate with a session"),
        )
        .unwrap();
        assert_eq!(c.external_id_source, ExternalIdSource::Session, "the same ExternalId as the session's");
        assert_eq!(c.allowed_kinds, [IntegrationKind::CrossAccountRole, IntegrationKind::AccessKey]);
        assert_eq!(c.region.as_str(), "eu-west-1");
    }

    #[test]
    fn bad_options_name_the_option() {
        let with_session = |s: SessionOptions| Options { session: Some(s), ..options() };
        let cases: [(Options, &str, &str); 16] = [
            (Options { vendor_principal: None, ..options() }, "vendorPrincipal", "required"),
            (Options { vendor_principal: Some("123".into()), ..options() }, "vendorPrincipal", "12 digits"),
            (Options { vendor_name: Some(" ".into()), ..options() }, "vendorName", "required"),
            (Options { template_url: Some("http://x".into()), ..options() }, "templateUrl", "https"),
            (Options { external_id: Some("a b".into()), ..options() }, "externalId", "STS allows"),
            (
                Options { external_id: Some("other123".into()), ..options() },
                "externalId",
                "differs from session.externalId",
            ),
            (
                Options { external_id_prefix: Some("acme:".into()), ..options() },
                "externalIdPrefix",
                "no use with a session",
            ),
            (Options { allowed_kinds: Some(vec!["role".into()]), ..options() }, "allowedKinds", "unknown"),
            (
                Options { default_regions: Some(vec!["eu-west-1a".into()]), ..options() },
                "defaultRegions",
                "zone",
            ),
            (with_session(SessionOptions { url: "ftp://x".into(), ..session() }), "session.url", "https"),
            (
                with_session(SessionOptions { url: "http://localhost.attacker.example".into(), ..session() }),
                "session.url",
                "127.0.0.1",
            ),
            (
                Options { sts_endpoint: Some("https://sts.amazonaws.com.evil.example".into()), ..options() },
                "stsEndpoint",
                "not an AWS STS host",
            ),
            (with_session(SessionOptions { tenant: " ".into(), ..session() }), "session.tenant", "required"),
            (
                with_session(SessionOptions { token: "0123456789abcdef".into(), ..session() }),
                "session.token",
                "operator token",
            ),
            (
                with_session(SessionOptions { token: "tl_session_a b".into(), ..session() }),
                "session.token",
                "no spaces",
            ),
            (
                with_session(SessionOptions { external_id: "x".into(), ..session() }),
                "session.externalId",
                "2",
            ),
        ];
        for (opts, option, needle) in cases {
            let err = Config::from_options(opts, fixed).unwrap_err();
            assert_eq!(err.option, option, "{err}");
            assert!(err.message.contains(needle), "{err}");
            assert!(err.to_string().starts_with(&format!("Trustline: option `{option}`")));
            assert!(!err.to_string().contains("0123456789abcdef"), "a token is never in an error: {err}");
        }
        let err = check_option_names(["vendorName", "vendorPrinciple"]).unwrap_err();
        assert_eq!(err.option, "vendorPrinciple");
        let err = check_option_names(["verify"]).unwrap_err();
        assert!(err.message.contains("replaced by `session"), "{err}");
        assert!(check_option_names(KNOWN_OPTIONS).is_ok());
    }

    fn read(host: serde_json::Value) -> Result<Options, OptionError> {
        Options::from_json(host)
    }

    #[test]
    fn the_host_object_is_read_with_every_option() {
        let host = serde_json::json!({
            "vendorPrincipal": "arn:aws:iam::111122223333:root", "vendorName": "Acme",
            "allowedKinds": ["sts"], "defaultRegions": ["eu-west-1"], "intro": null,
            "session": { "url": "/api", "tenant": "acme", "token": "tl_session_x", "externalId": "abc123" },
        });
        let read = read(host).unwrap();
        assert_eq!(read.allowed_kinds, Some(vec!["sts".to_owned()]));
        assert_eq!(read.session.unwrap().token, "tl_session_x");
    }

    #[test]
    fn wrong_types_and_names_are_errors_naming_the_option() {
        use serde_json::json;
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
            (json!({ "session": { "url": 5, "tenant": "a" } }), "session.url", "must be a string"),
            (json!({ "session": { "url": "/api", "headers": {} } }), "session.headers", "remove `headers`"),
            (json!({ "session": { "url": "/api", "tnant": "a" } }), "session.tnant", "unknown field"),
            (json!({ "verify": { "url": "/api" } }), "verify", "replaced by `session"),
            (json!({ "vendorPrinciple": "x" }), "vendorPrinciple", "unknown option"),
            (json!(["vendorName"]), "options", "needs an object"),
        ];
        for (host, option, needle) in cases {
            let err = read(host).unwrap_err();
            assert_eq!(err.option, option, "{err}");
            assert!(err.message.contains(needle), "{err}");
        }
    }

    /// The TypeScript interface `TrustlineOptions` in `bindings.rs` (what wasm-bindgen writes
    /// into `trustline-web.d.ts`) declares exactly the options this type reads, plus the two
    /// callbacks, and `TrustlineSession` exactly the session's fields: a new option cannot miss
    /// the declarations. The struct literals list every field, so a new one fails to compile
    /// here until it is added.
    #[test]
    fn the_typescript_declarations_match_the_options() {
        let every = Options {
            vendor_principal: Some(String::new()),
            vendor_name: Some(String::new()),
            template_url: Some(String::new()),
            org_template_url: Some(String::new()),
            external_id: Some(String::new()),
            external_id_prefix: Some(String::new()),
            session: Some(SessionOptions {
                url: String::new(),
                tenant: String::new(),
                token: String::new(),
                external_id: String::new(),
                expires_at: Some(String::new()),
            }),
            allowed_kinds: Some(Vec::new()),
            default_regions: Some(Vec::new()),
            region: Some(String::new()),
            role_name: Some(String::new()),
            title: Some(String::new()),
            intro: Some(String::new()),
            sts_endpoint: Some(String::new()),
        };
        let json = serde_json::to_value(&every).unwrap();
        let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        let mut options = keys(&json);
        options.extend(["onComplete".to_owned(), "onCancel".to_owned()]);
        let mut session = keys(&json["session"]);

        let source = include_str!("bindings.rs");
        let declared = |interface: &str| {
            let start = source.find(&format!("export interface {interface} {{")).expect(interface);
            let body = &source[start..start + source[start..].find("\n}").unwrap()];
            let mut names: Vec<String> = body
                .lines()
                .skip(1)
                .map(str::trim)
                .filter(|l| !l.starts_with("/*") && !l.starts_with('*') && !l.is_empty())
                .map(|l| l.split([':', '?', '(']).next().unwrap().trim().to_owned())
                .collect();
            names.sort();
            names
        };
        options.sort();
        session.sort();
        assert_eq!(declared("TrustlineOptions"), options);
        assert_eq!(declared("TrustlineSession"), session);
        let mut known = KNOWN_OPTIONS.map(str::to_owned).to_vec();
        known.sort();
        assert_eq!(known, options, "KNOWN_OPTIONS");
    }
}
