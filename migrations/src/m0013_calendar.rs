//! Service times that count like people do: each tenant's business calendar
//! (hours, Land, extra closed days; JSON, resolved from the federation file),
//! since when a ticket waits on the requester (its clocks pause then), and
//! the breaches recorded (one per ticket and clock: the row decides who
//! notifies, however many workers look at once).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Calendar,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    WaitingSince,
}

#[derive(DeriveIden)]
enum SlaBreaches {
    Table,
    TicketId,
    Clock,
    DueAt,
    RecordedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Tenants::Table).add_column(text_null(Tenants::Calendar)).to_owned()).await?;
        m.alter_table(
            Table::alter()
                .table(Tickets::Table)
                .add_column(timestamp_with_time_zone_null(Tickets::WaitingSince))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SlaBreaches::Table)
                .col(big_integer(SlaBreaches::TicketId))
                .col(string(SlaBreaches::Clock))
                .col(timestamp_with_time_zone(SlaBreaches::DueAt))
                .col(timestamp_with_time_zone(SlaBreaches::RecordedAt))
                .primary_key(Index::create().col(SlaBreaches::TicketId).col(SlaBreaches::Clock))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SlaBreaches::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(Tickets::Table).drop_column(Tickets::WaitingSince).to_owned()).await?;
        m.alter_table(Table::alter().table(Tenants::Table).drop_column(Tenants::Calendar).to_owned()).await
    }
}
