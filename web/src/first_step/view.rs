//! The first module's root component: the first step on its own, loading the rest of the
//! wizard once it has painted, and handing over to it (see the parent module).

use std::rc::Rc;

use trustline_core::IntegrationKind;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use yew::prelude::*;

use super::{FirstAction, FirstStep};
use crate::components::frame::{Frame, cancelled};
use crate::components::nav::Nav;
use crate::config::Config;
use crate::documents::loader;
use crate::host::Host;
use crate::state::{Remote, Step};
use crate::steps::kind::KindStep;

impl Reducible for FirstStep {
    type Action = FirstAction;

    fn reduce(self: Rc<Self>, action: FirstAction) -> Rc<Self> {
        Rc::new(Rc::unwrap_or_clone(self).reduce(action))
    }
}

/// Mounts the rest of the wizard in place of the first step, for the chosen kind (`mount()`
/// owns what is mounted, so it makes the swap).
#[derive(Clone)]
pub(crate) struct HandOver(pub(crate) Rc<dyn Fn(IntegrationKind) -> Result<(), String>>);

impl PartialEq for HandOver {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// Properties of [`FirstStepApp`].
#[derive(Properties)]
pub(crate) struct FirstStepProps {
    /// The validated options.
    pub(crate) config: Rc<Config>,
    /// Where the cancellation goes.
    pub(crate) host: Rc<Host>,
    /// Called once the kind is chosen and the rest has loaded.
    pub(crate) hand_over: HandOver,
}

impl PartialEq for FirstStepProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.config, &other.config)
            && Rc::ptr_eq(&self.host, &other.host)
            && self.hand_over == other.hand_over
    }
}

/// Resolves after the browser has painted: a task queued from `requestAnimationFrame` runs
/// after the frame it precedes.
async fn after_paint() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let Some(window) = web_sys::window() else {
            let _ = resolve.call0(&JsValue::NULL);
            return;
        };
        let later = window.clone();
        let queue = Closure::once_into_js(move || later.set_timeout_with_callback(&resolve));
        if window.request_animation_frame(queue.unchecked_ref()).is_err() {
            let _ = window.set_timeout_with_callback(queue.unchecked_ref());
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// See the module docs.
#[function_component]
pub(crate) fn FirstStepApp(props: &FirstStepProps) -> Html {
    let state = {
        let config = props.config.clone();
        use_reducer_eq(move || FirstStep::new(&config))
    };
    let closed = use_state(|| false);
    {
        let s = state.clone();
        use_effect_with(state.step, move |_| {
            if s.wants_rest() {
                let (d, first) = (s.dispatcher(), s.rest == Remote::Idle);
                d.dispatch(FirstAction::Loading);
                spawn_local(async move {
                    if first {
                        after_paint().await;
                    }
                    d.dispatch(FirstAction::Loaded(loader::load().await));
                });
            }
        });
    }
    {
        let (s, hand_over) = (state.clone(), props.hand_over.clone());
        use_effect_with((state.step, state.rest.clone()), move |_| {
            // Not while Yew runs this app's effects: the hand-over destroys it.
            if let Some(kind) = s.hand_over() {
                let d = s.dispatcher();
                spawn_local(async move {
                    if let Err(message) = (hand_over.0)(kind) {
                        d.dispatch(FirstAction::Loaded(Err(message)));
                    }
                });
            }
        });
    }
    let on_cancel = {
        let (closed, host) = (closed.clone(), props.host.clone());
        Callback::from(move |_: MouseEvent| {
            closed.set(true);
            host.cancel();
        })
    };
    if *closed {
        return cancelled();
    }
    let d = state.dispatcher();
    let on = move |action: FirstAction| {
        let d = d.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(action.clone()))
    };
    let body = match (state.step, &state.rest) {
        (Step::Kind, _) => {
            let d = state.dispatcher();
            html! {
                <KindStep kinds={state.kinds.clone()} selected={state.kind}
                    onchoose={Callback::from(move |kind| d.dispatch(FirstAction::Choose(kind)))}
                    on_next={on(FirstAction::Next)} on_cancel={on_cancel} />
            }
        }
        (_, Remote::Failed(message)) => html! {
            <>
                <p class="tl-alert tl-danger" role="alert" id="tl-rest-failed">
                    { format!("The next step could not be loaded ({message}). Check your connection, then go Back and choose again.") }
                </p>
                <Nav on_back={on(FirstAction::Back)} on_cancel={on_cancel} />
            </>
        },
        _ => html! {
            <>
                <p class="tl-note" role="status" id="tl-rest-loading">{ "Preparing the next step…" }</p>
                <Nav on_back={on(FirstAction::Back)} on_cancel={on_cancel} />
            </>
        },
    };
    html! { <Frame config={props.config.clone()} step={state.step}>{ body }</Frame> }
}
