//! The verify API's answer as the customer reads it ([`crate::state::CheckReport`]): what needs
//! the customer's action first, as next steps; then what passed, with the permission probes
//! collapsed into one line per data set.

use yew::prelude::*;

use crate::state::{Check, CheckReport, CheckStatus, Verdict, VerifyReport};

/// Properties of [`CheckList`].
#[derive(Properties, PartialEq)]
pub(crate) struct CheckListProps {
    /// The verify API's answer.
    pub(crate) response: VerifyReport,
}

fn item(c: &Check) -> Html {
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
}

/// One thing to fix: a check, or several with the same message (listed by title).
fn action(group: &[&Check]) -> Html {
    let [first, more @ ..] = group else { return html! {} };
    if more.is_empty() {
        return item(first);
    }
    let status = if first.status == CheckStatus::Fail { "tl-fail" } else { "tl-warning" };
    html! {
        <li class={status} data-check={first.id.clone()}>
            <span class="tl-badge">{ first.status.label() }</span>
            <strong>{ format!("{} checks, one fix", group.len()) }</strong>
            <p>{ first.message.clone() }</p>
            <ul class="tl-check-titles">{ for group.iter().map(|c| html! { <li data-check={c.id.clone()}>{ c.title.clone() }</li> }) }</ul>
        </li>
    }
}

/// One line of what passed; `details` (the probes behind it) fold out.
fn passed(id: &str, title: String, details: Vec<String>) -> Html {
    let count = match details.len() {
        1 => "1 check".to_owned(),
        n => format!("{n} checks"),
    };
    html! {
        <li class="tl-pass" data-check={id.to_owned()}>
            <span class="tl-badge">{ CheckStatus::Pass.label() }</span>
            { title }
            if !details.is_empty() {
                <details>
                    <summary>{ count }</summary>
                    <ul>{ for details.into_iter().map(|d| html! { <li>{ d }</li> }) }</ul>
                </details>
            }
        </li>
    }
}

/// See the module docs.
#[function_component]
pub(crate) fn CheckList(props: &CheckListProps) -> Html {
    let r = &props.response;
    let (class, heading) = match r.verdict {
        Verdict::Verified => ("tl-ok", "Connection verified"),
        Verdict::Unsafe => (
            "tl-danger",
            "This role can be assumed without your ExternalId. It is unsafe and was not connected: recreate it from step 3.",
        ),
        Verdict::Failed => ("tl-warn", "Not connected yet. Fix the items below, then verify again."),
    };
    let report = CheckReport::of(r);
    html! {
        <section class={classes!("tl-checks", class)} aria-labelledby="tl-checks-heading">
            <h3 id="tl-checks-heading" role="status">{ heading }</h3>
            if let Some(account) = &r.account_id {
                <p>{ format!("AWS account {account}") }</p>
            }
            if !report.action.is_empty() {
                <h4>{ "Needs your action" }</h4>
                <ul class="tl-action">{ for report.action.iter().map(|group| action(group)) }</ul>
            }
            if !report.passed.is_empty() || !report.external_id.is_empty() || !report.permissions.is_empty() {
                <h4>{ "Passed" }</h4>
                <ul class="tl-passed">
                    { for report.passed.iter().map(|c| passed(&c.id, c.title.clone(), Vec::new())) }
                    if !report.external_id.is_empty() {
                        { passed(
                            "external_id_required",
                            "The role refuses Trustline without your exact ExternalId".to_owned(),
                            report.external_id.iter().map(|c| c.title.clone()).collect(),
                        ) }
                    }
                    { for report.permissions.iter().map(|(set, actions)| {
                        let (id, what) = set.map_or(("other", "Other permissions"), |s| (s.id(), s.description()));
                        passed(
                            &format!("permissions:{id}"),
                            format!("Can read: {what}"),
                            actions.iter().map(|a| (*a).to_owned()).collect(),
                        )
                    }) }
                </ul>
            }
            if !report.skipped.is_empty() {
                <h4>{ "Not checked yet" }</h4>
                <ul class="tl-skipped-list">{ for report.skipped.iter().map(|c| item(c)) }</ul>
            }
        </section>
    }
}
