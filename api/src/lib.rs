//! Qiaomen (敲门): the backend of a WeChat mini-program through which residents hand in
//! suggestions and complaints that are routed to grid workers and tracked to a rating.
pub mod bench_data;
pub mod cache;
pub mod clients;
pub mod clock;
pub mod config;
pub mod console;
pub mod domain;
pub mod edge;
pub mod error;
pub mod exports;
pub mod metrics;
pub mod routes;
pub mod scheduler;
pub mod schemas;
pub mod services;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
