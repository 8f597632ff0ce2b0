//! The wizard's state and its pure reducer: every click and keystroke is an [`Action`], and
//! [`Wizard::reduce`] is the only place the state changes. Network calls run outside and report
//! back with `…Finished` actions tagged with the input generation they were made for, so a
//! result for input the customer has since edited is dropped.

mod handoff;
mod scope;
#[cfg(test)]
mod tests;
mod verify;

use std::rc::Rc;

use trustline_core::cfn::stackset::CallAs;
use trustline_core::policy::permissions::DataSet;
use trustline_core::policy::trust::ComputeService;
use trustline_core::{IntegrationKind, RoleArn, Secret};

pub use self::handoff::{Completion, VerifyBody};
pub use self::scope::{FieldErrors, Scope, ScopeField, ScopeInput};
pub use self::verify::{Check, CheckReport, CheckStatus, Verdict, VerifyReport, parse_verify_response};
use crate::config::Config;
use crate::keys::{self, KeyIdentity};

/// The screens, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// Choose how to connect.
    Kind,
    /// One account or an Organization, regions, data, hardening.
    Scope,
    /// Create the role or user in AWS.
    Access,
    /// Paste the role ARN or key, and verify.
    Connect,
    /// Summary; the result went to the host.
    Done,
}

impl Step {
    /// Every step, for the progress indicator.
    pub const ALL: [Step; 5] = [Step::Kind, Step::Scope, Step::Access, Step::Connect, Step::Done];

    /// The step's name in the progress indicator.
    pub fn title(self) -> &'static str {
        match self {
            Step::Kind => "Choose how",
            Step::Scope => "Scope",
            Step::Access => "Create access",
            Step::Connect => "Connect & verify",
            Step::Done => "Done",
        }
    }

    /// Stable id, for the wizard's `data-step` attribute (styles, tests).
    pub fn id(self) -> &'static str {
        match self {
            Step::Kind => "kind",
            Step::Scope => "scope",
            Step::Access => "access",
            Step::Connect => "connect",
            Step::Done => "done",
        }
    }

    fn prev(self) -> Step {
        (self as usize).checked_sub(1).map_or(Step::Kind, |i| Step::ALL[i])
    }
}

/// A call the page makes (key check, verify) and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote<T> {
    /// Not started, or reset by an edit.
    Idle,
    /// In flight.
    Running,
    /// Answered.
    Done(T),
    /// Failed, with a message the customer can act on.
    Failed(String),
}

impl<T> Remote<T> {
    /// The answer, if there is one.
    pub fn done(&self) -> Option<&T> {
        match self {
            Remote::Done(v) => Some(v),
            _ => None,
        }
    }
}

/// The connect step's fields. The secret lives only here, in memory, in a type that redacts
/// itself in `Debug` and zeroizes when dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectInput {
    /// The role ARN as typed.
    pub role_arn: String,
    /// The access key ID as typed.
    pub access_key_id: String,
    /// The secret access key as typed.
    pub secret: Secret,
    /// Whether the customer tried to continue (empty fields then show their errors too).
    pub submitted: bool,
}

impl Default for ConnectInput {
    fn default() -> Self {
        ConnectInput {
            role_arn: String::new(),
            access_key_id: String::new(),
            secret: Secret::new(""),
            submitted: false,
        }
    }
}

/// A field of the connect step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectField {
    /// The role ARN.
    RoleArn,
    /// The access key ID.
    AccessKeyId,
    /// The secret access key.
    Secret,
}

/// Everything that happens in the wizard.
#[derive(Debug)]
pub enum Action {
    /// A kind card was chosen; the wizard moves on to the scope.
    ChooseKind(IntegrationKind),
    /// Forward, when the current step is complete (otherwise its errors are shown).
    Next,
    /// Back one step, keeping every input.
    Back,
    /// The customer opened the Launch-stack link; the next thing to do is paste the RoleArn.
    Launched,
    /// Scope: one account (false) or the Organization (true).
    SetOrganization(bool),
    /// Scope: a text field changed.
    SetScopeText(ScopeField, String),
    /// Scope: a data set was ticked or unticked.
    ToggleDataSet(DataSet),
    /// Scope: who creates the StackSet.
    SetCallAs(CallAs),
    /// Scope: where the vendor's software runs.
    SetCompute(ComputeService),
    /// Connect: the role ARN changed.
    SetRoleArn(String),
    /// Connect: the access key ID changed.
    SetAccessKeyId(String),
    /// Connect: the secret changed.
    SetSecret(Secret),
    /// The browser's STS call started.
    KeyCheckStarted,
    /// The browser's STS call answered.
    KeyCheckFinished {
        /// The input generation the check was made for.
        generation: u32,
        /// Who the key belongs to, or what went wrong.
        result: Result<KeyIdentity, String>,
    },
    /// The verify call started.
    VerifyStarted,
    /// The verify call answered.
    VerifyFinished {
        /// The input generation the call was made for.
        generation: u32,
        /// The verify API's answer, or what went wrong.
        result: Result<VerifyReport, String>,
    },
    /// The wizard is closing: drop the key from memory.
    ClearSecrets,
}

