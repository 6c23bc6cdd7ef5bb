//! The requester's side, without an account: a web form per tenant and a
//! status page reached through a personal link. The link's token is long and
//! random, stored only as its hash and bound to one ticket and one address;
//! nothing on these pages tells a stranger whether a ticket or an address
//! exists. Rate limits count in the database, so they hold across replicas.

mod files;
mod form;
mod status;

pub use files::{Upload, sniff_type};
pub use form::{FieldError, FormPage, FormSubmission, FormTopic, Submitted};
pub use status::{PublicMessage, StatusView, Visitor};

use crate::{AppResult, Logbuch};
use hmac::{Hmac, Mac};
use logbuch_store::portal;
use rand::RngCore;
use sea_orm::ConnectionTrait;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

/// The key that signs form tokens and hashes client addresses.
#[derive(Clone)]
pub(crate) struct PortalKey(Vec<u8>);

impl std::fmt::Debug for PortalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PortalKey(…)")
    }
}

impl PortalKey {
    fn mac(&self, parts: &[&str]) -> String {
        // HMAC takes keys of any length; this cannot fail.
        let Ok(mut m) = Hmac::<Sha256>::new_from_slice(&self.0) else { return String::new() };
        for p in parts {
            m.update(p.as_bytes());
            m.update(b"\x1f");
        }
        hex::encode(m.finalize().into_bytes())
    }
}

/// SHA-256 of a link token, as stored.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The current rate-limit window (an hour).
fn hour_slot() -> i64 {
    chrono::Utc::now().timestamp().div_euclid(3600)
}

impl Logbuch {
    /// The configured portal secret, else the one kept in the database (made
    /// on first use). Read before any transaction: SQLite has one connection.
    pub(crate) async fn portal_key(&self) -> AppResult<PortalKey> {
        if let Some(k) = self.portal_key.get() {
            return Ok(k.clone());
        }
        let key = match &self.settings.portal.secret {
            Some(s) => s.expose_secret().as_bytes().to_vec(),
            None => {
                let mut fresh = [0u8; 32];
                rand::rng().fill_bytes(&mut fresh);
                portal::secret(&self.store.db, "portal", &hex::encode(fresh)).await?.into_bytes()
            }
        };
        let key = PortalKey(key);
        let _ = self.portal_key.set(key.clone());
        Ok(key)
    }

    /// Counts one use of `kind` by `who` (a client or mail address, kept
    /// only as a keyed hash) and says whether it is within `limit` per hour.
    pub(crate) async fn within_rate(&self, key: &PortalKey, kind: &str, who: &str, limit: i64) -> AppResult<bool> {
        let slot = hour_slot();
        let bucket = format!("{kind}:{}", &key.mac(&["rate", kind, &who.to_lowercase()])[..32]);
        let hits = portal::hit(&self.store.db, &bucket, slot).await?;
        if hits == 1 && rand::random::<u8>() < 8 {
            // Now and then, forget the windows that are over.
            portal::forget_hits_before(&self.store.db, slot - 1).await?;
        }
        Ok(hits <= limit)
    }

    /// A fresh personal link to a ticket's status page for `requester`.
    pub(crate) async fn new_portal_link(
        &self,
        db: &impl ConnectionTrait,
        ticket_id: i64,
        requester: &str,
    ) -> AppResult<String> {
        let (token, url) = self.fresh_link();
        portal::insert_link(db, &token_hash(&token), ticket_id, &requester.to_lowercase()).await?;
        Ok(url)
    }

    /// The same, written with a batch's other rows.
    pub(crate) fn new_portal_link_deferred(
        &self,
        writes: &mut logbuch_store::Deferred,
        ticket_id: i64,
        requester: &str,
    ) -> String {
        let (token, url) = self.fresh_link();
        writes.portal_link(&token_hash(&token), ticket_id, &requester.to_lowercase());
        url
    }

    /// A new random token and the status page's address with it.
    fn fresh_link(&self) -> (String, String) {
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let token = hex::encode(raw);
        let url = format!("{}/status/{token}", self.settings.server.public_url.trim_end_matches('/'));
        (token, url)
    }
}

/// Why the requester is mailed a fresh link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkMail {
    /// They asked for it at `/status` (an automatic mail, from the tenant).
    Requested,
    /// A reply in a portal-only queue waits for them (from the queue's people).
    NewReply,
}

impl Logbuch {
    /// Writes a mail to the requester carrying a fresh personal link (to
    /// dispatch after commit); none if its template does not render.
    pub(crate) async fn mail_portal_link(
        &self,
        db: &impl ConnectionTrait,
        dir: &crate::tickets::Directory,
        t: &logbuch_store::tickets::Ticket,
        why: LinkMail,
    ) -> AppResult<Vec<i64>> {
        let (name, kind, automatic) = match why {
            LinkMail::Requested => ("portal.link", "portal-link", true),
            LinkMail::NewReply => ("portal.new_reply", "portal-reply", false),
        };
        let from_name = match why {
            LinkMail::Requested => dir.tenant(t.tenant_id)?.name.clone(),
            LinkMail::NewReply => dir.queue(t.queue_id)?.name.clone(),
        };
        let link = self.new_portal_link(db, t.id, &t.requester).await?;
        let ctx = with_link(self.context_of(dir, t)?, &link);
        let Some((subject, body, html)) = self.render_for(dir, name, &ctx, t.tenant_id) else {
            return Ok(Vec::new());
        };
        let draft = crate::outgoing::Draft {
            ticket_id: Some(t.id),
            kind,
            from_name,
            from: dir.queue_address(t.queue_id).unwrap_or_else(|| self.fallback_from()),
            to: vec![t.requester.clone()],
            subject,
            body,
            html,
            in_reply_to: None,
            references: Vec::new(),
            automatic,
            limited: automatic,
            message_id: None,
            seal: None,
        };
        crate::outgoing::queue_drafts(self, db, vec![draft]).await
    }
}

/// A template context with the personal status link (`portal_link`) set.
pub(crate) fn with_link(ctx: minijinja::Value, link: &str) -> minijinja::Value {
    minijinja::context! { portal_link => link, ..ctx }
}
