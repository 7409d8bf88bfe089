//! Input newtypes: each is parsed once at the edge and cannot hold a bad value afterwards.
use super::coords;

/// What was wrong with an input, and which field.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{field}: {problem:?}")]
pub struct InputError {
    pub field: &'static str,
    pub problem: InputProblem,
}

#[derive(Clone, Debug, PartialEq)]
pub enum InputProblem {
    Empty,
    TooLong {
        max: usize,
    },
    Phone,
    Location(&'static str),
    Invalid(String),
    /// Control characters, bidirectional overrides, or nothing but invisible characters.
    Unprintable(TextFault),
}

/// Why a text is refused whatever its length: things no resident types and that either break
/// storage (NUL on PostgreSQL) or hide what the text says (bidi overrides reorder what staff
/// read; zero-width-only text looks empty but is not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextFault {
    Control,
    BidiOverride,
    OnlyInvisible,
}

impl TextFault {
    pub fn describe(self) -> &'static str {
        match self {
            TextFault::Control => {
                "control characters (other than tab and line breaks) are not allowed"
            }
            TextFault::BidiOverride => "bidirectional override characters are not allowed",
            TextFault::OnlyInvisible => "the text has only invisible characters",
        }
    }
}

/// What is wrong with `text`, if anything: C0 controls but tab, line feed and the carriage
/// return of a CRLF; DEL and C1 controls; U+202A–U+202E and U+2066–U+2069; text made only of
/// zero-width characters.
pub fn text_fault(text: &str) -> Option<TextFault> {
    let mut chars = text.chars().peekable();
    let mut visible = text.is_empty();
    while let Some(c) = chars.next() {
        match c {
            '\t' | '\n' => visible = true,
            '\r' if chars.peek() == Some(&'\n') => {}
            c if c.is_control() => return Some(TextFault::Control),
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
                return Some(TextFault::BidiOverride);
            }
            c if super::redact::is_invisible(c) => {}
            _ => visible = true,
        }
    }
    (!visible).then_some(TextFault::OnlyInvisible)
}

impl InputError {
    pub fn new(field: &'static str, problem: InputProblem) -> Self {
        InputError { field, problem }
    }
}

/// Trimmed text of 1..=`max` characters (characters, not bytes: Chinese counts one each).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text(String);

