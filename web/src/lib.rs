//! The onboarding wizard (Yew, served by Trunk from the root `index.html`) and its JS API.
//!
//! Natively this crate is the wizard's pure half — options, the reducer and the documents it
//! shows — so `cargo nextest` tests every transition without a browser. For wasm32 it is built
//! twice: with `ui` (the default) it is the wizard and the JS API (`trustline-web.js`); with
//! `documents` it is the document builders the wizard loads after the first step
//! (`trustline-web-documents.js`, see [`documents`]).

#[cfg(all(target_arch = "wasm32", feature = "ui", feature = "documents"))]
compile_error!(
    "build the wizard (feature `ui`) and the documents module (`--no-default-features --features documents`) separately"
);
#[cfg(all(target_arch = "wasm32", not(feature = "ui"), not(feature = "documents")))]
compile_error!("a wasm32 build needs feature `ui` (the wizard) or `documents` (the documents module)");

pub mod config;
pub mod documents;
pub mod json;
pub mod keys;
pub mod state;

#[cfg(target_arch = "wasm32")]
mod js;

#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub mod api;
#[cfg(all(target_arch = "wasm32", feature = "ui"))]
mod app;
#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub mod bindings;
#[cfg(all(target_arch = "wasm32", feature = "ui"))]
mod components;
#[cfg(all(target_arch = "wasm32", feature = "ui"))]
mod remote;
#[cfg(all(target_arch = "wasm32", feature = "ui"))]
mod steps;
