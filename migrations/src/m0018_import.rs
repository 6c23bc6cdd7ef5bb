//! Moving in (issue 19): tickets imported from Request Tracker or Redmine.
//!
//! - `import_records`: what came from where — keyed by source (the old
//!   system, e.g. `rt:https://rt.example/rt`), kind (`ticket`) and the id
//!   there, the Logbuch id it became, the source's last-updated stamp (a
//!   rerun skips what did not change), the newest source item (transaction,
//!   journal) already taken (an update takes only later ones) and the
//!   fields as last imported (an update applies only what changed at the
//!   source, never overwriting work done in Logbuch since).
//! - `ticket_refs`: the old ticket's subject tag (`logbuch.test #12`, lower
//!   case) per imported ticket, so a reply quoting `[logbuch.test #12]`
//!   threads into it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ImportRecords {
    Table,
    Source,
    Kind,
    SourceId,
    TargetId,
    SourceUpdated,
    LastItem,
    State,
    ImportedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TicketRefs {
    Table,
    Tag,
    TicketId,
    Source,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ImportRecords::Table)
                .col(string(ImportRecords::Source))
                .col(string(ImportRecords::Kind))
                .col(string(ImportRecords::SourceId))
                .col(big_integer(ImportRecords::TargetId))
                // As the source gave it (RT: `2026-12-07T10:41:07Z`); compared, never parsed.
                .col(string(ImportRecords::SourceUpdated))
                // The newest transaction or journal id taken.
                .col(big_integer(ImportRecords::LastItem))
                // JSON: subject, status, priority, owner, watchers as last imported.
                .col(text(ImportRecords::State))
                .col(timestamp_with_time_zone(ImportRecords::ImportedAt))
                .col(timestamp_with_time_zone(ImportRecords::UpdatedAt))
                .primary_key(
                    Index::create().col(ImportRecords::Source).col(ImportRecords::Kind).col(ImportRecords::SourceId),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("import_records_target")
                .table(ImportRecords::Table)
                .col(ImportRecords::TargetId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TicketRefs::Table)
                .col(string(TicketRefs::Tag).primary_key())
                .col(big_integer(TicketRefs::TicketId))
                .col(string(TicketRefs::Source))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ticket_refs_ticket").table(TicketRefs::Table).col(TicketRefs::TicketId).to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TicketRefs::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(ImportRecords::Table).to_owned()).await?;
        Ok(())
    }
}
