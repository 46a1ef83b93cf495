//! One module per `flotilla` sub-command.
pub mod apiserver;
pub mod build;
pub mod connect;
pub mod controllers;
pub mod fleet;
pub mod install;
pub mod platform;
pub mod release;
pub mod source;
pub mod up;
