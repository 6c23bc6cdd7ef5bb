//! Ticket lists to work in, on both backends: filters (each alone and
//! combined) and sorting over the API and on the page, and bulk actions on a
//! mixed selection — tickets outside the person's rights are neither changed
//! nor revealed, each is reported, and every changed ticket has its own
//! history entry; a ticket shows the requester's other tickets and bounces
//! within the reader's reach.

use crate::ui::{browser_for, html};
use logbuch_store::entity::ticket;
use logbuch_tests::{Backend, both, spawn_app};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};

async fn lists_filter_sort_and_act_in_bulk(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let h = t.person("presse@nrw.example", &[("helper", Some("nw"), Some("presse"))]).await;
    let nw = |s: &str| format!("?tenant=nw&queue=presse{s}");
    // Presse (high by default): a high and unassigned, b urgent and h's, c normal, d low and waiting.
    let a = t.create_ticket(&admin, "nw", "presse", "Alpha hoch").await;
    let b = t.create_ticket(&admin, "nw", "presse", "Beta dringend").await;
    let c = t.create_ticket(&admin, "nw", "presse", "Gamma normal").await;
    let d = t.create_ticket(&admin, "nw", "presse", "Delta wartet").await;
    let e = t.create_ticket(&admin, "nw", "pgf", "Epsilon woanders").await;
    let f = t.create_ticket(&admin, "by", "mitglieder", "Zeta Bayern").await;
    let patch = |n: i64, body: Value| {
        let (t, admin) = (&t, &admin);
        async move {
            let (s, b) = t.call(Some(admin), Method::PATCH, &format!("/api/v1/tickets/{n}"), Some(body)).await;
            assert!(s.is_success(), "{b}");
        }
    };
    patch(b, json!({"priority": "urgent"})).await;
    patch(c, json!({"priority": "normal"})).await;
    patch(d, json!({"priority": "low", "status": "waiting"})).await;
    t.post(&admin, &format!("/api/v1/tickets/{b}/assign"), json!({"owner": h.email})).await;
    // a's first answer is overdue.
    let row = ticket::Entity::find_by_id(a).one(&t.app.store.db).await.unwrap().unwrap();
    let mut am: ticket::ActiveModel = row.into();
    am.first_response_due = Set(Some(chrono::Utc::now() - chrono::Duration::hours(1)));
    am.update(&t.app.store.db).await.unwrap();

    let sorted = |mut v: Vec<i64>| {
        v.sort_unstable();
        v
    };
    let list = |q: String| {
        let (t, h) = (&t, &h);
        async move { sorted(t.list_numbers(h, &q).await) }
    };
    // Each filter alone, then combined.
    assert_eq!(list(nw("")).await, vec![a, b, c, d]);
    assert_eq!(list(nw("&unassigned=true")).await, vec![a, c, d]);
    assert_eq!(list(nw("&mine=true")).await, vec![b]);
    assert_eq!(list(nw("&priority=high,urgent")).await, vec![a, b]);
    assert_eq!(list(nw("&status=waiting")).await, vec![d]);
    assert_eq!(list(nw("&overdue=true")).await, vec![a]);
    assert_eq!(list(nw("&q=Gamma")).await, vec![c]);
    assert_eq!(list(nw("&unassigned=true&priority=high,urgent")).await, vec![a]);
    assert_eq!(list(nw("&unassigned=true&priority=low&status=waiting")).await, vec![d]);
    assert_eq!(list(nw("&unassigned=true&priority=normal,low")).await, vec![c, d]);
    assert_eq!(list("?priority=high".into()).await, vec![a], "another queue's high ticket stays out of reach");
    // Sorting.
    assert_eq!(t.list_numbers(&h, &nw("&sort=newest")).await, vec![d, c, b, a]);
    assert_eq!(t.list_numbers(&h, &nw("&sort=oldest")).await, vec![a, b, c, d]);
    assert_eq!(t.list_numbers(&h, &nw("")).await[..2], [b, a], "default: most urgent first");
    for bad in ["&sort=zufall", "&priority=wichtig", "&overdue=vielleicht"] {
        let (s, body) = t.get(&h, &format!("/api/v1/tickets{}", nw(bad))).await;
        assert!(s == StatusCode::UNPROCESSABLE_ENTITY || s == StatusCode::BAD_REQUEST, "{bad}: {s} {body}");
    }

    // The page: filters kept in the address, with requester and queue columns.
    let (browser, csrf) = browser_for(&t, &h.email).await;
    let url = format!("{}/ui/tickets?tenant=nw&queue=presse&besitz=niemand&prioritaet=hoch", t.url);
    let (s, _, page) = html(&browser, url).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("Alpha hoch") && !page.contains("Gamma normal") && !page.contains("Beta dringend"), "{page}");
    assert!(page.contains("id=\"filter\"") && page.contains("<th scope=\"col\" class=\"wide\">Von</th>"), "{page}");
    let (_, _, page) = html(&browser, format!("{}/ui/tickets?tenant=nw&queue=presse&besitz=ich", t.url)).await;
    assert!(page.contains("Beta dringend") && !page.contains("Alpha hoch"), "{page}");
    // A ticket links to its neighbours in the queue's list (most urgent first: b, a, c, d).
    let (_, _, page) = html(&browser, format!("{}/ui/tickets/{a}", t.url)).await;
    assert!(
        page.contains(&format!("href=\"/ui/tickets/{b}\" rel=\"prev\""))
            && page.contains(&format!("href=\"/ui/tickets/{c}\" rel=\"next\"")),
        "{page}"
    );

    // Bulk over the API: a mixed selection.
    let (s, r) =
        t.post(&h, "/api/v1/tickets/bulk", json!({"tickets": [a, c, e, f, 99_999_999, a], "action": "take"})).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["done"], json!([a, c]), "{r}");
    let refused: Vec<i64> = r["refused"].as_array().unwrap().iter().map(|x| x["ticket"].as_i64().unwrap()).collect();
    assert_eq!(refused, vec![e, f, 99_999_999], "{r}");
    let reasons: Vec<&str> = r["refused"].as_array().unwrap().iter().map(|x| x["reason"].as_str().unwrap()).collect();
    assert!(reasons.iter().all(|x| *x == reasons[0]), "the same words for another queue, another LV and nothing: {r}");
    for n in [e, f] {
        let (_, d) = t.get(&admin, &format!("/api/v1/tickets/{n}")).await;
        assert!(d["owner"].is_null(), "not changed: {d}");
        assert!(!d["history"].as_array().unwrap().iter().any(|x| x["field"] == "owner"), "{d}");
    }
    for n in [a, c] {
        let (_, d) = t.get(&h, &format!("/api/v1/tickets/{n}")).await;
        assert_eq!(d["owner"]["email"], h.email.as_str());
        assert_eq!(d["history"].as_array().unwrap().iter().filter(|x| x["field"] == "owner").count(), 1, "{d}");
    }
    let (s, r) =
        t.post(&h, "/api/v1/tickets/bulk", json!({"tickets": [a, c], "action": "priority", "value": "sehr"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    let (s, r) = t.post(&h, "/api/v1/tickets/bulk", json!({"tickets": [], "action": "take"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    let (s, r) =
        t.post(&h, "/api/v1/tickets/bulk", json!({"tickets": [a, d], "action": "priority", "value": "urgent"})).await;
    assert_eq!((s, r["done"].clone()), (StatusCode::OK, json!([a, d])), "{r}");

    // Bulk from the page: resolve two, with a summary.
    let form = [
        ("csrf_token", csrf.clone()),
        ("aktion", "resolve".to_owned()),
        (&*format!("t{a}"), "1".to_owned()),
        (&*format!("t{f}"), "1".to_owned()),
        (&*format!("t{c}"), "1".to_owned()),
        ("zurueck", "/ui/tickets?tenant=nw&queue=presse".to_owned()),
    ];
    let r = browser.post(format!("{}/ui/tickets/sammel", t.url)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let summary = r.text().await.unwrap();
    assert!(summary.contains("2 erledigt") && summary.contains(&format!("#{f}")), "{summary}");
    assert!(!summary.contains("Zeta Bayern"), "nothing about the other LV's ticket: {summary}");
    assert_eq!(list(nw("&status=resolved")).await, vec![a, c]);
    let (_, d) = t.get(&admin, &format!("/api/v1/tickets/{f}")).await;
    assert_eq!(d["status"], "new", "{d}");
    // Without the form's token nothing happens.
    let r = browser
        .post(format!("{}/ui/tickets/sammel", t.url))
        .form(&[("aktion", "take"), (&*format!("t{d}"), "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// A ticket shows the requester's other tickets the reader may see, and the
/// bounces recorded for the address in the reader's tenants.
async fn the_requester_context(backend: Backend) {
    let t = spawn_app(backend).await;
    let h = t.person("presse@nrw.example", &[("helper", Some("nw"), None)]).await;
    let by = t.person("helfer@by.example", &[("helper", Some("by"), None)]).await;
    let who = "mitglied@example.org";
    for (id, to, subject) in [
        ("r1@x", "presse@piratenpartei-nrw.de", "Erste Frage"),
        ("r2@x", "kontakt@piratenpartei-nrw.de", "Zweite Frage"),
        ("r3@x", "mitglieder-by@piratenpartei.de", "Frage in Bayern"),
        ("o1@x", "presse@piratenpartei-nrw.de", "Von jemand anderem"),
    ] {
        let from = if id.starts_with('o') { "anders@example.org" } else { who };
        t.app.ingest_raw("test", &crate::intake::mail(id, from, to, subject, "Hallo")).await.unwrap();
    }
    // Our mail to the member bounces, reported to BY's address.
    let dsn = format!(
        "From: MAILER-DAEMON@mx.example.net\r\nTo: mitglieder-by@piratenpartei.de\r\nSubject: Undelivered Mail Returned to Sender\r\n\
Message-ID: <dsn-ctx@mx.example.net>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n\
--r\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\n\
Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; {who}\r\nAction: failed\r\nStatus: 5.2.2\r\n\r\n--r--\r\n"
    );
    t.app.ingest_raw("test", dsn.as_bytes()).await.unwrap();
    crate::intake::drain(&t).await;
    let nw_tickets = t.list_numbers(&h, &format!("?requester={who}")).await;
    assert_eq!(nw_tickets.len(), 2, "{nw_tickets:?}");
    let (_, plain) = t.get(&h, &format!("/api/v1/tickets/{}", nw_tickets[0])).await;
    assert_eq!(plain["requester_tickets"], json!([]), "only when asked for");
    let (s, d) = t.get(&h, &format!("/api/v1/tickets/{}?context=true", nw_tickets[0])).await;
    assert_eq!(s, StatusCode::OK);
    let others: Vec<&str> =
        d["requester_tickets"].as_array().unwrap().iter().map(|o| o["subject"].as_str().unwrap()).collect();
    assert_eq!(others.len(), 1, "the other NW ticket, not Bavaria's, not itself: {others:?}");
    assert!(others[0].contains("Frage") && !others[0].contains("Bayern"), "{others:?}");
    assert!(d["requester_bounces"].as_array().unwrap().is_empty(), "the bounce was recorded in BY: {d}");
    // In Bavaria the bounce shows, in words.
    let by_ticket = t.list_numbers(&by, &format!("?requester={who}")).await[0];
    let (_, d) = t.get(&by, &format!("/api/v1/tickets/{by_ticket}?context=true")).await;
    let bounces = d["requester_bounces"].as_array().unwrap();
    assert_eq!(bounces.len(), 1, "{d}");
    assert_eq!(bounces[0]["status"], "5.2.2");
    assert_eq!(bounces[0]["reason_label"], "Postfach voll", "{d}");
    assert!(d["requester_tickets"].as_array().unwrap().is_empty(), "NW's tickets stay NW's: {d}");
    // And on the page.
    let (b, _) = browser_for(&t, &by.email).await;
    let (_, _, page) = html(&b, format!("{}/ui/tickets/{by_ticket}", t.url)).await;
    assert!(page.contains("id=\"unzustellbar\"") && page.contains("Postfach voll"), "{page}");
}

/// Two helpers on one ticket: each sees that the other has it open; a reply
/// written against an older page is held back with a warning (the text kept);
/// drafts stay on the server across logins.
async fn collisions_and_drafts(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let anna = t.person("anna@nrw.example", &[("helper", Some("nw"), Some("presse"))]).await;
    let ben = t.person("ben@nrw.example", &[("helper", Some("nw"), Some("presse"))]).await;
    let stranger = t.person("s@by.example", &[("helper", Some("by"), None)]).await;
    let n = t.create_ticket(&admin, "nw", "presse", "Zwei schreiben").await;
    let newest =
        |d: &Value| d["messages"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).max().unwrap_or(0);
    let (_, d) = t.get(&anna, &format!("/api/v1/tickets/{n}")).await;
    let seen = newest(&d);
    let (s, _) = t.post(&ben, &format!("/api/v1/tickets/{n}/replies"), json!({"body": "Ben antwortet."})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, b) =
        t.post(&anna, &format!("/api/v1/tickets/{n}/replies"), json!({"body": "Anna auch.", "seen": seen})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert!(
        b["detail"].as_str().unwrap().contains("eine neue Nachricht") && b["detail"].as_str().unwrap().contains("ben@"),
        "{b}"
    );
    let (_, d) = t.get(&anna, &format!("/api/v1/tickets/{n}")).await;
    assert!(!d["messages"].as_array().unwrap().iter().any(|m| m["body_text"] == "Anna auch."), "nothing sent");
    let (s, d) =
        t.post(&anna, &format!("/api/v1/tickets/{n}/replies"), json!({"body": "Anna auch.", "seen": newest(&d)})).await;
    assert_eq!(s, StatusCode::CREATED, "having read it, she sends: {d}");
    // Her own messages never count against her.
    let (s, _) =
        t.post(&anna, &format!("/api/v1/tickets/{n}/notes"), json!({"body": "Notiz", "seen": newest(&d) - 1})).await;
    assert_eq!(s, StatusCode::CREATED);

    // The page: loaded, then Ben writes, then Anna's reply comes back with the warning and her text.
    let (browser, csrf) = browser_for(&t, &anna.email).await;
    let (_, _, page) = html(&browser, format!("{}/ui/tickets/{n}", t.url)).await;
    let seen_on_page = page.split("name=\"seen\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(!page.contains("id=\"auch-offen\""), "nobody else yet: {page}");
    // Ben opens it too: his page says Anna has it open.
    let (ben_browser, _) = browser_for(&t, &ben.email).await;
    let (_, _, ben_page) = html(&ben_browser, format!("{}/ui/tickets/{n}", t.url)).await;
    assert!(ben_page.contains("id=\"auch-offen\"") && ben_page.contains("anna@nrw.example"), "{ben_page}");
    t.post(&ben, &format!("/api/v1/tickets/{n}/notes"), json!({"body": "Ben notiert etwas."})).await;
    let send = |seen: String| {
        let (browser, csrf, url) = (&browser, csrf.clone(), format!("{}/ui/tickets/{n}/reply", t.url));
        async move {
            let form = [("csrf_token", csrf), ("body", "Meine lange Antwort".to_owned()), ("seen", seen)];
            browser.post(url).form(&form).send().await.unwrap()
        }
    };
    let r = send(seen_on_page).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("id=\"kollision\"")
            && page.contains("Meine lange Antwort")
            && page.contains("Ben notiert etwas."),
        "{page}"
    );
    let seen_now = page.split("name=\"seen\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let r = send(seen_now).await;
    assert!(r.status().is_redirection(), "{}", r.status());

    // Drafts: kept on the server, there after a new login, gone once sent.
    let (s, _) = t
        .call(
            Some(&anna),
            Method::PUT,
            &format!("/api/v1/tickets/{n}/drafts/reply"),
            Some(json!({"body": "Halb fertig"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    for path in [format!("/api/v1/tickets/{n}/drafts/reply")] {
        let (s, _) = t.get(&stranger, &path).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = t.call(Some(&stranger), Method::PUT, &path, Some(json!({"body": "x"}))).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "another LV's helper");
        let (_, b) = t.get(&ben, &path).await;
        assert!(b.get("body").is_none(), "Ben has no draft of Anna's: {b}");
    }
    let (fresh, fresh_csrf) = browser_for(&t, &anna.email).await;
    let (_, _, page) = html(&fresh, format!("{}/ui/tickets/{n}", t.url)).await;
    assert!(page.contains(">Halb fertig</textarea>"), "the draft after a new login: {page}");
    // A note draft from the page, then the reply sent: its draft is gone, the note's stays.
    let r = fresh
        .post(format!("{}/ui/tickets/{n}/note", t.url))
        .form(&[("csrf_token", fresh_csrf.as_str()), ("body", "Notiz-Entwurf"), ("entwurf", "1")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    let (s, _) =
        t.post(&anna, &format!("/api/v1/tickets/{n}/replies"), json!({"body": "Halb fertig, jetzt ganz."})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = t.get(&anna, &format!("/api/v1/tickets/{n}/drafts/reply")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "sent, so no draft");
    let (_, b) = t.get(&anna, &format!("/api/v1/tickets/{n}/drafts/note")).await;
    assert_eq!(b["body"], "Notiz-Entwurf");
}

/// Saved views: a helper's own, a tenant admin's shared with the LV, each
/// on the start page with its count; another LV sees neither.
async fn saved_views_with_counts(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let lead = t.person("lead@nrw.example", &[("tenant_admin", Some("nw"), None)]).await;
    let h = t.person("presse@nrw.example", &[("helper", Some("nw"), Some("presse"))]).await;
    let by = t.person("helfer@by.example", &[("helper", Some("by"), None)]).await;
    for k in 0..3 {
        t.create_ticket(&admin, "nw", "presse", &format!("Presse {k}")).await;
    }
    let mine = t.create_ticket(&admin, "nw", "presse", "Meins").await;
    t.post(&admin, &format!("/api/v1/tickets/{mine}/assign"), json!({"owner": h.email})).await;

    // From the list page's form.
    let (browser, csrf) = browser_for(&t, &h.email).await;
    let (_, _, list) = html(&browser, format!("{}/ui/tickets?tenant=nw&queue=presse&besitz=niemand", t.url)).await;
    assert!(
        list.contains("id=\"ansicht-speichern\"") && !list.contains("id=\"ansicht-teilen\""),
        "a helper cannot share: {list}"
    );
    let query = "tenant=nw&queue=presse&besitz=niemand&prioritaet=hoch";
    let r = browser
        .post(format!("{}/ui/ansichten", t.url))
        .form(&[("csrf_token", csrf.as_str()), ("name", "Presse unzugewiesen"), ("query", query)])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let (s, b) =
        t.post(&h, "/api/v1/views", json!({"name": "Geteilt?", "query": "tenant=nw", "share_with": "nw"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "only the tenant's admins share: {b}");
    let (s, b) = t.post(&h, "/api/v1/views", json!({"name": "Böse", "query": "x=<script>"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let (s, shared) = t
        .post(&lead, "/api/v1/views", json!({"name": "NW alles Offene", "query": "tenant=nw", "share_with": "nw"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{shared}");

    let (_, _, home) = html(&browser, format!("{}/", t.url)).await;
    let row = |name: &str| {
        home.split("<tr>").find(|r| r.contains(name)).unwrap_or_else(|| panic!("{name} missing: {home}")).to_owned()
    };
    assert!(row("Presse unzugewiesen").contains("<td class=\"num\">3</td>"), "three unassigned: {home}");
    assert!(
        row("NW alles Offene").contains("geteilt mit nw")
            && row("NW alles Offene").contains("<td class=\"num\">4</td>"),
        "{home}"
    );
    let (bb, _) = browser_for(&t, &by.email).await;
    let (_, _, other) = html(&bb, format!("{}/", t.url)).await;
    assert!(!other.contains("Presse unzugewiesen") && !other.contains("NW alles Offene"), "{other}");

    // Deleting: the shared one only by NW's admins, one's own by oneself.
    let id = shared["id"].as_i64().unwrap();
    for who in [&h, &by] {
        let (s, _) = t.call(Some(who), Method::DELETE, &format!("/api/v1/views/{id}"), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    let (_, views) = t.get(&h, "/api/v1/views").await;
    let own =
        views.as_array().unwrap().iter().find(|v| v["name"] == "Presse unzugewiesen").unwrap()["id"].as_i64().unwrap();
    let (s, _) = t.call(Some(&h), Method::DELETE, &format!("/api/v1/views/{own}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t.call(Some(&lead), Method::DELETE, &format!("/api/v1/views/{id}"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, views) = t.get(&h, "/api/v1/views").await;
    assert_eq!(views, json!([]));
}

/// Two tickets of the same request become one: messages and watchers move,
/// the merged one points to the survivor, and mail to either lands there.
async fn merging_two_tickets(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let h = t.person("presse@nrw.example", &[("helper", Some("nw"), None)]).await;
    let by = t.person("helfer@by.example", &[("helper", Some("by"), None)]).await;
    for (id, subject) in [("m1@x", "Interview am Montag"), ("m2@x", "Nochmal: Interview")] {
        let m = crate::intake::mail(id, "journalistin@example.org", "presse@piratenpartei-nrw.de", subject, "Hallo");
        t.app.ingest_raw("test", &m).await.unwrap();
    }
    crate::intake::drain(&t).await;
    let mut both = t.list_numbers(&h, "?requester=journalistin@example.org").await;
    both.sort_unstable();
    let (a, b) = (both[0], both[1]);
    let (s, _) = t.post(&admin, &format!("/api/v1/tickets/{b}/watchers"), json!({"email": h.email})).await;
    assert!(s.is_success());
    let c = t.create_ticket(&admin, "by", "mitglieder", "Bayern").await;

    let (s, _) = t.post(&by, &format!("/api/v1/tickets/{a}/merge"), json!({"ticket": b})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another LV's helper");
    let (s, _) = t.post(&h, &format!("/api/v1/tickets/{a}/merge"), json!({"ticket": c})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a ticket out of reach is not there");
    let (s, r) = t.post(&admin, &format!("/api/v1/tickets/{a}/merge"), json!({"ticket": c})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "across tenants: {r}");
    let (s, r) = t.post(&h, &format!("/api/v1/tickets/{a}/merge"), json!({"ticket": a})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");

    let (s, d) = t.post(&h, &format!("/api/v1/tickets/{a}/merge"), json!({"ticket": b})).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["messages"].as_array().unwrap().len(), 2, "b's mail moved: {d}");
    assert!(d["watchers"].as_array().unwrap().iter().any(|w| w["email"] == h.email.as_str()), "{d}");
    assert!(d["history"].as_array().unwrap().iter().any(|x| x["field"] == "merged"), "{d}");
    let (_, gone) = t.get(&h, &format!("/api/v1/tickets/{b}")).await;
    assert_eq!((gone["status"].as_str(), gone["merged_into"].as_i64()), (Some("resolved"), Some(a)), "{gone}");
    assert!(gone["messages"].as_array().unwrap().is_empty() && gone["watchers"].as_array().unwrap().is_empty());
    for (x, y) in [(a, b), (b, a)] {
        let (s, _) = t.post(&h, &format!("/api/v1/tickets/{x}/merge"), json!({"ticket": y})).await;
        assert_eq!(s, StatusCode::CONFLICT, "merged once");
    }

    // Threading afterwards: the merged number in the subject, and an answer to b's first mail.
    let tagged = crate::intake::mail(
        "m3@x",
        "journalistin@example.org",
        "presse@piratenpartei-nrw.de",
        &format!("AW: [Logbuch #{b}] Nochmal: Interview"),
        "Nachtrag",
    );
    t.app.ingest_raw("test", &tagged).await.unwrap();
    let answer = "From: journalistin@example.org\r\nTo: presse@piratenpartei-nrw.de\r\nSubject: Re: Nochmal\r\n\
                  Message-ID: <m4@x>\r\nIn-Reply-To: <m2@x>\r\n\r\nNoch etwas.\r\n";
    t.app.ingest_raw("test", answer.as_bytes()).await.unwrap();
    crate::intake::drain(&t).await;
    let (_, d) = t.get(&h, &format!("/api/v1/tickets/{a}")).await;
    assert_eq!(d["messages"].as_array().unwrap().len(), 4, "both land in the survivor: {d}");
    let mut now_both = t.list_numbers(&h, "?requester=journalistin@example.org&status=new,open,waiting,resolved").await;
    now_both.sort_unstable();
    assert_eq!(now_both, vec![a, b], "no new ticket");
    let (_, gone) = t.get(&h, &format!("/api/v1/tickets/{b}")).await;
    assert!(gone["messages"].as_array().unwrap().is_empty(), "{gone}");

    // The page says where it went.
    let (browser, _) = browser_for(&t, &h.email).await;
    let (_, _, page) = html(&browser, format!("{}/ui/tickets/{b}", t.url)).await;
    assert!(page.contains("id=\"zusammengefuehrt\"") && page.contains(&format!("href=\"/ui/tickets/{a}\"")), "{page}");
}

/// Free tags per tenant: added and removed on the history, filtered by, added in
/// bulk, suggested from what the tenant uses; another LV's ticket is out of reach.
async fn tags_on_tickets(backend: Backend) {
    let t = spawn_app(backend).await;
    let admin = t.person("root@bund.example", &[("admin", None, None)]).await;
    let h = t.person("presse@nrw.example", &[("helper", Some("nw"), Some("presse"))]).await;
    let by = t.person("helfer@by.example", &[("helper", Some("by"), None)]).await;
    let a = t.create_ticket(&admin, "nw", "presse", "Termin").await;
    let b = t.create_ticket(&admin, "nw", "presse", "Anderes").await;
    let c = t.create_ticket(&admin, "by", "mitglieder", "Bayern").await;
    let tags =
        |d: &Value| d["tags"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let (s, d) = t.post(&h, &format!("/api/v1/tickets/{a}/tags"), json!({"add": ["Presse-Termin", "#wichtig"]})).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(tags(&d), ["presse-termin", "wichtig"]);
    assert_eq!(d["history"].as_array().unwrap().iter().filter(|x| x["field"] == "tag").count(), 2);
    let (s, _) = t.post(&h, &format!("/api/v1/tickets/{a}/tags"), json!({"add": ["wichtig"]})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = t.post(&h, &format!("/api/v1/tickets/{a}/tags"), json!({"add": ["zwei wörter!"]})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = t.post(&by, &format!("/api/v1/tickets/{a}/tags"), json!({"add": ["fremd"]})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another LV");
    assert_eq!(t.list_numbers(&h, "?tag=wichtig").await, vec![a]);
    assert_eq!(t.list_numbers(&h, "?tag=gibtsnicht").await, Vec::<i64>::new());

    // In bulk: two of three, the Bavarian one refused.
    let (_, r) =
        t.post(&h, "/api/v1/tickets/bulk", json!({"tickets": [a, b, c], "action": "tag", "value": "Sammel"})).await;
    assert_eq!(r["done"], json!([a, b]), "{r}");
    assert_eq!(r["refused"][0]["ticket"], c);
    let (_, d) = t.get(&admin, &format!("/api/v1/tickets/{c}")).await;
    assert!(tags(&d).is_empty(), "{d}");
    let (s, d) = t.post(&h, &format!("/api/v1/tickets/{a}/tags"), json!({"remove": ["wichtig"]})).await;
    assert_eq!((s, tags(&d)), (StatusCode::OK, vec!["presse-termin".to_owned(), "sammel".to_owned()]));

    // The page: the filter, and suggestions from the tenant's tags.
    let (browser, _) = browser_for(&t, &h.email).await;
    let (_, _, list) =
        html(&browser, format!("{}/ui/tickets?tenant=nw&queue=presse&schlagwort=presse-termin", t.url)).await;
    assert!(list.contains("Termin") && !list.contains("Anderes"), "{list}");
    let (_, _, page) = html(&browser, format!("{}/ui/tickets/{b}", t.url)).await;
    assert!(page.contains("<option value=\"presse-termin\">") && page.contains("id=\"schlagwoerter\""), "{page}");
}

/// Every bulk action over the API, each on a mixed selection: the ticket in
/// reach changes (with its history entry), the other LV's stays as it was.
async fn every_bulk_action(backend: Backend) {
    let t = spawn_app(backend).await;
    let officer = t.person("fo@bund.example", &[("federal_officer", None, None)]).await;
    let lead = t.person("lead@nrw.example", &[("tenant_admin", Some("nw"), None)]).await;
    let helper = t.person("h@nrw.example", &[("helper", Some("nw"), None)]).await;
    let mine = t.create_ticket(&officer, "nw", "presse", "In NRW").await;
    let other = t.create_ticket(&officer, "by", "mitglieder", "In Bayern").await;
    let bulk = |action: &str, value: Option<&str>| {
        let (t, lead, action, value) = (&t, &lead, action.to_owned(), value.map(str::to_owned));
        async move {
            let (s, r) = t
                .post(lead, "/api/v1/tickets/bulk", json!({"tickets": [mine, other], "action": action, "value": value}))
                .await;
            assert_eq!(s, StatusCode::OK, "{action}: {r}");
            assert_eq!(r["done"], json!([mine]), "{action}: {r}");
            assert_eq!(r["refused"][0]["ticket"], other, "{action}: {r}");
        }
    };
    let field = |d: &Value, f: &str| d["history"].as_array().unwrap().iter().filter(|x| x["field"] == f).count();
    bulk("take", None).await;
    bulk("assign", Some(helper.email.as_str())).await;
    bulk("priority", Some("urgent")).await;
    bulk("status", Some("waiting")).await;
    bulk("resolve", None).await;
    bulk("reopen", None).await;
    bulk("move", Some("pgf")).await;
    bulk("tag", Some("sammel")).await;
    let (_, d) = t.get(&officer, &format!("/api/v1/tickets/{mine}")).await;
    assert_eq!(
        (d["owner"]["email"].as_str(), d["priority"].as_str(), d["status"].as_str(), d["queue"].as_str()),
        (Some(helper.email.as_str()), Some("urgent"), Some("open"), Some("pgf")),
        "{d}"
    );
    assert_eq!(field(&d, "owner"), 2, "take, then assign: {d}");
    assert_eq!(field(&d, "priority"), 1);
    assert!(field(&d, "status") >= 3, "waiting, resolved, open: {d}");
    assert_eq!(field(&d, "queue"), 1);
    assert_eq!(field(&d, "tag"), 1);
    let (_, b) = t.get(&officer, &format!("/api/v1/tickets/{other}")).await;
    assert!(b["history"].as_array().unwrap().iter().all(|x| x["field"] == "created"), "untouched: {b}");
    // Handing over is the Bund's: the officer hands both on, the LV's admin may not.
    let (_, r) =
        t.post(&lead, "/api/v1/tickets/bulk", json!({"tickets": [mine], "action": "handover", "value": "by"})).await;
    assert_eq!(r["done"], json!([]), "{r}");
    let (_, r) = t
        .post(&officer, "/api/v1/tickets/bulk", json!({"tickets": [mine, other], "action": "handover", "value": "he"}))
        .await;
    assert_eq!(r["done"], json!([mine, other]), "{r}");
    let (_, d) = t.get(&officer, &format!("/api/v1/tickets/{mine}")).await;
    assert_eq!(d["tenant"], "he", "{d}");
}

both!(
    every_bulk_action,
    tags_on_tickets,
    lists_filter_sort_and_act_in_bulk,
    the_requester_context,
    collisions_and_drafts,
    saved_views_with_counts,
    merging_two_tickets
);
