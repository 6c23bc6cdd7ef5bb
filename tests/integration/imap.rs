//! IMAP intake against a real Dovecot: mails delivered over LMTP become
//! tickets in the right tenant and queue, replies thread, German subjects
//! come out right, attachments are stored, nothing is taken twice across
//! restarts, and exactly one poller holds a mailbox.

use crate::intake::{drain, mail};
use logbuch_core::workers::Cancel;
use logbuch_tests::mailpeer::{imap_reset, imap_seen, imap_user, lmtp_deliver, with_mailboxes};
use logbuch_tests::{Backend, TestApp, both, spawn_app_with};
use std::time::Duration;

async fn until(t: &TestApp, what: &str, mut check: impl AsyncFnMut(&TestApp) -> bool) {
    for _ in 0..200 {
        if check(t).await {
            return;
        }
        drain(t).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

async fn raw_count(t: &TestApp) -> u64 {
    let db = &t.app.store.db;
    let mut n = 0;
    for s in ["pending", "done", "quarantined"] {
        n += logbuch_store::intake::count_raw(db, s).await.unwrap();
    }
    n
}

async fn lmtp_mails_become_tickets_and_thread(backend: Backend) {
    let user = imap_user('a', backend);
    imap_reset(&user).await;
    let t = spawn_app_with(backend, |s| with_mailboxes(s, std::slice::from_ref(&user))).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let spec = t.app.federation().unwrap().mailboxes.remove(0);
    let cancel = Cancel::new();
    let poller = tokio::spawn(logbuch_intake::poll_mailbox(t.app.clone(), spec.clone(), "p1".into(), cancel.clone()));

    lmtp_deliver(
        &user,
        &mail(
            "lmtp1@x",
            "m@example.org",
            "presse@piratenpartei-nrw.de",
            "=?UTF-8?Q?Anfrage_zur_Landtagswahl_=E2=80=93_K=C3=B6ln?=",
            "Hallo",
        ),
    )
    .await;
    let with_file = "From: Kai <kai@example.org>\r\nTo: mitglieder-sn@piratenpartei.de\r\nSubject: Antrag\r\nMessage-ID: <lmtp2@x>\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"z\"\r\n\r\n--z\r\nContent-Type: text/plain\r\n\r\nAnbei.\r\n\
--z\r\nContent-Type: text/plain; name=\"antrag.txt\"\r\nContent-Disposition: attachment; filename=\"antrag.txt\"\r\n\r\n.Punkt am Zeilenanfang\r\n--z--\r\n";
    lmtp_deliver(&user, with_file.as_bytes()).await;
    until(&t, "two tickets", async |t| t.list_numbers(&admin, "").await.len() == 2).await;

    let (_, list) = t.get(&admin, "/api/v1/tickets?tenant=nw&queue=presse").await;
    let n = list["tickets"][0]["number"].as_i64().unwrap();
    assert_eq!(list["tickets"][0]["subject"], "Anfrage zur Landtagswahl – Köln");
    let (_, list) = t.get(&admin, "/api/v1/tickets?tenant=sn&queue=mitglieder").await;
    let sn = list["tickets"][0]["number"].as_i64().unwrap();
    let (_, d) = t.get(&admin, &format!("/api/v1/tickets/{sn}")).await;
    assert_eq!(d["messages"][0]["attachments"][0]["filename"], "antrag.txt");
    let att = d["messages"][0]["attachments"][0]["id"].as_i64().unwrap();
    let bytes = t
        .http
        .get(format!("{}/api/v1/tickets/{sn}/attachments/{att}", t.url))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), b".Punkt am Zeilenanfang", "dot-stuffing undone, bytes intact");

    // A reply threads into its ticket.
    lmtp_deliver(
        &user,
        &mail(
            "lmtp3@x",
            "m@example.org",
            "presse@piratenpartei-nrw.de",
            &format!("Re: [Logbuch #{n}] Anfrage"),
            "Noch eine Frage",
        ),
    )
    .await;
    until(&t, "the reply", async |t| {
        let (_, d) = t.get(&admin, &format!("/api/v1/tickets/{n}")).await;
        d["messages"].as_array().unwrap().len() == 2
    })
    .await;
    assert_eq!(t.list_numbers(&admin, "").await.len(), 2, "a reply opens no ticket");
    assert_eq!(imap_seen(&user).await, 3, "taken mails are marked seen on the server");

    // Restart the poller: nothing is taken twice; new mail still comes.
    cancel.cancel();
    poller.await.unwrap();
    let cancel = Cancel::new();
    let poller = tokio::spawn(logbuch_intake::poll_mailbox(t.app.clone(), spec, "p2".into(), cancel.clone()));
    lmtp_deliver(&user, &mail("lmtp4@x", "n@example.org", "kontakt-hh@piratenpartei.de", "Hamburg", "x")).await;
    until(&t, "the fourth mail", async |t| t.list_numbers(&admin, "").await.len() == 3).await;
    assert_eq!(raw_count(&t).await, 4, "each mail stored once");
    cancel.cancel();
    poller.await.unwrap();
}

