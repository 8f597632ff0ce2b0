//! A labelled text input whose hint and error are tied to it for screen readers
//! (`aria-describedby`, `aria-invalid`), with the error announced as it appears.

use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Properties of [`TextField`].
#[derive(Properties, PartialEq)]
pub(crate) struct TextFieldProps {
    /// DOM id of the input (`tl-…`).
    pub(crate) id: AttrValue,
    /// The visible label.
    pub(crate) label: AttrValue,
    /// The current text.
    pub(crate) value: AttrValue,
    /// Help under the label.
    #[prop_or_default]
    pub(crate) hint: Option<AttrValue>,
    /// The error to show, if any.
    #[prop_or_default]
    pub(crate) error: Option<String>,
    /// `password` for secrets.
    #[prop_or(AttrValue::Static("text"))]
    pub(crate) input_type: AttrValue,
    /// Placeholder example.
    #[prop_or_default]
    pub(crate) placeholder: Option<AttrValue>,
    /// `autocomplete` attribute (`off` for keys).
    #[prop_or(AttrValue::Static("off"))]
    pub(crate) autocomplete: AttrValue,
    /// Called with the new text on every keystroke.
    pub(crate) oninput: Callback<String>,
}

/// See the module docs.
#[function_component]
pub(crate) fn TextField(props: &TextFieldProps) -> Html {
    let oninput = {
        let cb = props.oninput.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            cb.emit(input.value());
        })
    };
    let hint_id = format!("{}-hint", props.id);
    let error_id = format!("{}-error", props.id);
    let described =
        [props.hint.as_ref().map(|_| hint_id.clone()), props.error.as_ref().map(|_| error_id.clone())]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
    let invalid = if props.error.is_some() { "true" } else { "false" };
    html! {
        <div class={classes!("tl-field", props.error.as_ref().map(|_| "tl-field-invalid"))}>
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            if let Some(hint) = &props.hint {
                <p class="tl-hint" id={hint_id}>{ hint.clone() }</p>
            }
            <input
                id={props.id.clone()}
                type={props.input_type.clone()}
                value={props.value.clone()}
                placeholder={props.placeholder.clone()}
                autocomplete={props.autocomplete.clone()}
                spellcheck="false"
                autocapitalize="off"
                aria-invalid={invalid}
                aria-describedby={(!described.is_empty()).then_some(described)}
                {oninput}
            />
            <p class="tl-error" id={error_id} aria-live="polite">
                { props.error.clone().unwrap_or_default() }
            </p>
        </div>
    }
}
