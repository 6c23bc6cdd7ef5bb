//! Outgoing mail through a real SMTP server (the aiosmtpd capture sink of
//! tests/peers): notifications reach exactly the people allowed to read the
//! ticket, requesters get acknowledgements and replies with threading
//! headers, answers thread back, and loop protection holds.

use crate::intake::{drain, mail};
use logbuch_tests::{Backend, TestApp, both, spawn_app_with};
use serde_json::json;

/// A mail the sink captured: envelope recipient and sender, and the parsed mail.
pub(crate) struct Captured {
    pub(crate) rcpt: String,
    pub(crate) mail_from: String,
    pub(crate) raw: String,
    pub(crate) mail: logbuch_mail::ParsedMail,
}

fn sink_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(std::env::var("PEERS_DIR").unwrap_or_else(|_| "/tmp/peers".into())).join("smtp-sink")
}

fn header(raw: &str, name: &str) -> String {
    raw.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_owned()))
        .unwrap_or_default()
}

/// Every captured mail whose envelope recipient contains `tag`.
pub(crate) fn captured(tag: &str) -> Vec<Captured> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(sink_dir().join(sub)) else { continue };
        for e in entries.flatten() {
            let bytes = std::fs::read(e.path()).unwrap();
            let raw = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
            let rcpt = header(&raw, "X-RcptTo").to_lowercase();
            if rcpt.contains(tag) {
                out.push(Captured {
                    mail_from: header(&raw, "X-MailFrom"),
                    mail: logbuch_mail::parse_mail(&bytes).unwrap(),
                    rcpt,
                    raw,
                });
            }
        }
    }
    out
}

pub(crate) async fn send_all(t: &TestApp) {
    for _ in 0..50 {
        if t.app.run_outbox_once("test", 50).await.unwrap() == 0 {
            return;
        }
    }
    panic!("outbox did not drain");
}

pub(crate) fn with_sink(s: &mut logbuch_config::Settings) {
    s.smtp.host = Some("127.0.0.1".into());
    s.smtp.port = 2526;
    s.smtp.security = logbuch_config::SmtpSecurity::None;
    s.outgoing.bounce_address = Some("bounces@piratenpartei.de".into());
}

