//! Processes and absences: each tenant's processes (JSON, resolved from the
//! federation file), the processes started on tickets with their steps (who
//! did each, when, and what they noted; the current step's due time), and
//! helpers' absences with their deputy.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Processes,
}

#[derive(DeriveIden)]
enum TicketProcesses {
    Table,
    Id,
    TicketId,
    Slug,
    Name,
    StartedAt,
    StartedBy,
    CompletedAt,
}

#[derive(DeriveIden)]
enum ProcessSteps {
    Table,
    Id,
    ProcessId,
    TicketId,
    Position,
    Name,
    Send,
    WaitRequester,
    EvidenceLabel,
    DeadlineMinutes,
    DueAt,
    DoneAt,
    DoneBy,
    DoneLabel,
    Evidence,
}

#[derive(DeriveIden)]
enum Absences {
    Table,
    UserId,
    DeputyId,
    FromDay,
    UntilDay,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Tenants::Table).add_column(text_null(Tenants::Processes)).to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table(TicketProcesses::Table)
                .col(big_pk_auto(TicketProcesses::Id))
                .col(big_integer(TicketProcesses::TicketId))
                .col(string(TicketProcesses::Slug))
                .col(string(TicketProcesses::Name))
                .col(timestamp_with_time_zone(TicketProcesses::StartedAt))
                .col(big_integer_null(TicketProcesses::StartedBy))
                .col(timestamp_with_time_zone_null(TicketProcesses::CompletedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ticket_processes_ticket")
                .table(TicketProcesses::Table)
                .col(TicketProcesses::TicketId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ProcessSteps::Table)
                .col(big_pk_auto(ProcessSteps::Id))
                .col(big_integer(ProcessSteps::ProcessId))
                .col(big_integer(ProcessSteps::TicketId))
                .col(integer(ProcessSteps::Position))
                .col(string(ProcessSteps::Name))
                .col(string_null(ProcessSteps::Send))
                .col(boolean(ProcessSteps::WaitRequester).default(false))
                .col(string_null(ProcessSteps::EvidenceLabel))
                .col(integer_null(ProcessSteps::DeadlineMinutes))
                .col(timestamp_with_time_zone_null(ProcessSteps::DueAt))
                .col(timestamp_with_time_zone_null(ProcessSteps::DoneAt))
                .col(big_integer_null(ProcessSteps::DoneBy))
                .col(string_null(ProcessSteps::DoneLabel))
                .col(text_null(ProcessSteps::Evidence))
                .to_owned(),
        )
        .await?;
        for (name, col) in
            [("process_steps_ticket", ProcessSteps::TicketId), ("process_steps_due", ProcessSteps::DueAt)]
        {
            m.create_index(Index::create().name(name).table(ProcessSteps::Table).col(col).to_owned()).await?;
        }
        m.create_table(
            Table::create()
                .table(Absences::Table)
                .col(big_integer(Absences::UserId).primary_key())
                .col(big_integer(Absences::DeputyId))
                .col(string(Absences::FromDay))
                .col(string(Absences::UntilDay))
                .col(timestamp_with_time_zone(Absences::CreatedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [Absences::Table.into_iden(), ProcessSteps::Table.into_iden(), TicketProcesses::Table.into_iden()] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.alter_table(Table::alter().table(Tenants::Table).drop_column(Tenants::Processes).to_owned()).await
    }
}
