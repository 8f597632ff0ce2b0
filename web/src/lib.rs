//! The onboarding wizard (Yew, served by Trunk from the root `index.html`) and its JS API.
//!
//! Natively this crate is the wizard's pure half — options, the reducers and the documents it
//! shows — so `cargo nextest` tests every transition without a browser. For wasm32 it is built
//! twice: with `ui` (the default) it is the JS API and the first step (`trustline-web.js`);
//! with `documents` it is the rest of the wizard and the document builders, which the first
//! module fetches once it has painted and hands over to (`trustline-web-documents.js`, see
//! [`first_step`]).

#[cfg(all(target_arch = "wasm32", feature = "ui", feature = "documents"))]
compile_error!(
    "build the first module (feature `ui`) and the second (`--no-default-features --features documents`) separately"
);
#[cfg(all(target_arch = "wasm32", not(feature = "ui"), not(feature = "documents")))]
compile_error!("a wasm32 build needs feature `ui` (the first step) or `documents` (the rest of the wizard)");

pub mod config;
pub mod documents;
pub mod first_step;
pub mod json;
pub mod keys;
pub mod state;

#[cfg(target_arch = "wasm32")]
pub mod bindings;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod host;
#[cfg(target_arch = "wasm32")]
mod js;
#[cfg(target_arch = "wasm32")]
mod steps;

#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub mod api;

#[cfg(all(target_arch = "wasm32", feature = "documents"))]
pub mod app;
#[cfg(all(target_arch = "wasm32", feature = "documents"))]
mod remote;