async fn notifications_acks_replies_and_the_round_trip(backend: Backend) {
    let t = spawn_app_with(backend, with_sink).await;
    let tag = format!("{:x}", rand::random::<u32>());
    let presse = t.person(&format!("p-{tag}@nrw.example"), &[("helper", Some("nw"), Some("presse"))]).await;
    let whole = t.person(&format!("w-{tag}@nrw.example"), &[("helper", Some("nw"), None)]).await;
    t.person(&format!("s-{tag}@nrw.example"), &[("helper", Some("nw"), Some("schatzmeister"))]).await;
    t.person(&format!("b-{tag}@by.example"), &[("helper", Some("by"), None)]).await;
    t.person(&format!("f-{tag}@bund.example"), &[("federal_officer", None, None)]).await;
    let requester = format!("req-{tag}@example.org");

    t.app
        .ingest_raw(
            "test",
            &mail(
                &format!("in-{tag}@example.org"),
                &requester,
                "presse@piratenpartei-nrw.de",
                "Interviewanfrage",
                "Hallo",
            ),
        )
        .await
        .unwrap();
    drain(&t).await;
    send_all(&t).await;
    let got = captured(&tag);
    let mut rcpts: Vec<&str> = got.iter().map(|c| c.rcpt.as_str()).collect();
    rcpts.sort();
    assert_eq!(
        rcpts,
        [format!("p-{tag}@nrw.example"), format!("req-{tag}@example.org"), format!("w-{tag}@nrw.example")],
        "only queue people and the requester"
    );
    let n = t.list_numbers(&presse, "").await[0];
    let ack = got.iter().find(|c| c.rcpt.contains("req-")).unwrap();
    assert!(ack.mail.subject.contains(&format!("[Logbuch #{n}]")), "{}", ack.mail.subject);
    assert_eq!(ack.mail.in_reply_to, vec![format!("in-{tag}@example.org")]);
    assert_eq!(header(&ack.raw, "Auto-Submitted"), "auto-generated");
    assert_eq!(header(&ack.raw, logbuch_mail::LOOP_HEADER), n.to_string());
    assert!(
        ack.mail_from.trim_start_matches('<').starts_with("bounces+"),
        "envelope sender names the outbox mail: {}",
        ack.mail_from
    );
    let note = got.iter().find(|c| c.rcpt.contains("p-")).unwrap();
    assert!(!note.raw.contains("Hallo"), "notifications carry no mail contents");

    // A staff reply goes out threaded; the requester's answer to it comes back into the ticket.
    let (s, _) =
        t.post(&presse, &format!("/api/v1/tickets/{n}/replies"), json!({"body": "Gern, morgen um 10 Uhr?"})).await;
    assert!(s.is_success());
    send_all(&t).await;
    let replies: Vec<Captured> = captured(&format!("req-{tag}"))
        .into_iter()
        .filter(|c| c.mail.subject.starts_with("[Logbuch"))
        .filter(|c| c.raw.contains("morgen um 10"))
        .collect();
    assert_eq!(replies.len(), 1, "sent once");
    let reply = &replies[0];
    assert_eq!(reply.mail.from, "presse-nw@piratenpartei.de");
    assert_eq!(reply.mail.in_reply_to, vec![format!("in-{tag}@example.org")]);
    assert!(reply.mail.references.contains(&format!("in-{tag}@example.org")));
    assert_eq!(header(&reply.raw, "Auto-Submitted"), "", "a person's reply is not automatic");
    let answer = format!(
        "From: {requester}\r\nTo: presse-nw@piratenpartei.de\r\nSubject: Re: Interviewanfrage\r\nMessage-ID: <answer-{tag}@example.org>\r\nIn-Reply-To: <{}>\r\n\r\nPasst!\r\n",
        reply.mail.message_id
    );
    t.app.ingest_raw("test", answer.as_bytes()).await.unwrap();
    drain(&t).await;
    let (_, d) = t.get(&presse, &format!("/api/v1/tickets/{n}")).await;
    assert_eq!(d["messages"].as_array().unwrap().len(), 3, "the answer threads back");
    assert_eq!(t.list_numbers(&presse, "").await.len(), 1);

    // Assignment tells the new owner; our own mail coming back opens nothing.
    t.post(&presse, &format!("/api/v1/tickets/{n}/assign"), json!({"owner": whole.email})).await;
    send_all(&t).await;
    assert!(captured(&format!("w-{tag}")).iter().any(|c| c.mail.subject.contains("Ihnen zugewiesen")));
    t.app.ingest_raw("test", reply.raw.replace('\n', "\r\n").as_bytes()).await.unwrap();
    drain(&t).await;
    assert_eq!(t.list_numbers(&presse, "?status=new,open,waiting,resolved").await.len(), 1, "own mail ignored");
}

async fn loop_protection(backend: Backend) {
    let t = spawn_app_with(backend, with_sink).await;
    let tag = format!("{:x}", rand::random::<u32>());
    // An auto-reply and a bulk mail get no acknowledgement.
    let auto = format!(
        "From: ooo-{tag}@example.org\r\nTo: mitglieder-by@piratenpartei.de\r\nSubject: Abwesend\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <auto-{tag}@x>\r\n\r\nBin weg.\r\n"
    );
    t.app.ingest_raw("test", auto.as_bytes()).await.unwrap();
    let list = format!(
        "From: list-{tag}@example.org\r\nTo: mitglieder-by@piratenpartei.de\r\nSubject: Newsletter\r\nList-Id: <news.example.org>\r\nMessage-ID: <list-{tag}@x>\r\n\r\nNews\r\n"
    );
    t.app.ingest_raw("test", list.as_bytes()).await.unwrap();
    // One sender writing 12 times: at most 10 automatic mails a day.
    for i in 0..12 {
        t.app
            .ingest_raw(
                "test",
                &mail(
                    &format!("flood{i}-{tag}@x"),
                    &format!("flood-{tag}@example.org"),
                    "mitglieder-by@piratenpartei.de",
                    &format!("Frage {i}"),
                    "x",
                ),
            )
            .await
            .unwrap();
    }
    drain(&t).await;
    // Another sender's 12 mails taken as one batch (the server's intake
    // loops): the batch counts them together, with the same limit.
    for i in 0..12 {
        let m = mail(
            &format!("batch{i}-{tag}@x"),
            &format!("stapel-{tag}@example.org"),
            "mitglieder-by@piratenpartei.de",
            &format!("Frage {i}"),
            "x",
        );
        t.app.ingest_raw("test", &m).await.unwrap();
    }
    assert_eq!(t.app.run_intake_sequential("test", 50).await.unwrap(), 12, "one batch");
    send_all(&t).await;
    assert!(captured(&format!("ooo-{tag}")).is_empty(), "no answer to an auto-reply");
    assert!(captured(&format!("list-{tag}")).is_empty(), "no answer to a list");
    assert_eq!(captured(&format!("flood-{tag}")).len(), 10, "daily limit per address");
    assert_eq!(captured(&format!("stapel-{tag}")).len(), 10, "daily limit per address within a batch");
}

