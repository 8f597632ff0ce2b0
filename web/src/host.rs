//! The host side of one mounted wizard: the element it was mounted into, where its DOM events
//! go, and the host's `onComplete` and `onCancel`. The first module reads them in `mount()` and
//! passes them on when it hands over to the second module, which completes the wizard.

use js_sys::{Function, Reflect};
use wasm_bindgen::JsValue;
use web_sys::{CustomEvent, CustomEventInit, Element};

/// See the module docs.
#[derive(Debug)]
pub(crate) struct Host {
    /// The element `mount()` got; the DOM events are dispatched on it.
    pub(crate) root: Element,
    on_complete: Option<Function>,
    on_cancel: Option<Function>,
}

impl Host {
    /// The host of a wizard mounted into `root`.
    #[cfg(feature = "ui")]
    pub(crate) fn new(root: Element, on_complete: Option<Function>, on_cancel: Option<Function>) -> Self {
        Host { root, on_complete, on_cancel }
    }

    /// `{ root, onComplete, onCancel }`, for the hand-over to the second module.
    #[cfg(feature = "ui")]
    pub(crate) fn to_js(&self) -> JsValue {
        let object = js_sys::Object::new();
        let callback = |f: &Option<Function>| f.clone().map_or(JsValue::UNDEFINED, JsValue::from);
        for (name, value) in [
            ("root", self.root.clone().into()),
            ("onComplete", callback(&self.on_complete)),
            ("onCancel", callback(&self.on_cancel)),
        ] {
            let _ = Reflect::set(&object, &name.into(), &value);
        }
        object.into()
    }

    /// Reads what [`Host::to_js`] wrote in the first module.
    #[cfg(feature = "documents")]
    pub(crate) fn from_js(value: &JsValue) -> Option<Self> {
        use wasm_bindgen::JsCast;
        let get = |name: &str| Reflect::get(value, &name.into()).ok();
        Some(Host {
            root: get("root")?.dyn_into().ok()?,
            on_complete: get("onComplete").and_then(|f| f.dyn_into().ok()),
            on_cancel: get("onCancel").and_then(|f| f.dyn_into().ok()),
        })
    }

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
    #[cfg(feature = "documents")]
    pub(crate) fn complete(&self, wizard: &crate::state::Wizard) {
        use js_sys::Object;
        use wasm_bindgen::JsCast;
        let Some(done) = wizard.completion() else { return };
        let Ok(detail) = crate::js::to_js(&done) else { return };
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
