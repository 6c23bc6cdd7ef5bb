//! The tamper-evident record (issue 17): sealing history and access log
//! into hash chains, signed checkpoints, and `logbuch admin verify`.
//!
//! The chains and digests are computed in `logbuch_store::audit`; here the
//! signing key (never in the database: a setting or a key file beside the
//! embedded database) and the verdict in words.

use crate::{AppError, AppResult, Logbuch};
use anyhow::Context;
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use logbuch_config::Settings;
use logbuch_store::audit;
use sea_orm::TransactionTrait;
use secrecy::ExposeSecret;

/// The key file of installations without `audit.signing_key`.
const KEY_FILE: &str = "audit-signing.key";

fn parse_key(hex_text: &str) -> anyhow::Result<SigningKey> {
    let bytes = hex::decode(hex_text.trim()).context("audit.signing_key: 64 hexadecimal digits expected")?;
    let bytes: [u8; 32] =
        bytes.try_into().map_err(|_| anyhow::anyhow!("audit.signing_key: 32 bytes (64 hex digits) expected"))?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// The checkpoint key: `audit.signing_key`, else the key file (made at first use, readable by the owner only).
pub fn signing_key(settings: &Settings) -> anyhow::Result<SigningKey> {
    match &settings.audit.signing_key {
        Some(key) => parse_key(key.expose_secret()),
        None => parse_key(&local_secret(settings, KEY_FILE)?),
    }
}

/// The key checkpoints are checked with: the configured one or the key file
/// that exists; never a new one (that would call every checkpoint forged).
fn verifying_key(settings: &Settings) -> anyhow::Result<VerifyingKey> {
    if settings.audit.signing_key.is_none() && !settings.data_dir.join(KEY_FILE).exists() {
        anyhow::bail!(
            "no audit key here: set audit.signing_key (LOGBUCH__AUDIT__SIGNING_KEY) as on the servers, or run where {} is",
            settings.data_dir.join(KEY_FILE).display()
        );
    }
    Ok(signing_key(settings)?.verifying_key())
}

/// A secret of this installation kept in a file beside the embedded
/// database (`<data_dir>/name`, owner-only): 32 random bytes as hex, made
/// at first use. Installations with their own database set it in the
/// configuration instead, so every process has the same.
pub(crate) fn local_secret(settings: &Settings, name: &str) -> anyhow::Result<String> {
    let path = settings.data_dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text.trim().to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&settings.data_dir)
                .with_context(|| format!("cannot create {}", settings.data_dir.display()))?;
            let secret = hex::encode(rand::random::<[u8; 32]>());
            write_private(&path, &secret)?;
            tracing::warn!(path = %path.display(), "made a new secret of this installation; keep the file safe");
            Ok(secret)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// What `verify` found, with the verdict on the signatures.
#[derive(Debug)]
pub struct Verdict {
    pub found: audit::Verified,
    /// Checkpoints whose signature the configured key does not confirm.
    pub bad_signatures: Vec<i64>,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.found.breaks.is_empty()
            && self.found.heads_differ.is_empty()
            && self.found.unlinked_checkpoints.is_empty()
            && self.found.missing_checkpoints.is_empty()
            && self.found.sealed_beyond == 0
            && self.bad_signatures.is_empty()
            && self.found.checkpoint.as_ref().is_none_or(|(c, digest)| c.digest == *digest)
    }

    /// The verdict in German, a line each.
    pub fn lines(&self) -> Vec<String> {
        let f = &self.found;
        let mut out = vec![format!(
            "{} Ketten mit {} Einträgen geprüft; {} Einträge noch nicht versiegelt.",
            f.chains, f.entries, f.unsealed
        )];
        for b in &f.breaks {
            out.push(format!("BRUCH: Tabelle {}, Eintrag {} (Ticket {}): {}.", b.table, b.id, b.ticket_id, b.what));
        }
        for t in &f.heads_differ {
            out.push(format!("BRUCH: Ticket {t}: die Kette endet anders als vermerkt (gekürzt oder neu berechnet)."));
        }
        match &f.checkpoint {
            None => out.push("Noch kein Prüfpunkt geschrieben.".into()),
            Some((c, digest)) if c.digest == *digest => out.push(format!(
                "Prüfpunkt {} vom {} stimmt ({} Ketten).",
                c.id,
                c.at.format("%d.%m.%Y %H:%M UTC"),
                c.chains
            )),
            Some((c, _)) => out.push(format!(
                "BRUCH: Prüfpunkt {} vom {} stimmt nicht mit den Einträgen überein: eine Kette wurde gekürzt, \
                 gelöscht oder neu berechnet.",
                c.id,
                c.at.format("%d.%m.%Y %H:%M UTC")
            )),
        }
        for id in &f.missing_checkpoints {
            out.push(format!("BRUCH: Prüfpunkt {id} fehlt (gelöscht)."));
        }
        if f.sealed_beyond > 0 {
            out.push(format!(
                "BRUCH: {} Einträge wurden in einer Runde versiegelt, deren Prüfpunkt fehlt (der letzte Prüfpunkt wurde gelöscht).",
                f.sealed_beyond
            ));
        }
        for id in &f.unlinked_checkpoints {
            out.push(format!("BRUCH: Prüfpunkt {id} verweist nicht auf den Prüfpunkt davor."));
        }
        for id in &self.bad_signatures {
            out.push(format!("BRUCH: die Signatur von Prüfpunkt {id} ist mit dem konfigurierten Schlüssel ungültig."));
        }
        out.push(if self.ok() { "Ergebnis: unverändert.".into() } else { "Ergebnis: VERÄNDERT.".into() });
        out
    }
}

