//! After the harm: when a user says they already paid or gave away a code, the ordered steps that can
//! still save their money, with the hotline of their bank. Pure; no model takes part.

pub mod harm;
pub mod hotlines;
pub mod playbook;

pub use harm::{Harm, harm_in};
pub use playbook::{Playbook, playbook};
