//! Bodies of the statistics endpoints.
use std::borrow::Cow;

use poem_openapi::{
    Object,
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type},
};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{
    columns::{COLUMNS, Column, Shape},
    rates::{Bound, Figures},
};

/// `from` or `to` of a statistics period: an RFC 3339 instant or a plain date (a Beijing day).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeriodBound(pub Bound);

impl Type for PeriodBound {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "PeriodBound".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        let mut schema = MetaSchema::new("string");
        schema.description = Some(
            "An RFC 3339 instant (2026-11-01T08:00:00+08:00) or a date (2026-11-01): a Beijing \
             day, from its 00:00 +08:00 as `from`, included whole as `to`.",
        );
        schema.example = Some(Value::String("2026-11-01".into()));
        MetaSchemaRef::Inline(Box::new(schema))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ParseFromParameter for PeriodBound {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Bound::parse(value).map(PeriodBound).ok_or_else(|| {
            ParseError::custom("an RFC 3339 instant or a date YYYY-MM-DD, years 2000 to 2100")
        })
    }
}

/// The figures of SPEC §7, one field per row of `domain::columns::COLUMNS` (definitions in the
/// API description). Rates are fractions (0.95), `null` when their denominator is 0.
pub struct FiguresBody(pub Figures);

impl From<Figures> for FiguresBody {
    fn from(f: Figures) -> Self {
        FiguresBody(f)
    }
}

fn column_schema(c: &Column) -> MetaSchema {
    let mut schema = match c.shape {
        Shape::Count => MetaSchema::new_with_format("integer", "uint64"),
        Shape::Rate | Shape::Number => {
            let mut s = MetaSchema::new_with_format("number", "double");
            s.nullable = true;
            s
        }
    };
    schema.description = Some(c.about);
    schema
}

impl Type for FiguresBody {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "Figures".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(Self::name().into_owned())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>(Self::name().into_owned(), |_| {
            let mut schema = MetaSchema::new("object");
            schema.description = Some(
                "The figures of SPEC §7. Rates are fractions (0.95), null when their denominator is 0.",
            );
            schema.properties = COLUMNS
                .iter()
                .map(|c| (c.name, MetaSchemaRef::Inline(Box::new(column_schema(c)))))
                .collect();
            schema.required = COLUMNS.iter().map(|c| c.name).collect();
            schema
        });
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

impl ToJSON for FiguresBody {
    fn to_json(&self) -> Option<Value> {
        let fields = COLUMNS.iter().map(|c| {
            let value = match (c.shape, c.value(&self.0)) {
                (_, None) => Value::Null,
                (Shape::Count, Some(v)) => Value::from(v as u64),
                (_, Some(v)) => Value::from(v),
            };
            (c.name.to_owned(), value)
        });
        Some(Value::Object(fields.collect()))
    }
}

/// Figures are only ever sent, never read from a request.
impl ParseFromJSON for FiguresBody {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        Err(ParseError::custom(format!(
            "figures are read-only: {}",
            value.unwrap_or_default()
        )))
    }
}

#[derive(Object)]
pub struct Summary {
    pub area_id: Uuid,
    pub area_name: String,
    pub from: crate::schemas::Time,
    pub to: crate::schemas::Time,
    #[oai(flatten)]
    pub figures: FiguresBody,
}

#[derive(Object)]
pub struct GroupFigures {
    /// The group's id (grid, community, worker, category), date (`2026-11-22`) or ISO week
    /// (`2026-W47`); `none` for tickets without one.
    pub key: String,
    pub name: String,
    #[oai(flatten)]
    pub figures: FiguresBody,
}

#[derive(Object)]
pub struct Breakdown {
    pub area_id: Uuid,
    pub from: crate::schemas::Time,
    pub to: crate::schemas::Time,
    pub by: String,
    pub groups: Vec<GroupFigures>,
}

#[derive(Object)]
pub struct WorkerFigures {
    pub staff_id: Uuid,
    pub name: String,
    pub role: crate::domain::StaffRole,
    /// Tickets assigned or in progress now.
    pub open: u64,
    /// Of those, past a deadline.
    pub overdue: u64,
    /// Door-knock visits recorded in the period.
    pub visits: u64,
    #[oai(flatten)]
    pub figures: FiguresBody,
}

#[derive(Object)]
pub struct RankedGroupBody {
    /// 1 for the best; `null` when the sample is too small to rank (`insufficient`).
    #[oai(nullable)]
    pub rank: Option<u32>,
    /// The grid's or worker's id.
    pub key: String,
    pub name: String,
    /// The measure's rate (a fraction; the composite score 0–100), `null` without a sample.
    #[oai(nullable)]
    pub rate: Option<f64>,
    /// The lower bound of its Wilson 95 % interval, what the order follows.
    #[oai(nullable)]
    pub bound: Option<f64>,
    /// The denominator (for the composite, the smallest of the three).
    pub n: u64,
    /// Fewer than `min_sample` in the denominator: listed after the ranked, unranked.
    pub insufficient: bool,
}

#[derive(Object)]
pub struct Ranking {
    pub area_id: Uuid,
    pub from: crate::schemas::Time,
    pub to: crate::schemas::Time,
    pub by: crate::domain::rates::ranking::RankBy,
    pub measure: crate::domain::rates::ranking::Measure,
    /// `stats.ranking_min_sample`.
    pub min_sample: u64,
    pub groups: Vec<RankedGroupBody>,
}

impl From<crate::services::stats::RankedGroup> for RankedGroupBody {
    fn from(g: crate::services::stats::RankedGroup) -> Self {
        RankedGroupBody {
            rank: g.rank,
            key: g.key,
            name: g.name,
            rate: g.rate,
            bound: g.bound,
            n: g.n,
            insufficient: g.insufficient,
        }
    }
}
