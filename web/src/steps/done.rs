//! Step 5: the summary. The result has been handed to the host (callback and DOM event). Without
//! a session nothing was verified or registered, and the summary says so instead of "connected".

use yew::prelude::*;

use super::StepProps;
use crate::config::ExternalIdSource;
use crate::state::Verdict;

/// See the module docs.
#[function_component]
pub(crate) fn DoneStep(props: &StepProps) -> Html {
    let w = &props.wizard;
    let Some(done) = w.completion() else { return html! {} };
    let row = |term: &str, value: String| html! { <><dt>{ term.to_owned() }</dt><dd>{ value }</dd></> };
    let verified = match done.verdict {
        Some(Verdict::Verified) => "Verified".to_owned(),
        Some(Verdict::Unsafe) => "Unsafe".to_owned(),
        Some(Verdict::Failed) => "Failed".to_owned(),
        None if w.config.session.is_none() => {
            "Not verified: this page is not connected to the vendor's service".to_owned()
        }
        None => format!("{} will verify it", w.config.vendor_name),
    };
    let vendor = &w.config.vendor_name;
    let (headline, external_id) = match w.config.external_id_source {
        ExternalIdSource::Session => {
            (format!("Your AWS account is connected to {vendor}."), done.external_id.clone())
        }
        ExternalIdSource::Option => (
            format!("Your access is ready in AWS. {vendor} still has to register it."),
            done.external_id.clone(),
        ),
        ExternalIdSource::Browser => (
            format!("Your access is ready in AWS. {vendor} still has to register it."),
            format!("{} (generated in this browser: give it to {vendor} with the role)", done.external_id),
        ),
    };
    html! {
        <>
            <p class="tl-alert tl-ok" role="status">{ headline }</p>
            <dl class="tl-summary" id="tl-summary">
                { row("How", w.kind.map(|k| k.info().title.to_owned()).unwrap_or_default()) }
                if let Some(account) = &done.account_id { { row("AWS account", account.clone()) } }
                if let Some(arn) = &done.role_arn { { row("Role", arn.clone()) } }
                if w.kind == Some(trustline_core::IntegrationKind::CrossAccountRole) { { row("ExternalId", external_id) } }
                if let Some(key) = &done.access_key_id { { row("Access key", key.clone()) } }
                { row("Data shared", done.data_sets.join(", ")) }
                { row("Regions", if done.regions.is_empty() { "All".to_owned() } else { done.regions.join(", ") }) }
                { row("Status", verified) }
            </dl>
            <p>{ "You can close this page. To revoke access later, delete the stack (or the role or user) in your AWS account." }</p>
        </>
    }
}
