//! Step 2: one account or an Organization, regions, data sets and optional hardening. Fields
//! are checked by core as the customer types.

use trustline_core::IntegrationKind;
use trustline_core::cfn::stackset::CallAs;
use trustline_core::policy::permissions::DataSet;
use trustline_core::policy::trust::ComputeService;
use yew::prelude::*;

use super::{StepProps, on};
use crate::components::nav::Nav;
use crate::components::text_field::TextField;
use crate::state::{Action, ScopeField, Wizard};

fn field(
    w: &UseReducerHandle<Wizard>,
    f: ScopeField,
    label: &'static str,
    hint: &'static str,
    placeholder: &'static str,
) -> Html {
    let d = w.dispatcher();
    let errors = w.scope_errors();
    html! {
        <TextField id={format!("tl-{}", f.id())} label={label} hint={Some(AttrValue::Static(hint))}
            placeholder={Some(AttrValue::Static(placeholder))}
            value={w.scope.text(f).to_owned()} error={errors.get(&f).cloned()}
            oninput={Callback::from(move |text| d.dispatch(Action::SetScopeText(f, text)))} />
    }
}

fn radio(
    name: &'static str,
    id: &'static str,
    label: &'static str,
    checked: bool,
    onchange: Callback<Event>,
) -> Html {
    html! {
        <label class="tl-choice" for={id}>
            <input type="radio" {name} {id} {checked} {onchange} />
            { label }
        </label>
    }
}

/// See the module docs.
#[function_component]
pub(crate) fn ScopeStep(props: &StepProps) -> Html {
    let w = &props.wizard;
    let kind = w.kind.unwrap_or(IntegrationKind::CrossAccountRole);
    let role = kind == IntegrationKind::CrossAccountRole;
    let org = w.scope.organization && role;
    let errors = w.scope_errors();
    let hardening_open =
        !(w.scope.source_ips.is_empty() && w.scope.source_vpce.is_empty() && w.scope.org_id.is_empty());
    let data_sets: Vec<DataSet> = if org {
        vec![DataSet::Iam, DataSet::Ec2Network, DataSet::CloudTrail, DataSet::Organizations]
    } else {
        DataSet::INVENTORY.to_vec()
    };
    let data_error = errors.get(&ScopeField::DataSets).cloned();
    html! {
        <>
            if role {
                <fieldset class="tl-fieldset">
                    <legend>{ "What to connect" }</legend>
                    { radio("tl-target", "tl-one-account", "One AWS account", !org, on(w, || Action::SetOrganization(false))) }
                    { radio("tl-target", "tl-organization", "A whole AWS Organization (StackSet to every account)", org, on(w, || Action::SetOrganization(true))) }
                </fieldset>
            }
            if org {
                { field(w, ScopeField::Targets, "Where to deploy", "The root ID (r-…) for every account, or OU IDs (ou-…), separated by commas. Organizations console, AWS accounts.", "r-ab12") }
                <fieldset class="tl-fieldset">
                    <legend>{ "Who creates the StackSet" }</legend>
                    { radio("tl-call-as", "tl-call-as-management", "The management account", w.scope.call_as == CallAs::ManagementAccount, on(w, || Action::SetCallAs(CallAs::ManagementAccount))) }
                    { radio("tl-call-as", "tl-call-as-delegated", "A delegated administrator", w.scope.call_as == CallAs::DelegatedAdmin, on(w, || Action::SetCallAs(CallAs::DelegatedAdmin))) }
                </fieldset>
            }
            if kind == IntegrationKind::SameAccountRole {
                <fieldset class="tl-fieldset">
                    <legend>{ "Where the vendor's software runs" }</legend>
                    { radio("tl-compute", "tl-compute-ec2", "EC2 instance", w.scope.compute == ComputeService::Ec2, on(w, || Action::SetCompute(ComputeService::Ec2))) }
                    { radio("tl-compute", "tl-compute-ecs", "ECS task", w.scope.compute == ComputeService::EcsTasks, on(w, || Action::SetCompute(ComputeService::EcsTasks))) }
                    { radio("tl-compute", "tl-compute-lambda", "Lambda function", w.scope.compute == ComputeService::Lambda, on(w, || Action::SetCompute(ComputeService::Lambda))) }
                </fieldset>
            }
            { field(w, ScopeField::AccountId, if org { "Management account ID (optional)" } else { "Your AWS account ID (optional)" },
                "12 digits, shown under your account name in the console. With it you also get console-ready policies and an AWS CLI script.", "123456789012") }
            { field(w, ScopeField::Regions, "Regions", "Regions to read EC2 and CloudTrail from, separated by commas. Leave empty for every region.", "us-east-1, eu-west-1") }
            <fieldset class="tl-fieldset" aria-describedby="tl-data-sets-error" aria-invalid={if data_error.is_some() { "true" } else { "false" }}>
                <legend>{ "Data to share (read-only)" }</legend>
                { for data_sets.into_iter().map(|set| {
                    let id = format!("tl-data-{}", set.id());
                    html! {
                        <label class="tl-choice" for={id.clone()}>
                            <input type="checkbox" id={id} checked={w.scope.data_sets.contains(&set)}
                                onchange={on(w, move || Action::ToggleDataSet(set))} />
                            { set.description() }
                        </label>
                    }
                }) }
                <p class="tl-error" id="tl-data-sets-error" aria-live="polite">{ data_error.unwrap_or_default() }</p>
            </fieldset>
            if kind != IntegrationKind::SameAccountRole {
                <details class="tl-hardening" open={hardening_open}>
                    <summary>{ "Optional hardening" }</summary>
                    { field(w, ScopeField::SourceIps, "Vendor source IP ranges", "Only accept calls from these public ranges (CIDR), separated by commas.", "203.0.113.0/24") }
                    if role {
                        { field(w, ScopeField::SourceVpce, "VPC endpoints", "Only accept calls through these VPC endpoints (not together with IP ranges).", "vpce-0a1b2c3d4e5f67890") }
                        { field(w, ScopeField::OrgId, "Vendor's organization ID", "Only the vendor's AWS Organization may assume the role.", "o-a1b2c3d4e5") }
                    }
                </details>
            }
            <Nav on_back={on(w, || Action::Back)} on_cancel={props.on_cancel.clone()}
                next_label={AttrValue::Static("Continue")} on_next={on(w, || Action::Next)} />
        </>
    }
}
