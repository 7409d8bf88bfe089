//! Request and response bodies (snake_case JSON). Requests reject unknown fields.
pub mod admin;
pub mod stats;
pub mod tickets;