/// Seed scenario 1 (press request), end to end: mail in → coordinators
/// notified → taken → phone call noted → reply out → the requester's answer
/// threads back → resolved.
async fn scenario_1_press_request(backend: Backend) {
    let t = spawn_app_with(backend, with_sink).await;
    let tag = format!("{:x}", rand::random::<u32>());
    let sprecher = t.person(&format!("sprecher-{tag}@nrw.example"), &[("helper", Some("nw"), Some("presse"))]).await;
    t.person(&format!("vorstand-{tag}@nrw.example"), &[("helper", Some("nw"), None)]).await;
    let rtl = format!("redaktion-{tag}@rtl.example");
    t.app
        .ingest_raw(
            "imap:nrw",
            &mail(
                &format!("rtl-{tag}@rtl.example"),
                &format!("RTL Redaktion <{rtl}>"),
                "presse@piratenpartei-nrw.de",
                "Interviewanfrage zur Landtagswahl",
                "Können wir morgen drehen?",
            ),
        )
        .await
        .unwrap();
    drain(&t).await;
    send_all(&t).await;
    let n = t.list_numbers(&sprecher, "").await[0];
    let (_, d) = t.get(&sprecher, &format!("/api/v1/tickets/{n}")).await;
    assert_eq!(
        (d["tenant"].as_str(), d["queue"].as_str(), d["priority"].as_str()),
        (Some("nw"), Some("presse"), Some("high"))
    );
    for who in ["sprecher", "vorstand"] {
        assert!(
            captured(&format!("{who}-{tag}")).iter().any(|c| c.mail.subject.contains(&format!("[Logbuch #{n}] Neu"))),
            "{who} notified"
        );
    }
    assert!(captured(&format!("redaktion-{tag}")).iter().any(|c| c.mail.subject.contains("Eingangsbestätigung")));
    let (s, _) = t.post(&sprecher, &format!("/api/v1/tickets/{n}/take"), json!({})).await;
    assert!(s.is_success());
    let (s, _) = t
        .post(
            &sprecher,
            &format!("/api/v1/tickets/{n}/notes"),
            json!({"body": "Telefonat mit der Redaktion: Dreh morgen 10 Uhr, Landtag."}),
        )
        .await;
    assert!(s.is_success());
    let (s, _) = t
        .post(&sprecher, &format!("/api/v1/tickets/{n}/replies"), json!({"body": "Gern, morgen 10 Uhr am Landtag."}))
        .await;
    assert!(s.is_success());
    send_all(&t).await;
    let reply = captured(&format!("redaktion-{tag}"))
        .into_iter()
        .find(|c| c.raw.contains("morgen 10 Uhr am Landtag"))
        .expect("reply sent");
    assert!(!reply.raw.contains("Telefonat"), "the internal note never leaves");
    let answer = format!(
        "From: {rtl}\r\nTo: presse@piratenpartei-nrw.de\r\nSubject: Re: {}\r\nMessage-ID: <ok-{tag}@rtl.example>\r\nIn-Reply-To: <{}>\r\n\r\nPrima, bis morgen.\r\n",
        reply.mail.subject, reply.mail.message_id
    );
    t.app.ingest_raw("imap:nrw", answer.as_bytes()).await.unwrap();
    drain(&t).await;
    let (s, d) = t.post(&sprecher, &format!("/api/v1/tickets/{n}/resolve"), json!({})).await;
    assert!(s.is_success(), "{d}");
    let kinds: Vec<&str> = d["messages"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["inbound", "note", "outbound", "inbound"]);
    assert_eq!(d["status"], "resolved");
    assert!(t.list_numbers(&sprecher, "").await.is_empty());
}

