//! The host side of one mounted wizard: the element it was mounted into, where its DOM events
//! go, and the host's `onComplete` and `onCancel`, which `mount()` reads.

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
    pub(crate) fn new(root: Element, on_complete: Option<Function>, on_cancel: Option<Function>) -> Self {
        Host { root, on_complete, on_cancel }
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
