//! The root component: title, progress, the current step, focus management and the hand-over
//! of the result (or the cancellation) to the host.

use std::rc::Rc;

use wasm_bindgen_futures::spawn_local;
use web_sys::HtmlElement;
use yew::prelude::*;

use crate::api::Host;
use crate::components::progress::Progress;
use crate::config::Config;
use crate::documents::loader;
use crate::state::{Action, Step, Wizard};
use crate::steps::access::AccessStep;
use crate::steps::connect::ConnectStep;
use crate::steps::done::DoneStep;
use crate::steps::kind::KindStep;
use crate::steps::scope::ScopeStep;

/// Properties of [`App`].
#[derive(Properties)]
pub(crate) struct AppProps {
    /// The validated options.
    pub(crate) config: Rc<Config>,
    /// Where results and cancellation go.
    pub(crate) host: Rc<Host>,
}

impl PartialEq for AppProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.config, &other.config) && Rc::ptr_eq(&self.host, &other.host)
    }
}

fn heading(step: Step, vendor: &str) -> String {
    match step {
        Step::Kind => "How do you want to connect?".into(),
        Step::Scope => format!("What may {vendor} read?"),
        Step::Access => "Create access in your AWS account".into(),
        Step::Connect => "Connect and verify".into(),
        Step::Done => "Done".into(),
    }
}

/// See the module docs.
#[function_component]
pub(crate) fn App(props: &AppProps) -> Html {
    let wizard = {
        let config = props.config.clone();
        use_reducer_eq(move || Wizard::new(config))
    };
    let cancelled = use_state(|| false);
    let heading_ref = use_node_ref();
    let first_render = use_mut_ref(|| true);
    {
        let (heading_ref, first_render, host, w) =
            (heading_ref.clone(), first_render.clone(), props.host.clone(), wizard.clone());
        use_effect_with(wizard.step, move |step| {
            // Moving focus to the new step's heading tells screen readers the screen changed;
            // on the first render the host page keeps its focus.
            let first = std::mem::replace(&mut *first_render.borrow_mut(), false);
            if !first && let Some(h) = heading_ref.cast::<HtmlElement>() {
                let _ = h.focus();
            }
            if *step == Step::Done {
                host.complete(&w);
            }
            // The first screen needs no document; the next ones do (whole-document checks, the
            // access step), so the documents module loads once the customer has left it.
            if w.wants_documents() {
                let d = w.dispatcher();
                d.dispatch(Action::DocumentsLoading);
                spawn_local(async move { d.dispatch(Action::DocumentsLoaded(loader::load().await)) });
            }
        });
    }
    let on_cancel = {
        let (w, cancelled, host) = (wizard.clone(), cancelled.clone(), props.host.clone());
        Callback::from(move |_: MouseEvent| {
            w.dispatch(Action::ClearSecrets);
            cancelled.set(true);
            host.cancel();
        })
    };
    let config = &props.config;
    if *cancelled {
        return html! {
            <div class="tl-wizard"><p class="tl-alert" role="status" id="tl-cancelled">{ "Cancelled. Nothing was connected." }</p></div>
        };
    }
    let (w, c) = (wizard.clone(), on_cancel);
    let body = match wizard.step {
        Step::Kind => html! { <KindStep wizard={w} on_cancel={c} /> },
        Step::Scope => html! { <ScopeStep wizard={w} on_cancel={c} /> },
        Step::Access => html! { <AccessStep wizard={w} on_cancel={c} /> },
        Step::Connect => html! { <ConnectStep wizard={w} on_cancel={c} /> },
        Step::Done => html! { <DoneStep wizard={w} on_cancel={c} /> },
    };
    html! {
        <div class="tl-wizard" data-step={wizard.step.id()}>
            <header class="tl-header">
                <h1 class="tl-title">{ config.title.clone() }</h1>
                if let Some(intro) = &config.intro { <p class="tl-intro">{ intro.clone() }</p> }
            </header>
            <Progress step={wizard.step} />
            <section class="tl-step" aria-labelledby="tl-step-heading">
                <h2 id="tl-step-heading" tabindex="-1" ref={heading_ref}>{ heading(wizard.step, &config.vendor_name) }</h2>
                { body }
            </section>
        </div>
    }
}
