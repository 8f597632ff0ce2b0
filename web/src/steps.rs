//! The wizard's screens, one file each. Every step after the first reads the whole state and
//! dispatches actions; none keeps input of its own, which is why Back and Next never lose
//! anything. The first step is also shown by the first module on its own (`first_step`).

#[cfg(feature = "documents")]
pub(crate) mod access;
#[cfg(feature = "documents")]
pub(crate) mod connect;
#[cfg(feature = "documents")]
pub(crate) mod done;
pub(crate) mod kind;
#[cfg(feature = "documents")]
pub(crate) mod scope;

#[cfg(feature = "documents")]
pub(crate) use self::later::{StepProps, on};

#[cfg(feature = "documents")]
mod later {
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
}
