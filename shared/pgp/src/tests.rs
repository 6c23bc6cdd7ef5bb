//! Tests with real keys generated at run time; nothing is mocked.

use std::sync::OnceLock;
use std::time::Instant;

use base64::Engine as _;
use pgp::composed::{Deserializable, SignedPublicKey};
use pgp::ser::Serialize;

use super::*;

const INNER: &[u8] = b"Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\nHallo Bob,\r\nTicket #42 ist erledigt.\r\n";

struct Keys {
    alice: GeneratedKey,
    bob: GeneratedKey,
    carol: GeneratedKey,
}

// Key generation (and its S2K) is the slow part, so all tests share one set.
fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        alice: generate_key("Alice Example <Alice@Example.org>", "pw-alice").unwrap(),
        bob: generate_key("Bob <bob@example.org>", "pw-bob").unwrap(),
        carol: generate_key("Carol <carol@example.org>", "pw-carol").unwrap(),
    })
}

fn mail(from: &str, content_type: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: bob@example.org\r\nSubject: Test\r\nMIME-Version: 1.0\r\n\
         {extra_headers}Content-Type: {content_type}\r\n\r\n{body}"
    )
    .into_bytes()
}

fn encrypted_mail_from_alice() -> Vec<u8> {
    let k = keys();
    let enc = encrypt_and_sign_mime(INNER, &[&k.bob.public_armored], &k.alice.secret_armored, "pw-alice").unwrap();
    mail("Alice <alice@example.org>", &enc.content_type, "", &enc.body)
}

#[test]
fn roundtrip_pgp_mime_verified() {
    let k = keys();
    let raw = encrypted_mail_from_alice();
    let d = decrypt_mail(&raw, &k.bob.secret_armored, "pw-bob", &[&k.alice.public_armored]).unwrap().unwrap();
    assert_eq!(d.inner, INNER);
    assert!(!d.inline);
    let expected = SignatureState::Verified {
        fingerprint: k.alice.fingerprint.clone(),
        address: Some("alice@example.org".into()),
    };
    assert_eq!(d.signature, expected);
    // Encrypt-to-self: the sender can read its own sent mail.
    let own = decrypt_mail(&raw, &k.alice.secret_armored, "pw-alice", &[]).unwrap().unwrap();
    assert_eq!(own.inner, INNER);
}

#[test]
fn pgp_mime_body_shape() {
    let k = keys();
    let enc = encrypt_and_sign_mime(
        b"Content-Type: text/plain\n\nhi\n",
        &[&k.bob.public_armored],
        &k.alice.secret_armored,
        "pw-alice",
    )
    .unwrap();
    assert!(enc.content_type.starts_with("multipart/encrypted; protocol=\"application/pgp-encrypted\""));
    assert!(enc.body.contains("Content-Type: application/pgp-encrypted\r\n"));
    assert!(enc.body.contains("\r\nVersion: 1\r\n"));
    assert!(enc.body.contains("Content-Type: application/octet-stream"));
    assert!(enc.body.contains("-----BEGIN PGP MESSAGE-----\r\n"));
    assert!(!enc.body.replace("\r\n", "").contains('\n'), "bare LF in body");
    // LF-only input comes back in MIME canonical form.
    let raw = mail("alice@example.org", &enc.content_type, "", &enc.body);
    let d = decrypt_mail(&raw, &k.bob.secret_armored, "pw-bob", &[]).unwrap().unwrap();
    assert_eq!(d.inner, b"Content-Type: text/plain\r\n\r\nhi\r\n");
}

#[test]
fn unknown_signer_is_unverified() {
    let k = keys();
    let raw = encrypted_mail_from_alice();
    let d = decrypt_mail(&raw, &k.bob.secret_armored, "pw-bob", &[&k.carol.public_armored]).unwrap().unwrap();
    assert_eq!(d.inner, INNER);
    assert_eq!(
        d.signature,
        SignatureState::Unverified {
            issuer_key_id_or_fpr: k.alice.fingerprint.clone(),
            reason: UnverifiedReason::UnknownKey,
        }
    );
}

#[test]
fn wrong_secret_key_fails() {
    let k = keys();
    let err = decrypt_mail(&encrypted_mail_from_alice(), &k.carol.secret_armored, "pw-carol", &[]);
    assert!(matches!(err, Err(PgpError::Decrypt(_))), "{err:?}");
}

#[test]
fn wrong_passphrase_fails() {
    let k = keys();
    let err = decrypt_mail(&encrypted_mail_from_alice(), &k.bob.secret_armored, "nope", &[]);
    assert!(matches!(err, Err(PgpError::WrongPassphrase)), "{err:?}");
    let err = encrypt_and_sign_mime(INNER, &[&k.bob.public_armored], &k.alice.secret_armored, "nope");
    assert!(matches!(err, Err(PgpError::WrongPassphrase)), "{err:?}");
}

