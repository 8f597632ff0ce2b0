//! The vendor's own credentials, found in the order the AWS SDKs use: environment variables,
//! the shared config/credentials files (profiles, with `role_arn` + `source_profile` +
//! `external_id` chains), a web identity token file (EKS IRSA), ECS container credentials, and
//! EC2 instance metadata (IMDSv2).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use time::OffsetDateTime;
use trustline_core::{Credentials, Region, Secret};

use super::profile::{self, Profile};
use super::{Provider, Source};

/// The SDKs' fixed addresses for ECS and EC2 credentials.
const ECS_HOST: &str = "http://169.254.170.2";
const IMDS_HOST: &str = "http://169.254.169.254";

/// Finds the vendor's credentials. `region` is where STS calls for role profiles go.
pub fn vendor_chain(region: &Region) -> Result<Arc<Provider>> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(key), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        let creds = Credentials::new(key, Secret::new(secret), env("AWS_SESSION_TOKEN").map(Secret::new));
        return Ok(Provider::fixed(creds, "environment variables"));
    }
    let profile_name = env("AWS_PROFILE").unwrap_or_else(|| "default".to_owned());
    let profiles = profile::load_all();
    if profiles.contains_key(&profile_name) {
        return from_profile(&profiles, &profile_name, region, 0);
    }
    if env("AWS_PROFILE").is_some() {
        bail!(
            "AWS_PROFILE names the profile '{profile_name}', which is in neither ~/.aws/config nor ~/.aws/credentials"
        );
    }
    if let (Some(token_file), Some(role)) = (env("AWS_WEB_IDENTITY_TOKEN_FILE"), env("AWS_ROLE_ARN")) {
        return web_identity(&token_file, &role, env("AWS_ROLE_SESSION_NAME"), region);
    }
    if let Some(source) = ecs_source()? {
        return Ok(Provider::new(Source::Endpoint(source), "ECS container credentials".into()));
    }
    if env("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        bail!(
            "no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or run on EKS, ECS or EC2 (instance metadata is disabled by AWS_EC2_METADATA_DISABLED)"
        );
    }
    let endpoint = env("AWS_EC2_METADATA_SERVICE_ENDPOINT").unwrap_or_else(|| IMDS_HOST.to_owned());
    Ok(Provider::new(
        Source::Endpoint(HttpSource::Imds { endpoint: endpoint.trim_end_matches('/').to_owned() }),
        "EC2 instance metadata (IMDSv2)".into(),
    ))
}

fn web_identity(
    token_file: &str,
    role: &str,
    session: Option<String>,
    region: &Region,
) -> Result<Arc<Provider>> {
    let role = role.parse().context("AWS_ROLE_ARN")?;
    let source = Source::WebIdentity {
        role,
        token_file: PathBuf::from(token_file),
        session_name: session.unwrap_or_else(|| "trustline-worker".to_owned()),
        region: region.clone(),
    };
    Ok(Provider::new(source, "web identity token (EKS IRSA)".into()))
}

/// Profiles may chain through `source_profile`; AWS CLI refuses deep or circular chains, and so
/// does Trustline.
const MAX_PROFILE_DEPTH: usize = 8;

fn from_profile(
    profiles: &std::collections::HashMap<String, Profile>,
    name: &str,
    region: &Region,
    depth: usize,
) -> Result<Arc<Provider>> {
    if depth > MAX_PROFILE_DEPTH {
        bail!("profile '{name}': source_profile chain is longer than {MAX_PROFILE_DEPTH} (a loop?)");
    }
    let p = profiles
        .get(name)
        .with_context(|| format!("profile '{name}' is not defined in ~/.aws/config or ~/.aws/credentials"))?;
    let region = match p.get("region") {
        Some(r) => r.parse().with_context(|| format!("profile '{name}': region"))?,
        None => region.clone(),
    };
    if let Some(role) = p.get("role_arn") {
        let role: trustline_core::RoleArn =
            role.parse().with_context(|| format!("profile '{name}': role_arn"))?;
        let base = if let Some(source) = p.get("source_profile") {
            if source == name && p.contains_key("aws_access_key_id") {
                static_keys(p, name)?
            } else {
                from_profile(profiles, source, &region, depth + 1)?
            }
        } else if let Some(token_file) = p.get("web_identity_token_file") {
            return web_identity(token_file, &role.to_string(), p.get("role_session_name").cloned(), &region);
        } else {
            bail!("profile '{name}' has role_arn but neither source_profile nor web_identity_token_file");
        };
        let external_id = p
            .get("external_id")
            .map(|e| e.parse())
            .transpose()
            .with_context(|| format!("profile '{name}': external_id"))?;
        let session = p.get("role_session_name").map_or("trustline-worker", String::as_str);
        return Ok(Provider::assume_role(base, role, external_id, session, region));
    }
    if p.contains_key("aws_access_key_id") {
        return static_keys(p, name);
    }
    bail!(
        "profile '{name}' has no credentials (aws_access_key_id, role_arn); SSO profiles are not supported: use `aws configure export-credentials`"
    )
}