/// The relay is down, then comes back: every queued mail is delivered, once.
async fn smtp_down_then_back(backend: Backend) {
    let port = 20000 + (rand::random::<u16>() % 20000);
    let t = spawn_app_with(backend, |s| {
        with_sink(s);
        s.smtp.port = port;
    })
    .await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let n = t.create_ticket(&admin, "bund", "allgemein", "Frage").await;
    for i in 0..5 {
        let (s, _) =
            t.post(&admin, &format!("/api/v1/tickets/{n}/replies"), json!({"body": format!("Antwort {i}")})).await;
        assert!(s.is_success());
    }
    assert_eq!(t.app.run_outbox_once("w", 50).await.unwrap(), 5, "tried");
    let pending = logbuch_store::outbox::of_ticket(&t.app.store.db, n).await.unwrap();
    assert!(
        pending.iter().all(|m| m.state == "pending" && m.attempts == 1 && m.last_error.is_some()),
        "kept for a retry"
    );
    // The relay comes up (a sink of our own on that port).
    let dir = t.app.settings.data_dir.join("sink");
    let peers = std::path::PathBuf::from(std::env::var("PEERS_DIR").unwrap_or_else(|_| "/tmp/peers".into()));
    let mut sink = std::process::Command::new(peers.join("venv/bin/python"))
        .arg(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers/smtp_sink.py"))
        .args(["--port", &port.to_string(), "--maildir"])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("python venv of tests/peers/smtp-sink-up.sh");
    let start = std::time::Instant::now();
    loop {
        t.app.run_outbox_once("w", 50).await.unwrap();
        let states = logbuch_store::outbox::of_ticket(&t.app.store.db, n).await.unwrap();
        if states.iter().all(|m| m.state == "sent") {
            break;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "not delivered after the relay came back");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    // Sent mails are never sent again, even if their jobs come back.
    t.app.requeue_stale_outbox(std::time::Duration::ZERO).await.unwrap();
    t.app.run_outbox_once("w", 50).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.join("new")).unwrap().flatten().collect();
    sink.kill().unwrap();
    sink.wait().unwrap();
    assert_eq!(files.len(), 5, "each mail delivered exactly once");
}

/// Templates: the Bund sets defaults, an LV overrides them; broken ones are
/// refused on save with line and reason; another LV's admin gets 404.
async fn templates_defaults_overrides_and_canned(backend: Backend) {
    let t = spawn_app_with(backend, with_sink).await;
    let tag = format!("{:x}", rand::random::<u32>());
    let by_admin = t.person(&format!("admin-{tag}@by.example"), &[("tenant_admin", Some("by"), None)]).await;
    let he_admin = t.person(&format!("admin-{tag}@he.example"), &[("tenant_admin", Some("he"), None)]).await;
    let by_helper = t.person(&format!("helper-{tag}@by.example"), &[("helper", Some("by"), None)]).await;
    let bund = t.person(&format!("root-{tag}@bund.example"), &[("admin", None, None)]).await;
    let path = "/api/v1/tenants/by/templates/acknowledgement";
    let t = &t;
    let put = |who, path: String, subject: &str, body: &str| {
        let body = json!({"subject": subject, "body": body});
        async move { t.call(Some(who), reqwest::Method::PUT, &path, Some(body)).await }
    };
    // Refused with line and reason, never stored.
    let (s, p) = put(&by_admin, path.into(), "x", "Hallo\n{{ ticket.nummer }}").await;
    assert_eq!(s, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("Zeile 2"), "{p}");
    let (s, p) = put(&by_admin, path.into(), "x", "{% if %}").await;
    assert_eq!(s, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    // Isolation: another LV's admin sees nothing, a helper may not change.
    assert_eq!(t.get(&he_admin, "/api/v1/tenants/by/templates").await.0, reqwest::StatusCode::NOT_FOUND);
    assert_eq!(put(&he_admin, path.into(), "x", "y").await.0, reqwest::StatusCode::NOT_FOUND);
    assert_eq!(put(&by_helper, path.into(), "x", "y").await.0, reqwest::StatusCode::FORBIDDEN);
    // BY overrides the acknowledgement; the Bund changes the default; HE gets the Bund's.
    let (s, v) = t
        .call(
            Some(&by_admin),
            reqwest::Method::PUT,
            path,
            Some(json!({"subject": "[Logbuch #{{ ticket.number }}] Moin!", "body": "BY-Text für {{ requester.address }}", "html": "<p>Moin <b>{{ requester.address }}</b></p>"})),
        )
        .await;
    assert!(s.is_success(), "{v}");
    assert_eq!(v["source"], "by");
    let (s, _) = put(
        &bund,
        "/api/v1/tenants/bund/templates/acknowledgement".into(),
        "[Logbuch #{{ ticket.number }}] Eingang",
        "Bund-Text",
    )
    .await;
    assert!(s.is_success());
    for (to, who) in [("mitglieder-by@piratenpartei.de", "by"), ("mitglieder-he@piratenpartei.de", "he")] {
        t.app
            .ingest_raw(
                "test",
                &mail(&format!("{who}-{tag}@x"), &format!("{who}req-{tag}@example.org"), to, "Frage", "x"),
            )
            .await
            .unwrap();
    }
    drain(t).await;
    send_all(t).await;
    let by_ack = &captured(&format!("byreq-{tag}"))[0];
    assert!(by_ack.mail.subject.ends_with("Moin!") && by_ack.raw.contains("BY-Text f"), "{}", by_ack.raw);
    assert_eq!(
        by_ack.mail.html.as_deref().map(str::trim),
        Some(format!("<p>Moin <b>byreq-{tag}@example.org</b></p>").as_str()),
        "HTML alternative"
    );
    let he_ack = &captured(&format!("hereq-{tag}"))[0];
    assert!(he_ack.raw.contains("Bund-Text"), "{}", he_ack.raw);
    let (_, list) = t.get(&by_admin, "/api/v1/tenants/by/templates").await;
    let ack = list.as_array().unwrap().iter().find(|v| v["name"] == "acknowledgement").unwrap();
    assert_eq!(ack["source"], "by");
    // A canned response, overridden by BY, sent as a reply.
    let (s, _) = put(
        &by_admin,
        "/api/v1/tenants/by/templates/canned.austritt-bestaetigung".into(),
        "Austritt",
        "Bitte bestätigen Sie Ihren Austritt zu Ticket #{{ ticket.number }}.",
    )
    .await;
    assert!(s.is_success());
    let n = t.list_numbers(&by_helper, "").await[0];
    let (s, canned) = t.get(&by_helper, &format!("/api/v1/tickets/{n}/canned")).await;
    assert!(s.is_success());
    assert!(
        canned.as_array().unwrap().iter().any(|c| c["body"].as_str().unwrap().contains(&format!("#{n}"))),
        "{canned}"
    );
    let (s, d) = t
        .post(&by_helper, &format!("/api/v1/tickets/{n}/replies"), json!({"canned": "canned.austritt-bestaetigung"}))
        .await;
    assert!(s.is_success(), "{d}");
    let last = d["messages"].as_array().unwrap().last().unwrap();
    assert_eq!(last["body_text"], format!("Bitte bestätigen Sie Ihren Austritt zu Ticket #{n}."));
    assert_eq!(t.get(&he_admin, &format!("/api/v1/tickets/{n}/canned")).await.0, reqwest::StatusCode::NOT_FOUND);
    // Back to the default.
    let (s, _) = t.call(Some(&by_admin), reqwest::Method::DELETE, path, None).await;
    assert_eq!(s, reqwest::StatusCode::NO_CONTENT);
}

/// A bounce that quotes nothing of the original still finds its ticket
/// through the envelope sender (bounces+t<ticket>@…).
async fn bounce_found_by_envelope_sender(backend: Backend) {
    let t = spawn_app_with(backend, with_sink).await;
    let tag = format!("{:x}", rand::random::<u32>());
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let (_, body) = t
        .post(&admin, "/api/v1/tickets", json!({"tenant": "bund", "queue": "mahnwesen", "subject": "Mahnung", "body": "x", "requester": format!("gone-{tag}@example.org")}))
        .await;
    let n = body["number"].as_i64().unwrap();
    t.post(&admin, &format!("/api/v1/tickets/{n}/replies"), json!({"body": "Bitte zahlen Sie."})).await;
    send_all(&t).await;
    let sent = &captured(&format!("gone-{tag}"))[0];
    let envelope = sent.mail_from.trim_matches(['<', '>']).to_owned();
    assert!(envelope.starts_with("bounces+"), "{envelope}");
    let bounce = format!(
        "From: MAILER-DAEMON@mx.example.net\r\nTo: {envelope}\r\nSubject: Mail delivery failed: returning message to sender\r\nMessage-ID: <verp-{tag}@mx>\r\n\r\n\
This message was created automatically by mail delivery software.\r\n\r\n  gone-{tag}@example.org\r\n    mailbox unavailable\r\n"
    );
    t.app.ingest_raw("test", bounce.as_bytes()).await.unwrap();
    drain(&t).await;
    let (_, d) = t.get(&admin, &format!("/api/v1/tickets/{n}")).await;
    let last = d["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["field"].as_str(), last["to"].as_str()),
        (Some("bounce"), Some(format!("gone-{tag}@example.org (Adresse unbekannt)").as_str())),
        "{d}"
    );
}

/// A worker that dies between handing a mail to the relay and recording it
/// leaves the mail `sending`. The next worker does not send it again (no
/// double mail): it is marked uncertain, on the ticket and for admins, who
/// may resend it with the same Message-ID.
async fn crash_between_send_and_record_never_sends_twice(backend: Backend) {
    let t = spawn_app_with(backend, with_sink).await;
    let tag = format!("{:x}", rand::random::<u32>());
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let helper = t.person(&format!("h-{tag}@bund.example"), &[("helper", Some("bund"), None)]).await;
    let (_, body) = t
        .post(&admin, "/api/v1/tickets", json!({"tenant": "bund", "queue": "allgemein", "subject": "Frage", "body": "x", "requester": format!("once-{tag}@example.org")}))
        .await;
    let n = body["number"].as_i64().unwrap();
    t.post(&admin, &format!("/api/v1/tickets/{n}/replies"), json!({"body": "Nur einmal, bitte."})).await;
    let mail = logbuch_store::outbox::of_ticket(&t.app.store.db, n)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.kind == "reply")
        .unwrap();
    // The dying worker got this far: claimed and perhaps handed to the relay, not recorded.
    assert!(logbuch_store::outbox::start_sending(&t.app.store.db, mail.id).await.unwrap());
    send_all(&t).await; // its job comes back to another worker
    assert!(captured(&format!("once-{tag}")).is_empty(), "not sent a second time");
    let row = logbuch_store::outbox::find(&t.app.store.db, mail.id).await.unwrap().unwrap();
    assert_eq!(row.state, "uncertain");
    let (_, d) = t.get(&admin, &format!("/api/v1/tickets/{n}")).await;
    assert!(d["history"].as_array().unwrap().iter().any(|h| h["field"] == "mail_failed"), "on the ticket");
    let (s, status) = t.get(&admin, "/api/v1/outbox/status").await;
    assert!(s.is_success());
    assert!(
        status["problems"].as_array().unwrap().iter().any(|p| p["id"] == mail.id && p["state"] == "uncertain"),
        "{status}"
    );
    assert_eq!(t.get(&helper, "/api/v1/outbox/status").await.0, reqwest::StatusCode::FORBIDDEN);
    assert_eq!(
        t.post(&helper, &format!("/api/v1/outbox/{}/resend", mail.id), json!(null)).await.0,
        reqwest::StatusCode::FORBIDDEN
    );
    // The admin decides to send it: once, with the stored Message-ID.
    let (s, _) = t.post(&admin, &format!("/api/v1/outbox/{}/resend", mail.id), json!(null)).await;
    assert_eq!(s, reqwest::StatusCode::ACCEPTED);
    send_all(&t).await;
    let got = captured(&format!("once-{tag}"));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].mail.message_id, mail.message_id);
}

both!(
    notifications_acks_replies_and_the_round_trip,
    loop_protection,
    scenario_1_press_request,
    smtp_down_then_back,
    templates_defaults_overrides_and_canned,
    bounce_found_by_envelope_sender,
    crash_between_send_and_record_never_sends_twice,
);
