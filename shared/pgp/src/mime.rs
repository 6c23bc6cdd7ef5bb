//! Mail side of the module: RFC 3156 PGP/MIME (multipart/encrypted and
//! multipart/signed), inline PGP in text/plain bodies, and key discovery
//! (application/pgp-keys attachments and the Autocrypt header).
//!
//! Mails are read with `mail-parser`; the few MIME structures we emit are
//! written by hand with CRLF line endings, ready to go after the caller's headers.

use base64::Engine as _;
use mail_parser::{Message as Mail, MessageParser, MessagePart, MimeHeaders, PartType};
use pgp::composed::{ArmorOptions, Deserializable, DetachedSignature, SignedPublicKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::types::KeyDetails;

use crate::{
    PgpError, Result, SignatureState, Signer, UnverifiedReason, decrypt_and_verify, encrypt_and_sign, issuer_string,
    load_keyring, load_public, load_secret, signing_key,
};

/// A ready multipart body: put `content_type` into the mail's Content-Type header
/// and `body` (CRLF line endings) after the header block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MimeBody {
    pub content_type: String,
    pub body: String,
}

/// Result of [`encrypt_and_sign_mime`]: a multipart/encrypted body.
pub type EncryptedMime = MimeBody;

/// A decrypted mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// PGP/MIME: the decrypted MIME entity. Inline PGP: the decrypted text.
    pub inner: Vec<u8>,
    pub inline: bool,
    pub signature: SignatureState,
}

/// Result of [`verify_signed_mime`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedMime {
    pub signature: SignatureState,
    /// The signed MIME entity (first part), exactly as found in the mail.
    pub signed_entity: Vec<u8>,
}

/// Encrypts and signs a full MIME entity (headers + body) to the recipients and to the
/// signer itself, wrapped as RFC 3156 multipart/encrypted. Bare LF line endings of the
/// entity are turned into CRLF first (MIME canonical form), so that other clients see
/// the same bytes that were signed.
pub fn encrypt_and_sign_mime(
    inner_mime: &[u8],
    recipients: &[&str],
    signer_secret_armored: &str,
    passphrase: &str,
) -> Result<EncryptedMime> {
    let armored = encrypt_and_sign(to_crlf(inner_mime), recipients, signer_secret_armored, passphrase)?;
    let b = new_boundary();
    let armored = String::from_utf8_lossy(&to_crlf(armored.trim_end().as_bytes())).into_owned();
    let body = format!(
        "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n\
         --{b}\r\n\
         Content-Type: application/pgp-encrypted\r\n\
         Content-Description: PGP/MIME version identification\r\n\
         \r\n\
         Version: 1\r\n\
         \r\n\
         --{b}\r\n\
         Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n\
         Content-Description: OpenPGP encrypted message\r\n\
         Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\
         \r\n\
         {armored}\r\n\
         --{b}--\r\n"
    );
    let content_type = format!("multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"{b}\"");
    Ok(MimeBody { content_type, body })
}

/// Signs a MIME entity as RFC 3156 multipart/signed (detached signature over the
/// CRLF-canonical entity). The entity should be 7bit-safe (quoted-printable or base64),
/// because relays may re-encode 8bit content and break the signature.
pub fn sign_mime(inner_mime: &[u8], secret_armored: &str, passphrase: &str) -> Result<MimeBody> {
    let entity = to_crlf(inner_mime);
    let (signer, pw) = load_secret(secret_armored, passphrase)?;
    // `impl SigningKey` is not satisfied by `&dyn SigningKey`; rPGP implements it for this box.
    let key = Box::new(signing_key(&signer)?);
    let sig = DetachedSignature::sign_binary_data(rand::thread_rng(), &key, &pw, HashAlgorithm::Sha256, &entity[..])?;
    let sig = sig.to_armored_string(ArmorOptions::default())?;
    let sig = String::from_utf8_lossy(&to_crlf(sig.trim_end().as_bytes())).into_owned();
    // A lossy conversion would change signed bytes; 8bit content should be encoded anyway.
    let entity = String::from_utf8(entity).map_err(|_| PgpError::Mime("entity to sign is not UTF-8"))?;
    let b = new_boundary();
    let body = format!(
        "This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n\
         --{b}\r\n\
         {entity}\r\n\
         --{b}\r\n\
         Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n\
         Content-Description: OpenPGP digital signature\r\n\
         Content-Disposition: attachment; filename=\"signature.asc\"\r\n\
         \r\n\
         {sig}\r\n\
         --{b}--\r\n"
    );
    let content_type =
        format!("multipart/signed; micalg=\"pgp-sha256\"; protocol=\"application/pgp-signature\"; boundary=\"{b}\"");
    Ok(MimeBody { content_type, body })
}

