//! Clients for services outside Qiaomen.
pub mod wechat;
