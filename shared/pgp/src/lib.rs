//! Pure OpenPGP helpers for Logbuch, built on the pure-Rust `pgp` crate (rPGP).
//!
//! Everything here works on byte slices and strings only: no files, no network,
//! no async, no `gpg` binary. Keys travel as ASCII-armored strings so the caller
//! can keep them in the database.
//!
//! This file holds key handling and the raw OpenPGP operations; `mime.rs` wraps
//! them into RFC 3156 (PGP/MIME) and inline-PGP mail handling.

mod mime;

pub use mime::{
    Decrypted, EncryptedMime, MimeBody, SignedMime, decrypt_mail, encrypt_and_sign_mime, extract_keys_from_mail,
    sign_mime, verify_signed_mime,
};

use pgp::composed::{
    ArmorOptions, Deserializable, EncryptionCaps, KeyType, Message, MessageBuilder, SecretKeyParamsBuilder,
    SignedPublicKey, SignedPublicSubKey, SignedSecretKey, SubkeyParamsBuilder,
};
use pgp::crypto::{ecc_curve::ECCCurve, hash::HashAlgorithm, sym::SymmetricKeyAlgorithm};
use pgp::packet::Signature;
use pgp::types::{CompressionAlgorithm, KeyDetails, Password, SigningKey, Timestamp, VerifyingKey};

