//! The onboarding wizard (Yew, served by Trunk from the root `index.html`) and its JS API.
//!
//! Natively this crate is the wizard's pure half — options, the reducer, the documents it shows
//! and the first step's static markup (`first_step`, which the page shows before the wasm module
//! arrives) — so `cargo nextest` tests every transition without a browser. For wasm32 it is one
//! module: `mount()`, the helpers and every step.

pub mod config;
pub mod documents;
pub mod first_step;
pub mod keys;
pub mod state;

#[cfg(target_arch = "wasm32")]
pub mod api;
#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod bindings;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod host;
#[cfg(target_arch = "wasm32")]
mod js;
#[cfg(target_arch = "wasm32")]
mod remote;
#[cfg(target_arch = "wasm32")]
mod steps;
