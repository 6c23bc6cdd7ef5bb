//! Mail intake without IMAP: mails stored through `ingest_raw` (as the
//! stdin pipe and the spool directory do) and processed by draining the
//! job queue — SQL queue on SQLite, Redis queue with PostgreSQL.

use logbuch_core::intake::Outcome;
use logbuch_tests::{Backend, TestApp, both, spawn_app};
use reqwest::StatusCode;
use serde_json::Value;

pub fn mail(id: &str, from: &str, to: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Sun, 22 Nov 2026 09:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// Processes every queued mail.
pub async fn drain(t: &TestApp) {
    for _ in 0..100 {
        if t.app.run_intake_once("test").await.unwrap() == 0 {
            return;
        }
    }
    panic!("intake did not drain");
}

async fn ticket(t: &TestApp, who: &logbuch_tests::Person, n: i64) -> Value {
    let (s, body) = t.get(who, &format!("/api/v1/tickets/{n}")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body
}

async fn mails_become_tickets_in_the_right_queue(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let cases = [
        ("m1@x", "presse@piratenpartei-nrw.de", "nw", "presse"),
        ("m2@x", "Mitglieder-BY+Adresse@Piratenpartei.DE", "by", "mitglieder"),
        ("m3@x", "irgendwer@example.org", "bund", "triage"),
        ("m4@x", "mitglieder@piratenpartei.de", "bund", "triage"),
        ("m5@x", "aachen@piratenpartei-nrw.de", "nw", "ag-aachen"),
        // Unknown local part at NRW's own domain: NRW's default queue.
        ("m7@x", "vorstand@piratenpartei-nrw.de", "nw", "sonstiges"),
    ];
    for (id, to, _, _) in cases {
        let i = t.app.ingest_raw("test", &mail(id, "Erika <erika@example.org>", to, "Frage", "Hallo")).await.unwrap();
        assert!(!i.duplicate);
    }
    drain(&t).await;
    for (id, _, tenant, queue) in cases {
        let (_, list) = t.get(&admin, &format!("/api/v1/tickets?tenant={tenant}&queue={queue}")).await;
        let found = list["tickets"].as_array().unwrap().len();
        assert!(found >= 1, "{id} not in {tenant}/{queue}: {list}");
    }
    let all = t.list_numbers(&admin, "").await;
    assert_eq!(all.len(), cases.len());
    // Delivered-To (the envelope) wins over a To header naming another tenant's address.
    let raw = format!(
        "Delivered-To: schatzmeister@piratenpartei-nrw.de\r\n{}",
        String::from_utf8(mail("m6@x", "a@example.org", "kontakt-he@piratenpartei.de", "Spende", "x")).unwrap()
    );
    t.app.ingest_raw("test", raw.as_bytes()).await.unwrap();
    drain(&t).await;
    let (_, list) = t.get(&admin, "/api/v1/tickets?tenant=nw&queue=schatzmeister").await;
    assert_eq!(list["tickets"][0]["subject"], "Spende");
    let (_, list) = t.get(&admin, "/api/v1/tickets?tenant=he").await;
    assert_eq!(list["tickets"].as_array().unwrap().len(), 1, "To: names HE too, so HE gets its own linked ticket");
}

async fn one_mail_to_two_tenants_makes_two_linked_tickets(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let by = t.person("a@by.example", &[("helper", Some("by"), None)]).await;
    t.app
        .ingest_raw(
            "test",
            &mail(
                "two@x",
                "m@example.org",
                "mitglieder-by@piratenpartei.de, mitglieder-he@piratenpartei.de",
                "Umzug",
                "von BY nach HE",
            ),
        )
        .await
        .unwrap();
    drain(&t).await;
    let all = t.list_numbers(&admin, "").await;
    assert_eq!(all.len(), 2);
    let a = ticket(&t, &admin, all[0]).await;
    let b = ticket(&t, &admin, all[1]).await;
    assert_ne!(a["tenant"], b["tenant"]);
    assert_eq!(a["links"], serde_json::json!([b["number"]]));
    assert_eq!(b["links"], serde_json::json!([a["number"]]));
    assert_eq!(t.list_numbers(&by, "").await.len(), 1, "BY sees only its own");
}

async fn german_subjects_names_and_attachments(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let raw = "From: =?ISO-8859-1?Q?J=FCrgen_M=FCller?= <juergen@example.org>\r\n\
To: mitglieder-by@piratenpartei.de\r\n\
Subject: =?UTF-8?B?QmVpdHJhZ3NtaW5kZXJ1bmcgZsO8ciAyMDI3IOKAkyBNw7xuY2hlbg==?=\r\n\
Message-ID: <umlaut@example.org>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
Sehr geehrte Damen und Herren,=0D=0Aich beantrage eine Beitragsminderung. Gr=FC=DFe\r\n\
--b\r\nContent-Type: application/pdf; name=\"Bescheid.pdf\"\r\nContent-Disposition: attachment; filename=\"Bescheid.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcOkw7zDtsOfCg==\r\n--b--\r\n";
    t.app.ingest_raw("test", raw.as_bytes()).await.unwrap();
    drain(&t).await;
    let n = t.list_numbers(&admin, "?tenant=by").await[0];
    let d = ticket(&t, &admin, n).await;
    assert_eq!(d["subject"], "Beitragsminderung für 2027 – München");
    assert_eq!(d["requester"], "juergen@example.org");
    assert_eq!(d["requester_name"], "Jürgen Müller");
    let m = &d["messages"][0];
    assert!(m["body_text"].as_str().unwrap().contains("Grüße"), "{m}");
    assert_eq!(m["message_id"], "umlaut@example.org");
    assert_eq!(m["attachments"][0]["filename"], "Bescheid.pdf");
    let att = m["attachments"][0]["id"].as_i64().unwrap();
    let res = t
        .http
        .get(format!("{}/api/v1/tickets/{n}/attachments/{att}", t.url))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"%PDF-1.4\n%\xc3\xa4\xc3\xbc\xc3\xb6\xc3\x9f\n");
    assert_eq!(d["history"][0]["from"], "Mail");
    assert!(d["history"][0]["actor"].is_null());
}

async fn replies_thread_and_reopen(backend: Backend) {
    let t = spawn_app(backend).await;
    let h = t.person("h@nw.example", &[("helper", Some("nw"), None)]).await;
    t.app
        .ingest_raw(
            "test",
            &mail("first@member", "m@example.org", "presse@piratenpartei-nrw.de", "Interview?", "Hallo"),
        )
        .await
        .unwrap();
    drain(&t).await;
    let n = t.list_numbers(&h, "").await[0];
    // Staff reply, then resolve.
    let (_, d) = t.post(&h, &format!("/api/v1/tickets/{n}/replies"), serde_json::json!({"body": "Gern."})).await;
    let our_id = d["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "outbound").unwrap()["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    t.post(&h, &format!("/api/v1/tickets/{n}/resolve"), serde_json::json!({})).await;
    // 1. The requester answers our mail (In-Reply-To, no tag): appended, ticket reopened.
    let answer = format!(
        "From: m@example.org\r\nTo: presse@piratenpartei-nrw.de\r\nSubject: Re: Interview\r\nMessage-ID: <second@member>\r\nIn-Reply-To: <{our_id}>\r\nReferences: <first@member> <{our_id}>\r\n\r\nDanke!\r\n"
    );
    assert!(matches!(t.app.ingest_raw("test", answer.as_bytes()).await, Ok(i) if !i.duplicate));
    drain(&t).await;
    let d = ticket(&t, &h, n).await;
    assert_eq!(d["status"], "open", "a new mail reopens a resolved ticket");
    assert_eq!(d["messages"].as_array().unwrap().len(), 3);
    // 2. Only the tag in the subject, from someone else, to another address: still threads.
    t.app
        .ingest_raw(
            "test",
            &mail(
                "third@x",
                "buero@example.org",
                "info@piratenpartei.de",
                &format!("AW: [Logbuch #{n}] Interview"),
                "Nachtrag",
            ),
        )
        .await
        .unwrap();
    drain(&t).await;
    assert_eq!(ticket(&t, &h, n).await["messages"].as_array().unwrap().len(), 4);
    // 3. An auto-reply to our mail is added but does not reopen.
    t.post(&h, &format!("/api/v1/tickets/{n}/resolve"), serde_json::json!({})).await;
    let auto = format!(
        "From: m@example.org\r\nTo: presse@piratenpartei-nrw.de\r\nSubject: Abwesenheitsnotiz\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <ooo@member>\r\nIn-Reply-To: <{our_id}>\r\n\r\nBin im Urlaub.\r\n"
    );
    t.app.ingest_raw("test", auto.as_bytes()).await.unwrap();
    drain(&t).await;
    let d = ticket(&t, &h, n).await;
    assert_eq!(d["status"], "resolved");
    assert_eq!(d["messages"].as_array().unwrap().len(), 5);
    assert_eq!(t.list_numbers(&h, "?status=new,open,waiting,resolved").await, vec![n], "no ticket of its own");
}

async fn the_same_mail_twice_is_one_mail(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let m = mail("dup@x", "m@example.org", "mitglieder-sl@piratenpartei.de", "Doppelt", "x");
    let first = t.app.ingest_raw("imap:sl", &m).await.unwrap();
    let again = t.app.ingest_raw("imap:sl", &m).await.unwrap();
    assert_eq!(first.raw_mail, again.raw_mail);
    assert!(again.duplicate);
    // The same mail fetched from another mailbox is stored, but opens no second ticket.
    let other = t.app.ingest_raw("imap:bund", &m).await.unwrap();
    assert!(!other.duplicate);
    drain(&t).await;
    assert_eq!(t.list_numbers(&admin, "").await.len(), 1);
    assert_eq!(t.app.process_raw_mail(first.raw_mail).await.unwrap(), Outcome::Skipped, "done is done");
}

async fn bounces_attach_or_collect(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    // A ticket with a reply from us, whose mail then bounces.
    let n = t.create_ticket(&admin, "bund", "mahnwesen", "Beitrag 2026").await;
    let (_, d) =
        t.post(&admin, &format!("/api/v1/tickets/{n}/replies"), serde_json::json!({"body": "Bitte zahlen."})).await;
    let our_id = d["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "outbound").unwrap()["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\nTo: mahnwesen@piratenpartei.de\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx.example.net>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n\
--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; mitglied@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
--r\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: mahnwesen@piratenpartei.de\r\nTo: mitglied@example.org\r\nMessage-ID: <{our_id}>\r\nSubject: Beitrag\r\n\r\n--r--\r\n"
    );
    t.app.ingest_raw("test", dsn.as_bytes()).await.unwrap();
    // Real-world bounces that quote no mail of ours: collected, one ticket per tenant and day.
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/bounces");
    let samples = [
        "postfix-dsn-userunknown.eml",
        "qmail-text-userunknown.eml",
        "gmx-text-two-recipients.eml",
        "exim-text-userunknown.eml",
    ];
    for s in samples {
        t.app.ingest_raw("test", &std::fs::read(dir.join(s)).unwrap()).await.unwrap();
    }
    // All five in one batch, as the server's intake loops take them (the
    // corpus test takes bounces one by one): the batch looks up the mails
    // its bounces report together.
    assert_eq!(t.app.run_intake_sequential("test", 50).await.unwrap(), 5);
    let d = ticket(&t, &admin, n).await;
    let last = d["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["field"], "bounce");
    assert_eq!(last["to"], "mitglied@example.org (Adresse unbekannt, 5.1.1)");
    let tickets = t.list_numbers(&admin, "?status=new,open,waiting,resolved").await;
    assert_eq!(tickets.len(), 2, "the original and one collection ticket: {tickets:?}");
    let coll = tickets.iter().find(|x| **x != n).copied().unwrap();
    let c = ticket(&t, &admin, coll).await;
    assert_eq!(c["tenant"], "bund");
    assert!(c["subject"].as_str().unwrap().starts_with("Unzustellbare Mails"));
    assert_eq!(c["messages"].as_array().unwrap().len(), samples.len());
    let bounces = logbuch_store::intake::bounces_of_ticket(&t.app.store.db, coll).await.unwrap();
    let mut addresses: Vec<String> = bounces.iter().map(|b| b.address.clone()).collect();
    addresses.sort();
    assert_eq!(
        addresses,
        [
            "kijitora@example.ne.jp",
            "kijitora@neko.example.co.jp",
            "mikeneko@example.co.jp",
            "sabineko@example.co.jp",
            "userunknown@libsisimai.org"
        ]
    );
}

async fn bad_mail_is_quarantined_and_never_blocks(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let helper = t.person("h@bund.example", &[("helper", Some("bund"), None)]).await;
    let garbage = t.app.ingest_raw("test", b"\x00\x01\x02 this is not a mail at all").await.unwrap();
    let no_sender =
        t.app.ingest_raw("test", b"Subject: Hallo\r\nMessage-ID: <ns@x>\r\n\r\nWer bin ich?").await.unwrap();
    t.app
        .ingest_raw("test", &mail("fine@x", "m@example.org", "mitglieder@piratenpartei.de", "Gut", "x"))
        .await
        .unwrap();
    drain(&t).await;
    assert_eq!(t.list_numbers(&admin, "").await.len(), 1, "the good mail behind the bad ones got through");
    let (s, q) = t.get(&admin, "/api/v1/intake/quarantine").await;
    assert_eq!(s, StatusCode::OK);
    let ids: Vec<i64> = q.as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert!(ids.contains(&garbage.raw_mail) && ids.contains(&no_sender.raw_mail), "{q}");
    assert!(q.as_array().unwrap().iter().all(|m| m["reason"].as_str().is_some_and(|r| r.len() > 10)), "{q}");
    // Not for helpers: the quarantine holds every tenant's mail.
    for path in [
        "/api/v1/intake/quarantine",
        "/api/v1/intake/status",
        &format!("/api/v1/intake/quarantine/{}/raw", garbage.raw_mail),
    ] {
        assert_eq!(t.get(&helper, path).await.0, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(
        t.post(&helper, &format!("/api/v1/intake/quarantine/{}/retry", garbage.raw_mail), Value::Null).await.0,
        StatusCode::FORBIDDEN
    );
    // The raw bytes are kept, exactly.
    let res = t
        .http
        .get(format!("{}/api/v1/intake/quarantine/{}/raw", t.url, garbage.raw_mail))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"\x00\x01\x02 this is not a mail at all");
    // Retry: processed again (and quarantined again, this mail stays unreadable).
    let (s, _) = t.post(&admin, &format!("/api/v1/intake/quarantine/{}/retry", garbage.raw_mail), Value::Null).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    drain(&t).await;
    let raw = logbuch_store::intake::find_raw(&t.app.store.db, garbage.raw_mail).await.unwrap().unwrap();
    assert_eq!((raw.state.as_str(), raw.attempts), ("quarantined", 2));
    let (_, status) = t.get(&admin, "/api/v1/intake/status").await;
    assert_eq!(status["quarantined_mails"], 2);
    assert_eq!(status["done_mails"], 1);
    assert_eq!(status["queue"]["ready"], 0);
}

async fn oversized_mail_is_quarantined(backend: Backend) {
    let t = logbuch_tests::spawn_app_with(backend, |s| s.intake.max_mail_bytes = 2000).await;
    let big = mail("big@x", "m@example.org", "mitglieder@piratenpartei.de", "Groß", &"x".repeat(5000));
    let i = t.app.ingest_raw("test", &big).await.unwrap();
    drain(&t).await;
    let raw = logbuch_store::intake::find_raw(&t.app.store.db, i.raw_mail).await.unwrap().unwrap();
    assert_eq!(raw.state, "quarantined");
    assert!(raw.reason.unwrap().contains("MB"));
    assert_eq!(raw.content, big, "kept whole");
}

async fn spool_directory_feeds_intake(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let spool = t.app.settings.spool_dir();
    std::fs::create_dir_all(&spool).unwrap();
    std::fs::write(
        spool.join("a.eml"),
        mail("spool@x", "m@example.org", "kontakt-th@piratenpartei.de", "Aus dem Spool", "x"),
    )
    .unwrap();
    std::fs::write(spool.join("notes.txt"), "not a mail").unwrap();
    assert_eq!(t.app.ingest_spool_once().await.unwrap(), 1);
    assert!(spool.join("eingelesen/a.eml").exists());
    assert!(spool.join("notes.txt").exists());
    drain(&t).await;
    assert_eq!(t.list_numbers(&admin, "?tenant=th").await.len(), 1);
}

both!(
    mails_become_tickets_in_the_right_queue,
    one_mail_to_two_tenants_makes_two_linked_tickets,
    german_subjects_names_and_attachments,
    replies_thread_and_reopen,
    the_same_mail_twice_is_one_mail,
    bounces_attach_or_collect,
    bad_mail_is_quarantined_and_never_blocks,
    oversized_mail_is_quarantined,
    spool_directory_feeds_intake,
);