/// Errors of this module. Messages are short and meant for logs, not for end users.
#[derive(Debug, thiserror::Error)]
pub enum PgpError {
    #[error("user id must look like \"Name <addr@example.org>\"")]
    InvalidUserId,
    #[error("invalid key: {0}")]
    InvalidKey(String),
    #[error("key has no usable encryption key: {0}")]
    NoEncryptionKey(String),
    #[error("key has no usable signing key")]
    NoSigningKey,
    #[error("wrong passphrase")]
    WrongPassphrase,
    #[error("decryption failed: {0}")]
    Decrypt(String),
    #[error("malformed mail: {0}")]
    Mime(&'static str),
    #[error("openpgp: {0}")]
    Pgp(#[from] pgp::errors::Error),
}

pub type Result<T> = std::result::Result<T, PgpError>;

/// A freshly generated key pair.
#[derive(Debug, Clone)]
pub struct GeneratedKey {
    pub public_armored: String,
    /// Secret key, locked with the passphrase given to [`generate_key`].
    pub secret_armored: String,
    /// Primary key fingerprint, upper-case hex without spaces.
    pub fingerprint: String,
}

/// What Logbuch needs to know about a public key before storing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyInfo {
    pub fingerprint: String,
    /// Mail addresses of all user IDs, lower-cased and de-duplicated.
    pub addresses: Vec<String>,
    /// True if encrypting to this key would work right now (valid, not expired/revoked).
    pub can_encrypt: bool,
    /// Expiry of the primary key as Unix seconds, if the key has one.
    pub expires_at: Option<u64>,
}

/// Outcome of checking the signature of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureState {
    NotSigned,
    Verified {
        fingerprint: String,
        /// Signer's address: the one matching the mail's From if the key has it,
        /// otherwise the key's first address.
        address: Option<String>,
    },
    Unverified {
        /// Issuer fingerprint (preferred) or key ID from the signature, upper-case hex.
        issuer_key_id_or_fpr: String,
        reason: UnverifiedReason,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnverifiedReason {
    /// None of the known public keys issued this signature.
    UnknownKey,
    /// The issuer's key is known but the signature does not check out.
    BadSignature,
}

/// Generates an Ed25519 signing/certifying primary key with a Curve25519 (ECDH)
/// encryption subkey. The v4 "legacy" encodings are used on purpose: GnuPG 2.2/2.4
/// and most mail clients cannot read the RFC 9580 v6 key formats yet.
/// An empty passphrase leaves the secret key unprotected.
pub fn generate_key(user_id: &str, passphrase: &str) -> Result<GeneratedKey> {
    let user_id = user_id.trim();
    if address_of(user_id).is_none() {
        return Err(PgpError::InvalidUserId);
    }
    // rPGP protects primary and subkeys separately; forgetting the subkey leaves it in clear.
    let pass = (!passphrase.is_empty()).then(|| passphrase.to_string());
    let subkey = SubkeyParamsBuilder::default()
        .key_type(KeyType::ECDH(ECCCurve::Curve25519Legacy))
        .can_encrypt(EncryptionCaps::All)
        .passphrase(pass.clone())
        .build()
        .map_err(|e| PgpError::InvalidKey(e.to_string()))?;
    let params = SecretKeyParamsBuilder::default()
        .key_type(KeyType::Ed25519Legacy)
        .can_certify(true)
        .can_sign(true)
        .primary_user_id(user_id.to_string())
        .passphrase(pass)
        .preferred_symmetric_algorithms(vec![SymmetricKeyAlgorithm::AES256, SymmetricKeyAlgorithm::AES128].into())
        .preferred_hash_algorithms(vec![HashAlgorithm::Sha512, HashAlgorithm::Sha256].into())
        .preferred_compression_algorithms(vec![CompressionAlgorithm::ZLIB].into())
        .subkey(subkey)
        .build()
        .map_err(|e| PgpError::InvalidKey(e.to_string()))?;
    let secret = params.generate(rand::thread_rng())?;
    Ok(GeneratedKey {
        public_armored: secret.to_public_key().to_armored_string(ArmorOptions::default())?,
        secret_armored: secret.to_armored_string(ArmorOptions::default())?,
        fingerprint: fingerprint_hex(secret.primary_key.public_key()),
    })
}

/// Parses an armored or binary public key (first key of the input) and checks its
/// self-signatures.
pub fn parse_public_key(armored_or_binary: &[u8]) -> Result<PublicKeyInfo> {
    let key = load_public(armored_or_binary)?;
    let now = Timestamp::now().as_secs() as u64;
    let expires_at = primary_expiry(&key);
    let mut addresses: Vec<String> = Vec::new();
    for addr in addresses_of(&key) {
        if !addresses.contains(&addr) {
            addresses.push(addr);
        }
    }
    let subkey = key.public_subkeys.iter().any(|s| usable_for_encryption(s, now));
    let can_encrypt = alive(&key, now) && (subkey || primary_encrypts(&key));
    Ok(PublicKeyInfo { fingerprint: fingerprint_hex(&key), addresses, can_encrypt, expires_at })
}

/// A public key (armored or binary) as ASCII armor, for storing one that came binary (WKD).
pub fn armor_public_key(armored_or_binary: &[u8]) -> Result<String> {
    Ok(load_public(armored_or_binary)?.to_armored_string(ArmorOptions::default())?)
}

/// A public key (armored or binary) in its binary form, as a key directory serves it.
pub fn public_key_bytes(armored_or_binary: &[u8]) -> Result<Vec<u8>> {
    use pgp::ser::Serialize;
    Ok(load_public(armored_or_binary)?.to_bytes()?)
}

/// Extracts the lower-cased address from "Name <addr>" or a bare "addr".
pub(crate) fn address_of(user_id: &str) -> Option<String> {
    let addr = match (user_id.rfind('<'), user_id.rfind('>')) {
        (Some(start), Some(end)) if start < end => &user_id[start + 1..end],
        _ => user_id,
    }
    .trim();
    let (local, domain) = addr.split_once('@')?;
    let ok = !local.is_empty() && !domain.is_empty() && !addr.contains(char::is_whitespace);
    ok.then(|| addr.to_lowercase())
}

fn addresses_of(cert: &SignedPublicKey) -> Vec<String> {
    let ids = cert.details.users.iter().filter_map(|u| u.id.as_str());
    ids.filter_map(address_of).collect()
}

fn fingerprint_hex(key: &impl KeyDetails) -> String {
    format!("{:X}", key.fingerprint())
}

pub(crate) fn load_public(data: &[u8]) -> Result<SignedPublicKey> {
    let (key, _) = SignedPublicKey::from_reader_single(data).map_err(|e| PgpError::InvalidKey(e.to_string()))?;
    // Parsing alone does not check any signature; an unbound subkey could be planted.
    key.verify_bindings().map_err(|e| PgpError::InvalidKey(e.to_string()))?;
    Ok(key)
}

/// Known keys are a keyring: one broken entry must not stop the others from working.
pub(crate) fn load_keyring(keys: &[&str]) -> Vec<SignedPublicKey> {
    keys.iter().filter_map(|k| load_public(k.as_bytes()).ok()).collect()
}

/// Parses a secret key and checks the passphrase up front, so a wrong passphrase
/// is reported as such instead of as a generic decrypt/sign failure.
pub(crate) fn load_secret(armored: &str, passphrase: &str) -> Result<(SignedSecretKey, Password)> {
    let (key, _) =
        SignedSecretKey::from_reader_single(armored.as_bytes()).map_err(|e| PgpError::InvalidKey(e.to_string()))?;
    let pw = Password::from(passphrase);
    let opens = |r: pgp::errors::Result<pgp::errors::Result<()>>| matches!(r, Ok(Ok(())));
    // Subkeys too: GnuPG's --export-secret-subkeys leaves only a stub of the primary.
    let ok = opens(key.primary_key.unlock(&pw, |_, _| Ok(())))
        || key.secret_subkeys.iter().any(|s| opens(s.key.unlock(&pw, |_, _| Ok(()))));
    if ok { Ok((key, pw)) } else { Err(PgpError::WrongPassphrase) }
}

/// Unix time at which the primary expires, from the newest self-signature.
fn primary_expiry(key: &SignedPublicKey) -> Option<u64> {
    let created = key.primary_key.created_at().as_secs() as u64;
    let sigs = key.details.users.iter().flat_map(|u| u.signatures.iter());
    let sigs = sigs.chain(key.details.direct_signatures.iter());
    let newest = newest(sigs.filter(|s| issued_by(s, &key.primary_key)))?;
    let secs = newest.key_expiration_time()?.as_secs() as u64;
    (secs > 0).then_some(created + secs)
}

/// The certificate as a whole: primary not expired and not revoked.
fn alive(key: &SignedPublicKey, now: u64) -> bool {
    primary_expiry(key).is_none_or(|t| t > now) && key.details.revocation_signatures.is_empty()
}

/// Old RSA keys may encrypt with the primary itself instead of a subkey.
fn primary_encrypts(key: &SignedPublicKey) -> bool {
    let sigs = key.details.users.iter().flat_map(|u| u.signatures.iter());
    let flags = newest(sigs.filter(|s| issued_by(s, &key.primary_key))).map(|s| s.key_flags());
    key.algorithm().can_encrypt() && flags.is_some_and(|f| f.encrypt_comms() || f.encrypt_storage())
}

fn newest<'a>(sigs: impl Iterator<Item = &'a Signature>) -> Option<&'a Signature> {
    sigs.max_by_key(|s| s.created().map(|t| t.as_secs()))
}

