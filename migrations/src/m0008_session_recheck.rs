//! Sessions keep the provider's access and refresh tokens, so Logbuch can
//! ask the provider again while the session lasts (groups changed, person
//! left), and when it last asked.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    AccessToken,
    RefreshToken,
    CheckedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        m.alter_table(Table::alter().table(Sessions::Table).add_column(text_null(Sessions::AccessToken)).to_owned())
            .await?;
        m.alter_table(Table::alter().table(Sessions::Table).add_column(text_null(Sessions::RefreshToken)).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(Sessions::Table)
                .add_column(timestamp_with_time_zone_null(Sessions::CheckedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Sessions::Table).drop_column(Sessions::CheckedAt).to_owned()).await?;
        m.alter_table(Table::alter().table(Sessions::Table).drop_column(Sessions::RefreshToken).to_owned()).await?;
        m.alter_table(Table::alter().table(Sessions::Table).drop_column(Sessions::AccessToken).to_owned()).await
    }
}
