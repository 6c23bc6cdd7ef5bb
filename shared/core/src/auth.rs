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
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
        let hash = hash_token(token);
        if let Some(p) = self.principals.get(&hash) {
            return Ok(p);
        }
        let generation = self.principals.generation();
        let (user, rows) =
            users::user_and_roles_by_token_hash(&self.store.db, &hash).await?.ok_or(AppError::Unauthenticated)?;
        let p = principal_of(user, rows);
        self.principals.put(hash, &p, generation);
        Ok(p)
    }

    /// Builds the principal of a known, active user (also used by SSO sessions).
    pub async fn principal_for(&self, user: user::Model) -> AppResult<Principal> {
        principal_on(&self.store.db, user).await
    }

    /// Listens for changes of users, tokens and roles (PostgreSQL's
    /// `logbuch_principals` notifications, migration m0010) and, while it
    /// hears them, lets [`Logbuch::authenticate_token`] reuse the principal
    /// of a recently seen token. The listener has its own connection, not
    /// one of the pool's. Every few seconds a ping goes through the channel;
    /// when pings stop arriving (a dead or half-open connection), kept
    /// principals are no longer used. Without a listener (SQLite, or the
    /// connection lost) every request reads the database again.
    pub fn follow_principal_changes(&self) {
        if self.store.backend() != sea_orm::DbBackend::Postgres {
            return;
        }
        // Named, so an operator (or a test) can find it in pg_stat_activity.
        let mut url = self.settings.database_url();
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str("application_name=logbuch-principals");
        let cache = self.principals.clone();
        tokio::spawn(async move {
            use sea_orm::sqlx::postgres::PgListener;
            loop {
                let listener = async {
                    let mut l = PgListener::connect(&url).await?;
                    // A lost connection ends the wait at once (no silent reconnect).
                    l.eager_reconnect(false);
                    l.listen(logbuch_migrations::PRINCIPALS_CHANNEL).await?;
                    Ok::<_, sea_orm::sqlx::Error>(l)
                };
                match listener.await {
                    Ok(mut l) => {
                        cache.changed();
                        cache.heard();
                        cache.listening(true);
                        // `try_recv` answers None when the connection is lost.
                        let why = loop {
                            match l.try_recv().await {
                                Ok(Some(n)) if n.payload() == PING => cache.heard(),
                                Ok(Some(_)) => {
                                    cache.heard();
                                    cache.changed();
                                }
                                Ok(None) => break "connection closed".to_owned(),
                                Err(e) => break e.to_string(),
                            }
                        };
                        tracing::warn!(error = %why, "lost the database's notifications of role changes; reading roles per request");
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot listen for role changes; reading roles per request"),
                }
                cache.listening(false);
                cache.changed();
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
        // The pings, through the pool like any change.
        let db = self.store.db.clone();
        tokio::spawn(async move {
            let ping = format!("SELECT pg_notify('{}', '{PING}')", logbuch_migrations::PRINCIPALS_CHANNEL);
            let mut every = tokio::time::interval(PING_EVERY);
            loop {
                every.tick().await;
                if let Err(e) = sea_orm::ConnectionTrait::execute_unprepared(&db, &ping).await {
                    if matches!(e, sea_orm::DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::ConnectionClosed))
                    {
                        return;
                    }
                    tracing::debug!(error = %e, "ping for role changes failed");
                }
            }
        });
    }

    /// Whether the principals of tokens are being kept (PostgreSQL, with the
    /// change notifications heard); for tests.
    pub fn keeps_principals(&self) -> bool {
        self.principals.trusted()
    }
}

/// The payload of the listener's own pings.
const PING: &str = "ping";
/// How often the listener pings itself.
const PING_EVERY: Duration = Duration::from_secs(3);
/// Kept principals are not used when no ping came back for this long.
const PING_DEADLINE: Duration = Duration::from_secs(10);

/// Principals of recently used API tokens, by token hash: a burst of
/// requests does not read the same token and roles every time. Trusted only
/// while the database's change notifications are heard (listening, and a
/// ping came back lately); every change notification empties it, and a
/// principal read before a change is not kept (`generation`).
#[derive(Default)]
pub(crate) struct PrincipalCache {
    state: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    listening: bool,
    /// When a notification (or ping) last arrived.
    heard: Option<Instant>,
    /// Counts the changes heard of.
    generation: u64,
    entries: HashMap<String, (Instant, Principal)>,
}

impl Kept {
    fn trusted(&self) -> bool {
        self.listening && self.heard.is_some_and(|at| at.elapsed() < PING_DEADLINE)
    }
}

impl std::fmt::Debug for PrincipalCache {
    // Counts only: the entries hold addresses and token hashes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.state();
        f.debug_struct("PrincipalCache").field("trusted", &kept.trusted()).field("kept", &kept.entries.len()).finish()
    }
}

/// How long a kept principal is used at most, notifications or not.
const PRINCIPAL_TTL: Duration = Duration::from_secs(30);
/// Tokens kept at most; when full, expired ones go, and if that is not enough, all.
const PRINCIPALS_KEPT: usize = 10_000;

impl PrincipalCache {
    /// Every field is set whole, so a panic elsewhere leaves nothing half-done.
    fn state(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn listening(&self, on: bool) {
        self.state().listening = on;
    }

    /// A notification (or ping) arrived.
    fn heard(&self) {
        self.state().heard = Some(Instant::now());
    }

    /// Listening, and heard lately.
    fn trusted(&self) -> bool {
        self.state().trusted()
    }

    fn get(&self, hash: &str) -> Option<Principal> {
        let kept = self.state();
        if !kept.trusted() {
            return None;
        }
        kept.entries.get(hash).filter(|(at, _)| at.elapsed() < PRINCIPAL_TTL).map(|(_, p)| p.clone())
    }

    fn generation(&self) -> u64 {
        self.state().generation
    }

    /// Keeps `p`, read when the generation was `generation`, unless something changed since.
    fn put(&self, hash: String, p: &Principal, generation: u64) {
        let mut kept = self.state();
        if !kept.trusted() || kept.generation != generation {
            return;
        }
        if kept.entries.len() >= PRINCIPALS_KEPT {
            kept.entries.retain(|_, (at, _)| at.elapsed() < PRINCIPAL_TTL);
            if kept.entries.len() >= PRINCIPALS_KEPT {
                kept.entries.clear();
            }
        }
        kept.entries.insert(hash, (Instant::now(), p.clone()));
    }

    /// Someone's token, account or roles changed: forget every kept principal.
    pub(crate) fn changed(&self) {
        let mut kept = self.state();
        kept.generation += 1;
        kept.entries.clear();
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

    fn someone() -> Principal {
        Principal { user: UserId(7), email: "a@b".into(), display_name: "A".into(), assignments: Vec::new() }
    }

    #[test]
    fn kept_principals_follow_the_change_notifications() {
        let cache = PrincipalCache::default();
        // Not listening: nothing is kept.
        cache.put("h".into(), &someone(), cache.generation());
        assert!(cache.get("h").is_none());
        cache.listening(true);
        cache.heard();
        cache.put("h".into(), &someone(), cache.generation());
        assert_eq!(cache.get("h").map(|p| p.user), Some(UserId(7)));
        // A change empties it.
        cache.changed();
        assert!(cache.get("h").is_none());
        // A principal read before a change is not kept.
        let before = cache.generation();
        cache.changed();
        cache.put("h".into(), &someone(), before);
        assert!(cache.get("h").is_none());
        // Listening stopped: what is kept is not used.
        cache.put("h".into(), &someone(), cache.generation());
        cache.listening(false);
        assert!(cache.get("h").is_none());
    }
}
