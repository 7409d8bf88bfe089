//! Query parameters an operation does not declare are refused (`400 invalid_body` naming the
//! parameter), as unknown body fields are: a misspelt filter (`?stauts=open`) would otherwise
//! answer the whole list as if it had been applied. What each operation declares is read from
//! the OpenAPI document, so the check cannot drift from the handlers.
use std::{collections::HashSet, sync::Arc};

use poem::{Endpoint, IntoResponse, Request, Response};

use crate::error::{ApiError, Code};

struct Operation {
    method: String,
    /// The path's segments, `None` for a parameter.
    segments: Vec<Option<String>>,
    query: HashSet<String>,
}

/// The query parameters of every operation of the API, by method and path template.
#[derive(Clone, Default)]
pub struct KnownQueries(Arc<Vec<Operation>>);

impl KnownQueries {
    /// From an OpenAPI document whose paths are served under `prefix`.
    pub fn from_spec(spec: &str, prefix: &str) -> Self {
        let doc: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let mut ops = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            let full = format!("{prefix}{path}");
            let segments: Vec<Option<String>> = full
                .split('/')
                .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                .collect();
            for (method, op) in item.as_object().into_iter().flatten() {
                let query = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| p["in"] == "query")
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect();
                ops.push(Operation {
                    method: method.to_ascii_uppercase(),
                    segments: segments.clone(),
                    query,
                });
            }
        }
        // Literal segments before parameters: `/areas/at` is not `/areas/{id}`.
        ops.sort_by_key(|o| o.segments.iter().filter(|s| s.is_none()).count());
        KnownQueries(Arc::new(ops))
    }

    /// The first query parameter of the request that its operation does not declare; `None`
    /// when all are known or no operation matches (the router answers that).
    fn unknown<'a>(&self, method: &str, path: &str, query: &'a str) -> Option<String> {
        let parts: Vec<&str> = path.split('/').collect();
        let op = self.0.iter().find(|o| {
            o.method == method
                && o.segments.len() == parts.len()
                && o.segments
                    .iter()
                    .zip(&parts)
                    .all(|(s, p)| s.as_deref().is_none_or(|s| s == *p))
        })?;
        form_urlencoded::parse(query.as_bytes())
            .map(|(k, _)| k.into_owned())
            .find(|k| !op.query.contains(k))
    }
}

pub async fn known_query<E: Endpoint>(ep: E, req: Request) -> poem::Result<Response> {
    let unknown = match (req.data::<KnownQueries>(), req.uri().query()) {
        (Some(known), Some(query)) => known.unknown(req.method().as_str(), req.uri().path(), query),
        _ => None,
    };
    if let Some(name) = unknown {
        return Err(ApiError::new(Code::InvalidBody)
            .field(name.clone())
            .detail(format!("未知的查询参数「{name}」"))
            .into());
    }
    Ok(ep.call(req).await?.into_response())
}
