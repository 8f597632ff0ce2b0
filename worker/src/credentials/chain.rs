//! The vendor's own credentials, from the AWS SDK's default chain (`aws-config`): environment
//! variables, the shared config and credentials files (profiles with `role_arn` and
//! `source_profile`, SSO, `credential_process`), a web identity token (EKS IRSA), ECS container
//! credentials and EC2 instance metadata (IMDSv2), in the order the SDKs document.
//!
//! Calls the chain itself makes (AssumeRole for a role profile, say) follow the SDK's own
//! endpoint settings (`AWS_ENDPOINT_URL_STS`, a profile's `endpoint_url`), not Trustline's
//! `--endpoint-url`, which is for the calls Trustline signs itself.

use std::sync::Arc;

use anyhow::{Result, anyhow};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use time::OffsetDateTime;
use trustline_core::{Credentials, Region, Secret};

use super::{Provider, Source};

/// Finds the vendor's credentials, and asks the chain once so that a machine without any is
/// told so at start. `region` is where the chain's own STS calls go.
pub async fn vendor_chain(region: &Region) -> Result<Arc<Provider>> {
    let chain = aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
        .region(aws_config::Region::new(region.as_str().to_owned()))
        .build()
        .await;
    let chain = SharedCredentialsProvider::new(chain);
    chain.provide_credentials().await.map_err(|e| {
        anyhow!(
            "no AWS credentials found ({}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or run on EKS, ECS or EC2 with a role",
            aws_smithy_types::error::display::DisplayErrorContext(&e)
        )
    })?;
    Ok(Provider::new(Source::Sdk(chain), "the AWS SDK's default credential chain".to_owned()))
}

/// Fresh credentials from the SDK's chain, with their expiry; the error is the SDK's, with its
/// causes (its error types stay inside this module).
pub(super) async fn fetch(
    chain: &SharedCredentialsProvider,
) -> std::result::Result<(Credentials, Option<OffsetDateTime>), String> {
    let c = chain
        .provide_credentials()
        .await
        .map_err(|e| aws_smithy_types::error::display::DisplayErrorContext(&e).to_string())?;
    let expires = c.expiry().map(OffsetDateTime::from);
    let credentials = Credentials::new(
        c.access_key_id().to_owned(),
        Secret::new(c.secret_access_key()),
        c.session_token().map(Secret::new),
    );
    Ok((credentials, expires))
}
