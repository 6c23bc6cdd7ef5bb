//! A requester's data (issue 17, DSGVO Art. 15/17): the export ZIP of an
//! address holds every ticket of every tenant that mentions it (for a
//! federal officer; a tenant admin gets their tenant's), a person without
//! the right gets 404; the erasure leaves nothing of the address anywhere,
//! and the record still verifies. Also the ticket's access log.

use crate::intake::{drain, mail};
use crate::retention::occurrences;
use logbuch_tests::{Backend, TestApp, both, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::io::Read;

async fn export(t: &TestApp, who: &logbuch_tests::Person, address: &str) -> (StatusCode, Vec<(String, Vec<u8>)>) {
    let res = t
        .http
        .get(format!("{}/api/v1/requesters/{address}/export", t.url))
        .bearer_auth(&who.token)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.bytes().await.unwrap().to_vec();
    if status != StatusCode::OK {
        return (status, Vec::new());
    }
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut files = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut content = Vec::new();
        f.read_to_end(&mut content).unwrap();
        files.push((f.name().unwrap().to_string(), content));
    }
    (status, files)
}

fn numbers(files: &[(String, Vec<u8>)]) -> Vec<i64> {
    let json = &files.iter().find(|(n, _)| n == "auskunft.json").unwrap().1;
    let v: Value = serde_json::from_slice(json).unwrap();
    let mut n: Vec<i64> = v["tickets"].as_array().unwrap().iter().map(|t| t["number"].as_i64().unwrap()).collect();
    n.sort();
    n
}

