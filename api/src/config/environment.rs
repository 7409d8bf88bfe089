//! Where the server runs, and secrets that print as `***`.
use serde::Deserialize;

use super::ConfigError;

/// Where the server runs (`QIAOMEN_ENV`); it picks `config/<env>.toml`. Anything else refuses to
/// start: a misspelt `Production` must not quietly run with development settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Test,
    Production,
    /// Load tests (`bench/run.sh`).
    Bench,
}

impl Environment {
    /// This environment's file as shipped, compiled in.
    pub(super) fn shipped(self) -> &'static str {
        match self {
            Environment::Development => include_str!("../../../config/development.toml"),
            Environment::Test => include_str!("../../../config/test.toml"),
            Environment::Production => include_str!("../../../config/production.toml"),
            Environment::Bench => include_str!("../../../config/bench.toml"),
        }
    }

    pub const ALL: [Environment; 4] = [
        Environment::Development,
        Environment::Test,
        Environment::Production,
        Environment::Bench,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Test => "test",
            Environment::Production => "production",
            Environment::Bench => "bench",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == raw)
            .ok_or_else(|| ConfigError::UnknownEnvironment(raw.to_owned()))
    }
}

/// A secret from the configuration: it prints as `***` wherever it is formatted (logs, panics,
/// `Debug` of the settings), so only code that asks for [`Secret::expose`] ever sees it.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}
