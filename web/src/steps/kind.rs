//! Step 1: how to connect, as cards from core's data; the safest kind first and recommended.
//! The page shows the same step as static markup before the module arrives (`first_step`).

use trustline_core::IntegrationKind;
use yew::prelude::*;

use crate::components::kind_card::KindCard;
use crate::components::nav::Nav;

/// Properties of [`KindStep`].
#[derive(Properties, PartialEq)]
pub(crate) struct KindStepProps {
    /// The kinds offered, safest first.
    pub(crate) kinds: Vec<IntegrationKind>,
    /// The chosen kind.
    pub(crate) selected: Option<IntegrationKind>,
    /// A card was chosen.
    pub(crate) onchoose: Callback<IntegrationKind>,
    /// Continue with the chosen kind (shown once there is one).
    pub(crate) on_next: Callback<MouseEvent>,
    /// The Cancel button.
    pub(crate) on_cancel: Callback<MouseEvent>,
}

/// See the module docs.
#[function_component]
pub(crate) fn KindStep(props: &KindStepProps) -> Html {
    let chosen = props.selected.is_some();
    html! {
        <>
            <p>{ "Choose how to give access. The recommended option shares no secret and takes one click in the AWS console." }</p>
            <ul class="tl-cards">
                { for props.kinds.iter().map(|kind| html! {
                    <KindCard kind={*kind} selected={props.selected == Some(*kind)} onchoose={props.onchoose.clone()} />
                }) }
            </ul>
            <Nav on_cancel={props.on_cancel.clone()}
                next_label={chosen.then_some(AttrValue::Static("Continue"))}
                on_next={chosen.then(|| props.on_next.clone())} />
        </>
    }
}
