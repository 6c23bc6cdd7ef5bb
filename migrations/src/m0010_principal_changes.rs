//! Every change to who someone is and what they may do is announced: on
//! PostgreSQL, statement triggers on users, API tokens and role assignments
//! send a notification on the channel `logbuch_principals` when their
//! transaction commits. Servers listen and drop the principals they keep for
//! recently seen tokens, so a revoked role counts at once in every replica,
//! whoever changed it (the CLI, an SSO login, or SQL by hand). Bookkeeping
//! columns (`api_tokens.last_used_at`) announce nothing. SQLite has one
//! process serving; there the server keeps no principals.

use crate::PRINCIPALS_CHANNEL as CHANNEL;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = m.get_connection();
        db.execute_unprepared(&format!(
            "CREATE FUNCTION logbuch_principals_changed() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME); RETURN NULL; END $$"
        ))
        .await?;
        for (table, events) in [
            ("role_assignments", "INSERT OR UPDATE OR DELETE OR TRUNCATE"),
            ("api_tokens", "UPDATE OF user_id, token_hash, revoked_at OR DELETE OR TRUNCATE"),
            ("users", "UPDATE OF email, display_name, active OR DELETE OR TRUNCATE"),
        ] {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_announce AFTER {events} ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION logbuch_principals_changed()"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection().execute_unprepared("DROP FUNCTION logbuch_principals_changed() CASCADE").await?;
        }
        Ok(())
    }
}
