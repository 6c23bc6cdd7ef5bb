//! The requester's side (web form and status page): personal links to a
//! ticket (stored as the token's hash), the extra fields a help topic asks
//! for, rate-limit counters that hold across replicas, the secret that signs
//! form tokens, each tenant's help topics, queues whose replies go only
//! through the status page, and a history actor that is not a staff member
//! (the requester).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PortalLinks {
    Table,
    Id,
    TokenHash,
    TicketId,
    Requester,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TicketFields {
    Table,
    Id,
    TicketId,
    Position,
    Label,
    Value,
}

#[derive(DeriveIden)]
enum RateHits {
    Table,
    Bucket,
    Slot,
    Hits,
}

#[derive(DeriveIden)]
enum AppSecrets {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Topics,
}

#[derive(DeriveIden)]
enum Queues {
    Table,
    PortalOnly,
}

#[derive(DeriveIden)]
enum History {
    Table,
    ActorLabel,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PortalLinks::Table)
                .col(big_pk_auto(PortalLinks::Id))
                .col(string(PortalLinks::TokenHash).unique_key())
                .col(big_integer(PortalLinks::TicketId))
                .col(string(PortalLinks::Requester))
                .col(timestamp_with_time_zone(PortalLinks::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("portal_links_ticket").table(PortalLinks::Table).col(PortalLinks::TicketId).to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TicketFields::Table)
                .col(big_pk_auto(TicketFields::Id))
                .col(big_integer(TicketFields::TicketId))
                .col(integer(TicketFields::Position))
                .col(string(TicketFields::Label))
                .col(text(TicketFields::Value))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ticket_fields_ticket")
                .table(TicketFields::Table)
                .col(TicketFields::TicketId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RateHits::Table)
                .col(string(RateHits::Bucket))
                .col(big_integer(RateHits::Slot))
                .col(integer(RateHits::Hits))
                .primary_key(Index::create().col(RateHits::Bucket).col(RateHits::Slot))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AppSecrets::Table)
                .col(string(AppSecrets::Name).primary_key())
                .col(string(AppSecrets::Value))
                .to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table(Tenants::Table).add_column(text_null(Tenants::Topics)).to_owned()).await?;
        m.alter_table(
            Table::alter().table(Queues::Table).add_column(boolean(Queues::PortalOnly).default(false)).to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table(History::Table).add_column(string_null(History::ActorLabel)).to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(History::Table).drop_column(History::ActorLabel).to_owned()).await?;
        m.alter_table(Table::alter().table(Queues::Table).drop_column(Queues::PortalOnly).to_owned()).await?;
        m.alter_table(Table::alter().table(Tenants::Table).drop_column(Tenants::Topics).to_owned()).await?;
        for t in [
            PortalLinks::Table.into_iden(),
            TicketFields::Table.into_iden(),
            RateHits::Table.into_iden(),
            AppSecrets::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
