//! OpenPGP for queues (issue 17, seed 004: member and finance matters
//! encrypted). A queue with `encryption` in the federation file has a key
//! pair (made at start-up; the secret key locked with `pgp.secret`).
//! Incoming PGP/MIME and inline-PGP mail to it is decrypted and its
//! signature checked against the sender's key on file; signed mail is
//! checked too. Replies to a requester whose key is on file leave encrypted
//! to them and to the queue, signed with the queue's key; a queue with
//! `required` never sends a reply in clear. Keys of outside addresses come
//! from staff (API) or from a mail that carries the sender's own key.

use crate::{AppError, AppResult, Logbuch, Principal};
use logbuch_mail::ParsedMail;
use logbuch_pgp as pgp;
use logbuch_store::pgp as store;
use secrecy::ExposeSecret;
use serde::Serialize;
use std::time::Duration;

/// The file keeping the key-locking secret of installations without `pgp.secret`.
const SECRET_FILE: &str = "pgp-secret.key";

/// Largest armored key accepted from staff or a mail.
const MAX_KEY_BYTES: usize = 256 * 1024;

/// How a reply leaves.
pub(crate) enum ReplyCrypto {
    /// In clear (no encryption configured, or optional and no key on file).
    Clear,
    /// Encrypted to the recipient's key and the queue's, signed by the queue.
    Encrypt(Sealing),
    /// Required, but no key on file: never in clear.
    Withhold,
}

/// What the blocking part of opening a mail found.
struct Opened {
    state: PgpState,
    /// The decrypted mail, parsed.
    parsed: Option<ParsedMail>,
    /// Keys the mail carries.
    carried: Vec<String>,
}

/// What `outgoing` needs to encrypt and sign a mail.
#[derive(Debug, Clone)]
pub(crate) struct Sealing {
    /// The queue's key's fingerprint (the signer).
    pub signer: String,
    pub recipient_keys: Vec<String>,
    pub secret_key: String,
    pub passphrase: String,
}

/// A public key on file, as the API shows it (never the secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KeyView {
    pub address: String,
    pub fingerprint: String,
    /// upload, mail or wkd.
    pub source: String,
    pub added_at: chrono::DateTime<chrono::Utc>,
    /// Whether replies to the address can be encrypted with it now.
    pub can_encrypt: bool,
}

/// The state stored with a message (JSON in `messages.pgp`).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct PgpState {
    pub encrypted: bool,
    #[serde(default)]
    pub signed: bool,
    #[serde(default)]
    pub verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer_address: Option<String>,
    /// Set when an encrypted mail could not be opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl PgpState {
    /// In words for the staff page: „verschlüsselt · signiert von …, geprüft“.
    pub fn describe(json: &str) -> Option<String> {
        let s: PgpState = serde_json::from_str(json).ok()?;
        let mut parts = Vec::new();
        if s.encrypted {
            parts.push(match &s.error {
                Some(e) => format!("verschlüsselt – nicht lesbar ({e})"),
                None => "verschlüsselt".to_owned(),
            });
        }
        if s.signed {
            let who = s.signer_address.clone().or(s.signer.clone()).unwrap_or_else(|| "unbekannt".into());
            parts.push(format!("signiert von {who}, {}", if s.verified { "geprüft" } else { "ungeprüft" }));
        }
        (!parts.is_empty()).then(|| parts.join(" · "))
    }

    pub(crate) fn to_json(&self) -> Option<String> {
        serde_json::to_string(self).ok()
    }
}

fn signature_state(s: &pgp::SignatureState, state: &mut PgpState) {
    match s {
        pgp::SignatureState::NotSigned => {}
        pgp::SignatureState::Verified { fingerprint, address } => {
            (state.signed, state.verified) = (true, true);
            state.signer = Some(fingerprint.clone());
            state.signer_address = address.clone();
        }
        pgp::SignatureState::Unverified { issuer_key_id_or_fpr, .. } => {
            (state.signed, state.verified) = (true, false);
            state.signer = Some(issuer_key_id_or_fpr.clone());
        }
    }
}