fn static_keys(p: &Profile, name: &str) -> Result<Arc<Provider>> {
    let key = p.get("aws_access_key_id").with_context(|| format!("profile '{name}': aws_access_key_id"))?;
    let secret = p
        .get("aws_secret_access_key")
        .with_context(|| format!("profile '{name}': aws_secret_access_key is missing"))?;
    let creds = Credentials::new(
        key.clone(),
        Secret::new(secret.clone()),
        p.get("aws_session_token").map(|t| Secret::new(t.clone())),
    );
    Ok(Provider::fixed(creds, &format!("profile '{name}'")))
}

/// An HTTP credentials endpoint.
pub(super) enum HttpSource {
    /// ECS: a GET with an optional authorization token.
    Ecs { url: String, token: Option<Secret>, token_file: Option<PathBuf> },
    /// IMDSv2: a session token, then the role's name, then its credentials.
    Imds { endpoint: String },
}

fn ecs_source() -> Result<Option<HttpSource>> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let url = match (env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"), env("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
    {
        (Some(rel), _) => format!("{ECS_HOST}{rel}"),
        (None, Some(full)) => full,
        (None, None) => return Ok(None),
    };
    Ok(Some(HttpSource::Ecs {
        url,
        token: env("AWS_CONTAINER_AUTHORIZATION_TOKEN").map(Secret::new),
        token_file: env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").map(PathBuf::from),
    }))
}

/// The JSON both ECS and IMDS return.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EndpointCredentials {
    access_key_id: String,
    secret_access_key: String,
    #[serde(default, alias = "Token")]
    token: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    expiration: OffsetDateTime,
}

impl HttpSource {
    pub(super) async fn fetch(&self) -> Result<(Credentials, Option<OffsetDateTime>)> {
        // Link-local endpoints answer at once or not at all; don't hang a worker off EC2.
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(1))
            .timeout(Duration::from_secs(5))
            .build()?;
        let body = match self {
            HttpSource::Ecs { url, token, token_file } => {
                let mut request = client.get(url);
                let token = match token_file {
                    Some(path) => Some(Secret::new(
                        std::fs::read_to_string(path)
                            .with_context(|| format!("reading {}", path.display()))?
                            .trim(),
                    )),
                    None => token.clone(),
                };
                if let Some(token) = token {
                    request = request.header("Authorization", token.expose());
                }
                request.send().await?.error_for_status()?.text().await?
            }
            HttpSource::Imds { endpoint } => {
                let token = client
                    .put(format!("{endpoint}/latest/api/token"))
                    .header("X-aws-ec2-metadata-token-ttl-seconds", "21600")
                    .send()
                    .await
                    .context("instance metadata did not answer (not on EC2? set AWS_EC2_METADATA_DISABLED=true to skip it)")?
                    .error_for_status()?
                    .text()
                    .await?;
                let base = format!("{endpoint}/latest/meta-data/iam/security-credentials/");
                let get = |url: String| client.get(url).header("X-aws-ec2-metadata-token", token.clone());
                let role = get(base.clone()).send().await?.error_for_status()?.text().await?;
                let role = role
                    .lines()
                    .next()
                    .context("the instance has no instance profile role")?
                    .trim()
                    .to_owned();
                get(format!("{base}{role}")).send().await?.error_for_status()?.text().await?
            }
        };
        let parsed: EndpointCredentials =
            serde_json::from_str(&body).context("the credentials endpoint returned unexpected JSON")?;
        let creds = Credentials::new(
            parsed.access_key_id,
            Secret::new(parsed.secret_access_key),
            parsed.token.map(Secret::new),
        );
        Ok((creds, Some(parsed.expiration)))
    }
}
