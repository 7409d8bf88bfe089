//! What a request may carry, checked before any handler parses it: bodies read with a cap
//! (whatever the content type says, with or without `Content-Length`, chunked included), JSON
//! nested no deeper than the limit, and no text (JSON strings, form fields, query parameters)
//! with control characters, bidirectional overrides or nothing but invisible characters.
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use futures_util::StreamExt;
use poem::{Body, Endpoint, IntoResponse, Request, Response, error::ReadBodyError, http::header};
use poem_openapi::error::ParseRequestPayloadError;
use serde_json::Value;

use super::state_of;
use crate::{
    domain::inputs::{TextFault, text_fault},
    error::{ApiError, Code},
};

/// Room for a multipart body's boundaries and part headers beside its one file.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

fn too_large(limit: u64) -> ApiError {
    ApiError::new(Code::PayloadTooLarge).detail(crate::error::bi(
        format_args!("最多 {limit} 字节"),
        format_args!("at most {limit} bytes"),
    ))
}

fn unprintable(field: String, fault: TextFault) -> ApiError {
    ApiError::new(Code::InvalidText)
        .field(field)
        .detail(crate::services::in_chinese_too(fault.describe()))
}

/// Bounds the body and checks its text (see the module's documentation). Multipart bodies (photo
/// uploads, up to `media.max_bytes`) are passed on as a stream that fails past the cap, so a
/// parser never holds more than that; everything else (up to `limits.json_body_bytes`) is read
/// here, checked, and handed on.
pub async fn guard_body<E: Endpoint>(ep: E, mut req: Request) -> poem::Result<Response> {
    let Some(state) = state_of(&req) else {
        return ep.call(req).await.map(IntoResponse::into_response);
    };
    check_path(req.uri().path())?;
    if let Some(query) = req.uri().query() {
        check_pairs(query.as_bytes())?;
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let multipart = content_type.starts_with("multipart/");
    let limit = if multipart {
        state.settings.media.max_bytes + MULTIPART_OVERHEAD
    } else {
        state.settings.limits.json_body_bytes
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit).into());
    }
    if multipart {
        let tripped = Arc::new(AtomicBool::new(false));
        let body = capped(req.take_body(), limit, tripped.clone());
        req.set_body(body);
        let result = ep.call(req).await;
        if tripped.load(Ordering::Relaxed) {
            return Err(too_large(limit).into());
        }
        return result.map(IntoResponse::into_response);
    }
    let bytes = req
        .take_body()
        .into_bytes_limit(limit as usize)
        .await
        .map_err(|e| match e {
            ReadBodyError::PayloadTooLarge => too_large(limit),
            other => ApiError::new(Code::InvalidBody).detail(other.to_string()),
        })?;
    if !bytes.is_empty() {
        if content_type.contains("json") {
            let max_depth = state.settings.limits.json_max_depth;
            if json_depth(&bytes) > max_depth {
                return Err(ApiError::new(Code::JsonTooDeep)
                    .detail(crate::error::bi(
                        format_args!("JSON 最多嵌套 {max_depth} 层"),
                        format_args!("at most {max_depth} levels"),
                    ))
                    .into());
            }
            // Malformed JSON is left to the handler's parser, which answers 400.
            if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
                check_json(&value, &mut String::new())?;
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            check_pairs(&bytes)?;
        }
    }
    let required = req
        .data::<super::Operations>()
        .map(|ops| {
            ops.required_fields(req.method().as_str(), req.uri().path())
                .to_vec()
        })
        .unwrap_or_default();
    req.set_body(Body::from(bytes.clone()));
    match ep.call(req).await {
        Err(err) if err.is::<ParseRequestPayloadError>() => {
            Err(explain_payload(&err.to_string(), &bytes, &required).into())
        }
        other => other.map(IntoResponse::into_response),
    }
}