impl Text {
    pub fn parse(field: &'static str, raw: &str, max: usize) -> Result<Self, InputError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(InputError::new(field, InputProblem::Empty));
        }
        if let Some(fault) = text_fault(trimmed) {
            return Err(InputError::new(field, InputProblem::Unprintable(fault)));
        }
        if trimmed.chars().count() > max {
            return Err(InputError::new(field, InputProblem::TooLong { max }));
        }
        Ok(Text(trimmed.replace("\r\n", "\n")))
    }

    /// `None` and blank become `None`; anything else must parse.
    pub fn parse_opt(
        field: &'static str,
        raw: Option<&str>,
        max: usize,
    ) -> Result<Option<Self>, InputError> {
        match raw.map(str::trim) {
            None | Some("") => Ok(None),
            Some(s) => Text::parse(field, s, max).map(Some),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A mainland China phone number: an 11-digit mobile (`1[3-9]…`) or a landline with area code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, InputError> {
        let mut s: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if let Some(rest) = s.strip_prefix("+86") {
            s = rest.to_owned();
        }
        let digits = s.chars().all(|c| c.is_ascii_digit());
        let bytes = s.as_bytes();
        let mobile =
            digits && s.len() == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1]);
        let landline = digits && s.starts_with('0') && (10..=12).contains(&s.len());
        if mobile || landline {
            Ok(Phone(s))
        } else {
            Err(InputError::new(field, InputProblem::Phone))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `13812341234` → `138****1234`; a landline keeps its first 3 and last 4 digits.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// How the client's coordinates were measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoordSystem {
    Gcj02,
    Wgs84,
}

impl CoordSystem {
    /// Accepts `gcj02`, `GCJ-02`, `wgs84`, `WGS-84` and the like. Absent means WGS-84: the datum
    /// boundaries are stored in and `wx.getLocation`'s own default; the mini-program sends `gcj02`
    /// when it asks WeChat for map coordinates.
    pub fn parse(raw: Option<&str>) -> Result<Self, InputError> {
        let norm: String = raw
            .unwrap_or("wgs84")
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .collect::<String>()
            .to_ascii_lowercase();
        match norm.as_str() {
            "gcj02" => Ok(CoordSystem::Gcj02),
            "wgs84" => Ok(CoordSystem::Wgs84),
            _ => Err(InputError::new(
                "location.coord_system",
                InputProblem::Location("coord_system must be gcj02 or wgs84"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CoordSystem::Gcj02 => "gcj02",
            CoordSystem::Wgs84 => "wgs84",
        }
    }
}

/// A point on Earth in WGS-84, converted from whatever system it arrived in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeoPoint {
    pub lat: f64,
    pub lng: f64,
    /// The system the client used (kept for the record).
    pub given_in: CoordSystem,
}

impl GeoPoint {
    pub fn parse(lat: f64, lng: f64, system: CoordSystem) -> Result<Self, InputError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(InputError::new(
                "location.lat",
                InputProblem::Location("latitude must be within -90..90"),
            ));
        }
        if !lng.is_finite() || !(-180.0..=180.0).contains(&lng) {
            return Err(InputError::new(
                "location.lng",
                InputProblem::Location("longitude must be within -180..180"),
            ));
        }
        let (lat, lng) = match system {
            CoordSystem::Wgs84 => (lat, lng),
            CoordSystem::Gcj02 => coords::gcj02_to_wgs84(lat, lng),
        };
        Ok(GeoPoint {
            lat,
            lng,
            given_in: system,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn text_counts_characters_not_bytes() {
        assert!(Text::parse("t", "楼道堆物", 4).is_ok());
        assert_eq!(
            Text::parse("t", "楼道堆物堵", 4).unwrap_err().problem,
            InputProblem::TooLong { max: 4 }
        );
        assert_eq!(
            Text::parse("t", "   ", 4).unwrap_err().problem,
            InputProblem::Empty
        );
    }

    #[test]
    fn unprintable_text_is_refused() {
        let fault = |s: &str| Text::parse("t", s, 100).err().map(|e| e.problem);
        let unprintable = |f| Some(InputProblem::Unprintable(f));
        assert_eq!(fault("a\0b"), unprintable(TextFault::Control));
        assert_eq!(fault("a\u{7}b"), unprintable(TextFault::Control));
        assert_eq!(fault("a\rb"), unprintable(TextFault::Control));
        assert_eq!(
            fault("abc\u{202E}def"),
            unprintable(TextFault::BidiOverride)
        );
        assert_eq!(fault("\u{2067}x"), unprintable(TextFault::BidiOverride));
        assert_eq!(
            fault("\u{200B}\u{200D}"),
            unprintable(TextFault::OnlyInvisible)
        );
        assert_eq!(
            Text::parse("t", "第一行\r\n第二行\t完", 100).map(Text::into_inner),
            Ok("第一行\n第二行\t完".to_owned())
        );
        assert!(Text::parse("t", "家\u{200B}门口", 100).is_ok());
    }

    #[test]
    fn phones() {
        assert_eq!(
            Phone::parse("p", "+86 138-1234-5678").map(|p| p.0),
            Ok("13812345678".into())
        );
        assert!(Phone::parse("p", "010-62345678").is_ok());
        assert!(Phone::parse("p", "12345678901").is_err());
        assert!(Phone::parse("p", "1381234567a").is_err());
        assert_eq!(mask_phone("13812341234"), "138****1234");
    }

    #[test]
    fn coordinates_out_of_range_are_refused() {
        assert!(GeoPoint::parse(91.0, 116.0, CoordSystem::Wgs84).is_err());
        assert!(GeoPoint::parse(39.0, f64::NAN, CoordSystem::Wgs84).is_err());
    }
}