async fn export_and_erase_an_address(backend: Backend) {
    let t = spawn_app(backend).await;
    let bob = t.person("bob@bund.example", &[("federal_officer", None, None)]).await;
    let nw_admin = t.person("chef@nw.example", &[("tenant_admin", Some("nw"), None)]).await;
    let sl_admin = t.person("chef@sl.example", &[("tenant_admin", Some("sl"), None)]).await;
    let nw_helper = t.person("helfer@nw.example", &[("helper", Some("nw"), None)]).await;
    let tag = format!("{:x}", rand::random::<u32>());
    let x = format!("erika-{tag}@example.org");
    let y = format!("otto-{tag}@example.org");
    // NW: x writes by mail. BY: a ticket opened for x with a file. Bund: y writes with x in Cc.
    t.app
        .ingest_raw(
            "test",
            &mail(
                &format!("nw-{tag}@example.org"),
                &x,
                "presse@piratenpartei-nrw.de",
                "Interview",
                &format!("Frage von Erika {tag}"),
            ),
        )
        .await
        .unwrap();
    let cc = format!(
        "From: {y}\r\nTo: mitglieder@piratenpartei.de\r\nCc: {x}\r\nSubject: Gemeinsamer Austritt\r\nMessage-ID: <bund-{tag}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nWir beide treten aus.\r\n"
    );
    t.app.ingest_raw("test", cc.as_bytes()).await.unwrap();
    // y alone in NW: must stay untouched.
    t.app
        .ingest_raw(
            "test",
            &mail(&format!("y-{tag}@example.org"), &y, "presse@piratenpartei-nrw.de", "Ottos Frage", "Nur Otto"),
        )
        .await
        .unwrap();
    drain(&t).await;
    let file = json!({"filename": "Kündigung.txt", "content_type": "text/plain", "content_base64": "S8O8bmRpZ3VuZw=="});
    let (s, by) = t
        .post(&bob, "/api/v1/tickets", json!({"tenant": "by", "queue": "mitglieder", "subject": "Beitrag", "body": format!("Für Erika {tag}"), "requester": x, "attachments": [file]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{by}");
    let by = by["number"].as_i64().unwrap();
    let nw = t.list_numbers(&bob, &format!("?requester={x}&tenant=nw")).await[0];
    let bund = t.list_numbers(&bob, "?tenant=bund").await.into_iter().max().unwrap();
    let ottos = t.list_numbers(&bob, &format!("?requester={y}&tenant=nw")).await[0];
    t.get(&nw_admin, &format!("/api/v1/tickets/{nw}")).await;

    // The federal officer sees all three, across tenants.
    let (s, o) = t.get(&bob, &format!("/api/v1/requesters/{x}")).await;
    assert_eq!(s, StatusCode::OK, "{o}");
    let mut listed: Vec<i64> = o["tickets"].as_array().unwrap().iter().map(|t| t["number"].as_i64().unwrap()).collect();
    listed.sort();
    let mut all = vec![nw, by, bund];
    all.sort();
    assert_eq!(listed, all);
    assert!(o["accesses"].as_array().unwrap().iter().any(|a| a["ticket"] == nw && a["who"] == "chef@nw.example"));

    let (s, files) = export(&t, &bob, &x).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(numbers(&files), all, "every ticket of every tenant that mentions the address");
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.iter().any(|n| n.starts_with(&format!("tickets/{nw}/mails/")) && n.ends_with(".eml")), "{names:?}");
    let eml = files.iter().find(|(n, _)| n.starts_with(&format!("tickets/{nw}/mails/"))).unwrap();
    assert!(String::from_utf8_lossy(&eml.1).contains(&format!("Frage von Erika {tag}")), "the original mail");
    let kf = files.iter().find(|(n, _)| n.starts_with(&format!("tickets/{by}/dateien/"))).unwrap();
    assert_eq!(kf.1, "Kündigung".as_bytes(), "the file as uploaded");
    assert!(!numbers(&files).contains(&ottos));
    // On each exported ticket's history.
    let (_, h) = t.get(&bob, &format!("/api/v1/tickets/{by}/history")).await;
    assert!(h.as_array().unwrap().iter().any(|e| e["field"] == "export"), "{h}");

    // A tenant admin gets their tenant's only; others get 404, the same as for an unknown address.
    let (s, files) = export(&t, &nw_admin, &x).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(numbers(&files), vec![nw]);
    for who in [&sl_admin, &nw_helper] {
        assert_eq!(export(&t, who, &x).await.0, StatusCode::NOT_FOUND);
        assert_eq!(t.get(who, &format!("/api/v1/requesters/{x}")).await.0, StatusCode::NOT_FOUND);
        let (s, _) = t.post(who, &format!("/api/v1/requesters/{x}/erase"), json!({})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    assert_eq!(export(&t, &bob, &format!("niemand-{tag}@example.org")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&bob, "/api/v1/requesters/keine-adresse").await.0, StatusCode::UNPROCESSABLE_ENTITY);

    // The access log of a ticket: for those who manage member data; a helper of the LV 403, another LV 404.
    let (s, log) = t.get(&nw_admin, &format!("/api/v1/tickets/{nw}/access")).await;
    assert_eq!(s, StatusCode::OK, "{log}");
    assert!(log.as_array().unwrap().iter().any(|a| a["who"] == "chef@nw.example" && a["what"] == "view"));
    assert_eq!(t.get(&nw_helper, &format!("/api/v1/tickets/{nw}/access")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(t.get(&sl_admin, &format!("/api/v1/tickets/{nw}/access")).await.0, StatusCode::NOT_FOUND);

    // Erasure: a ticket under a legal hold stays (Art. 17(3)(e)) until the hold is lifted.
    let (s, _) = t
        .call(Some(&bob), Method::PUT, &format!("/api/v1/tickets/{by}/hold"), Some(json!({"reason": "Klage anhängig"})))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = t.call(Some(&bob), Method::POST, &format!("/api/v1/requesters/{x}/erase"), None).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    // x's own NW ticket is anonymised; from y's Bund ticket (x only in Cc) x is taken out, the ticket stays y's.
    assert_eq!(
        (e["tickets"].as_i64(), e["held"].clone(), e["redacted"].clone()),
        (Some(1), json!([by]), json!([bund]))
    );
    assert!(!occurrences(&t, &x).await.is_empty(), "the held ticket still names x");
    t.call(Some(&bob), Method::DELETE, &format!("/api/v1/tickets/{by}/hold"), None).await;
    // Then nothing of x anywhere; y's own ticket stays.
    let (s, e) = t.call(Some(&bob), Method::POST, &format!("/api/v1/requesters/{x}/erase"), None).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!(e["tickets"], 1);
    let left = occurrences(&t, &x).await;
    assert!(left.is_empty(), "{x} still in {left:?}");
    assert!(occurrences(&t, &format!("Erika {tag}")).await.is_empty());
    // Fragments that would match everyone are refused, as are the queues' own addresses.
    for bad in ["@", "@piratenpartei.de", "example.org", "presse@piratenpartei-nrw.de"] {
        let (s, _) = t.post(&bob, &format!("/api/v1/requesters/{bad}/erase"), json!({})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let mut ys = t.list_numbers(&bob, &format!("?requester={y}")).await;
    ys.sort();
    let mut want = vec![ottos, bund];
    want.sort();
    assert_eq!(ys, want, "y's tickets stay y's");
    let (_, d) = t.get(&bob, &format!("/api/v1/tickets/{bund}")).await;
    assert_eq!(
        d["messages"][0]["body_text"].as_str().map(|b| b.contains("Wir beide treten aus.")),
        Some(true),
        "y's words stay"
    );
    assert_eq!(t.get(&bob, &format!("/api/v1/requesters/{x}")).await.0, StatusCode::NOT_FOUND);
    let stones = logbuch_store::retention::tombstones(&t.app.store.db, 10).await.unwrap();
    let bob_id = t.principal(&bob).await.user.0;
    assert_eq!(stones.len(), 2, "x's own two tickets");
    assert!(stones.iter().all(|s| s.reason == format!("erasure by {bob_id}")));
    let verdict = t.app.verify_record(|_, _| {}).await.unwrap();
    assert!(verdict.ok(), "{:?}", verdict.lines());
}

both!(export_and_erase_an_address, member_data_pages);

/// The staff pages of member data: the address page and its export, the
/// erasure's confirmation, a ticket's access log, the legal hold and the
/// requester's key on the ticket page; another LV's admin gets 404.
async fn member_data_pages(backend: Backend) {
    use crate::ui::{browser_for, form, html};
    let t = spawn_app(backend).await;
    let tag = format!("{:x}", rand::random::<u32>());
    t.person("chef@nw.example", &[("tenant_admin", Some("nw"), None)]).await;
    t.person("chef@sl.example", &[("tenant_admin", Some("sl"), None)]).await;
    let helper = t.person("helfer@nw.example", &[("helper", Some("nw"), None)]).await;
    let x = format!("frieda-{tag}@example.org");
    let (s, b) = t
        .post(
            &helper,
            "/api/v1/tickets",
            json!({"tenant": "nw", "queue": "presse", "subject": "Anfrage", "body": "Text", "requester": x}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let n = b["number"].as_i64().unwrap();
    let (admin, csrf) = browser_for(&t, "chef@nw.example").await;
    let (s, _, page) = html(&admin, format!("{}/ui/datenschutz?adresse={x}", t.url)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains(&format!("#{n}")) && page.contains("Auskunft herunterladen"), "{page}");
    let r = admin
        .post(format!("{}/ui/datenschutz/auskunft", t.url))
        .form(&[("csrf_token", csrf.as_str()), ("adresse", x.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let (s, body) = form(
        &admin,
        format!("{}/ui/datenschutz/loeschen", t.url),
        &[("csrf_token", csrf.as_str()), ("adresse", x.as_str())],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "no erasure without the box ticked");
    assert!(body.contains("Bitte bestätigen"));
    assert_eq!(t.get(&helper, &format!("/api/v1/tickets/{n}")).await.0, StatusCode::OK, "still there");
    let (s, _, page) = html(&admin, format!("{}/ui/tickets/{n}/zugriffe", t.url)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("helfer@nw.example"), "the helper's read is listed: {page}");
    let (s, to) = form(
        &admin,
        format!("{}/ui/tickets/{n}/sperrvermerk", t.url),
        &[("csrf_token", csrf.as_str()), ("grund", "Verfahren")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{to}");
    let (_, _, page) = html(&admin, format!("{}/ui/tickets/{n}", t.url)).await;
    assert!(page.contains("Sperrvermerk gesetzt"));
    // Another LV's admin: 404 for the access log and the hold; nothing for the address.
    let (sl, sl_csrf) = browser_for(&t, "chef@sl.example").await;
    assert_eq!(html(&sl, format!("{}/ui/tickets/{n}/zugriffe", t.url)).await.0, StatusCode::NOT_FOUND);
    let (s, _) = form(
        &sl,
        format!("{}/ui/tickets/{n}/sperrvermerk", t.url),
        &[("csrf_token", sl_csrf.as_str()), ("aufheben", "ja")],
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(html(&sl, format!("{}/ui/datenschutz?adresse={x}", t.url)).await.0, StatusCode::NOT_FOUND);
    // The helper files the requester's key from the ticket page.
    let key = logbuch_pgp::generate_key(&format!("Frieda <{x}>"), "").unwrap();
    let (hb, hcsrf) = browser_for(&t, "helfer@nw.example").await;
    let (s, to) = form(
        &hb,
        format!("{}/ui/tickets/{n}/schluessel", t.url),
        &[("csrf_token", hcsrf.as_str()), ("schluessel", key.public_armored.as_str())],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{to}");
    let chef = logbuch_tests::Person {
        email: "chef@nw.example".into(),
        token: logbuch_core::admin::create_token(&t.app, "chef@nw.example", "t").await.unwrap(),
    };
    let (s, k) = t.get(&chef, &format!("/api/v1/keys/{x}")).await;
    assert_eq!((s, k["fingerprint"].as_str()), (StatusCode::OK, Some(key.fingerprint.as_str())));
}
