//! Login through the party's identity provider (a real OpenID Connect
//! provider per test): groups become roles at every login, and roles the
//! provider no longer vouches for go; the session is a cookie that needs
//! the CSRF token for every change; logout ends it at both ends.

use logbuch_tests::oidc::{self, Provider};
use logbuch_tests::{Backend, both, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) async fn app_with_sso(backend: Backend, accounts: &Value) -> (logbuch_tests::TestApp, Provider) {
    app_with_sso_rechecking(backend, accounts, 5).await
}

/// As [`app_with_sso`], asking the provider again every `recheck_minutes`
/// (0: every request), whose access tokens live `access_ttl` seconds.
async fn app_with_sso_rechecking(
    backend: Backend,
    accounts: &Value,
    recheck_minutes: i64,
) -> (logbuch_tests::TestApp, Provider) {
    app_with_sso_tokens(backend, accounts, recheck_minutes, 3600).await
}

async fn app_with_sso_tokens(
    backend: Backend,
    accounts: &Value,
    recheck_minutes: i64,
    access_ttl: u32,
) -> (logbuch_tests::TestApp, Provider) {
    let port = oidc::free_port();
    let app_url = format!("http://127.0.0.1:{port}");
    let op = Provider::start_with_token_ttl(&app_url, accounts, 0, access_ttl).await;
    let issuer = op.issuer.clone();
    let t = spawn_app_with(backend, |s| {
        s.server.listen = format!("127.0.0.1:{port}");
        s.server.public_url = app_url.clone();
        s.oidc.issuer = Some(issuer);
        s.oidc.client_id = oidc::CLIENT_ID.into();
        s.oidc.client_secret = Some(oidc::CLIENT_SECRET.to_owned().into());
        s.oidc.recheck_minutes = recheck_minutes;
    })
    .await;
    (t, op)
}