#[test]
fn plain_mail_is_none() {
    let k = keys();
    let raw = mail("alice@example.org", "text/plain", "", "just text\r\n");
    assert_eq!(decrypt_mail(&raw, &k.bob.secret_armored, "pw-bob", &[]).unwrap(), None);
    assert_eq!(verify_signed_mime(&raw, &[]).unwrap(), None);
    // A reply quoting an old inline-PGP block is not an encrypted mail.
    let quoted = "On Monday:\r\n> -----BEGIN PGP MESSAGE-----\r\n> hQEMA\r\n> -----END PGP MESSAGE-----\r\n";
    let raw = mail("alice@example.org", "text/plain", "", quoted);
    assert_eq!(decrypt_mail(&raw, &k.bob.secret_armored, "pw-bob", &[]).unwrap(), None);
}

#[test]
fn multiple_recipients_and_malformed_mails() {
    let k = keys();
    let recipients = [k.bob.public_armored.as_str(), &k.carol.public_armored, &k.alice.public_armored];
    let enc = encrypt_and_sign_mime(INNER, &recipients, &k.alice.secret_armored, "pw-alice").unwrap();
    let raw = mail("alice@example.org", &enc.content_type, "", &enc.body);
    for (secret, pw) in [(&k.bob.secret_armored, "pw-bob"), (&k.carol.secret_armored, "pw-carol")] {
        assert_eq!(decrypt_mail(&raw, secret, pw, &[]).unwrap().unwrap().inner, INNER);
    }
    // None of these may panic; each is either "not encrypted" or an error.
    let enc_ct = "multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b\"";
    let sig_ct = "multipart/signed; protocol=\"application/pgp-signature\"; boundary=\"b\"";
    let octet = "--b\r\nContent-Type: application/octet-stream\r\n\r\n";
    let garbage_armor = "-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA+garbage==\r\n-----END PGP MESSAGE-----\r\n";
    let cases: Vec<Vec<u8>> = vec![
        raw[..raw.len() / 2].to_vec(),
        mail("a@b.c", enc_ct, "", "no parts at all\r\n"),
        mail("a@b.c", enc_ct, "", &format!("{octet}not armor\r\n--b--\r\n")),
        mail("a@b.c", enc_ct, "", &format!("{octet}{garbage_armor}--b--\r\n")),
        mail("a@b.c", "text/plain", "", garbage_armor),
        mail("a@b.c", sig_ct, "", "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b\r\n\r\ny\r\n--b--\r\n"),
        mail("a@b.c", sig_ct, "", "no boundary inside"),
        vec![0xff, 0x00, 0x13, 0x37],
        Vec::new(),
    ];
    for case in &cases {
        let res = decrypt_mail(case, &k.bob.secret_armored, "pw-bob", &[]);
        assert!(!matches!(res, Ok(Some(_))), "{res:?}");
        assert!(!matches!(verify_signed_mime(case, &[]), Ok(Some(_))));
        let _ = extract_keys_from_mail(case);
    }
}

#[test]
fn inline_pgp_decrypts() {
    let k = keys();
    let text = b"Inline hello\r\nzweite Zeile\r\n".to_vec();
    let armored =
        encrypt_and_sign(text.clone(), &[&k.bob.public_armored], &k.alice.secret_armored, "pw-alice").unwrap();
    let body = format!("Hi, see below.\r\n\r\n{}\r\n-- \r\nsig\r\n", armored.replace('\n', "\r\n"));
    let raw = mail("Alice <alice@example.org>", "text/plain; charset=us-ascii", "", &body);
    let d = decrypt_mail(&raw, &k.bob.secret_armored, "pw-bob", &[&k.alice.public_armored]).unwrap().unwrap();
    assert!(d.inline);
    assert_eq!(d.inner, text);
    assert!(matches!(d.signature, SignatureState::Verified { .. }));
}

