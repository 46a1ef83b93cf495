//! One module per `flotilla` sub-command.
pub mod build;
pub mod release;
