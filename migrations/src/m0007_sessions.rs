//! Browser sessions after an SSO login (server-side: the cookie holds only a
//! random token, stored here as its hash), and logins under way (state,
//! nonce and PKCE verifier between the redirect and the callback), and
//! one-time login links (the bootstrap admin's way in without a provider).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    TokenHash,
    UserId,
    CsrfToken,
    IdToken,
    CreatedAt,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum PendingLogins {
    Table,
    State,
    Nonce,
    PkceVerifier,
    ReturnTo,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LoginLinks {
    Table,
    TokenHash,
    UserId,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(string(Sessions::TokenHash).primary_key())
                .col(big_integer(Sessions::UserId))
                .col(string(Sessions::CsrfToken))
                .col(text_null(Sessions::IdToken))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("sessions_user").table(Sessions::Table).col(Sessions::UserId).to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table(PendingLogins::Table)
                .col(string(PendingLogins::State).primary_key())
                .col(string(PendingLogins::Nonce))
                .col(string(PendingLogins::PkceVerifier))
                .col(string(PendingLogins::ReturnTo))
                .col(timestamp_with_time_zone(PendingLogins::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(LoginLinks::Table)
                .col(string(LoginLinks::TokenHash).primary_key())
                .col(big_integer(LoginLinks::UserId))
                .col(timestamp_with_time_zone(LoginLinks::ExpiresAt))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(LoginLinks::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(PendingLogins::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Sessions::Table).to_owned()).await?;
        Ok(())
    }
}