#[test]
fn tampered_ciphertext_is_error_not_panic() {
    let k = keys();
    let armored =
        encrypt_and_sign(INNER.to_vec(), &[&k.bob.public_armored], &k.alice.secret_armored, "pw-alice").unwrap();
    // Armored PGP/MIME: the CRC24 or the MDC catches a changed base64 character.
    let enc = encrypt_and_sign_mime(INNER, &[&k.bob.public_armored], &k.alice.secret_armored, "pw-alice").unwrap();
    let good_body = enc.body.clone();
    let armor_start = good_body.find("-----BEGIN PGP MESSAGE-----").unwrap();
    let mut body = good_body.into_bytes();
    let mut pos = armor_start + (body.len() - armor_start) / 2;
    while !body[pos].is_ascii_alphanumeric() {
        pos += 1;
    }
    body[pos] = if body[pos] == b'A' { b'B' } else { b'A' };
    let raw = mail("alice@example.org", &enc.content_type, "", &String::from_utf8(body).unwrap());
    assert!(decrypt_mail(&raw, &k.bob.secret_armored, "pw-bob", &[]).is_err());

    // Binary: flip bytes all over the message, so the MDC and packet parsing are hit too
    // (the armor checksum is not there to catch it).
    let b64: String = armored
        .lines()
        .skip_while(|l| !l.is_empty())
        .filter(|l| !l.is_empty() && !l.starts_with('=') && !l.starts_with("-----"))
        .collect();
    let binary = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    let (mut secret, pw) = load_secret(&k.bob.secret_armored, "pw-bob").unwrap();
    // Unlocked copy: the S2K per attempt would make this loop take minutes in debug builds.
    secret.secret_subkeys[0].key.remove_password(&pw).unwrap();
    let pw = Password::empty();
    assert!(decrypt_and_verify(&binary, &secret, &pw, &[], None).is_ok());
    let mut checked = 0;
    for i in (0..binary.len()).step_by(5) {
        let mut bad = binary.clone();
        bad[i] ^= 0x01;
        let res = decrypt_and_verify(&bad, &secret, &pw, &[], None);
        // Flipping a PKESK for a *different* recipient (Alice's copy) is harmless by design.
        if let Ok((plain, _)) = &res {
            assert_eq!(plain, INNER, "byte {i} changed the plaintext");
            continue;
        }
        checked += 1;
    }
    assert!(checked > binary.len() / 10, "too few flips were detected: {checked}");
}

#[test]
fn parse_public_key_info_and_garbage() {
    let k = keys();
    let info = parse_public_key(k.alice.public_armored.as_bytes()).unwrap();
    assert_eq!(info.fingerprint, k.alice.fingerprint);
    assert_eq!(info.fingerprint.len(), 40);
    assert_eq!(info.addresses, vec!["alice@example.org".to_string()]);
    assert!(info.can_encrypt);
    assert_eq!(info.expires_at, None);
    // Binary input works as well.
    let (key, _) = SignedPublicKey::from_string(&k.bob.public_armored).unwrap();
    let info = parse_public_key(&key.to_bytes().unwrap()).unwrap();
    assert_eq!(info.fingerprint, k.bob.fingerprint);

    for garbage in [
        &b""[..],
        b"hello",
        b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n",
        &[0x99, 0x01, 0x02, 0xff][..],
    ] {
        assert!(parse_public_key(garbage).is_err());
    }
    // A secret key is not a public key.
    assert!(parse_public_key(k.alice.secret_armored.as_bytes()).is_err());
    assert!(matches!(generate_key("no address here", "x"), Err(PgpError::InvalidUserId)));
}

#[test]
fn secret_key_is_passphrase_protected() {
    let k = keys();
    assert!(k.alice.secret_armored.starts_with("-----BEGIN PGP PRIVATE KEY BLOCK-----"));
    assert!(matches!(load_secret(&k.alice.secret_armored, ""), Err(PgpError::WrongPassphrase)));
    let (key, _) = load_secret(&k.alice.secret_armored, "pw-alice").unwrap();
    // The subkey must be locked too (rPGP locks primary and subkeys separately).
    let sub = &key.secret_subkeys[0].key;
    assert!(sub.unlock(&"wrong".into(), |_, _| Ok(())).is_err());
    assert!(sub.unlock(&"pw-alice".into(), |_, _| Ok(())).is_ok());
}

#[test]
fn multipart_signed_verifies() {
    let k = keys();
    let signed = sign_mime(INNER, &k.alice.secret_armored, "pw-alice").unwrap();
    assert!(signed.content_type.contains("protocol=\"application/pgp-signature\""));
    let raw = mail("Alice <alice@example.org>", &signed.content_type, "", &signed.body);
    let res = verify_signed_mime(&raw, &[&k.alice.public_armored]).unwrap().unwrap();
    assert_eq!(res.signed_entity, INNER);
    assert!(
        matches!(&res.signature, SignatureState::Verified { fingerprint, .. } if *fingerprint == k.alice.fingerprint)
    );

    // Stored with LF line endings (e.g. by a Unix mail store): still valid, RFC 3156 hashes CRLF.
    let lf = String::from_utf8(raw.clone()).unwrap().replace("\r\n", "\n");
    let res = verify_signed_mime(lf.as_bytes(), &[&k.alice.public_armored]).unwrap().unwrap();
    assert!(matches!(res.signature, SignatureState::Verified { .. }));

    let res = verify_signed_mime(&raw, &[&k.bob.public_armored]).unwrap().unwrap();
    assert!(matches!(res.signature, SignatureState::Unverified { reason: UnverifiedReason::UnknownKey, .. }));

    let tampered = String::from_utf8(raw).unwrap().replace("erledigt", "offen!!!");
    let res = verify_signed_mime(tampered.as_bytes(), &[&k.alice.public_armored]).unwrap().unwrap();
    assert_eq!(
        res.signature,
        SignatureState::Unverified {
            issuer_key_id_or_fpr: k.alice.fingerprint.clone(),
            reason: UnverifiedReason::BadSignature,
        }
    );
}

