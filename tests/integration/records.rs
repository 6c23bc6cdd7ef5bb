//! The tamper-evident record (issue 17): history and access log are sealed
//! into hash chains per ticket, checkpoints over all chains are signed, and
//! `logbuch admin verify` passes on a clean database and names the entry
//! someone changed behind Logbuch's back.

use logbuch_tests::{Backend, TestApp, both, logbuch_command, spawn_app};
use sea_orm::ConnectionTrait;
use serde_json::json;

/// Runs `logbuch admin verify` (the real binary); returns exit success and what it printed.
fn verify_cli(t: &TestApp) -> (bool, String) {
    let out = logbuch_command(&t.app.settings, &["admin", "verify"], &[]).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn exec(t: &TestApp, sql: &str) {
    t.app.store.db.execute_unprepared(sql).await.unwrap();
}

async fn scalar(t: &TestApp, sql: &str) -> i64 {
    let row = t
        .app
        .store
        .db
        .query_one_raw(sea_orm::Statement::from_string(t.app.store.db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn verify_names_what_was_changed(backend: Backend) {
    let t = spawn_app(backend).await;
    let bob = t.person("bob@bund.example", &[("federal_officer", None, None)]).await;
    let a = t.create_ticket(&bob, "nw", "presse", "Anfrage des WDR").await;
    let b = t.create_ticket(&bob, "by", "mitglieder", "Adressänderung").await;
    for n in [a, b] {
        t.post(&bob, &format!("/api/v1/tickets/{n}/take"), json!({})).await;
        t.post(&bob, &format!("/api/v1/tickets/{n}/notes"), json!({"body": "Telefonat"})).await;
        t.get(&bob, &format!("/api/v1/tickets/{n}")).await;
    }
    assert!(t.app.seal_record().await.unwrap() >= 8, "history and reads are sealed");
    let first = t.app.write_checkpoint().await.unwrap();
    assert_eq!(first.id, 1);
    assert_eq!(first.chains, 4, "two tickets, each with a history and an access chain");

    // Written after the checkpoint: sealed later, still a clean record.
    t.post(&bob, &format!("/api/v1/tickets/{a}/resolve"), json!({})).await;
    t.get(&bob, &format!("/api/v1/tickets/{b}")).await;
    t.app.seal_record().await.unwrap();
    let unsealed_read = t.get(&bob, &format!("/api/v1/tickets/{a}")).await;
    assert!(unsealed_read.0.is_success());
    let verdict = t.app.verify_record(|_, _| {}).await.unwrap();
    assert!(verdict.ok(), "{:?}", verdict.lines());
    assert_eq!(verdict.found.unsealed, 1, "the last read waits for the sealer");
    let (ok, out) = verify_cli(&t);
    assert!(ok, "{out}");
    assert!(out.contains("Ergebnis: unverändert."), "{out}");
    assert!(out.contains("Prüfpunkt 1"), "{out}");

    // Every entry carries the hash of the one before it in its ticket's chain.
    let linked = scalar(
        &t,
        &format!(
            "SELECT COUNT(*) FROM history h JOIN history p ON p.ticket_id = h.ticket_id AND p.chain_pos = h.chain_pos - 1 \
             WHERE h.ticket_id = {a} AND h.prev_hash = p.hash"
        ),
    )
    .await;
    let entries = scalar(&t, &format!("SELECT COUNT(*) FROM history WHERE ticket_id = {a}")).await;
    assert_eq!(linked, entries - 1, "all but the first point to their predecessor");

    // Behind Logbuch's back: a history entry of ticket b is rewritten.
    let victim =
        scalar(&t, &format!("SELECT id FROM history WHERE ticket_id = {b} AND field = 'note' ORDER BY id LIMIT 1"))
            .await;
    let victim = if victim == 0 {
        scalar(&t, &format!("SELECT MAX(id) FROM history WHERE ticket_id = {b}")).await
    } else {
        victim
    };
    exec(&t, &format!("UPDATE history SET new_value = 'nichts passiert' WHERE id = {victim}")).await;
    let verdict = t.app.verify_record(|_, _| {}).await.unwrap();
    assert!(!verdict.ok());
    let broken: Vec<_> = verdict.found.breaks.iter().map(|b| (b.table, b.id, b.ticket_id)).collect();
    assert_eq!(broken, vec![("history", victim, b)], "{:?}", verdict.lines());
    let (ok, out) = verify_cli(&t);
    assert!(!ok, "verify must fail: {out}");
    assert!(out.contains(&format!("Tabelle history, Eintrag {victim} (Ticket {b})")), "{out}");
    assert!(out.contains("Inhalt geändert"), "{out}");
}

/// Removing entries, or a whole ticket's chain, is found too: by the
/// chain itself or by the signed checkpoint.
async fn verify_finds_removed_entries(backend: Backend) {
    let t = spawn_app(backend).await;
    let bob = t.person("bob@bund.example", &[("federal_officer", None, None)]).await;
    let a = t.create_ticket(&bob, "nw", "presse", "Anfrage").await;
    let b = t.create_ticket(&bob, "nw", "presse", "Zweite Anfrage").await;
    for n in [a, b] {
        t.post(&bob, &format!("/api/v1/tickets/{n}/take"), json!({})).await;
        t.get(&bob, &format!("/api/v1/tickets/{n}")).await;
        t.get(&bob, &format!("/api/v1/tickets/{n}")).await;
    }
    t.app.write_checkpoint().await.unwrap();
    assert!(t.app.verify_record(|_, _| {}).await.unwrap().ok());

    // A read in the middle of ticket a's access log disappears.
    let middle = scalar(&t, &format!("SELECT id FROM access_log WHERE ticket_id = {a} AND chain_pos = 1")).await;
    exec(&t, &format!("DELETE FROM access_log WHERE id = {middle}")).await;
    let verdict = t.app.verify_record(|_, _| {}).await.unwrap();
    assert_eq!(verdict.found.breaks.first().map(|b| (b.table, b.ticket_id)), Some(("access_log", a)));

    // Ticket b's whole access log goes, its recorded end with it: only the checkpoint knows.
    exec(&t, &format!("DELETE FROM access_log WHERE ticket_id = {b}")).await;
    exec(&t, &format!("DELETE FROM audit_heads WHERE ticket_id = {b} AND kind = 'access_log'")).await;
    let verdict = t.app.verify_record(|_, _| {}).await.unwrap();
    let (c, digest) = verdict.found.checkpoint.clone().unwrap();
    assert_ne!(c.digest, digest, "the checkpoint no longer matches");
    assert!(verdict.lines().iter().any(|l| l.contains("Prüfpunkt 1") && l.starts_with("BRUCH")));

    // A forged checkpoint (recomputed without the key) does not pass either.
    exec(&t, &format!("UPDATE audit_checkpoints SET digest = '{digest}' WHERE id = 1")).await;
    let verdict = t.app.verify_record(|_, _| {}).await.unwrap();
    assert_eq!(verdict.bad_signatures, vec![1]);

    // A deleted checkpoint is missed.
    t.app.write_checkpoint().await.unwrap();
    exec(&t, "DELETE FROM audit_checkpoints WHERE id = 1").await;
    let verdict = t.app.verify_record(|_, _| {}).await.unwrap();
    assert_eq!(verdict.found.missing_checkpoints, vec![1]);
    assert!(verdict.lines().iter().any(|l| l.contains("Prüfpunkt 1 fehlt")));
}

both!(verify_names_what_was_changed, verify_finds_removed_entries);