/// A body the handler's parser refused, told as a person can read it: which field, and what
/// is wrong with it (the parser's own text names types, not fields).
fn explain_payload(reason: &str, bytes: &[u8], required: &[String]) -> ApiError {
    let bad = |field: Option<String>, zh: String, en: String| {
        let e = ApiError::new(Code::InvalidBody).detail(crate::error::bi(zh, en));
        match field {
            Some(f) => e.field(f),
            None => e,
        }
    };
    let Ok(body) = serde_json::from_slice::<Value>(bytes) else {
        return bad(
            None,
            "请求体不是有效的 JSON".into(),
            "The body is not valid JSON".into(),
        );
    };
    if !body.is_object() {
        return bad(
            None,
            "请求体须为 JSON 对象".into(),
            "The body must be a JSON object".into(),
        );
    }
    if let Some(name) = between(reason, "unknown field `", "`") {
        return bad(
            Some(name.to_owned()),
            format!("未知字段「{name}」"),
            format!("unknown field `{name}`"),
        );
    }
    if (reason.contains("expects an input value") || reason.contains(", found null"))
        && let Some(missing) = required
            .iter()
            .find(|f| body.get(f.as_str()).is_none_or(Value::is_null))
    {
        return bad(
            Some(missing.clone()),
            format!("缺少必填字段「{missing}」"),
            format!("`{missing}` is required"),
        );
    }
    if let Some(wanted) = between(reason, "Expected input type \"", "\"")
        && let Some(found) = reason.split_once(", found ").map(|(_, rest)| {
            rest.split(" (occurred")
                .next()
                .unwrap_or(rest)
                .trim_end_matches('.')
        })
    {
        // Named only when one value of the body could be the one at fault.
        let mut paths = Vec::new();
        find_values(&body, found, "", &mut paths);
        let (zh, en) = type_words(wanted);
        if let [path] = paths.as_slice() {
            return bad(
                Some(path.clone()),
                format!("字段「{path}」的类型不正确，应为{zh}"),
                format!("`{path}` should be {en}"),
            );
        }
        return bad(
            None,
            format!("请求体中有字段的类型不正确，应为{zh}"),
            format!("a field of the body should be {en}"),
        );
    }
    bad(
        None,
        "请求体中有字段取值不正确，请对照接口文档".into(),
        "A field of the body has a value the API does not accept".into(),
    )
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

/// The dotted paths of the values in `value` whose JSON text is `found`.
fn find_values(value: &Value, found: &str, path: &str, out: &mut Vec<String>) {
    let mut visit = |p: String, v: &Value| {
        if serde_json::to_string(v).ok().as_deref() == Some(found) {
            out.push(p.clone());
        }
        find_values(v, found, &p, out);
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                visit(p, v);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                visit(format!("{path}[{i}]"), v);
            }
        }
        _ => {}
    }
}

/// A schema type's name as a person reads it.
fn type_words(name: &str) -> (&'static str, &'static str) {
    match name {
        n if n.starts_with("string_uuid") => ("UUID 字符串", "a UUID string"),
        n if n.starts_with("string") => ("字符串", "a string"),
        n if n.starts_with("integer") => ("整数", "an integer"),
        n if n.starts_with("number") => ("数字", "a number"),
        "boolean" => ("true 或 false", "true or false"),
        n if n.starts_with('[') || n.starts_with("array") => ("数组", "an array"),
        _ => ("接口文档所列的取值", "one of the values the API documents"),
    }
}

/// The body as a stream that fails once more than `limit` bytes have passed, noting so in
/// `tripped`.
fn capped(body: Body, limit: u64, tripped: Arc<AtomicBool>) -> Body {
    let mut seen = 0u64;
    let stream = body.into_bytes_stream().map(move |chunk| {
        let chunk = chunk?;
        seen += chunk.len() as u64;
        if seen > limit {
            tripped.store(true, Ordering::Relaxed);
            return Err(std::io::Error::other("request body over the limit"));
        }
        Ok(chunk)
    });
    Body::from_bytes_stream(stream)
}

/// The path as handlers see it, decoded: a `%00` in an id must not reach the database (where
/// PostgreSQL refuses it with an error rather than finding nothing).
fn check_path(path: &str) -> Result<(), ApiError> {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    match text_fault(&decoded) {
        Some(fault) => Err(unprintable("path".into(), fault)),
        None => Ok(()),
    }
}

/// Every key and value of a form body or a query string.
fn check_pairs(raw: &[u8]) -> Result<(), ApiError> {
    for (key, value) in form_urlencoded::parse(raw) {
        for text in [&key, &value] {
            if let Some(fault) = text_fault(text) {
                return Err(unprintable(key.clone().into_owned(), fault));
            }
        }
    }
    Ok(())
}

/// Every string (and object key) of a JSON document; `path` names the one at fault.
fn check_json(value: &Value, path: &mut String) -> Result<(), ApiError> {
    match value {
        Value::String(s) => match text_fault(s) {
            Some(fault) => Err(unprintable(path.clone(), fault)),
            None => Ok(()),
        },
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                check_json(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                if let Some(fault) = text_fault(key) {
                    return Err(unprintable(path.clone(), fault));
                }
                check_json(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The deepest nesting of objects and arrays, ignoring brackets inside strings.
pub fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn depth_ignores_brackets_in_strings() {
        assert_eq!(json_depth(br#"{"a": "[[[{{{", "b": [1, [2]]}"#), 3);
        assert_eq!(json_depth(br#"{"a": "\"[[["}"#), 1);
        assert_eq!(json_depth(b"42"), 0);
    }

    #[test]
    fn the_field_at_fault_is_named() {
        let doc = json!({"suggestions": [{"description": "ok"}, {"description": "a\u{0}b"}]});
        let err = check_json(&doc, &mut String::new()).err();
        assert_eq!(
            err.and_then(|e| e.field),
            Some("suggestions[1].description".to_owned())
        );
        assert!(check_pairs(b"description=%E5%99%AA%E9%9F%B3%0Aok").is_ok());
        assert!(check_pairs(b"description=a%00b").is_err());
    }
}
