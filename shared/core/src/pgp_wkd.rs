//! The Web Key Directory (draft-koch-openpgp-webkey-service): where an
//! address's domain publishes its people's OpenPGP keys. With `pgp.wkd`
//! set, a reply from an encrypting queue to a requester without a key on
//! file first asks the requester's domain (the advanced, then the direct
//! method); a key found there that names the address is filed (source
//! `wkd`) and used.

use crate::{AppResult, Logbuch, Principal};
use logbuch_domain::{Action, MessageKind};
use logbuch_pgp as pgp;
use logbuch_store::pgp as store;
use sha1::{Digest, Sha1};
use std::time::Duration;

/// The largest answer taken from a key directory.
const MAX_KEY_BYTES: usize = 256 * 1024;

/// z-base-32 (RFC 6189 5.1.6) of the SHA-1 of the lower-cased local part.
pub fn wkd_hash(local: &str) -> String {
    const ALPHABET: &[u8; 32] = b"ybndrfg8ejkmcpqxot1uwisza345h769";
    let digest = Sha1::digest(local.to_lowercase().as_bytes());
    let mut out = String::with_capacity(32);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in digest {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            out.push(char::from(ALPHABET[((buffer >> (bits - 5)) & 31) as usize]));
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The URLs to ask for `address`, in order: the advanced and the direct
/// method; `base` replaces `https://openpgpkey.<domain>` and
/// `https://<domain>` (a local mirror, or a test's server).
pub(crate) fn wkd_urls(address: &str, base: Option<&str>) -> Option<Vec<String>> {
    let (local, domain) = address.rsplit_once('@')?;
    let domain = domain.to_lowercase();
    // A public name only: no IP literal, no single label (localhost), a top-level domain of letters.
    let tld = domain.rsplit('.').next().unwrap_or("");
    if local.is_empty()
        || !domain.contains('.')
        || tld.len() < 2
        || !tld.chars().all(|c| c.is_ascii_alphabetic())
        || !domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return None;
    }
    let (hash, l) = (wkd_hash(local), local.replace('%', "%25").replace('&', "%26").replace('+', "%2B"));
    Some(match base {
        Some(b) => {
            let b = b.trim_end_matches('/');
            vec![
                format!("{b}/.well-known/openpgpkey/{domain}/hu/{hash}?l={l}"),
                format!("{b}/.well-known/openpgpkey/hu/{hash}?l={l}"),
            ]
        }
        None => vec![
            format!("https://openpgpkey.{domain}/.well-known/openpgpkey/{domain}/hu/{hash}?l={l}"),
            format!("https://{domain}/.well-known/openpgpkey/hu/{hash}?l={l}"),
        ],
    })
}

impl Logbuch {
    /// Before a reply is written (outside its transaction: the lookup is a
    /// network call): the requester's key from their domain's key directory,
    /// when the queue encrypts, none is on file and `pgp.wkd` is set.
    /// Never fails the reply: a directory that does not answer is logged.
    pub(crate) async fn prefetch_wkd(&self, who: &Principal, id: i64, kind: MessageKind) {
        if !self.settings.pgp.wkd || kind != MessageKind::Outbound {
            return;
        }
        if let Err(e) = self.lookup_wkd(who, id).await {
            tracing::info!(ticket = id, error = %format!("{e:#}"), "no key from the requester's key directory");
        }
    }

    async fn lookup_wkd(&self, who: &Principal, id: i64) -> AppResult<()> {
        let dir = self.directory().await?;
        let db = &self.store.db;
        let t = self.load_ticket(db, who, id, Action::AddReply, &dir).await?;
        if dir.queue(t.queue_id)?.encryption.is_none() || store::public_key(db, &t.requester).await?.is_some() {
            return Ok(());
        }
        let Some(urls) = wkd_urls(&t.requester, self.settings.pgp.wkd_base.as_deref()) else { return Ok(()) };
        // No redirects: the directory answers at its own address, or not at all.
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| anyhow::anyhow!(e))?;
        for url in urls {
            let Ok(mut res) = http.get(&url).send().await else { continue };
            if !res.status().is_success() || res.content_length().is_some_and(|n| n as usize > MAX_KEY_BYTES) {
                continue;
            }
            // Read at most MAX_KEY_BYTES, whatever the server claims.
            let mut bytes = Vec::new();
            while let Ok(Some(chunk)) = res.chunk().await {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > MAX_KEY_BYTES {
                    break;
                }
            }
            if bytes.len() > MAX_KEY_BYTES {
                continue;
            }
            let Ok(info) = pgp::parse_public_key(&bytes) else { continue };
            if !info.can_encrypt || !info.addresses.contains(&t.requester.to_lowercase()) {
                continue;
            }
            let armored = pgp::armor_public_key(&bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
            store::save_public_key(db, &t.requester, &info.fingerprint, &armored, "wkd", None).await?;
            tracing::info!(ticket = id, fingerprint = %info.fingerprint, "key taken from the requester's key directory");
            return Ok(());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_of_the_specification_example() {
        // draft-koch-openpgp-webkey-service: "Joe.Doe" hashes to this.
        assert_eq!(wkd_hash("Joe.Doe"), "iy9q119eutrkn8s1mk4r39qejnbu3n5q");
        let urls = wkd_urls("Joe.Doe@Example.ORG", None).unwrap_or_default();
        assert_eq!(
            urls[0],
            "https://openpgpkey.example.org/.well-known/openpgpkey/example.org/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe"
        );
        assert_eq!(urls[1], "https://example.org/.well-known/openpgpkey/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe");
        assert!(wkd_urls("kaputt", None).is_none());
        assert!(wkd_urls("x@127.0.0.1", None).is_none(), "no IP literals");
        assert!(wkd_urls("x@localhost", None).is_none());
        assert!(wkd_urls("x@[::1]", None).is_none());
        assert!(wkd_urls("a@evil.org/../x", None).is_none());
    }
}
