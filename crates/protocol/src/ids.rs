//! The identities every message carries, as types: [`AppId`] (an `apps` row), [`AgentId`] (one host or container
//! running xtransit) and [`ClientId`] (one connection of that agent). They deserialize with the original's loose
//! typing (an id may arrive as a JSON number or a JSON string) and compare by their canonical text, which is also
//! what Redis keys and log lines use.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize};

/// An application id as the agent configured it: a JSON number or a JSON string. The original JSON type is
/// kept so that what we forward is what the agent signed; `Display` gives the canonical text used in keys, and
/// equality follows it (`1` and `"1"` are the same app).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AppId {
    Number(u64),
    Text(String),
}

impl AppId {
    /// The numeric id of the `apps` row, if the text is a plain non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            AppId::Number(n) => Some(*n),
            AppId::Text(s) => s.trim().parse().ok(),
        }
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppId::Number(n) => write!(f, "{n}"),
            AppId::Text(s) => f.write_str(s),
        }
    }
}

impl PartialEq for AppId {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (AppId::Number(a), AppId::Number(b)) => a == b,
            (AppId::Text(a), AppId::Text(b)) => a == b,
            _ => self.to_string() == other.to_string(),
        }
    }
}

impl Eq for AppId {}

impl Hash for AppId {
    /// Hashes the canonical text, as equality compares it (without allocating).
    fn hash<H: Hasher>(&self, state: &mut H) {
        struct Text<'a, H>(&'a mut H);
        impl<H: Hasher> fmt::Write for Text<'_, H> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.0.write(s.as_bytes());
                Ok(())
            }
        }
        let _ = fmt::Write::write_fmt(&mut Text(&mut *state), format_args!("{self}"));
        state.write_u8(0xff);
    }
}

impl From<u64> for AppId {
    fn from(n: u64) -> Self {
        AppId::Number(n)
    }
}

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(text: impl Into<String>) -> Self {
                $name(text.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                crate::lenient::text(d).map($name)
            }
        }
    };
}

text_id!(
    /// The agent's `agentId` (by default the host name): one machine or container running xtransit.
    AgentId
);
text_id!(
    /// The agent's `clientId`: one connection (a new one after every restart of the agent).
    ClientId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_take_numbers_or_strings_and_compare_by_text() {
        let a: AppId = serde_json::from_str("1").unwrap();
        let b: AppId = serde_json::from_str("\"1\"").unwrap();
        assert_eq!(a, b);
        assert_eq!(serde_json::to_string(&a).unwrap(), "1");
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"1\"");
        let agent: AgentId = serde_json::from_str("42").unwrap();
        assert_eq!(agent, "42");
        assert_eq!(serde_json::to_string(&agent).unwrap(), "\"42\"");
        assert!(serde_json::from_str::<ClientId>("null").is_err());
        use std::hash::BuildHasher;
        let state = std::collections::hash_map::RandomState::new();
        assert_eq!(state.hash_one(&a), state.hash_one(&b));
    }
}
