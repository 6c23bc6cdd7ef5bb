//! Mail templates and canned responses, edited at run time. The Bund's
//! rows are the defaults; an LV's row overrides the Bund's of the same name.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Templates {
    Table,
    Id,
    TenantId,
    Name,
    Subject,
    Body,
    Html,
    UpdatedAt,
    UpdatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Templates::Table)
                .col(big_pk_auto(Templates::Id))
                .col(big_integer(Templates::TenantId))
                .col(string(Templates::Name))
                .col(text(Templates::Subject))
                .col(text(Templates::Body))
                .col(text_null(Templates::Html))
                .col(timestamp_with_time_zone(Templates::UpdatedAt))
                .col(big_integer_null(Templates::UpdatedBy))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("templates_tenant_name")
                .table(Templates::Table)
                .col(Templates::TenantId)
                .col(Templates::Name)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Templates::Table).to_owned()).await
    }
}
