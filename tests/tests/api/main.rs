//! Integration tests: they drive the HTTP API as the mini-program and the staff console would.
mod access;
mod admin;
mod auth;
mod bad_input;
mod edges;
mod faults;
mod hostile;
mod lifecycle;
mod open311;
mod photos;
mod privacy;
mod public;
mod routing;
mod stats;
mod time;
mod visits;
mod wechat;
