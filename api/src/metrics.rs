//! Prometheus metrics: request counts and latencies by route and status, and gauges read from
//! the database at scrape time.
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    pub tickets: IntGaugeVec,
    pub cache_errors: IntCounterVec,
    pub outbox: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("qiaomen".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route and method",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["route", "method"],
        )?;
        let tickets = IntGaugeVec::new(Opts::new("tickets", "Tickets by status"), &["status"])?;
        let cache_errors = IntCounterVec::new(
            Opts::new(
                "cache_errors_total",
                "Cache calls that failed and fell back to the slow path",
            ),
            &["operation"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(tickets.clone()))?;
        let outbox = IntGaugeVec::new(
            Opts::new("outbox_messages", "Notification outbox messages by status"),
            &["status"],
        )?;
        registry.register(Box::new(cache_errors.clone()))?;
        registry.register(Box::new(outbox.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            tickets,
            cache_errors,
            outbox,
        })
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::error!(error = %e, "metrics encoding failed");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// The route a request matched, as its template (`/api/v1/tickets/{id}`), or `unmatched`: the
/// label's values are the application's routes, whatever paths clients make up.
pub fn route_label(pattern: Option<&str>) -> String {
    let Some(pattern) = pattern else {
        return "unmatched".into();
    };
    pattern
        .split('/')
        .map(|seg| match seg.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None if seg.starts_with('*') => "{rest}".to_owned(),
            None => seg.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The method as a label: the standard ones by name, anything else as `other`.
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("other")
}