impl Logbuch {
    /// Seals what the writers added since the last round; returns how many entries.
    pub async fn seal_record(&self) -> AppResult<u64> {
        self.seal_at_most(u64::MAX).await
    }

    /// Seals at most about `limit` entries (the scheduled rounds: a database
    /// migrated with millions of unsealed entries is sealed over several
    /// rounds, without holding up the worker's other work).
    pub(crate) async fn seal_at_most(&self, limit: u64) -> AppResult<u64> {
        let mut n = 0;
        while n < limit {
            let sealed = audit::seal(&self.store.db, 5000).await?;
            n += sealed;
            if sealed < 5000 {
                break;
            }
        }
        Ok(n)
    }

    /// Seals and writes a signed checkpoint over every chain now.
    pub async fn write_checkpoint(&self) -> AppResult<audit::Checkpoint> {
        let key = signing_key(&self.settings).map_err(AppError::Internal)?;
        let public = hex::encode(key.verifying_key().to_bytes());
        Ok(audit::checkpoint(&self.store.db, |digest| (hex::encode(key.sign(digest).to_bytes()), public.clone()))
            .await?)
    }

    /// A checkpoint if the latest is older than `audit.checkpoint_minutes` (scheduled work).
    pub(crate) async fn checkpoint_when_due(&self, now: chrono::DateTime<chrono::Utc>) -> AppResult<bool> {
        let every = chrono::Duration::minutes(self.settings.audit.checkpoint_minutes.max(1) as i64);
        let latest = audit::checkpoints(&self.store.db).await?.pop();
        if latest.is_some_and(|c| now - c.at < every) {
            return Ok(false);
        }
        // A backlog (a database just migrated) is sealed over the rounds first.
        if audit::unsealed(&self.store.db).await? > 50_000 {
            return Ok(false);
        }
        self.write_checkpoint().await?;
        Ok(true)
    }

    /// Recomputes every chain and checks the checkpoints against the configured key.
    pub async fn verify_record(&self, progress: impl FnMut(u64, u64)) -> AppResult<Verdict> {
        // The key is needed once there are checkpoints to check.
        let checkpoints = audit::checkpoints(&self.store.db).await?;
        let key = if checkpoints.is_empty() {
            None
        } else {
            Some(verifying_key(&self.settings).map_err(AppError::Internal)?)
        };
        // One snapshot: the sealer and checkpoints go on meanwhile, and a
        // check that saw half of a seal would report a break that is none.
        let db = &self.store.db;
        let txn = if db.get_database_backend() == sea_orm::DbBackend::Postgres {
            db.begin_with_config(Some(sea_orm::IsolationLevel::RepeatableRead), Some(sea_orm::AccessMode::ReadOnly))
                .await?
        } else {
            db.begin().await?
        };
        let found = audit::verify(&txn, progress).await?;
        txn.commit().await?;
        let mut bad_signatures = Vec::new();
        for c in audit::checkpoints(&self.store.db).await? {
            if !key.as_ref().is_some_and(|k| signature_holds(k, &c)) {
                bad_signatures.push(c.id);
            }
        }
        Ok(Verdict { found, bad_signatures })
    }
}

fn signature_holds(key: &VerifyingKey, c: &audit::Checkpoint) -> bool {
    let Ok(bytes) = hex::decode(&c.signature) else { return false };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(&bytes) else { return false };
    key.verify(c.digest.as_bytes(), &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_64_hex_digits() {
        assert!(parse_key("zz").is_err());
        assert!(parse_key(&"ab".repeat(31)).is_err());
        let key = parse_key(&"ab".repeat(32)).map_err(|e| e.to_string());
        assert!(key.is_ok());
    }
}
