//! Step 4: paste the role ARN or the access key, check it, verify it. Keys are checked with STS
//! GetCallerIdentity signed in this page; they stay in memory only (no storage, no URL).

use trustline_core::{IntegrationKind, Secret};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use super::{StepProps, on};
use crate::components::check_list::CheckList;
use crate::components::nav::Nav;
use crate::components::text_field::TextField;
use crate::remote;
use crate::state::{Action, ConnectField, Remote, Wizard};

fn start_key_check(w: &UseReducerHandle<Wizard>) {
    let d = w.dispatcher();
    if !w.keys_ready() {
        d.dispatch(Action::KeyCheckStarted);
        return;
    }
    let (config, generation) = (w.config.clone(), w.generation);
    let (key_id, secret) = (w.connect.access_key_id.clone(), w.connect.secret.clone());
    d.dispatch(Action::KeyCheckStarted);
    spawn_local(async move {
        let result = remote::check_key(&config, &key_id, &secret).await;
        d.dispatch(Action::KeyCheckFinished { generation, result });
    });
}

fn start_verify(w: &UseReducerHandle<Wizard>) {
    let d = w.dispatcher();
    let request = w.verify_request().filter(|_| w.can_verify());
    let Some((target, body)) = request else {
        d.dispatch(Action::VerifyStarted);
        return;
    };
    let (config, generation) = (w.config.clone(), w.generation);
    d.dispatch(Action::VerifyStarted);
    spawn_local(async move {
        let result = remote::verify(&config, target, &body).await;
        d.dispatch(Action::VerifyFinished { generation, result });
    });
}

/// See the module docs.
#[function_component]
pub(crate) fn ConnectStep(props: &StepProps) -> Html {
    let w = &props.wizard;
    let kind = w.kind.unwrap_or(IntegrationKind::CrossAccountRole);
    let d = w.dispatcher();
    let key_checked = w.key_check.done().is_some();
    // Enter in any field runs the next thing to do: check the key, verify, or finish.
    let primary = {
        let w = w.clone();
        Callback::from(move |()| {
            if w.needs_keys() && !key_checked {
                start_key_check(&w);
            } else if w.verifies_remotely() && !w.can_finish() {
                start_verify(&w);
            } else {
                w.dispatch(Action::Next);
            }
        })
    };
    let onsubmit = {
        let primary = primary.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            primary.emit(());
        })
    };
    let role_label = match kind {
        IntegrationKind::Sts => "ARN of the role the key may assume",
        IntegrationKind::SameAccountRole => "Role ARN",
        _ => "Role ARN (the stack's RoleArn output)",
    };
    html! {
        <form {onsubmit} novalidate=true>
            // Lets Enter in any field submit the form (implicit submission needs a submit button).
            <button type="submit" class="tl-sr-only" tabindex="-1" aria-hidden="true">{ "Submit" }</button>
            if w.needs_role_arn() {
                <TextField id="tl-role-arn" label={role_label} value={w.connect.role_arn.clone()}
                    placeholder={Some(AttrValue::Static("arn:aws:iam::123456789012:role/VendorReadOnly"))}
                    hint={Some(AttrValue::Static("Checked as you type."))}
                    error={w.connect_error(ConnectField::RoleArn)}
                    oninput={{ let d = d.clone(); Callback::from(move |t| d.dispatch(Action::SetRoleArn(t))) }} />
            }
            if w.needs_keys() {
                <TextField id="tl-access-key-id" label="Access key ID" value={w.connect.access_key_id.clone()}
                    placeholder={Some(AttrValue::Static("AKIA…"))} error={w.connect_error(ConnectField::AccessKeyId)}
                    oninput={{ let d = d.clone(); Callback::from(move |t| d.dispatch(Action::SetAccessKeyId(t))) }} />
                <TextField id="tl-secret" label="Secret access key" input_type="password" autocomplete="new-password"
                    value={w.connect.secret.expose().to_owned()}
                    hint={Some(AttrValue::Static("Kept in this page's memory only, never stored; sent only to AWS STS and to the verify service."))}
                    error={w.connect_error(ConnectField::Secret)}
                    oninput={{ let d = d.clone(); Callback::from(move |t: String| d.dispatch(Action::SetSecret(Secret::new(t)))) }} />
                <button type="button" class="tl-button" id="tl-check-key" disabled={w.key_check == Remote::Running}
                    onclick={{ let w = w.clone(); Callback::from(move |_: MouseEvent| start_key_check(&w)) }}>
                    { if w.key_check == Remote::Running { "Checking with AWS…" } else { "Check key with AWS" } }
                </button>
                <div aria-live="polite" id="tl-key-result">
                    { match &w.key_check {
                        Remote::Done(id) if id.is_root() => html! {
                            <p class="tl-alert tl-danger" role="alert">
                                <strong>{ "These are your root user's keys. " }</strong>
                                { format!("They control all of account {} and cannot be limited. Do not share them: delete this key in the console (Security credentials), then create the IAM user from step 3 and use its key.", id.account_id) }
                            </p>
                        },
                        Remote::Done(id) => html! {
                            <p class="tl-alert tl-ok" id="tl-identity">
                                { format!("This key belongs to {} in account {}.", id.arn, id.account_id) }
                                if id.is_temporary() { { " It is a temporary key: it will stop working when its session ends." } }
                            </p>
                        },
                        Remote::Failed(message) => html! { <p class="tl-alert tl-danger" role="alert">{ message.clone() }</p> },
                        _ => html! {},
                    } }
                </div>
            }
            if w.verifies_remotely() {
                <button type="button" class="tl-button tl-primary" id="tl-verify" disabled={!w.can_verify()}
                    onclick={{ let w = w.clone(); Callback::from(move |_: MouseEvent| start_verify(&w)) }}>
                    { if w.verify == Remote::Running { "Verifying…" } else { "Verify connection" } }
                </button>
            } else if kind == IntegrationKind::SameAccountRole {
                <p class="tl-note">{ "The vendor's software checks this role when it starts in your account; there is nothing to verify from here." }</p>
            } else {
                <p class="tl-note">{ format!("{} verifies the connection after you finish.", w.config.vendor_name) }</p>
            }
            <div aria-live="polite" id="tl-verify-result">
                { match &w.verify {
                    Remote::Done(r) => html! { <CheckList response={r.clone()} /> },
                    Remote::Failed(message) => html! { <p class="tl-alert tl-danger" role="alert">{ message.clone() }</p> },
                    _ => html! {},
                } }
            </div>
            if w.connect.submitted && !w.can_finish() {
                <p class="tl-error" role="alert">{ "Complete the fields above and verify the connection to finish." }</p>
            }
            <Nav on_back={on(w, || Action::Back)} on_cancel={props.on_cancel.clone()}
                next_label={AttrValue::Static("Finish")} on_next={on(w, || Action::Next)} />
        </form>
    }
}
