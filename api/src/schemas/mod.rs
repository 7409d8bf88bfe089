//! Request and response bodies (snake_case JSON). Requests reject unknown fields.
pub mod admin;
pub mod hotspots;
pub mod places;
pub mod public;
pub mod stats;
pub mod tickets;
pub mod topics;

use std::{borrow::Cow, ops::Deref};

use poem_openapi::{
    registry::MetaSchemaRef,
    types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type},
};
use serde_json::Value;

/// A JSON string in a request, and nothing else. poem-openapi's `String` also takes a number or
/// a boolean and makes text of it (`{"code": false}` went to WeChat as the code `"false"`); a
/// field declared `string` takes a string or the request is a `400`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Str(pub String);

impl Deref for Str {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<Str> for String {
    fn from(s: Str) -> String {
        s.0
    }
}

impl Type for Str {
    const IS_REQUIRED: bool = true;

    type RawValueType = String;

    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        String::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        String::schema_ref()
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.0))
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl ParseFromJSON for Str {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(s)) => Ok(Str(s)),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl ToJSON for Str {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

/// An instant in a response, in Beijing time: `2026-11-28T13:05:00+08:00` (RFC 3339), the
/// clock every office and resident reads. Stored and compared in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time(pub chrono::DateTime<chrono::Utc>);

impl From<chrono::DateTime<chrono::Utc>> for Time {
    fn from(at: chrono::DateTime<chrono::Utc>) -> Self {
        Time(at)
    }
}

impl Type for Time {
    const IS_REQUIRED: bool = true;

    type RawValueType = Self;

    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        <chrono::DateTime<chrono::FixedOffset> as Type>::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        <chrono::DateTime<chrono::FixedOffset> as Type>::schema_ref()
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ToJSON for Time {
    fn to_json(&self) -> Option<Value> {
        let local = self.0.with_timezone(&crate::domain::calendar::beijing());
        Some(Value::String(
            local.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
        ))
    }
}

impl ParseFromJSON for Time {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        <chrono::DateTime<chrono::FixedOffset> as ParseFromJSON>::parse_from_json(value)
            .map(|t| Time(t.with_timezone(&chrono::Utc)))
            .map_err(ParseError::propagate)
    }
}
