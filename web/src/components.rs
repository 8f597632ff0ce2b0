//! Reusable pieces of the wizard's UI, one component per file.

pub(crate) mod check_list;
pub(crate) mod code_block;
pub(crate) mod frame;
pub(crate) mod kind_card;
pub(crate) mod nav;
pub(crate) mod progress;
pub(crate) mod text_field;
