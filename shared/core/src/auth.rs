//! Personal API tokens and turning one into a [`Principal`].
//!
//! Tokens are shown once and stored only as a SHA-256 hash; they are 256
//! random bits, so a fast hash is enough (no password stretching needed).

use crate::{AppError, AppResult, Logbuch};
use logbuch_authz::{Assignment, Principal};
use logbuch_domain::{QueueId, Role, TenantId, UserId};
use logbuch_store::{entity::user, users};
use rand::RngCore;
use sha2::{Digest, Sha256};

const TOKEN_PREFIX: &str = "lb_";

/// A fresh random token, as shown to its owner.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Logbuch {
    /// The person behind a bearer token, with their current role assignments.
    pub async fn authenticate_token(&self, token: &str) -> AppResult<Principal> {
        let token = token.trim();
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
            return Err(AppError::Unauthenticated);
        }
        let (user, rows) = users::user_and_roles_by_token_hash(&self.store.db, &hash_token(token))
            .await?
            .ok_or(AppError::Unauthenticated)?;
        Ok(principal_of(user, rows))
    }

    /// Builds the principal of a known, active user (also used by SSO sessions).
    pub async fn principal_for(&self, user: user::Model) -> AppResult<Principal> {
        principal_on(&self.store.db, user).await
    }
}

/// As [`Logbuch::principal_for`], inside a transaction (SQLite has one connection).
pub(crate) async fn principal_on(db: &impl sea_orm::ConnectionTrait, user: user::Model) -> AppResult<Principal> {
    let rows = users::assignments_of(db, user.id).await?;
    Ok(principal_of(user, rows))
}

pub(crate) fn principal_of(user: user::Model, rows: Vec<logbuch_store::entity::role_assignment::Model>) -> Principal {
    let assignments = rows
        .into_iter()
        .filter_map(|a| {
            // An unknown role string in the database grants nothing.
            let role: Role = a.role.parse().ok()?;
            Some(Assignment { role, tenant: a.tenant_id.map(TenantId), queue: a.queue_id.map(QueueId) })
        })
        .collect();
    Principal { user: UserId(user.id), email: user.email, display_name: user.display_name, assignments }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == 3 + 64);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), hash_token(&b));
    }
}