/// The secret that locks the queues' secret keys.
fn passphrase(settings: &logbuch_config::Settings) -> anyhow::Result<String> {
    match &settings.pgp.secret {
        Some(s) => Ok(s.expose_secret().to_owned()),
        None => crate::audit::local_secret(settings, SECRET_FILE),
    }
}

/// Whether a parsed mail is PGP at all (cheap: no key is touched for plain mail).
fn looks_encrypted(p: &ParsedMail) -> bool {
    p.attachments.iter().any(|a| a.content_type == "application/pgp-encrypted")
        || p.text.contains("-----BEGIN PGP MESSAGE-----")
}

fn looks_signed(p: &ParsedMail) -> bool {
    p.attachments.iter().any(|a| a.content_type == "application/pgp-signature")
}

/// The outer mail's headers without its body's description, and `entity`
/// as the body: a mail to read the decrypted content from.
fn rewrap(raw: &[u8], entity: &[u8], inline: bool) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw);
    let head = text
        .split("\r\n\r\n")
        .next()
        .filter(|h| h.len() < text.len())
        .unwrap_or_else(|| text.split("\n\n").next().unwrap_or(""));
    let mut out = String::new();
    let mut skipping = false;
    for line in head.lines() {
        let continued = line.starts_with([' ', '\t']);
        if !continued {
            let name = line.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
            skipping = name.starts_with("content-") || name == "mime-version";
        }
        if !skipping {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("MIME-Version: 1.0\r\n");
    let mut bytes = out.into_bytes();
    if inline {
        bytes.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
    }
    bytes.extend_from_slice(entity);
    bytes
}

impl Logbuch {
    /// Makes the key pair of every queue with `encryption` that has none yet
    /// (at start-up, after the federation file is applied); returns how many.
    pub(crate) async fn ensure_queue_keys(&self) -> AppResult<u64> {
        let db = &self.store.db;
        let dir = self.directory().await?;
        let have: Vec<i64> = store::queue_keys(db, None).await?.into_iter().map(|k| k.queue_id).collect();
        let wanted: Vec<_> =
            dir.queues().filter(|q| q.encryption.is_some() && !have.contains(&q.id)).cloned().collect();
        if wanted.is_empty() {
            return Ok(0);
        }
        let secret = passphrase(&self.settings).map_err(AppError::Internal)?;
        let mut made = 0;
        for q in wanted {
            let address = dir.queue_address(q.id).unwrap_or_else(|| self.fallback_from());
            let user_id = format!("{} <{address}>", q.name.replace(['<', '>'], ""));
            let secret = secret.clone();
            let key = tokio::task::spawn_blocking(move || pgp::generate_key(&user_id, &secret))
                .await
                .map_err(|e| AppError::Internal(e.into()))?
                .map_err(|e| AppError::Internal(anyhow::anyhow!("OpenPGP key for queue {}: {e}", q.slug)))?;
            let row = store::QueueKey {
                queue_id: q.id,
                fingerprint: key.fingerprint.clone(),
                public_armored: key.public_armored,
                secret_armored: key.secret_armored,
            };
            if store::insert_queue_key(db, &row).await? {
                tracing::info!(queue = %q.slug, fingerprint = %key.fingerprint, "made the queue's OpenPGP key pair");
                made += 1;
            }
        }
        Ok(made)
    }

    /// The public key of the queue receiving mail at `address` (for anyone: the address is public).
    pub async fn queue_public_key(&self, address: &str) -> AppResult<String> {
        let dir = self.directory().await?;
        let none = || AppError::NotFound("Für diese Adresse gibt es keinen öffentlichen Schlüssel.".into());
        let q = dir.queue_for_address(&address.trim().to_lowercase()).ok_or_else(none)?;
        let key = store::queue_keys(&self.store.db, Some(&[q.id])).await?.pop().ok_or_else(none)?;
        Ok(key.public_armored)
    }

    /// Decrypts an encrypted mail with the key of a queue it was sent to (or
    /// checks a signed one) and records what it found; plain mail passes as is.
    pub(crate) async fn open_pgp(&self, raw: &[u8], p: ParsedMail) -> ParsedMail {
        let (encrypted, signed) = (looks_encrypted(&p), looks_signed(&p));
        if !encrypted && !signed {
            return p;
        }
        let limit = Duration::from_secs(self.settings.intake.stage_timeout_secs.max(1));
        match tokio::time::timeout(limit, self.try_open_pgp(raw, &p, encrypted)).await {
            Ok(Ok(opened)) => opened,
            outcome => {
                let why = match outcome {
                    Err(_) => "took too long".to_owned(),
                    Ok(Err(e)) => format!("{e:#}"),
                    Ok(Ok(_)) => String::new(),
                };
                tracing::warn!(error = %why, "an OpenPGP mail could not be opened; kept as it came");
                let mut p = p;
                // A PGP/MIME mail we cannot open says so; a text that merely
                // quotes an armored block is left as it is.
                if p.attachments.iter().any(|a| a.content_type == "application/pgp-encrypted") {
                    let state = PgpState {
                        encrypted: true,
                        error: Some("kein passender Schlüssel".into()),
                        ..Default::default()
                    };
                    p.pgp = state.to_json();
                }
                p
            }
        }
    }

    async fn try_open_pgp(&self, raw: &[u8], p: &ParsedMail, encrypted: bool) -> AppResult<ParsedMail> {
        let db = &self.store.db;
        // Signatures count as checked only against a key on file that did not
        // come from a mail (anyone can attach a key naming any address).
        let trusted: Vec<String> = store::public_key(db, &p.from)
            .await?
            .filter(|k| k.source != "mail")
            .map(|k| k.armored)
            .into_iter()
            .collect();
        let keys = if encrypted {
            // Only the keys of the queues the mail was sent to: another
            // tenant's key must never open mail that lands here.
            let dir = self.directory().await?;
            let ids: Vec<i64> = p
                .delivered_to
                .iter()
                .chain(&p.to)
                .chain(&p.cc)
                .filter_map(|a| dir.queue_for_address(a).map(|q| q.id))
                .collect();
            let keys = store::queue_keys(db, Some(&ids)).await?;
            if keys.is_empty() {
                return Err(AppError::Internal(anyhow::anyhow!("no queue it was sent to has a key")));
            }
            keys
        } else {
            Vec::new()
        };
        let secret = if encrypted { passphrase(&self.settings).map_err(AppError::Internal)? } else { String::new() };
        let raw = raw.to_vec();
        // All the OpenPGP and MIME work off the async threads.
        let work = tokio::task::spawn_blocking(move || -> Result<Opened, String> {
            let refs: Vec<&str> = trusted.iter().map(String::as_str).collect();
            let mut carried = pgp::extract_keys_from_mail(&raw);
            let mut state = PgpState { encrypted, ..Default::default() };
            if !encrypted {
                if let Some(s) = pgp::verify_signed_mime(&raw, &refs).map_err(|e| e.to_string())? {
                    signature_state(&s.signature, &mut state);
                }
                return Ok(Opened { state, parsed: None, carried });
            }
            let found = keys
                .iter()
                .find_map(|k| pgp::decrypt_mail(&raw, &k.secret_armored, &secret, &refs).ok().flatten())
                .ok_or("no key of the queues it was sent to opens it")?;
            signature_state(&found.signature, &mut state);
            let inner = rewrap(&raw, &found.inner, found.inline);
            carried.extend(pgp::extract_keys_from_mail(&inner));
            let parsed = logbuch_mail::parse_mail(&inner).map_err(|e| e.to_string())?;
            Ok(Opened { state, parsed: Some(parsed), carried })
        });
        let opened = work
            .await
            .map_err(|e| AppError::Internal(e.into()))?
            .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
        self.learn_keys(&p.from, &opened.carried).await?;
        let mut out = p.clone();
        if let Some(parsed) = opened.parsed {
            out.text = parsed.text;
            out.html = parsed.html;
            out.attachments = parsed.attachments;
        }
        // The signature and keys are now on record; they are no files of the request.
        out.attachments
            .retain(|a| !matches!(a.content_type.as_str(), "application/pgp-signature" | "application/pgp-keys"));
        out.pgp = opened.state.to_json();
        Ok(out)
    }

    /// Files a key a mail carries for its own sender (never for anyone
    /// else), if none is on file: used to encrypt replies, never to count a
    /// signature as checked. A few keys per mail at most.
    async fn learn_keys(&self, from: &str, armored: &[String]) -> AppResult<()> {
        for k in armored.iter().filter(|k| k.len() <= MAX_KEY_BYTES).take(3) {
            if let Ok(info) = pgp::parse_public_key(k.as_bytes())
                && info.can_encrypt
                && info.addresses.iter().any(|a| a == from)
            {
                store::save_public_key(&self.store.db, from, &info.fingerprint, k, "mail", None).await?;
            }
        }
        Ok(())
    }

    /// How a reply from `queue` to `to` leaves.
    pub(crate) async fn reply_crypto(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        queue: &logbuch_store::entity::queue::Model,
        to: &str,
    ) -> AppResult<ReplyCrypto> {
        let Some(mode) = queue.encryption.as_deref() else { return Ok(ReplyCrypto::Clear) };
        let key = store::public_key(db, to)
            .await?
            .filter(|k| pgp::parse_public_key(k.armored.as_bytes()).is_ok_and(|i| i.can_encrypt));
        let queue_key = store::queue_keys(db, Some(&[queue.id])).await?.pop();
        match (key, queue_key) {
            (Some(k), Some(q)) => Ok(ReplyCrypto::Encrypt(Sealing {
                signer: q.fingerprint,
                recipient_keys: vec![k.armored],
                secret_key: q.secret_armored,
                passphrase: passphrase(&self.settings).map_err(AppError::Internal)?,
            })),
            _ if mode == "required" => Ok(ReplyCrypto::Withhold),
            _ => Ok(ReplyCrypto::Clear),
        }
    }

    /// Files a public key for an outside address (staff): replies to it are
    /// then encrypted in queues with encryption.
    #[tracing::instrument(skip_all, fields(user = %who.user))]
    pub async fn set_public_key(&self, who: &Principal, address: &str, armored: &str) -> AppResult<KeyView> {
        staff_only(self, who)?;
        let address = crate::tickets::validate_address("address", address)?;
        let info = checked_key(&address, armored)?;
        store::save_public_key(&self.store.db, &address, &info.fingerprint, armored.trim(), "upload", Some(who.user.0))
            .await?;
        self.public_key_of(who, &address).await
    }

    /// Files the OpenPGP key of a ticket's requester, by someone who may
    /// answer the ticket; on the ticket's history with the fingerprint.
    #[tracing::instrument(skip_all, fields(user = %who.user, ticket = id))]
    pub async fn set_requester_key(&self, who: &Principal, id: i64, armored: &str) -> AppResult<KeyView> {
        let dir = self.directory().await?;
        let t = self.load_ticket(&self.store.db, who, id, logbuch_domain::Action::AddReply, &dir).await?;
        let info = checked_key(&t.requester, armored)?;
        let db = &self.store.db;
        store::save_public_key(db, &t.requester, &info.fingerprint, armored.trim(), "upload", Some(who.user.0)).await?;
        logbuch_store::history::record(db, id, Some(who.user.0), "pgp_key", None, Some(info.fingerprint.clone()))
            .await?;
        let k = store::public_key(db, &t.requester)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("key gone")))?;
        Ok(KeyView {
            address: k.address,
            fingerprint: k.fingerprint,
            source: k.source,
            added_at: k.added_at,
            can_encrypt: true,
        })
    }

    /// The key on file for an address (staff).
    pub async fn public_key_of(&self, who: &Principal, address: &str) -> AppResult<KeyView> {
        staff_only(self, who)?;
        let address = address.trim().to_lowercase();
        let k = store::public_key(&self.store.db, &address)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("Für {address} ist kein Schlüssel hinterlegt.")))?;
        let can_encrypt = pgp::parse_public_key(k.armored.as_bytes()).is_ok_and(|i| i.can_encrypt);
        Ok(KeyView {
            address: k.address,
            fingerprint: k.fingerprint,
            source: k.source,
            added_at: k.added_at,
            can_encrypt,
        })
    }

    /// Removes the key on file for an address (staff).
    pub async fn remove_public_key(&self, who: &Principal, address: &str) -> AppResult<bool> {
        staff_only(self, who)?;
        Ok(store::delete_public_key(&self.store.db, address.trim()).await?)
    }
}

