//! Mail intake: the job queue table (SQL backend), raw mails as received,
//! the (Message-ID, tenant) keys that make intake idempotent, bounces and
//! the per-tenant-and-day bounce collection tickets, links between the
//! tickets one mail opened in several tenants, IMAP mailbox state.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Payload,
    Status,
    Attempts,
    RunAt,
    ReservedUntil,
    ReservedBy,
    LastError,
    EnqueuedAt,
}

#[derive(DeriveIden)]
enum RawMails {
    Table,
    Id,
    Source,
    MessageId,
    Sha256,
    Size,
    Content,
    ReceivedAt,
    State,
    Kind,
    Reason,
    Attempts,
    ProcessedAt,
}

#[derive(DeriveIden)]
enum IntakeKeys {
    Table,
    MessageId,
    TenantId,
    TicketId,
    RawMailId,
}

#[derive(DeriveIden)]
enum Bounces {
    Table,
    Id,
    RawMailId,
    TenantId,
    TicketId,
    Address,
    Status,
    Matched,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BounceCollections {
    Table,
    TenantId,
    Day,
    TicketId,
}

#[derive(DeriveIden)]
enum TicketLinks {
    Table,
    TicketId,
    LinkedId,
}

#[derive(DeriveIden)]
enum Mailboxes {
    Table,
    Name,
    UidValidity,
    LastUid,
    LeaseOwner,
    LeaseUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Jobs::Table)
                .col(big_pk_auto(Jobs::Id))
                .col(string(Jobs::Kind))
                .col(text(Jobs::Payload))
                .col(string(Jobs::Status))
                .col(integer(Jobs::Attempts))
                .col(big_integer(Jobs::RunAt))
                .col(big_integer_null(Jobs::ReservedUntil))
                .col(string_null(Jobs::ReservedBy))
                .col(text_null(Jobs::LastError))
                .col(big_integer(Jobs::EnqueuedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("jobs_due")
                .table(Jobs::Table)
                .col(Jobs::Kind)
                .col(Jobs::Status)
                .col(Jobs::RunAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RawMails::Table)
                .col(big_pk_auto(RawMails::Id))
                .col(string(RawMails::Source))
                .col(string(RawMails::MessageId))
                .col(string(RawMails::Sha256))
                .col(big_integer(RawMails::Size))
                .col(blob(RawMails::Content))
                .col(timestamp_with_time_zone(RawMails::ReceivedAt))
                .col(string(RawMails::State))
                .col(string_null(RawMails::Kind))
                .col(text_null(RawMails::Reason))
                .col(integer(RawMails::Attempts))
                .col(timestamp_with_time_zone_null(RawMails::ProcessedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("raw_mails_source_message_id")
                .table(RawMails::Table)
                .col(RawMails::Source)
                .col(RawMails::MessageId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("raw_mails_state")
                .table(RawMails::Table)
                .col(RawMails::State)
                .col(RawMails::Id)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(IntakeKeys::Table)
                .col(string(IntakeKeys::MessageId))
                .col(big_integer(IntakeKeys::TenantId))
                .col(big_integer(IntakeKeys::TicketId))
                .col(big_integer(IntakeKeys::RawMailId))
                .primary_key(Index::create().col(IntakeKeys::MessageId).col(IntakeKeys::TenantId))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Bounces::Table)
                .col(big_pk_auto(Bounces::Id))
                .col(big_integer(Bounces::RawMailId))
                .col(big_integer(Bounces::TenantId))
                .col(big_integer(Bounces::TicketId))
                .col(string(Bounces::Address))
                .col(string_null(Bounces::Status))
                .col(boolean(Bounces::Matched))
                .col(timestamp_with_time_zone(Bounces::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("bounces_ticket").table(Bounces::Table).col(Bounces::TicketId).to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table(BounceCollections::Table)
                .col(big_integer(BounceCollections::TenantId))
                .col(string(BounceCollections::Day))
                .col(big_integer(BounceCollections::TicketId))
                .primary_key(Index::create().col(BounceCollections::TenantId).col(BounceCollections::Day))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TicketLinks::Table)
                .col(big_integer(TicketLinks::TicketId))
                .col(big_integer(TicketLinks::LinkedId))
                .primary_key(Index::create().col(TicketLinks::TicketId).col(TicketLinks::LinkedId))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Mailboxes::Table)
                .col(string(Mailboxes::Name).primary_key())
                .col(big_integer_null(Mailboxes::UidValidity))
                .col(big_integer(Mailboxes::LastUid))
                .col(string_null(Mailboxes::LeaseOwner))
                .col(big_integer_null(Mailboxes::LeaseUntil))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Mailboxes::Table.into_iden(),
            TicketLinks::Table.into_iden(),
            BounceCollections::Table.into_iden(),
            Bounces::Table.into_iden(),
            IntakeKeys::Table.into_iden(),
            RawMails::Table.into_iden(),
            Jobs::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