/// The whole state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wizard {
    /// The host's validated options.
    pub config: Rc<Config>,
    /// The current screen.
    pub step: Step,
    /// The chosen kind.
    pub kind: Option<IntegrationKind>,
    /// Scope fields.
    pub scope: ScopeInput,
    /// Whether the customer tried to leave the scope step.
    pub scope_submitted: bool,
    /// Connect fields.
    pub connect: ConnectInput,
    /// The browser's key check.
    pub key_check: Remote<KeyIdentity>,
    /// The verify API call.
    pub verify: Remote<VerifyReport>,
    /// Bumped on every edit that makes a running or finished call stale.
    pub generation: u32,
}

impl Wizard {
    /// A fresh wizard. With a single allowed kind, the choice is made already.
    pub fn new(config: Rc<Config>) -> Self {
        let single = (config.allowed_kinds.len() == 1).then(|| config.allowed_kinds[0]);
        Wizard {
            scope: ScopeInput::new(&config.default_regions),
            config,
            step: if single.is_some() { Step::Scope } else { Step::Kind },
            kind: single,
            scope_submitted: false,
            connect: ConnectInput::default(),
            key_check: Remote::Idle,
            verify: Remote::Idle,
            generation: 0,
        }
    }

    /// Applies `action`; the reducer behind Yew's `use_reducer`.
    pub fn reduce(mut self, action: Action) -> Self {
        match action {
            Action::ChooseKind(kind) if self.config.allowed_kinds.contains(&kind) => {
                if self.kind != Some(kind) {
                    self.kind = Some(kind);
                    self.invalidate(true);
                }
                self.step = Step::Scope;
            }
            Action::ChooseKind(_) => {}
            Action::Next => match self.step {
                Step::Kind if self.kind.is_some() => self.step = Step::Scope,
                Step::Kind => {}
                Step::Scope => match self.parsed_scope() {
                    Some(Ok(_)) => self.step = Step::Access,
                    _ => self.scope_submitted = true,
                },
                Step::Access => self.step = Step::Connect,
                Step::Connect if self.can_finish() => self.step = Step::Done,
                Step::Connect => self.connect.submitted = true,
                Step::Done => {}
            },
            Action::Back if self.step != Step::Done => self.step = self.step.prev(),
            Action::Back => {}
            Action::Launched if self.step == Step::Access => self.step = Step::Connect,
            Action::Launched => {}
            Action::SetOrganization(on) => {
                self.scope.organization = on;
                self.invalidate(false);
            }
            Action::SetScopeText(field, text) => {
                let slot = match field {
                    ScopeField::AccountId => &mut self.scope.account_id,
                    ScopeField::Regions => &mut self.scope.regions,
                    ScopeField::SourceIps => &mut self.scope.source_ips,
                    ScopeField::SourceVpce => &mut self.scope.source_vpce,
                    ScopeField::OrgId => &mut self.scope.org_id,
                    ScopeField::Targets => &mut self.scope.targets,
                    ScopeField::DataSets => return self,
                };
                *slot = text;
                self.invalidate(false);
            }
            Action::ToggleDataSet(set) => {
                if !self.scope.data_sets.remove(&set) {
                    self.scope.data_sets.insert(set);
                }
                self.invalidate(false);
            }
            Action::SetCallAs(call_as) => self.scope.call_as = call_as,
            Action::SetCompute(compute) => self.scope.compute = compute,
            Action::SetRoleArn(arn) => {
                self.connect.role_arn = arn;
                self.invalidate(false);
            }
            Action::SetAccessKeyId(id) => {
                self.connect.access_key_id = id;
                self.invalidate(true);
            }
            Action::SetSecret(secret) => {
                self.connect.secret = secret;
                self.invalidate(true);
            }
            Action::KeyCheckStarted if self.keys_ready() => self.key_check = Remote::Running,
            Action::KeyCheckStarted => self.connect.submitted = true,
            Action::KeyCheckFinished { generation, result } if generation == self.generation => {
                self.key_check = match result {
                    Ok(id) => Remote::Done(id),
                    Err(message) => Remote::Failed(message),
                };
            }
            Action::KeyCheckFinished { .. } => {}
            Action::VerifyStarted if self.can_verify() => self.verify = Remote::Running,
            Action::VerifyStarted => self.connect.submitted = true,
            Action::VerifyFinished { generation, result } if generation == self.generation => {
                self.verify = match result {
                    Ok(r) => Remote::Done(r),
                    Err(message) => Remote::Failed(message),
                };
            }
            Action::VerifyFinished { .. } => {}
            Action::ClearSecrets => {
                self.connect.secret = Secret::new("");
                self.connect.access_key_id.clear();
                self.invalidate(true);
            }
        }
        self
    }

