//! Ticket states, priorities and message kinds.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A value from outside could not be understood; says which field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ParseError {
    pub field: &'static str,
    pub message: String,
}

impl ParseError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

macro_rules! string_enum {
    ($name:ident, $field:literal, $hint:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($text => Ok($name::$variant),)+
                    other => Err(ParseError::new($field, format!("„{other}“ ist ungültig; erlaubt: {}", $hint))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Where a ticket stands in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Arrived, nobody has touched it yet.
    New,
    /// Someone is working on it.
    Open,
    /// Waiting for the requester or a third party.
    Waiting,
    /// Done; leaves the working lists, found through search.
    Resolved,
}

string_enum!(Status, "status", "new, open, waiting, resolved", {
    New => "new", Open => "open", Waiting => "waiting", Resolved => "resolved",
});

impl Status {
    /// Statuses shown in working lists by default.
    pub const ACTIVE: &'static [Status] = &[Status::New, Status::Open, Status::Waiting];

    pub fn is_active(self) -> bool {
        self != Status::Resolved
    }
}

/// How urgent a ticket is. Stored as a small integer so it sorts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

string_enum!(Priority, "priority", "low, normal, high, urgent", {
    Low => "low", Normal => "normal", High => "high", Urgent => "urgent",
});

impl Priority {
    pub fn rank(self) -> i16 {
        match self {
            Priority::Low => 1,
            Priority::Normal => 2,
            Priority::High => 3,
            Priority::Urgent => 4,
        }
    }

    pub fn from_rank(rank: i16) -> Self {
        match rank {
            i16::MIN..=1 => Priority::Low,
            2 => Priority::Normal,
            3 => Priority::High,
            _ => Priority::Urgent,
        }
    }

    /// One step more urgent (used by queue escalation); urgent stays urgent.
    pub fn raised(self) -> Self {
        Self::from_rank(self.rank() + 1)
    }
}

/// What a message on a ticket is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    /// Came in by mail or web form from the requester.
    Inbound,
    /// A public reply to the requester.
    Outbound,
    /// An internal note, never sent.
    Note,
}

string_enum!(MessageKind, "kind", "inbound, outbound, note", {
    Inbound => "inbound", Outbound => "outbound", Note => "note",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>().ok(), Some(*s));
        }
        for p in Priority::ALL {
            assert_eq!(Priority::from_rank(p.rank()), *p);
            assert_eq!(p.as_str().parse::<Priority>().ok(), Some(*p));
        }
        assert!("HIGH".parse::<Priority>().is_ok());
        assert!("bald".parse::<Priority>().is_err());
    }

    #[test]
    fn escalation_caps_at_urgent() {
        assert_eq!(Priority::Low.raised(), Priority::Normal);
        assert_eq!(Priority::Urgent.raised(), Priority::Urgent);
    }
}
