//! The progress indicator: every step, the current one marked for screen readers.

use yew::prelude::*;

use crate::state::Step;

/// Properties of [`Progress`].
#[derive(Properties, PartialEq)]
pub(crate) struct ProgressProps {
    /// The current step.
    pub(crate) step: Step,
}

/// See the module docs.
#[function_component]
pub(crate) fn Progress(props: &ProgressProps) -> Html {
    let current = props.step as usize;
    html! {
        <nav class="tl-progress" aria-label="Progress">
            <ol>
                { for Step::ALL.iter().enumerate().map(|(i, step)| {
                    let state = if i < current { "tl-done" } else if i == current { "tl-current" } else { "tl-todo" };
                    html! {
                        <li class={state} aria-current={(i == current).then_some("step")}>
                            <span class="tl-step-number" aria-hidden="true">{ i + 1 }</span>
                            <span class="tl-step-title">{ step.title() }</span>
                            if i < current { <span class="tl-sr-only">{ " (completed)" }</span> }
                        </li>
                    }
                }) }
            </ol>
            <p class="tl-sr-only" aria-live="polite">
                { format!("Step {} of {}: {}", current + 1, Step::ALL.len(), props.step.title()) }
            </p>
        </nav>
    }
}