#[test]
fn sign_then_encrypt_nested_signature() {
    // RFC 3156 6.1: multipart/signed inside multipart/encrypted, outer message unsigned.
    let k = keys();
    let signed = sign_mime(INNER, &k.alice.secret_armored, "pw-alice").unwrap();
    let entity = format!("Content-Type: {}\r\n\r\n{}", signed.content_type, signed.body);
    let (bob_secret, _) = load_secret(&k.bob.secret_armored, "pw-bob").unwrap();
    let mut rng = rand::thread_rng();
    let mut builder = pgp::composed::MessageBuilder::from_bytes("", entity.clone().into_bytes())
        .seipd_v1(&mut rng, pgp::crypto::sym::SymmetricKeyAlgorithm::AES256);
    builder.encrypt_to_key(&mut rng, &bob_secret.to_public_key().public_subkeys[0]).unwrap();
    let armored = builder.to_armored_string(&mut rng, Default::default()).unwrap();
    let body = format!(
        "--b1\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b1\r\n\
         Content-Type: application/octet-stream\r\n\r\n{armored}\r\n--b1--\r\n"
    );
    let ct = "multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b1\"";
    let raw = mail("alice@example.org", ct, "", &body);
    let d = decrypt_mail(&raw, &k.bob.secret_armored, "pw-bob", &[&k.alice.public_armored]).unwrap().unwrap();
    assert_eq!(d.inner, entity.as_bytes());
    assert!(matches!(d.signature, SignatureState::Verified { .. }));
}

#[test]
fn keys_from_attachment_and_autocrypt() {
    let k = keys();
    let (bob, _) = SignedPublicKey::from_string(&k.bob.public_armored).unwrap();
    let keydata = base64::engine::general_purpose::STANDARD.encode(bob.to_bytes().unwrap());
    // Folded header, as real mailers send it.
    let folded: Vec<&str> = keydata.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
    let autocrypt =
        format!("Autocrypt: addr=bob@example.org; prefer-encrypt=mutual; keydata=\r\n {}\r\n", folded.join("\r\n "));
    let body = format!(
        "--mix\r\nContent-Type: text/plain\r\n\r\nmy key\r\n--mix\r\n\
         Content-Type: application/pgp-keys; name=\"alice.asc\"\r\n\
         Content-Disposition: attachment; filename=\"alice.asc\"\r\n\r\n{}\r\n--mix--\r\n",
        k.alice.public_armored
    );
    let raw = mail("bob@example.org", "multipart/mixed; boundary=\"mix\"", &autocrypt, &body);
    let found = extract_keys_from_mail(&raw);
    let fprs: Vec<String> = found.iter().map(|a| parse_public_key(a.as_bytes()).unwrap().fingerprint).collect();
    assert_eq!(fprs, vec![k.alice.fingerprint.clone(), k.bob.fingerprint.clone()]);
    assert!(extract_keys_from_mail(b"Subject: nothing\r\n\r\nbody").is_empty());
}

#[test]
fn timing() {
    let t = Instant::now();
    let key = generate_key("Timing <t@example.org>", "pw").unwrap();
    let gen_time = t.elapsed();
    let k = keys();
    let t = Instant::now();
    let enc = encrypt_and_sign_mime(INNER, &[&k.bob.public_armored], &key.secret_armored, "pw").unwrap();
    let enc_time = t.elapsed();
    let raw = mail("t@example.org", &enc.content_type, "", &enc.body);
    let t = Instant::now();
    let d = decrypt_mail(&raw, &k.bob.secret_armored, "pw-bob", &[&key.public_armored]).unwrap().unwrap();
    let dec_time = t.elapsed();
    assert!(matches!(d.signature, SignatureState::Verified { .. }));
    println!("TIMING keygen={gen_time:?} encrypt+sign={enc_time:?} decrypt+verify={dec_time:?}");
}
