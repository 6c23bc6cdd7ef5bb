//! Newtypes for identifiers so that ids of different kinds never mix.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// Database id of a tenant (Bund or one LV).
    TenantId
);
id_type!(
    /// Database id of a queue (a *Bereich*).
    QueueId
);
id_type!(
    /// Database id of a person.
    UserId
);
id_type!(
    /// The global, human-friendly ticket number (`#1234`).
    TicketId
);
id_type!(
    /// Database id of a message on a ticket.
    MessageId
);
id_type!(
    /// Database id of an attachment link (a file on a message).
    AttachmentId
);

/// The official code of a tenant: `bund` or an LV code such as `nw`.
///
/// Always lower case; LV codes are two ASCII letters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantCode(String);

/// The federal tenant's code.
pub const BUND: &str = "bund";

impl TenantCode {
    /// Parses and normalises a tenant code (`NW` → `nw`).
    pub fn parse(raw: &str) -> Result<Self, crate::ParseError> {
        let code = raw.trim().to_ascii_lowercase();
        let ok = code == BUND || (code.len() == 2 && code.bytes().all(|b| b.is_ascii_lowercase()));
        if ok {
            Ok(Self(code))
        } else {
            Err(crate::ParseError::new(
                "tenant",
                format!("„{raw}“ ist kein Mandantenkürzel (bund oder ein LV-Kürzel wie nw, by)"),
            ))
        }
    }

    /// The federal tenant.
    pub fn bund() -> Self {
        Self(BUND.to_owned())
    }

    pub fn is_bund(&self) -> bool {
        self.0 == BUND
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The authorization domain of this tenant: `bund` or `lv/xx`.
    ///
    /// Policies grant per domain pattern, for example `lv/*` for every LV.
    pub fn authz_domain(&self) -> String {
        if self.is_bund() { BUND.to_owned() } else { format!("lv/{}", self.0) }
    }
}

impl TryFrom<String> for TenantCode {
    type Error = crate::ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TenantCode> for String {
    fn from(value: TenantCode) -> Self {
        value.0
    }
}

impl fmt::Display for TenantCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_codes_are_normalised() {
        assert_eq!(TenantCode::parse(" NW ").map(String::from).ok().as_deref(), Some("nw"));
        assert!(TenantCode::parse("bund").is_ok_and(|c| c.is_bund()));
        assert!(TenantCode::parse("nrw").is_err());
        assert!(TenantCode::parse("n1").is_err());
        assert!(TenantCode::parse("").is_err());
    }

    #[test]
    fn authz_domains() {
        let nw = TenantCode::parse("nw").ok();
        assert_eq!(nw.map(|c| c.authz_domain()).as_deref(), Some("lv/nw"));
        assert_eq!(TenantCode::bund().authz_domain(), "bund");
    }
}
