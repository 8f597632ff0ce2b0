//! A document with Copy and Download buttons. Downloads are built in the browser from a Blob,
//! so nothing about the customer's account leaves the page.

use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::bindings;
use crate::documents::Document;

/// Properties of [`CodeBlock`].
#[derive(Properties, PartialEq)]
pub(crate) struct CodeBlockProps {
    /// The document.
    pub(crate) doc: Document,
    /// Start collapsed (long templates).
    #[prop_or_default]
    pub(crate) collapsed: bool,
}

/// Saves `body` as `file_name` through an object URL.
pub(crate) fn download(file_name: &str, mime: &str, body: &str) -> Result<(), wasm_bindgen::JsValue> {
    let parts = js_sys::Array::of1(&body.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = document.create_element("a")?.unchecked_into();
    a.set_href(&url);
    a.set_download(file_name);
    a.click();
    web_sys::Url::revoke_object_url(&url)
}

/// See the module docs.
#[function_component]
pub(crate) fn CodeBlock(props: &CodeBlockProps) -> Html {
    let status = use_state(String::new);
    let doc = &props.doc;
    let oncopy = {
        let (status, body) = (status.clone(), doc.body.clone());
        Callback::from(move |_: MouseEvent| {
            let ok = bindings::write_text(&body).is_ok();
            status.set(if ok {
                "Copied to the clipboard".into()
            } else {
                "Copy failed: select the text and copy it".into()
            });
        })
    };
    let ondownload = {
        let (status, doc) = (status.clone(), doc.clone());
        Callback::from(move |_: MouseEvent| {
            let ok = download(&doc.file_name, &doc.mime, &doc.body).is_ok();
            status.set(if ok { format!("Downloaded {}", doc.file_name) } else { "Download failed".into() });
        })
    };
    let body =
        html! { <pre tabindex="0" aria-label={doc.title.clone()}><code>{ doc.body.clone() }</code></pre> };
    html! {
        <section class="tl-doc" id={format!("tl-doc-{}", doc.id)}>
            <div class="tl-doc-head">
                <h4>{ doc.title.clone() }</h4>
                <button type="button" class="tl-button tl-small" onclick={oncopy}
                    aria-label={format!("Copy {}", doc.title)}>{ "Copy" }</button>
                <button type="button" class="tl-button tl-small" onclick={ondownload}
                    aria-label={format!("Download {}", doc.file_name)}>{ "Download" }</button>
            </div>
            <p class="tl-sr-status" role="status">{ (*status).clone() }</p>
            if props.collapsed {
                <details><summary>{ "Show" }</summary>{ body }</details>
            } else {
                { body }
            }
        </section>
    }
}
