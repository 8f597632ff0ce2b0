//! One integration kind as a card, from core's data: security level, best for, what setup
//! includes and the risks. The whole card is one button, so one click (or Enter) chooses it.

use trustline_core::IntegrationKind;
use yew::prelude::*;

/// Properties of [`KindCard`].
#[derive(Properties, PartialEq)]
pub(crate) struct KindCardProps {
    /// The kind shown.
    pub(crate) kind: IntegrationKind,
    /// Whether it is the current choice.
    pub(crate) selected: bool,
    /// Called when chosen.
    pub(crate) onchoose: Callback<IntegrationKind>,
}

/// See the module docs.
#[function_component]
pub(crate) fn KindCard(props: &KindCardProps) -> Html {
    let info = props.kind.info();
    let onclick = {
        let (cb, kind) = (props.onchoose.clone(), props.kind);
        Callback::from(move |_: MouseEvent| cb.emit(kind))
    };
    let stars = format!(
        "{}{}",
        "★".repeat(info.security_stars.into()),
        "☆".repeat(5 - usize::from(info.security_stars))
    );
    let desc_id = format!("tl-kind-{}-desc", info.id);
    html! {
        <li class={classes!("tl-card", info.recommended.then_some("tl-recommended"), props.selected.then_some("tl-selected"))}>
            <button type="button" id={format!("tl-kind-{}", info.id)} class="tl-card-button" aria-describedby={desc_id.clone()}
                aria-pressed={if props.selected { "true" } else { "false" }} {onclick}>
                if info.recommended { <span class="tl-tag">{ "Recommended" }</span> }
                <span class="tl-card-title">{ info.title }</span>
                <span class="tl-stars" aria-label={format!("Security {} of 5", info.security_stars)}>{ stars }</span>
            </button>
            <div id={desc_id} class="tl-card-body">
                <p><strong>{ "Best for: " }</strong>{ info.best_for }</p>
                <details>
                    <summary>{ "What setup includes, and the risks" }</summary>
                    <ul>{ for info.setup_includes.iter().map(|s| html! { <li>{ *s }</li> }) }</ul>
                    <p><strong>{ "Risks" }</strong></p>
                    <ul class="tl-risks">{ for info.risks.iter().map(|s| html! { <li>{ *s }</li> }) }</ul>
                </details>
            </div>
        </li>
    }
}
