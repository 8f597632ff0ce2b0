//! The verify API's per-check results; failed and warning checks read as next steps.

use yew::prelude::*;

use crate::state::{CheckStatus, Verdict, VerifyResponse};

/// Properties of [`CheckList`].
#[derive(Properties, PartialEq)]
pub(crate) struct CheckListProps {
    /// The verify API's answer.
    pub(crate) response: VerifyResponse,
}

/// See the module docs.
#[function_component]
pub(crate) fn CheckList(props: &CheckListProps) -> Html {
    let r = &props.response;
    let (class, heading) = match r.verdict {
        Verdict::Verified => ("tl-ok", "Connection verified".to_owned()),
        Verdict::Unsafe => (
            "tl-danger",
            "This role can be assumed without your ExternalId. It is unsafe and was not connected: recreate it from step 3.".to_owned(),
        ),
        Verdict::Failed => ("tl-warn", "Not connected yet. Fix the items below, then verify again.".to_owned()),
    };
    html! {
        <section class={classes!("tl-checks", class)} aria-labelledby="tl-checks-heading">
            <h3 id="tl-checks-heading" role="status">{ heading }</h3>
            if let Some(account) = &r.account_id {
                <p>{ format!("AWS account {account}") }</p>
            }
            <ul>
                { for r.checks.iter().map(|c| {
                    let status = match c.status {
                        CheckStatus::Pass => "tl-pass",
                        CheckStatus::Fail => "tl-fail",
                        CheckStatus::Warn => "tl-warning",
                        CheckStatus::Skipped => "tl-skipped",
                    };
                    html! {
                        <li class={status} data-check={c.id.clone()}>
                            <span class="tl-badge">{ c.status.label() }</span>
                            <strong>{ c.title.clone() }</strong>
                            if !c.message.is_empty() { <p>{ c.message.clone() }</p> }
                            if let Some(code) = &c.aws_error_code { <p class="tl-hint">{ format!("AWS error: {code}") }</p> }
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}
