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
use logbuch_tests::Backend;
use logbuch_tests::oidc::{self, Provider};

fn run_phase(phase: &str, app_url: &str) {
    let dir =
        std::path::PathBuf::from(std::env::var("LOGBUCH_TEST_E2E_DIR").unwrap_or_else(|_| "/tmp/peers/e2e".into()));
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core missing in {}: run tests/peers/browser-up.sh (tests/run.sh does)",
        dir.display()
    );
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // Node resolves playwright-core next to the script.
    std::fs::copy(repo.join("tests/e2e/staff.mjs"), dir.join("staff.mjs")).unwrap();
    let shots = repo.join("tests/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let out = std::process::Command::new("node")
        .arg(dir.join("staff.mjs"))
        .args([phase, app_url, shots.to_str().unwrap()])
        .output()
        .expect("node");
    assert!(
        out.status.success(),
        "browser phase {phase} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
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

    let port = op.issuer.rsplit(':').next().unwrap().parse().unwrap();
    drop(op);
    let _op = Provider::start(&t.url, &oidc::accounts(&[]), port).await;
    let url = t.url.clone();
    tokio::task::spawn_blocking(move || run_phase("removed", &url)).await.unwrap();
}
