//! The wizard's screens, one file each. Every step reads the whole state and dispatches
//! actions; none keeps input of its own, which is why Back and Next never lose anything.

pub(crate) mod access;
pub(crate) mod connect;
pub(crate) mod done;
pub(crate) mod kind;
pub(crate) mod scope;

use yew::prelude::*;

use crate::state::Wizard;

/// What every step after the first gets.
#[derive(Properties, PartialEq)]
pub(crate) struct StepProps {
    /// The state and its dispatcher.
    pub(crate) wizard: UseReducerHandle<Wizard>,
    /// The Cancel button.
    pub(crate) on_cancel: Callback<MouseEvent>,
}

/// A callback that dispatches the action `make` builds, ignoring the event.
pub(crate) fn on<E: 'static>(
    wizard: &UseReducerHandle<Wizard>,
    make: impl Fn() -> crate::state::Action + 'static,
) -> Callback<E> {
    let dispatcher = wizard.dispatcher();
    Callback::from(move |_: E| dispatcher.dispatch(make()))
}
