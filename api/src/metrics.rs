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
    pub notifications: IntCounterVec,
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
        let notifications = IntCounterVec::new(
            Opts::new(
                "notifications_total",
                "Notification deliveries by channel (wechat, wecom, inbox) and result",
            ),
            &["channel", "result"],
        )?;
        registry.register(Box::new(notifications.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            tickets,
            cache_errors,
            outbox,
            notifications,
        })
    }

    /// Counts one delivery of a notification through `channel` with `result`.
    pub fn notified(&self, channel: &str, result: &str) {
        self.notifications
            .with_label_values(&[channel, result])
            .inc();
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::error!(error = %e, "metrics encoding failed");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// The application's routes as templates (`/api/v1/tickets/{id}`), keyed by their shape, so the
/// pattern a request matched (poem names the API's path parameters `:param0`, …) is labelled as
/// the OpenAPI document names it.
#[derive(Clone, Default)]
pub struct RouteTemplates(std::sync::Arc<std::collections::HashMap<String, String>>);

/// A path with every parameter segment (`:id`, `{id}`, `*rest`) as `{}`.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            let param = seg.starts_with(':') || seg.starts_with('*') || seg.starts_with('{');
            if param { "{}" } else { seg }
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl RouteTemplates {
    /// From an OpenAPI document's `paths`, served under `prefix`.
    pub fn from_spec(spec: &str, prefix: &str) -> Self {
        let doc: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let map = doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(path, _)| {
                let full = format!("{prefix}{path}");
                (shape(&full), full)
            })
            .collect();
        RouteTemplates(std::sync::Arc::new(map))
    }

    /// The label for the pattern a request matched, or `unmatched`: the label's values are the
    /// application's routes, whatever paths clients make up. A `404` that matched no route but
    /// a prefix (`/api/v1`, under which nothing matched) is unmatched too.
    pub fn label(&self, pattern: Option<&str>, not_found: bool) -> String {
        let Some(pattern) = pattern else {
            return "unmatched".into();
        };
        match self.0.get(&shape(pattern)) {
            Some(template) => template.clone(),
            None if not_found => "unmatched".into(),
            None => pattern
                .split('/')
                .map(|seg| match seg.strip_prefix(':') {
                    Some(name) => format!("{{{name}}}"),
                    None if seg.starts_with('*') => "{rest}".to_owned(),
                    None => seg.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("/"),
        }
    }
}

/// The method as a label: the standard ones by name, anything else as `other`.
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("other")
}
