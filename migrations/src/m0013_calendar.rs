//! Service times that count like people do: each tenant's business calendar
//! (hours, Land, extra closed days; JSON, resolved from the federation file),
//! and since when a ticket waits on the requester (its clocks pause then).

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
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Tickets::Table).drop_column(Tickets::WaitingSince).to_owned()).await?;
        m.alter_table(Table::alter().table(Tenants::Table).drop_column(Tenants::Calendar).to_owned()).await
    }
}
