//! Storage: sea-orm entities and the repositories over them.
//!
//! Ticket reads for people go through [`tickets`] functions that take an
//! [`AccessScope`](logbuch_domain::AccessScope); there is no unscoped
//! "find any ticket" on the web path. Functions take any connection, so a use
//! case runs several of them in one transaction.

pub mod audit;
pub mod deferred;
pub mod demo;
pub mod drafts;
pub mod entity;
pub mod history;
pub mod imports;
pub mod intake;
pub mod merges;
pub mod messages;
pub mod outbox;
pub mod pgp;
pub mod portal;
pub mod presence;
pub mod processes;
pub mod reports;
pub mod retention;
pub mod search;
pub mod sessions;
pub mod tags;
pub mod templates;
pub mod tenants;
pub mod tickets;
pub mod users;
pub mod views;

use logbuch_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend};
use std::time::Duration;

pub use deferred::Deferred;
pub use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, TransactionTrait};

/// Starts a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`:
/// the write lock is taken at once, waiting up to the busy timeout while
/// another process (the server, a pipe, an admin command) writes. A deferred
/// transaction that reads first fails instead with "database is locked" when
/// another process wrote since its read began, and no timeout helps it.
pub async fn begin_write(db: &DatabaseConnection) -> std::result::Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The database handle; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub db: DatabaseConnection,
}

impl Store {
    /// Connects to PostgreSQL or SQLite by URL.
    ///
    /// SQLite runs in WAL mode with one pooled connection: the embedded
    /// default serialises writes instead of failing them with SQLITE_BUSY.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let mut opts = ConnectOptions::new(url.to_owned());
        // No ping before each use: a broken connection fails its query and is replaced.
        opts.sqlx_logging(false).acquire_timeout(Duration::from_secs(10)).test_before_acquire(false);
        if url.starts_with("sqlite:") {
            opts.max_connections(1).min_connections(1).map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
        } else {
            // Plan each prepared statement once per connection, not per call:
            // the working lists' queries planned in 0.25 ms and ran in 0.03 ms
            // (BENCHMARKS.md). Search, where the words decide the plan, asks
            // for custom plans in its own transaction (`search::ranked_page`).
            opts.max_connections(max_connections.max(1))
                .map_sqlx_postgres_opts(|o| o.options([("plan_cache_mode", "force_generic_plan")]));
        }
        let db = Database::connect(opts).await?;
        Ok(Self { db })
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Whether migrations are waiting (a database never prepared, or an older one).
    pub async fn needs_migration(&self) -> Result<bool> {
        Ok(!Migrator::get_pending_migrations(&self.db).await?.is_empty())
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// Answers when the database does (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        self.db.ping().await?;
        Ok(())
    }
}

/// SQL written with PostgreSQL's numbered placeholders (`$1`, `$2`, each
/// used once and in order), for `backend`: SQLite gets `?` instead.
pub(crate) fn placeholders(backend: DbBackend, sql: &str) -> String {
    if backend == DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// Now, truncated to microseconds so values round-trip through both databases.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}

#[cfg(test)]
mod placeholder_tests {
    use super::*;

    #[test]
    fn numbered_become_question_marks_on_sqlite() {
        let sql = "a = $1 AND b < $2 OR c = $10";
        assert_eq!(placeholders(DbBackend::Sqlite, sql), "a = ? AND b < ? OR c = ?");
        assert_eq!(placeholders(DbBackend::Postgres, sql), sql);
    }
}
