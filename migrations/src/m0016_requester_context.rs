//! A place to work all day (issue 18): the requester's other tickets and
//! recorded bounces are looked up by address (two indexes); drafts of
//! replies and notes per person and ticket; saved list views, a person's own
//! or shared with a tenant; merged tickets and the ticket they live on in;
//! tags on tickets; who has a ticket's reply form open.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Drafts {
    Table,
    TicketId,
    UserId,
    Kind,
    Body,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SavedViews {
    Table,
    Id,
    UserId,
    TenantId,
    Name,
    Query,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TicketMerges {
    Table,
    MergedId,
    SurvivorId,
    MergedBy,
    MergedAt,
}

#[derive(DeriveIden)]
enum TicketTags {
    Table,
    TicketId,
    Tag,
}

#[derive(DeriveIden)]
enum TicketPresence {
    Table,
    TicketId,
    UserId,
    SeenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("CREATE INDEX tickets_requester ON tickets (requester, tenant_id, created_at)").await?;
        db.execute_unprepared("CREATE INDEX bounces_address ON bounces (address)").await?;
        m.create_table(
            Table::create()
                .table(Drafts::Table)
                .col(big_integer(Drafts::TicketId))
                .col(big_integer(Drafts::UserId))
                .col(string(Drafts::Kind))
                .col(text(Drafts::Body))
                .col(timestamp_with_time_zone(Drafts::UpdatedAt))
                .primary_key(Index::create().col(Drafts::TicketId).col(Drafts::UserId).col(Drafts::Kind))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SavedViews::Table)
                .col(big_pk_auto(SavedViews::Id))
                // The owner; for a shared view, who shared it.
                .col(big_integer(SavedViews::UserId))
                // Set: shared with everyone who reads this tenant's tickets.
                .col(big_integer_null(SavedViews::TenantId))
                .col(string(SavedViews::Name))
                // The list's address parameters (`tenant=nw&queue=presse&besitz=niemand`).
                .col(text(SavedViews::Query))
                .col(timestamp_with_time_zone(SavedViews::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("saved_views_user").table(SavedViews::Table).col(SavedViews::UserId).to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TicketMerges::Table)
                .col(big_integer(TicketMerges::MergedId).primary_key())
                .col(big_integer(TicketMerges::SurvivorId))
                .col(big_integer_null(TicketMerges::MergedBy))
                .col(timestamp_with_time_zone(TicketMerges::MergedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TicketTags::Table)
                .col(big_integer(TicketTags::TicketId))
                .col(string(TicketTags::Tag))
                .primary_key(Index::create().col(TicketTags::TicketId).col(TicketTags::Tag))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ticket_tags_tag").table(TicketTags::Table).col(TicketTags::Tag).to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TicketPresence::Table)
                .col(big_integer(TicketPresence::TicketId))
                .col(big_integer(TicketPresence::UserId))
                .col(timestamp_with_time_zone(TicketPresence::SeenAt))
                .primary_key(Index::create().col(TicketPresence::TicketId).col(TicketPresence::UserId))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TicketPresence::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(TicketTags::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(TicketMerges::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(SavedViews::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Drafts::Table).to_owned()).await?;
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX tickets_requester").await?;
        db.execute_unprepared("DROP INDEX bounces_address").await?;
        Ok(())
    }
}
