//! The staff pages in real headless Chromium (tests/e2e/staff.mjs through
//! playwright-core), logging in at a real OpenID Connect provider: bob
//! (federal officer) hands a Bund triage ticket to BY; alice
//! (BY helper) sees BY and not HE, finds a hostile mail inert, takes and
//! resolves it with the keyboard and the mouse; dave (no groups) sees
//! nothing; after alice's group is removed at the provider, her next login
//! has no queues. Screenshots go to tests/screenshots/.

use crate::intake::drain;
use crate::sso::app_with_sso;
use crate::ui::HOSTILE;
use logbuch_tests::oidc::{self, Provider};
use logbuch_tests::{Backend, spawn_app_with};

fn run_phase(phase: &str, app_url: &str) {
    run_script("staff.mjs", &[phase, app_url]);
}

/// Runs a script of tests/e2e with `args`, the screenshot directory after the
/// first two; returns what it printed.
fn run_script(script: &str, args: &[&str]) -> String {
    let dir =
        std::path::PathBuf::from(std::env::var("LOGBUCH_TEST_E2E_DIR").unwrap_or_else(|_| "/tmp/peers/e2e".into()));
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core missing in {}: run tests/peers/browser-up.sh (tests/run.sh does)",
        dir.display()
    );
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // Node resolves playwright-core next to the script.
    std::fs::copy(repo.join("tests/e2e").join(script), dir.join(script)).unwrap();
    let shots = repo.join("tests/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let mut all: Vec<&str> = args[..2].to_vec();
    all.push(shots.to_str().unwrap());
    all.extend(&args[2..]);
    let out = std::process::Command::new("node").arg(dir.join(script)).args(&all).output().expect("node");
    assert!(
        out.status.success(),
        "browser script {script} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn staff_work_in_a_real_browser() {
    let (t, op) = app_with_sso(Backend::Postgres, &oidc::accounts(&["lv-by-helper"])).await;
    let officer = t.person("fo@bund.example", &[("federal_officer", None, None)]).await;
    t.create_ticket(&officer, "he", "mitglieder", "Hessen intern").await;
    t.create_ticket(&officer, "bund", "triage", "Frage zur Mitgliedschaft").await;
    t.app.ingest_raw("test", HOSTILE.as_bytes()).await.unwrap();
    drain(&t).await;
    let url = t.url.clone();
    tokio::task::spawn_blocking(move || run_phase("main", &url)).await.unwrap();

    // A day's work in the list: three unassigned high-priority tickets among others.
    for (subject, priority) in
        [("Adresse ändern", "high"), ("Beitrag zu hoch", "high"), ("SEPA-Mandat", "high"), ("Newsletter", "low")]
    {
        let n = t.create_ticket(&officer, "by", "mitglieder", subject).await;
        let (s, b) = t
            .call(
                Some(&officer),
                reqwest::Method::PATCH,
                &format!("/api/v1/tickets/{n}"),
                Some(serde_json::json!({"priority": priority})),
            )
            .await;
        assert!(s.is_success() || s == reqwest::StatusCode::CONFLICT, "{b}");
    }
    let url = t.url.clone();
    tokio::task::spawn_blocking(move || run_phase("lists", &url)).await.unwrap();

    let port = op.issuer.rsplit(':').next().unwrap().parse().unwrap();
    drop(op);
    let _op = Provider::start(&t.url, &oidc::accounts(&[]), port).await;
    let url = t.url.clone();
    tokio::task::spawn_blocking(move || run_phase("removed", &url)).await.unwrap();
}

/// A member on a phone fills the web form with a file, gets the link by
/// mail (the SMTP capture sink), replies on the status page with the
/// keyboard; a helper sees the reply and the form's fields on the ticket.
#[tokio::test]
async fn a_member_asks_from_a_phone_and_a_helper_sees_the_reply() {
    let t = spawn_app_with(Backend::Sqlite, |s| {
        crate::outgoing::with_sink(s);
        s.portal.min_fill_secs = 1;
    })
    .await;
    let helper = t.person("presse.e2e@nrw.example", &[("helper", Some("nw"), Some("presse"))]).await;
    let file = std::env::temp_dir().join(format!("fragen-{:x}.pdf", rand::random::<u32>()));
    std::fs::write(&file, b"%PDF-1.4\n% Fragen zum Interview\n").unwrap();
    let url = t.url.clone();
    let path = file.to_str().unwrap().to_owned();
    let email = format!("erika-{:x}@example.org", rand::random::<u32>());
    let to = email.clone();
    let out = tokio::task::spawn_blocking(move || run_script("portal.mjs", &["form", &url, &path, &to])).await.unwrap();
    let n: i64 = out.trim().strip_prefix("ticket ").and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{out}"));
    crate::outgoing::send_all(&t).await;
    let ack = crate::outgoing::captured(&email)
        .into_iter()
        .find(|c| c.mail.subject.contains(&format!("#{n}")))
        .expect("the acknowledgement was mailed");
    let at = ack.mail.text.find("http").unwrap();
    let link: String = ack.mail.text[at..].chars().take_while(|c| !c.is_whitespace()).collect();
    // The mail links to the configured public address; the test server listens elsewhere.
    let path = link.strip_prefix(t.app.settings.server.public_url.trim_end_matches('/')).unwrap_or_default().to_owned();
    assert!(path.starts_with("/status/"), "{link}");
    let link = format!("{}{path}", t.url);
    let url = t.url.clone();
    tokio::task::spawn_blocking(move || run_script("portal.mjs", &["reply", &url, &link])).await.unwrap();
    let (_, d) = t.get(&helper, &format!("/api/v1/tickets/{n}")).await;
    let last = d["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["body_text"], "Dienstag 10 Uhr passt uns gut.", "{d}");
    assert_eq!(d["messages"][0]["attachments"][0]["content_type"], "application/pdf");
    let login = logbuch_core::admin::login_link(&t.app, &helper.email).await.unwrap();
    let url = t.url.clone();
    tokio::task::spawn_blocking(move || run_script("portal.mjs", &["helper", &url, &login, &n.to_string()]))
        .await
        .unwrap();
    // The tenant admin finds the quarter's report (with this request) from the menu.
    t.person("chefin.e2e@nrw.example", &[("tenant_admin", Some("nw"), None)]).await;
    let login = logbuch_core::admin::login_link(&t.app, "chefin.e2e@nrw.example").await.unwrap();
    let url = t.url.clone();
    tokio::task::spawn_blocking(move || run_script("portal.mjs", &["report", &url, &login, "nw"])).await.unwrap();
    let _ = std::fs::remove_file(&file);
}
