//! The JavaScript API (wasm-bindgen exports): `mount(element, options)` returning a handle with
//! `destroy()`, completion and cancel as callbacks and DOM `CustomEvent`s (see `host`), and (in
//! [`helpers`]) pure functions for hosts that build their own UI.

pub mod helpers;

use std::rc::Rc;

use js_sys::{Function, Reflect};
use trustline_core::{ExternalId, IntegrationKind};
use wasm_bindgen::prelude::*;
use web_sys::Element;
use yew::AppHandle;

use crate::app::{App, AppProps};
use crate::bindings::{self, JsOptions};
use crate::config::{Config, OptionError, Options};
use crate::first_step::STATIC_MARK;
use crate::host::Host;
use crate::state::{Action, Wizard};

/// A mounted wizard.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WizardHandle {
    mounted: Option<(AppHandle<App>, Element)>,
}

#[wasm_bindgen]
impl WizardHandle {
    /// Unmounts the wizard and drops everything it held, the pasted key and the session
    /// included. Idempotent.
    pub fn destroy(&mut self) {
        if let Some((app, element)) = self.mounted.take() {
            app.destroy();
            element.remove();
        }
    }
}

/// A new element in `root` for the wizard's Yew app. `display: contents` keeps it out of the
/// host's layout (set through CSSOM, which the page's CSP allows).
fn app_element(root: &Element) -> Result<Element, JsValue> {
    let document = root.owner_document().ok_or("no document")?;
    let element = document.create_element("div")?;
    element.unchecked_ref::<web_sys::HtmlElement>().style().set_property("display", "contents")?;
    root.append_child(&element)?;
    Ok(element)
}

/// Takes over the page's static first step (`first_step`) if `root` holds one: the kind the
/// customer chose there before the module arrived (its card is pressed), and the markup removed.
fn take_static_first_step(root: &Element) -> Option<IntegrationKind> {
    let first = root.query_selector(&format!("[{STATIC_MARK}]")).ok()??;
    let chosen = first
        .query_selector(r#".tl-card-button[aria-pressed="true"]"#)
        .ok()
        .flatten()
        .and_then(|card| card.get_attribute("data-kind"))
        .and_then(|id| id.parse().ok());
    first.remove();
    chosen
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
    let keys = |v: &JsValue| {
        (v.is_object() && !js_sys::Array::is_array(v)).then(|| {
            js_sys::Object::keys(v.unchecked_ref::<js_sys::Object>())
                .iter()
                .filter_map(|k| k.as_string())
                .collect()
        })
    };
    let session = Reflect::get(options, &"session".into()).unwrap_or(JsValue::UNDEFINED);
    let (names, session_names) = (keys(options), keys(&session));
    let parsed =
        Options::read(names, session_names, serde_wasm_bindgen::Deserializer::from(options.clone()))?;
    let (on_complete, on_cancel) = (callback(options, "onComplete")?, callback(options, "onCancel")?);
    let config = Config::from_options(parsed, |prefix| ExternalId::generate(&mut getrandom::SysRng, prefix))?;
    Ok((config, on_complete, on_cancel))
}

/// Mounts the wizard into `element`. Throws an `Error` naming the option when an option is
/// wrong. If `element` holds the page's static first step, the wizard takes its place, at the
/// scope step when the customer already chose a kind there.
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
    let chosen = take_static_first_step(&root);
    let mut wizard = Wizard::new(Rc::new(config));
    if let Some(kind) = chosen {
        wizard = wizard.reduce(Action::ChooseKind(kind));
    }
    let host = Rc::new(Host::new(root.clone(), on_complete, on_cancel));
    let element = app_element(&root).map_err(|e| JsError::new(&crate::js::message(&e)))?;
    // The customer moved on from the static first step: the new step's heading takes the focus.
    let props = AppProps { wizard, host, focus_first: chosen.is_some() };
    let app = yew::Renderer::<App>::with_root_and_props(element.clone(), props).render();
    Ok(WizardHandle { mounted: Some((app, element)) })
}
