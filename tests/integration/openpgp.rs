//! OpenPGP (issue 17, seed 004) with real keys made in the test: a mail
//! encrypted to the queue's key arrives decrypted with a checked signature;
//! a reply to a requester whose key is on file leaves encrypted and signed
//! (decrypted here with the requester's secret key, as their mail program
//! would); in a queue that requires encryption, a reply to a requester
//! without a key never reaches SMTP and the ticket says why.

use crate::intake::{drain, mail};
use crate::outgoing::{captured, send_all, with_sink};
use logbuch_tests::{Backend, both, spawn_app_with};
use reqwest::StatusCode;
use serde_json::json;

/// NW's Mitgliederverwaltung encrypts where it can, its Schatzmeister always.
fn federation(dir: &std::path::Path) -> std::path::PathBuf {
    let fed = logbuch_config::EMBEDDED_FEDERATION
        .replacen(
            "slug = \"mitgliederverwaltung\"\nname = \"Mitgliederverwaltung\"\n",
            "slug = \"mitgliederverwaltung\"\nname = \"Mitgliederverwaltung\"\nencryption = \"optional\"\n",
            1,
        )
        .replacen(
            "slug = \"schatzmeister\"\nname = \"Schatzmeister\"\naddresses = [\"schatzmeister@piratenpartei-nrw.de\"]\n",
            "slug = \"schatzmeister\"\nname = \"Schatzmeister\"\naddresses = [\"schatzmeister@piratenpartei-nrw.de\"]\nencryption = \"required\"\n",
            1,
        );
    assert_eq!(fed.matches("encryption = ").count(), 2);
    let path = dir.join("pgp-federation.toml");
    std::fs::write(&path, fed).unwrap();
    path
}

/// The text of a decrypted MIME entity (base64 or plain).
fn text_of(entity: &[u8]) -> String {
    let mut raw = b"From: x@example.org\r\n".to_vec();
    raw.extend_from_slice(entity);
    logbuch_mail::parse_mail(&raw).map(|p| p.text).unwrap_or_default()
}

