//! Open311 GeoReport v2 vocabulary: service attributes, status mapping, and the two output
//! formats (JSON, and the XML the specification requires), built from one JSON value.
use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lifecycle::Status;
use crate::schemas::Str;

/// An attribute a service (category) asks clients to fill in.
#[derive(Clone, Debug, Serialize, Deserialize, Object)]
pub struct ServiceAttribute {
    pub code: Str,
    /// `string`, `number`, `datetime`, `text`, `singlevaluelist` or `multivaluelist`.
    pub datatype: Str,
    pub required: bool,
    pub description: Str,
    #[serde(default)]
    #[oai(default)]
    pub order: i32,
    #[serde(default)]
    #[oai(nullable)]
    pub datatype_description: Option<Str>,
    #[serde(default)]
    #[oai(default)]
    pub values: Vec<AttributeValue>,
}

#[derive(Clone, Debug, Serialize, Deserialize, Object)]
pub struct AttributeValue {
    pub key: Str,
    pub name: Str,
}

pub const DATATYPES: [&str; 6] = [
    "string",
    "number",
    "datetime",
    "text",
    "singlevaluelist",
    "multivaluelist",
];

/// Open311 knows `open` and `closed`: work still owed is open; resolved, closed, withdrawn and
/// rejected tickets are closed.
pub fn status(ticket_status: Status) -> &'static str {
    if ticket_status.is_open() {
        "open"
    } else {
        "closed"
    }
}

/// Our statuses behind an Open311 status.
pub fn statuses_for(open311: &str) -> Option<&'static [Status]> {
    use Status::*;
    match open311 {
        "open" => Some(&Status::OPEN),
        "closed" => Some(&[Resolved, Closed, Withdrawn, Rejected]),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// Splits `requests.json` into (`requests`, Json).
    pub fn split(resource: &str) -> Option<(&str, Format)> {
        let (name, ext) = resource.rsplit_once('.')?;
        match ext {
            "json" => Some((name, Format::Json)),
            "xml" => Some((name, Format::Xml)),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The element name of one item of a list, as the specification names them.
fn item_name(list: &str) -> &str {
    match list {
        "services" => "service",
        "service_requests" => "request",
        "errors" => "error",
        "attributes" => "attribute",
        "values" => "value",
        other => other.strip_suffix('s').unwrap_or(other),
    }
}

fn write(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Null => out.push_str(&format!("<{name}/>")),
        Value::Array(items) => {
            out.push_str(&format!("<{name}>"));
            let item = item_name(name);
            for v in items {
                write(out, item, v);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Object(fields) => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in fields {
                write(out, k, v);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::String(s) if s.is_empty() => out.push_str(&format!("<{name}/>")),
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", escape(s))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

/// The document: JSON as it is, or XML with `root` as the root element.
pub fn render(format: Format, root: &str, value: &Value) -> String {
    match format {
        Format::Json => value.to_string(),
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            write(&mut out, root, value);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn xml_follows_the_specification_names() {
        let v = json!([{"service_request_id": "1", "service_notice": "", "account_id": null}]);
        assert_eq!(
            render(Format::Xml, "service_requests", &v),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><service_requests><request><account_id/><service_notice/><service_request_id>1</service_request_id></request></service_requests>"
        );
        assert_eq!(
            Format::split("services.xml"),
            Some(("services", Format::Xml))
        );
        assert_eq!(Format::split("services.csv"), None);
    }
}