/// Judged by the newest binding signature, so a later revocation or expiry wins.
fn usable_for_encryption(sub: &SignedPublicSubKey, now: u64) -> bool {
    let Some(sig) = newest(sub.signatures.iter()) else {
        return false;
    };
    let flags = sig.key_flags();
    let expired = sig
        .key_expiration_time()
        .is_some_and(|d| d.as_secs() > 0 && sub.key.created_at().as_secs() as u64 + d.as_secs() as u64 <= now);
    sub.key.algorithm().can_encrypt()
        && (flags.encrypt_comms() || flags.encrypt_storage())
        && !expired
        && sig.typ() != Some(pgp::packet::SignatureType::SubkeyRevocation)
}

/// Encrypts (and signs) `data` to all recipients plus the signer. Returns ASCII armor.
pub(crate) fn encrypt_and_sign(
    data: Vec<u8>,
    recipients: &[&str],
    signer_secret_armored: &str,
    passphrase: &str,
) -> Result<String> {
    let (signer, pw) = load_secret(signer_secret_armored, passphrase)?;
    let mut certs = Vec::with_capacity(recipients.len() + 1);
    for armored in recipients {
        certs.push(load_public(armored.as_bytes())?);
    }
    // Encrypt to self too, so the sender (the queue) can read its own sent mail.
    let own = signer.to_public_key();
    if !certs.iter().any(|c| c.fingerprint() == own.fingerprint()) {
        certs.push(own);
    }
    let mut rng = rand::thread_rng();
    let now = Timestamp::now().as_secs() as u64;
    // SEIPDv1 (MDC) instead of v2/AEAD: GnuPG 2.2/2.4 and Thunderbird cannot read v2 yet.
    let mut builder = MessageBuilder::from_bytes("", data).seipd_v1(&mut rng, SymmetricKeyAlgorithm::AES256);
    for cert in &certs {
        let subs: Vec<_> = cert.public_subkeys.iter().filter(|s| usable_for_encryption(s, now)).collect();
        if !alive(cert, now) || (subs.is_empty() && !primary_encrypts(cert)) {
            return Err(PgpError::NoEncryptionKey(fingerprint_hex(cert)));
        }
        for sub in &subs {
            builder.encrypt_to_key(&mut rng, *sub)?;
        }
        if subs.is_empty() {
            builder.encrypt_to_key(&mut rng, cert)?;
        }
    }
    builder.sign(signing_key(&signer)?, pw, HashAlgorithm::Sha256);
    Ok(builder.to_armored_string(&mut rng, ArmorOptions::default())?)
}

