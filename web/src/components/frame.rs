//! The frame around every step: the host's title, the progress indicator and the step's
//! heading, which takes the focus when the step changes so that screen readers announce the
//! new screen. Both modules render it: the first around the first step, the second after it.

use std::rc::Rc;

use web_sys::HtmlElement;
use yew::prelude::*;

use crate::components::progress::Progress;
use crate::config::Config;
use crate::state::Step;

/// Properties of [`Frame`].
#[derive(Properties, PartialEq)]
pub(crate) struct FrameProps {
    /// The options (title, intro, the vendor's name).
    pub(crate) config: Rc<Config>,
    /// The current step.
    pub(crate) step: Step,
    /// Focus the heading on the first render too: when the wizard takes over from the page's
    /// static first step, the customer has just moved on a step.
    #[prop_or_default]
    pub(crate) focus_first: bool,
    /// The step itself.
    pub(crate) children: Html,
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
pub(crate) fn Frame(props: &FrameProps) -> Html {
    let heading_ref = use_node_ref();
    let first_render = use_mut_ref(|| !props.focus_first);
    {
        let (heading_ref, first_render) = (heading_ref.clone(), first_render.clone());
        use_effect_with(props.step, move |_| {
            // On the first render the host page keeps its focus.
            let first = std::mem::replace(&mut *first_render.borrow_mut(), false);
            if !first && let Some(h) = heading_ref.cast::<HtmlElement>() {
                let _ = h.focus();
            }
        });
    }
    let config = &props.config;
    html! {
        <div class="tl-wizard" data-step={props.step.id()}>
            <header class="tl-header">
                <h1 class="tl-title">{ config.title.clone() }</h1>
                if let Some(intro) = &config.intro { <p class="tl-intro">{ intro.clone() }</p> }
            </header>
            <Progress step={props.step} />
            <section class="tl-step" aria-labelledby="tl-step-heading">
                <h2 id="tl-step-heading" tabindex="-1" ref={heading_ref}>{ heading(props.step, &config.vendor_name) }</h2>
                { props.children.clone() }
            </section>
        </div>
    }
}

/// What the wizard shows after Cancel.
pub(crate) fn cancelled() -> Html {
    html! {
        <div class="tl-wizard"><p class="tl-alert" role="status" id="tl-cancelled">{ "Cancelled. Nothing was connected." }</p></div>
    }
}
