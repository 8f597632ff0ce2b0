//! The onboarding wizard (Yew, served by Trunk from the root `index.html`).
//!
//! Not built yet: issue 5 adds the wizard, its reducer and the embedding API. The crate is in the
//! workspace now so that its dependency on `trustline-core` is compiled and linted from day one.