/// A key on file serves every tenant (an address has one key): filing,
/// reading and removing one by address is for those who manage member data
/// somewhere; a helper files the requester's key from a ticket they answer
/// ([`Logbuch::set_requester_key`]).
fn staff_only(app: &Logbuch, who: &Principal) -> AppResult<()> {
    let may = who.assignments.iter().any(|a| {
        app.authz.role_grants(a.role, &logbuch_domain::TenantCode::bund(), logbuch_domain::Action::ManageMemberData)
    });
    if !may {
        return Err(AppError::Forbidden(
            "Schlüssel nach Adresse verwalten dürfen, wer Mitgliederdaten verwaltet; den Schlüssel der anfragenden Person hinterlegt man am Ticket.".into(),
        ));
    }
    Ok(())
}

/// A key staff file for `address`: readable, able to encrypt, naming the address.
fn checked_key(address: &str, armored: &str) -> AppResult<pgp::PublicKeyInfo> {
    if armored.len() > MAX_KEY_BYTES {
        return Err(AppError::validation("key", "Der Schlüssel ist zu groß (höchstens 256 KB)."));
    }
    let info = pgp::parse_public_key(armored.as_bytes())
        .map_err(|_| AppError::validation("key", "Das ist kein lesbarer öffentlicher OpenPGP-Schlüssel."))?;
    if !info.can_encrypt {
        return Err(AppError::validation(
            "key",
            "Der Schlüssel kann nicht (mehr) verschlüsseln: abgelaufen, widerrufen oder ohne Verschlüsselungs-Unterschlüssel.",
        ));
    }
    if !info.addresses.iter().any(|a| a.eq_ignore_ascii_case(address)) {
        return Err(AppError::validation(
            "key",
            format!("Der Schlüssel gehört nicht zu {address} (er nennt {}).", info.addresses.join(", ")),
        ));
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_in_words() {
        let s = PgpState {
            encrypted: true,
            signed: true,
            verified: true,
            signer_address: Some("a@b.de".into()),
            ..Default::default()
        };
        assert_eq!(
            PgpState::describe(&s.to_json().unwrap_or_default()).as_deref(),
            Some("verschlüsselt · signiert von a@b.de, geprüft")
        );
        let s = PgpState { signed: true, signer: Some("ABCD".into()), ..Default::default() };
        assert_eq!(
            PgpState::describe(&s.to_json().unwrap_or_default()).as_deref(),
            Some("signiert von ABCD, ungeprüft")
        );
    }

    #[test]
    fn rewrapping_keeps_the_envelope_headers_only() {
        let raw = b"From: a@b.de\r\nSubject: x\r\nContent-Type: multipart/encrypted;\r\n boundary=\"q\"\r\nMIME-Version: 1.0\r\n\r\nbody";
        let out = String::from_utf8_lossy(&rewrap(raw, b"Content-Type: text/plain\r\n\r\nhallo", false)).into_owned();
        assert_eq!(out, "From: a@b.de\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhallo");
    }
}
