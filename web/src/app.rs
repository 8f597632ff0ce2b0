//! The wizard after its first step, in the second module: the root component (the current
//! step, the hand-over of the result or the cancellation to the host), and `mountWizard`, which
//! the first module calls to hand over to it once the customer has chosen how to connect.

use std::rc::Rc;

use js_sys::Reflect;
use trustline_core::IntegrationKind;
use wasm_bindgen::prelude::*;
use web_sys::Element;
use yew::AppHandle;
use yew::prelude::*;

use crate::components::frame::{Frame, cancelled};
use crate::config::{Config, ExternalIdSource, Options};
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
    /// Where the wizard starts: the first module's choice, made.
    pub(crate) wizard: Wizard,
    /// Where results and cancellation go.
    pub(crate) host: Rc<Host>,
}

impl PartialEq for AppProps {
    fn eq(&self, other: &Self) -> bool {
        self.wizard == other.wizard && Rc::ptr_eq(&self.host, &other.host)
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
        <Frame config={wizard.config.clone()} step={wizard.step} focus_first=true>{ body }</Frame>
    }
}

/// The wizard mounted by [`mount_wizard`].
#[wasm_bindgen]
#[derive(Debug)]
pub struct MountedWizard {
    app: Option<AppHandle<App>>,
}

#[wasm_bindgen]
impl MountedWizard {
    /// Unmounts the wizard and drops everything it held, the pasted key included. Idempotent.
    pub fn destroy(&mut self) {
        if let Some(app) = self.app.take() {
            app.destroy();
        }
    }
}

/// The first module's hand-over (`documents::loader::mount_rest`): mounts the wizard into
/// `element` at the step after the choice of `kind`, for the host of `mount()`, with the
/// options the first module validated (and the ExternalId it generated, if it did).
#[wasm_bindgen(js_name = mountWizard, skip_typescript)]
pub fn mount_wizard(args: JsValue) -> Result<MountedWizard, JsError> {
    let get = |name: &str| Reflect::get(&args, &name.into()).unwrap_or(JsValue::UNDEFINED);
    let element: Element = get("element").dyn_into().map_err(|_| JsError::new("mountWizard: no element"))?;
    let host = Host::from_js(&get("host")).ok_or_else(|| JsError::new("mountWizard: no host"))?;
    let options: Options =
        crate::js::from_js(&get("options"), "mountWizard: options").map_err(|e| JsError::new(&e))?;
    let mut config = Config::from_options(options, |_| {
        Err(trustline_core::Error::invalid("externalId", "the first module always passes its ExternalId"))
    })
    .map_err(|e| JsError::new(&e.to_string()))?;
    if let Some(source) = get("externalIdSource").as_string().as_deref().and_then(ExternalIdSource::from_id) {
        config.external_id_source = source;
    }
    let kind: IntegrationKind = get("kind")
        .as_string()
        .unwrap_or_default()
        .parse()
        .map_err(|e: trustline_core::Error| JsError::new(&e.to_string()))?;
    let wizard = Wizard::new(Rc::new(config)).reduce(Action::ChooseKind(kind));
    let props = AppProps { wizard, host: Rc::new(host) };
    Ok(MountedWizard { app: Some(yew::Renderer::<App>::with_root_and_props(element, props).render()) })
}
