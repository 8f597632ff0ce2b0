//! Step 5: the summary. The result has been handed to the host (callback and DOM event).

use yew::prelude::*;

use super::StepProps;
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
        None => format!("{} will verify it", w.config.vendor_name),
    };
    html! {
        <>
            <p class="tl-alert tl-ok" role="status">{ format!("Your AWS account is connected to {}.", w.config.vendor_name) }</p>
            <dl class="tl-summary" id="tl-summary">
                { row("How", w.kind.map(|k| k.info().title.to_owned()).unwrap_or_default()) }
                if let Some(account) = &done.account_id { { row("AWS account", account.clone()) } }
                if let Some(arn) = &done.role_arn { { row("Role", arn.clone()) } }
                if let Some(key) = &done.access_key_id { { row("Access key", key.clone()) } }
                { row("Data shared", done.data_sets.join(", ")) }
                { row("Regions", if done.regions.is_empty() { "All".to_owned() } else { done.regions.join(", ") }) }
                { row("Status", verified) }
            </dl>
            <p>{ "You can close this page. To revoke access later, delete the stack (or the role or user) in your AWS account." }</p>
        </>
    }
}
