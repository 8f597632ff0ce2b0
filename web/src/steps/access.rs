//! Step 3: create the role or user in AWS. The Launch-stack link carries the ExternalId, so the
//! customer never copies it; templates, policies, the AWS CLI and Terraform are alternatives.

use trustline_core::IntegrationKind;
use yew::prelude::*;

use super::{StepProps, on};
use crate::components::code_block::CodeBlock;
use crate::components::nav::Nav;
use crate::documents::{self, AccessKit};
use crate::state::Action;

/// See the module docs.
#[function_component]
pub(crate) fn AccessStep(props: &StepProps) -> Html {
    let w = &props.wizard;
    let nav = html! {
        <Nav on_back={on(w, || Action::Back)} on_cancel={props.on_cancel.clone()}
            next_label={AttrValue::Static("I have created it — continue")} on_next={on(w, || Action::Next)} />
    };
    let kit = match w.parsed_scope() {
        Some(Ok(scope)) => documents::access_kit(&w.config, &scope),
        // The reducer only lets a valid scope through; this is a safety net.
        _ => AccessKit {
            errors: vec!["Go back one step and complete the scope.".into()],
            ..AccessKit::default()
        },
    };
    let is_role = w.kind == Some(IntegrationKind::CrossAccountRole);
    html! {
        <>
            if is_role {
                <p class="tl-external-id">
                    { "Your ExternalId: " }<code id="tl-external-id">{ w.config.external_id.as_str() }</code>
                    <span class="tl-hint">{ " — already filled in everywhere below; you never need to type it." }</span>
                </p>
            }
            { for kit.warnings.iter().map(|warning| html! { <p class="tl-alert tl-danger" role="alert">{ warning.clone() }</p> }) }
            <ol class="tl-steps">{ for kit.steps.iter().map(|s| html! { <li>{ s.clone() }</li> }) }</ol>
            if let Some(link) = &kit.launch_link {
                <p>
                    <a class="tl-button tl-primary tl-launch" id="tl-launch" href={link.clone()} target="_blank"
                        rel="noopener noreferrer" onclick={on(w, || Action::Launched)}>
                        { "Launch stack in the AWS console" }<span class="tl-sr-only">{ " (opens in a new tab)" }</span>
                    </a>
                </p>
            }
            if let Some(note) = &kit.launch_note { <p class="tl-note">{ note.clone() }</p> }
            { for kit.templates.iter().map(|d| html! { <CodeBlock doc={d.clone()} collapsed=true /> }) }
            if !kit.policies.is_empty() {
                <h3>{ "Policies" }</h3>
                { for kit.policies.iter().map(|d| html! { <CodeBlock doc={d.clone()} /> }) }
            }
            if !kit.alternatives.is_empty() {
                <details class="tl-alternatives">
                    <summary>{ "Prefer the AWS CLI or Terraform?" }</summary>
                    { for kit.alternatives.iter().map(|d| html! { <CodeBlock doc={d.clone()} /> }) }
                </details>
            }
            if let Some(rotation) = &kit.rotation {
                <section class="tl-rotation">
                    <h3>{ format!("Rotate the key at least every {} days", rotation.max_age_days) }</h3>
                    <ol>{ for rotation.steps.iter().map(|s| html! { <li>{ s.clone() }</li> }) }</ol>
                </section>
            }
            { for kit.errors.iter().map(|e| html! { <p class="tl-note">{ e.clone() }</p> }) }
            { nav }
        </>
    }
}
