//! The JavaScript API (wasm-bindgen exports): `mount(element, options)` returning a handle with
//! `destroy()`, completion and cancel as callbacks and DOM `CustomEvent`s, the standalone page's
//! start-up, and (in [`helpers`]) pure functions for hosts that build their own UI, most of them
//! forwarded to the documents module.

pub mod helpers;

use std::rc::Rc;

use js_sys::{Function, Object, Reflect};
use trustline_core::ExternalId;
use wasm_bindgen::prelude::*;
use web_sys::{CustomEvent, CustomEventInit, Element};
use yew::AppHandle;

use crate::app::{App, AppProps};
use crate::bindings::{self, JsOptions};
use crate::config::{Config, OptionError, Options};
use crate::state::Wizard;

/// The host side of one mounted wizard: where events go.
#[derive(Debug)]
pub(crate) struct Host {
    root: Element,
    on_complete: Option<Function>,
    on_cancel: Option<Function>,
}

impl Host {
    fn dispatch(&self, name: &str, detail: &JsValue) {
        let init = CustomEventInit::new();
        init.set_detail(detail);
        init.set_bubbles(true);
        init.set_composed(true);
        if let Ok(event) = CustomEvent::new_with_event_init_dict(name, &init) {
            let _ = self.root.dispatch_event(&event);
        }
    }

    /// Hands the result over: `trustline:complete` on the mount element, then `onComplete`. Only
    /// the callback gets the secret of key kinds, for the host to pass to its backend: DOM
    /// events can be observed by any script on the page.
    pub(crate) fn complete(&self, wizard: &Wizard) {
        let Some(done) = wizard.completion() else { return };
        let detail = done.to_json();
        self.dispatch("trustline:complete", &detail);
        if let Some(f) = &self.on_complete {
            let result = Object::assign(&Object::new(), detail.unchecked_ref());
            if wizard.needs_keys() {
                let _ =
                    Reflect::set(&result, &"secretAccessKey".into(), &wizard.connect.secret.expose().into());
            }
            let _ = f.call1(&JsValue::NULL, &result);
        }
    }

    /// Reports a cancellation: `trustline:cancel`, then `onCancel`.
    pub(crate) fn cancel(&self) {
        self.dispatch("trustline:cancel", &JsValue::UNDEFINED);
        if let Some(f) = &self.on_cancel {
            let _ = f.call0(&JsValue::NULL);
        }
    }
}

/// A mounted wizard.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WizardHandle {
    app: Option<AppHandle<App>>,
}

#[wasm_bindgen]
impl WizardHandle {
    /// Unmounts the wizard and drops everything it held, the pasted key included. Idempotent.
    pub fn destroy(&mut self) {
        if let Some(app) = self.app.take() {
            app.destroy();
        }
    }
}

fn option_error(e: OptionError) -> JsError {
    bindings::console_error(&e.to_string());
    JsError::new(&e.to_string())
}

fn callback(options: &JsValue, name: &str) -> Result<Option<Function>, OptionError> {
    let value = Reflect::get(options, &name.into()).unwrap_or(JsValue::UNDEFINED);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.dyn_into::<Function>().map(Some).map_err(|_| OptionError {
        option: name.into(),
        message: "must be a function, e.g. (result) => { … }".into(),
    })
}

/// Reads and validates the options object.
fn read_options(options: &JsValue) -> Result<(Config, Option<Function>, Option<Function>), OptionError> {
    let parsed = Options::from_json(options)?;
    let (on_complete, on_cancel) = (callback(options, "onComplete")?, callback(options, "onCancel")?);
    let config = Config::from_options(parsed, |prefix| ExternalId::generate(&mut getrandom::SysRng, prefix))?;
    Ok((config, on_complete, on_cancel))
}

/// Mounts the wizard into `element`. Throws an `Error` naming the option when an option is wrong.
#[wasm_bindgen]
pub fn mount(
    #[wasm_bindgen(unchecked_param_type = "Element")] element: JsValue,
    options: JsOptions,
) -> Result<WizardHandle, JsError> {
    let root: Element = element.dyn_into().map_err(|_| {
        option_error(OptionError {
            option: "element".into(),
            message:
                "mount(element, options) needs a DOM element, e.g. document.getElementById('connect-aws')"
                    .into(),
        })
    })?;
    let (config, on_complete, on_cancel) = read_options(&options).map_err(option_error)?;
    let host = Rc::new(Host { root: root.clone(), on_complete, on_cancel });
    let props = AppProps { config: Rc::new(config), host };
    let app = yew::Renderer::<App>::with_root_and_props(root, props).render();
    Ok(WizardHandle { app: Some(app) })
}

/// The standalone page (`index.html`): mounts into `#trustline-wizard` with the JSON options in
/// `<script type="application/json" id="trustline-config">`. Pages without it (a host's
/// dashboard) are left alone and call `mount` themselves.
#[wasm_bindgen(start)]
pub fn start() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let (Some(root), Some(config)) =
        (document.get_element_by_id("trustline-wizard"), document.get_element_by_id("trustline-config"))
    else {
        return;
    };
    let text = config.text_content().unwrap_or_default();
    let mounted = js_sys::JSON::parse(&text)
        .map_err(|_| JsError::new("Trustline: the trustline-config script is not valid JSON"))
        .and_then(|options| mount(root.clone().into(), options.unchecked_into()));
    match mounted {
        // The standalone page lives as long as the tab: keep the wizard mounted.
        Ok(handle) => std::mem::forget(handle),
        Err(e) => {
            let message: JsValue = e.into();
            let text =
                message.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default();
            root.set_text_content(Some(&text));
            let _ = root.set_attribute("role", "alert");
        }
    }
}