/// Decrypts a PGP/MIME or inline-PGP mail. `Ok(None)` means the mail is not encrypted.
/// Signatures are checked against `known_public_keys` (armored; unparsable ones are skipped).
pub fn decrypt_mail(
    raw_mail: &[u8],
    secret_armored: &str,
    passphrase: &str,
    known_public_keys: &[&str],
) -> Result<Option<Decrypted>> {
    let mail = parse(raw_mail)?;
    let (payload, inline) = match pgp_mime_payload(&mail)? {
        Some(p) => (p, false),
        None => match mail.parts.iter().find_map(inline_armor) {
            Some(p) => (p, true),
            None => return Ok(None),
        },
    };
    // Keys are only loaded once we know there is work: unlocking costs an S2K run.
    let (secret, pw) = load_secret(secret_armored, passphrase)?;
    let keyring = load_keyring(known_public_keys);
    let from = from_address(&mail);
    let (inner, mut signature) = decrypt_and_verify(&payload, &secret, &pw, &keyring, from.as_deref())?;
    // RFC 3156 6.1: "sign then encrypt" puts a multipart/signed inside the encryption.
    if !inline
        && signature == SignatureState::NotSigned
        && let Some(signed) = verify_signed(&inner, &keyring, from.as_deref())?
    {
        signature = signed.signature;
    }
    Ok(Some(Decrypted { inner, inline, signature }))
}

/// Checks an RFC 3156 multipart/signed mail. `Ok(None)` means it is not one.
pub fn verify_signed_mime(raw_mail: &[u8], known_public_keys: &[&str]) -> Result<Option<SignedMime>> {
    let from = from_address(&parse(raw_mail)?);
    verify_signed(raw_mail, &load_keyring(known_public_keys), from.as_deref())
}

/// Returns armored public keys found in application/pgp-keys parts and in
/// Autocrypt headers. Only keys with valid self-signatures are returned.
/// Autocrypt-Gossip is left out on purpose: it vouches for third parties.
pub fn extract_keys_from_mail(raw_mail: &[u8]) -> Vec<String> {
    let Some(mail) = MessageParser::default().parse(raw_mail) else {
        return Vec::new();
    };
    let mut keys: Vec<SignedPublicKey> = Vec::new();
    for part in mail.parts.iter().filter(|p| is_type(p, "application", "pgp-keys")) {
        if let Ok((iter, _)) = SignedPublicKey::from_reader_many(part.contents()) {
            keys.extend(iter.flatten().filter(|k| k.verify_bindings().is_ok()));
        }
    }
    for (name, value) in mail.headers_raw() {
        if name.eq_ignore_ascii_case("Autocrypt")
            && let Some(key) = autocrypt_keydata(value).and_then(|d| load_public(&d).ok())
        {
            keys.push(key);
        }
    }
    let mut seen = Vec::new();
    keys.into_iter()
        .filter(|k| {
            let fpr = k.fingerprint();
            let new = !seen.contains(&fpr);
            seen.push(fpr);
            new
        })
        .filter_map(|k| k.to_armored_string(ArmorOptions::default()).ok())
        .collect()
}

fn verify_signed(raw: &[u8], keyring: &[SignedPublicKey], from: Option<&str>) -> Result<Option<SignedMime>> {
    let mail = parse(raw)?;
    // Only a signature over the whole mail counts: a signed part wrapped
    // beside unsigned text must not make the text look signed.
    let Some(part) = mail.parts.first().filter(|p| {
        is_type(p, "multipart", "signed")
            && attr(p, "protocol").is_some_and(|v| v.eq_ignore_ascii_case("application/pgp-signature"))
    }) else {
        return Ok(None);
    };
    let boundary = attr(part, "boundary").ok_or(PgpError::Mime("multipart/signed without boundary"))?;
    let start = part.offset_body as usize;
    let end = if part.offset_end as usize > start { part.offset_end as usize } else { raw.len() };
    let body = raw.get(start..end).unwrap_or_default();
    // mail-parser decodes parts; the signature is over the raw bytes, so split ourselves.
    let Some(&signed) = split_multipart(body, boundary).first() else {
        return Err(PgpError::Mime("multipart/signed without signed part"));
    };
    let sig_part = part
        .sub_parts()
        .and_then(|ids| ids.get(1))
        .and_then(|id| mail.parts.get(*id as usize))
        .ok_or(PgpError::Mime("multipart/signed without signature part"))?;
    let sig_armor =
        find_armor(sig_part.contents(), "SIGNATURE").ok_or(PgpError::Mime("signature part holds no PGP signature"))?;
    let (sig, _) = DetachedSignature::from_armor_single(sig_armor)?;
    let canonical = to_crlf(signed);
    let signature = match Signer::find(keyring, &sig.signature) {
        Some(signer) if signer.verify_detached(&sig.signature, &canonical) => signer.verified(from),
        found => SignatureState::Unverified {
            issuer_key_id_or_fpr: issuer_string(&sig.signature),
            reason: if found.is_some() { UnverifiedReason::BadSignature } else { UnverifiedReason::UnknownKey },
        },
    };
    Ok(Some(SignedMime { signature, signed_entity: signed.to_vec() }))
}

