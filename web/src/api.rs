//! The JavaScript API (wasm-bindgen exports): `mount(element, options)` returning a handle with
//! `destroy()`, completion and cancel as callbacks and DOM `CustomEvent`s (see `host`), the
//! standalone page's start-up, and (in [`helpers`]) pure functions for hosts that build their
//! own UI, most of them forwarded to the second module.

pub mod helpers;

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Function, Reflect};
use trustline_core::{ExternalId, IntegrationKind};
use wasm_bindgen::prelude::*;
use web_sys::Element;
use yew::AppHandle;

use crate::bindings::{self, JsOptions};
use crate::config::{Config, OptionError, Options};
use crate::documents::loader;
use crate::first_step::view::{FirstStepApp, FirstStepProps, HandOver};
use crate::host::Host;

/// What is mounted in the host's element: the first step (this module's Yew app) or, once the
/// customer has chosen how to connect, the rest of the wizard (the second module's). Each lives
/// in an element of its own, so that neither Yew sees the other's DOM.
#[derive(Debug)]
enum Mounted {
    First { app: AppHandle<FirstStepApp>, element: Element },
    Rest { handle: JsValue, element: Element },
    Gone,
}

impl Mounted {
    fn destroy(self) {
        match self {
            Mounted::First { app, element } => {
                app.destroy();
                element.remove();
            }
            Mounted::Rest { handle, element } => {
                if let Ok(destroy) =
                    Reflect::get(&handle, &"destroy".into()).and_then(JsCast::dyn_into::<Function>)
                {
                    let _ = destroy.call0(&handle);
                }
                element.remove();
            }
            Mounted::Gone => {}
        }
    }
}

/// A mounted wizard.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WizardHandle {
    mounted: Rc<RefCell<Mounted>>,
}

#[wasm_bindgen]
impl WizardHandle {
    /// Unmounts the wizard and drops everything it held, the pasted key included. Idempotent.
    pub fn destroy(&mut self) {
        let mounted = self.mounted.replace(Mounted::Gone);
        mounted.destroy();
    }
}

/// A new element in `root` for one of the two apps. `display: contents` keeps it out of the
/// host's layout (set through CSSOM, which the page's CSP allows).
fn app_element(root: &Element) -> Result<Element, JsValue> {
    let document = root.owner_document().ok_or("no document")?;
    let element = document.create_element("div")?;
    element.unchecked_ref::<web_sys::HtmlElement>().style().set_property("display", "contents")?;
    root.append_child(&element)?;
    Ok(element)
}

/// Swaps the first step for the rest of the wizard (unless the wizard was destroyed meanwhile).
fn hand_over(
    mounted: &RefCell<Mounted>,
    host: &Host,
    config: &Config,
    kind: IntegrationKind,
) -> Result<(), String> {
    if !matches!(*mounted.borrow(), Mounted::First { .. }) {
        return Ok(());
    }
    let element = app_element(&host.root).map_err(|e| crate::js::message(&e))?;
    match loader::mount_rest(&element, host, config, kind) {
        Ok(handle) => {
            mounted.replace(Mounted::Rest { handle, element }).destroy();
            Ok(())
        }
        Err(message) => {
            element.remove();
            Err(message)
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
    let (config, host) = (Rc::new(config), Rc::new(Host::new(root.clone(), on_complete, on_cancel)));
    let mounted = Rc::new(RefCell::new(Mounted::Gone));
    // Weak: the app holds this, and what is mounted holds the app.
    let hand_over = {
        let (mounted, host, config) = (Rc::downgrade(&mounted), host.clone(), config.clone());
        HandOver(Rc::new(move |kind| match Weak::upgrade(&mounted) {
            Some(mounted) => hand_over(&mounted, &host, &config, kind),
            None => Ok(()),
        }))
    };
    let element = app_element(&root).map_err(|e| JsError::new(&crate::js::message(&e)))?;
    let props = FirstStepProps { config, host, hand_over };
    let app = yew::Renderer::<FirstStepApp>::with_root_and_props(element.clone(), props).render();
    *mounted.borrow_mut() = Mounted::First { app, element };
    Ok(WizardHandle { mounted })
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
