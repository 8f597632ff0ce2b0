//! The bar under each step: Back, Cancel and the step's primary button.

use yew::prelude::*;

/// Properties of [`Nav`].
#[derive(Properties, PartialEq)]
pub(crate) struct NavProps {
    /// Back one step (hidden when None).
    #[prop_or_default]
    pub(crate) on_back: Option<Callback<MouseEvent>>,
    /// Leave the wizard (hidden when None).
    #[prop_or_default]
    pub(crate) on_cancel: Option<Callback<MouseEvent>>,
    /// The primary action's label.
    #[prop_or_default]
    pub(crate) next_label: Option<AttrValue>,
    /// The primary action.
    #[prop_or_default]
    pub(crate) on_next: Option<Callback<MouseEvent>>,
}

/// See the module docs.
#[function_component]
pub(crate) fn Nav(props: &NavProps) -> Html {
    html! {
        <div class="tl-nav">
            if let Some(cb) = &props.on_back {
                <button type="button" class="tl-button tl-secondary" id="tl-back" onclick={cb.clone()}>{ "Back" }</button>
            }
            if let Some(cb) = &props.on_cancel {
                <button type="button" class="tl-button tl-link" id="tl-cancel" onclick={cb.clone()}>{ "Cancel" }</button>
            }
            <span class="tl-spacer"></span>
            if let (Some(cb), Some(label)) = (&props.on_next, &props.next_label) {
                <button type="button" class="tl-button tl-primary" id="tl-next" onclick={cb.clone()}>{ label.clone() }</button>
            }
        </div>
    }
}
