//! A ticket page shows the requester's other tickets and recorded bounces
//! (issue 18): both are looked up by address.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("CREATE INDEX tickets_requester ON tickets (requester)").await?;
        db.execute_unprepared("CREATE INDEX bounces_address ON bounces (address)").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX tickets_requester").await?;
        db.execute_unprepared("DROP INDEX bounces_address").await?;
        Ok(())
    }
}
