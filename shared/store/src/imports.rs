//! Imports from other systems (issue 19): the record of what came from
//! where, and the old subject tags that still thread replies.

use crate::entity::{import_record, ticket_ref};
use crate::{Result, now};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, Statement};
use std::collections::HashMap;

pub use import_record::Model as Record;

/// Every record of one source and kind, by source id (a rerun compares
/// the source's list against it in memory).
pub async fn records_of(db: &impl ConnectionTrait, source: &str, kind: &str) -> Result<HashMap<String, Record>> {
    Ok(import_record::Entity::find()
        .filter(import_record::Column::Source.eq(source))
        .filter(import_record::Column::Kind.eq(kind))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.source_id.clone(), r))
        .collect())
}

/// One record, read again inside the writing transaction.
pub async fn record(db: &impl ConnectionTrait, source: &str, kind: &str, source_id: &str) -> Result<Option<Record>> {
    Ok(import_record::Entity::find_by_id((source.to_owned(), kind.to_owned(), source_id.to_owned())).one(db).await?)
}

/// What a record says after an import or update.
#[derive(Debug, Clone)]
pub struct Saved<'a> {
    pub source: &'a str,
    pub kind: &'a str,
    pub source_id: &'a str,
    pub target_id: i64,
    pub source_updated: &'a str,
    pub last_item: i64,
    pub state: String,
}

/// Writes a record, new or replacing the one before (its first import time stays).
pub async fn save_record(db: &impl ConnectionTrait, r: Saved<'_>) -> Result<()> {
    let at = now();
    import_record::Entity::insert(import_record::ActiveModel {
        source: Set(r.source.to_owned()),
        kind: Set(r.kind.to_owned()),
        source_id: Set(r.source_id.to_owned()),
        target_id: Set(r.target_id),
        source_updated: Set(r.source_updated.to_owned()),
        last_item: Set(r.last_item),
        state: Set(r.state),
        imported_at: Set(at),
        updated_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([
            import_record::Column::Source,
            import_record::Column::Kind,
            import_record::Column::SourceId,
        ])
        .update_columns([
            import_record::Column::TargetId,
            import_record::Column::SourceUpdated,
            import_record::Column::LastItem,
            import_record::Column::State,
            import_record::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Normalises a subject tag for storing and lookup: `[RT.Example  #12]` → `rt.example #12`.
pub fn normalize_tag(tag: &str) -> String {
    let t = tag.trim().trim_start_matches('[').trim_end_matches(']');
    t.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Notes the old subject tags of an imported ticket (a tag already taken stays where it is).
pub async fn add_refs(db: &impl ConnectionTrait, ticket_id: i64, source: &str, tags: &[String]) -> Result<()> {
    for tag in tags {
        ticket_ref::Entity::insert(ticket_ref::ActiveModel {
            tag: Set(normalize_tag(tag)),
            ticket_id: Set(ticket_id),
            source: Set(source.to_owned()),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// The ticket an old subject tag names (tags as [`normalize_tag`] gives them), first match wins.
pub async fn ticket_by_refs(db: &impl ConnectionTrait, tags: &[String]) -> Result<Option<i64>> {
    if tags.is_empty() {
        return Ok(None);
    }
    let found: HashMap<String, i64> = ticket_ref::Entity::find()
        .filter(ticket_ref::Column::Tag.is_in(tags.iter().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.tag, r.ticket_id))
        .collect();
    Ok(tags.iter().find_map(|t| found.get(t).copied()))
}

/// The old subject tags of a ticket.
pub async fn refs_of(db: &impl ConnectionTrait, ticket_id: i64) -> Result<Vec<String>> {
    Ok(ticket_ref::Entity::find()
        .filter(ticket_ref::Column::TicketId.eq(ticket_id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.tag)
        .collect())
}

/// Whether a ticket is gone from Logbuch (deleted, or anonymised by
/// retention or erasure): an import never brings it back.
pub async fn removed(db: &impl ConnectionTrait, ticket_id: i64) -> Result<bool> {
    let sql = format!(
        "SELECT (SELECT COUNT(*) FROM tickets WHERE id = {ticket_id}) - \
         (SELECT COUNT(*) FROM ticket_tombstones WHERE ticket_id = {ticket_id})"
    );
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await?;
    Ok(row.and_then(|r| r.try_get_by_index::<i64>(0).ok()).unwrap_or(0) < 1)
}