async fn get(b: &reqwest::Client, url: String) -> (StatusCode, Value) {
    let r = b.get(url).send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn groups_become_roles_and_go_again(backend: Backend) {
    let (t, op) = app_with_sso(backend, &oidc::accounts(&["lv-by-helper"])).await;
    let officer = t.person("fo@bund.example", &[("federal_officer", None, None)]).await;
    let by_ticket = t.create_ticket(&officer, "by", "mitglieder", "Adressänderung").await;
    let he_ticket = t.create_ticket(&officer, "he", "mitglieder", "Austritt").await;

    let alice = oidc::browser();
    let r = oidc::login(&alice, &t.url, "alice", "secret").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>();
    let session = cookie.iter().find(|c| c.starts_with("logbuch_sitzung=")).expect("a session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    let (s, me) = get(&alice, format!("{}/api/v1/me", t.url)).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["email"], "alice@example.test", "provisioned at first login");
    let roles = me["roles"].to_string();
    assert!(roles.contains("helper") && roles.contains("\"by\""), "{me}");
    let (_, list) = get(&alice, format!("{}/api/v1/tickets", t.url)).await;
    let numbers: Vec<i64> = list["tickets"].as_array().unwrap().iter().map(|x| x["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, vec![by_ticket], "BY's ticket, not HE's");
    let (s, _) = get(&alice, format!("{}/api/v1/tickets/{he_ticket}", t.url)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another LV's ticket does not exist for her");

    // dave has no groups: logged in, sees nothing.
    let dave = oidc::browser();
    oidc::login(&dave, &t.url, "dave", "secret").await;
    let (s, me) = get(&dave, format!("{}/api/v1/me", t.url)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["roles"], json!([]), "{me}");
    let (_, list) = get(&dave, format!("{}/api/v1/tickets", t.url)).await;
    assert_eq!(list["tickets"], json!([]));

    // alice leaves the BY group at the provider: her next login has no BY access.
    let port = op.issuer.rsplit(':').next().unwrap().parse().unwrap();
    drop(op);
    let _op = Provider::start(&t.url, &oidc::accounts(&[]), port).await;
    let again = oidc::browser();
    oidc::login(&again, &t.url, "alice", "secret").await;
    let (_, me) = get(&again, format!("{}/api/v1/me", t.url)).await;
    assert_eq!(me["roles"], json!([]), "the provider no longer vouches for BY: {me}");
    assert_eq!(me["email"], "alice@example.test", "the same person, not a new one");
    let (_, list) = get(&again, format!("{}/api/v1/tickets", t.url)).await;
    assert_eq!(list["tickets"], json!([]));
    let (s, _) = get(&again, format!("{}/api/v1/tickets/{by_ticket}", t.url)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// A person whose group goes at the provider loses access at their next
/// request, in the session they have open; one the provider no longer knows
/// is logged out.
async fn open_sessions_follow_the_provider(backend: Backend) {
    // Access tokens live 2 s: the session outlives them through the refresh token.
    let (t, op) = app_with_sso_tokens(backend, &oidc::accounts(&["lv-by-helper"]), 0, 2).await;
    let officer = t.person("fo@bund.example", &[("federal_officer", None, None)]).await;
    let by_ticket = t.create_ticket(&officer, "by", "mitglieder", "Adressänderung").await;
    let alice = oidc::browser();
    oidc::login(&alice, &t.url, "alice", "secret").await;
    let (s, _) = get(&alice, format!("{}/api/v1/tickets/{by_ticket}", t.url)).await;
    assert_eq!(s, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let (s, _) = get(&alice, format!("{}/api/v1/tickets/{by_ticket}", t.url)).await;
    assert_eq!(s, StatusCode::OK, "her access token expired; the refresh token got a new one");

    op.set_accounts(&oidc::accounts(&[]));
    let (s, _) = get(&alice, format!("{}/api/v1/tickets/{by_ticket}", t.url)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "her group is gone: so is BY, at once");
    let (s, me) = get(&alice, format!("{}/api/v1/me", t.url)).await;
    assert_eq!((s, me["roles"].clone()), (StatusCode::OK, json!([])), "still logged in, without roles");

    op.set_accounts(&oidc::accounts(&["lv-by-helper"]));
    let (s, _) = get(&alice, format!("{}/api/v1/tickets/{by_ticket}", t.url)).await;
    assert_eq!(s, StatusCode::OK, "the group is back");

    // She leaves the party: the provider does not know her any more.
    let mut gone = oidc::accounts(&[]);
    gone.as_object_mut().unwrap().remove("alice");
    op.set_accounts(&gone);
    let (s, _) = get(&alice, format!("{}/api/v1/tickets/{by_ticket}", t.url)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "logged out");
    let user = logbuch_store::users::find_user_by_email(&t.app.store.db, "alice@example.test").await.unwrap().unwrap();
    let roles = logbuch_store::users::assignments_of(&t.app.store.db, user.id).await.unwrap();
    assert!(roles.is_empty(), "her SSO roles went with her session: {roles:?}");
    // Even if the provider knew her again, this session stays ended.
    op.set_accounts(&oidc::accounts(&["lv-by-helper"]));
    let (s, _) = get(&alice, format!("{}/api/v1/me", t.url)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the session is gone, not just refused once");
}

async fn session_changes_need_the_csrf_token(backend: Backend) {
    let (t, _op) = app_with_sso(backend, &oidc::accounts(&["lv-by-helper"])).await;
    let alice = oidc::browser();
    oidc::login(&alice, &t.url, "alice", "secret").await;
    let new_ticket = json!({"tenant": "by", "subject": "Neu", "body": "Text", "requester": "m@example.org"});

    let r = alice.post(format!("{}/api/v1/tickets", t.url)).json(&new_ticket).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no CSRF token: refused");
    let r = alice
        .post(format!("{}/api/v1/tickets", t.url))
        .header("x-csrf-token", "lb_forged")
        .json(&new_ticket)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a wrong token: refused");

    let (s, session) = get(&alice, format!("{}/auth/session", t.url)).await;
    assert_eq!(s, StatusCode::OK);
    let csrf = session["csrf_token"].as_str().unwrap().to_owned();
    let r = alice
        .post(format!("{}/api/v1/tickets", t.url))
        .header("x-csrf-token", &csrf)
        .json(&new_ticket)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "with the session's token");

    // Logout needs the token too, then ends the session and sends the browser to the provider.
    let r = alice.post(format!("{}/auth/logout", t.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = alice.post(format!("{}/auth/logout", t.url)).header("x-csrf-token", &csrf).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap();
    assert!(to.contains("/session/end") && to.contains("id_token_hint"), "RP-initiated logout: {to}");
    let (s, _) = get(&alice, format!("{}/api/v1/me", t.url)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the session is gone");
}

async fn a_callback_not_started_here_is_refused(backend: Backend) {
    let (t, _op) = app_with_sso(backend, &oidc::accounts(&["lv-by-helper"])).await;
    // Someone else's state, in a browser that never started a login (login CSRF).
    let victim = oidc::browser();
    let r = victim.get(format!("{}/auth/callback?code=x&state=y", t.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = get(&victim, format!("{}/api/v1/me", t.url)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A wrong password at the provider never reaches Logbuch.
    let b = oidc::browser();
    let r = b.get(format!("{}/auth/login?return_to=//evil.example", t.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"].to_str().unwrap().starts_with(&_op.issuer), "off to the provider");
}

/// Without any provider: the one-time link printed at first start (or made
/// with `logbuch admin token link`) opens a session, once.
async fn a_login_link_works_once(backend: Backend) {
    let t = spawn_app_with(backend, |_| {}).await;
    t.person("root@bund.example", &[("admin", None, None)]).await;
    let path = logbuch_core::admin::login_link(&t.app, "root@bund.example").await.unwrap();
    let b = oidc::browser();
    let r = b.get(format!("{}{path}", t.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (s, me) = get(&b, format!("{}/api/v1/me", t.url)).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["email"], "root@bund.example");
    let other = oidc::browser();
    let r = other.get(format!("{}{path}", t.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "used up");
    let (s, _) = get(&other, format!("{}/api/v1/me", t.url)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let r = other.get(format!("{}/auth/login", t.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "no provider configured: no SSO login");
}

both!(
    groups_become_roles_and_go_again,
    open_sessions_follow_the_provider,
    session_changes_need_the_csrf_token,
    a_callback_not_started_here_is_refused,
    a_login_link_works_once
);