    /// Any edit makes earlier verify results stale; edits to the key also its check.
    fn invalidate(&mut self, key_too: bool) {
        self.generation = self.generation.wrapping_add(1);
        self.verify = Remote::Idle;
        if key_too {
            self.key_check = Remote::Idle;
        }
    }

    /// The scope parsed for the chosen kind (None before a kind is chosen).
    pub fn parsed_scope(&self) -> Option<Result<Scope, FieldErrors>> {
        self.kind.map(|kind| self.scope.parse(kind, &self.config))
    }

    /// The errors to show in the scope step: invalid text at once, missing input after a try.
    pub fn scope_errors(&self) -> FieldErrors {
        let Some(Err(errors)) = self.parsed_scope() else { return FieldErrors::new() };
        errors
            .into_iter()
            .filter(|(field, _)| {
                self.scope_submitted || *field == ScopeField::DataSets || !self.scope.text(*field).is_empty()
            })
            .collect()
    }

    /// Whether this kind asks for a role ARN.
    pub fn needs_role_arn(&self) -> bool {
        matches!(
            self.kind,
            Some(IntegrationKind::CrossAccountRole | IntegrationKind::Sts | IntegrationKind::SameAccountRole)
        )
    }

    /// Whether this kind asks for an access key.
    pub fn needs_keys(&self) -> bool {
        matches!(self.kind, Some(IntegrationKind::Sts | IntegrationKind::AccessKey))
    }

    /// The role ARN, parsed by core.
    pub fn role_arn(&self) -> Result<RoleArn, String> {
        self.connect.role_arn.parse::<RoleArn>().map_err(|e| e.message().to_owned())
    }

    /// A connect field's error, shown as soon as the field has text (or after a try).
    pub fn connect_error(&self, field: ConnectField) -> Option<String> {
        let (text, result) = match field {
            ConnectField::RoleArn if self.needs_role_arn() => {
                (self.connect.role_arn.as_str(), self.role_arn().map(|_| ()))
            }
            ConnectField::AccessKeyId if self.needs_keys() => {
                (self.connect.access_key_id.as_str(), keys::check_access_key_id(&self.connect.access_key_id))
            }
            ConnectField::Secret if self.needs_keys() => {
                (self.connect.secret.expose(), keys::check_secret(self.connect.secret.expose()))
            }
            _ => return None,
        };
        if text.is_empty() && !self.connect.submitted {
            return None;
        }
        result.err()
    }

    /// Whether the key's shape is right, so the browser may check it with STS.
    pub fn keys_ready(&self) -> bool {
        self.needs_keys()
            && keys::check_access_key_id(&self.connect.access_key_id).is_ok()
            && keys::check_secret(self.connect.secret.expose()).is_ok()
    }

    /// Whether the key was checked and is not a root key.
    fn key_accepted(&self) -> bool {
        self.key_check.done().is_some_and(|id| !id.is_root())
    }

    fn inputs_ready(&self) -> bool {
        (!self.needs_role_arn() || self.role_arn().is_ok()) && (!self.needs_keys() || self.key_accepted())
    }

    /// Whether the kind is verified by the host's API (the same-account role is checked by the
    /// vendor's software inside the account instead).
    pub fn verifies_remotely(&self) -> bool {
        self.config.session.is_some() && self.kind.is_some_and(|k| k != IntegrationKind::SameAccountRole)
    }

    /// Whether the verify button may be used now.
    pub fn can_verify(&self) -> bool {
        self.verifies_remotely() && self.inputs_ready() && self.verify != Remote::Running
    }

    /// Whether the customer may finish.
    pub fn can_finish(&self) -> bool {
        if !self.inputs_ready() {
            return false;
        }
        if self.verifies_remotely() {
            return self.verify.done().is_some_and(|r| r.verdict == Verdict::Verified);
        }
        true
    }
}

#[cfg(target_arch = "wasm32")]
impl yew::Reducible for Wizard {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new(Rc::unwrap_or_clone(self).reduce(action))
    }
}
