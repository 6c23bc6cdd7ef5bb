//! The requester's side over real HTTP, on both backends, with real mail
//! through the SMTP capture sink: the web form becomes a ticket in the
//! topic's queue with its fields and files; spam checks, size and rate
//! limits refuse with a German message and store nothing; the
//! acknowledgement's link opens the status page, where the requester reads
//! the public exchange (never notes), replies (the owner is told), closes and
//! reopens; a link opens only its own ticket; `/status` answers the same for
//! a real and a made-up pair and mails only the real requester; replies of a
//! portal-only queue leave as a link, never in clear.

use crate::outgoing::{captured, send_all, with_sink};
use logbuch_tests::{Backend, TestApp, both, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A multipart/form-data body built by hand: (name, value) text fields and (name, file name, bytes) files.
fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = format!("----logbuch{:x}", rand::random::<u64>());
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes(),
        );
    }
    for (name, filename, content) in files {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .bytes(),
        );
        body.extend_from_slice(content);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_multipart(
    t: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> (StatusCode, String) {
    let (ct, body) = multipart(fields, files);
    let r = no_redirects().post(format!("{}{path}", t.url)).header("content-type", ct).body(body).send().await.unwrap();
    let status = r.status();
    let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    (status, location.unwrap_or(r.text().await.unwrap()))
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn get_page(t: &TestApp, path: &str) -> (StatusCode, String) {
    let r = no_redirects().get(format!("{}{path}", t.url)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The form's token, taken from the page (served `min_fill_secs` ago once the caller waited).
async fn form_token(t: &TestApp, tenant: &str, topic: &str) -> String {
    let (s, html) = get_page(t, &format!("/anfrage/{tenant}?thema={topic}")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    let at = html.find("name=\"token\" value=\"").unwrap() + 20;
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

fn portal_settings(s: &mut logbuch_config::Settings) {
    with_sink(s);
    s.portal.min_fill_secs = 1;
    s.portal.max_upload_bytes = 200_000;
}

async fn tickets_of(t: &TestApp, admin: &logbuch_tests::Person, tenant: &str) -> Vec<i64> {
    t.list_numbers(admin, &format!("?tenant={tenant}&status=new,open,waiting,resolved")).await
}

/// The status link from the last captured mail to `rcpt_tag`.
fn link_in_mail(tag: &str, subject_has: &str) -> String {
    let mails = captured(tag);
    let m = mails.iter().rev().find(|c| c.mail.subject.contains(subject_has)).unwrap_or_else(|| {
        panic!("no mail „{subject_has}“ to {tag}: {:?}", mails.iter().map(|m| &m.mail.subject).collect::<Vec<_>>())
    });
    let at = m.mail.text.find("/status/").unwrap();
    let token: String = m.mail.text[at + 8..].chars().take_while(char::is_ascii_hexdigit).collect();
    assert_eq!(token.len(), 64, "{}", m.mail.text);
    format!("/status/{token}")
}

async fn ticket(t: &TestApp, who: &logbuch_tests::Person, n: i64) -> Value {
    let (s, d) = t.get(who, &format!("/api/v1/tickets/{n}")).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    d
}

async fn form_becomes_a_ticket_and_the_link_opens_the_status_page(backend: Backend) {
    let t = spawn_app_with(backend, portal_settings).await;
    let tag = format!("{:x}", rand::random::<u32>());
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let helper = t.person(&format!("presse-{tag}@nrw.example"), &[("helper", Some("nw"), Some("presse"))]).await;
    let stranger = t.person("alice@by.example", &[("helper", Some("by"), None)]).await;
    let requester = format!("erika-{tag}@example.org");
    let token = form_token(&t, "nw", "presse").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let pdf: &[u8] = b"%PDF-1.7\n1 0 obj<<>>endobj\n";
    let (s, page) = post_multipart(
        &t,
        "/anfrage/nw",
        &[
            ("token", &token),
            ("homepage", ""),
            ("topic", "presse"),
            ("name", "Erika Mustermann"),
            ("email", &requester),
            ("subject", "Interview zur Landtagswahl"),
            ("body", "Guten Tag,\nwir möchten ein Interview führen."),
            ("feld_redaktion", "WDR Lokalzeit"),
            ("feld_frist", "2026-12-24"),
        ],
        &[("dateien", "fragen.pdf", pdf), ("dateien", "notiz.txt", b"Fragenliste")],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("Ihre Anfrage ist angekommen"), "{page}");
    let numbers = tickets_of(&t, &admin, "nw").await;
    assert_eq!(numbers.len(), 1);
    let n = numbers[0];
    assert!(page.contains(&format!("#{n}")));
    let d = ticket(&t, &admin, n).await;
    assert_eq!(d["queue"], "presse", "the topic's queue: {d}");
    assert_eq!(d["requester"], requester.as_str());
    let fields: Vec<(String, String)> = d["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["label"].as_str().unwrap().to_owned(), f["value"].as_str().unwrap().to_owned()))
        .collect();
    assert!(fields.contains(&("Thema".into(), "Presseanfrage".into())), "{fields:?}");
    assert!(fields.contains(&("Redaktion oder Medium".into(), "WDR Lokalzeit".into())), "{fields:?}");
    assert!(fields.contains(&("Bis wann brauchen Sie eine Antwort?".into(), "24.12.2026".into())), "{fields:?}");
    let files = d["messages"][0]["attachments"].as_array().unwrap();
    let types: Vec<&str> = files.iter().map(|f| f["content_type"].as_str().unwrap()).collect();
    assert_eq!(types, ["application/pdf", "text/plain"], "types sniffed from the content: {d}");
    let (s, _) = t.get(&stranger, &format!("/api/v1/tickets/{n}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another LV's helper does not see the form's ticket");

    // The acknowledgement carries the personal link; the page shows the ticket.
    send_all(&t).await;
    let link = link_in_mail(&format!("erika-{tag}"), "Eingangsbestätigung");
    let (s, status) = get_page(&t, &link).await;
    assert_eq!(s, StatusCode::OK, "{status}");
    assert!(status.contains("Interview zur Landtagswahl") && status.contains("WDR Lokalzeit"), "{status}");
    assert!(status.contains("fragen.pdf"));

    // Staff work it: take (owner), an internal note, a public reply; the helper's read is on the page.
    let (s, b) = t.post(&helper, &format!("/api/v1/tickets/{n}/take"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    t.post(&helper, &format!("/api/v1/tickets/{n}/notes"), json!({"body": "GEHEIM: Kontakt ist heikel"})).await;
    t.post(&helper, &format!("/api/v1/tickets/{n}/replies"), json!({"body": "Gern, wann passt es Ihnen?"})).await;
    ticket(&t, &helper, n).await;
    let (_, status) = get_page(&t, &link).await;
    assert!(status.contains("Gern, wann passt es Ihnen?"), "the reply is public: {status}");
    assert!(!status.contains("GEHEIM"), "internal notes never show");
    assert!(status.contains(&format!("presse-{tag}@nrw.example")), "who works it and who opened it (display name)");
    assert!(status.contains("Wer Ihre Anfrage geöffnet hat") && status.contains("<table id=\"zugriffe\">"), "{status}");

    // The requester replies with a file: on the ticket, by the requester, and the owner is told.
    let before = captured(&format!("presse-{tag}")).len();
    let (s, to) = post_multipart(
        &t,
        &format!("{link}/antwort"),
        &[("body", "Dienstag um 10 Uhr.")],
        &[("dateien", "plan.txt", b"Di 10:00")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{to}");
    let d = ticket(&t, &helper, n).await;
    let last = d["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["kind"].as_str(), last["from"].as_str()), (Some("inbound"), Some(requester.as_str())), "{last}");
    assert_eq!(last["body_text"], "Dienstag um 10 Uhr.");
    assert_eq!(last["attachments"][0]["filename"], "plan.txt");
    assert!(
        d["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["actor_label"] == format!("{requester} (Statusseite)").as_str())
    );
    send_all(&t).await;
    let told = captured(&format!("presse-{tag}"));
    assert!(told.len() > before && told.iter().any(|c| c.mail.subject.contains("Neue Nachricht")), "the owner is told");

    // Close and reopen, each on the history with the requester as actor.
    let (s, _) = post_multipart(&t, &format!("{link}/erledigt"), &[], &[]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(ticket(&t, &helper, n).await["status"], "resolved");
    let (s, _) = post_multipart(&t, &format!("{link}/erledigt"), &[], &[]).await;
    assert_eq!(s, StatusCode::CONFLICT, "already resolved");
    let (s, _) = post_multipart(&t, &format!("{link}/wieder-oeffnen"), &[], &[]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let d = ticket(&t, &helper, n).await;
    assert_eq!(d["status"], "open");
    let by_requester = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["field"] == "status" && h["actor_label"].is_string())
        .count();
    assert_eq!(by_requester, 2, "{d}");

    // A link opens only its own ticket; a changed token, another ticket's file: 404.
    let token2 = form_token(&t, "nw", "sonstiges").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let other = format!("other-{tag}@example.org");
    let (s, page) = post_multipart(
        &t,
        "/anfrage/nw",
        &[
            ("token", &token2),
            ("topic", "sonstiges"),
            ("email", &other),
            ("subject", "Zweite Anfrage"),
            ("body", "Etwas anderes"),
        ],
        &[("dateien", "b.txt", b"B")],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    send_all(&t).await;
    let link_b = link_in_mail(&format!("other-{tag}"), "Eingangsbestätigung");
    let (_, a_page) = get_page(&t, &link).await;
    assert!(!a_page.contains("Zweite Anfrage"));
    let (_, b_page) = get_page(&t, &link_b).await;
    assert!(b_page.contains("Zweite Anfrage") && !b_page.contains("Interview"), "{b_page}");
    let b_number = *tickets_of(&t, &admin, "nw").await.iter().find(|x| **x != n).unwrap();
    let b_file = ticket(&t, &admin, b_number).await["messages"][0]["attachments"][0]["id"].as_i64().unwrap();
    let (s, _) = get_page(&t, &format!("{link}/datei/{b_file}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "ticket A's link never opens B's file");
    let (s, _) = get_page(&t, &format!("{link_b}/datei/{b_file}")).await;
    assert_eq!(s, StatusCode::OK);
    let mut forged = link.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    let (s, page) = get_page(&t, &forged).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(page.contains("Dieser Link gilt nicht"), "{page}");
    let (s, _) = get_page(&t, "/status/zu-kurz").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn refusals_store_nothing_and_keep_what_was_typed(backend: Backend) {
    let t = spawn_app_with(backend, portal_settings).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let fresh = form_token(&t, "by", "sonstiges").await;
    let fields = |token: &str, email: &str| {
        vec![
            ("token".to_owned(), token.to_owned()),
            ("topic".to_owned(), "sonstiges".to_owned()),
            ("email".to_owned(), email.to_owned()),
            ("subject".to_owned(), "Meine Frage zum Parteitag".to_owned()),
            ("body".to_owned(), "Wo findet er statt?".to_owned()),
        ]
    };
    let send = |fs: Vec<(String, String)>, files: Vec<(&'static str, &'static str, Vec<u8>)>| {
        let t = &t;
        async move {
            let f: Vec<(&str, &str)> = fs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            let files: Vec<(&str, &str, &[u8])> = files.iter().map(|(a, b, c)| (*a, *b, c.as_slice())).collect();
            post_multipart(t, "/anfrage/by", &f, &files).await
        }
    };
    // Too fast: the form came back within a second.
    let (s, page) = send(fields(&fresh, "a@example.org"), vec![]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("schneller, als ein Mensch"), "{page}");
    assert!(page.contains("Meine Frage zum Parteitag") && page.contains("Wo findet er statt?"), "typed text kept");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // The honeypot.
    let mut bot = fields(&fresh, "a@example.org");
    bot.push(("homepage".into(), "https://spam.example".into()));
    let (s, page) = send(bot, vec![]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(page.contains("Bitte leer lassen"), "{page}");
    // A forged token.
    let (s, page) = send(fields("1.2.3", "a@example.org"), vec![]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(page.contains("nicht mehr gültig") && page.contains("Wo findet er statt?"), "{page}");
    // Files over the limit (200 kB here), and a program.
    let (s, page) = send(fields(&fresh, "a@example.org"), vec![("dateien", "gross.pdf", vec![b'%'; 250_000])]).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.contains("zusammen") && page.contains("Meine Frage zum Parteitag"), "{page}");
    let (s, page) =
        send(fields(&fresh, "a@example.org"), vec![("dateien", "rechnung.pdf", b"MZ\x90\x00rest".to_vec())]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Programme können wir nicht annehmen"), "{page}");
    // Bad fields: each named, what was typed kept.
    let (s, page) = send(fields(&fresh, "keine-adresse"), vec![]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("aria-invalid=\"true\"") && page.contains("Bitte geben Sie Ihre Mailadresse an"), "{page}");
    assert!(page.contains("value=\"keine-adresse\""));
    assert!(tickets_of(&t, &admin, "by").await.is_empty(), "nothing stored by any refusal");
    // Ten an hour from one client; the eleventh is refused.
    for i in 0..10 {
        let (s, page) = send(fields(&fresh, &format!("m{i}@example.org")), vec![]).await;
        assert_eq!(s, StatusCode::OK, "{i}: {page}");
    }
    let (s, page) = send(fields(&fresh, "m11@example.org"), vec![]).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("in einer Stunde noch einmal") && page.contains("Wo findet er statt?"), "{page}");
    assert_eq!(tickets_of(&t, &admin, "by").await.len(), 10);
    // Unknown tenants and topics are 404 in German.
    let (s, page) = get_page(&t, "/anfrage/xx").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(page.contains("Dieses Formular gibt es nicht"));
    let (s, _) = get_page(&t, "/anfrage/by?thema=gibtsnicht").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn the_bund_form_sends_members_to_their_lv(backend: Backend) {
    let t = spawn_app_with(backend, portal_settings).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let (_, html) = get_page(&t, "/anfrage/bund?thema=mitgliedschaft").await;
    assert!(html.contains("<option value=\"nw\">Nordrhein-Westfalen</option>"), "{html}");
    let token = form_token(&t, "bund", "mitgliedschaft").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for (lv, email) in [("nw", "n@example.org"), ("", "b@example.org")] {
        let (s, page) = post_multipart(
            &t,
            "/anfrage/bund",
            &[
                ("token", &token),
                ("topic", "mitgliedschaft"),
                ("lv", lv),
                ("email", email),
                ("subject", "Austritt"),
                ("body", "Ich trete aus."),
                ("feld_mitgliedsnummer", "4711"),
            ],
            &[],
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{page}");
    }
    let nw = tickets_of(&t, &admin, "nw").await;
    assert_eq!(ticket(&t, &admin, nw[0]).await["queue"], "mitgliederverwaltung", "the LV's queue of the topic");
    let bund = tickets_of(&t, &admin, "bund").await;
    assert_eq!(ticket(&t, &admin, bund[0]).await["queue"], "triage");
    // A made-up LV is a field error, nothing stored.
    let (s, _) = post_multipart(
        &t,
        "/anfrage/bund",
        &[
            ("token", &token),
            ("topic", "mitgliedschaft"),
            ("lv", "zz"),
            ("email", "z@example.org"),
            ("subject", "x"),
            ("body", "y"),
        ],
        &[],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(tickets_of(&t, &admin, "bund").await.len() + tickets_of(&t, &admin, "nw").await.len(), 2);
}

/// `/status`: the same answer for a real and a made-up pair; only the real requester gets a link.
async fn link_requests_reveal_nothing(backend: Backend) {
    let t = spawn_app_with(backend, portal_settings).await;
    let tag = format!("{:x}", rand::random::<u32>());
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let real = format!("real-{tag}@example.org");
    let (_, body) = t
        .post(
            &admin,
            "/api/v1/tickets",
            json!({"tenant": "he", "subject": "Spende", "body": "Quittung?", "requester": real}),
        )
        .await;
    let n = body["number"].as_i64().unwrap();
    let ask = |number: String, email: String| {
        let t = &t;
        async move {
            let r = no_redirects()
                .post(format!("{}/status", t.url))
                .form(&[("number", number), ("email", email)])
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let answer = |page: &str| {
        let at = page.find("id=\"gesendet\">").unwrap_or_else(|| panic!("{page}"));
        page[at..at + page[at..].find("</p>").unwrap()].to_owned()
    };
    let (s1, p1) = ask(format!("#{n}"), real.to_uppercase()).await;
    let (s2, p2) = ask(format!("{n}"), format!("fake-{tag}@example.org")).await;
    let (s3, p3) = ask("999999".into(), format!("nobody-{tag}@example.org")).await;
    assert_eq!((s1, s2, s3), (StatusCode::OK, StatusCode::OK, StatusCode::OK));
    assert_eq!(answer(&p1), answer(&p2));
    assert_eq!(answer(&p2), answer(&p3));
    send_all(&t).await;
    let link = link_in_mail(&format!("real-{tag}"), "Ihr Link zur Anfrage");
    assert!(captured(&format!("fake-{tag}")).is_empty() && captured(&format!("nobody-{tag}")).is_empty());
    let (s, page) = get_page(&t, &link).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Spende"));
    // Malformed input is said so (it reveals nothing), and the client's limit holds.
    let (s, page) = ask("vier".into(), real.clone()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(page.contains("als Zahl"), "{page}");
    let mut last = StatusCode::OK;
    for _ in 0..12 {
        last = ask(format!("{n}"), real.clone()).await.0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS, "requests per client and hour are limited");
    send_all(&t).await;
    let links = captured(&format!("real-{tag}")).iter().filter(|c| c.mail.subject.contains("Ihr Link")).count();
    assert!(links <= 4, "per address quietly limited: {links}");
}

/// In a portal-only queue a staff reply never leaves in clear: the requester gets a link.
async fn portal_only_replies_leave_as_a_link(backend: Backend) {
    let dir = std::env::temp_dir().join(format!("lb-fed-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let fed = logbuch_config::EMBEDDED_FEDERATION.replacen(
        "slug = \"mahnwesen\"\n",
        "slug = \"mahnwesen\"\nportal_only = true\n",
        1,
    );
    assert_ne!(fed, logbuch_config::EMBEDDED_FEDERATION);
    let path = dir.join("federation.toml");
    std::fs::write(&path, fed).unwrap();
    let t = spawn_app_with(backend, |s| {
        portal_settings(s);
        s.federation_file = Some(path.clone());
    })
    .await;
    let tag = format!("{:x}", rand::random::<u32>());
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let requester = format!("schuldner-{tag}@example.org");
    let (_, body) = t
        .post(&admin, "/api/v1/tickets", json!({"tenant": "bund", "queue": "mahnwesen", "subject": "Beitrag", "body": "Frage", "requester": requester}))
        .await;
    let n = body["number"].as_i64().unwrap();
    let (s, _) =
        t.post(&admin, &format!("/api/v1/tickets/{n}/replies"), json!({"body": "Ihr Rückstand: 48,00 EUR"})).await;
    assert!(s.is_success(), "{s}");
    send_all(&t).await;
    let mails = captured(&format!("schuldner-{tag}"));
    assert_eq!(mails.len(), 1, "one mail: the link, no reply in clear");
    assert!(mails[0].mail.subject.contains("Es gibt eine neue Antwort"));
    assert!(!mails[0].raw.contains("48,00"), "the reply's content never leaves by mail");
    let link = link_in_mail(&format!("schuldner-{tag}"), "neue Antwort");
    let (_, page) = get_page(&t, &link).await;
    assert!(page.contains("Ihr Rückstand: 48,00 EUR"), "{page}");
    let _ = std::fs::remove_dir_all(&dir);
}

both!(
    form_becomes_a_ticket_and_the_link_opens_the_status_page,
    refusals_store_nothing_and_keep_what_was_typed,
    the_bund_form_sends_members_to_their_lv,
    link_requests_reveal_nothing,
    portal_only_replies_leave_as_a_link,
);
