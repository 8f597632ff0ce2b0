//! The first step as the first module shows it on its own: the customer chooses how to connect
//! while the rest of the wizard (the second module: the later steps, the verify and STS calls,
//! the document builders) loads behind it, fetched once the first screen has painted. When a
//! kind is chosen and the rest has loaded, the first module hands over to it at the scope step
//! (the first screen's size budget: it needs only this). The state is a small pure reducer,
//! tested natively; the view is in `view`.

#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub(crate) mod view;

use trustline_core::IntegrationKind;

use crate::config::Config;
use crate::state::{Remote, Step};

/// The first step's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstStep {
    /// The kinds offered, safest first.
    pub kinds: Vec<IntegrationKind>,
    /// The chosen kind.
    pub kind: Option<IntegrationKind>,
    /// [`Step::Kind`], or [`Step::Scope`] once a kind is chosen (shown as "preparing" until the
    /// rest of the wizard takes over).
    pub step: Step,
    /// The rest of the wizard: not loaded, loading, loaded or failed.
    pub rest: Remote<()>,
}

/// Everything that happens in the first step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstAction {
    /// A kind card was chosen.
    Choose(IntegrationKind),
    /// Continue with the chosen kind.
    Next,
    /// Back to the choice (while the rest is loading, or after it failed).
    Back,
    /// The rest of the wizard started loading.
    Loading,
    /// The rest of the wizard loaded (and took over), or could not be loaded.
    Loaded(Result<(), String>),
}

impl FirstStep {
    /// The first step for `config`. With a single allowed kind the choice is made already, as
    /// in the wizard ([`crate::state::Wizard::new`]).
    pub fn new(config: &Config) -> Self {
        let single = (config.allowed_kinds.len() == 1).then(|| config.allowed_kinds[0]);
        FirstStep {
            kinds: config.allowed_kinds.clone(),
            kind: single,
            step: if single.is_some() { Step::Scope } else { Step::Kind },
            rest: Remote::Idle,
        }
    }

    /// Applies `action`.
    pub fn reduce(mut self, action: FirstAction) -> Self {
        match action {
            FirstAction::Choose(kind) if self.kinds.contains(&kind) => {
                self.kind = Some(kind);
                self.step = Step::Scope;
            }
            FirstAction::Next if self.kind.is_some() => self.step = Step::Scope,
            FirstAction::Back => self.step = Step::Kind,
            FirstAction::Loading => self.rest = Remote::Running,
            FirstAction::Loaded(result) => {
                self.rest = match result {
                    Ok(()) => Remote::Done(()),
                    Err(message) => Remote::Failed(message),
                }
            }
            FirstAction::Choose(_) | FirstAction::Next => {}
        }
        self
    }

    /// Whether to load the rest of the wizard when the step changes: at once (the view waits for
    /// the first paint), and after a failure again when the customer chooses a kind.
    pub fn wants_rest(&self) -> bool {
        match self.rest {
            Remote::Idle => true,
            Remote::Failed(_) => self.step == Step::Scope,
            Remote::Running | Remote::Done(()) => false,
        }
    }

    /// The kind to hand over with, once one is chosen and the rest of the wizard has loaded.
    pub fn hand_over(&self) -> Option<IntegrationKind> {
        self.kind.filter(|_| self.step == Step::Scope && self.rest == Remote::Done(()))
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use trustline_core::IntegrationKind::{CrossAccountRole, Sts};

    use super::*;
    use crate::config::Options;
    use crate::config::tests::{config, options};
    use crate::state::{Action, Wizard};

    fn run(s: FirstStep, actions: impl IntoIterator<Item = FirstAction>) -> FirstStep {
        actions.into_iter().fold(s, FirstStep::reduce)
    }

    #[test]
    fn the_rest_loads_at_once_and_takes_over_after_the_choice() {
        let s = FirstStep::new(&config());
        assert!(s.wants_rest() && s.hand_over().is_none());
        let s = run(s, [FirstAction::Loading]);
        assert!(!s.wants_rest(), "one load at a time");
        let s = run(s, [FirstAction::Loaded(Ok(()))]);
        assert_eq!(s.hand_over(), None, "nothing chosen yet");
        let s = run(s, [FirstAction::Next]);
        assert_eq!(s.step, Step::Kind, "Continue needs a kind");
        let s = run(s, [FirstAction::Choose(CrossAccountRole)]);
        assert_eq!((s.step, s.hand_over()), (Step::Scope, Some(CrossAccountRole)));
        // The wizard takes over where it would have been itself.
        let wizard = Wizard::new(Rc::new(config())).reduce(Action::ChooseKind(CrossAccountRole));
        assert_eq!((wizard.step, wizard.kind), (s.step, s.kind));
    }

    #[test]
    fn a_choice_made_while_loading_waits_and_a_failed_load_is_retried_on_the_next_choice() {
        let s = run(FirstStep::new(&config()), [FirstAction::Loading, FirstAction::Choose(Sts)]);
        assert_eq!((s.step, s.hand_over()), (Step::Scope, None));
        let s = run(s, [FirstAction::Loaded(Err("offline".into()))]);
        assert_eq!(s.rest, Remote::Failed("offline".into()), "shown, with Back");
        let s = run(s, [FirstAction::Back]);
        assert!(!s.wants_rest() && s.kind == Some(Sts), "not while choosing");
        let s = run(s, [FirstAction::Choose(CrossAccountRole)]);
        assert!(s.wants_rest(), "choosing again tries again");
        let s = run(s, [FirstAction::Loading, FirstAction::Loaded(Ok(()))]);
        assert_eq!(s.hand_over(), Some(CrossAccountRole));
    }

    #[test]
    fn only_offered_kinds_and_a_single_kind_is_chosen_already() {
        let one = Options { allowed_kinds: Some(vec!["sts".into()]), ..options() };
        let one = Config::from_options(one, |_| "x0000".parse()).unwrap();
        let s = FirstStep::new(&one);
        assert_eq!((s.step, s.kind), (Step::Scope, Some(Sts)));
        let wizard = Wizard::new(Rc::new(one));
        assert_eq!((wizard.step, wizard.kind), (s.step, s.kind));
        assert_eq!(run(s, [FirstAction::Choose(CrossAccountRole)]).kind, Some(Sts));
    }
}
