//! The core schema: tenants, queues, people, roles, tokens, tickets,
//! messages, attachments, history and the access log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Code,
    Name,
    DefaultQueueId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Queues {
    Table,
    Id,
    TenantId,
    Slug,
    Name,
    DefaultPriority,
    FirstResponseMinutes,
    ResolutionMinutes,
    EscalationMinutes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum QueueAddresses {
    Table,
    Address,
    QueueId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Subject,
    Email,
    DisplayName,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RoleAssignments {
    Table,
    Id,
    UserId,
    Role,
    TenantId,
    QueueId,
    Source,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GroupMappings {
    Table,
    Id,
    GroupName,
    Role,
    TenantId,
    QueueId,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    UserId,
    Name,
    TokenHash,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
    TenantId,
    QueueId,
    Subject,
    Status,
    Priority,
    OwnerId,
    Requester,
    RequesterName,
    CreatedAt,
    UpdatedAt,
    ResolvedAt,
    FirstResponseDue,
    ResolutionDue,
    FirstRespondedAt,
}

#[derive(DeriveIden)]
enum TicketWatchers {
    Table,
    TicketId,
    UserId,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    TicketId,
    Kind,
    AuthorId,
    FromAddr,
    ToAddrs,
    CcAddrs,
    Subject,
    MessageIdHeader,
    InReplyTo,
    References,
    BodyText,
    BodyHtml,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Blobs {
    Table,
    Sha256,
    Size,
    Content,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Attachments {
    Table,
    Id,
    MessageId,
    TicketId,
    Sha256,
    Filename,
    ContentType,
    Size,
}

#[derive(DeriveIden)]
enum History {
    Table,
    Id,
    TicketId,
    ActorId,
    At,
    Field,
    OldValue,
    NewValue,
}

#[derive(DeriveIden)]
enum AccessLog {
    Table,
    Id,
    TicketId,
    UserId,
    At,
    What,
}

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from_table, from_col).to(to_table, to_col).to_owned()
}

fn index(name: &str, table: impl IntoIden, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(c);
    }
    idx.to_owned()
}

macro_rules! cols {
    ($($c:expr),+) => { vec![$(Alias::new(Iden::to_string(&$c)).into_iden()),+] };
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Tenants::Table)
                .col(big_pk_auto(Tenants::Id))
                .col(string_uniq(Tenants::Code))
                .col(string(Tenants::Name))
                .col(big_integer_null(Tenants::DefaultQueueId))
                .col(timestamp_with_time_zone(Tenants::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Queues::Table)
                .col(big_pk_auto(Queues::Id))
                .col(big_integer(Queues::TenantId))
                .col(string(Queues::Slug))
                .col(string(Queues::Name))
                .col(small_integer(Queues::DefaultPriority))
                .col(integer_null(Queues::FirstResponseMinutes))
                .col(integer_null(Queues::ResolutionMinutes))
                .col(integer_null(Queues::EscalationMinutes))
                .col(timestamp_with_time_zone(Queues::CreatedAt))
                .foreign_key(&mut fk(Queues::Table, Queues::TenantId, Tenants::Table, Tenants::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("queues_tenant_slug", Queues::Table, cols!(Queues::TenantId, Queues::Slug)).unique().to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(QueueAddresses::Table)
                .col(string(QueueAddresses::Address).primary_key())
                .col(big_integer(QueueAddresses::QueueId))
                .foreign_key(&mut fk(QueueAddresses::Table, QueueAddresses::QueueId, Queues::Table, Queues::Id))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(big_pk_auto(Users::Id))
                .col(string_null(Users::Subject).unique_key())
                .col(string_uniq(Users::Email))
                .col(string(Users::DisplayName))
                .col(boolean(Users::Active))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RoleAssignments::Table)
                .col(big_pk_auto(RoleAssignments::Id))
                .col(big_integer(RoleAssignments::UserId))
                .col(string(RoleAssignments::Role))
                .col(big_integer_null(RoleAssignments::TenantId))
                .col(big_integer_null(RoleAssignments::QueueId))
                .col(string(RoleAssignments::Source))
                .col(timestamp_with_time_zone(RoleAssignments::CreatedAt))
                .foreign_key(&mut fk(RoleAssignments::Table, RoleAssignments::UserId, Users::Table, Users::Id))
                .foreign_key(&mut fk(RoleAssignments::Table, RoleAssignments::TenantId, Tenants::Table, Tenants::Id))
                .foreign_key(&mut fk(RoleAssignments::Table, RoleAssignments::QueueId, Queues::Table, Queues::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("role_assignments_user", RoleAssignments::Table, cols!(RoleAssignments::UserId))).await?;
        m.create_table(
            Table::create()
                .table(GroupMappings::Table)
                .col(big_pk_auto(GroupMappings::Id))
                .col(string(GroupMappings::GroupName))
                .col(string(GroupMappings::Role))
                .col(big_integer_null(GroupMappings::TenantId))
                .col(big_integer_null(GroupMappings::QueueId))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ApiTokens::Table)
                .col(big_pk_auto(ApiTokens::Id))
                .col(big_integer(ApiTokens::UserId))
                .col(string(ApiTokens::Name))
                .col(string_uniq(ApiTokens::TokenHash))
                .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                .foreign_key(&mut fk(ApiTokens::Table, ApiTokens::UserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Tickets::Table)
                .col(big_pk_auto(Tickets::Id))
                .col(big_integer(Tickets::TenantId))
                .col(big_integer(Tickets::QueueId))
                .col(string(Tickets::Subject))
                .col(string(Tickets::Status))
                .col(small_integer(Tickets::Priority))
                .col(big_integer_null(Tickets::OwnerId))
                .col(string(Tickets::Requester))
                .col(string_null(Tickets::RequesterName))
                .col(timestamp_with_time_zone(Tickets::CreatedAt))
                .col(timestamp_with_time_zone(Tickets::UpdatedAt))
                .col(timestamp_with_time_zone_null(Tickets::ResolvedAt))
                .col(timestamp_with_time_zone_null(Tickets::FirstResponseDue))
                .col(timestamp_with_time_zone_null(Tickets::ResolutionDue))
                .col(timestamp_with_time_zone_null(Tickets::FirstRespondedAt))
                .foreign_key(&mut fk(Tickets::Table, Tickets::TenantId, Tenants::Table, Tenants::Id))
                .foreign_key(&mut fk(Tickets::Table, Tickets::QueueId, Queues::Table, Queues::Id))
                .foreign_key(&mut fk(Tickets::Table, Tickets::OwnerId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        // The working lists: a tenant's (or queue's) active tickets by priority and age.
        m.create_index(index(
            "tickets_tenant_status_prio",
            Tickets::Table,
            cols!(Tickets::TenantId, Tickets::Status, Tickets::Priority, Tickets::UpdatedAt),
        ))
        .await?;
        m.create_index(index(
            "tickets_queue_status_prio",
            Tickets::Table,
            cols!(Tickets::QueueId, Tickets::Status, Tickets::Priority, Tickets::UpdatedAt),
        ))
        .await?;
        m.create_index(index("tickets_owner_status", Tickets::Table, cols!(Tickets::OwnerId, Tickets::Status))).await?;
        m.create_table(
            Table::create()
                .table(TicketWatchers::Table)
                .col(big_integer(TicketWatchers::TicketId))
                .col(big_integer(TicketWatchers::UserId))
                .primary_key(Index::create().col(TicketWatchers::TicketId).col(TicketWatchers::UserId))
                .foreign_key(&mut fk(TicketWatchers::Table, TicketWatchers::TicketId, Tickets::Table, Tickets::Id))
                .foreign_key(&mut fk(TicketWatchers::Table, TicketWatchers::UserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Messages::Table)
                .col(big_pk_auto(Messages::Id))
                .col(big_integer(Messages::TicketId))
                .col(string(Messages::Kind))
                .col(big_integer_null(Messages::AuthorId))
                .col(string_null(Messages::FromAddr))
                .col(text_null(Messages::ToAddrs))
                .col(text_null(Messages::CcAddrs))
                .col(string_null(Messages::Subject))
                .col(string_null(Messages::MessageIdHeader))
                .col(string_null(Messages::InReplyTo))
                .col(text_null(Messages::References))
                .col(text(Messages::BodyText))
                .col(text_null(Messages::BodyHtml))
                .col(timestamp_with_time_zone(Messages::CreatedAt))
                .foreign_key(&mut fk(Messages::Table, Messages::TicketId, Tickets::Table, Tickets::Id))
                .foreign_key(&mut fk(Messages::Table, Messages::AuthorId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("messages_ticket", Messages::Table, cols!(Messages::TicketId, Messages::Id))).await?;
        m.create_index(index("messages_message_id", Messages::Table, cols!(Messages::MessageIdHeader))).await?;
        m.create_table(
            Table::create()
                .table(Blobs::Table)
                .col(string(Blobs::Sha256).primary_key())
                .col(big_integer(Blobs::Size))
                .col(blob(Blobs::Content))
                .col(timestamp_with_time_zone(Blobs::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Attachments::Table)
                .col(big_pk_auto(Attachments::Id))
                .col(big_integer(Attachments::MessageId))
                .col(big_integer(Attachments::TicketId))
                .col(string(Attachments::Sha256))
                .col(string(Attachments::Filename))
                .col(string(Attachments::ContentType))
                .col(big_integer(Attachments::Size))
                .foreign_key(&mut fk(Attachments::Table, Attachments::MessageId, Messages::Table, Messages::Id))
                .foreign_key(&mut fk(Attachments::Table, Attachments::TicketId, Tickets::Table, Tickets::Id))
                .foreign_key(&mut fk(Attachments::Table, Attachments::Sha256, Blobs::Table, Blobs::Sha256))
                .to_owned(),
        )
        .await?;
        m.create_index(index("attachments_ticket", Attachments::Table, cols!(Attachments::TicketId))).await?;
        m.create_table(
            Table::create()
                .table(History::Table)
                .col(big_pk_auto(History::Id))
                .col(big_integer(History::TicketId))
                .col(big_integer_null(History::ActorId))
                .col(timestamp_with_time_zone(History::At))
                .col(string(History::Field))
                .col(text_null(History::OldValue))
                .col(text_null(History::NewValue))
                .foreign_key(&mut fk(History::Table, History::TicketId, Tickets::Table, Tickets::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("history_ticket", History::Table, cols!(History::TicketId, History::Id))).await?;
        m.create_table(
            Table::create()
                .table(AccessLog::Table)
                .col(big_pk_auto(AccessLog::Id))
                .col(big_integer(AccessLog::TicketId))
                .col(big_integer(AccessLog::UserId))
                .col(timestamp_with_time_zone(AccessLog::At))
                .col(string(AccessLog::What))
                .to_owned(),
        )
        .await?;
        m.create_index(index("access_log_ticket", AccessLog::Table, cols!(AccessLog::TicketId))).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            AccessLog::Table.into_iden(),
            History::Table.into_iden(),
            Attachments::Table.into_iden(),
            Blobs::Table.into_iden(),
            Messages::Table.into_iden(),
            TicketWatchers::Table.into_iden(),
            Tickets::Table.into_iden(),
            ApiTokens::Table.into_iden(),
            GroupMappings::Table.into_iden(),
            RoleAssignments::Table.into_iden(),
            Users::Table.into_iden(),
            QueueAddresses::Table.into_iden(),
            Queues::Table.into_iden(),
            Tenants::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
