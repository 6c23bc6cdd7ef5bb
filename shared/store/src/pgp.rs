//! OpenPGP keys (issue 17): public keys of outside addresses and the key
//! pair of each queue that encrypts.

use crate::{Result, now, placeholders};
use sea_orm::{ConnectionTrait, Statement};

/// A public key on file for an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub address: String,
    pub fingerprint: String,
    pub armored: String,
    /// upload, mail or wkd.
    pub source: String,
    pub added_at: chrono::DateTime<chrono::Utc>,
}

/// A queue's key pair; the secret key is locked.
#[derive(Debug, Clone)]
pub struct QueueKey {
    pub queue_id: i64,
    pub fingerprint: String,
    pub public_armored: String,
    pub secret_armored: String,
}

pub async fn public_key(db: &impl ConnectionTrait, address: &str) -> Result<Option<PublicKey>> {
    let backend = db.get_database_backend();
    let sql = placeholders(
        backend,
        "SELECT address, fingerprint, armored, source, added_at FROM pgp_keys WHERE address = $1",
    );
    let row = db.query_one_raw(Statement::from_sql_and_values(backend, sql, [address.to_lowercase().into()])).await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(PublicKey {
        address: r.try_get_by_index(0)?,
        fingerprint: r.try_get_by_index(1)?,
        armored: r.try_get_by_index(2)?,
        source: r.try_get_by_index(3)?,
        added_at: r.try_get_by_index(4)?,
    }))
}

/// Files a key for an address. An upload by staff replaces what was there;
/// a key learnt from a mail only fills a gap (returns whether it was stored).
pub async fn save_public_key(
    db: &impl ConnectionTrait,
    address: &str,
    fingerprint: &str,
    armored: &str,
    source: &str,
    by: Option<i64>,
) -> Result<bool> {
    let backend = db.get_database_backend();
    let conflict = if source == "upload" {
        "DO UPDATE SET fingerprint = excluded.fingerprint, armored = excluded.armored, source = excluded.source, \
         added_at = excluded.added_at, added_by = excluded.added_by"
    } else {
        "DO NOTHING"
    };
    let sql = placeholders(
        backend,
        &format!(
            "INSERT INTO pgp_keys (address, fingerprint, armored, source, added_at, added_by) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (address) {conflict}"
        ),
    );
    let values =
        [address.to_lowercase().into(), fingerprint.into(), armored.into(), source.into(), now().into(), by.into()];
    Ok(db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?.rows_affected() > 0)
}

pub async fn delete_public_key(db: &impl ConnectionTrait, address: &str) -> Result<bool> {
    let backend = db.get_database_backend();
    let sql = placeholders(backend, "DELETE FROM pgp_keys WHERE address = $1");
    let r = db.execute_raw(Statement::from_sql_and_values(backend, sql, [address.to_lowercase().into()])).await?;
    Ok(r.rows_affected() > 0)
}

fn queue_key_of(r: &sea_orm::QueryResult) -> Result<QueueKey> {
    Ok(QueueKey {
        queue_id: r.try_get_by_index(0)?,
        fingerprint: r.try_get_by_index(1)?,
        public_armored: r.try_get_by_index(2)?,
        secret_armored: r.try_get_by_index(3)?,
    })
}

/// The key pairs of these queues (all queues' when `ids` is None).
pub async fn queue_keys(db: &impl ConnectionTrait, ids: Option<&[i64]>) -> Result<Vec<QueueKey>> {
    let filter = match ids {
        None => String::new(),
        Some([]) => return Ok(Vec::new()),
        Some(ids) => format!(" WHERE queue_id IN ({})", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")),
    };
    let sql = format!(
        "SELECT queue_id, fingerprint, public_armored, secret_armored FROM queue_keys{filter} ORDER BY queue_id"
    );
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await?;
    rows.iter().map(queue_key_of).collect()
}

/// Files a queue's new key pair unless it has one (a concurrent start made it first).
pub async fn insert_queue_key(db: &impl ConnectionTrait, k: &QueueKey) -> Result<bool> {
    let backend = db.get_database_backend();
    let sql = placeholders(
        backend,
        "INSERT INTO queue_keys (queue_id, fingerprint, public_armored, secret_armored, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (queue_id) DO NOTHING",
    );
    let values = [
        k.queue_id.into(),
        k.fingerprint.clone().into(),
        k.public_armored.clone().into(),
        k.secret_armored.clone().into(),
        now().into(),
    ];
    Ok(db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?.rows_affected() > 0)
}
