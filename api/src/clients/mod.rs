//! Clients for services outside Qiaomen.
pub mod wechat;
pub mod wechat_token;
pub mod wecom;
