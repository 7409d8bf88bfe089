//! sea-orm entities, one module per table. Behaviour lives in `qiaomen-api`'s domain and
//! service modules; these types only mirror the schema in `migration/`.
pub mod appeal;
pub mod area;
pub mod attachment;
pub mod audit_log;
pub mod building;
pub mod category;
pub mod directory_version;
pub mod enums;
pub mod lease;
pub mod notification;
pub mod notification_outbox;
pub mod open311_key;
pub mod personal_data_access;
pub mod privacy_agreement;
pub mod rating;
pub mod resident;
pub mod scope_stamp;
pub mod staff;
pub mod staff_assignment;
pub mod stat_day;
pub mod subscription_grant;
pub mod ticket;
pub mod ticket_event;
pub mod ticket_return;
pub mod ticket_support;
pub mod visit;