async fn one_poller_per_mailbox_and_takeover(backend: Backend) {
    let user = imap_user('b', backend);
    imap_reset(&user).await;
    let t = spawn_app_with(backend, |s| {
        with_mailboxes(s, std::slice::from_ref(&user));
        s.intake.lease_secs = 3;
    })
    .await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let spec = t.app.federation().unwrap().mailboxes.remove(0);
    let cancel = Cancel::new();
    let a = tokio::spawn(logbuch_intake::poll_mailbox(t.app.clone(), spec.clone(), "worker-a".into(), cancel.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let b = tokio::spawn(logbuch_intake::poll_mailbox(t.app.clone(), spec.clone(), "worker-b".into(), cancel.clone()));
    for i in 0..5 {
        lmtp_deliver(
            &user,
            &mail(&format!("lease{i}@x"), "m@example.org", "mitglieder-rp@piratenpartei.de", &format!("Mail {i}"), "x"),
        )
        .await;
    }
    until(&t, "five tickets", async |t| t.list_numbers(&admin, "").await.len() == 5).await;
    let state = logbuch_store::intake::mailbox_state(&t.app.store.db, &user).await.unwrap();
    assert_eq!(state.lease_owner.as_deref(), Some("worker-a"), "the first poller keeps its mailbox");
    assert!(state.last_uid >= 5, "progress recorded (UIDs keep growing across runs of this test)");
    assert_eq!(raw_count(&t).await, 5, "two pollers, each mail taken once");
    // worker-a dies without giving the lease back: worker-b takes over once it runs out.
    a.abort();
    let _ = a.await;
    lmtp_deliver(&user, &mail("lease5@x", "m@example.org", "mitglieder-rp@piratenpartei.de", "Nach dem Ausfall", "x"))
        .await;
    until(&t, "the takeover", async |t| t.list_numbers(&admin, "").await.len() == 6).await;
    let state = logbuch_store::intake::mailbox_state(&t.app.store.db, &user).await.unwrap();
    assert_eq!(state.lease_owner.as_deref(), Some("worker-b"));
    assert_eq!(raw_count(&t).await, 6);
    cancel.cancel();
    b.await.unwrap();
}

/// The whole round trip through real servers: a requester's mail reaches
/// Logbuch's IMAP mailbox, the staff reply goes out through Postfix into
/// the requester's Dovecot mailbox, and the requester's answer to it, sent
/// through Postfix again, lands in the same ticket.
async fn reply_round_trip_through_postfix_and_dovecot(backend: Backend) {
    use logbuch_tests::mailpeer::{imap_fetch_all, smtp_submit};
    let logbuch_box = imap_user('f', backend);
    let requester_box = imap_user('e', backend);
    let requester = format!("{requester_box}@example.test");
    imap_reset(&logbuch_box).await;
    imap_reset(&requester_box).await;
    let t = spawn_app_with(backend, |s| {
        with_mailboxes(s, std::slice::from_ref(&logbuch_box));
        s.smtp.host = Some("127.0.0.1".into());
        s.smtp.port = 2525;
        s.smtp.security = logbuch_config::SmtpSecurity::None;
    })
    .await;
    let staff = t.person("presse@nrw.example", &[("helper", Some("nw"), None)]).await;
    let spec = t.app.federation().unwrap().mailboxes.remove(0);
    let cancel = Cancel::new();
    let poller = tokio::spawn(logbuch_intake::poll_mailbox(t.app.clone(), spec, "p".into(), cancel.clone()));

    let first = format!(
        "From: Erika <{requester}>\r\nTo: presse@piratenpartei-nrw.de\r\nSubject: Termin?\r\nMessage-ID: <rt1-{requester_box}@example.test>\r\n\r\nWann passt es?\r\n"
    );
    smtp_submit(2525, &requester, &format!("{logbuch_box}@example.test"), first.as_bytes()).await;
    until(&t, "the ticket", async |t| t.list_numbers(&staff, "").await.len() == 1).await;
    let n = t.list_numbers(&staff, "").await[0];
    let (s, _) = t
        .post(&staff, &format!("/api/v1/tickets/{n}/replies"), serde_json::json!({"body": "Dienstag um 14 Uhr."}))
        .await;
    assert!(s.is_success());
    let mut reply = None;
    for _ in 0..100 {
        while t.app.run_outbox_once("w", 20).await.unwrap() > 0 {}
        reply = imap_fetch_all(&requester_box)
            .await
            .into_iter()
            .map(|raw| logbuch_mail::parse_mail(&raw).unwrap())
            .find(|m| m.text.contains("Dienstag um 14 Uhr"));
        if reply.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reply = reply.expect("the reply reached the requester's mailbox through Postfix");
    assert!(reply.subject.contains(&format!("[Logbuch #{n}]")));
    assert_eq!(reply.in_reply_to, vec![format!("rt1-{requester_box}@example.test")]);
    let answer = format!(
        "From: Erika <{requester}>\r\nTo: {}\r\nSubject: Re: {}\r\nMessage-ID: <rt2-{requester_box}@example.test>\r\nIn-Reply-To: <{}>\r\nReferences: <rt1-{requester_box}@example.test> <{}>\r\n\r\nDienstag passt.\r\n",
        reply.from, reply.subject, reply.message_id, reply.message_id
    );
    smtp_submit(2525, &requester, &format!("{logbuch_box}@example.test"), answer.as_bytes()).await;
    until(&t, "the answer in the ticket", async |t| {
        let (_, d) = t.get(&staff, &format!("/api/v1/tickets/{n}")).await;
        d["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body_text"].as_str().unwrap_or_default().contains("Dienstag passt"))
    })
    .await;
    assert_eq!(t.list_numbers(&staff, "").await.len(), 1, "the answer opened no ticket");
    cancel.cancel();
    poller.await.unwrap();
}

both!(
    lmtp_mails_become_tickets_and_thread,
    one_poller_per_mailbox_and_takeover,
    reply_round_trip_through_postfix_and_dovecot
);
