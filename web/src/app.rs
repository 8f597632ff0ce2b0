//! The wizard's root component: the current step, and the hand-over of the result or the
//! cancellation to the host.

use std::rc::Rc;

use yew::prelude::*;

use crate::components::frame::{Frame, cancelled};
use crate::host::Host;
use crate::state::{Action, Step, Wizard};
use crate::steps::access::AccessStep;
use crate::steps::connect::ConnectStep;
use crate::steps::done::DoneStep;
use crate::steps::kind::KindStep;
use crate::steps::on;
use crate::steps::scope::ScopeStep;

/// Properties of [`App`].
#[derive(Properties)]
pub(crate) struct AppProps {
    /// Where the wizard starts (a kind chosen on the static first step, made).
    pub(crate) wizard: Wizard,
    /// Focus the first step's heading (the customer has just moved on from the static step).
    pub(crate) focus_first: bool,
    /// Where results and cancellation go.
    pub(crate) host: Rc<Host>,
}

impl PartialEq for AppProps {
    fn eq(&self, other: &Self) -> bool {
        self.wizard == other.wizard
            && self.focus_first == other.focus_first
            && Rc::ptr_eq(&self.host, &other.host)
    }
}

/// See the module docs.
#[function_component]
pub(crate) fn App(props: &AppProps) -> Html {
    let wizard = {
        let start = props.wizard.clone();
        use_reducer_eq(move || start)
    };
    let closed = use_state(|| false);
    {
        let (host, w) = (props.host.clone(), wizard.clone());
        use_effect_with(wizard.step, move |step| {
            if *step == Step::Done {
                host.complete(&w);
            }
        });
    }
    let on_cancel = {
        let (w, closed, host) = (wizard.clone(), closed.clone(), props.host.clone());
        Callback::from(move |_: MouseEvent| {
            w.dispatch(Action::ClearSecrets);
            closed.set(true);
            host.cancel();
        })
    };
    if *closed {
        return cancelled();
    }
    let (w, c) = (wizard.clone(), on_cancel);
    let body = match wizard.step {
        Step::Kind => {
            let d = w.dispatcher();
            html! {
                <KindStep kinds={w.config.allowed_kinds.clone()} selected={w.kind}
                    onchoose={Callback::from(move |kind| d.dispatch(Action::ChooseKind(kind)))}
                    on_next={on(&w, || Action::Next)} on_cancel={c} />
            }
        }
        Step::Scope => html! { <ScopeStep wizard={w} on_cancel={c} /> },
        Step::Access => html! { <AccessStep wizard={w} on_cancel={c} /> },
        Step::Connect => html! { <ConnectStep wizard={w} on_cancel={c} /> },
        Step::Done => html! { <DoneStep wizard={w} on_cancel={c} /> },
    };
    html! {
        <Frame config={wizard.config.clone()} step={wizard.step} focus_first={props.focus_first}>{ body }</Frame>
    }
}