async fn encrypted_in_and_out(backend: Backend) {
    let dir = std::env::temp_dir().join(format!("lb-pgp-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = federation(&dir);
    let t = spawn_app_with(backend, |s| {
        with_sink(s);
        s.federation_file = Some(path.clone());
    })
    .await;
    let tag = format!("{:x}", rand::random::<u32>());
    let helper = t.person(&format!("helfer-{tag}@nrw.example"), &[("helper", Some("nw"), None)]).await;
    let admin = t.person(&format!("chef-{tag}@nrw.example"), &[("tenant_admin", Some("nw"), None)]).await;
    let erika = format!("erika-{tag}@example.org");
    let otto = format!("otto-{tag}@example.org");

    // Erika's key pair, made here as her mail program would; her LV's admin files her public key
    // (by address: for those who manage member data; a helper files it from a ticket).
    let erika_key = logbuch_pgp::generate_key(&format!("Erika Muster <{erika}>"), "erikas-passwort").unwrap();
    let put = json!({"key": erika_key.public_armored});
    let (s, _) = t.call(Some(&helper), reqwest::Method::PUT, &format!("/api/v1/keys/{erika}"), Some(put)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, k) = t
        .call(
            Some(&admin),
            reqwest::Method::PUT,
            &format!("/api/v1/keys/{erika}"),
            Some(json!({"key": erika_key.public_armored})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{k}");
    assert_eq!(k["fingerprint"], erika_key.fingerprint.as_str());
    // A key that is not Erika's is refused with the reason.
    let other = logbuch_pgp::generate_key(&format!("Jemand <jemand-{tag}@example.org>"), "x").unwrap();
    let (s, e) = t
        .call(
            Some(&admin),
            reqwest::Method::PUT,
            &format!("/api/v1/keys/{erika}"),
            Some(json!({"key": other.public_armored})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

    // The queue's public key, published for members; Erika encrypts to it and signs.
    let res = t.http.get(format!("{}/pgp/mitglieder@piratenpartei-nrw.de", t.url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let queue_key = res.text().await.unwrap();
    assert!(logbuch_pgp::parse_public_key(queue_key.as_bytes()).unwrap().can_encrypt);
    let secret_text = format!("Meine neue Bankverbindung {tag}: DE89 3704 0044 0532 0130 00");
    let inner =
        format!("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{secret_text}\r\n");
    let enc = logbuch_pgp::encrypt_and_sign_mime(
        inner.as_bytes(),
        &[&queue_key],
        &erika_key.secret_armored,
        "erikas-passwort",
    )
    .unwrap();
    let raw = format!(
        "From: Erika Muster <{erika}>\r\nTo: mitglieder@piratenpartei-nrw.de\r\nSubject: Bankverbindung\r\nMessage-ID: <pgp-{tag}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: {}\r\n\r\n{}",
        enc.content_type, enc.body
    );
    assert!(!raw.contains(&secret_text), "the mail itself is unreadable");
    t.app.ingest_raw("test", raw.as_bytes()).await.unwrap();
    drain(&t).await;
    let n = t.list_numbers(&helper, &format!("?requester={erika}")).await;
    assert_eq!(n.len(), 1);
    let n = n[0];
    let (_, d) = t.get(&helper, &format!("/api/v1/tickets/{n}")).await;
    let first = &d["messages"][0];
    assert!(first["body_text"].as_str().unwrap().contains(&secret_text), "decrypted: {first}");
    assert_eq!(first["pgp"], format!("verschlüsselt · signiert von {erika}, geprüft"));
    assert!(first["attachments"].as_array().unwrap().is_empty(), "no encrypted.asc left as a file");

    // The reply leaves encrypted to Erika (and the queue), signed by the queue.
    let answer = format!("Danke, die Bankverbindung {tag} ist geändert.");
    let (s, b) = t.post(&helper, &format!("/api/v1/tickets/{n}/replies"), json!({"body": answer})).await;
    assert!(s.is_success(), "{b}");
    send_all(&t).await;
    let to_erika: Vec<_> =
        captured(&erika).into_iter().filter(|c| c.mail.subject.contains(&format!("#{n}]"))).collect();
    let reply = to_erika.iter().find(|c| c.raw.contains("multipart/encrypted")).unwrap_or_else(|| {
        let seen: Vec<String> = captured(&erika).iter().map(|c| c.raw.chars().take(600).collect()).collect();
        panic!("no encrypted reply among {seen:#?}")
    });
    assert!(!reply.raw.contains(&answer), "nothing readable on the way");
    let opened =
        logbuch_pgp::decrypt_mail(reply.raw.as_bytes(), &erika_key.secret_armored, "erikas-passwort", &[&queue_key])
            .unwrap()
            .expect("encrypted");
    assert!(text_of(&opened.inner).contains(&answer), "Erika reads the reply");
    assert!(
        matches!(opened.signature, logbuch_pgp::SignatureState::Verified { .. }),
        "signed with the queue's key: {:?}",
        opened.signature
    );

    // Schatzmeister requires encryption; Otto has no key: his reply never reaches SMTP.
    t.app
        .ingest_raw(
            "test",
            &mail(
                &format!("otto-{tag}@example.org"),
                &otto,
                "schatzmeister@piratenpartei-nrw.de",
                "Erstattung",
                "Bitte erstatten",
            ),
        )
        .await
        .unwrap();
    drain(&t).await;
    let m = t.list_numbers(&helper, &format!("?requester={otto}")).await[0];
    let secret_reply = format!("Erstattung {tag} über 48 Euro ist angewiesen.");
    let (s, b) = t.post(&helper, &format!("/api/v1/tickets/{m}/replies"), json!({"body": secret_reply})).await;
    assert!(s.is_success(), "{b}");
    send_all(&t).await;
    let to_otto = captured(&otto);
    assert!(!to_otto.is_empty(), "Otto got mail (acknowledgement, link)");
    assert!(
        to_otto.iter().all(|c| !c.raw.contains(&secret_reply) && !c.mail.text.contains(&secret_reply)),
        "never in clear"
    );
    assert!(
        to_otto.iter().any(|c| c.mail.subject.contains("neue Antwort") || c.mail.text.contains("/status/")),
        "a link instead"
    );
    let (_, h) = t.get(&helper, &format!("/api/v1/tickets/{m}/history")).await;
    let why = h.as_array().unwrap().iter().find(|e| e["field"] == "encryption").expect("the ticket says why");
    assert!(why["to"].as_str().unwrap().contains("kein OpenPGP-Schlüssel"), "{why}");
}

both!(encrypted_in_and_out, a_key_from_the_web_key_directory);

/// With `pgp.wkd`, a requester's key comes from their domain's Web Key
/// Directory (here a real HTTP server with the directory's layout): the
/// reply leaves encrypted without anyone filing the key by hand.
async fn a_key_from_the_web_key_directory(backend: Backend) {
    let dir = std::env::temp_dir().join(format!("lb-wkd-{:x}", rand::random::<u64>()));
    let tag = format!("{:x}", rand::random::<u32>());
    let anna = format!("anna-{tag}@example.org");
    let key = logbuch_pgp::generate_key(&format!("Anna <{anna}>"), "annas-passwort").unwrap();
    let hu = dir.join("www/.well-known/openpgpkey/example.org/hu");
    std::fs::create_dir_all(&hu).unwrap();
    let binary = logbuch_pgp::public_key_bytes(key.public_armored.as_bytes()).unwrap();
    std::fs::write(hu.join(logbuch_core::pgp_wkd::wkd_hash(&format!("anna-{tag}"))), binary).unwrap();
    let port = logbuch_tests::free_port();
    let mut server = std::process::Command::new("python3")
        .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1", "--directory"])
        .arg(dir.join("www"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let path = federation(&dir);
    let t = spawn_app_with(backend, |s| {
        with_sink(s);
        s.federation_file = Some(path.clone());
        s.pgp.wkd = true;
        s.pgp.wkd_base = Some(format!("http://127.0.0.1:{port}"));
    })
    .await;
    let helper = t.person(&format!("helfer-{tag}@nrw.example"), &[("helper", Some("nw"), None)]).await;
    let admin = t.person(&format!("chef-{tag}@nrw.example"), &[("tenant_admin", Some("nw"), None)]).await;
    t.app
        .ingest_raw(
            "test",
            &mail(
                &format!("wkd-{tag}@example.org"),
                &anna,
                "mitglieder@piratenpartei-nrw.de",
                "Adresse",
                "Neue Adresse",
            ),
        )
        .await
        .unwrap();
    drain(&t).await;
    let n = t.list_numbers(&helper, &format!("?requester={anna}")).await[0];
    let answer = format!("Ihre Adresse {tag} ist geändert.");
    let (s, b) = t.post(&helper, &format!("/api/v1/tickets/{n}/replies"), json!({"body": answer})).await;
    assert!(s.is_success(), "{b}");
    let (s, k) = t.get(&admin, &format!("/api/v1/keys/{anna}")).await;
    server.kill().ok();
    server.wait().ok();
    assert_eq!(s, StatusCode::OK, "{k}");
    assert_eq!((k["source"].as_str(), k["fingerprint"].as_str()), (Some("wkd"), Some(key.fingerprint.as_str())));
    send_all(&t).await;
    let reply =
        captured(&anna).into_iter().find(|c| c.raw.contains("multipart/encrypted")).expect("an encrypted reply");
    assert!(!reply.raw.contains(&answer));
    let opened =
        logbuch_pgp::decrypt_mail(reply.raw.as_bytes(), &key.secret_armored, "annas-passwort", &[]).unwrap().unwrap();
    assert!(text_of(&opened.inner).contains(&answer));
    let _ = std::fs::remove_dir_all(&dir);
}
