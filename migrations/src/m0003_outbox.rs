//! Outgoing mail: the durable outbox, a per-address daily count of
//! automatic mails (loop protection), and per-queue notification settings.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    TicketId,
    Kind,
    MessageId,
    EnvelopeFrom,
    Recipients,
    Raw,
    Automatic,
    State,
    Attempts,
    LastError,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum AutoMailCounts {
    Table,
    Address,
    Day,
    Count,
}

#[derive(DeriveIden)]
enum Queues {
    Table,
    Notify,
    Acknowledge,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .col(big_pk_auto(Outbox::Id))
                .col(big_integer_null(Outbox::TicketId))
                .col(string(Outbox::Kind))
                .col(string_uniq(Outbox::MessageId))
                .col(string(Outbox::EnvelopeFrom))
                .col(text(Outbox::Recipients))
                .col(blob(Outbox::Raw))
                .col(boolean(Outbox::Automatic))
                .col(string(Outbox::State))
                .col(integer(Outbox::Attempts))
                .col(text_null(Outbox::LastError))
                .col(timestamp_with_time_zone(Outbox::CreatedAt))
                .col(timestamp_with_time_zone_null(Outbox::SentAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("outbox_state").table(Outbox::Table).col(Outbox::State).col(Outbox::Id).to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("outbox_ticket").table(Outbox::Table).col(Outbox::TicketId).to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table(AutoMailCounts::Table)
                .col(string(AutoMailCounts::Address))
                .col(string(AutoMailCounts::Day))
                .col(integer(AutoMailCounts::Count))
                .primary_key(Index::create().col(AutoMailCounts::Address).col(AutoMailCounts::Day))
                .to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table(Queues::Table).add_column(text_null(Queues::Notify)).to_owned()).await?;
        m.alter_table(
            Table::alter().table(Queues::Table).add_column(boolean(Queues::Acknowledge).default(true)).to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Queues::Table).drop_column(Queues::Acknowledge).to_owned()).await?;
        m.alter_table(Table::alter().table(Queues::Table).drop_column(Queues::Notify).to_owned()).await?;
        m.drop_table(Table::drop().table(AutoMailCounts::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Outbox::Table).to_owned()).await?;
        Ok(())
    }
}