fn parse(raw: &[u8]) -> Result<Mail<'_>> {
    MessageParser::default().parse(raw).ok_or(PgpError::Mime("not a mail"))
}

fn from_address(mail: &Mail<'_>) -> Option<String> {
    Some(mail.from()?.first()?.address()?.to_lowercase())
}

/// The armored payload of a multipart/encrypted (protocol application/pgp-encrypted) part.
fn pgp_mime_payload(mail: &Mail<'_>) -> Result<Option<Vec<u8>>> {
    let Some(part) = mail.parts.iter().find(|p| {
        is_type(p, "multipart", "encrypted")
            && attr(p, "protocol").is_some_and(|v| v.eq_ignore_ascii_case("application/pgp-encrypted"))
    }) else {
        return Ok(None);
    };
    let payload = part
        .sub_parts()
        .into_iter()
        .flatten()
        .filter_map(|id| mail.parts.get(*id as usize))
        .find(|p| is_type(p, "application", "octet-stream"))
        .ok_or(PgpError::Mime("multipart/encrypted without octet-stream part"))?;
    Ok(Some(payload.contents().to_vec()))
}

/// An inline "BEGIN PGP MESSAGE" block inside a text/plain part.
fn inline_armor(part: &MessagePart<'_>) -> Option<Vec<u8>> {
    match &part.body {
        PartType::Text(text) => find_armor(text.as_bytes(), "MESSAGE").map(<[u8]>::to_vec),
        _ => None,
    }
}

/// An armor block whose BEGIN line starts a line, so quoted ("> -----BEGIN") blocks
/// in replies are not mistaken for a message to decrypt.
fn find_armor<'a>(data: &'a [u8], kind: &str) -> Option<&'a [u8]> {
    let begin_marker = format!("-----BEGIN PGP {kind}-----");
    let end_marker = format!("-----END PGP {kind}-----");
    let mut from = 0;
    let begin = loop {
        let at = from + find(&data[from..], begin_marker.as_bytes())?;
        if at == 0 || data[at - 1] == b'\n' {
            break at;
        }
        from = at + 1;
    };
    let end = begin + find(&data[begin..], end_marker.as_bytes())? + end_marker.len();
    Some(&data[begin..end])
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn is_type(part: &MessagePart<'_>, ctype: &str, subtype: &str) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(ctype) && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case(subtype))
    })
}

fn attr<'a>(part: &'a MessagePart<'_>, name: &str) -> Option<&'a str> {
    part.content_type()?.attribute(name)
}

/// Autocrypt: "addr=...; [prefer-encrypt=...;] keydata=<base64 of a binary key>".
fn autocrypt_keydata(value: &str) -> Option<Vec<u8>> {
    let data = value.split(';').find_map(|kv| kv.trim().strip_prefix("keydata="))?;
    let data: String = data.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(data).ok()
}

/// Splits a multipart body into its parts' raw bytes. Per RFC 2046 the line break
/// before a delimiter line belongs to the delimiter, not to the part.
fn split_multipart<'a>(body: &'a [u8], boundary: &str) -> Vec<&'a [u8]> {
    let delim = format!("--{boundary}");
    let (mut parts, mut start, mut pos) = (Vec::new(), None, 0);
    while pos < body.len() {
        let line_end = body[pos..].iter().position(|&c| c == b'\n').map_or(body.len(), |i| pos + i);
        let line = body[pos..line_end].trim_ascii_end();
        if let Some(rest) = line.strip_prefix(delim.as_bytes())
            && (rest.is_empty() || rest == b"--")
        {
            if let Some(s) = start {
                let mut end = pos;
                if end > s && body[end - 1] == b'\n' {
                    end -= 1;
                }
                if end > s && body[end - 1] == b'\r' {
                    end -= 1;
                }
                parts.push(&body[s..end]);
            }
            if rest == b"--" {
                break;
            }
            start = Some((line_end + 1).min(body.len()));
        }
        pos = line_end + 1;
    }
    parts
}

/// MIME canonical form: every bare LF becomes CRLF, existing CRLF stays.
fn to_crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    for (i, &c) in data.iter().enumerate() {
        if c == b'\n' && (i == 0 || data[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(c);
    }
    out
}

/// Random boundary; armor and base64 never contain "lb-pgp-" followed by hex.
fn new_boundary() -> String {
    format!("lb-pgp-{:032x}", rand::random::<u128>())
}
