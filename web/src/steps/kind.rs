//! Step 1: how to connect, as cards from core's data; the safest kind first and recommended.

use yew::prelude::*;

use super::{StepProps, on};
use crate::components::kind_card::KindCard;
use crate::components::nav::Nav;
use crate::state::Action;

/// See the module docs.
#[function_component]
pub(crate) fn KindStep(props: &StepProps) -> Html {
    let w = &props.wizard;
    let onchoose = {
        let d = w.dispatcher();
        Callback::from(move |kind| d.dispatch(Action::ChooseKind(kind)))
    };
    html! {
        <>
            <p>{ "Choose how to give access. The recommended option shares no secret and takes one click in the AWS console." }</p>
            <ul class="tl-cards">
                { for w.config.allowed_kinds.iter().map(|kind| html! {
                    <KindCard kind={*kind} selected={w.kind == Some(*kind)} onchoose={onchoose.clone()} />
                }) }
            </ul>
            <Nav on_cancel={props.on_cancel.clone()}
                next_label={w.kind.map(|_| AttrValue::Static("Continue"))}
                on_next={w.kind.map(|_| on(w, || Action::Next))} />
        </>
    }
}
