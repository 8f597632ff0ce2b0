//! The onboarding wizard (Yew, served by Trunk from the root `index.html`) and its JS API.
//!
//! Natively this crate is the wizard's pure half — options, the reducer and the documents it
//! shows — so `cargo nextest` tests every transition without a browser. The UI, the network
//! calls and the wasm-bindgen exports compile for `wasm32` only.

pub mod config;
pub mod documents;
pub mod keys;
pub mod state;

#[cfg(target_arch = "wasm32")]
pub mod api;
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
pub mod bindings;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod remote;
#[cfg(target_arch = "wasm32")]
mod steps;
