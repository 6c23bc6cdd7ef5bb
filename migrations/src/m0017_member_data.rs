//! Member data as the handbook requires (issue 17).
//!
//! - A tamper-evident record: every history and access-log entry gets its
//!   place in its ticket's chain, the hash of the entry before it and its own
//!   hash (set by the sealer shortly after the entry is written, so the
//!   writers stay one insert), and the checkpoint round it was sealed in.
//!   `audit_heads` holds each chain's end; `audit_checkpoints` the signed
//!   digests of all ends, one per round.
//! - OpenPGP: public keys of outside addresses, a key pair per queue that
//!   encrypts (its secret key locked with a secret from the configuration),
//!   each message's encryption and signature state, the queue's mode.
//! - Retention: legal holds on tickets, and a counted tombstone for every
//!   ticket anonymised or deleted (with its chains' ends at that moment, so
//!   the checkpoints stay verifiable without the removed rows).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditHeads {
    Table,
    TicketId,
    Kind,
    Length,
    Head,
}

#[derive(DeriveIden)]
enum AuditCheckpoints {
    Table,
    Id,
    At,
    Chains,
    Entries,
    PrevDigest,
    Digest,
    Signature,
    PublicKey,
}

#[derive(DeriveIden)]
enum PgpKeys {
    Table,
    Address,
    Fingerprint,
    Armored,
    Source,
    AddedAt,
    AddedBy,
}

#[derive(DeriveIden)]
enum QueueKeys {
    Table,
    QueueId,
    Fingerprint,
    PublicArmored,
    SecretArmored,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LegalHolds {
    Table,
    TicketId,
    SetBy,
    SetAt,
    Reason,
}

#[derive(DeriveIden)]
enum TicketTombstones {
    Table,
    TicketId,
    TenantId,
    Mode,
    RemovedAt,
    Reason,
    Counts,
    SealedIn,
    Chains,
    Checkpointed,
}

const CHAINED: [&str; 2] = ["history", "access_log"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for table in CHAINED {
            for col in ["chain_pos BIGINT", "prev_hash TEXT", "hash TEXT", "sealed_in BIGINT"] {
                db.execute_unprepared(&format!("ALTER TABLE {table} ADD COLUMN {col}")).await?;
            }
            // The sealer's work list: small, since entries are sealed within seconds.
            db.execute_unprepared(&format!("CREATE INDEX {table}_unsealed ON {table} (id) WHERE hash IS NULL")).await?;
        }
        // Retention removes a file when no other attachment uses it, and a
        // ticket's intake keys (an erasure or export reads them by ticket).
        db.execute_unprepared("CREATE INDEX attachments_sha256 ON attachments (sha256)").await?;
        db.execute_unprepared("CREATE INDEX intake_keys_ticket ON intake_keys (ticket_id)").await?;
        // Retention, resolved from the federation file per queue (months after resolution; mode).
        db.execute_unprepared("ALTER TABLE queues ADD COLUMN retention_months INTEGER").await?;
        db.execute_unprepared("ALTER TABLE queues ADD COLUMN retention_mode VARCHAR(16)").await?;
        // "optional" or "required" (never a reply in clear); NULL: no OpenPGP.
        db.execute_unprepared("ALTER TABLE queues ADD COLUMN encryption VARCHAR(16)").await?;
        // JSON: {"encrypted": bool, "signer": fingerprint, "signer_address", "verified": bool}.
        db.execute_unprepared("ALTER TABLE messages ADD COLUMN pgp TEXT").await?;
        m.create_table(
            Table::create()
                .table(PgpKeys::Table)
                .col(string(PgpKeys::Address).primary_key())
                .col(string(PgpKeys::Fingerprint))
                .col(text(PgpKeys::Armored))
                // "upload" (by staff), "mail" (attached to or announced in a mail), "wkd".
                .col(string(PgpKeys::Source))
                .col(timestamp_with_time_zone(PgpKeys::AddedAt))
                .col(big_integer_null(PgpKeys::AddedBy))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(QueueKeys::Table)
                .col(big_integer(QueueKeys::QueueId).primary_key())
                .col(string(QueueKeys::Fingerprint))
                .col(text(QueueKeys::PublicArmored))
                // Locked with `pgp.secret`; never leaves the server.
                .col(text(QueueKeys::SecretArmored))
                .col(timestamp_with_time_zone(QueueKeys::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditHeads::Table)
                .col(big_integer(AuditHeads::TicketId))
                // "history" or "access_log".
                .col(string(AuditHeads::Kind))
                .col(big_integer(AuditHeads::Length))
                .col(string(AuditHeads::Head))
                .primary_key(Index::create().col(AuditHeads::TicketId).col(AuditHeads::Kind))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditCheckpoints::Table)
                .col(big_integer(AuditCheckpoints::Id).primary_key())
                .col(timestamp_with_time_zone(AuditCheckpoints::At))
                .col(big_integer(AuditCheckpoints::Chains))
                .col(big_integer(AuditCheckpoints::Entries))
                .col(string(AuditCheckpoints::PrevDigest))
                .col(string(AuditCheckpoints::Digest))
                // Ed25519 over the digest, hex; the key is outside the database.
                .col(string(AuditCheckpoints::Signature))
                .col(string(AuditCheckpoints::PublicKey))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(LegalHolds::Table)
                .col(big_integer(LegalHolds::TicketId).primary_key())
                .col(big_integer_null(LegalHolds::SetBy))
                .col(timestamp_with_time_zone(LegalHolds::SetAt))
                .col(text(LegalHolds::Reason))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TicketTombstones::Table)
                .col(big_integer(TicketTombstones::TicketId).primary_key())
                .col(big_integer(TicketTombstones::TenantId))
                // "anonymised" (the ticket's figures stay) or "deleted".
                .col(string(TicketTombstones::Mode))
                .col(timestamp_with_time_zone(TicketTombstones::RemovedAt))
                // "retention" or "erasure".
                .col(string(TicketTombstones::Reason))
                // What went, counted: {"messages": 3, "attachments": 1, …}.
                .col(text(TicketTombstones::Counts))
                // The audit round it was removed in, its chains' ends then
                // (`ticket kind length head` lines) and as of the checkpoint before.
                .col(big_integer(TicketTombstones::SealedIn))
                .col(text(TicketTombstones::Chains))
                .col(text(TicketTombstones::Checkpointed))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TicketTombstones::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(LegalHolds::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(AuditCheckpoints::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(AuditHeads::Table).to_owned()).await?;
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX attachments_sha256").await?;
        db.execute_unprepared("DROP INDEX intake_keys_ticket").await?;
        db.execute_unprepared("ALTER TABLE queues DROP COLUMN retention_months").await?;
        db.execute_unprepared("ALTER TABLE queues DROP COLUMN retention_mode").await?;
        db.execute_unprepared("ALTER TABLE queues DROP COLUMN encryption").await?;
        db.execute_unprepared("ALTER TABLE messages DROP COLUMN pgp").await?;
        m.drop_table(Table::drop().table(QueueKeys::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(PgpKeys::Table).to_owned()).await?;
        for table in CHAINED {
            db.execute_unprepared(&format!("DROP INDEX {table}_unsealed")).await?;
            for col in ["chain_pos", "prev_hash", "hash", "sealed_in"] {
                db.execute_unprepared(&format!("ALTER TABLE {table} DROP COLUMN {col}")).await?;
            }
        }
        Ok(())
    }
}
