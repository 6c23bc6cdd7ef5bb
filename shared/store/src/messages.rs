//! Messages on tickets and their attachments; file contents are stored once
//! per SHA-256, however many messages carry them.

use crate::entity::{attachment, blob, message};
use crate::{Result, now};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use sha2::{Digest, Sha256};

pub use attachment::Model as Attachment;
pub use message::Model as Message;

/// Inserts a message and its files; its subject, sender and text are searchable.
pub async fn insert(db: &impl ConnectionTrait, row: message::ActiveModel, files: &[NewFile]) -> Result<Message> {
    insert_indexed(db, row, files, None, None).await
}

/// Inserts a message and its files; `document` is what search finds it by
/// (its subject, sender and text when `None`), written at once or, in a
/// batch, with the batch's other documents. Bounces and automatic answers
/// are found by their summary: the failed addresses and reasons, not the
/// quoted mail (which costs PostgreSQL's German stemmer most of a dunning peak).
pub async fn insert_indexed(
    db: &impl ConnectionTrait,
    row: message::ActiveModel,
    files: &[NewFile],
    document: Option<&str>,
    deferred: Option<&mut crate::Deferred>,
) -> Result<Message> {
    let m = row.insert(db).await?;
    let doc = match document {
        Some(d) => d.to_owned(),
        None => [m.subject.as_deref(), m.from_addr.as_deref(), Some(m.body_text.as_str())]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n"),
    };
    match deferred {
        Some(d) => d.document(m.ticket_id, &doc),
        None => crate::search::add_document(db, m.ticket_id, &doc).await?,
    }
    for f in files {
        attach(db, m.ticket_id, m.id, f).await?;
    }
    Ok(m)
}

pub async fn of_ticket(db: &impl ConnectionTrait, ticket_id: i64) -> Result<Vec<Message>> {
    Ok(message::Entity::find()
        .filter(message::Column::TicketId.eq(ticket_id))
        .order_by_asc(message::Column::Id)
        .all(db)
        .await?)
}

/// A ticket's messages after message `after` not written by `author`
/// (someone else wrote since a page was loaded), oldest first.
pub async fn newer_by_others(
    db: &impl ConnectionTrait,
    ticket_id: i64,
    after: i64,
    author: i64,
) -> Result<Vec<Message>> {
    Ok(message::Entity::find()
        .filter(message::Column::TicketId.eq(ticket_id))
        .filter(message::Column::Id.gt(after))
        .filter(
            sea_orm::Condition::any()
                .add(message::Column::AuthorId.is_null())
                .add(message::Column::AuthorId.ne(author)),
        )
        .order_by_asc(message::Column::Id)
        .all(db)
        .await?)
}

/// A file to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// Stores the file's bytes (once per hash) and links it to the message.
pub async fn attach(db: &impl ConnectionTrait, ticket_id: i64, message_id: i64, file: &NewFile) -> Result<Attachment> {
    let sha = hex::encode(Sha256::digest(&file.content));
    let size = i64::try_from(file.content.len()).unwrap_or(i64::MAX);
    blob::Entity::insert(blob::ActiveModel {
        sha256: Set(sha.clone()),
        size: Set(size),
        content: Set(file.content.clone()),
        created_at: Set(now()),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(db)
    .await?;
    Ok(attachment::ActiveModel {
        message_id: Set(message_id),
        ticket_id: Set(ticket_id),
        sha256: Set(sha),
        filename: Set(file.filename.clone()),
        content_type: Set(file.content_type.clone()),
        size: Set(size),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn attachments_of_ticket(db: &impl ConnectionTrait, ticket_id: i64) -> Result<Vec<Attachment>> {
    Ok(attachment::Entity::find()
        .filter(attachment::Column::TicketId.eq(ticket_id))
        .order_by_asc(attachment::Column::Id)
        .all(db)
        .await?)
}

/// One attachment of a ticket the caller may read, with its bytes.
pub async fn attachment_with_content(
    db: &impl ConnectionTrait,
    ticket_id: i64,
    attachment_id: i64,
) -> Result<Option<(Attachment, Vec<u8>)>> {
    let Some(a) = attachment::Entity::find()
        .filter(attachment::Column::Id.eq(attachment_id))
        .filter(attachment::Column::TicketId.eq(ticket_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let content = blob::Entity::find_by_id(a.sha256.clone()).one(db).await?.map(|b| b.content).unwrap_or_default();
    Ok(Some((a, content)))
}

/// How many distinct files are stored (for tests of deduplication).
pub async fn count_blobs(db: &impl ConnectionTrait) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(blob::Entity::find().count(db).await?)
}
