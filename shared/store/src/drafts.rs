//! Drafts of replies and notes, one per person, ticket and kind, kept on the
//! server so they survive a closed browser and a new login.

use crate::entity::draft;
use crate::{Result, now};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

pub use draft::Model as Draft;

pub async fn save(db: &impl ConnectionTrait, ticket_id: i64, user_id: i64, kind: &str, body: &str) -> Result<()> {
    draft::Entity::insert(draft::ActiveModel {
        ticket_id: Set(ticket_id),
        user_id: Set(user_id),
        kind: Set(kind.to_owned()),
        body: Set(body.to_owned()),
        updated_at: Set(now()),
    })
    .on_conflict(
        OnConflict::columns([draft::Column::TicketId, draft::Column::UserId, draft::Column::Kind])
            .update_columns([draft::Column::Body, draft::Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn get(db: &impl ConnectionTrait, ticket_id: i64, user_id: i64, kind: &str) -> Result<Option<Draft>> {
    Ok(draft::Entity::find_by_id((ticket_id, user_id, kind.to_owned())).one(db).await?)
}

pub async fn delete(db: &impl ConnectionTrait, ticket_id: i64, user_id: i64, kind: &str) -> Result<bool> {
    let r = draft::Entity::delete_many()
        .filter(draft::Column::TicketId.eq(ticket_id))
        .filter(draft::Column::UserId.eq(user_id))
        .filter(draft::Column::Kind.eq(kind))
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}
