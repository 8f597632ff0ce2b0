//! Reusable pieces of the wizard's UI, one component per file. Both modules render the frame
//! and the first step's pieces; the rest only the second.

#[cfg(feature = "documents")]
pub(crate) mod check_list;
#[cfg(feature = "documents")]
pub(crate) mod code_block;
pub(crate) mod frame;
pub(crate) mod kind_card;
pub(crate) mod nav;
pub(crate) mod progress;
#[cfg(feature = "documents")]
pub(crate) mod text_field;