/// Prefers a signing subkey (as GnuPG does) and falls back to a signing primary.
pub(crate) fn signing_key(key: &SignedSecretKey) -> Result<&dyn SigningKey> {
    let sub = key
        .secret_subkeys
        .iter()
        .find(|s| s.key.algorithm().can_sign() && s.signatures.iter().any(|sig| sig.key_flags().sign()));
    if let Some(sub) = sub {
        return Ok(&sub.key);
    }
    let primary_signs = key
        .details
        .users
        .iter()
        .flat_map(|u| u.signatures.iter())
        .any(|sig| sig.key_flags().sign() && issued_by(sig, key.primary_key.public_key()));
    if primary_signs && key.primary_key.algorithm().can_sign() {
        return Ok(&key.primary_key);
    }
    Err(PgpError::NoSigningKey)
}

fn issued_by(sig: &Signature, key: &impl KeyDetails) -> bool {
    let (fpr, id) = (key.fingerprint(), key.legacy_key_id());
    sig.issuer_fingerprint().contains(&&fpr) || sig.issuer_key_id().contains(&&id)
}

/// A key from the keyring that may have made a signature.
pub(crate) enum Signer<'a> {
    Primary(&'a SignedPublicKey),
    Sub(&'a SignedPublicKey, &'a SignedPublicSubKey),
}

impl<'a> Signer<'a> {
    pub(crate) fn find(keyring: &'a [SignedPublicKey], sig: &Signature) -> Option<Self> {
        keyring.iter().find_map(|cert| {
            if issued_by(sig, cert) {
                return Some(Signer::Primary(cert));
            }
            let sub = cert.public_subkeys.iter().find(|s| issued_by(sig, &s.key))?;
            Some(Signer::Sub(cert, sub))
        })
    }

    pub(crate) fn verifying_key(&self) -> &dyn VerifyingKey {
        match self {
            Signer::Primary(cert) => *cert,
            Signer::Sub(_, sub) => *sub,
        }
    }

