//! The normalised reason beside each failed address of a bounce
//! (`user_unknown`, `mailbox_full`, `complaint`, …; see logbuch_mail::Reason).
//! Rows from before have none.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Bounces {
    Table,
    Reason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table(Bounces::Table).add_column(ColumnDef::new(Bounces::Reason).string().null()).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Bounces::Table).drop_column(Bounces::Reason).to_owned()).await
    }
}
