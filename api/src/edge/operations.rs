//! What each operation of the API declares, read from the OpenAPI document so it cannot drift
//! from the handlers: its query parameters (one it does not declare is refused, `400
//! invalid_body` naming it, as unknown body fields are: a misspelt filter, `?stauts=open`,
//! would otherwise answer the whole list as if it had been applied) and the required fields of
//! its JSON body (to name the one missing when a body fails to parse).
use std::{collections::HashSet, sync::Arc};

use poem::{Endpoint, IntoResponse, Request, Response};

use crate::error::{ApiError, Code};

struct Operation {
    method: String,
    /// The path's segments, `None` for a parameter.
    segments: Vec<Option<String>>,
    query: HashSet<String>,
    /// The top-level fields its JSON body requires.
    required: Vec<String>,
}

/// The query parameters of every operation of the API, by method and path template.
#[derive(Clone, Default)]
pub struct Operations(Arc<Vec<Operation>>);

impl Operations {
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
                // poem-openapi names JSON bodies `application/json; charset=utf-8`.
                let schema = op["requestBody"]["content"]
                    .as_object()
                    .and_then(|c| c.iter().find(|(ty, _)| ty.starts_with("application/json")))
                    .map(|(_, body)| &body["schema"])
                    .unwrap_or(&serde_json::Value::Null);
                let schema = match schema["$ref"].as_str() {
                    Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap_or("")],
                    None => schema,
                };
                let required = schema["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect();
                ops.push(Operation {
                    method: method.to_ascii_uppercase(),
                    segments: segments.clone(),
                    query,
                    required,
                });
            }
        }
        // Literal segments before parameters: `/areas/at` is not `/areas/{id}`.
        ops.sort_by_key(|o| o.segments.iter().filter(|s| s.is_none()).count());
        Operations(Arc::new(ops))
    }

    fn find(&self, method: &str, path: &str) -> Option<&Operation> {
        let parts: Vec<&str> = path.split('/').collect();
        self.0.iter().find(|o| {
            o.method == method
                && o.segments.len() == parts.len()
                && o.segments
                    .iter()
                    .zip(&parts)
                    .all(|(s, p)| s.as_deref().is_none_or(|s| s == *p))
        })
    }

    /// The fields the operation's JSON body requires (none when no operation matches).
    pub fn required_fields(&self, method: &str, path: &str) -> &[String] {
        self.find(method, path)
            .map(|o| o.required.as_slice())
            .unwrap_or_default()
    }

    /// The first query parameter of the request that its operation does not declare; `None`
    /// when all are known or no operation matches (the router answers that).
    fn unknown(&self, method: &str, path: &str, query: &str) -> Option<String> {
        let op = self.find(method, path)?;
        form_urlencoded::parse(query.as_bytes())
            .map(|(k, _)| k.into_owned())
            .find(|k| !op.query.contains(k))
    }
}

pub async fn known_query<E: Endpoint>(ep: E, req: Request) -> poem::Result<Response> {
    let unknown = match (req.data::<Operations>(), req.uri().query()) {
        (Some(known), Some(query)) => known.unknown(req.method().as_str(), req.uri().path(), query),
        _ => None,
    };
    if let Some(name) = unknown {
        return Err(ApiError::new(Code::InvalidBody)
            .field(name.clone())
            .detail(crate::error::bi(
                format_args!("未知的查询参数「{name}」"),
                format_args!("unknown query parameter `{name}`"),
            ))
            .into());
    }
    Ok(ep.call(req).await?.into_response())
}