    /// `Signature::verify` wants `impl VerifyingKey`, so `&dyn` cannot be used here.
    pub(crate) fn verify_detached(&self, sig: &Signature, data: &[u8]) -> bool {
        match self {
            Signer::Primary(cert) => sig.verify(*cert, data).is_ok(),
            Signer::Sub(_, sub) => sig.verify(*sub, data).is_ok(),
        }
    }

    pub(crate) fn verified(&self, from: Option<&str>) -> SignatureState {
        let cert = match self {
            Signer::Primary(cert) | Signer::Sub(cert, _) => *cert,
        };
        let addrs = addresses_of(cert);
        let address = from.map(str::to_lowercase).filter(|f| addrs.contains(f)).or_else(|| addrs.first().cloned());
        SignatureState::Verified { fingerprint: fingerprint_hex(cert), address }
    }
}

pub(crate) fn issuer_string(sig: &Signature) -> String {
    match sig.issuer_fingerprint().first() {
        Some(fpr) => format!("{fpr:X}"),
        None => sig.issuer_key_id().first().map(|id| id.to_string().to_uppercase()).unwrap_or_default(),
    }
}

/// Decrypts an armored or binary OpenPGP message and checks any signature in it.
/// The largest plaintext a decryption yields (the intake's mail limit).
pub const MAX_PLAINTEXT: usize = 25 * 1000 * 1000;

pub(crate) fn decrypt_and_verify(
    data: &[u8],
    secret: &SignedSecretKey,
    pw: &Password,
    keyring: &[SignedPublicKey],
    from: Option<&str>,
) -> Result<(Vec<u8>, SignatureState)> {
    let (msg, _) = Message::from_reader(data).map_err(|e| PgpError::Decrypt(e.to_string()))?;
    if !msg.is_encrypted() {
        return Err(PgpError::Decrypt("message is not encrypted".into()));
    }
    let msg = msg.decrypt(pw, secret).map_err(|e| PgpError::Decrypt(e.to_string()))?;
    // decompress() is a no-op for uncompressed data and also unwraps signed+compressed.
    let mut msg = msg.decompress()?;
    // The integrity (MDC) check only happens at the end of the stream: read it all
    // before trusting any byte, and drop the data on error. At most
    // MAX_PLAINTEXT: a compressed message can expand a thousandfold.
    let mut plain = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(&mut msg, MAX_PLAINTEXT as u64 + 1), &mut plain)
        .map_err(|e| PgpError::Decrypt(e.to_string()))?;
    if plain.len() > MAX_PLAINTEXT {
        return Err(PgpError::Decrypt(format!("the decrypted message is larger than {MAX_PLAINTEXT} bytes")));
    }
    let state = message_signature_state(&msg, keyring, from);
    Ok((plain, state))
}

fn message_signature_state(msg: &Message<'_>, keyring: &[SignedPublicKey], from: Option<&str>) -> SignatureState {
    let Message::Signed { reader, .. } = msg else {
        return SignatureState::NotSigned;
    };
    let mut state = SignatureState::NotSigned;
    for (i, sig) in (0..reader.num_signatures()).filter_map(|i| Some((i, reader.signature(i)?))) {
        let reason = match Signer::find(keyring, sig) {
            Some(signer) if msg.verify_nested_explicit(i, signer.verifying_key()).is_ok() => {
                return signer.verified(from);
            }
            Some(_) => UnverifiedReason::BadSignature,
            None => UnverifiedReason::UnknownKey,
        };
        // A bad signature is the more alarming finding, so it wins over "unknown key".
        if state == SignatureState::NotSigned || reason == UnverifiedReason::BadSignature {
            let issuer_key_id_or_fpr = issuer_string(sig);
            state = SignatureState::Unverified { issuer_key_id_or_fpr, reason };
        }
    }
    state
}

#[cfg(test)]
mod tests;
